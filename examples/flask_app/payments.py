"""A Flask endpoint for Stripe's webhooks, written the way Stripe asks.

- It verifies the signature on the raw body (request.get_data()), with Stripe's
  own library, before it trusts a single field: re-serialised JSON would not match.
- It deduplicates on the event's id, which lies inside the signed body, so a
  replayed request cannot change it. A duplicate is answered 200 too, or Stripe
  would keep retrying it.
- It answers fast: the event is stored for a worker, never handled in the request.
  If it cannot even be stored, it answers 503 so that Stripe retries later.

Run it with `flask --app payments run`, STRIPE_WEBHOOK_SECRET set;
test it with `pytest` in this folder (see conftest.py and test_payments.py).
"""

import os
import threading

import stripe
from flask import Flask, request


class Inbox:
    """Events accepted and not yet handled, each once. A real app keeps this in its database or task queue."""

    def __init__(self):
        self.pending: list = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def add(self, event_id: str, event) -> bool:
        """Store an event for the worker; False if this id was stored before (a duplicate delivery)."""
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen.add(event_id)
            self.pending.append(event)
            return True


def create_app(*, secret: str | None = None, inbox: Inbox | None = None) -> Flask:
    app = Flask(__name__)
    secret = secret or os.environ["STRIPE_WEBHOOK_SECRET"]
    inbox = inbox if inbox is not None else Inbox()
    app.extensions["inbox"] = inbox

    @app.post("/webhooks/stripe")
    def stripe_webhook():
        body = request.get_data()  # the bytes as they arrived: the signature covers exactly these
        try:
            event = stripe.Webhook.construct_event(body, request.headers.get("Stripe-Signature"), secret)
        except (ValueError, stripe.SignatureVerificationError):
            return {"error": "invalid signature"}, 400  # a 4xx, never a 500: nothing to retry
        try:
            stored = inbox.add(event.id, event.to_dict())
        except Exception:  # the database is down, the queue is full: Stripe should try again later
            return {"error": "cannot store the event now"}, 503
        return {"received": True, "duplicate": not stored}, 200

    return app
