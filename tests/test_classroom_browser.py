"""The class server in a real headless Chromium: each learner sees their own bin, the instructor sees everyone.

The class server listens on 127.0.0.2 (the classroom's "LAN"); every request stays on this machine.
Learner A works in their own bin page and, from it, tries to reach learner B's bin, the class export
and other machines; whatever A's browser receives is searched for B's token and secret.
"""

import json

import pytest
import requests
from lab_under_test import chromium, needs_browser, recorded

import webhooklab as wl
from webhooklab._classroom import ClassFolder, ClassServer, numbered

pytestmark = needs_browser
LAN = "127.0.0.2"


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = ClassFolder(tmp_path_factory.mktemp("class") / "c", numbered(3))
    server = ClassServer(folder, host=LAN).start()
    folder.write_handout(server.class_url)
    for learner in folder.learners:
        stripe = wl.Stripe(learner.secret)
        for n in range(2):
            event = stripe.event("payment_intent.succeeded")
            event["marker"] = f"marker-of-{learner.name}-{n}"
            assert stripe.send(event, to=server.bin_url(learner) + "hooks/shop").ok
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for both tests of this file."""
    with chromium() as instance:
        yield instance


ATTEMPTS = r"""
async ([other, admin]) => {
  const out = {};
  const json = { "X-Webhooklab": "1", "Content-Type": "application/json" };
  const tries = {
    read_guess: () => fetch(`/b/${other}/api/events`),
    read_by_name: () => fetch("/b/learner-02/api/events"),
    read_up: () => fetch("../learner-02/api/events"),
    change_guess: () => fetch(`/b/${other}/api/endpoints/shop`, { method: "PUT", headers: json, body: '{"status": 500}' }),
    export_class: () => fetch(`/teacher/${admin}/api/export.csv`),
    export_root: () => fetch("/teacher/api/export.json"),
    replay_elsewhere: () => fetch("api/events/1/replay", { method: "POST", headers: json,
                                   body: JSON.stringify({ url: "http://127.0.0.1:9/hooks/x" }) }),
    replay_to_dashboard: () => fetch("api/events/1/replay", { method: "POST", headers: json,
                                   body: JSON.stringify({ url: `${location.origin}/teacher/${admin}/api/class` }) }),
  };
  for (const [name, run] of Object.entries(tries)) {
    try {
      const reply = await run();
      out[name] = { status: reply.status, text: await reply.text() };
    } catch (error) {
      out[name] = { status: 0, text: String(error) };
    }
  }
  return out;
}
"""


def test_a_learner_sees_only_their_own_bin_and_reaches_nobody_elses(klass, browser):
    a, b, c = klass.folder.learners
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    texts = recorded(page)
    page.goto(klass.bin_url(a))
    page.locator("#rows tr").nth(1).wait_for(timeout=10_000)
    page.locator("#rows tr").first.click()
    page.get_by_text("Headers, as sent").wait_for(timeout=10_000)
    shown = page.locator("body").inner_text()
    assert "marker-of-learner-01" in shown and "marker-of-learner-02" not in shown
    assert page.locator("#rows tr").count() == 2
    page.get_by_role("button", name="Replay").click()  # to its own endpoint: allowed
    page.get_by_text("answered 200").wait_for(timeout=10_000)

    # A's attempts, from A's own page (same origin), with guesses of B's token and the admin token.
    guess_b, guess_admin = b.token[:-1] + ("A" if b.token[-1] != "A" else "B"), klass.folder.admin[::-1]
    results = page.evaluate(ATTEMPTS, [guess_b, guess_admin])
    assert {name: r["status"] for name, r in results.items()} == {
        "read_guess": 404, "read_by_name": 404, "read_up": 404, "change_guess": 404, "export_class": 404,
        "export_root": 404, "replay_elsewhere": 403, "replay_to_dashboard": 403,
    }  # fmt: skip
    assert "replays only to its own webhook endpoints" in results["replay_elsewhere"]["text"]
    assert requests.get(klass.bin_url(b) + "api/endpoints", timeout=10).json()["endpoints"][0]["status"] == 200

    # The replay form with another URL fails too, and says why.
    page.get_by_label("replay to URL").fill("http://127.0.0.1:9/hooks/x")
    page.get_by_role("button", name="Replay").click()
    page.get_by_text("replays only to its own webhook endpoints").wait_for(timeout=10_000)

    # A's exports, downloaded from the page's own links.
    for kind in ("json", "csv", "har"):
        texts.append(page.evaluate(f"fetch('api/export.{kind}').then(r => r.text())"))
    texts.append(page.evaluate("document.documentElement.outerHTML"))
    texts.extend(r["text"] for r in results.values())
    everything = "\n".join(texts)
    assert "marker-of-learner-01-0" in everything and a.token in everything
    for learner in (b, c):
        assert f"marker-of-{learner.name}" not in everything
        assert learner.token not in everything and learner.secret not in everything
    assert klass.folder.admin not in everything
    page.close()


def test_the_instructor_sees_everyone_live_and_opens_any_bin(klass, browser):
    a, b, c = klass.folder.learners
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.goto(klass.dashboard_url)
    page.locator("#learners tr").nth(2).wait_for(timeout=10_000)
    rows = page.locator("#learners tr")
    names = [rows.nth(i).locator("td").first.inner_text() for i in range(3)]
    assert names == [a.name, b.name, c.name]
    received = {rows.nth(i).locator("td").first.inner_text(): int(rows.nth(i).locator("td").nth(1).inner_text())
                for i in range(3)}  # fmt: skip
    assert received[b.name] == 2 and received[c.name] == 2

    # Live: an event for C and a challenge report from C appear without a reload.
    stripe = wl.Stripe(c.secret)
    stripe.send(stripe.event("charge.succeeded"), to=klass.bin_url(c) + "hooks/late")
    report = {"score": 1, "total": 2, "scenarios": [{"scenario": "<b>slow</b>", "passed": False}]}
    assert requests.post(klass.bin_url(c) + "api/challenge", data=json.dumps(report),
                         headers={"X-Webhooklab": "1"}, timeout=10).ok  # fmt: skip
    row = page.locator(f"#learners tr[data-learner='{c.name}']")
    row.get_by_text("1 / 2").wait_for(timeout=10_000)
    assert row.locator("td").nth(1).inner_text() == "3"
    assert row.locator("td").nth(7).inner_text() == "<b>slow</b>"  # text, not markup
    assert page.locator("#learners b").count() == 0

    with page.context.expect_page() as opened:
        page.locator(f"#learners tr[data-learner='{b.name}'] a").click()
    bin_page = opened.value
    bin_page.locator("#rows tr").nth(1).wait_for(timeout=10_000)
    assert bin_page.url == klass.bin_url(b)
    assert problems == []
    page.close()
