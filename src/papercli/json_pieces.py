"""Reading a JSON document whose one big array is too large to hold, an element at a time.

An export of a million papers is gigabytes of JSON: ``json.load`` would hold the text
and every object made from it. This reads the file a piece at a time and hands each
value to the standard library's own parser (``raw_decode``), so syntax, nesting and
escapes are judged exactly as ``json.loads`` judges them; only the top-level object's
punctuation is read here. (ijson was tried and left: it ran out of memory on a
100,000-deep nesting, and turned a lone surrogate into "?" without a word.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import NoReturn, TextIO

CHUNK = 1 << 20  # characters read at a time
MAX_VALUE = 256 << 20
"""The most characters one value may take (a paper with its notes): the memory a hostile
file can make an import use, whatever its size."""

_MARGIN = 64
"""A value that ends, or fails, this close to the end of what is read may be cut short
there (``1.5`` of ``1.5e3``, ``tru`` of ``true``): it is parsed again with more text."""
_SPACE = re.compile(r"[ \t\n\r]*")


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """An object, unless a key is given twice in it (``json.loads`` keeps the last)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        keys = [key for key, _ in pairs]
        raise _RepeatedKey(next(key for i, key in enumerate(keys) if key in keys[:i]))
    return found


_DECODER = json.JSONDecoder(object_pairs_hook=_object)


class NotAnObject(ValueError):
    """The document is another kind of JSON value than an object."""


class BadJSON(ValueError):
    """Bad syntax, where ``json.loads`` would say it is (line and column from 1)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message}: line {line} column {column}")
        self.message, self.line, self.column = message, line, column


def members(file: TextIO, array: str) -> Iterator[tuple[str, int | None, object]]:
    """The top-level object's members in file order, as ``(key, None, value)``; the member
    named ``array``, when it is an array, comes as ``(array, None, [])`` and then an
    element at a time, as ``(array, index, element)``.

    Raises ``BadJSON`` for bad syntax, ``NotAnObject`` when the document is another kind
    of value, and ``RecursionError`` for nesting too deep for the parser. A key given
    twice, at any depth, is an error: ``json.loads`` would keep the last (and at the top,
    the first's elements are gone by then).
    """
    reader = _Reader(file)
    if reader.peek() != "{":
        reader.value()  # its syntax is judged first, as json.loads would
        reader.end()
        raise NotAnObject
    reader.take()
    seen: set[str] = set()
    if reader.peek() == "}":
        reader.take()
    else:
        while True:
            if reader.peek() != '"':
                reader.fail("Expecting property name enclosed in double quotes")
            key = str(reader.value())
            if key in seen:
                reader.fail(f"Repeated key {key[:40]!r}", reader.value_start)
            seen.add(key)
            reader.expect(":")
            if key == array and reader.peek() == "[":
                reader.take()
                yield key, None, []
                index = 0
                if reader.peek() == "]":
                    reader.take()
                else:
                    while True:
                        yield key, index, reader.value()
                        index += 1
                        if reader.next_of(",]") == "]":
                            break
            else:
                yield key, None, reader.value()
            if reader.next_of(",}") == "}":
                break
    reader.end()


class _Reader:
    """The text read so far that is not yet consumed, and where it sits in the file."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self._text = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # the line and column (from 1) of _text[0] in the file
        self._column = 1
        self.value_start = 0  # where in _text the last value began

    def _fill(self, size: int = 0) -> bool:
        """Read more; False at the end of the file. What was consumed is let go of."""
        if self._eof:
            return False
        piece = self._file.read(size or CHUNK)
        if not piece:
            self._eof = True
            return False
        done = self._text[: self._pos]
        newlines = done.count("\n")
        self._line += newlines
        self._column = len(done) - done.rfind("\n") if newlines else self._column + len(done)
        self._text = self._text[self._pos :] + piece
        self._pos = 0
        return True

    def peek(self) -> str:
        """The next character after white space ("" at the end of the file)."""
        while True:
            self._pos = _SPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._text) or not self._fill():
                return self._text[self._pos : self._pos + 1]

    def take(self) -> None:
        self._pos += 1

    def end(self) -> None:
        if self.peek():
            self.fail("Extra data")

    def expect(self, char: str) -> None:
        if self.peek() != char:
            self.fail(f"Expecting {char!r} delimiter")
        self.take()

    def next_of(self, chars: str) -> str:
        """The next character, which must be one of ``chars`` (a delimiter), consumed."""
        found = self.peek()
        if not found or found not in chars:
            self.fail(f"Expecting {chars[0]!r} delimiter")
        self.take()
        return found

    def value(self) -> object:
        """The next JSON value, read further while it may run on past what is read."""
        self.peek()
        while True:
            start = self.value_start = self._pos
            try:
                found, end = _DECODER.raw_decode(self._text, start)
            except _RepeatedKey as exc:
                self.fail(f"Repeated key {exc.key[:40]!r} in an object", start)
            except json.JSONDecodeError as exc:
                stopped_short = exc.pos + _MARGIN >= len(self._text) or exc.msg.startswith(
                    "Unterminated string"
                )
                if not (stopped_short and self._read_on()):
                    self.fail(exc.msg, exc.pos)
                continue
            if end + _MARGIN < len(self._text) or not self._read_on():
                self._pos = end
                return found  # a value near the end of what is read may go on: read on

    def _read_on(self) -> bool:
        """Read as much again as the value so far (its parse starts over: doubling keeps
        the total linear), up to MAX_VALUE; False at the end of the file."""
        held = len(self._text) - self._pos
        if held > MAX_VALUE:
            self.fail(f"A value longer than {MAX_VALUE:,} characters")
        return self._fill(max(CHUNK, held))

    def fail(self, message: str, at: int | None = None) -> NoReturn:
        at = self._pos if at is None else at
        before = self._text[:at]
        newlines = before.count("\n")
        column = at - before.rfind("\n") if newlines else self._column + at
        raise BadJSON(message, self._line + newlines, column)
