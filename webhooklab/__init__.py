"""webhooklab: learn how webhooks work by running them.

    import webhooklab as wl
    rx = wl.Receiver().start()      # a real receiver on 127.0.0.1, in the background
    rx.url("shop")                  # where a sender should POST
    rx.events()                     # everything captured, as a pandas table
"""

__version__ = "0.1.0"

from .clock import AcceleratedClock, RealClock, VirtualClock
from .delivery import Attempt, Deliveries, Delivery
from .errors import EventNotFound, ReceiverError, SignatureError, UsageError, WaitTimeout, WebhooklabError
from .event import Event
from .polling import Poller, ProviderAPI
from .providers import Explanation, GitHub, Payload, Shopify, StandardWebhooks, Stripe
from .pushpoll import PushPollResult, push_vs_poll
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
    "Poller",
    "ProviderAPI",
    "PushPollResult",
    "RealClock",
    "Receiver",
    "ReceiverError",
    "RetryPolicy",
    "Shopify",
    "SignatureError",
    "StandardWebhooks",
    "Stripe",
    "UsageError",
    "VirtualClock",
    "WaitTimeout",
    "WebhooklabError",
    "__version__",
    "push_vs_poll",
]


def __getattr__(name: str):
    # The widgets pull in ipywidgets, so they load on first use: wl.widgets.LiveTable(rx).
    if name == "widgets":
        import importlib

        return importlib.import_module(".widgets", __name__)
    raise AttributeError(f"module 'webhooklab' has no attribute {name!r}")
