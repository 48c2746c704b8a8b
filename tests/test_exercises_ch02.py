"""The checks of 02.00-push-vs-poll: each solution passes, and typical mistakes get their own hint."""

import time

import pandas as pd
import requests
from lab_under_test import run_solution

from webhooklab.exercises import ch02


def solution(slug: str):
    return run_solution(f"02.00-{slug}.py", requests=requests)


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


# -- Exercise 2: a freshness promise ------------------------------------------------------


class Measured:
    """Stands in for a push_vs_poll result: only its table's modes and intervals, and its latencies, are read."""

    table = pd.DataFrame(
        [
            {"mode": "push", "interval (s)": None},
            {"mode": "poll every 1 s", "interval (s)": 1.0},
            {"mode": "poll every 30 s", "interval (s)": 30.0},
        ]
    )
    latencies = {
        "push": [0.002] * 10,
        "poll every 1 s": [i / 10 + 0.05 for i in range(10)],  # 0.05 ... 0.95: nine in ten within 0.9 s
        "poll every 30 s": [],  # saw nothing: left out of the comparison
    }


def test_the_longest_interval_solution_passes_and_is_compared_with_the_experiment(capsys):
    assert ch02.check_longest_interval(solution("longest-interval")["longest_interval"], Measured()) is True
    out = capsys.readouterr().out
    assert out.startswith("✓ to see 90% of events within 10 s, poll at least every 11.1 s. "
                          "The proposed 20 s sees only 50%")  # fmt: skip
    assert "poll every 1 s: your rule says 90% are seen within 0.9 s; the experiment saw 90% of 10 events" in out
    assert "push" not in out.split("Against the experiment:")[1] and "30 s:" not in out


def test_the_median_rule_is_a_promise_for_half_the_events(capsys):
    assert ch02.check_longest_interval(lambda within, share: 2 * within) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet: longest_interval(10, 0.9) is 20, twice the promise: that is the median rule")


def test_typical_mix_ups_get_their_own_hint(capsys):
    mix_ups = {
        (lambda within, share: within): "keeps the promise for every event, but it asks only for 90%",
        (lambda within, share: within * share): "the promise times the share",
        (lambda within, share: within / 2): "the median rule the wrong way round",
        (lambda within, share: within / (1 - share)): "the share that arrives LATE",
        (lambda within, share: within * 1000 / share): "milliseconds",
        (lambda within, share: within / share / 60): "minutes",
        (lambda within, share: 40): "Polls 40 s apart see 25% of events within 10 s, fewer than the promise",
        (lambda within, share: 0): "more than 0 s",
        (lambda within, share: None): "return a number of seconds",
    }
    for wrong, hint in mix_ups.items():
        assert ch02.check_longest_interval(wrong) is False
        out = capsys.readouterr().out
        assert out.startswith("✗ Not yet") and hint in out, out


def test_a_stub_or_no_function_is_a_hint_not_a_crash(capsys):
    def stub(within_seconds, share):
        raise NotImplementedError("write longest_interval in the exercise cell below")

    assert ch02.check_longest_interval(stub) is False
    assert "raised NotImplementedError: write longest_interval" in capsys.readouterr().out
    assert ch02.check_longest_interval(None, object()) is False
    assert "not a function yet" in capsys.readouterr().out


# -- Exercise 3: push or poll, for busy shops ----------------------------------------------


def test_the_daily_requests_solution_and_its_decision_pass(capsys):
    answer = solution("daily-requests")
    assert answer["decision"] == "poll"
    assert ch02.check_daily_requests(answer["daily_requests"], answer["decision"]) is True
    out = capsys.readouterr().out
    assert out.startswith("✓ poll is the lighter choice here. Polling every 60 s makes 2,880,000 requests a day; "
                          "push makes one per event, 2,000 × 3,000 = 6,000,000.")  # fmt: skip
    assert "push would make 72 times fewer requests" in out


def test_push_for_busy_shops_is_told_to_count_both_sides(capsys):
    right = solution("daily-requests")["daily_requests"]
    assert ch02.check_daily_requests(right, "push") is False
    out = capsys.readouterr().out
    assert "Push costs more here" in out and "at most one interval, 60 s" in out
    assert ch02.check_daily_requests(right) is False
    assert 'Now decide: set decision to "push" or "poll"' in capsys.readouterr().out
    assert ch02.check_daily_requests(right, "webhooks") is False
    assert "decision is 'webhooks'" in capsys.readouterr().out
    assert ch02.check_daily_requests(right, " Poll ") is True


def test_wrong_counts_get_their_own_hint(capsys):
    mix_ups = {
        (lambda customers, interval: 86_400 / interval): "one customer's polls",
        (lambda customers, interval: customers * 1440 / interval): "1,440 is minutes in a day",
        (lambda customers, interval: customers * 24 / interval): "24 is hours in a day",
        (lambda customers, interval: 2 * customers * 86_400 / interval): "twice the count",
        (lambda customers, interval: customers * 43_200 / interval): "half the count",
        (lambda customers, interval: customers * interval / 86_400): "upside down",
        (lambda customers, interval: customers * 86_400_000 / interval): "milliseconds",
        (lambda customers, interval: customers * interval): "expected 1,440",
        (lambda customers, interval: "many"): "return a number",
    }
    for wrong, hint in mix_ups.items():
        assert ch02.check_daily_requests(wrong, "poll") is False
        out = capsys.readouterr().out
        assert out.startswith("✗ Not yet") and hint in out, out
