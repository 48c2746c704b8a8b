"""Retry policies: when a failed webhook is tried again, and what ends the trying.

Each provider's policy follows what it publishes. Where it publishes only the
shape ("up to 3 days, exponential backoff"), the exact intervals are our
assumption, and the policy says so in its docstring, its repr and its table.
"""

from __future__ import annotations

import math
import numbers
import random
from dataclasses import dataclass, field, replace

from .._checks import flag, got, request_timeout, seconds, text, whole
from .._errors import UsageError, UsageTypeError
from .timeline import DAY, HOUR, MINUTE, duration, plot_policy

FLAGS = {
    "honours_retry_after": "True waits at least what a Retry-After header asks",
    "gone_disables": "True ends the delivery, disabled, at a 410 Gone",
    "disables_when_exhausted": "True ends it disabled after the last failure",
    "resigns": "True signs each retry with a fresh timestamp",
}


@dataclass(frozen=True)
class RetryPolicy:
    """The waits between attempts and the rules that stop them.

    `delays[i]` is the wait after attempt i+1 fails, before attempt i+2:
    RetryPolicy([5, 300]) means three attempts in all. `jitter` spreads each
    wait by up to that fraction either way.
    """

    delays: tuple[float, ...] = ()
    name: str = "custom"
    timeout: float | tuple[float, float] | None = None  # None: the provider's own timeout
    jitter: float = 0.0
    honours_retry_after: bool = False  # wait at least what a Retry-After header asks
    gone_disables: bool = False  # a 410 Gone answer disables the endpoint
    abort_header: tuple[str, str] | None = None  # a response header that stops the retries
    disables_when_exhausted: bool = False  # after the last failure the subscription is deleted (Shopify: Admin API)
    resigns: bool = False  # each retry is signed again with a fresh timestamp
    redeliver_within: float | None = None  # how long a manual redelivery stays possible (seconds)
    assumption: str | None = None  # what the provider does not publish and we chose
    note: str | None = None  # a published rule the schedule alone does not show
    seed: int | None = field(default=None, compare=False)

    def __post_init__(self):
        if isinstance(self.delays, (str, bytes)) or not isinstance(self.delays, (list, tuple)):
            raise UsageTypeError(f"delays must be a list of waits in seconds, such as [5, 300], got {got(self.delays)}")
        waits = ": each is the wait before one retry"
        object.__setattr__(self, "delays", tuple(seconds(d, "each of delays", waits) for d in self.delays))
        text(self.name, "name", "what the policy is called, such as 'custom'")
        object.__setattr__(self, "timeout", request_timeout(self.timeout))
        if isinstance(self.jitter, bool) or not isinstance(self.jitter, numbers.Real):
            raise UsageTypeError(f"jitter must be a number, a fraction from 0 to below 1, got {got(self.jitter)}")
        if not 0 <= self.jitter < 1:
            raise UsageError(
                f"jitter is a fraction from 0 to below 1 (0.1 spreads each wait by 10%), got {got(self.jitter)}"
            )
        for name, meaning in FLAGS.items():
            flag(getattr(self, name), name, meaning)
        header = self.abort_header
        if header is not None:
            if not (isinstance(header, (tuple, list)) and len(header) == 2 and all(isinstance(p, str) for p in header)):
                raise UsageTypeError(f"abort_header must be (header name, value), such as ('X-Slack-No-Retry', '1'), "
                                     f"or None, got {got(header)}")  # fmt: skip
            object.__setattr__(self, "abort_header", tuple(header))
        if self.redeliver_within is not None:
            seconds(self.redeliver_within, "redeliver_within", ": how long a redelivery by hand stays possible",
                    infinite=True)  # fmt: skip
        for name in ("assumption", "note"):
            if getattr(self, name) is not None:
                text(getattr(self, name), name, "a sentence, or None", empty=True)
        if self.seed is not None:
            whole(self.seed, "seed", "a whole number that makes the jitter repeatable, or None")

    # -- the providers' policies ------------------------------------------------------

    @classmethod
    def stripe(cls, live: bool = True) -> RetryPolicy:
        """Stripe: live mode for up to 3 days with exponential backoff; test mode 3 retries over a few hours."""
        if not flag(live, "live", "False for test mode's schedule"):
            return cls((30 * MINUTE, HOUR, 2 * HOUR), name="Stripe (test mode)", resigns=True,
                       redeliver_within=15 * DAY,
                       assumption="Stripe publishes '3 retries over a few hours' in test mode; we wait 30 min, 1 h, 2 h")  # fmt: skip
        return cls(_doubling(5 * MINUTE, cap=12 * HOUR, within=3 * DAY), name="Stripe (live mode)", resigns=True,
                   redeliver_within=15 * DAY,
                   assumption="Stripe publishes 'up to 3 days with exponential backoff'; we start at 5 min, "
                   "double each wait up to 12 h, and stop before 3 days")  # fmt: skip

    @classmethod
    def shopify(cls, admin_api: bool = True) -> RetryPolicy:
        """Shopify: 8 retries over 4 hours, exponential.

        After 8 consecutive failures Shopify deletes a subscription created through the
        Admin API (the default here: the delivery ends disabled); a subscription declared
        in the app's configuration stays (admin_api=False: the delivery ends exhausted).
        """
        unit = 4 * HOUR / (2**8 - 1)  # doubling waits that add up to exactly 4 h
        if flag(admin_api, "admin_api", "False for a subscription declared in the app's configuration"):
            name, note = "Shopify", (
                "after 8 consecutive failures Shopify deletes a subscription created through the Admin API, "
                "as here; subscriptions declared in the app's configuration stay")
        else:
            name, note = "Shopify (app-configured subscription)", (
                "subscriptions declared in the app's configuration stay after the retries fail; only one "
                "created through the Admin API is deleted after 8 consecutive failures")
        return cls(tuple(round(unit * 2**i) for i in range(8)), name=name, disables_when_exhausted=admin_api,
                   assumption="Shopify publishes '8 retries over 4 hours, exponential' but not the intervals; "
                   "we double each wait, scaled so the eight add up to 4 h", note=note)  # fmt: skip

    @classmethod
    def github(cls) -> RetryPolicy:
        """GitHub: no automatic retry; a person redelivers, with the same delivery id.

        The 3-day redelivery window is github.com's; GitHub Enterprise Server differs.
        """
        return cls((), name="GitHub", redeliver_within=3 * DAY,
                   note="no automatic retry; a person redelivers within 3 days on github.com "
                   "(GitHub Enterprise Server differs)")  # fmt: skip

    @classmethod
    def slack(cls) -> RetryPolicy:
        """Slack's Events API: up to 3 retries, nearly at once, after about 1 minute, after about 5 minutes.

        A 2xx must come within 3 seconds. Each retry carries X-Slack-Retry-Num and
        X-Slack-Retry-Reason (http_timeout, http_error, connection_failed...), and a
        receiver that answers with the header `X-Slack-No-Retry: 1` stops them.
        """
        return cls((1, MINUTE, 5 * MINUTE), name="Slack (Events API)", timeout=3.0, resigns=True,
                   abort_header=("X-Slack-No-Retry", "1"),
                   assumption="Slack publishes 'nearly immediately, after about 1 minute, after about 5 minutes', not "
                   "exact waits; we wait 1 s, 1 min and 5 min after each failure, and sign each retry with a fresh "
                   "timestamp",
                   note="a 2xx must come within 3 s; answering X-Slack-No-Retry: 1 stops the retries")  # fmt: skip

    @classmethod
    def twilio(cls) -> RetryPolicy:
        """Twilio: one attempt here; its connection overrides document one retry if the connection fails.

        By default (rc=1) Twilio tries once more when it cannot connect, within 15 s for all
        attempts (tt), with 5 s to connect (ct) and 15 s to read (rt); #rc= and #rp= in the URL
        fragment change that. A failed request then goes to the fallback URL, if one is set.
        """
        return cls((), name="Twilio", timeout=(5.0, 15.0),
                   assumption="Twilio's single connection retry (rc=1, within 15 s) and its fallback URL are "
                   "not simulated: we make one attempt",
                   note="by default Twilio retries once if the connection fails, all within 15 s; then it "
                   "requests the fallback URL, if one is set")  # fmt: skip

    @classmethod
    def standard(cls) -> RetryPolicy:
        """Standard Webhooks on Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.

        The specification gives only an example schedule and recommends jitter; these eight
        attempts are Svix's own published schedule, used here without jitter. A 410 Gone
        disables the endpoint, as the specification says. Svix documents disabling an
        endpoint after days of failures; that it does not also do so on a 410 is our assumption.
        """
        return cls((5, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR), name="Standard Webhooks (Svix)",
                   honours_retry_after=True, gone_disables=True, abort_header=("webhook-delivery", "abort-message"),
                   resigns=True,
                   assumption="the Standard Webhooks specification gives only an example schedule and recommends "
                   "jitter; we use Svix's published schedule, without jitter",
                   note="a 410 Gone disables the endpoint, as the specification says")  # fmt: skip

    @classmethod
    def exponential(cls, first: float, *, factor: float = 2.0, retries: int = 5, cap: float | None = None,
                    jitter: float = 0.0, seed: int | None = None) -> RetryPolicy:  # fmt: skip
        """`retries` waits, starting at `first` seconds and growing by `factor`, each at most `cap`."""
        first = seconds(first, "first", ": the wait before the first retry")
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            raise UsageTypeError(f"factor must be a number, such as 2 to double each wait, got {got(factor)}")
        if not 0 < factor < math.inf:
            raise UsageError(f"factor must be more than 0 and finite (2 doubles each wait), got {got(factor)}")
        if whole(retries, "retries", "a whole number of retries") < 0:
            raise UsageError(
                f"retries cannot be negative, got {retries}: it is how many retries follow the first attempt"
            )
        if cap is not None:
            cap = seconds(cap, "cap", ": the longest wait", infinite=True)
        delays = [first * factor**i for i in range(retries)]
        return cls(tuple(min(d, cap) if cap else d for d in delays), name="exponential", jitter=jitter, seed=seed)

    def with_timeout(self, timeout: float | tuple[float, float]) -> RetryPolicy:
        return replace(self, timeout=timeout)

    # -- the schedule -----------------------------------------------------------------------

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1

    def offsets(self) -> list[float]:
        """When each attempt is due, in seconds after the first, if every one fails (before jitter)."""
        offsets = [0.0]
        for delay in self.delays:
            offsets.append(offsets[-1] + delay)
        return offsets

    def wait(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (1-based), with jitter applied."""
        if not 1 <= whole(retry, "retry", "a whole number, 1 for the first retry") <= len(self.delays):
            raise UsageError(
                f"retry is from 1 to {len(self.delays)} ({self.name} has {len(self.delays)} retries), got {retry}"
            )
        if not isinstance(rng, random.Random):
            raise UsageTypeError(f"rng must be a random.Random, such as random.Random(seed), got {got(rng)}")
        delay = self.delays[retry - 1]
        return delay * (1 + rng.uniform(-self.jitter, self.jitter)) if self.jitter else delay

    def schedule(self):
        """The schedule as a table: attempt, wait before it, and when it is due."""
        import pandas as pd

        offsets = self.offsets()
        return pd.DataFrame(
            {
                "attempt": range(1, self.attempts + 1),
                "wait": ["-"] + [duration(d) for d in self.delays],
                "due after": [duration(o) for o in offsets],
                "seconds": offsets,
            }
        ).set_index("attempt")

    def plot(self, ax=None):
        """Each attempt on a time line, so the shape of the backoff can be seen before anything is sent."""
        return plot_policy(self, ax)

    def __repr__(self) -> str:
        waits = ", ".join(duration(d) for d in self.delays) or "none"
        text = f"<RetryPolicy {self.name}: {self.attempts} attempt(s) over {duration(self.offsets()[-1])}; waits: {waits}"
        text += f"; assumption: {self.assumption}" if self.assumption else ""
        return text + (f"; note: {self.note}>" if self.note else ">")


def _doubling(first: float, *, cap: float, within: float) -> tuple[float, ...]:
    delays, total, wait = [], 0.0, first
    while total + wait <= within:
        delays.append(wait)
        total += wait
        wait = min(wait * 2, cap)
    return tuple(delays)
