"""What Stripe's endpoint must do, one case a test, each asserted in one line where it can be."""

import pytest


def test_a_signed_event_is_accepted_and_stored(stripe, inbox):
    event = stripe.event("payment_intent.succeeded", amount=2000)
    assert stripe.send(event).status_code == 200
    assert [e["id"] for e in inbox.pending] == [event["id"]]


def test_a_tampered_body_is_refused(stripe, inbox):
    assert stripe.tampered("payment_intent.succeeded").status_code == 400
    assert inbox.pending == []


def test_a_request_signed_with_another_secret_is_refused(stripe):
    assert stripe.wrong_secret("payment_intent.succeeded").status_code == 400


def test_a_request_without_a_signature_is_refused(stripe):
    assert stripe.unsigned("payment_intent.succeeded").status_code == 400


def test_a_replay_of_an_old_request_is_refused(stripe):
    assert stripe.stale("payment_intent.succeeded").status_code == 400


def test_every_forgery_is_refused(stripe, inbox):
    assert {name: r.status_code for name, r in stripe.forgeries("charge.refunded").items()} == {
        "tampered": 400, "wrong_secret": 400, "unsigned": 400, "stale": 400}  # fmt: skip
    assert inbox.pending == []


def test_a_duplicate_delivery_is_acknowledged_and_stored_once(stripe, inbox):
    event = stripe.event("checkout.session.completed")
    assert [r.status_code for r in stripe.duplicate(event)] == [200, 200]
    assert [e["id"] for e in inbox.pending] == [event["id"]]


def test_retries_on_stripes_schedule_deliver_it_once(stripe, inbox, monkeypatch):
    """The inbox is down for two attempts; Stripe's test mode retries 30 min, then 1 h later (a virtual clock)."""
    monkeypatch.setattr(inbox, "add", fail_first(2, inbox.add))
    delivery = stripe.deliver("payment_intent.succeeded")
    assert delivery.status == "delivered"
    assert list(delivery.attempts["status"]) == [503, 503, 200]
    assert list(delivery.attempts["after first (s)"]) == pytest.approx([0, 1800, 5400], abs=5)
    assert len(inbox.pending) == 1


def test_the_answer_does_not_wait_for_the_work(stripe, inbox):
    response = stripe.send("payment_intent.succeeded")
    assert response.json() == {"received": True, "duplicate": False}
    assert len(inbox.pending) == 1  # handed to the worker, not handled in the request
    assert response.elapsed < stripe.provider.timeout


def fail_first(times: int, function):
    """`function`, failing its first `times` calls as a database that is down would."""
    calls = 0

    def flaky(*args):
        nonlocal calls
        calls += 1
        if calls <= times:
            raise ConnectionError("database down")
        return function(*args)

    return flaky
