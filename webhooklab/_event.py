"""One captured request, and what its headers and body say about where it came from."""

from __future__ import annotations

import base64
import codecs
import json
import zlib
from dataclasses import dataclass, field, fields
from datetime import datetime
from urllib.parse import parse_qs

from werkzeug.datastructures import Headers as WerkzeugHeaders

from . import _redact
from ._errors import UsageTypeError

Headers = tuple[tuple[str, str], ...]

PREVIEW_CHARS = 60
# Bodies larger than this are not parsed just to fill the table's columns.
MAX_SNIFF_BYTES = 2 * 1024 * 1024
# A compressed body is never decoded past this: 200 KB of gzip can hold 200 MB. The same as the body limit.
MAX_DECODED_BYTES = 25 * 1024 * 1024


def _column(sql: str, name: str | None = None, **default):
    """A field of Event that is also a column of the store: its SQLite type, and its name there if another."""
    return field(metadata={"sql": sql, "column": name}, **default)


@dataclass(frozen=True, slots=True)
class Event:
    """A request as the receiver saw it: headers as sent, body byte for byte, and its answer.

    Its fields are the store's columns, in this order (see COLUMNS): the schema, the
    table, the JSON API and the exports all follow from this one definition.
    """

    id: int = _column("INTEGER PRIMARY KEY AUTOINCREMENT")  # never reused, so cursors stay valid after clear()
    received_at: datetime = _column("TEXT NOT NULL")  # ISO 8601, UTC, microseconds
    endpoint: str = _column("TEXT NOT NULL")
    method: str = _column("TEXT NOT NULL")
    path: str = _column("TEXT NOT NULL")
    query: str = _column("TEXT NOT NULL")
    header_pairs: Headers = _column("TEXT NOT NULL", "headers")  # JSON list of [name, value], as sent
    body: bytes = _column("BLOB NOT NULL")  # exactly the bytes received (of a rejected body, its start)
    content_type: str | None = _column("TEXT")
    size: int = _column("INTEGER NOT NULL")  # bytes received, all of them, though not all may be kept
    client: str = _column("TEXT NOT NULL")
    status: int = _column("INTEGER NOT NULL")  # the status the receiver answered with
    response_header_pairs: Headers = _column("TEXT NOT NULL", "response_headers")
    response_body: bytes = _column("BLOB NOT NULL")
    provider: str | None = _column("TEXT")
    event_type: str | None = _column("TEXT")
    delivery_id: str | None = _column("TEXT")
    preview: str = _column("TEXT NOT NULL")
    note: str | None = _column("TEXT")
    verified: bool | None = _column("INTEGER", default=None)  # None: the endpoint has no secret to check with
    reason: str | None = _column("TEXT", default=None)  # why verification failed: a SignatureError reason
    verification: str | None = _column("TEXT", default=None)  # the verifier's full message
    duplicate_of: int | None = _column("INTEGER", default=None)  # the first event with this delivery id here

    @property
    def headers(self) -> dict[str, str]:
        """Headers with their names as sent; a repeated header is joined with ', ' as HTTP allows."""
        return _as_dict(self.header_pairs)

    @property
    def response_headers(self) -> dict[str, str]:
        return _as_dict(self.response_header_pairs)

    def header(self, name: str, default: str | None = None) -> str | None:
        """One header, whatever the case of its name (HTTP header names are case-insensitive)."""
        if not isinstance(name, str):
            raise UsageTypeError(f"name must be a header's name, a str such as 'Content-Type', got {name!r}")
        return WerkzeugHeaders(self.header_pairs).get(name, default)

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
        """The table's columns, JSON-ready: what the events table, the JSON list and the exports show."""
        return {name: self._json_ready(name) for name in SUMMARY}

    def to_dict(self) -> dict:
        """Everything, JSON-ready: the body as base64 (exact) and as text when it is UTF-8; credentials masked."""
        return {
            **{name: self._json_ready(name) for name in (*SUMMARY, *DETAIL)},
            "headers": [list(pair) for pair in _redact.headers(self.header_pairs)],  # credentials masked
            "body_base64": base64.b64encode(self.body).decode("ascii"),
            "body_text": self.text,
            "json": self.json,
            "response": {
                "status": self.status,
                "headers": [list(pair) for pair in self.response_header_pairs],
                "body": self.response_body.decode("utf-8", "replace"),
            },
        }

    def _json_ready(self, name: str):
        if name == "query":
            return _redact.query(self.query)
        return self.received_at.isoformat() if name == "time" else getattr(self, name)

    def __repr__(self) -> str:
        kind = " ".join(part for part in (self.provider, self.event_type) if part)
        kind = f" {kind}" if kind else ""
        return (
            f"<Event {self.id}: {self.method} {self.path}{kind} -> {self.status}, "
            f"{self.size} bytes at {self.received_at:%H:%M:%S.%f}>"
        )


# The store's columns, derived from Event: (field, column name, SQLite type).
COLUMNS = tuple((f.name, f.metadata["column"] or f.name, f.metadata["sql"]) for f in fields(Event))
# The events table's columns, in the order a learner reads them ("time" is received_at): what came, its verdict and
# answer first, so a table cut at a notebook's width still shows them; the details after.
SUMMARY = ("id", "time", "endpoint", "event_type", "verified", "status", "duplicate_of", "provider", "reason",
           "delivery_id", "method", "size", "preview")  # fmt: skip
DETAIL = ("path", "query", "content_type", "client", "note", "verification")  # and the rest of one event, in full


def _as_dict(pairs: Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


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
    """Parse a JSON body, or the `payload` field GitHub sends with form encoding; None if neither.

    Strictly, as RFC 8259 reads JSON: NaN and Infinity, which Python's json module accepts, make it not JSON.
    """
    if (content_type or "").startswith("application/x-www-form-urlencoded"):
        try:
            body = parse_qs(body.decode("utf-8"), strict_parsing=True)["payload"][0].encode()
        except (UnicodeDecodeError, ValueError, KeyError):
            return None
    try:
        return json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError):  # includes JSONDecodeError and UnicodeDecodeError; deep nesting
        return None


def not_json_note(body: bytes, content_type: str | None) -> str | None:
    """Why a body Python's json module reads is still not JSON (a NaN or an Infinity in it); None if it is not that."""
    if b"NaN" not in body and b"Infinity" not in body or parse_json(body, content_type) is not None:
        return None
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return None
    return ("its body holds NaN or Infinity, which Python's json module reads but JSON (RFC 8259) does not allow: "
            "shown as text, not parsed. A sender that wrote a float with json.dumps' defaults is the likely cause")  # fmt: skip


def dumps(value) -> str:
    """JSON text that every parser reads: a NaN or an Infinity is refused (ValueError), never written."""
    return json.dumps(value, allow_nan=False)


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def preview(body: bytes) -> str:
    """A one-line glimpse of a (decoded) body for the events table, from its first few kilobytes."""
    if not body:
        return ""
    try:
        text = " ".join(codecs.getincrementaldecoder("utf-8")().decode(body[: PREVIEW_CHARS * 64]).split())
    except UnicodeDecodeError:
        return f"<{len(body)} bytes, not UTF-8 text>"
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
