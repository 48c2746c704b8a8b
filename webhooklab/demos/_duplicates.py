"""The duplicates demo: an answer that comes too late brings the same webhook again; deduplicating ships once."""

from __future__ import annotations

import collections
import itertools

from .._providers import Shopify
from .._receiving.receiver import Receiver
from .._sending.clock import VirtualClock
from .._sending.retry import RetryPolicy
from ._frame import Demo, escaped, mark, rows, slider, toggles

PATIENCE = 0.3  # seconds this sender waits for an answer (Shopify's own is 5 s): short, so the demo is quick
HANDLERS = [("Ships every request", "every"), ("Skips a delivery id it has seen", "once")]
HANDLER_OF = {endpoint: words for words, endpoint in HANDLERS}


class DuplicatesDemo(Demo):
    name = "duplicates"
    title = "Why the same webhook arrives twice"
    idea = ("A provider knows you got a webhook only when your 2xx answer reaches it in time; if your endpoint is "
            f"slower than the provider waits ({PATIENCE * 1000:.0f} ms here), it sends the same webhook again. So a "
            "handler must be <b>idempotent</b>: remember each delivery id and skip one it has seen. Press "
            "<b>Pay for an order</b>.")  # fmt: skip
    action = "Pay for an order"
    slow = True

    def controls(self):
        self.handler = toggles("Your handler:", HANDLERS)
        self.delay = slider("Your endpoint answers after (ms):", 600, 100, 1000, 100)
        return [self.handler, self.delay]

    def begin(self) -> None:
        self.rx = Receiver().start()
        self.shopify = Shopify()
        self.shipped: collections.Counter = collections.Counter()  # order number -> times shipped
        self.numbers = itertools.count(1001)
        self.number_of: dict[int, int] = {}  # Shopify's order id -> the order number shown
        self.sender_saw: dict[int, str] = {}  # a captured request's id -> what the sender made of its answer

        def ship_every_request(event):
            self.shipped[self.number_of[event.json["id"]]] += 1

        def ship_each_delivery_once(event):
            self.shipped[self.number_of[event.json["id"]]] += 1

        self.rx.on("orders/paid", endpoint="every")(ship_every_request)
        self.rx.on("orders/paid", endpoint="once", dedupe=True)(ship_each_delivery_once)

    def end(self) -> None:
        self.rx.close()

    def run(self):
        """One order is paid: Shopify delivers `orders/paid`, impatiently; returns the Delivery."""
        endpoint, number = self.handler.value, next(self.numbers)
        self.rx.respond(endpoint, delay=self.delay.value / 1000)
        event = self.shopify.event("orders/paid")
        self.number_of[event["id"]] = number
        before = len(self.rx.arrivals())
        quick_again = lambda delivery, row: self.rx.respond(endpoint)  # noqa: E731 (the retry is answered in time)
        delivery = self.shopify.deliver(event, self.rx.url(endpoint), clock=VirtualClock(), on_attempt=quick_again,
                                        policy=RetryPolicy.shopify().with_timeout((1, PATIENCE)))  # fmt: skip
        arrived = self.rx.wait_for(before + len(delivery.log), timeout=10)[before:]
        for request, row in zip(arrived, delivery.log):
            self.sender_saw[request.id] = "no answer in time" if row["status"] is None else str(row["status"])
        times = self.shipped[number]
        self.show(f"Order #{number} was paid once; {len(delivery.log)} request(s) reached your endpoint, and it "
                  + mark(times == 1, f"shipped {times} time(s)"))  # fmt: skip
        return delivery

    def draw(self) -> str:
        body = [[escaped(f"#{self.number_of.get(e.json['id'], '?')}"), escaped(HANDLER_OF[e.endpoint]),
                 f"<code>{escaped(e.delivery_id[:8])}…</code>", escaped(e.status), escaped(self.sender_saw.get(e.id, "…")),
                 "yes" if e.duplicate_of is not None else "no"]
                for e in self.rx.arrivals()[-6:]][::-1]  # fmt: skip
        paid, shipments = len(self.number_of), sum(self.shipped.values())
        counts = (f"<p>Orders paid: <b>{paid}</b>. Shipments: <b>{shipments}</b> "
                  + (mark(shipments == paid, "one per order" if shipments == paid else "more than one per order")
                     if paid else "") + "</p>")  # fmt: skip
        head = ["order", "handler", "delivery id", "your endpoint answered", "the sender saw", "seen before?"]
        return counts + (rows(head, body) if body else "")
