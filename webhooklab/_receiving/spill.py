"""An in-memory store's ceiling: past it, the events move to a temporary file, and the memory goes back.

A receiver started without db= keeps its events in SQLite's memory. Any web page
the learner opens can POST to it (a no-cors request from another site is
delivered like any webhook, 25 MB at a time), so memory alone would grow without
end. Past MEMORY_CEILING the store copies itself into a file of its own in
tempfile.gettempdir() (sqlite3's backup) and goes on there: nothing is lost,
everything reads as before, and the file is removed when the store is closed or
the process ends. See EventStore._move_to_file.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

# What an in-memory store holds (SQLite's pages in use, bodies and all) before it moves: thousands of ordinary
# events, and far below a laptop's memory. The process holds about a quarter more than this at its peak
# (SQLite's bookkeeping on each page), besides the bodies of the requests in flight.
MEMORY_CEILING = 256 * 1024 * 1024


def in_use(db: sqlite3.Connection) -> int:
    """Bytes of SQLite pages holding data (a page freed by a delete is not counted)."""
    (pages,), (free,), (size,) = (db.execute(f"PRAGMA {name}").fetchone() for name in
                                  ("page_count", "freelist_count", "page_size"))  # fmt: skip
    return (pages - free) * size


def to_file(db: sqlite3.Connection) -> tuple[sqlite3.Connection, Path] | None:
    """A copy of `db` in a new temporary file, opened as `db` was, and `db` closed; None (and `db` as it was)
    when the temporary folder refuses (full, read-only): the store then stays in memory."""
    try:
        handle, name = tempfile.mkstemp(prefix="webhooklab-events-", suffix=".db")
        os.close(handle)
    except OSError:
        return None
    disk = sqlite3.connect(name, check_same_thread=False, isolation_level=None)
    try:
        db.backup(disk)
        disk.execute("PRAGMA journal_mode = WAL")  # readers (the page, an export) never wait for a writer
        disk.execute("PRAGMA synchronous = OFF")  # a temporary copy: it goes with the process anyway
    except sqlite3.Error:
        disk.close()
        remove(name)
        return None
    db.close()  # the memory it held goes back
    return disk, Path(name)


def remove(name: str) -> None:
    """Remove a temporary database and the files SQLite keeps beside it; what is already gone is no error."""
    for path in (name, name + "-wal", name + "-shm", name + "-journal"):
        try:
            os.remove(path)
        except OSError:
            pass


def release_freed_memory() -> None:
    """Hand memory freed by a large event (its copies, SQLite's record of it, a database moved to a file) back
    to the system. glibc keeps freed blocks for reuse, a pool per thread, so without this a receiver's memory
    grows by a few large bodies per request thread, whatever the store holds."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (macOS, Windows, musl): its allocator decides."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
