"""A long call counts down on a terminal, on one line rewritten in place, and says nothing where no one watches."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import webhooklab as wl
from webhooklab._experiments.progress import Progress


class Terminal(io.StringIO):
    """What a terminal's stderr is to the code that writes to it: a stream that says it is a TTY."""

    def isatty(self) -> bool:
        return True


def test_each_stage_rewrites_one_line_and_the_line_is_given_back_at_the_end():
    terminal = Terminal()
    # No tick: only the stages draw; and a clock that stands still, so a pause of the machine changes no number.
    with Progress("long work", 10, stream=terminal, tick=3600, clock=lambda: 0.0) as shown:
        shown.stage("first part", 4)
        shown.stage("second part", 6)
    written = terminal.getvalue()
    drawn = written.split("\r")[1:]
    assert "\n" not in written, "one line, rewritten with a carriage return"
    assert drawn[0].startswith("[") and "long work: first part, 10 s of 10 s left" in drawn[0]
    assert "long work: second part, 6 s of 10 s left" in drawn[1] and drawn[1].startswith("[########")
    assert drawn[-2].strip() == "" and drawn[-1] == "", "the last write blanks the line and returns to its start"


def test_nothing_is_written_to_a_stream_that_is_not_a_terminal_or_when_turned_off():
    plain, terminal = io.StringIO(), Terminal()
    with Progress("long work", 10, stream=plain) as shown:
        shown.stage("a part", 5)
    with Progress("long work", 10, stream=terminal, show=False) as shown:
        shown.stage("a part", 5)
    assert plain.getvalue() == terminal.getvalue() == "" and shown.mode is None


def test_push_vs_poll_counts_down_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    wl.push_vs_poll(duration=1, rate=4, intervals=[0.25, 5], arrivals="steady", seed=1)
    drawn = [line for line in terminal.getvalue().split("\r") if line.strip()]
    assert any("wl.push_vs_poll: push and 1 poller watching 1 s of events" in line for line in drawn), drawn
    assert any("poll every 5 s, time-compressed ×25" in line for line in drawn), drawn
    assert terminal.getvalue().endswith("\r") and "\n" not in terminal.getvalue()


def test_push_vs_poll_says_nothing_off_a_terminal_or_with_progress_false(monkeypatch, capsys):
    wl.push_vs_poll(duration=1, rate=2, intervals=[0.5], arrivals="steady", seed=1)
    assert capsys.readouterr().err == "", "pytest's stderr is not a terminal: nothing is shown"
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    wl.push_vs_poll(duration=1, rate=2, intervals=[0.5], arrivals="steady", seed=1, progress=False)
    assert terminal.getvalue() == ""


def test_in_a_kernel_a_bar_is_drawn_and_updated_in_place(tmp_path):
    """A real Jupyter kernel: the countdown is one display, updated by id, and blank once the run ends."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        code = (f"import sys; sys.path.insert(0, {str(Path(wl.__file__).parent.parent)!r})\nimport webhooklab as wl\n"
                "r = wl.push_vs_poll(duration=1, rate=2, intervals=[0.25], arrivals='steady', seed=1)")  # fmt: skip
        shown = []
        reply = client.execute_interactive(code, timeout=120, output_hook=shown.append)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    displays = [m for m in shown if m["msg_type"] in ("display_data", "update_display_data")]
    assert displays and displays[0]["msg_type"] == "display_data"
    first = displays[0]["content"]
    assert "<progress" in first["data"]["text/html"]
    assert "wl.push_vs_poll: push and 1 poller" in first["data"]["text/plain"]
    ids = {m["content"]["transient"]["display_id"] for m in displays}
    assert len(ids) == 1 and displays[-1]["msg_type"] == "update_display_data"
    assert displays[-1]["content"]["data"] == {"text/plain": ""}, "the bar is taken away when the run ends"
    assert not [m for m in shown if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
