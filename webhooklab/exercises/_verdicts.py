"""Each check's verdict, sent to the learner's bin when their folder has joined a class (wl.join_class).

What is sent is the check's name, its notebook and whether it passed, never the learner's code or values:

    POST <bin URL>api/verdict   {"exercise": "ch03.check_verify_github", "notebook": "03.00-security", "passed": true}

Best effort, and bounded. One background thread sends the verdicts in turn, each within TIMEOUT
to connect and TIMEOUT to be answered; at most QUEUE wait for it, and a verdict past that, or one
the server does not take, is dropped. Nothing is printed and nothing raised: a check prints and
returns the same whether its folder joined a class or not, and whether the class server is up or down.
"""

from __future__ import annotations

import atexit
import http.client
import json
import queue
import sys
import threading
from urllib.parse import urlsplit

from .._receiving.joining import joined

QUEUE = 32  # verdicts waiting at most: a Run All of every notebook reports 24
TIMEOUT = 2.0  # seconds to connect, and again to be answered: a class server on the room's network answers in ms
EXIT_WAIT = 2.0  # seconds a kernel that is shutting down waits for the verdicts still queued
MAX_ANSWER = 4096  # bytes of the server's answer read, then the connection is closed


class Reporter:
    """A queue of verdicts and the one thread that sends them (started with the first)."""

    def __init__(self):
        self._queue: queue.Queue = queue.Queue(QUEUE)
        self._thread: threading.Thread | None = None
        self._state = threading.Condition()
        self.waiting = 0
        self.sent = 0  # answered 200 by the bin
        self.dropped = 0  # the queue was full, the server down, or it refused the verdict

    def report(self, exercise: str, notebook: str, passed: bool) -> None:
        """Queue a verdict for this folder's bin, if it joined a class; never raises, never waits."""
        try:
            bin_url = joined()
            if bin_url is None:
                return
            verdict = {"exercise": exercise, "notebook": notebook, "passed": bool(passed)}
            with self._state:
                try:
                    self._queue.put_nowait((bin_url, verdict))
                except queue.Full:
                    self.dropped += 1
                    return
                self.waiting += 1
                if self._thread is None:
                    self._thread = threading.Thread(target=self._send_each, name="webhooklab-verdicts", daemon=True)
                    self._thread.start()
                    atexit.register(self.settled, EXIT_WAIT)  # a kernel shut down right after a check still sends it
        except Exception:  # a folder that cannot be read, a thread that cannot start: the check goes on
            return

    def settled(self, timeout: float = 10.0) -> bool:
        """Wait until every queued verdict is sent or dropped; False if some still wait after `timeout` s."""
        with self._state:
            return self._state.wait_for(lambda: self.waiting == 0, timeout)

    def _send_each(self) -> None:
        while True:
            bin_url, verdict = self._queue.get()
            try:
                ok = post(bin_url, verdict) == 200
            except Exception:  # refused, unreachable, too slow, not HTTP: this verdict is dropped
                ok = False
            with self._state:
                self.sent += ok
                self.dropped += not ok
                self.waiting -= 1
                self._state.notify_all()


def post(bin_url: str, verdict: dict) -> int:
    """POST one verdict to the bin; its HTTP status."""
    parts = urlsplit(bin_url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.request("POST", parts.path.rstrip("/") + "/api/verdict", json.dumps(verdict).encode(),
                           {"Content-Type": "application/json", "X-Webhooklab": "1"})  # fmt: skip
        answer = connection.getresponse()
        answer.read(MAX_ANSWER)
        return answer.status
    finally:
        connection.close()


REPORTER = Reporter()


def report(check, passed: bool) -> None:
    """A check's verdict, named by its chapter and function (ch03.check_verify_github), for the class's bin."""
    try:
        module = sys.modules.get(check.__module__)
        notebook = getattr(module, "NOTEBOOK", None)
        if notebook is not None:  # a check of the course (webhooklab.exercises.ch01 ... ch09)
            REPORTER.report(f"{check.__module__.rpartition('.')[2]}.{check.__name__}", notebook, passed)
    except Exception:
        return
