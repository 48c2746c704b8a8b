"""Checks for 04.00-failures-and-retries: an idempotent payment, a retry schedule, how deliveries end."""

from __future__ import annotations

import copy
import math

from .._providers import Stripe
from .._sending.retry import RetryPolicy
from .._sending.timeline import duration
from . import attempt, failed, guarded, passed, unanswered

NOTEBOOK = "04.00-failures-and-retries"  # the notebook whose exercises these are: each verdict names it

STATUSES = ("delivered", "failed", "exhausted", "disabled")

# Each scenario, its final status, and a hint that leads there without giving it away.
# The Shopify scenario's subscription was created through the Admin API (the notebook says so): only such a
# subscription is deleted after 8 consecutive failures; one declared in the app's configuration stays.
SCENARIOS = {
    "GitHub push, the receiver answers 500": (
        "failed",
        "GitHub makes one attempt and never retries by itself, so it has no retries to run out of, and a 500 "
        "does not switch the hook off: the delivery waits for a person to redeliver it.",
    ),
    "Shopify order, the receiver is down all day": (
        "disabled",
        "Shopify retries 8 times over 4 hours; what does it do to a subscription created through the Admin "
        "API after 8 consecutive failures?",
    ),
    "Stripe live payment, the receiver fails 3 times then answers 200": (
        "delivered",
        "Stripe live mode retries for up to 3 days: the 4th attempt, minutes later, gets the 200.",
    ),
    "Stripe test-mode payment, the receiver always answers 500": (
        "exhausted",
        "test mode retries 3 times over a few hours, and then there are no retries left; the endpoint itself "
        "stays enabled.",
    ),
    "Standard Webhooks event, the receiver answers 410 Gone": (
        "disabled",
        "under the Standard Webhooks specification a 410 Gone says the endpoint no longer exists; retrying is "
        "pointless, and something else happens to it.",
    ),
}


@guarded()
def check_apply_payment(apply_payment) -> bool:
    """apply_payment(balance, seen, event) adds a Stripe event's amount once per event id and returns the balance."""
    if not callable(apply_payment):
        return failed("apply_payment is not a function yet. Define it with def apply_payment(balance, seen, event): ...")

    stripe = Stripe()
    first, second, third = (stripe.event("payment_intent.succeeded", amount=a) for a in (2000, 500, 1250))
    arrivals = [first, second, copy.deepcopy(first), third, copy.deepcopy(second), copy.deepcopy(first)]
    right = 2000 + 500 + 1250
    everything = sum(event["data"]["object"]["amount"] for event in arrivals)
    balance, seen = 0, set()
    for number, event in enumerate(arrivals, 1):
        before = balance
        balance, error = attempt(apply_payment, balance, seen, event)
        if error:
            return failed(f"on delivery {number} (event {event['id']}), apply_payment raised {error}.")
        if balance is None:
            return failed("apply_payment returned None. Return the new balance (or the old one, for a duplicate).")
        if not isinstance(balance, (int, float)) or isinstance(balance, bool):
            return failed(f"apply_payment returned {balance!r}; return the balance, a number of cents.")
        if number == 1 and balance != 2000:
            if balance == 0:
                return failed(
                    "after the first payment the balance is still 0. Add the amount, "
                    "event['data']['object']['amount'], to balance and return it."
                )
            return failed(f"the first payment (2000 cents) made the balance {balance!r} instead of 2000.")
        if number == 3 and balance != before:
            if not seen:
                return failed(
                    "the same event, delivered again, was added a second time, and `seen` is still empty. "
                    "Remember each event's id in it (seen.add(event['id'])), and skip an id you have seen."
                )
            return failed(
                f"the same event ({event['id']}) was added a second time: the balance went from {before} to {balance}. "
                "Check whether event['id'] is in seen before adding."
            )
    if balance == everything:
        return failed(f"the balance is {balance}, every delivery counted: duplicates must not be added again.")
    if balance != right:
        return failed(f"after six deliveries of three payments the balance is {balance!r}, not {right}.")
    if {first["id"], second["id"], third["id"]} - set(seen):
        return failed(
            "the balance is right, but `seen` does not hold the three event ids. Keep them in the set you are "
            "given, so the next call (perhaps after a restart) knows them too."
        )
    return passed(f"six deliveries of three payments, a balance of {balance} cents: each payment counted once.")


@guarded()
def check_when_is_attempt(when_is_attempt) -> bool:
    """when_is_attempt(policy, n): seconds after the first attempt when attempt n is sent, if all before it fail."""
    if not callable(when_is_attempt):
        return failed("when_is_attempt is not a function yet. Define it with def when_is_attempt(policy, n): ...")

    cases = [(RetryPolicy([10, 20, 40]), 1), (RetryPolicy([10, 20, 40]), 2), (RetryPolicy([10, 20, 40]), 4),
             (RetryPolicy.standard(), 3), (RetryPolicy.shopify(), 9), (RetryPolicy.stripe(), 13)]  # fmt: skip
    for policy, n in cases:
        value, error = attempt(when_is_attempt, policy, n)
        name = f"when_is_attempt({policy.name if policy.name != 'custom' else 'RetryPolicy([10, 20, 40])'}, {n})"
        if error:
            return failed(f"{name} raised {error}.")
        right = policy.offsets()[n - 1]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return failed(f"{name} returned {value!r}; return a number of seconds.")
        if math.isclose(value, right, abs_tol=1e-6):
            continue
        if n <= len(policy.delays) and math.isclose(value, policy.offsets()[n], abs_tol=1e-6):
            return failed(
                f"{name} is {value:g}, which is when attempt {n + 1} happens. Attempt 1 is at 0 s; attempt n comes "
                "after the first n - 1 waits in policy.delays."
            )
        if n >= 2 and math.isclose(value, policy.delays[n - 2], abs_tol=1e-6) and not math.isclose(value, right):
            return failed(
                f"{name} is {value:g}: that is only the wait just before attempt {n}. Add up every wait before it."
            )
        return failed(f"{name} is {value!r}, but attempt {n} is due {right:g} s after the first one.")
    stripe = RetryPolicy.stripe()
    return passed(
        f"attempt n is the sum of the waits before it: Stripe's 13th (last) attempt comes "
        f"{duration(when_is_attempt(stripe, 13))} after the first."
    )


@guarded()
def check_final_status(final_status) -> bool:
    """final_status maps each scenario to delivered, failed, exhausted or disabled."""
    problem = unanswered(final_status, "final_status", SCENARIOS, maps="scenario to status", keep="scenarios")
    if problem:
        return failed(problem)
    for scenario, (right, hint) in SCENARIOS.items():
        answer = final_status[scenario]
        if answer is None:
            return failed(f"{scenario!r} has no answer yet: choose one of {', '.join(STATUSES)}.")
        if not isinstance(answer, str) or answer.strip().lower() not in STATUSES:
            return failed(f"{scenario!r} is {answer!r}; choose one of {', '.join(STATUSES)}.")
        if answer.strip().lower() != right:
            return failed(f"{scenario!r} does not end {answer.strip().lower()!r}. {hint[0].upper()}{hint[1:]}")
    return passed(f"all {len(SCENARIOS)} scenarios end where the providers end them.")
