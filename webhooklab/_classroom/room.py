"""Running the room from the dashboard: a learner's bin emptied, a learner added, a learner's URL and secret renewed.

    POST /api/learners         {"name": "Ada"}   add a learner while the class runs (ClassServer.add)
    POST /api/learners/reset   {"name": "Ada"}   empty their bin; their URL stays (ClassServer.reset)
    POST /api/learners/rotate  {"name": "Ada"}   a new URL and signing secret, the old URL a 404 (ClassServer.rotate)

Each is a change: the dashboard's page sends the X-Webhooklab header from its own origin (guard.py).
An answer names the learner and their bin URL, and never holds a secret whole: the new one is on the handout.
"""

from __future__ import annotations

import json

from flask import request

from .._checks import got
from .._errors import UsageError
from .._receiving.api import problem
from .._redact import mask

MAX_BODY = 1024  # bytes: a name (80 characters at most) in JSON


def room_routes(app, server) -> None:
    """The dashboard's room section: three changes, each one call of the ClassServer."""

    @app.post("/api/learners")
    def add():
        return _change(server, "add", 201)

    @app.post("/api/learners/<action>")
    def change(action: str):
        if action not in ("reset", "rotate"):
            return problem(404, f"a learner is reset or rotated, not {action[:40]!r}", request.path,
                           "POST api/learners/reset or api/learners/rotate with {\"name\": ...}")  # fmt: skip
        return _change(server, action, 200)


def _change(server, action: str, status: int):
    data = request.stream.read(MAX_BODY + 1)
    arrived = data[:200].decode("utf-8", "replace")
    try:
        body = json.loads(data) if len(data) <= MAX_BODY else f"more than {MAX_BODY} bytes"
    except ValueError as error:
        body = f"not JSON ({error})"
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        return problem(400, f'the body is {{"name": "<the learner\'s name>"}} in JSON, got {got(body)[:100]}', arrived,
                       "the dashboard's buttons send this; from a script, send it with X-Webhooklab: 1")  # fmt: skip
    try:
        learner = getattr(server, action)(name)
    except UsageError as error:  # no such learner, a name taken or unusable, a full class
        return problem(400, str(error), arrived)
    return {"name": learner.name, "action": action, "bin_url": server.bin_url(learner),
            "secret": mask(learner.secret), "handout": "handout.html"}, status
