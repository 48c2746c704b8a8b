"""The quiz and the automation blueprint teach what production needs; the 06 solution survives a failed attempt."""

import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

import webhooklab as wl
from webhooklab import widgets
from webhooklab._providers import PROVIDERS

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
    assert ".verify(body, request.headers)" in code and "body = request.get_data()" in code
    assert "except wl.SignatureError:" in code and 'return "", 400' in code
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
    challenge = SimpleNamespace(secret=sender.secret, payments=FlakyPayments(), handler=lambda function: function,
                                credit=lambda customer, amount: None,
                                enqueue=lambda function, *args: queued.append(args))  # fmt: skip
    namespace = {"wl": wl, "challenge": challenge}
    source = (SOLUTIONS / "06.00-handler.py").read_text()
    exec(compile(source, "06.00-handler.py", "exec"), namespace)  # noqa: S102
    handle = namespace["handle"]
    event = sender.event("payment_intent.succeeded", customer="cus_retry", amount=700)

    with pytest.raises(DatabaseDown):  # the grader answers 500 for this: Stripe retries
        handle(*sender.sign(event))
    assert queued == []
    assert handle(*sender.sign(event)) == 200  # the retry is processed, not taken for a duplicate
    assert queued == [("cus_retry", 700)]
    assert challenge.payments[event["data"]["object"]["id"]]["id"] == event["id"]
    assert handle(*sender.sign(event)) == 200 and queued == [("cus_retry", 700)]  # a real duplicate: acted on once
