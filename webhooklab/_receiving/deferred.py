"""An answer another thread gives later: meanwhile the event loop holds the connection, and no worker waits.

A relayed webhook waits for the learner's kernel to answer it, and a relay's request for work waits
for the next webhook. Either may wait tens of seconds, and a class server has 16 workers for everyone:
so the app hands the server a Deferred with the answer to send if nothing better comes (its fallback,
written as usual), the worker moves on, and whichever comes first is sent: `give()` from any
thread, or the fallback at the deadline. A client that leaves first is told to nobody; `give()`
then returns False, so the giver knows its answer was not delivered.

    deferred = Deferred(timeout=30)
    request.environ["webhooklab.defer"] = deferred      # under webhooklab's server
    return fallback_response                             # sent at the deadline
    ...
    deferred.give(200, [("Content-Type", "application/json")], b"{}")   # later, from another thread
"""

from __future__ import annotations

import threading
import time
from http import HTTPStatus

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade", "proxy-connection", "content-length"})  # fmt: skip
WAITING, GIVEN, EXPIRED, GONE = "waiting", "given", "expired", "gone"


class Deferred:
    """One answer to come (see the module's docstring); its `state` says how it ended."""

    def __init__(self, timeout: float):
        self.deadline = time.time() + timeout
        self.state = WAITING
        self.fallback = b""  # the app's own answer, as the server wrote it: sent at the deadline
        self._lock = threading.Lock()
        self._given: tuple[int, list, bytes] | None = None
        self._channel = None
        self._task = None
        self._done = threading.Event()

    def give(self, status: int, headers, body: bytes) -> bool:
        """Send this answer instead of the fallback; False once it is too late (expired, or the client left)."""
        headers = [(str(name), str(value)) for name, value in headers if str(name).lower() not in HOP_BY_HOP]
        if any(_unsafe(name) or _unsafe(value) for name, value in headers) or not 100 <= status <= 599:
            raise ValueError(f"an answer is a status from 100 to 599 and headers without line breaks, got {status}")
        with self._lock:
            if self.state != WAITING:
                return False
            self._given = (status, headers, bytes(body))
            channel = self._channel
            if channel is None:  # given before the server held the connection: bind() sends it
                self.state = GIVEN
                self._done.set()
                return True
            self.state = GIVEN
            data = self._bytes()
        self._done.set()
        return channel.deliver(data)

    def wait(self) -> tuple[int, list, bytes] | None:
        """Under a server without an event loop: block until given (the answer) or expired (None)."""
        self._done.wait(max(0.0, self.deadline - time.time()))
        with self._lock:
            if self.state == WAITING:
                self.state = EXPIRED
            return self._given

    # -- the server's side (connection.py) ----------------------------------------------

    def bind(self, channel, task) -> bytes | None:
        """The connection is held from now on; the answer already given, if it came first."""
        with self._lock:
            self._channel, self._task = channel, task
            return self._bytes() if self.state == GIVEN else None

    def expire(self) -> bytes | None:
        """At the deadline: the fallback to send, or None if an answer was given (and sent) first."""
        with self._lock:
            if self.state != WAITING:
                return None
            self.state = EXPIRED
        self._done.set()
        return self.fallback

    def gone(self) -> None:
        """The client closed the connection before any answer."""
        with self._lock:
            if self.state == WAITING:
                self.state = GONE
        self._done.set()

    def _bytes(self) -> bytes:
        """The given answer as the server would frame it for this request (its HTTP version, keep-alive, Date)."""
        status, headers, body = self._given
        task = self._task
        task.status = f"{status} {_phrase(status)}"
        task.response_headers = [*headers, ("Content-Length", str(len(body)))]
        task.content_length = len(body)
        head = task.build_response_header()
        return head + body if task.has_body else head


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _unsafe(text: str) -> bool:
    return "\r" in text or "\n" in text or "\0" in text
