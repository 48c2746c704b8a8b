"""The webhook receiver: a Flask app that captures every request, served from a background thread."""

from __future__ import annotations

import json
import math
import numbers
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

from flask import Flask, Response, request

from . import __version__
from .checks import endpoint_name, got, header_fields, seconds, whole
from .errors import ReceiverError, UsageError, WaitTimeout
from .event import MAX_DECODED_BYTES, decompress, identify, preview
from .handlers import Handler, Handlers
from .guard import guard
from .inspector import InspectorView, add_inspector, filters, query_int
from .server import DEFAULT_MAX_BODY, BackgroundServer
from .providers import PROVIDERS, Explanation, Provider
from .store import EventStore

KEPT_OF_REJECTED = 64 * 1024  # how much of an over-limit body is kept, so a learner can see what it was
CHUNK = 1024 * 1024
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@dataclass
class Rule:
    """How one endpoint answers: `fail_first` requests get a 500, then every request gets `status`.

    Every value is checked here, when the rule is made, so one the receiver
    could not send is a UsageError in the cell that set it, not a 500 at the
    next request.
    """

    # Each waiting request holds one of the server's threads, and every sender has long given up
    # (GitHub after 10 s): an hour is far more than any lesson needs.
    MAX_DELAY: ClassVar[float] = 3600.0

    status: int = 200
    delay: float = 0.0
    fail_first: int = 0
    body: str | bytes | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    answered: int = 0  # requests answered under this rule so far

    def __post_init__(self):
        status = whole(self.status, "status", "an HTTP status code from 100 to 599")
        if not 100 <= status <= 599:
            raise UsageError(
                f"status must be an HTTP status code from 100 to 599, got {status}: "
                "2xx means received, 3xx redirected, 4xx the request was wrong, 5xx the receiver failed"
            )
        self.status = status
        self.delay = seconds(self.delay, "delay", ": how long to wait before answering, 0 for at once")
        if self.delay > self.MAX_DELAY:
            raise UsageError(
                f"delay can be at most {self.MAX_DELAY:g} s (an hour), got {self.delay:g}: every sender has given "
                "up long before that (GitHub waits 10 s), and each waiting request holds one of the receiver's threads"
            )
        self.fail_first = whole(self.fail_first, "fail_first", "a whole number of requests (0 or more)")
        if self.fail_first < 0:
            raise UsageError(
                f"fail_first cannot be negative, got {self.fail_first}: "
                "it is how many requests get a 500 before the real answer"
            )
        _encode(self.body, "endpoint")  # raises if this body could not be sent
        self.headers = header_fields(self.headers)


class Responses:
    """The answer each endpoint gives; shared by the request threads, so guarded by a lock."""

    def __init__(self):
        self._rules: dict[str, Rule] = {}
        self._lock = threading.Lock()

    def set(self, endpoint: str, rule: Rule) -> None:
        if not isinstance(rule, Rule):
            raise UsageError(f"a response rule must be a Rule(...), got {got(rule)}")
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
        # Header names are case-insensitive: a rule's "content-type" replaces the default, never doubles it.
        chosen = any(name.lower() == "content-type" for name in rule.headers)
        return rule.status, body, {**({} if chosen else {"Content-Type": content_type}), **rule.headers}, rule.delay


class Verifiers:
    """The secret each endpoint checks signatures with, and the scheme to check them by.

    A secret given as a string (or a list, during rotation) is checked with the
    scheme of whichever provider the request's headers name; a Provider
    instance always checks with its own scheme.
    """

    def __init__(self, secrets: dict[str, str | list[str] | Provider] | None = None):
        if secrets is not None and not isinstance(secrets, Mapping):
            raise UsageError(
                "secrets must be a dict of endpoint name to secret, such as {'shop': 'whsec_...'}, "
                f"got {got(secrets)}"
            )
        for endpoint, secret in (secrets or {}).items():
            endpoint_name(endpoint, "each key of secrets")
            usable = isinstance(secret, Provider) or (isinstance(secret, str) and secret) or (
                isinstance(secret, (list, tuple)) and secret and all(isinstance(s, str) and s for s in secret)
            )  # fmt: skip
            if not usable:
                unset = secret is None or isinstance(secret, str)
                raise UsageError(
                    f"the secret for endpoint {endpoint!r} must be a non-empty str, a list of them (while rotating) "
                    f"or a provider such as Stripe('whsec_...'), got {got(secret)}"
                    + (": is it read from an environment variable that is not set?" if unset else "")
                )
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
        """(verified, reason, message); all None when the endpoint has no secret. Never raises: no event is lost."""
        try:
            explanation = self.explain(endpoint, provider, headers, body)
        except Exception as error:  # the schemes do not raise; this keeps the event should one ever do
            return False, "malformed_header", f"the signature could not be checked: {type(error).__name__}: {error}"
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
    allowed_hosts=(),
    show_expected: bool = True,
    on_stored=lambda: None,
) -> Flask:
    """The receiver's Flask app; `on_stored` is called after each event is committed and handled."""
    responses = responses or Responses()
    verifiers = verifiers or Verifiers()
    handlers = handlers or Handlers()
    app = Flask(__name__)
    guard(app, allowed_hosts)

    @app.before_request
    def refuse_rejected():
        """A request the HTTP layer refused is recorded at a webhook endpoint, and only answered elsewhere."""
        rejected = request.environ.get("webhooklab.rejected")
        if rejected and not request.path.startswith("/hooks/"):
            return _problem(rejected[0], "the request is not valid HTTP", request.path, rejected[1])
        return None

    @app.route("/hooks/<endpoint>", methods=METHODS, provide_automatic_options=False)
    @app.route("/hooks/<endpoint>/<path:rest>", methods=METHODS, provide_automatic_options=False)
    def capture(endpoint: str, rest: str = ""):
        received_at = datetime.now(timezone.utc)
        body, size = _read_body(request.stream, max_body)
        size = max(size, request.environ.get("webhooklab.body_size", 0))  # the server keeps only max_body + 1
        pairs = request.environ.get("webhooklab.raw_headers") or list(request.headers.items())
        refused = None  # why the receiver refused it: then it is recorded, but not checked or handled
        rejected = request.environ.get("webhooklab.rejected")  # (status, why): the HTTP layer refused it
        if rejected:
            status, why = rejected
            refused = f"rejected by the HTTP layer: {why}"
            message = {"error": "the request is not valid HTTP", "status": status, "why": why}
            answer, headers, delay = _json(message), {"Content-Type": "application/json"}, 0.0
        elif size > max_body:
            body = body[: min(KEPT_OF_REJECTED, max_body)]
            refused = f"rejected: {size} bytes is over the {_mb(max_body)} limit; the first {len(body)} bytes were kept"
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
        encoding = request.headers.get("Content-Encoding")
        decoded, complete = decompress(body, encoding)  # once, and never past the limit
        note = refused
        if not complete:
            note = refused or (f"its {encoding} body decodes to more than {_mb(MAX_DECODED_BYTES)} (a decompression "
                               "bomb, or an event far larger than any provider sends): kept as received, not decoded")  # fmt: skip
        provider, event_type, delivery_id = identify(pairs, decoded if complete else b"", request.content_type)
        verified, reason, verification = (None, None, None) if refused else verifiers.check(endpoint, provider, pairs, body)
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
                "preview": preview(decoded) if complete else f"<{encoding} body of more than {_mb(MAX_DECODED_BYTES)} decoded>",
                "note": note,
                "verified": verified,
                "reason": reason,
                "verification": verification,
            }
        )
        if not refused and handlers.wanted(endpoint, event_type):
            failure = handlers.run(store.get(event_id))
            if failure:
                status, headers = 500, {"Content-Type": "application/json"}
                answer = _json({"error": f"handler {failure.handler} raised {failure.error}", "event": event_id})
                store.set_response(event_id, status, list(headers.items()), answer,
                                   note=f"handler {failure.handler} raised {failure.error}")  # fmt: skip
        on_stored()
        if delay:
            time.sleep(delay)  # a slow handler: the event is already stored, the answer comes late
        return Response(answer, status=status, headers=headers)

    @app.get("/api/events")
    def list_events():
        """Summaries, oldest first; newest=1 gives the last `limit` newest first. Filters as the inspector's."""
        after = query_int(request.args.get("after", "0"), "after")
        limit = query_int(request.args["limit"], "limit") if "limit" in request.args else None
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

    add_inspector(app, store, responses, verifiers, Rule, show_expected=show_expected)

    @app.errorhandler(LookupError)
    def missing_event(error):
        return _problem(404, str(error), request.path)

    @app.errorhandler(UsageError)
    def bad_input(error):
        return _problem(400, str(error), request.full_path.rstrip("?"))

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

    The page at / and the API under /api answer only the local user: requests
    addressed to an IP address, localhost or one of `allowed_hosts`, and
    changes only from the page itself. `show_expected=False` hides the expected
    signatures in the page's explanations (they are never shown to another machine).
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
        allowed_hosts: list[str] | tuple[str, ...] = (),
        show_expected: bool = True,
    ):
        super().__init__(None, host=host, port=port, ssl_context=ssl_context, max_body=max_body)  # checks them
        if not isinstance(reject_invalid, bool):
            raise UsageError(f"reject_invalid must be True or False, got {got(reject_invalid)}")
        verifiers = Verifiers(secrets)
        self.store = EventStore(db)  # opened only once every argument has been checked
        self.responses = Responses()
        self._arrived = threading.Condition()
        self._listeners: list = []
        self.handlers = Handlers()
        self.app = create_app(
            self.store, self.responses, max_body=self.max_body, verifiers=verifiers, handlers=self.handlers,
            reject_invalid=reject_invalid, allowed_hosts=allowed_hosts, show_expected=show_expected,
            on_stored=self._notify,
        )  # fmt: skip

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
        """The URL to give a sender: any name is an endpoint, and each is captured separately.

        A name is one part of the URL path, so it cannot be empty or contain '/'.
        """
        endpoint = endpoint_name(endpoint)
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

        `status` is 100 to 599; `delay` is seconds, 0 to 3600; `fail_first` a whole number.
        `body` is None (a small JSON acknowledgement), str, bytes, or a dict or list (sent
        as JSON); `headers` are sent with every answer but the simulated failures.
        A value that cannot be sent raises a UsageError here, and the rule in force stays.
        """
        endpoint = endpoint_name(endpoint)
        self.responses.set(endpoint, Rule(status, delay, fail_first, body, headers))

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

    def wait_for(self, n: int = 1, *, timeout: float | None = 5.0, endpoint: str | None = None) -> list:
        """Block until at least `n` events are stored (for one endpoint, if given) and return them.

        Woken by each arrival, so it returns as soon as the n-th event is committed.
        `n` is a whole number, 0 or more. `timeout` is seconds (finite, 0 or more)
        before a WaitTimeout; None waits as long as it takes, which stopping the
        receiver, or interrupting the kernel, still ends.
        """
        n = whole(n, "n", "a whole number of events (0 or more)")
        if n < 0:
            raise UsageError(f"n cannot be negative, got {n}: it is how many events to wait for")
        if timeout is not None:
            timeout = seconds(timeout, "timeout", ": how long to wait, or None to wait until the events arrive")
        if endpoint is not None:
            endpoint = endpoint_name(endpoint)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._arrived:
            while (count := self.store.count(endpoint)) < n:
                if not self.running:
                    raise ReceiverError(
                        f"waiting for {n} event(s) but only {count} arrived, and the receiver is not "
                        "running, so no more can arrive. Call rx.start() first"
                    )
                remaining = math.inf if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    where = f" at {self.url(endpoint)}" if endpoint else ""
                    pointed = self.url(endpoint) if endpoint else self.base_url + "/hooks/<endpoint>"
                    raise WaitTimeout(
                        f"waited {timeout:g} s for {n} event(s){where}, but {count} arrived. "
                        f"Is the sender pointed at {pointed}?"
                    )
                # A second at most: a long wait never overflows, and events that another process
                # writes to a shared db file are seen too.
                self._arrived.wait(min(remaining, 1.0))
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


def _encode(body, endpoint: str) -> tuple[bytes, str]:
    """The configured answer as bytes and a content type; by default a small JSON acknowledgement.

    A body that cannot be sent is a UsageError: Rule calls this when it is
    made, so the mistake shows in the cell that made it.
    """
    if body is None:
        return _json({"received": True, "endpoint": endpoint}), "application/json"
    if isinstance(body, (dict, list)):
        try:
            return json.dumps(body, allow_nan=False).encode("utf-8"), "application/json"
        except (TypeError, ValueError) as error:  # a value JSON has no form for, or a dict that contains itself
            raise UsageError(
                f"body {got(body)} cannot be sent as JSON: {error}. A JSON body may hold only dicts, lists, "
                "str, int, finite float, bool and None; convert the rest (str(...) for a date), or pass str or bytes"
            ) from None
    if isinstance(body, str):
        try:
            return body.encode("utf-8"), "text/plain; charset=utf-8"
        except UnicodeEncodeError as error:
            raise UsageError(
                f"body {got(body)} cannot be sent as UTF-8 text: {error.object[error.start]!r} at position "
                f"{error.start} is half of a surrogate pair, not a character. Pass bytes to send exact bytes"
            ) from None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body), "application/octet-stream"
    hint = ""
    if isinstance(body, numbers.Number) and not isinstance(body, bool):
        hint = f". To answer the text {body}, pass body={str(body)!r}"
    raise UsageError(
        f"body must be None (a small JSON acknowledgement), str (sent as UTF-8 text), bytes (sent as they are), "
        f"or a dict or list (sent as JSON), got {got(body)}{hint}"
    )


def _json(value) -> bytes:
    return json.dumps(value).encode("utf-8")


def _problem(status: int, error: str, arrived: str, hint: str | None = None) -> tuple[dict, int]:
    problem = {"error": error, "arrived": arrived}
    if hint:
        problem["hint"] = hint
    return problem, status


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"
