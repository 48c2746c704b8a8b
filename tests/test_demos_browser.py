"""The glossary demos as a presenter runs them: `webhooklab demo`, then a page per demo in Chromium at 1280×720.

Each page is operated by keyboard alone (Tab to a button, Enter), shows no code, asks nothing of the internet,
fits the window, has no axe-core violation once its main action has run, and goes back to its start on Reset.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from accessibility import violations
from lab_under_test import ROOT, chromium, jupyterlab, needs_browser

pytestmark = [needs_browser, pytest.mark.skipif(__import__("importlib").util.find_spec("voila") is None,
                                                reason="Voilà is part of the lab extra")]  # fmt: skip

# name: (buttons chosen before the main one, the main button, what the demo then says, what its stage shows,
#        what the stage shows again after Reset)
SCENARIOS = {
    "webhook": (["GitHub"], "Make it happen", "GitHub sent push", "deploying", "Nothing has arrived yet"),
    "push-vs-poll": ([], "Start the race", "Finished", "Push (webhook)", "The time line appears here"),
    "signature": (["One byte"], "Send it", "refused (no_matching_signature)", "What arrived, around byte",
                  "Signed: "),
    "retries": ([], "Deliver", "delivered at attempt 6", "your endpoint answered", "Our assumption"),
    "duplicates": ([], "Pay for an order", "shipped 2 time(s)", "more than one per order", "Orders paid: 0"),
    "replay": ([], "Replay the captured webhook", "Refused: the signature check failed (timestamp_too_old)",
               "replayed copy", "genuine"),
    "reaching-a-laptop": (["Closed (the laptop is asleep)"], "Stripe sends a webhook", "your laptop got nothing",
                          "did not arrive", "connection opened by"),
}  # fmt: skip


@pytest.fixture(scope="module")
def served():
    """`webhooklab demo --no-browser` on a free port: the index page's URL, with its token."""
    process = subprocess.Popen([sys.executable, "-m", "webhooklab", "demo", "--no-browser", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        line = process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+/voila/render/index\.ipynb\?token=\S+)", line)
        assert found, f"webhooklab demo printed {line!r}"
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(30)
        process.stdout.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.outside = []  # every request for anything not on this machine, refused

    def route(route):
        if re.match(r"https?://127\.0\.0\.1[:/]", route.request.url) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            page.outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    yield page
    page.close()


def demo_url(index: str, name: str) -> str:
    return index.replace("/index.ipynb", f"/{name}.ipynb")


def press(page, label: str) -> None:
    """Tab to the button called `label`, as a keyboard user does, and press Enter."""
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.textContent.trim()")
        if focused == label:
            page.keyboard.press("Enter")
            return
    raise AssertionError(f"Tab never reached a button called {label!r}")


def said(page):
    return page.locator(".wl-said")


def stage_text(page) -> str:
    return " ".join(page.locator(".wl-demo").all_inner_texts())


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_demo_works_by_keyboard_shows_no_code_fits_the_screen_and_resets(served, page, axe_source, name):
    chosen, action, result, shown, again = SCENARIOS[name]
    page.goto(demo_url(served, name))
    page.get_by_role("button", name=action).wait_for(timeout=60_000)
    start = stage_text(page)
    for label in chosen:
        press(page, label)
    press(page, action)
    said(page).filter(has_text=result).wait_for(timeout=30_000)
    assert shown in stage_text(page)

    body = page.inner_text("body")
    assert "webhooklab.demos" not in body and "import " not in body  # no code cell, no source on the page
    assert page.locator(".cm-editor, .jp-InputArea-editor, .jp-InputPrompt").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    for part in (page.locator("h1"), page.get_by_role("button", name=action), said(page)):
        box = part.bounding_box()
        assert box and box["y"] + box["height"] <= 720, f"{part} is below the fold of a 1280×720 projector"
    assert violations(page, axe_source) == []
    assert page.outside == []

    press(page, "Reset")
    said(page).filter(has_text="Back to the start.").wait_for(timeout=30_000)
    assert again in stage_text(page) and result not in stage_text(page)
    if name != "push-vs-poll":  # the race's stage is empty until it starts
        assert again in start


def test_the_index_links_every_demo_and_each_link_opens_it(served, page, axe_source):
    page.goto(served)
    links = page.locator("main a[href$='.ipynb']")
    links.first.wait_for(timeout=60_000)
    assert [re.sub(r"\.ipynb.*", "", href.split("/")[-1]) for href in
            [links.nth(i).get_attribute("href") for i in range(links.count())]] == list(SCENARIOS)  # fmt: skip
    assert violations(page, axe_source) == []
    page.get_by_role("link", name="Is it really from Stripe? The signature").click()
    page.get_by_role("button", name="Send it").wait_for(timeout=60_000)
    assert page.outside == []


def test_the_pages_answer_only_whoever_has_the_token(served):
    without = re.sub(r"\?token=.*", "", demo_url(served, "signature"))
    answer = requests.get(without, allow_redirects=False, timeout=30)
    assert answer.status_code in (302, 403) and "/login" in answer.headers.get("Location", "/login")
    assert requests.get(without, params={"token": "wrong"}, allow_redirects=False, timeout=30).status_code != 200


def test_two_visitors_get_a_demo_each(served, browser):
    """Each page runs its own kernel: what one presses does not appear on another's page."""
    first, second = (browser.new_page(viewport={"width": 1280, "height": 720}) for _ in range(2))
    try:
        for one in (first, second):
            one.goto(demo_url(served, "webhook"))
            one.get_by_role("button", name="Make it happen").wait_for(timeout=60_000)
        first.get_by_role("button", name="Make it happen").click()
        said(first).filter(has_text="arrived").wait_for(timeout=30_000)
        time.sleep(0.5)
        assert "Nothing has arrived yet" in stage_text(second)
    finally:
        first.close()
        second.close()


def test_a_named_demo_opens_at_its_own_page_and_works(page):
    """`webhooklab demo NAME` prints and opens that demo's page."""
    process = subprocess.Popen([sys.executable, "-m", "webhooklab", "demo", "retries", "--no-browser", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        url = re.search(r"(http://\S+)", process.stdout.readline()).group(1)
        assert "/voila/render/retries.ipynb?token=" in url
        page.goto(url)
        page.get_by_role("button", name="Deliver").wait_for(timeout=60_000)
        press(page, "Deliver")
        said(page).filter(has_text="delivered at attempt 6").wait_for(timeout=30_000)
        press(page, "Reset")
        said(page).filter(has_text="Back to the start.").wait_for(timeout=30_000)
    finally:
        process.terminate()
        process.wait(30)
        process.stdout.close()


def kernels_under(pid: int) -> int:
    """How many Jupyter kernels run below process `pid` (read from /proc)."""
    parents, commands = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            commands[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # a process that ended while being read

    def below(child):
        while child in parents and child != pid:
            child = parents[child]
        return child == pid

    return sum(1 for p, command in commands.items() if b"ipykernel_launcher" in command and below(p))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts kernels through /proc")
def test_a_kernel_whose_page_left_without_goodbye_is_shut_down_and_an_open_page_keeps_its_own(browser):
    code = ("import webhooklab._cli.demo as demo; demo.CULL_AFTER = 4\n"
            "from webhooklab._cli import main; main(['demo', '--no-browser', '--port', '0'])")  # fmt: skip
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)  # fmt: skip
    kept, left = browser.new_page(), browser.new_page()
    try:
        index = re.search(r"(http://\S+)", process.stdout.readline()).group(1)
        kept.goto(demo_url(index, "signature"))
        kept.get_by_role("button", name="Send it").wait_for(timeout=60_000)
        left.goto(demo_url(index, "webhook"))
        left.get_by_role("button", name="Make it happen").wait_for(timeout=60_000)
        assert kernels_under(process.pid) == 2
        left.close()  # no beforeunload: as a tab that crashed, or a connection that dropped
        deadline = time.monotonic() + 60
        while kernels_under(process.pid) > 1:
            assert time.monotonic() < deadline, "the kernel of the page that left is still running"
            time.sleep(0.5)
        kept.get_by_role("button", name="Send it").click()
        said(kept).filter(has_text="verified").wait_for(timeout=30_000)
    finally:
        kept.close()
        process.terminate()
        process.wait(30)
        process.stdout.close()


def test_a_binder_link_opens_a_demo_through_jupyter_servers_voila(tmp_path, page):
    """On Binder the link is <server>/voila/render/notebooks/demos/NAME.ipynb: Voilà as an extension of the
    Jupyter server, with the page template where `pip install` puts it (here, pointed at by JUPYTER_PATH)."""
    env = {"JUPYTER_PATH": str(ROOT / "webhooklab" / "demos")}
    with jupyterlab(tmp_path / "home", ROOT, "binder-token", env=env) as url:
        page.goto(f"{url}voila/render/notebooks/demos/duplicates.ipynb?token=binder-token")
        page.get_by_role("button", name="Pay for an order").wait_for(timeout=90_000)
        press(page, "Pay for an order")
        said(page).filter(has_text="shipped 2 time(s)").wait_for(timeout=30_000)
        assert page.title() == "Why the same webhook arrives twice · webhooklab"
        assert page.locator("main .wl-demo h1").count() == 1  # the template's landmark holds the demo
        assert page.outside == []
