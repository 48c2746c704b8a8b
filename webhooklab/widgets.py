"""Widgets for the notebooks, built on the public API; each one works alone in a cell.

    wl.widgets.LiveTable(rx)                 # the events table, updating as requests arrive
    wl.widgets.SendPanel(rx)                 # pick a provider and event, tamper or not, send
    wl.widgets.SignatureExplainer(rx)        # why a captured event's signature does or doesn't verify
    wl.widgets.RetryTimeline(provider, event, to=rx.url("down"))   # a delivery's retries, animated
    wl.widgets.PushPollRace()                # push and a poller racing on the same events
    wl.widgets.Quiz()                        # a short quiz that ends in an automation blueprint

Each widget keeps its logic in plain methods (send(), explain(), run(), ...)
that tests and notebooks can call directly; a button only calls them.
Everything a request carried is shown escaped: it is data, never markup.
"""

from __future__ import annotations

import html
import json
import threading
import time

import ipywidgets as widgets

from .clock import AcceleratedClock
from .delivery import post
from .polling import Poller, ProviderAPI
from .pushpoll import delays, stored_at
from .providers import PROVIDERS
from .receiver import Receiver
from .retry import duration

TABLE_STYLE = "<style>.wl-table td, .wl-table th {padding: 2px 8px; text-align: left; font-size: 12px}</style>"
PROVIDER_LABELS = [("Stripe", "stripe"), ("GitHub", "github"), ("Shopify", "shopify"), ("Standard Webhooks", "standard")]
FIRST_EVENT = {"stripe": "payment_intent.succeeded", "github": "push", "shopify": "orders/create", "standard": "invoice.paid"}


class LiveTable(widgets.VBox):
    """The receiver's events as a table that updates itself as requests arrive."""

    COLUMNS = ["time", "endpoint", "method", "provider", "event_type", "status", "verified", "duplicate_of", "preview"]

    def __init__(self, rx: Receiver, *, endpoint: str | None = None, rows: int = 10):
        self.rx, self.endpoint, self.rows = rx, endpoint, rows
        self.title = widgets.HTML()
        self.table = widgets.HTML()
        super().__init__([self.title, self.table])
        self._changed = threading.Event()
        self._closed = threading.Event()
        self.refresh()
        rx.listen(self._changed.set)
        threading.Thread(target=self._follow, name="webhooklab-live-table", daemon=True).start()

    def refresh(self) -> None:
        events = self.rx.events(self.endpoint)
        if events.empty:
            self.table.value = "<i>Nothing yet: send a webhook to the receiver.</i>"
        else:
            shown = events.tail(self.rows)[self.COLUMNS].copy()
            shown["time"] = shown["time"].dt.strftime("%H:%M:%S.%f").str[:-3]
            shown = shown.loc[:, shown.notna().any()].astype(object)  # no verified column without secrets, say
            shown = shown.where(shown.notna(), "")
            self.table.value = TABLE_STYLE + shown.to_html(classes="wl-table", escape=True, border=0)
        where = f" at {self.endpoint!r}" if self.endpoint else ""
        self.title.value = f"<b>{len(events)} request(s) captured{html.escape(where)}</b> (newest last)"

    def _follow(self) -> None:
        while not self._closed.is_set():
            if self._changed.wait(0.5):
                self._changed.clear()
                self.refresh()
                time.sleep(0.1)  # gather a burst of arrivals into one redraw

    def close(self) -> None:
        self._closed.set()
        self.rx.unlisten(self._changed.set)
        super().close()


class SendPanel(widgets.VBox):
    """Send a signed event from a simulated provider to a receiver, optionally broken on purpose."""

    def __init__(self, rx: Receiver, *, endpoint: str = "panel"):
        self.rx, self.endpoint = rx, endpoint
        self.secrets = {name: cls.new_secret() for name, cls in PROVIDERS.items()}
        self.provider = widgets.Dropdown(options=PROVIDER_LABELS, value="stripe", description="Provider")
        self.event_type = widgets.Dropdown(description="Event")
        self.fields = widgets.Text(description="Fields", placeholder="amount=5000, currency=eur")
        self.secret = widgets.Password(description="Secret")  # a secret is never shown whole
        self.tamper = widgets.Checkbox(description="tamper with the body", indent=False)
        self.wrong_secret = widgets.Checkbox(description="use the wrong secret", indent=False)
        self.button = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self.result = widgets.HTML()
        self.provider.observe(lambda change: self._provider_changed(), names="value")
        self.button.on_click(lambda _: self.send())
        self._provider_changed()
        super().__init__([self.provider, self.event_type, self.fields, self.secret,
                          widgets.HBox([self.tamper, self.wrong_secret]), self.button, self.result])  # fmt: skip

    def _provider_changed(self) -> None:
        cls = PROVIDERS[self.provider.value]
        self.event_type.options = cls.event_types()
        self.event_type.value = FIRST_EVENT[self.provider.value]
        self.secret.value = self.secrets[self.provider.value]

    def send(self):
        """Sign and POST the chosen event; show the answer and whether the signature holds."""
        cls = PROVIDERS[self.provider.value]
        try:
            overrides = parse_fields(self.fields.value)
            sender = cls(cls.new_secret() if self.wrong_secret.value else self.secret.value)
            body, headers = sender.sign(sender.event(self.event_type.value, **overrides))
        except (TypeError, ValueError) as error:
            self.result.value = f"<span style='color:firebrick'>{html.escape(str(error))}</span>"
            return None
        if self.tamper.value:
            body = tampered(body)
        attempt = post(self.rx.url(self.endpoint), body, headers, timeout=sender.timeout)
        verdict = cls(self.secret.value).explain(body, headers)
        answer = attempt.status if attempt.error is None else attempt.error
        colour = "green" if verdict.ok else "firebrick"
        self.result.value = (
            f"Sent {html.escape(self.event_type.value)} to {html.escape(self.rx.url(self.endpoint))}: "
            f"answer <b>{html.escape(str(answer))}</b> in {attempt.elapsed * 1000:.1f} ms.<br>"
            f"<span style='color:{colour}'>Signature check with the endpoint's secret: "
            f"{'valid' if verdict.ok else html.escape(verdict.reason)}</span>."
            + ("" if verdict.ok else f" {html.escape(verdict.message)}")
        )
        return attempt


class SignatureExplainer(widgets.VBox):
    """Pick a captured event and a secret; see every step of verifying it."""

    def __init__(self, rx: Receiver, *, secret: str = ""):
        self.rx = rx
        self.event = widgets.Dropdown(description="Event")
        self.provider = widgets.Dropdown(options=PROVIDER_LABELS, description="Scheme")
        self.secret = widgets.Password(value=secret, description="Secret")
        self.reload = widgets.Button(description="Reload events", icon="refresh")
        self.output = widgets.HTML()
        self.reload.on_click(lambda _: self.load())
        for control in (self.event, self.provider, self.secret):
            control.observe(lambda change: self.explain(), names="value")
        super().__init__([widgets.HBox([self.event, self.reload]), self.provider, self.secret, self.output])
        self.load()

    def load(self) -> None:
        """The captured events, newest first, as choices."""
        events = self.rx.store.list()[::-1]
        self.event.options = [(f"#{e.id} {e.provider or '?'} {e.event_type or e.path}", e.id) for e in events]
        self.event.value = events[0].id if events else None
        self.explain()

    def explain(self):
        if self.event.value is None:
            self.output.value = "<i>No captured event to explain yet.</i>"
            return None
        event = self.rx.event(self.event.value)
        if event.provider in PROVIDERS and self.provider.value != event.provider:
            self.provider.value = event.provider  # observing this change explains again
            return None
        try:
            explanation = PROVIDERS[self.provider.value](self.secret.value or None).explain(event.body, event.header_pairs)
        except ValueError as error:  # a secret this scheme cannot use
            self.output.value = f"<span style='color:firebrick'>{html.escape(str(error))}</span>"
            return None
        self.output.value = explanation._repr_html_()
        return explanation


class RetryTimeline(widgets.VBox):
    """A delivery on accelerated time: planned attempts in grey, done ones green or red, and a moving now."""

    def __init__(self, provider, event, to: str, *, policy=None, seconds: float = 10.0):
        self.provider, self.event, self.url = provider, event, to
        self.policy = policy or provider.policy_for(event)
        span = self.policy.offsets()[-1] or 1.0
        self.speed = max(span / seconds, 1.0)  # the whole schedule plays in about `seconds`
        self.picture = widgets.HTML()
        self.status = widgets.HTML()
        self.button = widgets.Button(description="Start delivery", button_style="primary", icon="play")
        self.button.on_click(lambda _: self.start())
        self.delivery = None
        self._clock = None
        super().__init__([self.button, self.picture, self.status])
        self.render()

    def start(self):
        """Deliver in the background, redrawing as virtual time passes; returns the Delivery."""
        self.button.disabled = True
        self._clock = AcceleratedClock(self.speed)
        self.delivery = self.provider.deliver(self.event, self.url, policy=self.policy, clock=self._clock,
                                              background=True, on_attempt=lambda d, row: self.render())  # fmt: skip
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
        for number, offset in enumerate(offsets, 1):
            marks.append(f"<circle cx='{x(offset):.1f}' cy='40' r='6' fill='none' stroke='#999'/>"
                         f"<text x='{x(offset):.1f}' y='25' font-size='10' text-anchor='middle'>{number}</text>")  # fmt: skip
        for row in log:
            colour = "#2ca02c" if row["result"].ok else "#d62728"
            marks.append(f"<circle cx='{x(row['offset']):.1f}' cy='40' r='6' fill='{colour}'/>")
        if self.delivery and not self.delivery.done:
            marks.append(f"<line x1='{x(now):.1f}' y1='28' x2='{x(now):.1f}' y2='52' stroke='#1f77b4' stroke-width='2'/>")
        marks.append(f"<text x='20' y='70' font-size='11'>0</text><text x='580' y='70' font-size='11' "
                     f"text-anchor='end'>{html.escape(duration(span))}</text>")  # fmt: skip
        self.picture.value = f"<svg width='600' height='80' role='img'>{''.join(marks)}</svg>"
        state = self.delivery.status if self.delivery else "not started"
        last = html.escape(log[-1]["outcome"]) if log else "press Start delivery"
        self.status.value = (
            f"<b>{html.escape(self.policy.name)}</b>: {state}, {len(log)} of {len(offsets)} attempt(s); "
            f"one real second is {html.escape(duration(self.speed))} here.<br>Last: {last}"
        )


class PushPollRace(widgets.VBox):
    """Push and a poller watch the same events, live: who notices first, and at what cost."""

    def __init__(self, *, rate: float = 2.0, interval: float = 2.0, duration: float = 10.0):
        self.rate, self.interval, self.duration = rate, interval, duration
        self.board = widgets.HTML()
        self.button = widgets.Button(description="Start the race", button_style="primary", icon="flag-checkered")
        self.button.on_click(lambda _: threading.Thread(target=self.run, daemon=True).start())
        self.result: dict | None = None
        super().__init__([self.button, self.board])
        self._show({"events": 0, "push": [], "poll": [], "requests": 0, "empty": 0})

    def run(self) -> dict:
        """Run the race for `duration` seconds; returns the final score."""
        self.button.disabled = True
        with Receiver() as rx, ProviderAPI(push_to=rx.url("race")) as api, \
                Poller(api, interval=self.interval) as poller:  # fmt: skip
            ids, started = [], time.monotonic()
            while (elapsed := time.monotonic() - started) < self.duration:
                if elapsed * self.rate >= len(ids):
                    ids.append(api.record()["id"])
                self._show(self._score(rx, api, poller, ids))
                time.sleep(0.05)
            poller.wait_for(ids, timeout=self.interval + 2)
            rx.wait_for(len(ids), endpoint="race", timeout=5)
            score = self._score(rx, api, poller, ids)
            rx.close()
        self._show(score, final=True)
        self.result = score
        self.button.disabled = False
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
            return f"{sorted(values)[len(values) // 2] * 1000:.0f} ms" if values else "-"

        rows = [
            ("Push (webhook)", len(score["push"]), median(score["push"]), f"{len(score['push'])} (one per event)", "0"),
            (f"Poll every {self.interval:g} s", len(score["poll"]), median(score["poll"]), score["requests"], score["empty"]),
        ]
        body = "".join(f"<tr><td>{a}</td><td>{b} of {score['events']}</td><td>{c}</td><td>{d}</td><td>{e}</td></tr>"
                       for a, b, c, d, e in rows)  # fmt: skip
        head = "<tr><th></th><th>events noticed</th><th>median delay</th><th>requests</th><th>empty answers</th></tr>"
        note = "<b>Finished.</b>" if final else f"Events happen about {self.rate:g} times a second..."
        self.board.value = f"{TABLE_STYLE}<table class='wl-table'>{head}{body}</table>{note}"


QUESTIONS = [
    ("A webhook is best described as...",
     ["an API you call to ask whether something changed", "a request the service sends to your URL when something happens",
      "a browser notification"], 1,
     "A webhook is a 'reverse API': the service pushes the event to a URL you registered, the moment it happens."),
    ("Your handler got a Stripe event whose signature does not match. What should it answer?",
     ["200, and ignore it", "400 (a client error), and not act on it", "500, so Stripe tries again"], 1,
     "Reject it without acting. A 500 tells the sender to retry, which is pointless for a forged or broken request."),
    ("Why must you verify the raw body rather than json.dumps(request.json)?",
     ["Re-serialised JSON can differ byte for byte, so the signature no longer matches", "It is faster",
      "JSON cannot be signed"], 0,
     "The signature covers the exact bytes sent. Parsing and dumping changes spacing and order, and the check fails."),
    ("Your receiver answered after 15 s and GitHub reported a failure. What happened?",
     ["GitHub will retry on its own in an hour", "The delivery failed: GitHub waits 10 s, and never retries by itself",
      "Nothing: the event was stored"], 1,
     "GitHub's timeout is 10 s and it never retries automatically; a person redelivers within 3 days."),
    ("The same Shopify order webhook arrived twice. What makes the second one harmless?",
     ["Answering 500 to the second", "Deduplicating on X-Shopify-Webhook-Id before acting", "Sleeping a second"], 1,
     "Delivery is at least once. Keep the ids you have handled and act only on new ones (idempotency)."),
]  # fmt: skip


class Quiz(widgets.VBox):
    """Five questions with feedback; at the end, the learner builds their automation blueprint."""

    def __init__(self):
        self.choices, self.feedback = [], []
        rows = []
        for number, (question, options, _, _) in enumerate(QUESTIONS, 1):
            choice = widgets.RadioButtons(options=options, value=None, layout={"width": "auto"})
            feedback = widgets.HTML()
            choice.observe(lambda change, i=number - 1: self.answer(i, change["new"]), names="value")
            self.choices.append(choice)
            self.feedback.append(feedback)
            rows += [widgets.HTML(f"<b>{number}. {html.escape(question)}</b>"), choice, feedback]
        self.score = widgets.HTML()
        self.blueprint = Blueprint()
        super().__init__([*rows, self.score, self.blueprint])

    def answer(self, index: int, chosen: str | None) -> bool:
        """Mark one answer; returns whether it was right."""
        _, options, right, why = QUESTIONS[index]
        correct = chosen == options[right]
        mark = "✓ Right." if correct else "✗ Not quite."
        self.feedback[index].value = f"<span style='color:{'green' if correct else 'firebrick'}'>{mark}</span> {html.escape(why)}"
        done = [c.value is not None for c in self.choices]
        right_count = sum(c.value == QUESTIONS[i][1][QUESTIONS[i][2]] for i, c in enumerate(self.choices))
        if all(done):
            self.score.value = f"<b>{right_count} of {len(QUESTIONS)} right.</b> Now plan your own automation:"
        return correct


TRIGGERS = {
    "stripe": ["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded",
               "checkout.session.completed", "customer.subscription.created"],
    "github": ["push", "pull_request", "issues", "release"],
    "shopify": ["orders/create", "orders/paid", "orders/cancelled", "inventory_levels/update", "app/uninstalled"],
}  # fmt: skip
WHERE_TO_SUBSCRIBE = {
    "stripe": "Stripe Dashboard > Developers > Webhooks > Add endpoint (or `stripe listen --forward-to` while "
    "developing); copy the endpoint's signing secret (whsec_...)",
    "github": "Repository > Settings > Webhooks > Add webhook; content type application/json; set a secret",
    "shopify": "your app's webhook subscriptions (shopify.app.toml, or webhookSubscriptionCreate in the Admin "
    "API); Shopify signs with the app's client secret",
}


class Blueprint(widgets.VBox):
    """Pick the events your automation reacts to; get the handler code and the webhooks to subscribe to."""

    def __init__(self):
        options = [(f"{provider}: {event}", (provider, event)) for provider, events in TRIGGERS.items() for event in events]
        self.triggers = widgets.SelectMultiple(options=options, rows=8, description="Triggers",
                                               layout={"width": "60%"})  # fmt: skip
        self.output = widgets.HTML()
        self.triggers.observe(lambda change: self.build(), names="value")
        super().__init__([self.triggers, self.output])
        self.build()

    def build(self) -> str:
        chosen = list(self.triggers.value)
        code = blueprint(chosen)
        self.output.value = f"<pre>{html.escape(code)}</pre>" if chosen else "<i>Choose one or more triggers.</i>"
        return code


def blueprint(triggers: list[tuple[str, str]]) -> str:
    """Handler code for the chosen (provider, event type) triggers, and where to subscribe to each."""
    providers = sorted({provider for provider, _ in triggers})
    secrets = ", ".join(f'"{p}": os.environ["{p.upper()}_WEBHOOK_SECRET"]' for p in providers)
    lines = ["import os", "import webhooklab as wl", "", f"rx = wl.Receiver(secrets={{{secrets}}}).start()", ""]
    for provider, event_type in triggers:
        name = "on_" + "".join(c if c.isalnum() else "_" for c in event_type)
        lines += [
            f'@rx.on("{event_type}", endpoint="{provider}", dedupe=True)',
            f"def {name}(event):",
            f'    """{provider} {event_type}: verified, and run once per delivery."""',
            "    payload = event.json",
            "    # your action: update a table, send a message, start a job (quickly, or background=True)",
            "",
        ]
    lines += ["# Subscribe to these webhooks:"]
    for provider in providers:
        events = ", ".join(e for p, e in triggers if p == provider)
        lines += [f"#   {provider}: {events}", f"#     at {WHERE_TO_SUBSCRIBE[provider]}"]
        lines += [f'#     URL: https://<your-host>/hooks/{provider}']
    return "\n".join(lines)


def parse_fields(text: str) -> dict:
    """'amount=5000, currency=eur' as overrides; values read as JSON where they parse."""
    fields = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, found, value = part.partition("=")
        if not found or not key.strip():
            raise ValueError(f"fields are key=value pairs separated by commas, got {part!r}")
        try:
            fields[key.strip()] = json.loads(value)
        except ValueError:
            fields[key.strip()] = value.strip()
    return fields


def tampered(body: bytes) -> bytes:
    """The body with one digit changed, as an attacker raising an amount would."""
    for index, byte in enumerate(body):
        if chr(byte).isdigit():
            return body[:index] + (b"9" if byte != ord("9") else b"8") + body[index + 1 :]
    return body + b" "
