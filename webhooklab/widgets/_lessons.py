"""The widgets of what happens over time: retries and the push/poll race."""

from __future__ import annotations

import html
import math
import numbers
import statistics
import threading
import time

import ipywidgets as widgets

from .._checks import event_value, function, got, web_url
from .._errors import UsageError, UsageTypeError
from .._experiments.polling import Poller, ProviderAPI
from .._experiments.push_vs_poll import delays, produce, stored_at
from .._providers import Provider
from .._receiving.receiver import Receiver
from .._sending.clock import AcceleratedClock
from .._sending.retry import RetryPolicy
from .._sending.timeline import duration, label_runs
from ._capture import reported
from ._table import BUTTON, cell, table


def positive(value, name: str, meaning: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise UsageTypeError(f"{name} must be a number{meaning}, got {got(value)}")
    if not 0 < value < math.inf:
        raise UsageError(f"{name} must be more than 0 and finite{meaning}, got {got(value)}")
    return value


class RetryTimeline(widgets.VBox):
    """A delivery on accelerated time: planned attempts in grey, done ones green or red, and a moving now."""

    def __init__(self, provider, event, to: str, *, policy=None, seconds: float = 10.0):
        if not isinstance(provider, Provider):
            raise UsageTypeError(f"provider must be a provider such as wl.Stripe(), got {got(provider)}")
        event_value(event, provider.title)
        web_url(to, "to")
        if policy is not None and not isinstance(policy, RetryPolicy):
            raise UsageTypeError(f"policy must be a wl.RetryPolicy, or None for the provider's own, got {got(policy)}")
        positive(seconds, "seconds", " (how long the whole schedule takes to play)")
        self.provider, self.event, self.url = provider, event, to
        self.policy = policy or provider.policy_for(event)
        span = self.policy.offsets()[-1] or 1.0
        self.speed = max(span / seconds, 1.0)  # the whole schedule plays in about `seconds`
        self.picture = widgets.HTML()
        self.status = widgets.HTML()
        self.button = widgets.Button(description="Start delivery", button_style="primary", icon="play", layout=BUTTON)
        self.button.on_click(reported(self.status, lambda _: self.start(), doing="Starting the delivery"))
        self.delivery = None
        self._clock = None
        super().__init__([self.button, self.picture, self.status])
        self.render()

    def start(self):
        """Deliver in the background, redrawing as virtual time passes; returns the Delivery."""
        self._clock = AcceleratedClock(self.speed)
        self.delivery = self.provider.deliver(self.event, self.url, policy=self.policy, clock=self._clock,
                                              background=True, on_attempt=lambda d, row: self.render())  # fmt: skip
        self.button.disabled = True  # only once the delivery is under way: a failure leaves the button usable
        threading.Thread(target=self._tick, name="webhooklab-timeline", daemon=True).start()
        return self.delivery

    def _tick(self) -> None:
        while not self.delivery.done:
            self.render()
            time.sleep(0.1)
        self.render()
        self.button.disabled = False

    def render(self) -> None:
        offsets = self.policy.offsets()
        span = offsets[-1] or 1.0
        log = self.delivery.log if self.delivery else []
        start = log[0]["sent"] if log else None
        now = (self._clock.now() - start) if (self._clock and start is not None) else 0.0
        x = lambda offset: 20 + 560 * min(offset, span) / span  # noqa: E731
        marks = ["<line x1='20' y1='40' x2='580' y2='40' stroke='#bbb'/>"]
        for offset in offsets:
            marks.append(f"<circle cx='{x(offset):.1f}' cy='40' r='6' fill='none' stroke='#999'/>")
        for text, middle in self.number_labels(x):
            marks.append(f"<text x='{middle:.1f}' y='25' font-size='10' text-anchor='middle'>{html.escape(text)}</text>")
        if len(offsets) == 1:
            marks.append("<text x='34' y='44' font-size='11' fill='#666'>one attempt, no retries</text>")
        for row in log:
            colour = "#2ca02c" if row["result"].ok else "#d62728"
            marks.append(f"<circle cx='{x(row['offset']):.1f}' cy='40' r='6' fill='{colour}'/>")
        if self.delivery and not self.delivery.done:
            marks.append(f"<line x1='{x(now):.1f}' y1='28' x2='{x(now):.1f}' y2='52' stroke='#1f77b4' stroke-width='2'/>")
        marks.append(f"<text x='20' y='70' font-size='11'>0</text><text x='580' y='70' font-size='11' "
                     f"text-anchor='end'>{html.escape(duration(span))}</text>")  # fmt: skip
        # Drawn 600 wide, shown at most that wide: in a narrower cell it shrinks rather than run past it.
        self.picture.value = (f"<svg viewBox='0 0 600 80' style='width: 100%; max-width: 600px; height: auto' "
                              f"role='img'>{''.join(marks)}</svg>")  # fmt: skip
        self._status(log, offsets)

    def number_labels(self, x) -> list[tuple[str, float]]:
        """(text, x) of the attempt numbers: the early, crowded ones share a label such as "1–4"."""
        function(x, "x", "a function from an attempt's offset in seconds to its place on the picture")
        positions = [x(offset) for offset in self.policy.offsets()]

        def label(first, last):
            return str(first + 1) if first == last else f"{first + 1}–{last + 1}"

        runs = label_runs(positions, label, width=lambda text: 6.5 * len(text), gap=3)  # 10 px digits
        return [(label(first, last), (positions[first] + positions[last]) / 2) for first, last in runs]

    def _status(self, log, offsets) -> None:
        state = self.delivery.status if self.delivery else "not started"
        last = html.escape(log[-1]["outcome"]) if log else "press Start delivery"
        self.status.value = (
            f"<b>{html.escape(self.policy.name)}</b>: {state}, {len(log)} of {len(offsets)} attempt(s); "
            f"one real second is {html.escape(duration(self.speed))} here.<br>Last: {last}"
        )


class PushPollRace(widgets.VBox):
    """Push and a poller watch the same events, live: who notices first, and at what cost.

    By default the poller asks twice as often as events happen, as a poller must to stay fresh, so it
    is the one that pays with empty answers; push makes one request per event and none in between.
    """

    def __init__(self, *, rate: float = 0.5, interval: float = 1.0, duration: float = 10.0):
        positive(rate, "rate", " (events per second)")
        positive(interval, "interval", " (seconds between the poller's requests)")
        positive(duration, "duration", " (seconds the race lasts)")
        self.rate, self.interval, self.duration = rate, interval, duration
        self.board = widgets.HTML()
        self.button = widgets.Button(description="Start the race", button_style="primary", icon="flag-checkered",
                                     layout=BUTTON)  # fmt: skip
        race = reported(self.board, lambda: self.run(), doing="The race")
        self.button.on_click(lambda _: threading.Thread(target=race, name="webhooklab-race", daemon=True).start())
        self.result: dict | None = None
        super().__init__([self.button, self.board])
        self._show({"events": 0, "push": [], "poll": [], "requests": 0, "empty": 0})

    @property
    def setup(self) -> str:
        """The race in words, as the board shows it."""
        return (f"{round(self.rate * self.duration)} events at random moments in {self.duration:g} s; "
                f"the poller asks every {self.interval:g} s.")  # fmt: skip

    def run(self) -> dict:
        """Run the race for `duration` seconds; returns the final score."""
        self.button.disabled = True
        try:
            with Receiver() as rx, ProviderAPI(push_to=rx.url("race")) as api, \
                    Poller(api, interval=self.interval) as poller:  # fmt: skip
                ids = produce(api, self.duration, self.rate, "scattered",
                              on_event=lambda ids: self._show(self._score(rx, api, poller, ids)))  # fmt: skip
                poller.wait_for(ids, timeout=self.interval + 2)
                rx.wait_for(len(ids), endpoint="race", timeout=5)
                score = self._score(rx, api, poller, ids)
                rx.close()
        finally:
            self.button.disabled = False  # a race that failed can be run again
        self._show(score, final=True)
        self.result = score
        return score

    @staticmethod
    def _score(rx, api, poller, ids) -> dict:
        stats = poller.stats
        return {
            "events": len(ids),
            "push": delays(api, ids, stored_at(rx, "race")),
            "poll": delays(api, ids, poller.seen),
            "requests": stats["requests"],
            "empty": stats["empty"],
        }

    def _show(self, score: dict, final: bool = False) -> None:
        def median(values):
            return f"{statistics.median(values) * 1000:.0f} ms" if values else "-"

        rows = [
            ("Push (webhook)", len(score["push"]), median(score["push"]), f"{len(score['push'])} (one per event)", "0"),
            (f"Poll every {self.interval:g} s", len(score["poll"]), median(score["poll"]), score["requests"], score["empty"]),
        ]
        cells = ["".join([cell(a), cell(f"{b} of {score['events']}", keep=True), cell(c, keep=True), cell(d), cell(e)])
                 for a, b, c, d, e in rows]  # fmt: skip
        note = "<b>Finished.</b> " if final else ("Racing... " if score["events"] else "Press Start the race: ")
        note += html.escape(self.setup)
        self.board.value = table(["", "events noticed", "median delay", "requests", "empty answers"], cells) + note
