"""How each endpoint answers: a status, a delay, N failures first, a body and headers.

Every value is checked when a rule is made, so one the receiver could not send is
a UsageError in the cell that set it, not a 500 at the next request.
"""

from __future__ import annotations

import numbers
import threading
from dataclasses import dataclass, field
from typing import ClassVar

from .._checks import got, header_fields, seconds, whole
from .._errors import UsageError
from .._event import dumps


@dataclass
class Rule:
    """How one endpoint answers: `fail_first` requests get a 500, then every request gets `status`.

    Every value is checked here, when the rule is made, so one the receiver
    could not send is a UsageError in the cell that set it, not a 500 at the
    next request.
    """

    # Every sender has long given up by then (GitHub after 10 s): an hour is far more than any lesson needs,
    # and each waiting answer keeps its connection open.
    MAX_DELAY: ClassVar[float] = 3600.0

    status: int = 200
    delay: float = 0.0
    fail_first: int = 0
    body: str | bytes | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    answered: int = 0  # requests answered under this rule so far

    def __post_init__(self):
        status = whole(self.status, "status", "an HTTP status code from 100 to 599")
        if not 100 <= status <= 599:
            raise UsageError(
                f"status must be an HTTP status code from 100 to 599, got {status}: "
                "2xx means received, 3xx redirected, 4xx the request was wrong, 5xx the receiver failed"
            )
        self.status = status
        self.delay = seconds(self.delay, "delay", ": how long to wait before answering, 0 for at once")
        if self.delay > self.MAX_DELAY:
            raise UsageError(
                f"delay can be at most {self.MAX_DELAY:g} s (an hour), got {self.delay:g}: every sender has given "
                "up long before that (GitHub waits 10 s), and each waiting answer keeps a connection open"
            )
        self.fail_first = whole(self.fail_first, "fail_first", "a whole number of requests (0 or more)")
        if self.fail_first < 0:
            raise UsageError(
                f"fail_first cannot be negative, got {self.fail_first}: "
                "it is how many requests get a 500 before the real answer"
            )
        encode_answer(self.body, "endpoint")  # raises if this body could not be sent
        self.headers = header_fields(self.headers)


class Responses:
    """The answer each endpoint gives; shared by the request threads, so guarded by a lock."""

    def __init__(self):
        self._rules: dict[str, Rule] = {}
        self._lock = threading.Lock()

    def set(self, endpoint: str, rule: Rule) -> None:
        if not isinstance(rule, Rule):
            raise UsageError(f"a response rule must be a Rule(...), got {got(rule)}")
        with self._lock:
            self._rules[endpoint] = rule

    def rules(self) -> dict[str, Rule]:
        with self._lock:
            return dict(self._rules)

    def reset(self) -> None:
        """Every endpoint back to a plain 200."""
        with self._lock:
            self._rules.clear()

    def answer(self, endpoint: str) -> tuple[int, bytes, dict[str, str], float]:
        """(status, body, headers, delay) for the next request to `endpoint`."""
        with self._lock:
            rule = self._rules.get(endpoint)
            if rule is None:  # an endpoint nobody set answers 200, and is not remembered: names are the sender's to choose
                return 200, json_bytes({"received": True, "endpoint": endpoint}), dict(ACKNOWLEDGED), 0.0
            rule.answered += 1
            attempt = rule.answered
        if attempt <= rule.fail_first:
            message = {
                "error": f"simulated failure {attempt} of {rule.fail_first}",
                "why": f"respond({endpoint!r}, fail_first={rule.fail_first}) makes the first "
                f"{rule.fail_first} request(s) fail; then it answers {rule.status}",
            }
            return 500, json_bytes(message), {"Content-Type": "application/json"}, rule.delay
        body, content_type = encode_answer(rule.body, endpoint)
        # Header names are case-insensitive: a rule's "content-type" replaces the default, never doubles it.
        chosen = any(name.lower() == "content-type" for name in rule.headers)
        return rule.status, body, {**({} if chosen else {"Content-Type": content_type}), **rule.headers}, rule.delay


def encode_answer(body, endpoint: str) -> tuple[bytes, str]:
    """The configured answer as bytes and a content type; by default a small JSON acknowledgement.

    A body that cannot be sent is a UsageError: Rule calls this when it is
    made, so the mistake shows in the cell that made it.
    """
    if body is None:
        return json_bytes({"received": True, "endpoint": endpoint}), "application/json"
    if isinstance(body, (dict, list)):
        try:
            return json_bytes(body), "application/json"
        except (TypeError, ValueError) as error:  # a value JSON has no form for, or a dict that contains itself
            raise UsageError(
                f"body {got(body)} cannot be sent as JSON: {error}. A JSON body may hold only dicts, lists, "
                "str, int, finite float, bool and None; convert the rest (str(...) for a date), or pass str or bytes"
            ) from None
    if isinstance(body, str):
        try:
            return body.encode("utf-8"), "text/plain; charset=utf-8"
        except UnicodeEncodeError as error:
            raise UsageError(
                f"body {got(body)} cannot be sent as UTF-8 text: {error.object[error.start]!r} at position "
                f"{error.start} is half of a surrogate pair, not a character. Pass bytes to send exact bytes"
            ) from None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body), "application/octet-stream"
    hint = ""
    if isinstance(body, numbers.Number) and not isinstance(body, bool):
        hint = f". To answer the text {body}, pass body={str(body)!r}"
    raise UsageError(
        f"body must be None (a small JSON acknowledgement), str (sent as UTF-8 text), bytes (sent as they are), "
        f"or a dict or list (sent as JSON), got {got(body)}{hint}"
    )


ACKNOWLEDGED = {"Content-Type": "application/json"}


def json_bytes(value) -> bytes:
    """JSON that every parser reads (see _event.dumps), as UTF-8."""
    return dumps(value).encode("utf-8")
