"""What a bin's JSON API answers, checked before the remote client uses it: a page of summaries, whole events.

The class server writes these (api.py: list_events, one_event, export); RemoteReceiver (remote.py)
reads them. Anything else at the bin URL (another server, a proxy, an older webhooklab) is caught
here, field by field, with the types Event declares: a ValueError that says which field is wrong and
what it holds, and never more than a glimpse of it. Each check returns what it checked.
"""

from __future__ import annotations

import base64
import binascii
import types
import typing
from dataclasses import fields
from datetime import datetime

from .._checks import got
from .._event import SUMMARY, Event, Headers

LARGEST = 2**63 - 1  # the largest id SQLite, and so the bin's API, can hold
_TYPES = typing.get_type_hints(Event)
# The fields of Event that travel under another name, or in another form, in the API's JSON (Event.to_dict).
_RENAMED = {"received_at": "time", "header_pairs": "headers", "body": "body_base64"}
_IN_RESPONSE = {"response_header_pairs": "headers", "response_body": "body"}
PAGE_SHAPE = '{"events": [summaries], "total": n, "has_more": true or false, "next": a cursor or null}'


def an_object(value) -> dict:
    """Any JSON object: what a change (respond, a challenge report) is answered with."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {_glimpse(value)}")
    return value


def page(value, asked: int) -> dict:
    """A page of /api/events: at most `asked` summaries, each as Event declares its fields, a total and a cursor."""
    if not isinstance(value, dict) or not {"events", "total", "has_more", "next"} <= value.keys():
        raise ValueError(f"expected a page of events, {PAGE_SHAPE}, got {_glimpse(value)}")
    events, cursor = value["events"], value["next"]
    if not isinstance(events, list) or len(events) > asked:
        raise ValueError(f"'events' should be a list of at most {asked} summaries, got {_glimpse(events)}")
    for row in events:
        if not isinstance(row, dict):
            raise ValueError(f"each of 'events' should be an event's summary (a JSON object), got {got(row)}")
        for name in SUMMARY:
            _check(row, name, "received_at" if name == "time" else name, "an event's summary")
        if not 0 < row["id"] <= LARGEST:
            raise ValueError(f"an event's id is a whole number from 1 to {LARGEST}, got {row['id']}")
    if type(value["total"]) is not int or value["total"] < 0:
        raise ValueError(f"'total' should be a whole number of events, got {got(value['total'])}")
    if not isinstance(value["has_more"], bool):
        raise ValueError(f"'has_more' should be true or false, got {got(value['has_more'])}")
    one_id = isinstance(cursor, dict) and len(cursor) == 1 and cursor.keys() <= {"after", "before"}
    if cursor is not None and not (one_id and all(type(v) is int and 0 <= v <= LARGEST for v in cursor.values())):
        raise ValueError(f"'next' should be a cursor, {{\"after\": id}} or {{\"before\": id}}, or null, "
                         f"got {got(cursor)}")  # fmt: skip
    return value


def event(record) -> Event:
    """An Event from the API's JSON for it (Event.to_dict), field by field; credentials stay as the API masked them."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an event (a JSON object with its fields), got {_glimpse(record)}")
    response = record.get("response")
    if not isinstance(response, dict):
        raise ValueError(f"an event's 'response' should be an object with its status, headers and body, "
                         f"got {got(response)}")  # fmt: skip
    values = {}
    for field in fields(Event):
        where, name = (response, _IN_RESPONSE[field.name]) if field.name in _IN_RESPONSE else \
            (record, _RENAMED.get(field.name, field.name))  # fmt: skip
        values[field.name] = _check(where, name, field.name, "an event")
    try:
        values["received_at"] = datetime.fromisoformat(values["received_at"])
        values["body"] = base64.b64decode(values["body"], validate=True)
    except (ValueError, binascii.Error):
        raise ValueError(f"an event's 'time' should be an ISO 8601 time and its 'body_base64' base64, got "
                         f"{got(record['time'])} and {got(record['body_base64'])}") from None  # fmt: skip
    for name in ("header_pairs", "response_header_pairs"):
        values[name] = tuple(tuple(pair) for pair in values[name])
    values["response_body"] = values["response_body"].encode("utf-8")
    return Event(**values)


def events(value, ids: list[int]) -> list[Event]:
    """The answer of /api/export.json?ids=...: events, each one of those asked for."""
    if not isinstance(value, list) or len(value) > len(ids):
        raise ValueError(f"expected a list of at most {len(ids)} events, got {_glimpse(value)}")
    found, asked = [event(record) for record in value], set(ids)
    stray = [e.id for e in found if e.id not in asked]
    if stray:
        raise ValueError(f"event {stray[0]} came back, which was not asked for")
    return found


def _check(where: dict, name: str, field: str, what: str):
    """where[name], if it is there and stands for Event's `field` (a time, or bytes, travels as a str)."""
    if name not in where:
        raise ValueError(f"{what} should have the field {name!r}, and this one has none")
    value = where[name]
    if type(value) not in _JSON_TYPES[field] or (_TYPES[field] == Headers and not all(
            type(pair) is list and len(pair) == 2 and type(pair[0]) is type(pair[1]) is str for pair in value)):
        raise ValueError(f"{what}'s {name!r} should be {_named(_TYPES[field])}, got {got(value)}")  # fmt: skip
    return value


def _json_types(kind) -> tuple[type, ...]:
    """The types json.loads gives a value that stands for a field of this type: headers are a list of pairs."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return tuple(json_type for option in typing.get_args(kind) for json_type in _json_types(option))
    return {int: (int,), str: (str,), bool: (bool,), type(None): (type(None),), datetime: (str,), bytes: (str,),
            Headers: (list,)}[kind]  # fmt: skip


_JSON_TYPES = {name: _json_types(kind) for name, kind in _TYPES.items()}


def _named(kind) -> str:
    if kind == Headers:
        return "a list of [name, value] pairs"
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return " or ".join(_named(option) for option in typing.get_args(kind))
    return {int: "a whole number", str: "a str", bool: "true or false", type(None): "null",
            datetime: "an ISO 8601 time", bytes: "a str"}[kind]  # fmt: skip


def _glimpse(value) -> str:
    """What arrived instead, briefly: an object by its keys, a list by its length, anything else by got()."""
    if isinstance(value, dict):
        keys = ", ".join(repr(str(key)[:40]) for key in list(value)[:6])
        return f"an object with the keys {keys}{', …' if len(value) > 6 else ''}" if value else "an empty object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return got(value)
