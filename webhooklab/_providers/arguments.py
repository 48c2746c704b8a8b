"""What a provider's calls accept: the body and headers to verify, the tolerance, the options of sign and send.

Each check returns the value as the scheme uses it, or raises a UsageError (a
UsageTypeError for a value of the wrong kind) that says what was expected.
only_once is the one that judges what arrived rather than how it was called:
a header read twice is a SignatureError, a failed check like any other.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping

from .._checks import got, seconds, text
from .._errors import SignatureError, UsageError, UsageTypeError
from .explain import _clip, _quote

DEFAULT_TOLERANCE = 300  # seconds; Stripe's and Standard Webhooks' libraries both use five minutes


class Window:
    """The default of `tolerance`: the provider's own `window`, the seconds its scheme says a signature is good for."""

    def __repr__(self) -> str:
        return "<the provider's window>"


WINDOW = Window()


def tolerance_for(provider, tolerance) -> float | None:
    """The tolerance to check a timestamp with: as given, or the provider's declared window by default.

    A provider that signs a timestamp but declares no window gets DEFAULT_TOLERANCE; None skips the check.
    """
    if tolerance is WINDOW:
        window = getattr(provider, "window", None)
        if window is None:
            return float(DEFAULT_TOLERANCE)
        return seconds(window, f"{type(provider).__name__}.window", ": the seconds a signed timestamp is good for",
                       infinite=True)  # fmt: skip
    if tolerance is None:
        return None
    return seconds(tolerance, "tolerance", ": None skips the check", infinite=True)


def body_bytes(body) -> bytes:
    """The body to verify as bytes: bytes as they are, text as UTF-8; a parsed body is refused, with the reason."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates: bytes decoded with surrogateescape get their bytes back; any other such
            # string cannot have travelled over HTTP, and is kept as it is so that it simply does not verify.
            try:
                return body.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                return body.encode("utf-8", "surrogatepass")
    raise UsageTypeError(
        f"verify needs the raw body as received (bytes), but got a {type(body).__name__}. Parsing the JSON "
        "first and passing the result loses the exact bytes the signature was made over: pass "
        "request.get_data() instead."
    )


def lower_headers(headers) -> dict[str, str]:
    """Header names in lower case (HTTP names are case-insensitive), values without the whitespace HTTP ignores.

    A name sent more than once keeps its first value: the copy identify() reads for the delivery id, and
    werkzeug's Headers.get too, so the verifier and deduplication never read two different copies.
    """
    first: dict[str, str] = {}
    for name, value in header_pairs(headers):
        first.setdefault(name, value)
    return first


def header_pairs(headers) -> list[tuple[str, str]]:
    """Every header as (name in lower case, value), in the order given: a repeated name keeps each copy."""
    if headers is None:
        return []
    try:
        pairs = list(headers.items() if hasattr(headers, "items") else headers)
        return [(_text(name).lower(), _text(value).strip(" \t")) for name, value in pairs]
    except (TypeError, ValueError):
        raise UsageTypeError(
            f"expected the headers as a dict or a list of (name, value) pairs, as request.headers gives them, "
            f"but got {_clip(repr(headers), 80)}."
        ) from None


def only_once(pairs: list[tuple[str, str]], names) -> None:
    """SignatureError if one of the headers `names` (a scheme's signature, timestamp and id headers) came twice.

    Which copy was signed is then a guess, and deduplication could read another copy than the check
    did: a copy added before the signed one gets a replay past both.
    """
    for name in names:
        values = [value for key, value in pairs if key == name.lower()]
        if len(values) > 1:
            raise SignatureError(
                "malformed_header",
                f"expected one {name} header, but {len(values)} arrived: "
                f"{', '.join(_quote(value, 40) for value in values[:3])}. A proxy that adds its own copy, or "
                "a replay that added one beside the signed copy (so that deduplication reads another id than "
                "the signature covers), is the likely cause: refused rather than guess which copy was signed.",
            )


def _text(value) -> str:
    # Header bytes are Latin-1 on the wire: that is how WSGI servers hand them over as str.
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def secrets_given(title: str, secret) -> list[str] | None:
    """The secrets a provider was made with, as a list; None when none was given (one is made)."""
    if secret is None:
        return None
    if isinstance(secret, str):
        listed = [secret]
    elif isinstance(secret, Iterable) and not isinstance(secret, (bytes, bytearray, Mapping)):
        listed = list(secret)
    else:
        raise UsageTypeError(
            f"{title} needs a secret: a non-empty string, or a list of them for rotation; got {got(secret)}"
        )
    if not listed:
        return None
    for s in listed:
        if not isinstance(s, str):
            raise UsageTypeError(f"{title} needs a secret: a non-empty string, or a list of them for rotation; "
                                 f"got {got(s)} among them")  # fmt: skip
        if not s:
            raise UsageError(f"{title} needs a secret: a non-empty string, or a list of them for rotation; got ''"
                             ": is it read from an environment variable that is not set?")  # fmt: skip
    return listed


def sign_options(timestamp, delivery_id, event_type) -> tuple[int | None, str | None, str | None]:
    """sign()'s options, checked: unix seconds (a float is cut to whole seconds), and two strings."""
    if isinstance(timestamp, numbers.Integral) and not isinstance(timestamp, bool):
        timestamp = int(timestamp)  # any whole number is signed as it is, even one no clock will reach
    elif timestamp is not None:
        timestamp = int(seconds(timestamp, "timestamp", ": unix seconds, like int(time.time())", negative=True))
    if delivery_id is not None:
        delivery_id = text(delivery_id, "delivery_id", "the id of the delivery, a str (None makes a fresh one)")
    if event_type is not None:
        event_type = text(event_type, "event_type", "the event's type, such as 'push', for the header that names it")
    return timestamp, delivery_id, event_type


PROBE_TIME, PROBE_ID = 1000000007, "webhooklab-probe-id"  # values no real header carries


def carriers(provider, event, event_type: str | None = None) -> dict[str, str]:
    """The headers that carry the delivery id and the timestamp, as the provider writes them: {name: field}.

    Found by signing once with values no real header holds, so it holds for any scheme, a registered one too.
    """
    _, headers = provider.sign(event, timestamp=PROBE_TIME, delivery_id=PROBE_ID, event_type=event_type)
    fields = {PROBE_ID: "delivery_id", str(PROBE_TIME): "timestamp"}
    return {name: fields[value] for name, value in headers.items() if value in fields}
