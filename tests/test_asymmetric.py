"""Standard Webhooks' asymmetric signatures (`v1a`): a secret key signs, a public key verifies.

The same signed string as `v1` ("{id}.{timestamp}.{raw body}"), signed with
Ed25519 and written `v1a,<base64 of 64 bytes>`. The `cryptography` package
checks our signatures and makes signatures we must accept, so the scheme is
judged by an implementation that is not ours. The point of the key pair is
tested too: a receiver holding only the public key cannot forge a webhook.
"""

import base64
import json

import pytest
import standardwebhooks
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from receivers import Shared

import webhooklab as wl
from webhooklab import _cli as cli

NOW = 1_700_000_000


def raw(key: str) -> bytes:
    return base64.b64decode(key.partition("_")[2])


def signed_string(headers: dict, body: bytes) -> bytes:
    """Built here from the headers, the way the specification writes it, not by webhooklab."""
    return f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body


def v1a_entries(headers: dict) -> list[bytes]:
    return [base64.b64decode(part[4:]) for part in headers["webhook-signature"].split() if part.startswith("v1a,")]


@pytest.fixture(scope="module")
def pair():
    return wl.StandardWebhooks.keypair()


# -- the keys ---------------------------------------------------------------------------------------


def test_keypair_gives_a_whsk_seed_and_the_whpk_public_key_that_belongs_to_it(pair):
    secret_key, public_key = pair
    assert secret_key.startswith("whsk_") and public_key.startswith("whpk_")
    assert len(raw(secret_key)) == 32 and len(raw(public_key)) == 32
    derived = Ed25519PrivateKey.from_private_bytes(raw(secret_key)).public_key().public_bytes_raw()
    assert derived == raw(public_key)
    assert wl.StandardWebhooks.keypair() != pair  # a new pair each time


def test_a_whsk_key_written_as_seed_and_public_key_is_read_too(pair):
    secret_key, public_key = pair
    long_form = "whsk_" + base64.b64encode(raw(secret_key) + raw(public_key)).decode()
    body, headers = wl.StandardWebhooks(long_form).sign(b'{"type":"a"}', timestamp=NOW, delivery_id="msg_1")
    assert wl.StandardWebhooks(public_key).verify(body, headers, now=NOW) == {"type": "a"}
    _, other = wl.StandardWebhooks.keypair()
    with pytest.raises(ValueError, match="32-byte Ed25519 seed"):  # the two halves of another pair
        wl.StandardWebhooks("whsk_" + base64.b64encode(raw(secret_key) + raw(other)).decode())


@pytest.mark.parametrize(
    "key, message",
    [
        ("whpk_" + base64.b64encode(b"k" * 31).decode(), r"whpk_' followed by base64 of the 32-byte key.*31 bytes"),
        ("whsk_" + base64.b64encode(b"k" * 33).decode(), r"32-byte Ed25519 seed.*33 bytes"),
        ("whpk_not base64!", r"0 bytes decoded.*keypair\(\) makes a matching pair"),
    ],
)
def test_a_key_of_the_wrong_size_is_refused_up_front_saying_what_a_key_is(key, message):
    with pytest.raises(ValueError, match=message) as caught:
        wl.StandardWebhooks(key)
    assert key[5:] not in str(caught.value)  # a key is never printed whole


def test_repr_and_explain_never_show_the_secret_key(pair):
    secret_key, _ = pair
    signer = wl.StandardWebhooks(secret_key)
    body, headers = signer.sign(b'{"type":"a"}')
    assert secret_key[5:] not in repr(signer)
    assert secret_key[5:] not in str(signer.explain(body, headers))


# -- independent checks with `cryptography` ---------------------------------------------------------


def test_cryptography_accepts_the_v1a_signatures_we_make(pair):
    secret_key, public_key = pair
    signer = wl.StandardWebhooks(secret_key)
    body, headers = signer.sign(signer.event("invoice.paid", amount=4200))
    (signature,) = v1a_entries(headers)
    assert len(signature) == 64
    Ed25519PublicKey.from_public_bytes(raw(public_key)).verify(signature, signed_string(headers, body))  # raises if not


def test_we_accept_v1a_signatures_made_by_cryptography_directly():
    private = Ed25519PrivateKey.generate()
    public_key = "whpk_" + base64.b64encode(private.public_key().public_bytes_raw()).decode()
    body = b'{"type":"user.created","data":{"id":"u_1"}}'
    headers = {"webhook-id": "msg_crypto", "webhook-timestamp": str(NOW)}
    headers["webhook-signature"] = "v1a," + base64.b64encode(private.sign(signed_string(headers, body))).decode()
    assert wl.StandardWebhooks(public_key).verify(body, headers, now=NOW)["data"] == {"id": "u_1"}
    wrong = Ed25519PrivateKey.generate().sign(signed_string(headers, body))
    forged = {**headers, "webhook-signature": "v1a," + base64.b64encode(wrong).decode()}
    with pytest.raises(wl.SignatureError, match="another key pair's secret key"):
        wl.StandardWebhooks(public_key).verify(body, forged, now=NOW)


def test_v1a_sits_beside_v1_and_each_verifier_checks_its_own(pair):
    secret_key, public_key = pair
    hmac_secret = wl.StandardWebhooks.new_secret()
    body, headers = wl.StandardWebhooks([secret_key, hmac_secret]).sign(b'{"type":"both"}')
    versions = [part.partition(",")[0] for part in headers["webhook-signature"].split()]
    assert versions == ["v1a", "v1"]
    assert standardwebhooks.Webhook(hmac_secret).verify(body, headers) == {"type": "both"}  # skips the v1a entry
    assert wl.StandardWebhooks(public_key).verify(body, headers) == {"type": "both"}
    assert wl.StandardWebhooks(hmac_secret).verify(body, headers) == {"type": "both"}


# -- what the key pair is for: the receiver cannot forge ---------------------------------------------


def test_the_public_key_cannot_sign_and_says_why(pair):
    _, public_key = pair
    receiver = wl.StandardWebhooks(public_key)
    assert receiver.can_sign is False and wl.StandardWebhooks(pair[0]).can_sign is True
    with pytest.raises(wl.UsageError, match=r"whpk_ public key: it verifies v1a signatures but cannot make one"):
        receiver.sign(receiver.event("invoice.paid"))
    with pytest.raises(wl.UsageError, match="only the sender, holding the whsk_ secret key, can sign"):
        receiver.send(receiver.event("invoice.paid"), to="http://127.0.0.1:9/never")


def test_a_receiver_with_the_public_key_cannot_forge_but_with_a_shared_secret_it_can(pair):
    _, public_key = pair
    forged = b'{"type":"invoice.paid","data":{"amount":1}}'
    own_secret_key, _ = wl.StandardWebhooks.keypair()  # the best a receiver can do: sign with a key of its own
    body, headers = wl.StandardWebhooks(own_secret_key).sign(forged)
    verdict = wl.StandardWebhooks(public_key).explain(body, headers)
    assert verdict.reason == "no_matching_signature" and "another key pair's secret key" in verdict.message

    shared = wl.StandardWebhooks.new_secret()  # with HMAC, whoever can verify can also sign
    assert wl.StandardWebhooks(shared).explain(*wl.StandardWebhooks(shared).sign(forged)).ok


@pytest.mark.parametrize("change", ["body", "webhook-id", "webhook-timestamp"])
def test_anything_signed_changed_after_signing_fails(pair, change):
    secret_key, public_key = pair
    body, headers = wl.StandardWebhooks(secret_key).sign(b'{"type":"a","n":1}', timestamp=NOW, delivery_id="msg_1")
    if change == "body":
        body = body.replace(b"1", b"2")
    else:
        headers = {**headers, change: {"webhook-id": "msg_2", "webhook-timestamp": str(NOW + 1)}[change]}
    with pytest.raises(wl.SignatureError) as caught:
        wl.StandardWebhooks(public_key).verify(body, headers, now=NOW)
    assert caught.value.reason == "no_matching_signature"


@pytest.mark.parametrize("offset, reason", [(-600, "timestamp_too_old"), (600, "timestamp_too_new")])
def test_the_timestamp_window_holds_for_v1a_both_ways(pair, offset, reason):
    secret_key, public_key = pair
    body, headers = wl.StandardWebhooks(secret_key).sign(b'{"type":"a"}', timestamp=NOW + offset)
    with pytest.raises(wl.SignatureError) as caught:
        wl.StandardWebhooks(public_key).verify(body, headers, now=NOW)
    assert caught.value.reason == reason


def test_a_verifier_holding_the_wrong_kind_of_key_is_told_which_it_needs(pair):
    secret_key, public_key = pair
    hmac_secret = wl.StandardWebhooks.new_secret()
    v1a_body, v1a_headers = wl.StandardWebhooks(secret_key).sign(b'{"type":"a"}')
    with pytest.raises(wl.SignatureError, match="only v1a .* Verify with the sender's whpk_ public key"):
        wl.StandardWebhooks(hmac_secret).verify(v1a_body, v1a_headers)
    v1_body, v1_headers = wl.StandardWebhooks(hmac_secret).sign(b'{"type":"a"}')
    with pytest.raises(wl.SignatureError, match="only v1 .* Verify with the endpoint's whsec_ secret"):
        wl.StandardWebhooks(public_key).verify(v1_body, v1_headers)


def test_a_re_serialised_body_is_still_named_as_the_cause(pair):
    secret_key, public_key = pair
    body, headers = wl.StandardWebhooks(secret_key).sign(b'{"type": "a", "n": 1}')
    with pytest.raises(wl.SignatureError, match="re-serialised"):
        wl.StandardWebhooks(public_key).verify(json.dumps(json.loads(body), separators=(",", ":")).encode(), headers)


def test_explain_shows_the_public_key_check_step_by_step(pair):
    secret_key, public_key = pair
    body, headers = wl.StandardWebhooks(secret_key).sign(b'{"type":"a"}')
    steps = dict(wl.StandardWebhooks(public_key).explain(body, headers).steps)
    assert steps["Ed25519 check"] == "a v1a signature verifies"
    assert "an Ed25519 public key" in steps["key"] and steps["received (base64)"].startswith("v1a,")
    signer_steps = dict(wl.StandardWebhooks(secret_key).explain(body, headers).steps)
    assert signer_steps["expected (base64)"] == headers["webhook-signature"]  # Ed25519 is deterministic


def test_svix_header_names_carry_v1a_too(pair):
    secret_key, public_key = pair
    body, headers = wl.StandardWebhooks(secret_key, prefix="svix").sign(b'{"type":"a"}')
    assert headers["svix-signature"].startswith("v1a,")
    assert wl.StandardWebhooks(public_key).verify(body, headers) == {"type": "a"}


# -- over real HTTP: a receiver verifies by endpoint with a whpk_ key ---------------------------------


@pytest.fixture(scope="module")
def keyed_shared(pair):
    shared = Shared(wl.Receiver(secrets={"keys": pair[1]}))
    yield shared
    shared.close()


@pytest.fixture
def keyed_receiver(keyed_shared):
    return keyed_shared.reset()


def test_a_receiver_given_a_whpk_key_verifies_what_the_sender_sends(keyed_receiver, pair):
    rx = keyed_receiver
    sender = wl.StandardWebhooks(pair[0])
    assert sender.send(sender.event("invoice.paid"), to=rx.url("keys")).status == 200
    forger = wl.StandardWebhooks(wl.StandardWebhooks.keypair()[0])
    forger.send(forger.event("invoice.paid", amount=1), to=rx.url("keys"))
    genuine, forged = rx.wait_for(2, endpoint="keys")
    assert (genuine.provider, genuine.event_type, genuine.verified) == ("standard", "invoice.paid", True)
    assert (forged.verified, forged.reason) == (False, "no_matching_signature")


def test_retries_on_a_virtual_clock_are_each_re_signed_and_verified(keyed_receiver, pair):
    rx = keyed_receiver
    rx.respond("keys", fail_first=2)
    sender = wl.StandardWebhooks(pair[0])
    delivery = sender.deliver(sender.event("invoice.paid"), to=rx.url("keys"), clock=wl.VirtualClock())
    assert delivery.status == "delivered" and len(delivery.log) == 3
    arrived = rx.wait_for(3, endpoint="keys")
    assert [event.verified for event in arrived] == [True, True, True]
    assert len({event.delivery_id for event in arrived}) == 1  # the same webhook-id on every attempt
    rx.respond("keys")


def test_the_command_line_sends_with_a_secret_key_and_refuses_a_public_one(keyed_receiver, pair, capsys):
    rx = keyed_receiver
    assert cli.main(["send", "standard", "invoice.paid", "--secret", pair[0], "--to", rx.url("keys")]) == 0
    assert rx.wait_for(1, endpoint="keys")[-1].verified is True
    assert cli.main(["send", "standard", "invoice.paid", "--secret", pair[1], "--to", rx.url("keys")]) == 2
    assert "cannot make one" in capsys.readouterr().err

