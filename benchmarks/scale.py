"""A hundred thousand events: every notebook call, API page and export, beside a baseline, in one run.

    python benchmarks/scale.py [--events 100000] [--rounds 5] [--senders 8]

The receiver runs in this process, as in a notebook, on a SQLite file. A
sender process POSTs the events over HTTP to 127.0.0.1 (signed Stripe,
GitHub and Shopify events, on keep-alive connections), as real senders do.
Then each operation is timed beside a baseline that does the least work
that gives the same answer, alternating, and the medians and ratios are
printed as a Markdown table:

- rx.events() against pandas.read_sql of the same columns on a connection of its own;
- wait_for(len(stored) + 1): from the new event's arrival to the call's return, against the
  moment the receiver's own listener is called for the same event (the earliest anyone can know);
- the first page of /api/events (what the inspector asks first) against a bare SQLite query
  of the same rows and count, turned into JSON;
- each export, streamed over HTTP and thrown away as it arrives, against a bare SQLite loop over
  the same rows writing each as JSON: time, and the growth of this process's peak memory
  (tracemalloc, and the resident set's high-water mark);
- with Chromium and playwright: the inspector's first rows on screen with the true total in its
  header, against a static HTML page of the same rows.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import requests

import webhooklab as wl
from webhooklab._receiving.store import SUMMARY_SELECT

SECRETS = {"pay": "whsec_benchmark_000000000000", "gh": "gh-benchmark", "shop": "shopify-benchmark"}


def send(port: int, count: int, senders: int) -> None:
    """The sender process: `count` signed events from `senders` threads, each on one keep-alive connection."""
    import http.client

    kinds = [(wl.Stripe(SECRETS["pay"]), "payment_intent.succeeded", "pay"), (wl.GitHub(SECRETS["gh"]), "push", "gh"),
             (wl.Shopify(SECRETS["shop"]), "products/update", "shop"), (wl.Stripe(SECRETS["pay"]), "charge.refunded", "pay")]  # fmt: skip

    def sender(numbers):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in numbers:
            provider, event_type, endpoint = kinds[i % len(kinds)]
            body, headers = provider.sign(provider.event(event_type))
            connection.request("POST", f"/hooks/{endpoint}", body, headers)
            reply = connection.getresponse()
            reply.read()
            assert reply.status == 200, reply.status
        connection.close()

    threads = [threading.Thread(target=sender, args=(range(s, count, senders),)) for s in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def peak_rss() -> int:
    """This process's resident high-water mark, in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident size
    except OSError:
        pass


def measured(work, memory: bool = False):
    """(seconds, tracemalloc peak growth, resident peak growth) of one call; memory only when asked."""
    if memory:
        reset_peak_rss()
        rss = peak_rss()
        tracemalloc.start()
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    if not memory:
        return elapsed, 0, 0
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, traced, peak_rss() - rss


def download(url: str) -> int:
    size = 0
    with requests.get(url, stream=True, timeout=600) as reply:
        for chunk in reply.iter_content(256 * 1024):
            size += len(chunk)
    return size


def bare_export(path: Path) -> int:
    """The least an export can do: every row once, as JSON, a batch at a time, written nowhere."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    cursor, size = db.execute("SELECT * FROM events ORDER BY id"), 0
    while rows := cursor.fetchmany(500):
        for row in rows:
            record = dict(row)
            record["body"] = base64.b64encode(record["body"]).decode()
            record["response_body"] = record["response_body"].decode("utf-8", "replace")
            size += len(json.dumps(record))
    db.close()
    return size


def bare_page(path: Path) -> str:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    rows = db.execute(f"SELECT {SUMMARY_SELECT} FROM events ORDER BY id DESC LIMIT 100").fetchall()
    total = db.execute("SELECT count(*) FROM events").fetchone()[0]
    db.close()
    return json.dumps({"events": [dict(row) for row in rows], "total": total})


def wait_latency(rx) -> tuple[float, float]:
    """(listener, wait_for): seconds from one new event's arrival until each learns of it."""
    heard = []
    listener = lambda: heard.append(datetime.now(timezone.utc))  # noqa: E731
    rx.listen(listener)
    stored = rx.store.count()
    threading.Timer(0.1, lambda: requests.post(rx.url("late"), json={"late": True}, timeout=10)).start()
    arrived = rx.wait_for(stored + 1, timeout=30)
    returned = datetime.now(timezone.utc)
    rx.unlisten(listener)
    at = arrived[-1].received_at
    return (heard[0] - at).total_seconds(), (returned - at).total_seconds()


def browser_times(rx, total: int, rounds: int, folder: Path) -> tuple[list[float], list[float]] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    rows = json.loads(bare_page(rx.store.path))["events"]
    static = folder / "static.html"
    cells = "".join("<tr>" + "".join(f"<td>{row[c]}</td>" for c in ("id", "time", "endpoint", "method", "provider",
                    "event_type", "status", "size", "verified")) + "</tr>" for row in rows)  # fmt: skip
    static.write_text(f"<!doctype html><header id=count>{total} request(s)</header><table><tbody id=rows>{cells}"
                      "</tbody></table>")  # fmt: skip
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
    ours, base = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for _ in range(rounds):
            for url, times in ((rx.base_url + "/", ours), (static.as_uri(), base)):
                started = time.perf_counter()
                page.goto(url)
                page.locator("#rows tr").first.wait_for(state="attached")
                page.get_by_text(f"{total} request(s)", exact=True).wait_for()
                times.append(time.perf_counter() - started)
            page.goto("about:blank")
        browser.close()
    return ours, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--send", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        return send(args.send[0], args.send[1], args.senders)

    folder = Path(tempfile.mkdtemp(prefix="webhooklab-scale-"))
    path = folder / "events.db"
    rx = wl.Receiver(db=path, secrets=SECRETS).start()
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--send", str(rx.port), str(args.events), "--senders", str(args.senders)],
                   check=True)  # fmt: skip
    ingest = time.perf_counter() - started
    rx.store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total = rx.store.count()
    size = sum(f.stat().st_size for f in folder.glob("events.db*"))
    print(f"{total} events over HTTP from {args.senders} senders in {ingest:.0f} s ({total / ingest:.0f}/s); "
          f"the file store holds {size / total / 1024:.1f} KB per event ({size / 1024**2:.0f} MB); "
          f"Python {sys.version.split()[0]}, {args.rounds} rounds\n")

    table = []

    def row(label, ours, base, baseline, unit="ms", scale=1000, target=""):
        m_ours, m_base = statistics.median(ours), statistics.median(base)
        digits = 3 if scale == 1 else 1
        table.append(f"| {label} | {m_ours * scale:.{digits}f} | {baseline} | {m_base * scale:.{digits}f} | "
                     f"{m_ours / m_base if m_base else float('nan'):.2f} | {target} |")  # fmt: skip

    reader = sqlite3.connect(path)
    events_sql = f"SELECT {SUMMARY_SELECT} FROM events ORDER BY id"
    import pandas as pd

    ours, base = [], []
    for _ in range(args.rounds):
        ours.append(measured(rx.events)[0])
        base.append(measured(lambda: pd.read_sql(events_sql, reader))[0])
    row("rx.events(), all rows", ours, base, "pandas.read_sql", "s", 1, "< 500 ms")
    ours, base = [], []
    for _ in range(args.rounds):
        ours.append(measured(lambda: rx.events("pay", limit=1000))[0])
        base.append(measured(lambda: pd.read_sql(events_sql.replace("ORDER BY id", "WHERE endpoint = 'pay' ORDER BY "
                                                 "id DESC LIMIT 1000"), reader))[0])  # fmt: skip
    row('rx.events("pay", limit=1000)', ours, base, "pandas.read_sql")
    heard, waited = zip(*(wait_latency(rx) for _ in range(args.rounds)))
    row("wait_for(len(stored) + 1), arrival to return", waited, heard, "the receiver's listener", target="< 50 ms")
    for label, query in (("/api/events, first page", "newest=1&limit=100"),
                         ("/api/events?endpoint=gh, first page", "newest=1&limit=100&endpoint=gh")):  # fmt: skip
        ours, base = [], []
        for _ in range(args.rounds * 4):
            ours.append(measured(lambda: requests.get(f"{rx.base_url}/api/events?{query}", timeout=30).json())[0])
            base.append(measured(lambda: bare_page(path))[0])
        row(label, ours, base, "bare SQLite query + JSON", target="< 50 ms")

    memory = ["| export (all events) | time (s) | size (MB) | peak traced growth (MB) | peak resident growth (MB) |",
              "|---|---|---|---|---|"]  # fmt: skip
    base_times = [measured(lambda: bare_export(path))[0] for _ in range(max(1, args.rounds // 3))]
    _, traced, rss = measured(lambda: bare_export(path), memory=True)
    memory.append(f"| bare SQLite loop, each row as JSON (baseline) | {statistics.median(base_times):.1f} | | "
                  f"{traced / 1024**2:.1f} | {rss / 1024**2:.1f} |")  # fmt: skip
    for kind in ("json", "jsonl", "csv", "har"):
        url = f"{rx.base_url}/api/export.{kind}"
        times = [measured(lambda: download(url))[0] for _ in range(max(1, args.rounds // 3))]
        sizes = []
        _, traced, rss = measured(lambda: sizes.append(download(url)), memory=True)
        memory.append(f"| /api/export.{kind} | {statistics.median(times):.1f} | {sizes[0] / 1024**2:.0f} | "
                      f"{traced / 1024**2:.1f} | {rss / 1024**2:.1f} |")  # fmt: skip

    pages = browser_times(rx, rx.store.count(), args.rounds, folder)
    if pages:
        row("inspector: first rows and the true total, in Chromium", pages[0], pages[1], "static HTML of the rows",
            target="< 1 s")  # fmt: skip
    print("| operation (median) | webhooklab (ms) | baseline | baseline (ms) | ratio | target |")
    print("|---|---|---|---|---|---|")
    print("\n".join(table).replace("| rx.events(), all rows | ", "| rx.events(), all rows (s) | "))
    print()
    print("\n".join(memory))
    reader.close()
    rx.close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
