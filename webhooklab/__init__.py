"""webhooklab: learn how webhooks work by running them.

    import webhooklab as wl
    rx = wl.Receiver().start()      # a real receiver on 127.0.0.1, in the background
    rx.url("shop")                  # where a sender should POST
    rx.events()                     # everything captured, as a pandas table
"""

__version__ = "0.1.0"

from .errors import EventNotFound, ReceiverError, WaitTimeout, WebhooklabError
from .event import Event
from .receiver import Receiver
from .store import EventStore

__all__ = [
    "Event",
    "EventNotFound",
    "EventStore",
    "Receiver",
    "ReceiverError",
    "WaitTimeout",
    "WebhooklabError",
    "__version__",
]
