"""Checks for 00.00-start-here: the first webhook."""

from __future__ import annotations

from . import check, failed


def check_order_sent(rx) -> bool:
    """The learner POSTed {"order": 1001} as JSON to rx.url("orders")."""
    orders = rx.store.list("orders")
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
