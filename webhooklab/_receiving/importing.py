"""A saved capture imported as new events: a HAR file, JSON Lines or a JSON array, as /api/export.* writes them.

Each request comes back with its method, path, query, headers (names, order and case as
captured), body bytes, time received, and the status and answer the file has; the
provider, event type, delivery id, preview and duplicates are worked out as capture
does (app.sniff), so the table, the page and replay treat it like any other event.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

from .._checks import got
from .._errors import UsageError, UsageTypeError
from .app import sniff
from .jsonstream import JsonStream, Malformed
from .server import DEFAULT_MAX_BODY

HAR_START = re.compile(r'\{\s*"log"\s*:')  # a HAR file is one object whose first (and only) key is "log"
LOOK_AHEAD = 4096  # characters read to tell a HAR file from JSON Lines
METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}")  # an HTTP method is a token (RFC 9110)
FALLBACK_ENDPOINT = "imported"  # a request that did not come to /hooks/<endpoint> is kept under this endpoint
MISSING = object()


def import_capture(store, path, *, max_body: int = DEFAULT_MAX_BODY) -> int:
    """Add every request saved in the file at `path` to `store` as a new event; return how many were added.

    The format is read from the content: a HAR 1.2 file ({"log": ...}), JSON Lines (an event
    a line) or a JSON array of events. All or nothing: an entry that is not what an export
    writes is a UsageError naming its line and entry and what was expected there, and the
    events added before it are taken out again. A body over `max_body` bytes is refused.
    Credentials that the export masked stay masked: the file does not hold them.
    """
    path = _readable(path)
    added: list[int] = []
    try:
        with path.open("rb") as raw:
            stream = JsonStream(raw, 16 * max_body + 1024 * 1024, path.name)  # base64 and text of one body, escaped
            kind, entries = _entries(stream)
            for where, entry in entries:
                where = f"{path.name}, {where}"
                if not isinstance(entry, dict):
                    raise Malformed(f"{where}: expected an entry, an object {{...}}, found {got(entry)}")
                fields = (_from_har if kind == "har" else _from_export)(entry, where, path.name)
                added.append(store.add(**_complete(fields, where, max_body)).id)
    except OSError as error:
        store.forget(added)
        raise UsageError(f"cannot read {str(path)!r}: {error.strerror or error}; nothing was imported") from None
    except BaseException:
        store.forget(added)
        raise
    return len(added)


def _readable(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise UsageTypeError(f"path must be the file to import, a str or a pathlib.Path, got {got(path)}")
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{str(path)!r} is a folder; expected a file saved from /api/export.har, .jsonl or .json")
    if not path.exists():
        raise UsageError(f"there is no file at {str(path)!r} (from {Path.cwd()}); expected a file saved from "
                         "/api/export.har, .jsonl or .json")  # fmt: skip
    return path


def _entries(stream: JsonStream):
    """(the format, its entries as (where, entry)), told from the first characters of the file."""
    first = stream.peek()
    if first == "[":
        return "export", _then_end(stream.items("entry"), stream, "the JSON array")
    if first == "{" and HAR_START.match(stream.ahead(LOOK_AHEAD)):
        return "har", _har_entries(stream)
    if first == "{":
        return "export", stream.lines()
    start = stream.ahead(20)
    raise Malformed(
        f"{stream.name}: expected a HAR file ({{\"log\": ...}}), JSON Lines (an event {{...}} a line) or a JSON array "
        f"([...]), as /api/export.har, .jsonl and .json write them; "
        + (f"it starts with {start!r}." if start else "it is empty.")
        + (" A CSV export holds the table's columns only, no headers or bodies: export as HAR or JSON Lines to "
           "import" if start.startswith("id,") else "")
    )  # fmt: skip


def _then_end(entries, stream: JsonStream, what: str):
    yield from entries
    stream.end(what)


def _har_entries(stream: JsonStream):
    """The entries of a HAR file's log, one at a time; the log's other members are passed over."""
    found = False
    for key in stream.members("the HAR file"):
        if key != "log":
            stream.skip(f"the HAR file's {key!r}")
            continue
        for inner in stream.members("the HAR file's log"):
            if inner == "entries":
                found = True
                yield from stream.items("entry")
            else:
                stream.skip(f"the log's {inner!r}")
    stream.end("the HAR file")
    if not found:
        raise Malformed(f'{stream.name}: its log has no "entries"; expected a HAR 1.2 file whose log holds '
                        '"entries": [...], one per request, as /api/export.har writes it')  # fmt: skip


def _get(obj: dict, key: str, kinds, where: str, expected: str, default=MISSING):
    """obj[key], of one of `kinds`, or `default` when it is absent (and given)."""
    value = obj.get(key, MISSING)
    if (value is MISSING or value is None) and default is not MISSING:  # null is absent, where it may be absent
        return default
    if value is MISSING:
        raise Malformed(f"{where}: it has no {key!r}; expected {expected}")
    if not isinstance(value, kinds) or isinstance(value, bool):  # JSON's true is no number
        raise Malformed(f"{where}: its {key!r} is {got(value)}; expected {expected}")
    return value


def _from_export(entry: dict, where: str, name: str) -> dict:
    """The fields of one event as /api/export.jsonl and .json write it (Event.to_dict)."""
    response = _get(entry, "response", dict, where, "the answer given, an object with status, headers and body", {})
    pairs = _get(entry, "headers", list, where, "the request's headers, a list of [name, value]")
    answer_pairs = _get(response, "headers", list, where, "the answer's headers, a list of [name, value]", [])
    if "body_base64" in entry or "body_text" not in entry:
        body = _base64(_get(entry, "body_base64", str, where, "the body in base64, as the export writes it"),
                       where, "body_base64")  # fmt: skip
    else:
        body = _get(entry, "body_text", str, where, "the body as text").encode("utf-8")
    verified = entry.get("verified")
    if verified not in (True, False, None):
        raise Malformed(f"{where}: its 'verified' is {got(verified)}; expected true, false or null")
    optional = {key: _get(entry, key, str, where, f"{key}, text or null", None)
                for key in ("endpoint", "content_type", "note", "reason", "verification")}  # fmt: skip
    return {
        **optional, "verified": verified,
        "received_at": _get(entry, "time", str, where, "the time it was received, ISO 8601 text"),
        "method": _get(entry, "method", str, where, "the request's method, such as 'POST'"),
        "path": _get(entry, "path", str, where, "the request's path, such as '/hooks/shop'"),
        "query": _get(entry, "query", str, where, "the query string, text ('' for none)", ""),
        "header_pairs": _pairs(pairs, where, "headers"), "body": body,
        "size": _get(entry, "size", int, where, "how many bytes the body had, a whole number", None),
        "client": _get(entry, "client", str, where, "the sender's address, text", f"imported from {name}"),
        "status": _get(response, "status", int, where, "the status answered, a whole number", entry.get("status")),
        "response_header_pairs": _pairs(answer_pairs, where, "response.headers"),
        "response_body": _get(response, "body", str, where, "the answer's body, text", "").encode("utf-8"),
    }  # fmt: skip


def _from_har(entry: dict, where: str, name: str) -> dict:
    """The fields of one HAR 1.2 entry: ours, or any with its body as postData text, plain or base64."""
    request = _get(entry, "request", dict, where, "the request, an object with method, url, headers and postData")
    response = _get(entry, "response", dict, where, "the answer, an object with status, headers and content", {})
    path, query = _target(_get(request, "url", str, where, "the request's absolute URL"), where)
    post = _get(request, "postData", dict, where, "the body, an object with its text", {})
    if "text" not in post and post.get("params"):
        raise Malformed(f"{where}: its postData has params but no text; expected the body as text, as a HAR of a "
                        "webhook holds it")  # fmt: skip
    body = _get(post, "text", str, where, "the body as text (or base64)", "")
    encoded = post.get("encoding") == "base64" or str(post.get("comment", "")).startswith("base64")
    content = _get(response, "content", dict, where, "the answer's body, an object with its text", {})
    answer = _get(content, "text", str, where, "the answer's body as text (or base64)", "")
    comment = _get(entry, "comment", str, where, "a note, text", "")
    size = _get(request, "bodySize", int, where, "the body's size in bytes, or -1", -1)
    return {
        "received_at": _get(entry, "startedDateTime", str, where, "the time it was sent, ISO 8601 text"),
        "endpoint": None, "method": _get(request, "method", str, where, "the request's method, such as 'POST'"),
        "path": path, "query": query, "content_type": None,
        "header_pairs": _har_pairs(_get(request, "headers", list, where, "the request's headers"), where, "headers"),
        "body": _base64(body, where, "postData.text") if encoded else body.encode("utf-8"),
        "size": size if size > 0 else None, "client": f"imported from {name}",
        "status": _get(response, "status", int, where, "the status answered, a whole number", None),
        "response_header_pairs": _har_pairs(_get(response, "headers", list, where, "the answer's headers", []),
                                             where, "response.headers"),
        "response_body": _base64(answer, where, "content.text") if content.get("encoding") == "base64"
                         else answer.encode("utf-8"),
        # Our own entries carry the event's note after its id: "webhooklab event 7; rejected: ..."
        "note": comment.partition("; ")[2] or None if comment.startswith("webhooklab event ") else None,
    }  # fmt: skip


def _target(url: str, where: str) -> tuple[str, str]:
    """(path, query) of a HAR request's URL: the path percent-decoded as the receiver stores it, the query as sent."""
    scheme, separator, rest = url.partition("://")
    if separator:
        start = min((rest.find(mark) for mark in "/?#" if mark in rest), default=len(rest))
        rest = rest[start:]
    elif not url.startswith("/"):
        raise Malformed(f"{where}: its url is {url[:80]!r}; expected an absolute URL such as "
                        "'http://127.0.0.1:8000/hooks/shop?x=1'")  # fmt: skip
    else:
        rest = url
    raw_path, _, query = rest.partition("?")
    return unquote(raw_path) or "/", query


def _pairs(pairs: list, where: str, what: str) -> tuple[tuple[str, str], ...]:
    for number, pair in enumerate(pairs, 1):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(part, str) for part in pair)):
            raise Malformed(f"{where}: {what} {number} is {got(pair)}; expected [name, value], two strings")
    return tuple((name, value) for name, value in pairs)


def _har_pairs(pairs: list, where: str, what: str) -> tuple[tuple[str, str], ...]:
    for number, pair in enumerate(pairs, 1):
        if not (isinstance(pair, dict) and isinstance(pair.get("name"), str) and isinstance(pair.get("value"), str)):
            raise Malformed(f'{where}: {what} {number} is {got(pair)}; expected {{"name": ..., "value": ...}}, '
                            "two strings")  # fmt: skip
    return tuple((pair["name"], pair["value"]) for pair in pairs)


def _base64(text: str, where: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Malformed(f"{where}: {what} is marked as base64 but does not decode ({error}); expected base64 as the "
                        "export writes it. A file edited by hand, or cut short, is the likely cause") from None  # fmt: skip


def _complete(fields: dict, where: str, max_body: int) -> dict:
    """The entry's fields checked, with what capture works out added: an event as store.add takes it."""
    body, size, status = fields["body"], fields["size"], fields["status"]
    if len(body) > max_body:
        raise Malformed(f"{where}: its body is {len(body):,} bytes, over the {max_body:,} this receiver keeps "
                        "(max_body); start the receiver with a larger max_body to import it")  # fmt: skip
    cut = (fields["note"] or "").startswith("rejected")  # the receiver kept only the start of a body over its limit
    if size is not None and size != len(body) and not (cut and size > len(body)):
        raise Malformed(f"{where}: it says its body was {size:,} bytes, but it holds {len(body):,}; expected the two "
                        "to match (only a body the receiver refused, whose note says 'rejected', is kept cut short)")  # fmt: skip
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise Malformed(f"{where}: its status is {got(status)}; expected the status answered, from 100 to 599")
    if not METHOD.fullmatch(fields["method"]):
        raise Malformed(f"{where}: its method is {fields['method'][:40]!r}; expected an HTTP method such as 'POST'")
    if not fields["path"].startswith("/"):
        raise Malformed(f"{where}: its path is {fields['path'][:80]!r}; expected one starting with '/'")
    pairs = fields["header_pairs"]
    first = {name.lower(): value for name, value in reversed(pairs)}  # a repeated header's first copy
    content_type = fields.pop("content_type") or first.get("content-type")
    _, derived = sniff(pairs, body, content_type, first.get("content-encoding"), fields.pop("note"))
    parts = fields["path"].split("/")
    endpoint = fields["endpoint"] or (parts[2] if len(parts) > 2 and parts[1] == "hooks" and parts[2] else None)
    return {**fields, **derived, "received_at": _time(fields["received_at"], where), "content_type": content_type,
            "endpoint": endpoint or FALLBACK_ENDPOINT, "size": len(body) if size is None else size}  # fmt: skip


def _time(text: str, where: str) -> datetime:
    try:
        received = datetime.fromisoformat(text)
    except ValueError:
        received = None
    if received is None or received.tzinfo is None:
        raise Malformed(f"{where}: its time is {text[:40]!r}; expected ISO 8601 with its offset from UTC, such as "
                        "'2024-05-01T12:00:00.000000+00:00'")  # fmt: skip
    return received.astimezone(timezone.utc)
