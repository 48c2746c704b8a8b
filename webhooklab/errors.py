"""The exceptions webhooklab raises, all under one base class.

    WebhooklabError
     ├── ReceiverError      a receiver could not start, stop or answer as asked
     ├── WaitTimeout        wait_for() gave up before enough events arrived
     └── EventNotFound      no captured event has that id

Each message says what was expected, what happened instead and the likely
cause: in a teaching tool the error message is often the lesson.
"""


class WebhooklabError(Exception):
    """Base class: `except wl.WebhooklabError` catches everything raised here."""


class ReceiverError(WebhooklabError):
    """A receiver could not start or stop (port taken, bad host, already running)."""


class WaitTimeout(WebhooklabError, TimeoutError):
    """wait_for() timed out; the message says how many events did arrive."""


class EventNotFound(WebhooklabError, LookupError):
    """No captured event has the id that was asked for."""
