"""Checks for 05.00-automations: a refund handler, the deploy condition, the stock update."""

from __future__ import annotations

import copy

from .._providers import GitHub, Shopify
from . import attempt, check, failed, guarded, passed

NOTEBOOK = "05.00-automations"  # the notebook whose exercises these are: each verdict names it


def _not_written(name: str, error: str) -> bool | None:
    """✗ when the learner's function is still the notebook's placeholder; None otherwise."""
    if error.startswith("NotImplementedError"):
        return failed(f"{name} is still the placeholder: write it in the exercise cell, run that cell, then run "
                      "this check again.")  # fmt: skip
    return None


@guarded(receiver="rx", sends=True, handlers=True)
def check_refund_handler(rx, orders, stripe) -> bool:
    """A signed charge.refunded for order 1001, sent to rx.url("stripe"), marks that order 'refunded'.

    Only the handler registered last for charge.refunded at that endpoint runs while the check sends, and the
    order is set back to 'paid' first, so neither an older draft nor an earlier run can pass it.
    """
    try:
        amount = int(orders.at["1001", "amount"])
    except Exception:  # noqa: BLE001 (the table is the learner's to break; say how to get it back)
        return failed("the orders table has no order '1001' with an amount: run the cells of section 2 again.")
    handler = rx.handlers.latest("stripe", "charge.refunded")
    if handler is None:
        return failed("no handler runs for a charge.refunded at rx.url('stripe'): none is registered for that "
                      "event type at that endpoint (check the type's spelling and the endpoint).")  # fmt: skip
    orders.at["1001", "status"] = "paid"  # as section 2 left it: the refund must be what changes it
    before = len(rx.errors)
    refund = stripe.event("charge.refunded", metadata={"order_id": "1001"}, amount=amount)
    with rx.handlers.only(handler):
        reply, error = attempt(stripe.send, refund, to=rx.url("stripe"))
    if error:
        return failed(f"the refund could not be sent ({error}): is the receiver still running? Run section 1 again.")
    if reply.status is None:
        return failed(f"the refund got no answer ({reply.error}). Is the receiver still running?")
    if len(rx.errors) > before:
        raised = rx.errors[-1]
        return failed(f"the refund reached your handler {handler.name} (the one registered last), and it raised "
                      f"{raised.error}, so the answer was a 500. rx.errors[-1].traceback shows the line; "
                      "compare what it reads with the event's data.object.")  # fmt: skip
    status = orders.at["1001", "status"]
    return check(
        status == "refunded",
        f"a signed charge.refunded for order 1001 ran {handler.name}, and the order is now 'refunded'.",
        f"a charge.refunded for order 1001 reached {handler.name} (the handler registered last; answered "
        f"{reply.status}), but the order's status is {status!r}, not 'refunded': the handler changed another row "
        "or another column, or nothing.",
    )


def _pushes() -> list[tuple[str, dict, bool, str]]:
    """(description, push payload, deploy?, hint when wrong) for each kind of push GitHub sends."""
    github = GitHub("exercise-secret-0505")
    tag = github.event("push", commits=["Release 1.0"], ref="refs/tags/v1.0.0", base_ref="refs/heads/main",
                       created=True)  # fmt: skip
    deleted = github.event("push", branch="main", commits=[], deleted=True, after="0" * 40)
    return [
        ("a push of two commits to main", github.event("push", branch="main", commits=["Fix typo", "Add FAQ"]), True,
         "return True when push['ref'] is 'refs/heads/main' (and the branch was not deleted)"),
        ("a push to the branch feature/x", github.event("push", branch="feature/x", commits=["Try a colour"]), False,
         "compare push['ref'] with 'refs/heads/main', the full name of the branch"),
        ("a push to the branch main-old", github.event("push", branch="main-old", commits=["Old work"]), False,
         "test push['ref'] == 'refs/heads/main' exactly: 'main' in ref or startswith also match 'refs/heads/main-old'"),
        ("a push to the branch feature/main", github.event("push", branch="feature/main", commits=["Try it"]), False,
         "compare the whole ref: endswith('/main') or endswith('main') also match 'refs/heads/feature/main'"),
        ("a tag push (ref refs/tags/v1.0.0, base_ref refs/heads/main)", tag, False,
         "a tag push is a push too: its ref starts with refs/tags/. Look at push['ref'], not push['base_ref']"),
        ("main being deleted (deleted: true, head_commit: null)", deleted, False,
         "when a branch is deleted there is nothing to deploy: also require `not push['deleted']`"),
    ]  # fmt: skip


@guarded()
def check_should_deploy(should_deploy) -> bool:
    """should_deploy(push) is true only for a push of commits to refs/heads/main."""
    if not callable(should_deploy):
        return failed(f"should_deploy should be a function, but it is {type(should_deploy).__name__}.")
    for description, push, right, hint in _pushes():
        result, error = attempt(should_deploy, copy.deepcopy(push))
        if error:
            if _not_written("should_deploy", error) is None:
                failed(f"for {description}, should_deploy raised {error}.")
            return False
        if bool(result) is not right:
            return failed(f"for {description}, should_deploy returned {result!r}, but it should be {right}: {hint}.")
    return passed("should_deploy deploys a push to main, and ignores other branches, look-alike names, tag pushes "
                  "and a deleted branch.")  # fmt: skip


def _inventory():
    import pandas as pd

    return pd.DataFrame(
        {"title": ["Webhook Mug", "Retry Hoodie", "Payload Tote"], "stock": [10, 5, 20]},
        index=pd.Index(["MUG-001", "HOODIE-001", "TOTE-001"], name="sku"),
    )


@guarded()
def check_adjust_stock(adjust_stock) -> bool:
    """adjust_stock(inventory, line_items, direction) changes the table in place, for every line item."""
    if not callable(adjust_stock):
        return failed(f"adjust_stock should be a function, but it is {type(adjust_stock).__name__}.")
    shopify = Shopify("exercise-secret-0505")
    order = shopify.event("orders/create", line_items=[("MUG-001", 2), ("HOODIE-001", 1)])["line_items"]
    totes = shopify.event("orders/create", line_items=[{"sku": "TOTE-001", "quantity": 3, "title": "Payload Tote",
                                                         "price": "15.00"}])["line_items"]  # fmt: skip
    inventory = _inventory()
    cases = [  # (description, line items, direction, the stock afterwards)
        ("an order of 2 × MUG-001 and 1 × HOODIE-001 (direction -1)", order, -1, [8, 4, 20]),
        ("then its cancellation (the same line items, direction +1)", order, +1, [10, 5, 20]),
        ("then an order of 3 × TOTE-001 (direction -1)", totes, -1, [10, 5, 17]),
    ]
    for description, items, direction, expected in cases:
        before = list(inventory["stock"])
        result, error = attempt(adjust_stock, inventory, copy.deepcopy(items), direction)
        if error:
            if _not_written("adjust_stock", error) is None:
                failed(f"for {description}, adjust_stock raised {error}.")
            return False
        if "stock" not in inventory.columns:
            return failed("the inventory table lost its 'stock' column: change the numbers in it, not the columns.")
        after = [int(n) for n in inventory["stock"]]
        if after == expected:
            continue
        returned = result is not None and hasattr(result, "columns") and "stock" in result.columns
        if after == before and returned and [int(n) for n in result["stock"]] == expected:
            return failed("adjust_stock returned a new table but left the one it was given unchanged. The handlers "
                          "use the same inventory table: change it in place, e.g. inventory.loc[sku, 'stock'] += ...")  # fmt: skip
        if after == before:
            return failed(f"for {description}, the stock in the table you were given did not change, so the "
                          "handlers would see the same stock after every order.")  # fmt: skip
        changed = [sku for sku, b, a in zip(inventory.index, before, after) if a != b]
        if len(items) > 1 and len(changed) == 1:
            return failed(f"for {description}, only {changed[0]} changed: the order's other line items left the "
                          "stock as it was.")  # fmt: skip
        return failed(f"for {description}, the stock should be {expected} (MUG-001, HOODIE-001, TOTE-001), but it is "
                      f"{after}: compare each SKU's change with its quantity and the direction.")  # fmt: skip
    return passed("adjust_stock takes every line item off the stock for an order, and puts it back for a cancellation.")
