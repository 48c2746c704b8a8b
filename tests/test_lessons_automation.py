"""The quiz and the automation blueprint teach what production needs; the 06 solution survives a failed attempt.

The blueprint follows the learner's answers: a Python handler, or the steps in Zapier, Make or n8n with
the signature check each of them lacks; the lessons of 05 and 06 ask for predictions and state goals, not code.
"""

import json
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from werkzeug.serving import make_server

import webhooklab as wl
from webhooklab import widgets
from webhooklab._providers import PROVIDERS
from webhooklab.grader import StripeApi
from webhooklab.widgets import _blueprint

SOLUTIONS = Path(__file__).parent.parent / "notebooks" / "solutions"


def bad_signature_question():
    [entry] = [q for q in widgets.QUESTIONS if "signature does not match" in q[0]]
    return entry


def test_bad_signature_explanation_does_not_promise_that_a_400_avoids_a_retry():
    _, options, right, why = bad_signature_question()
    assert options[right].startswith("400")
    lowered = why.lower()
    assert "pointless" not in lowered and "tells the sender to retry" not in lowered
    assert "stripe retries" in lowered and "400 included" in lowered
    assert "act on nothing" in lowered or "without acting" in lowered


@pytest.fixture
def sketch(tmp_path, monkeypatch):
    """The blueprint's code for a Stripe and a GitHub trigger, run in a scratch directory; its namespace."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_blueprint")
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "gh-blueprint")
    code = widgets.blueprint([("stripe", "payment_intent.succeeded"), ("github", "push")])
    namespace = {"__name__": "blueprint"}
    exec(compile(code, "blueprint", "exec"), namespace)  # noqa: S102
    yield code, namespace
    namespace["db"].close()


def test_blueprint_is_a_production_sketch(sketch):
    code, _ = sketch
    assert "wl.Receiver(" not in code and "rx.on(" not in code
    assert "VERIFIERS[provider](body, request.headers)" in code and "body = request.get_data()" in code
    assert "except BadSignature:" in code and 'return "", 400' in code
    assert "stripe.Webhook.construct_event(body" in code and "webhooklab" not in code.replace("nothing from webhooklab", "")
    assert "INSERT OR IGNORE" in code and "PRIMARY KEY" in code
    assert "webhook-id" in code and "not signed" in code  # which id to deduplicate on, per provider


def test_blueprint_compiles_for_every_trigger(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    triggers = [(name, event) for name, cls in PROVIDERS.items() for event in cls.triggers]
    code = widgets.blueprint(triggers)
    compile(code, "blueprint", "exec")
    assert code.count("def on_") == len(triggers)


def test_blueprint_refuses_forgeries_stores_once_and_works_afterwards(sketch):
    _, ns = sketch
    done = []
    ns["TRIGGERS"]["stripe", "payment_intent.succeeded"] = (ns["TRIGGERS"]["stripe", "payment_intent.succeeded"][0],
                                                           lambda event: done.append(event["id"]))  # fmt: skip
    client = ns["app"].test_client()
    stripe = wl.Stripe("whsec_blueprint")
    event = stripe.event("payment_intent.succeeded")
    body, headers = stripe.sign(event)
    forged_body, forged_headers = wl.Stripe("whsec_other").sign(stripe.event("payment_intent.succeeded"))

    assert client.post("/hooks/stripe", data=forged_body, headers=forged_headers).status_code == 400
    assert client.post("/hooks/stripe", data=body, headers=headers).status_code == 200
    assert client.post("/hooks/stripe", data=body, headers=stripe.sign(event)[1]).status_code == 200  # a retry
    rows = ns["db"].execute("SELECT key, done FROM inbox").fetchall()
    assert rows == [(event["id"], 0)]  # stored once, forged one not at all, nothing done before the answer
    ns["work"]()
    assert done == [event["id"]]
    assert ns["db"].execute("SELECT done FROM inbox").fetchall() == [(1,)]


def test_blueprint_answers_5xx_when_it_cannot_store(sketch):
    _, ns = sketch
    ns["db"].close()
    ns["db"] = sqlite3.connect(":memory:")  # no inbox table: the store fails
    ns["app"].testing = False
    stripe = wl.Stripe("whsec_blueprint")
    body, headers = stripe.sign(stripe.event("payment_intent.succeeded"))
    assert ns["app"].test_client().post("/hooks/stripe", data=body, headers=headers).status_code == 500


class DatabaseDown(Exception):
    pass


class FlakyPayments(dict):
    """challenge.payments whose first write fails, as a database that is down."""

    def __init__(self):
        super().__init__()
        self.failures = 1

    def __setitem__(self, key, value):
        if self.failures:
            self.failures -= 1
            raise DatabaseDown("database down")
        super().__setitem__(key, value)


def test_06_solution_processes_the_retry_after_a_failed_attempt():
    sender = wl.Stripe()
    queued = []
    api = StripeApi()
    challenge = SimpleNamespace(secret=sender.secret, payments=FlakyPayments(), handler=lambda function: function,
                                api=api, credit=lambda customer, amount: None,
                                enqueue=lambda function, *args: queued.append(args))  # fmt: skip
    namespace = {"wl": wl, "challenge": challenge}
    source = (SOLUTIONS / "06.00-handler.py").read_text()
    exec(compile(source, "06.00-handler.py", "exec"), namespace)  # noqa: S102
    handle = namespace["handle"]
    event = api._paid(sender.event("payment_intent.succeeded", customer="cus_retry", amount=700))

    with pytest.raises(DatabaseDown):  # the grader answers 500 for this: Stripe retries
        handle(*sender.sign(event))
    assert queued == []
    assert handle(*sender.sign(event)) == 200  # the retry is processed, not taken for a duplicate
    assert queued == [("cus_retry", 700)]
    assert challenge.payments[event["data"]["object"]["id"]] == event["data"]["object"]  # the intent as it is now
    assert handle(*sender.sign(event)) == 200 and queued == [("cus_retry", 700)]  # a real duplicate: acted on once


def test_06_solution_answers_503_while_the_database_is_down_and_handles_the_retry():
    sender, queued, down = wl.Stripe(), [], [True]

    def enqueue(function, *args):
        if down[0]:
            raise ConnectionError("database down")
        queued.append(args)

    api = StripeApi()
    challenge = SimpleNamespace(secret=sender.secret, payments={}, handler=lambda function: function, api=api,
                                credit=lambda customer, amount: None, enqueue=enqueue)  # fmt: skip
    namespace = {"wl": wl, "challenge": challenge}
    exec(compile((SOLUTIONS / "06.00-handler.py").read_text(), "06.00-handler.py", "exec"), namespace)  # noqa: S102
    event = api._paid(sender.event("payment_intent.succeeded", customer="cus_down", amount=900))
    assert namespace["handle"](*sender.sign(event)) == 503 and queued == []
    down[0] = False
    assert namespace["handle"](*sender.sign(event)) == 200 and queued == [("cus_down", 900)]
    body, headers = sender.sign(event)
    assert namespace["handle"](body, {**headers, "X-Request-Id": "req_new"}) == 200  # a replay: nothing more
    assert queued == [("cus_down", 900)]


# -- the quiz's own questions shape the blueprint ------------------------------------------------------

TOOL_PIECES = {
    "zapier": ["Webhooks by Zapier > Catch Raw Hook", "Zapier does not check signatures", "Code by Zapier",
               "Filter", "StoreClient", "already answered 200", "only after the action succeeded"],
    "make": ["Webhooks > Custom webhook", "Make does not check signatures", "Data store",
             "Webhook response", "status 400", "only once the action succeeded"],
    "n8n": ["a Webhook node", "Raw Body", "don't check an HMAC signature", "Crypto node", "If node",
            "Respond to Webhook", "Remove Duplicates"],
}  # fmt: skip


@pytest.mark.parametrize("tool", sorted(TOOL_PIECES))
def test_a_no_code_blueprint_names_the_tools_steps_and_is_honest_about_signatures(tool):
    text = _blueprint.plan([("stripe", "payment_intent.succeeded")], action="notify", builder=tool)
    for piece in TOOL_PIECES[tool]:
        assert piece in text, (tool, piece)
    assert "def verified(" in text and "stripe-signature" in text  # the code step the tool needs
    assert 'event["id"]' in text and "is not signed" in text  # deduplicate on a signed key
    assert PROVIDERS["stripe"].where_to_subscribe in text  # where to subscribe
    assert _blueprint.ACTIONS["notify"][1] in text
    assert "Flask" not in text and "import webhooklab" not in text


@pytest.mark.parametrize("provider", sorted(_blueprint.VERIFY))
@pytest.mark.parametrize("tool", sorted(_blueprint.TOOLS))
def test_the_code_step_of_a_no_code_blueprint_verifies_real_signatures(provider, tool):
    cls = PROVIDERS[provider]
    sender, forger = cls(), cls()
    event = sender.event(cls.triggers[0] if cls.triggers else _blueprint.STANDARD_EXAMPLE)
    body, headers = sender.sign(event)
    code = _blueprint.verify_code(provider, tool)

    def verdict(text, sent):
        lowered = {name.lower(): value for name, value in sent.items()}
        if tool == "zapier":  # Zapier hands the step its Input Data and reads `output`
            namespace = {"input_data": {**lowered, "body": text, "secret": sender.secret}}
            exec(code, namespace)  # noqa: S102
            return namespace["output"]["verified"]
        namespace = {}
        exec(code, namespace)  # noqa: S102
        return namespace["verified"](text, lowered, sender.secret)

    assert verdict(body.decode(), headers) is True
    assert verdict(body.decode(), forger.sign(event)[1]) is False  # signed with another secret
    assert verdict(body.decode().replace("{", "{ ", 1), headers) is False  # changed after signing
    assert verdict(body.decode(), {}) is False  # no signature at all


def test_the_answers_shape_the_widgets_blueprint(tmp_path, monkeypatch):
    blueprint = widgets.Blueprint()
    assert blueprint.build() == "" and "Choose one or more events" in blueprint.output.value
    blueprint.app.value = "github"
    assert {p for _, (p, _) in blueprint.triggers.options} == {"github"}  # only the chosen app's events
    blueprint.triggers.value = (("github", "push"),)
    blueprint.action.value = "job"
    code = blueprint.build()
    assert "def on_github_push(event):" in code and _blueprint.ACTIONS["job"][1] in code
    assert "GITHUB_WEBHOOK_SECRET" in code and "Catch Raw Hook" not in code
    blueprint.builder.value = "zapier"
    assert "Catch Raw Hook" in blueprint.output.value and "x-hub-signature-256" in blueprint.output.value
    blueprint.app.value = "standard"
    assert blueprint.triggers.value == () and list(blueprint.triggers.options) == [
        (f"standard: {_blueprint.STANDARD_EXAMPLE}", ("standard", _blueprint.STANDARD_EXAMPLE))]


def test_a_code_blueprint_from_the_answers_refuses_a_forgery_and_acts_once_over_loopback(tmp_path, monkeypatch):
    """The generated app, served by a real server on 127.0.0.1: a forgery gets 400, a duplicate no second action."""
    monkeypatch.chdir(tmp_path)
    secret = wl.StandardWebhooks.new_secret()
    monkeypatch.setenv("STANDARD_WEBHOOK_SECRET", secret)
    code = _blueprint.plan([("standard", _blueprint.STANDARD_EXAMPLE)], action="record", builder="code")
    namespace = {"__name__": "blueprint"}
    exec(compile(code, "blueprint", "exec"), namespace)  # noqa: S102
    done = []
    key, _ = namespace["TRIGGERS"]["standard", _blueprint.STANDARD_EXAMPLE]
    namespace["TRIGGERS"]["standard", _blueprint.STANDARD_EXAMPLE] = (key, lambda event: done.append(event))
    server = make_server("127.0.0.1", 0, namespace["app"], threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/hooks/standard"
    sender = wl.StandardWebhooks(secret)
    event = sender.event(_blueprint.STANDARD_EXAMPLE)
    try:
        with requests.Session() as http:
            forged_body, forged_headers = wl.StandardWebhooks().sign(event)
            assert http.post(url, data=forged_body, headers=forged_headers, timeout=5).status_code == 400
            body, headers = sender.sign(event)
            assert http.post(url, data=body, headers=headers, timeout=5).status_code == 200
            assert http.post(url, data=body, headers=headers, timeout=5).status_code == 200  # the same delivery again
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    namespace["work"]()
    namespace["work"]()
    assert len(done) == 1
    namespace["db"].close()


# -- the lessons' text ---------------------------------------------------------------------------------------

NOTEBOOKS = SOLUTIONS.parent


def cells(name):
    notebook = json.loads((NOTEBOOKS / name).read_text())
    return [(cell["cell_type"], "".join(cell["source"])) for cell in notebook["cells"]]


@pytest.mark.parametrize("name", ["05.00-automations.ipynb", "06.00-workshop-challenge.ipynb"])
def test_a_prediction_comes_before_a_code_cell_and_its_explanation_after(name):
    found = cells(name)
    starts = [i for i, (kind, text) in enumerate(found) if kind == "markdown" and text.startswith("**Predict, then run.**")]
    assert starts, name
    for i in starts:
        assert "?" in found[i][1]
        assert found[i + 1][0] == "code" and found[i + 2][0] == "markdown", name


def exercise(name, title):
    [text] = [text for kind, text in cells(name) if kind == "markdown" and title in text]
    return text


@pytest.mark.parametrize(
    ("name", "title", "not_dictated"),
    [
        ("05.00-automations.ipynb", "### Exercise 2: deploy only main", ['exactly `"refs/heads/main"`']),
        ("06.00-workshop-challenge.ipynb", "### Exercise 2: one handler", ["1. `event = stripe.verify(body, headers)`",
                                                                           "5. Only now add"]),
        ("06.00-workshop-challenge.ipynb", "### Exercise 1: choose the status codes", []),
        ("01.00-what-is-a-webhook.ipynb", "### Exercise 3: act on a payment", ['event.json["data"]["object"]["metadata"]']),
        ("02.00-push-vs-poll.ipynb", "### Exercise 1: page forward with a cursor", ['reversed(page["data"])']),
        ("04.00-failures-and-retries.ipynb", "### Exercise 3: apply a payment once", ["remember the id in `seen`"]),
        ("05.00-automations.ipynb", "### Exercise 1: the refund handler", ["(use `@rx.on("]),
        ("05.00-automations.ipynb", "### Exercise 3: update the stock", ['`direction * item["quantity"]`']),
    ],
)
def test_design_exercises_state_the_goal_and_keep_the_answer_in_graded_hints(name, title, not_dictated):
    text = exercise(name, title)
    assert "goal" in text.lower() or "Ask for each" in text
    hints = text.count("<details><summary>Hint ")
    assert hints >= 2 and "<details><summary>Hint 1</summary>" in text and text.count("</details>") == hints
    for phrase in not_dictated:
        assert phrase not in text


def test_05_stock_section_reads_right_before_and_after_its_exercise():
    """Unsolved, the run shows 500s and unchanged stock: the text says so before it says what the solved run shows."""
    texts = [text for kind, text in cells("05.00-automations.ipynb") if kind == "markdown"]
    [retries] = [text for text in texts if "the same delivery id" in text and "duplicate_of" in text]
    assert "still the placeholder" in retries and "unchanged" in retries and "run this section again" in retries
    [taken] = [text for text in texts if "8 mugs and 4 hoodies" in text]
    assert taken.startswith("With Exercise 3 solved, 8 mugs and 4 hoodies")
    [back] = [text for text in texts if "Back to 10 mugs" in text]
    assert "with Exercise 3 solved" in back


def test_one_metadata_key_names_the_order_in_every_notebook_and_solution():
    sources = [text for name in sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) for _, text in cells(name)]
    sources += [p.read_text() for p in (NOTEBOOKS / "solutions").glob("*.py")]
    joined = "\n".join(sources)
    assert '["metadata"]["order"]' not in joined and 'metadata={"order":' not in joined
    assert '.get("order")' not in joined and '["metadata"]["order_id"]' in joined


def test_06_names_every_scenario_rule_it_grades():
    text = "\n".join(text for _, text in cells("06.00-workshop-challenge.ipynb"))
    assert "eight scenarios" in text and "six scenarios" not in text
    assert "X-Request-Id" in text and "ConnectionError" in text and "503" in text
    assert "mark an event done only after its work succeeds" in text.lower()


def test_05_says_what_the_quiz_builds_for_code_and_for_no_code():
    text = exercise("05.00-automations.ipynb", "## 5. Your own automation")
    for piece in ("Zapier, Make or n8n", "400 to a bad signature", "signed key", "n8n's Stripe, GitHub and Shopify trigger nodes do"):
        assert piece in text
