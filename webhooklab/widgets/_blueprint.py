"""The quiz and the blueprint it ends in: the handler (or no-code steps) for the learner's own automation."""

from __future__ import annotations

import html

import ipywidgets as widgets

from .._checks import got, whole
from .._errors import UsageError, UsageTypeError
from .._providers import PROVIDERS
from ._capture import reported
from ._production import CHECKS, checks, imports

CODE = "white-space: pre-wrap; overflow-wrap: anywhere"  # a long line of the blueprint wraps rather than run off
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
     "Retries bring duplicates. Keep the ids you have handled and act only on new ones (idempotency)."),
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
        if not 0 <= whole(index, "index", "the question's place, from 0") < len(QUESTIONS):
            raise UsageError(f"index is a question from 0 to {len(QUESTIONS) - 1}, got {index}")
        if chosen is not None and not isinstance(chosen, str):
            raise UsageTypeError(f"chosen must be one of the question's options (a str), or None, got {got(chosen)}")
        _, options, right, why = QUESTIONS[index]
        correct = chosen == options[right]
        mark = "✓ Right." if correct else "✗ Not quite."
        self.feedback[index].value = f"<span style='color:{'green' if correct else 'firebrick'}'>{mark}</span> {html.escape(why)}"
        done = [c.value is not None for c in self.choices]
        right_count = sum(c.value == QUESTIONS[i][1][QUESTIONS[i][2]] for i, c in enumerate(self.choices))
        if all(done):
            self.score.value = f"<b>{right_count} of {len(QUESTIONS)} right.</b> Now plan your own automation:"
        return correct


# The learner's own situation: which app, which events, what should happen, and how they will build it.
APPS = (("Stripe", "stripe"), ("GitHub", "github"), ("Shopify", "shopify"),
        ("another app that signs with Standard Webhooks", "standard"))  # fmt: skip
STANDARD_EXAMPLE = "user.created"  # Standard Webhooks names no events: an example, to rename to the app's own
ACTIONS = {
    "record": ("record it in a table", "create or update a row: a spreadsheet, Airtable, your database"),
    "notify": ("send a message", "send a message: Slack, email, a text"),
    "job": ("start a job", "start the work: call the service that ships, deploys or refunds"),
}
BUILDERS = (("I write code (Python)", "code"), ("Zapier", "zapier"), ("Make", "make"), ("n8n", "n8n"))


def trigger_options(app: str | None = None) -> list[tuple[str, tuple[str, str]]]:
    """(label, (provider, event type)) for the app's events; every app's when none is chosen yet."""
    events = [(name, event) for name, cls in PROVIDERS.items() for event in cls.triggers] + [
        ("standard", STANDARD_EXAMPLE)]  # fmt: skip
    return [(f"{p}: {e}", (p, e)) for p, e in events if app in (None, p)]


class Blueprint(widgets.VBox):
    """Four questions about the learner's own automation; the answers shape the blueprint: code, or no-code steps."""

    def __init__(self):
        layout = {"width": "auto"}
        self.app = widgets.RadioButtons(options=APPS, value=None, layout=layout)
        self.triggers = widgets.SelectMultiple(options=trigger_options(), rows=8, layout={"width": "60%"})
        self.action = widgets.RadioButtons(options=[(label, key) for key, (label, _) in ACTIONS.items()],
                                           value="record", layout=layout)  # fmt: skip
        self.builder = widgets.RadioButtons(options=BUILDERS, value="code", layout=layout)
        self.output = widgets.HTML()
        self.app.observe(reported(self.output, lambda change: self.narrow(), doing="Listing the events"), names="value")
        for answer in (self.triggers, self.action, self.builder):
            answer.observe(reported(self.output, lambda change: self.build(), doing="Building the blueprint"),
                           names="value")  # fmt: skip
        questions = ["a. Which app sends the events?", "b. Which of its events start your automation?",
                     "c. What should happen then?", "d. How will you build it?"]  # fmt: skip
        rows = [widgets.HTML("<b>Your own automation</b>")]
        for question, answer in zip(questions, (self.app, self.triggers, self.action, self.builder)):
            rows += [widgets.HTML(question), answer]
        super().__init__([*rows, self.output])
        self.build()

    def narrow(self) -> None:
        """Offer only the chosen app's events, keeping those already chosen from it."""
        keep = tuple(t for t in self.triggers.value if self.app.value in (None, t[0]))
        self.triggers.options = trigger_options(self.app.value)
        self.triggers.value = keep
        self.build()

    def build(self) -> str:
        chosen = list(self.triggers.value)
        text = plan(chosen, action=self.action.value, builder=self.builder.value) if chosen else ""
        self.output.value = f"<pre style='{CODE}'>{html.escape(text)}</pre>" if chosen else "<i>Choose one or more events.</i>"
        return text


def plan(triggers: list[tuple[str, str]], *, action: str = "record", builder: str = "code") -> str:
    """The blueprint the answers call for: a Python handler, or the steps in Zapier, Make or n8n."""
    return blueprint(triggers, action=action) if builder == "code" else no_code(triggers, builder, action=action)


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
    "slack": 'event["event_id"]',
    ("twilio", "sms/incoming"): 'event["MessageSid"]',
    ("twilio", "call/status"): 'f\'{event["CallSid"]}:{event["CallStatus"]}\'',
}  # fmt: skip


def _where(provider: str) -> str:
    return PROVIDERS[provider].where_to_subscribe or (
        "the sending app's webhook settings (its docs name the place); copy the endpoint's signing secret (whsec_...)")


def _key(provider: str, event_type: str) -> str:
    return _KEYS.get((provider, event_type)) or _KEYS.get(provider) or 'str(event["id"])'


def blueprint(triggers: list[tuple[str, str]], *, action: str | None = None) -> str:
    """A sketch of a production handler for the chosen (provider, event type) triggers, and where to subscribe.

    A small Flask app: verify the raw body, answer 400 to a bad signature and act on nothing, store the
    event under a signed key (a duplicate is ignored) before acting, answer 2xx at once, work afterwards.
    Each signature check uses the provider's own SDK or the standard library (see _production.py), never webhooklab.
    """
    shape = "a list of (provider, event type) pairs, such as [('stripe', 'payment_intent.succeeded')]"
    if isinstance(triggers, (str, bytes)) or not isinstance(triggers, (list, tuple)) or not all(
            isinstance(t, (list, tuple)) and len(t) == 2 and all(isinstance(part, str) for part in t) for t in triggers):
        raise UsageTypeError(f"triggers must be {shape}, got {got(triggers)}")
    unknown = sorted({provider for provider, _ in triggers} - set(PROVIDERS))
    if unknown:
        raise UsageError(
            f"no provider named {unknown[0]!r} is registered: the triggers' providers are {', '.join(PROVIDERS)}"
        )
    unchecked = sorted({provider for provider, _ in triggers} - set(CHECKS))
    if unchecked:
        raise UsageError(f"the blueprint has no production check for {unchecked[0]!r}: it writes one for "
                         f"{', '.join(CHECKS)}. Verify that provider with its own SDK, as its docs show")  # fmt: skip
    if action is not None and not (isinstance(action, str) and action in ACTIONS):
        raise UsageError(f"action is one of {', '.join(map(repr, ACTIONS))} or None, got {got(action)}")
    providers = sorted({provider for provider, _ in triggers})
    lines = [
        '"""Webhooks in, verified, stored once, answered fast; the work runs afterwards (a sketch to adapt)."""',
        *imports(providers), "",
        "app = Flask(__name__)",
        'db = sqlite3.connect("webhooks.db", check_same_thread=False)  # in production: your own database',
        'db.execute("CREATE TABLE IF NOT EXISTS inbox (provider TEXT, type TEXT, key TEXT, event TEXT, "',
        '           "done INTEGER DEFAULT 0, PRIMARY KEY (provider, type, key))")',
        "", "",
        *checks(providers),
        "", "",
    ]
    actions = []
    for provider, event_type in triggers:
        name = "on_" + "".join(c if c.isalnum() else "_" for c in f"{provider}_{event_type}")
        actions.append((provider, event_type, name))
        lines += [
            f"def {name}(event):",
            f'    """{provider} {event_type}: runs after the answer, maybe more than once: make it safe to repeat."""',
            f"    ...  # your action: {ACTIONS[action][1] if action else 'update a table, send a message, start a job'}",
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
        "        kind, event = VERIFIERS[provider](body, request.headers)",
        "    except BadSignature:",
        '        return "", 400  # the request is wrong: act on nothing (Stripe retries even a 400; each retry fails too)',
        "    if (provider, kind) in TRIGGERS:  # any other genuine event: acknowledged, ignored",
        "        key = TRIGGERS[provider, kind][0](event, request.headers)",
        "        with db:  # stored durably before acting; if this fails, Flask answers 500 and the sender retries",
        '            db.execute("INSERT OR IGNORE INTO inbox (provider, type, key, event) VALUES (?, ?, ?, ?)",',
        "                       (provider, kind, key, json.dumps(event)))  # a duplicate has the same key: ignored",
        '    return "", 200  # at once: the work runs afterwards, in work()',
        "", "",
        "def work():",
        '    """Run by a worker (a loop, cron, a task queue): each stored event\'s action, then it is marked done."""',
        '    pending = db.execute("SELECT provider, type, key, event FROM inbox WHERE done = 0").fetchall()',
        "    for provider, kind, key, event in pending:",
        "        TRIGGERS[provider, kind][1](json.loads(event))  # if it raises, the row stays pending for the next run",
        "        with db:",
        '            db.execute("UPDATE inbox SET done = 1 WHERE provider = ? AND type = ? AND key = ?", (provider, kind, key))',
        "",
        "",
        "# Serve `app` with a WSGI server (e.g. gunicorn) behind HTTPS.",
        "# Subscribe to these webhooks:",
    ]
    for provider in providers:
        events = ", ".join(e for p, e in triggers if p == provider)
        lines += [f"#   {provider}: {events}", f"#     at {_where(provider)}"]
        lines += [f"#     URL: https://<your-host>/hooks/{provider}"]
    return "\n".join(lines)


# -- the no-code variant -------------------------------------------------------------------------
# What each tool offers, from its own documentation. Their generic webhook triggers check no HMAC signature;
# n8n's Stripe, GitHub and Shopify trigger nodes do, given the signing secret (its generic Webhook node doesn't).

TOOLS = {
    "zapier": {
        "name": "Zapier",
        "trigger": ("Trigger: Webhooks by Zapier > Catch Raw Hook. (Catch Hook, its sibling, parses the body; the "
                    "signature check needs the body exactly as sent, and the headers, which Catch Raw Hook passes "
                    "on.) Copy the URL Zapier shows."),
        "verify": ("Zapier does not check signatures: add a Code by Zapier > Run Python step. Map into its Input "
                   "Data the raw body as `body`, each header below under its own name, and your signing secret as "
                   "`secret`, and paste the code. Then a Filter step: only continue if `verified` is true."),
        "wrapper": ['headers = {name: input_data.get(name, "") for name in HEADERS}',
                    'output = {"verified": verified(input_data["body"], headers, input_data["secret"])}'],
        "dedupe": ("In a second Code step, StoreClient (Zapier's store for code steps; keys shorter than 32 "
                   "characters, so hash a longer key) looks the key up; a Filter stops the Zap if it is there."),
        "answer": ("Zapier has already answered 200, as soon as the request arrived, before the Zap ran; the "
                   "answer can't be changed. So it is fast, but a forgery gets a 200 too (the Filter makes sure "
                   "it acts on nothing), and if a step fails the provider will not send the event again: replay "
                   "the run from the Zap's history."),
        "done": "A last Code step stores the key with StoreClient: only after the action succeeded.",
    },
    "make": {
        "name": "Make",
        "trigger": ("Trigger: Webhooks > Custom webhook. Click Add, name the webhook, Save, and copy the URL Make "
                    "generates. Its optional API keys (sent in an x-make-apikey header) are a password the "
                    "provider can't send; the provider's signature is what proves the sender."),
        "verify": ("Make does not check signatures: run the code below where your plan allows code, or as a "
                   "small function you host and call with the HTTP module, passing it the body exactly as sent "
                   "and the headers. A filter after it continues only if it says verified."),
        "wrapper": [],
        "dedupe": ("A Data store keyed on the key: Get a record; a filter continues only if there is none."),
        "answer": ("Add a Webhooks > Webhook response module: status 400 on the branch where the check failed, "
                   "200 after the deduplication. Without one, Make answers on receipt, before anything is checked."),
        "done": "After the action, Data store > Add/replace a record with the key: only once the action succeeded.",
    },
    "n8n": {
        "name": "n8n",
        "trigger": ("Trigger: a Webhook node, HTTP method POST. In its options turn on Raw Body (the check needs "
                    "the exact bytes), and set Respond to \"Using 'Respond to Webhook' node\", so you choose the "
                    "status. Give the provider the Production URL: the Test URL listens only while you test."),
        "verify": ("For Stripe, GitHub or Shopify, their own trigger nodes (Stripe Trigger, GitHub Trigger, "
                   "Shopify Trigger) check the signature once you give them the signing secret. The generic "
                   "Webhook node's authentication options (basic, header, JWT) don't check an HMAC signature: "
                   "use a Crypto node (action Hmac, SHA256, your secret) over the content the code below signs, "
                   "and an If node that compares the result with the header; or run the code in a Code node set "
                   "to Python."),
        "wrapper": [],
        "dedupe": ("A Remove Duplicates node set to remove items processed in previous executions, on the key. "
                   "It remembers the key when it runs, before your action: if the action fails, retry the "
                   "execution from n8n's list of executions."),
        "answer": ("Respond to Webhook nodes: Response Code 400 on the If node's false branch, 200 once the "
                   "event is deduplicated; the action nodes come after, so the answer is fast."),
        "done": "Nothing more to mark: Remove Duplicates already remembered the key.",
    },
}  # fmt: skip

# Each scheme's check in plain Python (standard library only), for a tool's code step: (headers, code).
VERIFY = {
    "stripe": (("stripe-signature",), [
        'def verified(body, headers, secret, tolerance=300):',
        '    parts = [item.split("=", 1) for item in headers.get("stripe-signature", "").split(",") if "=" in item]',
        '    stamps = [value for key, value in parts if key == "t"]',
        '    if len(stamps) != 1 or not stamps[0].isdigit() or time.time() - int(stamps[0]) > tolerance:',
        '        return False',
        '    expected = hmac.new(secret.encode(), f"{stamps[0]}.{body}".encode(), hashlib.sha256).hexdigest()',
        '    return any(hmac.compare_digest(expected, value) for key, value in parts if key == "v1")']),
    "github": (("x-hub-signature-256",), [
        'def verified(body, headers, secret):',
        '    expected = "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()',
        '    return hmac.compare_digest(expected, headers.get("x-hub-signature-256", ""))']),
    "shopify": (("x-shopify-hmac-sha256",), [
        'def verified(body, headers, secret):',
        '    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()',
        '    expected = base64.b64encode(digest).decode()',
        '    return hmac.compare_digest(expected, headers.get("x-shopify-hmac-sha256", ""))']),
    "standard": (("webhook-id", "webhook-timestamp", "webhook-signature"), [
        'def verified(body, headers, secret, tolerance=300):',
        '    message_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")',
        '    if not stamp.isdigit() or abs(time.time() - int(stamp)) > tolerance:',
        '        return False',
        '    key = base64.b64decode(secret.removeprefix("whsec_"))',
        '    signed = f"{message_id}.{stamp}.{body}".encode()',
        '    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()',
        '    return any(hmac.compare_digest(expected, s[3:]) for s in headers.get("webhook-signature", "").split()',
        '               if s[:3] == "v1,")']),
}  # fmt: skip


def verify_code(provider: str, tool: str = "make") -> str:
    """The signature check for `provider`'s scheme, as a tool's code step runs it: a string of Python."""
    names, code = VERIFY[provider]
    return "\n".join(["import base64, hashlib, hmac, time", "", f"HEADERS = {names!r}", "", *code, "",
                      *TOOLS[tool]["wrapper"]]).rstrip() + "\n"  # fmt: skip


def no_code(triggers: list[tuple[str, str]], tool: str, *, action: str = "record") -> str:
    """The steps of the automation in Zapier, Make or n8n, with where each check happens, as plain text."""
    about = TOOLS[tool]
    providers = sorted({provider for provider, _ in triggers})
    keys = "; ".join(f"{p} {e}: {_key(p, e)}" for p, e in triggers)
    lines = [f"Your automation in {about['name']}: verified, deduplicated, answered, then acted on once.", "",
             f"1. {about['trigger']}", "", "2. Subscribe to the events in the sending app:"]  # fmt: skip
    if len(providers) > 1:
        lines[2] += " Build one of these for each app: each signs in its own way, with its own secret."
    for provider in providers:
        events = ", ".join(e for p, e in triggers if p == provider)
        lines.append(f"   {PROVIDERS[provider].title}: {events}, at {_where(provider)}. Paste the URL from step 1.")
    lines += ["", f"3. Verify the signature. {about['verify']}"]
    for provider in providers:
        names = ", ".join(VERIFY[provider][0])
        lines += ["", f"   {PROVIDERS[provider].title} (headers: {names}):", "",
                  *("      " + line if line else "" for line in verify_code(provider, tool).splitlines())]  # fmt: skip
    lines += ["", f"4. Deduplicate on a key the signature covers ({keys}). {about['dedupe']}",
              "   A header such as X-GitHub-Delivery or X-Shopify-Webhook-Id is not signed: anyone can change it.",
              "", f"5. Answer. {about['answer']}",
              "", f"6. Act: {ACTIONS[action][1]}. {about['done']}"]  # fmt: skip
    return "\n".join(lines)
