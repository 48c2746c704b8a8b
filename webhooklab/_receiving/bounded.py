"""One HTTP answer from a server that may not play fair, read within bounds: the remote client's only reader.

requests bounds each socket operation, not a request: a server that sends a byte every few seconds
keeps a `timeout=10` request open for hours. It reads an answer of any size, and it inflates gzip
and deflate as it reads, so a megabyte of gzip can become gigabytes. fetch() reads one answer with
requests, streamed, and stops at the first bound it reaches:

    a Deadline   wall time for a whole call, shared by every request the call makes (each page of a
                 list): checked between chunks, and a watchdog shuts the socket down when it passes,
                 so a server that drips its headers, or its body, is cut off on time
    `limit`      bytes: announced (Content-Length), read on the wire, and decoded, each at most
                 `limit`; the body is decoded CHUNK bytes at a time, so a compression bomb stops
                 at the cap instead of filling memory (urllib3 before 2.6 decodes a whole raw
                 chunk at once: up to a thousand times CHUNK past the cap, still a bound)

A bound reached is a ReceiverError that says which, how much arrived, and what it likely means.
RemoteReceiver (remote.py) makes every request through fetch() and checks what the answer holds.
"""

from __future__ import annotations

import functools
import heapq
import os
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException, RemoteDisconnected
from urllib.parse import urlsplit

from .._errors import ReceiverError

CHUNK = 64 * 1024  # bytes read and decoded at a time: the most one read adds before a cap is checked
_current = threading.local()  # .watch: the _Watch of the request this thread is making


class Deadline:
    """The wall time one call may take: made once per call, handed to every request the call makes."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds  # on the time.monotonic() clock

    def left(self) -> float:
        """Seconds left, 0 or less once it has passed."""
        return self.end - time.monotonic()


@dataclass(frozen=True)
class Answer:
    """An answer read whole and within bounds: its status, headers (any case) and body, decoded."""

    status: int
    headers: Mapping[str, str]
    content: bytes


def fetch(method: str, url: str, *, shown: str, deadline: Deadline, limit: int, params=None, json=None,
          headers=None) -> Answer:  # fmt: skip
    """One request, its whole answer read by the deadline and within `limit` bytes, or a ReceiverError.

    `shown` names the request in messages (a bin's token masked); redirects are not followed: a
    3xx comes back as it is, for the caller to explain.
    """
    import requests

    if deadline.left() <= 0:
        raise _late(shown, deadline, 0)
    watch = _Watch()
    _current.watch = watch
    _WATCHDOG.add(watch, deadline)
    try:
        with requests.Session() as session:
            adapter = _adapter()()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            try:
                response = session.request(method, url, params=params, json=json, headers=headers, stream=True,
                                           allow_redirects=False, timeout=max(deadline.left(), 0.001))  # fmt: skip
            except requests.RequestException as error:
                raise _failed(error, shown, deadline, watch, url) from None
            with response:
                content = _read(response, shown, deadline, watch, limit)
            return Answer(response.status_code, response.headers, content)
    finally:
        _current.watch = None
        watch.close()


def _read(response, shown: str, deadline: Deadline, watch: _Watch, limit: int) -> bytes:
    """The body, decoded a chunk at a time; past the deadline or a cap, a ReceiverError (the caller closes)."""
    import urllib3

    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    announced = response.headers.get("Content-Length", "").strip()
    if announced.isdigit() and int(announced) > limit:
        raise _too_large(shown, f"it announced {_size(int(announced))} (Content-Length)", limit)
    raw, pieces, size = response.raw, [], 0
    while True:
        try:
            piece = raw.read(CHUNK, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            if watch.expired(deadline):
                raise _late(shown, deadline, raw.tell()) from None
            if isinstance(error, urllib3.exceptions.DecodeError):
                raise ReceiverError(f"{shown}: the answer says it is {encoding or 'encoded'}, but its body does not "
                                    "decode: is a proxy in the way, or is this not a webhooklab class server?"
                                    ) from None  # fmt: skip
            raise ReceiverError(f"{shown}: the answer was cut short after {_size(raw.tell())} "
                                f"({type(error).__name__}). Did the network drop? Try again") from None  # fmt: skip
        if watch.expired(deadline):  # a connection cut at the deadline ends as if the answer were whole
            raise _late(shown, deadline, raw.tell())
        if not piece:
            return b"".join(pieces)
        size += len(piece)
        if raw.tell() > limit:
            raise _too_large(shown, f"more than {_size(limit)} arrived", limit)
        if size > limit:
            raise _too_large(shown, f"its {encoding} body decodes to more than {_size(limit)} (a compression bomb "
                             f"from {_size(raw.tell())} on the wire)", limit)  # fmt: skip
        pieces.append(piece)


def _failed(error, shown: str, deadline: Deadline, watch: _Watch, url: str) -> ReceiverError:
    """What a request that got no answer at all says: too late, no answer, or no server there."""
    import requests

    if watch.expired(deadline):
        return _late(shown, deadline, 0)
    if isinstance(error, requests.Timeout):
        return ReceiverError(
            f"{shown}: the class server gave no answer within {deadline.seconds:g} s. Is it overloaded, or did "
            "the network drop? Try again, or ask the instructor"
        )
    if any(isinstance(cause, HTTPException) and not isinstance(cause, RemoteDisconnected) for cause in _causes(error)):
        return ReceiverError(
            f"{shown}: something answers at {_origin(url)}, but not in HTTP ({type(error).__name__}). Is the port the "
            "one on your handout, and is this the bin URL of a webhooklab class server?"
        )
    if isinstance(error, requests.ConnectionError):
        return ReceiverError(
            f"{shown}: cannot reach the class server at {_origin(url)}. Is it running, and is this machine "
            "on the same network? Ask the instructor, or work on your machine with wl.join_class(None)"
        )
    return ReceiverError(f"{shown}: the request failed ({type(error).__name__}). Is this the bin URL on your handout?")


def _causes(error: BaseException):
    """The error and what it wraps: requests wraps urllib3's errors, which wrap http.client's and the socket's."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        inner = [arg for arg in error.args if isinstance(arg, BaseException)]
        error = inner[0] if inner else getattr(error, "reason", None) or error.__cause__ or error.__context__


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _late(shown: str, deadline: Deadline, arrived: int) -> ReceiverError:
    so_far = f"{_size(arrived)} of its answer had arrived" if arrived else "no answer had arrived"
    return ReceiverError(
        f"{shown}: the call took longer than {deadline.seconds:g} s, the time one call to the class server may "
        f"take in all (every page of it); {so_far}. Is the class server overloaded, the network slow, or is this "
        "not a webhooklab class server? Try again, or ask the instructor"
    )


def _too_large(shown: str, what: str, limit: int) -> ReceiverError:
    return ReceiverError(
        f"{shown}: the answer is larger than a bin ever sends here ({_size(limit)} at most): {what}, so reading "
        "stopped. Is this the bin URL of a webhooklab class server, or is a proxy answering in its place?"
    )


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


class _Watch:
    """The sockets of one request, shut down at its deadline by the watchdog: a read blocked on them returns at once.

    Each is a duplicate of the connection's socket (the same connection, another descriptor), so it
    stays valid however urllib3 wraps or closes its own, and shutting it down ends the connection.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock.dup())
            if self._cut:
                self._shut(self._sockets[-1])

    def expired(self, deadline: Deadline) -> bool:
        """Whether the call is out of time: its deadline passed, or the watchdog cut the connection."""
        return self._cut or deadline.left() <= 0

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            for sock in self._sockets:
                self._shut(sock)

    def close(self) -> None:
        """The request is over: close the duplicates; a cut from now on does nothing."""
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # closed already
            pass


class _Watchdog:
    """One daemon thread for every request: at each one's deadline, it cuts the request's sockets (_Watch.cut).

    A request that ended before its deadline has closed its _Watch, and cutting it then does nothing.
    """

    def __init__(self):
        self._due: list[tuple[float, int, _Watch]] = []  # a heap: the soonest deadline first
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch, deadline: Deadline) -> None:
        with self._changed:
            heapq.heappush(self._due, (deadline.end, id(watch), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="webhooklab-deadlines", daemon=True)
                self._thread.start()
            self._changed.notify()

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    heapq.heappop(self._due)[2].cut()
                self._changed.wait(self._due[0][0] - now if self._due else None)


_WATCHDOG = _Watchdog()
if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_WATCHDOG.__init__)  # a forked process has none of its parent's threads


@functools.cache
def _adapter():
    """requests' HTTPAdapter whose connections hand their sockets to the request's _Watch (made on first use)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def watched(connection):
        class Watched(connection):
            def _new_conn(self):
                sock = super()._new_conn()
                watch = getattr(_current, "watch", None)
                if watch is not None:
                    watch.add(sock)
                return sock

        return Watched

    pools = {"http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": watched(HTTPConnection)}),
             "https": type("TLSPool", (HTTPSConnectionPool,), {"ConnectionCls": watched(HTTPSConnection)})}  # fmt: skip
    plain = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}

    class WatchedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy, **kwargs):
            manager = super().proxy_manager_for(proxy, **kwargs)
            if manager.pool_classes_by_scheme == plain:  # a SOCKS proxy keeps its own pools
                manager.pool_classes_by_scheme = pools
            return manager

    return WatchedAdapter
