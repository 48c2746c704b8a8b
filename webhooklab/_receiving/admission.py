"""What a server may be told about who sends each request, and the answers it gives when one is refused.

A server given an `Admission` (a class server's per-bin limits, _classroom/limits.py) asks it
about each request as soon as its headers are in, in its event loop, and gets back a `Ticket`:
whose share of the workers the request counts against, whether it is refused (a `Refusal`,
answered without the app), and a callback for when its answer has been sent. `FairQueue`
hands the workers to tenants in turn.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from waitress.utilities import Error


@dataclass
class Ticket:
    """What an admission decided about one request, as soon as its headers were in."""

    tenant: str | None = None  # whose share of the workers and limits it counts against
    refused: tuple[int, str] | None = None  # (status, message): answered at once, its body never read
    body_cap: int | None = None  # keep at most this much of its body (a request nobody will store)
    on_release: Callable[[], None] | None = None  # once its answer is sent, or its connection closed

    def release(self) -> None:
        done, self.on_release = self.on_release, None
        if done:
            done()


class Admission:
    """The interface a server's `admission` offers (a class server's limits, _classroom/limits.py)."""

    def admit(self, method: str, path: str, length: int | None) -> Ticket:
        raise NotImplementedError


class Refusal(Error):
    """An admission's refusal, answered as JSON like every other refusal of a receiver."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.reason = code, HTTPStatus(code).phrase

    def to_response(self, content_type="application/json"):
        body = json.dumps({"error": self.reason.lower(), "status": self.code, "why": self.body}).encode()
        return f"{self.code} {self.reason}", [("Content-Type", content_type)], body


class FairQueue:
    """waitress's queue of channels with a request to serve, taken round-robin by tenant.

    A bin that sends a hundred requests at once waits behind its own, never behind
    everyone else's: the next worker free serves the next tenant in turn.
    """

    def __init__(self):
        self._queues: dict[str | None, deque] = {}
        self._turns: deque = deque()
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, channel) -> None:
        request = channel.requests[0] if channel.requests else None
        tenant = request.ticket.tenant if request is not None and request.ticket is not None else None
        if tenant not in self._queues:
            self._queues[tenant] = deque()
            self._turns.append(tenant)
        self._queues[tenant].append(channel)
        self._length += 1

    def popleft(self):
        tenant = self._turns.popleft()
        queue = self._queues[tenant]
        channel = queue.popleft()
        self._length -= 1
        if queue:
            self._turns.append(tenant)
        else:
            del self._queues[tenant]
        return channel
