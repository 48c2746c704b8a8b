"""Handlers: your Python function run for each captured event, the automation half of a webhook.

A handler runs after the event is stored and before the answer is sent, so
its exception becomes a 500 and the sender retries, as it would in
production. `dedupe=True` runs the side effect once per delivery id, however
many times the provider delivers (Stripe's id is in its signed body; GitHub's
and Shopify's delivery-id headers are not signed, so they catch honest
redeliveries, not a replay with a fresh id); `background=True` answers first
and does the slow work afterwards.

Running a cell again registers its function again: a handler with the same
qualified name as one registered before replaces it (and says so), so the
function that runs is the one the notebook shows, not also an older draft.
"""

from __future__ import annotations

import hashlib
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from typing import Callable

from .._checks import endpoint_name, flag, function, text
from .._event import Event


@dataclass
class Handler:
    function: Callable[[Event], object]
    event_type: str = "*"  # a pattern: "payment_intent.*" matches every payment intent event
    endpoint: str | None = None
    dedupe: bool = False
    background: bool = False
    runs: int = 0
    skipped_duplicates: int = 0
    _seen: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self):
        function(self.function, "@rx.on(...)", "a function to run for each event: def handle(event): ...")
        options(self.event_type, self.endpoint, self.dedupe, self.background)

    @property
    def name(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))

    @property
    def key(self) -> str | None:
        """What identifies the function across runs of its cell (module and qualified name); None for a lambda."""
        qualname = getattr(self.function, "__qualname__", None)
        if not qualname or "<lambda>" in qualname:
            return None
        return f"{getattr(self.function, '__module__', '')}.{qualname}"

    def matches(self, event: Event) -> bool:
        """Verified (or unchecked) events of the right type at the right endpoint."""
        return (
            event.verified is not False
            and (self.endpoint is None or self.endpoint == event.endpoint)
            and fnmatchcase(event.event_type or "", self.event_type)
        )


def options(event_type, endpoint, dedupe, background) -> None:
    """rx.on()'s options, checked when it is called, before the function it decorates."""
    text(event_type, "event_type", "an event type or a pattern such as 'payment_intent.*' ('*': every type)")
    if endpoint is not None:
        endpoint_name(endpoint)
    flag(dedupe, "dedupe", "True runs the function once per delivery id")
    flag(background, "background", "True answers first and runs the function afterwards")


@dataclass(frozen=True)
class HandlerError:
    """A handler that raised: which one, on which event, and the traceback."""

    event_id: int
    handler: str
    error: str
    traceback: str
    at: datetime

    def __repr__(self) -> str:
        return f"<HandlerError {self.handler} on event {self.event_id}: {self.error}>"


class Handlers:
    """The registered handlers, and the errors they raised."""

    def __init__(self):
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self._only: Handler | None = None
        self.errors: list[HandlerError] = []

    def add(self, handler: Handler) -> Handler | None:
        """Register `handler`, last; one of the same qualified name registered before is replaced (and returned)."""
        with self._lock:
            old = next((h for h in self._handlers if handler.key and h.key == handler.key), None)
            self._handlers = [h for h in self._handlers if h is not old] + [handler]
        return old

    def latest(self, endpoint: str, event_type: str) -> Handler | None:
        """The handler registered last of those an event of `event_type` at `endpoint` would run."""
        found = [h for h in self._handlers
                 if (h.endpoint is None or h.endpoint == endpoint) and fnmatchcase(event_type, h.event_type)]  # fmt: skip
        return found[-1] if found else None

    @contextmanager
    def only(self, handler: Handler):
        """Run no handler but `handler` meanwhile: a check grades that one, whatever else is registered."""
        with self._lock:
            self._only = handler
        try:
            yield handler
        finally:
            with self._lock:
                self._only = None

    def wanted(self, endpoint: str, event_type: str | None) -> bool:
        """Cheap check before an Event is built: could any handler want this request?"""
        return any(
            (h.endpoint is None or h.endpoint == endpoint) and fnmatchcase(event_type or "", h.event_type)
            for h in self._handlers
        )

    def run(self, event: Event) -> HandlerError | None:
        """Run every matching handler; the first error of a foreground one is returned (for a 500)."""
        failure = None
        only = self._only
        for handler in [h for h in self._handlers if h.matches(event) and (only is None or h is only)]:
            key = event.delivery_id or hashlib.sha256(event.body).hexdigest()
            if handler.dedupe and not self._claim(handler, key):
                continue
            if handler.background:
                threading.Thread(target=self._call, args=(handler, event, key), daemon=True).start()
            else:
                failure = self._call(handler, event, key) or failure
        return failure

    def _claim(self, handler: Handler, key: str) -> bool:
        """True for the first delivery of `key`; a duplicate is counted and skipped."""
        with self._lock:
            if key in handler._seen:
                handler.skipped_duplicates += 1
                return False
            handler._seen.add(key)
            return True

    def _call(self, handler: Handler, event: Event, key: str) -> HandlerError | None:
        try:
            handler.function(event)
        except Exception as exc:  # a learner's bug must become a 500 and a record, not a dead server
            error = HandlerError(event.id, handler.name, f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                                 datetime.now(timezone.utc))  # fmt: skip
            with self._lock:
                self.errors.append(error)
                handler._seen.discard(key)  # so the provider's retry can run it again
            return error
        with self._lock:
            handler.runs += 1
        return None
