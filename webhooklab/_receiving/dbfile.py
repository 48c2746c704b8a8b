"""A db= path: whether it can hold a store's file, and what SQLite's refusal to open it means, in words."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from .._errors import ReceiverError, UsageError


def check_location(path: Path) -> None:
    """A UsageError when `path` cannot be a database file: a folder, or in a folder that does not exist."""
    if os.path.isdir(path):
        raise UsageError(
            f"db={str(path)!r} is a folder; db= names the file to keep the events in, "
            f"such as {str(path / 'events.db')!r}"
        )
    folder = path.parent
    if not os.path.exists(folder):
        raise UsageError(
            f"db={str(path)!r} is in a folder that does not exist: {_absolute(folder)}. Create it first, "
            f"with Path({str(folder)!r}).mkdir(parents=True), or choose a file in a folder that exists"
        )
    if not os.path.isdir(folder):
        raise UsageError(f"db={str(path)!r} cannot be created: {str(folder)!r} is a file, not a folder")


def cannot_open(path: Path | None, error: sqlite3.Error) -> Exception:
    """The error to raise when SQLite refused `path`, saying the likely cause."""
    said = str(error)
    shown = "an in-memory database" if path is None else f"db={str(path)!r}"
    if "not a database" in said:
        return UsageError(
            f"{shown} exists but is not a SQLite database (SQLite says {said!r}), so the events cannot be kept "
            "in it; it was left as it was. Give db= a new file name, such as 'events.db', or a file a "
            "Receiver wrote before"
        )
    denied = _read_only(path)
    if path is not None and (denied or "readonly" in said or "read-only" in said):
        return ReceiverError(
            f"cannot write to {shown}: {denied or f'SQLite says {said!r}'}. A receiver writes each event it "
            f"captures there, with {path.name}-wal and {path.name}-shm beside it; choose a file in a folder you "
            "can write to, such as the notebook's"
        )
    if "locked" in said or "busy" in said:
        return ReceiverError(
            f"{shown} is locked by another program (SQLite says {said!r}): close the program or notebook "
            "that holds it, or use another file"
        )
    return ReceiverError(
        f"cannot open {shown} as an event store: SQLite says {said!r}. Is it a file on a disk this user "
        "can write to?"
    )


def _read_only(path: Path | None) -> str | None:
    """Why this user cannot write `path` or create files beside it, or None when nothing says so."""
    if path is None:
        return None
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return "the file is read-only for this user"
    if not os.access(path.parent, os.W_OK):
        return f"the folder {_absolute(path.parent)} is read-only for this user"
    return None


def _absolute(path: Path) -> str:
    try:
        return repr(str(path.absolute()))
    except OSError:  # the current folder itself is gone
        return repr(str(path))
