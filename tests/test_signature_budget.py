"""A failed signature costs what its verdict costs: the likely cause is worked out when asked for, and only for
bodies up to DIAGNOSIS_LIMIT. The verdict stays exact at any size; normal diagnoses read as before.
"""

import json
import sqlite3

import pytest
import requests
from receivers import Shared

import webhooklab as wl
from webhooklab._providers import explain
from webhooklab._providers.explain import DIAGNOSIS_LIMIT, UNDIAGNOSED

STRIPE_SECRET, TWILIO_TOKEN = "whsec_budget_endpoint_secret", "0123456789abcdef0123456789abcdef"
OVER = DIAGNOSIS_LIMIT + 200_000  # a body just over the limit: big enough to skip, small enough to be quick


def big_json(size: int = OVER) -> bytes:
    """A Stripe-shaped event of about `size` bytes, written compactly (so a re-serialised copy differs)."""
    items = [{"id": f"il_{n:010d}", "amount": 2000, "description": "Workshop seat"} for n in range(size // 60)]
    return json.dumps({"id": "evt_big", "type": "invoice.created", "data": {"object": {"lines": items}}},
                      separators=(",", ":")).encode()  # fmt: skip


def big_form(size: int = OVER) -> dict:
    """Twilio parameters of about `size` bytes when form-encoded."""
    return {"MessageSid": "SM" + "0" * 32, "Body": "hi", **{f"MediaUrl{n}": f"https://example.com/m/{n:06d}"
                                                           for n in range(size // 45)}}  # fmt: skip


@pytest.fixture(scope="module")
def budget_receiver():
    shared = Shared(wl.Receiver(secrets={"stripe": STRIPE_SECRET, "sms": wl.Twilio(TWILIO_TOKEN)}))
    yield shared
    shared.close()


@pytest.fixture
def brx(budget_receiver):
    return budget_receiver.reset()


# -- the verdict is exact for a big body --------------------------------------------------------------


def test_a_big_body_signed_right_verifies_and_one_signed_wrong_does_not(brx):
    body = big_json()
    assert len(body) > DIAGNOSIS_LIMIT
    wl.Stripe(STRIPE_SECRET).send(body, to=brx.url("stripe"))
    wl.Stripe("whsec_someone_else").send(body, to=brx.url("stripe"))
    right, wrong = brx.wait_for(2, endpoint="stripe")
    assert (right.verified, right.reason) == (True, None)
    assert (wrong.verified, wrong.reason) == (False, "no_matching_signature")


def test_one_byte_changed_at_the_end_of_a_big_body_is_caught(brx):
    body, headers = wl.Stripe(STRIPE_SECRET).sign(big_json())
    requests.post(brx.url("stripe"), data=body[:-2] + b" }", headers=headers, timeout=10)
    (event,) = brx.wait_for(1, endpoint="stripe")
    assert (event.verified, event.reason) == (False, "no_matching_signature")


def test_a_big_twilio_form_verifies_with_the_right_token_and_not_with_another(brx):
    params = big_form()
    wl.Twilio(TWILIO_TOKEN).send(params, to=brx.url("sms"))
    wl.Twilio("fedcba9876543210fedcba9876543210").send(params, to=brx.url("sms"))
    right, wrong = brx.wait_for(2, endpoint="sms")
    assert len(right.body) > DIAGNOSIS_LIMIT
    assert right.verified is True and (wrong.verified, wrong.reason) == (False, "no_matching_signature")


# -- a big body's diagnosis is skipped, and says why -------------------------------------------------


def test_a_big_re_serialised_body_says_its_diagnosis_was_skipped_and_why(brx):
    body, headers = wl.Stripe(STRIPE_SECRET).sign(big_json())
    requests.post(brx.url("stripe"), data=json.dumps(json.loads(body)), headers=headers, timeout=10)
    (event,) = brx.wait_for(1, endpoint="stripe")
    assert event.reason == "no_matching_signature"
    said = event.verification
    assert f"the body is {len(event.body) / 1024 / 1024:.1f} MB, over the 1 MB limit" in said
    assert "The verdict is exact" in said and "re-serialised" not in said
    inspected = requests.get(f"{brx.base_url}/api/events/{event.id}/inspect", timeout=10).json()["explanation"]
    assert inspected["message"] == said  # the page says the same


def test_a_big_twilio_form_at_another_url_is_not_diagnosed(brx):
    public = "https" + brx.url("sms").removeprefix("http")  # what a tunnel's sender signed; the receiver sees http
    body, headers = wl.Twilio(TWILIO_TOKEN).sign(big_form(), url=public)
    requests.post(brx.url("sms"), data=body, headers=headers, timeout=10)
    (event,) = brx.wait_for(1, endpoint="sms")
    assert event.verified is False and "over the 1 MB limit" in event.verification
    assert "the Auth Token is right" not in event.verification  # said of a small form: test_twilio.py


@pytest.mark.parametrize("provider", [wl.Stripe(STRIPE_SECRET), wl.GitHub("gh-secret"), wl.Slack("slack-secret"),
                                      wl.StandardWebhooks(wl.StandardWebhooks.new_secret())])  # fmt: skip
def test_the_costly_part_of_a_diagnosis_never_runs_for_a_big_body(provider, monkeypatch):
    def refuse(body):
        raise AssertionError("a body over the limit was re-serialised")

    monkeypatch.setattr(explain, "_reserializations", refuse)
    body, headers = provider.sign(big_json(), event_type="push")  # GitHub names the event in a header
    out = provider.explain(json.dumps(json.loads(body), indent=1), headers)
    assert out.reason == "no_matching_signature" and "over the 1 MB limit" in out.message


# -- capture stores the verdict; reading the event works out the cause, once ----------------------


def test_capture_stores_the_verdict_and_the_first_read_stores_the_cause(tmp_path):
    path = tmp_path / "events.db"
    stripe = wl.Stripe(STRIPE_SECRET)
    with wl.Receiver(path, secrets={"stripe": STRIPE_SECRET}) as rx:
        body, headers = stripe.sign(stripe.event("charge.succeeded"))
        requests.post(rx.url("stripe"), data=json.dumps(json.loads(body)), headers=headers, timeout=5)
        rx.wait_for(1)
        (stored,) = sqlite3.connect(path).execute("SELECT verification FROM events").fetchone()
        assert stored.endswith(UNDIAGNOSED) and stored.startswith("no signature in Stripe-Signature matches")
        assert "re-serialised" in rx.event(-1).verification
        (kept,) = sqlite3.connect(path).execute("SELECT verification FROM events").fetchone()
        assert kept == rx.event(-1).verification  # worked out once, then read as stored


def test_explain_without_diagnose_gives_the_verdict_alone():
    stripe = wl.Stripe(STRIPE_SECRET)
    body, headers = stripe.sign(stripe.event("charge.succeeded"))
    reserialised = json.dumps(json.loads(body))
    quick = stripe.explain(reserialised, headers, diagnose=False)
    full = stripe.explain(reserialised, headers)
    assert quick.reason == full.reason == "no_matching_signature"
    assert quick.message.endswith(UNDIAGNOSED) and "re-serialised" in full.message
    assert stripe.explain(body, headers, diagnose=False).ok  # a valid signature is valid either way
    with pytest.raises(wl.UsageTypeError, match="diagnose must be True or False"):
        stripe.explain(body, headers, diagnose="no")


# -- normal bodies: the lessons' diagnoses, unchanged ------------------------------------------------


def test_normal_diagnoses_read_as_they_always_did(brx):
    stripe = wl.Stripe(STRIPE_SECRET)
    body, headers = stripe.sign(stripe.event("charge.succeeded"))
    requests.post(brx.url("stripe"), data=json.dumps(json.loads(body)), headers=headers, timeout=5)
    wrong = wl.Stripe("sk_test_an_api_key")
    wrong.send(wrong.event("charge.succeeded"), to=brx.url("stripe"))
    stripe.send(stripe.event("charge.succeeded"), to=brx.url("stripe"), timestamp=1_700_000_000)
    reserialised, api_key, stale = brx.wait_for(3, endpoint="stripe")
    assert "The body was re-serialised" in reserialised.verification
    assert api_key.reason == "no_matching_signature" and "no signature in Stripe-Signature matches" in api_key.verification
    assert "Either something the signature covers" in api_key.verification
    assert stale.reason == "timestamp_too_old" and "Likely a replay" in stale.verification
    for event in (reserialised, api_key, stale):
        assert UNDIAGNOSED not in event.verification
