"""Text read a line at a time, each line bounded: stdin or a file without line breaks
(``/dev/zero``, a disk image) was read into memory whole, until memory ran out."""

from __future__ import annotations

from papercli import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import TextIO

MAX_LINE = 4096
"""Characters in a line of references: none is longer than 1,000 (``refs.LONGEST_REF``)."""


class LineTooLong(Exception):
    """Line ``number`` (from 1) is longer than allowed; ``start`` holds its first
    characters, to show."""

    def __init__(self, number: int, start: str) -> None:
        super().__init__(number)
        self.number = number
        self.start = start


def bounded_lines(stream: TextIO, limit: int = MAX_LINE) -> Iterator[str]:
    """The lines of ``stream`` as iterating it gives them; LineTooLong past ``limit``."""
    number = 0
    while line := stream.readline(limit):
        number += 1
        if len(line) == limit and not line.endswith("\n"):
            raise LineTooLong(number, line[:40])
        yield line
