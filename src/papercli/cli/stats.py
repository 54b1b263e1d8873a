"""``papercli stats``: reading progress at a glance."""

from typing import Annotated

import typer

from papercli import render
from papercli.cli import terminal
from papercli.cli.common import ShowFormat, connect, echo, echo_json, fancy_output
from papercli.records import asdict
from papercli.store import progress
from papercli.store.progress import StatusCounts


def _counts_json(counts: StatusCounts) -> dict[str, object]:
    return {
        **asdict(counts),
        "total": counts.total,
        "read_percent": round(100 * counts.read / counts.total, 1) if counts.total else 0.0,
    }


def stats_command(
    ctx: typer.Context,
    output: Annotated[
        ShowFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ShowFormat.text,
) -> None:
    """Show how far you are in your reading. It counts papers read, reading, unread and
    skipped, overall and by year, organization and topic, and papers read per month.

    \b
    Examples:
      papercli stats
      papercli stats --format json
    """
    figures = progress.stats(connect(ctx))
    if output is ShowFormat.json:
        echo_json(
            {
                "overall": _counts_json(figures.overall),
                "by_year": [_counts_json(c) for c in figures.by_year],
                "by_organization": [_counts_json(c) for c in figures.by_organization],
                "by_topic": [_counts_json(c) for c in figures.by_topic],
                "read_per_month": [{"month": m, "read": n} for m, n in figures.read_per_month],
            }
        )
    elif fancy_output():
        terminal.print_rich(render.stats_tables(figures, terminal.width()))
    else:
        echo(render.plain_stats(figures, terminal.width()))
