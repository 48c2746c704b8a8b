"""What every receiver a notebook holds can do, on this machine or as a bin on a class server.

AnyReceiver is the contract: the calls that notebooks, widgets and exercise checks use, with one
signature and one kind of answer whichever receiver they are given. Receiver (receiver.py) runs in
this kernel; RemoteReceiver (remote.py) is a learner's bin on a class server, reached over its JSON
API. Code that takes "a receiver" takes an AnyReceiver and uses nothing else of it:

    url, respond                          where to send, and how an endpoint answers
    wait_for, arrivals                    the events stored, as an Arrivals sequence (arrivals.py)
    events, event, clear                  the table, one whole event, start afresh
    listen, unlisten                      be told when events arrive (a widget redraws)
    inspector, page_url                   the live page
    on, errors, runs_handlers             functions run for each event: only where the kernel holds the receiver
    start, stop, close, running, base_url the lifecycle

An abstract base class rather than a typing.Protocol: isinstance() with a runtime-checkable
Protocol reads every property, and a stopped receiver's base_url raises.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

from .._checks import endpoint_name, seconds, whole
from .._errors import UsageError
from .._event import Event
from .arrivals import Arrivals
from .inspector import InspectorView


class AnyReceiver(ABC):
    """A receiver a notebook holds: one on this machine (wl.Receiver), or a bin on a class server (Receiver.attach)."""

    base_url: str  # the receiver's root: every endpoint is base_url + "/hooks/<name>"
    running: bool  # whether requests sent to it are captured now
    # Whether functions given to rx.on run here. A bin on a class server runs no code from a notebook.
    runs_handlers: bool

    # -- the lifecycle ------------------------------------------------------------------------

    @abstractmethod
    def start(self) -> Self:
        """Start capturing, and return the receiver itself."""

    @abstractmethod
    def stop(self) -> None:
        """Stop capturing; what arrived stays readable."""

    @abstractmethod
    def close(self) -> None:
        """Stop, and let go of what the receiver holds."""

    # -- sending to it ------------------------------------------------------------------------

    @abstractmethod
    def url(self, endpoint: str = "default") -> str:
        """The URL to give a sender: any name is an endpoint."""

    @abstractmethod
    def respond(self, endpoint: str, status: int = 200, *, delay: float = 0.0, fail_first: int = 0,
                body: str | bytes | dict | list | None = None,
                headers: dict[str, str] | None = None) -> None:  # fmt: skip
        """Choose how `endpoint` answers from now on."""

    # -- reading what arrived -----------------------------------------------------------------

    @abstractmethod
    def wait_for(self, n: int = 1, *, timeout: float | None = 5.0, endpoint: str | None = None) -> Arrivals:
        """Block until at least `n` events are stored (at one endpoint, if given); they, as an Arrivals."""

    @abstractmethod
    def arrivals(self, endpoint: str | None = None) -> Arrivals:
        """What is stored now (at one endpoint, if given), oldest first, without waiting.

        `len(rx.arrivals())` counts them, `rx.arrivals()[-10:]` reads the newest ten and no more.
        """

    @abstractmethod
    def events(self, endpoint: str | None = None, *, since: int = 0, limit: int | None = None):
        """A pandas DataFrame, one row per captured request, indexed by event id, oldest first."""

    @abstractmethod
    def event(self, event_id: int = -1) -> Event:
        """One whole captured request by id; -1 is the newest."""

    @abstractmethod
    def clear(self) -> None:
        """Start afresh: what arrived so far is no longer counted."""

    @abstractmethod
    def listen(self, callback) -> None:
        """Call `callback()` from a background thread when events have arrived (keep it quick)."""

    @abstractmethod
    def unlisten(self, callback) -> None:
        """Stop calling `callback`; unknown callbacks are ignored."""

    # -- the page -----------------------------------------------------------------------------

    @abstractmethod
    def page_url(self) -> str:
        """The live page, as the learner's browser reaches it."""

    @abstractmethod
    def inspector(self, *, height: int = 600) -> InspectorView:
        """A link to the live page, and the page embedded in the notebook."""

    # -- handlers -----------------------------------------------------------------------------

    @abstractmethod
    def on(self, event_type: str = "*", *, endpoint: str | None = None, dedupe: bool = False,
           background: bool = False):  # fmt: skip
        """A decorator that runs a function for each verified event of a type (where runs_handlers)."""

    @property
    @abstractmethod
    def errors(self) -> list:
        """What handlers raised, newest last."""


def wait_arguments(n, timeout, endpoint) -> tuple[int, float | None, str | None]:
    """wait_for's arguments, checked, for a local receiver and a bin on a class server alike."""
    n = whole(n, "n", "a whole number of events (0 or more)")
    if n < 0:
        raise UsageError(f"n cannot be negative, got {n}: it is how many events to wait for")
    if timeout is not None:
        timeout = seconds(timeout, "timeout", ": how long to wait, or None to wait until the events arrive")
    return n, timeout, None if endpoint is None else endpoint_name(endpoint)
