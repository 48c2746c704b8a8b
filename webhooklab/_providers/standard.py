"""Standard Webhooks (and Svix): `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from datetime import datetime, timezone

from .._errors import SignatureError
from .._retry import RetryPolicy
from .base import TIMESTAMP, Header, Payload, Provider
from .explain import _quote, mask
from .registry import string_field
from .resources import templates


class StandardWebhooks(Provider):
    """The Standard Webhooks scheme, which Svix sends with `svix-` header names (prefix="svix").

    The secret is `whsec_` and base64 of 24 to 64 random bytes; the key is
    those bytes. The id and the timestamp are signed with the body, and the
    timestamp must be within the tolerance both ways (too old or too new).
    """

    name = "standard"
    title = "Standard Webhooks"
    signature_header = "webhook-signature"
    digest_encoding = "base64"
    key_note = "the base64-decoded bytes after whsec_"
    signs = "the body, the webhook-id and the webhook-timestamp"
    user_agent = "webhooklab-standard-webhooks/1.0"
    policy = RetryPolicy.standard()
    timeout = 15.0  # the specification recommends 15 to 30 s
    _rejects_future = True
    first_event = "invoice.paid"

    def __init__(self, secret: str | list[str] | None = None, *, prefix: str = "webhook"):
        super().__init__(secret)
        self.prefix = prefix

    @classmethod
    def recognise(cls, headers, payload):
        """webhook-id (svix-id from Svix) is the delivery; the envelope's type is the event."""
        for prefix in ("webhook", "svix"):
            if f"{prefix}-id" in headers:
                return string_field(payload, "type"), headers[f"{prefix}-id"]
        return None

    @classmethod
    def new_secret(cls) -> str:
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")

    def _key(self, secret: str) -> bytes:
        encoded = secret.removeprefix("whsec_")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not 24 <= len(key) <= 64:
            raise ValueError(
                f"a Standard Webhooks secret is 'whsec_' followed by base64 of 24 to 64 random bytes, but "
                f"{mask(secret)} is not ({len(key)} bytes decoded). StandardWebhooks() with no secret makes one."
            )
        return key

    def _read_header(self, headers: dict[str, str]) -> Header:
        prefix = "svix" if "svix-signature" in headers and "webhook-signature" not in headers else "webhook"
        missing = [f"{prefix}-{part}" for part in ("id", "timestamp", "signature") if f"{prefix}-{part}" not in headers]
        if missing:
            raise SignatureError(
                "missing_header",
                f"expected the headers webhook-id, webhook-timestamp and webhook-signature (svix- for Svix), but "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. All three are signed together.",
            )
        timestamp = headers[f"{prefix}-timestamp"]
        if not TIMESTAMP.fullmatch(timestamp):
            raise SignatureError(
                "malformed_header",
                f"expected {prefix}-timestamp to be whole unix seconds, 1 to 12 ASCII digits like 1700000000, but "
                f"it is {_quote(timestamp, 40)}. A sender writing a date, milliseconds or another script's digits "
                "is the usual cause.",
            )
        value = headers[f"{prefix}-signature"]
        signatures = [part[3:] for part in value.split() if part.startswith("v1,")]
        if not signatures:
            raise SignatureError(
                "malformed_header",
                f"expected {prefix}-signature to hold space-separated 'v1,<base64>' entries, but it is "
                f"{_quote(value, 100)}.",
            )
        return Header(signatures, int(timestamp), headers[f"{prefix}-id"])

    def _signed_content(self, body: bytes, header: Header) -> bytes:
        # surrogatepass: a webhook-id no HTTP request could carry still makes bytes, which then fail to match
        return f"{header.message_id}.{header.timestamp}.".encode("utf-8", "surrogatepass") + body

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        return {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            f"{self.prefix}-id": delivery_id,
            f"{self.prefix}-timestamp": str(timestamp),
            f"{self.prefix}-signature": " ".join(f"v1,{s}" for s in signatures),
        }

    def new_delivery_id(self) -> str:
        return "msg_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(27))

    def event(self, event_type: str, data: dict | None = None, **fields) -> Payload:
        """Any type with any data, in the specification's envelope: {"type", "timestamp", "data"}.

        The types in event_types() come with example data; for any other, pass yours.
        """
        example = templates(self.name).get(event_type, {}).get("data", {})
        body = {**example, **(data or {}), **fields}
        stamp = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        return Payload({"type": event_type, "timestamp": stamp, "data": body}, event_type)
