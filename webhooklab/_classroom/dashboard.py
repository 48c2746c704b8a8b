"""The instructor's dashboard, mounted at /teacher/<admin>/: everyone's bins at a glance, and class exports.

    /                   the live page (static files in static/, strict CSP, relative URLs)
    /api/class          per learner: received, verified, failed signatures, duplicates, last activity (of any kind),
                        the latest challenge score and its failing scenarios, a link to the bin's page,
                        whether the learner's notebook is connected to the bin (relayhub.py), and the bin's
                        share of the server (limits.py): what it keeps and which limits it hit
    /api/export.csv     every learner's events in one table, with a `learner` column
    /api/export.json    every learner's events in full, each with a `learner` field
    /handout.html       the printable handout (every learner's secret: it stays behind the admin token)

Each further section of the page is a function of its own that adds its routes, and a script of its own:

    gradebook.py        who is where and who is stuck (/api/progress), the gradebook (/api/gradebook.csv),
                        and the projector's view (/projector)
    room.py             running the room: reset, add and rotate a learner (POST /api/learners...), the one
                        part of the dashboard that changes anything
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, request

from .._event import SUMMARY
from .._receiving.api import download, problem
from .._receiving.app import StrictJSON
from .._receiving.export import csv_table, json_objects
from .._receiving.guard import guard
from .._receiving.inspector import POLICY, SAFE_HEADERS, static_page
from .._version import __version__
from .gradebook import last_activity, progress_routes
from .handout import POLICY as HANDOUT_POLICY
from .room import room_routes

STATIC = Path(__file__).parent / "static"
EXPORTS = {"json": "application/json", "csv": "text/csv"}


def dashboard_app(server) -> Flask:
    """The dashboard's app over a ClassServer's bins and challenges."""
    app = Flask(__name__)
    app.json = StrictJSON(app)
    # Addressed to an IP address, localhost or an allowed name; no other sites. The admin token in its path is the
    # instructor's capability, so it answers the instructor on any machine.
    guard(app, server.allowed_hosts, owner_by_path=True)

    static_page(app, STATIC, "dashboard")

    @app.after_request
    def protect(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", POLICY + "'none'")  # the handout has its own
        response.headers.update(SAFE_HEADERS)  # no-referrer above all: the URL holds the admin token
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/api/class")
    def class_table():
        bins = server.bins  # one mapping: a learner added or rotated meanwhile replaces it, never changes it
        tallies = {token: one.store.tally() for token, one in bins.items()}
        scores = server.challenges.latest()
        newest = {one.learner.name: tallies[token]["last_activity"] for token, one in bins.items()}
        latest = last_activity(server, newest)
        learners = []
        for token, one in bins.items():
            name = one.learner.name
            learners.append({"name": name, "page": f"../../b/{token}/", **tallies[token],
                             "last_activity": latest.get(name),  # of any kind, events included
                             "challenge": scores.get(name), "limits": server.limits.report(token),
                             "relay": one.app.extensions["webhooklab"].relay.report()})  # fmt: skip
        return {"webhooklab": __version__, "learners": learners,
                "events": sum(row["received"] for row in learners)}  # fmt: skip

    @app.get("/api/export.<kind>")
    def export(kind: str):
        """Written bin by bin, a batch of events at a time, to a temporary file: a big class never sits in memory."""
        if kind not in EXPORTS:
            return problem(404, f"the class exports as csv or json, not {kind!r}", request.path)
        if kind == "csv":
            text = csv_table(["learner", *SUMMARY], ({"learner": one.learner.name, **row}
                                                     for one in server.bins.values() for row in _summaries(one.store)))
        else:
            text = json_objects({"learner": one.learner.name, **event.to_dict()}
                                for one in server.bins.values() for event in one.store.iterate())  # fmt: skip
        return download(text, EXPORTS[kind], f"webhooklab-class.{kind}")

    @app.get("/handout.html")
    def handout():
        file = server.folder.path / "handout.html"
        if not file.exists():
            return problem(404, "no handout yet: it is written when the class server starts", request.path)
        return Response(file.read_text(encoding="utf-8"), content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": HANDOUT_POLICY})  # fmt: skip

    progress_routes(app, server, STATIC)
    room_routes(app, server)

    app.register_error_handler(404, lambda error: problem(
        404, "nothing is served here", request.path,
        "the dashboard is at ./, its JSON at ./api/class and ./api/progress, the projector's at ./projector"))  # fmt: skip
    return app


def _summaries(store, batch: int = 500):
    """A bin's rows of the events table, oldest first, read `batch` at a time and never a body."""
    after = 0
    while rows := store.summaries(after=after, limit=batch):
        yield from rows
        after = rows[-1]["id"]
