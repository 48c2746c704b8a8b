"""Checks for 01.00-what-is-a-webhook."""

from __future__ import annotations

from .._providers import Stripe
from . import check, failed, guarded

NOTEBOOK = "01.00-what-is-a-webhook"  # the notebook whose exercises these are: each verdict names it


@guarded(receiver="rx")
def check_order_sent(rx) -> bool:
    """The learner POSTed {"order": 1001} as JSON to rx.url("orders")."""
    orders = rx.arrivals("orders")
    if not orders:
        return failed("no request has reached the endpoint 'orders' yet. POST to rx.url('orders').")
    last = orders[-1]
    if last.json is None:
        return failed(f"a request arrived, but its body is not JSON: {last.preview!r}. Use requests.post(..., json=...).")
    return check(
        last.json == {"order": 1001},
        "the receiver captured your order.",
        f"a JSON body arrived, but it is {last.json!r}, not {{'order': 1001}}.",
    )


@guarded(receiver="rx")
def check_event_name(rx, answer) -> bool:
    """The learner read GitHub's event name from the newest captured GitHub request's headers."""
    table = rx.events()  # the table's columns only: no body is read
    github = table.index[table["provider"] == "github"]
    if github.empty:
        return failed("no GitHub request has been captured yet: run the cells of section 3 first.")
    expected = rx.event(github[-1]).header("X-GitHub-Event")
    if answer is None:
        return failed("set `event_name` to the value of the X-GitHub-Event header of rx.event(-1).")
    return check(
        answer == expected,
        f"GitHub names its event in the X-GitHub-Event header: {expected!r}.",
        f"you have {answer!r}; look at rx.event(-1).headers['X-GitHub-Event'] (header names are case-insensitive: "
        "event.header('x-github-event') works too).",
    )


@guarded(receiver="rx", sends=True, handlers=True)
def check_handler_acts(rx, paid_orders) -> bool:
    """The learner's handler appended the order id from each payment_intent.succeeded to paid_orders."""

    stripe = Stripe()
    before = len(paid_orders)
    stripe.send(stripe.event("payment_intent.succeeded", metadata={"order": "2002"}), to=rx.url("payments"))
    if len(paid_orders) == before:
        return failed("a payment_intent.succeeded arrived at rx.url('payments') but paid_orders did not grow. "
                      "Is your function registered with @rx.on('payment_intent.succeeded')?")  # fmt: skip
    return check(
        paid_orders[-1] == "2002",
        "your code acted on the event: order 2002 is paid.",
        f"the handler ran, but appended {paid_orders[-1]!r}; the order id is in "
        "event.json['data']['object']['metadata']['order'].",
    )
