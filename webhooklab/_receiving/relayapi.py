"""A bin's relay calls: the relay asks for requests, answers them, and says goodbye (relayhub.py does the rest).

    GET    api/relay?session=<id>&wait=<s>   the requests waiting for the notebook, or (held) the next ones
    POST   api/relay/<id>?session=<id>       the notebook's answer to one: status, headers, body, its verdict
    DELETE api/relay?session=<id>            goodbye: the bin answers by its own rules again

Each needs the X-Webhooklab header, as every change to a bin does; an answer is checked before it is
passed on (a status, headers without line breaks, base64), and its body is passed on up to MAX_ANSWER.
"""

from __future__ import annotations

import base64
import json

from flask import Response, current_app, request

from .relayhub import JSON, MAX_ANSWER, MAX_WAITING, RELAY_WAIT, relay_problem

MAX_POST = 2 * MAX_ANSWER  # base64 and JSON around an answer's body


def add_relay_routes(app) -> None:
    """GET, DELETE api/relay and POST api/relay/<id>: the relay's calls (see the module's docstring)."""

    def hub_and_session():
        parts = current_app.extensions["webhooklab"]
        session = request.args.get("session", "")
        if not 8 <= len(session) <= 64 or not session.replace("-", "").isalnum():
            return parts, None, _answer(400, relay_problem(
                "a relay names its session", f"session={session[:80]!r}: 8 to 64 letters, digits and dashes, "
                "as `webhooklab relay` and wl.workshop_receiver() send"))  # fmt: skip
        return parts, session, None

    @app.route("/api/relay", methods=["GET", "DELETE"])
    def relay_poll():
        parts, session, refused = hub_and_session()
        if refused:
            return refused
        if request.method == "DELETE":
            left = parts.relay.leave(session)
            return {"left": left}
        try:
            wait = min(max(float(request.args.get("wait", RELAY_WAIT)), 0.0), RELAY_WAIT)
        except ValueError:
            wait = RELAY_WAIT
        said = request.args.get("holding")  # absent: a relay that does not say what it holds
        holding = None if said is None else frozenset(said.split(",")[:MAX_WAITING])
        deferred, status, body = parts.relay.poll(session, wait, holding)
        if deferred is not None:
            if "webhooklab.defer" in request.environ:
                request.environ["webhooklab.defer"] = deferred
            else:  # another WSGI server: this worker waits
                status, _, body = deferred.wait() or (status, None, body)
        return _answer(status, body)

    @app.post("/api/relay/<job>")
    def relay_answer(job: str):
        parts, session, refused = hub_and_session()
        if refused:
            return refused
        answer, wrong = _read_answer(request)
        if wrong:
            return _answer(400, relay_problem("an answer is JSON: {\"status\": 200, \"headers\": [[name, value]], "
                                         "\"body\": \"<base64>\", \"verified\": true, false or null}", wrong))  # fmt: skip
        event, outcome = parts.relay.answer(session, job, answer["status"], answer["headers"], answer["body"])
        if event is None:
            return _answer(404, relay_problem("no such request waits", outcome))
        if "verified" in answer:  # first: whoever waits for the answer's status finds its verdict too
            parts.store.set_verdict(event, answer["verified"], answer.get("reason"))
        parts.store.set_response(event, answer["status"], dict(answer["headers"]), answer["body"][:MAX_ANSWER],
                                 note=f"answered by the learner's notebook; {outcome}"
                                 if outcome != "answered" else "answered by the learner's notebook")  # fmt: skip
        return {"stored": True, "outcome": outcome}


def _read_answer(request) -> tuple[dict, str | None]:
    if (request.content_length or 0) > MAX_POST:
        return {}, f"at most {MAX_POST} bytes, got {request.content_length}"
    try:
        answer = json.loads(request.get_data())
        status, headers = answer["status"], answer["headers"]
        body = base64.b64decode(answer.get("body", ""), validate=True)
    except (ValueError, KeyError, TypeError) as error:
        return {}, f"{type(error).__name__}: {error}"[:300]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return {}, f"status must be a whole number from 100 to 599, got {status!r}"[:300]
    if not isinstance(headers, list) or not all(isinstance(pair, list) and len(pair) == 2 and
                                                all(isinstance(part, str) for part in pair) for pair in headers):  # fmt: skip
        return {}, "headers must be a list of [name, value] pairs of strings"
    if any("\r" in part or "\n" in part for pair in headers for part in pair):
        return {}, "a header name or value holds a line break"
    verdict = {}
    if "verified" in answer:
        if answer["verified"] not in (True, False, None):
            return {}, f"verified must be true, false or null, got {answer['verified']!r}"[:300]
        reason = answer.get("reason")
        verdict = {"verified": answer["verified"], "reason": reason[:500] if isinstance(reason, str) else None}
    return {"status": status, "headers": [tuple(pair) for pair in headers], "body": body, **verdict}, None


def _answer(status: int, body: bytes) -> Response:
    return Response(body, status=status, headers=JSON)
