"""One setting for a folder's notebooks: the class bin they use, or a receiver of their own.

`wl.join_class(url)` records the bin for this folder (a file read by later kernels), and
`wl.workshop_receiver()` gives every notebook a receiver of its own, which the joined bin's
relay (relay.py) reaches from the class server.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from pathlib import Path
from urllib.parse import quote

from .._errors import ReceiverError, UsageError, UsageTypeError
from .._event import decompress
from .._providers import identify
from .receiver import Receiver
from .relay import Relay, Route
from .remote import RemoteReceiver, bin_address

CLASS_FILE = ".webhooklab-class"  # in the notebooks' folder: the bin URL that wl.workshop_receiver() attaches to

def join_class(bin_url: str | None) -> None:
    """Use your bin on the class server in this folder's notebooks; None goes back to a receiver of your own.

    wl.join_class("http://192.168.1.20:8000/b/<token>/")   # the URL on your handout
    wl.join_class(None)                                    # forget it

    The URL is checked with the class server, then kept in the file .webhooklab-class in this
    folder (readable by you only), where wl.workshop_receiver() finds it in every notebook.
    """
    path = Path.cwd() / CLASS_FILE
    if bin_url is None:
        path.unlink(missing_ok=True)
        print("No class server: each notebook starts a receiver of its own, on this machine.")
        return
    joined = RemoteReceiver(bin_url)  # a typo on the handout, or a server that is down, stops here
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(joined.base_url + "/\n")
    print(f"Joined: the notebooks in this folder use your bin {joined.shown}")


def joined() -> str | None:
    """The bin URL that wl.join_class() recorded in this folder, or None."""
    try:
        text = (Path.cwd() / CLASS_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def workshop_receiver(**options):
    """The notebooks' receiver: your own, on this machine, and also at your class bin's URL if you joined one.

    rx = wl.workshop_receiver()                          # then rx.url(...), rx.wait_for(...), rx.events()
    rx = wl.workshop_receiver(secrets={"pay": secret})   # any of wl.Receiver's options

    In a folder joined to a class (wl.join_class), rx.url() is your bin's URL: the class server
    forwards each request that reaches it to this receiver, over a connection this kernel opens,
    and sends its answer back. Handlers, widgets and checks work exactly as on a laptop.
    """
    try:
        inspect.signature(Receiver).bind(**options)
    except TypeError as error:
        names = ", ".join(inspect.signature(Receiver).parameters)
        raise UsageTypeError(f"wl.workshop_receiver takes wl.Receiver's options ({names}): {error}") from None
    bin_url = joined()
    rx = Receiver(**options).start()
    if bin_url is None:
        return rx
    try:
        relay = BinRelay.for_bin(bin_url)
    except (ReceiverError, UsageError) as error:
        print(
            f"⚠ THIS NOTEBOOK IS NOT CONNECTED TO YOUR CLASS. This folder is joined to {_shown(bin_url)} "
            f"(in {CLASS_FILE}), but it cannot be reached: {error}\n"
            "  The receiver below runs on this machine only, and your instructor sees nothing of this notebook.\n"
            "  Check the network and that the class server runs, then run this cell again; or work on this "
            "machine alone with wl.join_class(None) in the index notebook."
        )
        return rx
    relay.add(rx)
    print(f"Your receiver is reachable at your class bin {relay}: senders go through the class server.")
    return rx


class BinRelay:
    """One kernel's relay from a bin to its receivers: each gets the endpoints it handed out, the newest the rest."""

    _open: dict[str, BinRelay] = {}  # bin URL -> its relay in this kernel
    _lock = threading.Lock()

    def __init__(self, bin_url: str):
        self.relay = Relay(bin_url, [])
        self.receivers: list[Receiver] = []
        self.claims: dict[str, Receiver] = {}  # endpoint -> the receiver whose url() gave it out

    @classmethod
    def for_bin(cls, bin_url: str) -> BinRelay:
        key = bin_address(bin_url)[0]
        with cls._lock:
            link = cls._open.get(key)
            if link is None or not link.relay.running:
                link = cls(bin_url)
                link.relay.start()  # checks the bin first: a ReceiverError says why it cannot
                cls._open[key] = link
            return link

    def add(self, rx: Receiver) -> None:
        rx.relay = self
        self.receivers.append(rx)
        self._route()

    def claim(self, rx: Receiver, endpoint: str) -> str:
        """The bin's URL for `endpoint`, whose requests now go to `rx`."""
        self.claims[endpoint] = rx
        self._route()
        return f"{self.relay.base_url}/hooks/{quote(endpoint, safe='')}"

    def remove(self, rx: Receiver) -> None:
        self.receivers = [other for other in self.receivers if other is not rx]
        self.claims = {endpoint: other for endpoint, other in self.claims.items() if other is not rx}
        if self.receivers:
            self._route()
            return
        self.relay.stop()
        with self._lock:
            if self._open.get(self.relay.base_url) is self:
                del self._open[self.relay.base_url]

    def _route(self) -> None:
        routes = [Route(rx.base_url, endpoint=endpoint, keep_path=True, verdict=functools.partial(local_verdict, rx))
                  for endpoint, rx in self.claims.items()]  # fmt: skip
        if self.receivers:
            newest = self.receivers[-1]
            routes.append(Route(newest.base_url, keep_path=True, verdict=functools.partial(local_verdict, newest)))
        self.relay.routes = routes

    def __repr__(self) -> str:
        return f"{self.relay.shown} ({self.relay.status})"


def local_verdict(rx: Receiver, request: dict, body: bytes) -> tuple[bool | None, str | None]:
    """The signature verdict `rx` reaches on a relayed request, as its capture does: the bin records the same."""
    parts = rx.app.extensions["webhooklab"]
    endpoint = request.get("endpoint") or ""
    if not parts.verifiers.checks(endpoint):
        return None, None
    pairs = tuple((name, value) for name, value in request["headers"])
    header = {name.lower(): value for name, value in pairs}
    decoded, complete = decompress(body, header.get("content-encoding"))
    provider, _, _ = identify(pairs, decoded if complete else b"", header.get("content-type"))
    url = f"{request.get('scheme', 'http')}://{request.get('host', '')}{request.get('prefix', '')}{request['path']}"
    verified, reason, _ = parts.verifiers.check(endpoint, provider, pairs, body, url)
    return verified, reason


def _shown(bin_url: str) -> str:
    try:
        return bin_address(bin_url)[1]
    except (UsageError, UsageTypeError):
        return "a bin URL that is not one"
