"""The whole course, joined to a class: every notebook passes as on a laptop, and all it sends goes through the bin.

A class server on 127.0.0.2 with two learners (the `classroom` fixture), a copy of the workshop as `webhooklab lab`
makes it, joined to the first learner's bin by the index notebook's own join cell, and then each of notebooks 01 to
09 run in that folder in a kernel of its own, its exercises answered by their solutions (as test_notebooks.py runs
them on a laptop). After each one, the events its workshop receivers stored (read in its kernel) must be exactly the
events its run added to the learner's bin (read through the bin's API), with the same signature verdicts, and the
other learner's bin must still be empty, and the instructor's dashboard must show the notebook's checks passed.
"""

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import requests
from nbclient import NotebookClient

import webhooklab as wl
from webhooklab._receiving.joining import CLASS_FILE
from webhooklab._workshop import prepare

LESSONS = sorted(path.name for path in (Path(__file__).parent.parent / "notebooks").glob("*.ipynb")
                 if re.search(r"(?:^|-)0[1-9]\.", path.name))  # fmt: skip
NO_RECEIVER = {"06", "09"}  # the grader serves itself for each run; 09 only reads a file

# After the last cell: every event the kernel's workshop receivers (those relayed from the bin) stored.
STORED = """
import hashlib as _hashlib, json as _json
import webhooklab as _wl

from webhooklab.exercises import _verdicts
_verdicts.REPORTER.settled()  # every check's verdict is with the class server
_relayed = {id(_value): _value for _value in list(globals().values())
            if isinstance(_value, _wl.Receiver) and _value.relay is not None}
print("STORED", _json.dumps([[_e.endpoint, _e.method, _hashlib.sha256(_e.body).hexdigest(), _e.verified]
                              for _rx in _relayed.values() for _e in _rx.arrivals()]))
for _rx in _relayed.values():
    _rx.close()  # the relay's goodbye, however the kernel then ends: the bin answers by its own rules again
"""


def with_solutions(folder: Path, name: str) -> nbformat.NotebookNode:
    """The notebook as the learner's copy has it, each exercise cell answered by the solution it %loads."""
    notebook = nbformat.read(folder / name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "exercise" in cell.metadata.get("tags", []):
            cell.source = (folder / cell.source.split("%load ", 1)[1].split()[0]).read_text()
    return notebook


def run(folder: Path, notebook: nbformat.NotebookNode, after: str = "") -> str:
    """Run every cell in a kernel whose working folder is `folder`, then `after`; all the text they printed."""
    if after:
        notebook.cells.append(nbformat.v4.new_code_cell(after))
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)


def signature(event) -> tuple:
    """What must be the same in the kernel and in the bin: where it went, what it was, and its verdict."""
    return (event.endpoint, event.method, hashlib.sha256(event.body).hexdigest(), event.verified)


@pytest.fixture(scope="module")
def workshop(classroom, tmp_path_factory):
    """The learner's copy of the workshop, joined to their bin by running the index with their bin URL in its cell."""
    folder, _, _ = prepare(tmp_path_factory.mktemp("joined") / "workshop")
    index = nbformat.read(folder / "00.00-index.ipynb", as_version=4)
    (join,) = [cell for cell in index.cells if cell.cell_type == "code" and "wl.join_class(None)" in cell.source]
    join.source = join.source.replace("wl.join_class(None)", f"wl.join_class({classroom.bin_url()!r})", 1)
    run(folder, index)
    assert (folder / CLASS_FILE).read_text().strip() == classroom.bin_url()
    return folder


@pytest.mark.timeout(600)  # a whole notebook, and the kernel that runs it
@pytest.mark.parametrize("name", LESSONS, ids=lambda name: re.search(r"\d\d", name).group())
def test_the_notebook_passes_joined_and_all_it_sends_lands_in_the_learners_bin_only(name, workshop, classroom):
    number = re.search(r"\d\d", name).group()
    learner = wl.Receiver.attach(classroom.bin_url())  # from now on: what this notebook's run adds to the bin
    notebook = with_solutions(workshop, name)
    exercises = sum("exercise" in cell.metadata.get("tags", []) for cell in notebook.cells)

    printed = run(workshop, notebook, STORED)

    assert "✗ Not yet" not in printed and printed.count("✓") >= exercises, printed
    assert "wl.join_class(None)" not in printed, "every receiver reached the class server"
    (line,) = [line for line in printed.splitlines() if line.startswith("STORED ")]
    stored = Counter(tuple(row) for row in json.loads(line.removeprefix("STORED ")))
    arrived = list(learner.arrivals())
    in_bin = Counter(signature(event) for event in arrived)
    # Each request once, at the endpoint it was sent to, byte for byte: nothing the bin did not pass on, nothing more.
    assert Counter(row[:3] for row in in_bin.elements()) == Counter(row[:3] for row in stored.elements())
    assert bool(stored) == (number not in NO_RECEIVER)
    assert len(wl.Receiver.attach(classroom.bin_url(classroom.other.token), history=True).arrivals()) == 0
    if number == "02":  # the provider signs with the secret the receiver was given: the bin shows no forger
        assert {verified for endpoint, _, _, verified in in_bin if endpoint == "push"} == {True}

    differ = in_bin - stored  # verdicts the bin shows that the notebook's receiver did not reach
    assert not differ, "the bin records the verdict of the notebook's own receiver"
    progress = requests.get(classroom.server.dashboard_url + "api/progress", timeout=10).json()["learners"]
    (mine,) = [row for row in progress if row["name"] == classroom.learner.name]
    checks = {exercise: row["passed"] for exercise, row in mine["exercises"].items() if row["notebook"] == Path(name).stem}
    assert bool(checks) == bool(exercises) and all(checks.values()), "the dashboard shows the notebook's checks passed"
