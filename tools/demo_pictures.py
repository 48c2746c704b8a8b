"""Take the README's picture of each glossary demo: `webhooklab demo`, each page in Chromium at 1280×720, after
its main button. Writes notebooks/images/demos/<name>.png (needs Voilà, Playwright and a Chromium).

    python tools/demo_pictures.py [NAME ...]
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "notebooks" / "images" / "demos"
# name: (buttons chosen first, the main button, a text that says the result is shown)
SHOTS = {
    "webhook": (["Shopify"], "Make it happen", "Shopify sent"),
    "push-vs-poll": ([], "Start the race", "Finished"),
    "signature": (["One byte"], "Send it", "refused"),
    "retries": ([], "Deliver", "delivered at attempt 6"),
    "duplicates": ([], "Pay for an order", "shipped 2 time(s)"),
    "replay": (["GitHub (signs no timestamp)", "Changed by the sender"], "Replay the captured webhook", "Got through"),
    "reaching-a-laptop": ([], "Stripe sends a webhook", "your laptop"),
}


def main(names: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen([sys.executable, "-m", "webhooklab", "demo", "--no-browser", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        index = re.search(r"(http://\S+)", server.stdout.readline()).group(1)
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            for name in names or SHOTS:
                chosen, action, result = SHOTS[name]
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
                page.goto(index.replace("/index.ipynb", f"/{name}.ipynb"))
                for label in chosen:
                    page.get_by_role("button", name=label, exact=True).click()
                page.get_by_role("button", name=action).click()
                page.locator(".wl-said").filter(has_text=result).wait_for(timeout=30_000)
                page.screenshot(path=OUT / f"{name}.png")
                print(f"wrote {OUT / f'{name}.png'}")
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
