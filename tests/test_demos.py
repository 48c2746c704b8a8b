"""The glossary demos, driven in process as their buttons drive them: real receivers, real requests over loopback.

Each demo's main action does what its words say, Reset puts it back to its start, and a failure shows in the demo
instead of escaping a button's callback.
"""

import re
import time

import pytest

pytest.importorskip("ipywidgets", reason="the demos are part of the lab extra")

import webhooklab as wl  # noqa: E402
import webhooklab.demos as demos  # noqa: E402
from webhooklab.demos._wire import request_of  # noqa: E402


@pytest.fixture
def made(request):
    """demo(name): a demo, closed after the test."""
    opened = []

    def make(name):
        opened.append(demos.show(name))
        return opened[-1]

    yield make
    for demo in opened:
        demo.close()


def text(widget) -> str:
    """What a widget shows, as words: tags dropped, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", widget.value).replace("&#x27;", "'").split())


def words(widget) -> str:
    """text() without what differs from run to run: ports, ids, digests, times (written as code or digits)."""
    return re.sub(r"\d+", "N", text(type(widget)(value=re.sub(r"<code>.*?</code>", "", widget.value))))


def until(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the demo did not get there in time"
        time.sleep(0.05)


@pytest.mark.parametrize("name", demos.DEMOS)
def test_each_demo_says_its_idea_in_two_or_three_sentences_and_names_its_button(name):
    demo = demos.DEMOS[name]
    words = re.sub(r"\([^)]*\)|<[^>]+>", "", demo.idea)
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", words.strip()) if s]
    assert 2 <= len(sentences) <= 3, sentences
    assert demo.action in re.sub(r"<[^>]+>", "", demo.idea)  # the words tell which button to press


@pytest.mark.parametrize("name", demos.DEMOS)
def test_reset_puts_every_control_back_and_forgets_what_happened(made, name):
    demo = made(name)
    start = [control.value for control in demo.inputs]
    first_stage = words(demo.stage)
    if name != "push-vs-poll":  # the race takes five seconds: its reset is checked below
        for control in demo.inputs:
            if hasattr(control, "options") and len(control.options) > 1:
                control.value = control.options[-1][1]
        demo.run()
    demo.reset()
    assert [control.value for control in demo.inputs] == start
    assert "Back to the start." in text(demo.said)
    assert words(demo.stage) == first_stage


def test_show_gives_each_demo_by_its_name_and_refuses_another():
    assert list(demos.DEMOS) == ["webhook", "push-vs-poll", "signature", "retries", "duplicates", "replay",
                                 "reaching-a-laptop"]  # fmt: skip
    with pytest.raises(wl.UsageError, match="the demos are webhook, push-vs-poll, signature"):
        demos.show("retry")


def test_a_failure_is_shown_in_the_demo_not_lost(made):
    demo = made("signature")
    demo.rx.stop()  # as if its receiver had gone
    demo.press()
    assert "Send it failed" in text(demo.said) and "it is not running" in text(demo.said)


def test_a_reset_during_a_slow_run_leaves_no_stale_message(made):
    demo = made("retries")
    demo.failing.value = 13  # every attempt fails: six seconds of schedule
    demo.press()
    until(lambda: demo.delivery is not None and demo.delivery.log)
    demo.reset()
    time.sleep(0.5)
    assert "Back to the start." in text(demo.said) and not demo.go.disabled


def test_webhook_each_service_calls_your_url_and_your_system_acts(made):
    demo = made("webhook")
    done = []
    for provider, happening, acted in [("stripe", "payment_intent.succeeded", "paid: shipping it"),
                                       ("stripe", "payment_intent.payment_failed", "not paid"),
                                       ("stripe", "charge.refunded", "refund recorded"),
                                       ("github", "push:main", "deploying"),
                                       ("github", "push:feature", "no deployment"),
                                       ("shopify", "orders/create", "inventory updated: MUG-001 → 38 left")]:  # fmt: skip
        demo.provider.value, demo.happening.value = provider, happening
        captured = demo.run()
        assert captured.verified and captured.status == 200
        assert acted in demo.done[captured.delivery_id]
        done.append(captured.id)
    assert len(demo.rx.arrivals()) == 6 and "Requests your system made to ask for news: 0" in text(demo.stage)


def test_push_vs_poll_push_asks_nothing_and_notices_first(made):
    demo = made("push-vs-poll")
    demo.interval.value = 500
    score = demo.run()
    assert score["events"] == 5 and score["push requests"] == 5
    assert score["poll requests"] > score["events"] and score["empty"] > 0  # asking on a timer, mostly for nothing
    assert max(score["push delays"]) < min(0.5, max(score["poll delays"]))
    assert "Finished" in text(demo.said) and "Poll every 500 ms" in text(demo.stage)
    demo.reset()
    assert "The time line appears here" in text(demo.stage)


@pytest.mark.parametrize(("way", "verified", "reason", "why"), [
    ("nothing", True, None, "the signature is valid"),
    ("byte", False, "no_matching_signature", "no signature in Stripe-Signature matches this body"),
    ("spacing", False, "no_matching_signature", "re-serialised"),
    ("secret", False, "no_matching_signature", "the secret is not the one the sender signs with"),
    ("age", False, "timestamp_too_old", "more than the 300 s allowed"),
])  # fmt: skip
def test_signature_each_change_on_the_way_is_caught_and_explained(made, way, verified, reason, why):
    demo = made("signature")
    demo.way.value = way
    captured = demo.run()
    assert (captured.verified, captured.reason) == (verified, reason)
    assert captured.status == (200 if verified else 400)  # the endpoint refuses what it cannot trust
    assert why in text(demo.stage)
    if way == "byte":
        assert "<mark>2</mark>" not in demo.stage.value and "<mark>9</mark>" in demo.stage.value  # 2000 became 9000


@pytest.mark.parametrize(("provider", "failing", "status", "attempts"), [
    ("stripe", 5, "delivered", 6), ("shopify", 9, "disabled", 9), ("standard", 0, "delivered", 1),
])  # fmt: skip
def test_retries_follow_the_providers_schedule_on_a_compressed_clock(made, provider, failing, status, attempts):
    demo = made("retries")
    demo.provider.value, demo.failing.value = provider, failing
    delivery = demo.run()
    assert delivery.status == status and len(delivery.log) == attempts
    planned = demo.policy().offsets()[:attempts]
    # Only waiting is sped up: the attempts land on the schedule, not minutes late for each request's milliseconds.
    assert [row["offset"] for row in delivery.log] == pytest.approx(planned, rel=0.01, abs=5)
    assert len(demo.rx.arrivals("down")) == attempts  # every attempt a real request


def test_duplicates_a_late_answer_ships_twice_and_a_remembered_id_ships_once(made):
    demo = made("duplicates")
    delivery = demo.run()
    assert len(delivery.log) == 2 and delivery.log[0]["status"] is None  # the sender stopped waiting
    assert list(demo.shipped.values()) == [2] and "shipped 2 time(s)" in text(demo.said)
    demo.handler.value = "once"
    demo.run()
    assert list(demo.shipped.values()) == [2, 1]
    demo.delay.value = 100  # answered in time: no second request at all
    assert len(demo.run().log) == 1


@pytest.mark.parametrize(("provider", "minutes", "ids", "verified", "duplicate", "acted"), [
    ("stripe", 2, "kept", True, True, False),
    ("stripe", 2, "changed", False, False, False),  # Stripe's id is in the signed body
    ("stripe", 10, "kept", False, True, False),  # past the five minutes of tolerance
    ("github", 10, "kept", True, True, False),
    ("github", 60, "changed", True, False, True),  # no timestamp, an unsigned id: it gets through
])  # fmt: skip
def test_replay_what_stops_a_captured_copy(made, provider, minutes, ids, verified, duplicate, acted):
    demo = made("replay")
    demo.provider.value, demo.minutes.value, demo.ids.value = provider, minutes, ids
    copy = demo.run()
    assert copy.verified is verified and (copy.duplicate_of is not None) is duplicate
    assert (copy.id in demo.acted) is acted


def test_replay_over_http_the_wire_holds_the_request_over_https_only_ciphertext(made):
    demo = made("replay")
    path, headers, body = request_of(demo.wire)
    assert path == "/hooks/orders-stripe" and "Stripe-Signature" in headers and demo.captured.body == body
    demo.link.value = "https"
    assert demo.wire[:1] == b"\x16" and b"Stripe-Signature" not in demo.wire  # a TLS handshake, then ciphertext
    assert demo.captured.verified and demo.rx.base_url.startswith("https://")
    before = len(demo.rx.arrivals())
    assert demo.run() is None and len(demo.rx.arrivals()) == before
    assert "Nothing to replay: the copy is encrypted" in text(demo.said)


def test_reaching_a_laptop_through_a_relay_and_what_a_closed_connection_costs(made):
    demo = made("reaching-a-laptop")
    assert demo.run().status == 200 and demo.sent[-1]["arrived"]
    demo.state.value = "off"
    answer = demo.run()
    assert answer.status == 200 and not demo.sent[-1]["arrived"]  # the relay answered for a laptop that is away
    kept = wl.Receiver.attach(demo.public, history=True)
    assert [e.delivery_id for e in kept.arrivals()][-1] == demo.sent[-1]["id"]  # kept on the relay: nothing lost
    assert "will not send it again" in text(demo.said)
    demo.state.value = "on"
    assert demo.run().status == 200 and demo.sent[-1]["arrived"]


def test_each_demo_notebook_is_one_cell_that_shows_it_with_no_output_and_the_index_lists_them_in_order():
    import json
    from pathlib import Path

    folder = Path(__file__).parent.parent / "notebooks" / "demos"
    assert {path.stem for path in folder.glob("*.ipynb")} == {*demos.DEMOS, "index"}
    for name, demo in demos.DEMOS.items():
        notebook = json.loads((folder / f"{name}.ipynb").read_text(encoding="utf-8"))
        (cell,) = notebook["cells"]
        assert cell["cell_type"] == "code" and cell["outputs"] == [] and cell["execution_count"] is None
        assert f'webhooklab.demos.show("{name}")' in "".join(cell["source"])
        assert notebook["metadata"]["title"] == f"{demo.title} · webhooklab"  # the page's title
        assert notebook["metadata"]["voila"] == {"template": "webhooklab"}  # offline, in a main landmark
    from webhooklab._cli.demo import demos as listed

    assert listed(folder) == {name: demo.title for name, demo in demos.DEMOS.items()}
