"""The retry lessons say what the providers publish, and no more: policies, delivery outcomes, notebooks 04 and 08."""

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
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
              "delivery is marked failed", "github waits 10 s", "github keeps deliveries",
              "at least once** within its retry window"],
    "08.00": ["(then it removes the subscription)", "delivery is *at least once*, and", "delivery is **at least once**:",
              "delivery is *at least once* within its retry window", "delivery is **at least once** within its window"],
}  # fmt: skip

RIGHT = {
    "04.00": ["the standard webhooks specification gives only an *example* schedule and recommends jitter",
              "are svix's own published schedule", "created through the admin api",
              "declared in the app's configuration stays", "the standard webhooks specification says that",
              "svix", "its own mechanisms, not on a `410`", "retries cause duplicates; they do not guarantee delivery",
              "stripe stops after 3 days", "github.com waits 10 s", "github.com keeps deliveries",
              "github enterprise server"],
    "08.00": ["created through the admin api", "declared in the app's configuration stays",
              "gives only an example schedule and recommends jitter", "within 3 days on github.com",
              "github enterprise server differs", "retries cause duplicates (they don't guarantee delivery",
              "retries bring **duplicates**, not a guarantee of delivery"],
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


# -- the retry plots: early attempts are seconds apart on an axis of days ----------------------------------------

ATTEMPT_LABEL = re.compile(r"^(\d+)(?:–(\d+))?$")


def attempt_labels(ax):
    """(first, last, window extent) of each attempt-number label drawn on `ax`."""
    renderer = ax.get_figure().canvas.get_renderer()
    found = []
    for text in ax.texts:
        match = ATTEMPT_LABEL.match(text.get_text())
        if match:
            first = int(match[1])
            found.append((first, int(match[2] or first), text.get_window_extent(renderer)))
    return sorted(found, key=lambda label: label[0])


def assert_apart(extents):
    for (a, b) in zip(extents, extents[1:]):
        assert a.x1 < b.x0, f"labels overlap: {a} and {b}"


def provider_policies():
    return [wl.RetryPolicy.stripe(), wl.RetryPolicy.stripe(live=False), wl.RetryPolicy.shopify(),
            wl.RetryPolicy.standard()]  # fmt: skip


@pytest.mark.parametrize("together", [False, True], ids=["alone", "as-in-notebook-04"])
def test_every_attempt_is_labelled_once_and_no_two_labels_overlap(together):
    policies = provider_policies()
    if together:  # notebook 04's figure: one row per policy, then tight_layout
        figure, axes = plt.subplots(len(policies), 1, figsize=(9, 8))
        for policy, ax in zip(policies, axes):
            policy.plot(ax=ax)
        figure.tight_layout()
    else:
        axes = [policy.plot() for policy in policies]
    try:
        for policy, ax in zip(policies, axes):
            ax.get_figure().canvas.draw()
            labels = attempt_labels(ax)
            covered = [n for first, last, _ in labels for n in range(first, last + 1)]
            assert covered == list(range(1, policy.attempts + 1)), (policy.name, [label[:2] for label in labels])
            assert_apart([extent for _, _, extent in labels])
            low, high = ax.get_xlim()
            assert low < 0 < policy.offsets()[-1] / wl_time_unit(policy) < high
    finally:
        plt.close("all")


def wl_time_unit(policy):
    from webhooklab._sending.timeline import time_unit

    return time_unit(policy.offsets()[-1])[0]


def test_crowded_early_attempts_share_a_label_that_the_axis_explains():
    ax = wl.RetryPolicy.stripe().plot()
    try:
        ax.get_figure().canvas.draw()
        first, last, _ = attempt_labels(ax)[0]
        assert first == 1 and last > 1, "attempts minutes apart on an axis of days share one label"
        assert f"attempts 1–{last} fall within the first" in ax.get_xlabel()
    finally:
        plt.close("all")


def test_a_single_attempt_policy_has_a_sensible_axis_and_says_there_are_no_retries():
    ax = wl.RetryPolicy.github().plot()
    try:
        low, high = ax.get_xlim()
        assert low < 0 and high >= 5, f"an axis of seconds around the one attempt, not ±0.04 s: {(low, high)}"
        texts = [text.get_text() for text in ax.texts]
        assert any(text.startswith("one attempt, no retries") for text in texts), texts
        assert "within 3 d" in " ".join(texts)  # GitHub: a person can redeliver
        assert "no retries" in ax.get_title() and "over 0 s" not in ax.get_title()
        custom = wl.RetryPolicy(name="one attempt").plot()
        assert "one attempt, no retries" in [text.get_text() for text in custom.texts]
    finally:
        plt.close("all")


def test_a_delivery_timeline_counts_crowded_answers_instead_of_stacking_them(rx):
    rx.respond("down", status=500)
    stripe = wl.Stripe()
    delivery = stripe.deliver(stripe.event("payment_intent.succeeded", livemode=True), to=rx.url("down"),
                              clock=wl.VirtualClock())  # fmt: skip
    ax = delivery.timeline()
    try:
        ax.get_figure().canvas.draw()
        renderer = ax.get_figure().canvas.get_renderer()
        labels = sorted(ax.texts, key=lambda text: text.get_window_extent(renderer).x0)
        counts = [int(text.get_text().partition("×")[2] or 1) for text in labels]
        assert sum(counts) == 13 and len(labels) < 13, [text.get_text() for text in labels]
        assert_apart([text.get_window_extent(renderer) for text in labels])
    finally:
        plt.close("all")


def test_the_retry_timeline_widget_gathers_crowded_numbers_too():
    shopify = wl.Shopify()
    timeline = wl.widgets.RetryTimeline(shopify, shopify.event("orders/create"), to="http://127.0.0.1:9/none")
    labels = timeline.number_labels(lambda offset: 20 + 560 * offset / timeline.policy.offsets()[-1])
    assert labels[0][0].startswith("1–"), labels
    assert "<text" in timeline.picture.value and ">1–" in timeline.picture.value
    edges = [(x - 3.25 * len(text), x + 3.25 * len(text)) for text, x in labels]
    assert all(left[1] < right[0] for left, right in zip(edges, edges[1:])), labels
    github = wl.GitHub()
    single = wl.widgets.RetryTimeline(github, github.event("push"), to="http://127.0.0.1:9/none")
    assert "one attempt, no retries" in single.picture.value
    timeline.close()
    single.close()


# -- notebook 04's text in its place -------------------------------------------------------------------------------


def cells_of(prefix):
    (path,) = NOTEBOOKS.glob(f"{prefix}-*.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_notebook_04_shows_the_time_line_right_after_saying_it_will():
    cells = cells_of("04.00")
    sources = ["".join(cell["source"]) for cell in cells]
    (said,) = [i for i, source in enumerate(sources) if "The time line shows the same thing" in source]
    assert sources[said].rstrip().endswith("The time line shows the same thing:")
    assert cells[said + 1]["cell_type"] == "code" and "delivery.timeline()" in sources[said + 1]
    widget = next(i for i, source in enumerate(sources) if "RetryTimeline(" in source)
    assert widget > said + 1 and "Watch a schedule play out" in sources[widget - 1]


def test_notebook_04_asks_for_a_prediction_and_then_explains_it():
    cells = cells_of("04.00")
    asks = [i for i, cell in enumerate(cells)
            if cell["cell_type"] == "markdown" and "".join(cell["source"]).startswith("**Predict, then run.**")]  # fmt: skip
    assert asks, "a markdown cell starting with **Predict, then run.**"
    for i in asks:
        assert "?" in "".join(cells[i]["source"])
        assert cells[i + 1]["cell_type"] == "code" and cells[i + 2]["cell_type"] == "markdown"
    first = asks[0]
    assert 'for endpoint in ["down", "slow", "flaky"]' in "".join(cells[first + 1]["source"])
    assert "".join(cells[first + 2]["source"]).startswith("None: to the sender, all three failed.")


def test_the_prediction_in_notebook_04_is_what_happens(rx):
    """All three endpoints fail for a one-attempt sender with a 0.5 s timeout, the slow one included."""
    rx.respond("down", status=500)
    rx.respond("slow", delay=1)
    rx.respond("flaky", fail_first=2)
    stripe, one_try = wl.Stripe(), wl.RetryPolicy(name="one attempt", timeout=0.5)
    statuses = {endpoint: stripe.deliver(stripe.event("charge.succeeded"), to=rx.url(endpoint), policy=one_try).status
                for endpoint in ["down", "slow", "flaky"]}  # fmt: skip
    assert statuses == dict.fromkeys(["down", "slow", "flaky"], "failed")
