"""Twilio: the documented vector, Twilio's RequestValidator both ways, the URL the receiver saw.

Whatever arrives, verify() raises only SignatureError: see the fuzz of every scheme, test_signature_fuzz.py.
"""

import hashlib
import json
from urllib.parse import parse_qs, urlencode

import pytest
import requests
from receivers import Shared
from twilio.request_validator import RequestValidator

import webhooklab as wl
from webhooklab import _cli as cli
from webhooklab._providers import identify
from webhooklab._sending.delivery import post

TOKEN = "12345"  # the Auth Token of Twilio's documented example
# Twilio's documented example ("Webhooks security"): a URL with a query, five POST parameters, their signature.
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
              "To": "+18005551212"}  # fmt: skip
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
DOC_BODY = urlencode(DOC_PARAMS).encode()
FORM = "application/x-www-form-urlencoded"


def params_of(body: bytes) -> dict:
    """The POST parameters as a web framework hands them to RequestValidator (one value per name here)."""
    return {name: values[0] for name, values in parse_qs(body.decode(), keep_blank_values=True).items()}


@pytest.fixture(scope="module")
def twilio_rx():
    shared = Shared(wl.Receiver(secrets={"sms": TOKEN, "calls": TOKEN}))
    yield shared
    shared.close()


@pytest.fixture
def trx(twilio_rx):
    return twilio_rx.reset()


# -- the scheme ---------------------------------------------------------------------------------


def test_twilios_documented_example_reproduces_exactly():
    assert wl.Twilio(TOKEN).signature(DOC_URL, DOC_PARAMS) == DOC_SIGNATURE


def test_verify_accepts_twilios_documented_example_and_returns_the_parameters():
    assert wl.Twilio(TOKEN).verify(DOC_BODY, {"X-Twilio-Signature": DOC_SIGNATURE}, url=DOC_URL) == DOC_PARAMS


@pytest.mark.parametrize("url", [DOC_URL.replace("foo=1", "foo=2"), DOC_URL.replace("https", "http"),
                                 "https://mycompany.com/myapp.php"])  # fmt: skip
def test_the_documented_signature_fails_for_any_other_url(url):
    with pytest.raises(wl.SignatureError, match="no signature matches|the signature matches the URL") as caught:
        wl.Twilio(TOKEN).verify(DOC_BODY, {"X-Twilio-Signature": DOC_SIGNATURE}, url=url)
    assert caught.value.reason == "no_matching_signature"


def test_the_schemes_table_attributes():
    twilio = wl.Twilio
    assert (twilio.algorithm, twilio.digest_encoding, twilio.signature_header, twilio.window) == (
        "HMAC-SHA1", "base64", "X-Twilio-Signature", None)  # fmt: skip
    assert "URL" in twilio.signs and "Idempotency" in twilio.replay_defence


@pytest.mark.parametrize("event_type", ["sms/incoming", "call/status"])
def test_twilios_request_validator_accepts_what_we_sign(event_type):
    twilio = wl.Twilio(TOKEN)
    url = "https://example.com/twilio/hook?account=7"
    body, headers = twilio.sign(twilio.event(event_type), url=url)
    assert headers["Content-Type"] == FORM
    validator = RequestValidator(TOKEN)
    assert validator.validate(url, params_of(body), headers["X-Twilio-Signature"])
    assert not validator.validate(url + "&extra=1", params_of(body), headers["X-Twilio-Signature"])
    assert not RequestValidator("54321").validate(url, params_of(body), headers["X-Twilio-Signature"])


def test_we_accept_what_request_validator_signs_and_reject_it_tampered():
    url = "https://example.com/sms"
    body = urlencode({"Body": "Hello & goodbye, 😀", "From": "+15017122661", "NumMedia": "0"}).encode()
    signature = RequestValidator(TOKEN).compute_signature(url, params_of(body))
    assert wl.Twilio(TOKEN).verify(body, {"X-Twilio-Signature": signature}, url=url)["Body"] == "Hello & goodbye, 😀"
    with pytest.raises(wl.SignatureError, match="a parameter changed") as caught:
        wl.Twilio(TOKEN).verify(body.replace(b"NumMedia=0", b"NumMedia=1"), {"X-Twilio-Signature": signature}, url=url)
    assert caught.value.reason == "no_matching_signature"


def test_a_json_body_is_checked_by_the_body_sha256_in_the_url():
    body = json.dumps({"ConversationSid": "CH123", "Body": "hi"}).encode()
    url = f"https://example.com/conversations?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    assert wl.Twilio(TOKEN).verify(body, {"X-Twilio-Signature": signature}, url=url) == {"ConversationSid": "CH123", "Body": "hi"}
    with pytest.raises(wl.SignatureError, match="the body changed after Twilio signed it"):
        wl.Twilio(TOKEN).verify(body.replace(b"hi", b"ho"), {"X-Twilio-Signature": signature}, url=url)


def test_a_secondary_token_verifies_during_rotation():
    signature = wl.Twilio("old-token").signature(DOC_URL, DOC_PARAMS)
    assert wl.Twilio(["new-token", "old-token"]).verify(DOC_BODY, {"X-Twilio-Signature": signature}, url=DOC_URL)


@pytest.mark.parametrize(("headers", "url", "reason", "message"), [
    ({}, DOC_URL, "missing_header", "there is no X-Twilio-Signature header"),
    ({"X-Twilio-Signature": "ab" * 20}, DOC_URL, "malformed_header", "base64 of a 20-byte HMAC-SHA1 digest"),
    ({"X-Twilio-Signature": DOC_SIGNATURE}, None, "missing_header", "Twilio signs the URL it requested, and no URL"),
])  # fmt: skip
def test_a_bad_request_says_what_was_expected(headers, url, reason, message):
    with pytest.raises(wl.SignatureError, match=message) as caught:
        wl.Twilio(TOKEN).verify(DOC_BODY, headers, url=url)
    assert caught.value.reason == reason


def test_signing_needs_the_url_and_a_url_must_be_whole():
    twilio = wl.Twilio(TOKEN)
    with pytest.raises(wl.UsageError, match="Twilio signs the URL it requests, so sign"):
        twilio.sign(twilio.event("sms/incoming"))
    with pytest.raises(wl.UsageError, match="a path alone cannot be checked"):
        twilio.verify(DOC_BODY, {"X-Twilio-Signature": DOC_SIGNATURE}, url="/myapp.php")
    bound = wl.Twilio(TOKEN, url=DOC_URL)
    assert bound.verify(DOC_BODY, {"X-Twilio-Signature": DOC_SIGNATURE}) == DOC_PARAMS


def test_events_carry_twilios_parameter_names_and_take_overrides():
    twilio = wl.Twilio()
    sms = twilio.event("sms/incoming", body="STOP", from_="+15005550006")
    assert sms["Body"] == "STOP" and sms["From"] == "+15005550006" and sms["MessageSid"] == sms["SmsSid"]
    assert sms["MessageSid"].startswith("SM") and len(sms["MessageSid"]) == 34 and sms["ApiVersion"] == "2010-04-01"
    call = twilio.event("call/status", CallStatus="busy", from_="+15005550006")
    assert call["CallStatus"] == "busy" and call["Caller"] == "+15005550006" and call["CallSid"].startswith("CA")
    assert twilio.event("call/status")["CallSid"] != call["CallSid"]
    with pytest.raises(TypeError, match="You can set: .*body"):
        twilio.event("sms/incoming", colour="red")


def test_requests_are_recognised_by_the_signature_header_and_their_parameters():
    twilio = wl.Twilio(TOKEN)
    for event_type in ("sms/incoming", "call/status"):
        body, headers = twilio.sign(twilio.event(event_type), url="https://example.com/t")
        token = headers["I-Twilio-Idempotency-Token"]
        assert identify(tuple(headers.items()), body, FORM) == ("twilio", event_type, token)
    assert identify((("Content-Type", FORM),), body, FORM)[0] is None  # the parameters alone are not a claim


# -- over HTTP: the URL the receiver saw -----------------------------------------------------------


def test_send_signs_for_its_url_and_the_receiver_verifies_with_the_url_it_saw(trx):
    twilio = wl.Twilio(TOKEN)
    attempt = twilio.send(twilio.event("sms/incoming", body="hello"), to=trx.url("sms") + "?source=test")
    assert attempt.ok
    (event,) = trx.wait_for(1, endpoint="sms")
    assert (event.provider, event.event_type, event.verified) == ("twilio", "sms/incoming", True)
    assert event.delivery_id == attempt.request_headers["I-Twilio-Idempotency-Token"]
    assert RequestValidator(TOKEN).validate(trx.url("sms") + "?source=test", params_of(event.body),
                                            event.headers["X-Twilio-Signature"])  # fmt: skip


def inspect(rx, event_id: int) -> dict:
    reply = requests.get(f"{rx.base_url}/api/events/{event_id}/inspect", timeout=5)
    reply.raise_for_status()
    return reply.json()["explanation"]


def test_http_behind_an_https_tunnel_fails_only_because_of_the_url_and_says_so(trx):
    twilio = wl.Twilio(TOKEN)
    public = "https" + trx.url("sms").removeprefix("http")  # what Twilio requested; the tunnel forwards plain http
    body, headers = twilio.sign(twilio.event("sms/incoming"), url=public)
    assert post(trx.url("sms"), body, headers, timeout=5).ok
    (event,) = trx.wait_for(1, endpoint="sms")
    assert (event.verified, event.reason) == (False, "no_matching_signature")
    assert "the Auth Token is right" in event.verification
    assert "the scheme (http here, https signed)" in event.verification and "tunnel" in event.verification
    shown = inspect(trx, event.id)  # the page's step by step says the same
    assert shown["reason"] == "no_matching_signature" and "the scheme (http here, https signed)" in shown["message"]
    assert ["URL as signed", public] in shown["steps"]


def test_a_tunnel_on_this_machine_that_says_https_is_believed(trx):
    twilio = wl.Twilio(TOKEN)
    public = "https://tunnel.example/hooks/sms"
    body, headers = twilio.sign(twilio.event("sms/incoming"), url=public)
    forwarded = {**headers, "Host": "tunnel.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "tunnel.example"}
    assert post(trx.url("sms"), body, forwarded, timeout=5).ok
    (event,) = trx.wait_for(1, endpoint="sms")
    assert event.verified is True, event.verification
    assert inspect(trx, event.id)["reason"] is None


def test_a_proxy_prefix_the_receiver_does_not_see_is_named(trx):
    twilio = wl.Twilio(TOKEN)
    base, path = trx.url("sms").split("/hooks/")
    requested = f"{base}/app/hooks/{path}"  # a proxy strips /app; the receiver, reached directly, does not believe it
    body, headers = twilio.sign(twilio.event("sms/incoming"), url=requested)
    assert post(trx.url("sms"), body, {**headers, "X-Forwarded-Prefix": "/app"}, timeout=5).ok
    (event,) = trx.wait_for(1, endpoint="sms")
    assert event.verified is False
    assert f"matches the URL {requested}" in event.verification and "X-Forwarded-Prefix /app" in event.verification


def test_a_path_the_receiver_sees_under_a_prefix_is_named(trx):
    twilio = wl.Twilio(TOKEN)
    requested = trx.url("sms").replace("/hooks/", "/")
    body, headers = twilio.sign(twilio.event("sms/incoming"), url=requested)
    assert post(trx.url("sms"), body, headers, timeout=5).ok
    (event,) = trx.wait_for(1, endpoint="sms")
    assert event.verified is False and "the path (/hooks/sms here, /sms signed)" in event.verification
    assert "under a prefix (/hooks)" in event.verification


def test_a_wrong_token_is_not_blamed_on_the_url(trx):
    twilio = wl.Twilio("not-the-token")
    twilio.send(twilio.event("call/status"), to=trx.url("calls"))
    (event,) = trx.wait_for(1, endpoint="calls")
    assert (event.provider, event.event_type, event.verified) == ("twilio", "call/status", False)
    assert "the token is not the one Twilio signs with" in event.verification


# -- delivery, the command line -------------------------------------------------------------------


def test_the_retry_policy_is_one_attempt_and_says_what_twilio_documents():
    policy = wl.RetryPolicy.twilio()
    assert policy.attempts == 1 and policy.timeout == (5.0, 15.0)
    assert "fallback URL" in policy.note and "retries once if the connection fails" in policy.note
    assert "not simulated" in policy.assumption and wl.Twilio.policy == policy


def test_deliver_signs_for_its_url_and_makes_one_attempt(trx):
    twilio = wl.Twilio(TOKEN)
    trx.respond("sms", status=500)
    failed = twilio.deliver(twilio.event("sms/incoming"), to=trx.url("sms"), clock=wl.VirtualClock())
    assert failed.status == "failed" and len(failed.log) == 1
    trx.respond("sms", status=200)
    done = twilio.deliver(twilio.event("sms/incoming"), to=trx.url("sms"), clock=wl.VirtualClock())
    assert done.status == "delivered"
    assert [e.verified for e in trx.wait_for(2, endpoint="sms")] == [True, True]


def test_the_command_line_sends_twilio(trx, capsys):
    code = cli.main(["send", "twilio", "call/status", "--to", trx.url("calls"), "--secret", TOKEN,
                     "--set", "CallStatus=no-answer"])  # fmt: skip
    assert code == 0, capsys.readouterr()
    (event,) = trx.wait_for(1, endpoint="calls")
    assert event.verified is True and params_of(event.body)["CallStatus"] == "no-answer"

