"""How long the whole learning path takes headless, against the same number of empty notebooks.

    python benchmarks/path.py [--repeats 3]

Each notebook runs top to bottom in a fresh kernel, with its exercises'
solutions in place of the exercise cells, as CI runs them. The baseline is
an empty notebook in a fresh kernel, once per notebook: what starting the
kernels costs alone. Rounds alternate; figures are medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def workshop() -> Path:
    """A copy of the notebooks and data sets, so nothing is written into the repository."""
    folder = Path(tempfile.mkdtemp()) / "workshop"
    shutil.copytree(NOTEBOOKS, folder)
    shutil.copytree(NOTEBOOKS.parent / "datasets", folder / "datasets")
    return folder


def with_solutions(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "exercise" in cell.metadata.get("tags", []):
            cell.source = (path.parent / cell.source.split("%load ", 1)[1].split()[0]).read_text()
    return notebook


def run(notebook: nbformat.NotebookNode, folder: Path) -> float:
    start = time.perf_counter()
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = workshop()
    paths = sorted(folder.glob("*.ipynb"), key=lambda p: p.name.removeprefix("OPTIONAL-"))
    times = {path.name: [] for path in paths}
    path_totals, baseline_totals = [], []
    for _ in range(args.repeats):
        path_totals.append(0.0)
        for path in paths:
            took = run(with_solutions(path), folder)
            times[path.name].append(took)
            path_totals[-1] += took
        baseline_totals.append(sum(run(nbformat.v4.new_notebook(), folder) for _ in paths))
    print("| notebook | median (s) |\n|---|---|")
    for name, taken in times.items():
        print(f"| {name} | {statistics.median(taken):.1f} |")
    path, baseline = statistics.median(path_totals), statistics.median(baseline_totals)
    print(f"\n| measure | the path | {len(paths)} empty notebooks | ratio | target |\n|---|---|---|---|---|")
    print(f"| headless, all notebooks (s) | {path:.1f} | {baseline:.1f} | {path / baseline:.2f} | < 120 s |")


if __name__ == "__main__":
    main()
