"""Whatever arrives, explain() answers and verify() raises only SignatureError, for every scheme.

A receiver is reachable by anyone, so every byte of the body and every header
is the sender's choice. The strategies below start from the scheme's real
header names and from genuine signatures, then break them in the ways that
have crashed parsers before: huge digit strings, digits of other scripts,
non-ASCII, odd whitespace, deep nesting, lone surrogates.

This is the one fuzz of the verifiers: one property per scheme, with the budget
of the shared Hypothesis profile (tests/conftest.py).
"""

import base64
import json
import math
from urllib.parse import quote, urlencode

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import webhooklab as wl
from webhooklab._providers import PROVIDERS

STRIPE_SECRET = "whsec_test_secret_for_webhooklab"
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_KEYS = wl.StandardWebhooks.keypair()  # (whsk_ secret key, whpk_ public key)
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
NOW = 1_700_000_000
# The reasons SignatureError documents, read from its docstring so the two cannot drift apart.
REASONS = {line.split()[0] for line in wl.SignatureError.__doc__.split("one of:")[1].splitlines() if line.strip()}
STANDARD = ["webhook-id", "webhook-timestamp", "webhook-signature"]
SVIX = ["svix-id", "svix-timestamp", "svix-signature"]

# name: (signers, each with its header names; verifiers; event type for sign(); timestamps sign() can write)
SCHEMES = {
    "stripe": ([(wl.Stripe(STRIPE_SECRET), ["Stripe-Signature"])], [wl.Stripe(STRIPE_SECRET)], None, 10**400),
    "github": ([(wl.GitHub("It's a Secret"), ["X-Hub-Signature-256", "X-Hub-Signature"])], [wl.GitHub("It's a Secret")],
               "push", 0),
    "shopify": ([(wl.Shopify("hush"), ["X-Shopify-Hmac-Sha256"])], [wl.Shopify("hush")], "orders/create", 253402300799),
    # Symmetric v1, under its own header names and Svix's: one verifier reads both.
    "standard": ([(wl.StandardWebhooks(SW_SECRET), STANDARD), (wl.StandardWebhooks(SW_SECRET, prefix="svix"), SVIX)],
                 [wl.StandardWebhooks(SW_SECRET)], None, 10**400),
    # Asymmetric v1a (Ed25519): checked with the public key, and with the secret key, which holds it too.
    "standard-v1a": ([(wl.StandardWebhooks(SW_KEYS[0]), STANDARD), (wl.StandardWebhooks(SW_KEYS[0], prefix="svix"), SVIX)],
                     [wl.StandardWebhooks(SW_KEYS[1]), wl.StandardWebhooks(SW_KEYS[0])], None, 10**400),
    "slack": ([(wl.Slack("8f742231b10e8888abcd99yyyzzz85a5"), ["X-Slack-Signature", "X-Slack-Request-Timestamp"])],
              [wl.Slack("8f742231b10e8888abcd99yyyzzz85a5")], None, 10**400),
    "twilio": ([(wl.Twilio("12345"), ["X-Twilio-Signature"])], [wl.Twilio("12345")], None, 0),
}  # fmt: skip

# -- pieces ---------------------------------------------------------------------------------

other_digits = st.characters(categories=["Nd", "No"], exclude_characters="0123456789")  # ², ٣, ௫, ①...
odd_space = st.sampled_from([" ", "  ", "\t", "\n", "\r\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u2028", ""])
ascii_digits = st.one_of(
    st.text("0123456789", min_size=1, max_size=14),
    st.integers(13, 5000).map(lambda n: "9" * n),  # huge: past int()'s 4300-digit limit at the top
)
digits = st.one_of(ascii_digits, st.text(other_digits, min_size=1, max_size=4),
                   st.tuples(ascii_digits, other_digits).map("".join))  # fmt: skip
hex_digest = st.text("0123456789abcdefABCDEF", min_size=0, max_size=70)
b64 = st.binary(max_size=40).map(lambda raw: base64.b64encode(raw).decode())
digest_b64 = st.binary(min_size=32, max_size=32).map(lambda raw: base64.b64encode(raw).decode())
ed25519_b64 = st.binary(min_size=64, max_size=64).map(lambda raw: base64.b64encode(raw).decode())
sha1_b64 = st.binary(min_size=20, max_size=20).map(lambda raw: base64.b64encode(raw).decode())
any_text = st.text(max_size=60) | st.text(st.characters(categories=["Cs"]) | st.characters(), max_size=20)

NEAR_VALID = {
    "stripe-signature": st.one_of(
        st.tuples(digits, hex_digest).map(lambda p: f"t={p[0]},v1={p[1]}"),
        st.tuples(digits, hex_digest, odd_space, hex_digest).map(lambda p: f"t={p[0]},{p[2]}v1={p[1]},v0={p[3]}"),
        st.lists(st.tuples(st.sampled_from(["t", "v1", "v0", "", " t", "T"]), digits | hex_digest | any_text),
                 max_size=5).map(lambda items: ",".join(f"{k}={v}" for k, v in items)),
    ),
    "x-hub-signature-256": st.one_of(
        (hex_digest | st.text("0123456789abcdef", min_size=64, max_size=64)).map(lambda h: "sha256=" + h),
        st.tuples(st.sampled_from(["sha256", "SHA256", "sha1", ""]), any_text).map("=".join),
    ),
    "x-hub-signature": hex_digest.map(lambda h: "sha1=" + h),
    "x-shopify-hmac-sha256": st.one_of(b64, digest_b64, st.tuples(b64, odd_space, b64).map("".join), hex_digest),
    "id": st.one_of(st.just("msg_1"), any_text),
    "timestamp": st.one_of(digits, st.tuples(odd_space, digits, odd_space).map("".join)),
    "signature": st.lists(st.tuples(st.sampled_from(["v1,", "v1a,", "v2,", "", "V1,"]),
                                    digest_b64 | ed25519_b64 | b64 | any_text),
                          max_size=4).flatmap(lambda parts: odd_space.map(lambda sep: sep.join(p + v for p, v in parts))),
    "x-slack-signature": st.one_of(
        st.text("0123456789abcdef", min_size=64, max_size=64).map("v0=".__add__),
        st.tuples(st.sampled_from(["v0", "v1", "V0", ""]), hex_digest).map("=".join),
    ),
    "x-slack-request-timestamp": st.one_of(digits, st.tuples(odd_space, digits, odd_space).map("".join)),
    "x-twilio-signature": st.one_of(sha1_b64, b64, digest_b64, st.tuples(sha1_b64, odd_space).map("".join)),
}


def values_for(name: str):
    """Values for one of the scheme's headers: anything at all, or something close to right."""
    key = name.lower().split("-", 1)[1] if name.lower().startswith(("webhook-", "svix-")) else name.lower()
    return st.one_of(any_text, NEAR_VALID[key])


@st.composite
def mutated(draw, value: str) -> str:
    """A genuine header value with one thing wrong: a character changed, dropped or added, or cut short."""
    if not value:
        return draw(any_text)
    at = draw(st.integers(0, len(value) - 1))
    change = draw(st.sampled_from(["replace", "drop", "insert", "cut", "upper", "pad"]))
    char = draw(st.characters() | other_digits)
    if change == "replace":
        return value[:at] + char + value[at + 1 :]
    if change == "drop":
        return value[:at] + value[at + 1 :]
    if change == "insert":
        return value[:at] + char + value[at:]
    if change == "cut":
        return value[:at]
    if change == "upper":
        return value.upper()
    return draw(odd_space) + value + draw(odd_space)


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.lists(scalars, max_size=3) | st.dictionaries(st.text(max_size=5), scalars | st.lists(scalars), max_size=3)
nested = st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n)  # deep enough to exhaust the parser's recursion
bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=60),  # a str body is allowed too
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # a str no HTTP request could carry
    json_values.map(lambda v: json.dumps(v, indent=2, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    nested,
    nested.map(lambda b: b"payload=" + quote(b).encode()),
    st.sampled_from([b'["\\ud800"]', b'{"a": NaN, "b": -Infinity}', b"1e999", b"9" * 5000, b"null", b"\xef\xbb\xbf{}"]),
    st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=5).map(lambda d: urlencode(d).encode()),
)
# Twilio signs the URL it requested: the one the verifier is given may be that one or another.
urls = st.one_of(st.just(TWILIO_URL), st.tuples(st.sampled_from(["http", "https"]), st.text(max_size=20),
                                                 st.text(max_size=20)).map(lambda p: f"{p[0]}://example.com/{p[1]}?{p[2]}"))
extra_headers = st.dictionaries(
    st.sampled_from(["Content-Type", "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
                     "X-Forwarded-Prefix", "X-Forwarded-Uri", "Forwarded", "X-Original-URI"]) | st.text(max_size=20),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]) | any_text,
    max_size=3,
)
casings = st.sampled_from([str, str.lower, str.upper, str.title])


@st.composite
def deliveries(draw, scheme: str):
    """(verifier, body, headers, options) for one request to one of the scheme's verifiers."""
    signers, verifiers, event_type, latest = SCHEMES[scheme]
    signer, names = draw(st.sampled_from(signers))
    options = {"url": draw(urls)} if scheme == "twilio" else {}
    body = draw(bodies)
    headers: dict[str, str] = {}
    if draw(st.booleans()):  # start from a genuine signature
        timestamp = draw(st.integers(NOW - 1000, NOW + 1000) | st.integers(0, latest))
        signed_body, headers = signer.sign(body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"),
                                           timestamp=timestamp, event_type=event_type, **options)  # fmt: skip
        if scheme == "twilio" and draw(st.booleans()):
            options = {"url": draw(urls)}  # verified with a URL other than the one signed
        if draw(st.booleans()) and signed_body.lstrip().startswith((b"{", b"[")):
            try:  # the classic mistake: parse, then dump again, then verify that
                body = json.dumps(json.loads(signed_body)).encode("utf-8", "surrogatepass")
            except (ValueError, RecursionError):
                pass
    for name in names:
        action = draw(st.sampled_from(["keep"] * 5 + ["mutate"] * 3 + ["replace"] * 3 + ["drop"]))
        if action == "drop":
            headers.pop(name, None)
        elif action == "mutate" and name in headers:
            headers[name] = draw(mutated(headers[name]))
        elif action == "replace" or name not in headers:
            headers[name] = draw(values_for(name))
    headers |= draw(extra_headers)
    case = draw(casings)
    renamed = [(case(name), value) for name, value in headers.items()]
    options["tolerance"] = draw(st.sampled_from([300, 300, None, 0, 10**9, math.inf]))
    return draw(st.sampled_from(verifiers)), body, (dict(renamed) if draw(st.booleans()) else renamed), options


def check(verifier, body, headers, options) -> None:
    explanation = verifier.explain(body, headers, now=NOW, **options)
    assert isinstance(explanation, wl.Explanation)
    assert explanation.reason is None or explanation.reason in REASONS, explanation.reason
    assert str(explanation) and explanation._repr_html_()  # showing it must not fail either
    event(f"reason: {explanation.reason}")  # --hypothesis-show-statistics: which paths the strategies reach
    try:
        verifier.verify(body, headers, now=NOW, **options)
    except wl.SignatureError as error:
        assert error.reason == explanation.reason and str(error) == explanation.message
    else:
        assert explanation.ok


@pytest.mark.parametrize("scheme", list(SCHEMES))
@given(data=st.data())
def test_any_request_is_explained_and_fails_only_with_signature_error(scheme, data):
    check(*data.draw(deliveries(scheme)))


def test_every_registered_scheme_is_fuzzed():
    fuzzed = {type(verifier) for _, verifiers, _, _ in SCHEMES.values() for verifier in verifiers}
    assert fuzzed == set(PROVIDERS.values())


def test_the_fuzz_starts_from_genuine_requests():
    """Unchanged, what each signer signs verifies with each of its scheme's verifiers."""
    for name, (signers, verifiers, event_type, _) in SCHEMES.items():
        options = {"url": TWILIO_URL} if name == "twilio" else {}
        sent = b"CallSid=CA1&Digits=1234" if name == "twilio" else b'{"type": "a"}'  # what each provider sends
        for signer, names in signers:
            body, headers = signer.sign(sent, timestamp=NOW, event_type=event_type, **options)
            assert set(names) <= set(headers), (name, headers)
            for verifier in verifiers:
                assert verifier.explain(body, headers, now=NOW, **options).ok, (name, type(verifier).__name__)


def test_the_reasons_are_read_from_the_docstring():
    assert REASONS == {"missing_header", "malformed_header", "no_matching_signature", "timestamp_too_old",
                       "timestamp_too_new", "invalid_payload"}  # fmt: skip
