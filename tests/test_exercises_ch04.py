"""The checks of 04.00-failures-and-retries: each solution passes, typical mistakes get their own hint,
and the answers the checks expect are what the delivery engine really does."""

import pytest
from lab_under_test import run_solution

import webhooklab as wl
from webhooklab.exercises import ch04

# -- Exercise 1: when is attempt N? ---------------------------------------------------------


def test_the_attempt_time_solution_passes(capsys):
    assert ch04.check_when_is_attempt(run_solution("04.00-when-is-attempt.py")["when_is_attempt"]) is True
    assert capsys.readouterr().out.startswith("✓ attempt n is the sum of the waits before it")


def test_one_wait_too_many_is_an_off_by_one(capsys):
    assert ch04.check_when_is_attempt(lambda policy, n: sum(policy.delays[:n])) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet: when_is_attempt(RetryPolicy([10, 20, 40]), 1) is 10, which is when attempt 2")


def test_only_the_last_wait_is_not_enough(capsys):
    assert ch04.check_when_is_attempt(lambda policy, n: policy.delays[n - 2] if n > 1 else 0) is False
    assert "only the wait just before attempt 4" in capsys.readouterr().out


def test_a_stub_and_a_wrong_type_are_hints(capsys):
    def stub(policy, n):
        raise NotImplementedError("write when_is_attempt in the exercise cell below")

    assert ch04.check_when_is_attempt(stub) is False
    assert "raised NotImplementedError" in capsys.readouterr().out
    assert ch04.check_when_is_attempt(lambda policy, n: "5 min") is False
    assert "return a number of seconds" in capsys.readouterr().out


# -- Exercise 2: how does it end? -----------------------------------------------------------


def test_the_final_status_solution_passes(capsys):
    assert ch04.check_final_status(run_solution("04.00-final-status.py")["final_status"]) is True
    assert capsys.readouterr().out.startswith("✓ all 5 scenarios")


def test_a_wrong_status_gets_that_scenarios_hint(capsys):
    answers = dict(run_solution("04.00-final-status.py")["final_status"])
    answers["Stripe test-mode payment, the receiver always answers 500"] = "disabled"
    assert ch04.check_final_status(answers) is False
    out = capsys.readouterr().out
    assert "does not end 'disabled'" in out and "the endpoint itself stays enabled" in out


def test_unanswered_unknown_and_missing_scenarios(capsys):
    assert ch04.check_final_status({scenario: None for scenario in ch04.SCENARIOS}) is False
    assert "has no answer yet" in capsys.readouterr().out
    assert ch04.check_final_status({scenario: "retrying" for scenario in ch04.SCENARIOS}) is False
    assert "choose one of delivered, failed, exhausted, disabled" in capsys.readouterr().out
    assert ch04.check_final_status({}) is False
    assert "no answer for 'GitHub push" in capsys.readouterr().out


SCENARIO_RUNS = {
    "GitHub push, the receiver answers 500": (wl.GitHub, "push", {}, {"status": 500}),
    "Shopify order, the receiver is down all day": (wl.Shopify, "orders/create", {}, {"status": 500}),
    "Stripe live payment, the receiver fails 3 times then answers 200": (
        wl.Stripe, "payment_intent.succeeded", {"livemode": True}, {"fail_first": 3}),
    "Stripe test-mode payment, the receiver always answers 500": (
        wl.Stripe, "payment_intent.succeeded", {}, {"status": 500}),
    "Standard Webhooks event, the receiver answers 410 Gone": (wl.StandardWebhooks, "user.created", {}, {"status": 410}),
}  # fmt: skip


@pytest.mark.parametrize("scenario", list(ch04.SCENARIOS))
def test_each_expected_status_is_what_a_real_delivery_ends_with(rx, scenario):
    cls, event_type, overrides, answer = SCENARIO_RUNS[scenario]
    rx.respond("scenario", **answer)
    sender = cls()
    delivery = sender.deliver(sender.event(event_type, **overrides), to=rx.url("scenario"), clock=wl.VirtualClock())
    assert delivery.status == ch04.SCENARIOS[scenario][0]


# -- Exercise 3: apply a payment once -------------------------------------------------------


def test_the_idempotent_payment_solution_passes(capsys):
    assert ch04.check_apply_payment(run_solution("04.00-apply-payment-once.py")["apply_payment"]) is True
    assert "a balance of 3750 cents" in capsys.readouterr().out


def test_adding_every_delivery_is_told_to_remember_ids(capsys):
    assert ch04.check_apply_payment(lambda balance, seen, event: balance + event["data"]["object"]["amount"]) is False
    assert "was added a second time, and `seen` is still empty" in capsys.readouterr().out


def test_ids_kept_elsewhere_than_seen(capsys):
    elsewhere: set = set()

    def apply_payment(balance, seen, event):
        if event["id"] in elsewhere:
            return balance
        elsewhere.add(event["id"])
        return balance + event["data"]["object"]["amount"]

    assert ch04.check_apply_payment(apply_payment) is False
    assert "`seen` does not hold the three event ids" in capsys.readouterr().out


def test_returning_nothing_or_adding_nothing(capsys):
    def no_return(balance, seen, event):
        seen.add(event["id"])

    assert ch04.check_apply_payment(no_return) is False
    assert "returned None" in capsys.readouterr().out
    assert ch04.check_apply_payment(lambda balance, seen, event: balance) is False
    assert "the balance is still 0" in capsys.readouterr().out


def test_the_stub_is_a_hint(capsys):
    def stub(balance, seen, event):
        raise NotImplementedError("write apply_payment in the exercise cell below")

    assert ch04.check_apply_payment(stub) is False
    assert "apply_payment raised NotImplementedError" in capsys.readouterr().out
    assert ch04.check_apply_payment("not yet") is False
    assert "not a function yet" in capsys.readouterr().out
