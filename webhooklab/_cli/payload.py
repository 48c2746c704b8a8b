"""What `webhooklab send` puts on the wire: a template changed by --override and --add, or a --body as it is,
signed by the provider after the --header values it signs are in place."""

from __future__ import annotations

import json
import sys

from .._checks import HEADER_NAME, got, key_value, overrides
from .._errors import UsageError
from .._providers.arguments import carriers
from .common import ArgumentError

MISSING = object()


def build(provider, event_type: str, changed: list[str], added: list[str]):
    """The provider's template for `event_type`, with each --override (changed) and --add (added) applied in turn."""
    for option, items in (("--override", changed), ("--add", added)):
        for item in items:
            key_value(item, f"{option} PATH=VALUE, such as data.object.amount=5000")
    plain = [item for item in changed if "." not in item.partition("=")[0]]
    try:  # a plain name goes through event(), which knows the friendly ones (amount sets every amount)
        event = provider.event(event_type, **overrides(plain))
    except UsageError as error:
        missing = [item for item in plain if f"option {item.partition('=')[0].strip()!r}" in str(error)]
        hint = f" (--add {missing[0]} adds a field the template does not have)" if missing else ""
        raise ArgumentError(f"{error}{hint}") from None
    for item in changed:
        if item not in plain:
            place(event, item, adding=False)
    for item in added:
        place(event, item, adding=True)
    return event


def place(data, item: str, *, adding: bool) -> None:
    """Set PATH=VALUE in `data`: PATH is keys and list indexes joined by dots (data.object.amount, items.0.qty)."""
    option = "--add" if adding else "--override"
    path, value = key_value(item, f"{option} PATH=VALUE, such as data.object.amount=5000")
    try:
        value = json.loads(value)
    except ValueError:
        pass  # not JSON: the text itself
    parts = path.split(".")
    if not all(parts):
        raise ArgumentError(f"{option} {item}: a path is names joined by single dots, such as data.object.amount, "
                            f"and {path!r} has an empty part")  # fmt: skip
    node = data
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the payload"
        child = _child(node, part, option, item, where)
        last = depth == len(parts) - 1
        if child is MISSING and not adding:
            raise ArgumentError(f"{option} {item}: {where} has no {part!r} ({_has(node)}). To add a field the "
                                f"payload does not have, use --add {item}")  # fmt: skip
        if last:
            if adding and child is not MISSING:
                raise ArgumentError(f"--add {item}: {path} exists already (it is {got(child)}): use --override {item} "
                                    "to change it")  # fmt: skip
            _set(node, part, value)
            return
        if child is MISSING:
            child = {}
            _set(node, part, child)
        if not isinstance(child, (dict, list)):
            raise ArgumentError(f"{option} {item}: {'.'.join(parts[:depth + 1])} is {got(child)}, which has no "
                                f"fields, so no {parts[depth + 1]!r}")  # fmt: skip
        node = child


def _child(node, part: str, option: str, item: str, where: str):
    """`node`'s `part`, or MISSING; a list is indexed by position (the next free one adds to its end)."""
    if isinstance(node, dict):
        return node.get(part, MISSING)
    try:
        index = int(part)
    except ValueError:
        raise ArgumentError(f"{option} {item}: {where} is a list of {len(node)}, indexed by position (0 to "
                            f"{len(node) - 1}), not by {part!r}") from None  # fmt: skip
    if -len(node) <= index < len(node):
        return node[index]
    if option == "--add" and index == len(node):
        return MISSING
    raise ArgumentError(f"{option} {item}: {where} is a list of {len(node)}, so its positions are 0 to "
                        f"{len(node) - 1}" + (f"; --add with {len(node)} adds one at its end" if option == "--add" else ""))


def _set(node, part: str, value) -> None:
    if isinstance(node, dict):
        node[part] = value
    elif int(part) == len(node):
        node.append(value)
    else:
        node[int(part)] = value


def _has(node) -> str:
    if isinstance(node, list):
        return f"it is a list of {len(node)}"
    names = sorted(node)
    return "it has " + (", ".join(names[:12]) + (", ..." if len(names) > 12 else "") if names else "no fields")


def read_body(path: str) -> bytes:
    """The exact bytes of --body FILE, or of standard input for `-`."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise ArgumentError(f"--body {path}: cannot read it ({error.strerror or error}); give a file that holds "
                            "the body to send, or - to read it from standard input") from None  # fmt: skip


def header_pairs(items: list[str]) -> list[tuple[str, str]]:
    """Each --header 'Name: value', checked: a name HTTP can carry, a value of one line."""
    pairs = []
    for item in items:
        name, value = key_value(item, "--header 'Name: value', such as 'X-Request-Id: 42'", ":")
        if not HEADER_NAME.fullmatch(name):
            raise ArgumentError(f"--header {item!r}: {name!r} is not a header name HTTP can carry: letters, digits "
                                "and marks such as - and _, with no spaces")  # fmt: skip
        if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in value):
            raise ArgumentError(f"--header {item!r}: a header value is one line, without control characters")
        pairs.append((name, value))
    return pairs


class Signer:
    """A provider that also sends the --header values: those the scheme signs (an id, a timestamp) are signed.

    Everything else is the provider's own, so a Delivery retries it on the provider's schedule.
    """

    def __init__(self, provider, headers: list[tuple[str, str]], event_type: str | None = None):
        self.provider, self.headers, self.event_type = provider, headers, event_type

    def __getattr__(self, name):
        if name.startswith("__"):  # copy and pickle ask before `provider` exists: never the provider's own
            raise AttributeError(name)
        return getattr(self.provider, name)

    def at(self, url: str) -> Signer:
        return Signer(self.provider.at(url), self.headers, self.event_type)

    def sign(self, event, *, delivery_id: str | None = None, timestamp: int | None = None, event_type=None):
        event_type = event_type or self.event_type
        chosen = {name.lower(): value for name, value in self.headers}
        for name, field in (carriers(self.provider, event, event_type) if chosen else {}).items():
            given = chosen.get(name.lower())
            if given is not None and field == "delivery_id":
                delivery_id = given
            elif given is not None:
                timestamp = _seconds(name, given)
        body, headers = self.provider.sign(event, timestamp=timestamp, delivery_id=delivery_id, event_type=event_type)
        for name, value in self.headers:
            headers = {key: kept for key, kept in headers.items() if key.lower() != name.lower()}
            headers[name] = value
        return body, headers


def _seconds(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ArgumentError(f"--header '{name}: {value}': the scheme signs this header as a time in unix seconds, "
                            "such as 1700000000") from None  # fmt: skip
