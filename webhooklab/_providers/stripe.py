"""Stripe: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`, keyed with the whole whsec_ secret."""

from __future__ import annotations

import re
import secrets
import string
import time

from .._checks import event_value, got
from .._errors import SignatureError, UsageTypeError
from .._sending.retry import RetryPolicy
from .base import Header, Provider, read_timestamp
from .explain import _quote, mask
from .registry import string_field

# Long-lived objects keep their ids from one event to the next; everything else is new each time.
STABLE_PREFIXES = {"cus", "pm", "price", "prod", "card"}
ID = re.compile(r"(?<![A-Za-z0-9])([a-z]+(?:_[a-z]+)?)_([A-Za-z0-9]{14,})")
# Object keys whose value is a unix time, shifted together so intervals between them are kept.
TIME_KEYS = re.compile(r"^(created|.*_at|.*_date|.*_start|.*_end|billing_cycle_anchor|trial_end|expires_at)$")


class Stripe(Provider):
    """Stripe's webhooks: pretty-printed JSON Event objects, signed with a timestamp.

    Only `v1` signatures count; test-mode events also carry a `v0` one, which
    verifiers must ignore. The tolerance (default 300 s) rejects old
    timestamps only, as Stripe's own libraries do.
    """

    name = "stripe"
    title = "Stripe"
    signature_header = "Stripe-Signature"
    key_note = "the UTF-8 bytes of the whole secret"
    signs = "the body and the t= timestamp"
    window = 300.0  # DEFAULT_TOLERANCE of Stripe's libraries; they reject only timestamps that are too old
    replay_defence = "the signed t= timestamp, and the event id inside the signed body"
    # Our assumption: the User-Agent, Accept and Cache-Control headers are as seen on Stripe's requests, not documented.
    user_agent = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
    # Assumption: Stripe does not publish its webhook timeout; 30 s is what we use.
    timeout = 30.0
    json_indent = 2
    friendly = ("amount", "currency", "email", "customer", "metadata", "livemode", "description")
    first_event = "payment_intent.succeeded"
    triggers = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded",
                "checkout.session.completed", "customer.subscription.created")  # fmt: skip
    where_to_subscribe = (
        "Stripe Dashboard > Developers > Webhooks > Add endpoint (or `stripe listen --forward-to` while "
        "developing); copy the endpoint's signing secret (whsec_...)"
    )

    def policy_for(self, event) -> RetryPolicy:
        """Live-mode events retry for up to three days; test-mode events three times over a few hours."""
        event_value(event, self.title)
        return RetryPolicy.stripe(live=bool(isinstance(event, dict) and event.get("livemode")))

    @classmethod
    def recognise(cls, headers, payload):
        """Stripe-Signature, or Stripe's User-Agent; the Event object carries its type and id."""
        if "stripe-signature" not in headers and not headers.get("user-agent", "").startswith("Stripe/"):
            return None
        return string_field(payload, "type"), string_field(payload, "id")

    @classmethod
    def new_secret(cls) -> str:
        return "whsec_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))

    def _read_header(self, headers: dict[str, str]) -> Header:
        value = headers.get("stripe-signature")
        if value is None:
            raise SignatureError(
                "missing_header",
                "there is no Stripe-Signature header. Stripe signs every webhook; a request without it did not "
                "come from Stripe (or a proxy dropped the header).",
            )
        timestamps, v1 = [], []
        for item in value.split(","):
            key, _, item_value = item.strip().partition("=")
            if key == "t":
                timestamps.append(item_value)
            elif key == "v1":
                v1.append(item_value)
        if len(timestamps) != 1:
            raise SignatureError(
                "malformed_header",
                "expected Stripe-Signature to look like 't=1700000000,v1=<64 hex digits>', but it is "
                f"{_quote(value, 120)}: it has no single numeric t= timestamp ({len(timestamps)} t= entries).",
            )
        timestamp = read_timestamp(timestamps[0], "the t= timestamp in Stripe-Signature", "t=1700000000",
                                   "Stripe always sends ten digits: the header was corrupted or made up by hand.")  # fmt: skip
        if not v1:
            raise SignatureError(
                "malformed_header",
                f"Stripe-Signature {_quote(value, 120)} has no v1= signature. Only v1 counts: a v0= entry is a "
                "test-mode decoy that verifiers must ignore.",
            )
        return Header(v1, timestamp)

    def _signed_content(self, body: bytes, header: Header) -> bytes:
        return f"{header.timestamp}.".encode() + body

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        parts = [f"t={timestamp}", *(f"v1={s}" for s in signatures)]
        if not payload.get("livemode", False):
            parts.append(f"v0={secrets.token_hex(32)}")  # test mode's decoy: never a valid signature
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self.user_agent,
            "Accept": "*/*; q=0.5, application/xml",
            "Cache-Control": "no-cache",
            "Stripe-Signature": ",".join(parts),
        }

    def _secret_hint(self, secret: str) -> str | None:
        if secret.startswith(("sk_", "rk_", "pk_")):
            return (
                f"the secret {mask(secret)} is an API key. Webhooks are signed with the endpoint's signing "
                "secret, which starts with whsec_ (Dashboard > Developers > Webhooks, or `stripe listen`)."
            )
        if not secret.startswith("whsec_"):
            return "the secret does not start with whsec_, as a Stripe endpoint's signing secret does."
        return None

    # -- payloads -----------------------------------------------------------------------

    def _refresh(self, payload: dict, event_type: str) -> None:
        fresh: dict[str, str] = {}

        def new_id(match: re.Match) -> str:
            prefix, tail = match.groups()
            if prefix in STABLE_PREFIXES:
                return match.group(0)
            if match.group(0) not in fresh:
                fresh[match.group(0)] = f"{prefix}_{_random_tail(len(tail))}"
            return fresh[match.group(0)]

        shift = int(time.time()) - payload["created"]
        _walk(payload, strings=lambda s: ID.sub(new_id, s), times=lambda t: t + shift)

    def _apply(self, payload: dict, key: str, value) -> bool:
        obj = payload["data"]["object"]
        if key == "amount":
            _set_amount(obj, _amount(value))
        elif key == "currency":
            _set_everywhere(obj, {"currency"}, str(value).lower())
        elif key == "email":
            _set_everywhere(obj, {"email", "receipt_email", "customer_email"}, value)
        elif key == "customer":
            _set_everywhere(obj, {"customer"}, value)
        elif key == "metadata":
            if not isinstance(value, dict):
                raise UsageTypeError(f"metadata is a dict of str to str, such as {{'order_id': '42'}}, got {got(value)}")
            obj["metadata"] = {**obj.get("metadata", {}), **value}
        elif key == "livemode":
            payload["livemode"] = obj["livemode"] = bool(value)
        elif key in obj:  # any other field of the object itself: status, description...
            obj[key] = value
        else:
            return False
        return True

    def _settable(self, payload: dict):
        return payload["data"]["object"].keys()


def _amount(value) -> int:
    """An amount in the smallest currency unit (2000 is 20.00), as a whole number, or a str of digits."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UsageTypeError(
            f"amount is in the smallest currency unit, a whole number such as 2000 for 20.00, got {got(value)}"
        ) from None


def _set_amount(obj: dict, amount: int) -> None:
    """Every field that carries the object's main amount, so the object stays consistent."""
    kind = obj.get("object")
    if kind == "payment_intent":
        obj["amount"] = amount
        if obj.get("amount_received"):
            obj["amount_received"] = amount
    elif kind == "charge":
        obj["amount"] = obj["amount_captured"] = amount
        if obj.get("refunded"):
            obj["amount_refunded"] = amount
            for refund in obj.get("refunds", {}).get("data", []):
                refund["amount"] = amount
    elif kind == "checkout.session":
        obj["amount_subtotal"] = obj["amount_total"] = amount
    elif kind == "subscription":
        for item in obj["items"]["data"]:
            item["price"]["unit_amount"] = amount
            item["price"]["unit_amount_decimal"] = str(amount)
            if item.get("plan"):
                item["plan"]["amount"] = amount
                item["plan"]["amount_decimal"] = str(amount)


def _set_everywhere(value, keys: set[str], new) -> None:
    """Set each of `keys` wherever it already appears with a value in the nested object."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in keys and inner is not None and not isinstance(inner, (dict, list)):
                value[key] = new
            else:
                _set_everywhere(inner, keys, new)
    elif isinstance(value, list):
        for inner in value:
            _set_everywhere(inner, keys, new)


def _walk(value, *, strings, times, key: str = ""):
    """Rewrite a nested payload in place: strings through `strings`, unix times through `times`."""
    if isinstance(value, dict):
        for k, inner in value.items():
            value[k] = _walk(inner, strings=strings, times=times, key=k)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            value[i] = _walk(inner, strings=strings, times=times, key=key)
    elif isinstance(value, str):
        return strings(value)
    elif isinstance(value, int) and not isinstance(value, bool) and TIME_KEYS.match(key) and value > 10**9:
        return times(value)
    return value


def _random_tail(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))
