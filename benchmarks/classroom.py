"""A whole class against one class server, measured in one run.

    python benchmarks/classroom.py [--learners 100] [--events 100] [--failing 0.1] [--senders 16]
    python benchmarks/classroom.py --fairness [--learners 100] [--events 20]
    python benchmarks/classroom.py --relays [--learners 100] [--events 100]

The class server runs as the instructor would run it (`webhooklab classroom`, in a process of its
own, on 127.0.0.2: the "LAN"). This process plays the learners: each delivers `--events` signed
Stripe, GitHub or Shopify events to their own bin, with retries on the provider's schedule on a
virtual clock (GitHub never retries: a failed delivery is redelivered by hand, with the same id).
A tenth of the bins answer their first two requests per endpoint with a 500. Then it checks that
nothing was lost and nothing landed in another learner's bin, and times the dashboard with every
event stored: its JSON, and (when Chromium is installed) the page until every learner's row shows.

--fairness measures the same class twice in one run, quiet and then loud: in the loud round one
learner holds respond(delay=...) with 50 requests sent at once, another fills their quota, another
keeps 16 downloads of a 20 MB event open without reading them, and a stranger on 127.0.0.3 keeps
1,000 connections trickling. The other learners' latency, the dashboard's load time and the
server's threads, memory and open files are reported for both rounds side by side.

--relays joins every learner: each has a receiver of their own here (in this process, standing in
for the learners' kernels) with a relay from their bin, as wl.workshop_receiver() makes them, and
delivers `--events` signed events to their bin URL, which the class server relays to that receiver.
The same events are then delivered straight to the receivers, for the relay's overhead side by side.
One learner's relay runs as a process of its own (`webhooklab relay`), killed half-way: their bin
answers 503, and the others should not notice.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

import webhooklab as wl
from webhooklab._sending.delivery import Delivery

LAN = "127.0.0.2"
PROVIDERS = (wl.Stripe, wl.GitHub, wl.Shopify)


def start(folder: Path, learners: int) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "webhooklab", "classroom", "--students", str(learners),
                                "--host", LAN, "--port", "0", "--dir", str(folder)],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    printed = ""
    for line in process.stdout:
        printed += line
        if line.startswith("Press Ctrl-C"):
            break
    return process, re.search(r"your dashboard\s+(\S+)", printed)[1]


def learner_sends(learner: dict, bin_url: str, events: int, seed: int) -> list:
    """One learner's deliveries: a list of chains (a delivery and its redeliveries), each with its attempts."""
    rng = random.Random(seed)
    chains = []
    for n in range(events):
        kind = PROVIDERS[rng.randrange(3)]
        provider = kind(learner["secret"])
        event = provider.event(rng.choice(kind.event_types()))
        event["classroom_marker"] = f"{learner['name']}/{n}"
        url = f"{bin_url}hooks/{kind.name}"
        chain = [provider.deliver(event, to=url, clock=wl.VirtualClock())]
        while chain[-1].status != "delivered" and len(chain) < 5:
            chain.append(Delivery(provider, event, url, clock=wl.VirtualClock(), delivery_id=chain[0].delivery_id).run())
        chains.append(chain)
    return chains


def check(dashboard: str, roster: list[dict], bins: dict, results: list) -> list[str]:
    """What was lost or misplaced: an empty list when every event is in its owner's bin, and only there."""
    problems = []
    for learner, chains in zip(roster, results):
        url = bins[learner["token"]]
        sent = {f"{learner['name']}/{n}" for n in range(len(chains))}
        attempts = sum(len(d.log) for chain in chains for d in chain)
        stored = requests.get(url + "api/export.json", timeout=60).json()
        markers = {json.loads(base64.b64decode(e["body_base64"]))["classroom_marker"] for e in stored}
        if not all(chain[-1].status == "delivered" for chain in chains):
            problems.append(f"{learner['name']}: a delivery was never delivered")
        if len(stored) != attempts:
            problems.append(f"{learner['name']}: {attempts} attempts reached the bin, {len(stored)} stored")
        if markers != sent:
            problems.append(f"{learner['name']}: stored {len(markers - sent)} foreign, {len(sent - markers)} missing")
        if not all(e["verified"] for e in stored):
            problems.append(f"{learner['name']}: an event failed its signature check")
    return problems


def dashboard_times(dashboard: str, learners: int, rounds: int = 5) -> tuple[float, float | None, int]:
    """(median seconds for api/class, median seconds for the page to show every row or None, events shown)."""
    json_times, total = [], 0
    for _ in range(rounds):
        began = time.perf_counter()
        total = requests.get(dashboard + "api/class", timeout=60).json()["events"]
        json_times.append(time.perf_counter() - began)
    page_times = []
    try:
        sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
        from lab_under_test import CHROMIUM, CHROMIUM_ARGS
        from playwright.sync_api import sync_playwright
    except ImportError:
        CHROMIUM = None
    if CHROMIUM:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(rounds):
                page = browser.new_page()
                began = time.perf_counter()
                page.goto(dashboard)
                page.locator("#learners tr").nth(learners - 1).wait_for(timeout=60_000)
                page_times.append(time.perf_counter() - began)
                page.close()
            browser.close()
    return statistics.median(json_times), statistics.median(page_times) if page_times else None, total


def server_use(pid: int) -> dict:
    """The class server's threads, resident memory (MB) and open files, read from /proc (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    threads = int(re.search(r"Threads:\s+(\d+)", status)[1])
    rss = int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024
    return {"threads": threads, "rss_mb": rss, "files": len(list(Path(f"/proc/{pid}/fd").iterdir()))}


class Trouble:
    """The careless learners and the stranger of the loud round, started and stopped together."""

    def __init__(self, bins: list[str], port: int):
        self.bins, self.port, self.sockets, self.stop = bins, port, [], threading.Event()
        self.report: dict = {}

    def start(self) -> None:
        slow, filler, hoarder = self.bins[:3]
        change = {"X-Webhooklab": "1"}
        refused = requests.put(slow + "api/endpoints/slow", json={"delay": 3600}, headers=change, timeout=10)
        self.report["delay=3600"] = refused.status_code
        requests.put(slow + "api/endpoints/slow", json={"delay": 60}, headers=change, timeout=10)
        path = slow.split("/", 3)[3]
        held = [self._raw(f"POST /{path}hooks/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}", LAN)
                for _ in range(50)]  # fmt: skip
        codes = [requests.post(filler + "hooks/fill", data=b"x" * 4 * 1024 * 1024, timeout=60).status_code
                 for _ in range(30)]  # fmt: skip
        self.report["quota: 4 MB bodies stored, refused"] = (codes.count(200), codes.count(507))
        requests.post(hoarder + "hooks/big", data=json.dumps({"blob": "x" * 20 * 1024 * 1024}), timeout=60)
        path = hoarder.split("/", 3)[3]
        for _ in range(16):
            sock = self._raw(f"GET /{path}api/export.json HTTP/1.1\r\nHost: {LAN}\r\n\r\n", LAN)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        time.sleep(1)
        self.report["slow: answered at once (429)"] = sum(1 for sock in held if _answered(sock))
        for _ in range(1000):
            self._raw("GET /b/", "127.0.0.3")
        threading.Thread(target=self._trickle, daemon=True).start()

    def _raw(self, text: str, source: str) -> socket.socket:
        sock = socket.create_connection((LAN, self.port), timeout=10, source_address=(source, 0))
        sock.sendall(text.encode())
        self.sockets.append(sock)
        return sock

    def _trickle(self) -> None:
        while not self.stop.wait(2):
            for sock in list(self.sockets[-1000:]):
                try:
                    sock.send(b"x")
                except OSError:
                    pass

    def end(self) -> None:
        self.stop.set()
        for sock in self.sockets:
            sock.close()


def _answered(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except (BlockingIOError, OSError):
        return False
    finally:
        sock.setblocking(True)


def fairness(args) -> int:
    """The class quiet, then loud (see the module docstring): the others' latency and the server's use, side by side."""
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        process, dashboard = start(Path(folder) / "class", args.learners)
        try:
            roster = json.loads((Path(folder) / "class" / "roster.json").read_text())["learners"]
            base = dashboard.split("/teacher/")[0]
            urls = [f"{base}/b/{learner['token']}/" for learner in roster]
            trouble = Trouble(urls, int(base.rsplit(":", 1)[1]))
            for round_name in ("quiet", "loud"):
                if round_name == "loud":
                    trouble.start()
                use = server_use(process.pid)
                began = time.perf_counter()
                with ThreadPoolExecutor(args.senders) as pool:
                    results = list(pool.map(lambda i: learner_sends(roster[i], urls[i], args.events, i),
                                            range(3, len(roster))))  # fmt: skip
                wall = time.perf_counter() - began
                peak = server_use(process.pid)
                latencies = sorted(row["elapsed"] for chains in results for chain in chains for d in chain
                                   for row in d.log)  # fmt: skip
                lost = sum(chain[-1].status != "delivered" for chains in results for chain in chains)
                json_time, page_time, _ = dashboard_times(dashboard, len(roster), rounds=3)
                rows[round_name] = {
                    "others' latency p50 (ms)": statistics.median(latencies) * 1000,
                    "others' latency p95 (ms)": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
                    "others' throughput (requests/s)": len(latencies) / wall,
                    "others' deliveries not delivered": lost,
                    "dashboard JSON (ms, median of 3)": json_time * 1000,
                    "dashboard page, every row (ms, median of 3)": (page_time or 0) * 1000,
                    "server threads (before / after)": f"{use['threads']} / {peak['threads']}",
                    "server memory (MB, before / after)": f"{use['rss_mb']:.0f} / {peak['rss_mb']:.0f}",
                    "server open files (before / after)": f"{use['files']} / {peak['files']}",
                }
            trouble.end()
        finally:
            process.send_signal(2)
            process.communicate(timeout=60)
    print(f"{args.learners} learners; {args.learners - 3} others deliver {args.events} events each, in both rounds")
    print("| measure | quiet | loud | ratio |\n|---|---|---|---|")
    for measure, quiet in rows["quiet"].items():
        loud = rows["loud"][measure]
        ratio = f"{loud / quiet:.2f}" if isinstance(quiet, float) and quiet else ""
        show = (lambda v: f"{v:.1f}" if isinstance(v, float) else str(v))
        print(f"| {measure} | {show(quiet)} | {show(loud)} | {ratio} |")
    for what, value in trouble.report.items():
        print(f"  {what}: {value}")
    return 1 if rows["loud"]["others' deliveries not delivered"] else 0


def relays(args) -> int:
    from webhooklab._receiving.joining import local_verdict
    from webhooklab._receiving.relay import Relay, Route

    with tempfile.TemporaryDirectory() as folder:
        process, dashboard = start(Path(folder) / "class", args.learners)
        roster = json.loads((Path(folder) / "class" / "roster.json").read_text())["learners"]
        base = dashboard.split("/teacher/")[0]
        bins = [f"{base}/b/{learner['token']}/" for learner in roster]
        names = [kind.name for kind in PROVIDERS]
        kernels = [wl.Receiver(secrets=dict.fromkeys(names, learner["secret"])).start() for learner in roster]
        failing = random.Random(1).sample(range(len(roster)), round(len(roster) * args.failing))
        links = []
        for index, (rx, url) in enumerate(zip(kernels, bins)):
            for name in names:
                rx.respond(name, fail_first=2 if index in failing else 0)
            if index == 0:  # the learner whose kernel stops half-way
                victim = subprocess.Popen([sys.executable, "-m", "webhooklab", "relay", url, "--forward-to",
                                           rx.base_url + "/hooks/victim"], stdout=subprocess.DEVNULL)  # fmt: skip
                continue
            verdict = functools.partial(local_verdict, rx)
            links.append(Relay(url, [Route(rx.base_url, keep_path=True, verdict=verdict)]).start())
        others = range(1, len(roster))
        finished = []

        def send(i: int) -> list:
            chains = learner_sends(roster[i], bins[i], args.events, i)
            finished.append(i)
            if len(finished) == len(others) // 2:
                victim.kill()  # half-way: the learner's kernel is gone, without a goodbye
            return chains

        try:
            before = server_use(process.pid)
            began = time.perf_counter()
            with ThreadPoolExecutor(args.senders) as pool:
                relayed = list(pool.map(send, others))
            wall = time.perf_counter() - began
            during = server_use(process.pid)
            at_receivers = [kernels[i].store.count() for i in others]
            stopped = requests.post(bins[0] + "hooks/stripe", data=b"{}", timeout=10).status_code
            for index in failing:
                for name in names:
                    kernels[index].respond(name, fail_first=2)  # the same failures, straight to the receiver
            with ThreadPoolExecutor(args.senders) as pool:
                direct = list(pool.map(lambda i: learner_sends(roster[i], kernels[i].base_url + "/", args.events, i),
                                       others))  # fmt: skip
            problems = check(dashboard, [roster[i] for i in others], {roster[i]["token"]: bins[i] for i in others},
                             relayed)  # fmt: skip
            problems += [f"{roster[i]['name']}: {attempts} attempts, {local} reached the learner's receiver"
                         for i, chains, local in zip(others, relayed, at_receivers)
                         if (attempts := sum(len(d.log) for chain in chains for d in chain)) != local]  # fmt: skip
        finally:
            for link in links:
                link.stop()
            victim.kill()
            process.send_signal(2)
            process.communicate(timeout=60)
            for rx in kernels:
                rx.close()

    def times(results):
        values = sorted(row["elapsed"] for chains in results for chain in chains for d in chain for row in d.log)
        return statistics.median(values), values[int(0.95 * (len(values) - 1))], len(values)

    (r50, r95, n), (d50, d95, _) = times(relayed), times(direct)
    print(f"{len(roster)} learners joined, each with a relay; {args.events} events each; {len(failing)} bins fail "
          f"their first two per endpoint; {n} relayed requests in {wall:.1f} s ({n / wall:.0f}/s)")  # fmt: skip
    print("| measure | straight to the receiver | through the bin and relay | ratio |\n|---|---|---|---|")
    print(f"| latency p50 (ms) | {d50 * 1000:.1f} | {r50 * 1000:.1f} | {r50 / d50:.1f}x |")
    print(f"| latency p95 (ms) | {d95 * 1000:.1f} | {r95 * 1000:.1f} | {r95 / d95:.1f}x |")
    print("| class server | before | during |  |")
    for key in ("threads", "rss_mb", "files"):
        print(f"| {key} | {before[key]:.0f} | {during[key]:.0f} |  |")
    answers = Counter(row["status"] for chains in relayed for chain in chains for d in chain for row in d.log)
    print(f"| answers through the relay (status: count) | {dict(sorted(answers.items(), key=str))} |  |  |")
    print(f"| a stopped learner's bin answers | {stopped} |  |  |")
    print(f"| lost or misplaced (the {len(roster) - 1} others) | {len(problems)} |  |  |")
    for line in problems[:10]:
        print("  " + line)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--events", type=int, default=None, help="events each learner delivers (100; 20 in --fairness)")
    parser.add_argument("--failing", type=float, default=0.1, help="share of bins that fail their first requests")
    parser.add_argument("--senders", type=int, default=16, help="learners sending at once")
    parser.add_argument("--fairness", action="store_true", help="a quiet round, then a loud one (see above)")
    parser.add_argument("--relays", action="store_true", help="every learner joined, through a relay (see above)")
    args = parser.parse_args()
    if args.relays:
        args.events = args.events or 100
        return relays(args)
    if args.fairness:
        args.events = args.events or 20
        return fairness(args)
    args.events = args.events or 100
    with tempfile.TemporaryDirectory() as folder:
        process, dashboard = start(Path(folder) / "class", args.learners)
        try:
            roster = json.loads((Path(folder) / "class" / "roster.json").read_text())["learners"]
            base = dashboard.split("/teacher/")[0]
            bins = {learner["token"]: f"{base}/b/{learner['token']}/" for learner in roster}
            failing = random.Random(1).sample(range(len(roster)), round(len(roster) * args.failing))
            for index in failing:
                for kind in PROVIDERS:
                    requests.put(bins[roster[index]["token"]] + f"api/endpoints/{kind.name}",
                                 json={"status": 200, "fail_first": 2}, headers={"X-Webhooklab": "1"}, timeout=10)  # fmt: skip
            began = time.perf_counter()
            with ThreadPoolExecutor(args.senders) as pool:
                results = list(pool.map(lambda i: learner_sends(roster[i], bins[roster[i]["token"]], args.events, i),
                                        range(len(roster))))  # fmt: skip
            wall = time.perf_counter() - began
            attempts = [a for chains in results for chain in chains for d in chain for a in (row["elapsed"] for row in d.log)]
            problems = check(dashboard, roster, bins, results)
            json_time, page_time, shown = dashboard_times(dashboard, len(roster))
        finally:
            process.send_signal(2)
            process.communicate(timeout=60)
    latencies = sorted(attempts)
    p50 = statistics.median(latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"{len(roster)} learners x {args.events} events, {len(failing)} bins failing first; "
          f"{len(latencies)} requests (retries included) in {wall:.1f} s")  # fmt: skip
    print("| measure | value |\n|---|---|")
    print(f"| throughput (requests/s) | {len(latencies) / wall:.0f} |")
    print(f"| latency p50 / p95 (ms) | {p50 * 1000:.1f} / {p95 * 1000:.1f} |")
    print(f"| dashboard JSON at {shown} events (ms, median of 5) | {json_time * 1000:.0f} |")
    if page_time is not None:
        print(f"| dashboard page until {len(roster)} rows show (ms, median of 5) | {page_time * 1000:.0f} |")
    print(f"| lost or misplaced events | {len(problems)} |")
    for problem in problems[:10]:
        print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
