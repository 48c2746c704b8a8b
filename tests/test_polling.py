"""Polling, measured: the events API pages like Stripe's, answers 304 and 429, and the poller misses nothing."""

import threading
import time

import pytest
import requests

import webhooklab as wl


@pytest.fixture
def api():
    with wl.ProviderAPI() as server:
        yield server


def ids_of(page):
    return [event["id"] for event in page["data"]]


def test_the_list_is_newest_first_with_has_more(api):
    made = [api.record()["id"] for _ in range(5)]
    page = requests.get(api.url(), params={"limit": 3}, timeout=5).json()
    assert (page["object"], page["url"], page["has_more"]) == ("list", "/v1/events", True)
    assert ids_of(page) == made[::-1][:3]
    rest = requests.get(api.url(), params={"limit": 3, "starting_after": made[2]}, timeout=5).json()
    assert (ids_of(rest), rest["has_more"]) == (made[1::-1], False)


def test_paging_back_loses_and_repeats_nothing_while_events_keep_arriving(api):
    before = [api.record()["id"] for _ in range(120)]
    stop = threading.Event()

    def produce():
        while not stop.is_set():
            api.record()

    producer = threading.Thread(target=produce)
    producer.start()
    walked, params = [], {"limit": 7}
    while True:
        page = requests.get(api.url(), params=params, timeout=5).json()
        walked += ids_of(page)
        if not page["has_more"]:
            break
        params = {"limit": 7, "starting_after": page["data"][-1]["id"]}
    stop.set()
    producer.join()
    assert len(walked) == len(set(walked))
    assert set(before) <= set(walked)


def test_paging_forward_from_a_cursor_catches_every_new_event(api):
    cursor = api.record()["id"]
    made = [api.record()["id"] for _ in range(25)]
    got = []
    while True:
        page = requests.get(api.url(), params={"limit": 10, "ending_before": cursor}, timeout=5).json()
        got += ids_of(page)[::-1]
        if page["data"]:
            cursor = page["data"][0]["id"]
        if not page["has_more"]:
            break
    assert got == made


def test_created_and_type_filters(api):
    api.record("charge.succeeded")
    api.record("charge.refunded")
    page = requests.get(api.url(), params={"type": "charge.refunded", "created[gte]": int(time.time()) - 60}, timeout=5).json()
    assert [e["type"] for e in page["data"]] == ["charge.refunded"]
    assert requests.get(api.url(), params={"created[gt]": int(time.time()) + 60}, timeout=5).json()["data"] == []


def test_bad_requests_say_what_arrived(api):
    unknown = requests.get(api.url(), params={"starting_after": "evt_nope"}, timeout=5)
    assert unknown.status_code == 400 and unknown.json()["error"] == {
        "type": "invalid_request_error", "message": "No such event: 'evt_nope'", "param": "starting_after"}  # fmt: skip
    assert "limit must be between 1 and 100, got 500" in requests.get(api.url(), params={"limit": 500}, timeout=5).text


def test_an_unchanged_list_is_a_304(api):
    api.record()
    first = requests.get(api.url(), timeout=5)
    again = requests.get(api.url(), headers={"If-None-Match": first.headers["ETag"]}, timeout=5)
    assert (again.status_code, again.content) == (304, b"")
    api.record()
    changed = requests.get(api.url(), headers={"If-None-Match": first.headers["ETag"]}, timeout=5)
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_a_rate_limit_is_a_429_with_retry_after_and_the_poller_waits_it_out():
    with wl.ProviderAPI(rate_limit=2) as api:
        statuses = [requests.get(api.url(), timeout=5) for _ in range(4)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited and limited[0].headers["Retry-After"] == "1"
        assert "allows 2 per second" in limited[0].json()["error"]["message"]
        with wl.Poller(api, interval=0.05) as poller:
            made = [api.record()["id"] for _ in range(3)]
            assert poller.wait_for(made, timeout=10)
        stats = poller.stats
        assert stats["rate_limited"] > 0 and stats["events_seen"] == 3
        for before, after in zip(poller.requests, poller.requests[1:]):
            if before["status"] == 429:
                assert after["time"] - before["time"] >= 0.5  # it waited instead of hammering


def test_the_poller_finds_every_event_and_counts_its_cost(api):
    with wl.Poller(api, interval=0.05, limit=5) as poller:
        made = [api.record()["id"] for _ in range(60)]
        assert poller.wait_for(made, timeout=10)
    stats = poller.stats
    assert stats["events_seen"] == 60 and set(poller.seen) == set(made)
    assert stats["requests"] >= 60 / 5 and stats["bytes"] > 0
    assert stats["empty"] == sum(1 for r in poller.requests if r["new"] == 0)
    assert "60 events seen" in repr(poller)


def test_events_from_before_the_poller_started_are_not_new(api):
    old = api.record()["id"]
    with wl.Poller(api, interval=0.05) as poller:
        new = api.record()["id"]
        assert poller.wait_for([new], timeout=5)
    assert old not in poller.seen


def test_conditional_polls_of_an_idle_api_are_304s(api):
    with wl.Poller(api, interval=0.05) as poller:
        time.sleep(0.4)
    assert poller.stats["not_modified"] >= 2
    assert sum(r["bytes"] for r in poller.requests if r["status"] == 304) == 0


def test_every_recorded_event_is_pushed_too(rx):
    with wl.ProviderAPI(push_to=rx.url("push")) as api:
        made = [api.record()["id"] for _ in range(5)]
        stored = rx.wait_for(5, endpoint="push")
    assert sorted(e.delivery_id for e in stored) == sorted(made) and len(api.pushes) == 5


def test_push_is_milliseconds_while_poll_latency_grows_with_the_interval():
    result = wl.push_vs_poll(duration=4, rate=8, intervals=[0.2, 1.0, 20.0], arrivals="steady", seed=3)
    table = result.table.set_index("mode")
    assert list(table["run"]) == ["live", "live", "live", "compressed ×25"]
    assert (table["missed"] == 0).all()
    push, fast, slow, slowest = table["median latency (s)"]
    assert push < fast < slow < slowest
    for interval, median in zip([0.2, 1.0, 20.0], [fast, slow, slowest]):
        # An event waits for the next poll, half an interval in the median: never much less, whatever the load.
        # How close the medians come to interval/2, on a quiet machine: benchmarks/push_poll.py.
        assert median > interval / 4
    assert table.loc["push", "requests"] == table.loc["push", "events seen"] == 32
    assert table.loc["poll every 0.2 s", "requests"] > table.loc["poll every 1 s", "requests"]
    assert any("time-compressed ×25" in note for note in result.notes)
    assert len(result.plot().axes) == 2
