"""A class server's limits: what one bin may have in flight and keep, so no learner's bin costs the others.

The HTTP layer asks `ClassLimits.admit` as soon as a request's headers are in, in its
event loop: the answer is a dict lookup and some arithmetic, never SQLite. Over a limit
the request is answered at once (429 for too much at once, 507 for too much kept),
its body read and dropped, and the bin's row on the dashboard says which limit it hit.

    in flight   IN_FLIGHT requests at once per bin: arriving, answered, waiting on a delay or downloading,
                and of those at most DOWNLOADS exports
    stored      `quota` bytes of bodies per bin (what the bin holds, plus bodies still arriving)
    endpoints   ENDPOINTS names per bin, each at most ENDPOINT_NAME characters
    disk        no bin takes a body while the class folder's disk has less than DISK_FLOOR free
    strangers   a request that names no bin is answered 404 and keeps at most STRANGER_BODY bytes
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from hmac import compare_digest
from pathlib import Path

from .._receiving.admission import Admission, Ticket
from .._receiving.guard import READS

MB = 1024 * 1024
IN_FLIGHT = 8  # half the server's workers: one bin never has all of them
DOWNLOADS = 2  # exports at once per bin: each is written to a temporary file first, costing memory while it is
QUOTA = 100 * MB  # four bodies at GitHub's 25 MB cap, or many thousands of ordinary events
ENDPOINTS = 100
ENDPOINT_NAME = 100
DISK_FLOOR = 512 * MB  # below this, bodies are refused with a clear answer instead of failing to be stored
DISK_CHECK = 1.0  # seconds a reading of the free disk space is trusted
STRANGER_BODY = 64 * 1024
RELAY_BODY = 2 * MB  # a relay's answer to one request: its body (at most 1 MB passed on) in base64 and JSON
MAX_DELAY = 60.0  # a bin's respond(delay=...): longer than any sender waits (Standard Webhooks suggests 15 to 30 s)


@dataclass
class Use:
    """One bin's share right now, and the limits it has hit."""

    in_flight: int = 0
    downloads: int = 0
    stored: int = 0  # bytes of bodies kept, as the store last said, plus those stored since
    arriving: int = 0  # bytes of bodies admitted and not yet stored: they wait in temporary files
    endpoints: set[str] = field(default_factory=set)
    refused: Counter = field(default_factory=Counter)  # limit -> requests refused by it
    last_refused: str | None = None  # what the last refusal said, and when

    def to_dict(self, quota: int) -> dict:
        return {"in_flight": self.in_flight, "stored_bytes": self.stored + self.arriving, "quota_bytes": quota,
                "endpoints": len(self.endpoints), "refused": dict(self.refused), "last_refused": self.last_refused}  # fmt: skip


class ClassLimits(Admission):
    """Admits each request to the bin its path names, within that bin's limits (see the module docstring)."""

    def __init__(self, tokens, admin: str, folder: Path, *, quota: int = QUOTA):
        self.quota = quota
        self.admin = admin
        self.folder = folder
        self.uses: dict[str, Use] = {token: Use() for token in tokens}
        self._lock = threading.Lock()
        self._free, self._free_at = 0, 0.0

    def add(self, token: str) -> None:
        """A new bin's share, nothing used yet. `uses` is replaced whole: the event loop reads it without the lock."""
        with self._lock:
            self.uses = {**self.uses, token: Use()}

    def rename(self, old: str, new: str) -> None:
        """A bin's token has changed: its share goes with it, requests in flight included."""
        with self._lock:
            self.uses = {(new if token == old else token): use for token, use in self.uses.items()}

    def count(self, token: str, stored: int, endpoints) -> None:
        """What a bin holds, read from its store (at start, and after a change other than a webhook)."""
        with self._lock:
            use = self.uses.get(token)
            if use is not None:  # else its token changed meanwhile
                use.stored, use.endpoints = stored, set(endpoints)

    def admit(self, method: str, path: str, length: int | None) -> Ticket:
        segments = path.split("/")
        uses = self.uses  # one mapping for this request, whatever add or rename puts in its place
        token = next((segment for before, segment in zip(segments, segments[1:]) if before == "b"
                      and segment in uses), None)  # fmt: skip
        if token is None:
            teacher = any(before == "teacher" and compare_digest(segment.encode(), self.admin.encode())
                          for before, segment in zip(segments, segments[1:]))  # fmt: skip
            return Ticket(tenant="teacher") if teacher else Ticket(body_cap=STRANGER_BODY)
        rest = segments[segments.index(token) + 1:]
        endpoint = rest[1] if len(rest) > 1 and rest[0] == "hooks" else None
        if rest[:2] == ["api", "relay"]:  # the relay's own calls: one session, answers to requests already counted
            return Ticket(tenant=token, body_cap=RELAY_BODY)
        download = rest[:1] == ["api"] and rest[-1].startswith("export.")
        body = length or 0
        with self._lock:
            use = uses[token]
            refusal = self._over(use, method, endpoint, body, download)
            if refusal:
                limit, status, message = refusal
                use.refused[limit] += 1
                use.last_refused = f"{time.strftime('%H:%M:%S')} {limit}: {message}"
                return Ticket(tenant=token, refused=(status, message))
            use.in_flight += 1
            use.downloads += download
            if endpoint is not None:
                use.arriving += body
                use.endpoints.add(endpoint)
        return Ticket(tenant=token, on_release=lambda: self._done(use, download, body if endpoint else 0))

    def _over(self, use: Use, method: str, endpoint: str | None, body: int,
              download: bool) -> tuple[str, int, str] | None:  # fmt: skip
        """(limit, status, message) for a request over one of its bin's limits, else None."""
        if use.in_flight >= IN_FLIGHT:
            return "in flight", 429, (
                f"your bin already has {use.in_flight} requests in flight, its limit on this class server: being "
                "received, answered, waiting on respond(delay=...) or downloading. Wait for them, or lower the "
                "delay; a sender that retries at once (or a loop without a wait) is the usual cause")
        if download and use.downloads >= DOWNLOADS:
            return "downloads", 429, (
                f"your bin already has {use.downloads} exports being downloaded, as many as it may at once: "
                "wait for them to finish. A download that is never read is cut off after 30 s without progress")
        if endpoint is None:
            return None
        if endpoint not in use.endpoints and (len(use.endpoints) >= ENDPOINTS or len(endpoint) > ENDPOINT_NAME):
            return "endpoints", 507, (
                f"your bin has {len(use.endpoints)} endpoints, and a bin may have up to {ENDPOINTS}, each named in "
                f"at most {ENDPOINT_NAME} characters; this one is new ({len(endpoint)} characters). Send to an "
                "endpoint you already use, or delete the bin's events (DELETE api/events, header X-Webhooklab: 1)")
        if method in READS:
            return None
        if use.stored + use.arriving + body > self.quota:
            return "stored", 507, (
                f"your bin keeps {use.stored / MB:.1f} MB of its {self.quota / MB:g} MB ({use.arriving / MB:.1f} MB "
                f"more on its way), and this body is {body / MB:.1f} MB. Delete its events to make room (DELETE api/events on your bin, with the "
                "header X-Webhooklab: 1); a loop sending without end is the usual cause")
        free = self._free_space()
        if free < DISK_FLOOR:
            return "disk", 507, (
                f"the class server's disk has {free / MB:.0f} MB free, less than the {DISK_FLOOR / MB:g} MB it "
                "keeps in reserve: no bin takes a body until there is room. Tell your instructor")
        return None

    def _free_space(self) -> int:
        now = time.monotonic()
        if now - self._free_at > DISK_CHECK:
            self._free, self._free_at = shutil.disk_usage(self.folder).free, now
        return self._free

    def _done(self, use: Use, download: bool, body: int) -> None:
        with self._lock:
            use.in_flight -= 1
            use.downloads -= download
            use.arriving -= body

    def stored(self, token: str, size: int) -> None:
        """A webhook's body has been stored in the bin."""
        with self._lock:
            use = self.uses.get(token)
            if use is not None:
                use.stored += size

    def report(self, token: str) -> dict:
        with self._lock:
            use = self.uses.get(token) or Use()
            return use.to_dict(self.quota)
