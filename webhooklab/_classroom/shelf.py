"""The bins' stores, a bounded number open at once: a class of 100 starts where a process may open 256 files.

Each open SQLite store in WAL mode holds three files (the database, its log and its
shared index). A `BinStore` opens its connection when first used and the shelf closes
the least recently used ones past its size, only while no thread is using them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict

from .._receiving.store import EventStore, connect

FILES_PER_STORE = 3


class Shelf:
    """Which bins' stores are open, least recently used first; at most `size` stay open."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self._open: OrderedDict[int, BinStore] = OrderedDict()
        self._lock = threading.Lock()

    def used(self, store: BinStore) -> None:
        """`store` (whose lock the caller holds) is in use: most recent now, and others make room for it."""
        with self._lock:
            self._open[id(store)] = store
            self._open.move_to_end(id(store))
            if len(self._open) > self.size:
                for other in list(self._open.values())[: len(self._open) - self.size]:
                    if other is not store and other.shut(blocking=False):
                        del self._open[id(other)]

    def forget(self, store: BinStore) -> None:
        with self._lock:
            self._open.pop(id(store), None)

    def __len__(self) -> int:
        return len(self._open)


class BinStore(EventStore):
    """An EventStore on a file whose connection is opened on use and may be closed by its shelf in between.

    Every EventStore method uses its connection under the store's lock, so closing
    it under that lock never pulls it from under a reader; a batch read (iterate)
    takes the lock per batch and reopens as needed.
    """

    def __init__(self, path, shelf: Shelf):
        self._shelf = shelf
        self._connection: sqlite3.Connection | None = None
        super().__init__(path)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = connect(self.path)  # WAL mode is kept in the file itself
        self._shelf.used(self)
        return self._connection

    @_db.setter
    def _db(self, connection: sqlite3.Connection) -> None:  # EventStore.__init__ opens the first one
        self._connection = connection

    def shut(self, *, blocking: bool = True) -> bool:
        """Close the connection if no one is using it (or, blocking, once no one is); True when closed."""
        if not self._lock.acquire(blocking=blocking):
            return False
        try:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        finally:
            self._lock.release()
        return True

    def close(self) -> None:
        self.shut()
        self._shelf.forget(self)
