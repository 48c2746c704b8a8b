"""The instructor as the provider: one event delivered to every learner's bin at once, each copy signed with its own secret.

A broadcast makes one realistic event from the provider's own templates and delivers a copy to
/b/<token>/hooks/<endpoint> of every learner (or of one), over real HTTP to this server, so whatever
the bin answers is what the sender sees. Each copy is signed with that learner's secret by the
provider's scheme, gets its own delivery id, and is retried on the provider's own schedule
(_sending/retry.py) replayed on a compressed clock: the whole schedule takes at most `replay` seconds,
while every attempt says when it would have been sent for real ("+30 min").

What it may cost the server, whatever the class:

    senders     SENDERS threads of its own make every attempt (never the server's workers; a quarter as many),
                each attempt with the provider's own timeout
    waiting     no thread sleeps through a retry's wait: waiting copies sit in one heap, by when they are due
    at once     at most RUNNING broadcasts run, and KEPT are remembered, fewer when the finished ones hold
                more than ROWS attempts; an attempt is a small row whose copy of the bin's answer is at most
                ANSWER characters (a running broadcast holds at most one row per attempt its policy allows)
    a bin       a bin has at most IN_FLIGHT requests in flight (limits.py), a broadcast's too: an attempt
                waits for room, up to the provider's timeout, rather than be refused; a refusal that
                comes anyway is an attempt that failed, shown as such
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import threading
import time
from collections import OrderedDict
from datetime import datetime, timezone
from urllib.parse import quote

from .._checks import endpoint_name, got, seconds
from .._errors import ReceiverError, UsageError, UsageTypeError
from .._providers import PROVIDERS
from .._providers.registry import one_of
from .._receiving.transport import THREADS
from .._redact import mask
from .._sending.clock import VirtualClock
from .._sending.timeline import duration
from .limits import IN_FLIGHT

SENDERS = THREADS // 4  # attempts at once, all broadcasts together: most of the workers stay the learners'
RUNNING = 3  # broadcasts at once
KEPT = 20  # broadcasts remembered, the oldest finished one forgotten first
ROWS = 30_000  # attempts the finished broadcasts remembered may hold: about 22 MB, at some 730 bytes a row
REPLAY = 10.0  # seconds the whole retry schedule takes, replayed
MAX_REPLAY = 600.0
ANSWER = 200  # characters of a bin's answer kept with each attempt
ROOM_CHECK = 0.2  # seconds between looks at a full bin
DEFAULT_ENDPOINT = "shop"  # the endpoint the lessons send to
GAVE_UP = {"failed", "exhausted", "disabled"}


class Busy(UsageError):
    """As many broadcasts run as may: the message says which, and to wait for one to end."""


@dataclasses.dataclass
class Copy:
    """One learner's copy of a broadcast: its delivery while it runs, its attempts as small rows."""

    learner: object
    delivery: object | None
    due: float  # the clock's time the next attempt is due
    attempts: list[dict] = dataclasses.field(default_factory=list)
    status: str = "pending"  # the Delivery's word: pending, delivered, failed, exhausted, disabled
    note: str | None = None  # why the next attempt waits beyond its schedule, or why the delivery ended early
    waiting_since: float | None = None  # time.monotonic() when the bin was first found full

    @property
    def outcome(self) -> str:
        """delivered, gave up, retrying (a retry is due), waiting (for room in the bin) or sending."""
        if self.status == "delivered" or self.status in GAVE_UP:
            return "gave up" if self.status in GAVE_UP else "delivered"
        return "waiting" if self.waiting_since is not None else "retrying" if self.attempts else "sending"


class Broadcast:
    """One event sent to many bins: who got what, attempt by attempt (see the module's docstring)."""

    def __init__(self, number: int, provider: str, event_type: str, endpoint: str, learners, url, replay: float):
        cls = PROVIDERS[provider]
        maker = cls(learners[0].secret)
        self.id, self.provider, self.title, self.endpoint = number, provider, cls.title, endpoint
        self.event = maker.event(event_type)
        self.event_type = event_type
        self.policy = maker.policy_for(self.event)
        self.speed = max(1.0, self.policy.offsets()[-1] / replay)  # virtual seconds per real second
        self.started_at = datetime.now(timezone.utc)
        self.clock = VirtualClock()  # the schedule's own time, from now; the real time follows it `speed` times slower
        self.real_start = time.monotonic()
        self.version = 0  # grows with every change, so a page asks only for news
        self._lock = threading.Lock()
        self._ended = threading.Event()
        self.copies: list[Copy] = []
        for learner in learners:
            to = url(learner)
            signer = cls(learner.secret).at(to)  # a scheme that signs the URL (Twilio's) signs this one
            copy = Copy(learner, None, self.clock.now())
            copy.delivery = signer.delivery_class(signer, self.event, to, clock=self.clock,
                                                  on_attempt=lambda _, row, copy=copy: self._attempted(copy, row))  # fmt: skip
            self.copies.append(copy)

    def real(self, when: float) -> float:
        """The time.monotonic() at which the clock's time `when` comes, replayed `speed` times faster."""
        return self.real_start + (when - self.clock.start) / self.speed

    @property
    def done(self) -> bool:
        return all(copy.delivery is None for copy in self.copies)

    def rows(self) -> int:
        """The attempts it holds."""
        return sum(len(copy.attempts) for copy in self.copies)

    def _attempted(self, copy: Copy, row: dict) -> None:
        """A copy's attempt, kept as a small row; the delivery keeps it without the bodies."""
        result = row["result"]
        row["result"] = dataclasses.replace(result, response_body=b"", request_body=b"")
        answer = result.response_body[:ANSWER].decode("utf-8", "replace")
        with self._lock:
            copy.attempts.append({
                "attempt": row["attempt"], "after": round(row["offset"], 3), "at": f"+{duration(row['offset'])}",
                "sent_at": result.sent_at.isoformat(),
                "status": row["status"], "error": row["error"], "elapsed_ms": round(row["elapsed"] * 1000, 1),
                "outcome": row["outcome"], "answer": answer,
            })  # fmt: skip
            self.version += 1

    def waiting(self, copy: Copy, since: float | None, why: str | None) -> None:
        """The copy's bin is full (since `since`, time.monotonic()), or no longer (None)."""
        with self._lock:
            copy.waiting_since, copy.note = since, why
            self.version += 1

    def end(self, copy: Copy, status: str, why: str | None = None) -> None:
        """The copy's delivery is over: its status stays, the delivery (and its signed body) goes."""
        with self._lock:
            copy.status, copy.delivery, copy.note, copy.waiting_since = status, None, why, None
            self.version += 1
        if self.done:
            self._ended.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every copy has ended (True), or `timeout` seconds have passed (False)."""
        return self._ended.wait(timeout)

    def counts(self) -> dict[str, int]:
        tally = {"delivered": 0, "retrying": 0, "waiting": 0, "sending": 0, "gave up": 0}
        for copy in self.copies:
            tally[copy.outcome] += 1
        return tally

    def summary(self) -> dict:
        with self._lock:
            return self._summary()

    def _summary(self) -> dict:
        policy = self.policy
        timeout = policy.timeout or PROVIDERS[self.provider].timeout
        return {
            "id": self.id, "provider": self.provider, "title": self.title, "event_type": self.event_type,
            "event_id": self.event.get("id") if isinstance(self.event.get("id"), str) else None,
            "endpoint": self.endpoint, "started_at": self.started_at.isoformat(), "learners": len(self.copies),
            "done": self.done, "version": self.version, "counts": self.counts(),
            "policy": {"name": policy.name, "attempts": policy.attempts, "timeout": timeout,
                       "schedule": [f"+{duration(offset)}" for offset in policy.offsets()],
                       "assumption": policy.assumption, "note": policy.note},
            "speed": round(self.speed, 1),
        }  # fmt: skip

    def to_dict(self) -> dict:
        """The summary, and each learner's copy: its outcome, every attempt, and when the next one is due."""
        with self._lock:
            out = self._summary()
            out["copies"] = [{
                "learner": copy.learner.name, "signed_with": mask(copy.learner.secret), "outcome": copy.outcome,
                "status": copy.status, "note": copy.note, "attempts": list(copy.attempts),
                "next": f"+{duration(copy.due - self.clock.start)}" if copy.delivery is not None and copy.attempts
                else None,
            } for copy in self.copies]  # fmt: skip
        return out

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {word}" for word, n in self.counts().items() if n)
        return f"<Broadcast {self.id}: {self.title} {self.event_type} to {len(self.copies)} bin(s), {counts}>"


class Broadcaster:
    """Runs a class server's broadcasts on threads of its own (see the module's docstring)."""

    def __init__(self, server, *, senders: int = SENDERS):
        self.server = server
        self.senders = senders
        self.numbers = itertools.count(1)
        self._kept: OrderedDict[int, Broadcast] = OrderedDict()
        self._due: list[tuple[float, int, Broadcast, Copy]] = []  # (time.monotonic() due, order, broadcast, copy)
        self._order = itertools.count()
        self._lock = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False

    def send(self, provider, event_type, *, endpoint=DEFAULT_ENDPOINT, learner=None, replay=REPLAY) -> Broadcast:
        """Start delivering `event_type` of `provider` to every learner's bin (or `learner`'s); returns at once."""
        provider, event_type = _provider(provider), _event_type(provider, event_type)
        endpoint = endpoint_name(endpoint)
        replay = seconds(replay, "replay", ": how long the whole retry schedule takes, replayed")
        if not 0.1 <= replay <= MAX_REPLAY:
            raise UsageError(f"replay is how many seconds the whole retry schedule takes, from 0.1 to {MAX_REPLAY:g}, "
                             f"got {got(replay)}")  # fmt: skip
        learners = self._learners(learner)
        with self._lock:
            self._room_for_one()  # before the copies are made; and again below, as another may have started since
        broadcast = Broadcast(next(self.numbers), provider, event_type, endpoint, learners,
                              lambda one: f"{self.server.bin_url(one)}hooks/{quote(endpoint, safe='')}", replay)  # fmt: skip
        with self._lock:
            if self._closed:
                raise ReceiverError("the class server is stopping: no broadcast starts now")
            self._room_for_one()
            self._kept[broadcast.id] = broadcast
            finished = [one for one in self._kept.values() if one.done]
            rows = sum(one.rows() for one in finished)
            for one in finished:
                if len(self._kept) <= KEPT and rows <= ROWS:
                    break
                del self._kept[one.id]
                rows -= one.rows()
            for copy in broadcast.copies:
                self._push(broadcast.real_start, broadcast, copy)
            while len(self._threads) < self.senders:
                thread = threading.Thread(target=self._work, name=f"webhooklab-broadcast-{len(self._threads)}",
                                          daemon=True)  # fmt: skip
                self._threads.append(thread)
                thread.start()
        return broadcast

    def _learners(self, name) -> list:
        learners = [one.learner for one in self.server.bins.values()]  # one mapping: add and rotate replace it whole
        if name is None:
            return list(learners)
        if not isinstance(name, str):
            raise UsageTypeError(f"learner must be a learner's name, a str such as {learners[0].name!r}, or none for "
                                 f"everyone, got {got(name)}")  # fmt: skip
        found = [one for one in learners if one.name.casefold() == name.strip().casefold()]
        if not found:
            shown = ", ".join(repr(one.name) for one in learners[:5]) + (", ..." if len(learners) > 5 else "")
            raise UsageError(f"this class has no learner named {name[:100]!r}: its {len(learners)} learners are "
                             f"{shown}. Use the name on the dashboard and the handout, or none for everyone")  # fmt: skip
        return found

    def _room_for_one(self) -> None:
        running = [one for one in self._kept.values() if not one.done]
        if len(running) >= RUNNING:
            raise Busy(f"{len(running)} broadcasts are running, as many as run at once (numbers "
                       f"{', '.join(str(one.id) for one in running)}): wait for one to end, then send again")  # fmt: skip

    def get(self, number: int) -> Broadcast | None:
        with self._lock:
            return self._kept.get(number)

    def all(self) -> list[Broadcast]:
        with self._lock:
            return list(self._kept.values())

    def _push(self, when: float, broadcast: Broadcast, copy: Copy) -> None:
        """(The lock held.) Put a copy's next attempt in the heap and wake a sender for it."""
        heapq.heappush(self._due, (when, next(self._order), broadcast, copy))
        self._lock.notify()

    def _work(self) -> None:
        """A sender: take the copy due first, when it is due, and make its attempt; until the server stops."""
        while True:
            with self._lock:
                while not self._closed and (not self._due or self._due[0][0] > time.monotonic()):
                    self._lock.wait(self._due[0][0] - time.monotonic() if self._due else None)
                if self._closed:
                    return
                _, _, broadcast, copy = heapq.heappop(self._due)
            try:
                when = self._attempt(broadcast, copy)
            except Exception as error:  # a bug must not take a sender with it, nor leave the copy pending for ever
                broadcast.end(copy, "failed", f"the attempt could not be made: {type(error).__name__}: {error}")
                continue
            if when is not None:
                with self._lock:
                    self._push(when, broadcast, copy)

    def _attempt(self, broadcast: Broadcast, copy: Copy) -> float | None:
        """Make the copy's next attempt if its bin has room; the time.monotonic() to come back, or None at the end."""
        delivery = copy.delivery
        busy = self.server.limits.report(copy.learner.token)["in_flight"]
        timeout = delivery.policy.timeout or delivery.provider.timeout
        patience = max(timeout) if isinstance(timeout, tuple) else timeout
        now = time.monotonic()
        since = now if copy.waiting_since is None else copy.waiting_since
        if busy >= IN_FLIGHT and now - since < patience:
            broadcast.waiting(copy, since, f"the bin has {busy} requests in flight, its limit: the attempt waits "
                                           f"for room, up to {patience:g} s (the provider's timeout)")  # fmt: skip
            return now + ROOM_CHECK
        if copy.waiting_since is not None:
            broadcast.waiting(copy, None, None)
        due = delivery._step(copy.due, copy.due)  # sent when due: each attempt shows the schedule's own time
        if due is None:
            broadcast.end(copy, delivery.status)
            return None
        copy.due = due
        return broadcast.real(due)

    def close(self) -> None:
        """Stop: no attempt starts after this; one under way ends within its timeout, on a daemon thread."""
        with self._lock:
            self._closed = True
            self._due.clear()
            self._lock.notify_all()
        for thread in self._threads:
            thread.join(timeout=0.1)  # each leaves at once unless an attempt is under way


def _provider(name) -> str:
    if name is None:
        raise UsageError(f"say which provider sends the event: one of {one_of(sorted(PROVIDERS))}")
    if not isinstance(name, str):
        raise UsageTypeError(f"provider must be a provider's name, a str such as 'stripe', got {got(name)}")
    if name not in PROVIDERS:
        raise UsageError(f"there is no provider named {name[:100]!r}: the known ones are "
                         f"{one_of(sorted(PROVIDERS))} (a name in lower case)")  # fmt: skip
    return name


def _event_type(provider: str, event_type) -> str:
    cls = PROVIDERS[provider]
    known = cls.event_types()
    if not known:
        raise UsageError(f"{cls.title} has no payload templates, so it has no event to broadcast: choose another "
                         f"provider, such as 'stripe'")  # fmt: skip
    if event_type is None:
        raise UsageError(f"say which event {cls.title} sends: one of {', '.join(known)}")
    if not isinstance(event_type, str):
        raise UsageTypeError(f"event_type must be one of {cls.title}'s event types, a str such as "
                             f"{(cls.first_event or known[0])!r}, got {got(event_type)}")  # fmt: skip
    if event_type not in known:
        raise UsageError(f"{cls.title} has no event type {event_type[:100]!r}: its event types are "
                         f"{', '.join(known)}")  # fmt: skip
    return event_type
