"""Putting signed webhooks on the wire: one POST as an Attempt, a Delivery with its retries, many at once."""

from __future__ import annotations

import numbers
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from werkzeug.datastructures import Headers

from .._checks import event_value, flag, function, got, seconds, text, web_url, whole
from .._errors import UsageError, UsageTypeError, WaitTimeout
from .clock import RealClock
from .retry import RetryPolicy
from .timeline import SINGLE_ATTEMPT_AXIS, annotate_runs, axes, duration, pyplot, tally, time_unit


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST of a webhook and what came back: a status, or the error that took its place."""

    url: str
    sent_at: datetime
    elapsed: float  # seconds from sending to the end of the answer, or to the error
    status: int | None
    response_body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes = b""

    @property
    def ok(self) -> bool:
        """Delivered: every provider counts any 2xx, and only a 2xx, as success."""
        return self.status is not None and 200 <= self.status < 300

    def __repr__(self) -> str:
        outcome = self.status if self.error is None else self.error
        return f"<Attempt POST {self.url} -> {outcome} in {self.elapsed * 1000:.1f} ms>"


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | tuple[float, float],
         method: str = "POST") -> Attempt:
    """POST (or `method`) once, never following redirects (a 3xx is a failed delivery), and record the outcome."""
    import requests

    sent_at = datetime.now(timezone.utc)
    started = time.perf_counter()
    status, answer, answer_headers, error = None, b"", {}, None
    try:
        reply = requests.request(method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
        status, answer, answer_headers = reply.status_code, reply.content, dict(reply.headers)
    except requests.Timeout:
        limit = timeout if isinstance(timeout, (int, float)) else timeout[1]
        error = f"timed out: no answer within {limit:g} s"
    except requests.ConnectionError:
        error = f"connection failed: nothing is listening at {url} (is the receiver running?)"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Attempt(
        url=url,
        sent_at=sent_at,
        elapsed=time.perf_counter() - started,
        status=status,
        response_body=answer,
        response_headers=answer_headers,
        error=error,
        request_headers=dict(headers),
        request_body=body,
    )


class Delivery:
    """One event's journey to a URL: every attempt on the provider's schedule, until it ends.

    `status` is pending until the end, then one of: delivered (a 2xx arrived),
    failed (no retries to try: GitHub's single attempt, a one-attempt policy, or
    the receiver aborted them), exhausted (every retry failed), disabled (the
    endpoint was switched off: 410 Gone under the Standard Webhooks specification,
    or Shopify's 8 consecutive failures for a subscription created through the
    Admin API).
    """

    def __init__(self, provider, event, to: str, *, policy=None, clock=None, delivery_id: str | None = None,
                 on_attempt=None):  # fmt: skip
        sender(provider)
        event_value(event, getattr(provider, "title", "") or "a provider")
        web_url(to, "to")
        options(policy, clock)
        if delivery_id is not None:
            text(delivery_id, "delivery_id", "the id every attempt carries, a str (None: a fresh one)")
        if on_attempt is not None:
            function(on_attempt, "on_attempt", "a function called with (delivery, row) after each attempt")
        self.provider, self.event, self.url = provider, event, to
        self.policy = policy or provider.policy_for(event)
        self.clock = clock or RealClock()
        self.delivery_id = delivery_id or provider.new_delivery_id()
        self.status = "pending"
        self.duplicate = False  # deliver_many's deliberate second delivery of the same event
        self.on_attempt = on_attempt
        self.log: list[dict] = []  # one row per attempt, for the attempts table
        self._signed: tuple[bytes, dict] | None = None
        self._done = threading.Event()
        self._rng = random.Random(self.policy.seed)
        self._thread: threading.Thread | None = None

    # -- running --------------------------------------------------------------------------

    def run(self) -> Delivery:
        """Attempt, wait, retry, until delivered or out of retries; returns the delivery."""
        due = self.clock.now()
        while due is not None:
            due = self._step(self.clock.wait_until(due), due)
        return self

    def _step(self, sent: float, scheduled: float) -> float | None:
        """The next attempt, due at `scheduled`, sent at `sent` (the clock's time): when the next is due, or None."""
        number, attempt, due = len(self.log) + 1, self._send(), None  # a scheduler of many deliveries calls this too
        verdict, final = self._judge(attempt)
        if not final and number >= self.policy.attempts:
            final = self._give_up_status()
            verdict = f"{verdict}; {self._give_up_reason(final)}"
        if not final:
            wait = self.policy.wait(number, self._rng)
            asked = _retry_after(attempt) if self.policy.honours_retry_after else None
            if asked is not None and asked > wait:
                wait, verdict = asked, f"{verdict}; Retry-After asks for {duration(asked)}"
            verdict = f"{verdict}; retry in {duration(wait)}"
            due = sent + attempt.elapsed + wait
        self._record(number, attempt, scheduled, sent, verdict)
        if final:
            self.status = final
            self._done.set()
        return due

    def start(self) -> Delivery:
        """Run in a daemon thread; `wait()` for the end."""
        if self._thread is not None or self.log:
            raise UsageError(f"this delivery has started already ({self.status}): wait() for its end, or deliver "
                             "the event again for a new delivery")  # fmt: skip
        self._thread = threading.Thread(target=self.run, name=f"webhooklab-delivery-{self.delivery_id}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> Delivery:
        """Block until the delivery ends; WaitTimeout after `timeout` seconds (None: as long as it takes)."""
        if timeout is not None:
            timeout = seconds(timeout, "timeout", ": how long to wait for the delivery to end, or None")
        if not self._done.wait(timeout):
            raise WaitTimeout(
                f"the delivery is still {self.status} after {timeout:g} s ({len(self.log)} attempts so far)"
            )
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def redeliver(self, *, after: float = 60.0) -> Attempt:
        """Send again by hand, `after` seconds (virtual or real) past the last attempt, with the same delivery id."""
        window = self.policy.redeliver_within
        age = (self.log[-1]["offset"] if self.log else 0) + seconds(after, "after", ": how long after the last attempt")
        if window is not None and age > window:
            raise UsageError(
                f"{self.policy.name} keeps deliveries for {duration(window)} for a manual redelivery; "
                f"this one would be {duration(age)} old"
            )
        attempt = self._send()
        verdict, final = self._judge(attempt)
        when = self._start() + age
        self._record(len(self.log) + 1, attempt, when, when, f"redelivered by hand: {verdict}")
        if attempt.ok:
            self.status = "delivered"
        return attempt

    def _send(self) -> Attempt:
        body, headers = self._request()
        return post(self.url, body, headers, timeout=self.policy.timeout or self.provider.timeout)

    def _request(self) -> tuple[bytes, dict[str, str]]:
        """This attempt's body and headers: signed once, or afresh for each attempt where the policy re-signs."""
        if self._signed is None or self.policy.resigns:
            self._signed = self._sign()
        return self._signed

    def _sign(self) -> tuple[bytes, dict[str, str]]:
        return self.provider.sign(self.event, delivery_id=self.delivery_id)

    def _judge(self, attempt: Attempt) -> tuple[str, str | None]:
        """What the attempt means, and the final status if it ends the delivery."""
        if attempt.ok:
            return f"delivered ({attempt.status})", "delivered"
        if attempt.status == 410 and self.policy.gone_disables:
            return "410 Gone: the endpoint is disabled", "disabled"
        if self.policy.abort_header:
            name, value = self.policy.abort_header
            if Headers(attempt.response_headers).get(name) == value:
                return f"the receiver answered {name}: {value}, so retries stop", "failed"
        if attempt.error:
            return f"failed: {attempt.error}", None
        if 300 <= attempt.status < 400:
            return f"failed: {attempt.status} (a redirect is not followed: it counts as a failure)", None
        return f"failed: {attempt.status}", None

    def _give_up_status(self) -> str:
        if self.policy.disables_when_exhausted:
            return "disabled"
        return "exhausted" if self.policy.delays else "failed"

    def _give_up_reason(self, final: str) -> str:
        """Why the last attempt ends the delivery, in the same word as the final status."""
        if final == "disabled":
            return "no retries left: the subscription is deleted, so the delivery is disabled"
        if final == "exhausted":
            return "no retries left: the delivery is exhausted"
        provider, own = self.provider.title or "this provider", self.provider.policy_for(self.event)
        if not own.delays:  # the provider never retries on its own
            by_hand = "; redeliver by hand" if own.redeliver_within else ""
            return f"{provider} does not retry on its own: the delivery failed{by_hand}"
        return f"this policy allows one attempt, so the delivery failed with no retry ({provider} itself would retry)"

    def _start(self) -> float:
        return self.log[0]["sent"] if self.log else self.clock.now()

    def _record(self, number: int, attempt: Attempt, due: float, sent: float, verdict: str) -> None:
        start = self.log[0]["sent"] if self.log else sent
        row = {"attempt": number, "scheduled": due, "sent": sent, "offset": sent - start, "status": attempt.status,
               "elapsed": attempt.elapsed, "error": attempt.error, "outcome": verdict, "result": attempt}  # fmt: skip
        self.log.append(row)
        if self.on_attempt:
            self.on_attempt(self, row)

    # -- reading ----------------------------------------------------------------------------

    @property
    def attempts(self):
        """A DataFrame: attempt, scheduled at, sent at, time after the first, status, elapsed, error, outcome."""
        import pandas as pd

        table = pd.DataFrame(
            [{k: v for k, v in row.items() if k != "result"} for row in self.log],
            columns=["attempt", "scheduled", "sent", "offset", "status", "elapsed", "error", "outcome"],
        )
        for column in ("scheduled", "sent"):
            table[column] = pd.to_datetime(table[column], unit="s", utc=True).dt.floor("ms")
        table["status"] = table["status"].astype("Int64")
        names = {"scheduled": "scheduled at", "sent": "sent at", "offset": "after first (s)", "elapsed": "elapsed (s)"}
        return table.rename(columns=names).set_index("attempt")

    def timeline(self, ax=None):
        """Attempts over time: green for delivered, red for failed, on the span they took."""
        plt = pyplot()

        if axes(ax) is None:
            _, ax = plt.subplots(figsize=(9, 2))
        offsets = [row["offset"] for row in self.log]
        unit, label = time_unit(max(offsets, default=0))
        for row in self.log:
            good = row["result"].ok
            ax.scatter(row["offset"] / unit, 0, s=80, color="tab:green" if good else "tab:red", zorder=3,
                       marker="o" if good else "x")  # fmt: skip
        span = max(offsets, default=0) / unit
        ax.set_xlim(*((-0.03 * span, 1.03 * span) if span else (-1, SINGLE_ATTEMPT_AXIS)))
        statuses = [str(row["status"] or "no answer") for row in self.log]
        annotate_runs(ax, [o / unit for o in offsets], statuses, join=tally, fontsize=8, above=10)  # "500 ×5"
        ax.axhline(0, color="lightgray", zorder=1)
        ax.set_yticks([])
        ax.set_xlabel(f"time after the first attempt ({label})")
        ax.set_title(f"{self.provider.title} delivery: {self.status} after {len(self.log)} attempt(s)")
        return ax

    def __repr__(self) -> str:
        span = duration(self.log[-1]["offset"]) if self.log else "0 s"
        kind = getattr(self.event, "event_type", "") or "event"
        return f"<Delivery {self.provider.name} {kind} -> {self.url}: {self.status} after {len(self.log)} attempt(s) over {span}>"


class Deliveries(list):
    """Several deliveries, as from deliver_many(); `table()` shows one row each, in the order sent."""

    def __init__(self, deliveries=()):
        if isinstance(deliveries, (str, bytes)) or not hasattr(deliveries, "__iter__"):
            raise UsageTypeError(
                f"Deliveries holds wl.Delivery objects, as deliver_many() returns, got {got(deliveries)}"
            )
        deliveries = list(deliveries)
        for one in deliveries:
            if not isinstance(one, Delivery):
                raise UsageTypeError(f"Deliveries holds wl.Delivery objects, as deliver_many() returns, got {got(one)}")
        super().__init__(deliveries)

    def table(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {"delivery_id": d.delivery_id, "event_type": getattr(d.event, "event_type", None),
                 "event_id": d.event.get("id") if isinstance(d.event, dict) else None, "status": d.status,
                 "attempts": len(d.log), "duplicate": d.duplicate}  # fmt: skip
                for d in self
            ]
        )


def deliver_many(provider, events, to: str, *, concurrency: int = 4, shuffle: bool = False,
                 duplicate_rate: float = 0.0, policy=None, clock=None, seed: int | None = None) -> Deliveries:  # fmt: skip
    """Deliver many events at once, as providers do: concurrently, so out of order, and with duplicates.

    `duplicate_rate` sends that fraction of events a second time with the same
    delivery id, as a retry after a lost answer would; `shuffle` mixes the order.
    """

    if isinstance(events, (str, bytes, dict)) or not hasattr(events, "__iter__"):
        raise UsageTypeError(
            f"events must be a list of events, such as [stripe.event('charge.succeeded')], got {got(events)}"
        )
    events = [event_value(event, "each of events: a provider") for event in events]
    sender(provider)
    web_url(to, "to")
    if whole(concurrency, "concurrency", "how many deliveries run at once, a whole number") < 1:
        raise UsageError(f"concurrency must be at least 1, got {concurrency}: it is how many deliveries run at once")
    flag(shuffle, "shuffle", "True mixes the order the events are sent in")
    rate = f"duplicate_rate is the fraction of events sent twice, from 0 to 1, got {got(duplicate_rate)}"
    if isinstance(duplicate_rate, bool) or not isinstance(duplicate_rate, numbers.Real):
        raise UsageTypeError(rate)
    if not 0 <= duplicate_rate <= 1:
        raise UsageError(rate)
    options(policy, clock)
    if seed is not None:
        whole(seed, "seed", "a whole number that makes the shuffle and the duplicates repeatable, or None")
    rng = random.Random(seed)
    jobs = []
    kind = getattr(provider, "delivery_class", Delivery)  # a provider whose retries say more (Slack's)
    for event in events:
        first = kind(provider, event, to, policy=policy, clock=clock)
        jobs.append(first)
        if rng.random() < duplicate_rate:
            again = kind(provider, event, to, policy=policy, clock=clock, delivery_id=first.delivery_id)
            again.duplicate = True
            jobs.append(again)
    if shuffle:
        rng.shuffle(jobs)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhooklab-deliver") as pool:
        list(pool.map(Delivery.run, jobs))
    return Deliveries(jobs)


def sender(provider) -> None:
    """Whatever signs a delivery: a provider such as wl.Stripe(), which signs, and says its retry policy."""
    if not all(callable(getattr(provider, name, None)) for name in ("sign", "policy_for", "new_delivery_id")):
        raise UsageTypeError(f"provider must be a provider such as wl.Stripe('whsec_...'), got {got(provider)}")


def options(policy, clock) -> None:
    if policy is not None and not isinstance(policy, RetryPolicy):
        raise UsageTypeError(f"policy must be a wl.RetryPolicy, such as wl.RetryPolicy.stripe(), or None for the "
                             f"provider's own, got {got(policy)}")  # fmt: skip
    if clock is not None and not all(callable(getattr(clock, name, None)) for name in ("now", "wait_until")):
        raise UsageTypeError(f"clock must be wl.RealClock(), wl.VirtualClock() or wl.AcceleratedClock(), or None "
                             f"for real time, got {got(clock)}")  # fmt: skip


def _retry_after(attempt: Attempt) -> float | None:
    """Seconds asked for by a Retry-After header (a number, or an HTTP date), if any."""
    value = Headers(attempt.response_headers).get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)

    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None

