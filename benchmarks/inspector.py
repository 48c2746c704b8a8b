"""How fast the inspector page shows 1,000 captured events, against a static page of the same table.

    python benchmarks/inspector.py [--events 1000] [--burst 3000] [--repeats 5]

Needs Chromium (Debian's package) and the playwright package (the test extra).
Both pages are loaded in the same headless browser, alternately: the
inspector (HTML, then its script fetches the events as JSON and builds the
table) and a static HTML file of the same rows; each time is from navigation
start until the first rows and the total are on the page (the inspector draws
only the rows in view; the static page has them all). Medians over the repeats.

Then a burst: `--burst` events posted by 8 senders at full speed while the
inspector is open, and the longest task that held the page's main thread
until all of them were shown (Chromium's long-task timing, tasks over 50 ms),
against the longest task of loading the static page of the same rows.
"""

from __future__ import annotations

import argparse
import html
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

import webhooklab as wl

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip


def timed(page, url: str, rows: int) -> float:
    started = time.perf_counter()
    page.goto(url)
    page.locator("table tbody tr").first.wait_for(state="attached")  # the page's CSP forbids eval
    page.get_by_text(f"{rows} request(s)", exact=True).wait_for()  # and the true total in the header
    return time.perf_counter() - started


LONG_TASKS = """
window.longTasks = [];
new PerformanceObserver((found) => window.longTasks.push(...found.getEntries().map((e) => e.duration)))
  .observe({ type: "longtask", buffered: true });
"""


def send(rx: wl.Receiver, count: int, senders: int = 8) -> None:
    """POST `count` small JSON events from `senders` threads on keep-alive connections, at full speed."""

    def sender(numbers):
        with requests.Session() as session:
            for i in numbers:
                session.post(rx.url("burst"), json={"n": i}, timeout=10)

    threads = [threading.Thread(target=sender, args=(range(s, count, senders),)) for s in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def longest_task(page) -> float:
    return max(page.evaluate("window.longTasks"), default=0.0)


def burst(browser, events: int, repeats: int) -> tuple[float, float]:
    """Medians of (the inspector's longest task during a burst, the static page's longest task loading its rows)."""
    during, loading = [], []
    with wl.Receiver() as rx:
        for _ in range(repeats):
            rx.clear()
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.add_init_script(LONG_TASKS)
            page.goto(rx.base_url + "/")
            page.locator("#empty").wait_for()
            send(rx, events)
            page.get_by_text(f"{events} request(s)", exact=True).wait_for(timeout=60_000)
            page.wait_for_timeout(1000)  # a poll or two more
            during.append(longest_task(page))
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in e.values()) + "</tr>"
                for e in rx.store.summaries()
            )
            static = Path(tempfile.mkdtemp()) / "static.html"
            static.write_text(f"<!doctype html><p>{events} request(s)</p><table><tbody>{rows}</tbody></table>")
            page.goto(static.as_uri())
            page.get_by_text(f"{events} request(s)", exact=True).wait_for()
            page.wait_for_timeout(200)
            loading.append(longest_task(page))
            page.close()
    rx.close()
    return statistics.median(during), statistics.median(loading)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or sys.exit("Chromium is needed: apt-get install chromium")

    with wl.Receiver() as rx, requests.Session() as session:
        github = wl.GitHub()
        body, headers = github.sign(github.event("push"))
        for _ in range(args.events):
            session.post(rx.url("bench"), data=body, headers=headers)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in e.values()) + "</tr>"
            for e in rx.store.summaries()
        )
        static = Path(tempfile.mkdtemp()) / "static.html"
        static.write_text(f"<!doctype html><p>{args.events} request(s)</p><table><tbody>{rows}</tbody></table>")
        inspector, baseline = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page()
            timed(page, rx.base_url + "/", args.events)  # warm up: the browser's own first start
            for _ in range(args.repeats):
                inspector.append(timed(page, rx.base_url + "/", args.events))
                baseline.append(timed(page, static.as_uri(), args.events))
            during, loading = burst(browser, args.burst, args.repeats)
            browser.close()
    rx.close()
    ours, base = statistics.median(inspector), statistics.median(baseline)
    print(f"{args.events} events, {args.repeats} repeats, Chromium headless, Python {sys.version.split()[0]}\n")
    print("| page | median load (ms) | ratio | target |")
    print("|---|---|---|---|")
    print(f"| inspector (HTML + script + JSON API) | {ours * 1000:.0f} | {ours / base:.2f} | < 1000 ms |")
    print(f"| static HTML table of the same rows | {base * 1000:.0f} | 1.00 | |")
    print(f"\n| {args.burst} events in a burst | longest main-thread task (ms) | ratio | target |")
    print("|---|---|---|---|")
    print(f"| inspector open while they arrive | {during:.0f} | {during / loading if loading else float('nan'):.2f} | < 200 ms |")
    print(f"| static HTML table of the same rows, loading | {loading:.0f} | 1.00 | |")


if __name__ == "__main__":
    main()
