"""Edit and resend: a captured request changed (method, headers, body), re-signed or not, compared with the original.

The inspector's Replay sends a request as captured; its editor sends what the learner changed. Both come
through `edited()`, which checks every field as the page or a script sent it and says what was expected.
`compare()` puts two stored requests side by side, and `cause()` says why the second one's signature
failed when the first one's held: what the signature covers that changed, named.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from dataclasses import dataclass, field

from .. import _redact
from .._checks import HEADER_NAME, got
from .._errors import UsageError
from .._providers import PROVIDERS
from .._providers.base import Provider
from .._providers.explain import _first_difference
from .._providers.registry import one_of
from .export import HOP_BY_HOP, replay_headers

MAX_HEADERS = 100
MAX_HEADER_BYTES = 64 * 1024
MAX_LINES = 400  # lines of a body comparison; the rest is summed up as truncated
# Lines of each body that differ after their common start and end, at most, for a line by line comparison: difflib
# takes time growing with their square (a body of many equal lines is its worst case). Past it, the first difference.
DIFF_LINES = 1000
MAX_COMPARED = 256 * 1024  # bytes of a body compared line by line (difflib is quadratic); past it, the first difference


@dataclass
class Resend:
    """What goes on the wire: the method, the body bytes and the headers, and what was changed from the capture."""

    method: str
    body: bytes
    headers: dict[str, str]
    edited: list[str] = field(default_factory=list)
    resigned: bool = False


def edited(event, options: dict, secrets) -> Resend:
    """The request `options` make of `event` (see the API's replay): each field checked, the body re-signed if asked.

    `secrets` is the receiver's Verifiers: re-signing with no secret given uses the endpoint's own.
    """
    method = options.get("method") or event.method
    if not isinstance(method, str) or len(method) > 20 or not HEADER_NAME.fullmatch(method):
        raise UsageError(f"method must be an HTTP method such as POST or PUT, got {got(method)}")
    method = method.upper()
    body = _body(options, event.body)
    headers = replay_headers(event) if options.get("headers") is None else _headers(options["headers"], event)
    resend = Resend(method, body, headers)
    resend.edited = [name for name, changed in (
        ("method", method != event.method), ("url", bool(options.get("url"))),
        ("headers", headers != replay_headers(event)), ("body", body != event.body)) if changed]  # fmt: skip
    if options.get("resign"):
        _resign(resend, event, options, secrets)
    return resend


def _body(options: dict, captured: bytes) -> bytes:
    if options.get("body") is not None and options.get("body_base64") is not None:
        raise UsageError("give the new body once: as text in body, or as base64 in body_base64, not both")
    if options.get("body") is not None:
        if not isinstance(options["body"], str):
            raise UsageError(f"body must be the new body as text, got {got(options['body'])}")
        return options["body"].encode("utf-8")
    if options.get("body_base64") is not None:
        try:
            return base64.b64decode(options["body_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise UsageError(f"body_base64 must be base64, got {got(options['body_base64'])}") from None
    return captured


def _headers(pairs, event) -> dict[str, str]:
    """The headers the learner wrote, less those the sender sets; a masked credential left as shown goes as captured."""
    if not isinstance(pairs, list) or len(pairs) > MAX_HEADERS or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs):
        raise UsageError(f"headers must be a list of at most {MAX_HEADERS} [name, value] pairs of text, "
                         f"such as [[\"Content-Type\", \"application/json\"]], got {got(pairs)}")  # fmt: skip
    if sum(len(name) + len(value) for name, value in pairs) > MAX_HEADER_BYTES:
        raise UsageError(f"the headers come to more than {MAX_HEADER_BYTES // 1024} KB; no server would take them")
    masked = {(name.lower(), _redact.header_value(name, value)): value for name, value in event.header_pairs}
    headers: dict[str, str] = {}
    for name, value in pairs:
        name, value = name.strip(), value.strip()
        if not HEADER_NAME.fullmatch(name):
            raise UsageError(f"a header name is letters, digits and -, such as X-Request-Id, got {name[:60]!r}")
        if any(c in value for c in "\r\n\0"):
            raise UsageError(f"the value of {name} holds a line break or NUL: a header is one line")
        value = masked.get((name.lower(), value), value)
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise UsageError(f"the value of {name} holds {value[:40]!r}: a header carries Latin-1 characters only; "
                             "put other text in the body") from None
        if name.lower() not in HOP_BY_HOP:
            headers[name] = value
    return headers


def _resign(resend: Resend, event, options: dict, secrets) -> None:
    """Sign the body as the provider would, with the secret given or the endpoint's own; its headers win."""
    name = options.get("provider") or event.provider
    provider = PROVIDERS.get(name) if isinstance(name, str) else None
    secret = options.get("secret") or secrets.secret_of(event.endpoint)
    if isinstance(secret, Provider) and (provider is None or isinstance(secret, provider)):
        signer = secret
    elif provider is None:
        raise UsageError(f"say which provider's scheme re-signs it: {one_of(PROVIDERS)}")
    elif secret is None:
        raise UsageError(f"endpoint {event.endpoint!r} has no secret on this receiver: give the secret to re-sign "
                         "with, or start the receiver with secrets={endpoint: secret}")  # fmt: skip
    else:
        try:
            signer = provider(secret[0] if isinstance(secret, list) else secret)
        except ValueError as error:  # a secret this scheme cannot use
            raise UsageError(str(error)) from None
    lower = {key.lower(): value for key, value in resend.headers.items()}
    kind = (signer.event_header and lower.get(signer.event_header.lower())) or event.event_type
    body, signed = signer.sign(resend.body, event_type=kind, delivery_id=event.delivery_id)
    ours = {key.lower() for key in signed}
    resend.body = body
    resend.headers = {**{k: v for k, v in resend.headers.items() if k.lower() not in ours}, **signed}
    resend.resigned = True


def compare(original, new) -> dict:
    """What differs between two stored requests: method, path, each header, the body line by line, and the verdicts."""
    headers = []
    before, after = _lower(original.header_pairs), _lower(new.header_pairs)
    for key in dict.fromkeys([*before, *after]):
        (name, old), (_, value) = before.get(key, (None, None)), after.get(key, (None, None))
        if old != value:
            change = "added" if old is None else "removed" if value is None else "changed"
            name = name or after[key][0]
            headers.append({"name": name, "original": _shown(name, old), "new": _shown(name, value), "change": change})
    return {
        "original": original.id, "new": new.id,
        "method": _pair(original.method, new.method), "path": _pair(_target(original), _target(new)),
        "headers": headers, "body": _body_changes(original.body, new.body),
        "verdict": {"original": original.verified, "new": new.verified, "cause": cause(original, new)},
    }  # fmt: skip


def cause(original, new) -> str | None:
    """Why `new` failed its check where `original` passed, naming what changed; None when it did not fail."""
    if new.verified is not False:
        return None
    message = new.verification or new.reason or "the signature did not verify"
    if original.verified is not True or new.reason != "no_matching_signature":
        return message
    provider = PROVIDERS.get(new.provider) if new.provider else None
    header = provider.signature_header if provider else None
    same_signature = header is not None and original.header(header) == new.header(header)
    if same_signature and original.body != new.body:
        at = _first_difference(original.body, new.body)
        return (f"the body was edited after it was signed: {header} still holds the signature of the original "
                f"body, which this one differs from at byte {at}. Any change to the body, even one space, breaks "
                "the signature: re-sign the edited body with the endpoint's secret to send it as the provider "
                "would.")  # fmt: skip
    if same_signature:
        return (f"{header} is the original's, but something else the signature covers ({provider.signs}) changed: "
                f"{message}")  # fmt: skip
    return message


def _shown(name: str, value: str | None) -> str | None:
    """A header's value as the page shows it: a credential masked, as in the event's own detail."""
    return None if value is None else _redact.header_value(name, value)


def _lower(pairs) -> dict[str, tuple[str, str]]:
    return {name.lower(): (name, value) for name, value in pairs}


def _pair(original, new) -> dict | None:
    return None if original == new else {"original": original, "new": new}


def _target(event) -> str:
    return event.path + (f"?{event.query}" if event.query else "")


def _lines(body: bytes) -> list[str] | None:
    """A body as lines to compare: JSON written out one value per line, text as it is; None for binary."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False).splitlines()
    except ValueError:
        return text.splitlines()


def _body_changes(original: bytes, new: bytes) -> dict:
    if original == new:
        return {"changed": False, "first_difference": None, "lines": [], "truncated": False}
    small = max(len(original), len(new)) <= MAX_COMPARED
    before, after = (_lines(original), _lines(new)) if small else (None, None)
    lines = []
    if before is not None and after is not None:
        start = next((i for i, (x, y) in enumerate(zip(before, after)) if x != y), min(len(before), len(after)))
        end = 0
        while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
            end += 1
        middle = (before[start:len(before) - end], after[start:len(after) - end])
        if max(map(len, middle)) <= DIFF_LINES:
            lines = [{"change": "same", "text": line} for line in before[:start]]
            matcher = difflib.SequenceMatcher(None, *middle, autojunk=False)
            for opcode, i1, i2, j1, j2 in matcher.get_opcodes():
                if opcode == "equal":
                    lines += [{"change": "same", "text": line} for line in middle[0][i1:i2]]
                else:
                    lines += [{"change": "removed", "text": line} for line in middle[0][i1:i2]]
                    lines += [{"change": "added", "text": line} for line in middle[1][j1:j2]]
            lines += [{"change": "same", "text": line} for line in before[len(before) - end:]]
    return {"changed": True, "first_difference": _first_difference(original, new), "lines": lines[:MAX_LINES],
            "truncated": len(lines) > MAX_LINES}  # fmt: skip
