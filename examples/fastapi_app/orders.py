"""A FastAPI endpoint for Standard Webhooks (Svix and others send the same scheme), written the way the specification asks.

- It verifies the signature on the raw body (await request.body()), with the
  standardwebhooks library, before it trusts a single field.
- It deduplicates on webhook-id: the id is signed together with the timestamp and
  the body, so a replayed request cannot come with a new one. A duplicate is
  answered 200 too, or the sender would keep retrying it.
- It answers fast: the event is stored for a worker, never handled in the request.
  If it cannot even be stored, it answers 503 so that the sender retries later.

Run it with `uvicorn orders:app`, WEBHOOK_SECRET set (whsec_ and base64);
test it with `pytest` in this folder (see conftest.py and test_orders.py).
"""

import os
import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Inbox:
    """Events accepted and not yet handled, each once. A real app keeps this in its database or task queue."""

    def __init__(self):
        self.pending: list = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def add(self, message_id: str, event) -> bool:
        """Store an event for the worker; False if this id was stored before (a duplicate delivery)."""
        with self._lock:
            if message_id in self._seen:
                return False
            self._seen.add(message_id)
            self.pending.append(event)
            return True


def create_app(*, secret: str | None = None, inbox: Inbox | None = None) -> FastAPI:
    app = FastAPI()
    verifier = Webhook(secret or os.environ["WEBHOOK_SECRET"])
    inbox = inbox if inbox is not None else Inbox()
    app.state.inbox = inbox

    @app.post("/webhooks/orders")
    async def receive(request: Request):
        body = await request.body()  # the bytes as they arrived: the signature covers exactly these
        try:
            event = verifier.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return JSONResponse({"error": "invalid signature"}, status_code=400)  # never a 500: nothing to retry
        try:
            stored = inbox.add(request.headers["webhook-id"], event)  # verified above, so signed
        except Exception:  # the database is down, the queue is full: the sender should try again later
            return JSONResponse({"error": "cannot store the event now"}, status_code=503)
        return {"received": True, "duplicate": not stored}

    return app
