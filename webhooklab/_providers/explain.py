"""What a verification shows: each step as a table, the likely cause of a mismatch, values safe to show.

base.py runs the steps; this module only presents them, so what a learner
reads is written in one place for every scheme.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from .._checks import text
from .._redact import mask

WRAP = "white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word"  # long values wrap inside the cell
# The largest body whose failed check is diagnosed. The verdict costs one HMAC over the body, whatever its size;
# the diagnosis costs many: it parses JSON and writes it back seven ways, or signs a Twilio form for a dozen other
# URLs, and the parsed JSON alone takes tens of times the body's memory. No provider's events come near 1 MB
# (Stripe's are a few KB, a large GitHub push some hundreds), so a larger body is a test or someone else's, and
# its diagnosis is skipped with a sentence that says so: a sender cannot make the receiver spend much more than
# it spent sending.
DIAGNOSIS_LIMIT = 1024 * 1024
# How a verdict given without its diagnosis ends (explain(..., diagnose=False), as a receiver stores it at capture):
# reading the event works the likely cause out, once, and stores it in place of this.
UNDIAGNOSED = "The likely cause is worked out when the event is read (event.verification, or Inspect on the page)."


@dataclass
class Explanation:
    """Each step of a verification, as a table; `ok`, `reason` and `message` give the verdict."""

    provider: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None
    message: str = "the signature is valid"
    payload: object = field(default=None, repr=False)  # the parsed event, once everything has checked out

    def __post_init__(self):
        text(self.provider, "provider", "the provider's title, such as 'Stripe'", empty=True)

    @property
    def ok(self) -> bool:
        return self.reason is None

    def add(self, step: str, value: str) -> None:
        """One more row: the step's name and what it showed."""
        self.steps.append((text(step, "step", "the step's name, such as 'signed content'", empty=True),
                           text(value, "value", "what the step showed, as text", empty=True)))  # fmt: skip

    def fail(self, reason: str, message: str) -> Explanation:
        """The verdict: the check that failed (a SignatureError reason, such as 'no_matching_signature') and why."""
        self.reason = text(reason, "reason", "a SignatureError reason, such as 'no_matching_signature'", empty=True)
        self.message = text(message, "message", "why the check failed, as a sentence", empty=True)
        return self

    def __str__(self) -> str:
        verdict = "valid" if self.ok else f"INVALID ({self.reason})"
        width = max(len(step) for step, _ in self.steps) if self.steps else 0
        lines = [f"{self.provider} signature: {verdict}"]
        lines += [f"  {step:<{width}}  {value}" for step, value in self.steps]
        lines.append(f"  {'verdict':<{width}}  {self.message}")
        return "\n".join(lines)

    __repr__ = __str__  # a console shows the table too, not the dataclass fields

    def _repr_html_(self) -> str:
        # Everything shown came from a request: it is data, so every value is escaped.
        # Digests and signed bytes are long unbroken strings: they wrap anywhere rather than run off the cell.
        rows = "".join(
            f"<tr><th style='text-align:left;vertical-align:top;white-space:nowrap'>{html.escape(step)}</th>"
            f"<td style='text-align:left;{WRAP}'><code style='{WRAP}'>{html.escape(value)}</code></td></tr>"
            for step, value in [*self.steps, ("verdict", self.message)]
        )
        colour = "green" if self.ok else "firebrick"
        title = "valid" if self.ok else f"invalid: {self.reason}"
        return (
            f"<table style='table-layout:auto;max-width:100%'><caption style='color:{colour};text-align:left'>"
            f"<b>{html.escape(self.provider)} signature {html.escape(title)}</b></caption>{rows}</table>"
        )


def diagnose(provider, body: bytes, header, out: Explanation) -> str:
    """The likely cause of a mismatch: a re-serialised body, a wrong kind of secret, or either.

    Asks the provider's own scheme whether the signature matches the same JSON
    written another way, so the diagnosis can never disagree with the check.
    A body over DIAGNOSIS_LIMIT is not re-serialised: the answer says why.
    """
    if len(body) > DIAGNOSIS_LIMIT:
        return f"{mismatch(provider)} {too_large(len(body))}"
    for variant, how in _reserializations(body):
        if provider._matches(variant, header):
            at = _first_difference(body.decode("utf-8", "replace"), variant.decode("utf-8", "replace"))
            out.add("body as signed", _show(variant))
            return (
                f"the signature matches the same JSON {how}, not the bytes given here (they first differ "
                f"at character {at}). The body was re-serialised, by parsing and dumping it, after it "
                "arrived. Verify the raw body exactly as received (in Flask: request.get_data()), before "
                "parsing it."
            )
    hint = provider._secret_hint(provider.secret)
    if hint:
        return f"no signature matches, and {hint}"
    return (
        f"{mismatch(provider)} "
        f"Either something the signature covers ({provider.signs}) changed after it was signed (one byte, even "
        "whitespace, is enough) or the secret is not the one the sender signs with: check the endpoint's "
        "signing secret."
    )


def mismatch(provider) -> str:
    """The verdict of a signature that matches nothing, in one sentence: what a diagnosis starts from."""
    return f"no signature in {provider.signature_header} matches this body signed with {mask(provider.secret)}."


def undiagnosed(verdict: str) -> str:
    """A mismatch's verdict without its likely cause, saying where the cause is found."""
    return f"{verdict} {UNDIAGNOSED}"


def too_large(size: int) -> str:
    """Why a mismatch has no diagnosis: its body is over DIAGNOSIS_LIMIT."""
    return (
        f"The likely cause was not looked for: the body is {size / 1024 / 1024:.1f} MB, over the "
        f"{DIAGNOSIS_LIMIT // 1024 // 1024} MB limit of a diagnosis (which tries the body written other ways, each "
        "costing as much as the body again). The verdict is exact: every signature was checked against every byte."
    )


def _clip(text: str, limit: int = 300) -> str:
    """A header value for the table: whole when short, else its start and its length."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters in all)"


def _quote(text: str, limit: int = 100) -> str:
    """A received value for a message, quoted, cut short when long: enough to recognise it."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text)} characters in all)"


def _first_difference(a: str | bytes, b: str | bytes) -> int | None:
    """Where two texts (or byte strings) first differ; None when they are equal. A block at a time: a body may be
    megabytes, and a slice compares at C speed."""
    common, step = min(len(a), len(b)), 64 * 1024
    for start in range(0, common, step):
        end = min(start + step, common)
        if a[start:end] != b[start:end]:
            return next(i for i in range(start, end) if a[i] != b[i])
    return None if len(a) == len(b) else common


def _show(content: bytes, limit: int = 300, *, total: int | None = None) -> str:
    """Bytes as a readable Python literal, cut short for long bodies; `total` is their length when only a start is given."""
    total = len(content) if total is None else total
    shown = repr(content[:limit])
    return shown if total <= limit else f"{shown}… ({total} bytes in all)"


def _ago(age: float) -> str:
    return f"{age:.0f} s ago" if age >= 0 else f"{-age:.0f} s in the future"


def _reserializations(body: bytes):
    """The same JSON written the usual other ways, with a description of each."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes, so not JSON here
        return
    styles = [
        ("written compactly (separators=(',', ':'))", {"separators": (",", ":")}),
        ("written by Python's json.dumps defaults", {}),
        ("pretty-printed with indent=2", {"indent": 2}),
        ("with non-ASCII characters kept (ensure_ascii=False)", {"ensure_ascii": False}),
        ("with non-ASCII characters kept and compact", {"ensure_ascii": False, "separators": (",", ":")}),
        ("pretty-printed with non-ASCII characters kept", {"ensure_ascii": False, "indent": 2}),
        ("with its keys sorted", {"sort_keys": True}),
    ]
    for how, options in styles:
        try:
            variant = json.dumps(data, **options).encode("utf-8")
        except (ValueError, RecursionError):  # a lone surrogate escape (\ud800) kept as is, or deep nesting
            continue
        if variant != body:
            yield variant, how
