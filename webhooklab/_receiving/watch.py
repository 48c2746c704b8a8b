"""Telling a notebook that events arrived at a bin on a class server: one thread asks, with pauses that grow.

A local receiver calls its listeners from the request that stored the event. A bin is on another
machine, so RemoteReceiver.listen() hands its callbacks to a Watcher: one daemon thread asks for
the bin's newest id, one request at a time, and calls them all when it changed. While nothing
arrives the pause doubles from 0.25 s to 2 s, so an idle notebook costs the class server one small
request every 2 s; the thread ends as soon as the last callback is removed, not after its pause.
"""

from __future__ import annotations

import threading

from .._errors import ReceiverError

FIRST_PAUSE, LONGEST_PAUSE = 0.25, 2.0  # seconds between two questions: after an arrival, and at most


class Watcher:
    """Calls its callbacks from one daemon thread when `newest()`, the id of the newest event, changes.

    `newest` raises a ReceiverError when the class server cannot answer: the thread asks again later.
    """

    def __init__(self, newest):
        self._newest = newest
        self._callbacks: list = []
        self._lock = threading.Lock()  # guards the callbacks and the one thread that serves them
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()  # ends the thread's pause when the last callback goes

    @property
    def watching(self) -> bool:
        """Whether the thread is asking (it runs while there are callbacks)."""
        return self._thread is not None

    def add(self, callback) -> None:
        """Call `callback()` when events arrive from now on; the first one starts the thread."""
        with self._lock:
            self._callbacks.append(callback)
            if self._thread is None:
                try:
                    seen = self._newest()  # what is there now: only what comes after it is news
                except ReceiverError:
                    seen = None  # the class server is away: its first answer counts as news
                self._thread = threading.Thread(target=self._run, args=(seen,), name="webhooklab-bin-watcher",
                                                daemon=True)  # fmt: skip
                self._thread.start()

    def remove(self, callback) -> None:
        """Stop calling `callback` (one never added is ignored); the last one gone ends the thread."""
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)
            if not self._callbacks:
                self._wake.set()

    def _run(self, seen: int | None) -> None:
        pause = FIRST_PAUSE
        try:
            while True:
                self._wake.wait(pause)
                with self._lock:
                    self._wake.clear()
                    if not self._callbacks:
                        self._thread = None  # under the lock: an add() from now on starts a new thread
                        return
                    callbacks = list(self._callbacks)
                try:
                    newest = self._newest()
                except ReceiverError:  # the class server is away for now: ask again, less often
                    newest = seen
                if newest == seen:
                    pause = min(pause * 2, LONGEST_PAUSE)
                    continue
                seen, pause = newest, FIRST_PAUSE
                for callback in callbacks:
                    callback()
        except BaseException:
            with self._lock:
                self._thread = None
            raise
