"""How long a glossary demo takes from start to a visible result, against a blank Voilà page in the same run.

    python benchmarks/demos.py [--rounds 3] [NAME ...]

Runs `webhooklab demo --no-browser` as a presenter does and times, in Chromium at 1280×720:
  server: from the command's start until it prints its address (Voilà answering);
  page:   from opening a demo's page until its main button can be pressed (a kernel started, the demo built);
  result: from the press until the demo shows its result (for the race: its first event on the time line).
The baseline is a notebook whose one cell shows a button, served by the same Voilà: what any Voilà page costs.
Rounds alternate demo and baseline; figures are medians over the rounds.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from demo_pictures import SHOTS  # noqa: E402  (the same presses the README's pictures make)

BLANK = {"cells": [{"cell_type": "code", "execution_count": None, "id": "blank", "metadata": {}, "outputs": [],
                    "source": ["import ipywidgets\n", "ipywidgets.Button(description='Blank')"]}],
         "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
         "nbformat": 4, "nbformat_minor": 5}  # fmt: skip


def serve(*name: str) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "webhooklab", "demo", *name, "--no-browser", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    index = re.search(r"(http://\S+)", process.stdout.readline()).group(1)
    return process, index, time.perf_counter() - started


def timed(browser, url: str, button: str, chosen=(), result: str | None = None) -> tuple[float, float | None]:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    started = time.perf_counter()
    page.goto(url)
    page.get_by_role("button", name=button).wait_for(timeout=60_000)
    ready = time.perf_counter() - started
    shown = None
    if result is not None:
        for label in chosen:
            page.get_by_role("button", name=label, exact=True).click()
        pressed = time.perf_counter()
        page.get_by_role("button", name=button).click()
        first = "svg rect[width='4']" if result == "Finished" else None  # the race's first event on its time line
        if first:
            page.locator(first).first.wait_for(timeout=30_000)
        else:
            page.locator(".wl-said").filter(has_text=result).wait_for(timeout=30_000)
        shown = time.perf_counter() - pressed
    page.close()
    return ready, shown


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("names", nargs="*", default=list(SHOTS))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    (folder / "blank.ipynb").write_text(json.dumps(BLANK))
    process, index, server = serve()
    demos_folder = ROOT / "notebooks" / "demos"
    shutil.copy(folder / "blank.ipynb", demos_folder / "blank.ipynb")  # served beside the demos, then removed
    rows = {name: {"page": [], "result": []} for name in [*args.names, "blank"]}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"])
            for _ in range(args.rounds):
                for name in args.names:
                    chosen, button, result = SHOTS[name]
                    ready, shown = timed(browser, index.replace("index.ipynb", f"{name}.ipynb"), button, chosen, result)
                    rows[name]["page"].append(ready)
                    rows[name]["result"].append(shown)
                    ready, _ = timed(browser, index.replace("index.ipynb", "blank.ipynb"), "Blank")
                    rows["blank"]["page"].append(ready)
            browser.close()
    finally:
        (demos_folder / "blank.ipynb").unlink(missing_ok=True)
        process.terminate()
        process.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    blank = statistics.median(rows["blank"]["page"])
    print(f"server started and answering: {server:.2f} s (one start)\n")
    print("| demo | page ready (s) | blank Voilà page (s) | ratio | press to result (s) | page + result (s) |")
    print("|---|---|---|---|---|---|")
    for name in args.names:
        page, result = statistics.median(rows[name]["page"]), statistics.median(rows[name]["result"])
        print(f"| {name} | {page:.2f} | {blank:.2f} | {page / blank:.2f} | {result:.2f} | {page + result:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
