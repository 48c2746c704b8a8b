"""The experiment: one stream of events, watched by push (webhooks) and by pollers at several intervals.

Every latency is measured live on real HTTP: from the moment the provider
records an event to the moment the receiver stores it (push) or a poller
first sees it (poll). An interval too long for a notebook-length run is
measured in a time-compressed run instead, and the table says so. Counts
stay whole numbers, the ones each run made; `counted over (s)` says how much
real time they stand for, and `requests per minute` compares the rows.
"""

from __future__ import annotations

import html
import math
import numbers
import random
import statistics
import time
from dataclasses import dataclass, field

from .._checks import flag, got, seconds, whole
from .._errors import UsageError, UsageTypeError
from .._exports import course
from .._receiving.contract import AnyReceiver
from .._receiving.receiver import Receiver
from .polling import Poller, ProviderAPI
from .progress import Progress

POLLS_PER_COMPRESSED_RUN = 5  # a compressed run squeezes the interval so the run sees this many polls
# The columns a notebook shows, in the order its text compares them; result.table holds every column. These
# fit a notebook at 1024 px, where all thirteen would scroll the last ones, requests per minute first, out of sight.
SHOWN = ["mode", "requests", "requests per minute", "empty responses", "events seen", "missed", "median latency (s)",
         "counted over (s)"]  # fmt: skip


@dataclass
class PushPollResult:
    """The comparison: `table` (a DataFrame), the raw `latencies` per mode, and `notes` on how it was run."""

    table: object
    latencies: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        import pandas as pd

        if not isinstance(self.table, pd.DataFrame):
            raise UsageTypeError(f"table must be a pandas DataFrame, one row per mode, got {got(self.table)}")

    def plot(self):
        """Latency per mode (log scale), and requests made against the poll interval."""
        plt = course("matplotlib.pyplot", "plots")

        figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        modes = [mode for mode in self.latencies if self.latencies[mode]]
        left.boxplot([[max(x, 1e-4) for x in self.latencies[m]] for m in modes], showfliers=True)
        left.set_xticks(range(1, len(modes) + 1), modes, rotation=30, ha="right")
        left.set_yscale("log")
        left.set_ylabel("detection latency (s)")
        left.set_title("How late each event was noticed")
        per_minute = 60 / self.table["counted over (s)"]  # rows may cover different spans: compare rates
        polls = self.table["mode"] != "push"
        intervals = self.table.loc[polls, "interval (s)"]
        right.plot(intervals, self.table.loc[polls, "requests per minute"], "o-", label="poll: requests")
        right.plot(intervals, (self.table["empty responses"] * per_minute)[polls], "s:",
                   label="poll: empty answers (waste)")  # fmt: skip
        right.axhline(float(self.table.loc[~polls, "requests per minute"].iloc[0]), color="tab:green",
                      linestyle="--", label="push (one request per event)")  # fmt: skip
        right.set_xscale("log")
        right.set_xlabel("poll interval (s)")
        right.set_ylabel("requests per minute")
        right.set_title("What the freshness costs")
        right.legend()
        figure.tight_layout()
        return figure

    def __repr__(self) -> str:
        return self.table.to_string() + "".join(f"\n* {note}" for note in self.notes)

    def _repr_html_(self) -> str:
        missed = self.table["missed"].any()  # a column of zeros says nothing, and costs the room of one
        shown = self.table[[column for column in SHOWN if missed or column != "missed"]].copy()
        compressed = self.table["run"] != "live"  # said beside the mode, as the run column is not shown
        shown.loc[compressed, "mode"] = shown["mode"] + " (" + self.table["run"] + ")"
        shown["mode"] = shown["mode"].str.replace(r" (?=s\b)", "\u00a0", regex=True)  # "30 s" wraps whole
        figures = {column: _figure for column in ("requests per minute", "median latency (s)", "counted over (s)")}
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
        rest = [column for column in self.table.columns if column not in shown.columns and column != "run"]
        return (shown.to_html(index=False, formatters=figures) + "<p><code>result.table</code> holds every column, "
                f"also {html.escape(', '.join(rest[:-1]))} and {html.escape(rest[-1])}.</p>"
                + (f"<ul>{notes}</ul>" if notes else ""))


def push_vs_poll(duration: float = 10.0, rate: float = 5.0, intervals=(0.5, 1.0, 2.0, 5.0), *,
                 arrivals: str = "random", conditional: bool = True, seed: int | None = None,
                 progress: bool = True) -> PushPollResult:  # fmt: skip
    """Run the same stream of events through push and through a poller per interval; compare.

    `rate` is events per second, arriving steadily or at random (a Poisson
    process) for `duration` seconds. Intervals longer than a third of the run
    are measured in a time-compressed run (see the notes of the result).
    While it runs it counts down its seconds: a bar in a notebook, a line on a terminal's
    stderr, nothing where no one watches; `progress=False` turns that off.
    """
    if seconds(duration, "duration", ": how many seconds events keep happening") == 0:
        raise UsageError(f"duration is how many seconds events keep happening, more than 0; got {duration!r}")
    said = f"rate is how many events happen per second, a number more than 0; got {got(rate)}"
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise UsageTypeError(said)
    if not 0 < rate < math.inf:
        raise UsageError(said)
    if isinstance(intervals, (str, bytes)) or not hasattr(intervals, "__iter__"):
        raise UsageTypeError(
            f"intervals must be a list of poll intervals in seconds, such as (1, 5), got {got(intervals)}"
        )
    intervals = list(intervals)
    for interval in intervals:
        if seconds(interval, "each of intervals", ": how often a poller asks") == 0:
            raise UsageError("a poll interval of 0 s would ask without pause: give each of intervals more than 0")
    if not isinstance(arrivals, str):
        raise UsageTypeError(f"arrivals is 'random' or 'steady', got {got(arrivals)}")
    if arrivals not in ("random", "steady"):
        raise UsageError(f"arrivals is 'random' or 'steady', got {arrivals!r}")
    flag(conditional, "conditional", "True sends If-None-Match, so an unchanged answer is a cheap 304")
    flag(progress, "progress", "False shows no countdown while the experiment runs")
    if seed is not None:
        whole(seed, "seed", "a whole number that makes the run repeatable, or None")
    rng = random.Random(seed)
    live = sorted(i for i in intervals if i <= duration / 3)
    compressed = sorted(i for i in intervals if i > duration / 3)
    rows, latencies, notes = [], {}, []
    factors = {interval: interval / (duration / POLLS_PER_COMPRESSED_RUN) for interval in compressed}
    planned = [duration + max(live, default=0.0), *(duration + i / factors[i] for i in compressed)]
    with Progress("wl.push_vs_poll", sum(planned), show=progress) as shown:
        watching = f"push and {len(live)} poller{'s' if len(live) != 1 else ''}" if live else "push"
        shown.stage(f"{watching} watching {duration:g} s of events", planned[0])
        with Receiver() as rx, ProviderAPI(push_to=rx.url("push")) as api:
            pollers = {interval: Poller(api, interval=interval, conditional=conditional).start() for interval in live}
            ids = produce(api, duration, rate, arrivals, rng)
            grace = max(live, default=0) + 2.0
            for poller in pollers.values():
                poller.wait_for(ids, timeout=grace)
                poller.stop()
            try:
                rx.wait_for(len(ids), endpoint="push", timeout=grace)
            except TimeoutError:
                pass  # counted below as missed
            latencies["push"] = delays(api, ids, stored_at(rx, "push"))
            # The requests the receiver got: a push's own record is written after its answer, which may still be on
            # its way.
            pushed = rx.store.count("push")
            rows.append(_row("push", None, "live", duration, pushed, 0, latencies["push"], len(ids)))
            for interval, poller in pollers.items():
                name = f"poll every {interval:g} s"
                latencies[name] = delays(api, ids, poller.seen)
                stats = poller.stats
                rows.append(_row(name, interval, "live", duration, stats["requests"], stats["empty"], latencies[name],
                                 len(ids)))  # fmt: skip
            rx.close()

        for interval, run_for in zip(compressed, planned[1:]):
            factor = factors[interval]
            name = f"poll every {interval:g} s"
            shown.stage(f"{name}, time-compressed ×{factor:.3g}", run_for)
            with ProviderAPI() as api:
                poller = Poller(api, interval=interval / factor, conditional=conditional).start()
                ids = produce(api, duration, rate * factor, arrivals, rng)
                poller.wait_for(ids, timeout=interval / factor + 2.0)
                poller.stop()
            latencies[name] = [delay * factor for delay in delays(api, ids, poller.seen)]
            stats = poller.stats
            rows.append(_row(name, interval, f"compressed ×{factor:g}", duration * factor, stats["requests"],
                             stats["empty"], latencies[name], len(ids)))  # fmt: skip
            notes.append(
                f"poll every {interval:g} s: time-compressed ×{factor:g}. The poller asked every "
                f"{interval / factor:g} s while events arrived {factor:g} times as fast ({rate * factor:g}/s), "
                "so each poll met as many events "
                f"as a real {interval:g} s poll would. Latencies are multiplied by {factor:g}, back to real seconds. "
                f"The counts are the ones this run made, whole requests and events: they stand for "
                f"{duration * factor:g} s of real time ({duration:g} s × {factor:g}), not {duration:g} s, so compare "
                "rows by requests per minute."
            )
    notes.append("expected median is the formula check: an event lands at a random moment between two polls, "
                 "so on average it waits half an interval (push: no wait but the request itself).")  # fmt: skip
    import pandas as pd

    return PushPollResult(pd.DataFrame(rows), latencies, notes)


def stored_at(rx: AnyReceiver, endpoint: str) -> dict[str, float]:
    """When the receiver stored each pushed event, by event id (Stripe's id is the delivery id)."""
    return {e.delivery_id: e.received_at.timestamp() for e in rx.arrivals(endpoint)}


def delays(api: ProviderAPI, ids: list[str], noticed: dict[str, float]) -> list[float]:
    """Seconds from the API recording each event to its being noticed, for the events that were."""
    return [noticed[i] - api.created_at[i] for i in ids if i in noticed]


def produce(api: ProviderAPI, duration: float, rate: float, arrivals: str = "steady", rng: random.Random | None = None,
            on_event=None) -> list[str]:  # fmt: skip
    """Record events for `duration` seconds at `rate` per second; returns their ids in order.

    `on_event(ids)` is called after each one, as the race widget does to redraw its board.
    """
    start = time.monotonic()
    ids = []
    for at in moments(duration, rate, arrivals, rng or random.Random()):
        time.sleep(max(0.0, start + at - time.monotonic()))
        ids.append(api.record()["id"])
        if on_event:
            on_event(ids)
    return ids


def moments(duration: float, rate: float, arrivals: str, rng: random.Random) -> list[float]:
    """When each event happens, in seconds from the start.

    "steady": evenly spaced. "random": a Poisson process, so the count varies from run to run too.
    "scattered": exactly round(rate * duration) events at uniformly random moments: a fixed count, as
    a widget that announces "5 events" needs, and no lock-step with a poller's timer.
    """
    if arrivals == "scattered":
        return sorted(rng.uniform(0, duration) for _ in range(round(rate * duration)))
    at, times = 0.0, []
    while True:
        at += rng.expovariate(rate) if arrivals == "random" else 1 / rate
        if at > duration:
            return times
        times.append(at)


def _figure(value) -> str:
    """A measured number in three significant digits (a large one whole), or – where nothing was measured."""
    if value is None or value != value:  # NaN is the one value unequal to itself
        return "–"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _row(mode: str, interval: float | None, run: str, counted_over: float, requests: int, empty: int,
         latencies: list[float], total: int) -> dict:  # fmt: skip
    """One mode's line: whole counts over `counted_over` seconds of real time, and latencies in real seconds."""
    ordered = sorted(latencies)
    return {
        "mode": mode,
        "interval (s)": interval,
        "run": run,
        "requests": requests,
        "empty responses": empty,
        "events seen": len(ordered),
        "missed": total - len(ordered),
        "median latency (s)": statistics.median(ordered) if ordered else None,
        "p95 latency (s)": ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else None,
        "max latency (s)": ordered[-1] if ordered else None,
        "expected median (s)": interval / 2 if interval else 0.0,
        "counted over (s)": counted_over,  # last, so the columns above keep their places
        "requests per minute": round(requests * 60 / counted_over, 1),
    }
