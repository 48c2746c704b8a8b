"""What the event store can be asked: its filters and cursors, checked, and the SQL WHERE clause they make.

Every read of store.py goes through where(), so a filter the store does not know,
or a value of the wrong kind, is a UsageError naming it before SQLite sees
anything; a value SQLite would compare with anything (rx.events(5)) never
quietly matches nothing.
"""

from __future__ import annotations

import numbers

from .._checks import got, whole
from .._errors import UsageError, UsageTypeError

FILTERS = ("provider", "event_type", "delivery_id", "verified", "search", "ids", "before", "since")


def where(endpoint: str | None, after: int = 0, **filters) -> tuple[str, list]:
    """The WHERE clause and its parameters for events at `endpoint` (all when None) with an id above `after`."""
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise UsageTypeError(f"the store has no filter {unknown[0]!r}: it filters by endpoint, {', '.join(FILTERS)}")
    if endpoint is not None and not isinstance(endpoint, str):
        raise UsageTypeError(
            f"endpoint must be an endpoint name, a str such as 'shop' (None: every one), got {got(endpoint)}"
        )
    after = whole(after, "after", "an event id: only events after it (0: from the first)")
    since = whole(filters.get("since") or 0, "since", "an event id: only events after it count (0: all)")
    after = max(after, since)  # since is a filter, after a cursor: both keep the ids above them
    before = filters.get("before")
    clauses, params = (["id > ?"], [after]) if after else ([], [])  # none at all: SQLite counts a table at once
    if before is not None:
        clauses.append("id < ?")
        params.append(whole(before, "before", "an event id: only events before it, or None"))
    for column in ("endpoint", "provider", "event_type", "delivery_id"):
        value = endpoint if column == "endpoint" else filters.get(column)
        if value is not None:
            if not isinstance(value, str):
                raise UsageTypeError(f"{column} must be a str to match exactly, or None for any, got {got(value)}")
            clauses.append(f"{column} = ?")
            params.append(value)
    verified = filters.get("verified")
    if verified == "unchecked":
        clauses.append("verified IS NULL")
    elif verified is not None:
        if not isinstance(verified, bool):
            raise UsageError(f"verified is True, False or 'unchecked' (no secret to check with), got {got(verified)}")
        clauses.append("verified = ?")
        params.append(int(verified))
    search = filters.get("search")
    if search is not None and not isinstance(search, str):
        raise UsageTypeError(f"search must be the text to find in a body, a str, got {got(search)}")
    if search:
        clauses.append("instr(body, ?) > 0")
        params.append(search.encode("utf-8", "surrogatepass"))
    ids = filters.get("ids")
    if ids is not None:
        if isinstance(ids, (str, bytes)) or not isinstance(ids, (list, tuple, set, frozenset)):
            raise UsageTypeError(f"ids must be a list of event ids, such as [1, 2], got {got(ids)}")
        ids = [whole(one, "each of ids", "an event id, a whole number") for one in ids]
        clauses.append(f"id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def number_of(value, name: str, expected: str, *, least: int = 0, optional: bool = False) -> int | None:
    """A whole number of at least `least` (limit, offset, batch); None too where `optional`."""
    if value is None and optional:
        return None
    number = whole(value, name, expected)
    if number < least:
        below = "cannot be negative" if least == 0 else f"must be at least {least}"
        raise UsageError(f"{name} {below}, got {number}: it is {expected}")
    return number


def newest_first(value) -> bool:
    if not isinstance(value, bool):
        raise UsageTypeError(f"newest must be True (the newest first) or False, got {got(value)}")
    return value


def fields_given(fields: dict, required: frozenset[str], allowed: frozenset[str]) -> None:
    """store.add()'s fields: Event's, every one it needs, and none it does not have (two set comparisons a request)."""
    if not fields.keys() <= allowed:
        unknown = sorted(fields.keys() - allowed)
        raise UsageTypeError(f"an event has no field {unknown[0]!r}: its fields are {', '.join(sorted(allowed))}")
    if not fields.keys() >= required:
        missing = sorted(required - fields.keys())
        raise UsageTypeError(f"store.add() needs every field of a captured request; {', '.join(missing)} missing")


def answer(status, headers, body, note) -> None:
    """store.set_response()'s answer: a status, a dict of headers, bytes and a note saying why it changed."""
    if isinstance(status, bool) or not isinstance(status, numbers.Integral):
        raise UsageTypeError(f"status must be an HTTP status, a whole number such as 500, got {got(status)}")
    if not hasattr(headers, "items"):
        raise UsageTypeError(f"headers must be a dict of name to value, got {got(headers)}")
    if not isinstance(body, bytes):
        raise UsageTypeError(f"body must be the answer's bytes, got {got(body)}")
    if not isinstance(note, str):
        raise UsageTypeError(f"note must say why the answer changed, a str, got {got(note)}")
