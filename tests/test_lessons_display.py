"""What a learner sees after a cell: a check's verdict without a stray True/False, and no warning in red."""

import html
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


def test_the_push_poll_table_counts_whole_requests_and_says_what_time_they_cover():
    import webhooklab as wl

    result = wl.push_vs_poll(duration=2, rate=3, intervals=[0.5, 10], arrivals="steady", seed=1)
    table = result.table.set_index("mode")
    counts = table[["requests", "empty responses", "events seen", "missed"]]
    assert (counts == counts.round()).all().all() and all(dtype.kind == "i" for dtype in counts.dtypes)
    compressed = table.loc["poll every 10 s"]
    assert compressed["run"] == "compressed ×25" and compressed["counted over (s)"] == 2 * 25
    assert abs(compressed["events seen"] - 3 * 2 * 25) <= 1  # every event of the compressed run, not a share of one
    assert table.loc["push", "counted over (s)"] == 2
    assert (table["requests per minute"] == (table["requests"] * 60 / table["counted over (s)"]).round(1)).all()
    assert any("stand for 50 s of real time" in note for note in result.notes)


def test_the_race_in_notebook_02_is_the_one_its_text_describes():
    import inspect

    from webhooklab import widgets

    cells = json.loads(next(NOTEBOOKS.glob("02.00-*.ipynb")).read_text(encoding="utf-8"))["cells"]
    (at,) = [i for i, cell in enumerate(cells)
             if cell["cell_type"] == "code" and "PushPollRace(" in "".join(cell["source"])]  # fmt: skip
    assert "".join(cells[at]["source"]).strip() == "wl.widgets.PushPollRace()"  # what runs is the defaults
    text = " ".join("".join(cells[at - 1]["source"]).split())  # its words, whatever the line breaks
    defaults = {name: p.default for name, p in inspect.signature(widgets.PushPollRace).parameters.items()}
    race = widgets.PushPollRace()
    events = f"{round(defaults['rate'] * defaults['duration'])} events"
    assert events in text and race.setup.startswith(events)
    assert f"within {defaults['duration']:g} s" in text and f"asks every {defaults['interval']:g} s" in text
    assert "who pays with empty answers" in text
    assert defaults["interval"] < 1 / defaults["rate"]  # polls more often than events happen: some come back empty
    assert html.unescape(race.board.value).endswith(race.setup)
