"""The widgets of what happens over time: retries, the push/poll race, the quiz and its blueprint."""

from __future__ import annotations

import html
import statistics
import threading
import time

import ipywidgets as widgets

from .._clock import AcceleratedClock
from .._polling import Poller, ProviderAPI
from .._pushpoll import delays, produce, stored_at
from .._providers import PROVIDERS
from .._receiver import Receiver
from .._retry import duration
from ._capture import TABLE_STYLE, reported


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
        race = reported(self.board, lambda: self.run(), doing="The race")
        self.button.on_click(lambda _: threading.Thread(target=race, name="webhooklab-race", daemon=True).start())
        self.result: dict | None = None
        super().__init__([self.button, self.board])
        self._show({"events": 0, "push": [], "poll": [], "requests": 0, "empty": 0})

    def run(self) -> dict:
        """Run the race for `duration` seconds; returns the final score."""
        self.button.disabled = True
        try:
            with Receiver() as rx, ProviderAPI(push_to=rx.url("race")) as api, \
                    Poller(api, interval=self.interval) as poller:  # fmt: skip
                ids = produce(api, self.duration, self.rate,
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
     ("Reject it without acting on it. A 400 says the request was wrong; a 500 would say your server failed, which "
      "is not true. Neither stops a retry: Stripe retries every non-2xx answer, a 400 included, and each retry of a "
      "forged request fails the same way. What matters is that you act on nothing and say honestly what went wrong.")),
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
            choice.observe(reported(feedback, lambda change, i=number - 1: self.answer(i, change["new"]),
                                    doing="Marking the answer"), names="value")  # fmt: skip
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


class Blueprint(widgets.VBox):
    """Pick the events your automation reacts to; get the handler code and the webhooks to subscribe to."""

    def __init__(self):
        options = [(f"{name}: {event}", (name, event)) for name, cls in PROVIDERS.items() for event in cls.triggers]
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


# The key to deduplicate on, per trigger: a value the signature covers. Stripe: the event id in the body;
# Standard Webhooks: the webhook-id header (it is signed); GitHub and Shopify sign only the body (their
# X-GitHub-Delivery and X-Shopify-Webhook-Id headers are not), so a business key from the body.
_KEYS = {
    "stripe": 'event["id"]',
    "standard": 'headers["webhook-id"]',
    ("github", "push"): 'f\'{event["ref"]}@{event["after"]}\'',
    ("github", "pull_request"): 'f\'{event["action"]}:{event["pull_request"]["id"]}:{event["pull_request"]["updated_at"]}\'',
    ("github", "issues"): 'f\'{event["action"]}:{event["issue"]["id"]}:{event["issue"]["updated_at"]}\'',
    ("github", "release"): 'f\'{event["action"]}:{event["release"]["id"]}\'',
    ("shopify", "inventory_levels/update"): 'f\'{event["inventory_item_id"]}:{event["location_id"]}:{event["updated_at"]}\'',
    "shopify": 'str(event["id"])',
}  # fmt: skip


def _key(provider: str, event_type: str) -> str:
    return _KEYS.get((provider, event_type)) or _KEYS.get(provider) or 'str(event["id"])'


def blueprint(triggers: list[tuple[str, str]]) -> str:
    """A sketch of a production handler for the chosen (provider, event type) triggers, and where to subscribe.

    A small Flask app: verify the raw body, answer 400 to a bad signature and act on nothing, store the
    event under a signed key (a duplicate is ignored) before acting, answer 2xx at once, work afterwards.
    """
    providers = sorted({provider for provider, _ in triggers})
    lines = [
        '"""Webhooks in, verified, stored once, answered fast; the work runs afterwards (a sketch to adapt)."""',
        "import json", "import os", "import sqlite3", "", "from flask import Flask, request", "",
        "import webhooklab as wl", "",
        "app = Flask(__name__)",
        'db = sqlite3.connect("webhooks.db", check_same_thread=False)  # in production: your own database',
        'db.execute("CREATE TABLE IF NOT EXISTS inbox (provider TEXT, type TEXT, key TEXT, body BLOB, "',
        '           "done INTEGER DEFAULT 0, PRIMARY KEY (provider, type, key))")',
        "VERIFIERS = {",
        *(f'    "{p}": wl.{PROVIDERS[p].__name__}(os.environ["{p.upper()}_WEBHOOK_SECRET"]),' for p in providers),
        "}",
        "TYPE_HEADERS = {"
        + ", ".join(f'"{p}": "{PROVIDERS[p].event_header}"' for p in providers if PROVIDERS[p].event_header)
        + "}  # elsewhere the type is in the body",
        "", "",
    ]
    actions = []
    for provider, event_type in triggers:
        name = "on_" + "".join(c if c.isalnum() else "_" for c in f"{provider}_{event_type}")
        actions.append((provider, event_type, name))
        lines += [
            f"def {name}(event):",
            f'    """{provider} {event_type}: runs after the answer, maybe more than once: make it safe to repeat."""',
            "    ...  # your action: update a table, send a message, start a job",
            "", "",
        ]
    lines += [
        "# (provider, event type): (the key to deduplicate on, the action). The key must be signed:",
        "#   Stripe: the event id in the body; Standard Webhooks: the webhook-id header (it is signed);",
        "#   GitHub, Shopify: a business key from the body (X-GitHub-Delivery, X-Shopify-Webhook-Id are not signed).",
        "TRIGGERS = {",
        *(f'    ("{p}", "{e}"): (lambda event, headers: {_key(p, e)}, {n}),' for p, e, n in actions),
        "}",
        "", "",
        '@app.post("/hooks/<provider>")',
        "def receive(provider):",
        "    if provider not in VERIFIERS:",
        '        return "", 404',
        "    body = request.get_data()  # the raw bytes, exactly as they arrived: never re-serialised JSON",
        "    try:",
        "        event = VERIFIERS[provider].verify(body, request.headers)",
        "    except wl.SignatureError:",
        '        return "", 400  # the request is wrong: act on nothing (Stripe retries even a 400; each retry fails too)',
        '    kind = request.headers.get(TYPE_HEADERS[provider], "") if provider in TYPE_HEADERS else event["type"]',
        "    if (provider, kind) in TRIGGERS:  # any other genuine event: acknowledged, ignored",
        "        key = TRIGGERS[provider, kind][0](event, request.headers)",
        "        with db:  # stored durably before acting; if this fails, Flask answers 500 and the sender retries",
        '            db.execute("INSERT OR IGNORE INTO inbox (provider, type, key, body) VALUES (?, ?, ?, ?)",',
        "                       (provider, kind, key, body))  # a duplicate has the same key: ignored",
        '    return "", 200  # at once: the work runs afterwards, in work()',
        "", "",
        "def work():",
        '    """Run by a worker (a loop, cron, a task queue): each stored event\'s action, then it is marked done."""',
        '    pending = db.execute("SELECT provider, type, key, body FROM inbox WHERE done = 0").fetchall()',
        "    for provider, kind, key, body in pending:",
        "        TRIGGERS[provider, kind][1](json.loads(body))  # if it raises, the row stays pending for the next run",
        "        with db:",
        '            db.execute("UPDATE inbox SET done = 1 WHERE provider = ? AND type = ? AND key = ?", (provider, kind, key))',
        "",
        "",
        "# Serve `app` with a WSGI server (e.g. gunicorn) behind HTTPS.",
        "# Subscribe to these webhooks:",
    ]
    for provider in providers:
        events = ", ".join(e for p, e in triggers if p == provider)
        lines += [f"#   {provider}: {events}", f"#     at {PROVIDERS[provider].where_to_subscribe}"]
        lines += [f"#     URL: https://<your-host>/hooks/{provider}"]
    return "\n".join(lines)
