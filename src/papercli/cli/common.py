"""What every command shares, free of Typer so that the fast path can use it too: the open
database, output helpers, the one translation of failures into exit codes, and the formats."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from papercli import paths, render
from papercli.errors import EXIT_INTERRUPTED, PapercliError
from papercli.models import ReadStatus, Selection
from papercli.store import base, connection

if TYPE_CHECKING:
    import typer


@dataclass
class AppState:
    """Set from ``--db``; the connection opens on first use."""

    db_option: Path | None = None
    _conn: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def db_path(self) -> Path:
        return paths.resolve_db_path(self.db_option)

    def connect(self) -> sqlite3.Connection:
        if self._conn is None:
            explicit = self.db_option or os.environ.get(paths.DB_ENV_VAR)
            self._conn = connection.open_database(
                self.db_path, paths.seed_path(), create_parent=not explicit
            )
        return self._conn

    def close(self) -> None:
        """Close the database when the command is done, rather than leave it to the
        interpreter's exit: closing is what folds the write-ahead log back into the file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
        root.call_on_close(root.obj.close)
    return root.obj


def connect(ctx: typer.Context) -> sqlite3.Connection:
    return state(ctx).connect()


def fancy_output() -> bool:
    """Rich tables only for a person at a terminal; plain text for pipes and NO_COLOR."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print a line on stdout (or stderr), flushed at once like ``typer.echo``."""
    print(message, end="\n" if nl else "", file=sys.stderr if err else sys.stdout, flush=True)


def fail(message: str, code: int) -> NoReturn:
    """Stop the command: ``report_failure`` prints the message and exits with ``code``."""
    raise PapercliError(message, code)


# What a command may fail with, as opposed to a bug (which keeps its traceback).
EXPECTED_FAILURES = (PapercliError, sqlite3.Error, KeyboardInterrupt)


def report_failure(exc: PapercliError | sqlite3.Error | KeyboardInterrupt) -> int:
    """Print an expected failure as one line on stderr and return its exit code: the one
    place, for the Typer app and the fast path alike, where failures become exit codes."""
    if isinstance(exc, KeyboardInterrupt):
        echo("error: interrupted; nothing after the last completed step was saved", err=True)
        return EXIT_INTERRUPTED
    error = base.database_error(exc) if isinstance(exc, sqlite3.Error) else exc
    echo(f"error: {error.message}", err=True)
    return error.exit_code


def echo_lines(lines: Iterable[str]) -> None:
    """Print lines as they come, a thousand to a write: a long listing starts at once
    and is never held whole."""
    lines = iter(lines)
    while chunk := list(islice(lines, 1000)):
        sys.stdout.write("\n".join(chunk) + "\n")
    sys.stdout.flush()


def echo_json(data: object) -> None:
    echo(json.dumps(data, ensure_ascii=False, indent=2))


def echo_json_array(items: Iterable[object]) -> None:
    """The same text as ``echo_json(list(items))``, printed item by item."""
    lines = _json_array_items(items)
    first = next(lines, None)
    if first is None:
        echo("[]")
    else:
        echo_lines(chain(["[", first], lines, ["]"]))


def _json_array_items(items: Iterable[object]) -> Iterator[str]:
    """Each item laid out as json.dumps(list, indent=2) lays it out, commas between.
    (Strings in JSON never hold a raw newline, so each newline starts a line.)"""
    items = iter(items)
    current = next(items, _END)
    while current is not _END:
        following = next(items, _END)
        text = "  " + json.dumps(current, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        yield text if following is _END else text + ","
        current = following


_END = object()


def echo_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """CSV with a header line, written a thousand rows at a time."""
    import csv  # only CSV output pays for it

    rows = iter(rows)
    chunk: list[Sequence[object]] = [headers]
    while chunk:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(chunk)
        echo(buffer.getvalue(), nl=False)
        chunk = list(islice(rows, 1000))


def echo_csv_records(records: Iterable[dict[str, object]]) -> None:
    """CSV of JSON-style records: one column per key, lists joined with "; "."""
    records = iter(records)
    first = next(records, None)
    headers = list(first) if first else []
    rest = chain([first], records) if first else iter(())
    echo_csv(headers, ([_csv_cell(record[h]) for h in headers] for record in rest))


def _csv_cell(value: object) -> object:
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return "" if value is None else value


def emit_rows(
    output: CountFormat,
    headers: list[str],
    rows: list[list[str]],
    records: list[dict[str, object]] | None = None,
    empty: str = "nothing to show",
) -> None:
    """Print a small listing as JSON (``records``, or the rows keyed by header), CSV, or a
    table (Rich at a terminal, plain text otherwise; ``empty`` on stderr when no rows)."""
    if output is CountFormat.json:
        echo_json(
            records if records is not None else [dict(zip(headers, r, strict=True)) for r in rows]
        )
    elif output is CountFormat.csv:
        echo_csv(headers, rows)
    elif not rows:
        echo(empty, err=True)
    elif fancy_output():
        render.print_rich(render.counts_table(headers, rows))
    else:
        echo(render.plain_table(headers, rows))


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
    return Selection(
        since=since,
        until=until,
        year=year,
        organizations=org or [],
        topics=topic or [],
        search=search,
        statuses=status or [],
        tags=tag or [],
        authors=author or [],
        sort=str(sort),
        reverse=reverse,
        limit=limit,
    )


def read_refs(refs: list[str]) -> list[str]:
    """Expand ``-`` into the references on stdin, one per line (blank lines skipped)."""
    expanded: list[str] = []
    for ref in refs:
        if ref == "-":
            expanded += [line.strip() for line in sys.stdin if line.strip()]
        else:
            expanded.append(ref)
    if not expanded:
        fail("no papers given (stdin was empty)", 1)
    return expanded
