"""What wait_for() returns: the events it waited for, read only as they are used, from a store or a bin."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from .._errors import EventNotFound, UsageTypeError
from .._event import Event

BATCH = 500  # events read at a time when iterating


class Reader(Protocol):
    """Where an Arrivals reads its events: a receiver's EventStore, or a class bin's JSON API (remote.BinReader).

    The matching events oldest first: those of `endpoint` (all, if None) with an id above `after`
    and below `before`, `offset` of them skipped, then at most `limit` (all, if None); with
    `newest`, the last `limit` instead of the first, still oldest first.
    """

    def list(self, endpoint: str | None = None, *, after: int = 0, limit: int | None = None, newest: bool = False,
             offset: int = 0, before: int | None = None) -> list[Event]: ...  # fmt: skip


class Arrivals(Sequence):
    """The matching events stored when wait_for() returned, oldest first, read on demand.

    It behaves like the list it stands for: `len(arrived)` was counted where
    the events are stored, `arrived[-1]` reads one event, `first, second =
    arrived` and `for event in arrived` read them 500 at a time, `arrived[-5:]`
    reads five. So waiting costs the same with a hundred thousand events
    stored as with one, on this machine (SQLite) or in a bin on a class server
    (its JSON API). `last_id` is a cursor: `rx.events(since=arrived.last_id)`
    is everything that came after.
    """

    def __init__(self, reader: Reader, endpoint: str | None, count: int, last_id: int):
        self._reader, self.endpoint, self._count, self.last_id = reader, endpoint, count, last_id

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step < 0:
                return self[stop + 1 : start + 1][::-1][:: -step]
            return self._read(start, max(stop - start, 0))[::step]
        if not isinstance(index, int) and hasattr(index, "__index__"):
            index = index.__index__()  # numpy's integers
        if not isinstance(index, int):
            raise UsageTypeError(f"arrivals are read by position, arrived[0] or arrived[-1] (a whole number or a "
                                 f"slice), got {index!r}; an event's id goes to rx.event(id)")  # fmt: skip
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise EventNotFound(f"arrivals index {index!r} out of range: {self._count} event(s) arrived")
        found = self._read(position, 1)
        if not found:
            raise EventNotFound(f"event {index} of these arrivals is no longer stored (was the receiver cleared?)")
        return found[0]

    def __iter__(self) -> Iterator[Event]:
        after = 0
        while batch := self._reader.list(self.endpoint, after=after, limit=BATCH, before=self.last_id + 1):
            yield from batch
            after = batch[-1].id

    def __eq__(self, other) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def _read(self, start: int, count: int) -> list[Event]:
        if count <= 0:
            return []
        if start >= self._count - start - count:  # nearer the newest end: count back from there
            found = self._reader.list(self.endpoint, limit=count, newest=True, offset=self._count - start - count,
                                     before=self.last_id + 1)  # fmt: skip
        else:
            found = self._reader.list(self.endpoint, limit=count, offset=start, before=self.last_id + 1)
        return found

    def __repr__(self) -> str:
        where = f" at {self.endpoint!r}" if self.endpoint else ""
        if not self._count:
            return f"<Arrivals: no events{where}>"
        return f"<Arrivals: {self._count} event(s){where}, the newest #{self.last_id}: read them with [-1] or a for loop>"
