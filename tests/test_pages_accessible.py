"""The class dashboard, both projector views and the handout, measured in a real headless Chromium: no axe-core
violation in the light or the dark scheme, every control reached by the keyboard with its focus drawn, nothing to
scroll sideways at 200% zoom (640 css px), and the projectors' numbers large and on screen at 1280x720.

A class of 30 on 127.0.0.2 and a receiver on 127.0.0.1: every request stays on this machine.
"""

import time
from pathlib import Path

import pytest
import requests
from accessibility import violations
from lab_under_test import chromium, needs_browser

import webhooklab as wl
from webhooklab._classroom import ClassFolder, ClassServer, gradebook, numbered

pytestmark = needs_browser
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
SCHEMES = ["light", "dark"]
CHANGE = {"X-Webhooklab": "1"}
SECRET = "whsec_projector_secret_0000"
ATTACK = "<img src=x onerror=alert(1)>"
WIDE, REFLOW, PROJECTOR = (1400, 1000), (640, 900), (1280, 720)


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """30 learners: events verified and failed, checks passed and failing, one stuck, one broadcast delivered."""
    folder = ClassFolder(tmp_path_factory.mktemp("class") / "c", [*numbered(29), "<i>Grace</i>"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gradebook, "STUCK_AFTER", 0)  # a failing check with none passed shows as stuck at once
        server = ClassServer(folder, host="127.0.0.2").start()
        folder.write_handout(server.class_url)
        for number, learner in enumerate(folder.learners[:4]):
            stripe = wl.Stripe(learner.secret if number % 2 == 0 else "whsec_not_theirs_0000")
            assert stripe.send(stripe.event("charge.succeeded"), to=server.bin_url(learner) + "hooks/shop").ok
            for exercise, passed in (("ch02.check_parse_payload", True), ("ch03.check_verify_github", number != 1)):
                verdict = {"exercise": exercise, "notebook": f"{exercise[2:4]}.00-lesson", "passed": passed}
                if number != 1 or not passed:  # learner-02 has only a failing check: stuck
                    reply = requests.post(server.bin_url(learner) + "api/verdict", json=verdict, headers=CHANGE,
                                          timeout=10)  # fmt: skip
                    assert reply.ok, reply.text
        sent = requests.post(server.dashboard_url + "api/broadcasts", headers=CHANGE, timeout=10,
                             json={"provider": "stripe", "event_type": "charge.succeeded", "endpoint": "shop"})
        assert sent.ok, sent.text
        url = f"{server.dashboard_url}api/broadcasts/{sent.json()['id']}"
        deadline = time.monotonic() + 60
        while not requests.get(url, timeout=10).json()["done"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert requests.get(url, timeout=10).json()["done"], "the broadcast did not end within 60 s"
        yield server
        server.close()


@pytest.fixture
def receiver():
    with wl.Receiver(secrets={"pay": SECRET}) as running:
        yield running


def send_some(receiver):
    """A verified payment, one signed with the wrong secret, one unchecked, and markup as an endpoint and a body."""
    for secret in (SECRET, "whsec_not_the_one_0000"):
        stripe = wl.Stripe(secret)
        assert stripe.send(stripe.event("payment_intent.succeeded"), to=receiver.url("pay")).ok
    assert requests.post(receiver.url(ATTACK), data=ATTACK, timeout=10).ok


def opened(browser, url, scheme, size, ready=None):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.emulate_media(color_scheme=scheme)
    page.goto(url)
    if ready:
        page.locator(ready).wait_for(timeout=20_000)
    return page


def dashboard(browser, room, scheme, size=WIDE):
    page = opened(browser, room.dashboard_url, scheme, size, "#broadcast-copies tr:nth-child(30)")
    page.locator("#progress tr.stuck").wait_for(timeout=20_000)
    page.locator("#learners tr:nth-child(30)").wait_for(timeout=20_000)
    return page


def projector(browser, room, scheme, size=PROJECTOR):
    page = opened(browser, room.dashboard_url + "projector", scheme, size, "#room tr:nth-child(30)")
    page.locator("#room tr.stuck").wait_for(timeout=20_000)
    return page


def inspector_projector(browser, url, scheme, size=PROJECTOR, rows=0):
    page = opened(browser, url, scheme, size, f"#latest tr:nth-child({rows})" if rows else None)
    page.locator("#live").get_by_text("● live").wait_for(timeout=20_000)
    return page


def clean(page, axe_source, name):
    """axe-core's violations on the page as it is now (none is clean), and a screenshot of it in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return violations(page, axe_source)


def broken_headings(page) -> list[str]:
    """Column headings that may break inside a word, or do not fit their cell whole: none should."""
    return page.evaluate("""[...document.querySelectorAll('thead th')].filter(th => th.offsetParent !== null)
        .filter(th => { const style = getComputedStyle(th);
                        return style.overflowWrap !== 'normal' || style.wordBreak === 'break-all'
                               || th.scrollWidth > th.clientWidth + 1; })
        .map(th => th.textContent.trim())""")


def wide(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_populated_dashboard_has_no_violation(room, browser, scheme, axe_source):
    page = dashboard(browser, room, scheme)
    assert clean(page, axe_source, f"dashboard-{scheme}") == []
    page.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_dashboards_projector_view_has_no_violation(room, browser, scheme, axe_source):
    page = projector(browser, room, scheme)
    assert clean(page, axe_source, f"dashboard-projector-{scheme}") == []
    page.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_handout_has_no_violation_and_prints_light(room, browser, scheme, axe_source):
    page = opened(browser, room.dashboard_url + "handout.html", scheme, WIDE, ".card >> nth=29")
    assert clean(page, axe_source, f"handout-{scheme}") == []
    page.emulate_media(media="print", color_scheme=scheme)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(29, 29, 31)"
    page.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_receivers_projector_view_has_no_violation_empty_or_with_a_failure(receiver, browser, scheme, axe_source):
    page = inspector_projector(browser, receiver.base_url + "/projector", scheme)
    assert page.locator("#empty").is_visible()
    assert clean(page, axe_source, f"receiver-projector-empty-{scheme}") == []
    send_some(receiver)
    page.locator("#latest tr:nth-child(3)").wait_for(timeout=20_000)
    page.locator("#failure").get_by_text("no signature in Stripe-Signature matches").wait_for(timeout=20_000)
    assert clean(page, axe_source, f"receiver-projector-{scheme}") == []
    page.close()


def test_nothing_scrolls_sideways_at_200_percent_zoom(room, receiver, browser):
    send_some(receiver)
    pages = {
        "dashboard": dashboard(browser, room, "light", REFLOW),
        "handout": opened(browser, room.dashboard_url + "handout.html", "light", REFLOW, ".card >> nth=29"),
        "dashboard projector": projector(browser, room, "light", REFLOW),
        "receiver projector": inspector_projector(browser, receiver.base_url + "/projector", "light", REFLOW, 3),
    }
    for name, page in pages.items():
        page.screenshot(path=str(ARTIFACTS / f"reflow-{name.replace(' ', '-')}.png"), full_page=True)
        assert not wide(page), name
        assert broken_headings(page) == [], name
    # The dashboard's wide tables scroll inside regions of their own, which the keyboard reaches, each with a name.
    regions = pages["dashboard"].locator("[role=region].scroll")
    assert regions.count() == 3
    for index in range(3):
        region = regions.nth(index)
        assert region.get_attribute("tabindex") == "0"
        assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
    assert regions.first.evaluate("e => e.scrollWidth > e.clientWidth")  # the bins' table does scroll, in there
    for page in pages.values():
        page.close()


def test_the_projectors_numbers_are_large_and_on_screen_at_1280_by_720(room, receiver, browser):
    send_some(receiver)
    views = {
        "dashboard": (projector(browser, room, "light"), ["#room-learners", "#room-stuck"]),
        "receiver": (inspector_projector(browser, receiver.base_url + "/projector", "light", rows=3),
                     ["#received", "#verified", "#failed", "#unchecked"]),
    }
    for name, (page, numbers) in views.items():
        assert not wide(page), name  # 30 learners, no sideways scrolling
        for selector in numbers:
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["y"] >= 0, (name, selector)
            assert box["x"] + box["width"] <= 1280 and box["y"] + box["height"] <= 720, (name, selector, box)
            size = page.locator(selector).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            assert size >= 32, (name, selector, size)
    page = views["dashboard"][0]
    assert page.locator("#room-learners").inner_text() == "30" and page.locator("#room-stuck").inner_text() == "1"
    page = views["receiver"][0]
    shown = {one: page.locator(f"#{one}").inner_text() for one in ("received", "verified", "failed", "unchecked")}
    assert shown == {"received": "3", "verified": "1", "failed": "1", "unchecked": "1"}
    for page, _ in views.values():
        page.close()


def focus_stops(page, limit=120) -> list[dict]:
    """Tab from the top until the focus leaves the page: each stop, and whether its focus ring is drawn."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            "() => { const e = document.activeElement; if (!e || e === document.body) return null;"
            "  const s = getComputedStyle(e);"
            "  return {key: e.outerHTML.slice(0, 120), ring: e.matches(':focus-visible') && s.outlineStyle !== 'none'"
            "          && parseFloat(s.outlineWidth) >= 2}; }"
        )  # fmt: skip
        if stop is None or (stops and stop["key"] == stops[0]["key"]):
            break
        stops.append(stop)
    return stops


CONTROLS = ("() => [...document.querySelectorAll('a[href], button:not([disabled]), select, input, [tabindex=\"0\"]')]"
            "  .filter(e => e.getClientRects().length > 0).length")


def test_every_control_is_reached_by_the_keyboard_and_its_focus_is_drawn(room, receiver, browser):
    send_some(receiver)
    for name, page in {"dashboard": dashboard(browser, room, "dark"),
                       "dashboard projector": projector(browser, room, "dark"),
                       "receiver projector": inspector_projector(browser, receiver.base_url + "/projector", "dark",
                                                                 rows=3)}.items():  # fmt: skip
        stops = focus_stops(page)
        assert len(stops) == page.evaluate(CONTROLS), name
        assert [stop["key"] for stop in stops if not stop["ring"]] == [], name
        page.close()


def test_the_receivers_projector_updates_live_and_shows_what_came_as_text(receiver, browser):
    page = inspector_projector(browser, receiver.base_url + "/projector", "light")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    assert page.locator("#received").inner_text() == "0"
    assert requests.post(receiver.url(ATTACK), data=ATTACK, timeout=10).ok  # no reload after this
    row = page.locator("#latest tr").first
    row.locator("td", has_text=ATTACK).wait_for(timeout=20_000)  # the endpoint's name, as text
    page.locator("#received").get_by_text("1").wait_for(timeout=20_000)
    assert row.locator("td").first.inner_text() == "– not checked"
    assert page.locator("img").count() == 0 and dialogs == []
    stripe = wl.Stripe("whsec_not_the_one_0000")
    assert stripe.send(stripe.event("charge.succeeded"), to=receiver.url("pay")).ok
    page.locator("#latest tr:nth-child(2)").wait_for(timeout=20_000)
    assert page.locator("#latest tr").first.locator("td").first.inner_text() == "✗ failed"
    page.locator("#failure").get_by_text("#2 stripe charge.succeeded to pay: no signature").wait_for(timeout=20_000)
    page.close()


def test_a_class_bin_serves_the_projector_view_under_its_own_path(room, browser):
    learner = room.folder.learners[1]
    page = inspector_projector(browser, room.bin_url(learner) + "projector", "light", rows=2)
    assert page.locator("#received").inner_text() == "2"  # its own payment and the broadcast's
    assert page.locator("#failed").inner_text() == "1"
    assert page.get_by_role("link", name="the full inspector").get_attribute("href") == "./"
    page.close()


def test_the_dashboards_redraws_keep_the_keyboards_place(room, browser):
    page = dashboard(browser, room, "light")
    page.locator("#learners tr:nth-child(4) a").focus()
    page.keyboard.press("Tab")  # to learner-05's link, from the keyboard
    page.evaluate("window.redraws = 0; new MutationObserver(() => window.redraws++)"
                  ".observe(document.getElementById('learners'), {childList: true})")  # fmt: skip
    page.wait_for_function("() => window.redraws >= 2", timeout=20_000)  # the table was replaced twice meanwhile
    where = page.evaluate("[document.activeElement.closest('tr').dataset.learner, "
                          "document.activeElement.matches(':focus-visible')]")  # fmt: skip
    assert where == ["learner-05", True]
    page.close()
