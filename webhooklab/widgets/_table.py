"""The widgets' tables and buttons, sized for a notebook: nothing runs past the cell, nothing is cut silently.

JupyterLab at 1024×768 leaves an output under 600 px. A table wider than that scrolls sideways and hides its
last columns, so these tables put the key columns first, let free text wrap, and shorten a long value with
the whole of it in a tooltip (the cell's title).
"""

from __future__ import annotations

import html
import re

# Short values (times, statuses, verdicts) stay on one line; free text (endpoints, event types) may wrap
# anywhere, as an event type is one long word with no space to break at.
STYLE = ("<style>.wl-table {border-collapse: collapse; max-width: 100%} "
         ".wl-table td, .wl-table th {padding: 2px 6px; text-align: left; vertical-align: top; font-size: 12px; "
         "line-height: 1.4} "
         ".wl-table .wl-wrap {overflow-wrap: anywhere} .wl-table .wl-keep {white-space: nowrap} "
         ".wl-table .wl-short {min-width: 8em}</style>")  # fmt: skip
# A button as wide as its words, never narrower than ipywidgets' own: a fixed width cuts a label set in a wider font.
BUTTON = {"width": "max-content", "min_width": "var(--jp-widgets-inline-width-short, 148px)"}


def cell(value, *, keep: bool = False, limit: int | None = None) -> str:
    """A table cell for a value of a request: escaped; shortened to `limit` characters with the whole in its title."""
    text = "" if value is None else str(value)
    kind = "wl-keep" if keep else "wl-wrap" if limit is None else "wl-wrap wl-short"  # room for a few words
    title = ""
    if limit is not None and len(text) > limit:
        title, text = f" title='{html.escape(text, quote=True)}'", f"{text[: limit - 1].rstrip()}…"
    shown = html.escape(text) if keep else breakable(text)
    return f"<td class='{kind}'{title}>{shown}</td>"


def breakable(text: str) -> str:
    """`text` escaped, with a chance to break after each . _ / - so that payment_intent.succeeded wraps at its dot."""
    return "<wbr>".join(html.escape(part) for part in re.split(r"(?<=[._/-])", text))


def table(head: list[str], rows: list[str]) -> str:
    """A table of `head` (plain words) over `rows`, each a string of cells made by cell()."""
    heading = "".join(f"<th>{html.escape(name)}</th>" for name in head)
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return f"{STYLE}<table class='wl-table'><thead><tr>{heading}</tr></thead><tbody>{body}</tbody></table>"


def verdict(verified, reason: str | None = None) -> str:
    """A signature check, mark first: ✓ verified, ✗ and why not, or – when nothing was checked."""
    if verified is None:
        return "– not checked"
    return "✓ verified" if verified else f"✗ {reason or 'not verified'}"
