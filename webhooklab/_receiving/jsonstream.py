"""A JSON file read one value at a time, within bounds: the entries of a HAR, the items of an array, JSON Lines.

A file to import may be huge, cut short or not JSON at all. This reader never holds more
than one value (at most `limit` characters of its text) and a chunk of the file, and
every refusal is a UsageError that names the line, and the entry, where it happened.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator

from .._errors import UsageError

CHUNK = 1024 * 1024  # bytes read from the file at a time
SPACE = re.compile(r"[ \t\r\n]*")
OUTSIDE = re.compile(r'["{}\[\]]')  # what changes the depth, outside a string
INSIDE = re.compile(r'["\\]')  # what ends a string, or escapes its next character
SCALAR_END = re.compile(r"[,\]}\s]")


class Malformed(UsageError):
    """A file to import is not what an export writes: the message names where, and what was expected there."""


class JsonStream:
    """A cursor over JSON text read from a binary file: peek, take a character, read or skip one value."""

    def __init__(self, raw, limit: int, name: str):
        self._raw, self.limit, self.name = raw, limit, name
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._buffer, self._at, self._eof = "", 0, False
        self._line, self._counted = 1, 0  # the line at `_counted`, a place in the buffer the cursor has passed

    @property
    def line(self) -> int:
        """The line the cursor is on, from 1."""
        return self._count()

    def _count(self) -> int:
        """Count the lines the cursor passed since last counted (not from the start again: a file has many)."""
        self._line += self._buffer.count("\n", self._counted, self._at)
        self._counted = self._at
        return self._line

    def _more(self) -> bool:
        """Read the next chunk, dropping what the cursor has passed; False at the end of the file."""
        while not self._eof:
            chunk = self._raw.read(CHUNK)
            try:
                text = self._decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                raise Malformed(f"{self.name}, line {self.line} or soon after: expected UTF-8 text, as every JSON and "
                                f"HAR file is, but found the byte {error.object[error.start]:#04x}. A binary file, or "
                                "a file saved in another encoding, is the likely cause") from None  # fmt: skip
            self._eof = not chunk
            self._count()  # up to the cursor, where the buffer now starts
            self._buffer, self._at, self._counted = self._buffer[self._at :] + text, 0, 0
            if text:
                return True
        return False

    def peek(self) -> str:
        """The next character that is not white space, without taking it; "" at the end of the file."""
        while True:
            self._at = SPACE.match(self._buffer, self._at).end()
            if self._at < len(self._buffer):
                return self._buffer[self._at]
            if not self._more():
                return ""

    def ahead(self, size: int) -> str:
        """Up to `size` characters from the cursor on, without taking them."""
        self.peek()
        while len(self._buffer) - self._at < size and self._more():
            pass
        return self._buffer[self._at : self._at + size]

    def take(self, expected: str, what: str) -> None:
        """Take one character, which must be `expected`."""
        found = self.peek()
        if found != expected:
            raise self.unexpected(f"{expected!r}", what)
        self._at += 1

    def unexpected(self, expected: str, what: str) -> Malformed:
        found = self.peek()
        if not found:
            return Malformed(f"{self.name} ends at line {self.line}, in {what}, where {expected} was expected: the "
                             "file was cut short (a download or a copy that did not finish is the likely cause)")  # fmt: skip
        return Malformed(f"{self.name}, line {self.line}, in {what}: expected {expected}, found "
                         f"{self.ahead(20)!r}. The file is not the JSON an export writes")  # fmt: skip

    def value(self, what: str):
        """The next value, parsed (strictly: NaN and Infinity are not JSON)."""
        what = self.here(what)
        text = self._text(what)
        try:
            return json.loads(text, parse_constant=_not_json)
        except (ValueError, RecursionError) as error:
            why = getattr(error, "msg", str(error))
            raise Malformed(f"{self.name}, {what}: expected a JSON value, but it is not valid JSON ({why})") from None

    def skip(self, what: str) -> None:
        """Pass over the next value without parsing it (still within the limit)."""
        self._text(self.here(what))

    def here(self, what: str) -> str:
        """`what`, with the line it starts on unless it names one already."""
        return what if "line " in what else f"{what} (line {self.line})"

    def _text(self, what: str) -> str:
        """The next value's text, found by its brackets and strings, read until it ends or the limit is passed."""
        first = self.peek()
        if not first:
            raise self.unexpected("a value", what)
        end = None
        # seen: characters of the value already scanned; an object or an array is one deep after its first one
        depth, in_string, seen = int(first in "{["), first == '"', 1
        scalar = first not in '{["'
        while end is None:
            buffer, at = self._buffer, self._at + seen
            if scalar:
                found = SCALAR_END.search(buffer, at)
                end = found.start() if found else (len(buffer) if self._eof else None)
                at = len(buffer) if end is None else end
            while end is None and at < len(buffer):
                found = (INSIDE if in_string else OUTSIDE).search(buffer, at)
                if found is None:
                    at = len(buffer)
                elif in_string and found.group() == "\\":
                    if found.end() >= len(buffer):
                        at = found.start()  # the escaped character is in the next chunk
                        break
                    at = found.end() + 1
                elif found.group() == '"':
                    in_string, at = not in_string, found.end()
                    end = at if depth == 0 and not in_string else None
                else:
                    depth += 1 if found.group() in "{[" else -1
                    at = found.end()
                    end = at if depth == 0 else None
            seen = at - self._at
            if end is None:
                if seen > self.limit:
                    raise Malformed(f"{self.name}, {what}: more than {self.limit:,} characters of JSON, "
                                    "more than any event this receiver keeps: a file that is not an export, or one "
                                    "whose entries were joined into one, is the likely cause")  # fmt: skip
                if not self._more():
                    raise Malformed(f"{self.name} ends inside {what}: the file was cut "
                                    "short (a download or a copy that did not finish is the likely cause)")  # fmt: skip
        text, self._at = self._buffer[self._at : end], end
        return text

    def members(self, what: str) -> Iterator[str]:
        """An object's keys, one at a time: the caller reads or skips each value before asking for the next key."""
        self.take("{", what)
        if self.peek() == "}":
            self._at += 1
            return
        while True:
            key = self.value(f"a key of {what}")
            if not isinstance(key, str):
                raise Malformed(f"{self.name}, line {self.line}, {what}: expected a key in quotes, found {key!r}")
            self.take(":", what)
            yield key
            if self.peek() != ",":
                self.take("}", what)
                return
            self._at += 1

    def items(self, what: str) -> Iterator[tuple[str, object]]:
        """An array's items, each parsed, with where it is in words: ("entry 3 (line 12)", item)."""
        self.take("[", "the list of entries")
        if self.peek() == "]":
            self._at += 1
            return
        number = 0
        while True:
            number += 1
            self.peek()  # the line the item starts on, past the white space after the comma
            where = f"{what} {number} (line {self.line})"
            yield where, self.value(where)
            if self.peek() != ",":
                self.take("]", f"the list of entries, after {where}")
                return
            self._at += 1

    def lines(self) -> Iterator[tuple[str, object]]:
        """Values one after another to the end of the file, as JSON Lines holds them: ("line 3", value)."""
        while self.peek():
            where = f"line {self.line}"
            yield where, self.value(where)

    def end(self, what: str) -> None:
        """Nothing but white space may follow the file's one value."""
        if self.peek():
            raise self.unexpected("the end of the file", f"what follows {what}")


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON (RFC 8259)")
