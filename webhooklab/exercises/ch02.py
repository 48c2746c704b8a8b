"""Checks for 02.00-push-vs-poll: paging forward with a cursor, a freshness promise, push or poll for busy shops."""

from __future__ import annotations

import math
import threading
import time

from .._experiments.polling import ProviderAPI
from . import attempt, failed, guarded, passed

NOTEBOOK = "02.00-push-vs-poll"  # the notebook whose exercises these are: each verdict names it

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


# Exercise 2: the promise a support team wants to make, and the interval a teammate proposes.
PROMISE_SECONDS, PROMISE_SHARE, PROPOSED_INTERVAL = 10, 0.9, 20

# Exercise 3: a warehouse that syncs busy shops, and the poll interval a teammate proposes.
SHOPS, EVENTS_PER_SHOP_PER_DAY, DEADLINE_SECONDS, POLL_EVERY = 2_000, 3_000, 120, 60


@guarded()
def check_longest_interval(longest_interval, result=None) -> bool:
    """longest_interval(within_seconds, share) is within_seconds / share; compared with push_vs_poll's waits.

    Waits are spread evenly between 0 and one interval I, so the share of
    events seen within T seconds is T / I: the promise holds while I <= T / share.
    """
    if not callable(longest_interval):
        return failed("longest_interval is not a function yet. "
                      "Define it with def longest_interval(within_seconds, share): ...")  # fmt: skip
    for within, share in [(PROMISE_SECONDS, PROMISE_SHARE), (5, 0.5), (2, 1.0), (30, 0.95), (0.5, 0.75)]:
        value, error = attempt(longest_interval, within, share)
        call = f"longest_interval({within!r}, {share!r})"
        if error:
            return failed(f"{call} raised {error}.")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return failed(f"{call} returned {value!r}; return a number of seconds.")
        right = within / share
        if math.isclose(value, right, rel_tol=1e-9):
            continue
        hint = _interval_hint(call, value, within, share)
        return failed(hint)
    proposed = min(1.0, PROMISE_SECONDS / PROPOSED_INTERVAL)
    return passed(
        f"to see {PROMISE_SHARE:.0%} of events within {PROMISE_SECONDS} s, poll at least every "
        f"{longest_interval(PROMISE_SECONDS, PROMISE_SHARE):.3g} s. The proposed {PROPOSED_INTERVAL} s sees only "
        f"{proposed:.0%} that fast: its median wait is {PROMISE_SECONDS} s, which is a promise for half the events."
        + _compare_with_measured(result)
    )


def _interval_hint(call: str, value: float, within: float, share: float) -> str:
    """What a wrong interval most likely mixed up, in the learner's own numbers."""
    if value <= 0:
        return f"{call} is {value!r}. An interval is a time between two polls: more than 0 s."
    mix_ups = [
        (within * 2, share != 0.5, ("twice the promise: that is the median rule, which keeps the promise for half "
            f"of the events. This promise is for {share:.0%} of them.")),
        (within, share != 1, (f"the promise itself: then no event waits longer than {within:g} s. That keeps the "
            f"promise for every event, but it asks only for {share:.0%}: you may poll less often.")),
        (within * share, share != 1, ("the promise times the share: that polls more often than needed. With polls I "
            "seconds apart, what share of events waits at most T seconds?")),
        (within / 2, True, ("half the promise: the median rule the wrong way round. A median wait of T needs polls "
            "2T apart, not T/2.")),
        (within / (1 - share) if share != 1 else -1, True, ("the share that arrives LATE was used: the interval "
            f"should make {share:.0%} of events arrive in time.")),
        (within * 1000 / share, True, "that looks like milliseconds. Answer in seconds."),
        (within / share / 60, True, "that looks like minutes. Answer in seconds."),
    ]
    for wrong, applies, why in mix_ups:
        if applies and math.isclose(value, wrong, rel_tol=1e-9):
            return f"{call} is {value:g}, {why}"
    in_time = min(1.0, within / value)
    side = "fewer than the promise" if in_time < share else "more than needed: you could poll less often"
    return (f"{call} is {value:g}. Polls {value:g} s apart see {in_time:.0%} of events within {within:g} s, {side}. "
            f"The promise is {share:.0%}.")  # fmt: skip


def _compare_with_measured(result) -> str:
    """One line per poll row of a push_vs_poll result: the share the rule predicts beside the share measured."""
    latencies = getattr(result, "latencies", None)
    table = getattr(result, "table", None)
    if not isinstance(latencies, dict) or table is None:
        return ""
    lines = []
    for _, row in table[table["mode"] != "push"].iterrows():
        waits = latencies.get(row["mode"]) or []
        if not waits:
            continue
        within = PROMISE_SHARE * row["interval (s)"]  # the promise this interval is the longest for
        measured = sum(wait <= within for wait in waits) / len(waits)
        lines.append(f"\n  {row['mode']}: your rule says {PROMISE_SHARE:.0%} are seen within {within:.3g} s; "
                     f"the experiment saw {measured:.0%} of {len(waits)} events")  # fmt: skip
    return " Against the experiment:" + "".join(lines) if lines else ""


@guarded()
def check_daily_requests(daily_requests, decision=None) -> bool:
    """daily_requests(customers, interval_seconds) is customers * 86,400 / interval_seconds; then push or poll.

    For Exercise 3's shops polling is the lighter choice: fewer requests than
    one push per event, and its longest wait (one interval) is within the deadline.
    """
    if not callable(daily_requests):
        return failed("daily_requests is not a function yet. Define it with def daily_requests(customers, interval_seconds): ...")
    for customers, interval in [(1, 60), (SHOPS, POLL_EVERY), (10_000, 60), (500, 300), (3, 1), (20, 3600)]:
        value, error = attempt(daily_requests, customers, interval)
        call = f"daily_requests({customers}, {interval})"
        if error:
            return failed(f"{call} raised {error}.")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return failed(f"{call} returned {value!r}; return a number.")
        right = customers * DAY / interval
        if not math.isclose(value, right, rel_tol=1e-9):
            return failed(_requests_hint(call, value, customers, interval, right))
    return _judge_decision(daily_requests(SHOPS, POLL_EVERY), decision)


def _requests_hint(call: str, value: float, customers: int, interval: int, right: float) -> str:
    """What a wrong count most likely mixed up, in the learner's own numbers."""
    mix_ups = [
        (DAY / interval, customers != 1, "one customer's polls. Every customer polls on its own timer: multiply."),
        (customers * 1440 / interval, True, ("but the interval is in seconds and 1,440 is minutes in a day: a day "
            "has 86,400 seconds.")),
        (customers * 24 / interval, True, ("but the interval is in seconds and 24 is hours in a day: a day has "
            "86,400 seconds.")),
        (right * 2, True, "twice the count. One poll is one request: its answer comes back on the same connection."),
        (right / 2, True, "half the count. Every poll is a request, the empty ones too."),
        (customers * interval / DAY, True, "upside down: how many intervals fit in a day is 86,400 / interval."),
        (right * 1000, True, ("a thousand times too many: that counts a day in milliseconds. The interval is in "
            "seconds.")),
    ]
    for wrong, applies, why in mix_ups:
        if applies and math.isclose(value, wrong, rel_tol=1e-9):
            return f"{call} is {value:,.0f}, {why}"
    return (f"{call} is {value!r}, expected {right:,.0f}. One customer polling every {interval} s asks "
            f"86,400 / {interval} times a day.")  # fmt: skip


def _judge_decision(polls: float, decision) -> bool:
    pushes = SHOPS * EVENTS_PER_SHOP_PER_DAY
    numbers = (f"Polling every {POLL_EVERY} s makes {polls:,.0f} requests a day; push makes one per event, "
               f"{SHOPS:,} × {EVENTS_PER_SHOP_PER_DAY:,} = {pushes:,}.")  # fmt: skip
    if decision is None:
        return failed(f"daily_requests is right. {numbers} Now decide: set decision to \"push\" or \"poll\".")
    choice = decision.strip().lower() if isinstance(decision, str) else decision
    if choice not in ("push", "poll"):
        return failed(f"decision is {decision!r}; set it to \"push\" or \"poll\".")
    if choice == "push":
        return failed(
            f"{numbers} Push costs more here: these shops are busy. And the deadline? A poller makes an event wait "
            f"at most one interval, {POLL_EVERY} s, within the {DEADLINE_SECONDS} s the warehouse allows."
        )
    quiet = SHOPS * DAY / POLL_EVERY / (SHOPS * 20)  # the 10,000 quiet customers of section 6 have 20 a day
    return passed(
        f"poll is the lighter choice here. {numbers} Every update still arrives within {POLL_EVERY} s, inside "
        f"the {DEADLINE_SECONDS} s deadline. Were the shops quiet (20 events a day), push would make {quiet:g} times "
        "fewer requests."
    )
