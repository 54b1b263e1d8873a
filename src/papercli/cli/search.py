"""Full-text search: search."""

from typing import Annotated, Any

import typer

from papercli import render, textlayout
from papercli.cli import terminal
from papercli.cli.common import (
    ListFormat,
    connect,
    echo,
    echo_csv_records,
    echo_json_array,
    echo_lines,
    emit_table,
    selection,
)
from papercli.cli.options import AuthorName, Org, Since, Status, Tag, Topic, Until, Year
from papercli.models import paper_summary
from papercli.store import search


def search_command(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="WORDS...",
            help="Words to find in titles, names, summaries, abstracts and your notes.",
        ),
    ],
    since: Since = None,
    until: Until = None,
    year: Year = None,
    org: Org = None,
    topic: Topic = None,
    status: Status = None,
    tag: Tag = None,
    author: AuthorName = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, metavar="N", help="Show at most N papers.")
    ] = 20,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json, csv or ids (one per line).")
    ] = ListFormat.table,
) -> None:
    """Search your papers, best match first. Titles, names, summaries, fetched abstracts and
    your notes are searched.

    Every word must match, in any form ("model" finds "models"); when nothing does, the
    last word is tried as a prefix ("transf" finds "transformer"). Words are taken
    literally: quotes, AND, OR and * mean nothing special (put -- before a word that
    starts with -). Chinese and Japanese words are found inside notes too. When more than
    10,000 papers match, the newest are shown, unranked.

    Filters combine: a paper must pass every option given, and any one value of a
    repeated option (--topic peft --topic rlhf: either topic; --topic peft --since 2023:
    both).

    \b
    Examples:
      papercli search low rank adaptation
      papercli search attention --since 2020 --topic efficiency
      papercli search transf
      papercli search "chain of thought" --status unread --format json
    """
    chosen = selection(
        since=since,
        until=until,
        year=year,
        org=org,
        topic=topic,
        status=status,
        tag=tag,
        author=author,
    )
    conn, text = connect(ctx), " ".join(words)
    if output is ListFormat.ids:
        found = search.search_ids(conn, text, chosen, limit)
        _note_how_many(found, limit)
        echo_lines(found.hits)
        return
    results = search.search_papers(conn, text, chosen, limit)
    _note_how_many(results, limit)
    hits = iter(results.hits)
    if output is ListFormat.json:
        echo_json_array(_hit_json(hit, i, results.ranked) for i, hit in enumerate(hits, 1))
    elif output is ListFormat.csv:
        echo_csv_records(_hit_json(hit, i, results.ranked) for i, hit in enumerate(hits, 1))
    else:
        emit_table(
            hits,
            lambda first: terminal.print_rich(
                render.search_table([(h.paper, h.snippet) for h in first])
            ),
            lambda hits, width: textlayout.plain_table_lines(
                render.SEARCH_COLUMNS,
                (render.search_row(h.paper, h.snippet) for h in hits),
                width,
                ("title", "match"),
            ),
            "no papers match",
        )


def _note_how_many(results: search.SearchResults[Any], limit: int) -> None:
    """On stderr: that the results are newest first, or how many more there are."""
    if results.too_many:
        echo(
            f"note: over {search.RANK_LIMIT:,} papers match; showing the newest, unranked"
            " (add words or filters to narrow the search)",
            err=True,
        )
    elif results.total is not None and results.total > limit:
        echo(f"{limit} of {results.total:,} matches; -n to see more", err=True)


def _hit_json(hit: search.SearchHit, position: int, ranked: bool) -> dict[str, object]:
    """The list JSON object, plus the snippet (matches in [brackets]) and the rank (1 is
    the best match; null when the results are newest first)."""
    return {
        **paper_summary(hit.paper),
        "snippet": render.plain_snippet(hit.snippet),
        "rank": position if ranked else None,
    }
