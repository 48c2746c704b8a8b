"""Checks that grade a handler cannot be fooled by an older one: the handler registered last is the one graded.

Each test plays a notebook's cells in one namespace, as a kernel does: a handler cell run again (right after
wrong, or wrong after right, under the same name or another), then the real exercise check against a real
Receiver on 127.0.0.1.
"""

import pandas as pd
import pytest

import webhooklab as wl
from webhooklab.exercises import ch01, ch05

RIGHT_01 = '''
@rx.on("payment_intent.succeeded")
def remember_paid_order(event):
    order = event.json["data"]["object"]["metadata"].get("order_id")
    if order is not None:
        paid_orders.append(order)
'''
WRONG_01 = {
    "a constant": '''
@rx.on("payment_intent.succeeded")
def remember_paid_order(event):
    paid_orders.append("2002")
''',
    "the wrong metadata key": '''
@rx.on("payment_intent.succeeded")
def remember_paid_order(event):
    paid_orders.append(event.json["data"]["object"]["metadata"].get("order"))
''',
    "the wrong key, strictly": '''
@rx.on("payment_intent.succeeded")
def remember_paid_order(event):
    paid_orders.append(event.json["data"]["object"]["metadata"]["order"])
''',
    "the payment id": '''
@rx.on("payment_intent.succeeded")
def remember_paid_order(event):
    paid_orders.append(event.json["data"]["object"]["id"])
''',
}
RIGHT_05 = '''
@rx.on("charge.refunded", endpoint="stripe", dedupe=True)
def refund(event):
    orders.at[event.json["data"]["object"]["metadata"]["order_id"], "status"] = "refunded"
'''
WRONG_05 = {
    "the wrong metadata key": '''
@rx.on("charge.refunded", endpoint="stripe", dedupe=True)
def refund(event):
    orders.at[event.json["data"]["object"]["metadata"].get("order"), "status"] = "refunded"
''',
    "a fixed order": '''
@rx.on("charge.refunded", endpoint="stripe", dedupe=True)
def refund(event):
    orders.at["1002", "status"] = "refunded"
''',
    "the wrong column": '''
@rx.on("charge.refunded", endpoint="stripe", dedupe=True)
def refund(event):
    orders.at[event.json["data"]["object"]["metadata"]["order_id"], "shipped"] = "refunded"
''',
}


def renamed(source: str, name: str) -> str:
    return source.replace("def remember_paid_order(", f"def {name}(").replace("def refund(", f"def {name}(")


@pytest.fixture
def kernel():
    """A notebook's namespace: a receiver verifying the stripe endpoint, the 05 orders table, a Stripe sender."""
    stripe = wl.Stripe()
    rx = wl.Receiver(secrets={"stripe": stripe.secret}).start()
    orders = pd.DataFrame({"status": ["paid", "payment failed"], "amount": [2500, 4900], "shipped": [True, False]},
                          index=pd.Index(["1001", "1002"], name="order"))  # fmt: skip
    namespace = {"__name__": "__main__", "wl": wl, "rx": rx, "stripe": stripe, "orders": orders, "paid_orders": []}
    yield namespace
    rx.close()


def run(namespace, source):
    exec(compile(source, "<cell>", "exec"), namespace)


def verdict(capsys, passed: bool) -> str:
    out = capsys.readouterr().out
    assert out.count("✓") + out.count("✗") == 1, out
    assert ("✓" in out) is passed, out
    return out


# -- the receiver: a handler registered again under its name replaces the older one -------------------------


def test_a_handler_registered_again_under_its_name_replaces_the_older_one_and_says_so(kernel, capsys):
    rx = kernel["rx"]
    run(kernel, "calls = []\n@rx.on('push')\ndef note(event):\n    calls.append('first')\n")
    assert capsys.readouterr().out == ""
    run(kernel, "@rx.on('push')\ndef note(event):\n    calls.append('second')\n")
    out = capsys.readouterr().out
    assert "note replaces the handler of the same name" in out and out.count("\n") == 1
    run(kernel, "@rx.on('push')\ndef other(event):\n    calls.append('other')\n")
    wl.GitHub().send(wl.GitHub().event("push"), to=rx.url("gh"))
    assert sorted(kernel["calls"]) == ["other", "second"]


def test_lambdas_are_not_taken_for_one_another(kernel):
    rx, seen = kernel["rx"], []
    rx.on("push")(lambda event: seen.append(1))
    rx.on("push")(lambda event: seen.append(2))
    wl.GitHub().send(wl.GitHub().event("push"), to=rx.url("gh"))
    assert sorted(seen) == [1, 2]


# -- 01 Exercise 3 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("wrong", list(WRONG_01))
@pytest.mark.parametrize("name", ["remember_paid_order", "renamed_draft"])
def test_01_a_wrong_handler_after_a_right_one_fails(kernel, capsys, wrong, name):
    run(kernel, RIGHT_01)
    assert ch01.check_handler_acts(kernel["rx"], kernel["paid_orders"]) is True
    verdict(capsys, True)
    run(kernel, renamed(WRONG_01[wrong], name))
    assert ch01.check_handler_acts(kernel["rx"], kernel["paid_orders"]) is False
    verdict(capsys, False)


@pytest.mark.parametrize("wrong", list(WRONG_01))
@pytest.mark.parametrize("name", ["remember_paid_order", "renamed_fix"])
def test_01_a_right_handler_after_a_wrong_one_passes(kernel, capsys, wrong, name):
    run(kernel, WRONG_01[wrong])
    assert ch01.check_handler_acts(kernel["rx"], kernel["paid_orders"]) is False
    run(kernel, "paid_orders = []")  # the exercise cell starts from an empty list
    run(kernel, renamed(RIGHT_01, name))
    capsys.readouterr()
    assert ch01.check_handler_acts(kernel["rx"], kernel["paid_orders"]) is True
    assert name in verdict(capsys, True)


def test_01_the_junk_of_an_earlier_wrong_handler_cannot_hide_behind_a_right_one(kernel, capsys):
    run(kernel, WRONG_01["a constant"])
    run(kernel, RIGHT_01.replace("remember_paid_order", "second_try"))
    run(kernel, renamed(WRONG_01["the payment id"], "third_try"))  # registered last, and wrong
    assert ch01.check_handler_acts(kernel["rx"], kernel["paid_orders"]) is False
    assert "third_try" in verdict(capsys, False)


def test_01_a_handler_reading_the_wrong_key_says_what_it_appended(kernel, capsys):
    run(kernel, WRONG_01["the wrong metadata key"])
    assert ch01.check_handler_acts(kernel["rx"], kernel["paid_orders"]) is False
    out = verdict(capsys, False)
    assert "[None, None]" in out and "2002" in out


# -- 05 Exercise 1 -------------------------------------------------------------------------------------------


def check_05(kernel):
    return ch05.check_refund_handler(kernel["rx"], kernel["orders"], kernel["stripe"])


@pytest.mark.parametrize("wrong", list(WRONG_05))
@pytest.mark.parametrize("name", ["refund", "refund_v2"])
def test_05_a_wrong_refund_handler_after_a_right_one_fails(kernel, capsys, wrong, name):
    run(kernel, RIGHT_05)
    assert check_05(kernel) is True
    verdict(capsys, True)
    run(kernel, renamed(WRONG_05[wrong], name))
    assert check_05(kernel) is False
    assert name in verdict(capsys, False)


@pytest.mark.parametrize("wrong", list(WRONG_05))
@pytest.mark.parametrize("name", ["refund", "refund_v2"])
def test_05_a_right_refund_handler_after_a_wrong_one_passes(kernel, capsys, wrong, name):
    run(kernel, WRONG_05[wrong])
    assert check_05(kernel) is False
    run(kernel, renamed(RIGHT_05, name))
    capsys.readouterr()
    assert check_05(kernel) is True
    verdict(capsys, True)


def test_05_the_check_is_not_passed_by_an_order_already_refunded(kernel, capsys):
    run(kernel, RIGHT_05)
    assert check_05(kernel) is True
    run(kernel, "@rx.on('charge.refunded', endpoint='stripe')\ndef refund(event):\n    pass\n")
    assert kernel["orders"].at["1001", "status"] == "refunded"  # from the run before
    capsys.readouterr()
    assert check_05(kernel) is False
    assert "'paid', not 'refunded'" in verdict(capsys, False)


# -- one metadata key, and no phantom order ----------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded",
                                        "charge.succeeded", "checkout.session.completed"])  # fmt: skip
def test_a_simulated_stripe_event_names_no_order_unless_asked(event_type):
    stripe = wl.Stripe()
    assert stripe.event(event_type)["data"]["object"]["metadata"] == {}
    assert stripe.event(event_type, metadata={"order_id": "7"})["data"]["object"]["metadata"] == {"order_id": "7"}


# -- 01 Exercise 2: the hint does not send the learner back to the shortcut the exercise warns against -----


def test_01_the_header_hint_does_not_recommend_the_newest_request(kernel, capsys):
    rx, github = kernel["rx"], wl.GitHub()
    github.send(github.event("push"), to=rx.url("gh"))
    kernel["stripe"].send(kernel["stripe"].event("payment_intent.succeeded"), to=rx.url("stripe"))
    assert ch01.check_event_name(rx, "payment_intent.succeeded") is False
    out = verdict(capsys, False)
    assert "rx.event(-1).headers" not in out and "need not be GitHub's" in out
    assert ch01.check_event_name(rx, None) is False
    out = verdict(capsys, False)
    assert "of rx.event(-1)." not in out and "may be a request from another service" in out
    assert ch01.check_event_name(rx, "push") is True
