"""Plain text for people: control characters made visible, tables aligned and fitted to a
width, words wrapped. No rich here: piped output and the everyday commands use only this."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice, zip_longest

# What data must not send to a terminal: the C0 controls, DEL and the C1 controls (ESC and
# CSI start every escape sequence: clearing the screen, OSC 8 links, retitling the window),
# the line and paragraph separators, which have no width there, and the bidirectional
# overrides, isolates and marks (LRM, RLM, ALM), which reorder the rest of a line. Each is
# shown as the escape Python would write, so "\x1b[2J" prints as those seven characters.
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_ONE_LINE = {
    code: _NAMED.get(code, f"\\x{code:02x}") for code in (*range(0x20), *range(0x7F, 0xA0))
}
_ONE_LINE |= {
    code: f"\\u{code:04x}"
    for code in (
        0x061C,
        0x200E,
        0x200F,
        0x2028,
        0x2029,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    )
}
_MULTILINE = {code: escape for code, escape in _ONE_LINE.items() if code not in (0x09, 0x0A)}


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` made safe to show at a terminal: every control character is shown as an
    escape (``\\x1b``), which defuses any escape sequence it started; ``multiline`` keeps
    newlines and tabs. The one sanitizer for text meant for people (JSON and CSV stay
    exact). Rich markup needs none: data goes to Rich as ``Text``, never as markup."""
    if text.isprintable():
        return text
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


_DROPPED = dict.fromkeys(_ONE_LINE)


def without_controls(text: str) -> str:
    """``text`` on one line (runs of white space as one space) without what ``printable``
    escapes: text a service sends, which no title or name needs, is stored so."""
    text = " ".join(text.split())
    # A control between two spaces ("and \u200f rlm"), dropped, left them side by side.
    return text if text.isprintable() else " ".join(text.translate(_DROPPED).split())


def clipped(text: str, limit: int = 80) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut: what a
    message quotes back from its input stays one short line, whatever was typed or sent."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


MOST_QUOTED = 300
"""The characters an error quotes of one thing given (a path, an argument): more, and a
value of a hundred thousand filled the screen."""


MOST_SAID = 990
"""The characters of an error message at most, its line (after ``error: ``) within 1,000:
what no message of papercli's own needs, though a path with spaces in it (which
``MOST_QUOTED`` cannot tell from words) may."""


def with_long_words_clipped(text: str) -> str:
    """``text`` with each run of more than ``MOST_QUOTED`` characters without a space (what
    no word is: a path, an argument, as given) ``clipped`` to that many, and its middle
    left out past ``MOST_SAID``, where what went wrong is said after the path."""
    if len(text) <= MOST_QUOTED:
        return text
    import re

    def clip(found: re.Match[str]) -> str:
        word, mark = found[1], found[2]  # the colon after a path stays: "…: Not a directory"
        return clipped(word, MOST_QUOTED) + mark

    text = re.sub(f"([^ ]{{{MOST_QUOTED + 1},}}?)([:;,]?)(?= |$)", clip, text)
    if len(text) <= MOST_SAID:
        return text
    kept = (MOST_SAID - 3) // 2
    return text[:kept] + " … " + text[-kept:]


def counted(count: int, noun: str) -> str:
    """``1 paper``, ``2,000 papers``: a count with its noun, in the plural but for one."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def cell_width(text: str) -> int:
    """The columns ``text`` takes at a terminal: two for each wide character (CJK, most
    emoji), none for a combining mark or a joiner, one for the rest; what aligns a plain
    table's columns (counting characters shifted every cell after a title in Chinese)."""
    if text.isascii():
        return len(text)
    from unicodedata import category, east_asian_width  # a C module, loaded in 0.1 ms

    return sum(
        0 if category(c) in _ZERO_WIDTH else 2 if east_asian_width(c) in "WF" else 1 for c in text
    )


_ZERO_WIDTH = frozenset({"Mn", "Me", "Cf"})  # combining marks, joiners and selectors


def plain_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns aligned with spaces; the last column is never padded."""
    return "\n".join(plain_table_lines(headers, rows))


ALIGNED_ROWS = 1000


# Columns of numbers, right-aligned in every table (plain and Rich); ids and text are
# left-aligned.
NUMBER_HEADERS = frozenset(
    {"#", "step", "year", "papers", "read", "reading", "unread", "skipped", "total", "read %"}
    | {"score", "cited by", "events read", "not read yet"}
)


def plain_table_lines(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    width: int | None = None,
    wrapping: Mapping[str, int | None] | Collection[str] = (),
) -> Iterator[str]:
    """The lines of ``plain_table``, made as they are read. Columns are as wide as the
    header and the first ``ALIGNED_ROWS`` rows need, so a listing of any length starts
    at once and holds at most that many rows. Cells are made ``printable``.

    Without ``width`` (for pipes) each row is one line, and a later, longer cell is
    printed whole, pushing the rest of its line right. With ``width`` (at a terminal)
    no line is longer: the ``wrapping`` columns (as wide at most as a mapping says) give
    up room first, widest first, their cells wrapped at word boundaries, and a cell still
    too wide for its column is folded.
    """
    rows = ([printable(cell) for cell in row] for row in rows)
    first = [list(headers), *islice(rows, ALIGNED_ROWS)]
    if len(first) == 1:
        return
    widths = [max(cell_width(row[i]) for row in first) for i in range(len(headers))]
    right = [header in NUMBER_HEADERS for header in headers]
    pads = [*widths[:-1], widths[-1] if right[-1] else 0]  # the last column is not padded
    if width is None:
        for row in chain(first, rows):
            yield _table_line(row, pads, right)
        return
    widths = fitted_widths(headers, widths, width - 2 * (len(widths) - 1), wrapping)
    pads = [*widths[:-1], widths[-1] if right[-1] else 0]
    for row in chain(first, rows):
        cells = [_wrapped_cell(cell, room) for cell, room in zip(row, widths, strict=True)]
        for parts in zip_longest(*cells, fillvalue=""):
            yield _table_line(parts, pads, right)


def _table_line(cells: Sequence[str], pads: Sequence[int], right: Sequence[bool]) -> str:
    if not "".join(cells).isascii():  # pads in characters that fill those columns
        pads = [pad - cell_width(cell) + len(cell) for cell, pad in zip(cells, pads, strict=True)]
    return "  ".join(
        cell.rjust(pad) if flush_right else cell.ljust(pad)
        for cell, pad, flush_right in zip(cells, pads, right, strict=True)
    ).rstrip()


NARROWEST_COLUMN = 8


def fitted_widths(
    headers: Sequence[str],
    widths: list[int],
    room: int,
    wrapping: Mapping[str, int | None] | Collection[str],
) -> list[int]:
    """Column widths that add up to at most ``room`` (what the gaps between them leave):
    the widest ``wrapping`` column gives up a column at a time, down to its header or
    ``NARROWEST_COLUMN``; then, on a very narrow terminal, the others do too (also the
    Rich tables': left to Rich, a title got three columns of thirty)."""
    most = wrapping if isinstance(wrapping, Mapping) else {}
    widths = [min(w, most.get(h) or w) for h, w in zip(headers, widths, strict=True)]
    floors = [min(w, max(len(h), NARROWEST_COLUMN)) for h, w in zip(headers, widths, strict=True)]
    everything = range(len(widths))
    for pool in ([i for i in everything if headers[i] in wrapping], everything):
        while sum(widths) > room:
            shrinkable = [i for i in pool if widths[i] > floors[i]]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    return widths


def _wrapped_cell(cell: str, width: int) -> list[str]:
    if cell_width(cell) <= width:
        return [cell]
    return wrapped(cell, width, break_long_words=True) or [""]


def wrapped(
    text: str,
    width: int,
    *,
    initial_indent: str = "",
    subsequent_indent: str = "",
    break_long_words: bool = False,
) -> list[str]:
    """``text``'s words in lines of at most ``width`` terminal cells, as ``textwrap.wrap``
    (never at a hyphen) but measured in cells: a title in Chinese counted in characters
    took twice its line. A line may also break between two wide characters, as CJK text
    is written without spaces. A word wider than a line is cut with
    ``break_long_words``, else left whole (a URL, copied and grepped, must stay one)."""
    import re
    import textwrap

    if (text + initial_indent + subsequent_indent).isascii():
        return textwrap.wrap(
            text,
            width,
            initial_indent=initial_indent,
            subsequent_indent=subsequent_indent,
            break_long_words=break_long_words,
            break_on_hyphens=False,
        )
    lines: list[str] = []
    line, used, empty = initial_indent, cell_width(initial_indent), True
    # As textwrap: split at ASCII white space only (a no-break space holds words
    # together), keep the spaces between words and those that start the paragraph.
    spaces = ""
    for index, word in enumerate(re.split(r"([\t\n\x0b\x0c\r ]+)", text.expandtabs())):
        if index % 2:
            spaces = " " * len(word)
            continue
        for number, piece in enumerate(_breakable_pieces(word)):
            gap = len(spaces) if number == 0 and (not empty or not lines) else 0
            size = cell_width(piece)
            if not empty and used + gap + size > width:
                lines.append(line)
                line, used, empty = subsequent_indent, cell_width(subsequent_indent), True
                gap = 0
            while break_long_words and empty and used + size > width and len(piece) > 1:
                head = _cells_prefix(piece, max(width - used, 1))
                lines.append(line + head)
                line, used = subsequent_indent, cell_width(subsequent_indent)
                piece, size = piece[len(head) :], size - cell_width(head)
            line, used, empty = line + " " * gap + piece, used + gap + size, False
        spaces = ""
    if not empty:
        lines.append(line)
    return lines


def _breakable_pieces(word: str) -> Iterator[str]:
    """``word`` in the pieces a line may break between: each wide character alone, each
    run of the others whole."""
    from unicodedata import east_asian_width

    run = ""
    for char in word:
        if east_asian_width(char) in "WF":
            if run:
                yield run
            run = ""
            yield char
        else:
            run += char
    if run:
        yield run


def _cells_prefix(text: str, cells: int) -> str:
    """The longest start of ``text`` that fits in ``cells`` (at least one character)."""
    end, used = 1, cell_width(text[0])
    while end < len(text) and used + cell_width(text[end]) <= cells:
        used += cell_width(text[end])
        end += 1
    return text[:end]


# Between words that a line must not break apart (the words of one name, "<- goal"):
# the wrapped text shows an ordinary space there.
KEEP_TOGETHER = "\u00a0"


NARROW_INDENT = "    "


def wrap_block(text: str, width: int, prefix: str = "", indent: str | None = None) -> str:
    """``text`` for people, wrapped at word boundaries to ``width`` columns: the first
    line starts with ``prefix``, the others with ``indent`` (by default, spaces as wide
    as the prefix). The text's own line breaks are kept, words joined by
    ``KEEP_TOGETHER`` stay on one line, and a word longer than a line (a URL) is left
    whole rather than broken. Made ``printable``. A prefix wider than half the line (`path`'s
    ``  1. [ ] transformer``, 23 columns, in a window of 30) has the text under it, indented
    ``NARROW_INDENT``: beside it, every line ran past the edge."""
    prefix = printable(prefix)
    lines: list[str] = []
    if cell_width(prefix) > width // 2 and text:
        lines, prefix = [prefix.rstrip()], NARROW_INDENT
        indent = NARROW_INDENT
    indent = " " * cell_width(prefix) if indent is None else indent
    for number, paragraph in enumerate(printable(text, multiline=True).split("\n")):
        start = indent if number else prefix
        lines += wrapped(paragraph, width, initial_indent=start, subsequent_indent=indent) or [
            start.rstrip()
        ]
    return "\n".join(lines).replace(KEEP_TOGETHER, " ")
