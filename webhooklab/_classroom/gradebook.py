"""Who is where, and who is stuck: each learner's progress through the course, for the dashboard and a gradebook.

    /api/progress       per learner: the furthest notebook they reached (by a verdict, or the challenge's
                        notebook once they submitted a report), the latest verdict of each exercise, the
                        challenge score, the time since their last success (a passed check) and since their last
                        activity (an event, a verdict, a report, a change to their bin), and whether they are
                        stuck. No token and no secret: the projector view shows it to the room.
    /api/gradebook.csv  a row per learner: a column per exercise (pass, fail or blank), the challenge score,
                        the last activity; a cell a spreadsheet would run as a formula is made text
    /projector          the room's view of the same, in large text (static/projector.html)

The exercises are the course's checks in its order (webhooklab.exercises.catalogue), then any other a verdict named.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import send_from_directory

from .._receiving.api import download
from .._receiving.export import csv_table
from ..exercises import catalogue
from ..exercises.ch06 import NOTEBOOK as CHALLENGE_NOTEBOOK

STUCK_AFTER = 10 * 60  # seconds without a passed check, with a check failing, before a learner shows as stuck


def progress_routes(app, server, static) -> None:
    """The dashboard's progress section: its JSON, the gradebook and the projector's page."""

    @app.get("/api/progress")
    def progress():
        return standings(server)

    @app.get("/api/gradebook.csv")
    def gradebook():
        table = standings(server)
        names = [exercise["exercise"] for exercise in table["exercises"]]
        columns = ["learner", *names, "challenge_score", "challenge_total", "last_activity"]
        rows = ({"learner": row["name"], **{name: _grade(row["exercises"].get(name)) for name in names},
                 "challenge_score": (row["challenge"] or {}).get("score"),
                 "challenge_total": (row["challenge"] or {}).get("total"), "last_activity": row["last_activity"]}
                for row in table["learners"])  # fmt: skip
        return download(csv_table(columns, rows), "text/csv", "webhooklab-gradebook.csv")

    @app.get("/projector")
    def projector():
        return send_from_directory(static, "projector.html")


def standings(server) -> dict:
    """Every learner's progress (see the module's docstring), in the order of the roster."""
    now = datetime.now(timezone.utc)
    verdicts, scores = server.progress.verdicts(), server.challenges.latest()
    known = catalogue()
    names = {name for name, _ in known}
    other = {name: row["notebook"] for rows in verdicts.values() for name, row in rows.items() if name not in names}
    seen = sorted(other.items())
    bins = list(server.bins.values())
    latest = last_activity(server, {one.learner.name: one.store.tally()["last_activity"] for one in bins})
    learners = []
    for one in bins:
        name = one.learner.name
        mine, challenge = verdicts.get(name, {}), scores.get(name)
        notebooks = [row["notebook"] for row in mine.values()] + ([CHALLENGE_NOTEBOOK] if challenge else [])
        failing = [exercise for exercise, row in mine.items() if not row["passed"]]
        last_success = _latest(row["last_passed"] for row in mine.values())
        since_success = _seconds(now, last_success or _earliest(mine[x]["first_at"] for x in failing))
        learners.append({
            "name": name, "notebook": max(notebooks, key=_course_order, default=None),
            "exercises": {exercise: {key: row[key] for key in ("notebook", "passed", "at", "runs")}
                          for exercise, row in mine.items()},
            "passed": len(mine) - len(failing), "failing": failing,
            "challenge": challenge and {key: challenge[key] for key in ("score", "total", "at")},
            "last_success": last_success, "since_success": _seconds(now, last_success),
            "last_activity": latest[name], "since_activity": _seconds(now, latest[name]),
            "stuck": bool(failing) and since_success is not None and since_success >= STUCK_AFTER,
        })  # fmt: skip
    return {"now": now.isoformat(), "stuck_after": STUCK_AFTER, "learners": learners,
            "exercises": [{"exercise": name, "notebook": notebook} for name, notebook in [*known, *seen]]}  # fmt: skip


def last_activity(server, events: dict[str, str | None]) -> dict[str, str | None]:
    """learner -> their last activity of any kind, or None: `events` (learner -> their newest event's time),
    and their verdicts, challenge reports and changes to their bin."""
    verdicts, changed, scores = server.progress.verdicts(), server.progress.changed(), server.challenges.latest()
    return {name: _latest([newest, changed.get(name), *(row["at"] for row in verdicts.get(name, {}).values()),
                           scores.get(name, {}).get("at")])
            for name, newest in events.items()}  # fmt: skip


def _grade(row: dict | None) -> str:
    return "" if row is None else "pass" if row["passed"] else "fail"


def _course_order(notebook: str) -> tuple:
    """03.00-security -> (3, 0, ...): the course's order, an optional notebook where its number puts it."""
    number = re.search(r"(\d+)\.(\d+)", notebook)
    return (int(number[1]), int(number[2]), notebook) if number else (-1, -1, notebook)


def _times(values) -> list[datetime]:
    found = []
    for value in values:
        try:
            found.append(datetime.fromisoformat(value))
        except (TypeError, ValueError):  # None: nothing yet
            continue
    return found


def _latest(values) -> str | None:
    times = _times(values)
    return max(times).isoformat() if times else None


def _earliest(values) -> str | None:
    times = _times(values)
    return min(times).isoformat() if times else None


def _seconds(now: datetime, then: str | None) -> int | None:
    return None if then is None else max(0, int((now - datetime.fromisoformat(then)).total_seconds()))
