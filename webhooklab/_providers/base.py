"""What every provider shares: payload templates, sign and verify side by side, explain, send.

A subclass states its scheme (which header, what is signed, how the key is
made, how the digest is written) and how its requests are recognised;
signing, verifying and explaining all run through that one definition, so
the simulated sender and the verifier can never disagree. How the steps are
shown is in explain.py; where the templates come from, in resources.py.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from .._checks import event_value, flag, got, request_timeout, seconds, text, web_url
from .._errors import SignatureError, UsageError, UsageTypeError
from .._event import parse_json
from .._sending.delivery import Attempt, Deliveries, Delivery, deliver_many, post
from .._sending.retry import RetryPolicy
from .arguments import (
    DEFAULT_TOLERANCE,  # noqa: F401 (defined here before: code that reads it here still finds it)
    WINDOW,
    body_bytes,
    header_pairs,
    lower_headers,
    only_once,
    secrets_given,
    sign_options,
    tolerance_for,
)
from .explain import Explanation, _ago, _clip, _first_difference, _quote, _show, mask, mismatch, undiagnosed
from .explain import diagnose as explain_mismatch
from .resources import templates

# A signed timestamp is whole unix seconds in ASCII digits. Twelve digits reach the year 33658; anything
# longer is not a timestamp, and int() of thousands of digits is slow or refused outright.
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SHOWN_SIGNATURES = 10  # received signatures an explanation lists; a header may carry thousands, one per rotation is usual


def read_timestamp(value: str, name: str, example: str, cause: str) -> int:
    """A signed timestamp header's value as unix seconds; SignatureError (naming `name`, ending with `cause`) if it is not."""
    if not TIMESTAMP.fullmatch(value):
        raise SignatureError(
            "malformed_header",
            f"expected {name} to be whole unix seconds, 1 to 12 ASCII digits like {example}, but it is "
            f"{_quote(value, 40)}. {cause}",
        )
    return int(value)


@dataclass
class Header:
    """What a signature header says: the signatures it carries, and the timestamp and id where the scheme has them."""

    signatures: list[str]
    timestamp: int | None = None
    message_id: str | None = None


class Payload(dict):
    """An event's payload: a plain dict that also remembers its event type, for the headers that need it."""

    def __init__(self, data: dict, event_type: str):
        if not isinstance(data, Mapping):
            raise UsageTypeError(f"a Payload holds an event's fields as a dict, got {got(data)}")
        super().__init__(data)
        self.event_type = text(event_type, "event_type", "the event's type, a str such as 'push'", empty=True)


class Provider:
    """The shared machinery; subclasses fill in the scheme and the payloads."""

    name: str = ""
    title: str = ""
    signature_header: str = ""
    # The other headers the check or deduplication reads, each of which must come once: a signed timestamp, an id.
    single_headers: tuple[str, ...] = ()
    event_header: str | None = None  # the header that names the event, where the provider sends one
    digest_encoding: str = "hex"  # or "base64"
    key_note: str = "the secret's UTF-8 bytes"
    signs: str = "the body"  # what a signature covers: any of it changed after signing breaks the signature
    # What the schemes table (schemes.py) says of the scheme; a provider states its own.
    algorithm: str = "HMAC-SHA256"  # how the signature is made: HMAC-SHA256, HMAC-SHA1, Ed25519...
    # Seconds a signed timestamp is good for: the default tolerance of verify() and explain(), and what
    # wl.schemes() shows. None: the scheme signs no timestamp (a custom one that does is checked with 300 s).
    window: float | None = None
    replay_defence: str = ""  # what stops a captured request from being sent again, in a short phrase
    user_agent: str = ""
    timeout: float | tuple[float, float] = 10.0
    json_indent: int | None = None  # how the provider writes its JSON bodies
    friendly: tuple[str, ...] = ()  # overrides event() understands beyond the payload's own keys
    # What the widgets show: the event the send panel starts on; for the automation blueprint, the events
    # an automation typically reacts to and where a user subscribes to them (none: not offered there).
    first_event: str = ""
    triggers: tuple[str, ...] = ()
    where_to_subscribe: str = ""

    def __init__(self, secret: str | list[str] | None = None):
        if type(self) is Provider:
            raise UsageTypeError(
                "wl.Provider is the template every provider fills in, not a provider itself: use one, such as "
                "wl.Stripe('whsec_...'), or subclass it (name, title, its header and what it signs) and register it"
            )
        secrets = secrets_given(self.title, secret) or [self.new_secret()]
        for s in secrets:
            self._key(s)  # a secret the scheme cannot use fails here, not at the first request
        self.secrets = secrets

    @property
    def secret(self) -> str:
        """The current secret: the first one, which signs (the others only verify, during rotation)."""
        return self.secrets[0]

    # -- the scheme: subclasses define these ---------------------------------------

    @classmethod
    def recognise(cls, headers, payload: dict) -> tuple[str | None, str | None] | None:
        """(event type, delivery id) if this request is this provider's, by a header only it sends; else None.

        `headers` maps each name, in lower case, to its value; `payload` is the parsed
        JSON body, {} when it is not an object. The registry asks each provider in turn.
        """
        return None

    def at(self, url: str) -> Provider:
        """This provider, for requests to `url`: itself, unless its scheme signs the URL (Twilio's does)."""
        web_url(url, "url")
        return self

    @classmethod
    def new_secret(cls) -> str:
        """A fresh secret in this provider's format, for a provider made without one."""
        raise UsageTypeError(f"{cls.__name__} makes no secret of its own: pass one, {cls.__name__}(secret='...'), "
                             "or define the class method new_secret() that makes one")  # fmt: skip

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
        return sorted(templates(cls.name))

    def event(self, event_type: str, **overrides) -> Payload:
        """A realistic payload for `event_type`, with fresh ids and timestamps and your overrides."""
        known = templates(self.name)
        text(event_type, "event_type", f"one of {self.title}'s event types, such as {min(known, default='ping')!r}")
        if event_type not in known:
            listed = f"Known types: {', '.join(sorted(known))}" if known else (
                "It has no payload templates: sign the event as a dict, or define event() on its class")  # fmt: skip
            raise UsageError(f"{self.title} has no event type {event_type!r}. {listed}")
        payload = copy.deepcopy(known[event_type])
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
                raise UsageTypeError(
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
        if isinstance(event_value(event, self.title), (bytes, bytearray)):
            return bytes(event)
        try:
            text = event if isinstance(event, str) else json.dumps(
                event, indent=self.json_indent, separators=None if self.json_indent else (",", ":"), ensure_ascii=False)
            return text.encode("utf-8")
        except (TypeError, ValueError) as error:  # a value JSON cannot write, a dict that holds itself, a lone surrogate
            raise (UsageTypeError if isinstance(error, TypeError) else UsageError)(
                f"{self.title} sends a JSON body in UTF-8: the event must be a payload from event(), a dict (of str, "
                f"numbers, lists and dicts), or the body as bytes or str, and {got(event)} cannot be written ({error})"
            ) from None

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
        timestamp, delivery_id, event_type = sign_options(timestamp, delivery_id, event_type)
        body = self.serialize(event)
        data = event if isinstance(event, dict) else parse_json(body, None)
        payload = Payload(data if isinstance(data, dict) else {}, event_type or getattr(event, "event_type", "") or "")
        timestamp = int(time.time()) if timestamp is None else timestamp
        header = Header([], timestamp, delivery_id or self.new_delivery_id())
        return body, self._headers(payload, body, self._signatures(body, header), timestamp, header.message_id)

    def new_delivery_id(self) -> str:
        """A fresh id for one delivery, in this provider's format; a redelivery keeps the first one's."""
        return str(uuid.uuid4())

    def _signatures(self, body: bytes, header: Header) -> list[str]:
        """The body's signature under each secret (with the header's timestamp and id, where they are signed)."""
        return [self._digest(self._key(s), self._signed_content(body, header)) for s in self.secrets]

    def _matches(self, body: bytes, header: Header) -> bool:
        """Whether any signature the header carries is the body's under any secret, compared in constant time."""
        return any(_same(d, r) for d in self._signatures(body, header) for r in header.signatures)

    def verify(self, body: bytes | str, headers, *, tolerance: float | None = WINDOW, now: float | None = None):
        """The parsed event, if `body` carries a valid signature; otherwise SignatureError says why.

        `tolerance` is how many seconds old (or, where the scheme refuses those, in the future) a signed
        timestamp may be: by default the provider's `window`; None skips the check. `now` (unix
        seconds) is the time to judge the timestamp by; by default, now.
        """
        explanation = self.explain(body, headers, tolerance=tolerance, now=now)
        if not explanation.ok:
            raise SignatureError(explanation.reason, explanation.message)
        return explanation.payload

    def explain(self, body: bytes | str, headers, *, tolerance: float | None = WINDOW, now: float | None = None,
                diagnose: bool = True) -> Explanation:  # fmt: skip
        """Every step of verifying, shown: what was signed, the key, both digests, where they differ.

        A mismatch names the likely cause (a re-serialised body, a wrong kind of secret) for bodies up to
        DIAGNOSIS_LIMIT; `diagnose=False` gives the verdict alone (one HMAC per secret), as capture stores it.
        """
        diagnose = flag(diagnose, "diagnose", "False gives the verdict without looking for the likely cause")
        body, pairs = body_bytes(body), header_pairs(headers)
        headers = lower_headers(pairs)
        now = time.time() if now is None else seconds(now, "now", ": unix seconds, like time.time()", negative=True)
        tolerance = tolerance_for(self, tolerance)
        out = Explanation(self.title)
        try:
            only_once(pairs, (self.signature_header, *self.single_headers))
            header = self._read_header(headers)
        except SignatureError as error:
            return out.fail(error.reason, str(error))
        out.add("signature header", f"{self.signature_header}: {_clip(headers.get(self.signature_header.lower(), ''))}")
        content = self._signed_content(body, header)
        out.add("signed content", _show(content))
        expected = self._show_keys(out, body, header)
        for received in header.signatures[:SHOWN_SIGNATURES]:
            out.add(f"received ({self.digest_encoding})", _clip(received))
        if len(header.signatures) > SHOWN_SIGNATURES:
            out.add("more received", f"{len(header.signatures) - SHOWN_SIGNATURES} more signatures, checked but not shown")
        if not self._matches(body, header):
            if expected is not None:
                first = _first_difference(expected, header.signatures[0] if header.signatures else "")
                out.add("first difference", f"at character {first}" if first is not None else "none")
            cause = explain_mismatch(self, body, header, out) if diagnose else undiagnosed(mismatch(self))
            return out.fail("no_matching_signature", cause)
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

    def _show_keys(self, out: Explanation, body: bytes, header: Header) -> str | None:
        """A row for each key (masked) and the signature it expects; returns the first, to compare with.

        None where a key checks a signature without making one (a public key).
        """
        expected = self._signatures(body, header)
        for secret, digest in zip(self.secrets, expected):
            out.add("key", f"{mask(secret)}, used as {self.key_note}")
            out.add(f"expected ({self.digest_encoding})", digest)
        return expected[0]

    def _secret_hint(self, secret: str) -> str | None:
        return None

    # -- sending ------------------------------------------------------------------------

    def send(self, event, to: str, *, timeout: float | tuple[float, float] | None = None, **sign_options) -> Attempt:
        """Sign `event` for `to` and POST it once there, with this provider's headers and timeout (or `timeout`)."""
        timeout = request_timeout(timeout)
        body, headers = self.at(to).sign(event, **sign_options)
        return post(to, body, headers, timeout=timeout or self.timeout)

    def policy_for(self, event) -> RetryPolicy:
        """The retry policy this provider applies to `event`."""
        event_value(event, self.title)
        return self.policy

    policy: RetryPolicy = RetryPolicy()

    delivery_class = Delivery  # how a delivery's attempts go out; a provider may add to its retries (Slack)

    def deliver(self, event, to: str, *, policy: RetryPolicy | None = None, clock=None, background: bool = False,
                on_attempt=None) -> Delivery:  # fmt: skip
        """Deliver with retries on this provider's schedule (or `policy`), timed by `clock`.

        With wl.VirtualClock() the waits take no time; every attempt is still a real POST.
        `background=True` returns at once; `.wait()` on the delivery for the end.
        """
        background = flag(background, "background", "True returns at once, and .wait() waits for the end")
        delivery = self.delivery_class(self.at(to), event, to, policy=policy, clock=clock, on_attempt=on_attempt)
        return delivery.start() if background else delivery.run()

    def deliver_many(self, events, to: str, **options) -> Deliveries:
        """Deliver several events concurrently: see webhooklab.delivery.deliver_many for the options."""
        return deliver_many(self.at(to), events, to, **options)

    def __repr__(self) -> str:
        secrets = ", ".join(mask(s) for s in self.secrets)
        return f"<{type(self).__name__} secret={secrets}>"


def _same(a: str, b: str) -> bool:
    """Compare in constant time. UTF-8 with surrogatepass encodes any str, so a received value never raises."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")
