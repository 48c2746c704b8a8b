"""Deliveries against a real receiver: each provider's schedule, failure semantics, duplicates, handlers."""

import threading
import time

import pytest

import webhooklab as wl
from webhooklab._sending.retry import DAY, HOUR

SCHEDULES = [
    # provider, event, expected attempts when every one fails, final status
    (wl.Stripe, ("payment_intent.succeeded", {"livemode": True}), wl.RetryPolicy.stripe(live=True), "exhausted"),
    (wl.Stripe, ("payment_intent.succeeded", {}), wl.RetryPolicy.stripe(live=False), "exhausted"),
    (wl.Shopify, ("orders/create", {}), wl.RetryPolicy.shopify(), "disabled"),
    (wl.StandardWebhooks, ("invoice.paid", {}), wl.RetryPolicy.standard(), "exhausted"),
    (wl.GitHub, ("push", {}), wl.RetryPolicy.github(), "failed"),
]


def make(cls, event_spec):
    provider = cls()
    event_type, overrides = event_spec
    return provider, provider.event(event_type, **overrides)


@pytest.mark.parametrize(("cls", "event_spec", "policy", "final"), SCHEDULES, ids=lambda v: getattr(v, "name", ""))
def test_an_always_failing_receiver_gets_the_whole_schedule(rx, cls, event_spec, policy, final):
    rx.respond("down", status=500)
    provider, event = make(cls, event_spec)
    delivery = provider.deliver(event, to=rx.url("down"), clock=wl.VirtualClock())
    assert delivery.status == final
    assert len(delivery.log) == policy.attempts == len(rx.wait_for(policy.attempts, endpoint="down"))
    # Each wait starts when the answer came: the schedule's offset plus the time the requests before it took.
    took = [sum(row["elapsed"] for row in delivery.log[:i]) for i in range(len(delivery.log))]
    assert [row["offset"] - t for row, t in zip(delivery.log, took)] == pytest.approx(policy.offsets(), abs=1e-3)
    assert [e.status for e in rx.events("down").itertuples()] == [500] * policy.attempts


def test_the_published_shapes_hold():
    assert wl.RetryPolicy.stripe().offsets()[-1] <= 3 * DAY < wl.RetryPolicy.stripe().offsets()[-1] + 12 * HOUR
    assert wl.RetryPolicy.stripe(live=False).attempts == 4
    assert wl.RetryPolicy.shopify().attempts == 9 and wl.RetryPolicy.shopify().offsets()[-1] == 4 * HOUR
    assert wl.RetryPolicy.standard().delays == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert wl.RetryPolicy.github().attempts == 1
    for policy in (wl.RetryPolicy.stripe(), wl.RetryPolicy.shopify()):
        assert "assumption" in repr(policy)  # unpublished intervals are labelled as ours


@pytest.mark.parametrize(("cls", "event_spec", "policy", "final"), SCHEDULES[:4], ids=lambda v: getattr(v, "name", ""))
def test_failing_the_first_n_then_delivered_at_n_plus_one(rx, cls, event_spec, policy, final):
    rx.respond("flaky", fail_first=3)
    provider, event = make(cls, event_spec)
    delivery = provider.deliver(event, to=rx.url("flaky"), clock=wl.VirtualClock())
    assert delivery.status == "delivered" and len(delivery.log) == 4
    assert list(delivery.attempts["status"]) == [500, 500, 500, 200]
    assert list(delivery.attempts.columns) == ["scheduled at", "sent at", "after first (s)", "status", "elapsed (s)", "error", "outcome"]
    assert (delivery.attempts["scheduled at"] == delivery.attempts["sent at"]).all()  # virtual time is never late


def test_github_redelivery_keeps_the_delivery_id(rx):
    rx.respond("gh", status=503)
    github = wl.GitHub()
    delivery = github.deliver(github.event("push"), to=rx.url("gh"), clock=wl.VirtualClock())
    assert (delivery.status, len(delivery.log)) == ("failed", 1)
    rx.respond("gh")
    assert delivery.redeliver(after=2 * DAY).status == 200
    first, second = rx.wait_for(2, endpoint="gh")
    assert first.header("X-GitHub-Delivery") == second.header("X-GitHub-Delivery") == delivery.delivery_id
    assert second.duplicate_of == first.id and delivery.status == "delivered"
    with pytest.raises(ValueError, match="keeps deliveries for 3 d for a manual redelivery"):
        delivery.redeliver(after=4 * DAY)


def test_retries_resend_or_resign_as_each_provider_does(rx):
    rx.respond("again", fail_first=1)
    shopify = wl.Shopify()
    shopify.deliver(shopify.event("orders/create"), to=rx.url("again"), clock=wl.VirtualClock())
    first, second = rx.wait_for(2, endpoint="again")
    assert (first.headers, first.body) == (second.headers, second.body)  # the same request again

    rx.clear()
    rx.respond("again", fail_first=1)
    stripe = wl.Stripe()
    policy = wl.RetryPolicy([1.1], resigns=True)  # one real second, so the timestamp must move
    stripe.deliver(stripe.event("charge.succeeded"), to=rx.url("again"), policy=policy)
    first, second = rx.wait_for(2, endpoint="again")
    stamp = lambda event: int(event.header("Stripe-Signature").split(",")[0][2:])  # noqa: E731
    assert stamp(second) > stamp(first) and first.body == second.body


def test_a_redirect_is_a_failure_and_is_not_followed(rx):
    rx.respond("moved", status=301, headers={"Location": "/hooks/elsewhere"})
    shopify = wl.Shopify()
    delivery = shopify.deliver(shopify.event("orders/paid"), to=rx.url("moved"), policy=wl.RetryPolicy([1]), clock=wl.VirtualClock())
    assert delivery.status == "exhausted" and "a redirect is not followed" in delivery.log[0]["outcome"]
    assert rx.store.count("elsewhere") == 0


def test_standard_webhooks_410_disables_the_endpoint(rx):
    rx.respond("gone", status=410)
    sender = wl.StandardWebhooks()
    delivery = sender.deliver(sender.event("user.created"), to=rx.url("gone"), clock=wl.VirtualClock())
    assert (delivery.status, len(delivery.log)) == ("disabled", 1)
    stripe = wl.Stripe()  # for Stripe a 410 is just another failure
    assert len(stripe.deliver(stripe.event("charge.succeeded"), to=rx.url("gone"), clock=wl.VirtualClock()).log) == 4


def test_svix_abort_message_stops_retries(rx):
    rx.respond("abort", status=400, headers={"webhook-delivery": "abort-message"})
    sender = wl.StandardWebhooks()
    delivery = sender.deliver(sender.event("user.created"), to=rx.url("abort"), clock=wl.VirtualClock())
    assert (delivery.status, len(delivery.log)) == ("failed", 1) and "retries stop" in delivery.log[0]["outcome"]


def test_retry_after_is_honoured_where_the_provider_does(rx):
    rx.respond("busy", status=429, headers={"Retry-After": "7200"})
    sender = wl.StandardWebhooks()
    delivery = sender.deliver(sender.event("user.created"), to=rx.url("busy"), policy=wl.RetryPolicy.standard(), clock=wl.VirtualClock())
    assert delivery.log[1]["offset"] == pytest.approx(7200, abs=1)  # not the schedule's 5 s
    assert "Retry-After asks for 2 h" in delivery.log[0]["outcome"]
    stripe = wl.Stripe()
    ignored = stripe.deliver(stripe.event("charge.succeeded"), to=rx.url("busy"), clock=wl.VirtualClock())
    assert ignored.log[1]["offset"] == pytest.approx(1800, abs=1)  # Stripe keeps its own schedule


def test_a_timeout_is_a_failure_even_though_the_receiver_stored_it_and_dedupe_runs_the_effect_once(rx):
    shipped = []

    @rx.on("orders/create", endpoint="slow", dedupe=True)
    def ship(event):
        shipped.append(event.json["id"])

    rx.respond("slow", delay=0.8)
    shopify = wl.Shopify()

    def speed_up(delivery, row):
        rx.respond("slow")  # the receiver recovers after the first, slow answer

    delivery = shopify.deliver(shopify.event("orders/create"), to=rx.url("slow"),
                               policy=wl.RetryPolicy.shopify().with_timeout((1, 0.3)), clock=wl.VirtualClock(),
                               on_attempt=speed_up)  # fmt: skip
    assert delivery.status == "delivered" and "timed out" in delivery.log[0]["outcome"]
    first, second = rx.wait_for(2, endpoint="slow")
    assert first.delivery_id == second.delivery_id and second.duplicate_of == first.id
    assert len(shipped) == 1  # the side effect ran once
    table = rx.events("slow")
    assert list(table["duplicate_of"].isna()) == [True, False]


def test_a_handler_error_becomes_a_500_and_a_record_and_the_retry_succeeds(rx):
    state = {"broken": True}

    @rx.on("charge.*", endpoint="shop")
    def fulfil(event):
        if state["broken"]:
            raise KeyError("amount")

    stripe = wl.Stripe()

    def fix(delivery, row):
        state["broken"] = False

    delivery = stripe.deliver(stripe.event("charge.succeeded"), to=rx.url("shop"), clock=wl.VirtualClock(), on_attempt=fix)
    assert list(delivery.attempts["status"]) == [500, 200]
    (error,) = rx.errors
    assert error.handler == "fulfil" and error.error == "KeyError: 'amount'" and "Traceback" in error.traceback
    failed = rx.event(error.event_id)
    assert failed.status == 500 and "handler fulfil raised KeyError" in failed.note
    assert "1 handler error(s)" in repr(rx)


def test_handlers_run_only_for_verified_events(tmp_path):
    seen = []
    with wl.Receiver(secrets={"pay": "whsec_handler_secret_000"}) as rx:
        rx.on("payment_intent.*")(lambda event: seen.append(event.id))
        good, bad = wl.Stripe("whsec_handler_secret_000"), wl.Stripe("whsec_somebody_else_0000")
        good.send(good.event("payment_intent.succeeded"), to=rx.url("pay"))
        bad.send(bad.event("payment_intent.succeeded"), to=rx.url("pay"))
        good.send(good.event("charge.succeeded"), to=rx.url("pay"))  # another type
        events = rx.wait_for(3)
    assert seen == [events[0].id]
    rx.close()


def test_a_background_handler_answers_first(rx):
    release, done = threading.Event(), threading.Event()

    @rx.on(endpoint="report", background=True)
    def slow_report(event):
        release.wait(30)  # until the answer has come back: run in the foreground, the sender would time out first
        done.set()

    github = wl.GitHub()
    attempt = github.send(github.event("ping"), to=rx.url("report"), timeout=(5, 5))
    answered_first = not done.is_set()
    release.set()
    assert attempt.ok and answered_first
    assert done.wait(10)


def test_deliver_many_shows_duplicates_and_reordering(rx):
    github = wl.GitHub()
    events = [github.event("push", commits=[f"commit {i}"]) for i in range(20)]
    deliveries = github.deliver_many(events, to=rx.url("many"), concurrency=4, shuffle=True, duplicate_rate=0.5, seed=7)
    duplicates = sum(d.duplicate for d in deliveries)
    assert duplicates > 0 and len(deliveries) == 20 + duplicates
    assert all(d.status == "delivered" for d in deliveries)
    stored = rx.wait_for(20 + duplicates, endpoint="many")
    assert sum(e.duplicate_of is not None for e in stored) == duplicates
    order = [events.index(d.event) for d in deliveries if not d.duplicate]
    assert order != sorted(order)  # shuffled
    table = deliveries.table()
    assert list(table.columns) == ["delivery_id", "event_type", "event_id", "status", "attempts", "duplicate"]


def test_a_background_delivery_can_be_waited_for(rx):
    rx.respond("bg", fail_first=2)
    stripe = wl.Stripe()
    delivery = stripe.deliver(stripe.event("charge.succeeded"), to=rx.url("bg"), clock=wl.VirtualClock(), background=True)
    assert delivery.wait(10).status == "delivered" and delivery.done


def test_the_accelerated_clock_plays_an_hour_in_a_fraction_of_a_second(rx):
    rx.respond("fast", fail_first=1)
    shopify = wl.Shopify()
    started = time.monotonic()
    delivery = shopify.deliver(shopify.event("orders/paid"), to=rx.url("fast"), policy=wl.RetryPolicy([HOUR]),
                               clock=wl.AcceleratedClock(speed=36000))  # fmt: skip
    # A tenth of a second of waiting at that speed: a hundredth of the hour is a bound only a hang can reach.
    assert delivery.status == "delivered" and time.monotonic() - started < HOUR / 100
    assert delivery.log[1]["offset"] == pytest.approx(HOUR, rel=0.05)



def test_the_accelerated_clock_stands_still_while_a_request_is_under_way(rx):
    """At 3600×, an answer 0.2 s slow would put 12 virtual minutes between an attempt and its answer."""
    rx.respond("slow", status=500, delay=0.2)
    shopify = wl.Shopify()
    delivery = shopify.deliver(shopify.event("orders/paid"), to=rx.url("slow"), policy=wl.RetryPolicy([60, 60]),
                               clock=wl.AcceleratedClock(speed=3600))  # fmt: skip
    offsets = [row["offset"] for row in delivery.log]
    assert offsets == pytest.approx([0, 60.2, 120.4], abs=0.5)  # each wait follows the answer, as a provider's does

def test_custom_policies():
    assert wl.RetryPolicy([10, 20]).offsets() == [0, 10, 30]
    capped = wl.RetryPolicy.exponential(60, factor=3, retries=4, cap=600)
    assert capped.delays == (60, 180, 540, 600)
    jittery = wl.RetryPolicy.exponential(100, retries=3, jitter=0.2, seed=1)
    import random

    waits = [jittery.wait(i, random.Random(1)) for i in (1, 2, 3)]
    assert all(0.8 * d <= w <= 1.2 * d for w, d in zip(waits, jittery.delays)) and waits != list(jittery.delays)
    with pytest.raises(ValueError, match="cannot be negative"):
        wl.RetryPolicy([-1])


def test_schedules_and_timelines_show_before_and_after():
    table = wl.RetryPolicy.standard().schedule()
    assert list(table["wait"])[:3] == ["-", "5 s", "5 min"] and list(table["due after"])[-1] == "1 d 3 h"
    ax = wl.RetryPolicy.stripe().plot()
    assert "13 attempt(s)" in ax.get_title()


def test_timeline_marks_each_attempt(rx):
    rx.respond("t", fail_first=2)
    shopify = wl.Shopify()
    delivery = shopify.deliver(shopify.event("orders/paid"), to=rx.url("t"), clock=wl.VirtualClock())
    ax = delivery.timeline()
    assert len(ax.collections) == 3 and "delivered after 3 attempt(s)" in ax.get_title()
    assert "delivered after 3 attempt(s)" in repr(delivery)
