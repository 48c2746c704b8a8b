"""Clocks for deliveries: real time, virtual time that jumps, and waiting that runs faster.

A delivery keeps its own time cursor and asks its clock to wait until the
next attempt is due; the clock decides whether that takes days, seconds or
nothing at all. Every attempt is still a real HTTP request.
"""

from __future__ import annotations

import math
import numbers
import threading
import time

from .._checks import got, seconds
from .._errors import UsageError, UsageTypeError

UNIX = ": unix seconds, like time.time()"


class RealClock:
    """Wall-clock time: a retry due in an hour happens in an hour."""

    def now(self) -> float:
        return time.time()

    def wait_until(self, when: float) -> float:
        when = seconds(when, "when", UNIX, negative=True)
        time.sleep(max(0.0, when - self.now()))
        return max(when, self.now())

    def __repr__(self) -> str:
        return "RealClock()"


class VirtualClock:
    """Time that jumps straight to the next attempt: three days of retries run in well under a second.

    Each delivery starts at the clock's start (real now, unless given) and its
    cursor only moves when it waits, so several deliveries can share one clock.
    """

    def __init__(self, start: float | None = None):
        self.start = time.time() if start is None else seconds(start, "start", UNIX, negative=True)

    def now(self) -> float:
        return self.start

    def wait_until(self, when: float) -> float:
        return seconds(when, "when", UNIX, negative=True)

    def __repr__(self) -> str:
        return "VirtualClock()"


class AcceleratedClock:
    """Waiting sped up: speed=3600 plays an hour of waiting in one real second, for live animations.

    Only waits are played faster; virtual time stands still while a request is under way. Otherwise
    an answer's own time is sped up too: at 3600× an answer 0.2 s slow is 12 virtual minutes, and
    pushes an attempt due 60 s later to 12 minutes. Time moves while any delivery on this clock waits.
    """

    def __init__(self, speed: float = 3600.0, start: float | None = None):
        if isinstance(speed, bool) or not isinstance(speed, numbers.Real):
            raise UsageTypeError(
                f"speed must be a number: virtual seconds per real second, such as 3600, got {got(speed)}"
            )
        if not 0 < speed < math.inf:
            raise UsageError(f"speed must be more than 0 and finite (3600 plays an hour a second), got {got(speed)}")
        self.speed = speed
        self.start = time.time() if start is None else seconds(start, "start", UNIX, negative=True)
        self._lock = threading.Lock()
        self._waited = 0.0  # real seconds of waiting before the current wait
        self._since: float | None = None  # when the current wait began (monotonic), while anyone waits
        self._waiters = 0

    def now(self) -> float:
        with self._lock:
            waited = self._waited + (time.monotonic() - self._since if self._since is not None else 0.0)
        return self.start + waited * self.speed

    def wait_until(self, when: float) -> float:
        when = seconds(when, "when", UNIX, negative=True)
        with self._lock:
            self._waiters += 1
            if self._waiters == 1:
                self._since = time.monotonic()
        ahead = when - self.now()
        try:
            time.sleep(max(0.0, ahead / self.speed))
        finally:
            with self._lock:
                self._waiters -= 1
                if self._waiters == 0:
                    self._waited += time.monotonic() - self._since
                    self._since = None
        return when if ahead > 0 else self.now()  # on time: a sleep's overshoot, sped up, is no part of the schedule

    def __repr__(self) -> str:
        return f"AcceleratedClock(speed={self.speed:g})"
