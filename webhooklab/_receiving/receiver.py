"""The webhook receiver in a notebook: start it, point senders at it, read what arrived."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from .._checks import endpoint_name, flag, function, got, whole
from .._errors import ReceiverError, UsageError, UsageTypeError, WaitTimeout
from .._event import Event
from .._providers import Provider
from . import links
from .app import create_app
from .arrivals import Arrivals
from .contract import AnyReceiver, wait_arguments
from .guard import host_names
from .handlers import Handler, Handlers, options
from .importing import import_capture
from .inspector import InspectorView
from .remote import RemoteReceiver
from .rules import Responses, Rule
from .server import DEFAULT_MAX_BODY, BackgroundServer
from .store import EventStore
from .verifiers import Verifiers


class Receiver(BackgroundServer, AnyReceiver):
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
    from this machine (on 0.0.0.0 too; `share_page=True` lets other machines
    read them, never change anything), addressed to an IP address, localhost
    or one of `allowed_hosts`, and changes only from the page itself.
    `show_expected=False` hides the expected signatures in the page's
    explanations (they are never shown to another machine).

    On a JupyterHub, Binder or Colab the browser cannot reach the kernel's
    127.0.0.1: `inspector()` links to the page where the browser can, by the
    template `link` (or WEBHOOKLAB_LINK), e.g. "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/",
    which is the default under a JupyterHub. `frame_ancestors` adds origins that
    may embed the page (see webhooklab._receiving.links).

    It keeps the receiver contract (webhooklab._receiving.contract.AnyReceiver), as a bin on a
    class server does, so the widgets and the exercise checks take either.
    """

    runs_handlers = True  # rx.on's functions run here, in the kernel
    relay = None  # a BinRelay (joining.py) when wl.workshop_receiver() relays a class bin to this receiver

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
        share_page: bool = False,
        link: str | None = None,
        frame_ancestors: list[str] | tuple[str, ...] = (),
    ):
        super().__init__(None, host=host, port=port, ssl_context=ssl_context, max_body=max_body)  # checks them
        if not isinstance(reject_invalid, bool):
            raise UsageTypeError(f"reject_invalid must be True or False, got {got(reject_invalid)}")
        verifiers = Verifiers(secrets)
        if link is not None and not isinstance(link, str):
            raise UsageTypeError(f"link is a URL template such as '{{JUPYTERHUB_SERVICE_PREFIX}}proxy/{{port}}/', got {got(link)}")
        self.link = link
        frame_ancestors = links.origins(frame_ancestors)  # a source that would break the policy is an error now
        allowed_hosts = host_names(allowed_hosts)
        flag(show_expected, "show_expected", "False hides the expected signatures in the page's explanations")
        flag(share_page, "share_page", "True lets other machines read the page and the API")
        self.store = EventStore(db)  # opened only once every argument has been checked
        self.responses = Responses()
        self._arrived = threading.Condition()
        self._listeners: list = []
        self.handlers = Handlers()
        self.app = create_app(
            self.store, responses=self.responses, max_body=self.max_body, verifiers=verifiers, handlers=self.handlers,
            reject_invalid=reject_invalid, allowed_hosts=allowed_hosts, show_expected=show_expected, share_page=share_page,
            frame_ancestors=frame_ancestors, on_stored=self._notify,
        )  # fmt: skip

    @classmethod
    def attach(cls, bin_url: str, *, history: bool = False) -> RemoteReceiver:
        """Your bin on a class server, with the calls you know: url, events, event, wait_for, respond.

        rx = wl.Receiver.attach("http://192.168.1.20:8000/b/<token>/")   # the URL on your handout

        Like a new receiver it starts empty: events() and wait_for() see what arrives from now
        on, or everything the bin holds with `history=True`. It keeps the same contract as a
        receiver of your own (the widgets and the exercise checks take it), but runs no
        handlers: rx.on needs a receiver in your kernel. See webhooklab._receiving.remote.

        Each call reads the bin within bounds: 30 s in all, at most 100 pages of events, 8 MB an
        answer (256 MB for whole events), decompressed size included. Anything else at the URL
        (not a webhooklab bin, a proxy, a network login page) is a ReceiverError that says so.
        """
        return RemoteReceiver(bin_url, history=history)

    def stop(self) -> None:
        """Stop serving and free the port; the captured events stay readable."""
        if self.relay is not None:
            self.relay.remove(self)  # the bin stops forwarding here, once no receiver of this kernel is left
            self.relay = None
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

        A name is one part of the URL path, so it cannot be empty or contain '/'. A receiver that
        wl.workshop_receiver() relays from a class bin gives the bin's URL: senders go through the class server.
        """
        endpoint = endpoint_name(endpoint)
        if self.relay is not None:
            return self.relay.claim(self, endpoint)
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
        rx.respond("shop", delay=12)       # answer after 12 s: longer than github.com's 10 s timeout
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
            orders.ship(event.json["data"]["object"]["metadata"]["order_id"])

        `event_type` may be a pattern ("payment_intent.*", "*"). An exception
        becomes a 500 answer and a record in rx.errors. `dedupe=True` runs the
        function once per delivery id (for GitHub and Shopify an unsigned header:
        it stops honest redeliveries, not replays); `background=True` answers first.
        A function with the same name as one registered before (its cell run again)
        replaces that one.
        """
        options(event_type, endpoint, dedupe, background)  # a wrong option is an error here, not at the decorator

        def register(function):
            handler = Handler(function, event_type, endpoint, dedupe, background)
            if self.handlers.add(handler) is not None:
                print(f"rx.on: {handler.name} replaces the handler of the same name registered before "
                      "(its cell ran again); only the new one runs.")  # fmt: skip
            return function

        return register

    def inspector(self, *, height: int = 600) -> InspectorView:
        """The web inspector of this receiver: a link, and the live page embedded in the notebook.

        The link is where the learner's browser reaches the page: see `link` in the class's docstring.
        """
        return InspectorView(self.page_url(), height)

    def page_url(self) -> str:
        """The page's address as the learner's browser reaches it (through a proxy on a hub or Colab)."""
        url = links.page_link(self.base_url, self.link)
        host = urlsplit(url).hostname
        if host and not url.startswith(self.base_url):  # a proxy that passes its own name on, as Colab's may
            self.app.extensions["webhooklab.hosts"].add(host.lower())
        return url

    @property
    def errors(self) -> list:
        """What handlers raised, newest last."""
        return self.handlers.errors

    # -- reading events --------------------------------------------------------------

    def wait_for(self, n: int = 1, *, timeout: float | None = 5.0, endpoint: str | None = None) -> Arrivals:
        """Block until at least `n` events are stored (for one endpoint, if given) and return them.

        Woken by each arrival, so it returns as soon as the n-th event is committed.
        SQLite counts; nothing is read until you use what it returns, an Arrivals
        sequence of every matching event stored by then, oldest first, which reads
        from the store only what you take: `arrived[-1]` is the newest (one read),
        `first, second = arrived` reads two, and `rx.events(since=arrived.last_id)`
        is what came after. So it costs the same with 100,000 events stored as with one.

        `n` is a whole number, 0 or more. `timeout` is seconds (finite, 0 or more)
        before a WaitTimeout; None waits as long as it takes, which stopping the
        receiver, or interrupting the kernel, still ends.
        """
        n, timeout, endpoint = wait_arguments(n, timeout, endpoint)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._arrived:
            while (span := self.store.span(endpoint))[0] < n:
                count = span[0]
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
        return Arrivals(self.store, endpoint, *span)

    def events(self, endpoint: str | None = None, *, since: int = 0, limit: int | None = None):
        """A pandas DataFrame, one row per captured request, indexed by event id, oldest first.

        rx.events("shop")                  # one endpoint
        rx.events(limit=20)                # the newest 20
        rx.events(since=arrived.last_id)   # only what came after an event (by id)

        Built straight from SQLite: the preview and the provider, type and delivery
        columns were worked out once, when each request was captured.
        """
        since = whole(since, "since", "an event id: only events after it are shown (0 shows all)")
        if limit is not None:
            limit = whole(limit, "limit", "a whole number of events (the newest are shown), or None for all")
            if limit < 0:
                raise UsageError(f"limit cannot be negative, got {limit}: it is how many of the newest events to show")
        largest = 2**63 - 1  # SQLite's integers
        return self.store.frame(endpoint, since=max(min(since, largest), 0), limit=None if limit is None else min(limit, largest))

    def event(self, event_id: int = -1) -> Event:
        """One full record (headers, raw body, parsed JSON, the answer given); -1 is the newest."""
        return self.store.get(event_id)

    def arrivals(self, endpoint: str | None = None) -> Arrivals:
        """Every event stored now (at one endpoint, if given), oldest first, without waiting: as wait_for returns them.

        len(rx.arrivals("shop"))           # how many, counted by SQLite
        rx.arrivals()[-10:]                # the newest ten, and nothing else read
        """
        endpoint = None if endpoint is None else endpoint_name(endpoint)
        return Arrivals(self.store, endpoint, *self.store.span(endpoint))

    def clear(self) -> None:
        """Forget every captured event (ids are not reused)."""
        self.store.clear()

    def import_events(self, path) -> int:
        """Add the requests saved in a file (/api/export.har, .jsonl or .json) as new events; how many were added.

        n = rx.import_events("capture.har")    # then rx.events(), rx.inspector(), replay, as for any event

        Each keeps its method, path, query, headers (names, order and case as sent), body bytes,
        time received and, where the file has them, its answer and verdict (a HAR file has no
        verdict: its events are unchecked); the provider, event type, delivery id and preview are
        worked out as at capture. Signatures are not checked again, and no rx.on handler runs.
        Credentials the export masked stay masked: the file does not hold them.

        All or nothing: an entry the file gets wrong is a UsageError that names its line and entry
        and what was expected there, and nothing of that file is kept. Bodies over max_body are refused.
        """
        added = import_capture(self.store, path, max_body=self.max_body)
        if added:
            self._notify()
        return added

    def listen(self, callback) -> None:
        """Call `callback()` after each event is stored (from the server's thread: keep it quick)."""
        self._listeners.append(function(callback, "callback", "a function to call after each event, with no argument"))

    def unlisten(self, callback) -> None:
        """Stop calling `callback`; one that was never given is ignored."""
        if function(callback, "callback", "a function that listen() was given") in self._listeners:
            self._listeners.remove(callback)

    def _notify(self) -> None:
        with self._arrived:
            self._arrived.notify_all()
        for callback in list(self._listeners):
            callback()

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        errors = f", {len(self.errors)} handler error(s)" if self.errors else ""
        moved = f", kept {self.store.location}" if self.store.spilled else ""  # all else reads as before
        relayed = f", relayed from {self.relay}" if self.relay is not None else ""
        return f"<Receiver {where}{relayed}, {self.store.count()} events{errors}{moved}>"
