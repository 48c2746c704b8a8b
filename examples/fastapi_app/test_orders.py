"""What a Standard Webhooks endpoint must do, one case a test, each asserted in one line where it can be."""

import pytest


def test_a_signed_event_is_accepted_and_stored(sender, inbox):
    event = sender.event("invoice.paid")
    assert sender.send(event).status_code == 200
    assert inbox.pending == [event]


def test_a_tampered_body_is_refused(sender, inbox):
    assert sender.tampered("invoice.paid").status_code == 400
    assert inbox.pending == []


def test_a_request_signed_with_another_secret_is_refused(sender):
    assert sender.wrong_secret("invoice.paid").status_code == 400


def test_a_request_without_a_signature_is_refused(sender):
    assert sender.unsigned("invoice.paid").status_code == 400


def test_a_replay_of_an_old_request_is_refused(sender):
    assert sender.stale("invoice.paid").status_code == 400


def test_a_timestamp_in_the_future_is_refused(sender):
    assert sender.future("invoice.paid").status_code == 400  # the specification's 5 minutes, either way


def test_every_forgery_is_refused_and_changes_nothing(sender, work):
    forged = sender.forgeries("invoice.paid", effects=work)  # a genuine one first: it must be accepted
    assert {name: r.status_code for name, r in forged.items()} == dict.fromkeys(
        ["tampered", "wrong_secret", "unsigned", "stale", "future", "replayed"], 400)  # fmt: skip
    assert work() == 1  # the genuine request's


def test_a_duplicate_delivery_is_acknowledged_and_stored_once(sender, inbox):
    responses = sender.duplicate("invoice.paid", times=3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["duplicate"] for r in responses] == [False, True, True]
    assert len(inbox.pending) == 1


def test_copies_arriving_at_once_are_stored_once(sender, work):
    assert all(r.ok for r in sender.concurrent("invoice.paid", times=8))
    assert work() == 1


def test_a_replay_with_a_fresh_webhook_id_fails_the_signature(sender, work):
    first, again = sender.replayed("invoice.paid")  # webhook-id is signed: a new one breaks the signature
    assert (first.status_code, again.status_code) == (200, 400)
    assert work() == 1


def test_retries_on_svixs_schedule_deliver_it_once(sender, inbox, monkeypatch):
    """The inbox is down for two attempts; Svix retries 5 s, then 5 min later (a virtual clock: no waiting)."""
    monkeypatch.setattr(inbox, "add", fail_first(2, inbox.add))
    delivery = sender.deliver("invoice.paid")
    assert delivery.status == "delivered"
    assert list(delivery.attempts["status"]) == [503, 503, 200]
    assert list(delivery.attempts["after first (s)"]) == pytest.approx([0, 5, 305], abs=2)
    assert len(inbox.pending) == 1


def test_the_answer_does_not_wait_for_the_work(sender, inbox):
    response = sender.send("invoice.paid")
    assert response.json() == {"received": True, "duplicate": False}
    assert len(inbox.pending) == 1  # handed to the worker, not handled in the request
    assert response.elapsed < sender.provider.timeout


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
