"""webhooklab: learn how webhooks work by running them.

    import webhooklab as wl
    rx = wl.Receiver().start()      # a real receiver on 127.0.0.1, in the background
    rx.url("shop")                  # where a sender should POST
    rx.events()                     # everything captured, as a pandas table
"""

__version__ = "0.1.0"

from .delivery import Attempt
from .errors import EventNotFound, ReceiverError, SignatureError, WaitTimeout, WebhooklabError
from .event import Event
from .providers import Explanation, GitHub, Payload, Shopify, StandardWebhooks, Stripe
from .receiver import Receiver
from .store import EventStore

__all__ = [
    "Attempt",
    "Event",
    "EventNotFound",
    "EventStore",
    "Explanation",
    "GitHub",
    "Payload",
    "Receiver",
    "ReceiverError",
    "Shopify",
    "SignatureError",
    "StandardWebhooks",
    "Stripe",
    "WaitTimeout",
    "WebhooklabError",
    "__version__",
]
