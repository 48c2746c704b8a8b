"""webhooklab: learn how webhooks work by running them.

    import webhooklab as wl
    rx = wl.Receiver().start()      # a real receiver on 127.0.0.1, in the background
    rx.url("shop")                  # where a sender should POST
    rx.events()                     # everything captured, as a pandas table
"""

__version__ = "0.1.0"

from .clock import AcceleratedClock, RealClock, VirtualClock
from .delivery import Attempt, Deliveries, Delivery
from .errors import EventNotFound, ReceiverError, SignatureError, WaitTimeout, WebhooklabError
from .event import Event
from .providers import Explanation, GitHub, Payload, Shopify, StandardWebhooks, Stripe
from .receiver import Receiver
from .retry import RetryPolicy
from .store import EventStore

__all__ = [
    "AcceleratedClock",
    "Attempt",
    "Deliveries",
    "Delivery",
    "Event",
    "EventNotFound",
    "EventStore",
    "Explanation",
    "GitHub",
    "Payload",
    "RealClock",
    "Receiver",
    "ReceiverError",
    "RetryPolicy",
    "Shopify",
    "SignatureError",
    "StandardWebhooks",
    "Stripe",
    "VirtualClock",
    "WaitTimeout",
    "WebhooklabError",
    "__version__",
]
