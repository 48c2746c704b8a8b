"""Polling, the alternative to webhooks: a provider's events API, and a poller that asks it again and again.

ProviderAPI serves its event log the way Stripe's `GET /v1/events` does
(newest first, cursors, `has_more`), answers conditional requests with
`304 Not Modified` the way GitHub's API does, and can rate-limit with `429`
and `Retry-After`. `GET /v1/<objects>/<id>` gives an object as it is now (as
the newest event about it left it). Every event it records can also be pushed
as a signed webhook, so the same stream can be watched both ways.
"""

from __future__ import annotations

import hashlib
import json
import math
import operator
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, Response, request

from .._checks import flag, got, seconds, text, web_url, whole
from .._errors import UsageError, UsageTypeError
from .._providers import Provider, Stripe
from .._receiving.server import BackgroundServer

MAX_LIMIT = 100  # Stripe's largest page


class ProviderAPI(BackgroundServer):
    """A provider's events API on 127.0.0.1, holding every event it has recorded.

    api = ProviderAPI(push_to=rx.url("push")).start()
    api.record("charge.succeeded")       # logged for pollers, and pushed to the receiver
    requests.get(api.url("/v1/events"))  # {"object": "list", "data": [...], "has_more": false}
    """

    kind = "provider API"

    def __init__(self, provider: Provider | None = None, *, push_to: str | None = None,
                 rate_limit: float | None = None, host: str = "127.0.0.1", port: int = 0):  # fmt: skip
        if provider is not None and not isinstance(provider, Provider):
            raise UsageTypeError(
                f"provider must be a provider such as wl.Stripe(), or None for Stripe, got {got(provider)}"
            )
        if push_to is not None:
            web_url(push_to, "push_to", "http://127.0.0.1:8000/hooks/push")
        if rate_limit is not None and seconds(rate_limit, "rate_limit", ": requests per second, or None") == 0:
            raise UsageError("rate_limit must be more than 0 requests per second, or None for no limit")
        self.provider = provider or Stripe()
        self.push_to = push_to
        self.rate_limit = rate_limit  # requests per second, per API; None: unlimited
        self.log: list[dict] = []  # oldest first
        self.created_at: dict[str, float] = {}  # event id -> creation time, to the microsecond
        self.pushes: list = []  # the Attempt of every push
        self._lock = threading.Lock()
        self._window = (0, 0)  # (second, requests in it), for the rate limit
        self._pusher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhooklab-push") if push_to else None
        super().__init__(self._create_app(), host=host, port=port)

    def url(self, path: str = "/v1/events") -> str:
        """The full URL of `path` on this API, such as '/v1/events'."""
        if not text(path, "path", "a path on the API, such as '/v1/events'").startswith("/"):
            raise UsageError(f"path must be a path on the API, starting with '/', such as '/v1/events', got {path!r}")
        return self.base_url + path

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        push = f", pushing to {self.push_to}" if self.push_to else ""
        return f"<ProviderAPI {where}, {len(self.log)} events{push}>"

    def record(self, event_type: str = "charge.succeeded", **overrides) -> dict:
        """An event happens: it joins the log, and is pushed if a receiver is registered."""
        event = self.provider.event(event_type, **overrides)
        with self._lock:
            self.log.append(event)
            self.created_at[event["id"]] = time.time()
        if self._pusher:
            self._pusher.submit(self._push, event)
        return event

    def _push(self, event) -> None:
        attempt = self.provider.send(event, to=self.push_to)
        with self._lock:
            self.pushes.append(attempt)

    def stop(self) -> None:
        if self._pusher:
            self._pusher.shutdown(wait=True)
            self._pusher = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhooklab-push")
        super().stop()

    # -- the HTTP API ------------------------------------------------------------------------

    def _create_app(self) -> Flask:
        app = Flask(__name__)

        @app.before_request
        def limit_rate():
            if self.rate_limit is None:
                return None
            now = time.time()
            with self._lock:
                second, count = self._window
                second, count = (second, count + 1) if int(now) == second else (int(now), 1)
                self._window = (second, count)
            if count > self.rate_limit:
                wait = math.ceil(second + 1 - now)
                return _error(429, "rate_limit", f"Too many requests: this API allows {self.rate_limit:g} per second. "
                              f"Wait {wait} s (Retry-After) and try again.", retry_after=wait)  # fmt: skip
            return None

        @app.get("/v1/events")
        def list_events():
            try:
                page = self._page(request.args)
            except LookupError as error:
                return _error(400, "invalid_request_error", str(error.args[0]), param=error.args[1])
            except ValueError as error:
                return _error(400, "invalid_request_error", str(error))
            body = json.dumps(page).encode()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            return Response(body, headers={"ETag": etag, "Content-Type": "application/json"})

        @app.get("/v1/events/<event_id>")
        def one_event(event_id: str):
            with self._lock:
                found = next((e for e in self.log if e["id"] == event_id), None)
            if found is None:
                return _error(404, "invalid_request_error", f"No such event: '{event_id}'", param="id")
            return dict(found)

        @app.get("/v1/<collection>/<object_id>")
        def one_object(collection: str, object_id: str):
            """An object as it is now: as the newest event about it left it (GET /v1/payment_intents/pi_...)."""
            with self._lock:
                states = [e["data"]["object"] for e in self.log if isinstance(e.get("data"), dict)
                          and isinstance(e["data"].get("object"), dict) and e["data"]["object"].get("id") == object_id]  # fmt: skip
            if not states or f"{states[-1].get('object')}s" != collection:
                return _error(404, "invalid_request_error", f"No such {collection[:-1]}: '{object_id}'", param="id")
            return dict(states[-1])

        return app

    def _page(self, args) -> dict:
        """One page of the log, newest first, as Stripe's list endpoints page."""
        limit = int(args.get("limit", 10))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        with self._lock:
            events = self.log[::-1]
        for name, compare in (("gt", operator.gt), ("gte", operator.ge), ("lt", operator.lt), ("lte", operator.le)):
            if f"created[{name}]" in args:
                bound = int(args[f"created[{name}]"])
                events = [e for e in events if compare(e["created"], bound)]
        if "type" in args:
            events = [e for e in events if e["type"] == args["type"]]
        ids = [e["id"] for e in events]
        if "starting_after" in args:  # older than the cursor
            position = _position(ids, args["starting_after"], "starting_after")
            older = events[position + 1 :]
            data, has_more = older[:limit], len(older) > limit
        elif "ending_before" in args:  # newer than the cursor: the page just before it
            position = _position(ids, args["ending_before"], "ending_before")
            newer = events[:position]
            data, has_more = newer[-limit:], len(newer) > limit
        else:
            data, has_more = events[:limit], len(events) > limit
        return {"object": "list", "url": "/v1/events", "has_more": has_more, "data": data}


def _position(ids: list[str], cursor: str, param: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise LookupError(f"No such event: '{cursor}'", param) from None


def _error(status: int, kind: str, message: str, *, param: str | None = None, retry_after: int | None = None):
    error = {"type": kind, "message": message}
    if param:
        error["param"] = param
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Response(json.dumps({"error": error}), status=status, headers=headers, content_type="application/json")


class Poller:
    """Asks an events API for new events every `interval` seconds, and records what that costs.

    It pages forward from a cursor (the newest event it has seen), so nothing
    is lost or repeated however many events arrive between polls; with
    `conditional=True` it sends If-None-Match, and an unchanged answer is a
    cheap 304. A 429 is waited out for as long as Retry-After says.
    """

    def __init__(self, api: ProviderAPI | str, *, interval: float = 1.0, conditional: bool = True,
                 limit: int = MAX_LIMIT):  # fmt: skip
        if not isinstance(api, (ProviderAPI, str)):
            raise UsageTypeError(f"api is a wl.ProviderAPI or the URL of its events, such as "
                                 f"'http://127.0.0.1:8000/v1/events', got {got(api)}")  # fmt: skip
        if seconds(interval, "interval", ": how often to ask") == 0:
            raise UsageError("interval must be more than 0 seconds: a poller that never pauses floods the API")
        flag(conditional, "conditional", "True sends If-None-Match, so an unchanged answer is a cheap 304")
        if not 1 <= whole(limit, "limit", "how many events one request asks for") <= MAX_LIMIT:
            raise UsageError(f"limit must be from 1 to {MAX_LIMIT} (the most one page holds), got {limit}")
        self.events_url = api.url("/v1/events") if isinstance(api, ProviderAPI) else web_url(api, "api")
        self.interval, self.conditional, self.limit = interval, conditional, limit
        self.requests: list[dict] = []  # one row per HTTP request
        self.seen: dict[str, float] = {}  # event id -> when this poller first saw it
        self._cursor: str | None = None
        self._etags: dict[str, str] = {}
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._session = None

    def start(self) -> Poller:
        import requests

        self._session = requests.Session()
        self._baseline()
        self._thread = threading.Thread(target=self._run, name="webhooklab-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self._session:
            self._session.close()

    def __enter__(self) -> Poller:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        started = time.monotonic()
        ticks = 0
        while not self._stop.is_set():
            self.poll()
            ticks += 1
            self._stop.wait(max(0.0, started + ticks * self.interval - time.monotonic()))  # no drift

    def _baseline(self) -> None:
        """Start from the newest event there is now: only events after this count as new."""
        page = self._get({"limit": 1})
        if self.requests:
            self.requests[-1]["new"] = 0  # what exists already is not news
        if page and page["data"]:
            self._cursor = page["data"][0]["id"]

    def poll(self) -> list[dict]:
        """One poll: every event newer than the cursor, page by page; returns them oldest first."""
        if self._session is None:
            raise UsageError(
                "this poller is not started: call start() first (or use it as `with Poller(...) as poller`)"
            )
        found: list[dict] = []
        if self._cursor is None:  # nothing seen yet: everything there is counts as new, newest first
            params, newest = {"limit": self.limit}, None
            while (page := self._get(params)) and page["data"]:
                newest = newest or page["data"][0]["id"]
                self._saw(page["data"], found)
                if not page["has_more"]:
                    break
                params = {"limit": self.limit, "starting_after": page["data"][-1]["id"]}
            found.reverse()
            self._cursor = newest
            return found
        while (page := self._get({"limit": self.limit, "ending_before": self._cursor})) and page["data"]:
            self._saw(reversed(page["data"]), found)
            self._cursor = page["data"][0]["id"]  # the newest on this page
            if not page["has_more"]:
                break
        return found

    def _saw(self, events, found: list[dict]) -> None:
        seen_at = time.time()
        with self._changed:
            for event in events:
                self.seen.setdefault(event["id"], seen_at)
                found.append(event)
            self._changed.notify_all()

    def wait_for(self, ids, timeout: float) -> bool:
        """Block until every id in `ids` has been seen (True), or `timeout` passes (False)."""
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise UsageTypeError(f"ids must be a list of event ids, such as ['evt_1'], got {got(ids)}")
        if timeout is not None:
            timeout = seconds(timeout, "timeout", ": how long to wait, or None")
        wanted = set(ids)
        with self._changed:
            return self._changed.wait_for(lambda: wanted <= self.seen.keys(), timeout)

    def _get(self, params: dict) -> dict | None:
        """One GET, with its cost recorded; None for a 304. Waits out a 429 and asks again."""
        key = json.dumps(params, sort_keys=True)
        while True:
            headers = {"If-None-Match": self._etags[key]} if self.conditional and key in self._etags else {}
            sent = time.time()
            reply = self._session.get(self.events_url, params=params, headers=headers, timeout=10)
            page = reply.json() if reply.status_code == 200 else None
            self.requests.append({"time": sent, "status": reply.status_code, "bytes": len(reply.content),
                                  "new": len(page["data"]) if page else 0})  # fmt: skip
            if reply.status_code == 429:
                if self._stop.wait(float(reply.headers.get("Retry-After", 1))):
                    return None
                continue
            if reply.status_code == 304:
                return None
            reply.raise_for_status()
            if "ETag" in reply.headers:
                self._etags[key] = reply.headers["ETag"]
            return page

    @property
    def stats(self) -> dict:
        statuses = [r["status"] for r in self.requests]
        return {
            "requests": len(self.requests),
            "empty": sum(1 for r in self.requests if r["new"] == 0),
            "not_modified": statuses.count(304),
            "rate_limited": statuses.count(429),
            "bytes": sum(r["bytes"] for r in self.requests),
            "events_seen": len(self.seen),
        }

    def __repr__(self) -> str:
        s = self.stats
        return (f"<Poller every {self.interval:g} s: {s['requests']} requests, {s['empty']} empty, "
                f"{s['events_seen']} events seen>")  # fmt: skip
