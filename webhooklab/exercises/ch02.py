"""Checks for 02.00-push-vs-poll: paging forward with a cursor, the half-interval rule, the cost of polling."""

from __future__ import annotations

import math
import threading
import time

from .._polling import ProviderAPI
from . import attempt, failed, guarded, passed

DAY = 86_400


@guarded()
def check_new_event_ids(new_event_ids, *, timeout: float = 10.0) -> bool:
    """new_event_ids(events_url, cursor) returns every event id newer than `cursor`, oldest first.

    Checked against a fresh ProviderAPI: a few events older than the cursor, 120
    newer ones (more than the largest page, so one request cannot be enough),
    and more recorded while the learner's loop is paging.
    """
    if not callable(new_event_ids):
        return failed("new_event_ids is not a function yet. Define it with def new_event_ids(events_url, cursor): ...")

    with ProviderAPI() as api:
        old = [api.record()["id"] for _ in range(3)]
        cursor = api.record()["id"]
        waiting = [api.record()["id"] for _ in range(120)]
        box: list = []
        worker = threading.Thread(target=lambda: box.append(attempt(new_event_ids, api.url("/v1/events"), cursor)),
                                  name="webhooklab-exercise", daemon=True)  # fmt: skip
        worker.start()
        during = 0
        while worker.is_alive() and during < 30:  # events keep happening while the loop pages
            api.record()
            during += 1
            time.sleep(0.002)
        worker.join(timeout)
        log = [event["id"] for event in api.log]
    if worker.is_alive() or not box:
        return failed(
            f"new_event_ids did not return within {timeout:g} s. Does the loop stop when page['has_more'] is False "
            "(and does the cursor move on after each page)?"
        )
    result, error = box[0]
    if error:
        return failed(f"new_event_ids raised {error}.")
    return _judge_ids(result, log, cursor, old, len(waiting))


def _judge_ids(result, log: list[str], cursor: str, old: list[str], waiting: int) -> bool:
    after = log[log.index(cursor) + 1 :]
    if result is None:
        return failed("new_event_ids returned None. Collect the ids in a list and return it.")
    if not isinstance(result, list):
        return failed(f"new_event_ids returned a {type(result).__name__}; return a list of event ids.")
    if result and not all(isinstance(item, str) for item in result):
        example = result[0] if not isinstance(result[0], str) else next(i for i in result if not isinstance(i, str))
        kind = "whole events" if isinstance(example, dict) else f"{type(example).__name__} values"
        return failed(f"the list holds {kind}, not ids. Take each event's id: event['id'].")
    if cursor in result or set(result) & set(old):
        return failed(
            "your list has events from before the cursor (or the cursor itself). starting_after pages to OLDER "
            "events; to move forward in time, ask with ending_before=cursor."
        )
    if len(result) != len(set(result)):
        repeated = len(result) - len(set(result))
        return failed(
            f"{repeated} id(s) appear twice. After each page, move the cursor to the newest event on it, "
            "page['data'][0]['id'] (the list is newest first)."
        )
    unknown = [i for i in result if i not in after]
    if unknown:
        return failed(f"{unknown[0]!r} is not one of the API's events. Return the ids exactly as the API gives them.")
    if len(result) < waiting:
        return failed(
            f"you found {len(result)} of the {waiting} events that were waiting. One page holds at most 100: "
            "keep asking, with the cursor moved on, while page['has_more'] is True."
        )
    if result != after[: len(result)]:
        if sorted(result, key=after.index) == result[::-1]:
            return failed("the ids are newest first. Each page comes newest first: reverse it before adding it.")
        return failed(
            "every new id is there, but not in the order they happened. Reverse each page (newest first) and add "
            "the pages in the order you fetch them."
        )
    extra = len(result) - waiting
    while_paging = f", and {extra} that happened while you were paging" if extra else ""
    return passed(
        f"{len(result)} new event ids, oldest first, none lost or repeated: the {waiting} that were waiting"
        f"{while_paging}."
    )


@guarded()
def check_expected_median(expected_median, result=None) -> bool:
    """expected_median(interval) is interval / 2; compared with the measured rows of push_vs_poll's result."""
    if not callable(expected_median):
        return failed("expected_median is not a function yet. Define it with def expected_median(interval): ...")
    cases = [0.25, 1, 30, 60, 300]
    for interval in cases:
        value, error = attempt(expected_median, interval)
        if error:
            return failed(f"expected_median({interval!r}) raised {error}.")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return failed(f"expected_median({interval!r}) returned {value!r}; return a number of seconds.")
        if math.isclose(value, interval / 2, rel_tol=1e-9):
            continue
        if math.isclose(value, interval, rel_tol=1e-9):
            return failed(
                f"expected_median({interval!r}) is {value!r}, a whole interval: that is the longest wait, for an "
                "event that happens just after a poll. An event lands at a random moment between two polls."
            )
        if math.isclose(value, interval * 500, rel_tol=1e-9):
            return failed(f"expected_median({interval!r}) is {value!r}: that looks like milliseconds. Answer in seconds.")
        return failed(
            f"expected_median({interval!r}) is {value!r}. If polls are {interval:g} s apart and an event happens at "
            "a random moment between two of them, how long does it wait for the next poll, in the middle case?"
        )
    comparison = _compare_with_measured(expected_median, result)
    return passed("expected_median(interval) is interval / 2." + comparison)


def _compare_with_measured(expected_median, result) -> str:
    """One line per poll row of a push_vs_poll result: the formula's median beside the measured one."""
    table = getattr(result, "table", None)
    if table is None:
        return ""
    lines = []
    for _, row in table[table["mode"] != "push"].iterrows():
        measured = row["median latency (s)"]
        if measured is None or measured != measured:  # None or NaN: the poller saw nothing
            continue
        expected = expected_median(row["interval (s)"])
        lines.append(f"\n  {row['mode']}: you expect {expected:g} s, the experiment measured {measured:.3g} s "
                     f"({measured / expected:.0%} of it)")  # fmt: skip
    return " Against the experiment:" + "".join(lines) if lines else ""


@guarded()
def check_daily_requests(daily_requests) -> bool:
    """daily_requests(customers, interval_seconds) is customers * 86,400 / interval_seconds."""
    if not callable(daily_requests):
        return failed("daily_requests is not a function yet. Define it with def daily_requests(customers, interval_seconds): ...")
    for customers, interval in [(1, 60), (10_000, 60), (500, 300), (3, 1), (20, 3600)]:
        value, error = attempt(daily_requests, customers, interval)
        if error:
            return failed(f"daily_requests({customers}, {interval}) raised {error}.")
        right = customers * DAY / interval
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return failed(f"daily_requests({customers}, {interval}) returned {value!r}; return a number.")
        if math.isclose(value, right, rel_tol=1e-9):
            continue
        if math.isclose(value, DAY / interval, rel_tol=1e-9) and customers != 1:
            return failed(
                f"daily_requests({customers}, {interval}) is {value:,.0f}: that is one customer's polls. "
                "Every customer polls, so multiply by customers."
            )
        if math.isclose(value, customers * 1440 / interval, rel_tol=1e-9) or math.isclose(value, customers * 24 / interval, rel_tol=1e-9):  # fmt: skip
            return failed(
                f"daily_requests({customers}, {interval}) is {value:,.0f}, but the interval is in seconds: a day has "
                "86,400 of them."
            )
        return failed(
            f"daily_requests({customers}, {interval}) is {value!r}, expected {right:,.0f}. One customer polling every "
            f"{interval} s asks 86,400 / {interval} times a day."
        )
    return passed(
        f"10,000 customers polling every minute make {daily_requests(10_000, 60):,.0f} requests a day; "
        f"every 5 minutes, {daily_requests(10_000, 300):,.0f}."
    )

