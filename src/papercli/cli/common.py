"""What every command shares, free of Typer so that the fast path can use it too: the open
database, output helpers, the one translation of failures into exit codes, and the formats."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from itertools import chain, islice

from papercli import TYPE_CHECKING, paths, render, textlayout
from papercli.cli import terminal
from papercli.errors import EXIT_OK, EXIT_USER, PapercliError, interruption
from papercli.lines import MAX_LINE, LineTooLong, bounded_lines
from papercli.models import ReadStatus, Selection
from papercli.names import as_tag
from papercli.records import datarecord, field
from papercli.store import base, connection

if TYPE_CHECKING:
    from typing import NoReturn, TextIO, TypeVar

    import typer
    from _typeshed import StrPath

    T = TypeVar("T")


@datarecord
class AppState:
    """Set from the global options (``--db``, ``--color``, ``--no-pager``); the connection
    opens on first use, the pager when the output turns out long (see ``page``)."""

    db_option: StrPath | None = None
    color: terminal.ColorMode = terminal.ColorMode.AUTO
    pager: bool = True
    opened: str | None = field(default=None, repr=False)  # the database, once connected
    _conn: sqlite3.Connection | None = field(default=None, repr=False)
    _held: terminal.HeldOutput | None = field(default=None, repr=False)
    _commits_before: int = field(default_factory=base.commits, repr=False)

    def __post_init__(self) -> None:
        terminal.set_color_mode(self.color)

    def saved(self) -> bool:
        """Whether this command has saved a change (committed a transaction)."""
        return base.commits() > self._commits_before

    def page(self) -> None:
        """Send the rest of this command's stdout through the pager if it is longer than
        the screen (at a terminal, unless --no-pager or an empty $PAPERCLI_PAGER)."""
        if self.pager and self._held is None:
            self._held = terminal.hold_output()

    @property
    def db_path(self) -> str:
        return paths.resolve_db_path(self.db_option)

    @property
    def creates_folder(self) -> bool:
        """Whether the database's folder is made when missing: the user data dir's is; a
        folder named by --db or $PAPERCLI_DB must be there (a typo makes no folder)."""
        return not (self.db_option or os.environ.get(paths.DB_ENV_VAR))

    def connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.opened = self.db_path
            self._conn = connection.open_database(
                self.opened, paths.seed_path(), create_parent=self.creates_folder
            )
            # Making the library, or bringing it up to this papercli, is no change of the
            # command's: Ctrl-C in a first `import` said its changes up to then were saved.
            self._commits_before = base.commits()
        return self._conn

    def close(self) -> None:
        """Close the database when the command is done, rather than leave it to the
        interpreter's exit: closing is what folds the write-ahead log back into the file.
        Then print what the pager was holding back, or wait until the user quits it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._held is not None:
            held, self._held = self._held, None
            held.finish()


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
        root.call_on_close(root.obj.close)
    return root.obj


def connect(ctx: typer.Context) -> sqlite3.Connection:
    return state(ctx).connect()


def fancy_output() -> bool:
    """Rich tables for a person at a terminal, coloured or not (and wherever colour is
    forced on); plain text for pipes."""
    return terminal.rich_layout()


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print text for people on stdout (or stderr), flushed at once like ``typer.echo``.
    Control characters are shown as escapes (``textlayout.printable``), so no data can drive
    the terminal; JSON and CSV go out exact, through ``write``."""
    write(textlayout.printable(message, multiline=True) + ("\n" if nl else ""), err=err)


def write(text: str, *, err: bool = False) -> None:
    """Print ``text`` exactly as it is to a pipe or a file, flushed at once."""
    stream = sys.stderr if err else sys.stdout
    _put(stream, text)
    stream.flush()


def _put(stream: TextIO, text: str) -> None:
    """Write data (an export, CSV, JSON, ids) exactly, but at a terminal with its control
    characters shown as escapes, as in tables: a note holding an escape sequence, from an
    import or a sync, cleared the screen and retitled the window in `export -f csv`."""
    stream.write(textlayout.printable(text, multiline=True) if stream.isatty() else text)


def open_in_browser(url: str) -> None:
    """Print ``url`` and open it in the browser ($BROWSER, else the system's); say so when
    none could be opened (it ended in silence, as if the page were showing). Python's
    webbrowser, not Click's launch, which answers 0 for an http(s) address on Linux
    whether or not a browser opened."""
    import webbrowser

    echo(url)
    if not webbrowser.open(url):
        echo("warning: no browser could be opened; the address is above", err=True)


def fail(message: str, code: int) -> NoReturn:
    """Stop the command: ``report_failure`` prints the message and exits with ``code``."""
    raise PapercliError(message, code)


# What a command may fail with, as opposed to a bug (which keeps its traceback).
EXPECTED_FAILURES = (PapercliError, sqlite3.Error, KeyboardInterrupt)


def report_failure(
    exc: PapercliError | sqlite3.Error | KeyboardInterrupt, state: AppState | None = None
) -> int:
    """Print an expected failure as one line on stderr and return its exit code: the one
    place, for the Typer app and the fast path alike, where failures become exit codes.
    The command's ``state`` names the file it had open in an SQLite error, and says
    whether an interrupted command had saved a change."""
    database = state.opened if state is not None else None
    if isinstance(exc, KeyboardInterrupt):
        said, code = interruption(exc, saved=state is not None and state.saved())
        with contextlib.suppress(OSError):  # a terminal that hung up takes nothing
            echo(f"error: {said}", err=True)
        return code
    error = base.database_error(exc, database) if isinstance(exc, sqlite3.Error) else exc
    # One line, whatever it names: a file name may hold a line break.
    # One thing quoted at most MOST_QUOTED characters long (a path of 5,000 was all said).
    said = textlayout.with_long_words_clipped(textlayout.printable(error.message))
    echo(f"error: {said}", err=True)
    return error.exit_code


# What writing the output fails with: the reader went away (EPIPE), or the file or device
# behind stdout is full or failing.
_OUTPUT_ERRNOS = frozenset({errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def is_output_failure(exc: OSError) -> bool:
    return exc.errno in _OUTPUT_ERRNOS


def report_output_failure(exc: OSError) -> int:
    """End a command whose output could not be written and return its exit code: 0, in
    silence, when the reader closed the pipe (``papercli list | head -1``), as Unix tools
    do; 1, with one line on stderr, when stdout is full or failing."""
    _discard_stdout()
    if exc.errno == errno.EPIPE:
        return EXIT_OK
    with contextlib.suppress(OSError):  # stderr may be just as full
        echo(f"error: cannot write the output: {exc.strerror}", err=True)
    return EXIT_USER


def _discard_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush at exit has
    somewhere to put what is still buffered (else it prints "Exception ignored ...")."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file: nothing will flush to it
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


SQLITE_INTEGERS = range(-(2**63), 2**63)
"""The integers SQLite can store: a number on the command line outside them is refused
as it is read, not left to fail in a query."""


def is_whole_number(text: str) -> bool:
    """Whether ``text`` is an integer in ASCII digits, maybe signed: ``int`` also takes
    other scripts' digits (Arabic-Indic ``\\u0661``), underscores (``1_000``) and spaces around."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    return digits.isascii() and digits.isdigit()


def value_problem(value: object) -> str | None:
    """Why a value read from the command line cannot be used, or None: a number beyond
    SQLite's 64 bits, or text holding bytes that are not UTF-8."""
    if isinstance(value, int) and value not in SQLITE_INTEGERS:
        bound = f"at most {SQLITE_INTEGERS[-1]}" if value > 0 else f"at least {SQLITE_INTEGERS[0]}"
        return f"{value} is out of range ({bound})"
    if isinstance(value, str) and (shown := non_utf8(value)) is not None:
        return f"'{shown}' is not valid UTF-8"
    return None


def non_utf8(text: str) -> str | None:
    """``text``, printable, with its bytes that were not UTF-8 shown as ``\\xff``, when it
    holds some (Python keeps undecodable bytes of argv and stdin as lone surrogates, which
    SQLite and stdout refuse); None when it is all UTF-8."""
    if text.isascii():
        return None
    try:
        text.encode()
    except UnicodeEncodeError:
        try:
            shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that no undecodable byte made
            shown = text.encode("utf-8", "backslashreplace").decode()
        return textlayout.printable(shown)
    return None


def echo_lines(lines: Iterable[str]) -> None:
    """Print lines as they come, exactly (a plain table's are printable already), a
    thousand to a write: a long listing starts at once and is never held whole."""
    lines = iter(lines)
    while chunk := list(islice(lines, 1000)):
        _put(sys.stdout, "\n".join(chunk) + "\n")
    sys.stdout.flush()


def echo_json(data: object) -> None:
    import json  # here: `list` prints its table ~2 ms sooner without json (and its patterns)

    write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def echo_json_array(items: Iterable[object]) -> None:
    """The same text as ``echo_json(list(items))``, printed JSON_CHUNK items at a time."""
    pieces = _json_array_items(items)
    first = next(pieces, None)
    if first is None:
        write("[]\n")
        return
    _put(sys.stdout, "[\n" + first)
    for piece in pieces:
        _put(sys.stdout, "\n" + piece)
    write("\n]\n")


def echo_json_arrays(arrays: Iterable[tuple[str, Iterable[object]]]) -> None:
    """The same text as ``echo_json({key: list(items), ...})``, each array printed
    JSON_CHUNK items at a time."""
    import json

    def nested(piece: str) -> str:  # a string in JSON holds no raw line break
        return "  " + piece.replace("\n", "\n  ")

    opening = "{"
    for key, items in arrays:
        _put(sys.stdout, f"{opening}\n  {json.dumps(key, ensure_ascii=False)}: ")
        opening = ","
        pieces = _json_array_items(items)
        first = next(pieces, None)
        if first is None:
            _put(sys.stdout, "[]")
            continue
        _put(sys.stdout, "[\n" + nested(first))
        for piece in pieces:
            _put(sys.stdout, "\n" + nested(piece))
        _put(sys.stdout, "\n  ]")
    write("{}\n" if opening == "{" else "\n}\n")


JSON_CHUNK = 1000
"""Items laid out by one ``json.dumps``: one call an item took twice as long."""


def _json_array_items(items: Iterable[object]) -> Iterator[str]:
    """The items as json.dumps(list, indent=2) lays them out, JSON_CHUNK at a time: each
    chunk's array without its brackets, commas between."""
    import json

    items = iter(items)
    chunks = (
        json.dumps(chunk, ensure_ascii=False, indent=2)[2:-2]  # "[\n" ... "\n]"
        for chunk in iter(lambda: list(islice(items, JSON_CHUNK)), [])
    )
    current = next(chunks, None)
    while current is not None:
        following = next(chunks, None)
        yield current if following is None else current + ","
        current = following


def echo_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """CSV with a header line, written a thousand rows at a time."""
    import csv  # only CSV output pays for it

    rows = iter(rows)
    chunk: list[Sequence[object]] = [headers]
    while chunk:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(chunk)
        text = buffer.getvalue()
        if "\r" in text:
            # csv quotes a field for the line terminator's characters only, and a reader
            # takes a bare \r for the end of a line: write these rows ending in \r\n, so
            # that a \r is quoted, then end them in \n like the others.
            lines = []
            for row in chunk:
                line = io.StringIO()
                csv.writer(line, lineterminator="\r\n").writerow(row)
                lines.append(line.getvalue().removesuffix("\r\n") + "\n")
            text = "".join(lines)
        write(text)
        chunk = list(islice(rows, 1000))


def echo_csv_records(records: Iterable[Mapping[str, object]]) -> None:
    """CSV of JSON-style records, the same keys as the JSON's: one column per key, lists
    joined with "; ", booleans as in JSON, null as nothing. No records, no CSV (it printed
    a blank line)."""
    records = iter(records)
    first = next(records, None)
    if first is None:
        return
    headers = list(first)
    rows = ([_csv_cell(record[h]) for h in headers] for record in chain([first], records))
    echo_csv(headers, rows)


def _csv_cell(value: object) -> object:
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


# Past this many rows a terminal gets a plain table too, wrapped to its width: Rich
# takes ~0.5 ms a row and shows nothing before the last one is laid out.
RICH_MAX_ROWS = 500


def emit_listing(
    output: CountFormat,
    headers: list[str],
    items: Iterable[T],
    row: Callable[[T], list[str]],
    record: Callable[[T], dict[str, object]],
    *,
    empty: str = "nothing to show",
    wrapping: Sequence[str] = (),
    droppable: Sequence[str] = (),
) -> None:
    """``emit_rows`` for a listing of any length, printed as it is read: JSON and CSV
    item by item, a table through Rich while it has at most RICH_MAX_ROWS rows, else
    plain lines (at a terminal, fitted to its width by the ``wrapping`` columns; the Rich
    table leaves out the ``droppable`` ones in turn where its box leaves too little)."""
    if output is CountFormat.json:
        echo_json_array(map(record, items))
        return
    if output is CountFormat.csv:  # the JSON's keys and values, not the table's text
        echo_csv_records(map(record, items))
        return
    rows = map(row, items)
    emit_table(
        rows,
        lambda first: terminal.print_rich(
            render.counts_table(headers, first, terminal.width(), wrapping, droppable)
        ),
        lambda rows, width: textlayout.plain_table_lines(headers, rows, width, wrapping),
        empty,
    )


def emit_table(
    items: Iterable[T],
    show_rich: Callable[[list[T]], None],
    plain_lines: Callable[[Iterable[T], int | None], Iterable[str]],
    empty: str,
) -> None:
    """A table for people, of any length: through Rich (``show_rich``) at a terminal while
    it has at most RICH_MAX_ROWS rows, else ``plain_lines`` printed as they are read,
    fitted to the terminal's width there (None: a pipe); ``empty`` on stderr if none."""
    items = iter(items)
    first = list(islice(items, RICH_MAX_ROWS + 1))
    for_people = fancy_output()
    if not first:
        echo(empty, err=True)
    elif for_people and len(first) <= RICH_MAX_ROWS:
        show_rich(first)
    else:
        echo_lines(plain_lines(chain(first, items), terminal.width() if for_people else None))


def emit_rows(
    output: CountFormat,
    headers: list[str],
    rows: list[list[str]],
    records: list[dict[str, object]] | None = None,
    empty: str = "nothing to show",
) -> None:
    """Print a small listing as JSON (``records``, or the rows keyed by header), CSV, or a
    table (Rich at a terminal, plain text otherwise; ``empty`` on stderr when no rows)."""
    if output in (CountFormat.json, CountFormat.csv):
        keyed = (
            records if records is not None else [dict(zip(headers, r, strict=True)) for r in rows]
        )
        (echo_json if output is CountFormat.json else echo_csv_records)(keyed)
    elif not rows:
        echo(empty, err=True)
    elif fancy_output():
        terminal.print_rich(render.counts_table(headers, rows))
    else:
        echo(textlayout.plain_table(headers, rows))


class ListFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    ids = "ids"


class CountFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class CountSort(StrEnum):
    COUNT = "count"
    NAME = "name"


class ShowFormat(StrEnum):
    text = "text"
    json = "json"


class SortKey(StrEnum):
    DATE = "date"
    TITLE = "title"
    YEAR = "year"
    READ = "read"
    ADDED = "added"


def selection(
    *,
    since: int | None = None,
    until: int | None = None,
    year: int | None = None,
    org: list[str] | None = None,
    topic: list[str] | None = None,
    search: str | None = None,
    status: list[ReadStatus] | None = None,
    tag: list[str] | None = None,
    author: list[str] | None = None,
    sort: SortKey = SortKey.DATE,
    reverse: bool = False,
    limit: int | None = None,
) -> Selection:
    """The listing's filters; an empty ``--tag``, ``--author`` or ``--search`` (a script's
    empty variable) is refused, as an empty REF is, rather than matching nothing (or, for
    ``--search``, everything: `queue add --search "$Q"` queued the library) without a word."""
    tags = [as_tag(t.strip()) for t in tag or []]  # as `tag` keeps them
    if "" in tags:
        fail("--tag: an empty tag matches no paper", EXIT_USER)
    if any(not name.strip() for name in author or []):
        fail("--author: an empty name matches no paper", EXIT_USER)
    if search is not None and not search.replace("\x00", " ").strip():
        fail("--search: nothing to search for; give some words, e.g. --search lora", EXIT_USER)
    return Selection(
        since=since,
        until=until,
        year=year,
        organizations=org or [],
        topics=topic or [],
        search=search,
        statuses=status or [],
        tags=tags,
        authors=author or [],
        sort=str(sort),
        reverse=reverse,
        limit=limit or None,  # --limit 0: all, as in every listing
    )


def is_edit(arg: str) -> bool:
    """Whether a word after the papers (`tag`, `prereq`) is a +name or -name to add or
    remove: ``-`` alone reads the papers from stdin."""
    return arg[:1] in "+-" and len(arg) > 1


def read_refs(refs: list[str]) -> Iterator[str]:
    """Expand ``-`` into the references on stdin, one per line (blank lines skipped), read
    as they are used: a million of them need not be held. Stdin that is not UTF-8 text
    fails when its line is reached, before the command writes anything (it reads every
    reference first)."""
    given = False
    for ref in refs:
        for one in _stdin_refs() if ref == "-" else (ref,):
            given = True
            yield one
    if not given:
        fail("no papers given (stdin was empty)", 1)


def _stdin_refs() -> Iterator[str]:
    """The non-blank lines of stdin, stripped; a line that is not UTF-8 text, or too long
    to be a reference, ends it all."""
    lines = enumerate(bounded_lines(sys.stdin), 1)
    while True:
        try:
            number, line = next(lines)
        except StopIteration:
            return
        except UnicodeDecodeError:  # a strict stdin decodes as it reads
            fail("stdin is not UTF-8 text; give references one a line, in UTF-8", EXIT_USER)
        except LineTooLong as long:  # as refs.resolve says of one too long to be a name
            from papercli.refs import LONGEST_REF  # not for `list`, which reads no stdin

            fail(
                f"a reference of more than {MAX_LINE:,} characters names no paper"
                f" (at most {LONGEST_REF:,}): {long.start + '…'!r}; nothing was changed",
                EXIT_USER,
            )
        if (shown := non_utf8(line.strip())) is not None:
            fail(f"line {number} of stdin is not valid UTF-8: '{shown}'", EXIT_USER)
        if line.strip():
            yield line.strip()
