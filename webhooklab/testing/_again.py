"""One event sent more than once: duplicates, copies at once, a replay with a fresh delivery id, retries.

Providers deliver at least once, so an endpoint must do each event's work once however
many copies arrive: one after another (a retry after a lost answer), at the same moment
(a retry racing a slow first attempt), or re-sent by someone who captured the request.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from .._checks import whole
from .._errors import UsageError
from .._sending.clock import VirtualClock
from .._sending.delivery import Attempt, Delivery
from ._response import Response
from ._scheme import delivery_header

START_TIMEOUT = 60  # seconds the copies sent at once wait for one another to be ready: a stuck thread fails, not hangs


class Again:
    """The Sender's methods that send one event several times: duplicate, concurrent, replayed, deliver."""

    def duplicate(self, event=None, *, times: int = 2, **fields) -> list[Response]:
        """The same event delivered `times` times with one delivery id, as a retry after a lost answer is.

        Where the provider re-signs each retry (Stripe, Standard Webhooks) each copy
        has a fresh timestamp; elsewhere the bytes are identical. Expect a 2xx each
        time and the work done once.
        """
        times = _copies(times, 1)
        event = self._event(event, fields)
        delivery_id = self.provider.new_delivery_id()
        resigns = self.provider.policy_for(event).resigns
        signed, responses = None, []
        for number in range(1, times + 1):
            if signed is None or resigns:
                signed = self._sign(self.provider, event, delivery_id=delivery_id)
            responses.append(self._genuine(event, *signed, f"delivery {number} of {times}, delivery id {delivery_id}"))
        return responses

    def concurrent(self, event=None, *, times: int = 8, **fields) -> list[Response]:
        """`times` copies of one delivery (one delivery id, the same bytes) sent at the same moment from as many threads.

        A provider's retry can arrive while the first attempt is still being handled; an
        endpoint that checks "seen before?" and then records the id, without a lock or a
        unique constraint between the two, does the work more than once. Expect a 2xx
        each time and the work done once.
        """
        times = _copies(times, 2)
        event = self._event(event, fields)
        delivery_id = self.provider.new_delivery_id()
        body, headers = self._sign(self.provider, event, delivery_id=delivery_id)
        ready = threading.Barrier(times, timeout=START_TIMEOUT)

        def copy(number: int) -> Response:
            ready.wait()
            return self._genuine(event, body, headers, f"copy {number} of {times} sent at once, delivery id {delivery_id}")

        with ThreadPoolExecutor(times, thread_name_prefix="webhooklab-concurrent") as pool:
            return list(pool.map(copy, range(1, times + 1)))

    def replayed(self, event=None, **fields) -> list[Response]:
        """The genuine request, then the same signed body re-sent with a fresh delivery id, as a replayer would.

        Where the delivery id is outside the signature (GitHub's X-GitHub-Delivery, Shopify's
        X-Shopify-Webhook-Id, Twilio's idempotency token) the copy still verifies: expect 2xx and the
        work not done again, so deduplicate on a key inside the signed body, not on that header. Where
        it is signed (Standard Webhooks' webhook-id) the copy fails the signature: expect 400. A scheme
        with no delivery id header (Stripe, Slack) sends the copy unchanged. Returns both Responses.
        """
        event = self._event(event, fields)
        body, headers = self._sign(self.provider, event)
        first = self._genuine(event, body, headers)
        return [first, self._fresh_id(event, body, headers)]

    def _fresh_id(self, event, body: bytes, headers: dict[str, str]) -> Response:
        carrier = delivery_header(self.provider.at(self.url), event)
        if carrier is None:
            return self._send(event, body, headers, f"re-sent unchanged: {self.provider.title} sends no delivery id")
        name, signed = carrier
        fresh = self.provider.new_delivery_id()
        headers = {**{k: v for k, v in headers.items() if k.lower() != name.lower()}, name: fresh}
        covered = "signed, so the signature no longer matches" if signed else "not signed, so the signature still matches"
        return self._send(event, body, headers, f"re-sent with a fresh {name} {fresh} ({covered})")

    def deliver(self, event=None, *, clock=None, policy=None, **fields) -> Delivery:
        """Delivered with retries on the provider's schedule (or `policy`), on a wl.VirtualClock unless `clock`.

        Days of retries take milliseconds; every attempt still reaches your app. The
        result is a wl.Delivery: `.status`, `.attempts` (a table), `.log`. Over HTTP it is
        the provider's own deliver(), headers of its retries included (Slack's
        X-Slack-Retry-Num); in process, the same signed requests on the same schedule.
        """
        event, clock = self._event(event, fields), clock or VirtualClock()
        if self.transport.kind == "HTTP":
            return self.provider.deliver(event, self.url, clock=clock, policy=policy)
        return _Delivery(self, event, clock=clock, policy=policy).run()


def _copies(times, least: int) -> int:
    if whole(times, "times", "a whole number of deliveries") < least:
        raise UsageError(f"times must be at least {least}, got {times}: it is how many times the event is delivered")
    return times


class _Delivery(Delivery):
    """A wl.Delivery whose attempts go through the sender's transport: in process, or over HTTP."""

    def __init__(self, sender, event, **options):
        super().__init__(sender.provider, event, sender.url, **options)
        self._sender = sender

    def _sign(self) -> tuple[bytes, dict[str, str]]:
        return self._sender._sign(self.provider, self.event, delivery_id=self.delivery_id)

    def _send(self) -> Attempt:
        body, headers = self._request()
        return self._sender.transport.post(self._sender.path, body, headers,
                                           timeout=self.policy.timeout or self.provider.timeout)  # fmt: skip
