"""How fast the inspector page shows 1,000 captured events, against a static page of the same table.

    python benchmarks/inspector.py [--events 1000] [--repeats 5]

Needs Chromium (Debian's package) and the playwright package (the test extra).
Both pages are loaded in the same headless browser, alternately: the
inspector (HTML, then its script fetches the events as JSON and builds the
table) and a static HTML file of the same rows; each time is from navigation
start until the first rows and the total are on the page (the inspector draws
only the rows in view; the static page has them all). Medians over the repeats.
"""

from __future__ import annotations

import argparse
import html
import shutil
import statistics
import sys
import tempfile
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
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
            browser.close()
    rx.close()
    ours, base = statistics.median(inspector), statistics.median(baseline)
    print(f"{args.events} events, {args.repeats} repeats, Chromium headless, Python {sys.version.split()[0]}\n")
    print("| page | median load (ms) | ratio | target |")
    print("|---|---|---|---|")
    print(f"| inspector (HTML + script + JSON API) | {ours * 1000:.0f} | {ours / base:.2f} | < 1000 ms |")
    print(f"| static HTML table of the same rows | {base * 1000:.0f} | 1.00 | |")


if __name__ == "__main__":
    main()
