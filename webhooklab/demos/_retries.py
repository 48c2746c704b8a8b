"""The retries demo: an endpoint that fails, and a provider's retry schedule played on a compressed clock."""

from __future__ import annotations

import math
import time

from .._providers import Shopify, StandardWebhooks, Stripe
from .._receiving.receiver import Receiver
from .._sending.clock import AcceleratedClock
from .._sending.timeline import duration
from ._frame import Demo, escaped, mark, rows, slider, toggles

# Each sender and the event it delivers: Stripe's in live mode, whose retries last up to three days.
SENDERS = {"stripe": (Stripe, "payment_intent.succeeded", {"livemode": True}),
           "shopify": (Shopify, "orders/create", {}), "standard": (StandardWebhooks, "invoice.paid", {})}  # fmt: skip
CHOICES = [("Stripe (live mode)", "stripe"), ("Shopify", "shopify"), ("Svix (Standard Webhooks)", "standard")]
PLAY = 6.0  # real seconds the whole schedule takes to play
WIDTH, LEFT, RIGHT = 1000, 30, 970
TICKS = (3600, 6 * 3600, 86400, 2 * 86400)  # seconds marked under the time line


class RetriesDemo(Demo):
    name = "retries"
    title = "What if delivery fails? Retries"
    idea = ("If your endpoint is down or answers anything but 2xx, the provider tries again later, waiting longer "
            "each time, until its window ends. Set how many attempts fail and press <b>Deliver</b>: every attempt is "
            "a real request, and days of waiting play in six seconds.")  # fmt: skip
    action = "Deliver"
    slow = True

    def controls(self):
        self.provider = toggles("Provider:", CHOICES)
        self.failing = slider("Attempts that fail first:", 5, 0, 13)
        self.provider.observe(lambda change: self._fit(), names="value")
        return [self.provider, self.failing]

    def _fit(self) -> None:
        self.failing.max = len(self.policy().offsets())
        self.delivery = None
        self.show("")

    def policy(self):
        sender, event = self.delivered()
        return sender.policy_for(event)

    def delivered(self):
        """The chosen sender and the event it delivers."""
        kind, event_type, options = SENDERS[self.provider.value]
        sender = kind()
        return sender, sender.event(event_type, **options)

    def begin(self) -> None:
        self.rx = Receiver().start()
        self.delivery = None
        self._fit()

    def end(self) -> None:
        self.rx.close()

    def run(self):
        """Deliver one event while the endpoint fails its first attempts; returns the finished Delivery."""
        generation = self.generation
        sender, event = self.delivered()
        policy = sender.policy_for(event)
        self.rx.respond("down", fail_first=self.failing.value)
        clock = AcceleratedClock(max(policy.offsets()[-1] / PLAY, 1.0))
        self.clock, self.policy_shown = clock, policy
        delivery = self.delivery = sender.deliver(event, self.rx.url("down"), policy=policy, clock=clock,
                                                  background=True)  # fmt: skip
        while not delivery.done and self.current(generation) and self.delivery is delivery:
            self.show(f"Delivering… {len(delivery.log)} attempt(s) so far.")
            time.sleep(0.1)
        if self.current(generation) and self.delivery is delivery:  # not reset, no other provider chosen meanwhile
            self.show(self.verdict())
        return delivery

    def verdict(self) -> str:
        log = self.delivery.log
        if log and log[-1]["result"].ok:
            return mark(True, f"delivered at attempt {len(log)}, {duration(log[-1]['offset'])} after the first")
        note = f" <span class='quiet'>({escaped(self.policy_shown.note)})</span>" if self.policy_shown.note else ""
        return mark(False, f"failed: {len(log)} attempts over {duration(log[-1]['offset'] if log else 0)}, "
                           "then the provider gave up") + note  # fmt: skip

    def draw(self) -> str:
        policy = self.policy_shown if self.delivery else self.policy()
        offsets = policy.offsets()
        span = offsets[-1] or 1.0
        # A square-root scale: minutes-apart first attempts stand apart on a line days long.
        x = lambda offset: LEFT + (RIGHT - LEFT) * math.sqrt(max(0.0, min(offset, span)) / span)  # noqa: E731
        log = self.delivery.log if self.delivery else []
        marks = [f"<line x1='{LEFT}' y1='50' x2='{RIGHT}' y2='50' stroke='#6b6b6b' stroke-width='2'/>"]
        marks += [f"<circle cx='{x(o):.1f}' cy='50' r='9' fill='white' stroke='#6b6b6b' stroke-width='2'/>" for o in offsets]
        for row in log:
            ok = row["result"].ok
            marks.append(f"<circle cx='{x(row['offset']):.1f}' cy='50' r='9' fill='{'#18692e' if ok else '#a4161a'}'/>"
                         f"<text x='{x(row['offset']):.1f}' y='28' font-size='20' text-anchor='middle' "
                         f"fill='{'#18692e' if ok else '#a4161a'}'>{'✓' if ok else '✗'}</text>")  # fmt: skip
        if self.delivery and not self.delivery.done and log:
            now = x(self.clock.now() - log[0]["sent"])
            marks.append(f"<line x1='{now:.1f}' y1='30' x2='{now:.1f}' y2='70' stroke='#0b57d0' stroke-width='3'/>")
        ticks = [0.0, *(t for t in TICKS if t < span * 0.8), span]
        marks += [f"<line x1='{x(t):.1f}' y1='62' x2='{x(t):.1f}' y2='70' stroke='#6b6b6b'/><text x='{x(t):.1f}' y='90' "
                  f"font-size='16' text-anchor='{'start' if t == 0 else 'end' if t == span else 'middle'}'>"
                  f"{escaped(duration(t))}</text>" for t in ticks]  # fmt: skip
        label = (f"{policy.name}: {len(offsets)} attempts over {duration(span)}; "
                 f"{sum(1 for r in log if not r['result'].ok)} failed, {sum(1 for r in log if r['result'].ok)} succeeded")
        picture = (f"<svg viewBox='0 0 {WIDTH} 100' style='width: 100%; max-width: {WIDTH}px; height: auto' role='img' "
                   f"aria-label='{escaped(label)}'>{''.join(marks)}</svg>")  # fmt: skip
        said = (f"<p><b>{escaped(policy.name)}</b>: {len(offsets)} attempts over {escaped(duration(span))} "
                "(drawn on a square-root scale, so the first, minutes apart, stand apart).")
        if policy.assumption:
            said += f" <span class='quiet'>Our assumption: {escaped(policy.assumption)}.</span>"
        body = [[escaped(row["attempt"]), escaped(duration(row["offset"])),
                 mark(row["result"].ok, str(row["status"] or row["error"] or "no answer")), escaped(row["outcome"])]
                for row in log][-6:]  # fmt: skip
        table = rows(["attempt", "after the first", "your endpoint answered", "what the provider did"], body) if body else ""
        return f"{said}</p>{picture}{table}"
