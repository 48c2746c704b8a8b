"""The event store: captured requests in SQLite, read back as Event records or a pandas table."""

from __future__ import annotations

import json
import numbers
import os
import sqlite3
import threading
import weakref
from dataclasses import replace
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator

from .._checks import whole
from .._errors import EventNotFound, UsageError, UsageTypeError
from .._event import COLUMNS, SUMMARY, Event
from . import spill
from .dbfile import cannot_open, check_location
from .queries import answer, fields_given, newest_first, number_of
from .queries import where as _where

# Everything below follows from Event's fields: the schema, the INSERT, the table's SELECT.
SUMMARY_COLUMNS = ["received_at" if c == "time" else c for c in SUMMARY]
SCHEMA = "\n".join([
    "CREATE TABLE IF NOT EXISTS events (" + ", ".join(f"{column} {sql}" for _, column, sql in COLUMNS) + ");",
    "CREATE INDEX IF NOT EXISTS events_by_endpoint ON events (endpoint, id);",
    "CREATE INDEX IF NOT EXISTS events_by_delivery ON events (endpoint, delivery_id);",
    # The filters the page and the API offer, each newest first by id.
    "CREATE INDEX IF NOT EXISTS events_by_provider ON events (provider, id);",
    "CREATE INDEX IF NOT EXISTS events_by_type ON events (event_type, id);",
    "CREATE INDEX IF NOT EXISTS events_by_verdict ON events (verified, id);",
    # The table's columns in id order: listing them reads this small index, never a body.
    f"CREATE INDEX IF NOT EXISTS events_rows ON events ({', '.join(SUMMARY_COLUMNS)});",
])  # fmt: skip
STORED = [(name, column) for name, column, _ in COLUMNS if name != "id"]  # id is assigned by SQLite
ROW = itemgetter(*(name for name, _ in STORED))  # a captured request's fields, in the INSERT's order
OPTIONAL = ("verified", "reason", "verification", "duplicate_of")  # the fields add() may leave out
REQUIRED = tuple(name for name, _ in STORED if name not in OPTIONAL)
NEEDED, ALLOWED = frozenset(REQUIRED), frozenset(REQUIRED + OPTIONAL)  # what add() checks its fields against
# The fields SQLite keeps in another form, by their place in the INSERT: the time as ISO 8601 text, headers as JSON.
CONVERTED = [([name for name, _ in STORED].index(name), name, convert) for name, convert in
             (("received_at", datetime.isoformat), ("header_pairs", json.dumps), ("response_header_pairs", json.dumps))]
INSERT = f"INSERT INTO events ({', '.join(c for _, c in STORED)}) VALUES ({', '.join('?' * len(STORED))})"
SUMMARY_SELECT = ", ".join("received_at AS time" if c == "time" else c for c in SUMMARY)


def connect(path: Path | None) -> sqlite3.Connection:
    """A store's connection, as every store opens it: autocommit (each INSERT is durable when it returns),
    rows by name, and for a file WAL mode (another process reads while this one writes) with a 5 s wait."""
    db = sqlite3.connect(":memory:" if path is None else path, check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    if path is not None:
        try:
            for pragma in ("busy_timeout = 5000", "journal_mode = WAL", "synchronous = NORMAL"):
                db.execute(f"PRAGMA {pragma}")
        except sqlite3.Error:
            db.close()
            raise
    return db


class EventStore:
    """SQLite through one connection guarded by a lock, shared by the server's request threads.

    In memory unless a path is given, up to spill.MEMORY_CEILING; past it, in a temporary
    file of its own (`spilled`), read and written as before. A file is opened in WAL
    mode, so another process (the command line, a second kernel) can read while this
    one writes, and every event is committed before the receiver answers the request.
    """

    def __init__(self, path: str | Path | None = None):
        """Open the store, creating its file if there is none yet.

        A path it cannot use is a UsageError (a folder, a missing folder, a file that is not
        webhooklab's SQLite) or a ReceiverError (read-only, locked); both name the path.
        """
        if path is not None and not (isinstance(path, (str, os.PathLike)) and isinstance(os.fspath(path), str)):
            raise UsageTypeError(
                "db must be a file path (a str or pathlib.Path), or None to keep the events in memory, "
                f"got {path!r} (type {type(path).__name__})"
            )
        if path is not None and not os.fspath(path):
            raise UsageError(
                "db is an empty path: name a file, such as 'events.db', or leave db out to keep the events in memory"
            )
        self.path = Path(path).expanduser() if path is not None else None
        self.spilled: Path | None = None  # the temporary file an in-memory store moved to, past its ceiling
        self.ceiling = spill.MEMORY_CEILING if path is None else None  # bytes in memory before the move; read at opening
        self._spill_at = self.ceiling
        self._remove_spilled = lambda: None
        self._lock = threading.Lock()
        # A stored failed check's likely cause, worked out when the event is first read and then kept: the
        # receiver's app sets it (it holds the secrets); it gives None for an event that needs nothing more.
        self.diagnose: Callable[[Event], str | None] = lambda event: None
        if self.path is not None:
            check_location(self.path)
        try:
            self._db = connect(self.path)
        except sqlite3.Error as error:
            raise cannot_open(self.path, error) from None
        try:
            missing = []
            if self.path is not None:
                found = {row["name"] for row in self._db.execute("PRAGMA table_info(events)")}
                missing = [column for _, column, _ in COLUMNS if found and column not in found]
            if not missing:
                self._db.executescript(SCHEMA)
        except sqlite3.Error as error:
            self._db.close()
            raise cannot_open(self.path, error) from None
        if missing:
            self._db.close()
            lacks = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            raise UsageError(
                f"db={str(self.path)!r} is a SQLite database, but its events table is not one this webhooklab "
                f"writes: it has no column {lacks}. It was left as it was; give db= a new file name, "
                "such as 'events.db'"
            )

    def add(self, **fields) -> Event:
        """Store one captured request, given as Event's fields but id and duplicate_of, and return it."""
        fields_given(fields, NEEDED, ALLOWED)
        fields = {**dict.fromkeys(OPTIONAL), **fields}
        with self._lock:
            if fields.get("delivery_id"):
                fields["duplicate_of"] = self._db.execute(
                    "SELECT min(id) FROM events WHERE endpoint = ? AND delivery_id = ?",
                    (fields["endpoint"], fields["delivery_id"]),
                ).fetchone()[0]
            row = list(ROW(fields))
            for index, name, to_column in CONVERTED:
                row[index] = to_column(fields[name])
            fields["id"] = self._db.execute(INSERT, row).lastrowid
            if self._spill_at is not None and spill.in_use(self._db) > self._spill_at:
                self._move_to_file()
        return Event(**fields)

    def _move_to_file(self) -> None:
        """Go on in a temporary file, past the ceiling; the caller holds the lock."""
        moved = spill.to_file(self._db)
        self._spill_at = None  # once: a temporary folder that refused stays refused, and memory stays the store
        if moved is not None:
            self._db, self.spilled = moved
            self._db.row_factory = sqlite3.Row
            self._remove_spilled = weakref.finalize(self, spill.remove, str(self.spilled))  # at close() or exit
            spill.release_freed_memory()

    def set_response(self, event: Event, status: int, headers: dict, body: bytes, *, note: str) -> Event:
        """Record the whole answer, when it is not the one first stored (a handler failed after the insert)."""
        if not isinstance(event, Event):
            raise UsageTypeError(f"event must be a wl.Event from this store, got {event!r}")
        answer(status, headers, body, note)
        pairs = tuple(headers.items())
        with self._lock:
            self._db.execute(
                "UPDATE events SET status = ?, response_headers = ?, response_body = ?, note = ? WHERE id = ?",
                (status, json.dumps(pairs), body, note, event.id),
            )
        return replace(event, status=status, response_header_pairs=pairs, response_body=body, note=note)

    def set_verdict(self, event: Event, verified: bool | None, reason: str | None) -> None:
        """Record a signature verdict reached elsewhere: by the learner's own receiver, behind a relay."""
        if not isinstance(event, Event) or verified not in (True, False, None):
            raise UsageTypeError(f"set_verdict takes a wl.Event from this store and True, False or None, got "
                                 f"{type(event).__name__} and {verified!r}")  # fmt: skip
        why = None if verified is None else f"checked by the receiver in the learner's notebook: {reason or 'verified'}"
        with self._lock:
            self._db.execute("UPDATE events SET verified = ?, reason = ?, verification = ? WHERE id = ?",
                             (verified, reason, why, event.id))  # fmt: skip

    def _diagnosed(self, event: Event) -> Event:
        """The event with its failed check's likely cause, worked out now (outside the lock) if it never was."""
        message = self.diagnose(event)
        if message is None:
            return event
        with self._lock:
            self._db.execute("UPDATE events SET verification = ? WHERE id = ?", (message, event.id))
        return replace(event, verification=message)

    def count(self, endpoint: str | None = None, **filters) -> int:
        where, params = _where(endpoint, **filters)
        with self._lock:
            return self._db.execute(f"SELECT count(*) FROM events{where}", params).fetchone()[0]

    def tally(self) -> dict:
        """In one pass: events, verified, failed checks, duplicates, and the newest arrival (ISO 8601, or None)."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*), coalesce(sum(verified = 1), 0), coalesce(sum(verified = 0), 0), "
                "count(duplicate_of), max(received_at) FROM events"
            ).fetchone()
        return dict(zip(("received", "verified", "failed", "duplicates", "last_activity"), row))

    def get(self, event_id: int) -> Event:
        """One event by id; a negative number counts back from the newest (-1 is the last).

        The id is a whole number (numpy's integers, as in rx.events().index, too);
        anything else is a UsageError, and an id no event has is EventNotFound.
        """
        if isinstance(event_id, bool) or not isinstance(event_id, numbers.Integral):
            raise UsageTypeError(
                "an event id is a whole number, from the index of rx.events() (-1 is the newest, -2 the one "
                f"before), got {event_id!r}" + ("" if event_id is None else f" (type {type(event_id).__name__})")
            )
        event_id = int(event_id)
        if event_id < 0:
            sql, params = "SELECT * FROM events ORDER BY id DESC LIMIT 1 OFFSET ?", (-event_id - 1,)
        else:
            sql, params = "SELECT * FROM events WHERE id = ?", (event_id,)
        with self._lock:
            # SQLite's integers are 64-bit: no event has an id beyond them, and asking would overflow.
            row = self._db.execute(sql, params).fetchone() if -(2**63) <= event_id < 2**63 else None
            total = self._db.execute("SELECT count(*) FROM events").fetchone()[0]
        if row is None:
            raise EventNotFound(
                f"no event with id {event_id}: the store holds {total} event(s). "
                "Ids are the index of rx.events(); -1 is the newest."
            )
        return self._diagnosed(_to_event(row))

    def list(self, endpoint: str | None = None, *, after: int = 0, limit: int | None = None, newest: bool = False,
             offset: int = 0, **filters) -> list[Event]:  # fmt: skip
        """Events oldest first, optionally for one endpoint and only those with an id above `after`.

        `newest` takes the last `limit` instead of the first (still oldest first); `offset` skips as many first.
        """
        rows = self._select("*", endpoint, after, limit, newest=newest, offset=offset, **filters)
        return [self._diagnosed(_to_event(row)) for row in (rows[::-1] if newest else rows)]

    def summaries(self, endpoint: str | None = None, *, after: int = 0, limit: int | None = None,
                  newest: bool = False, **filters) -> list[dict]:  # fmt: skip
        """The table's columns only, without loading any body; `newest` takes the last `limit`, newest first.

        Filters: provider, event_type, verified (True, False, or "unchecked"), search (bytes in the body),
        before (ids below it only), since (ids above it only).
        """
        rows = self._select(SUMMARY_SELECT, endpoint, after, limit, newest=newest, **filters)
        return [{**row, "verified": _flag(row["verified"])} for row in map(dict, rows)]

    def page(self, endpoint: str | None = None, *, after: int = 0, limit: int = 100, newest: bool = False,
             offset: int = 0, **filters) -> tuple[list[dict], int, bool]:  # fmt: skip
        """(summaries, total, has_more): one page, and how many match the filters in all, read together.

        `offset` skips as many first (the page jumps with it). `total` ignores the
        cursors (after, before) and the offset, and counts what the filters select
        at the same moment as the page is read: nothing can arrive in between.
        """
        limit = number_of(limit, "limit", "how many events one page holds", least=1)
        offset = number_of(offset, "offset", "how many events to skip first")
        before = filters.pop("before", None)
        where, params = _where(endpoint, after, before=before, **filters)
        counted, counted_params = _where(endpoint, **filters)
        order = " DESC" if newest_first(newest) else ""
        sql = f"SELECT {SUMMARY_SELECT} FROM events{where} ORDER BY id{order} LIMIT ? OFFSET ?"
        with self._lock:
            rows = self._db.execute(sql, [*params, limit + 1, offset]).fetchall()
            total = self._db.execute(f"SELECT count(*) FROM events{counted}", counted_params).fetchone()[0]
        found = [{**row, "verified": _flag(row["verified"])} for row in map(dict, rows[:limit])]
        return found, total, len(rows) > limit

    def iterate(self, endpoint: str | None = None, *, batch: int = 500, **filters) -> Iterator[Event]:
        """Every matching event, oldest first, read `batch` at a time: memory stays flat whatever the count.

        Only events already stored when it starts are read, so it ends even while a burst arrives;
        the store is free for the receiver between batches.
        """
        batch = number_of(batch, "batch", "how many events are read at a time", least=1)
        _where(endpoint, **filters)  # a bad filter is an error here, not at the first event read
        with self._lock:
            last = self._db.execute("SELECT max(id) FROM events").fetchone()[0] or 0
        return self._batches(endpoint, batch, last, filters)

    def _batches(self, endpoint, batch: int, last: int, filters: dict) -> Iterator[Event]:
        after = 0
        while rows := self._select("*", endpoint, after, batch, before=last + 1, **filters):
            yield from (self._diagnosed(_to_event(row)) for row in rows)
            after = rows[-1]["id"]

    def span(self, endpoint: str | None = None, **filters) -> tuple[int, int]:
        """(how many events match, the newest one's id or 0), counted by SQLite in one read."""
        where, params = _where(endpoint, **filters)
        with self._lock:  # two queries: count(*) alone is SQLite's fastest count
            count = self._db.execute(f"SELECT count(*) FROM events{where}", params).fetchone()[0]
            last = self._db.execute(f"SELECT max(id) FROM events{where}", params).fetchone()[0]
        return count, last or 0

    def kept_bytes(self) -> int:
        """Bytes of the bodies kept, the requests' and the answers'."""
        with self._lock:
            return self._db.execute(
                "SELECT coalesce(sum(length(body)), 0) + coalesce(sum(length(response_body)), 0) FROM events"
            ).fetchone()[0]

    def endpoints(self) -> dict[str, int]:
        """Each endpoint that has events, with how many."""
        with self._lock:
            rows = self._db.execute("SELECT endpoint, count(*) FROM events GROUP BY endpoint").fetchall()
        return {name: count for name, count in rows}

    def frame(self, endpoint: str | None = None, *, since: int = 0, limit: int | None = None, **filters):
        """A pandas DataFrame, one row per request, indexed by event id, built from SQLite's rows directly.

        `since` keeps only events with a higher id; `limit` keeps the newest `limit` of them.
        """
        limit = number_of(limit, "limit", "how many of the newest events to show, or None for all", optional=True)
        where, params = _where(endpoint, whole(since, "since", "an event id: only events after it (0: all)"), **filters)
        sql = f"SELECT {SUMMARY_SELECT} FROM events{where} ORDER BY id{'' if limit is None else ' DESC LIMIT ?'}"
        with self._lock:
            cursor = self._db.cursor()
            cursor.row_factory = None  # plain tuples: pandas reads them column by column
            rows = cursor.execute(sql, params if limit is None else [*params, limit]).fetchall()
        return to_frame(rows if limit is None else rows[::-1])

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM events")

    def forget(self, ids) -> None:
        """Delete the events with these ids: an import that fails part way takes back what it added."""
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise UsageTypeError(f"ids must be a list of event ids, whole numbers, got {ids!r}")
        ids = [(whole(event_id, "each of ids", "an event id, a whole number"),) for event_id in ids]
        with self._lock:
            self._db.executemany("DELETE FROM events WHERE id = ?", ids)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._remove_spilled()

    def _select(self, columns: str, endpoint: str | None, after: int, limit: int | None, *, newest=False, offset=0,
                **filters):  # fmt: skip
        limit = number_of(limit, "limit", "how many events to read, or None for all", optional=True)
        offset = number_of(offset, "offset", "how many events to skip first")
        where, params = _where(endpoint, after, **filters)
        sql = f"SELECT {columns} FROM events{where} ORDER BY id{' DESC' if newest_first(newest) else ''}"
        if limit is not None or offset:
            sql, params = sql + " LIMIT ? OFFSET ?", [*params, -1 if limit is None else limit, offset]
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def __repr__(self) -> str:
        return f"<EventStore {self.location}, {self.count()} events>"

    @property
    def location(self) -> str:
        """Where the events are kept, in words: the file given, in memory, or the file memory moved to."""
        if self.spilled is not None:
            return f"in {self.spilled} (over {self.ceiling / 1024 / 1024:g} MB in memory, so moved there)"
        return str(self.path) if self.path is not None else "in memory"


def to_frame(rows: list):
    """Rows of the table's columns (tuples from SQLite, or dicts from the JSON API) as the events table."""
    import pandas as pd  # only when a table is asked for: it takes half a second to import

    table = pd.DataFrame.from_records(rows, columns=SUMMARY, nrows=len(rows))
    table["time"] = pd.to_datetime(table["time"], format="ISO8601", utc=True)
    table["verified"] = table["verified"].astype("boolean")  # True, False, or <NA> where nothing was checked
    table["duplicate_of"] = table["duplicate_of"].astype("Int64")
    if table.empty:  # nothing to infer the whole numbers from
        table = table.astype({"id": "int64", "status": "int64", "size": "int64"})
    return table.set_index("id")


def _to_event(row: sqlite3.Row) -> Event:
    values = dict(row)
    fields = {name: values[column] for name, column, _ in COLUMNS}
    fields["received_at"] = datetime.fromisoformat(fields["received_at"])
    fields["verified"] = _flag(fields["verified"])
    fields["header_pairs"] = tuple(map(tuple, json.loads(fields["header_pairs"])))
    fields["response_header_pairs"] = tuple(map(tuple, json.loads(fields["response_header_pairs"])))
    return Event(**fields)


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)
