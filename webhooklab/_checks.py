"""What a value given to webhooklab must be: each check returns the value, or raises a UsageError saying why not.

The messages name what was expected and what arrived: a learner reads them in
the cell that made the mistake, not as a 500 at the next request.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ._errors import UsageError, UsageTypeError

# HTTP header names are "tokens" (RFC 9110, 5.6.2): letters, digits and these marks, no spaces or colons.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Headers that describe one connection: the HTTP server sets them, and a WSGI app may not (PEP 3333).
CONNECTION_HEADERS = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}  # fmt: skip
CONTROL_NAMES = {"\r": "CR (carriage return)", "\n": "LF (line feed)", "\0": "NUL"}


def got(value) -> str:
    """A value that arrived, for a message: its repr (cut short), and its type where the repr may not say it."""
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    plain = value is None or type(value) in (int, float, str, bytes, dict, list)
    return shown if plain else f"{shown} (a {type(value).__name__})"


def whole(value, name: str, expected: str) -> int:
    """`value` as an int if it is a whole number (numpy's integers too); a bool or a float is not one."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise UsageTypeError(f"{name} must be {expected}, got {got(value)}")
    return int(value)


def flag(value, name: str, meaning: str) -> bool:
    """True or False, and nothing that merely looks like one ('no' and 0 are not)."""
    if not isinstance(value, bool):
        raise UsageTypeError(f"{name} must be True or False ({meaning}), got {got(value)}")
    return value


def text(value, name: str, expected: str, *, empty: bool = False) -> str:
    """A str (a non-empty one unless `empty`); `expected` says what it is for, such as "an event type like 'push'"."""
    if not isinstance(value, str):
        raise UsageTypeError(f"{name} must be {expected}, got {got(value)}")
    if not value and not empty:
        raise UsageError(f"{name} cannot be empty: it must be {expected}")
    return value


def function(value, name: str, expected: str):
    """Something to call later: a value that cannot be called fails here, not in another thread."""
    if not callable(value):
        called = " (it was called already: pass the function itself, without ())" if value is None else ""
        raise UsageTypeError(f"{name} must be {expected}, got {got(value)}{called}")
    return value


def event_value(event, who: str = "a provider"):
    """What a provider sends: a payload from event(), any dict (or list) for a JSON body, or the body as bytes or str."""
    if isinstance(event, (Mapping, list, bytes, bytearray, str)):
        return event
    raise UsageTypeError(
        f"{who} sends an event: a payload from event(), a dict, or the body as bytes or str, got {got(event)}"
    )


def web_url(value, name: str, example: str = "http://127.0.0.1:8000/hooks/shop") -> str:
    """An http:// or https:// URL with a host: where a webhook is POSTed, or what a scheme signs."""
    if not isinstance(value, str):
        raise UsageTypeError(f"{name} must be a URL such as {example!r}, got {got(value)}")
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a bracketed host that is not an IPv6 address, a port that is not a number
        ok = False
    if not ok:
        raise UsageError(
            f"{name} must be a whole URL with http:// or https:// and a host, such as {example!r}, got {got(value)}: "
            "a path alone or a bare host name says nowhere to send"
        )
    return value


def seconds(value, name: str, hint: str = "", *, infinite: bool = False, negative: bool = False) -> float:
    """A number of seconds: finite (unless `infinite`) and 0 or more (unless `negative`); `hint` ends each message."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        dated = " (a datetime? pass its .timestamp())" if hasattr(value, "timestamp") else ""
        raise UsageTypeError(f"{name} must be a number of seconds, got {got(value)}{dated}{hint}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if math.isnan(number) or (math.isinf(number) and not infinite):
        raise UsageError(f"{name} must be a finite number of seconds, got {got(value)}{hint}")
    if number < 0 and not negative:
        raise UsageError(f"{name} cannot be negative, got {got(value)}{hint}")
    return number


def request_timeout(timeout, name: str = "timeout") -> float | tuple[float, float] | None:
    """A request's timeout: None (the provider's own), seconds, or (seconds to connect, seconds to read)."""
    if timeout is None:
        return None
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return tuple(request_timeout(part, f"each part of {name}") for part in timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise UsageTypeError(f"{name} must be seconds, or (seconds to connect, seconds to read), got {got(timeout)}")
    number = seconds(timeout, name, ": how long to wait for an answer")
    if number == 0:
        raise UsageError(f"{name} must be more than 0 seconds: a request cannot be answered in no time")
    return number


def endpoint_name(endpoint, argument: str = "endpoint") -> str:
    """A name that arrives whole as the <endpoint> of /hooks/<endpoint>, or a UsageError saying why not."""
    if not isinstance(endpoint, str):
        raise UsageTypeError(f"{argument} must be an endpoint name, a str such as 'shop', got {got(endpoint)}")
    if not endpoint:
        raise UsageError(
            f"{argument} cannot be an empty name: the URL would end in /hooks/, which is not an endpoint. "
            "Use a name such as 'shop'"
        )
    if "/" in endpoint:
        first = endpoint.split("/")[0]
        captured = f", so requests would be captured under {first!r}" if first else ""
        suggestion = "-".join(part for part in endpoint.split("/") if part) or "shop"
        raise UsageError(
            f"endpoint name {endpoint!r} contains '/': an endpoint is one part of the URL path, "
            f"/hooks/<endpoint>, and a '/' ends that part{captured}. Use a name without '/', such as {suggestion!r}"
        )
    control = next((c for c in endpoint if ord(c) < 32 or ord(c) == 127), None)
    if control is not None:
        raise UsageError(
            f"endpoint name {endpoint!r} contains the control character {control!r}: a sender cannot type it "
            "into a URL. Use letters, digits, '-', '_' or '.'"
        )
    if endpoint in (".", ".."):
        raise UsageError(
            f"endpoint name {endpoint!r} cannot be used: in a URL path '.' means 'this folder' and '..' "
            "'the folder above', so senders drop it and the request never reaches /hooks/. Use a name such as 'shop'"
        )
    return endpoint


def header_fields(headers) -> dict[str, str]:
    """respond()'s extra headers, checked one by one: a header HTTP cannot carry is a UsageError naming it."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise UsageTypeError(
            f"headers must be a dict of name to value, such as {{'Retry-After': '30'}}, got {got(headers)}"
        )
    checked = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not HEADER_NAME.fullmatch(name):
            raise (UsageError if isinstance(name, str) else UsageTypeError)(
                f"header name {got(name)} is not one HTTP can carry: a name is letters, digits and marks "
                "such as - and _ (like 'Retry-After'), with no spaces, colons or line breaks"
            )
        if name.lower() == "content-length":
            raise UsageError(
                f"header {name!r} cannot be chosen: the receiver sets it from the body it sends. "
                "To change the answer's size, change body="
            )
        if name.lower() in CONNECTION_HEADERS:
            raise UsageError(
                f"header {name!r} cannot be chosen: it describes one connection, so the HTTP server manages it "
                "and an app may not set it (PEP 3333)"
            )
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = str(int(value))  # Retry-After: 30 reads naturally as a number
        if not isinstance(value, str):
            raise UsageTypeError(f"header {name!r} must have a str value, such as '30', got {got(value)}")
        control = next((c for c in value if (ord(c) < 32 and c != "\t") or ord(c) == 127), None)
        if control is not None:
            what = CONTROL_NAMES.get(control, f"control character {control!r}")
            raise UsageError(
                f"header {name!r} has a {what} in its value {value!r}: HTTP ends a header line at CR LF, so the "
                "rest would become a header of its own (header injection). A header value is one line of "
                "text, without control characters"
            )
        try:
            value.encode("latin-1")
        except UnicodeEncodeError as error:
            raise UsageError(
                f"header {name!r} has {value[error.start]!r} in its value {value!r}: HTTP sends header values "
                "as Latin-1 text, which cannot hold it. Use ASCII, or percent-encode it with urllib.parse.quote()"
            ) from None
        checked[name] = value
    return checked


def key_value(item: str, form: str = "key=value", separator: str = "=") -> tuple[str, str]:
    """'amount=5000' as ('amount', '5000'), or a UsageError naming the form expected."""
    key, found, value = item.partition(separator)
    if not found or not key.strip():
        raise UsageError(f"expected {form}, got {item!r}")
    return key.strip(), value.strip()


def overrides(items) -> dict:
    """'key=value' strings as event overrides, each value read as JSON where it parses (5000, true, [1])."""
    fields = {}
    for item in items:
        key, value = key_value(item, "key=value, such as amount=5000")
        try:
            fields[key] = json.loads(value)
        except ValueError:
            fields[key] = value
    return fields
