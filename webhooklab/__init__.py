"""webhooklab: learn how webhooks work by running them.

    import webhooklab as wl
    rx = wl.Receiver().start()      # a real receiver on 127.0.0.1, in the background
    rx.url("shop")                  # where a sender should POST
    rx.events()                     # everything captured, as a pandas table

In a class, wl.join_class(bin_url) once (the index notebook has the cell), and then
rx = wl.workshop_receiver() is your bin on the class server, with the same calls.

Everything a notebook needs is here; the modules whose names start with an
underscore are the package's own. Besides these names: wl.widgets (the
notebooks' widgets), webhooklab.exercises (the exercises' checks) and
webhooklab.grader (the workshop challenge).

The package logs to the "webhooklab" logger (servers started and stopped, requests
refused for a limit) and, as a library should, shows nothing until the application
configures logging: logging.basicConfig(level=logging.INFO) shows them.
"""

import logging as _logging

from ._errors import (
    EventNotFound,
    ReceiverError,
    SignatureError,
    UsageError,
    UsageTypeError,
    WaitTimeout,
    WebhooklabError,
)
from ._event import Event
from ._experiments.polling import Poller, ProviderAPI
from ._experiments.push_vs_poll import PushPollResult, push_vs_poll
from ._exports import claim as _claim
from ._providers import (
    Explanation,
    GitHub,
    Payload,
    Provider,
    Shopify,
    Slack,
    StandardWebhooks,
    Stripe,
    Twilio,
    register,
)
from ._providers.schemes import schemes
from ._receiving.arrivals import Arrivals
from ._receiving.joining import join_class, workshop_receiver
from ._receiving.receiver import Receiver
from ._receiving.store import EventStore
from ._sending.clock import AcceleratedClock, RealClock, VirtualClock
from ._sending.delivery import Attempt, Deliveries, Delivery
from ._sending.retry import RetryPolicy
from ._version import __version__

__all__ = [
    "AcceleratedClock",
    "Arrivals",
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
    "Provider",
    "ProviderAPI",
    "PushPollResult",
    "RealClock",
    "Receiver",
    "ReceiverError",
    "RetryPolicy",
    "Shopify",
    "SignatureError",
    "Slack",
    "StandardWebhooks",
    "Stripe",
    "Twilio",
    "UsageError",
    "UsageTypeError",
    "VirtualClock",
    "WaitTimeout",
    "WebhooklabError",
    "__version__",
    "join_class",
    "push_vs_poll",
    "register",
    "schemes",
    "workshop_receiver",
]

_claim(globals(), __name__)  # a traceback says webhooklab.UsageError, not webhooklab._errors.UsageError
_logging.getLogger(__name__).addHandler(_logging.NullHandler())


def __getattr__(name: str):
    # The widgets pull in ipywidgets (the `lab` extra), so they load on first use: wl.widgets.LiveTable(rx).
    if name == "widgets":
        import importlib

        return importlib.import_module(".widgets", __name__)
    raise AttributeError(f"module 'webhooklab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "widgets"])
