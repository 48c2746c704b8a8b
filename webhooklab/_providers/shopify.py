"""Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`, keyed with the app's client secret."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import secrets
import uuid
from datetime import datetime, timezone
from decimal import Decimal

from .._checks import got, text
from .._errors import SignatureError, UsageError, UsageTypeError
from .._sending.retry import RetryPolicy
from .base import Header, Provider
from .explain import _quote

ORDER_TOPICS = ("orders/create", "orders/paid", "orders/cancelled")


class Shopify(Provider):
    """Shopify's webhooks: compact JSON with integer ids beyond JavaScript's safe range.

    No timestamp is signed, so the signature cannot expire; `X-Shopify-Triggered-At`
    tells how old the data is, and `X-Shopify-Webhook-Id` is the id to
    deduplicate on. Timeouts: 1 s to connect, 5 s for the answer.
    """

    name = "shopify"
    title = "Shopify"
    signature_header = "X-Shopify-Hmac-Sha256"
    single_headers = ("X-Shopify-Webhook-Id",)
    event_header = "X-Shopify-Topic"
    digest_encoding = "base64"
    window = None  # no timestamp is signed; X-Shopify-Triggered-At is not covered
    replay_defence = "none signed: X-Shopify-Webhook-Id is not covered; dedupe on a key from the body"
    user_agent = "Shopify-Captain-Hook"  # our assumption: as seen on Shopify's requests, not documented
    policy = RetryPolicy.shopify()
    timeout = (1.0, 5.0)
    friendly = ("line_items", "email", "currency", "available")
    first_event = "orders/create"
    triggers = ("orders/create", "orders/paid", "orders/cancelled", "inventory_levels/update", "app/uninstalled")
    where_to_subscribe = (
        "your app's webhook subscriptions (shopify.app.toml, or webhookSubscriptionCreate in the Admin API); "
        "Shopify signs with the app's client secret"
    )

    def __init__(
        self,
        secret: str | list[str] | None = None,
        *,
        shop: str = "webhooklab-demo.myshopify.com",
        api_version: str = "2025-10",
    ):
        super().__init__(secret)
        self.shop = text(shop, "shop", "the shop's domain, such as 'webhooklab-demo.myshopify.com'")
        self.api_version = text(api_version, "api_version", "an API version such as '2025-10'")
        self._next_order = 1001

    @classmethod
    def recognise(cls, headers, payload):
        """X-Shopify-Topic names the event; X-Shopify-Webhook-Id is the delivery."""
        if "x-shopify-topic" not in headers:
            return None
        return headers["x-shopify-topic"], headers.get("x-shopify-webhook-id")

    @classmethod
    def new_secret(cls) -> str:
        return secrets.token_hex(16)

    def _read_header(self, headers: dict[str, str]) -> Header:
        value = headers.get("x-shopify-hmac-sha256")
        if value is None:
            raise SignatureError(
                "missing_header",
                "there is no X-Shopify-Hmac-Sha256 header: Shopify signs every webhook, so this request did not "
                "come from Shopify (or a proxy dropped the header).",
            )
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise SignatureError(
                "malformed_header",
                f"expected X-Shopify-Hmac-Sha256 to be the base64 of a 32-byte digest (44 characters), but it is "
                f"{_quote(value, 100)}. A hex digest here is a common mistake: Shopify uses base64.",
            )
        return Header([value])

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        return {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            "X-Shopify-Topic": payload.event_type or _no_topic(),
            "X-Shopify-Hmac-Sha256": signatures[0],
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": delivery_id,
            # One merchant action, one event id, however many deliveries it causes.
            "X-Shopify-Event-Id": str(uuid.uuid5(uuid.NAMESPACE_URL, hashlib.sha256(body).hexdigest())),
            "X-Shopify-Triggered-At": datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    # -- payloads -----------------------------------------------------------------------

    def _refresh(self, payload: dict, event_type: str) -> None:
        now = datetime.now(timezone.utc).astimezone().replace(microsecond=0).isoformat()
        for key in ("created_at", "updated_at", "processed_at"):
            if payload.get(key):
                payload[key] = now
        if event_type in ORDER_TOPICS:
            number, self._next_order = self._next_order, self._next_order + 1
            order_id = _big_id()
            payload.update(id=order_id, admin_graphql_api_id=f"gid://shopify/Order/{order_id}",
                           name=f"#{number}", order_number=number, number=number - 1000)  # fmt: skip
            for item in payload.get("line_items", []):
                item["id"] = _big_id()
                item["admin_graphql_api_id"] = f"gid://shopify/LineItem/{item['id']}"

    def _apply(self, payload: dict, key: str, value) -> bool:
        if key == "line_items" and "line_items" in payload:
            _set_line_items(payload, value)
        elif key == "email":
            for owner in (payload, payload.get("customer") or {}):
                for field in ("email", "contact_email"):
                    if field in owner:
                        owner[field] = value
        elif key == "currency":
            _set_currency(payload, text(value, "currency", "a currency code such as 'EUR'").upper())
        else:
            return False
        return True


def _big_id() -> int:
    """An id of the size Shopify uses: beyond 2**53, so JavaScript's Number would round it."""
    return secrets.randbelow(9 * 10**17) + 10**17


def _set_line_items(order: dict, wanted) -> None:
    """Replace the line items ([{"sku": ..., "quantity": ...}] or [(sku, quantity)]) and recompute totals."""
    by_sku = {item["sku"]: item for item in order["line_items"]}
    model = order["line_items"][0]
    items = []
    shape = "a list of {'sku': ..., 'quantity': ...} dicts or (sku, quantity) pairs, such as [('MUG-001', 2)]"
    if isinstance(wanted, (str, bytes, dict)) or not isinstance(wanted, (list, tuple)):
        raise UsageTypeError(f"line_items must be {shape}, got {got(wanted)}")
    for entry in wanted:
        if not isinstance(entry, (tuple, list, dict)):
            raise UsageTypeError(f"line_items must be {shape}, got {got(entry)} among them")
        entry = dict(zip(("sku", "quantity"), entry)) if isinstance(entry, (tuple, list)) else dict(entry)
        if isinstance(entry.get("quantity", 1), bool) or not isinstance(entry.get("quantity", 1), int):
            raise UsageTypeError(f"a line item's quantity is a whole number, got {got(entry.get('quantity'))}")
        base = by_sku.get(entry.get("sku"))
        if base is None and not {"title", "price"} <= entry.keys():
            raise UsageError(
                f"unknown sku {entry.get('sku')!r}: known ones are {', '.join(by_sku)}; for a new product give "
                "title and price too"
            )
        item = copy.deepcopy(base or model)
        if base is None:
            item.update(product_id=_big_id(), variant_id=_big_id(), variant_title=None, name=entry["title"])
        item.update({k: v for k, v in entry.items() if k in item})
        try:
            item["price"] = f"{Decimal(str(item['price'])):.2f}"
        except ArithmeticError:  # decimal's InvalidOperation: not a number
            raise UsageError(f"a line item's price is a decimal amount such as '12.50', got {item['price']!r}") from None
        item["id"] = _big_id()
        item["admin_graphql_api_id"] = f"gid://shopify/LineItem/{item['id']}"
        for field in ("fulfillable_quantity", "current_quantity"):
            if field in item:
                item[field] = item["quantity"]
        if "price_set" in item:
            for money in item["price_set"].values():
                money["amount"] = item["price"]
        items.append(item)
    old_subtotal = Decimal(order["subtotal_price"])
    rate = Decimal(order["total_tax"]) / old_subtotal if old_subtotal else Decimal(0)
    extra = Decimal(order["total_price"]) - old_subtotal - Decimal(order["total_tax"])  # shipping less discounts
    subtotal = sum(Decimal(i["price"]) * i["quantity"] for i in items)
    tax = (subtotal * rate).quantize(Decimal("0.01"))
    totals = {"subtotal_price": subtotal, "total_line_items_price": subtotal, "total_tax": tax,
              "total_price": subtotal + tax + extra}  # fmt: skip
    if not order.get("cancelled_at"):  # a cancelled order's current totals stay at what is left: nothing
        totals |= {f"current_{k}": v for k, v in totals.items() if k != "total_line_items_price"}
    for field, amount in totals.items():
        if field in order:
            order[field] = f"{amount:.2f}"
        if isinstance(order.get(f"{field}_set"), dict):
            for money in order[f"{field}_set"].values():
                money["amount"] = f"{amount:.2f}"
    order["line_items"] = items


def _set_currency(value, currency: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("currency", "presentment_currency", "currency_code") and isinstance(inner, str):
                value[key] = currency
            else:
                _set_currency(inner, currency)
    elif isinstance(value, list):
        for inner in value:
            _set_currency(inner, currency)


def _no_topic():
    raise UsageError(
        "which Shopify topic is this? Build the payload with Shopify().event(topic), or pass "
        "sign(..., event_type='orders/create')"
    )
