"""Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1 of the URL, then each POST parameter's name and value>`.

The Auth Token is the key. What is signed is the full URL Twilio requested
(scheme, host, path, query) followed by every POST parameter sorted by name,
name then value, with nothing between. So the URL is part of the signature:
a receiver must verify with the URL Twilio used, and a tunnel or a proxy that
changes what the receiver sees (http behind https, a path prefix) breaks the
check even with the right token. For a JSON body Twilio adds `bodySHA256`
(the hex SHA-256 of the body) to the URL and signs the URL alone.

Twilio's form webhooks name no event type; `sms/incoming` and `call/status`
are our names for an incoming message and a call's status callback.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from email.utils import formatdate
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from .._checks import flag, got, seconds, text
from .._errors import SignatureError, UsageError, UsageTypeError
from .._event import parse_json
from .._sending.retry import RetryPolicy
from .arguments import WINDOW, body_bytes, header_pairs, lower_headers, only_once, sign_options, tolerance_for
from .base import Provider, _same
from .explain import DIAGNOSIS_LIMIT, Explanation, _clip, _first_difference, _quote, _show, mask, too_large, undiagnosed
from .registry import string_field
from .twilio_urls import differences, port_forms, url_variants

FORM = "application/x-www-form-urlencoded"
FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}
SHOWN = 300  # bytes of the signed content an explanation shows


class Twilio(Provider):
    """Twilio's webhooks: form-encoded parameters, signed together with the URL Twilio requested.

    `url` is the URL to sign for and verify against when a call gives none:
    Twilio(token, url="https://example.com/sms"), or twilio.at(url). send() and
    deliver() sign for their `to`; a Receiver hands over the URL each request
    arrived at, with at(). One token signs; the others (a secondary Auth Token
    during rotation) only verify.
    """

    name = "twilio"
    title = "Twilio"
    signature_header = "X-Twilio-Signature"
    single_headers = ("I-Twilio-Idempotency-Token",)
    algorithm = "HMAC-SHA1"
    digest_encoding = "base64"
    key_note = "the Auth Token's UTF-8 bytes"
    signs = "the URL Twilio requested and every POST parameter, sorted by name"
    window = None  # no timestamp is signed
    replay_defence = "none in the signature: I-Twilio-Idempotency-Token (not signed) spots Twilio's own retries"
    user_agent = "TwilioProxy/1.1"  # our assumption, as are X-Home-Region and the token's format: seen, not documented
    timeout = (5.0, 15.0)  # the connection overrides' defaults: 5 s to connect, 15 s to read
    policy = RetryPolicy.twilio()
    friendly = ("body", "from_", "to", "status")
    first_event = "sms/incoming"
    triggers = ("sms/incoming", "call/status")
    where_to_subscribe = (
        "Twilio Console > Phone Numbers > Active numbers > your number: 'A message comes in' (and a call's "
        "StatusCallback URL); Twilio signs with the account's Auth Token, over the URL exactly as entered there"
    )

    def __init__(self, secret: str | list[str] | None = None, *, url: str | None = None):
        super().__init__(secret)
        self.url = None if url is None else _checked_url(url)

    @classmethod
    def recognise(cls, headers, payload):
        """X-Twilio-Signature; the parameters tell a message from a call; the idempotency token is the delivery."""
        if "x-twilio-signature" not in headers:
            return None
        if "CallSid" in payload:
            final = payload.get("CallbackSource") == "call-progress-events" or payload.get("CallStatus") in FINAL_CALL_STATUSES
            kind = "call/status" if final else "call/incoming"
        elif "MessageSid" in payload or "SmsSid" in payload:
            kind = "sms/status" if "MessageStatus" in payload else "sms/incoming"
        else:
            kind = string_field(payload, "type")
        return kind, headers.get("i-twilio-idempotency-token")

    @classmethod
    def new_secret(cls) -> str:
        return secrets.token_hex(16)  # our assumption: 32 hex characters, as Auth Tokens look

    def new_delivery_id(self) -> str:
        return f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(6)}"

    # -- payloads: the form parameters ------------------------------------------------

    def _refresh(self, payload: dict, event_type: str) -> None:
        sid = secrets.token_hex(16)
        for key in ("MessageSid", "SmsSid", "SmsMessageSid"):
            if key in payload:
                payload[key] = "SM" + sid
        if "CallSid" in payload:
            payload["CallSid"] = "CA" + sid
        if "Timestamp" in payload:
            payload["Timestamp"] = formatdate(usegmt=False).replace("-0000", "+0000")

    def _apply(self, payload: dict, key: str, value) -> bool:
        name = {"from_": "From", "status": "CallStatus" if "CallStatus" in payload else "SmsStatus"}.get(key)
        name = name or next((k for k in payload if k.lower() == key.lower()), None)
        if name is None:
            return False
        payload[name] = str(value)
        if name in ("From", "To") and "Caller" in payload:  # a call repeats them as Caller and Called
            payload["Caller" if name == "From" else "Called"] = str(value)
        return True

    def serialize(self, event) -> bytes:
        """A dict is form-encoded, as Twilio sends its parameters; str and bytes pass unchanged."""
        if isinstance(event, dict):
            return urlencode([(k, str(v)) for k, v in event.items()]).encode("ascii")
        return super().serialize(event)

    # -- signing ----------------------------------------------------------------------

    def signature(self, url: str, params, secret: str | None = None) -> str:
        """The X-Twilio-Signature of `params` (a dict or (name, value) pairs) posted to `url`."""
        text(url, "url", "the full URL Twilio requested, a str such as 'https://example.com/sms'")
        if secret is not None:
            text(secret, "secret", "an Auth Token, a str (None signs with this Twilio's own)", empty=True)
        try:
            tail = parameters(params.items() if isinstance(params, Mapping) else params)
        except (TypeError, ValueError):  # not pairs at all
            raise UsageTypeError(
                f"params must be the POST parameters as a dict, or as (name, value) pairs, got {got(params)}"
            ) from None
        return self._signed(url, tail, secret or self.secret)

    def _signed(self, url: str, tail: bytes, secret: str) -> str:
        """The signature of the URL followed by the parameters already written out (`tail`), without joining them."""
        digest = hmac.new(self._key(secret), url.encode("utf-8", "surrogatepass"), hashlib.sha1)
        digest.update(tail)
        return _b64(digest.digest())

    def sign(self, event, *, url: str | None = None, delivery_id: str | None = None, timestamp: int | None = None,
             event_type: str | None = None) -> tuple[bytes, dict[str, str]]:  # fmt: skip
        """The form body and the headers Twilio sends when it POSTs `event` to `url`.

        `timestamp` and `event_type` are accepted for a common interface: Twilio signs no time and names no type.
        """
        _, delivery_id, _ = sign_options(timestamp, delivery_id, event_type)
        url = _checked_url(url) if url is not None else self._url()
        body = self.serialize(event)
        return body, {
            "Content-Type": FORM,
            "User-Agent": self.user_agent,
            "Accept": "*/*",
            "X-Home-Region": "us1",
            "I-Twilio-Idempotency-Token": delivery_id or self.new_delivery_id(),
            "X-Twilio-Signature": self.signature(url, form_pairs(body)),
        }

    def at(self, url: str) -> Twilio:
        """The same tokens, signing for and verifying against `url` by default."""
        bound = copy.copy(self)
        bound.url = _checked_url(url)
        return bound

    def _url(self) -> str:
        if self.url is None:
            raise UsageError(
                "Twilio signs the URL it requests, so sign() needs it: sign(event, url='https://example.com/sms'), "
                "or Twilio(token, url=...). send(event, to=url) signs for `to`."
            )
        return self.url

    # -- verifying --------------------------------------------------------------------

    def verify(self, body, headers, *, url: str | None = None, tolerance: float | None = WINDOW,
               now: float | None = None):  # fmt: skip
        """The parameters (a dict; a repeated name gives a list), or the JSON body; else SignatureError says why.

        `url` is the full URL Twilio requested; by default the one this Twilio is for
        (Twilio(url=...) or .at(url), with which a Receiver hands over the URL each
        request arrived at). No timestamp is signed: `tolerance` and `now` change nothing.
        """
        explanation = self.explain(body, headers, url=url, tolerance=tolerance, now=now)
        if not explanation.ok:
            raise SignatureError(explanation.reason, explanation.message)
        return explanation.payload

    def explain(self, body, headers, *, url: str | None = None, tolerance: float | None = WINDOW,
                now: float | None = None, diagnose: bool = True) -> Explanation:  # fmt: skip
        """Every step: the URL, the signed string, the token, both digests, and why they differ.

        A mismatch names the likely cause (the URL a proxy changed, a wrong token) for bodies up to
        DIAGNOSIS_LIMIT; `diagnose=False` gives the verdict alone, as a receiver stores it at capture.
        """
        diagnose = flag(diagnose, "diagnose", "False gives the verdict without looking for the likely cause")
        body, pairs = body_bytes(body), header_pairs(headers)
        headers = lower_headers(pairs)
        tolerance_for(self, tolerance)  # checked as every scheme checks them, though no timestamp is signed
        if now is not None:
            seconds(now, "now", ": unix seconds, like time.time()", negative=True)
        source = "as given"
        if url is not None:
            url = _checked_url(url)
        else:
            url, source = self.url, "the URL it is for: a receiver gives the one the request arrived at"
        out = Explanation(self.title)
        try:
            only_once(pairs, (self.signature_header, *self.single_headers))
        except SignatureError as error:
            return out.fail(error.reason, str(error))
        value = headers.get("x-twilio-signature")
        if value is None:
            return out.fail("missing_header", (
                "there is no X-Twilio-Signature header. Twilio signs every webhook with the account's Auth Token; "
                "a request without it did not come from Twilio (or a proxy dropped the header)."))  # fmt: skip
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 20:
            return out.fail("malformed_header", (
                "expected X-Twilio-Signature to be the base64 of a 20-byte HMAC-SHA1 digest (28 characters), but "
                f"it is {_quote(value, 100)}."))  # fmt: skip
        if url is None:
            return out.fail("missing_header", (
                "Twilio signs the URL it requested, and no URL is known here: pass url=, the full URL Twilio "
                "posted to (as configured in the Twilio Console), such as verify(body, headers, "
                "url='https://example.com/sms')."))  # fmt: skip
        out.add("signature header", f"X-Twilio-Signature: {value}")
        out.add("URL", f"{_clip(url)} ({source})")
        body_hash = parse_qs(urlsplit(url).query).get("bodySHA256")
        params = [] if body_hash else form_pairs(body)
        if body_hash:
            out.add("bodySHA256", f"{body_hash[0]} in the URL: a JSON body, so the URL alone is signed")
        tail = parameters(params)  # written out once: every URL and token below signs the same bytes after the URL
        start = url.encode("utf-8", "surrogatepass")
        out.add("signed content", _show(start + tail[:SHOWN], total=len(start) + len(tail)))
        expected = [self._signed(url, tail, s) for s in self.secrets]
        for secret, digest in zip(self.secrets, expected):
            out.add("key", f"{mask(secret)}, used as {self.key_note}")
            out.add("expected (base64)", digest)
        out.add("received (base64)", value)
        if not self._matches_url(url, tail, value):
            first = _first_difference(expected[0], value)
            out.add("first difference", f"at character {first}" if first is not None else "none")
            verdict = self._mismatch(url)
            if not diagnose:
                return out.fail("no_matching_signature", undiagnosed(verdict))
            if len(body) > DIAGNOSIS_LIMIT:
                return out.fail("no_matching_signature", f"{verdict} {too_large(len(body))}")
            return out.fail("no_matching_signature", self._diagnose(url, tail, value, headers, out))
        if body_hash:
            actual = hashlib.sha256(body).hexdigest()
            out.add("body SHA-256", actual)
            if not _same(actual, body_hash[0]):
                return out.fail("no_matching_signature", (
                    f"the URL's signature is valid, but the body's SHA-256 is {actual}, not the bodySHA256 "
                    f"{_quote(body_hash[0], 70)} the URL carries: the body changed after Twilio signed it."))  # fmt: skip
            out.payload = parse_json(body, "application/json")
            if out.payload is None:
                return out.fail("invalid_payload", f"the signature and the body hash are valid, but the body is "
                                                   f"not JSON (it starts {_show(body[:40])}).")  # fmt: skip
            return out
        out.payload = form_dict(params)
        return out

    def _matches_url(self, url: str, tail: bytes, value: str) -> bool:
        """Whether `value` signs the parameters (`tail`) at `url`, with or without its default port (as Twilio's
        helper allows)."""
        return any(_same(self._signed(form, tail, s), value) for form in port_forms(url) for s in self.secrets)

    def _mismatch(self, url: str) -> str:
        return f"no signature matches these parameters at {_clip(url, 200)} with the Auth Token {mask(self.secret)}."

    def _diagnose(self, url: str, tail: bytes, value: str, headers: dict, out: Explanation) -> str:
        for other, how in url_variants(url, headers):
            if self._matches_url(other, tail, value):
                out.add("URL as signed", other)
                return (
                    f"the Auth Token is right and nothing else changed: the signature matches the URL {other}, "
                    f"but it was checked against {url}; they differ in {differences(url, other)}. Twilio signs the "
                    f"URL it requested, so the receiver must verify with that URL. Likely cause: {how}. Rebuild "
                    "the public URL (trust your own proxy's X-Forwarded-Proto, -Host and -Prefix, or configure "
                    "the public URL) and verify against it."
                )
        return (
            f"{self._mismatch(url)} "
            "Either the token is not the one Twilio signs with (it signs with the Auth Token of the account that "
            "owns the number; an API key secret or a test credential is not it), or the URL differs from the one "
            "Twilio requested in a way not guessed here (compare it with the Console), or a parameter changed."
        )


# -- the scheme, as functions ---------------------------------------------------------------


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a form body, decoded; bytes that are not UTF-8 stay as escapes and never match."""
    text = body.decode("utf-8", "surrogateescape")
    return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape")


def form_dict(pairs) -> dict:
    out: dict = {}
    for name, value in pairs:
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    return out


def signed_content(url: str, pairs) -> bytes:
    """The URL, then each parameter name followed by its value, sorted by name (and a repeated name's values)."""
    return url.encode("utf-8", "surrogatepass") + parameters(pairs)


def parameters(pairs) -> bytes:
    """What Twilio signs after the URL: each name followed by its value, sorted by name, then a repeated name's
    values sorted (each once), as UTF-8."""
    written, last = bytearray(), None
    for pair in sorted((str(name), str(value)) for name, value in pairs):  # by name, then by value
        if pair != last:  # a value repeated under the same name counts once
            written += (pair[0] + pair[1]).encode("utf-8", "surrogatepass")
            last = pair
    return bytes(written)


def _checked_url(url) -> str:
    if not isinstance(url, str):
        raise UsageTypeError(f"expected the full URL Twilio requested, a str like 'https://example.com/sms?x=1', "
                             f"but got {_quote(repr(url), 100)}.")  # fmt: skip
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.netloc)
    except ValueError:
        ok = False
    if ok:
        return url
    raise UsageError(
        f"expected the full URL Twilio requested, with scheme and host, like 'https://example.com/sms?x=1', but got "
        f"{_quote(url, 100)}. Twilio signs the whole URL, so a path "
        "alone cannot be checked."
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


