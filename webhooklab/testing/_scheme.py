"""What a provider's scheme makes possible, asked of the provider's own code: which forgeries apply to it.

The plugin never keeps a table of providers: whether a delivery id travels in a
header, whether that header is signed, and whether a timestamp in the future is
refused are found by signing a request and verifying it with the provider's own
verify(), so a provider registered later is tested as faithfully as the built-in ones.
"""

from __future__ import annotations

import copy
import re
import time

from .._providers.arguments import carriers
from .._providers.base import Provider

STALE_MARGIN = 60  # seconds past the provider's window: clearly too old (or too new), however the app rounds


def tamper(body: bytes) -> tuple[bytes, str]:
    """The body with its last digit changed (9 becomes 8, any other goes up one), so it stays valid JSON or form data."""
    digits = list(re.finditer(rb"[0-9]", body))
    if not digits:
        return body + b" ", "a space added at the end"
    at = digits[-1].start()
    old = body[at : at + 1]
    new = b"8" if old == b"9" else bytes([old[0] + 1])
    return body[:at] + new + body[at + 1 :], f"byte {at} {old.decode()} -> {new.decode()}"


def signed_window(provider: Provider) -> float | None:
    """Seconds a signed timestamp stays acceptable, or None when the scheme signs no timestamp."""
    return provider.window


def accepts(provider: Provider, body: bytes, headers: dict[str, str]) -> bool:
    """Whether the provider's own verifier accepts this request, its timestamp judged by the provider's window."""
    return provider.explain(body, headers, diagnose=False).ok


def refuses_the_future(provider: Provider, event) -> bool:
    """Whether the provider's verifier refuses a timestamp past its window in the future (Standard Webhooks,
    Slack), or accepts it as Stripe's libraries do."""
    window = signed_window(provider)
    if window is None:
        return False
    return not accepts(provider, *provider.sign(event, timestamp=int(time.time() + window + STALE_MARGIN)))


def delivery_header(provider: Provider, event) -> tuple[str, bool] | None:
    """The header that carries the delivery id and whether the signature covers it; None if no header carries it.

    GitHub's X-GitHub-Delivery and Shopify's X-Shopify-Webhook-Id are outside the signature: a captured
    request re-sent with a fresh id still verifies. Standard Webhooks signs its webhook-id: a fresh id breaks it.
    """
    name = next((name for name, field in carriers(provider, event).items() if field == "delivery_id"), None)
    if name is None:
        return None
    body, headers = provider.sign(event)
    return name, not accepts(provider, body, {**headers, name: provider.new_delivery_id()})


def with_secret(provider: Provider, secret: str) -> Provider:
    """The same provider signing with `secret`: made anew (keys derived from a secret are remade), with its
    public settings (a prefix, a hook id, a URL) copied over; what is private is derived, and stays the new one's."""
    other = copy.copy(provider)
    type(provider).__init__(other, secret)
    for name, value in vars(provider).items():
        if not name.startswith("_") and name != "secrets":
            setattr(other, name, value)
    return other
