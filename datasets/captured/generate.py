"""Make attempts.csv: one simulated day of webhook deliveries, sent for real with webhooklab.

    python datasets/captured/generate.py            # writes attempts.csv beside this file (about 90 s)

Every row is a real HTTP POST from a webhooklab provider (Stripe, GitHub,
Shopify, Standard Webhooks) to a wl.Receiver on 127.0.0.1, signed as that
provider signs. Retries follow each provider's own schedule
(wl.RetryPolicy) on a virtual clock, so three days of retries take no real
time, and the times in the file are virtual: one day starting at
2025-03-03 00:00 UTC. What each endpoint does (its failures, its outage, how
long it takes to answer) is scripted below with a fixed seed; the answers
and their elapsed times are measured, so they vary a little from run to run
while the counts and the shapes stay the same.

The seven endpoints, and what each one teaches:
  payments    Stripe (live mode)  fast, but down (500) from 13:00 to 14:30: watch the backoff
  billing     Stripe (live mode)  flaky: some deliveries fail 1 to 3 times first (fail_first)
  ci          GitHub              healthy; at 16:00 a burst of 30 pushes arrives concurrently,
                                  shuffled, some twice (deliver_many)
  deploy-bot  GitHub              503 during a deploy from 11:00 to 12:15; GitHub never retries,
                                  so a person redelivers each failed one by hand an hour later
  fulfilment  Shopify             slow: answers take about 2 s, and some exceed Shopify's 5 s
                                  timeout (the receiver processed it, the sender retries)
  inventory   Shopify             healthy and fast
  crm-sync    Standard Webhooks   a handler bug makes every contact.updated fail (500) until it is
                                  fixed at 12:00 the next day; Svix's schedule retries for 27 h
"""

from __future__ import annotations

import csv
import math
import random
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import webhooklab as wl
from webhooklab._providers import identify

SEED = 20250303
START = datetime(2025, 3, 3, tzinfo=timezone.utc).timestamp()  # the virtual day begins at midnight UTC
HOUR = 3600.0
OUT = Path(__file__).with_name("attempts.csv")

COLUMNS = [
    "delivery", "provider", "endpoint", "event_type", "event_seq", "event_id", "delivery_id", "attempt",
    "by_hand", "sent_at", "after_first_s", "status", "elapsed_s", "error", "ok", "outcome", "final_status",
    "planned_duplicate", "request_id", "receiver_status", "receiver_duplicate",
]  # fmt: skip


def at(hours: float) -> float:
    """A virtual time, `hours` after the start of the day."""
    return START + hours * HOUR


def lognormal(rng: random.Random, median: float, sigma: float, cap: float) -> float:
    """A processing time: most answers are quick, a few are slow (a long right tail)."""
    return min(cap, median * math.exp(rng.gauss(0, sigma)))


@dataclass
class Endpoint:
    """One receiver endpoint: which provider sends to it, what events, and how it behaves over time."""

    name: str
    provider: wl.Stripe | wl.GitHub | wl.Shopify | wl.StandardWebhooks
    types: dict[str, float]  # event type -> weight
    count: int
    median: float  # seconds the endpoint takes to answer
    sigma: float = 0.5
    cap: float = 4.0
    down: list[tuple[float, float, int]] = field(default_factory=list)  # (from hour, to hour, status)
    fail_first: dict[int, float] | None = None  # failures before success -> probability, per delivery
    overrides: dict = field(default_factory=dict)

    def answer_at(self, rx: wl.Receiver, when: float, rng: random.Random) -> None:
        """Set how the endpoint answers the attempt due at virtual time `when`."""
        status = next((code for start, end, code in self.down if at(start) <= when < at(end)), 200)
        rx.respond(self.name, status, delay=lognormal(rng, self.median, self.sigma, self.cap))


class ScriptedClock(wl.VirtualClock):
    """A virtual clock that lets the endpoint change its behaviour when each attempt falls due."""

    def __init__(self, start: float, before_attempt):
        super().__init__(start)
        self.before_attempt = before_attempt

    def wait_until(self, when: float) -> float:
        self.before_attempt(when)
        return super().wait_until(when)


def endpoints() -> list[Endpoint]:
    stripe, github, shopify, standard = wl.Stripe(), wl.GitHub(), wl.Shopify(), wl.StandardWebhooks()
    live = {"livemode": True}  # live mode: Stripe retries for up to 3 days
    return [
        Endpoint(
            "payments",
            stripe,
            {
                "payment_intent.succeeded": 5,
                "charge.succeeded": 2.5,
                "charge.refunded": 1,
                "payment_intent.payment_failed": 1,
                "checkout.session.completed": 0.5,
            },
            80,
            median=0.06,
            down=[(13, 14.5, 500)],
            overrides=live,
        ),
        Endpoint(
            "billing",
            stripe,
            {"charge.succeeded": 4, "checkout.session.completed": 3, "customer.subscription.created": 3},
            40,
            median=0.15,
            sigma=0.6,
            fail_first={0: 0.7, 1: 0.18, 2: 0.08, 3: 0.04},
            overrides=live,
        ),
        Endpoint("ci", github, {"push": 6, "pull_request": 3, "issues": 1}, 40, median=0.03),
        Endpoint("deploy-bot", github, {"push": 7, "release": 3}, 20, median=0.4, down=[(11, 12.25, 503)]),
        Endpoint(
            "fulfilment",
            shopify,
            {"orders/create": 5, "orders/paid": 4, "orders/cancelled": 1},
            30,
            median=2.0,
            sigma=0.9,
            cap=6.5,
        ),
        Endpoint("inventory", shopify, {"inventory_levels/update": 7, "products/update": 3}, 30, median=0.02),
        Endpoint(
            "crm-sync", standard, {"user.created": 4, "contact.updated": 3.5, "invoice.paid": 2.5}, 35, median=0.1
        ),
    ]


CRM_FIXED_AT = at(36)  # the handler bug is fixed at noon the next day
BURST_AT, BURST_SIZE, BURST_DUPLICATES = 16.0, 30, 0.15


class Run:
    """Sends every endpoint's day of events, one thread per endpoint, and keeps what happened."""

    def __init__(self, rx: wl.Receiver):
        self.rx = rx
        self.deliveries: list[tuple[Endpoint, int, wl.Delivery]] = []  # (endpoint, event_seq, delivery)
        self.crm_fixed = False
        self.burst_sent = False
        self._lock = threading.Lock()

    def stream(self, endpoint: Endpoint, index: int) -> None:
        rng = random.Random(SEED * 10 + index)
        times = sorted(at(rng.uniform(0, 24)) for _ in range(endpoint.count))
        types, weights = list(endpoint.types), list(endpoint.types.values())
        seq = 0
        for when in times:
            if endpoint.name == "ci" and when >= at(BURST_AT) and not self.burst_sent:
                seq = self.burst(endpoint, rng, seq)
                self.burst_sent = True
            seq += 1
            event = endpoint.provider.event(rng.choices(types, weights)[0], **endpoint.overrides)
            self.deliver(endpoint, event, when, rng, seq)

    def deliver(self, endpoint: Endpoint, event, when: float, rng: random.Random, seq: int) -> None:
        if endpoint.fail_first:
            failures = rng.choices(list(endpoint.fail_first), list(endpoint.fail_first.values()))[0]
            self.rx.respond(
                endpoint.name, fail_first=failures, delay=lognormal(rng, endpoint.median, endpoint.sigma, 4)
            )
            clock = wl.VirtualClock(start=when)
        else:

            def before_attempt(due):
                endpoint.answer_at(self.rx, due, rng)
                if endpoint.name == "crm-sync":
                    self.crm_fixed = due >= CRM_FIXED_AT

            clock = ScriptedClock(when, before_attempt)
        delivery = endpoint.provider.deliver(event, to=self.rx.url(endpoint.name), clock=clock)
        if delivery.status == "failed" and isinstance(endpoint.provider, wl.GitHub):
            redo = delivery.log[-1]["sent"] + HOUR  # someone notices an hour later and clicks Redeliver
            endpoint.answer_at(self.rx, redo, rng)
            delivery.redeliver(after=HOUR)
        with self._lock:
            self.deliveries.append((endpoint, seq, delivery))

    def burst(self, endpoint: Endpoint, rng: random.Random, seq: int) -> int:
        """A merge train: 30 pushes at once, sent 4 at a time, shuffled, some twice."""
        github = endpoint.provider
        events = [github.event("push", commits=[f"merge train commit {i + 1}"]) for i in range(BURST_SIZE)]
        order = {id(event): seq + i + 1 for i, event in enumerate(events)}
        clock = ScriptedClock(at(BURST_AT), lambda due: endpoint.answer_at(self.rx, due, rng))
        sent = github.deliver_many(events, to=self.rx.url(endpoint.name), concurrency=4, shuffle=True,
                                   duplicate_rate=BURST_DUPLICATES, clock=clock, seed=SEED)  # fmt: skip
        with self._lock:
            self.deliveries.extend((endpoint, order[id(d.event)], d) for d in sent)
        return seq + BURST_SIZE


def crm_handler(run: Run):
    def sync_contact(event):
        if not run.crm_fixed:
            raise KeyError("company")  # the bug: contacts without a company crash the sync

    return sync_contact


def rows(run: Run) -> list[dict]:
    """One row per attempt, each matched to the request the receiver captured for it."""
    captured: dict[tuple[str, str], list] = {}
    for event in run.rx.store.list():
        captured.setdefault((event.endpoint, event.delivery_id), []).append(event)
    used: set[int] = set()
    out = []
    ordered = sorted(run.deliveries, key=lambda item: (item[2].log[0]["sent"], item[0].name, item[1]))
    for number, (endpoint, seq, delivery) in enumerate(ordered, 1):
        for row in delivery.log:
            attempt = row["result"]
            _, _, key = identify(tuple(attempt.request_headers.items()), attempt.request_body, "application/json")
            candidates = [e for e in captured.get((endpoint.name, key), []) if e.id not in used]
            match = min(candidates, key=lambda e: abs((e.received_at - attempt.sent_at).total_seconds()))
            used.add(match.id)
            out.append(
                {
                    "delivery": number,
                    "provider": delivery.provider.name,
                    "endpoint": endpoint.name,
                    "event_type": delivery.event.event_type,
                    "event_seq": seq,
                    "event_id": event_id(delivery, attempt),
                    "delivery_id": key,
                    "attempt": row["attempt"],
                    "by_hand": row["outcome"].startswith("redelivered by hand"),
                    "sent_at": iso(row["sent"]),
                    "after_first_s": round(row["offset"], 3),
                    "status": attempt.status if attempt.status is not None else "",
                    "elapsed_s": round(attempt.elapsed, 4),
                    "error": attempt.error or "",
                    "ok": attempt.ok,
                    "outcome": row["outcome"],
                    "final_status": delivery.status,
                    "planned_duplicate": delivery.duplicate,
                    "request_id": match.id,
                    "receiver_status": match.status,
                    "receiver_duplicate": match.duplicate_of is not None,
                }
            )
    assert len(used) == run.rx.store.count(), "every captured request belongs to exactly one attempt"
    return sorted(out, key=lambda r: (r["sent_at"], r["request_id"]))


def event_id(delivery: wl.Delivery, attempt: wl.Attempt) -> str:
    """The id of the event itself, shared by every delivery of it."""
    headers = {k.lower(): v for k, v in attempt.request_headers.items()}
    if delivery.provider.name == "stripe":
        return delivery.event["id"]
    if delivery.provider.name == "shopify":
        return headers["x-shopify-event-id"]
    return delivery.delivery_id  # GitHub and Standard Webhooks: one delivery id per event


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def main() -> int:
    with wl.Receiver() as rx:
        run = Run(rx)
        rx.on("contact.updated", endpoint="crm-sync")(crm_handler(run))
        threads = [threading.Thread(target=run.stream, args=(e, i)) for i, e in enumerate(endpoints())]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        table = rows(run)
    with OUT.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    deliveries = len(run.deliveries)
    print(f"wrote {OUT.name}: {len(table)} attempts of {deliveries} deliveries, {OUT.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
