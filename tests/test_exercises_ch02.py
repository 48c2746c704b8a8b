"""The checks of 02.00-push-vs-poll: each solution passes, and typical mistakes get their own hint."""

import time
from pathlib import Path

import pandas as pd
import requests

from webhooklab.exercises import ch02

SOLUTIONS = Path(__file__).parent.parent / "notebooks" / "solutions"


def solution(slug: str):
    namespace = {"requests": requests}
    exec((SOLUTIONS / f"02.00-{slug}.py").read_text(), namespace)
    return namespace


# -- Exercise 1: page forward with a cursor ------------------------------------------------


def test_the_cursor_loop_solution_passes(capsys):
    assert ch02.check_new_event_ids(solution("new-event-ids")["new_event_ids"]) is True
    out = capsys.readouterr().out
    assert out.startswith("✓") and "none lost or repeated" in out and "✗" not in out


def one_page(events_url, cursor):
    page = requests.get(events_url, params={"limit": 10, "ending_before": cursor}, timeout=5).json()
    return [event["id"] for event in reversed(page["data"])]


def wrong_direction(events_url, cursor):
    page = requests.get(events_url, params={"limit": 100, "starting_after": cursor}, timeout=5).json()
    return [event["id"] for event in page["data"]]


def cursor_not_moved_forward(events_url, cursor):
    ids = []
    while True:
        page = requests.get(events_url, params={"limit": 10, "ending_before": cursor}, timeout=5).json()
        ids += [event["id"] for event in reversed(page["data"])]
        if page["data"]:
            cursor = page["data"][-1]["id"]  # the OLDEST on the page: the next page overlaps this one
        if not page["has_more"]:
            return ids


def whole_events(events_url, cursor):
    page = requests.get(events_url, params={"limit": 100, "ending_before": cursor}, timeout=5).json()
    return page["data"]


def test_one_page_only_is_told_to_follow_has_more(capsys):
    assert ch02.check_new_event_ids(one_page) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet: you found 10 of the 120") and "has_more" in out


def test_the_wrong_direction_is_told_to_use_ending_before(capsys):
    assert ch02.check_new_event_ids(wrong_direction) is False
    assert "starting_after pages to OLDER events" in capsys.readouterr().out


def test_a_cursor_that_does_not_move_to_the_newest_repeats_ids(capsys):
    assert ch02.check_new_event_ids(cursor_not_moved_forward) is False
    assert "appear twice" in capsys.readouterr().out


def test_whole_events_instead_of_ids(capsys):
    assert ch02.check_new_event_ids(whole_events) is False
    assert "not ids. Take each event's id" in capsys.readouterr().out


def test_newest_first_is_told_to_reverse(capsys):
    def all_newest_first(events_url, cursor):
        found = solution("new-event-ids")["new_event_ids"](events_url, cursor)
        return found[::-1]

    assert ch02.check_new_event_ids(all_newest_first) is False
    assert "newest first" in capsys.readouterr().out


def test_a_stub_that_raises_and_a_loop_that_never_ends_are_hints_not_crashes(capsys):
    def stub(events_url, cursor):
        raise NotImplementedError("write new_event_ids in the exercise cell below")

    assert ch02.check_new_event_ids(stub) is False
    assert "raised NotImplementedError: write new_event_ids" in capsys.readouterr().out

    def slow(events_url, cursor):
        time.sleep(1.0)
        return []

    assert ch02.check_new_event_ids(slow, timeout=0.2) is False
    assert "did not return within 0.2 s" in capsys.readouterr().out
    assert ch02.check_new_event_ids(None) is False
    assert "not a function yet" in capsys.readouterr().out


# -- Exercise 2: the expected median -------------------------------------------------------


class Measured:
    """Stands in for a push_vs_poll result: only its table is read."""

    table = pd.DataFrame(
        [
            {"mode": "push", "interval (s)": None, "median latency (s)": 0.002},
            {"mode": "poll every 1 s", "interval (s)": 1.0, "median latency (s)": 0.47},
            {"mode": "poll every 30 s", "interval (s)": 30.0, "median latency (s)": 15.2},
        ]
    )


def test_the_expected_median_solution_passes_and_is_compared_with_the_experiment(capsys):
    assert ch02.check_expected_median(solution("expected-median")["expected_median"], Measured()) is True
    out = capsys.readouterr().out
    assert out.startswith("✓ expected_median(interval) is interval / 2.")
    assert "poll every 1 s: you expect 0.5 s, the experiment measured 0.47 s (94% of it)" in out
    assert "push" not in out


def test_a_whole_interval_is_the_longest_wait(capsys):
    assert ch02.check_expected_median(lambda interval: interval) is False
    assert "a whole interval: that is the longest wait" in capsys.readouterr().out


def test_milliseconds_and_other_wrong_medians(capsys):
    assert ch02.check_expected_median(lambda interval: interval * 500) is False
    assert "milliseconds" in capsys.readouterr().out
    assert ch02.check_expected_median(lambda interval: interval / 3) is False
    assert capsys.readouterr().out.startswith("✗ Not yet: expected_median(0.25) is 0.08")
    assert ch02.check_expected_median(lambda interval: None) is False
    assert "return a number of seconds" in capsys.readouterr().out


# -- Exercise 3: requests per day ----------------------------------------------------------


def test_the_daily_requests_solution_passes(capsys):
    assert ch02.check_daily_requests(solution("daily-requests")["daily_requests"]) is True
    assert "14,400,000 requests a day" in capsys.readouterr().out


def test_one_customer_only_and_minutes_for_seconds(capsys):
    assert ch02.check_daily_requests(lambda customers, interval: 86_400 / interval) is False
    assert "one customer's polls" in capsys.readouterr().out
    assert ch02.check_daily_requests(lambda customers, interval: customers * 1440 / interval) is False
    assert "a day has 86,400 of them" in capsys.readouterr().out
    assert ch02.check_daily_requests(lambda customers, interval: customers * interval) is False
    assert "expected 1,440" in capsys.readouterr().out
