"""The simulated senders, one per signature scheme, each able to sign, verify, explain and send.

Every provider, built in or added later, goes through register(): it fills
PROVIDERS, which recognising a request, the command line and the widgets
all read. To add one: subclass Provider, then register(YourProvider).
"""

from .base import Header, Payload, Provider
from .explain import Explanation
from .github import GitHub
from .registry import PROVIDERS, identify, register, unregister
from .shopify import Shopify
from .slack import Slack
from .standard import StandardWebhooks
from .stripe import Stripe
from .twilio import Twilio

# In the order requests are recognised: Standard Webhooks last, as its header names are meant to be shared.
for _builtin in (GitHub, Shopify, Stripe, Slack, Twilio, StandardWebhooks):
    register(_builtin)

__all__ = ["PROVIDERS", "Explanation", "GitHub", "Header", "Payload", "Provider", "Shopify", "Slack",
           "StandardWebhooks", "Stripe", "Twilio", "identify", "register", "unregister"]  # fmt: skip
