"""The instructor's broadcasts against a class of 100, and what they cost the learners' own traffic.

    python benchmarks/broadcast.py [--learners 100] [--events 10] [--senders 16] [--at-once 3] [--rounds 3]

The class server runs as the instructor would run it (`webhooklab classroom`, in a process of its
own, on 127.0.0.2). First one broadcast alone: a Stripe payment to every bin, a tenth of which answer
their first two requests with a 500; it reports how long until every bin that answers had its event,
until every copy ended, and the attempts' own times. Then the learners' own traffic, quiet and
loud, alternating, `--rounds` of each: every learner but three delivers `--events` signed events to
their own bin (as benchmarks/classroom.py does), and in the loud rounds the instructor keeps
broadcasting to every bin at the same time, `--at-once` broadcasts running at any moment (3: as many
as the server runs). The learners' latency and throughput (medians over the rounds), what the bins
refused and the server's threads are reported side by side.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from classroom import bins_of, learner_sends, print_rounds, server_use, start

CHANGE = {"X-Webhooklab": "1"}


def broadcast(dashboard: str, **asked) -> dict:
    reply = requests.post(dashboard + "api/broadcasts", json=asked, headers=CHANGE, timeout=30)
    reply.raise_for_status()
    return reply.json()


def watch(dashboard: str, number: int, bins_that_answer: int) -> tuple[float, float, dict]:
    """(seconds until that many copies were delivered, seconds until every copy ended, the broadcast)."""
    began, first = time.perf_counter(), None
    while True:
        state = requests.get(dashboard + f"api/broadcasts/{number}", timeout=30).json()
        if first is None and state["counts"]["delivered"] >= bins_that_answer:
            first = time.perf_counter() - began
        if state["done"]:
            return first or time.perf_counter() - began, time.perf_counter() - began, state
        time.sleep(0.05)


def refused(dashboard: str) -> int:
    learners = requests.get(dashboard + "api/class", timeout=30).json()["learners"]
    return sum(sum(row["limits"]["refused"].values()) for row in learners)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--events", type=int, default=10, help="events each learner delivers in each round")
    parser.add_argument("--senders", type=int, default=16, help="learners sending at once")
    parser.add_argument("--at-once", type=int, default=3, help="broadcasts running at once in the loud round")
    parser.add_argument("--rounds", type=int, default=3, help="quiet and loud rounds, alternating (medians shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, dashboard = start(Path(folder) / "class", args.learners)
        try:
            roster, urls = bins_of(Path(folder) / "class", dashboard)
            failing = random.Random(1).sample(range(len(roster)), len(roster) // 10)
            for index in failing:
                requests.put(urls[index] + "api/endpoints/shop", json={"status": 200, "fail_first": 2}, headers=CHANGE,
                             timeout=10).raise_for_status()  # fmt: skip
            started = broadcast(dashboard, provider="stripe", event_type="payment_intent.succeeded")
            answering, ended, state = watch(dashboard, started["id"], len(roster) - len(failing))
            elapsed = sorted(row["elapsed_ms"] for copy in state["copies"] for row in copy["attempts"])
            alone = {"answering": answering, "ended": ended, "attempts": len(elapsed), "counts": state["counts"],
                     "p50": statistics.median(elapsed), "p95": elapsed[int(0.95 * (len(elapsed) - 1))]}  # fmt: skip

            runs: dict[str, list[dict]] = {"quiet": [], "loud": []}
            broadcasts: list[int] = []

            def instructor(stop: threading.Event):
                while not stop.is_set():
                    running = [b for b in requests.get(dashboard + "api/broadcasts", timeout=30).json()["broadcasts"]
                               if not b["done"]]  # fmt: skip
                    if len(running) < args.at_once:
                        broadcasts.append(broadcast(dashboard, provider="stripe", event_type="charge.succeeded",
                                                    endpoint="shop", replay=5)["id"])  # fmt: skip
                    stop.wait(0.2)

            for n, round_name in enumerate(["quiet", "loud"] * args.rounds):  # alternating: the machine is noisy
                before, use, stop = refused(dashboard), server_use(process.pid), threading.Event()
                thread = threading.Thread(target=instructor, args=(stop,)) if round_name == "loud" else None
                if thread:
                    thread.start()
                began = time.perf_counter()
                with ThreadPoolExecutor(args.senders) as pool:
                    results = list(pool.map(lambda i: learner_sends(roster[i], urls[i], args.events, 1000 * n + i),
                                            range(3, len(roster))))  # fmt: skip
                wall = time.perf_counter() - began
                peak = server_use(process.pid)
                stop.set()
                if thread:
                    thread.join()
                latencies = sorted(row["elapsed"] for chains in results for chain in chains for d in chain
                                   for row in d.log)  # fmt: skip
                runs[round_name].append({
                    "learners' latency p50 (ms)": statistics.median(latencies) * 1000,
                    "learners' latency p95 (ms)": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
                    "learners' throughput (requests/s)": len(latencies) / wall,
                    "learners' deliveries not delivered": sum(chain[-1].status != "delivered" for chains in results
                                                              for chain in chains),  # fmt: skip
                    "requests the bins refused": refused(dashboard) - before,
                    "server threads (most)": peak["threads"] if n else max(use["threads"], peak["threads"]),
                })  # fmt: skip
            rows = {name: {measure: (statistics.median if isinstance(values[0], float) else max)(values)
                           for measure, values in ((m, [run[m] for run in run_list]) for m in run_list[0])}
                    for name, run_list in runs.items()}  # fmt: skip
            copies = 0
            for number in broadcasts:
                reply = requests.get(dashboard + f"api/broadcasts/{number}", timeout=30)
                if reply.ok:
                    copies += sum(len(copy["attempts"]) for copy in reply.json()["copies"])
        finally:
            process.send_signal(2)
            process.communicate(timeout=60)
    print(f"one broadcast to {len(roster)} bins, {len(failing)} failing twice first: every answering bin delivered in "
          f"{alone['answering']:.2f} s, every copy ended in {alone['ended']:.2f} s ({alone['counts']}); "
          f"{alone['attempts']} attempts, each answered in p50 {alone['p50']:.1f} ms / p95 {alone['p95']:.1f} ms")
    print(f"loud rounds: {len(broadcasts)} broadcasts to every bin, {copies} attempts among the remembered ones")
    print_rounds(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
