"""Browsing the catalogue: list, show, orgs, topics, authors."""

from typing import Annotated

import typer

from papercli.cli import views
from papercli.cli.common import (
    CountFormat,
    CountSort,
    ListFormat,
    ShowFormat,
    SortKey,
    connect,
    emit_listing,
    emit_rows,
    selection,
    state,
)
from papercli.cli.options import (
    AuthorName,
    Limit,
    Org,
    Ref,
    Reverse,
    Search,
    Since,
    Sort,
    Status,
    Tag,
    Topic,
    Until,
    Year,
)
from papercli.store import authors, papers


def list_command(
    ctx: typer.Context,
    since: Since = None,
    until: Until = None,
    year: Year = None,
    org: Org = None,
    topic: Topic = None,
    search: Search = None,
    status: Status = None,
    tag: Tag = None,
    author: AuthorName = None,
    sort: Sort = SortKey.DATE,
    reverse: Reverse = False,
    limit: Limit = None,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json, csv or ids (one per line).")
    ] = ListFormat.table,
) -> None:
    """List papers, oldest first. Filter them by year, organization, topic, status or words.

    Filters combine: a paper must pass every option given, and any one value of a
    repeated option (--topic peft --topic rlhf: either topic; --topic peft --since 2023:
    both).

    \b
    Examples:
      papercli list --since 2021
      papercli list --org meta --topic pretraining
      papercli list --search "chain of thought" --format json
      papercli list --sort title --reverse --limit 10
    """
    chosen = selection(
        since=since,
        until=until,
        year=year,
        org=org,
        topic=topic,
        search=search,
        status=status,
        tag=tag,
        author=author,
        sort=sort,
        reverse=reverse,
        limit=limit,
    )
    views.list_papers(state(ctx), chosen, output)


def show_command(
    ctx: typer.Context,
    ref: Ref,
    output: Annotated[
        ShowFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ShowFormat.text,
) -> None:
    """Show everything known about one paper.

    \b
    Examples:
      papercli show lora
      papercli show GPT3
      papercli show 2106.09685
      papercli show https://arxiv.org/abs/1706.03762
      papercli show "attention is all you need" --format json
    """
    views.show_paper(state(ctx), ref, output)


def _counts(ctx: typer.Context, what: str, by: CountSort, output: CountFormat) -> None:
    rows = papers.count_by(connect(ctx), what)
    if by is CountSort.COUNT:
        rows.sort(key=lambda r: (-r[1], r[0].casefold()))
    else:
        rows.sort(key=lambda r: r[0].casefold())
    is_org = what == "organizations"
    extra = "aliases" if is_org else "description"
    emit_rows(
        output,
        ["organization" if is_org else "topic", "papers", extra],
        [[n, str(c), "; ".join(e)] for n, c, e in rows],  # an alias may hold a comma
        [{"name": n, "papers": c, extra: e if is_org else e[0]} for n, c, e in rows],
    )


CountSortOption = Annotated[
    CountSort, typer.Option("--sort", help="count (most papers first) or name.")
]
CountFormatOption = Annotated[
    CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
]


def orgs_command(
    ctx: typer.Context,
    sort: CountSortOption = CountSort.COUNT,
    output: CountFormatOption = CountFormat.table,
) -> None:
    """List organizations, their paper counts and other names.

    \b
    Examples:
      papercli orgs
      papercli orgs --sort name --format json
    """
    _counts(ctx, "organizations", sort, output)


def topics_command(
    ctx: typer.Context,
    sort: CountSortOption = CountSort.COUNT,
    output: CountFormatOption = CountFormat.table,
) -> None:
    """List topics with how many papers each has.

    \b
    Examples:
      papercli topics
      papercli list --topic peft
    """
    _counts(ctx, "topics", sort, output)


def authors_command(
    ctx: typer.Context,
    sort: CountSortOption = CountSort.COUNT,
    output: CountFormatOption = CountFormat.table,
) -> None:
    """List authors with how many papers each wrote. --sort name orders them by family name.

    \b
    Examples:
      papercli authors
      papercli authors --sort name --format json
      papercli list --author hinton
    """
    emit_listing(
        output,
        ["author", "papers"],
        authors.author_counts(connect(ctx), by_name=sort is CountSort.NAME),
        lambda row: [row[0], str(row[2])],
        lambda row: {"name": row[0], "family": row[1], "papers": row[2]},
    )
