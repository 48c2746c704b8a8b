"""What each learner has done, in class.db (SQLite, WAL), and the two bin endpoints that report it.

    challenges   each learner's latest challenge report: POST /b/<token>/api/challenge
    verdicts     each learner's latest verdict per exercise check, when it was first and last passed and how
                 many times it ran: POST /b/<token>/api/verdict (webhooklab.exercises sends one per check run)
    activity     when each learner last changed anything in their bin (a verdict, a report, an endpoint's
                 answer, a delete, a replay); their events' times are in their bin's own store

Rows are keyed by the learner's name, so a new token (ClassServer.rotate) keeps them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from datetime import datetime, timezone

from flask import current_app, request

from .._checks import got
from .._receiving.api import problem

MAX_REPORT = 64 * 1024  # bytes of one challenge report
MAX_SCENARIOS = 500
MAX_VERDICT = 1024  # bytes of one verdict: a check's name, a notebook's, and true or false
MAX_EXERCISES = 100  # distinct exercises a learner's verdicts may name (the course has 24 checks)
EXERCISE = re.compile(r"[a-z][a-z0-9_]{0,49}(\.[a-z_][a-z0-9_]{0,79})?")  # ch03.check_verify_github
NOTEBOOK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # 03.00-security, OPTIONAL-09.00-analyse-captured-events
VERDICT_EXAMPLE = ('send {"exercise": "ch03.check_verify_github", "notebook": "03.00-security", "passed": true} '
                   "with the X-Webhooklab header. The exercise checks send this by themselves in a folder joined "
                   "with wl.join_class: a request written by hand, or a webhooklab other than the class's, is the "
                   "likely cause")  # fmt: skip


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Record:
    """One connection to class.db, used under a lock (the server's 16 worker threads share it)."""

    SCHEMA: tuple[str, ...] = ()

    def __init__(self, path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # readable by the instructor alone, as the roster
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode = WAL")
        for statement in self.SCHEMA:
            self._db.execute(statement)

    def _rows(self, sql: str, params=()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Challenges(Record):
    """Each learner's latest challenge report: one row a learner."""

    SCHEMA = ("CREATE TABLE IF NOT EXISTS challenges (learner TEXT PRIMARY KEY, at TEXT, score INTEGER, "
              "total INTEGER, scenarios TEXT)",)  # fmt: skip

    def put(self, learner: str, score: int, total: int, scenarios: list[dict]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO challenges VALUES (?, ?, ?, ?, ?)",
                             (learner, now(), score, total, json.dumps(scenarios)))  # fmt: skip

    def latest(self) -> dict[str, dict]:
        rows = self._rows("SELECT learner, at, score, total, scenarios FROM challenges")
        return {learner: {"at": at, "score": score, "total": total,
                          "failing": [s["scenario"] for s in json.loads(scenarios) if not s["passed"]]}
                for learner, at, score, total, scenarios in rows}  # fmt: skip


class Progress(Record):
    """Each learner's exercise verdicts (the latest per exercise) and their last change to their bin."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS verdicts (learner TEXT, exercise TEXT, notebook TEXT, passed INTEGER, at TEXT, "
        "first_at TEXT, first_passed TEXT, last_passed TEXT, runs INTEGER, PRIMARY KEY (learner, exercise))",
        "CREATE TABLE IF NOT EXISTS activity (learner TEXT PRIMARY KEY, at TEXT)",
    )

    def put(self, learner: str, exercise: str, notebook: str, passed: bool) -> bool:
        """Keep a verdict; False (and nothing kept) when it names an exercise past the learner's MAX_EXERCISES."""
        at = now()
        with self._lock:
            known = self._db.execute("SELECT count(*), sum(exercise = ?) FROM verdicts WHERE learner = ?",
                                     (exercise, learner)).fetchone()  # fmt: skip
            if not known[1] and known[0] >= MAX_EXERCISES:
                return False
            self._db.execute(
                "INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (learner, exercise) DO UPDATE SET "
                "notebook = excluded.notebook, passed = excluded.passed, at = excluded.at, runs = runs + 1, "
                "first_passed = coalesce(first_passed, excluded.first_passed), "
                "last_passed = coalesce(excluded.last_passed, last_passed)",
                (learner, exercise, notebook, int(passed), at, at, at if passed else None, at if passed else None),
            )  # fmt: skip
        return True

    def touch(self, learner: str) -> None:
        """The learner changed something in their bin just now."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO activity VALUES (?, ?)", (learner, now()))

    def verdicts(self) -> dict[str, dict[str, dict]]:
        """learner -> exercise -> {notebook, passed, at, first_at, first_passed, last_passed, runs}."""
        found: dict[str, dict[str, dict]] = {}
        keys = ("notebook", "passed", "at", "first_at", "first_passed", "last_passed", "runs")
        for learner, exercise, *values in self._rows(f"SELECT learner, exercise, {', '.join(keys)} FROM verdicts "
                                                     "ORDER BY learner, exercise"):  # fmt: skip
            row = dict(zip(keys, values))
            row["passed"] = bool(row["passed"])
            found.setdefault(learner, {})[exercise] = row
        return found

    def changed(self) -> dict[str, str]:
        """learner -> when they last changed something in their bin (ISO 8601, UTC)."""
        return dict(self._rows("SELECT learner, at FROM activity"))


def submit_challenge():
    """POST /b/<token>/api/challenge {"score": int, "total": int, "scenarios": [{"scenario": str, "passed": bool}]}."""
    report, arrived, wrong = _read_json(MAX_REPORT, "a challenge report")
    wrong = wrong or _wrong_report(report)
    if wrong:
        return problem(400, wrong, arrived,
                       'send {"score": 3, "total": 4, "scenarios": [{"scenario": "duplicate", "passed": true}, ...]} '
                       "with the X-Webhooklab header, as report.submit(rx) does")  # fmt: skip
    scenarios = [{"scenario": item["scenario"], "passed": item["passed"]} for item in report.get("scenarios", [])]
    current_app.extensions["webhooklab.challenges"].put(
        current_app.extensions["webhooklab.learner"], report["score"], report["total"], scenarios)
    return {"stored": True}


def submit_verdict():
    """POST /b/<token>/api/verdict {"exercise": "ch03.check_verify_github", "notebook": "03.00-security", ...}."""
    verdict, arrived, wrong = _read_json(MAX_VERDICT, "a verdict")
    wrong = wrong or _wrong_verdict(verdict)
    if wrong:
        return problem(400, wrong, arrived, VERDICT_EXAMPLE)
    learner = current_app.extensions["webhooklab.learner"]
    if not current_app.extensions["webhooklab.progress"].put(learner, verdict["exercise"], verdict["notebook"],
                                                             verdict["passed"]):  # fmt: skip
        return problem(507, f"a learner's verdicts name at most {MAX_EXERCISES} exercises, and yours have as many: "
                            f"this one ({verdict['exercise']!r}) is new", arrived,
                       "the course has far fewer: a loop making up exercise names is the usual cause")  # fmt: skip
    return {"stored": True}


def _read_json(limit: int, what: str) -> tuple[object, str, str | None]:
    """(the body as JSON, its first 200 characters, None), or (None, those characters, what is wrong with the body).

    At most `limit` + 1 bytes are read, whatever the request says its length is (a chunked one says nothing).
    """
    data = request.stream.read(limit + 1)
    arrived = data[:200].decode("utf-8", "replace")
    if len(data) > limit:
        size = request.content_length or f"more than {limit}"
        return None, arrived, f"{what} is at most {limit // 1024} KB of JSON, got {size} bytes"
    try:
        return json.loads(data), arrived, None
    except ValueError as error:
        return None, arrived, f"the body is not JSON ({error})"


def _wrong_verdict(verdict) -> str | None:
    """What is wrong with a verdict, or None when it can be stored."""
    if not isinstance(verdict, dict):
        return f"a verdict must be a JSON object, got {got(verdict)[:100]}"
    extra = sorted(set(verdict) - {"exercise", "notebook", "passed"})
    if extra:
        return f"a verdict has exercise, notebook and passed, and nothing else (never code or values), got {extra[:5]}"
    exercise, notebook, passed = verdict.get("exercise"), verdict.get("notebook"), verdict.get("passed")
    if not (isinstance(exercise, str) and EXERCISE.fullmatch(exercise)):
        return ("exercise must be a check's name, its chapter and function, such as 'ch03.check_verify_github' "
                f"(lower-case letters, digits, _ and one dot), got {got(exercise)[:100]}")  # fmt: skip
    if not (isinstance(notebook, str) and NOTEBOOK.fullmatch(notebook)):
        return ("notebook must be a notebook's name without .ipynb, such as '03.00-security' (letters, digits, . _ "
                f"and -, up to 100), got {got(notebook)[:100]}")  # fmt: skip
    if not isinstance(passed, bool):
        return f"passed must be true or false, got {got(passed)[:100]}"
    return None


def _wrong_report(report) -> str | None:
    """What is wrong with a challenge report, or None when it can be stored."""
    if not isinstance(report, dict):
        return f"the report must be a JSON object, got {got(report)}"
    score, total, scenarios = report.get("score"), report.get("total"), report.get("scenarios", [])
    for key, value in (("score", score), ("total", total)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
            return f"{key} must be a whole number from 0 to 10000, got {got(value)}"
    if score > total:
        return f"score ({score}) cannot be more than total ({total}): score counts the scenarios passed"
    if not isinstance(scenarios, list) or len(scenarios) > MAX_SCENARIOS:
        return f"scenarios must be a list of at most {MAX_SCENARIOS}, got {got(scenarios)[:100]}"
    for item in scenarios:
        if not (isinstance(item, dict) and isinstance(item.get("scenario"), str) and 0 < len(item["scenario"]) <= 200
                and isinstance(item.get("passed"), bool)):  # fmt: skip
            return f'each scenario is {{"scenario": "<up to 200 characters>", "passed": true or false}}, got {got(item)[:100]}'
    return None
