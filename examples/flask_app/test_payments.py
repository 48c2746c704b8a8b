"""What Stripe's endpoint must do, one case a test, each asserted in one line where it can be."""

import pytest


def test_a_signed_event_is_accepted_and_stored(stripe_hooks, inbox):
    event = stripe_hooks.event("payment_intent.succeeded", amount=2000)
    assert stripe_hooks.send(event).status_code == 200
    assert [e["id"] for e in inbox.pending] == [event["id"]]


def test_a_tampered_body_is_refused(stripe_hooks, inbox):
    assert stripe_hooks.tampered("payment_intent.succeeded").status_code == 400
    assert inbox.pending == []


def test_a_request_signed_with_another_secret_is_refused(stripe_hooks):
    assert stripe_hooks.wrong_secret("payment_intent.succeeded").status_code == 400


def test_a_request_without_a_signature_is_refused(stripe_hooks):
    assert stripe_hooks.unsigned("payment_intent.succeeded").status_code == 400


def test_a_replay_of_an_old_request_is_refused(stripe_hooks):
    assert stripe_hooks.stale("payment_intent.succeeded").status_code == 400


def test_a_timestamp_in_the_future_is_accepted_as_stripes_library_does(stripe_hooks):
    assert stripe_hooks.future("payment_intent.succeeded").ok  # Stripe's libraries refuse only the too old


def test_every_forgery_is_refused_and_changes_nothing(stripe_hooks, work):
    forged = stripe_hooks.forgeries("charge.refunded", effects=work)  # a genuine one first: it must be accepted
    assert {name: r.status_code for name, r in forged.items()} == {
        "tampered": 400, "wrong_secret": 400, "unsigned": 400, "stale": 400}  # fmt: skip
    assert work() == 1  # the genuine request's


def test_a_duplicate_delivery_is_acknowledged_and_stored_once(stripe_hooks, inbox):
    event = stripe_hooks.event("checkout.session.completed")
    assert [r.status_code for r in stripe_hooks.duplicate(event)] == [200, 200]
    assert [e["id"] for e in inbox.pending] == [event["id"]]


def test_copies_arriving_at_once_are_stored_once(stripe_hooks, work):
    assert all(r.ok for r in stripe_hooks.concurrent("charge.succeeded", times=8))
    assert work() == 1


def test_a_replayed_request_is_stored_once(stripe_hooks, work):
    first, again = stripe_hooks.replayed("charge.succeeded")  # Stripe sends no delivery id: the same bytes again
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["duplicate"] is True and work() == 1


def test_a_raw_dict_or_bytes_can_be_the_event(stripe_hooks, inbox):
    assert stripe_hooks.send({"id": "evt_raw", "object": "event", "type": "ping"}).ok
    assert stripe_hooks.send(b'{"id": "evt_bytes", "object": "event", "type": "ping"}').ok
    assert [e["id"] for e in inbox.pending] == ["evt_raw", "evt_bytes"]


def test_retries_on_stripes_schedule_deliver_it_once(stripe_hooks, inbox, monkeypatch):
    """The inbox is down for two attempts; Stripe's test mode retries 30 min, then 1 h later (a virtual clock)."""
    monkeypatch.setattr(inbox, "add", fail_first(2, inbox.add))
    delivery = stripe_hooks.deliver("payment_intent.succeeded")
    assert delivery.status == "delivered"
    assert list(delivery.attempts["status"]) == [503, 503, 200]
    assert list(delivery.attempts["after first (s)"]) == pytest.approx([0, 1800, 5400], abs=5)
    assert len(inbox.pending) == 1


def test_the_answer_does_not_wait_for_the_work(stripe_hooks, inbox):
    response = stripe_hooks.send("payment_intent.succeeded")
    assert response.json() == {"received": True, "duplicate": False}
    assert len(inbox.pending) == 1  # handed to the worker, not handled in the request
    assert response.elapsed < stripe_hooks.provider.timeout


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
