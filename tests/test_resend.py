"""Edit and resend over HTTP: a captured request changed, re-signed or not, sent, stored and compared with the original.

The stored requests are checked by the providers' own libraries (stripe, standardwebhooks) as well as the receiver.
"""

import base64
import json

import pytest
import requests
import standardwebhooks
import stripe as stripe_sdk

import webhooklab as wl

SECRET = "whsec_resend_secret_for_tests_0000"
STANDARD_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-secret-32bytes").decode()
CHANGE = {"X-Webhooklab": "1"}


@pytest.fixture
def srx():
    with wl.Receiver(secrets={"pay": SECRET, "std": STANDARD_SECRET}) as receiver:
        yield receiver
    receiver.close()


def resend(rx, event_id: int, **options) -> requests.Response:
    return requests.post(f"{rx.base_url}/api/events/{event_id}/replay", json=options, headers=CHANGE, timeout=30)


def captured_payment(rx, amount: int = 4200):
    sender = wl.Stripe(SECRET)
    sender.send(sender.event("payment_intent.succeeded", amount=amount), to=rx.url("pay"))
    return rx.event(-1)


def edited_amount(event, amount: int) -> str:
    return event.body.decode().replace('"amount": 4200', f'"amount": {amount}')


def stripe_sdk_accepts(event) -> bool:
    try:
        stripe_sdk.Webhook.construct_event(event.body, event.header("Stripe-Signature"), SECRET)
    except stripe_sdk.SignatureVerificationError:
        return False
    return True


def test_an_edited_body_re_signed_with_the_endpoints_secret_verifies(srx):
    original = captured_payment(srx)
    body = edited_amount(original, 99)
    answer = resend(srx, original.id, body=body, resign=True).json()
    assert answer["status"] == 200 and answer["resigned"] and answer["edited"] == ["body"]
    assert answer["verified"] is True and answer["cause"] is None
    new = srx.store.get(answer["event_id"])
    assert new.body == body.encode() and new.verified is True and stripe_sdk_accepts(new)
    assert new.header("Stripe-Signature") != original.header("Stripe-Signature")  # signed anew, at a new time
    changes = requests.get(f"{srx.base_url}/api/events/{original.id}/compare/{new.id}", timeout=10).json()
    assert {"change": "removed", "text": '      "amount": 4200,'} in changes["body"]["lines"]
    assert {"change": "added", "text": '      "amount": 99,'} in changes["body"]["lines"]
    assert [h["name"] for h in changes["headers"]] == ["Stripe-Signature", "Content-Length"] and not changes["method"]
    assert changes["verdict"] == {"original": True, "new": True, "cause": None}


def test_an_edited_body_not_re_signed_fails_and_the_body_is_named_as_the_cause(srx):
    original = captured_payment(srx)
    answer = resend(srx, original.id, body=edited_amount(original, 1)).json()
    assert answer["status"] == 200 and not answer["resigned"] and answer["verified"] is False
    assert answer["cause"].startswith("the body was edited after it was signed: Stripe-Signature still holds")
    at = next(i for i, (a, b) in enumerate(zip(original.body, edited_amount(original, 1).encode())) if a != b)
    assert f"differs from at byte {at}" in answer["cause"]
    new = srx.store.get(answer["event_id"])
    assert new.verified is False and new.reason == "no_matching_signature" and not stripe_sdk_accepts(new)
    assert new.header("Stripe-Signature") == original.header("Stripe-Signature")
    changes = requests.get(f"{srx.base_url}/api/events/{original.id}/compare/{new.id}", timeout=10).json()
    assert [h["name"] for h in changes["headers"]] == ["Content-Length"]  # the signature header went as captured
    assert changes["verdict"]["cause"] == answer["cause"]


def test_a_chosen_secret_re_signs_and_the_wrong_one_fails_on_the_secret(srx):
    original = captured_payment(srx)
    answer = resend(srx, original.id, resign=True, secret="whsec_some_other_secret_0000000").json()
    assert answer["verified"] is False and answer["edited"] == [] and "whsec_…0000" in answer["cause"]
    assert "body was edited" not in answer["cause"]  # the body is the original's: the secret is what differs


def test_method_headers_and_target_can_change(srx):
    credential = {"Authorization": "Bearer s3cr3t-token-value-1234567890", "X-Old": "1"}
    requests.post(srx.url("raw") + "?a=1", data=b'{"x": 1}', headers=credential, timeout=5)
    original = srx.event(-1)
    shown = dict(requests.get(f"{srx.base_url}/api/events/{original.id}", timeout=10).json()["headers"])
    assert "s3cr3t" not in shown["Authorization"]  # the page sees it masked ...
    headers = [["Authorization", shown["Authorization"]], ["X-New", "2"], ["Content-Length", "999"]]
    answer = resend(srx, original.id, method="put", headers=headers, url=srx.url("other")).json()
    assert answer["status"] == 200 and answer["method"] == "PUT" and answer["edited"] == ["method", "url", "headers"]
    new = srx.store.get(answer["event_id"])
    assert (new.method, new.endpoint, new.body) == ("PUT", "other", b'{"x": 1}')
    assert new.header("Authorization") == "Bearer s3cr3t-token-value-1234567890"  # ... and left as shown, goes whole
    assert new.header("X-Old") is None and new.header("Content-Length") == "8"  # the sender sets the length
    changes = requests.get(f"{srx.base_url}/api/events/{original.id}/compare/{new.id}", timeout=10).json()
    assert changes["method"] == {"original": "POST", "new": "PUT"}
    assert changes["path"] == {"original": "/hooks/raw?a=1", "new": "/hooks/other"}
    by_name = {h["name"]: h["change"] for h in changes["headers"]}
    assert by_name["X-Old"] == "removed" and by_name["X-New"] == "added" and "Authorization" not in by_name
    again = resend(srx, original.id, headers=[["Authorization", "Bearer another-token-value-0987654321"]]).json()
    masked = requests.get(f"{srx.base_url}/api/events/{original.id}/compare/{again['event_id']}", timeout=10).json()
    (authorization,) = [h for h in masked["headers"] if h["name"] == "Authorization"]
    assert "s3cr3t" not in json.dumps(masked) and "another-token" not in json.dumps(masked)  # credentials masked
    assert authorization["change"] == "changed"


def test_standard_webhooks_resend_verifies_with_its_own_library(srx):
    sender = wl.StandardWebhooks(STANDARD_SECRET)
    sender.send(sender.event("invoice.paid", amount=5), to=srx.url("std"))
    original = srx.event(-1)
    body = json.dumps({**json.loads(original.body), "data": {"amount": 6}})
    answer = resend(srx, original.id, body=body, resign=True).json()
    new = srx.store.get(answer["event_id"])
    assert answer["verified"] is True
    standardwebhooks.Webhook(STANDARD_SECRET).verify(new.body, dict(new.header_pairs))  # raises if it does not verify
    assert new.header("webhook-id") == original.header("webhook-id")  # the same message, edited


@pytest.mark.parametrize("options, expected", [
    ({"method": "GE T"}, "method must be an HTTP method such as POST"),
    ({"headers": {"X": "1"}}, "headers must be a list of at most 100 [name, value] pairs"),
    ({"headers": [["X-A", "1\r\nX-Injected: 1"]]}, "the value of X-A holds a line break"),
    ({"headers": [["X A", "1"]]}, "a header name is letters, digits and -"),
    ({"body": "x", "body_base64": "eA=="}, "give the new body once"),
    ({"body_base64": "not base64!"}, "body_base64 must be base64"),
    ({"body": 5}, "body must be the new body as text, got 5"),
])  # fmt: skip
def test_bad_edits_are_refused_saying_what_was_expected(srx, options, expected):
    original = captured_payment(srx)
    reply = resend(srx, original.id, **options)
    assert reply.status_code == 400 and expected in reply.json()["error"], reply.json()
    assert srx.store.count() == 1  # nothing was sent


def test_re_signing_for_an_endpoint_without_a_secret_says_how_to_give_one(srx):
    sender = wl.GitHub("github-secret")
    sender.send(sender.event("push"), to=srx.url("gh"))
    reply = resend(srx, srx.event(-1).id, resign=True)
    assert reply.status_code == 400 and "endpoint 'gh' has no secret on this receiver" in reply.json()["error"]
    given = resend(srx, srx.event(-1).id, resign=True, secret="github-secret", body='{"edited": true}').json()
    assert given["status"] == 200 and srx.store.get(given["event_id"]).header("X-GitHub-Event") == "push"


def test_a_bin_resends_an_edit_signed_with_the_learners_secret(classroom):
    learner, bin_url = classroom.learner, classroom.bin_url()
    sender = wl.Stripe(learner.secret)
    sender.send(sender.event("charge.succeeded"), to=bin_url + "hooks/edit")
    (event,) = requests.get(bin_url + "api/events", params={"endpoint": "edit"}, timeout=10).json()["events"]
    edit = {"body": '{"type": "charge.succeeded", "edited": true}', "resign": True}
    reply = requests.post(bin_url + f"api/events/{event['id']}/replay", headers=CHANGE, timeout=30, json=edit).json()
    assert reply["status"] == 200 and reply["verified"] is True and reply["url"].endswith("/hooks/edit")
    assert classroom.store.get(reply["event_id"]).body == b'{"type": "charge.succeeded", "edited": true}'
