"""The retry lessons say what the providers publish, and no more: policies, delivery outcomes, notebooks 04 and 07."""

import json
from pathlib import Path

import pytest

import webhooklab as wl

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_shopify_deletes_only_admin_api_subscriptions():
    policy = wl.RetryPolicy.shopify()
    for text in (repr(policy), wl.RetryPolicy.shopify.__doc__):
        assert "Admin API" in text and "8 consecutive failures" in text
        assert "configuration stay" in text  # subscriptions declared in the app's configuration stay
    assert policy.disables_when_exhausted
    configured = wl.RetryPolicy.shopify(admin_api=False)
    assert not configured.disables_when_exhausted and configured.delays == policy.delays


def test_shopify_app_configured_subscription_is_exhausted_not_disabled(rx):
    rx.respond("down", status=500)
    shopify = wl.Shopify()
    delivery = shopify.deliver(shopify.event("orders/create"), to=rx.url("down"), clock=wl.VirtualClock(),
                               policy=wl.RetryPolicy.shopify(admin_api=False))  # fmt: skip
    assert delivery.status == "exhausted" and "exhausted" in delivery.log[-1]["outcome"]


def test_standard_schedule_is_svix_and_the_spec_only_gives_an_example():
    policy = wl.RetryPolicy.standard()
    for text in (repr(policy), wl.RetryPolicy.standard.__doc__):
        assert "Svix" in text and "example" in text and "jitter" in text
        assert "no assumption" not in text.lower()
    assert policy.assumption  # the choice of Svix's schedule is ours, and said so
    assert "(and Svix)" not in wl.RetryPolicy.standard.__doc__


def test_github_figures_are_github_coms():
    assert "github.com" in repr(wl.RetryPolicy.github()) and "Enterprise Server" in repr(wl.RetryPolicy.github())


def test_a_one_attempt_stripe_policy_does_not_say_stripe_never_retries(rx):
    rx.respond("down", status=500)
    stripe = wl.Stripe()
    delivery = stripe.deliver(stripe.event("charge.succeeded"), to=rx.url("down"),
                              policy=wl.RetryPolicy(name="one attempt", timeout=5), clock=wl.VirtualClock())  # fmt: skip
    outcome = delivery.log[-1]["outcome"]
    assert delivery.status == "failed"
    assert "does not retry" not in outcome and "redeliver by hand" not in outcome
    assert "this policy allows one attempt" in outcome and "Stripe itself would retry" in outcome


def test_a_github_delivery_says_github_does_not_retry(rx):
    rx.respond("down", status=500)
    github = wl.GitHub()
    delivery = github.deliver(github.event("push"), to=rx.url("down"), clock=wl.VirtualClock())
    outcome = delivery.log[-1]["outcome"]
    assert delivery.status == "failed"
    assert "GitHub does not retry" in outcome and "redeliver by hand" in outcome
    assert "this policy allows one attempt" not in outcome


def test_an_exhausted_delivery_and_its_last_attempt_use_the_same_word(rx):
    rx.respond("down", status=500)
    stripe = wl.Stripe()
    delivery = stripe.deliver(stripe.event("payment_intent.succeeded", livemode=True), to=rx.url("down"),
                              clock=wl.VirtualClock())  # fmt: skip
    last = delivery.log[-1]["outcome"]
    assert delivery.status == "exhausted" and len(delivery.log) == 13
    assert "the delivery is exhausted" in last
    assert "marked failed" not in last and "delivery is failed" not in last
    for status in ("delivered", "disabled"):
        assert status not in last


def test_the_disabled_outcome_says_disabled(rx):
    rx.respond("down", status=500)
    shopify = wl.Shopify()
    delivery = shopify.deliver(shopify.event("orders/create"), to=rx.url("down"), clock=wl.VirtualClock())
    assert delivery.status == "disabled" and "disabled" in delivery.log[-1]["outcome"]


def notebook_texts(prefix):
    """The notebook's JSON as stored, and its cells' text with each run of whitespace made one space: lower case."""
    (path,) = NOTEBOOKS.glob(f"{prefix}-*.ipynb")
    raw = path.read_text(encoding="utf-8")
    cells = json.loads(raw)["cells"]
    joined = " ".join("".join(cell["source"]) for cell in cells)
    return raw.lower(), " ".join(joined.split()).lower()


FALSE = {
    "04.00": ["svix publishes its exact schedule", "needs no assumption", "(and svix)", "nothing is lost",
              "every provider says to expect duplicates", "shopify after eight failures in a row",
              "delivery is marked failed", "github waits 10 s", "github keeps deliveries"],
    "07.00": ["(then it removes the subscription)", "delivery is *at least once*, and", "delivery is **at least once**:"],
}  # fmt: skip

RIGHT = {
    "04.00": ["the standard webhooks specification gives only an *example* schedule and recommends jitter",
              "are svix's own published schedule", "created through the admin api",
              "declared in the app's configuration stays", "the standard webhooks specification says that",
              "svix", "its own mechanisms, not on a `410`", "at least once** within its retry window",
              "stripe stops after 3 days", "github.com waits 10 s", "github.com keeps deliveries",
              "github enterprise server"],
    "07.00": ["created through the admin api", "declared in the app's configuration stays",
              "gives only an example schedule and recommends jitter", "within 3 days on github.com",
              "github enterprise server differs", "delivery is *at least once* within its retry window",
              "delivery is **at least once** within its window"],
}  # fmt: skip


@pytest.mark.parametrize("prefix", list(FALSE))
def test_the_notebooks_no_longer_teach_the_false_phrases(prefix):
    raw, text = notebook_texts(prefix)
    for phrase in FALSE[prefix]:
        assert phrase not in raw and phrase not in text, phrase


@pytest.mark.parametrize("prefix", list(RIGHT))
def test_the_notebooks_teach_the_corrections(prefix):
    _, text = notebook_texts(prefix)
    for phrase in RIGHT[prefix]:
        assert " ".join(phrase.split()) in text, phrase
