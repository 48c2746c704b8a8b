"""Signing and verifying: published vectors, the official libraries both ways, and every failure reason."""

import base64
import hashlib
import hmac
import json
import math
import re
import time
from datetime import datetime, timezone

import pytest
import standardwebhooks
import stripe
from hypothesis import given
from hypothesis import strategies as st

import webhooklab as wl
from webhooklab._providers import identify

STRIPE_SECRET = "whsec_test_secret_for_webhooklab"
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def providers():
    return [wl.Stripe(STRIPE_SECRET), wl.GitHub("It's a Secret to Everybody"), wl.Shopify("hush"), wl.StandardWebhooks(SW_SECRET)]


# -- published vectors -------------------------------------------------------------------


def test_githubs_published_vector():
    _, headers = wl.GitHub("It's a Secret to Everybody").sign(b"Hello, World!", event_type="push")
    assert headers["X-Hub-Signature-256"] == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_standard_webhooks_published_vector():
    sender = wl.StandardWebhooks(SW_SECRET)
    body, headers = sender.sign(b'{"test": 2432232314}', timestamp=1614265330, delivery_id="msg_p5jXN8AQM9LWM0D4loKWxJek")
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-id"] == "msg_p5jXN8AQM9LWM0D4loKWxJek" and headers["webhook-timestamp"] == "1614265330"


def test_shopify_matches_an_independent_computation():
    body, headers = wl.Shopify("hush").sign(b'{"id": 820982911946154508}', event_type="orders/create")
    expected = base64.b64encode(hmac.new(b"hush", body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected


# -- the official libraries, both ways ------------------------------------------------------


def test_stripe_library_accepts_what_we_sign():
    event = wl.Stripe(STRIPE_SECRET).event("payment_intent.succeeded", amount=5000)
    body, headers = wl.Stripe(STRIPE_SECRET).sign(event)
    verified = stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], STRIPE_SECRET)
    assert verified.id == event["id"] and verified.data.object.amount == 5000


def test_we_accept_what_the_stripe_library_signs():
    body = json.dumps({"id": "evt_1", "object": "event", "type": "charge.succeeded"})
    header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
    assert wl.Stripe(STRIPE_SECRET).verify(body.encode(), {"Stripe-Signature": header})["id"] == "evt_1"


def test_stripe_library_rejects_what_we_sign_with_another_secret():
    body, headers = wl.Stripe("whsec_other").sign({"id": "evt_1"})
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], STRIPE_SECRET)


def test_standard_webhooks_library_accepts_what_we_sign():
    sender = wl.StandardWebhooks()
    event = sender.event("invoice.paid", amount=4200)
    body, headers = sender.sign(event)
    assert standardwebhooks.Webhook(sender.secret).verify(body, headers)["data"]["amount"] == 4200


def test_we_accept_what_the_standard_webhooks_library_signs():
    secret = wl.StandardWebhooks.new_secret()
    body, now = '{"type": "user.created", "data": {}}', datetime.now(timezone.utc)
    signature = standardwebhooks.Webhook(secret).sign("msg_1", now, body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    assert wl.StandardWebhooks(secret).verify(body, headers)["type"] == "user.created"


def test_svix_header_names():
    sender = wl.StandardWebhooks(SW_SECRET, prefix="svix")
    body, headers = sender.sign(sender.event("user.created"))
    assert {"svix-id", "svix-timestamp", "svix-signature"} <= headers.keys()
    assert wl.StandardWebhooks(SW_SECRET).verify(body, headers)["type"] == "user.created"


# -- what goes on the wire --------------------------------------------------------------------


def test_stripe_headers_and_test_mode_decoy():
    body, headers = wl.Stripe(STRIPE_SECRET).sign(wl.Stripe(STRIPE_SECRET).event("charge.succeeded"), timestamp=1700000000)
    assert headers["User-Agent"].startswith("Stripe/1.0") and headers["Content-Type"] == "application/json; charset=utf-8"
    parts = dict(part.split("=", 1) for part in headers["Stripe-Signature"].split(","))
    assert parts["t"] == "1700000000" and len(parts["v1"]) == 64 and len(parts["v0"]) == 64
    assert body.startswith(b'{\n  "id": "evt_')  # Stripe pretty-prints its bodies


def test_github_headers():
    gh = wl.GitHub("s")
    body, headers = gh.sign(gh.event("push"), delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert headers["X-GitHub-Event"] == "push"
    assert headers["X-GitHub-Delivery"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
    assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(json.loads(body)["repository"]["id"])
    assert headers["X-Hub-Signature"] == "sha1=" + hmac.new(b"s", body, hashlib.sha1).hexdigest()
    assert b"\n" not in body and b", " not in body[:200]  # compact JSON


def test_shopify_headers():
    shop = wl.Shopify("s", shop="mugs.myshopify.com")
    _, headers = shop.sign(shop.event("orders/create"), timestamp=1700000000)
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == "mugs.myshopify.com"
    assert headers["X-Shopify-API-Version"] == "2025-10"
    assert headers["X-Shopify-Triggered-At"] == "2023-11-14T22:13:20.000Z"
    assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Event-Id"]


@pytest.mark.parametrize("provider", providers(), ids=lambda p: p.name)
def test_sign_then_verify_round_trip(provider):
    event = provider.event(provider.event_types()[0])
    body, headers = provider.sign(event)
    assert provider.verify(body, headers) == json.loads(body)
    assert provider.explain(body, headers).ok


# -- rotation ------------------------------------------------------------------------------


def test_stripe_rotation_puts_one_v1_per_secret_in_the_header():
    body, headers = wl.Stripe([STRIPE_SECRET, "whsec_old"]).sign({"id": "evt_1"})
    assert headers["Stripe-Signature"].count("v1=") == 2
    assert wl.Stripe("whsec_old").verify(body, headers) == {"id": "evt_1"}
    stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], "whsec_old")


def test_standard_rotation_lists_every_signature():
    new, old = wl.StandardWebhooks.new_secret(), wl.StandardWebhooks.new_secret()
    body, headers = wl.StandardWebhooks([new, old]).sign({"type": "a"})
    assert len(headers["webhook-signature"].split()) == 2
    assert standardwebhooks.Webhook(old).verify(body, headers) == {"type": "a"}


@pytest.mark.parametrize("cls", [wl.GitHub, wl.Shopify])
def test_a_verifier_holding_old_and_new_secrets_accepts_either(cls):
    body, headers = cls("old-secret").sign(b'{"a": 1}', event_type="orders/create" if cls is wl.Shopify else "push")
    assert cls(["new-secret", "old-secret"]).verify(body, headers) == {"a": 1}


# -- every failure reason, with its message ----------------------------------------------------


def stripe_signed(secret=STRIPE_SECRET, timestamp=None, event=None):
    return wl.Stripe(secret).sign(event or {"id": "evt_1", "object": "event", "livemode": False}, timestamp=timestamp)


@pytest.mark.parametrize(
    ("provider", "headers", "message"),
    [
        (wl.Stripe(STRIPE_SECRET), {}, "there is no Stripe-Signature header"),
        (wl.GitHub("s"), {"X-Hub-Signature": "sha1=00"}, "Only the legacy SHA-1 X-Hub-Signature is there"),
        (wl.Shopify("s"), {}, "there is no X-Shopify-Hmac-Sha256 header"),
        (wl.StandardWebhooks(SW_SECRET), {"webhook-id": "m", "webhook-signature": "v1,x"}, "webhook-timestamp is missing"),
    ],
)
def test_missing_header(provider, headers, message):
    with pytest.raises(wl.SignatureError, match=message) as caught:
        provider.verify(b"{}", headers)
    assert caught.value.reason == "missing_header"


@pytest.mark.parametrize(
    ("provider", "headers", "message"),
    [
        (wl.Stripe(STRIPE_SECRET), {"Stripe-Signature": "v1=abc"}, "no single numeric t= timestamp"),
        (wl.Stripe(STRIPE_SECRET), {"Stripe-Signature": "t=1700000000,v0=abc"}, "has no v1= signature"),
        (wl.GitHub("s"), {"X-Hub-Signature-256": "sha1=abc"}, "'sha256=' and 64 lowercase hex digits"),
        (wl.Shopify("s"), {"X-Shopify-Hmac-Sha256": "ab" * 32}, "Shopify uses base64"),
        (wl.StandardWebhooks(SW_SECRET), {"webhook-id": "m", "webhook-timestamp": "soon", "webhook-signature": "v1,x"}, "whole unix seconds"),
        (wl.StandardWebhooks(SW_SECRET), {"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v2,x"}, "'v1,<base64>' entries"),
    ],
)
def test_malformed_header(provider, headers, message):
    with pytest.raises(wl.SignatureError, match=message) as caught:
        provider.verify(b"{}", headers)
    assert caught.value.reason == "malformed_header"


def test_a_re_serialised_body_is_named_as_the_cause():
    body, headers = stripe_signed()
    reserialised = json.dumps(json.loads(body)).encode()
    with pytest.raises(wl.SignatureError, match=r"matches the same JSON pretty-printed with indent=2.*re-serialised") as caught:
        wl.Stripe(STRIPE_SECRET).verify(reserialised, headers)
    assert caught.value.reason == "no_matching_signature"


def test_a_compact_body_re_serialised_by_python_is_named_too():
    gh = wl.GitHub("s")
    body, headers = gh.sign(gh.event("ping"))
    with pytest.raises(wl.SignatureError, match="written compactly"):
        gh.verify(json.dumps(json.loads(body)), headers)


def test_an_api_key_in_place_of_the_signing_secret_is_named():
    body, headers = stripe_signed()
    with pytest.raises(wl.SignatureError, match=r"sk_…cdef is an API key.*starts with whsec_"):
        wl.Stripe("sk_test_0123456789abcdef").verify(body, headers)


def test_a_wrong_secret_says_what_to_check_and_never_prints_the_secret():
    body, headers = stripe_signed()
    with pytest.raises(wl.SignatureError, match=r"something the signature covers \(the body and the t= timestamp\)") as caught:
        wl.Stripe("whsec_another_secret_entirely").verify(body, headers)
    assert "whsec_another_secret_entirely" not in str(caught.value)
    assert "…rely" in str(caught.value)


def test_a_changed_signed_header_is_named_among_the_likely_causes():
    """Standard Webhooks signs its id and timestamp too: a replay with a fresh webhook-id is told so."""
    standard = wl.StandardWebhooks()
    body, headers = standard.sign(standard.event("invoice.paid"))
    headers["webhook-id"] = "msg_fresh_id_from_a_replay"
    with pytest.raises(wl.SignatureError, match="the body, the webhook-id and the webhook-timestamp"):
        standard.verify(body, headers)
    github = wl.GitHub("a-github-secret")
    body, headers = github.sign(github.event("push"))
    with pytest.raises(wl.SignatureError, match=r"covers \(the body\) changed"):
        github.verify(body.replace(b"\"forced\":false", b"\"forced\":true"), headers)


def test_a_tampered_body_fails():
    body, headers = wl.Shopify("s").sign(b'{"total_price": "10.00"}', event_type="orders/paid")
    with pytest.raises(wl.SignatureError, match="no signature in X-Shopify-Hmac-Sha256 matches") as caught:
        wl.Shopify("s").verify(body.replace(b"10.00", b"0.01"), headers)
    assert caught.value.reason == "no_matching_signature"


def test_timestamp_too_old_is_a_replay():
    body, headers = stripe_signed(timestamp=int(time.time()) - 301)
    with pytest.raises(wl.SignatureError, match=r"made 30\d s ago, more than the 300 s allowed.*replay") as caught:
        wl.Stripe(STRIPE_SECRET).verify(body, headers)
    assert caught.value.reason == "timestamp_too_old"
    assert wl.Stripe(STRIPE_SECRET).verify(body, headers, tolerance=None)["id"] == "evt_1"  # None: no check
    assert wl.Stripe(STRIPE_SECRET).verify(body, headers, tolerance=600)["id"] == "evt_1"


def test_stripe_accepts_a_future_timestamp_as_its_libraries_do():
    body, headers = stripe_signed(timestamp=int(time.time()) + 3600)
    assert wl.Stripe(STRIPE_SECRET).verify(body, headers)["id"] == "evt_1"


def test_standard_webhooks_rejects_a_timestamp_too_new():
    sender = wl.StandardWebhooks(SW_SECRET)
    body, headers = sender.sign({"type": "a"}, timestamp=int(time.time()) + 600)
    with pytest.raises(wl.SignatureError, match=r"in the future.*clock skew") as caught:
        sender.verify(body, headers)
    assert caught.value.reason == "timestamp_too_new"


def test_a_good_signature_over_a_body_that_is_not_json():
    body, headers = wl.GitHub("s").sign(b"not json at all", event_type="push")
    with pytest.raises(wl.SignatureError, match="the body is not JSON") as caught:
        wl.GitHub("s").verify(body, headers)
    assert caught.value.reason == "invalid_payload"


def test_verifying_parsed_json_instead_of_bytes_is_explained():
    with pytest.raises(TypeError, match=r"needs the raw body as received.*request.get_data\(\)"):
        wl.GitHub("s").verify({"a": 1}, {})


def test_a_standard_secret_that_is_not_base64_is_refused_up_front():
    with pytest.raises(ValueError, match="base64 of 24 to 64 random bytes"):
        wl.StandardWebhooks("whsec_demo")


# -- explain --------------------------------------------------------------------------------


def test_explain_shows_every_step():
    body, headers = stripe_signed(timestamp=1700000000)
    explanation = wl.Stripe("whsec_wrong_secret_0000").explain(body, headers, tolerance=None)
    steps = dict(explanation.steps)
    assert steps["signed content"].startswith("b'1700000000.{")
    assert steps["expected (hex)"] == hmac.new(b"whsec_wrong_secret_0000", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert steps["received (hex)"] == headers["Stripe-Signature"].split("v1=")[1].split(",")[0]
    assert steps["first difference"].startswith("at character ")
    assert "whsec_wrong_secret_0000" not in str(explanation) and not explanation.ok


def test_explain_renders_a_request_as_data_never_markup():
    body, headers = wl.GitHub("s").sign(b'{"x": "<script>alert(1)</script>"}', event_type="push")
    page = wl.GitHub("s").explain(body, headers)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_repr_masks_the_secret():
    assert repr(wl.Stripe("whsec_abcdefghijklmnop1234")) == "<Stripe secret=whsec_…1234>"


# -- nothing but SignatureError escapes verify -----------------------------------------------

# -- hostile input: each case here once escaped verify as something other than SignatureError ----------

ARABIC_INDIC = "١٧٠٠٠٠٠٠٠٠"  # 1700000000 in Arabic-Indic digits: str.isdigit() says yes, int() agrees, Stripe never sends it


def hostile(provider, body, headers, **options) -> wl.SignatureError:
    """The SignatureError verify raises; explain must give the same verdict without raising."""
    explanation = provider.explain(body, headers, **options)
    with pytest.raises(wl.SignatureError) as caught:
        provider.verify(body, headers, **options)
    assert (caught.value.reason, str(caught.value)) == (explanation.reason, explanation.message)
    return caught.value


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        ("9" * 5000, r"but it is '9{40}'… \(5000 characters in all\)"),  # int() refuses more than 4300 digits
        ("17000000²", "but it is '17000000²'"),  # a superscript two: isdigit() but not int()
        (ARABIC_INDIC, f"but it is '{ARABIC_INDIC}'"),
        ("1700000000000", "1 to 12 ASCII digits"),  # milliseconds
        ("+1700000000", "1 to 12 ASCII digits"),
        ("", "1 to 12 ASCII digits"),
    ],
)
def test_stripe_timestamp_must_be_a_few_ascii_digits(timestamp, shown):
    headers = {"Stripe-Signature": f"t={timestamp},v1={'0' * 64}"}
    with pytest.raises(wl.SignatureError, match=shown) as caught:
        wl.Stripe(STRIPE_SECRET).verify(b"{}", headers)
    assert caught.value.reason == "malformed_header"
    assert hostile(wl.Stripe(STRIPE_SECRET), b"{}", headers).reason == "malformed_header"


def test_a_validly_signed_huge_stripe_timestamp_is_malformed_not_an_overflow():
    body, headers = stripe_signed(timestamp=10**400)  # the HMAC is right; the age once overflowed a float
    with pytest.raises(wl.SignatureError, match=r"1 to 12 ASCII digits.*\(401 characters in all\)") as caught:
        wl.Stripe(STRIPE_SECRET).verify(body, headers)
    assert caught.value.reason == "malformed_header"


@pytest.mark.parametrize("prefix", ["webhook", "svix"])
@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        ("9" * 5000, r"but it is '9{40}'… \(5000 characters in all\)"),
        ("17000000²", "but it is '17000000²'"),
        (ARABIC_INDIC, f"but it is '{ARABIC_INDIC}'"),
        ("1700000000000", "1 to 12 ASCII digits"),
        ("2023-11-14T22:13:20Z", "1 to 12 ASCII digits"),
    ],
)
def test_standard_webhooks_timestamp_must_be_a_few_ascii_digits(prefix, timestamp, shown):
    headers = {f"{prefix}-id": "msg_1", f"{prefix}-timestamp": timestamp, f"{prefix}-signature": "v1,AAAA"}
    with pytest.raises(wl.SignatureError, match=f"{prefix}-timestamp.*{shown}") as caught:
        wl.StandardWebhooks(SW_SECRET).verify(b"{}", headers)
    assert caught.value.reason == "malformed_header"
    assert hostile(wl.StandardWebhooks(SW_SECRET), b"{}", headers).reason == "malformed_header"


@pytest.mark.parametrize("prefix", ["webhook", "svix"])
def test_a_validly_signed_huge_standard_timestamp_is_malformed_not_an_overflow(prefix):
    body, headers = wl.StandardWebhooks(SW_SECRET, prefix=prefix).sign({"type": "a"}, timestamp=10**400)
    with pytest.raises(wl.SignatureError, match=r"1 to 12 ASCII digits.*\(401 characters in all\)") as caught:
        wl.StandardWebhooks(SW_SECRET).verify(body, headers)
    assert caught.value.reason == "malformed_header"


@pytest.mark.parametrize(
    ("provider", "headers", "reason"),
    [
        (wl.Stripe(STRIPE_SECRET), {"Stripe-Signature": "t=1700000000,v1=" + "é" * 64}, "no_matching_signature"),
        (wl.Stripe(STRIPE_SECRET), {"Stripe-Signature": "t=1700000000,v1=\ud800"}, "no_matching_signature"),
        (wl.GitHub("s"), {"X-Hub-Signature-256": "sha256=" + "٠" * 64}, "malformed_header"),
        (wl.Shopify("s"), {"X-Shopify-Hmac-Sha256": "é" * 44}, "malformed_header"),
        (wl.Shopify("s"), {"X-Shopify-Hmac-Sha256": "\ud800" * 44}, "malformed_header"),
        (wl.StandardWebhooks(SW_SECRET), {"webhook-id": "msg_é\ud800", "webhook-timestamp": "1700000000",
                                          "webhook-signature": "v1,é v1,\ud800 v1,%%%"}, "no_matching_signature"),
    ],
)  # fmt: skip
def test_non_ascii_received_values_cannot_raise(provider, headers, reason):
    assert hostile(provider, b"{}", headers, tolerance=None).reason == reason


def test_odd_whitespace_around_header_values_is_what_http_ignores():
    body, headers = wl.GitHub("s").sign(b'{"a": 1}', event_type="push")
    headers["X-Hub-Signature-256"] = f" \t{headers['X-Hub-Signature-256']}\t "
    assert wl.GitHub("s").verify(body, headers) == {"a": 1}
    sender = wl.StandardWebhooks([SW_SECRET, wl.StandardWebhooks.new_secret()])
    body, headers = sender.sign({"type": "a"})
    headers["webhook-signature"] = headers["webhook-signature"].replace(" ", "\t\n ")
    assert wl.StandardWebhooks(SW_SECRET).verify(body, headers) == {"type": "a"}
    body, headers = wl.Shopify("s").sign(b"{}", event_type="orders/paid")
    digest = headers["X-Shopify-Hmac-Sha256"]
    headers["X-Shopify-Hmac-Sha256"] = digest[:20] + "\n" + digest[20:]
    assert hostile(wl.Shopify("s"), body, headers).reason == "malformed_header"


def test_a_body_nested_too_deep_for_the_parser_is_not_json():
    deep = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError here, not ValueError
    body, headers = wl.GitHub("s").sign(deep, event_type="push")
    assert hostile(wl.GitHub("s"), body, headers).reason == "invalid_payload"
    assert hostile(wl.GitHub("other"), body, headers).reason == "no_matching_signature"  # tries re-serialising it
    form = b"payload=" + b"%5B" * 100_000
    body, headers = wl.GitHub("s").sign(form, event_type="push")
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert hostile(wl.GitHub("s"), body, headers).reason == "invalid_payload"


def test_a_lone_surrogate_escape_in_json_does_not_stop_the_diagnosis():
    body, headers = wl.GitHub("s").sign(b'["\\ud800",1]', event_type="push")
    with pytest.raises(wl.SignatureError, match="written compactly"):
        wl.GitHub("s").verify(b'["\\ud800", 1]', headers)
    assert hostile(wl.GitHub("other"), b'["\\ud800", 1]', headers).reason == "no_matching_signature"


def test_bodies_and_headers_in_every_form_a_framework_hands_over():
    body, headers = wl.GitHub("s").sign(b'{"a": 1}', event_type="push")
    as_bytes = [(name.encode(), value.encode()) for name, value in headers.items()]  # raw WSGI-style pairs
    assert wl.GitHub("s").verify(bytearray(body), as_bytes) == {"a": 1}
    assert wl.GitHub("s").verify(memoryview(body), list(headers.items())) == {"a": 1}
    assert hostile(wl.GitHub("s"), body, None).reason == "missing_header"
    assert hostile(wl.GitHub("s"), "\ud800 not text HTTP could carry", headers).reason == "no_matching_signature"


def test_headers_that_are_not_pairs_are_a_usage_error():
    with pytest.raises(wl.UsageError, match=r"expected the headers as a dict or a list of \(name, value\) pairs"):
        wl.GitHub("s").verify(b"{}", "X-Hub-Signature-256: sha256=00")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"now": math.nan}, r"now must be a finite number of seconds, got nan: unix seconds, like time\.time\(\)"),
        ({"now": math.inf}, "got inf"),
        ({"now": -math.inf}, "got -inf"),
        ({"now": 10**400}, r"got 1000000000"),
        ({"now": "1700000000"}, "now must be a number of seconds, got '1700000000'"),
        ({"now": datetime(2024, 1, 1)}, r"a datetime\? pass its .timestamp\(\)"),
        ({"tolerance": math.nan}, r"tolerance must be a finite number of seconds, got nan: None skips the check"),
        ({"tolerance": -1}, "tolerance cannot be negative, got -1"),
    ],
)
def test_now_and_tolerance_that_are_not_seconds_are_a_usage_error(options, message):
    body, headers = stripe_signed()
    for call in (wl.Stripe(STRIPE_SECRET).verify, wl.Stripe(STRIPE_SECRET).explain):
        with pytest.raises(wl.UsageError, match=message) as caught:
            call(body, headers, **options)
        assert isinstance(caught.value, ValueError)  # a bad argument, not a bad request


def test_an_infinite_tolerance_accepts_any_age():
    body, headers = stripe_signed(timestamp=1)
    assert wl.Stripe(STRIPE_SECRET).verify(body, headers, tolerance=math.inf)["id"] == "evt_1"


# -- mask -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("whsec_abcdefghijklmnop1234", "whsec_…1234"),
        ("sk_test_0123456789abcdef", "sk_…cdef"),
        ("shpss_0123456789abcdef0123", "shpss_…0123"),
        ("0123456789abcdef0123", "…0123"),  # no kind
        ("hush", "… (4 characters)"),  # short: the length only
        ("whsec_other", "… (11 characters)"),
        ("whsec_0123456789abcde", "… (21 characters)"),  # 15 after the kind: 12 would not stay hidden
        ("lengthy_0123456789abcdef", "…cdef"),  # seven letters is not a kind
        ("a1_0123456789abcdef", "…cdef"),  # nor is anything but letters
    ],
)
def test_mask_shows_at_most_the_kind_and_the_last_four(secret, shown):
    assert wl._providers.base.mask(secret) == shown


@given(st.text(min_size=1, max_size=40))
def test_mask_keeps_at_least_twelve_characters_hidden(secret):
    shown = wl._providers.base.mask(secret)
    if shown == f"… ({len(secret)} characters)":
        return  # only its length
    kind, _, last = shown.partition("…")  # a kind is letters and "_", so the first "…" is the mask's own
    assert re.fullmatch(r"([A-Za-z]{1,6}_)?", kind) and secret.startswith(kind)
    assert last == secret[-4:] and len(secret) - len(kind) - 4 >= 12


# -- a header the check reads, sent twice ---------------------------------------------------

TWILIO_URL = "https://example.com/sms"
EVERY_SCHEME = [wl.Stripe(STRIPE_SECRET), wl.GitHub("s"), wl.Shopify("hush"), wl.Slack("s"),
                wl.StandardWebhooks(SW_SECRET), wl.Twilio("s", url=TWILIO_URL)]  # fmt: skip
READ_ONCE = [(provider, name) for provider in EVERY_SCHEME for name in (provider.signature_header, *provider.single_headers)
             if not name.startswith("svix-")]  # fmt: skip


def signed_pairs(provider):
    body, headers = provider.sign(provider.event(provider.first_event))
    return body, list(headers.items())


@pytest.mark.parametrize(("provider", "name"), READ_ONCE, ids=lambda x: getattr(x, "name", x))
def test_a_header_the_check_reads_sent_twice_is_malformed_and_named(provider, name):
    body, pairs = signed_pairs(provider)
    assert provider.verify(body, pairs)
    copy = name.swapcase()  # the same header, whatever the case of its name
    with pytest.raises(wl.SignatureError, match=rf"(?i)expected one {name} header, but 2 arrived: 'added'.*a proxy that "
                       "adds its own copy, or a replay") as caught:  # fmt: skip
        provider.verify(body, [(copy, "added"), *pairs])  # an earlier copy: the signed one is still there
    assert caught.value.reason == "malformed_header"
    assert provider.explain(body, [*pairs, (copy, "added")]).reason == "malformed_header"  # or a later one


def test_a_standard_webhooks_replay_with_an_earlier_id_is_refused_where_it_used_to_verify():
    """The official library, reading the copy the signature covers, accepts the replay: only the copy counting stops it."""
    sender = wl.StandardWebhooks(SW_SECRET)
    body, headers = sender.sign(sender.event("invoice.paid"))
    assert standardwebhooks.Webhook(SW_SECRET).verify(body, headers)  # the signed copy is genuine
    replayed = [("webhook-id", "msg_fresh_id_for_the_replay"), *headers.items()]
    with pytest.raises(wl.SignatureError, match="expected one webhook-id header, but 2 arrived"):
        sender.verify(body, replayed)
    assert identify(replayed, body, "application/json")[2] == "msg_fresh_id_for_the_replay"  # the copy the check read
