"""The checks of 03.00-security: each solution passes, and typical wrong answers fail with a specific hint."""

import hashlib
import hmac
from pathlib import Path

import pytest

import webhooklab as wl
from webhooklab.exercises import ch03

SOLUTIONS = Path(__file__).parent.parent / "notebooks" / "solutions"


def solution(slug: str, name: str):
    """Run a solution file the way the notebook does (wl already imported) and return the function it defines."""
    namespace = {"wl": wl}
    exec(compile((SOLUTIONS / f"03.00-{slug}.py").read_text(), f"03.00-{slug}.py", "exec"), namespace)
    return namespace[name]


def hinted(capsys, *fragments):
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet:") and "✓" not in out, out
    for fragment in fragments:
        assert fragment in out, out
    return out


# -- verify_github ----------------------------------------------------------------------------


def test_verify_github_solution_passes(capsys):
    assert ch03.check_verify_github(solution("verify-github", "verify_github")) is True
    assert capsys.readouterr().out.startswith("✓")


def test_verify_github_that_crashes_on_a_missing_header(capsys):
    def verify_github(body, headers, secret):
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers["X-Hub-Signature-256"])

    assert ch03.check_verify_github(verify_github) is False
    hinted(capsys, "without an X-Hub-Signature-256 header", "KeyError", "headers.get(")


def test_verify_github_with_a_str_key(capsys):
    def verify_github(body, headers, secret):
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Hub-Signature-256", ""))

    assert ch03.check_verify_github(verify_github) is False
    hinted(capsys, "secret.encode()")


def test_verify_github_that_ignores_the_secret(capsys):
    def verify_github(body, headers, secret):
        expected = "sha256=" + hmac.new(b"It's a Secret to Everybody", body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Hub-Signature-256", ""))

    assert ch03.check_verify_github(verify_github) is False
    hinted(capsys, "a valid push delivery", "the right answer is True")


def test_verify_github_that_accepts_everything(capsys):
    assert ch03.check_verify_github(lambda body, headers, secret: True) is False
    hinted(capsys, "a body changed after it was signed", "computed over `body`")


def test_verify_github_without_a_return(capsys):
    def verify_github(body, headers, secret):
        hmac.compare_digest(b"a", b"a")

    assert ch03.check_verify_github(verify_github) is False
    hinted(capsys, "returned None", "return")


def test_verify_github_comparing_with_double_equals(capsys):
    def verify_github(body, headers, secret):
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return expected == headers.get("X-Hub-Signature-256")

    assert ch03.check_verify_github(verify_github) is False
    hinted(capsys, "every answer is right", "hmac.compare_digest")


def test_verify_github_that_raises_on_a_short_signature(capsys):
    def verify_github(body, headers, secret):
        received = headers.get("X-Hub-Signature-256", "")
        if received and len(received) != 71:
            raise ValueError("wrong length")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, received)

    assert ch03.check_verify_github(verify_github) is False
    hinted(capsys, "wrong length ('sha256=abc')", "ValueError", "Return False")


def test_verify_github_check_survives_a_non_function(capsys):
    assert ch03.check_verify_github(None) is False
    hinted(capsys, "should be a function")


# -- the Stripe handler --------------------------------------------------------------------------


def test_handler_solution_passes(capsys):
    assert ch03.check_handler(solution("stripe-handler", "handle")) is True
    assert capsys.readouterr().out.startswith("✓")


def test_handler_that_lets_the_error_escape(capsys):
    def handle(body, headers, secret):
        event = wl.Stripe(secret).verify(body, headers)
        return 200, event["type"]

    assert ch03.check_handler(handle) is False
    hinted(capsys, "let SignatureError escape", "except wl.SignatureError")


def test_handler_that_answers_500(capsys):
    def handle(body, headers, secret):
        try:
            wl.Stripe(secret).verify(body, headers)
        except wl.SignatureError:
            return 500, "bad signature"
        return 200, "ok"

    assert ch03.check_handler(handle) is False
    hinted(capsys, "answered 500", "try again later", "answer 400")


def test_handler_that_never_verifies(capsys):
    assert ch03.check_handler(lambda body, headers, secret: (200, "ok")) is False
    hinted(capsys, "a tampered body", "as if the request were genuine")


def test_handler_that_verifies_parsed_json(capsys):
    import json

    def handle(body, headers, secret):
        try:
            wl.Stripe(secret).verify(json.dumps(json.loads(body)), headers)
        except wl.SignatureError:
            return 400, "bad signature"
        return 200, "ok"

    assert ch03.check_handler(handle) is False
    hinted(capsys, "a valid Stripe event", "answered 400")


def test_handler_that_returns_only_a_status(capsys):
    assert ch03.check_handler(lambda body, headers, secret: 200) is False
    hinted(capsys, "a pair (status, message)")


# -- the payload validator -------------------------------------------------------------------------


def test_accept_payment_solution_passes(capsys):
    assert ch03.check_accept_payment(solution("accept-payment", "accept_payment")) is True
    assert capsys.readouterr().out.startswith("✓")


def test_accept_payment_that_ignores_the_currency(capsys):
    def accept_payment(event, orders):
        payment = event["data"]["object"]
        order = orders.get(payment["metadata"].get("order_id"))
        return (
            event["type"] == "payment_intent.succeeded" and order is not None and payment["amount"] == order["amount"]
        )

    assert ch03.check_accept_payment(accept_payment) is False
    hinted(capsys, "in usd", "currency")


def test_accept_payment_that_ignores_the_type(capsys):
    def accept_payment(event, orders):
        payment = event["data"]["object"]
        order = orders.get(payment["metadata"].get("order_id"))
        return order is not None and (payment["amount"], payment["currency"]) == (order["amount"], order["currency"])

    assert ch03.check_accept_payment(accept_payment) is False
    hinted(capsys, "payment_failed", "check the type first")


def test_accept_payment_that_crashes_on_an_unknown_order(capsys):
    def accept_payment(event, orders):
        payment = event["data"]["object"]
        order = orders[payment["metadata"]["order_id"]]
        return (
            event["type"] == "payment_intent.succeeded"
            and payment["amount"] == order["amount"]
            and payment["currency"] == order["currency"]
        )

    assert ch03.check_accept_payment(accept_payment) is False
    hinted(capsys, "order 9999", "KeyError", "orders.get(order_id)")


def test_accept_payment_that_returns_a_truthy_value(capsys):
    assert ch03.check_accept_payment(lambda event, orders: "yes") is False
    hinted(capsys, "return True or False")


@pytest.mark.parametrize("check", [ch03.check_verify_github, ch03.check_handler, ch03.check_accept_payment])
def test_checks_never_raise_on_a_function_with_the_wrong_arguments(check, capsys):
    assert check(lambda: None) is False
    hinted(capsys, "TypeError")


@pytest.mark.parametrize("check", [ch03.check_verify_github, ch03.check_handler, ch03.check_accept_payment])
def test_the_notebooks_placeholder_gets_a_write_it_hint(check, capsys):
    def placeholder(*args):
        raise NotImplementedError("write it in the exercise cell below")

    assert check(placeholder) is False
    hinted(capsys, "still the placeholder", "exercise cell")
