"""StripeApi: the challenge's stand-in for Stripe's API, which knows each payment intent's current state.

Stripe's "Event ordering" guidance: events can arrive in any order, and an event's `created` (whole
seconds) must not be used to order them or to decide whether one was already processed; when the
current state matters, retrieve the object from the API. `challenge.api.retrieve(intent_id)` is that call,
answered in memory: the payment intent as it is now, whatever order its events arrive in.
"""

from __future__ import annotations

import copy
import threading

from .._errors import UsageError, UsageTypeError


class StripeApi:
    """The payment intents of the challenge's Stripe account: `retrieve(intent_id)`, as GET /v1/payment_intents/:id."""

    def __init__(self):
        self._intents: dict[str, dict] = {}
        self._lock = threading.Lock()

    def retrieve(self, intent_id: str) -> dict:
        """The payment intent `intent_id` (pi_...) as it is now: a copy, yours to keep in challenge.payments."""
        if not isinstance(intent_id, str) or not intent_id:
            raise UsageTypeError(
                f"retrieve(intent_id) takes the payment intent's id, a str like intent['id'] (pi_...), "
                f"where intent = event['data']['object']; got {intent_id!r}"
            )
        with self._lock:
            intent = self._intents.get(intent_id)
        if intent is None:
            raise UsageError(
                f"no payment intent {intent_id!r} in the challenge's Stripe account (the API would answer 404): "
                "pass event['data']['object']['id'] of an event that verified, not the event's own id (evt_...)"
            )
        return copy.deepcopy(intent)

    def _paid(self, event: dict) -> dict:
        """Keep the paid intent of this payment_intent.succeeded event as the intent's current state; return the event."""
        intent = event["data"]["object"]
        with self._lock:
            self._intents[intent["id"]] = copy.deepcopy(intent)
        return event

    def _clear(self) -> None:
        with self._lock:
            self._intents.clear()

    def __repr__(self) -> str:
        with self._lock:
            count = len(self._intents)
        return f"<StripeApi: {count} payment intents; retrieve(intent_id) gives one as it is now>"
