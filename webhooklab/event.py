"""One captured request, and what its headers and body say about where it came from."""

from __future__ import annotations

import base64
import codecs
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs

Headers = tuple[tuple[str, str], ...]

PREVIEW_CHARS = 60
# Bodies larger than this are not parsed just to fill the table's columns.
MAX_SNIFF_BYTES = 2 * 1024 * 1024
# A compressed body is never decoded past this: 200 KB of gzip can hold 200 MB. The same as the body limit.
MAX_DECODED_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Event:
    """A request as the receiver saw it: headers as sent, body byte for byte, and its answer."""

    id: int
    received_at: datetime
    endpoint: str
    method: str
    path: str
    query: str
    header_pairs: Headers
    body: bytes
    content_type: str | None
    size: int
    client: str
    status: int
    response_header_pairs: Headers
    response_body: bytes
    provider: str | None
    event_type: str | None
    delivery_id: str | None
    preview: str
    note: str | None
    verified: bool | None = None  # None: the endpoint has no secret to check with
    reason: str | None = None
    verification: str | None = None
    duplicate_of: int | None = None  # the first event with the same delivery id at this endpoint

    @property
    def headers(self) -> dict[str, str]:
        """Headers with their names as sent; a repeated header is joined with ', ' as HTTP allows."""
        return _as_dict(self.header_pairs)

    @property
    def response_headers(self) -> dict[str, str]:
        return _as_dict(self.response_header_pairs)

    def header(self, name: str, default: str | None = None) -> str | None:
        """One header, whatever the case of its name (HTTP header names are case-insensitive)."""
        return _header(self.header_pairs, name, default)

    @property
    def decoded_body(self) -> bytes:
        """The body with any gzip or deflate Content-Encoding undone (`body` stays as received).

        A body that does not decode, or would decode to more than MAX_DECODED_BYTES, is returned as it is.
        """
        decoded, complete = decompress(self.body, self.header("Content-Encoding"))
        return decoded if complete else self.body

    @property
    def text(self) -> str | None:
        """The decoded body as UTF-8 text, or None when it is not valid UTF-8."""
        try:
            return self.decoded_body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    @property
    def json(self):
        """The body parsed as JSON (GitHub's form-encoded `payload=` too), or None if it is not JSON."""
        return parse_json(self.decoded_body, self.content_type)

    def summary(self) -> dict:
        """The short, JSON-ready form used by the table, the JSON API and the command line."""
        return {
            "id": self.id,
            "time": self.received_at.isoformat(),
            "endpoint": self.endpoint,
            "method": self.method,
            "provider": self.provider,
            "event_type": self.event_type,
            "delivery_id": self.delivery_id,
            "status": self.status,
            "size": self.size,
            "preview": self.preview,
            "path": self.path,
            "query": self.query,
            "content_type": self.content_type,
            "client": self.client,
            "note": self.note,
            "verified": self.verified,
            "reason": self.reason,
            "verification": self.verification,
            "duplicate_of": self.duplicate_of,
        }

    def to_dict(self) -> dict:
        """Everything, JSON-ready: the body as base64 (exact) and as text when it is UTF-8."""
        return {
            **self.summary(),
            "headers": [list(pair) for pair in self.header_pairs],
            "body_base64": base64.b64encode(self.body).decode("ascii"),
            "body_text": self.text,
            "json": self.json,
            "response": {
                "status": self.status,
                "headers": [list(pair) for pair in self.response_header_pairs],
                "body": self.response_body.decode("utf-8", "replace"),
            },
        }

    def __repr__(self) -> str:
        kind = " ".join(part for part in (self.provider, self.event_type) if part)
        kind = f" {kind}" if kind else ""
        return (
            f"<Event {self.id}: {self.method} {self.path}{kind} -> {self.status}, "
            f"{self.size} bytes at {self.received_at:%H:%M:%S.%f}>"
        )


def _as_dict(pairs: Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _header(pairs: Headers, name: str, default: str | None = None) -> str | None:
    wanted = name.lower()
    for key, value in pairs:
        if key.lower() == wanted:
            return value
    return default


def decompress(body: bytes, encoding: str | None, limit: int = MAX_DECODED_BYTES) -> tuple[bytes, bool]:
    """(decoded, complete): gzip or deflate undone, a megabyte at a time, never holding more than `limit`.

    `complete` is False, and `decoded` empty, when the decoded form would be
    larger than `limit`. A body that is not encoded, or does not decode,
    comes back as it is.
    """
    encoding = (encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS
    else:
        return body, True
    pieces, size, rest = [], 0, body
    try:
        while rest:  # a gzip body may hold several members, one after another
            decoder, data = zlib.decompressobj(wbits), rest
            while not decoder.eof:
                piece = decoder.decompress(data, 1024 * 1024)
                data = decoder.unconsumed_tail
                if not (piece or data or decoder.eof):
                    return body, True  # cut short: it does not decode
                size += len(piece)
                if size > limit:
                    return b"", False
                pieces.append(piece)
            rest = decoder.unused_data
    except zlib.error:
        return body, True
    return b"".join(pieces), True


def parse_json(body: bytes, content_type: str | None):
    """Parse a JSON body, or the `payload` field GitHub sends with form encoding; None if neither."""
    if (content_type or "").startswith("application/x-www-form-urlencoded"):
        try:
            body = parse_qs(body.decode("utf-8"), strict_parsing=True)["payload"][0].encode()
        except (UnicodeDecodeError, ValueError, KeyError):
            return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # includes JSONDecodeError and UnicodeDecodeError; deep nesting
        return None


def preview(body: bytes) -> str:
    """A one-line glimpse of a (decoded) body for the events table, from its first few kilobytes."""
    if not body:
        return ""
    try:
        text = " ".join(codecs.getincrementaldecoder("utf-8")().decode(body[: PREVIEW_CHARS * 64]).split())
    except UnicodeDecodeError:
        return f"<{len(body)} bytes, not UTF-8 text>"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def identify(pairs: Headers, body: bytes, content_type: str | None):
    """(provider, event type, delivery id) as far as the headers and the (decoded) body tell them.

    Each provider is recognised by a header only it sends; the event type and
    the id to deduplicate on come from wherever that provider puts them.
    """
    headers = {name.lower(): value for name, value in pairs}
    payload = parse_json(body, content_type) if len(body) <= MAX_SNIFF_BYTES else None
    fields = payload if isinstance(payload, dict) else {}

    def field(name):
        value = fields.get(name)
        return value if isinstance(value, str) else None

    if "x-github-event" in headers:
        kind = headers["x-github-event"]
        if field("action"):
            kind = f"{kind}.{field('action')}"
        return "github", kind, headers.get("x-github-delivery")
    if "x-shopify-topic" in headers:
        return "shopify", headers["x-shopify-topic"], headers.get("x-shopify-webhook-id")
    if "stripe-signature" in headers or headers.get("user-agent", "").startswith("Stripe/"):
        return "stripe", field("type"), field("id")
    for prefix in ("webhook", "svix"):
        if f"{prefix}-id" in headers:
            return "standard", field("type"), headers[f"{prefix}-id"]
    return None, field("type") or field("event"), None
