"""Deliveries against plain requests.post doing the same HTTP work, measured in one run.

    python benchmarks/delivery.py [--repeats 7] [--events 300] [--concurrency 8]

1. Stripe's live-mode schedule (13 attempts over about three days) against a
   receiver that always answers 500, on the virtual clock; the baseline is
   13 plain requests.post calls of the same signed body.
2. deliver_many of N events to a healthy receiver; the baseline posts the
   same pre-signed bodies from a thread pool of the same size.

The receiver runs in its own process, so the sender's work is what differs.
Each figure is the median over the repeats, run alternately.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import webhooklab as wl

SERVER = """
import sys, webhooklab as wl
rx = wl.Receiver().start()
rx.respond("down", status=500)
print(rx.base_url, flush=True)
sys.stdin.read()
"""


def three_days(stripe: wl.Stripe, event, url: str) -> float:
    started = time.perf_counter()
    delivery = stripe.deliver(event, to=url, clock=wl.VirtualClock())
    assert delivery.status == "exhausted" and len(delivery.log) == 13
    return time.perf_counter() - started


def thirteen_posts(body: bytes, headers: dict, url: str) -> float:
    started = time.perf_counter()
    for _ in range(13):
        assert requests.post(url, data=body, headers=headers, timeout=30).status_code == 500
    return time.perf_counter() - started


def many(stripe: wl.Stripe, events, url: str, concurrency: int) -> float:
    started = time.perf_counter()
    deliveries = stripe.deliver_many(events, to=url, concurrency=concurrency)
    assert all(d.status == "delivered" for d in deliveries)
    return len(events) / (time.perf_counter() - started)


def many_posts(signed, url: str, concurrency: int) -> float:
    def post(item):
        body, headers = item
        assert requests.post(url, data=body, headers=headers, timeout=30).status_code == 200

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, signed))
    return len(signed) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    base = server.stdout.readline().strip()
    down, healthy = f"{base}/hooks/down", f"{base}/hooks/ok"
    stripe = wl.Stripe()
    event = stripe.event("payment_intent.succeeded", livemode=True)
    body, headers = stripe.sign(event)
    events = [stripe.event("charge.succeeded") for _ in range(args.events)]
    signed = [stripe.sign(e) for e in events]
    try:
        ours, base_line = [], []
        rates, base_rates = [], []
        for _ in range(args.repeats):
            ours.append(three_days(stripe, event, down))
            base_line.append(thirteen_posts(body, headers, down))
            rates.append(many(stripe, events, healthy, args.concurrency))
            base_rates.append(many_posts(signed, healthy, args.concurrency))
    finally:
        server.stdin.close()
        server.wait()

    a, b = statistics.median(ours), statistics.median(base_line)
    c, d = statistics.median(rates), statistics.median(base_rates)
    print(f"{args.repeats} repeats, {args.events} events at concurrency {args.concurrency}, Python {sys.version.split()[0]}\n")
    print("| measure | webhooklab | plain requests.post | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| Stripe's 3-day schedule, 13 attempts, virtual clock (ms) | {a * 1000:.1f} | {b * 1000:.1f} | {a / b:.2f} | < 1000 ms |")
    print(f"| deliver_many to a healthy receiver (deliveries/s) | {c:.0f} | {d:.0f} | {c / d:.2f} | |")


if __name__ == "__main__":
    main()
