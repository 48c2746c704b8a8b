"""The notebooks read as one course: one source for titles and times, a way through, and prompts to think first."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402

ENTRIES = course.load()
NOTEBOOKS = {entry["file"]: nbformat.read(ROOT / "notebooks" / entry["file"], as_version=4) for entry in ENTRIES}
LESSONS = [entry for entry in ENTRIES if entry["number"] != "00"]


def markdown(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


def links(source: str) -> list[str]:
    return re.findall(r"\]\(([^)]+)\)", source)


def test_the_notebooks_are_up_to_date_with_the_course_file():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "course.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_course_file_lists_every_notebook_in_order():
    assert [entry["file"] for entry in ENTRIES] == sorted(NOTEBOOKS, key=lambda name: re.search(r"\d\d", name).group())
    assert {path.name for path in (ROOT / "notebooks").glob("*.ipynb")} == set(NOTEBOOKS)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry["number"])
def test_each_notebook_has_a_way_back_and_forward_at_top_and_bottom(entry):
    cells = NOTEBOOKS[entry["file"]].cells
    i = ENTRIES.index(entry)
    expected = [ENTRIES[i - 1]["file"]] if i else []
    expected += [ENTRIES[0]["file"]] if i > 1 else []
    expected += [ENTRIES[i + 1]["file"]] if i + 1 < len(ENTRIES) else []
    for bar in (cells[0], cells[-1]):
        assert course.NAV in bar.metadata.get("tags", [])
        assert links(bar.source) == expected
        assert all((ROOT / "notebooks" / target).exists() for target in links(bar.source))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry["number"])
def test_each_notebook_opens_with_its_title_time_prerequisites_and_objectives(entry):
    title, card = NOTEBOOKS[entry["file"]].cells[1:3]
    assert title.source.splitlines()[0] == f"# {entry['title']}"
    assert f"**Time:** about {course.minutes(entry['minutes'])}" in card.source
    assert "**Before this:**" in card.source and len(entry["objectives"]) >= 2
    assert all(objective in card.source for objective in entry["objectives"])
    assert all(entry["number"] > number for number in entry.get("after", [])), "prerequisites come earlier"


def test_the_index_repeats_each_notebooks_time_and_title():
    (contents,) = [cell for cell in NOTEBOOKS[ENTRIES[0]["file"]].cells if course.CONTENTS in cell.metadata.get("tags", [])]
    for entry in LESSONS:
        (row,) = [line for line in contents.source.splitlines() if f"]({entry['file']})" in line]
        assert f"[{entry['short']}]" in row and row.endswith(f"| {entry['minutes']} min |")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry["number"])
def test_a_notebook_states_its_length_only_in_its_card(entry):
    """A second figure drifts from the first: the card, from the course file, is the only one."""
    generated = {course.NAV, course.CARD, course.CONTENTS}
    prose = [cell.source for cell in NOTEBOOKS[entry["file"]].cells
             if cell.cell_type == "markdown" and not generated & set(cell.metadata.get("tags", []))]  # fmt: skip
    stated = [line for text in prose for line in text.splitlines()
              if re.search(r"(?i)\b(takes|about|in) (about )?\d+ (min|minutes|hours?)\b(?! (of|late|after))", line)
              and re.search(r"(?i)notebook|this takes|it takes|workshop|path", line)]  # fmt: skip
    assert stated == []


@pytest.mark.parametrize("entry", LESSONS, ids=lambda entry: entry["number"])
def test_each_lesson_asks_the_learner_to_predict_before_running(entry):
    cells = NOTEBOOKS[entry["file"]].cells
    prompts = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.startswith("**Predict, then run.**")]
    assert prompts, "ask at least once: what will happen when you run the next cell?"
    for i in prompts:
        assert "?" in cells[i].source, "a prediction answers a question"
        assert cells[i + 1].cell_type == "code", "the prompt comes right before the cell it is about"
        assert any(cell.cell_type == "markdown" for cell in cells[i + 2 : i + 4]), "then say what happened, and why"


def test_a_hand_edited_card_is_written_back_from_the_course_file():
    notebook = NOTEBOOKS[ENTRIES[1]["file"]]
    edited = nbformat.from_dict(notebook)
    edited.cells[2].source = edited.cells[2].source.replace("**Time:** about", "**Time:** roughly")
    assert course.apply(nbformat.from_dict(edited), ENTRIES, 1).cells[2].source == notebook.cells[2].source
    assert edited.cells[2].source != notebook.cells[2].source


# -- one way into a class, said the same everywhere ------------------------------------------------------------------

JOIN = 'wl.join_class("<bin URL>")'
# A receiver whose lesson is this machine itself stays a wl.Receiver: what makes it one, and where the notebook says so.
OWN_MACHINE = {"ssl_context=": "on your machine only", "port=": "on this machine only"}


def code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("entry", LESSONS, ids=lambda entry: entry["number"])
def test_every_lesson_gets_its_receivers_from_workshop_receiver_and_says_how_to_join(entry):
    """Joined, every receiver a lesson sends to is reachable at the learner's bin; alone, each is wl.Receiver()."""
    notebook = NOTEBOOKS[entry["file"]]
    cells = notebook.cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or "wl.Receiver(" not in cell.source:
            continue
        (reason,) = [mark for mark in OWN_MACHINE if f"wl.Receiver({mark}" in cell.source]
        said = " ".join(" ".join(c.source for c in cells[max(0, i - 2) : i] if c.cell_type == "markdown").split())
        assert OWN_MACHINE[reason] in said and "`wl.Receiver`" in said, f"say why cell {i} stays on this machine"
    used = [i for i, cell in enumerate(cells) if cell.cell_type == "code" and "wl.workshop_receiver(" in cell.source]
    if not used:
        return
    after = next(i for i in range(used[0], len(cells)) if cells[i].cell_type == "markdown")
    said = " ".join(" ".join(cell.source for cell in cells[: after + 1] if cell.cell_type == "markdown").split())
    assert JOIN in said and "](00.00-index.ipynb)" in said, "say where and how to join, by the first receiver"


def test_the_index_join_cell_runs_in_a_fresh_kernel_and_the_readme_says_the_same(tmp_path, monkeypatch, capsys):
    index = NOTEBOOKS[ENTRIES[0]["file"]]
    (join,) = [source for source in code(index) if "wl.join_class(" in source]
    monkeypatch.chdir(tmp_path)
    exec(compile(join, "00.00-index.ipynb", "exec"), {})  # nothing from the cells above it
    assert "No class server" in capsys.readouterr().out
    said = " ".join(" ".join(cell.source for cell in index.cells if cell.cell_type == "markdown").split())
    readme = " ".join((ROOT / "README.md").read_text().split())
    for text in (said, readme):
        assert JOIN in text and "wl.join_class(None)" in text
    assert "wl.join_class(None)" in join
