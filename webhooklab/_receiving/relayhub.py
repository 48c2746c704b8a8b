"""A bin's side of a relay: each webhook that reaches the bin goes to the learner's own receiver, and back.

The learner's kernel (relay.py) opens every connection, so it works from behind NAT, a JupyterHub or
Colab: it asks the bin for work (GET api/relay, held up to RELAY_WAIT seconds when there is none),
forwards each request to its local receiver, and posts that receiver's answer back (POST
api/relay/<id>), which goes to the sender. Neither wait holds a worker: both are Deferreds, held by
the server's event loop.

    no relay yet        the bin answers as it always has (its own rules)
    a relay polls       each webhook is stored, then forwarded; its answer is the notebook's, or a 504
                        after `answer_timeout`, which says the notebook did not answer in time
    the relay is lost   (its held ask was hung up, or no ask for LOST_AFTER seconds, and no goodbye):
                        a 503 at once that says the learner's notebook is not connected, until a relay
                        asks again
    goodbye             (DELETE api/relay): the bin answers as it always has again

One relay at a time: a poll from another session takes over, and the first is told why (409) at its
next poll. Everything is bounded: at most MAX_WAITING requests wait for the notebook.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .deferred import Deferred
from .rules import json_bytes

RELAY_WAIT = 25.0  # seconds a poll is held when no webhook waits: under the 30 s most proxies allow
LOST_AFTER = 10.0  # seconds without a poll after which the notebook counts as gone (it polls again at once)
MAX_WAITING = 32  # webhooks waiting for the notebook (queued or forwarded); more are answered 503 at once
BATCH_BYTES = 1024 * 1024  # a poll's answer carries requests up to this many bytes of body (at least one)
MAX_ANSWER = 1024 * 1024  # bytes of a local answer's body the bin passes on
HELD_BYTES = 256 * 1024 * 1024  # bodies waiting for notebooks, every bin of this process together
BIN_HELD_BYTES = HELD_BYTES // 8  # of which one bin's: a learner who fills theirs leaves the rest to the others
_held = {"bytes": 0}  # what waits now, under _held_lock
_held_lock = threading.Lock()
JSON = [("Content-Type", "application/json")]


@dataclass
class Job:
    """One webhook on its way to the notebook: the request as it arrived, and the sender's held answer."""

    id: str
    event: object  # the stored Event: its body is what the notebook is sent
    request: dict
    deferred: Deferred
    sent: bool = False
    created: float = field(default_factory=time.time)

    @property
    def size(self) -> int:
        return len(self.event.body)


@dataclass
class Session:
    id: str
    since: float = field(default_factory=time.time)
    seen: float = field(default_factory=time.time)
    poll: Deferred | None = None


class RelayHub:
    """One bin's relay (see the module's docstring); thread-safe, bounded."""

    def __init__(self, answer_timeout: float):
        self.answer_timeout = answer_timeout
        self.session: Session | None = None
        self.replaced: dict[str, str] = {}  # sessions taken over -> why (told at their next poll)
        self.counts = {"forwarded": 0, "answered": 0, "late": 0, "not connected": 0}
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- the sender's side ----------------------------------------------------------------

    @property
    def relaying(self) -> bool:
        """Whether webhooks go to a notebook (connected or lost), rather than the bin's own rules."""
        return self.session is not None

    def state(self, now: float | None = None) -> str:
        """'none' (no relay: the bin answers), 'connected', or 'lost' (a relay stopped polling without a goodbye)."""
        session = self.session
        if session is None:
            return "none"
        if session.poll is not None and session.poll.state in ("waiting", "gone"):  # its ask is held, or it hung up
            return "connected" if session.poll.state == "waiting" else "lost"
        return "connected" if (now or time.time()) - session.seen < LOST_AFTER else "lost"

    def waiting_answer(self) -> tuple[int, bytes]:
        """What a forwarded webhook is stored with, and answered if the notebook does not answer in time."""
        return 504, relay_problem(
            f"the learner's notebook did not answer within {self.answer_timeout:g} s",
            "the request reached the bin (it is stored there) and was forwarded to the learner's notebook, but no "
            "answer came back: a handler that takes too long, a respond(delay=...) longer than this, or a kernel "
            "that is busy or stopped")

    def forward(self, event, request: dict) -> Deferred | tuple[int, bytes]:
        """Queue a stored webhook for the notebook: its held answer, or (status, body) to answer now."""
        with self._lock:
            state = self.state()
            if state != "connected":
                self.counts["not connected"] += 1
                seen = time.strftime("%H:%M:%S", time.localtime(self.session.seen)) if self.session else "never"
                return 503, relay_problem(
                    "the learner's notebook is not connected to this bin",
                    f"this bin forwards each webhook to a receiver in the learner's notebook, last connected at "
                    f"{seen}. The request is stored in the bin. Restart the notebook, or run its "
                    "wl.workshop_receiver() cell again; wl.join_class(None) in the index stops the forwarding")
            self._prune()
            mine = sum(job.size for job in self._jobs.values()) + len(event.body)
            if len(self._jobs) >= MAX_WAITING or mine > BIN_HELD_BYTES or not _hold(len(event.body)):
                self.counts["not connected"] += 1
                return 503, relay_problem(
                    "too much already waits for the learner's notebook",
                    f"at most {MAX_WAITING} requests and {BIN_HELD_BYTES // 1024 // 1024} MB of bodies a bin, and "
                    f"{HELD_BYTES // 1024 // 1024} MB on this class server, wait for notebooks to answer; this "
                    "request is stored in the bin. The notebook "
                    "answers more slowly than webhooks arrive")  # fmt: skip
            deferred = Deferred(self.answer_timeout)
            job = Job(str(next(self._ids)), event, request, deferred)
            self._jobs[job.id] = job
            self.counts["forwarded"] += 1
            poll = self.session.poll
        if poll is not None:
            self._hand_out(poll)
        return deferred

    # -- the relay's side -------------------------------------------------------------------

    def poll(self, session_id: str, wait: float,
             holding: frozenset | None = frozenset()) -> tuple[Deferred | None, int, bytes]:  # fmt: skip
        """A relay asks for work: (held answer, status, body); without a Deferred, the answer is now.

        `holding` is what the relay has received and not yet answered: a request handed out but not
        held was lost on the way (the answer to an ask that failed), and is handed out again. None: the relay
        does not say what it holds, so what was handed out stays handed out.
        """
        with self._lock:
            if session_id in self.replaced:
                return None, 409, relay_problem("another relay took over this bin", self.replaced[session_id])
            now = time.time()
            current = self.session
            if current is None or current.id != session_id:
                if current is not None:
                    self._take_over(current, now)
                current = self.session = Session(session_id)
                for job in self._jobs.values():
                    job.sent = False  # a new relay gets what the old one had not answered
            current.seen = now
            for job in self._jobs.values() if holding is not None else ():
                job.sent = job.sent and job.id in holding
            old, current.poll = current.poll, None
            if old is not None:  # the same relay polled again: its last poll is answered empty
                _give(old, json_bytes({"requests": []}))
            batch = self._batch()
            if batch or wait <= 0:
                return None, 200, json_bytes({"requests": batch})
            current.poll = Deferred(wait)
        return current.poll, 200, json_bytes({"requests": []})

    def answer(self, session_id: str, job_id: str, status: int, headers, body: bytes) -> tuple[object | None, str]:
        """The notebook's answer to one request: (the stored event, what became of it) or (None, why not)."""
        with self._lock:
            if self.session is None or self.session.id != session_id:
                return None, "this relay no longer serves the bin: another took over, or it said goodbye"
            self.session.seen = time.time()
            job = self._jobs.pop(job_id, None)
            if job is not None:
                _hold(-job.size)
        if job is None:
            return None, f"no request {job_id!r} waits for an answer: it was answered already, or waited too long"
        delivered = job.deferred.give(status, headers, body[:MAX_ANSWER])
        self.counts["answered" if delivered else "late"] += 1
        return job.event, "answered" if delivered else "the sender had stopped waiting before this answer came"

    def leave(self, session_id: str) -> bool:
        """The relay's goodbye: the bin answers by its own rules again."""
        with self._lock:
            if self.session is None or self.session.id != session_id:
                return False
            poll, self.session = self.session.poll, None
            self._retire(session_id, "this relay said goodbye")  # an ask of its still on the way starts nothing
            jobs = self._drop_jobs()
        if poll is not None:
            _give(poll, json_bytes({"requests": []}))
        _tell(jobs, "its receiver was stopped")
        return True

    def close(self, why: str) -> None:
        """Cut the relay off (the bin's token was rotated, or it was reset); it is told why."""
        with self._lock:
            if self.session is not None:
                self._take_over(self.session, time.time(), why)
                self.session = None
            jobs = self._drop_jobs()
        _tell(jobs, why)

    def report(self) -> dict:
        """The relay's state and counts, for the dashboard."""
        session = self.session
        return {"state": self.state(), "since": session.since if session else None,
                "seen": session.seen if session else None, "waiting": len(self._jobs), **self.counts}  # fmt: skip

    # -- inside the lock ----------------------------------------------------------------------

    def _take_over(self, old: Session, now: float, why: str | None = None) -> None:
        self._retire(old.id, why or (
            f"a relay that started at {time.strftime('%H:%M:%S', time.localtime(now))} serves this bin now "
            "(another notebook, or another computer, joined with the same bin URL); this one stopped"))
        if old.poll is not None:
            _give(old.poll, relay_problem("another relay took over this bin", self.replaced[old.id]), 409)

    def _retire(self, session_id: str, why: str) -> None:
        """A session that may not ask again: told `why` (409) if it does. The latest 16 are kept."""
        self.replaced[session_id] = why
        while len(self.replaced) > 16:
            self.replaced.pop(next(iter(self.replaced)))

    def _batch(self) -> list[dict]:
        """Requests not yet handed to the current relay, oldest first, up to BATCH_BYTES of bodies."""
        self._prune()
        batch, size = [], 0
        for job in self._jobs.values():
            if job.sent or (batch and size + job.size > BATCH_BYTES):
                continue
            job.sent, size = True, size + job.size
            batch.append({"id": job.id, **job.request, "body": base64.b64encode(job.event.body).decode("ascii")})
        return batch

    def _drop_jobs(self) -> list[Job]:
        jobs, self._jobs = list(self._jobs.values()), OrderedDict()
        _hold(-sum(job.size for job in jobs))
        return jobs

    def _prune(self) -> None:
        """Forget the requests the notebook never answered, long after their senders stopped waiting.

        A request whose sender has gone is still handed to the notebook, and its late answer still
        recorded in the bin, as the notebook's receiver records every request that reaches it.
        """
        now = time.time()
        for job in [job for job in self._jobs.values() if now - job.created > 2 * self.answer_timeout]:
            del self._jobs[job.id]
            _hold(-job.size)

    def _hand_out(self, poll: Deferred) -> None:
        with self._lock:
            if self.session is None or self.session.poll is not poll:
                return
            batch = self._batch()
            if not batch:
                return
            self.session.poll = None
        if not _give(poll, json_bytes({"requests": batch})):
            with self._lock:  # the relay's poll had gone: the next one gets them
                for item in batch:
                    if item["id"] in self._jobs:
                        self._jobs[item["id"]].sent = False


def _give(poll: Deferred, body: bytes, status: int = 200) -> bool:
    """Answer a relay's held ask with JSON; False when it is no longer waiting."""
    return poll.give(status, JSON, body)


def _tell(jobs: list[Job], why: str) -> None:
    """Answer the senders of requests the notebook will never answer now, instead of at the deadline."""
    for job in jobs:
        job.deferred.give(503, JSON, relay_problem("the learner's notebook stopped forwarding before it answered",
                                              f"{why}; the request is stored in the bin"))


def _hold(size: int) -> bool:
    """Count `size` more bytes of bodies waiting for notebooks (fewer, when negative); False when over the cap."""
    with _held_lock:
        if size > 0 and _held["bytes"] + size > HELD_BYTES:
            return False
        _held["bytes"] += size
        return True


def request_for_relay(environ, event, target: str) -> dict:
    """What the notebook needs to replay a request exactly (the body is added when it is sent), and where it came in."""
    return {
        "endpoint": event.endpoint,
        "event_type": event.event_type,
        "method": environ["REQUEST_METHOD"],
        "path": target,
        "headers": [list(pair) for pair in environ.get("webhooklab.raw_headers") or []],
        "client": environ.get("REMOTE_ADDR", ""),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "host": environ.get("HTTP_HOST", ""),
        "prefix": environ.get("SCRIPT_NAME", ""),
    }


def relay_problem(error: str, why: str) -> bytes:
    return json_bytes({"error": error, "why": why})
