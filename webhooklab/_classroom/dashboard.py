"""The instructor's dashboard, mounted at /teacher/<admin>/: everyone's bins at a glance, and class exports.

    /                   the live page (static files in static/, strict CSP, relative URLs)
    /api/class          per learner: received, verified, failed signatures, duplicates, last activity,
                        the latest challenge score and its failing scenarios, a link to the bin's page
    /api/export.csv     every learner's events in one table, with a `learner` column
    /api/export.json    every learner's events in full, each with a `learner` field
    /handout.html       the printable handout (every learner's secret: it stays behind the admin token)

It only reads: it changes nothing in any bin.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from flask import Flask, Response, request, send_from_directory

from .._api import problem
from .._event import SUMMARY
from .._export import _cell
from .._guard import guard
from .._inspector import POLICY
from .._version import __version__

STATIC = Path(__file__).parent / "static"
EXPORTS = {"json": "application/json", "csv": "text/csv"}


def dashboard_app(server) -> Flask:
    """The dashboard's app over a ClassServer's bins and challenges."""
    app = Flask(__name__)
    guard(app, server.allowed_hosts)  # addressed to an IP address, localhost or an allowed name; no other sites

    @app.after_request
    def protect(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", POLICY + "'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the admin token
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index():
        return send_from_directory(STATIC, "index.html")

    @app.get("/dashboard/<path:name>")
    def static_file(name: str):
        return send_from_directory(STATIC, name, max_age=0)

    @app.get("/favicon.ico")
    def no_icon():
        return "", 204

    @app.get("/api/class")
    def class_table():
        scores = server.challenges.latest()
        learners = []
        for token, one in server.bins.items():
            name = one.learner.name
            learners.append({"name": name, "page": f"../../b/{token}/", **one.store.tally(),
                             "challenge": scores.get(name)})  # fmt: skip
        return {"webhooklab": __version__, "learners": learners,
                "events": sum(row["received"] for row in learners)}  # fmt: skip

    @app.get("/api/export.<kind>")
    def export(kind: str):
        if kind not in EXPORTS:
            return problem(404, f"the class exports as csv or json, not {kind!r}", request.path)
        if kind == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, ["learner", *SUMMARY])
            writer.writeheader()
            for one in server.bins.values():
                for row in one.store.summaries():
                    writer.writerow({key: _cell(value) for key, value in {"learner": one.learner.name, **row}.items()})
            text = out.getvalue()
        else:
            text = json.dumps([{"learner": one.learner.name, **event.to_dict()}
                               for one in server.bins.values() for event in one.store.list()], indent=1)  # fmt: skip
        return Response(text, content_type=EXPORTS[kind],
                        headers={"Content-Disposition": f"attachment; filename=webhooklab-class.{kind}"})  # fmt: skip

    @app.get("/handout.html")
    def handout():
        file = server.folder.path / "handout.html"
        if not file.exists():
            return problem(404, "no handout yet: it is written when the class server starts", request.path)
        return Response(file.read_text(encoding="utf-8"), content_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})  # fmt: skip

    app.register_error_handler(404, lambda error: problem(
        404, "nothing is served here", request.path, "the dashboard is at ./, its JSON at ./api/class"))  # fmt: skip
    return app
