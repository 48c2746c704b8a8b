"""What a learner sees after a cell: a check's verdict without a stray True/False, and no warning in red."""

import json
import re
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def code_cells(path: Path) -> list[str]:
    return ["".join(cell["source"]) for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
            if cell["cell_type"] == "code"]  # fmt: skip


def test_a_cell_that_ends_with_a_check_shows_only_its_verdict():
    bare = [(path.name, source.splitlines()[-1]) for path in sorted(NOTEBOOKS.glob("*.ipynb"))
            for source in code_cells(path)
            if source.strip() and re.fullmatch(r"ch0\d\.check_\w+\(.*\)", source.strip().splitlines()[-1])]  # fmt: skip
    assert bare == []  # end it with ";": the check prints ✓ or ✗, its True/False is for the tests


def test_the_setup_check_of_the_index_raises_no_deprecation_warning():
    (index,) = NOTEBOOKS.glob("00.00-*.ipynb")
    setup = next(source for source in code_cells(index) if "importlib" in source)
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", setup],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "✓ flask 3." in result.stdout and "✓ webhooklab" in result.stdout
