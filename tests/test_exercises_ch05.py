"""The checks of 05.00-automations: each solution passes, and typical wrong answers fail with a specific hint."""

from pathlib import Path

import pandas as pd
import pytest

import webhooklab as wl
from webhooklab.exercises import ch05

SOLUTIONS = Path(__file__).parent.parent / "notebooks" / "solutions"


def run_solution(slug: str, **namespace) -> dict:
    """Run a solution file the way the notebook does, in a namespace holding what the notebook defined."""
    namespace = {"wl": wl, "pd": pd, **namespace}
    exec(compile((SOLUTIONS / f"05.00-{slug}.py").read_text(), f"05.00-{slug}.py", "exec"), namespace)
    return namespace


def hinted(capsys, *fragments):
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet:") and "✓" not in out and out.count("✗") == 1, out
    for fragment in fragments:
        assert fragment in out, out
    return out


# -- the refund handler, over real HTTP ---------------------------------------------------------


@pytest.fixture
def shop():
    """A receiver verifying the stripe endpoint, the notebook's orders table, and the Stripe sender."""
    stripe = wl.Stripe()
    receiver = wl.Receiver(secrets={"stripe": stripe.secret}).start()
    orders = pd.DataFrame(
        {"status": ["paid", "payment failed"], "amount": [2500, 4900], "shipped": [True, False]},
        index=pd.Index(["1001", "1002"], name="order"),
    )
    yield receiver, orders, stripe
    receiver.close()


def test_refund_handler_solution_passes(shop, capsys):
    rx, orders, stripe = shop
    run_solution("refund-handler", rx=rx, orders=orders)
    assert ch05.check_refund_handler(rx, orders, stripe) is True
    assert capsys.readouterr().out.startswith("✓")
    assert orders.at["1001", "status"] == "refunded" and rx.events("stripe")["verified"].all()


def test_no_refund_handler_says_none_is_registered(shop, capsys):
    rx, orders, stripe = shop
    assert ch05.check_refund_handler(rx, orders, stripe) is False
    hinted(capsys, "no handler runs for a charge.refunded at rx.url('stripe')")


def test_a_handler_on_the_wrong_event_type(shop, capsys):
    rx, orders, stripe = shop

    @rx.on("charge.refund", endpoint="stripe")
    def refund(event):
        orders.at[event.json["data"]["object"]["metadata"]["order_id"], "status"] = "refunded"

    assert ch05.check_refund_handler(rx, orders, stripe) is False
    hinted(capsys, "no handler runs for a charge.refunded", "spelling")


def test_a_refund_handler_that_raises_is_reported(shop, capsys):
    rx, orders, stripe = shop

    @rx.on("charge.refunded", endpoint="stripe")
    def refund(event):
        orders.at[event.json["metadata"]["order"], "status"] = "refunded"  # metadata is under data.object

    assert ch05.check_refund_handler(rx, orders, stripe) is False
    hinted(capsys, "your handler refund (the one registered last), and it raised KeyError: 'metadata'",
           "rx.errors[-1].traceback")


def test_a_missing_orders_table_is_a_hint_not_a_crash(shop, capsys):
    rx, _, stripe = shop
    assert ch05.check_refund_handler(rx, pd.DataFrame(), stripe) is False
    hinted(capsys, "no order '1001'")


# -- should_deploy --------------------------------------------------------------------------------


def test_should_deploy_solution_passes(capsys):
    assert ch05.check_should_deploy(run_solution("should-deploy")["should_deploy"]) is True
    assert capsys.readouterr().out.startswith("✓")


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (lambda push: True, ["feature/x", "returned True, but it should be False", "'refs/heads/main'"]),
        (lambda push: push["ref"] == "main", ["a push of two commits to main", "returned False"]),
        (lambda push: push["ref"].startswith("refs/heads/main"), ["main-old", "exactly"]),
        (lambda push: push["ref"].endswith("/main") and not push["deleted"], ["feature/main", "the whole ref"]),
        (lambda push: (push.get("base_ref") or push["ref"]) == "refs/heads/main", ["tag push", "refs/tags/"]),
        (lambda push: push["ref"] == "refs/heads/main", ["main being deleted", "not push['deleted']"]),
        (lambda push: push["head_commit"]["id"] and push["ref"] == "refs/heads/main", ["raised TypeError"]),
    ],
    ids=["everything", "short-name", "startswith", "endswith", "base-ref", "deleted", "crashes-on-deleted"],
)
def test_wrong_deploy_conditions_get_the_hint_for_their_mistake(body, fragments, capsys):
    assert ch05.check_should_deploy(body) is False
    hinted(capsys, *fragments)


@pytest.mark.parametrize(
    "design",
    [
        lambda push: push["ref"] == "refs/heads/main" and not push["deleted"],
        lambda push: push["ref"] == "refs/heads/main" and push["head_commit"] is not None,
        lambda push: push["ref"].split("/", 2) == ["refs", "heads", "main"] and push["after"].strip("0") != "",
    ],
    ids=["deleted-flag", "head-commit", "after-sha"],
)
def test_any_sound_design_of_the_deploy_condition_passes(design, capsys):
    """The exercise states the goal, not the code: each way of telling a deletion apart is accepted."""
    assert ch05.check_should_deploy(design) is True
    assert capsys.readouterr().out.startswith("✓")


def test_the_placeholder_should_deploy_is_named(capsys):
    def should_deploy(push):
        raise NotImplementedError("write should_deploy")

    assert ch05.check_should_deploy(should_deploy) is False
    hinted(capsys, "still the placeholder")


# -- adjust_stock -----------------------------------------------------------------------------------


def test_adjust_stock_solution_passes(capsys):
    assert ch05.check_adjust_stock(run_solution("adjust-stock")["adjust_stock"]) is True
    assert capsys.readouterr().out.startswith("✓")


def test_only_the_first_line_item(capsys):
    def adjust_stock(inventory, line_items, direction):
        item = line_items[0]
        inventory.loc[item["sku"], "stock"] += direction * item["quantity"]

    assert ch05.check_adjust_stock(adjust_stock) is False
    hinted(capsys, "only MUG-001 changed", "other line items")


def test_a_new_table_instead_of_in_place(capsys):
    def adjust_stock(inventory, line_items, direction):
        inventory = inventory.copy()
        for item in line_items:
            inventory.loc[item["sku"], "stock"] += direction * item["quantity"]
        return inventory

    assert ch05.check_adjust_stock(adjust_stock) is False
    hinted(capsys, "returned a new table", "in place")


def test_the_wrong_direction(capsys):
    def adjust_stock(inventory, line_items, direction):
        for item in line_items:
            inventory.loc[item["sku"], "stock"] -= direction * item["quantity"]

    assert ch05.check_adjust_stock(adjust_stock) is False
    hinted(capsys, "should be [8, 4, 20]", "it is [12, 6, 20]")


def test_one_per_item_instead_of_the_quantity(capsys):
    def adjust_stock(inventory, line_items, direction):
        for item in line_items:
            inventory.loc[item["sku"], "stock"] += direction

    assert ch05.check_adjust_stock(adjust_stock) is False
    hinted(capsys, "should be [8, 4, 20]", "its quantity")


def test_the_placeholder_adjust_stock_is_named_once(capsys):
    def adjust_stock(inventory, line_items, direction):
        raise NotImplementedError("write adjust_stock in the exercise cell below")

    assert ch05.check_adjust_stock(adjust_stock) is False
    hinted(capsys, "still the placeholder")


def test_not_a_function(capsys):
    assert ch05.check_adjust_stock(None) is False
    hinted(capsys, "should be a function")
