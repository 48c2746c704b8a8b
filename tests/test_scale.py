"""Many events: the API pages, wait_for and events() read only what they return, exports stream, the page keeps up."""

import csv
import io
import json
import threading
import tracemalloc

import pandas as pd
import pytest
import requests
from lab_under_test import needs_browser

import webhooklab as wl


def send(rx, count, *, endpoint="bulk", senders=8, body=lambda i: {"n": i}, **options):
    """POST `count` events from `senders` threads on keep-alive connections, at full speed."""

    def sender(numbers):
        with requests.Session() as session:
            for i in numbers:
                assert session.post(rx.url(endpoint), json=body(i), timeout=10, **options).status_code == 200

    threads = [threading.Thread(target=sender, args=(range(s, count, senders),)) for s in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def get(rx, path, **params):
    reply = requests.get(rx.base_url + path, params=params, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_the_api_pages_forward_and_back_with_the_true_total(rx):
    send(rx, 230, endpoint="a", senders=1)
    send(rx, 20, endpoint="b", senders=1)
    ids = [int(i) for i in rx.events().index]
    first = get(rx, "/api/events")
    assert [e["id"] for e in first["events"]] == ids[:100]  # a page by default, never everything
    assert (first["total"], first["limit"], first["has_more"], first["next"]) == (250, 100, True, {"after": ids[99]})

    forward, page = [], first
    while True:
        forward += [e["id"] for e in page["events"]]
        if not page["has_more"]:
            break
        page = get(rx, "/api/events", limit=70, **page["next"])
    assert forward == ids and page["next"] == {"after": ids[-1]}  # the cursor to ask again later

    back, page = [], get(rx, "/api/events", newest=1, limit=90)
    while page["next"]:
        back += [e["id"] for e in page["events"]]
        page = get(rx, "/api/events", limit=90, **page["next"])
    assert back + [e["id"] for e in page["events"]] == ids[::-1] and not page["has_more"]

    below = get(rx, "/api/events", before=ids[10], limit=3)  # before: newest first
    assert [e["id"] for e in below["events"]] == ids[9:6:-1] and below["next"] == {"before": ids[7]}
    jumped = get(rx, "/api/events", newest=1, offset=245, limit=10)
    assert [e["id"] for e in jumped["events"]] == ids[4::-1] and not jumped["has_more"]
    assert get(rx, "/api/events", after=ids[-1])["events"] == []
    for bad in ("0", "1001", "lots"):
        reply = requests.get(rx.base_url + "/api/events", params={"limit": bad}, timeout=5)
        assert reply.status_code == 400 and "limit" in reply.json()["error"]


def test_filters_and_body_search_page_on_the_server(rx):
    send(rx, 150, endpoint="a", senders=1, body=lambda i: {"n": i, "word": "needle" if i % 3 == 0 else "hay"})
    send(rx, 5, endpoint="b", senders=1, body=lambda i: {"word": "needle"})
    page = get(rx, "/api/events", endpoint="a", q="needle", limit=20)
    assert page["total"] == 50 and len(page["events"]) == 20 and page["has_more"]
    found = [e["id"] for e in page["events"]]
    while page["has_more"]:
        page = get(rx, "/api/events", endpoint="a", q="needle", limit=20, **page["next"])
        found += [e["id"] for e in page["events"]]
    expected = [e.id for e in rx.store.list("a") if b"needle" in e.body]
    assert found == expected and len(found) == 50
    assert get(rx, "/api/events", q="needle", newest=1, limit=5)["total"] == 55
    assert [e["endpoint"] for e in get(rx, "/api/events", q="needle", newest=1, limit=5)["events"]] == ["b"] * 5


def test_wait_for_counts_and_reads_only_what_is_used(rx):
    send(rx, 40, senders=4)
    arrived = rx.wait_for(40, endpoint="bulk")
    stored = rx.store.list("bulk")
    assert isinstance(arrived, wl.Arrivals) and len(arrived) == 40 and arrived.last_id == stored[-1].id
    assert arrived[-1] == stored[-1] and arrived[0] == stored[0] and arrived[17] == stored[17]
    assert arrived[-3:] == stored[-3:] and arrived[5:9] == stored[5:9] and arrived[::-7] == stored[::-7]
    assert list(arrived) == stored and arrived == stored
    with pytest.raises(IndexError, match="40 event"):
        arrived[40]

    def later():
        requests.post(rx.url("bulk"), json={"n": "late"}, timeout=5)

    threading.Timer(0.2, later).start()
    more = rx.wait_for(len(arrived) + 1, endpoint="bulk")
    assert len(more) == 41 and more[-1].json == {"n": "late"}
    after = rx.events(since=arrived.last_id)
    assert list(after.index) == [more.last_id] and len(arrived) == 40  # what came after, and a snapshot stays
    (only,) = rx.wait_for(0, endpoint="nobody-here") or [None]
    assert only is None and repr(rx.wait_for(0, endpoint="nobody-here")) == "<Arrivals: no events at 'nobody-here'>"


def test_events_since_and_limit(rx):
    send(rx, 30, endpoint="a", senders=1)
    send(rx, 10, endpoint="b", senders=1)
    everything = rx.events()
    ids = list(everything.index)
    assert len(everything) == 40 and ids == sorted(ids)
    assert list(rx.events(limit=5).index) == ids[-5:]  # the newest five, oldest first
    assert list(rx.events(since=ids[29]).index) == ids[30:]
    assert list(rx.events("a", limit=3).index) == ids[27:30]
    assert list(rx.events("a", since=ids[25], limit=2).index) == ids[28:30]
    assert rx.events(limit=0).empty and rx.events(since=2**80).empty
    pd.testing.assert_frame_equal(rx.events(limit=5), everything.tail(5))  # the same table, only shorter
    with pytest.raises(wl.UsageError, match="limit cannot be negative"):
        rx.events(limit=-1)
    with pytest.raises(wl.UsageError, match="since must be an event id"):
        rx.events(since="yesterday")


def test_exports_of_many_events_stream_and_stay_valid(rx, tmp_path):
    count = 5000
    token = "jupyter-token-0123456789abcdef"
    send(rx, count - 1, body=lambda i: {"n": i, "note": "x" * 2000})
    requests.post(rx.url("=cmd") + f"?token={token}", data="=HYPERLINK(1)", timeout=5,
                  headers={"Authorization": f"token {token}"})  # fmt: skip
    rx.wait_for(count)
    ids = [int(i) for i in rx.events().index]

    def download(kind):
        """The export, written to a file as it arrives; and how much this process held at its peak."""
        path = tmp_path / f"export.{kind}"
        tracemalloc.start()
        with requests.get(f"{rx.base_url}/api/export.{kind}", stream=True, timeout=60) as reply, open(path, "wb") as out:
            assert reply.status_code == 200  # written to a temporary file a batch at a time, then sent by the loop
            for chunk in reply.iter_content(64 * 1024):
                out.write(chunk)
        assert path.stat().st_size == int(reply.headers["Content-Length"])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 12 * 1024**2, (kind, peak)  # the JSON files are 40 MB: a batch at a time, never the whole
        return path.read_text(encoding="utf-8")

    text = download("json")
    assert len(text) > 35 * 1024**2
    exported = json.loads(text)
    assert [e["id"] for e in exported] == ids and exported[0]["json"]["note"] == "x" * 2000
    assert sorted(e["json"]["n"] for e in exported[:-1]) == list(range(count - 1))
    assert token not in json.dumps(exported[-1]) and exported[-1]["body_text"] == "=HYPERLINK(1)"

    lines = download("jsonl").splitlines()
    assert len(lines) == count and [json.loads(line)["id"] for line in lines] == ids

    rows = list(csv.DictReader(io.StringIO(download("csv"), newline="")))
    assert [int(r["id"]) for r in rows] == ids
    assert rows[-1]["endpoint"] == "'=cmd" and rows[-1]["preview"] == "'=HYPERLINK(1)"  # never a formula

    har = json.loads(download("har"))
    entries = har["log"]["entries"]
    assert har["log"]["version"] == "1.2" and har["log"]["creator"]["name"] == "webhooklab"
    assert [e["comment"] for e in entries] == [f"webhooklab event {i}" for i in ids]
    assert token not in json.dumps(entries[-1]) and entries[-1]["request"]["url"].endswith("?token=…cdef")

    empty = requests.get(f"{rx.base_url}/api/export.json", params={"endpoint": "nobody"}, timeout=5)
    assert empty.json() == [] and requests.get(f"{rx.base_url}/api/export.har", params={"endpoint": "nobody"},
                                               timeout=5).json()["log"]["entries"] == []  # fmt: skip
    assert requests.get(f"{rx.base_url}/api/export.csv", params={"endpoint": "nobody"}, timeout=5).text.startswith("id,")


# -- the page, in a real browser ----------------------------------------------------------------

# Scroll through the whole list and read the ids of the rows on the page at each stop.
READ_THE_LIST = """async () => {
  const list = document.getElementById("list");
  // Two frames for the page to draw; a page the browser stops drawing (a hidden tab) reads the same, a moment later.
  const frames = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const settle = () => Promise.race([frames(), new Promise((done) => setTimeout(done, 250))]);
  const windows = [];
  list.scrollTop = 0;
  await settle();
  // A list that stops scrolling for good ends the reading (the checks then say so); a redraw may hold it a moment.
  for (let stuck = 0; stuck < 40; ) {
    for (let i = 0; i < 200 && list.querySelector("#rows tr.loading"); i++) await new Promise((d) => setTimeout(d, 25));
    windows.push([...document.querySelectorAll("#rows tr")].map((tr) => Number(tr.dataset.id)));
    if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
    const before = list.scrollTop;
    list.scrollTop += Math.max(1, Math.floor(list.clientHeight / 2));
    await settle();
    stuck = list.scrollTop > before ? 0 : stuck + 1;
  }
  const height = (id) => document.getElementById(id).getBoundingClientRect().height;
  const first = document.querySelector("#rows tr").getBoundingClientRect().height;
  const length = Math.round((height("pad-above") + height("pad-below")) / first) + windows.at(-1).length;
  return { windows, length };
}"""


def read_the_list(page, expected: list[int]) -> None:
    """Every id once, newest first, in every window the page shows; and the list's length is the total."""
    found = page.evaluate(READ_THE_LIST)
    assert found["length"] == len(expected)
    place = {event_id: index for index, event_id in enumerate(expected)}
    for window in found["windows"]:
        assert window and window[0] in place, window
        start = place[window[0]]
        assert window == expected[start : start + len(window)]  # a duplicate or a gap would shift it
    assert {i for window in found["windows"] for i in window} == set(expected)


@needs_browser
def test_the_page_keeps_up_with_a_burst(rx, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(rx.base_url + "/")
    page.locator("#empty").wait_for()
    send(rx, 3000)
    page.get_by_text("3000 request(s)", exact=True).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # a poll or two more: nothing else may appear
    stored = [e["id"] for e in get(rx, "/api/events", newest=1, limit=1000)["events"]]
    while len(stored) < 3000:
        stored += [e["id"] for e in get(rx, "/api/events", before=stored[-1], limit=1000)["events"]]
    read_the_list(page, stored)
    assert page.locator("#count").inner_text() == "3000 request(s)"
    assert errors == []  # how long the burst holds the page's main thread: benchmarks/inspector.py


@needs_browser
def test_the_page_scrolls_through_what_was_stored_before_it_opened(rx, browser):
    send(rx, 1200, endpoint="before")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(rx.base_url + "/")
    page.get_by_text("1200 request(s)", exact=True).wait_for(timeout=10_000)
    send(rx, 30, endpoint="after", senders=1)
    page.get_by_text("1230 request(s)", exact=True).wait_for(timeout=10_000)
    read_the_list(page, [int(i) for i in rx.events().index[::-1]])
    page.select_option("#f-endpoint", "after")
    page.get_by_text("30 request(s)", exact=True).wait_for(timeout=10_000)
    read_the_list(page, [int(i) for i in rx.events("after").index[::-1]])
