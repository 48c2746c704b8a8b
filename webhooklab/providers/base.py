"""What every provider shares: payload templates, sign and verify side by side, explain, send.

A subclass states its scheme (which header, what is signed, how the key is
made, how the digest is written); signing, verifying and explaining all run
through that one definition, so the simulated sender and the verifier can
never disagree.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import cache

from ..delivery import Attempt, Deliveries, Delivery, deliver_many, post
from ..errors import SignatureError, UsageError
from ..event import parse_json
from ..retry import RetryPolicy
from ..workshop import shipped

DEFAULT_TOLERANCE = 300  # seconds; Stripe's and Standard Webhooks' libraries both use five minutes
# A signed timestamp is whole unix seconds in ASCII digits. Twelve digits reach the year 33658; anything
# longer is not a timestamp, and int() of thousands of digits is slow or refused outright.
TIMESTAMP = re.compile(r"[0-9]{1,12}")
KIND = re.compile(r"[A-Za-z]{1,6}_")  # a secret's kind, as in whsec_, sk_, shpss_: not secret itself


@dataclass
class Header:
    """What a signature header says: the signatures it carries, and the timestamp and id where the scheme has them."""

    signatures: list[str]
    timestamp: int | None = None
    message_id: str | None = None


class Payload(dict):
    """An event's payload: a plain dict that also remembers its event type, for the headers that need it."""

    def __init__(self, data: dict, event_type: str):
        super().__init__(data)
        self.event_type = event_type


@dataclass
class Explanation:
    """Each step of a verification, as a table; `ok`, `reason` and `message` give the verdict."""

    provider: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None
    message: str = "the signature is valid"
    payload: object = field(default=None, repr=False)  # the parsed event, once everything has checked out

    @property
    def ok(self) -> bool:
        return self.reason is None

    def add(self, step: str, value: str) -> None:
        self.steps.append((step, value))

    def fail(self, reason: str, message: str) -> Explanation:
        self.reason, self.message = reason, message
        return self

    def __str__(self) -> str:
        verdict = "valid" if self.ok else f"INVALID ({self.reason})"
        width = max(len(step) for step, _ in self.steps) if self.steps else 0
        lines = [f"{self.provider} signature: {verdict}"]
        lines += [f"  {step:<{width}}  {value}" for step, value in self.steps]
        lines.append(f"  {'verdict':<{width}}  {self.message}")
        return "\n".join(lines)

    __repr__ = __str__  # a console shows the table too, not the dataclass fields

    def _repr_html_(self) -> str:
        # Everything shown came from a request: it is data, so every value is escaped.
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(step)}</th>"
            f"<td style='text-align:left'><code>{html.escape(value)}</code></td></tr>"
            for step, value in [*self.steps, ("verdict", self.message)]
        )
        colour = "green" if self.ok else "firebrick"
        title = "valid" if self.ok else f"invalid: {self.reason}"
        return (
            f"<table><caption style='color:{colour};text-align:left'><b>{html.escape(self.provider)} "
            f"signature {html.escape(title)}</b></caption>{rows}</table>"
        )


class Provider:
    """The shared machinery; subclasses fill in the scheme and the payloads."""

    name: str = ""
    title: str = ""
    signature_header: str = ""
    digest_encoding: str = "hex"  # or "base64"
    key_note: str = "the secret's UTF-8 bytes"
    user_agent: str = ""
    timeout: float | tuple[float, float] = 10.0
    json_indent: int | None = None  # how the provider writes its JSON bodies
    friendly: tuple[str, ...] = ()  # overrides event() understands beyond the payload's own keys

    def __init__(self, secret: str | list[str] | None = None):
        secrets = [secret] if isinstance(secret, str) else list(secret or [self.new_secret()])
        if not all(isinstance(s, str) and s for s in secrets):
            raise ValueError(f"{self.title} needs a secret: a non-empty string, or a list of them for rotation")
        for s in secrets:
            self._key(s)  # a secret the scheme cannot use fails here, not at the first request
        self.secrets = secrets

    @property
    def secret(self) -> str:
        """The current secret: the first one, which signs (the others only verify, during rotation)."""
        return self.secrets[0]

    # -- the scheme: subclasses define these ---------------------------------------

    @classmethod
    def new_secret(cls) -> str:
        raise NotImplementedError

    def _key(self, secret: str) -> bytes:
        return secret.encode("utf-8")

    def _read_header(self, headers: dict[str, str]) -> Header:
        """Parse the signature header(s); raise SignatureError for missing or malformed ones."""
        raise NotImplementedError

    def _signed_content(self, body: bytes, header: Header) -> bytes:
        return body

    def _headers(self, payload: Payload, body: bytes, signatures: list[str], timestamp: int, delivery_id: str | None) -> dict[str, str]:
        """Every header the provider sends, given the signatures of the body."""
        raise NotImplementedError

    def _digest(self, key: bytes, content: bytes) -> str:
        digest = hmac.new(key, content, hashlib.sha256).digest()
        return digest.hex() if self.digest_encoding == "hex" else _b64(digest)

    # -- payloads ---------------------------------------------------------------------

    @classmethod
    def event_types(cls) -> list[str]:
        """The event types this simulator has realistic templates for."""
        return sorted(_templates(cls.name))

    def event(self, event_type: str, **overrides) -> Payload:
        """A realistic payload for `event_type`, with fresh ids and timestamps and your overrides."""
        templates = _templates(self.name)
        if event_type not in templates:
            raise ValueError(
                f"{self.title} has no event type {event_type!r}. Known types: {', '.join(sorted(templates))}"
            )
        payload = copy.deepcopy(templates[event_type])
        self._refresh(payload, event_type)
        self._override(payload, event_type, overrides)
        return Payload(payload, event_type)

    def _refresh(self, payload: dict, event_type: str) -> None:
        """New ids and timestamps, so two events are never the same one."""

    def _override(self, payload: dict, event_type: str, overrides: dict) -> None:
        for key, value in overrides.items():
            if self._apply(payload, key, value):
                continue
            if key not in payload:
                known = sorted({*self.friendly, *self._settable(payload)})
                raise TypeError(
                    f"{self.title} {event_type} has no field or option {key!r}. You can set: {', '.join(known)}"
                )
            payload[key] = value

    def _apply(self, payload: dict, key: str, value) -> bool:
        """Apply one friendly override (amount, branch, line_items...); False if `key` is not one here."""
        return False

    def _settable(self, payload: dict):
        """The payload's own fields an override may set directly."""
        return payload.keys()

    def serialize(self, event) -> bytes:
        """The body bytes, written the way this provider writes them (str and bytes pass unchanged)."""
        if isinstance(event, bytes):
            return event
        if isinstance(event, str):
            return event.encode("utf-8")
        return json.dumps(event, indent=self.json_indent, separators=None if self.json_indent else (",", ":"),
                          ensure_ascii=False).encode("utf-8")  # fmt: skip

    # -- signing and verifying --------------------------------------------------------

    def sign(
        self, event, *, timestamp: int | None = None, delivery_id: str | None = None, event_type: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The exact body bytes and every header that go on the wire.

        `event` is a payload from event(), any dict, or the body as bytes.
        `timestamp` (unix seconds) defaults to now; `delivery_id` to a fresh one,
        and a redelivery passes the original to keep it. `event_type` names the
        event where a header carries it (GitHub, Shopify) and `event` does not.
        """
        body = self.serialize(event)
        data = event if isinstance(event, dict) else parse_json(body, None)
        payload = Payload(data if isinstance(data, dict) else {}, event_type or getattr(event, "event_type", ""))
        timestamp = int(time.time()) if timestamp is None else int(timestamp)
        header = Header([], timestamp, delivery_id or self._new_delivery_id())
        signatures = [self._digest(self._key(s), self._signed_content(body, header)) for s in self.secrets]
        return body, self._headers(payload, body, signatures, timestamp, header.message_id)

    def _new_delivery_id(self) -> str:
        return str(uuid.uuid4())

    def verify(self, body: bytes | str, headers, *, tolerance: float | None = DEFAULT_TOLERANCE, now: float | None = None):
        """The parsed event, if `body` carries a valid signature; otherwise SignatureError says why.

        `now` (unix seconds) is the time to judge the timestamp by; by default, now.
        """
        explanation = self.explain(body, headers, tolerance=tolerance, now=now)
        if not explanation.ok:
            raise SignatureError(explanation.reason, explanation.message)
        return explanation.payload

    def explain(self, body: bytes | str, headers, *, tolerance: float | None = DEFAULT_TOLERANCE, now: float | None = None) -> Explanation:
        """Every step of verifying, shown: what was signed, the key, both digests, where they differ."""
        body = _as_bytes(body)
        headers = _lower(headers)
        now = time.time() if now is None else _seconds(now, "now", "unix seconds, like time.time()")
        if tolerance is not None:
            tolerance = _seconds(tolerance, "tolerance", "seconds, 0 or more (None skips the check)", lambda s: s >= 0)
        out = Explanation(self.title)
        try:
            header = self._read_header(headers)
        except SignatureError as error:
            return out.fail(error.reason, str(error))
        out.add("signature header", f"{self.signature_header}: {_clip(headers.get(self.signature_header.lower(), ''))}")
        content = self._signed_content(body, header)
        out.add("signed content", _show(content))
        expected = [self._digest(self._key(s), content) for s in self.secrets]
        for secret, digest in zip(self.secrets, expected):
            out.add("key", f"{mask(secret)}, used as {self.key_note}")
            out.add(f"expected ({self.digest_encoding})", digest)
        for received in header.signatures:
            out.add(f"received ({self.digest_encoding})", _clip(received))
        if not any(_same(e, r) for e in expected for r in header.signatures):
            first = _first_difference(expected[0], header.signatures[0] if header.signatures else "")
            out.add("first difference", f"at character {first}" if first is not None else "none")
            return out.fail("no_matching_signature", self._diagnose(body, header, expected, out))
        if header.timestamp is not None and tolerance is not None:
            age = now - header.timestamp
            out.add("timestamp", f"{header.timestamp} ({_ago(age)}; tolerance {tolerance:g} s)")
            if age > tolerance:
                return out.fail(
                    "timestamp_too_old",
                    f"the signature is valid but was made {age:.0f} s ago, more than the {tolerance:g} s allowed. "
                    "Likely a replay of an old request (someone resending a captured webhook), or a request "
                    "that waited in a queue. A retry from the provider is re-signed with a fresh timestamp.",
                )
            if -age > tolerance and self._rejects_future:
                return out.fail(
                    "timestamp_too_new",
                    f"the signature is valid but its timestamp is {-age:.0f} s in the future, more than the "
                    f"{tolerance:g} s allowed: the sender's clock or this machine's is wrong (clock skew).",
                )
        out.payload = parse_json(body, headers.get("content-type"))
        if out.payload is None:
            return out.fail(
                "invalid_payload",
                f"the signature is valid, but the body is not JSON (it starts {_show(body[:40])}); "
                f"{self.title} always sends a JSON body.",
            )
        return out

    _rejects_future = False  # Stripe's libraries accept future timestamps; Standard Webhooks rejects them

    def _diagnose(self, body: bytes, header: Header, expected: list[str], out: Explanation) -> str:
        """The likely cause of a mismatch: a re-serialised body, a wrong kind of secret, or either."""
        for variant, how in _reserializations(body):
            digests = [self._digest(self._key(s), self._signed_content(variant, header)) for s in self.secrets]
            if any(_same(d, r) for d in digests for r in header.signatures):
                at = _first_difference(body.decode("utf-8", "replace"), variant.decode("utf-8", "replace"))
                out.add("body as signed", _show(variant))
                return (
                    f"the signature matches the same JSON {how}, not the bytes given here (they first differ "
                    f"at character {at}). The body was re-serialised, by parsing and dumping it, after it "
                    "arrived. Verify the raw body exactly as received (in Flask: request.get_data()), before "
                    "parsing it."
                )
        hint = self._secret_hint(self.secret)
        if hint:
            return f"no signature matches, and {hint}"
        return (
            f"no signature in {self.signature_header} matches this body signed with {mask(self.secret)}. "
            "Either the body changed after it was signed (one byte, even whitespace, is enough) or the "
            "secret is not the one the sender signs with: check the endpoint's signing secret."
        )

    def _secret_hint(self, secret: str) -> str | None:
        return None

    # -- sending ------------------------------------------------------------------------

    def send(self, event, to: str, *, timeout: float | tuple[float, float] | None = None, **sign_options) -> Attempt:
        """Sign `event` and POST it once to `to`, with this provider's headers and timeout (or `timeout`)."""
        body, headers = self.sign(event, **sign_options)
        return post(to, body, headers, timeout=timeout or self.timeout)

    def policy_for(self, event) -> RetryPolicy:
        """The retry policy this provider applies to `event`."""
        return self.policy

    policy: RetryPolicy = RetryPolicy()

    def deliver(self, event, to: str, *, policy: RetryPolicy | None = None, clock=None, background: bool = False,
                on_attempt=None) -> Delivery:  # fmt: skip
        """Deliver with retries on this provider's schedule (or `policy`), timed by `clock`.

        With wl.VirtualClock() the waits take no time; every attempt is still a real POST.
        `background=True` returns at once; `.wait()` on the delivery for the end.
        """
        delivery = Delivery(self, event, to, policy=policy, clock=clock, on_attempt=on_attempt)
        return delivery.start() if background else delivery.run()

    def deliver_many(self, events, to: str, **options) -> Deliveries:
        """Deliver several events concurrently: see webhooklab.delivery.deliver_many for the options."""
        return deliver_many(self, events, to, **options)

    def __repr__(self) -> str:
        secrets = ", ".join(mask(s) for s in self.secrets)
        return f"<{type(self).__name__} secret={secrets}>"


@cache
def _templates(provider: str) -> dict[str, dict]:
    """Event type -> payload, read once from datasets/<provider>/ (the path under it is the type)."""
    folder = shipped("datasets") / provider
    return {
        path.relative_to(folder).with_suffix("").as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.rglob("*.json"))
    }


def mask(secret: str) -> str:
    """A secret as it may be shown: its kind and last four characters at most, never enough to guess it.

    The kind (whsec_, sk_, shpss_) is public: it names what sort of secret this
    is, which is often the whole diagnosis. The last four tell two secrets apart,
    and are shown only when at least 12 characters after the kind stay hidden;
    a short secret shows only its length.
    """
    kind = KIND.match(secret)
    prefix = kind.group() if kind else ""
    if len(secret) - len(prefix) < 16:
        return f"… ({len(secret)} characters)"
    return f"{prefix}…{secret[-4:]}"


def _as_bytes(body) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates: bytes decoded with surrogateescape get their bytes back; any other such
            # string cannot have travelled over HTTP, and is kept as it is so that it simply does not verify.
            try:
                return body.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                return body.encode("utf-8", "surrogatepass")
    raise TypeError(
        f"verify needs the raw body as received (bytes), but got a {type(body).__name__}. Parsing the JSON "
        "first and passing the result loses the exact bytes the signature was made over: pass "
        "request.get_data() instead."
    )


def _lower(headers) -> dict[str, str]:
    """Header names in lower case (HTTP names are case-insensitive), values without the whitespace HTTP ignores."""
    if headers is None:
        return {}
    try:
        pairs = list(headers.items() if hasattr(headers, "items") else headers)
        return {_text(name).lower(): _text(value).strip(" \t") for name, value in pairs}
    except (TypeError, ValueError):
        raise UsageError(
            f"expected the headers as a dict or a list of (name, value) pairs, as request.headers gives them, "
            f"but got {_clip(repr(headers), 80)}."
        ) from None


def _text(value) -> str:
    # Header bytes are Latin-1 on the wire: that is how WSGI servers hand them over as str.
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def _seconds(value, name: str, expected: str, valid=math.isfinite) -> float:
    """`now` or `tolerance` as a float; one that is not a usable number of seconds is the caller's mistake."""
    try:
        seconds = math.nan if isinstance(value, (str, bytes, bool)) else float(value)
    except (TypeError, ValueError, OverflowError):
        seconds = math.nan
    if not valid(seconds):  # nan fails every check
        hint = " (a datetime? pass its .timestamp())" if hasattr(value, "timestamp") else ""
        raise UsageError(f"expected {name}= to be {expected}, but got {_clip(repr(value), 60)}{hint}.")
    return seconds


def _same(a: str, b: str) -> bool:
    """Compare in constant time. UTF-8 with surrogatepass encodes any str, so a received value never raises."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _clip(text: str, limit: int = 300) -> str:
    """A header value for the table: whole when short, else its start and its length."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters in all)"


def _quote(text: str, limit: int = 100) -> str:
    """A received value for a message, quoted, cut short when long: enough to recognise it."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text)} characters in all)"


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")


def _first_difference(a: str, b: str) -> int | None:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def _show(content: bytes, limit: int = 300) -> str:
    """Bytes as a readable Python literal, cut short for long bodies."""
    shown = repr(content[:limit])
    return shown if len(content) <= limit else f"{shown}… ({len(content)} bytes in all)"


def _ago(age: float) -> str:
    return f"{age:.0f} s ago" if age >= 0 else f"{-age:.0f} s in the future"


def _reserializations(body: bytes):
    """The same JSON written the usual other ways, with a description of each."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes, so not JSON here
        return
    styles = [
        ("written compactly (separators=(',', ':'))", {"separators": (",", ":")}),
        ("written by Python's json.dumps defaults", {}),
        ("pretty-printed with indent=2", {"indent": 2}),
        ("with non-ASCII characters kept (ensure_ascii=False)", {"ensure_ascii": False}),
        ("with non-ASCII characters kept and compact", {"ensure_ascii": False, "separators": (",", ":")}),
        ("pretty-printed with non-ASCII characters kept", {"ensure_ascii": False, "indent": 2}),
        ("with its keys sorted", {"sort_keys": True}),
    ]
    for how, options in styles:
        try:
            variant = json.dumps(data, **options).encode("utf-8")
        except (ValueError, RecursionError):  # a lone surrogate escape (\ud800) kept as is, or deep nesting
            continue
        if variant != body:
            yield variant, how
