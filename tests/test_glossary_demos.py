"""Every claim of the glossary page "What is Webhook?" is shown by one of the glossary demos.

Each row names a claim (in the page's words), the demo that shows it, and what to do there and see: the test
presses the demo's buttons as a presenter would and reads what the demo then says or shows.
"""

import re

import pytest

pytest.importorskip("ipywidgets", reason="the demos are part of the lab extra")

import webhooklab.demos as demos  # noqa: E402


@pytest.fixture(scope="module")
def opened():
    made = {}
    yield made
    for demo in made.values():
        demo.close()


@pytest.fixture
def demo(opened):
    """demo(name): that demo, made once for the module."""

    def get(name):
        if name not in opened:
            opened[name] = demos.show(name)
        return opened[name]

    return get


def shown(demo) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", demo.said.value + " " + demo.stage.value).split())


def send(demo, provider, happening):
    demo.provider.value, demo.happening.value = provider, happening
    return demo.run()


# -- what to do in a demo, and what must then be seen ----------------------------------------------------


def arrives_in_real_time_unasked(d):
    captured = send(d("webhook"), "stripe", "payment_intent.succeeded")
    took = captured.received_at.timestamp() - d("webhook").happened_at[captured.delivery_id]
    assert took < 1.0 and "Requests your system made to ask for news: 0" in shown(d("webhook"))


def nothing_arrives_until_something_happens(d):
    assert "Nothing has arrived yet: nothing has happened" in shown(d("webhook"))
    assert len(d("webhook").rx.arrivals()) == 0


def to_the_url_you_gave_once(d):
    demo = d("webhook")
    captured = send(demo, "github", "push:main")
    assert captured.endpoint == "github" and f"Your URL, given to the service once: {demo.rx.url('github')}" in shown(demo)


def your_system_acts_at_once(d):
    demo = d("webhook")
    captured = send(demo, "stripe", "payment_intent.succeeded")
    assert demo.done[captured.delivery_id].endswith("paid: shipping it")  # done before the answer went back


def stripe_payment_succeeds_fails_or_is_refunded(d):
    demo = d("webhook")
    said = [demo.done[send(demo, "stripe", kind).delivery_id] for kind in
            ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded")]  # fmt: skip
    assert "shipping" in said[0] and "not paid" in said[1] and "refund recorded" in said[2]


def github_push_to_main_deploys(d):
    demo = d("webhook")
    assert demo.done[send(demo, "github", "push:main").delivery_id].startswith("deploying")
    assert "no deployment" in demo.done[send(demo, "github", "push:feature").delivery_id]


def shopify_order_updates_inventory(d):
    demo = d("webhook")
    assert "inventory updated: MUG-001 → 38 left" in demo.done[send(demo, "shopify", "orders/create").delivery_id]


RACES: list[dict] = []  # one race serves every claim it shows: five seconds each


def push_beats_polling(d):
    if not RACES:
        d("push-vs-poll").interval.value = 500  # a poller that asks often enough to notice within a second
        RACES.append(d("push-vs-poll").run())
    score = RACES[0]
    assert score["push requests"] == score["events"] and score["poll requests"] > score["events"]
    assert max(score["push delays"]) < sorted(score["poll delays"])[len(score["poll delays"]) // 2]
    assert score["empty"] > 0


def signature_verification_catches_tampering(d):
    demo = d("signature")
    demo.way.value = "byte"
    assert not demo.run().verified and "refused (no_matching_signature)" in shown(demo)


def secret_tokens(d):
    demo = d("signature")
    demo.way.value = "secret"
    captured = demo.run()
    assert not captured.verified and captured.status == 400


def validate_incoming_data(d):
    demo = d("signature")
    demo.way.value = "nothing"
    assert demo.run().status == 200
    demo.way.value = "spacing"
    assert demo.run().status == 400 and "re-serialised" in shown(demo)


def https_encryption(d):
    demo = d("replay")
    assert b"Stripe-Signature" in demo.wire  # over HTTP, whoever is on the path reads the signed request
    demo.link.value = "https"
    assert b"Stripe-Signature" not in demo.wire and "bytes of TLS: unreadable" in shown(demo)
    assert demo.run() is None and "Nothing to replay" in shown(demo)


def retried_over_a_period_then_failed(d):
    demo = d("retries")
    demo.provider.value, demo.failing.value = "shopify", 9
    delivery = demo.run()
    assert len(delivery.log) == 9 and delivery.status != "delivered" and "then the provider gave up" in shown(demo)


def retried_until_delivered(d):
    demo = d("retries")
    delivery = demo.run()
    assert delivery.status == "delivered" and len(delivery.log) == 6 and "delivered at attempt 6" in shown(demo)


CLAIMS = [
    # Definition
    ("sends real time data automatically when a specific event occurs", "webhook", arrives_in_real_time_unasked),
    ("instead of repeatedly checking for updates, webhooks push information instantly", "push-vs-poll",
     push_beats_polling),
    ("the fastest way to trigger automations", "push-vs-poll", push_beats_polling),
    # Webhook explained
    ("that system sends data to a URL you specify", "webhook", to_the_url_you_gave_once),
    ("a 'reverse API': instead of you requesting data, the data comes to you", "webhook", arrives_in_real_time_unasked),
    ("you register a webhook URL with a service; the service sends a package of data about the event", "webhook",
     to_the_url_you_gave_once),
    ("your system receives that data and can immediately take action", "webhook", your_system_acts_at_once),
    ("without them your automations would need to constantly poll, which is slower and less efficient",
     "push-vs-poll", push_beats_polling),
    ("automation platforms support webhooks as trigger types: start any workflow the moment an event occurs",
     "webhook", your_system_acts_at_once),
    # Real world examples
    ("a Stripe webhook when a payment succeeds, fails, or is refunded", "webhook",
     stripe_payment_succeeds_fails_or_is_refunded),
    ("a GitHub webhook that triggers a deployment when code is pushed to main", "webhook", github_push_to_main_deploys),
    ("a Shopify webhook that updates inventory the moment an order is placed", "webhook",
     shopify_order_updates_inventory),
    # Why it matters
    ("they eliminate delays, reduce server load from polling", "push-vs-poll", push_beats_polling),
    # FAQ: webhook or API?
    ("an API requires you to request data (pull); a webhook sends it to you when an event occurs (push)",
     "push-vs-poll", push_beats_polling),
    ("webhooks are event driven", "webhook", nothing_arrives_until_something_happens),
    ("real time without polling", "push-vs-poll", push_beats_polling),
    # FAQ: are webhooks secure?
    ("secured using signature verification", "signature", signature_verification_catches_tampering),
    ("secured using HTTPS encryption", "replay", https_encryption),
    ("secured using secret tokens", "signature", secret_tokens),
    ("always validate incoming webhook data to ensure it comes from a trusted source", "signature",
     validate_incoming_data),
    # FAQ: what happens if a webhook fails to deliver?
    ("the provider will attempt to resend the data several times over a defined period", "retries",
     retried_until_delivered),
    ("before marking it as failed", "retries", retried_over_a_period_then_failed),
]  # fmt: skip


@pytest.mark.parametrize(("claim", "name", "check"), CLAIMS, ids=[re.sub(r"\W+", "-", c[0])[:50] for c in CLAIMS])
def test_a_demo_shows_the_claim(demo, claim, name, check):
    assert name in demos.DEMOS
    demo(name).reset()  # the claim's own demo, at its start
    check(demo)


def test_each_demo_that_a_claim_names_is_one_of_the_demos_and_the_first_five_each_show_one():
    used = {name for _, name, _ in CLAIMS}
    assert used <= set(demos.DEMOS)
    assert {"webhook", "push-vs-poll", "signature", "retries", "replay"} <= used
