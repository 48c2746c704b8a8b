"""Standard Webhooks (and Svix): `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

The specification's asymmetric form signs the same string with Ed25519 and
writes `v1a,<base64 of the 64-byte signature>`, beside any `v1,` entries. The
sender keeps the `whsk_` secret key; a receiver holds the `whpk_` public key,
which checks signatures and can never make one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .._checks import got, text
from .._errors import SignatureError, UsageError, UsageTypeError
from .._sending.retry import RetryPolicy
from .arguments import DEFAULT_TOLERANCE, WINDOW, lower_headers
from .base import (
    Header,
    Payload,
    Provider,
    _b64,
    _same,
    read_timestamp,
)
from .explain import Explanation, _quote, mask
from .registry import string_field
from .resources import templates

SYMMETRIC, SECRET_KEY, PUBLIC_KEY = "whsec_", "whsk_", "whpk_"


class StandardWebhooks(Provider):
    """The Standard Webhooks scheme, which Svix sends with `svix-` header names (prefix="svix").

    The secret is `whsec_` and base64 of 24 to 64 random bytes; the key is
    those bytes (a `v1` HMAC-SHA256 signature). Or an Ed25519 key pair from
    keypair(): the `whsk_` secret key signs (`v1a`), the `whpk_` public key
    only verifies. The id and the timestamp are signed with the body, and the
    timestamp must be within the tolerance both ways (too old or too new).
    """

    name = "standard"
    title = "Standard Webhooks"
    signature_header = "webhook-signature"
    single_headers = ("webhook-id", "webhook-timestamp", "svix-id", "svix-timestamp", "svix-signature")
    digest_encoding = "base64"
    key_note = "the base64-decoded bytes after whsec_"
    signs = "the body, the webhook-id and the webhook-timestamp"
    algorithm = "HMAC-SHA256 (v1, whsec_) or Ed25519 (v1a, whsk_ signs, whpk_ verifies)"
    window = float(DEFAULT_TOLERANCE)  # the specification's 5 minutes, too old or too new
    replay_defence = "the signed timestamp, and the webhook-id inside the signed string"
    user_agent = "webhooklab-standard-webhooks/1.0"
    policy = RetryPolicy.standard()
    timeout = 15.0  # the specification recommends 15 to 30 s
    _rejects_future = True
    first_event = "invoice.paid"

    def __init__(self, secret: str | list[str] | None = None, *, prefix: str = "webhook"):
        """`secret`: a whsec_ secret, a whsk_ secret key (signs), a whpk_ public key (verifies only), or a list."""
        super().__init__(secret)
        self.prefix = text(prefix, "prefix", "the header names' prefix: 'webhook', or 'svix' for Svix")
        self._keys = [_key_object(s, self._key(s)) for s in self.secrets]  # (version, key) for each secret

    @classmethod
    def keypair(cls) -> tuple[str, str]:
        """A new Ed25519 key pair: (the whsk_ secret key the sender keeps, the whpk_ public key receivers get)."""
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes_raw()
        return SECRET_KEY + _b64(private.private_bytes_raw()), PUBLIC_KEY + _b64(public)

    @property
    def can_sign(self) -> bool:
        """False when a key is a whpk_ public key: it checks signatures and cannot make one."""
        return not any(isinstance(key, Ed25519PublicKey) for _, key in self._keys)

    @classmethod
    def recognise(cls, headers, payload):
        """webhook-id (svix-id from Svix) is the delivery, read where the check reads it; the envelope's type is the event."""
        if "webhook-id" not in headers and "svix-id" not in headers:
            return None
        return string_field(payload, "type"), headers.get(f"{_prefix(headers)}-id")

    @classmethod
    def new_secret(cls) -> str:
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")

    def _key(self, secret: str) -> bytes:
        if secret.startswith((SECRET_KEY, PUBLIC_KEY)):
            return _ed25519_bytes(secret)
        key = _decode(secret.removeprefix(SYMMETRIC))
        if not 24 <= len(key) <= 64:
            raise UsageError(
                f"a Standard Webhooks secret is 'whsec_' followed by base64 of 24 to 64 random bytes, but "
                f"{mask(secret)} is not ({len(key)} bytes decoded). StandardWebhooks() with no secret makes one."
            )
        return key

    def _read_header(self, headers: dict[str, str]) -> Header:
        prefix = _prefix(headers)
        missing = [f"{prefix}-{part}" for part in ("id", "timestamp", "signature") if f"{prefix}-{part}" not in headers]
        if missing:
            raise SignatureError(
                "missing_header",
                f"expected the headers webhook-id, webhook-timestamp and webhook-signature (svix- for Svix), but "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. All three are signed together.",
            )
        timestamp = read_timestamp(headers[f"{prefix}-timestamp"], f"{prefix}-timestamp", "1700000000",
                                   "A sender writing a date, milliseconds or another script's digits is the usual cause.")  # fmt: skip
        value = headers[f"{prefix}-signature"]
        signatures = [part for part in value.split() if part.startswith(("v1,", "v1a,"))]
        if not signatures:
            raise SignatureError(
                "malformed_header",
                f"expected {prefix}-signature to hold space-separated 'v1,<base64>' entries (HMAC) or "
                f"'v1a,<base64>' ones (Ed25519), but it is {_quote(value, 100)}.",
            )
        return Header(signatures, timestamp, headers[f"{prefix}-id"])

    def _signed_content(self, body: bytes, header: Header) -> bytes:
        # surrogatepass: a webhook-id no HTTP request could carry still makes bytes, which then fail to match
        return f"{header.message_id}.{header.timestamp}.".encode("utf-8", "surrogatepass") + body

    # Each signature is written with its version, `v1,...` or `v1a,...`, as it goes in the header.

    def _signatures(self, body: bytes, header: Header) -> list[str]:
        if not self.can_sign:
            raise UsageError(
                f"{self._public_key()} is a whpk_ public key: it verifies v1a signatures but cannot make one. "
                "That is the point of a key pair: only the sender, holding the whsk_ secret key, can sign, so a "
                "receiver given the public key can never forge a webhook. Sign with StandardWebhooks(secret_key) "
                "from keypair()."
            )
        content = self._signed_content(body, header)
        return [_sign(version, key, content) for version, key in self._keys]

    def _public_key(self) -> str:
        """The first whpk_ key held, masked as every key is shown."""
        return next(mask(s) for s, (_, key) in zip(self.secrets, self._keys) if isinstance(key, Ed25519PublicKey))

    def _matches(self, body: bytes, header: Header) -> bool:
        """Any v1 entry equal to an HMAC of ours (constant time), or any v1a entry Ed25519 accepts with our keys."""
        content = self._signed_content(body, header)
        for version, key in self._keys:
            if version == "v1":
                mine = _sign(version, key, content)
                if any(_same(mine, received) for received in header.signatures):
                    return True
            elif any(_ed25519_accepts(key, received, content) for received in header.signatures):
                return True
        return False

    def _show_keys(self, out: Explanation, body: bytes, header: Header) -> str | None:
        content, compared = self._signed_content(body, header), None
        first = header.signatures[0].partition(",")[0] if header.signatures else None
        for secret, (version, key) in zip(self.secrets, self._keys):
            if isinstance(key, Ed25519PublicKey):
                out.add("key", f"{mask(secret)}, an Ed25519 public key: it checks v1a signatures and cannot make one")
                verdicts = [_ed25519_accepts(key, r, content) for r in header.signatures if r.startswith("v1a,")]
                out.add("Ed25519 check", "a v1a signature verifies" if any(verdicts) else
                        f"none of the {len(verdicts)} v1a signature(s) verifies" if verdicts else
                        "no v1a entry to check")  # fmt: skip
                continue
            note = "the base64-decoded bytes after whsec_ (HMAC-SHA256)" if version == "v1" else (
                "an Ed25519 secret key (Ed25519 signs deterministically: this is the signature expected)")  # fmt: skip
            digest = _sign(version, key, content)
            out.add("key", f"{mask(secret)}, used as {note}")
            out.add(f"expected ({self.digest_encoding})", digest)
            compared = compared or (digest if version == first else None)
        return compared

    def explain(self, body, headers, *, tolerance: float | None = WINDOW, now: float | None = None,
                diagnose: bool = True):  # fmt: skip
        out = super().explain(body, headers, tolerance=tolerance, now=now, diagnose=diagnose)
        diagnosed = diagnose and not any(step == "body as signed" for step, _ in out.steps)
        if out.reason == "no_matching_signature" and diagnosed:
            cause = self._likely_cause(lower_headers(headers))  # a re-serialised body, when diagnosed, says so instead
            if cause:
                out.fail(out.reason, cause)
        return out

    def _likely_cause(self, headers: dict[str, str]) -> str | None:
        """Why nothing matched, where the keys tell more than the shared diagnosis: a kind of signature none
        of them checks, or a public key, which can only say that the request was not signed by its pair."""
        try:
            received = {r.partition(",")[0] for r in self._read_header(headers).signatures}
        except SignatureError:
            return None
        held = {version for version, _ in self._keys}
        if received & held:
            if self.can_sign:
                return None
            return (
                f"no v1a signature in the signature header verifies with the public key {self._public_key()}. "
                f"Either something the signature covers ({self.signs}) changed after it was signed, or the "
                "request was signed with another key pair's secret key (a forgery, or a rotated key): check "
                "that this is the public key the sender publishes for this endpoint."
            )
        if received == {"v1a"}:
            return (
                "no signature matches: the header carries only v1a (Ed25519) signatures, and this verifier holds "
                "only whsec_ secrets, which check v1 (HMAC) ones. Verify with the sender's whpk_ public key."
            )
        return (
            "no signature matches: the header carries only v1 (HMAC) signatures, made with a whsec_ secret, and "
            "this verifier holds only Ed25519 keys, which check v1a ones. Verify with the endpoint's whsec_ "
            "secret, or have the sender sign with its whsk_ secret key."
        )

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        return {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            f"{self.prefix}-id": delivery_id,
            f"{self.prefix}-timestamp": str(timestamp),
            f"{self.prefix}-signature": " ".join(signatures),
        }

    def new_delivery_id(self) -> str:
        return "msg_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(27))

    def event(self, event_type: str, data: dict | None = None, **fields) -> Payload:
        """Any type with any data, in the specification's envelope: {"type", "timestamp", "data"}.

        The types in event_types() come with example data; for any other, pass yours.
        """
        text(event_type, "event_type", "the event's type, such as 'invoice.paid' (any type: pass its data too)")
        if data is not None and not isinstance(data, dict):
            raise UsageTypeError(f"data is the event's data, a dict such as {{'id': 'inv_1'}}, got {got(data)}")
        example = templates(self.name).get(event_type, {}).get("data", {})
        body = {**example, **(data or {}), **fields}
        stamp = datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
        return Payload({"type": event_type, "timestamp": stamp, "data": body}, event_type)


def _prefix(headers: dict[str, str]) -> str:
    """The header names in use, the specification's (webhook-) or Svix's (svix-): those of the signature, else the id's."""
    for part in ("signature", "id"):
        for prefix in ("webhook", "svix"):
            if f"{prefix}-{part}" in headers:
                return prefix
    return "webhook"


def _decode(text: str) -> bytes:
    """Strict base64; b"" for anything that is not, so the caller's length check names the problem."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _ed25519_bytes(secret: str) -> bytes:
    """The 32-byte seed of a whsk_ key, or the 32 bytes of a whpk_ one; ValueError says what is wrong."""
    public = secret.startswith(PUBLIC_KEY)
    raw = _decode(secret.removeprefix(PUBLIC_KEY if public else SECRET_KEY))
    if len(raw) == 32:
        return raw
    if not public and len(raw) == 64:
        # The seed then the public key, as libsodium writes a secret key: the halves must belong together.
        seed, half = raw[:32], raw[32:]
        if Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw() == half:
            return seed
    kind = "public key is 'whpk_' followed by base64 of the 32-byte key" if public else (
        "secret key is 'whsk_' followed by base64 of the 32-byte Ed25519 seed (or of the 64 bytes of seed "
        "and public key)")  # fmt: skip
    raise UsageError(
        f"a Standard Webhooks {kind}, but {mask(secret)} is not ({len(raw)} bytes decoded). "
        "StandardWebhooks.keypair() makes a matching pair."
    )


def _key_object(secret: str, raw: bytes):
    """("v1", HMAC key bytes) for a whsec_ secret; ("v1a", an Ed25519 key object) for a whsk_ or whpk_ one."""
    if secret.startswith(SECRET_KEY):
        return "v1a", Ed25519PrivateKey.from_private_bytes(raw)
    if secret.startswith(PUBLIC_KEY):
        return "v1a", Ed25519PublicKey.from_public_bytes(raw)
    return "v1", raw


def _sign(version: str, key, content: bytes) -> str:
    if version == "v1":
        return "v1," + _b64(hmac.new(key, content, hashlib.sha256).digest())
    return "v1a," + _b64(key.sign(content))


def _ed25519_accepts(key, received: str, content: bytes) -> bool:
    """Whether `received` is a v1a entry whose signature Ed25519 accepts; never raises, whatever arrived."""
    if not received.startswith("v1a,"):
        return False
    signature = _decode(received[4:])
    if len(signature) != 64:
        return False
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    try:
        public.verify(signature, content)
    except InvalidSignature:
        return False
    return True
