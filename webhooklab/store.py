"""The event store: captured requests in SQLite, read back as Event records or a pandas table."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from .errors import EventNotFound
from .event import Event

SCHEMA = files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")

# Columns in the order the INSERT names them; id is assigned by SQLite.
COLUMNS = (
    "received_at", "endpoint", "method", "path", "query", "headers", "body",
    "content_type", "size", "client", "status", "response_headers",
    "response_body", "provider", "event_type", "delivery_id", "preview", "note",
    "verified", "reason", "verification", "duplicate_of",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "id", "time", "endpoint", "method", "provider", "event_type",
    "delivery_id", "status", "size", "preview", "verified", "reason", "duplicate_of",
)  # fmt: skip
SUMMARY_SELECT = ", ".join("received_at AS time" if c == "time" else c for c in SUMMARY_COLUMNS)
INSERT = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


class EventStore:
    """SQLite through one connection guarded by a lock, shared by the server's request threads.

    In memory unless a path is given. A file is opened in WAL mode, so another
    process (the command line, a second kernel) can read while this one writes,
    and every event is committed before the receiver answers the request.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            ":memory:" if self.path is None else self.path,
            check_same_thread=False,
            isolation_level=None,  # autocommit: each INSERT is durable when it returns
        )
        self._db.row_factory = sqlite3.Row
        if self.path is not None:
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(SCHEMA)

    def add(self, event: dict) -> int:
        """Store one captured request (a dict keyed by column name) and return its id."""
        row = [event.get(column) for column in COLUMNS]
        row[COLUMNS.index("headers")] = json.dumps(event["headers"])
        row[COLUMNS.index("response_headers")] = json.dumps(event["response_headers"])
        with self._lock:
            if event.get("delivery_id"):
                row[COLUMNS.index("duplicate_of")] = self._db.execute(
                    "SELECT min(id) FROM events WHERE endpoint = ? AND delivery_id = ?",
                    (event["endpoint"], event["delivery_id"]),
                ).fetchone()[0]
            return self._db.execute(INSERT, row).lastrowid

    def set_response(self, event_id: int, status: int, body: bytes, *, note: str) -> None:
        """Record a different answer than the one first stored (a handler failed after the insert)."""
        with self._lock:
            self._db.execute(
                "UPDATE events SET status = ?, response_body = ?, note = ? WHERE id = ?", (status, body, note, event_id)
            )

    def count(self, endpoint: str | None = None, **filters) -> int:
        where, params = _where(endpoint, **filters)
        with self._lock:
            return self._db.execute(f"SELECT count(*) FROM events{where}", params).fetchone()[0]

    def get(self, event_id: int) -> Event:
        """One event by id; a negative number counts back from the newest (-1 is the last)."""
        if event_id < 0:
            sql, params = "SELECT * FROM events ORDER BY id DESC LIMIT 1 OFFSET ?", (-event_id - 1,)
        else:
            sql, params = "SELECT * FROM events WHERE id = ?", (event_id,)
        with self._lock:
            row = self._db.execute(sql, params).fetchone()
            total = self._db.execute("SELECT count(*) FROM events").fetchone()[0]
        if row is None:
            raise EventNotFound(
                f"no event with id {event_id}: the store holds {total} event(s). "
                "Ids are the index of rx.events(); -1 is the newest."
            )
        return _to_event(row)

    def list(self, endpoint: str | None = None, *, after: int = 0, limit: int | None = None, **filters) -> list[Event]:
        """Events oldest first, optionally for one endpoint and only those with an id above `after`."""
        return [_to_event(row) for row in self._select("*", endpoint, after, limit, **filters)]

    def summaries(self, endpoint: str | None = None, *, after: int = 0, limit: int | None = None,
                  newest: bool = False, **filters) -> list[dict]:  # fmt: skip
        """The table's columns only, without loading any body; `newest` takes the last `limit`, newest first.

        Filters: provider, event_type, verified (True, False, or "unchecked"), search (bytes in the body).
        """
        rows = self._select(SUMMARY_SELECT, endpoint, after, limit, newest=newest, **filters)
        return [{**row, "verified": _flag(row["verified"])} for row in map(dict, rows)]

    def frame(self, endpoint: str | None = None):
        """A pandas DataFrame, one row per request, indexed by event id."""
        return to_frame(self.summaries(endpoint))

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM events")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _select(self, columns: str, endpoint: str | None, after: int, limit: int | None, *, newest=False, **filters):
        where, params = _where(endpoint, after, **filters)
        sql = f"SELECT {columns} FROM events{where} ORDER BY id{' DESC' if newest else ''}"
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, limit]
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def __repr__(self) -> str:
        return f"<EventStore {self.path or 'in memory'}, {self.count()} events>"


def to_frame(summaries: list[dict]):
    """Summaries (from the store or the JSON API) as the events table, indexed by event id."""
    import pandas as pd  # only when a table is asked for: it takes half a second to import

    table = pd.DataFrame(summaries, columns=SUMMARY_COLUMNS)
    table["time"] = pd.to_datetime(table["time"], format="ISO8601", utc=True)
    table["verified"] = table["verified"].astype("boolean")  # True, False, or <NA> where nothing was checked
    return table.astype({"id": "int64", "status": "int64", "size": "int64", "duplicate_of": "Int64"}).set_index("id")


def _where(endpoint: str | None, after: int = 0, *, provider: str | None = None, event_type: str | None = None,
           delivery_id: str | None = None, verified: bool | str | None = None, search: str | None = None,
           ids=None) -> tuple[str, list]:  # fmt: skip
    clauses, params = ["id > ?"], [after]
    for column, value in (("endpoint", endpoint), ("provider", provider), ("event_type", event_type),
                          ("delivery_id", delivery_id)):  # fmt: skip
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if verified == "unchecked":
        clauses.append("verified IS NULL")
    elif verified is not None:
        clauses.append("verified = ?")
        params.append(int(bool(verified)))
    if search:
        clauses.append("instr(body, ?) > 0")
        params.append(search.encode("utf-8"))
    if ids is not None:
        clauses.append(f"id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    return " WHERE " + " AND ".join(clauses), params


def _to_event(row: sqlite3.Row) -> Event:
    fields = dict(row)
    fields["received_at"] = datetime.fromisoformat(fields["received_at"])
    fields["verified"] = _flag(fields["verified"])
    fields["header_pairs"] = tuple(map(tuple, json.loads(fields.pop("headers"))))
    fields["response_header_pairs"] = tuple(map(tuple, json.loads(fields.pop("response_headers"))))
    return Event(**fields)


def _flag(value: int | None) -> bool | None:
    return None if value is None else bool(value)
