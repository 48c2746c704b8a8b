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
        return failed("`event_name` is still None: set it to the X-GitHub-Event header of the newest request that "
                      "carries one (rx.event(-1) may be a request from another service).")
    return check(
        answer == expected,
        f"GitHub names its event in the X-GitHub-Event header: {expected!r}.",
        f"you have {answer!r}, but the newest GitHub request's X-GitHub-Event is another value. Requests from "
        "other services may have arrived after it, so rx.event(-1) need not be GitHub's: find the newest event "
        "whose header('X-GitHub-Event') is set (header names are case-insensitive).",
    )


@guarded(receiver="rx", sends=True, handlers=True)
def check_handler_acts(rx, paid_orders) -> bool:
    """The handler registered last for payment_intent.succeeded appends each payment's order id to paid_orders.

    Only that handler runs while the check sends: an older draft still registered under another name cannot
    make a wrong handler pass, nor a right one fail.
    """
    if not isinstance(paid_orders, list):
        return failed(f"paid_orders should be a list, but it is a {type(paid_orders).__name__}. Run the exercise "
                      "cell again, so it starts from paid_orders = [].")  # fmt: skip
    handler = rx.handlers.latest("payments", "payment_intent.succeeded")
    if handler is None:
        return failed("no handler runs for a payment_intent.succeeded at rx.url('payments'): nothing is registered "
                      "for that event type. A handler is a function registered with rx.on(...).")  # fmt: skip
    stripe, before, raised = Stripe(), len(paid_orders), len(rx.errors)
    with rx.handlers.only(handler):
        for order in ORDERS:
            stripe.send(stripe.event("payment_intent.succeeded", metadata={"order_id": order}), to=rx.url("payments"))
    added = paid_orders[before:]
    if len(rx.errors) > raised:
        error = rx.errors[-1]
        return failed(f"payments for orders {' and '.join(ORDERS)} reached your handler {handler.name} (the one "
                      f"registered last), and it raised {error.error}. Print one event's "
                      "event.json['data']['object'] to see where the order id is.")  # fmt: skip
    if not added:
        return failed(f"payments for orders {' and '.join(ORDERS)} reached {handler.name} (the handler registered "
                      "last for payment_intent.succeeded), but paid_orders did not grow.")  # fmt: skip
    return check(
        added == list(ORDERS),
        f"{handler.name} acted on each payment: orders {' and '.join(ORDERS)} are paid.",
        f"payments for orders {' and '.join(ORDERS)} made {handler.name} append {added!r}, not "
        f"{list(ORDERS)!r}: the order id each payment carries is not what reached the list.",
    )


ORDERS = ("2002", "2003")  # two, so a handler that appends a constant does not pass
