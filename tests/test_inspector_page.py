"""The inspector page for everyone: axe-core finds nothing in either colour scheme, every action works from the keyboard,
the verdict and the status stay in view at common widths, and nothing needs a sideways scroll at 200% zoom.

Every measure compares boxes with boxes (an element with the window, a cell with its list), never a pixel width of text
with a number, so the answers hold in any font.
"""

import pytest
import requests
from accessibility import violations
from lab_under_test import ROOT, chromium, needs_browser

import webhooklab as wl

SECRET = "whsec_inspector_page_secret_00"
ARTIFACTS = ROOT / "test-artifacts"
SCHEMES = ["light", "dark"]
pytestmark = needs_browser


@pytest.fixture(scope="module")
def chrome():
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(chrome):
    context = chrome.new_context(viewport={"width": 1280, "height": 720})
    opened = context.new_page()
    opened.errors = []
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    context.close()


@pytest.fixture
def empty_rx():
    with wl.Receiver(secrets={"pay": SECRET}) as receiver:
        yield receiver


@pytest.fixture
def rx50(empty_rx):
    """50 Stripe events: most signed right, every seventh with a wrong secret, every fifth to an unchecked endpoint."""
    stripe, forger = wl.Stripe(SECRET), wl.Stripe("whsec_not_the_secret_000000")
    for i in range(50):
        sender = forger if i % 7 == 6 else stripe
        kind = "charge.succeeded" if i % 3 else "payment_intent.payment_failed"
        sender.send(stripe.event(kind, amount=100 + i), to=empty_rx.url("pay" if i % 5 else "orders-from-the-shop"))
    return empty_rx


def opened(page, url: str, nth: int = 0):
    page.goto(url)
    page.locator("#rows tr").nth(nth).click()
    page.get_by_text("Headers, as sent").wait_for()


def box_within(inner: dict, outer: dict) -> bool:
    return (inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)  # fmt: skip


def viewport_box(page) -> dict:
    size = page.viewport_size
    return {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}


# -- axe-core: every state, both schemes ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_nothing_on_the_inspector_in_any_state(page, empty_rx, axe_source, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(empty_rx.base_url + "/")
    page.locator("#empty").wait_for()
    assert violations(page, axe_source) == [], "empty"
    for _ in range(10):  # a few kinds: verified, failed, unchecked, a failing answer
        wl.Stripe(SECRET).send(wl.Stripe(SECRET).event("charge.succeeded"), to=empty_rx.url("pay"))
    requests.post(empty_rx.url("plain"), data=b"\x00\xffbinary", timeout=5)
    wl.Stripe("whsec_not_the_secret_000000").send(wl.Stripe(SECRET).event("charge.refunded"), to=empty_rx.url("pay"))
    empty_rx.respond("down", status=503)
    requests.post(empty_rx.url("down"), json={"a": 1}, timeout=5)
    page.locator("#rows tr").nth(12).wait_for(timeout=10_000)
    assert violations(page, axe_source) == [], "with events"
    for nth in (0, 1, 2, 3):  # newest first, each opened in turn: a failing answer, failed, binary, verified
        page.locator("#rows tr").nth(nth).click()
        page.locator("#detail h2").filter(has_text=page.locator("#rows tr").nth(nth).get_attribute("data-id")).wait_for()
        page.get_by_text("Headers, as sent").wait_for()
        assert violations(page, axe_source) == [], f"row {nth} open"
    page.get_by_role("button", name="Edit and resend").click()
    page.locator("form.resend").wait_for()
    assert violations(page, axe_source) == [], "the edit form open"
    page.keyboard.press("Escape")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"inspector-page-{scheme}.png"))
    assert page.errors == []


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_nothing_on_a_bin_page_with_a_request_open(page, classroom, axe_source, scheme):
    bin_url = classroom.bin_url()
    requests.post(bin_url + "hooks/orders", json={"order": 1}, timeout=5)
    requests.post(bin_url + "hooks/orders", json={"order": 2}, timeout=5)
    page.emulate_media(color_scheme=scheme)
    opened(page, bin_url)
    assert violations(page, axe_source) == []
    page.get_by_role("button", name="Edit and resend").click()
    page.locator("form.resend").wait_for()
    assert violations(page, axe_source) == []
    assert page.errors == []


# -- the keyboard alone --------------------------------------------------------------------------------------------


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName + ' ' + "
                         "document.activeElement.textContent.slice(0, 40)")  # fmt: skip


def test_the_keyboard_alone_opens_replays_and_edits_and_resends_the_third_request(page, rx50):
    keys = page.keyboard
    page.goto(rx50.base_url + "/")
    page.locator("#rows tr").nth(2).wait_for()
    keys.press("Tab")  # the first stop: the way past the filters, to the list
    keys.press("Enter")
    assert focused(page) == "rows"
    keys.press("ArrowDown")
    keys.press("ArrowDown")
    assert page.locator("#rows").get_attribute("aria-activedescendant") == "request-48"
    keys.press("Enter")
    page.locator("#detail h2").filter(has_text="#48 POST").wait_for()
    assert focused(page).startswith("H2 #48")

    keys.press("Tab")
    assert focused(page) == "BUTTON Replay"
    keys.press("Enter")
    page.locator("#detail .actions .result").filter(has_text="answered 200").wait_for(timeout=10_000)
    page.locator("#request-51").wait_for(timeout=10_000)  # the replay, stored and listed

    keys.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "replay to URL"  # empty: here
    keys.press("Tab")
    assert focused(page) == "BUTTON Edit and resend"
    keys.press("Enter")
    assert focused(page) == "r-method"
    keys.press("Tab")
    keys.press("Tab")
    keys.press("Tab")
    assert focused(page) == "r-body"
    keys.press("Control+A")
    keys.type('{"edited": true}')
    keys.press("Tab")  # into the signing choices, on the one chosen
    keys.press("ArrowDown")  # re-sign with the endpoint's secret
    keys.press("Tab")  # the secret's box is off: straight to Send
    assert focused(page) == "BUTTON Send"
    keys.press("Enter")
    compare = page.locator("#detail .compare")
    compare.filter(has_text="Compared with #48").wait_for(timeout=10_000)
    compare.locator(".body-diff").wait_for(timeout=10_000)
    assert any('"edited": true' in line for line in compare.locator(".change.added").all_inner_texts())
    assert "signature verified" in compare.inner_text()
    new_id = page.locator("#detail h2").inner_text().split()[0]
    assert new_id == "#52" and page.locator("#request-52").get_attribute("aria-selected") == "true"

    keys.press("Escape")  # back to the list, on the row it was on
    assert focused(page) == "rows"
    keys.press("End")
    page.locator("#request-1").wait_for()  # the virtual list scrolled to the oldest and drew it
    assert page.locator("#rows").get_attribute("aria-activedescendant") == "request-1"
    keys.press("Home")
    assert page.locator("#rows").get_attribute("aria-activedescendant") == "request-52"
    assert page.errors == []


# -- layout: what matters in view ----------------------------------------------------------------------------------


@pytest.mark.parametrize("width, height", [(1024, 768), (1280, 720)])
def test_the_verdict_and_status_are_in_view_and_the_replay_button_too(page, rx50, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(rx50.base_url + "/")
    page.locator("#rows tr").nth(20).wait_for()
    screen, pane = viewport_box(page), page.locator("#list").bounding_box()
    for selector in ("th.c-verdict", "th.c-status", "#rows tr:first-child td.c-verdict",
                     "#rows tr:first-child td.c-status", "th.c-time", "th.c-endpoint", "th.c-event"):
        cell = page.locator(selector).bounding_box()
        assert cell and box_within(cell, screen) and box_within(cell, pane), (selector, cell, pane)
    assert page.evaluate("(e => e.scrollWidth <= e.clientWidth)(document.getElementById('list'))")
    page.locator("#rows tr").first.click()
    replay = page.get_by_role("button", name="Replay")
    replay.wait_for()
    assert box_within(replay.bounding_box(), screen)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(ARTIFACTS / f"inspector-page-{width}.png"))


def test_at_200_percent_zoom_nothing_scrolls_sideways(page, rx50):
    page.set_viewport_size({"width": 640, "height": 800})
    opened(page, rx50.base_url + "/", nth=2)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.get_by_role("button", name="Edit and resend").click()
    page.locator("form.resend").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    list_box, detail_box = page.locator("#list").bounding_box(), page.locator("#detail").bounding_box()
    assert list_box["y"] + list_box["height"] <= detail_box["y"]  # stacked: the list on top
    for selector in ("th.c-verdict", "th.c-status"):
        assert box_within(page.locator(selector).bounding_box(), list_box)
    page.screenshot(path=str(ARTIFACTS / "inspector-page-640.png"), full_page=True)


WHOLE_WORDS = """() => [...document.querySelectorAll('th, #detail td.name, label, legend, button, .headline strong')]
  .filter((e) => e.offsetParent !== null)
  .map((e) => { const s = getComputedStyle(e);
                return { text: e.textContent.trim().slice(0, 30), wordBreak: s.wordBreak, wrap: s.overflowWrap,
                         nowrap: s.whiteSpace === 'nowrap', over: e.scrollWidth > e.clientWidth + 1 }; })"""


@pytest.mark.parametrize("width", [1024, 640])
def test_labels_and_table_headers_never_break_mid_word(page, rx50, width):
    page.set_viewport_size({"width": width, "height": 800})
    opened(page, rx50.base_url + "/", nth=1)
    page.get_by_role("button", name="Edit and resend").click()
    page.locator("form.resend").wait_for()
    labels = page.evaluate(WHOLE_WORDS)
    assert len(labels) > 20
    broken = [label for label in labels if label["wordBreak"] == "break-all" or label["wrap"] == "anywhere"]
    assert broken == []
    headers = [label for label in labels if label["nowrap"]]
    assert {"verdict", "status", "step", "name"} <= {label["text"] for label in headers}
    assert [label for label in headers if label["over"]] == []


# -- embedded in a notebook ----------------------------------------------------------------------------------------

NOTEBOOK_CODE = f"""import webhooklab as wl
rx = wl.Receiver(secrets={{"pay": "{SECRET}"}}).start()
stripe = wl.Stripe("{SECRET}")
for i in range(50):
    stripe.send(stripe.event("charge.succeeded"), to=rx.url("pay"))
rx.inspector()"""


def test_in_a_notebooks_embedded_view_the_verdict_and_status_show_without_scrolling(chrome, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from lab_under_test import jupyterlab

    root = tmp_path / "lab"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(NOTEBOOK_CODE)]
    nbformat.write(notebook, root / "inspector.ipynb")
    with jupyterlab(tmp_path, root, "page-test") as url:
        page = chrome.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}lab/tree/inspector.ipynb?reset&token=page-test")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        frame = page.locator(".jp-OutputArea-output iframe")
        frame.wait_for(timeout=60_000)
        frame.scroll_into_view_if_needed()
        inside = page.frame_locator(".jp-OutputArea-output iframe")
        inside.locator("#rows tr").nth(9).wait_for(timeout=30_000)
        inside.get_by_text("50 request(s)", exact=True).wait_for(timeout=30_000)
        shown, pane = frame.bounding_box(), inside.locator("#list").bounding_box()
        assert 600 <= shown["width"] <= 1100, shown  # the notebook's cell width, as a learner sees it
        for selector in ("th.c-verdict", "th.c-status", "#rows tr:first-child td.c-verdict",
                         "#rows tr:first-child td.c-status", "th.c-endpoint", "th.c-event"):
            cell = inside.locator(selector).bounding_box()
            assert cell and box_within(cell, shown) and box_within(cell, pane), (selector, cell, pane, shown)
        assert inside.locator("#list").evaluate("e => e.scrollWidth <= e.clientWidth")
        for header in inside.locator("#list th").all():  # every heading whole, not cut to "ver…"
            assert header.evaluate("e => getComputedStyle(e).display === 'none' || e.scrollWidth <= e.clientWidth")
        assert inside.locator("html").evaluate("e => e.scrollWidth <= innerWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "inspector-page-embedded.png"))
        page.close()
