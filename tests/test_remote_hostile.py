"""A bin URL that leads to a server which does not play fair: every call ends in time, within bounds, and says why.

Each server here is real HTTP on 127.0.0.1, started by the test: pages without end, a cursor that stays put,
a gzip bomb, an answer dripped a byte at a time, an answer without end, JSON of the wrong shape, a captive
portal's page, a redirect. The bin URL's first word names what the server does; the rest is its token, which
no message may show. What memory a call takes is measured in a process of its own (its peak resident size).
"""

import json
import os
import subprocess
import sys
import threading
import time
import zlib
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import webhooklab as wl
from webhooklab._receiving.bincalls import EVENTS_BYTES, MAX_PAGES, PAGE, PAGE_BYTES
from webhooklab._receiving.remote import RemoteReceiver

SECRET = "Hostile-server-token-0123456789xyz"  # the rest of each bin URL's token: never shown whole
MB = 1024 * 1024
DRIP = 0.5  # seconds between two bytes of a dripped answer


def summary(event_id: int) -> dict:
    """A row of /api/events as the bin's API writes it."""
    return {"id": event_id, "time": "2026-05-09T07:35:25.123456+00:00", "endpoint": "shop", "method": "POST",
            "provider": None, "event_type": None, "delivery_id": None, "status": 200, "size": 12,
            "preview": '{"order": 1}', "verified": None, "reason": None, "duplicate_of": None}  # fmt: skip


def record(event_id: int) -> dict:
    """One whole event as the bin's API writes it (Event.to_dict)."""
    return {**summary(event_id), "path": "/hooks/shop", "query": "", "content_type": "application/json",
            "client": "127.0.0.1", "note": None, "verification": None,
            "headers": [["Content-Type", "application/json"]], "body_base64": "eyJvcmRlciI6IDF9",
            "body_text": '{"order": 1}', "json": {"order": 1},
            "response": {"status": 200, "headers": [["Content-Type", "application/json"]], "body": "{}"}}  # fmt: skip


@cache
def gzip_member() -> bytes:
    """64 MB of zeros as one gzip member: about 64 KB. Members one after another are one gzip body."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join(squeeze.compress(zeros) for _ in range(64)) + squeeze.flush()


class Hostile(BaseHTTPRequestHandler):
    """Answers /b/<what>-<token>/<path> as <what> says: see answer()."""

    protocol_version = "HTTP/1.0"  # the answer ends when the connection closes: no length needed
    stopping: threading.Event

    def do_GET(self):
        target = urlsplit(self.path)
        what, _, rest = target.path.removeprefix("/b/").partition("/")
        try:
            self.answer(what.removesuffix("-" + SECRET), rest, {k: v[0] for k, v in parse_qs(target.query).items()})
        except OSError:  # the client hung up, as it should once a bound is reached
            pass

    do_PUT = do_POST = do_GET

    def answer(self, what: str, path: str, query: dict) -> None:
        after, limit = int(query.get("after", 0)), int(query.get("limit", 100))
        if what == "pages":  # every page full, and always another
            rows = [summary(after + n) for n in range(1, limit + 1)]
            return self.json({"events": rows, "total": 10**9, "has_more": True, "next": {"after": after + limit}})
        if what == "slow-pages":  # each page in a fifth of a second, and always another
            self.stopping.wait(0.2)
            return self.json({"events": [summary(after + 1)], "total": 10**9, "has_more": True,
                              "next": {"after": after + 1}})  # fmt: skip
        if what == "stuck":  # always more, and the cursor to them is this page's
            rows = [summary(after + n) for n in range(1, limit + 1)]
            return self.json({"events": rows, "total": 10**9, "has_more": True, "next": {"after": after}})
        if what == "stuck-back":
            before = int(query.get("before", 10**6))
            rows = [summary(before - n) for n in range(1, limit + 1)]
            return self.json({"events": rows, "total": 10**9, "has_more": True, "next": {"before": before}})
        if what == "bomb":  # gzip members of 64 MB of zeros, 64 of them: 4 MB on the wire, 4 GB decoded
            self.head(200, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
            for _ in range(64):
                self.wfile.write(gzip_member())
            return None
        if what == "endless":  # JSON that never ends: an opening, then spaces, a megabyte at a time
            self.head(200, {"Content-Type": "application/json"})
            self.wfile.write(b'{"events": [')
            for _ in range(4096):
                self.wfile.write(b" " * MB)
            return None
        if what == "announced":
            self.head(200, {"Content-Type": "application/json", "Content-Length": str(10**10)})
            return self.wfile.write(b"[")
        if what == "stall":  # the headers, then nothing: the connection stays open and quiet
            self.head(200, {"Content-Type": "application/json"})
            self.wfile.flush()
            return self.stopping.wait()
        if what in ("drip", "drip-headers"):
            if what == "drip":
                self.head(200, {"Content-Type": "application/json"})
            for byte in b"HTTP/1.0 200 OK\r\n" if what == "drip-headers" else b'{"events": []}':
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.stopping.wait(DRIP):
                    return None
            return None
        if what == "not-http":
            return self.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        if what == "portal":
            page = b"<!DOCTYPE html><html><head><title>Welcome to CoffeeShop Wi-Fi</title></head><body>Accept</body>"
            return self.send(200, page, "text/html; charset=utf-8")
        if what == "redirect":
            self.head(302, {"Location": f"http://login.example.net/portal?return=/b/{SECRET}/"})
            return None
        if what == "echo":  # an error page that repeats the URL, token and all
            return self.send(500, f"<h1>Internal error at {self.path}</h1>".encode(), "text/html")
        if what == "other-event":
            return self.json(record(7))
        if what.startswith("export-"):  # a good page of one event, then whole events that are not right
            if path == "api/events":
                return self.json({"events": [summary(5)], "total": 1, "has_more": False, "next": {"after": 5}})
            return self.json(EXPORTS[what.removeprefix("export-")])
        return self.send(200, SHAPES[what].encode(), "application/json")

    def head(self, status: int, headers: dict) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send(self, status: int, body: bytes, content_type: str) -> None:
        self.head(status, {"Content-Type": content_type, "Content-Length": str(len(body))})
        self.wfile.write(body)

    def json(self, answer) -> None:
        self.send(200, json.dumps(answer).encode(), "application/json")

    def log_message(self, *args):
        pass


# Answers of /api/events that are JSON, or nearly, but not a page of events: what each should say.
SHAPES = {
    "list": "[]",
    "no-total": json.dumps({"events": [], "has_more": False, "next": None}),
    "text-total": json.dumps({"events": [], "total": "3", "has_more": False, "next": None}),
    "text-id": json.dumps({"events": [{**summary(1), "id": "1"}], "total": 1, "has_more": False, "next": None}),
    "no-preview": json.dumps({"events": [{k: v for k, v in summary(1).items() if k != "preview"}], "total": 1,
                              "has_more": False, "next": None}),  # fmt: skip
    "bool-size": json.dumps({"events": [{**summary(1), "size": True}], "total": 1, "has_more": False, "next": None}),
    "more-rows": json.dumps({"events": [summary(n) for n in range(1, 1200)], "total": 1, "has_more": False,
                             "next": None}),  # fmt: skip
    "yes-more": json.dumps({"events": [], "total": 0, "has_more": "yes", "next": None}),
    "bad-cursor": json.dumps({"events": [summary(1)], "total": 2, "has_more": True, "next": {"page": 2}}),
    "not-json": "Service Unavailable",
    "deep": "[" * 100_000 + "]" * 100_000,
    "huge-number": '{"events": [], "total": ' + "9" * 5000 + ', "has_more": false, "next": null}',
}
EXPECTED = {
    "list": "expected a page of events, .* got a list of 0", "no-total": "expected a page of events",
    "text-total": r"'total' should be a whole number of events, got '3'",
    "text-id": r"an event's summary's 'id' should be a whole number, got '1'",
    "no-preview": "an event's summary should have the field 'preview'",
    "bool-size": "'size' should be a whole number, got True",
    "more-rows": "'events' should be a list of at most 1000 summaries, got a list of 1199",
    "yes-more": "'has_more' should be true or false, got 'yes'",
    "bad-cursor": r"'next' should be a cursor, .* got \{'page': 2\}",
    "not-json": "answered 200 but not with JSON: is this the bin URL of a webhooklab class server.*Service Unavailable",
    "deep": "answered 200 but not with JSON", "huge-number": "answered 200 but not with JSON",
}  # fmt: skip
# Answers of /api/export.json: whole events, but not right.
EXPORTS = {
    "object": {"events": [record(5)]},
    "no-response": [{k: v for k, v in record(5).items() if k != "response"}],
    "headers": [{**record(5), "headers": [["Content-Type"]]}],
    "time": [{**record(5), "time": "yesterday"}],
    "base64": [{**record(5), "body_base64": "not base64!"}],
    "stray": [record(5), record(6)],
    "stray-id": [record(6)],
}
EXPORT_EXPECTED = {
    "object": "expected a list of at most 1 events, got an object with the keys 'events'",
    "no-response": "an event's 'response' should be an object with its status, headers and body, got None",
    "headers": r"an event's 'headers' should be a list of \[name, value\] pairs",
    "time": "an event's 'time' should be an ISO 8601 time", "base64": "'body_base64' base64",
    "stray": "expected a list of at most 1 events, got a list of 2",
    "stray-id": "event 6 came back, which was not asked",
}  # fmt: skip
LIKELY = "the bin URL of a webhooklab class server"


@pytest.fixture(scope="module")
def hostile():
    """The server, on a free port of 127.0.0.1; it stops dripping when the module ends."""
    stopping = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (Hostile,), {"stopping": stopping}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stopping.set()
    server.shutdown()
    server.server_close()
    thread.join()


def attach(hostile: str, what: str, **options) -> RemoteReceiver:
    """A receiver attached to the hostile bin `what`: history=True, so attaching makes no request."""
    return RemoteReceiver(f"{hostile}/b/{what}-{SECRET}/", history=True, **options)


def raised(call, match: str) -> str:
    """The ReceiverError `call()` raises, matched; it never shows the token, only its last four characters."""
    with pytest.raises(wl.ReceiverError, match=match) as caught:
        call()
    message = str(caught.value)
    assert SECRET not in message and "/b/…" in message, message
    return message


def measured(hostile: str, what: str, call: str) -> dict:
    """Run `rx.<call>` against the bin `what` in a process of its own: its peak memory growth, time and error."""
    script = f"""
import json, resource, sys, time
import requests, urllib3
import webhooklab as wl
from webhooklab._receiving import bounded
from webhooklab._receiving.remote import RemoteReceiver
bounded._adapter()
rx = RemoteReceiver({f"{hostile}/b/{what}-{SECRET}/"!r}, history=True)
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
before, started = peak(), time.monotonic()
try:
    rx.{call}
    error = None
except wl.ReceiverError as raised:
    error = str(raised)
print(json.dumps({{"growth": (peak() - before) / 2**20, "seconds": time.monotonic() - started, "error": error}}))
"""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- time -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["drip", "drip-headers", "stall"])
def test_a_server_that_drips_its_answer_is_cut_off_at_the_calls_timeout(hostile, what):
    """A byte every 0.5 s keeps each socket read alive; the call still ends at its timeout, headers or body.

    A body cut off at the deadline (the stalled one) is never taken for a whole one.
    """
    rx = attach(hostile, what, timeout=2)
    started = time.monotonic()
    message = raised(rx.events, r"the call took longer than 2 s, the time one call to the class server may take")
    took = time.monotonic() - started
    assert 2 <= took < 2 * 3, took  # loosely: a loaded machine is slow, never this slow
    assert "overloaded" in message


def test_the_timeout_is_for_the_whole_call_every_page_of_it(hostile):
    """Pages that each come well within the timeout still add up: it is wall time over the call, not per request."""
    rx = attach(hostile, "slow-pages", timeout=1)
    started = time.monotonic()
    raised(rx.events, "the call took longer than 1 s")
    assert time.monotonic() - started < 1 * 3, time.monotonic() - started


def test_a_timeout_is_a_number_of_seconds_more_than_zero(hostile):
    with pytest.raises(wl.UsageError, match="timeout must be more than 0 s"):
        attach(hostile, "pages", timeout=0)


# -- pages -------------------------------------------------------------------------------------------


def test_endless_pages_stop_after_max_pages_in_bounded_memory(hostile):
    result = measured(hostile, "pages", "events()")
    assert result["error"] and f"{MAX_PAGES} pages ({MAX_PAGES * PAGE} events) in one call" in result["error"]
    assert SECRET not in result["error"] and "rx.events(since=..., limit=...)" in result["error"]
    assert result["growth"] < 200, result  # a page at a time, never more than MAX_PAGES of them


@pytest.mark.parametrize(("what", "call"), [("stuck", "events"), ("stuck-back", "newest")])
def test_a_cursor_that_does_not_advance_is_not_followed(hostile, what, call):
    rx = attach(hostile, what)
    read = rx.events if call == "events" else lambda: rx.events(limit=5_000)  # the newest: backwards, by `before`
    message = raised(read, r"its cursor to the next page, \{'(after|before)': \d+\}, does not go past this page's")
    assert "would ask for the same events forever" in message and LIKELY in message


# -- size ---------------------------------------------------------------------------------------------


def test_a_gzip_bomb_stops_at_the_cap_in_bounded_memory(hostile):
    result = measured(hostile, "bomb", "events()")
    assert result["error"] and f"its gzip body decodes to more than {PAGE_BYTES // MB}.0 MB" in result["error"]
    assert "a compression bomb" in result["error"] and LIKELY in result["error"]
    assert result["growth"] < 200, result


def test_a_gzip_bomb_in_place_of_a_whole_event_stops_at_the_larger_cap(hostile):
    """A whole event may be large (25 MB of body, written out three ways), so its cap is higher: still a cap."""
    result = measured(hostile, "bomb", "event(1)")
    assert result["error"] and f"decodes to more than {EVENTS_BYTES // MB}.0 MB" in result["error"]
    assert result["growth"] < EVENTS_BYTES / MB + 200, result


def test_an_answer_without_end_stops_at_the_cap(hostile):
    endless = attach(hostile, "endless")
    message = raised(endless.events, rf"more than {PAGE_BYTES // MB}.0 MB arrived, so reading stopped")
    assert "is a proxy answering in its place" in message


def test_an_answer_that_announces_too_much_is_not_read(hostile):
    raised(attach(hostile, "announced").events, r"it announced 9536.7 MB \(Content-Length\)")


# -- shapes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("what", sorted(SHAPES))
def test_an_answer_that_is_not_a_page_of_events_says_what_was_expected(hostile, what):
    message = raised(attach(hostile, what).events, EXPECTED[what])
    assert LIKELY in message or "a proxy" in message
    assert len(message) < 1000  # what arrived, briefly


@pytest.mark.parametrize("what", sorted(EXPORTS))
def test_whole_events_of_the_wrong_shape_say_what_was_expected(hostile, what):
    arrived = attach(hostile, f"export-{what}").arrivals()
    message = raised(lambda: list(arrived), EXPORT_EXPECTED[what])
    assert "api/export.json" in message and LIKELY in message


def test_an_event_that_is_not_the_one_asked_for_is_refused(hostile):
    raised(lambda: attach(hostile, "other-event").event(5), "answered with event 7, not 5")


def test_a_captive_portals_page_is_named(hostile):
    message = raised(attach(hostile, "portal").events, "not with JSON: a web page \\(HTML\\): a network login page")
    assert "Welcome to CoffeeShop Wi-Fi" in message


def test_a_server_that_does_not_speak_http_is_named(hostile):
    raised(attach(hostile, "not-http").events, "something answers at http://127.0.0.1:\\d+, but not in HTTP")


def test_a_redirect_is_not_followed_and_names_only_the_host(hostile):
    elsewhere = r"answered 302, a redirect to http://login\.example\.net/…, another host\. A bin's API never"
    message = raised(attach(hostile, "redirect").events, elsewhere)
    assert "portal?return" not in message


def test_a_page_that_repeats_the_url_never_shows_the_token(hostile):
    message = raised(attach(hostile, "echo").events, r"answered 500: '<h1>Internal error at /b/…")
    assert SECRET[-4:] in message
