"""The teacher's side in a real headless Chromium: a verdict appears on the dashboard by itself, the room is run
from its buttons, and the projector's view shows the room in large text with no token and no secret.

The class server listens on 127.0.0.2 (the classroom's "LAN"); every request stays on this machine.
"""

import pytest
import requests
from lab_under_test import needs_browser, recorded

import webhooklab as wl
from webhooklab._classroom import ClassFolder, ClassServer, numbered
from webhooklab.exercises import ch03

pytestmark = needs_browser
LAN = "127.0.0.2"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = ClassFolder(tmp_path_factory.mktemp("class") / "c", [*numbered(2), "<i>Grace</i>"])
    server = ClassServer(folder, host=LAN).start()
    folder.write_handout(server.class_url)
    yield server
    server.close()


def wrong_verify(body, headers, secret):
    return True


def test_a_verdict_appears_on_the_dashboard_and_the_room_is_run_from_it(klass, browser, tmp_path, monkeypatch):
    a, b, grace = klass.folder.learners
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(klass.dashboard_url)
    progress = page.locator("#progress tr")
    progress.nth(2).wait_for(timeout=10_000)
    assert progress.nth(2).locator("td").first.inner_text() == "<i>Grace</i>"  # text, not markup
    assert page.locator("#progress i").count() == 0

    # A learner's check, in a folder joined to the class: its verdict shows up without a reload.
    monkeypatch.chdir(tmp_path)
    wl.join_class(klass.bin_url(b))
    assert ch03.check_verify_github(wrong_verify) is False
    row = page.locator(f"#progress tr[data-learner='{b.name}']")
    row.locator("[data-exercise='ch03.check_verify_github']").get_by_text("✗ ch03.check_verify_github").wait_for(
        timeout=10_000)  # fmt: skip
    assert row.locator("td").nth(1).inner_text() == "03.00-security"

    # Empty B's bin with the keyboard: choose B, tab to the button, press Enter; the confirm is accepted.
    stripe = wl.Stripe(b.secret)
    assert stripe.send(stripe.event("charge.succeeded"), to=klass.bin_url(b) + "hooks/shop").ok
    page.locator(f"#learners tr[data-learner='{b.name}'] td").nth(1).get_by_text("1").wait_for(timeout=10_000)
    page.locator("#room-learner").select_option(b.name)
    page.locator("#room-learner").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "room-reset"
    page.keyboard.press("Enter")
    page.get_by_text(f"{b.name}'s bin is empty.").wait_for(timeout=10_000)
    page.locator(f"#learners tr[data-learner='{b.name}'] td").nth(1).get_by_text("0").wait_for(timeout=10_000)

    # A new URL and secret for A: the dashboard says so, without the secret whole; the old URL is gone at once.
    old_url = klass.bin_url(a)
    page.locator("#room-learner").select_option(a.name)
    page.get_by_role("button", name="New URL and secret").click()
    page.get_by_text(f"{a.name} has a new URL and secret").wait_for(timeout=10_000)
    renewed = klass.folder.find(a.name)
    assert requests.get(old_url, timeout=10).status_code == 404
    assert renewed.secret not in page.locator("body").inner_text()

    # A learner added from the form: in the tables, and in the handout.
    page.get_by_label("Add a learner").fill("Linus")
    page.get_by_label("Add a learner").press("Enter")
    page.get_by_text("Linus joined the class").wait_for(timeout=10_000)
    page.locator("#learners tr[data-learner='Linus']").wait_for(timeout=10_000)
    assert klass.bin_url(klass.folder.find("Linus")) in (klass.folder.path / "handout.html").read_text()
    assert problems == []
    page.close()


def test_the_projector_view_is_large_readable_at_1024_px_and_shows_no_token_or_secret(klass, browser):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    texts = recorded(page)
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.goto(klass.dashboard_url)
    page.locator("#projector").focus()
    page.keyboard.press("Enter")  # the link to it works from the keyboard
    page.wait_for_url("**/projector")
    rows = page.locator("#room tr")
    rows.nth(len(klass.folder.learners) - 1).wait_for(timeout=10_000)
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#room td')).fontSize)")
    assert size >= 22
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024  # no sideways scrolling
    assert page.locator("#room i").count() == 0 and page.locator("#room th", has_text="<i>Grace</i>").count() == 1

    # Only those stuck, from the keyboard: a toggle button that says whether it is pressed.
    toggle = page.get_by_role("button", name="Only those stuck")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    page.locator("#room tr").first.wait_for(state="detached", timeout=10_000)  # nobody is stuck
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "false"
    rows.nth(len(klass.folder.learners) - 1).wait_for(timeout=10_000)

    assert page.get_by_role("button", name="Full screen").is_visible()  # hides the address bar and its token
    policy = requests.get(klass.dashboard_url + "projector", timeout=10).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    page.screenshot(path=str(klass.folder.path / "projector.png"))
    shown = "\n".join([page.locator("body").inner_text(), page.content()])
    everything = "\n".join([shown, *texts[1:]])  # the dashboard's own page and its answers came before
    for learner in klass.folder.learners:
        assert learner.token not in shown and learner.secret not in everything
        assert learner.token not in "\n".join(t for t in texts if "/api/progress" in t.split("\n")[0])
    assert klass.folder.admin not in page.locator("body").inner_text()
    assert problems == []
    page.close()
