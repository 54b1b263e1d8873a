"""What every command shares: the open database, output helpers and the list filters."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from papercli import catalogue, paths, render
from papercli.models import ReadStatus, Selection


@dataclass
class AppState:
    """Set by the top-level callback from ``--db``; the connection opens on first use."""

    db_option: Path | None = None
    _conn: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def db_path(self) -> Path:
        return paths.resolve_db_path(self.db_option)

    def connect(self) -> sqlite3.Connection:
        if self._conn is None:
            explicit = self.db_option or os.environ.get(paths.DB_ENV_VAR)
            self._conn = catalogue.open_database(
                self.db_path, paths.seed_path(), create_parent=not explicit
            )
        return self._conn


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def connect(ctx: typer.Context) -> sqlite3.Connection:
    return state(ctx).connect()


def fancy_output() -> bool:
    """Rich tables only for a person at a terminal; plain text for pipes and NO_COLOR."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def echo_csv(headers: list[str], rows: list[list[object]]) -> None:
    import csv  # only CSV output pays for it

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    typer.echo(buffer.getvalue(), nl=False)


def echo_csv_records(records: list[dict[str, object]]) -> None:
    """CSV of JSON-style records: one column per key, lists joined with "; "."""
    headers = list(records[0]) if records else []
    echo_csv(headers, [[_csv_cell(record[h]) for h in headers] for record in records])


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
        echo_csv(headers, [list(r) for r in rows])
    elif not rows:
        typer.echo(empty, err=True)
    elif fancy_output():
        render.print_rich(render.counts_table(headers, rows))
    else:
        typer.echo(render.plain_table(headers, rows))


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


# The selection options shared by every command that picks papers (list, export, queue add).
Since = Annotated[
    int | None, typer.Option("--since", metavar="YEAR", help="Only papers from YEAR on.")
]
Until = Annotated[
    int | None, typer.Option("--until", metavar="YEAR", help="Only papers up to YEAR.")
]
Year = Annotated[int | None, typer.Option("--year", metavar="YEAR", help="Only papers from YEAR.")]
Org = Annotated[
    list[str] | None,
    typer.Option(
        "--org",
        metavar="NAME",
        help="Only papers by this organization (any spelling, e.g. meta); repeatable.",
    ),
]
Topic = Annotated[
    list[str] | None,
    typer.Option("--topic", metavar="NAME", help="Only papers on this topic; repeatable."),
]
Search = Annotated[
    str | None,
    typer.Option(
        "--search",
        "-s",
        metavar="WORDS",
        help="Only papers with all WORDS (as `search` matches them) in the title, names,"
        " summary, abstract or notes.",
    ),
]
Status = Annotated[
    list[ReadStatus] | None,
    typer.Option("--status", help="Only papers with this reading status; repeatable."),
]
Sort = Annotated[SortKey, typer.Option("--sort", help="Order by date, title or year.")]
Reverse = Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")]
Limit = Annotated[
    int | None, typer.Option("--limit", "-n", min=0, metavar="N", help="Show at most N papers.")
]


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


Refs = Annotated[
    list[str],
    typer.Argument(
        metavar="REF...",
        help="Papers by id, name, arXiv id or URL, or title words; - reads them from stdin.",
    ),
]
Tag = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="NAME", help="Only papers with this tag of yours; repeatable."),
]


def complete_ref(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion: paper ids starting with what has been typed."""
    try:
        return catalogue.complete_ids(state(ctx).connect(), incomplete)
    except Exception:  # completion must never print a traceback into the shell
        return []


Ref = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        autocompletion=complete_ref,
        help="Id, short name, alias, arXiv id or URL, or title words.",
    ),
]
