"""The times on the cards are the model's: recomputed here, they agree with every card and with the index."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402
import course_time  # noqa: E402

ENTRIES = course.load()
NOTEBOOKS = {entry["file"]: nbformat.read(ROOT / "notebooks" / entry["file"], as_version=4) for entry in ENTRIES}
MODEL = course_time.model()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry["number"])
def test_each_card_gives_the_models_time_within_one_rounding_step(entry):
    card = NOTEBOOKS[entry["file"]].cells[2].source
    assert f"**Time:** about {course.minutes(entry['minutes'])}" in card
    assert abs(entry["minutes"] - MODEL[entry["file"]].minutes) <= course_time.ROUND_TO, (
        f"{entry['file']}: the card says {entry['minutes']} min, the model {MODEL[entry['file']].minutes:.0f}: "
        "run python tools/course_time.py --write")


def test_the_index_total_is_the_sum_of_the_same_times():
    (contents,) = [c.source for c in NOTEBOOKS[ENTRIES[0]["file"]].cells if course.CONTENTS in c.metadata.get("tags", [])]
    path = [entry for entry in ENTRIES[1:] if "OPTIONAL" not in entry["file"]]
    total = sum(entry["minutes"] for entry in path)
    assert f"The path takes about {course.minutes(total)}" in contents
    assert abs(total - sum(MODEL[entry["file"]].minutes for entry in path)) <= course_time.ROUND_TO * len(path) / 2
    assert "tools/course_time.py" in contents


def test_the_model_counts_prose_code_diagrams_and_exercises_at_its_stated_rates():
    cells = [nbformat.v4.new_markdown_cell(" ".join(["word"] * course_time.READING_WPM) + "\n\n![a picture](images/x.svg)"),
             nbformat.v4.new_code_cell(" ".join(["x"] * course_time.CODE_WPM)),
             nbformat.v4.new_code_cell("# %load solutions/01.00-send-an-order.py"),
             nbformat.v4.new_code_cell("# %load solutions/06.00-handler.py")]  # fmt: skip
    estimate = course_time.estimate(cells)
    assert (estimate.words, estimate.reading, estimate.diagrams) == (course_time.READING_WPM, 1, course_time.DIAGRAM_MINUTES)
    assert estimate.code == 3 * course_time.CELL_MINUTES + 1
    assert estimate.exercises == course_time.EXERCISES[0][1] + course_time.EXERCISES[-1][1]  # one line; a handler


def test_the_tool_states_its_rates_and_calls_them_assumptions():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "course_time.py")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"{course_time.READING_WPM} words a minute" in done.stdout and "assumptions" in done.stdout
    assert all(name in done.stdout for name in NOTEBOOKS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry["number"])
def test_a_notebook_longer_than_a_sitting_says_where_to_stop(entry):
    notebook = NOTEBOOKS[entry["file"]]
    stops = [c for c in notebook.cells if course_time.STOP in c.metadata.get("tags", [])]
    assert all(c.source.startswith("**A good place to stop.**") for c in stops)
    assert all(part <= course_time.SITTING + course_time.ROUND_TO for part in course_time.parts(notebook))
    if MODEL[entry["file"]].minutes > course_time.SITTING + course_time.ROUND_TO:
        assert stops, f"{entry['file']} takes longer than one sitting: mark a good place to stop"


def test_a_stop_comes_right_before_a_section():
    for notebook in NOTEBOOKS.values():
        for i, cell in enumerate(notebook.cells):
            if course_time.STOP in cell.metadata.get("tags", []):
                assert notebook.cells[i + 1].source.startswith("## "), "stop between sections, not inside one"


def test_notebook_02_says_what_a_cursor_and_an_etag_are_before_using_them():
    cells = NOTEBOOKS["02.00-push-vs-poll.ipynb"].cells
    first_code = next(i for i, cell in enumerate(cells) if cell.cell_type == "code")
    bridge = " ".join(cell.source for cell in cells[3:first_code] if cell.cell_type == "markdown")
    for term in ("**cursor**", "**ETag**", "If-None-Match", "304 Not Modified", "notebook 01"):
        assert term in bridge
    assert re.search(r"(?i)\bpoll", bridge)
