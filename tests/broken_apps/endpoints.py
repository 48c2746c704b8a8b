"""Webhook endpoints that each get one thing wrong, and two that get everything right.

The README's suite must fail for each broken one, naming what it got wrong, and pass for
the right ones. Each is a small Flask app at POST /webhooks whose work is `done` (the events
it handed to a worker); each broken one differs from Correct in one method, shown in full.
"""

import base64
import hashlib
import hmac
import json
import threading
import time

from flask import Flask, request

import webhooklab as wl

SCHEMES = {"standard": (wl.StandardWebhooks, "whsec_dGVzdCBvbmx5LCBuZXZlciBhIHJlYWwgb25lIQ=="),
           "github": (wl.GitHub, "github-test-secret")}  # fmt: skip
# Seconds between "seen before?" and "remember it" in the racy endpoint: long enough that every copy released at
# once is inside it, on a loaded machine too.
DATABASE_ROUND_TRIP = 1.0


class Correct:
    """Verifies the raw body first, refuses what fails with 400, does each event's work once under a lock."""

    scheme = "standard"

    def __init__(self):
        provider, self.secret = SCHEMES[self.scheme]
        self.provider = provider(self.secret)
        self.done: list = []
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.app = Flask(type(self).__name__)
        self.app.post("/webhooks")(self.receive)

    def receive(self):
        try:
            event = self.verify()
        except wl.SignatureError as error:
            return {"error": str(error)}, 400
        if self.first_time(self.key()):
            self.done.append(event)
        return {"received": True}

    def verify(self):
        return self.provider.verify(request.get_data(), request.headers)

    def key(self) -> str:
        """Standard Webhooks signs webhook-id, so a replayed request cannot come with a new one."""
        return request.headers["webhook-id"]

    def first_time(self, key: str) -> bool:
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return True


class CorrectGitHub(Correct):
    """GitHub does not sign X-GitHub-Delivery: the key is the signed body's digest."""

    scheme = "github"

    def key(self) -> str:
        return hashlib.sha256(request.get_data()).hexdigest()


class VerifiesNothing(Correct):
    def verify(self):
        return request.get_json()


class ReserialisesTheBody(Correct):
    """Signs json.dumps(request.json), not the bytes that arrived, and compares with ==."""

    def verify(self):
        body = json.dumps(request.get_json()).encode()
        signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + body
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if expected not in request.headers["webhook-signature"].split(" "):
            raise wl.SignatureError("no_matching_signature", "no signature matches")
        return request.get_json()


class IgnoresTheTimestamp(Correct):
    def verify(self):
        return self.provider.verify(request.get_data(), request.headers, tolerance=None)


class AcceptsTheFuture(Correct):
    """Refuses a timestamp too old, but not one too far ahead."""

    def verify(self):
        event = self.provider.verify(request.get_data(), request.headers, tolerance=None)
        if time.time() - int(request.headers["webhook-timestamp"]) > self.provider.window:
            raise wl.SignatureError("timestamp_too_old", "signed too long ago")
        return event


class RefusesEveryHost(Correct):
    """As Django does when the test's host is not in ALLOWED_HOSTS."""

    allowed_hosts = {"api.example.com"}

    def receive(self):
        if request.host not in self.allowed_hosts:
            return "Bad Request (400): Invalid HTTP_HOST header", 400
        return super().receive()


class DoesNotDeduplicate(Correct):
    def first_time(self, key: str) -> bool:
        return True


class DeduplicatesWithARace(Correct):
    """Checks, waits for a database, then records: two copies at once both find the id new."""

    def first_time(self, key: str) -> bool:
        if key in self.seen:
            return False
        time.sleep(DATABASE_ROUND_TRIP)
        self.seen.add(key)
        return True


class WorksBeforeVerifying(Correct):
    """Hands the event to the worker first, and verifies after."""

    def receive(self):
        self.done.append(request.get_json())
        try:
            self.verify()
        except wl.SignatureError as error:
            return {"error": str(error)}, 400
        return {"received": True}


class DeduplicatesOnTheDeliveryHeader(CorrectGitHub):
    """X-GitHub-Delivery is not signed: the same signed body with a fresh one is done again."""

    def key(self) -> str:
        return request.headers["X-GitHub-Delivery"]


class AcceptsAMissingSignature(Correct):
    def verify(self):
        if "webhook-signature" not in request.headers:
            return request.get_json()
        return super().verify()


ALL = [Correct, CorrectGitHub, VerifiesNothing, ReserialisesTheBody, IgnoresTheTimestamp, AcceptsTheFuture,
       RefusesEveryHost, DoesNotDeduplicate, DeduplicatesWithARace, WorksBeforeVerifying,
       DeduplicatesOnTheDeliveryHeader, AcceptsAMissingSignature]  # fmt: skip
