"""The push-or-poll demo: the same events, noticed by a webhook and by a poller, on one time line."""

from __future__ import annotations

import itertools
import statistics
import threading
import time

from .._experiments.polling import Poller, ProviderAPI
from .._experiments.push_vs_poll import delays, produce, stored_at
from .._receiving.receiver import Receiver
from ._frame import Demo, escaped, rows, slider

SECONDS = 5.0  # how long events happen for
EVENTS = 5
WIDTH, LEFT, RIGHT = 1000, 110, 980
LANES = {"events": 30, "push": 75, "poll": 120}


class RaceDemo(Demo):
    name = "push-vs-poll"
    title = "Push or poll? A race on one time line"
    idea = ("With an API you <i>poll</i>: you ask again and again whether anything happened, mostly for nothing. With "
            "a webhook the service <i>pushes</i>: it calls you once, when it happens. Press <b>Start the race</b>: "
            f"{EVENTS} events happen at random moments in {SECONDS:g} s, and both notice them.")  # fmt: skip
    action = "Start the race"
    slow = True

    def controls(self):
        self.interval = slider("The poller asks every (ms):", 1000, 250, 2000, 250)
        return [self.interval]

    def begin(self) -> None:
        self.rx = Receiver().start()
        self.races = itertools.count(1)
        self.race: dict | None = None

    def end(self) -> None:
        self.rx.close()

    def run(self):
        """Race push against a poller for SECONDS; returns the score (requests, empty answers, delays)."""
        generation, endpoint = self.generation, f"race-{next(self.races)}"
        interval = self.interval.value / 1000
        with ProviderAPI(push_to=self.rx.url(endpoint)) as api, Poller(api, interval=interval) as poller:
            self.race = {"api": api, "poller": poller, "endpoint": endpoint, "ids": [], "interval": interval,
                         "start": time.time()}  # fmt: skip

            def happened(ids):
                self.race["ids"] = list(ids)

            self.race["start"] = time.time()
            finished = threading.Event()
            threading.Thread(target=self._tick, args=(generation, finished, self.race), daemon=True).start()
            try:
                ids = produce(api, SECONDS, EVENTS / SECONDS, "scattered", on_event=happened)
                poller.wait_for(ids, timeout=interval + 2)
                self.rx.wait_for(len(ids), endpoint=endpoint, timeout=5)
            finally:
                finished.set()
        score = self.score()
        if self.current(generation):
            self.show(f"Finished. Push: {score['push requests']} requests, no empty answer. "
                      f"Poll: {score['poll requests']} requests, {score['empty']} of them empty.")  # fmt: skip
        return score

    def _tick(self, generation: int, finished: threading.Event, race: dict) -> None:
        """Redraw while the race runs, so that each poll appears as it is made."""
        while not finished.wait(0.25) and self.current(generation):
            self.show(f"Racing… {len(race['ids'])} of {EVENTS} events so far.")

    def score(self) -> dict:
        race = self.race
        api, poller, ids = race["api"], race["poller"], race["ids"]
        push = delays(api, ids, stored_at(self.rx, race["endpoint"]))
        poll = delays(api, ids, dict(poller.seen))
        requests = list(poller.requests)
        return {"events": len(ids), "push requests": len(push), "push delays": push, "poll delays": poll,
                "poll requests": len(requests), "empty": sum(1 for r in requests if r["new"] == 0)}  # fmt: skip

    def draw(self) -> str:
        if self.race is None:
            return "<p class='quiet'>The time line appears here when the race starts.</p>"
        race, score = self.race, self.score()
        api, start = race["api"], race["start"]
        span = SECONDS + race["interval"] + 0.5
        x = lambda t: LEFT + (RIGHT - LEFT) * max(0.0, min(t - start, span)) / span  # noqa: E731
        marks = [f"<text x='0' y='{y + 6}' font-size='18'>{lane}</text>"
                 f"<line x1='{LEFT}' y1='{y}' x2='{RIGHT}' y2='{y}' stroke='#9e9e9e'/>" for lane, y in LANES.items()]
        pushed = stored_at(self.rx, race["endpoint"])
        for event_id in race["ids"]:
            at = api.created_at[event_id]
            marks.append(f"<rect x='{x(at) - 2:.1f}' y='{LANES['events'] - 12}' width='4' height='24' fill='#1b1b1b'/>")
            if event_id in pushed:
                marks.append(f"<circle cx='{x(pushed[event_id]):.1f}' cy='{LANES['push']}' r='8' fill='#18692e'/>")
            if event_id in race["poller"].seen:
                seen = race["poller"].seen[event_id]
                marks.append(f"<line x1='{x(at):.1f}' y1='{LANES['poll']}' x2='{x(seen):.1f}' y2='{LANES['poll']}' "
                             "stroke='#a4161a' stroke-width='4'/>")  # fmt: skip
        for request in list(race["poller"].requests):
            filled = "#0b57d0" if request["new"] else "white"
            marks.append(f"<rect x='{x(request['time']) - 6:.1f}' y='{LANES['poll'] - 6}' width='12' height='12' "
                         f"fill='{filled}' stroke='#0b57d0' stroke-width='2'/>")  # fmt: skip
        label = (f"{score['events']} events; push made {score['push requests']} requests; the poller made "
                 f"{score['poll requests']}, {score['empty']} of them empty")  # fmt: skip
        picture = (f"<svg viewBox='0 0 {WIDTH} 145' style='width: 100%; max-width: {WIDTH}px; height: auto' role='img' "
                   f"aria-label='{escaped(label)}'>{''.join(marks)}</svg>")  # fmt: skip
        key = ("<p class='quiet'>Events: black bars. Push: a green dot as each arrives. Poll: a square per request, "
               "filled when it brought news, hollow when empty; a red line is how long an event waited to be noticed.</p>")
        table = rows(["who notices", "requests", "empty answers", "median delay"], [
            ["Push (webhook)", escaped(score["push requests"]), "0", escaped(median(score["push delays"]))],
            [f"Poll every {race['interval'] * 1000:.0f} ms", escaped(score["poll requests"]), escaped(score["empty"]),
             escaped(median(score["poll delays"]))],
        ])  # fmt: skip
        return picture + key + table


def median(values) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms" if values else "–"
