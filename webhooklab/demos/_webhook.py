"""The webhook demo: a provider calls your URL when something happens, and your system acts at once."""

from __future__ import annotations

import itertools
import time

from .._providers import GitHub, Shopify, Stripe
from .._receiving.receiver import Receiver
from ._frame import Demo, escaped, mark, rows, toggles

# What happens at each provider, as the event it sends, and what the receiving system does about it.
HAPPENINGS = {
    "stripe": [("A payment succeeds", "payment_intent.succeeded"), ("A payment fails", "payment_intent.payment_failed"),
               ("A payment is refunded", "charge.refunded")],
    "github": [("Code is pushed to main", "push:main"), ("Code is pushed to a branch", "push:feature")],
    "shopify": [("An order is placed", "orders/create")],
}  # fmt: skip
PROVIDERS = [("Stripe", "stripe"), ("GitHub", "github"), ("Shopify", "shopify")]
STOCK = {"MUG-001": 40, "HOODIE-001": 12}
SHOWN = 6  # requests in the table, newest first


class WebhookDemo(Demo):
    name = "webhook"
    title = "What is a webhook?"
    idea = ("When something happens at a service (a payment, a push, an order), the service sends the news to a URL "
            "you gave it once: an HTTP request, pushed to you, with nobody asking. Pick what happens and press "
            "<b>Make it happen</b>: the request arrives at a real receiver on this machine, and the system behind "
            "it acts at once.")  # fmt: skip
    action = "Make it happen"

    def controls(self):
        self.provider = toggles("Service:", PROVIDERS)
        self.happening = toggles("What happens:", HAPPENINGS["stripe"])
        self.provider.observe(lambda change: self._offer(change["new"]), names="value")
        return [self.provider, self.happening]

    def _offer(self, provider: str) -> None:
        self.happening.options = HAPPENINGS[provider]
        self.happening.value = HAPPENINGS[provider][0][1]

    def begin(self) -> None:
        self.senders = {"stripe": Stripe(), "github": GitHub(), "shopify": Shopify()}
        self.rx = Receiver(secrets=dict(self.senders)).start()
        self.done: dict[str, str] = {}  # delivery id -> what the system did
        self.happened_at: dict[str, float] = {}
        self.orders = itertools.count(1001)
        self.stock = dict(STOCK)
        self.rx.on("*", endpoint="stripe")(self._payments)
        self.rx.on("push", endpoint="github")(self._deployments)
        self.rx.on("orders/create", endpoint="shopify")(self._inventory)

    def end(self) -> None:
        self.rx.close()

    def run(self):
        """The chosen service sends its event to your URL; returns the captured request."""
        provider, happening = self.provider.value, self.happening.value
        sender = self.senders[provider]
        kind, _, branch = happening.partition(":")
        options = {"branch": branch, "commits": ["Fix the checkout button"]} if branch else {}
        if kind.startswith("payment_intent"):
            options = {"amount": 2000, "metadata": {"order_id": str(next(self.orders))}}
        event = sender.event(kind, **options)
        happened = time.time()
        attempt = sender.send(event, to=self.rx.url(provider))
        captured = self.rx.event(-1)  # stored before the answer left: the handler has run too
        self.happened_at[captured.delivery_id] = happened
        took = (captured.received_at.timestamp() - happened) * 1000
        self.show(f"{escaped(sender.title)} sent <code>{escaped(captured.event_type)}</code> to your URL; it arrived "
                  f"{took:.0f} ms after it happened, and your receiver answered {attempt.status}.")  # fmt: skip
        return captured

    # -- the systems behind the URL: what each webhook makes happen ---------------------------------

    def _payments(self, event) -> None:
        data = event.json["data"]["object"]
        order = (data.get("metadata") or {}).get("order_id", "?")
        self.done[event.delivery_id] = {
            "payment_intent.succeeded": f"order #{order} paid: shipping it",
            "payment_intent.payment_failed": f"order #{order} not paid: emailing the customer",
            "charge.refunded": "refund recorded: stock returned, customer told",
        }.get(event.event_type, "recorded")

    def _deployments(self, event) -> None:
        branch = event.json["ref"].removeprefix("refs/heads/")
        commit = event.json["after"][:7]
        self.done[event.delivery_id] = (f"deploying {commit} to production" if branch == "main"
                                        else f"{branch} is not main: no deployment")  # fmt: skip

    def _inventory(self, event) -> None:
        changes = []
        for line in event.json["line_items"]:
            sku = line.get("sku") or "?"
            self.stock[sku] = self.stock.get(sku, 0) - int(line.get("quantity", 0))
            changes.append(f"{sku} → {self.stock[sku]} left")
        self.done[event.delivery_id] = "inventory updated: " + ", ".join(changes)

    def draw(self) -> str:
        url = self.rx.url(self.provider.value)
        arrivals = self.rx.arrivals()
        first = max(len(arrivals) - SHOWN, 0)  # only the newest are read and shown
        body = [[escaped(first + index + 1), escaped(e.received_at.strftime("%H:%M:%S")),
                 escaped(e.provider and self.senders[e.provider].title), f"<code>{escaped(e.event_type)}</code>",
                 mark(e.verified, "signed by it" if e.verified else e.reason or "not checked"),
                 escaped(self.done.get(e.delivery_id, "…"))]
                for index, e in enumerate(arrivals[first:])][::-1]  # fmt: skip
        table = (rows(["#", "arrived", "from", "event", "signature", "what your system did"], body) if body
                 else "<p class='quiet'>Nothing has arrived yet: nothing has happened.</p>")  # fmt: skip
        return (f"<p>Your URL, given to the service once: <code>{escaped(url)}</code><br>"
                f"Requests your system made to ask for news: <b>0</b>. Requests that came to it: "
                f"<b>{len(arrivals)}</b>.</p>{table}")  # fmt: skip
