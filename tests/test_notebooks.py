"""Every guided notebook runs top to bottom, with each exercise answered by its own solution."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def test_notebooks_exist():
    assert sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_is_committed_clean_and_runs_with_its_solutions(path, tmp_path):
    workshop = tmp_path / "workshop"
    shutil.copytree(NOTEBOOKS, workshop)
    notebook = nbformat.read(workshop / path.name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "commit notebooks without outputs"
    assert notebook.cells[0].cell_type == "markdown" and "you will" in notebook.cells[0].source
    assert "## Summary" in "".join(cell.source for cell in notebook.cells)

    exercises = [cell for cell in code if "exercise" in cell.metadata.get("tags", [])]
    if path.name[:2] in {"01", "02", "03", "04", "05", "06"}:
        assert len(exercises) >= 2, "each numbered notebook has at least two exercises"
    for cell in exercises:
        solution = cell.source.split("%load ", 1)[1].split()[0]
        cell.source = (workshop / solution).read_text()

    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workshop)}}).execute()

    printed = "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "✗ Not yet" not in printed and printed.count("✓") >= len(exercises)
