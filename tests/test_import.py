"""A capture saved from /api/export.* and imported into a fresh receiver comes back byte for byte; a bad file
is refused.

Real requests over loopback, real exports over HTTP, and files cut, emptied or lied in as a hostile sender would.
"""

from __future__ import annotations

import gzip
import json
import socket
from datetime import datetime, timezone

import pytest
import requests

import webhooklab as wl
from webhooklab._receiving.importing import import_capture

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SAME = ("method", "path", "query", "header_pairs", "body", "received_at", "status", "response_header_pairs",
        "response_body", "endpoint", "size", "content_type", "provider", "event_type", "delivery_id", "preview", "note")  # fmt: skip
VERDICT = ("verified", "reason")  # JSON exports keep the verdict; a HAR file has none


def raw(rx: wl.Receiver, data: bytes) -> bytes:
    """Bytes sent as they are (headers no client library would send), and the answer."""
    with socket.create_connection(("127.0.0.1", rx.port), timeout=5) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply


@pytest.fixture(scope="module")
def captured():
    """A receiver that captured a bit of everything, with small max_body so one body is refused and kept cut."""
    secrets = {"stripe": SECRET, "github": SECRET, "standard": SECRET}
    rx = wl.Receiver(max_body=16384, secrets=secrets).start()
    stripe, github, standard = wl.Stripe(SECRET), wl.GitHub(SECRET), wl.StandardWebhooks(SECRET)
    stripe.send(stripe.event("charge.succeeded"), to=rx.url("stripe"))
    stripe.send(stripe.event("charge.succeeded"), to=rx.url("stripe"), timestamp=1)  # a failed check: too old
    github.send(github.event("push"), to=rx.url("github"))
    standard.send(standard.event("invoice.paid"), to=rx.url("standard"))
    requests.post(rx.url("bin"), data=b"\x00\xff\x00binary\xfe", headers={"Content-Type": "application/octet-stream"},
                  timeout=5)  # fmt: skip
    requests.post(rx.url("empty"), data=b"", timeout=5)
    requests.get(rx.url("poll") + "?since=2024-01-01&page=2&q=two%20words&q=again", timeout=5)
    requests.post(rx.url("odd") + "/a%20b%2541/%3F?x=1", json={"text": "café ☕"}, timeout=5)
    requests.post(rx.url("gzip"), data=gzip.compress(b'{"type": "zipped"}'),
                  headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}, timeout=5)  # fmt: skip
    requests.post(rx.url("big"), data=b"x" * 40_000, timeout=5)  # over max_body: a 413, its start kept
    raw(rx, b"POST /hooks/raw?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Latin: caf\xe9 cr\xe8me\r\nx-repeat: one\r\n"
            b"X-Repeat: two\r\nX-REPEAT: three\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody")  # fmt: skip
    rx.wait_for(11, timeout=10)
    yield rx
    rx.close()


def exported(rx: wl.Receiver, kind: str, tmp_path, name: str | None = None):
    answer = requests.get(f"{rx.base_url}/api/export.{kind}", timeout=10)
    assert answer.status_code == 200
    path = tmp_path / (name or f"capture.{kind}")
    path.write_bytes(answer.content)
    return path


@pytest.mark.parametrize("kind", ["har", "jsonl", "json"])
def test_a_capture_exported_and_imported_is_the_same_events_byte_for_byte(captured, kind, tmp_path):
    path = exported(captured, kind, tmp_path, name="saved.txt")  # the format is read from the content
    fresh = wl.Receiver()
    try:
        assert fresh.import_events(path) == captured.store.count() == 11
        originals, imported = captured.store.list(), fresh.store.list()
        for original, copy in zip(originals, imported, strict=True):
            for field in SAME + (VERDICT if kind != "har" else ()):
                assert getattr(copy, field) == getattr(original, field), (field, original)
        assert [e.verified for e in originals[:4]] == [True, False, True, True]
        assert [e.verified for e in imported] == ([None] * 11 if kind == "har" else [e.verified for e in originals])
        by_endpoint = {e.endpoint: e for e in imported}
        assert by_endpoint["raw"].header_pairs[1:4] == (("X-Latin", "caf\xe9 cr\xe8me"), ("x-repeat", "one"),
                                                         ("X-Repeat", "two"))  # fmt: skip
        assert by_endpoint["bin"].body == b"\x00\xff\x00binary\xfe" and by_endpoint["empty"].body == b""
        assert by_endpoint["odd"].path == "/hooks/odd/a b%41/?" and by_endpoint["odd"].query == "x=1"
        assert by_endpoint["big"].size == 40_000 and len(by_endpoint["big"].body) == 16384
        assert by_endpoint["gzip"].preview == '{"type": "zipped"}'  # worked out from the decoded body
        table = fresh.events()
        assert list(table["provider"].iloc[:4]) == ["stripe", "stripe", "github", "standard"]
        assert table["duplicate_of"].isna().all()
    finally:
        fresh.close()


def test_an_imported_event_replays_and_shows_in_the_inspector(captured, tmp_path):
    path = exported(captured, "har", tmp_path)
    with wl.Receiver() as fresh:
        fresh.import_events(path)
        binary = fresh.store.list(endpoint="bin")[0]
        page = requests.get(f"{fresh.base_url}/api/events/{binary.id}", timeout=5).json()
        assert page["endpoint"] == "bin" and page["body_base64"] == "AP8AYmluYXJ5/g=="
        replayed = requests.post(f"{fresh.base_url}/api/events/{binary.id}/replay", json={},
                                 headers={"X-Webhooklab": "1"}, timeout=10)  # fmt: skip
        assert replayed.status_code == 200, replayed.text
        again = fresh.wait_for(12, timeout=5)[-1]
        assert again.endpoint == "bin" and again.body == binary.body


def test_importing_twice_marks_the_second_copies_as_duplicates(captured, tmp_path):
    path = exported(captured, "jsonl", tmp_path)
    store = wl.EventStore()
    assert import_capture(store, path) == import_capture(store, path) == 11
    second = store.list(after=11)
    stripe = [e for e in second if e.provider == "stripe"]
    assert stripe and all(e.duplicate_of is not None and e.duplicate_of <= 11 for e in stripe)


# -- files that are not what an export writes ------------------------------------------------------------------


def har(*entries, **log) -> str:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, **log,
                               "entries": list(entries)}}, indent=2)  # fmt: skip


def entry(body: str = "{}", **changes) -> dict:
    request = {"method": "POST", "url": "http://127.0.0.1:9/hooks/shop", "headers": [{"name": "A", "value": "b"}],
               "bodySize": len(body), "postData": {"mimeType": "application/json", "text": body}}  # fmt: skip
    return {"startedDateTime": "2024-05-01T12:00:00.000001+00:00", "request": request,
            "response": {"status": 200, "headers": [], "content": {"size": 0, "text": ""}}, **changes}  # fmt: skip


BEFORE = dict(received_at=datetime.now(timezone.utc), endpoint="shop", method="POST", path="/hooks/shop", query="",
              header_pairs=(), body=b"", content_type=None, size=0, client="127.0.0.1:1", status=200,
              response_header_pairs=(), response_body=b"", provider=None, event_type=None, delivery_id=None,
              preview="", note=None)  # fmt: skip
LINE = json.dumps({"time": "2024-05-01T12:00:00+00:00", "method": "POST", "path": "/hooks/x", "headers": [],
                   "body_base64": "", "size": 0, "status": 200})  # fmt: skip
GOOD = entry()
MISSING_REQUEST = {k: v for k, v in entry().items() if k != "request"}
NOT_BASE64 = entry(request={**entry()["request"], "postData": {"text": "@@not base64@@", "comment": "base64: x"}})
GIGABYTE = entry(request={**entry()["request"], "bodySize": 1024**3})
CASES = {
    "truncated HAR": (har(GOOD, GOOD)[:-40], r"ends inside entry 2 \(line \d+\).*cut short"),
    "truncated JSON Lines": (f"{LINE}\n{LINE[:40]}", r"ends inside line 2.*cut short"),
    "truncated JSON array": (f"[\n{LINE},\n{LINE[:40]}", r"ends inside entry 2 \(line 3\)"),
    "HAR without entries": (json.dumps({"log": {"version": "1.2", "pages": []}}), r'its log has no "entries"'),
    "entry missing its request": (har(GOOD, MISSING_REQUEST), r"entry 2 \(line \d+\): it has no 'request'; expected"),
    "base64 that does not decode": (har(NOT_BASE64), r"entry 1 .*postData.text is marked as base64 but does not"),
    "a 1 GB claimed size": (har(GOOD, GOOD, GIGABYTE), r"entry 3 .*its body was 1,073,741,824 bytes, but it holds 2"),
    "a JSON line claiming 1 GB": (LINE + "\n" + LINE.replace('"size": 0', '"size": 1073741824'),
                                  r"line 2: it says its body was 1,073,741,824 bytes, but it holds 0"),
    "not JSON at all": ("id,time,endpoint\n1,2,3\n", r"expected a HAR file.*starts with 'id,time.*CSV export"),
    "empty": ("", r"it is empty"),
    "NaN": ('[{"size": NaN}]', r"entry 1 \(line 1\): expected a JSON value.*NaN is not JSON"),
    "an entry that is a list": ("[[1, 2]]", r"entry 1 \(line 1\): expected an entry, an object"),
    "a bad time": (har(entry(startedDateTime="yesterday")), r"its time is 'yesterday'; expected ISO 8601"),
    "a time without offset": (har(entry(startedDateTime="2024-05-01T12:00:00")), r"expected ISO 8601 with its offset"),
    "a status of 0": (har(entry(response={"status": 0})), r"its status is 0; expected the status answered"),
    "header pairs of three": ('{"time": "2024-05-01T12:00:00+00:00", "method": "POST", "path": "/hooks/x", '
                              '"headers": [["a", "b", "c"]], "body_base64": ""}', r"headers 1 is \['a', 'b', 'c'\]"),
    "text after the HAR": (har(GOOD) + "\n{}", r"expected the end of the file"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_bad_file_is_refused_with_where_and_what_and_nothing_is_kept(case, tmp_path):
    text, says = CASES[case]
    path = tmp_path / "bad.har"
    path.write_text(text, encoding="utf-8")
    store = wl.EventStore()
    store.add(**BEFORE)  # an event that was there before stays
    with pytest.raises(wl.UsageError, match=says) as refused:
        import_capture(store, path)
    assert "bad.har" in str(refused.value)
    assert store.count() == 1, "an import that fails keeps nothing of its file"


def test_a_file_not_utf8_a_folder_or_no_file_is_refused(tmp_path):
    store = wl.EventStore()
    binary = tmp_path / "capture.har"
    binary.write_bytes(b'{"log": {"entries": [\xff\xfe]}}')
    with pytest.raises(wl.UsageError, match=r"capture.har, line 1 or soon after: expected UTF-8 text.*0xff"):
        import_capture(store, binary)
    with pytest.raises(wl.UsageError, match="is a folder"):
        import_capture(store, tmp_path)
    with pytest.raises(wl.UsageError, match="there is no file at"):
        import_capture(store, tmp_path / "nowhere.har")
    assert store.count() == 0


def test_an_entry_larger_than_the_bound_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "huge.jsonl"
    with path.open("w") as out:
        out.write('{"body_base64": "' + "A" * 4_000_000 + '"}\n')
    with pytest.raises(wl.UsageError, match=r"huge.jsonl, line 1: more than 1,064,960 characters of JSON"):
        import_capture(wl.EventStore(), path, max_body=1024)
    body = tmp_path / "body.har"
    body.write_text(har(entry(body="x" * 3000)))
    with pytest.raises(wl.UsageError, match=r"its body is 3,000 bytes, over the 1,024 this receiver keeps"):
        import_capture(wl.EventStore(), body, max_body=1024)


def test_a_foreign_har_with_its_own_paths_is_kept_under_imported(tmp_path):
    browser = entry(request={"method": "PUT", "url": "https://api.example.com/v1/items%2F7?debug=1",
                             "headers": [{"name": "Content-Type", "value": "text/plain"}], "bodySize": -1,
                             "postData": {"mimeType": "text/plain", "text": "hello"}})  # fmt: skip
    path = tmp_path / "browser.har"
    path.write_text(har(browser, pages=[{"id": "page_1"}]))
    store = wl.EventStore()
    assert import_capture(store, path) == 1
    event = store.get(-1)
    assert (event.endpoint, event.method, event.path, event.query) == ("imported", "PUT", "/v1/items/7", "debug=1")
    assert event.body == b"hello" and event.size == 5 and event.content_type == "text/plain"
    assert event.client == "imported from browser.har"
