"""How a remote receiver talks to its bin: every request within bounds, and nothing taken on trust.

Each request goes through bounded.fetch (one deadline for the whole call, caps on the bytes and on
what they decode to); pages are followed only while their cursor advances, up to MAX_PAGES; whole
events are asked for in batches sized by their bodies; every answer is checked against the shape
the bin's API writes (answers.py). Anything else is a ReceiverError naming what was expected, what
arrived (the token masked) and the likely cause.
"""

from __future__ import annotations

from json import loads
from urllib.parse import quote, urlsplit

from .. import _redact
from .._checks import got
from .._errors import ReceiverError
from .._event import Event
from . import answers
from .bounded import Deadline, fetch
from .guard import HEADER
from .server import DEFAULT_MAX_BODY

UNKNOWN_BIN = "this bin does not exist on the class server: check the URL on your handout"

IDS_PER_REQUEST = 200  # events fetched whole in one request (a URL stays short)
PAGE = 1000  # summaries a request asks for: the most the bin's API gives at once
# What one call may read, so that a server that is not a bin (or a proxy in its place) cannot hang the kernel or
# fill its memory. A bin holds a few hundred MB at most, and one event's body at most 25 MB (GitHub's cap).
MB = 1024 * 1024
CALL_TIMEOUT = 30.0  # seconds one call may take in all, every request and page of it: a 25 MB event on slow Wi-Fi
MAX_PAGES = 100  # pages of summaries one call follows: 100,000 events, more than a bin of a few hundred MB holds
PAGE_BYTES = 8 * MB  # any answer but whole events: a page of 1000 summaries is about 0.5 MB in a real bin
PAGES_BYTES = 128 * MB  # every page one call reads: 100,000 summaries of about 500 bytes, with room to spare
# Whole events: the largest a bin keeps, 25 MB of body, is base64 plus its text and its JSON, each JSON-escaped:
# about 185 MB at the worst.
EVENTS_BYTES = 256 * MB
BODIES_PER_REQUEST = 16 * MB  # bodies asked for in one request of whole events: many small ones, or one large


class BinCalls:
    """The HTTP side of RemoteReceiver (see the module docstring)."""

    def _newest(self) -> int:
        rows = self._page({"newest": 1, "limit": 1})["events"]
        return rows[0]["id"] if rows else 0

    def _span(self, endpoint: str | None) -> tuple[int, int]:
        """(how many events arrived since attaching, the newest one's id or 0), in one request."""
        params = {"since": self._since, "newest": 1, "limit": 1}
        page = self._page(params if endpoint is None else {**params, "endpoint": endpoint})
        return page["total"], page["events"][0]["id"] if page["events"] else 0

    def _page(self, params: dict, deadline: Deadline | None = None, limit: int = PAGE_BYTES, read=None) -> dict:
        """One page of summaries (api.list_events), checked: no more rows than asked for."""
        return self._call("GET", "api/events", params=params, deadline=deadline, limit=limit, read=read,
                          expect=lambda page: answers.page(page, params["limit"]))  # fmt: skip

    def _pages(self, endpoint: str | None, *, after: int, before: int | None = None, limit: int | None = None,
               newest: bool = False, offset: int = 0, deadline: Deadline | None = None) -> list[dict]:  # fmt: skip
        """Summaries with ids between `after` and `before`, `offset` skipped, at most `limit`, a page at a time.

        Oldest first, or newest first with `newest`: the API's own order and cursors. One call: at most
        MAX_PAGES pages and PAGES_BYTES in all, each cursor past the one before, by one deadline.
        """
        params = {"after": after, "newest": int(newest), "offset": offset,
                  **({"endpoint": endpoint} if endpoint is not None else {}),
                  **({"before": before} if before is not None else {})}  # fmt: skip
        deadline = deadline or Deadline(self._timeout)
        rows, read = [], []
        for _ in range(MAX_PAGES):
            params["limit"] = PAGE if limit is None else min(PAGE, limit - len(rows))
            page = self._page(params, deadline, limit=min(PAGE_BYTES, PAGES_BYTES - sum(read)), read=read)
            rows += page["events"]
            if not page["has_more"] or (limit is not None and len(rows) >= limit):
                return rows
            key = "before" if newest else "after"
            if not _advances(page["next"], params, key):
                raise ReceiverError(
                    f"GET {self.shown}api/events: the bin says it has more events, but its cursor to the next page, "
                    f"{got(page['next'])}, does not go past this page's ({key} {params.get(key)}): following it "
                    "would ask for the same events forever. Is this the bin URL of a webhooklab class server?"
                )
            params.update(page["next"], offset=0)
        raise ReceiverError(
            f"GET {self.shown}api/events: {MAX_PAGES} pages ({len(rows)} events) in one call, and the bin says there "
            "are more: more than a bin on a class server holds. Is this the bin URL of a webhooklab class server? "
            "To read part of a large bin, use rx.events(since=..., limit=...)"
        )

    def _events(self, rows: list[dict], deadline: Deadline) -> list[Event]:
        """The full events of these summaries, oldest first, a few hundred to a request (fewer when they are large)."""
        events = []
        for ids in _batches(rows):
            events += self._call("GET", "api/export.json", params={"ids": ",".join(map(str, ids))}, deadline=deadline,
                                 limit=EVENTS_BYTES, expect=lambda answer: answers.events(answer, ids))  # fmt: skip
        return events

    def _bin_answers(self, deadline: Deadline) -> bool:
        """Whether the bin's API index answers: after a 404, it tells a wrong token from a wrong path."""
        try:
            answer = fetch("GET", f"{self.base_url}/api", shown=f"GET {self.shown}api", deadline=deadline,
                           limit=PAGE_BYTES)  # fmt: skip
        except ReceiverError:
            return False
        return 200 <= answer.status < 300

    def _shown_url(self, endpoint: str) -> str:
        return f"{self.shown}hooks/{quote(endpoint, safe='')}"

    def _call(self, method: str, path: str, *, params=None, json=None, missing=None, deadline: Deadline | None = None,
              limit: int = PAGE_BYTES, expect=answers.an_object, read: list[int] | None = None):  # fmt: skip
        """One request to the bin's API, its JSON answer as `expect` checks it, by the call's deadline.

        At most `limit` bytes are read (`read`, a list, is told how many were); an error names the URL
        (token masked), says what arrived instead and what that likely means.
        """
        shown = f"{method} {self.shown}{path}"
        deadline = deadline or Deadline(self._timeout)
        headers = {HEADER: "1"} if method != "GET" else {}
        reply = fetch(method, f"{self.base_url}/{path}", shown=shown, deadline=deadline, limit=limit, params=params,
                      json=json, headers=headers)  # fmt: skip
        if read is not None:
            read.append(len(reply.content))
        if 300 <= reply.status < 400:
            raise ReceiverError(f"{shown} answered {reply.status}, a redirect {self._where(reply)}. A bin's API never "
                                "redirects: is a proxy or a network login page (a captive portal) in the way, or has "
                                "the class server moved? Check the URL on your handout")  # fmt: skip
        if reply.status == 404 and not self._bin_answers(deadline):
            raise ReceiverError(f"{UNKNOWN_BIN} ({shown} answered 404: {self._said(reply)})")
        if reply.status == 404 and missing is not None:
            raise missing(f"{shown} answered 404: {self._said(reply)}")
        if not 200 <= reply.status < 300:
            raise ReceiverError(f"{shown} answered {reply.status}: {self._said(reply)}")
        try:
            answer = loads(reply.content)
        except (ValueError, RecursionError):
            page = b"<html" in reply.content[:1024].lower() or "html" in reply.headers.get("Content-Type", "")
            cause = ("a web page (HTML): a network login page (a captive portal) or a proxy answered in place of the "
                     "class server; open the bin URL in a browser to see which" if page else
                     "is this the bin URL of a webhooklab class server?")  # fmt: skip
            raise ReceiverError(f"{shown} answered {reply.status} but not with JSON: {cause}. It said: "
                                f"{self._said(reply)}") from None  # fmt: skip
        try:
            return expect(answer)
        except ValueError as error:
            raise ReceiverError(f"{shown} answered with JSON, but not what a bin's API answers: {error}. Is this the "
                                "bin URL of a webhooklab class server (of this version of webhooklab), or is a proxy "
                                "answering in its place?") from None  # fmt: skip

    def _where(self, reply) -> str:
        """Where a redirect points: its scheme and host only (its path may hold a token), and if that is elsewhere."""
        target = urlsplit(reply.headers.get("Location", "").strip())
        if not target.hostname:
            return "within the class server" if target.path else "without a Location to go to"
        elsewhere = target.hostname != urlsplit(self.server).hostname
        return f"to {target.scheme}://{target.hostname}/…" + (", another host" if elsewhere else "")

    def _said(self, reply) -> str:
        return _said(reply.content, self._token)


def _advances(cursor: dict | None, params: dict, key: str) -> bool:
    """Whether the cursor to the next page goes past this one: a later `after`, or an earlier `before`."""
    if cursor is None or key not in cursor:
        return False
    if key == "after":
        return cursor["after"] > params["after"]
    return "before" not in params or cursor["before"] < params["before"]


def _batches(rows: list[dict]):
    """The ids of these summaries, oldest first, in lists of at most IDS_PER_REQUEST ids and BODIES_PER_REQUEST bytes
    of bodies (a larger body alone)."""
    batch, bodies = [], 0
    for row in sorted(rows, key=lambda row: row["id"]):
        size = min(max(row["size"], 0), DEFAULT_MAX_BODY)  # a body over the limit is kept only in part
        if batch and (len(batch) == IDS_PER_REQUEST or bodies + size > BODIES_PER_REQUEST):
            yield batch
            batch, bodies = [], 0
        batch.append(row["id"])
        bodies += size
    if batch:
        yield batch


def _said(content: bytes, token: str) -> str:
    """What the server said, briefly: its JSON error and hint, or the start of its text; the bin's token masked."""
    try:
        answer = loads(content)
    except (ValueError, RecursionError):
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        extra = " ".join(answer[key] for key in ("why", "hint") if isinstance(answer.get(key), str))
        error, extra = (_brief(text, token) for text in (answer["error"], extra))
        return repr(error) + (f" ({extra})" if extra else "")
    start = content[:4096].decode("utf-8", "replace")
    if len(content) > 4096:  # the token may be cut in two here: leave out any start of it
        start = start[: next((-k for k in range(len(token) - 1, 0, -1) if start.endswith(token[:k])), None)]
    text = _brief(start, token)
    return repr(text) if text else "nothing"


def _brief(text: str, token: str, most: int = 200) -> str:
    """Text on one line, the token masked wherever it appears, at most `most` characters."""
    text = " ".join(text.replace(token, _redact.mask(token, kinded=False)).split())
    return text[:most] + ("…" if len(text) > most else "")
