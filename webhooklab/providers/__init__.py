"""The simulated senders, one per signature scheme, each able to sign, verify, explain and send."""

from .base import Explanation, Payload, Provider
from .github import GitHub
from .shopify import Shopify
from .standard import StandardWebhooks
from .stripe import Stripe

PROVIDERS: dict[str, type[Provider]] = {cls.name: cls for cls in (Stripe, GitHub, Shopify, StandardWebhooks)}

__all__ = ["PROVIDERS", "Explanation", "GitHub", "Payload", "Provider", "Shopify", "StandardWebhooks", "Stripe"]
