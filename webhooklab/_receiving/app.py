"""The receiver's Flask app: capture every request under /hooks/, store it once with its answer, then answer.

`create_app` puts the receiver's parts in `app.extensions["webhooklab"]`, where the
capture, the API (_receiving/api.py) and the page (_receiving/inspector/) read them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider

from .._event import MAX_DECODED_BYTES, MAX_SNIFF_BYTES, decompress, not_json_note, preview
from .._providers import identify
from .._providers.registry import handshake
from .api import REPLAYS_IN_FLIGHT, api, problem
from .guard import guard
from .handlers import Handlers
from .inspector import page
from .relayapi import add_relay_routes
from .relayhub import RelayHub, request_for_relay
from .rules import Responses, Rule, json_bytes
from .server import DEFAULT_MAX_BODY
from .spill import release_freed_memory
from .store import EventStore
from .urls import stored_url
from .verifiers import Verifiers

KEPT_OF_REJECTED = 64 * 1024  # how much of an over-limit body is kept, so a learner can see what it was
CHUNK = 1024 * 1024
LARGE = 1024 * 1024  # a body from which size the memory its request took is handed back once it is answered
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
JSON = {"Content-Type": "application/json"}
ARRIVAL = (("SERVER_PORT", ""), ("SCRIPT_NAME", ""), ("wsgi.url_scheme", "http"))  # what stored_url reads of the server


@dataclass
class Parts:
    """What the app works with; one per receiver."""

    store: EventStore
    responses: Responses = field(default_factory=Responses)
    verifiers: Verifiers = field(default_factory=Verifiers)
    handlers: Handlers = field(default_factory=Handlers)
    max_body: int = DEFAULT_MAX_BODY
    reject_invalid: bool = False
    show_expected: bool = True  # False hides expected signatures in the page (another machine never sees them)
    frame_ancestors: tuple[str, ...] = ()  # origins that may embed the page, besides the defaults of _links
    # A class server's bin (see _classroom/server.py): the token in its path is the owner's capability, so changes
    # come from any machine (still with the header, from the page's own origin) and expected digests are shown.
    owner_by_path: bool = False
    share_page: bool = False  # other machines may read the page and the API (never change anything)
    replay_to_self: bool = False  # a replay goes only to this receiver's own /hooks/ endpoints
    max_delay: float = Rule.MAX_DELAY  # the longest respond(delay=...) the API sets (a class server's is shorter)
    on_stored: Callable[[], None] = lambda: None  # called after each event is stored and handled
    relay: RelayHub | None = None  # a bin's relay to the learner's own receiver (relayhub.py)
    replays: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(REPLAYS_IN_FLIGHT))
    # Where signed requests arrive (port, scheme, mount point), as urls.stored_url reads them: with it, a stored
    # event's URL is rebuilt when its failed check is diagnosed later, by the rule capture checked it with.
    arrivals: dict = field(default_factory=dict)


class StrictJSON(DefaultJSONProvider):
    """Flask's JSON, but never NaN or Infinity, which no browser's JSON.parse reads: a page could not open it."""

    def dumps(self, obj, **options) -> str:
        return super().dumps(obj, **{**options, "allow_nan": False})


def create_app(store: EventStore, responses: Responses | None = None, *, allowed_hosts=(), **options) -> Flask:
    """The receiver's app over `store`; `options` are the other fields of Parts."""
    app = Flask(__name__)
    app.json = StrictJSON(app)
    app.extensions["webhooklab"] = parts = Parts(store, responses or Responses(), **options)
    store.diagnose = lambda event: parts.verifiers.diagnosis(event, stored_url(event, parts.arrivals))
    guard(app, allowed_hosts, owner_by_path=parts.owner_by_path, share_page=parts.share_page)
    app.register_blueprint(api)
    app.register_blueprint(page)
    app.before_request(_refuse_rejected)
    if parts.relay is not None:
        add_relay_routes(app)
    app.add_url_rule("/hooks/<endpoint>", view_func=capture, methods=METHODS, provide_automatic_options=False)
    app.add_url_rule("/hooks/<endpoint>/<path:rest>", view_func=capture, methods=METHODS,
                     provide_automatic_options=False)  # fmt: skip
    app.register_error_handler(LookupError, lambda error: problem(404, str(error), request.path))
    app.register_error_handler(404, lambda error: problem(
        404, "nothing is served here", request.path,
        "webhooks go to /hooks/<endpoint> (any name); the inspector is at /, the JSON API at /api",
    ))  # fmt: skip
    return app


def _refuse_rejected():
    """A request the HTTP layer refused is recorded at a webhook endpoint, and only answered elsewhere."""
    rejected = request.environ.get("webhooklab.rejected")
    if rejected and not request.path.startswith("/hooks/"):
        return problem(rejected[0], "the request is not valid HTTP", request.path, rejected[1])
    return None


def capture(endpoint: str, rest: str = ""):
    """Store the request with the answer it gets, run the handlers, then answer (late, if the rule says so)."""
    parts: Parts = current_app.extensions["webhooklab"]
    received_at = datetime.now(timezone.utc)
    body, size = _read_body(request.stream, parts.max_body)
    size = max(size, request.environ.get("webhooklab.body_size", 0))  # the server keeps only max_body + 1
    pairs = tuple(request.environ.get("webhooklab.raw_headers") or request.headers.items())
    refusal = _refusal(size, parts)
    relayed = refusal is None and parts.relay is not None and parts.relay.relaying
    if refusal or relayed:  # a relayed webhook is stored with the answer it gets if the notebook never answers
        status, answer, headers, delay, refused = refusal or (*parts.relay.waiting_answer(), JSON, 0.0, None)
    else:
        status, answer, headers, delay, refused = *parts.responses.answer(endpoint), None
    if size > parts.max_body:
        body = body[: min(KEPT_OF_REJECTED, parts.max_body)]
    decoded, sniffed = sniff(pairs, body, request.content_type, request.headers.get("Content-Encoding"), refused)
    provider = sniffed["provider"]
    url = None
    if parts.verifiers.checks(endpoint):
        url = request.url  # a scheme that signs the URL is handed it
        own = request.environ.get("werkzeug.proxy_fix.orig") or request.environ
        parts.arrivals = {key: own.get(key, default) for key, default in ARRIVAL}
    # A relayed webhook's verdict is the notebook's, once it answers: the bin's own secret is not what it checks with.
    unchecked = refused or relayed
    verified, reason, verification = (None, None, None) if unchecked else parts.verifiers.check(endpoint, provider, pairs,
                                                                                                body, url)  # fmt: skip
    if verified is False and parts.reject_invalid:
        status, answer, headers, delay = 400, json_bytes({"error": "signature check failed", "reason": reason,
                                                          "why": verification}), JSON, 0.0  # fmt: skip
    if verified and 200 <= status < 300:  # a handshake the endpoint answers as the provider asks (Slack's challenge)
        status, answer, headers = handshake(provider, decoded, request.content_type) or (status, answer, headers)
    event = parts.store.add(
        received_at=received_at, endpoint=endpoint, method=request.method, path=request.path,
        query=request.environ.get("QUERY_STRING", ""), header_pairs=pairs, body=body,
        content_type=request.content_type, size=size,
        client=f"{request.remote_addr}:{request.environ.get('REMOTE_PORT', '')}",
        status=status, response_header_pairs=tuple(headers.items()), response_body=answer,
        **sniffed, verified=verified, reason=reason, verification=verification,
    )  # fmt: skip
    if relayed:
        return _forward(parts, event)
    if not refused and parts.handlers.wanted(endpoint, event.event_type):
        failure = parts.handlers.run(event)
        if failure:
            raised = f"handler {failure.handler} raised {failure.error}"
            status, headers, answer = 500, JSON, json_bytes({"error": raised, "event": event.id})
            parts.store.set_response(event, status, headers, answer, note=raised)
    parts.on_stored()
    if delay:  # a slow handler: the event is already stored, the answer comes late
        if "webhooklab.hold" in request.environ:
            request.environ["webhooklab.hold"] = delay  # the server's event loop waits: no thread is held
        else:
            time.sleep(delay)  # under another WSGI server
    response = Response(answer, status=status, headers=headers)
    if size >= LARGE:
        response.call_on_close(release_freed_memory)  # once answered, when the request's copies are gone
    return response


def sniff(pairs, body: bytes, content_type: str | None, encoding: str | None, note: str | None = None):
    """(the decoded body, the fields capture works out from it): provider, event_type, delivery_id, preview, note.

    Worked out once, when a request is stored, by capture and by an import alike, so both fill the table the same way.
    `note` is a refusal already recorded; the decoded body is empty when it would be over MAX_DECODED_BYTES.
    """
    decoded, complete = decompress(body, encoding)  # once, and never past the limit
    if not complete:
        note = note or (f"its {encoding} body decodes to more than {_mb(MAX_DECODED_BYTES)} (a decompression "
                        "bomb, or an event far larger than any provider sends): kept as received, not decoded")  # fmt: skip
    if complete and not note and len(decoded) <= MAX_SNIFF_BYTES:
        note = not_json_note(decoded, content_type)
    provider, event_type, delivery_id = identify(pairs, decoded if complete else b"", content_type)
    shown = preview(decoded) if complete else f"<{encoding} body of more than {_mb(MAX_DECODED_BYTES)} decoded>"
    return decoded, {"provider": provider, "event_type": event_type, "delivery_id": delivery_id, "preview": shown,
                     "note": note}  # fmt: skip


def _forward(parts: Parts, event) -> Response:
    """Hand a stored webhook to the learner's notebook; the sender gets the notebook's answer (relayhub.py)."""
    parts.on_stored()
    forwarded = parts.relay.forward(event, request_for_relay(request.environ, event, _target()))
    if isinstance(forwarded, tuple):  # not forwarded: the notebook is not connected, or too much waits for it
        status, answer = forwarded
        parts.store.set_response(event, status, JSON, answer, note="not forwarded: the learner's notebook is not "
                                 "connected to this bin")  # fmt: skip
        return Response(answer, status=status, headers=JSON)
    status, answer = parts.relay.waiting_answer()
    if "webhooklab.defer" in request.environ:
        request.environ["webhooklab.defer"] = forwarded  # the event loop holds the answer, not this worker
    elif given := forwarded.wait():  # under another WSGI server
        status, headers, answer = given
        return Response(answer, status=status, headers=headers)
    return Response(answer, status=status, headers=JSON)


def _target() -> str:
    """The request's path and query below the receiver's mount point, as the sender wrote them."""
    raw = request.environ.get("REQUEST_URI") or request.environ.get("RAW_URI")
    mount = request.environ.get("SCRIPT_NAME", "")
    if raw and raw.startswith(mount + "/hooks/"):
        return raw[len(mount):]
    query = request.environ.get("QUERY_STRING", "")
    return quote(request.path) + (f"?{query}" if query else "")


def _refusal(size: int, parts: Parts) -> tuple[int, bytes, dict, float, str] | None:
    """(status, body, headers, delay, why) when the request is refused: invalid HTTP, or a body over the limit."""
    rejected = request.environ.get("webhooklab.rejected")  # (status, why): the HTTP layer refused it
    if rejected:
        status, why = rejected
        message = {"error": "the request is not valid HTTP", "status": status, "why": why}
        return status, json_bytes(message), JSON, 0.0, f"rejected by the HTTP layer: {why}"
    if size > parts.max_body:
        kept = min(KEPT_OF_REJECTED, parts.max_body)
        message = {
            "error": "payload too large",
            "limit_bytes": parts.max_body,
            "received_bytes": size,
            "why": f"this receiver accepts bodies up to {_mb(parts.max_body)} (GitHub's cap on a webhook "
            "payload); start it with Receiver(max_body=...) to change that",
        }
        why = f"rejected: {size} bytes is over the {_mb(parts.max_body)} limit; the first {kept} bytes were kept"
        return 413, json_bytes(message), JSON, 0.0, why
    return None


def _read_body(stream, limit: int) -> tuple[bytes, int]:
    """Read the whole body, keeping at most `limit` + 1 bytes but draining (and counting) the rest.

    Draining lets the sender finish writing and read our 413, instead of
    seeing the connection reset under it.
    """
    body, size = bytearray(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if len(body) <= limit:
            body += chunk[: limit + 1 - len(body)]
    return bytes(body), size


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"
