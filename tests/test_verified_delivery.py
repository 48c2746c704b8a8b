"""End to end: a provider signs and sends over real HTTP; a receiver holding the secret verifies and stores."""

import json
import socket
import time

import pytest
import requests
from receivers import Shared

import webhooklab as wl

SECRETS = {
    "stripe": "whsec_end_to_end_secret_0001",
    "github": "github-end-to-end-secret",
    "shopify": "shopify-client-secret-0001",
    "standard": wl.StandardWebhooks.new_secret(),
}
SENDERS = {
    "stripe": (wl.Stripe, "payment_intent.succeeded"),
    "github": (wl.GitHub, "push"),
    "shopify": (wl.Shopify, "orders/create"),
    "standard": (wl.StandardWebhooks, "invoice.paid"),
}


@pytest.fixture(scope="module")
def verifying_receiver():
    shared = Shared(wl.Receiver(secrets=SECRETS))
    yield shared
    shared.close()


@pytest.fixture
def vrx(verifying_receiver):
    return verifying_receiver.reset()


@pytest.mark.parametrize("name", SENDERS)
def test_a_signed_event_is_stored_and_verified(vrx, name):
    cls, event_type = SENDERS[name]
    sender = cls(SECRETS[name])
    attempt = sender.send(sender.event(event_type), to=vrx.url(name))
    assert attempt.ok and attempt.status == 200 and attempt.elapsed > 0
    assert json.loads(attempt.response_body) == {"received": True, "endpoint": name}
    (event,) = vrx.wait_for(1, endpoint=name)
    assert (event.provider, event.verified, event.reason) == (name, True, None)
    assert event.body == attempt.request_body
    row = vrx.events().iloc[-1]
    assert bool(row.verified) is True and row.event_type.startswith(event_type)


@pytest.mark.parametrize("name", SENDERS)
def test_tampered_and_wrong_secret_are_stored_with_their_reason(vrx, name):
    cls, event_type = SENDERS[name]
    sender = cls(SECRETS[name])
    body, headers = sender.sign(sender.event(event_type))
    requests.post(vrx.url(name), data=body.replace(b"2", b"3", 1), headers=headers, timeout=5)
    wrong = cls(cls.new_secret())
    wrong.send(wrong.event(event_type), to=vrx.url(name))
    tampered, wrong_secret = vrx.wait_for(2, endpoint=name)
    for event in (tampered, wrong_secret):
        assert (event.verified, event.reason, event.status) == (False, "no_matching_signature", 200)
    assert "matches" in wrong_secret.verification


@pytest.mark.parametrize("name", ["stripe", "standard"])
def test_a_stale_timestamp_is_stored_as_too_old(vrx, name):
    cls, event_type = SENDERS[name]
    sender = cls(SECRETS[name])
    sender.send(sender.event(event_type), to=vrx.url(name), timestamp=int(time.time()) - 3600)
    (event,) = vrx.wait_for(1, endpoint=name)
    assert (event.verified, event.reason) == (False, "timestamp_too_old")
    assert "replay" in event.verification


def test_a_re_serialised_body_is_stored_with_the_cause(vrx):
    sender = wl.Stripe(SECRETS["stripe"])
    body, headers = sender.sign(sender.event("charge.succeeded"))
    requests.post(vrx.url("stripe"), data=json.dumps(json.loads(body)), headers=headers, timeout=5)
    (event,) = vrx.wait_for(1, endpoint="stripe")
    assert event.reason == "no_matching_signature" and "re-serialised" in event.verification


def test_unsigned_requests_to_a_guarded_endpoint_are_still_stored(vrx):
    requests.post(vrx.url("github"), json={"hello": "world"}, timeout=5)
    (event,) = vrx.wait_for(1, endpoint="github")
    assert (event.verified, event.reason) == (False, "missing_header")
    assert event.json == {"hello": "world"}


def test_a_replay_with_an_earlier_id_header_is_refused_and_deduplicated_by_the_copy_the_check_read(vrx):
    """The signature covers the last webhook-id; a copy added before it once passed both the check and dedupe."""
    sender = wl.StandardWebhooks(SECRETS["standard"])
    body, headers = sender.sign(sender.event("invoice.paid"))
    assert sender.send(body, to=vrx.url("standard"), delivery_id=headers["webhook-id"]).status == 200
    lines = [f"{name}: {value}" for name, value in {**headers, "Content-Length": str(len(body))}.items()]
    request = "\r\n".join(["POST /hooks/standard HTTP/1.1", f"Host: 127.0.0.1:{vrx.port}", "Connection: close",
                             "webhook-id: msg_a_fresh_id_for_the_replay", *lines, "", ""]).encode() + body  # fmt: skip
    with socket.create_connection(("127.0.0.1", vrx.port), timeout=10) as sock:
        sock.sendall(request)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    original, replay = vrx.wait_for(2)
    assert (original.verified, original.delivery_id) == (True, headers["webhook-id"])
    assert (replay.verified, replay.reason) == (False, "malformed_header")
    assert "expected one webhook-id header, but 2 arrived" in replay.verification
    assert replay.delivery_id == replay.header("webhook-id") == "msg_a_fresh_id_for_the_replay"


def test_an_endpoint_without_a_secret_is_not_checked(vrx):
    sender = wl.GitHub("x")
    sender.send(sender.event("ping"), to=vrx.url("open"))
    (event,) = vrx.wait_for(1, endpoint="open")
    assert (event.verified, event.reason) == (None, None)
    assert vrx.events()["verified"].isna().all()


def test_a_provider_instance_pins_the_scheme(vrx):
    rx = wl.Receiver(secrets={"hooks": wl.Shopify("pinned")}).start()
    try:
        sender = wl.GitHub("pinned")  # right secret, but GitHub's scheme: Shopify's header is missing
        sender.send(sender.event("ping"), to=rx.url("hooks"))
        (event,) = rx.wait_for(1)
        assert (event.provider, event.verified, event.reason) == ("github", False, "missing_header")
    finally:
        rx.close()


def test_send_to_a_dead_url_records_the_error():
    attempt = wl.GitHub("s").send(wl.GitHub("s").event("ping"), to="http://127.0.0.1:9/hooks/x")
    assert attempt.status is None and not attempt.ok and "nothing is listening" in attempt.error


def test_send_times_out_at_the_providers_limit(rx):
    rx.respond("slow", delay=1.5)
    shop = wl.Shopify("s")
    shop.timeout = (1.0, 0.5)
    attempt = shop.send(shop.event("orders/create"), to=rx.url("slow"))
    assert attempt.status is None and attempt.error == "timed out: no answer within 0.5 s"
    assert rx.wait_for(1, endpoint="slow")  # the receiver got it all the same: the seed of a duplicate


def test_reject_invalid_answers_400_with_the_reason_and_still_stores():
    with wl.Receiver(secrets={"pay": SECRETS["stripe"]}, reject_invalid=True) as rx:
        good, bad = wl.Stripe(SECRETS["stripe"]), wl.Stripe("whsec_not_the_right_one_0")
        assert good.send(good.event("charge.succeeded"), to=rx.url("pay")).status == 200
        rejected = bad.send(bad.event("charge.succeeded"), to=rx.url("pay"))
        assert rejected.status == 400 and json.loads(rejected.response_body)["reason"] == "no_matching_signature"
        assert [e.status for e in rx.wait_for(2)] == [200, 400]
    rx.close()
