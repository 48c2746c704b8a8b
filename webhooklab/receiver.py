"""The webhook receiver: a Flask app that captures every request, served from a background thread."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from flask import Flask, Response, request

from . import __version__
from .errors import ReceiverError, WaitTimeout
from .event import identify, preview
from .handlers import Handler, Handlers
from .inspector import InspectorView, add_inspector, filters
from .server import BackgroundServer
from .providers import PROVIDERS, Explanation, Provider
from .store import EventStore

DEFAULT_MAX_BODY = 25 * 1024 * 1024  # GitHub's cap on a webhook payload
KEPT_OF_REJECTED = 64 * 1024  # how much of an over-limit body is kept, so a learner can see what it was
CHUNK = 1024 * 1024
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass
class Rule:
    """How one endpoint answers: `fail_first` requests get a 500, then every request gets `status`."""

    status: int = 200
    delay: float = 0.0
    fail_first: int = 0
    body: str | bytes | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    answered: int = 0  # requests answered under this rule so far

    def __post_init__(self):
        if not isinstance(self.status, int) or isinstance(self.status, bool) or not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code from 100 to 599, got {self.status!r}")
        if self.delay < 0 or self.fail_first < 0:
            raise ValueError(
                f"delay and fail_first cannot be negative (got delay={self.delay}, fail_first={self.fail_first})"
            )


class Responses:
    """The answer each endpoint gives; shared by the request threads, so guarded by a lock."""

    def __init__(self):
        self._rules: dict[str, Rule] = {}
        self._lock = threading.Lock()

    def set(self, endpoint: str, rule: Rule) -> None:
        with self._lock:
            self._rules[endpoint] = rule

    def rules(self) -> dict[str, Rule]:
        with self._lock:
            return dict(self._rules)

    def reset(self) -> None:
        """Every endpoint back to a plain 200."""
        with self._lock:
            self._rules.clear()

    def answer(self, endpoint: str) -> tuple[int, bytes, dict[str, str], float]:
        """(status, body, headers, delay) for the next request to `endpoint`."""
        with self._lock:
            rule = self._rules.setdefault(endpoint, Rule())
            rule.answered += 1
            attempt = rule.answered
        if attempt <= rule.fail_first:
            message = {
                "error": f"simulated failure {attempt} of {rule.fail_first}",
                "why": f"respond({endpoint!r}, fail_first={rule.fail_first}) makes the first "
                f"{rule.fail_first} request(s) fail; then it answers {rule.status}",
            }
            return 500, _json(message), {"Content-Type": "application/json"}, rule.delay
        body, content_type = _encode(rule.body, endpoint)
        return rule.status, body, {"Content-Type": content_type, **rule.headers}, rule.delay


class Verifiers:
    """The secret each endpoint checks signatures with, and the scheme to check them by.

    A secret given as a string (or a list, during rotation) is checked with the
    scheme of whichever provider the request's headers name; a Provider
    instance always checks with its own scheme.
    """

    def __init__(self, secrets: dict[str, str | list[str] | Provider] | None = None):
        self._secrets = dict(secrets or {})
        self._schemes: dict[tuple[str, str], Provider] = {}

    def explain(self, endpoint: str, provider: str | None, headers, body: bytes) -> Explanation | None:
        """Every step of checking this request with the endpoint's secret; None when it has no secret."""
        secret = self._secrets.get(endpoint)
        if secret is None:
            return None
        if isinstance(secret, Provider):
            scheme = secret
        elif provider not in PROVIDERS:
            return Explanation("webhook").fail("missing_header", (
                f"endpoint {endpoint!r} has a secret, but the request carries no signature header of "
                "Stripe, GitHub, Shopify or Standard Webhooks"
            ))  # fmt: skip
        else:
            try:
                scheme = self._schemes.get((endpoint, provider)) or PROVIDERS[provider](secret)
            except ValueError as error:  # a secret this scheme cannot use, such as a non-base64 whsec_
                return Explanation(PROVIDERS[provider].title).fail("no_matching_signature", str(error))
            self._schemes[endpoint, provider] = scheme
        return scheme.explain(body, headers)

    def check(self, endpoint: str, provider: str | None, headers, body: bytes) -> tuple[bool | None, str | None, str | None]:
        """(verified, reason, message); all None when the endpoint has no secret."""
        explanation = self.explain(endpoint, provider, headers, body)
        if explanation is None:
            return None, None, None
        return explanation.ok, explanation.reason, explanation.message


def create_app(
    store: EventStore,
    responses: Responses | None = None,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    verifiers: Verifiers | None = None,
    handlers: Handlers | None = None,
    reject_invalid: bool = False,
    on_stored=lambda: None,
) -> Flask:
    """The receiver's Flask app; `on_stored` is called after each event is committed and handled."""
    responses = responses or Responses()
    verifiers = verifiers or Verifiers()
    handlers = handlers or Handlers()
    app = Flask(__name__)

    @app.route("/hooks/<endpoint>", methods=METHODS, provide_automatic_options=False)
    @app.route("/hooks/<endpoint>/<path:rest>", methods=METHODS, provide_automatic_options=False)
    def capture(endpoint: str, rest: str = ""):
        received_at = datetime.now(timezone.utc)
        body, size = _read_body(request.stream, max_body)
        pairs = request.environ.get("webhooklab.raw_headers") or list(request.headers.items())
        note = None
        if size > max_body:
            note = f"rejected: {size} bytes is over the {_mb(max_body)} limit; the first {len(body)} bytes were kept"
            message = {
                "error": "payload too large",
                "limit_bytes": max_body,
                "received_bytes": size,
                "why": f"this receiver accepts bodies up to {_mb(max_body)} (GitHub's cap on a webhook "
                "payload); start it with Receiver(max_body=...) to change that",
            }
            status, answer, headers, delay = 413, _json(message), {"Content-Type": "application/json"}, 0.0
        else:
            status, answer, headers, delay = responses.answer(endpoint)
        provider, event_type, delivery_id = identify(pairs, body, request.content_type)
        verified, reason, verification = (None, None, None) if note else verifiers.check(endpoint, provider, pairs, body)
        if verified is False and reject_invalid:
            message = {"error": "signature check failed", "reason": reason, "why": verification}
            status, answer, headers, delay = 400, _json(message), {"Content-Type": "application/json"}, 0.0
        event_id = store.add(
            {
                "received_at": received_at.isoformat(),
                "endpoint": endpoint,
                "method": request.method,
                "path": request.path,
                "query": request.environ.get("QUERY_STRING", ""),
                "headers": pairs,
                "body": body,
                "content_type": request.content_type,
                "size": size,
                "client": f"{request.remote_addr}:{request.environ.get('REMOTE_PORT', '')}",
                "status": status,
                "response_headers": list(headers.items()),
                "response_body": answer,
                "provider": provider,
                "event_type": event_type,
                "delivery_id": delivery_id,
                "preview": preview(body, request.headers.get("Content-Encoding")),
                "note": note,
                "verified": verified,
                "reason": reason,
                "verification": verification,
            }
        )
        if not note and handlers.wanted(endpoint, event_type):
            failure = handlers.run(store.get(event_id))
            if failure:
                status, headers = 500, {"Content-Type": "application/json"}
                answer = _json({"error": f"handler {failure.handler} raised {failure.error}", "event": event_id})
                store.set_response(event_id, status, answer, note=f"handler {failure.handler} raised {failure.error}")
        on_stored()
        if delay:
            time.sleep(delay)  # a slow handler: the event is already stored, the answer comes late
        return Response(answer, status=status, headers=headers)

    @app.get("/api/events")
    def list_events():
        """Summaries, oldest first; newest=1 gives the last `limit` newest first. Filters as the inspector's."""
        try:
            after = int(request.args.get("after", 0))
            limit = int(request.args["limit"]) if "limit" in request.args else None
        except ValueError:
            return _problem(400, "after and limit must be whole numbers", request.query_string.decode())
        chosen = filters(request.args)
        newest = request.args.get("newest") in ("1", "true")
        return {
            "events": store.summaries(after=after, limit=limit, newest=newest, **chosen),
            "total": store.count(**chosen),
        }

    @app.get("/api/events/<int:event_id>")
    def one_event(event_id: int):
        return store.get(event_id).to_dict()

    @app.get("/api")
    def index():
        return {
            "webhooklab": __version__,
            "send webhooks to": request.host_url + "hooks/<endpoint>",
            "captured events": request.host_url + "api/events",
            "inspector": request.host_url,
        }

    add_inspector(app, store, responses, verifiers, Rule)

    @app.errorhandler(LookupError)
    def missing_event(error):
        return _problem(404, str(error), request.path)

    @app.errorhandler(404)
    def not_found(error):
        return _problem(
            404,
            "nothing is served here",
            request.path,
            "webhooks go to /hooks/<endpoint> (any name); the inspector is at /, the JSON API at /api",
        )

    return app


class Receiver(BackgroundServer):
    """A webhook receiver running in a background thread of this process.

    >>> rx = Receiver().start()            # 127.0.0.1 and a free port
    >>> rx.url("shop")                     # give this URL to the sender
    >>> rx.wait_for(1); rx.events()        # block until a request lands; see it as a table
    >>> rx.stop()

    Every request under /hooks/ is stored before it is answered, whatever its
    body. `db=` keeps the events in a SQLite file instead of in memory.
    `secrets={"shop": "whsec_..."}` verifies each endpoint's signatures and fills
    the table's `verified` and `reason` columns; a failed check never stops an
    event from being stored, and `reject_invalid=True` answers it with a 400
    that names the reason. `ssl_context=(certificate, key)` serves HTTPS.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = DEFAULT_MAX_BODY,
        secrets: dict[str, str | list[str] | Provider] | None = None,
        reject_invalid: bool = False,
        ssl_context=None,
    ):
        self.max_body = max_body
        self.store = EventStore(db)
        self.responses = Responses()
        self._arrived = threading.Condition()
        self._listeners: list = []
        self.handlers = Handlers()
        app = create_app(
            self.store, self.responses, max_body=max_body, verifiers=Verifiers(secrets), handlers=self.handlers,
            reject_invalid=reject_invalid, on_stored=self._notify,
        )  # fmt: skip
        super().__init__(app, host=host, port=port, ssl_context=ssl_context)

    def stop(self) -> None:
        """Stop serving and free the port; the captured events stay readable."""
        super().stop()
        with self._arrived:
            self._arrived.notify_all()  # wake anyone still in wait_for

    def close(self) -> None:
        """Stop if running and close the event store."""
        if self.running:
            self.stop()
        self.store.close()

    def url(self, endpoint: str = "default") -> str:
        """The URL to give a sender: any name is an endpoint, and each is captured separately."""
        return f"{self.base_url}/hooks/{quote(endpoint, safe='')}"

    # -- behaviour -------------------------------------------------------------------

    def respond(
        self,
        endpoint: str,
        status: int = 200,
        *,
        delay: float = 0.0,
        fail_first: int = 0,
        body: str | bytes | dict | list | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Choose how `endpoint` answers from now on: a status, a slow reply, or N failures first.

        rx.respond("shop", status=500)     # every request fails
        rx.respond("shop", delay=12)       # answer after 12 s: longer than GitHub's 10 s timeout
        rx.respond("shop", fail_first=3)   # three 500s, then 200: watch the sender retry
        rx.respond("shop")                 # back to a plain 200
        """
        self.responses.set(endpoint, Rule(status, float(delay), int(fail_first), body, dict(headers or {})))

    def on(self, event_type: str = "*", *, endpoint: str | None = None, dedupe: bool = False, background: bool = False):
        """Run a function for each verified event of a type, like a Zapier or n8n trigger.

        @rx.on("payment_intent.succeeded", dedupe=True)
        def fulfil(event):
            orders.ship(event.json["data"]["object"]["metadata"]["order"])

        `event_type` may be a pattern ("payment_intent.*", "*"). An exception
        becomes a 500 answer and a record in rx.errors. `dedupe=True` runs the
        function once per delivery id; `background=True` answers first.
        """

        def register(function):
            self.handlers.add(Handler(function, event_type, endpoint, dedupe, background))
            return function

        return register

    def inspector(self, *, height: int = 600):
        """The web inspector of this receiver: a link, and the live page embedded in the notebook."""
        return InspectorView(self.base_url + "/", height)

    @property
    def errors(self) -> list:
        """What handlers raised, newest last."""
        return self.handlers.errors

    # -- reading events --------------------------------------------------------------

    def wait_for(self, n: int = 1, *, timeout: float = 5.0, endpoint: str | None = None) -> list:
        """Block until at least `n` events are stored (for one endpoint, if given) and return them.

        Woken by each arrival, so it returns as soon as the n-th event is committed.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while (count := self.store.count(endpoint)) < n:
                if not self.running:
                    raise ReceiverError(
                        f"waiting for {n} event(s) but only {count} arrived, and the receiver is not "
                        "running, so no more can arrive. Call rx.start() first"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    where = f" at {self.url(endpoint)}" if endpoint else ""
                    raise WaitTimeout(
                        f"waited {timeout:g} s for {n} event(s){where}, but {count} arrived. "
                        f"Is the sender pointed at {self.url(endpoint or '<endpoint>')}?"
                    )
                self._arrived.wait(remaining)
        return self.store.list(endpoint)

    def events(self, endpoint: str | None = None):
        """A pandas DataFrame, one row per captured request, indexed by event id."""
        return self.store.frame(endpoint)

    def event(self, event_id: int = -1):
        """One full record (headers, raw body, parsed JSON, the answer given); -1 is the newest."""
        return self.store.get(event_id)

    def clear(self) -> None:
        """Forget every captured event (ids are not reused)."""
        self.store.clear()

    def listen(self, callback) -> None:
        """Call `callback()` after each event is stored (from the server's thread: keep it quick)."""
        self._listeners.append(callback)

    def unlisten(self, callback) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self) -> None:
        with self._arrived:
            self._arrived.notify_all()
        for callback in list(self._listeners):
            callback()

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        errors = f", {len(self.errors)} handler error(s)" if self.errors else ""
        return f"<Receiver {where}, {self.store.count()} events{errors}>"


def _read_body(stream, limit: int) -> tuple[bytes, int]:
    """Read the whole body; past `limit`, keep only its start but drain the rest.

    Draining lets the sender finish writing and read our 413, instead of
    seeing the connection reset under it.
    """
    body, size = bytearray(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if len(body) <= limit:
            body += chunk[: limit + 1 - len(body)]
    if size > limit:
        del body[min(KEPT_OF_REJECTED, limit) :]
    return bytes(body), size


def _encode(body, endpoint: str) -> tuple[bytes, str]:
    """The configured answer as bytes and a content type; by default a small JSON acknowledgement."""
    if body is None:
        return _json({"received": True, "endpoint": endpoint}), "application/json"
    if isinstance(body, (dict, list)):
        return _json(body), "application/json"
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return bytes(body), "application/octet-stream"


def _json(value) -> bytes:
    return json.dumps(value).encode("utf-8")


def _problem(status: int, error: str, arrived: str, hint: str | None = None) -> tuple[dict, int]:
    problem = {"error": error, "arrived": arrived}
    if hint:
        problem["hint"] = hint
    return problem, status


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"
