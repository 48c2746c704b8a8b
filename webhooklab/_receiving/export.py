"""Captured events as files written as they are read (JSON, JSON Lines, CSV, HAR 1.2), and one as a curl command."""

from __future__ import annotations

import base64
import csv
import io
import shlex
from collections.abc import Iterator
from http import HTTPStatus
from urllib.parse import parse_qsl, quote

from .. import _redact
from .._event import SUMMARY, dumps
from .._version import __version__

# Headers a replay or a curl command must not copy: the HTTP client sets them for the new request, and
# X-Webhooklab (what the inspector's changes carry) must never reach an API from a captured request.
HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "accept-encoding", "keep-alive",
              "x-webhooklab"}  # fmt: skip
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What a HAR URL's path may hold as it is (RFC 3986 pchar and "/"): the rest, "%" too, is percent-encoded, so the path
# the receiver decoded comes back exactly (unquote) even with a "?", a "#", a space or a literal "%41" in it.
PATH_SAFE = "/:@!$&'()*+,;="
CHUNK = 64 * 1024  # characters written to the socket at a time


def json_array(events, base_url: str = "") -> Iterator[str]:
    """A JSON array of every event in full (Event.to_dict), written one event at a time."""
    return json_objects(event.to_dict() for event in events)


def json_objects(objects) -> Iterator[str]:
    """A JSON array of `objects`, written one at a time (a class export's events carry their learner too)."""
    pieces = (("[\n" if first else ",\n") + dumps(item) for first, item in _first(objects))
    return _chunked(pieces, opening="", closing="\n]\n", empty="[]\n")


def json_lines(events, base_url: str = "") -> Iterator[str]:
    """JSON Lines: one event in full per line, which a reader can take one line at a time."""
    return _chunked(dumps(event.to_dict()) + "\n" for event in events)


def csv_rows(events, base_url: str = "") -> Iterator[str]:
    """The events table's columns as CSV, a row per event, with text a spreadsheet would run made inert."""
    return csv_table(SUMMARY, (event.summary() for event in events))


def csv_table(columns, records) -> Iterator[str]:
    """Dicts as CSV rows under `columns`, written one at a time, with text a spreadsheet would run made inert."""
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)

    def rows():
        writer.writeheader()
        for record in records:
            writer.writerow({key: _cell(value) for key, value in record.items()})
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()  # the header alone, when no event was selected

    return _chunked(rows())


def har(events, base_url: str) -> Iterator[str]:
    """An HTTP Archive 1.2 log, one entry per captured request with the answer it was given, entry by entry."""
    creator = dumps({"name": "webhooklab", "version": __version__})
    opening = f'{{"log": {{"version": "1.2", "creator": {creator}, "entries": ['
    entries = (("\n" if first else ",\n") + dumps(_entry(event, base_url)) for first, event in _first(events))
    return _chunked(entries, opening=opening, closing="\n]}}\n")


def _first(items):
    """(is it the first, item) for each item."""
    return ((index == 0, item) for index, item in enumerate(items))


def _chunked(pieces, *, opening: str = "", closing: str = "", empty: str | None = None, size: int = CHUNK):
    """Text in pieces of about `size` characters: few writes to the socket, and never the whole file in memory."""
    buffered, length, anything = [opening], len(opening), False
    for piece in pieces:
        anything = True
        buffered.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffered)
            buffered, length = [], 0
    if not anything and empty is not None:
        buffered = [empty]
    else:
        buffered.append(closing)
    yield "".join(buffered)


def _cell(value):
    """A text cell a spreadsheet shows as text, never runs: anyone who can send a request chooses its words.

    As OWASP recommends, a leading single quote makes a spreadsheet read
    `=HYPERLINK(...)` as text. Numbers stay numbers; only text is escaped.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _entry(event, base_url: str) -> dict:
    query = _redact.query(event.query)
    request = {
        "method": event.method,
        "url": base_url.rstrip("/") + quote(event.path, safe=PATH_SAFE) + (f"?{query}" if query else ""),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [{"name": name, "value": value} for name, value in _redact.headers(event.header_pairs)],
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(query, keep_blank_values=True)],
        "headersSize": -1,
        "bodySize": event.size,
    }
    if event.body:
        text, note = _text(event.body)
        request["postData"] = {"mimeType": event.content_type or "", "params": [], "text": text,
                               **({"comment": note} if note else {})}  # fmt: skip
    answer_text, note = _text(event.response_body)
    content_type = event.response_headers.get("Content-Type", "")
    response = {
        "status": event.status,
        "statusText": _phrase(event.status),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [{"name": name, "value": value} for name, value in event.response_header_pairs],
        "content": {"size": len(event.response_body), "mimeType": content_type, "text": answer_text,
                    **({"encoding": "base64"} if note else {})},  # fmt: skip
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(event.response_body),
    }
    return {
        "startedDateTime": event.received_at.isoformat(),
        "time": 0,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
        "comment": f"webhooklab event {event.id}" + (f"; {event.note}" if event.note else ""),
    }


def _text(body: bytes) -> tuple[str, str | None]:
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64: the body is not UTF-8 text"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def replay_headers(event) -> dict[str, str]:
    """The captured headers, less those the new request's client must set itself."""
    return {name: value for name, value in event.header_pairs if name.lower() not in HOP_BY_HOP}


def curl(event, base_url: str) -> str:
    """The request as a curl command that sends the same bytes (binary bodies via base64 and a pipe).

    Credentials are masked (see _redact): put your own back in before running it.
    """
    query = _redact.query(event.query)
    url = base_url.rstrip("/") + event.path + (f"?{query}" if query else "")
    parts = ["curl", "-X", event.method, shlex.quote(url)]
    for name, value in _redact.headers(replay_headers(event).items()):
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if not event.body:
        return " ".join(parts)
    try:
        return " ".join([*parts, "--data-binary", shlex.quote(event.body.decode("utf-8"))])
    except UnicodeDecodeError:
        encoded = base64.b64encode(event.body).decode("ascii")
        return f"echo {encoded} | base64 -d | " + " ".join([*parts, "--data-binary", "@-"])
