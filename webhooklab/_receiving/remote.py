"""A learner's bin on a class server, used from a notebook with the calls a local Receiver has.

    rx = wl.Receiver.attach("http://192.168.1.20:8000/b/<token>/")   # the bin URL on the handout
    rx.url("shop"); rx.wait_for(1); rx.events(); rx.event(-1); rx.respond("shop", status=500)

Every call is a request to the bin's JSON API (webhooklab._receiving.api), so the table and the
events are the same as a local receiver's, and it keeps the same contract (contract.AnyReceiver):
wait_for and arrivals give an Arrivals that reads the bin a page at a time (BinReader), and
listen() has one daemon thread ask the bin, one request at a time, after pauses that grow while
nothing arrives (watch.py), so the widgets follow a bin as they follow a local receiver. Only
rx.on cannot work: the class server runs no code from a notebook. The token in the bin URL is the
learner's key to the bin: reprs and errors show its host and the token's last four characters only.

Whatever answers at the bin URL may not be a bin: a proxy, a network's login page, a server that
drips or floods. How every request stays within bounds, and every answer is checked, is in bincalls.py.

`wl.join_class(url)` (joining.py) records the bin for this folder's notebooks.
"""

from __future__ import annotations

import numbers
import re
import time
from dataclasses import dataclass
from typing import Self
from urllib.parse import quote, urlsplit

from .. import _redact
from .._checks import endpoint_name, got, seconds, whole
from .._errors import EventNotFound, ReceiverError, UsageError, UsageTypeError, WaitTimeout
from .._event import Event
from . import answers
from .answers import LARGEST
from .arrivals import Arrivals
from .bincalls import EVENTS_BYTES, BinCalls
from .bounded import Deadline
from .contract import AnyReceiver, wait_arguments
from .inspector import InspectorView
from .rules import Rule
from .watch import Watcher

FIRST_PAUSE, MAX_PAUSE = 0.01, 0.2  # wait_for asks again after a pause that doubles up to MAX_PAUSE
CALL_TIMEOUT = 30.0  # seconds one call may take in all, every request and page of it: a 25 MB event on slow Wi-Fi
BIN_PATH = re.compile(r"^(?P<prefix>.*?)/b/(?P<token>[^/]+)")


class RemoteReceiver(BinCalls, AnyReceiver):
    """A bin on a class server, attached: url(), events(), event(), wait_for(), respond(), inspector().

    It starts empty, as a new local Receiver does: events(), arrivals() and wait_for() count the
    events that arrive after attaching (`history=True` shows everything the bin holds); event(id)
    finds any. The class server is the instructor's: start() and stop() change nothing. It keeps
    the receiver contract (contract.AnyReceiver), so the widgets and the exercise checks take it;
    handlers (rx.on) need a receiver in your kernel.

    `timeout` is the seconds one call may take in all, every request and page of it (CALL_TIMEOUT
    by default); each answer is read within PAGE_BYTES (EVENTS_BYTES for whole events), decoded
    size included, and one call follows at most MAX_PAGES pages.
    """

    runs_handlers = False  # the class server runs no code from a notebook

    def __init__(self, bin_url: str, *, history: bool = False, timeout: float = CALL_TIMEOUT):
        self.base_url, self.shown = bin_address(bin_url)
        if not isinstance(history, bool):
            raise UsageTypeError(f"history is True (all the bin holds) or False (from now on), got {got(history)}")
        self._timeout = seconds(timeout, "timeout", ": seconds one call to the class server may take in all")
        if not self._timeout:
            raise UsageError("timeout must be more than 0 s: it is how long one call to the class server may take")
        self.server, _, token = self.base_url.rpartition("/b/")
        self._token = token
        self._reader = BinReader(self)
        self._watcher = Watcher(self._newest)
        self._since = 0 if history else self._newest()  # also checks that the bin exists

    # -- the lifecycle of a local receiver, which here is the instructor's ------------------

    running = True

    def start(self) -> Self:
        """Nothing to start: the class server is running already. Returns self, as Receiver.start() does."""
        return self

    def stop(self) -> None:
        """Nothing to stop: the class server is the instructor's, and your bin keeps its events."""

    close = stop

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        pass

    # -- what a notebook calls ---------------------------------------------------------------

    def url(self, endpoint: str = "default") -> str:
        """The URL to give a sender: your bin's endpoint on the class server (it holds your token)."""
        return f"{self.base_url}/hooks/{quote(endpoint_name(endpoint), safe='')}"

    def respond(self, endpoint: str, status: int = 200, *, delay: float = 0.0, fail_first: int = 0,
                body: str | bytes | dict | list | None = None,
                headers: dict[str, str] | None = None) -> None:  # fmt: skip
        """Choose how `endpoint` of your bin answers from now on: a status, a slow reply, or N failures first.

        As Receiver.respond; a bin on a class server answers with its own small JSON body, so
        `body=` and `headers=` work only with a receiver on your machine.
        """
        endpoint = endpoint_name(endpoint)
        if body is not None or headers is not None:
            raise UsageError(
                "a bin on a class server sets status=, delay= and fail_first= only; body= and headers= work "
                "with a receiver on your machine, wl.Receiver().start()"
            )
        rule = Rule(status, delay, fail_first)  # the same checks, and the same messages, as a local receiver's
        self._call("PUT", f"api/endpoints/{quote(endpoint, safe='')}",
                   json={"status": rule.status, "delay": rule.delay, "fail_first": rule.fail_first})  # fmt: skip

    def wait_for(self, n: int = 1, *, timeout: float | None = 5.0, endpoint: str | None = None) -> Arrivals:
        """Block until at least `n` events have arrived (at one endpoint, if given) and return them.

        As a local receiver's: an Arrivals of every matching event since attaching, oldest first,
        read from the bin only as you use it (`arrived[-1]` is one event, a for loop reads 500 at a
        time). Waiting asks the bin for a count, one request, again after a short pause that grows
        to 0.2 s, so it stays cheap for the class server. `timeout` is seconds before a WaitTimeout;
        None waits until they arrive.
        """
        n, timeout, endpoint = wait_arguments(n, timeout, endpoint)  # the same checks as a local receiver's
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = FIRST_PAUSE
        while True:
            count, last = self._span(endpoint)
            if count >= n:
                return Arrivals(self._reader, endpoint, count, last)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                where = f" at {self._shown_url(endpoint)}" if endpoint else ""
                raise WaitTimeout(
                    f"waited {timeout:g} s for {n} event(s){where}, but {count} arrived. Is the sender pointed "
                    f"at {self._shown_url(endpoint) if endpoint else self.shown + 'hooks/<endpoint>'}?"
                )
            time.sleep(pause if remaining is None else min(pause, remaining))
            pause = min(pause * 2, MAX_PAUSE)

    def events(self, endpoint: str | None = None, *, since: int = 0, limit: int | None = None):
        """A pandas DataFrame, one row per captured request, indexed by event id: as a local receiver's.

        `since` shows only events after that id; `limit` only the newest that many (read alone, so a
        table of the newest ten costs one request however many the bin holds).
        """
        from .store import to_frame

        since = whole(since, "since", "an event id: only events after it are shown (0 shows all)")
        if limit is not None and whole(limit, "limit", "a whole number of events, or None for all") < 0:
            raise UsageError(f"limit cannot be negative, got {limit}: it is how many of the newest events to show")
        endpoint = None if endpoint is None else endpoint_name(endpoint)
        after = min(max(since, self._since), LARGEST)
        if limit is None:
            return to_frame(self._pages(endpoint, after=after))
        return to_frame(self._pages(endpoint, after=after, limit=limit, newest=True)[::-1])

    def arrivals(self, endpoint: str | None = None) -> Arrivals:
        """Every event that arrived since attaching (at one endpoint, if given), oldest first, without waiting.

        As a local receiver's: `len(rx.arrivals())` is one request, `rx.arrivals()[-10:]` reads ten.
        """
        endpoint = None if endpoint is None else endpoint_name(endpoint)
        return Arrivals(self._reader, endpoint, *self._span(endpoint))

    def event(self, event_id: int = -1) -> Event:
        """One full record (headers, raw body, parsed JSON, the answer given); -1 is the newest."""
        if isinstance(event_id, bool) or not isinstance(event_id, numbers.Integral):
            raise UsageTypeError(
                "an event id is a whole number, from the index of rx.events() (-1 is the newest, -2 the one "
                f"before), got {got(event_id)}"
            )
        event_id, deadline = int(event_id), Deadline(self._timeout)
        if event_id < 0:
            newest = self._page({"after": self._since, "newest": 1, "limit": -event_id}, deadline)
            if len(newest["events"]) < -event_id:
                raise EventNotFound(
                    f"no event {event_id}: {len(newest['events'])} event(s) arrived at your bin since you attached. "
                    "Ids are the index of rx.events(); -1 is the newest."
                )
            event_id = newest["events"][-event_id - 1]["id"]
        if not 0 <= event_id < 2**63:
            raise EventNotFound(f"no event with id {event_id}: ids are the index of rx.events(); -1 is the newest.")
        found = self._call("GET", f"api/events/{event_id}", missing=EventNotFound, deadline=deadline,
                           limit=EVENTS_BYTES, expect=answers.event)  # fmt: skip
        if found.id != event_id:
            raise ReceiverError(f"GET {self.shown}api/events/{event_id} answered with event {found.id}, not "
                                f"{event_id}: is this the bin URL of a webhooklab class server?")  # fmt: skip
        return found

    def clear(self) -> None:
        """Start afresh: events() and wait_for() show only what arrives from now on (the bin keeps the rest)."""
        self._since = self._newest()

    def listen(self, callback) -> None:
        """Call `callback()` from a background thread when events have arrived at your bin (keep it quick).

        One daemon thread asks the bin for its newest event, one request at a time, again after a
        pause of 0.25 s that doubles to 2 s while nothing arrives; one call may stand for several
        events. The thread ends when the last callback is unlistened (see watch.py).
        """
        self._watcher.add(callback)

    def unlisten(self, callback) -> None:
        """Stop calling `callback`; one that was never given is ignored. The last one gone ends the watching."""
        self._watcher.remove(callback)

    def inspector(self, *, height: int = 600) -> InspectorView:
        """Your bin's page on the class server: a link, and the live page embedded in the notebook."""
        return BinPage(self.page_url(), height, self.shown)

    def page_url(self) -> str:
        """Your bin's page: the browser reaches the class server at the address on the handout."""
        return self.base_url + "/"

    @property
    def errors(self) -> list:
        """Handlers run in your notebook's receiver only: a bin on a class server has none."""
        return []

    def on(self, event_type: str = "*", *, endpoint: str | None = None, dedupe: bool = False, background: bool = False):
        """Handlers run only in a receiver in your kernel: on a bin this raises a ReceiverError that says so."""
        raise ReceiverError(
            "rx.on runs your function in the receiver's own process, and this bin runs on the class "
            "server, which cannot run code from your notebook. For this notebook, start a receiver on "
            "your machine: rx = wl.Receiver().start()"
        )

    def import_events(self, path) -> int:
        """Imports go into a receiver in your kernel: on a bin this raises a ReceiverError that says so."""
        raise ReceiverError(
            "rx.import_events adds to a receiver's own store, and this bin's store is on the class server, "
            "which takes events only as webhooks. Import into a receiver on your machine: "
            f"rx = wl.Receiver().start(); rx.import_events({path!r})"
        )

    def __repr__(self) -> str:
        return f"<RemoteReceiver {self.shown} on the class server>"

class BinReader:
    """A bin's events through its JSON API, read as an Arrivals reads a store (arrivals.Reader).

    Only the events that arrived since the receiver attached (or was cleared): a page of summaries
    for the ids, then the whole events a few hundred to a request.
    """

    def __init__(self, rx: RemoteReceiver):
        self._rx = rx

    def list(self, endpoint: str | None = None, *, after: int = 0, limit: int | None = None, newest: bool = False,
             offset: int = 0, before: int | None = None) -> list[Event]:  # fmt: skip
        deadline = Deadline(self._rx._timeout)  # one call: the summaries, then the events
        rows = self._rx._pages(endpoint, after=max(after, self._rx._since), before=before, limit=limit, newest=newest,
                               offset=offset, deadline=deadline)  # fmt: skip
        return self._rx._events(rows, deadline)



def bin_address(bin_url) -> tuple[str, str]:
    """A bin URL's base (no trailing slash, no credentials) and how messages show it (its token masked)."""
    if not isinstance(bin_url, str):
        raise UsageTypeError(f"a bin URL is a str such as 'http://192.168.1.20:8000/b/<token>/', got {got(bin_url)}")
    parts = urlsplit(bin_url.strip())
    found = BIN_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.hostname or not found:
        raise UsageError(
            "a bin URL looks like http://192.168.1.20:8000/b/<token>/ (the URL on your handout, whole), "
            f"got one {_outline(parts)}"
        )
    server = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # the class server: no secret in it
    base = f"{server}{found['prefix']}/b/{found['token']}"
    return base, f"{server}{found['prefix']}/b/{_redact.mask(found['token'], kinded=False)}/"


@dataclass(frozen=True)
class BinPage(InspectorView):
    """rx.inspector() of a bin: the link and the page work; printed as text, the token stays masked."""

    shown: str = ""

    def __repr__(self) -> str:
        return f"webhooklab inspector of your bin: {self.shown} (open it from the URL on your handout)"


def _outline(parts) -> str:
    """A URL that is not a bin URL, for a message: its scheme and host, never the rest (it may hold a token)."""
    if parts.scheme and parts.hostname:
        return f"for {parts.scheme}://{parts.hostname}/… without /b/<token> in its path"
    return "without http:// and a host" if parts.path else "that is empty"
