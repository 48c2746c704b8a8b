"""The package as a learner meets it: its public names, its import cost, what a wheel carries."""

import inspect
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


def test_a_fresh_import_shows_exactly_the_public_names():
    """What Tab shows after `wl.`: the public names and the widgets, no module of the package's own."""
    code = "import webhooklab as wl; print(' '.join(dir(wl)))"
    shown = subprocess.check_output([sys.executable, "-c", code], text=True).split()
    assert [name for name in shown if not name.startswith("_")] == sorted({*wl.__all__, "widgets"} - {"__version__"})
    internal = [path.stem for path in (ROOT / "webhooklab").iterdir() if path.suffix == ".py" or path.is_dir()]
    public = {"__init__", "__main__", "widgets", "demos", "exercises", "grader", "testing", "__pycache__"}
    assert all(name.startswith("_") for name in internal if name not in public)


def test_import_does_not_load_pandas():
    code = "import sys, webhooklab; print('pandas' in sys.modules)"
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "False"


def test_a_wheel_carries_the_notebooks_solutions_images_datasets_and_examples(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("webhooklab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"webhooklab/datasets/README.md"}  # the schema is made from Event's fields, not shipped as a file
    expected |= {f"webhooklab/notebooks/{p.relative_to(ROOT / 'notebooks')}" for p in (ROOT / "notebooks").rglob("*.*")}
    expected |= {f"webhooklab/{p.relative_to(ROOT)}" for p in (ROOT / "examples").rglob("*.py") if "__pycache__" not in p.parts}
    assert any(name.startswith("webhooklab/notebooks/images/") for name in expected)
    assert expected <= names
    assert any(name.endswith("entry_points.txt") for name in names)


def modules() -> list[str]:
    """Every module of the package, by its dotted name."""
    package = ROOT / "webhooklab"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("module", [m for m in modules() if not m.endswith("__main__")])
def test_each_module_imports_on_its_own(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_no_module_is_longer_than_a_reader_can_hold():
    lengths = {path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
               for path in (ROOT / "webhooklab").rglob("*.py")}  # fmt: skip
    assert {path: n for path, n in lengths.items() if n > 380} == {}
