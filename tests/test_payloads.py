"""Payloads are faithful: Stripe's documented fields, GitHub's published schemas, Shopify's samples."""

import json
import shutil
import subprocess
import tarfile
import time
from decimal import Decimal

import pytest
import stripe

import webhooklab as wl

REQUIRED = {
    wl.Stripe: {"payment_intent.succeeded", "payment_intent.payment_failed", "charge.succeeded", "charge.refunded",
                "checkout.session.completed", "customer.subscription.created"},
    wl.GitHub: {"ping", "push", "pull_request", "issues", "release"},
    wl.Shopify: {"orders/create", "orders/paid", "orders/cancelled", "products/update", "inventory_levels/update",
                 "app/uninstalled"},
}  # fmt: skip


@pytest.mark.parametrize("cls", REQUIRED, ids=lambda c: c.name)
def test_event_types_cover_the_required_ones(cls):
    assert REQUIRED[cls] <= set(cls.event_types())


@pytest.mark.parametrize("cls", REQUIRED, ids=lambda c: c.name)
def test_an_unknown_type_lists_the_known_ones(cls):
    with pytest.raises(ValueError, match=f"has no event type 'nope'. Known types: .*{sorted(REQUIRED[cls])[0]}"):
        cls().event("nope")


@pytest.mark.parametrize("cls", REQUIRED, ids=lambda c: c.name)
def test_an_unknown_override_lists_what_can_be_set(cls):
    with pytest.raises(TypeError, match="has no field or option 'colour'. You can set: "):
        cls().event(sorted(REQUIRED[cls])[0], colour="blue")


# -- Stripe --------------------------------------------------------------------------------

STRIPE_CLASSES = {"payment_intent": stripe.PaymentIntent, "charge": stripe.Charge,
                  "checkout.session": stripe.checkout.Session, "subscription": stripe.Subscription}  # fmt: skip


def documented_fields(cls) -> set[str]:
    """The fields stripe-python annotates on a resource: Stripe's own list of what the object carries."""
    annotations = {}
    for klass in reversed(cls.__mro__):
        annotations.update(getattr(klass, "__annotations__", {}))
    return {name for name in annotations if not name.startswith("_") and name != "OBJECT_NAME"}


@pytest.mark.parametrize("event_type", sorted(REQUIRED[wl.Stripe]))
def test_stripe_events_carry_every_documented_field(event_type):
    event = wl.Stripe().event(event_type)
    assert documented_fields(stripe.Event) - {"account", "context"} <= event.keys()  # those two are Connect-only
    assert event["object"] == "event" and event["type"] == event_type and event["id"].startswith("evt_")
    obj = event["data"]["object"]
    assert documented_fields(STRIPE_CLASSES[obj["object"]]) <= obj.keys()
    constructed = stripe.Event.construct_from(event, "sk_test_unused")
    assert isinstance(constructed.data.object, STRIPE_CLASSES[obj["object"]])


def test_stripe_events_are_fresh_but_the_customer_stays():
    first, second = wl.Stripe().event("payment_intent.succeeded"), wl.Stripe().event("payment_intent.succeeded")
    assert first["id"] != second["id"] and first["data"]["object"]["id"] != second["data"]["object"]["id"]
    assert first["data"]["object"]["customer"] == second["data"]["object"]["customer"]
    assert abs(first["created"] - time.time()) < 60
    intent = first["data"]["object"]
    assert intent["client_secret"].startswith(intent["id"] + "_secret_")


def test_stripe_friendly_overrides():
    event = wl.Stripe().event("charge.refunded", amount=5000, currency="EUR", email="ada@example.com", metadata={"order_id": "42"})
    charge = event["data"]["object"]
    assert charge["amount"] == charge["amount_captured"] == charge["amount_refunded"] == 5000
    assert charge["refunds"]["data"][0]["amount"] == 5000
    assert charge["currency"] == "eur" and charge["billing_details"]["email"] == "ada@example.com"
    assert charge["metadata"]["order_id"] == "42"
    session = wl.Stripe().event("checkout.session.completed", amount=1234)["data"]["object"]
    assert session["amount_total"] == session["amount_subtotal"] == 1234
    subscription = wl.Stripe().event("customer.subscription.created", amount=900)["data"]["object"]
    assert subscription["items"]["data"][0]["price"]["unit_amount"] == 900


# -- GitHub --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def octokit_schema(tmp_path_factory):
    """The JSON schemas octokit/webhooks publishes, fetched with npm from the package registry."""
    if shutil.which("npm") is None:
        pytest.skip("npm is needed to fetch @octokit/webhooks-schemas")
    folder = tmp_path_factory.mktemp("octokit")
    subprocess.run(["npm", "pack", "@octokit/webhooks-schemas@7", "--pack-destination", str(folder)],
                   check=True, capture_output=True, timeout=120, cwd=folder)  # fmt: skip
    (tarball,) = folder.glob("*.tgz")
    with tarfile.open(tarball) as archive:
        return json.load(archive.extractfile("package/schema.json"))


def schema_errors(schema: dict, payload: dict, definition: str) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator({"definitions": schema["definitions"], "$ref": f"#/definitions/{definition}"})
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload))


@pytest.mark.parametrize(
    ("event_type", "overrides", "definition"),
    [
        ("ping", {}, "ping$event"),
        ("push", {}, "push$event"),
        ("push", {"branch": "feature/retries", "commits": ["Retry on 500", "Log attempts"], "repository": "acme/shop"}, "push$event"),
        ("push", {"commits": [], "sender": "hubot"}, "push$event"),
        ("pull_request", {}, "pull_request$opened"),
        ("pull_request", {"title": "Verify signatures", "number": 7}, "pull_request$opened"),
        ("issues", {}, "issues$opened"),
        ("release", {"tag": "v2.0.0"}, "release$published"),
    ],
)
def test_github_payloads_match_octokits_schema(octokit_schema, event_type, overrides, definition):
    payload = wl.GitHub().event(event_type, **overrides)
    assert schema_errors(octokit_schema, payload, definition) == []


def test_the_schema_check_can_fail(octokit_schema):
    payload = wl.GitHub().event("push")
    del payload["ref"]
    assert schema_errors(octokit_schema, payload, "push$event") == ["[]: 'ref' is a required property"]


def test_github_push_overrides():
    push = wl.GitHub().event("push", branch="dev", commits=["one", "two"], repository="acme/shop", sender="hubot")
    assert push["ref"] == "refs/heads/dev"
    assert [c["message"] for c in push["commits"]] == ["one", "two"] and push["head_commit"] == push["commits"][-1]
    assert push["after"] == push["commits"][-1]["id"]
    assert push["repository"]["full_name"] == "acme/shop" and push["repository"]["html_url"] == "https://github.com/acme/shop"
    assert push["repository"]["owner"]["login"] == "acme" and push["repository"]["name"] == "shop"
    assert push["sender"]["login"] == "hubot" and push["pusher"]["name"] == "hubot"
    assert "octo-org/hello-world" not in json.dumps(push)


def test_github_pushes_get_fresh_commit_ids():
    first, second = wl.GitHub().event("push"), wl.GitHub().event("push")
    assert first["after"] != second["after"] and first["head_commit"]["id"] == first["after"]
    assert first["compare"].endswith(f"...{first['after'][:12]}")


# -- Shopify --------------------------------------------------------------------------------


def test_shopify_order_ids_are_beyond_javascripts_safe_range():
    shop = wl.Shopify()
    order = shop.event("orders/create")
    body, _ = shop.sign(order)
    assert order["id"] > 2**53 and f'"id":{order["id"]}'.encode() in body  # an integer on the wire, exactly
    assert json.loads(body)["id"] == order["id"]
    assert order["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"


def test_shopify_orders_are_numbered_and_add_up():
    shop = wl.Shopify()
    first, second = shop.event("orders/create"), shop.event("orders/paid")
    assert (first["name"], second["name"]) == ("#1001", "#1002") and first["id"] != second["id"]
    for order in (first, second):
        items = sum(Decimal(i["price"]) * i["quantity"] for i in order["line_items"])
        assert Decimal(order["subtotal_price"]) == items


def test_shopify_line_items_override_recomputes_totals():
    order = wl.Shopify().event("orders/create", line_items=[("MUG-001", 3), {"sku": "STICKER-1", "title": "Sticker", "price": "2.50", "quantity": 4}])
    assert [(i["sku"], i["quantity"]) for i in order["line_items"]] == [("MUG-001", 3), ("STICKER-1", 4)]
    assert order["subtotal_price"] == "85.00"
    tax, shipping = Decimal(order["total_tax"]), Decimal(order["total_price"]) - Decimal(order["subtotal_price"]) - Decimal(order["total_tax"])
    assert tax == Decimal("5.10") and shipping == Decimal("8.00")
    assert order["total_price_set"]["shop_money"]["amount"] == order["total_price"]


def test_shopify_unknown_sku_says_which_exist():
    with pytest.raises(ValueError, match="unknown sku 'NOPE': known ones are MUG-001, HOODIE-001"):
        wl.Shopify().event("orders/create", line_items=[("NOPE", 1)])


def test_shopify_inventory_and_email_overrides():
    level = wl.Shopify().event("inventory_levels/update", available=3)
    assert level["available"] == 3
    order = wl.Shopify().event("orders/paid", email="ada@example.com", currency="eur")
    assert order["email"] == order["customer"]["email"] == "ada@example.com" and order["currency"] == "EUR"


# -- Standard Webhooks -------------------------------------------------------------------------


def test_standard_webhooks_any_type_any_data():
    event = wl.StandardWebhooks().event("shipment.delivered", {"tracking": "1Z999"}, carrier="UPS")
    assert event["type"] == "shipment.delivered" and event["data"] == {"tracking": "1Z999", "carrier": "UPS"}
    assert event["timestamp"].endswith("Z")
    assert wl.StandardWebhooks().event("invoice.paid")["data"]["amount"] == 2000
