"""The package as a learner meets it: its public names, its import cost, what a wheel carries."""

import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import webhooklab as wl

ROOT = Path(__file__).parent.parent


def test_all_is_sorted_and_complete():
    assert wl.__all__ == sorted(wl.__all__)
    public = {
        name
        for name, value in vars(wl).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert public | {"__version__"} == set(wl.__all__)


def test_import_does_not_load_pandas():
    code = "import sys, webhooklab; print('pandas' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"


def test_a_wheel_carries_the_notebooks_solutions_datasets_and_schema(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("webhooklab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"webhooklab/schema.sql", "webhooklab/datasets/README.md"}
    expected |= {f"webhooklab/notebooks/{p.relative_to(ROOT / 'notebooks')}" for p in (ROOT / "notebooks").rglob("*.*")}
    assert expected <= names
    assert any(name.endswith("entry_points.txt") for name in names)
