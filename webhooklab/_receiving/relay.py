"""The learner's side of a relay: every request that reaches a bin, forwarded to a program on this machine.

Like `stripe listen --forward-to` or smee's client, this side opens every connection (so it works
behind NAT, on a JupyterHub or Colab): it asks the bin for requests (relayhub.py holds the ask
until one arrives), sends each to a local URL exactly as it arrived (method, path, raw headers in
their order and case, body byte for byte) plus the headers a tunnel adds (X-Forwarded-For, -Host,
-Proto, -Prefix), and posts the local answer (status, headers, body, after any delay it took) back
to the bin, which hands it to the sender.

    relay = Relay("http://192.168.1.20:8000/b/<token>/", [Route("http://127.0.0.1:5000/webhooks")]).start()

Routes choose the local URL: by endpoint name, by event type (a pattern such as payment_intent.*),
else the default. A relay that loses the class server tries again, with waits up to RETRY_MAX; a
relay another one took over stops and says why (`status`).
"""

from __future__ import annotations

import atexit
import base64
import fnmatch
import http.client
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from .._errors import ReceiverError, UsageError
from .bounded import Deadline, fetch
from .deferred import HOP_BY_HOP
from .remote import bin_address

POLL_WAIT = 25  # seconds the bin holds an ask when no request waits (relayhub.RELAY_WAIT)
FORWARD_TIMEOUT = 90  # seconds a local program may take to answer: longer than any delay a bin allows
RETRY_MAX = 10.0  # seconds between tries once the class server cannot be reached
FORWARDERS = 8  # requests forwarded at once: one slow answer (respond(delay=...)) holds up no other
MAX_POLL = 48 * 1024 * 1024  # bytes of one ask's answer: a batch of requests, base64
STOP_WAIT = 15.0  # seconds stop() lets the requests in hand be answered before its goodbye
HEADER = {"X-Webhooklab": "1"}


@dataclass
class Route:
    """Where requests go: `url`; for requests to `endpoint` only, or of an `event_type` pattern only.

    `keep_path`: the request's own path (/hooks/<endpoint>/...) is kept below `url` (a receiver's base
    URL), instead of going to `url` itself (an app's webhook URL). `verdict`, if given, checks a
    request's signature as the local receiver does, so the bin shows the same verdict.
    """

    url: str
    endpoint: str | None = None
    event_type: str | None = None
    keep_path: bool = False
    verdict: Callable[[dict, bytes], tuple[bool | None, str | None]] | None = None

    def matches(self, request: dict) -> bool:
        if self.endpoint is not None and request.get("endpoint") != self.endpoint:
            return False
        return self.event_type is None or fnmatch.fnmatchcase(request.get("event_type") or "", self.event_type)


class Relay:
    """Forwards a bin's requests to `routes` on this machine until stopped (see the module's docstring)."""

    def __init__(self, bin_url: str, routes: list[Route], *, on_change: Callable[[str], None] | None = None):
        self.base_url, self.shown = bin_address(bin_url)
        self.routes = list(routes)
        self.session = secrets.token_hex(16)
        self.status = "not started"
        self.counts = {"forwarded": 0, "failed": 0}
        self._on_change = on_change or (lambda status: None)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(FORWARDERS, thread_name_prefix="webhooklab-relay")
        self.on_forward: Callable[[dict, int], None] = lambda request, status: None
        self._holding: set[str] = set()  # ids of requests received and not yet answered

    def start(self, *, check: bool = True) -> Relay:
        """Start forwarding in a daemon thread; with `check`, first make sure the bin answers (ReceiverError)."""
        if check:
            self._ask(wait=0)  # a typo, a server that is down, or another relay's bin: said here, not later
            self._set("connected")
        self._thread = threading.Thread(target=self._run, name="webhooklab-relay", daemon=True)
        self._thread.start()
        atexit.register(self.stop)  # a kernel shut down says goodbye; one that crashed is "not connected"
        return self

    def stop(self) -> None:
        """Stop, and say goodbye: the bin answers by its own rules again."""
        if self._stop.is_set():
            return
        self._stop.set()
        finishing = time.monotonic() + STOP_WAIT  # the requests in hand are answered first, as far as they can be
        while self._holding and time.monotonic() < finishing:
            time.sleep(0.02)
        try:
            fetch("DELETE", f"{self.base_url}/api/relay", params={"session": self.session}, headers=HEADER,
                  shown=self.shown, deadline=Deadline(10), limit=64 * 1024)  # fmt: skip
        except ReceiverError:
            pass  # the server is gone: it stops forwarding by itself
        self._pool.shutdown(wait=False, cancel_futures=True)
        atexit.unregister(self.stop)
        self._set("stopped")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def _set(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self._on_change(status)

    def _run(self) -> None:
        wait = 0.5
        while not self._stop.is_set():
            try:  # after a failure, a quick ask first: the status says "connected" as soon as it is
                requests = self._ask(POLL_WAIT if self.status == "connected" else 0)
            except TakenOver as why:
                if not self._stop.is_set():  # else it is this relay's own goodbye, answered
                    self._set(f"stopped: another relay took over this bin ({why})")
                self._stop.set()
                return
            except ReceiverError as error:
                self._set(f"reconnecting: {error}")
                self._stop.wait(wait)
                wait = min(wait * 2, RETRY_MAX)
                continue
            wait = 0.5
            self._set("connected")
            for request in requests:
                self._holding.add(str(request.get("id")))  # until answered: the bin hands it out again if not held
                try:
                    self._pool.submit(self._forward, request)
                except RuntimeError:  # stopped meanwhile: answered here, so its sender is not left waiting
                    self._forward(request)

    def _ask(self, wait: float) -> list[dict]:
        params = {"session": self.session, "wait": wait, "holding": ",".join(sorted(self._holding))}
        answer = fetch("GET", f"{self.base_url}/api/relay", params=params, headers=HEADER, shown=self.shown,
                       deadline=Deadline(wait + 15), limit=MAX_POLL)  # fmt: skip
        data = _json(answer.content)
        if answer.status == 409:
            raise TakenOver(data.get("why", "another relay serves the bin now"))
        if answer.status != 200 or not isinstance(data.get("requests"), list):
            raise ReceiverError(f"the class server answered {answer.status} to {self.shown}api/relay, not a list of "
                                f"requests: {answer.content[:200]!r}. Is this a webhooklab class server's bin?")  # fmt: skip
        return data["requests"]

    def _forward(self, request: dict) -> None:
        try:
            body = base64.b64decode(request["body"])
            route = next((route for route in self.routes if route.matches(request)), None)
            if route is None:
                status, headers, answer = 502, [("Content-Type", "text/plain")], (
                    f"no --forward-to for the endpoint {request.get('endpoint')!r} or the event type "
                    f"{request.get('event_type')!r}").encode()  # fmt: skip
            else:
                status, headers, answer = forward(route, request, body)
            result = {"status": status, "headers": [list(pair) for pair in headers],
                      "body": base64.b64encode(answer).decode("ascii")}  # fmt: skip
            if route is not None and route.verdict is not None:
                result["verified"], result["reason"] = route.verdict(request, body)
            self.counts["forwarded"] += 1
            self.on_forward(request, status)
        except Exception as error:  # a local program that is down, or a request we cannot rebuild
            self.counts["failed"] += 1
            result = {"status": 502, "headers": [["Content-Type", "text/plain"]],
                      "body": base64.b64encode(f"the relay could not reach the local program: {error}".encode()).decode()}  # fmt: skip
        for pause in (0.5, 2, None):
            try:
                fetch("POST", f"{self.base_url}/api/relay/{request['id']}", params={"session": self.session},
                      json=result, headers=HEADER, shown=self.shown, deadline=Deadline(30), limit=64 * 1024)  # fmt: skip
                break
            except ReceiverError:  # tried again, then given up: the sender gets the bin's 504, the bin keeps the request
                if pause is None or self._stop.wait(pause):
                    break
        self._holding.discard(str(request.get("id")))

    def __repr__(self) -> str:
        return f"<Relay {self.shown} -> {', '.join(route.url for route in self.routes)}: {self.status}>"


class TakenOver(Exception):
    """The bin answered 409: another relay serves it now."""


def forward(route: Route, request: dict, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one relayed request to the route's URL exactly as it arrived; the local answer, whole."""
    target = urlsplit(route.url)
    if target.scheme not in ("http", "https") or not target.hostname:
        raise ValueError(f"--forward-to is an http:// URL such as http://127.0.0.1:5000/webhooks, got {route.url!r}")
    path, _, query = request["path"].partition("?")
    if route.keep_path:
        path = target.path.rstrip("/") + path
    else:
        path = target.path or "/"
    if query:
        path += "?" + query
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = kind(target.hostname, target.port, timeout=FORWARD_TIMEOUT)
    try:
        connection.putrequest(request["method"], path, skip_host=True, skip_accept_encoding=True)
        for name, value in request["headers"]:
            if name.lower() not in HOP_BY_HOP:
                connection.putheader(name, value)
        for name, value in (("X-Forwarded-For", request.get("client")), ("X-Forwarded-Host", request.get("host")),
                            ("X-Forwarded-Proto", request.get("scheme")), ("X-Forwarded-Prefix", request.get("prefix"))):
            if value:
                connection.putheader(name, value)
        if body or request["method"] not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        answer = response.read(1024 * 1024)
        return response.status, response.getheaders(), answer
    finally:
        connection.close()


def parse_route(spec: str) -> Route:
    """`--forward-to` as typed: URL, ENDPOINT=URL, or type:PATTERN=URL."""
    key, equals, url = spec.partition("=")
    if not equals or "://" in key:
        key, url = "", spec
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise UsageError(f"--forward-to takes URL, ENDPOINT=URL or type:PATTERN=URL, where URL is an http:// URL "
                         f"such as http://127.0.0.1:5000/webhooks; got {spec!r}")  # fmt: skip
    if key.startswith("type:"):
        return Route(url, event_type=key[5:] or "*")
    return Route(url, endpoint=key or None)


def run(bin_url: str, specs: list[str]) -> int:
    """`webhooklab relay`: forward until Ctrl-C, a line per request."""
    routes = [parse_route(spec) for spec in specs]
    relay = Relay(bin_url, routes, on_change=lambda status: print(f"relay: {status}", flush=True))
    relay.on_forward = lambda request, status: print(
        f"{request['method']} {request['path']} ({request.get('event_type') or 'no type'}) -> {status}", flush=True)
    relay.start()
    for route in routes:
        which = route.endpoint and f"endpoint {route.endpoint}" or route.event_type and f"type {route.event_type}"
        print(f"  {which or 'everything else'} -> {route.url}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    relay.stop()
    return 0


def _json(content: bytes) -> dict:
    try:
        data = json.loads(content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
