"""Checks for 03.00-security: verify a signature by hand, answer a bad one with 400, validate the payload."""

from __future__ import annotations

import copy
import inspect
import json
import time

from .._providers import GitHub, Stripe
from . import attempt, failed, guarded, passed

NOTEBOOK = "03.00-security"  # the notebook whose exercises these are: each verdict names it

GITHUB_VECTOR = (  # GitHub's published example: (body, headers, secret)
    b"Hello, World!",
    {"X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
    "It's a Secret to Everybody",
)


def _name(function) -> str:
    return getattr(function, "__name__", "your function")


def _not_written(function, error: str) -> bool | None:
    """✗ when the learner's function is still the notebook's placeholder; None otherwise."""
    if error.startswith("NotImplementedError"):
        return failed(f"{_name(function)} is still the placeholder: write it in the exercise cell, run that cell, "
                      "then run this check again.")  # fmt: skip
    return None


def _uses_compare_digest(function) -> bool | None:
    """Whether the function's own source calls compare_digest; None when the source cannot be read."""
    try:
        return "compare_digest" in inspect.getsource(function)
    except (OSError, TypeError):
        return None


@guarded()
def check_verify_github(verify_github) -> bool:
    """verify_github(body, headers, secret) returns True for a valid delivery and False for anything else."""
    if not callable(verify_github):
        return failed(f"verify_github should be a function, but it is {type(verify_github).__name__}.")
    secret = "exercise-secret-0303"
    github = GitHub(secret)
    body, headers = github.sign(github.event("push"))
    no_header = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    cases = [  # (description, body, headers, secret, the right answer)
        ("GitHub's published example (secret \"It's a Secret to Everybody\", body b\"Hello, World!\")",
         *GITHUB_VECTOR, True),
        ("a valid push delivery", body, headers, secret, True),
        ("a body changed after it was signed", body.replace(b'"forced":false', b'"forced":true'), headers, secret, False),
        ("a valid delivery checked with the wrong secret", body, headers, "not-the-secret", False),
        ("a request without an X-Hub-Signature-256 header", body, no_header, secret, False),
        ("a signature of the wrong length ('sha256=abc')", body, {**headers, "X-Hub-Signature-256": "sha256=abc"},
         secret, False),
    ]  # fmt: skip
    for description, case_body, case_headers, case_secret, right in cases:
        result, error = attempt(verify_github, case_body, dict(case_headers), case_secret)
        if error and _not_written(verify_github, error) is not None:
            return False
        if error:
            return failed(f"for {description}, {_name(verify_github)} raised {error}. {_raise_hint(error, right)}")
        if result is None:
            return failed(f"for {description}, it returned None. Did you forget `return`?")
        if not isinstance(result, bool):
            return failed(
                f"for {description}, it returned {result!r}; return True or False (compare_digest gives a bool)."
            )
        if result is not right:
            return failed(
                f"for {description}, it returned {result}, but the right answer is {right}. {_wrong_hint(description, right)}"
            )
    if _uses_compare_digest(verify_github) is False:
        return failed(
            "every answer is right, but the comparison is not hmac.compare_digest. `==` stops at the first "
            "character that differs, so how long it takes tells an attacker how much of a guess is right "
            "(section 7). Compare with hmac.compare_digest(expected, received)."
        )
    return passed(
        "verify_github accepts GitHub's own example and a valid delivery, and returns False for a tampered body, "
        "a wrong secret, a missing header and a short signature."
    )


def _raise_hint(error: str, right: bool) -> str:
    if error.startswith("KeyError"):
        return (
            "Read the header with headers.get('X-Hub-Signature-256', '') so a missing header means False, not a crash."
        )
    if "bytes-like" in error or "expected bytes" in error or "key: expected" in error:
        return "hmac.new needs bytes: use secret.encode() for the key and the body as it is (it is already bytes)."
    if "unsupported operand" in error or "can't concat" in error or "must be str" in error:
        return "hexdigest() gives a str: build 'sha256=' + digest as a str, and compare it with the header, a str too."
    return "Return False for anything that is not a valid signature, instead of raising." if not right else ""


def _wrong_hint(description: str, right: bool) -> str:
    if right:
        return (
            "Compute 'sha256=' + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() over the raw body, "
            "exactly as it arrived, and compare it with headers['X-Hub-Signature-256']."
        )
    if "wrong secret" in description:
        return "Use the `secret` argument as the HMAC key, not a fixed value."
    if "changed" in description:
        return "The HMAC must be computed over `body` itself: a changed body must give a different digest."
    return "Anything that is not exactly the expected 'sha256=<64 hex digits>' must give False."


@guarded()
def check_handler(handle) -> bool:
    """handle(body, headers, secret) -> (status, message): 2xx for a valid Stripe event, 400 for a bad signature."""
    if not callable(handle):
        return failed(f"handle should be a function, but it is {type(handle).__name__}.")
    secret = Stripe.new_secret()
    stripe = Stripe(secret)
    event = stripe.event("payment_intent.succeeded", amount=2000)
    body, headers = stripe.sign(event)
    old_body, old_headers = stripe.sign(event, timestamp=int(time.time()) - 600)
    cases = [  # (description, body, headers, the status family wanted)
        ("a valid Stripe event", body, headers, 200),
        ("a tampered body", body.replace(b'"amount": 2000', b'"amount": 1', 1), headers, 400),
        ("a request without a Stripe-Signature header",
         body, {k: v for k, v in headers.items() if k != "Stripe-Signature"}, 400),
        ("a valid signature made 10 minutes ago (a replay)", old_body, old_headers, 400),
    ]  # fmt: skip
    for description, case_body, case_headers, wanted in cases:
        result, error = attempt(handle, case_body, dict(case_headers), secret)
        if error and _not_written(handle, error) is not None:
            return False
        if error:
            if error.startswith("SignatureError"):
                return failed(
                    f"for {description}, {_name(handle)} let {error.split(':')[0]} escape. Catch it "
                    "(try: ... except wl.SignatureError as error:) and return (400, a message)."
                )
            return failed(f"for {description}, {_name(handle)} raised {error}.")
        if not (isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[0], int)):
            return failed(
                f"for {description}, it returned {result!r}; return a pair (status, message), e.g. (400, 'bad signature')."
            )
        status, message = result
        if not isinstance(message, str):
            return failed(f"for {description}, the message is {message!r}; make it a str.")
        if wanted == 200 and not 200 <= status < 300:
            return failed(
                f"for {description}, it answered {status}. A valid event gets a 2xx (200), or Stripe marks the "
                "delivery failed and sends it again. Return (200, ...) when verify() succeeds."
            )
        if wanted == 400:
            if 200 <= status < 300:
                return failed(
                    f"for {description}, it answered {status}, as if the request were genuine. Call "
                    "wl.Stripe(secret).verify(body, headers) and answer 200 only when it returns."
                )
            if status >= 500:
                return failed(
                    f"for {description}, it answered {status}. A 5xx says 'my server broke, try again later', and it "
                    "is what a crash looks like, so real outages would hide among forged requests. The request is "
                    "at fault, not your server: answer 400."
                )
            if status != 400:
                return failed(
                    f"for {description}, it answered {status}: a 4xx is the right family, but answer 400 here."
                )
    return passed("your handler answers 200 to a valid event and 400 to a tampered, unsigned or replayed one.")


@guarded()
def check_accept_payment(accept_payment) -> bool:
    """accept_payment(event, orders) is True only for a succeeded payment of a known order, in its amount and currency."""
    if not callable(accept_payment):
        return failed(f"accept_payment should be a function, but it is {type(accept_payment).__name__}.")
    orders = {"1042": {"amount": 2000, "currency": "eur"}}
    stripe = Stripe()

    def event(event_type="payment_intent.succeeded", amount=2000, currency="eur", order_id="1042"):
        made = stripe.event(event_type, amount=amount, currency=currency, metadata={"order_id": order_id})
        return json.loads(json.dumps(made))  # a plain dict, as verify() returns it

    no_order = event()
    del no_order["data"]["object"]["metadata"]["order_id"]
    cases = [  # (description, event, the right answer, a hint when wrong)
        ("a succeeded payment of order 1042 for 2000 eur", event(), True,
         ("check event['type'], then find the order with event['data']['object']['metadata']['order_id'], "
          "and compare amount and currency with orders[order_id].")),
        ("a payment_intent.payment_failed event for order 1042", event("payment_intent.payment_failed"), False,
         "check the type first: only 'payment_intent.succeeded' means the money arrived."),
        ("a succeeded payment of order 1042 in usd", event(currency="usd"), False,
         "compare the object's currency with the order's: 2000 usd is not 2000 eur."),
        ("a succeeded payment of order 1042 for 1 (0.01 eur)", event(amount=1), False,
         "compare the object's amount with the order's amount."),
        ("a succeeded payment for order 9999, which does not exist", event(order_id="9999"), False,
         "look the order up with orders.get(order_id) and return False when it is None."),
        ("a succeeded payment with no order_id in its metadata", no_order, False,
         "read the id with .get('order_id'): a signed event may lack it, and then there is nothing to fulfil."),
    ]  # fmt: skip
    for description, case, right, hint in cases:
        result, error = attempt(accept_payment, copy.deepcopy(case), copy.deepcopy(orders))
        if error and _not_written(accept_payment, error) is not None:
            return False
        if error:
            extra = " Use .get() so a missing key means False." if error.startswith("KeyError") else ""
            return failed(f"for {description}, {_name(accept_payment)} raised {error}.{extra} Hint: {hint}")
        if not isinstance(result, bool):
            return failed(f"for {description}, it returned {result!r}; return True or False.")
        if result is not right:
            return failed(f"for {description}, it returned {result}, but the right answer is {right}: {hint}")
    return passed(
        "accept_payment acts only on a succeeded payment of a known order, in its amount and currency, and "
        "ignores the rest, signed or not."
    )
