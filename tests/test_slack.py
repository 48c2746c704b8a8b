"""Slack: the documented vector, slack_sdk both ways, the url_verification handshake, retries, recognition.

Whatever arrives, verify() raises only SignatureError: see the fuzz of every scheme, test_signature_fuzz.py.
"""

import hashlib
import hmac
import json
import socket
import time
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier

import webhooklab as wl
from webhooklab import _cli as cli
from webhooklab._providers.slack import retry_reason
from webhooklab._sending.delivery import post

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the signing secret of Slack's documented example
# Slack's documented example ("Verifying requests from Slack"): a slash command, its timestamp and signature.
DOC_TIMESTAMP = 1531420618
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    b"channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    b"response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
NOW = 1_700_000_000


def headers_for(signature=DOC_SIGNATURE, timestamp=str(DOC_TIMESTAMP), **extra):
    """Slack's two headers with overridable values; None drops one."""
    pairs = {"X-Slack-Signature": signature, "X-Slack-Request-Timestamp": timestamp, **extra}
    return {name: value for name, value in pairs.items() if value is not None}


@pytest.fixture
def slack_rx():
    """A receiver whose endpoint "slack" checks Slack signatures with SECRET."""
    receiver = wl.Receiver(secrets={"slack": SECRET}).start()
    yield receiver
    receiver.close()


# -- the documented example and the scheme ------------------------------------------------------


def test_slacks_documented_example_reproduces_exactly():
    body, headers = wl.Slack(SECRET).sign(DOC_BODY, timestamp=DOC_TIMESTAMP)
    assert body == DOC_BODY and headers["X-Slack-Signature"] == DOC_SIGNATURE
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"  # a slash command is form fields
    independent = hmac.new(SECRET.encode(), f"v0:{DOC_TIMESTAMP}:".encode() + DOC_BODY, hashlib.sha256).hexdigest()
    assert DOC_SIGNATURE == "v0=" + independent


def test_verify_accepts_slacks_documented_example():
    fields = wl.Slack(SECRET).verify(DOC_BODY, headers_for(), now=DOC_TIMESTAMP + 10)
    assert fields["command"] == "/webhook-collect" and fields["user_name"] == "roadrunner" and fields["text"] == ""
    assert wl.Slack(SECRET).explain(DOC_BODY, headers_for(), now=DOC_TIMESTAMP).ok


def test_the_schemes_table_attributes():
    slack = wl.Slack
    assert (slack.algorithm, slack.digest_encoding, slack.signature_header, slack.window) == (
        "HMAC-SHA256", "hex", "X-Slack-Signature", 300.0)  # fmt: skip
    assert "X-Slack-Request-Timestamp" in slack.signs and "timestamp" in slack.replay_defence


# -- slack_sdk, both ways --------------------------------------------------------------------


@pytest.mark.parametrize("event_type", wl.Slack.event_types())
def test_slack_sdk_accepts_what_we_sign(event_type):
    sender = wl.Slack(SECRET)
    body, headers = sender.sign(sender.event(event_type))
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret-0000").is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET).is_valid_request(body + b" ", headers)


def test_we_accept_what_slack_sdk_signs_and_reject_it_tampered():
    body, timestamp = '{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}', str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    assert wl.Slack(SECRET).verify(body, headers_for(signature, timestamp))["event_id"] == "Ev1"
    with pytest.raises(wl.SignatureError, match="no signature in X-Slack-Signature matches") as caught:
        wl.Slack(SECRET).verify(body.replace("Ev1", "Ev2"), headers_for(signature, timestamp))
    assert caught.value.reason == "no_matching_signature"


def test_slack_sdk_rejects_an_old_timestamp_as_we_do():
    body, headers = wl.Slack(SECRET).sign(b'{"type":"event_callback"}', timestamp=int(time.time()) - 301)
    assert not SignatureVerifier(SECRET).is_valid_request(body, headers)
    with pytest.raises(wl.SignatureError, match="more than the 300 s allowed") as caught:
        wl.Slack(SECRET).verify(body, headers)
    assert caught.value.reason == "timestamp_too_old"


# -- every failure reason, with its message -----------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason", "message"),
    [
        (headers_for(signature=None), "missing_header", "X-Slack-Signature is missing"),
        (headers_for(timestamp=None), "missing_header", "X-Slack-Request-Timestamp is missing"),
        (headers_for(timestamp="1531420618.5"), "malformed_header", "whole unix seconds"),
        (headers_for(signature="v1=" + "0" * 64), "malformed_header", "'v0=' and 64 lowercase hex digits"),
        (headers_for(signature=DOC_SIGNATURE.upper()), "malformed_header", "'v0=' and 64 lowercase hex digits"),
    ],
)
def test_a_bad_header_says_what_was_expected(headers, reason, message):
    with pytest.raises(wl.SignatureError, match=message) as caught:
        wl.Slack(SECRET).verify(DOC_BODY, headers, now=DOC_TIMESTAMP)
    assert caught.value.reason == reason


def test_a_timestamp_from_the_future_is_rejected_as_slack_sdk_does():
    with pytest.raises(wl.SignatureError, match="in the future") as caught:
        wl.Slack(SECRET).verify(DOC_BODY, headers_for(), now=DOC_TIMESTAMP - 301)
    assert caught.value.reason == "timestamp_too_new"


def test_a_token_instead_of_the_signing_secret_is_named():
    with pytest.raises(wl.SignatureError, match="is an OAuth or app-level token"):
        wl.Slack("xoxb-1234-5678-abcdef").verify(DOC_BODY, headers_for(), now=DOC_TIMESTAMP)


def test_a_signed_body_that_is_neither_json_nor_form_fields_is_refused():
    body, headers = wl.Slack(SECRET).sign(b"just text", timestamp=NOW)
    with pytest.raises(wl.SignatureError, match="neither JSON .* nor form fields") as caught:
        wl.Slack(SECRET).verify(body, headers, now=NOW)
    assert caught.value.reason == "invalid_payload"


# -- payloads and what goes on the wire ------------------------------------------------------------


def test_events_api_envelope_and_headers():
    sender = wl.Slack(SECRET)
    event = sender.event("app_mention", text="<@U0LAN0Z89> deploy?")
    body, headers = sender.sign(event, timestamp=NOW)
    sent = json.loads(body)
    assert sent["type"] == "event_callback" and sent["event"]["type"] == "app_mention"
    assert sent["event_id"].startswith("Ev") and sent["event"]["text"] == "<@U0LAN0Z89> deploy?"
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"].startswith("Slackbot 1.0")
    assert headers["X-Slack-Request-Timestamp"] == str(NOW)
    assert sender.event("app_mention")["event_id"] != event["event_id"]  # fresh ids each time


def test_a_slash_command_goes_as_form_fields():
    sender = wl.Slack(SECRET)
    body, headers = sender.sign(sender.event("slash_command", command="/weather", text="paris tomorrow"))
    fields = parse_qs(body.decode())
    assert fields["command"] == ["/weather"] and fields["text"] == ["paris tomorrow"] and b"+tomorrow" in body
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_an_unknown_override_lists_what_can_be_set():
    with pytest.raises(TypeError, match="has no field or option 'colour'.*reaction"):
        wl.Slack(SECRET).event("reaction_added", colour="blue")


# -- the receiver: recognition and the url_verification handshake ------------------------------------


def test_a_verified_url_verification_gets_its_challenge_back(slack_rx):
    sender = wl.Slack(SECRET)
    handshake = sender.event("url_verification")
    attempt = sender.send(handshake, to=slack_rx.url("slack"))
    # What Slack checks before it accepts a Request URL: a 200 whose body is the challenge.
    assert attempt.status == 200 and attempt.response_body.decode() == handshake["challenge"]
    assert attempt.response_headers["Content-Type"].startswith("text/plain")
    stored = slack_rx.event()
    assert (stored.provider, stored.event_type, stored.verified) == ("slack", "url_verification", True)
    assert stored.response_body == handshake["challenge"].encode()


def test_a_forged_url_verification_gets_no_challenge(slack_rx):
    forger = wl.Slack("not-the-signing-secret-000000000")
    handshake = forger.event("url_verification")
    attempt = forger.send(handshake, to=slack_rx.url("slack"))
    assert handshake["challenge"].encode() not in attempt.response_body
    assert slack_rx.event().verified is False


def test_events_are_recognised_and_verified_over_http(slack_rx, http):
    sender = wl.Slack(SECRET)
    mention = sender.event("app_mention")
    for event in (mention, sender.event("slash_command")):
        body, headers = sender.sign(event)
        assert http.post(slack_rx.url("slack"), data=body, headers=headers, timeout=5).status_code == 200
    table = slack_rx.events()
    assert table["provider"].tolist() == ["slack", "slack"] and table["verified"].tolist() == [True, True]
    assert table["event_type"].tolist() == ["app_mention", "slash_command"]
    assert table["delivery_id"].iloc[0] == mention["event_id"]  # retries keep the event_id: deduplicate on it


# -- retries ----------------------------------------------------------------------------------------


def test_the_retry_policy():
    policy = wl.RetryPolicy.slack()
    assert policy.attempts == 4 and policy.delays == (1.0, 60.0, 300.0) and policy.timeout == 3.0
    assert policy.abort_header == ("X-Slack-No-Retry", "1")
    assert "1 s, 1 min and 5 min" in policy.assumption and wl.Slack(SECRET).policy_for({}) == policy


def test_retries_carry_their_number_and_reason(rx):
    rx.respond("slack", fail_first=3)
    sender = wl.Slack(SECRET)
    delivery = sender.deliver(sender.event("message"), rx.url("slack"), clock=wl.VirtualClock())
    assert delivery.status == "delivered" and len(delivery.log) == 4
    took = [sum(row["elapsed"] for row in delivery.log[:i]) for i in range(len(delivery.log))]  # each wait starts then
    assert [row["offset"] - t for row, t in zip(delivery.log, took)][1:] == pytest.approx([1, 61, 361], abs=1e-3)
    sent = [event.headers for event in rx.wait_for(4)]
    assert "X-Slack-Retry-Num" not in sent[0]
    assert [h["X-Slack-Retry-Num"] for h in sent[1:]] == ["1", "2", "3"]
    assert {h["X-Slack-Retry-Reason"] for h in sent[1:]} == {"http_error"}
    assert len(set(rx.events()["delivery_id"])) == 1  # every attempt has the same event_id


def test_no_retry_header_stops_the_retries(rx):
    rx.respond("slack", status=500, headers={"X-Slack-No-Retry": "1"})
    sender = wl.Slack(SECRET)
    delivery = sender.deliver(sender.event("reaction_added"), rx.url("slack"), clock=wl.VirtualClock())
    assert delivery.status == "failed" and len(delivery.log) == 1
    assert "X-Slack-No-Retry: 1, so retries stop" in delivery.log[0]["outcome"]


def test_connection_failures_are_retried_with_their_reason():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hooks/slack"  # bound, never listening: refused
        sender = wl.Slack(SECRET)
        delivery = sender.deliver_many([sender.event("message")], url, clock=wl.VirtualClock())[0]
    assert delivery.status == "exhausted" and len(delivery.log) == 4
    reasons = [row["result"].request_headers.get("X-Slack-Retry-Reason") for row in delivery.log]
    assert reasons == [None, "connection_failed", "connection_failed", "connection_failed"]


def test_a_slow_answer_is_an_http_timeout(rx):
    rx.respond("slow", delay=1.0)
    attempt = post(rx.url("slow"), b"{}", {}, timeout=0.2)
    assert attempt.status is None and retry_reason(attempt) == "http_timeout"


def test_the_command_line_sends_slack(rx, capsys):
    code = cli.main(["send", "slack", "app_mention", "--to", rx.url("cli"), "--secret", SECRET, "--set", "text=hi"])
    assert code == 0 and "-> 200" in capsys.readouterr().out
    (event,) = rx.wait_for(1)
    assert (event.provider, event.event_type, event.json["event"]["text"]) == ("slack", "app_mention", "hi")
