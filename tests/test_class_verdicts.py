"""An exercise check reports its verdict to the learner's bin when the folder joined a class, and only then.

The class server is webhooklab's own, on 127.0.0.2 (the `classroom` fixture); the checks are the course's own,
given the course's own solutions. A check prints and returns the same, joined or not, server up or down.
"""

import re
import socket
import threading
from pathlib import Path

import pytest
from lab_under_test import run_solution

import webhooklab as wl
from webhooklab._receiving.joining import CLASS_FILE
from webhooklab.exercises import _verdicts, catalogue, ch03, ch04

EXERCISE = "ch03.check_verify_github"


@pytest.fixture
def reporter(monkeypatch):
    """A reporter of its own for one test, so counts start at nought whatever ran before."""
    fresh = _verdicts.Reporter()
    monkeypatch.setattr(_verdicts, "REPORTER", fresh)
    return fresh


def verify_github():
    return run_solution("03.00-verify-github.py", wl=wl)["verify_github"]


def wrong_verify(body, headers, secret):
    return True  # accepts anything: the check fails


def test_a_check_in_a_joined_folder_sends_its_verdict_to_the_bin(classroom, reporter, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    wl.join_class(classroom.bin_url())
    capsys.readouterr()
    progress = classroom.server.progress
    before = progress.verdicts().get(classroom.learner.name, {}).get(EXERCISE, {}).get("runs", 0)
    assert ch03.check_verify_github(wrong_verify) is False
    assert reporter.settled()
    assert ch03.check_verify_github(verify_github()) is True
    assert reporter.settled() and (reporter.sent, reporter.dropped) == (2, 0)
    row = progress.verdicts()[classroom.learner.name][EXERCISE]
    assert (row["passed"], row["notebook"], row["runs"]) == (True, "03.00-security", before + 2)
    assert row["first_passed"] is not None
    assert classroom.other.name not in progress.verdicts() or EXERCISE not in progress.verdicts()[classroom.other.name]
    printed = capsys.readouterr().out
    assert printed.startswith("✗ Not yet:") and "\n✓ " in printed and classroom.learner.token not in printed


def test_only_the_name_notebook_and_verdict_leave_the_kernel(classroom, reporter, tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr(_verdicts, "post", lambda url, verdict: sent.append((url, verdict)) or 200)
    monkeypatch.chdir(tmp_path)
    (tmp_path / CLASS_FILE).write_text(classroom.bin_url() + "\n")
    answers = {"attempt 1": "secret-answer-value"}
    assert ch04.check_when_is_attempt(answers) is False
    assert reporter.settled()
    assert sent == [(classroom.bin_url(), {"exercise": "ch04.check_when_is_attempt",
                                           "notebook": "04.00-failures-and-retries", "passed": False})]  # fmt: skip


def test_every_check_of_the_course_names_its_notebook():
    notebooks = {path.stem for path in (Path(__file__).parent.parent / "notebooks").glob("*.ipynb")}
    found = catalogue()
    assert len(found) == len({name for name, _ in found}) >= 20
    for name, notebook in found:
        assert notebook in notebooks and re.search(r"\d\d(?=\.00-)", notebook)[0] == name[2:4], (name, notebook)


def test_a_folder_that_joined_no_class_sends_nothing(reporter, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert ch03.check_verify_github(verify_github()) is True
    assert reporter.waiting == reporter.sent == reporter.dropped == 0 and reporter._thread is None
    assert capsys.readouterr().out.startswith("✓")


def closed_port() -> int:
    """A port on 127.0.0.2 where nothing listens: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        return probe.getsockname()[1]


def test_a_class_server_that_is_down_changes_nothing_the_check_shows(reporter, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    alone = ch03.check_verify_github(wrong_verify), capsys.readouterr().out
    (tmp_path / CLASS_FILE).write_text(f"http://127.0.0.2:{closed_port()}/b/dkq7-m3xa-9fhe-2bvw-kp4s-tr6n-u2pc/\n")
    joined = ch03.check_verify_github(wrong_verify), capsys.readouterr().out
    assert joined == alone  # the same answer, the same words
    assert reporter.settled() and (reporter.sent, reporter.dropped) == (0, 1)


def test_a_full_queue_drops_verdicts_and_starts_one_thread(reporter, tmp_path, monkeypatch):
    """However many checks run while the server is away, at most QUEUE verdicts wait, in one thread."""
    release = threading.Event()

    def stalled(url, verdict):
        release.wait(30)
        raise OSError("the class server is away")

    monkeypatch.setattr(_verdicts, "post", stalled)
    monkeypatch.chdir(tmp_path)
    (tmp_path / CLASS_FILE).write_text("http://127.0.0.2:9/b/dkq7-m3xa-9fhe-2bvw-kp4s-tr6n-u2pc/\n")
    runs = _verdicts.QUEUE * 3
    for _ in range(runs):
        reporter.report(EXERCISE, "03.00-security", True)
    assert reporter.waiting <= _verdicts.QUEUE + 1 and reporter.dropped >= runs - _verdicts.QUEUE - 1
    thread = reporter._thread
    release.set()
    assert reporter.settled() and reporter.dropped == runs and reporter.sent == 0
    assert reporter._thread is thread and thread.is_alive()  # one thread, for every verdict
