"""The one list of providers: the built-ins and any added later go through register() alike.

Whatever reads the providers (recognising a request, the command line's
choices, the widgets, the messages that name them) reads PROVIDERS, so a new
provider is one class and one register() call.
"""

from __future__ import annotations

from .._errors import UsageError, UsageTypeError
from .._event import MAX_SNIFF_BYTES, Headers, parse_json
from .base import Provider

PROVIDERS: dict[str, type[Provider]] = {}  # name -> class, in the order registered: the order requests are recognised


def register(cls: type[Provider]) -> type[Provider]:
    """Add a provider under its `name`; returns the class, so it also works as a class decorator."""
    if not (isinstance(cls, type) and issubclass(cls, Provider) and isinstance(cls.name, str) and cls.name):
        raise UsageTypeError(
            f"register() takes a subclass of Provider with a `name`, such as 'acme', but got {cls!r}: "
            "subclass Provider and set name (and title) on the class."
        )
    taken = PROVIDERS.get(cls.name)
    if taken is not None and taken is not cls:
        raise UsageError(
            f"a provider named {cls.name!r} is already registered ({taken.__module__}.{taken.__qualname__}), so "
            f"{cls.__qualname__} cannot take the name: unregister({cls.name!r}) first to replace it, or choose another."
        )
    PROVIDERS[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a provider (by name), as a test does with the one it added; an unknown name is ignored."""
    if not isinstance(name, str):
        raise UsageTypeError(f"unregister() takes a provider's name, such as 'acme', got {name!r}")
    PROVIDERS.pop(name, None)


def identify(pairs: Headers, body: bytes, content_type: str | None):
    """(provider, event type, delivery id) as far as the headers and the (decoded) body tell them.

    Each provider in turn, in the order registered, says whether the request is
    its own (by a header only it sends) and where its event type and the id to
    deduplicate on are; the first to claim it has it.
    """
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers.setdefault(name.lower(), value)  # a repeated header's first copy, the one the check reads (lower_headers)
    payload = parse_json(body, content_type) if len(body) <= MAX_SNIFF_BYTES else None
    fields = payload if isinstance(payload, dict) else {}
    if not fields and (content_type or "").startswith("application/x-www-form-urlencoded") and len(body) <= MAX_SNIFF_BYTES:
        from urllib.parse import (
            parse_qsl,  # a form's own parameters (Twilio's): a provider names its events by them
        )

        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for name, cls in PROVIDERS.items():
        try:
            recognised = cls.recognise(headers, fields)
        except Exception:  # a provider added later may have a bug: the request is still stored, unrecognised
            continue
        if recognised is not None:
            event_type, delivery_id = recognised
            return name, event_type, delivery_id
    return None, string_field(fields, "type") or string_field(fields, "event"), None


def string_field(payload: dict, name: str) -> str | None:
    """A payload's field when it is a string: the JSON came from a request, so it may hold anything."""
    value = payload.get(name)
    return value if isinstance(value, str) else None


def handshake(provider: str | None, body: bytes, content_type: str | None) -> tuple[int, bytes, dict] | None:
    """(status, body, headers) a verified request must get when it is a provider's handshake, else None.

    Slack's url_verification is one: the receiver must echo its challenge. A
    provider with a handshake defines a `handshake(payload)` class method.
    """
    answer = getattr(PROVIDERS.get(provider or ""), "handshake", None)
    payload = parse_json(body, content_type) if answer and len(body) <= MAX_SNIFF_BYTES else None
    return answer(payload) if isinstance(payload, dict) else None


def one_of(words) -> str:
    """'a, b or c': the registered providers as a message lists them."""
    words = list(words)
    return " or ".join(filter(None, [", ".join(words[:-1]), *words[-1:]]))
