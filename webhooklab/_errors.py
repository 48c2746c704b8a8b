"""The exceptions webhooklab raises, all under one base class.

    WebhooklabError
     ├── ReceiverError          a receiver could not start, stop or answer as asked
     ├── UsageError             a value given to webhooklab is not one it can use (also a ValueError)
     │    └── UsageTypeError    ... because it is not even the right kind of value (also a TypeError)
     ├── WaitTimeout            a wait gave up: wait_for() before enough events arrived, a delivery's
     │                          wait() before it ended (also a TimeoutError)
     ├── EventNotFound          no captured event has that id, or that place in what arrived (also an IndexError)
     └── SignatureError         a webhook's signature did not verify (see its `reason`)

`except wl.WebhooklabError` catches everything webhooklab raises about its own
work; a learner's function that raises inside a check or a handler is reported
as the learner's error, not rewrapped. Each class also keeps the built-in base
Python code already expects, so `except ValueError` around a bad argument or
`except TimeoutError` around a wait keeps working.

A wrong *type* is a UsageTypeError: a UsageError like every other misuse, so one
`except wl.UsageError` covers all of them, and a TypeError, as Python's own
functions report a value of the wrong type (`int(None)`, `range(2.5)`). A
wrong *value* of the right type (a status of 700, a negative delay) is a plain
UsageError, a ValueError. A bool where a number belongs, and a float where a
whole number does, count as the wrong type, as they do for `range()`.

Each message says what was expected, what arrived instead and the likely
cause: in a teaching tool the error message is often the lesson.
"""


class WebhooklabError(Exception):
    """Base class: `except wl.WebhooklabError` catches everything raised here."""


class ReceiverError(WebhooklabError):
    """A receiver could not start or stop (port taken, bad host, already running)."""


class UsageError(WebhooklabError, ValueError):
    """A value given to webhooklab is not one it can use: the message names what was expected and what arrived."""


class UsageTypeError(UsageError, TypeError):
    """A value given to webhooklab is not of a kind it can use (None, a str for a number...): also a TypeError."""


class WaitTimeout(WebhooklabError, TimeoutError):
    """A wait timed out: wait_for(), or a delivery's wait(); the message says how far it got."""


class EventNotFound(WebhooklabError, IndexError):
    """No captured event has the id, or the place among the arrivals, that was asked for.

    An IndexError (so a LookupError too): what wait_for() returns is a sequence, and
    Python's sequences report a place past their end with an IndexError.
    """


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
        if not (isinstance(reason, str) and isinstance(message, str)):
            raise UsageTypeError(
                "SignatureError(reason, message) takes two str: the reason must be one such as "
                f"'no_matching_signature', and the message says why; got {reason!r} and {message!r}"
            )
        super().__init__(message)
        self.reason = reason

    def __reduce__(self):
        # Exception pickles as cls(*args), and args holds the message alone: give both back.
        return type(self), (self.reason, str(self)), self.__dict__
