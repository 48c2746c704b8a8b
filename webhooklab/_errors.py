"""The exceptions webhooklab raises, all under one base class.

    WebhooklabError
     ├── ReceiverError      a receiver could not start, stop or answer as asked
     ├── UsageError         a value given to webhooklab is not one it can use (also a ValueError)
     ├── WaitTimeout        wait_for() gave up before enough events arrived
     ├── EventNotFound      no captured event has that id
     └── SignatureError     a webhook's signature did not verify (see its `reason`)

Each message says what was expected, what happened instead and the likely
cause: in a teaching tool the error message is often the lesson.
"""


class WebhooklabError(Exception):
    """Base class: `except wl.WebhooklabError` catches everything raised here."""


class ReceiverError(WebhooklabError):
    """A receiver could not start or stop (port taken, bad host, already running)."""


class UsageError(WebhooklabError, ValueError):
    """A value given to webhooklab is not one it can use: the message names what was expected and what arrived."""


class WaitTimeout(WebhooklabError, TimeoutError):
    """wait_for() timed out; the message says how many events did arrive."""


class EventNotFound(WebhooklabError, LookupError):
    """No captured event has the id that was asked for."""


class SignatureError(WebhooklabError):
    """A webhook did not verify. `reason` names the check that failed, one of:

    missing_header         the signature header (or the timestamp or id it needs) is absent
    malformed_header       the header is there but not in the provider's format
    no_matching_signature  no signature in the header matches the body with this secret
    timestamp_too_old      signed longer ago than the tolerance allows: a replay, or a slow queue
    timestamp_too_new      signed in the future beyond the tolerance: clock skew
    invalid_payload        the signature is good but the body is not the JSON it should be
    """

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
