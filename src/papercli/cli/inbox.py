"""``papercli inbox``: new arXiv papers that match your watches, ranked by your reading.

Listing the inbox needs no network modules; ``inbox pull`` imports the arXiv client and
the feed parser when it runs.
"""

import datetime
import re
from typing import Annotated

import typer

from papercli import inbox
from papercli.cli.common import (
    CountFormat,
    ListFormat,
    ShowFormat,
    connect,
    echo,
    echo_csv_records,
    echo_json,
    echo_json_array,
    echo_lines,
    emit_listing,
    open_in_browser,
    read_refs,
    state,
)
from papercli.cli.options import complete_topic
from papercli.errors import InvalidValueError
from papercli.names import tag_name
from papercli.store.inbox import VersionAlert
from papercli.textlayout import counted

app = typer.Typer(invoke_without_command=True, rich_markup_mode=None)

DEFAULT_LIMIT = 30

ItemIds = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[ID...]", help="arXiv ids (or abs URLs) from the inbox; - reads them from stdin."
    ),
]


@app.callback()
def inbox_callback(
    ctx: typer.Context,
    watch: Annotated[
        str | None, typer.Option("--watch", "-w", metavar="NAME", help="Only this watch's items.")
    ] = None,
    include_decided: Annotated[
        bool, typer.Option("--all", help="Include the items you kept or dismissed.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", min=0, metavar="N", help="Show at most N items; 0 for all."),
    ] = DEFAULT_LIMIT,
    output: Annotated[
        ListFormat, typer.Option("--format", "-f", help="table, json, csv or ids.")
    ] = ListFormat.table,
) -> None:
    """Show new arXiv papers that match your watches. The closest to what you read come
    first.

    Each item is scored against the papers you read, are reading, queued or tagged (the
    words of their titles and abstracts, and their authors); the "why" column names the
    papers it is like. With nothing read yet, newest first. Newer arXiv versions of
    papers in your list are listed above the items.

    \b
    Examples:
      papercli inbox pull
      papercli inbox
      papercli inbox --watch peft -n 10
      papercli inbox keep 2411.18571 --queue
      papercli inbox dismiss --all
    """
    if ctx.invoked_subcommand is not None:
        return
    app_state = state(ctx)
    app_state.page()
    conn = app_state.connect()
    ranking = inbox.ranked(conn, include_decided=include_decided, watch=watch, limit=limit or None)
    if output is ListFormat.json:
        echo_json_array(map(_record, ranking.items))
    elif output is ListFormat.csv:
        echo_csv_records(map(_record, ranking.items))
    elif output is ListFormat.ids:
        echo_lines(r.item.arxiv_id for r in ranking.items)
    else:
        alerts = inbox.alerts(conn) if watch is None else []
        for alert in alerts:
            echo(alert_line(alert))
        if alerts and not ranking.shown:
            return
        if alerts:
            echo()
        emit_listing(
            CountFormat.table,
            ["arxiv id", "date", "title", "why", "watch"],
            ranking.items,
            _row,
            _record,
            empty=_empty_message(ranking, include_decided),
            wrapping=("title", "why"),
            droppable=("watch", "why", "date"),
        )
    if ranking.shown and ranking.shown < ranking.matching:
        echo(f"showing {ranking.shown} of {ranking.matching:,}; more with -n 0 (all)", err=True)


def _row(ranked: inbox.RankedItem) -> list[str]:
    """One item in the table."""
    decision = "" if ranked.decision is None else f" ({ranked.decision})"
    item = ranked.item
    return [
        item.arxiv_id + decision,
        item.announced,
        item.title,
        ranked.reason,
        ", ".join(ranked.watches),
    ]


def _record(ranked: inbox.RankedItem) -> dict[str, object]:
    """One item in JSON and CSV: the keys the README documents."""
    item = ranked.item
    return {
        "arxiv_id": item.arxiv_id,
        "version": item.version,
        "title": item.title,
        "authors": [a.name for a in item.authors],
        "abstract": item.abstract,
        "categories": item.categories,
        "announce_type": item.announce_type,
        "announced": item.announced,
        "watches": ranked.watches,
        "score": round(ranked.score, 4),
        "reason": ranked.reason,
        "seen": ranked.decision is not None,
        "decision": ranked.decision,
    }


def alert_line(alert: VersionAlert) -> str:
    """``lora: v3 announced (you read v2)``."""
    if alert.status == "read":
        read = f"you read v{alert.read_version}" if alert.read_version else "you read it before"
        return f"{alert.paper_id}: v{alert.version} announced ({read})"
    return f"{alert.paper_id}: v{alert.version} announced"


def _empty_message(ranking: inbox.Ranking, include_decided: bool) -> str:
    if not ranking.watches:
        return "no watches yet; add one with: papercli watch add NAME --category cs.CL"
    if ranking.stored and not include_decided:
        return "nothing new: you have kept or dismissed every item (see them: papercli inbox --all)"
    return "the inbox is empty; get today's arXiv listing with: papercli inbox pull"


@app.command("pull")
def pull_command(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            help="Also ask the arXiv API for papers submitted since DATE (YYYY-MM-DD).",
        ),
    ] = None,
    max_days: Annotated[
        int,
        typer.Option(
            "--max-days", min=1, max=60, metavar="DAYS", help="Catch up on at most DAYS days."
        ),
    ] = inbox.CATCH_UP_DAYS,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print nothing unless there is something new (cron)."),
    ] = False,
    output: Annotated[
        ShowFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ShowFormat.text,
) -> None:
    """Get today's arXiv listing for your watched categories. What matches a watch is kept.

    One request to arXiv's RSS service for all watched categories (PAPERCLI_ARXIV_RSS_URL
    sets the address, default https://rss.arxiv.org/rss/); a second pull the same day
    costs one "not modified" answer. When pulls were missed, the days in between are asked
    of the arXiv API (at most --max-days days, 100 papers a request, 3 s apart). Newer
    versions of papers in your list become version alerts. Exit status: 0 on success
    (weekends and holidays included), 1 for a category arXiv does not know, 3 when arXiv
    could not be reached or sent something other than a feed.

    \b
    Examples:
      papercli inbox pull
      papercli inbox pull --since 2026-11-20
      papercli inbox pull --quiet
    """
    from papercli.cli.arxiv_commands import new_client

    start = _date(since) if since is not None else None
    conn = connect(ctx)
    with new_client() as client:
        summary = inbox.pull(conn, client, since=start, max_days=max_days)
    if output is ShowFormat.json:
        echo_json(_pull_record(summary))
    elif not quiet or summary.new_items or summary.alerts:
        echo("\n".join(_pull_lines(summary)))
    for entry in summary.skipped:
        echo(f"skipped an item arXiv sent: {entry.label} ({entry.reason})", err=True)
    for warning in summary.warnings:
        echo(warning, err=True)


def _date(text: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(text.strip())
    except ValueError:  # not a date: a usage error (2), as --older-than 3y and --since abc are
        raise typer.BadParameter(
            f"expected a date such as 2026-11-20, not {text!r}", param_hint="--since"
        ) from None
    if not datetime.date(1991, 8, 1) <= day <= datetime.date.today():
        raise InvalidValueError(f"--since {day} is not a day arXiv has announced papers on")
    return day


def _pull_lines(summary: inbox.PullSummary) -> list[str]:
    cats = ", ".join(summary.categories)
    if summary.not_modified:
        lines = [f"nothing new for {cats}: arXiv's listing has not changed since the last pull"]
    elif summary.empty:
        lines = ["no listings today (arXiv does not announce on weekends and holidays)"]
    else:
        lines = [f"arXiv's listing of {summary.listing_date} for {cats}"]
    if summary.caught_up is not None:
        first, last = summary.caught_up
        lines.append(
            f"caught up on papers submitted {first} to {last}:"
            f" {summary.caught_up_count:,} from the arXiv API"
        )
        if summary.bounded_from is not None:
            lines.append(
                f"the last pull was on {summary.bounded_from}: caught up on the last"
                " days only (--max-days to go further back)"
            )
        if summary.truncated:
            lines.append("the API had more papers than papercli asks for; the oldest were left out")
    if summary.announcements or not (summary.not_modified or summary.empty):
        lines.append(
            f"{counted(summary.announcements, 'announcement')},"
            f" {len(summary.new_items):,} new in the inbox"
            + (f" ({summary.already:,} already there)" if summary.already else "")
        )
    lines += [alert_line(alert) for alert in summary.alerts]
    if summary.new_items:
        lines.append("see them with: papercli inbox")
    return lines


def _pull_record(summary: inbox.PullSummary) -> dict[str, object]:
    return {
        "categories": summary.categories,
        "listing_date": summary.listing_date,
        "not_modified": summary.not_modified,
        "empty": summary.empty,
        "announcements": summary.announcements,
        "new": summary.new_items,
        "already": summary.already,
        "caught_up": None
        if summary.caught_up is None
        else {
            "from": summary.caught_up[0],
            "to": summary.caught_up[1],
            "papers": summary.caught_up_count,
            "bounded": summary.bounded_from is not None,
            "truncated": summary.truncated,
        },
        "alerts": [
            {
                "id": a.paper_id,
                "arxiv_id": a.arxiv_id,
                "version": a.version,
                "read_version": a.read_version,
            }
            for a in summary.alerts
        ],
    }


@app.command("keep")
def keep_command(
    ctx: typer.Context,
    ids: ItemIds = None,
    queue: Annotated[bool, typer.Option("--queue", help="Also queue them.")] = False,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="NAME", help="Tag them; repeat.")
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic",
            metavar="NAME",
            autocompletion=complete_topic,
            help="File them under a topic.",
        ),
    ] = None,
) -> None:
    """Add inbox items to your list, from what the listing said. No request goes to arXiv.

    `papercli fetch ID` later brings arXiv's full record (exact dates, comment). One
    undoable command; a kept item never comes back to the inbox.

    \b
    Examples:
      papercli inbox keep 2411.18571
      papercli inbox keep 2411.18571 2411.07806 --queue --tag to-read
      papercli inbox --format ids -n 3 | papercli inbox keep -
    """
    if not ids:
        raise typer.BadParameter("name the arXiv ids to keep (- reads them from stdin)")
    tags = [tag_name(" ".join(t.split())) for t in tag or []]
    summary = inbox.keep(
        connect(ctx), read_refs(ids or []), queue=queue, tags=tags, topics=topic or []
    )
    with summary:
        for paper_id, title in summary.added():
            echo(f"added {paper_id}: {title}")
        for arxiv_id, paper_id in summary.existing():
            # A notice, as `add` gives it: stdout has the papers the command added.
            echo(f"{arxiv_id} is already in your list as {paper_id}", err=True)
        opening = "queued "
        for paper_id in summary.queued():
            echo(opening + paper_id, nl=False)
            opening = ", "
        if opening == ", ":
            echo()


@app.command("dismiss")
def dismiss_command(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ID...]",
            help="arXiv ids from the inbox, or papers with a version alert; - reads stdin.",
        ),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Every item not kept yet, and every version alert.")
    ] = False,
    watch: Annotated[
        str | None,
        typer.Option("--watch", "-w", metavar="NAME", help="With --all: only this watch's items."),
    ] = None,
) -> None:
    """Dismiss inbox items or version alerts. Dismissed items never come back; `undo`
    restores them.

    Name a paper in your list (`papercli inbox dismiss lora`) to dismiss its version alert.

    \b
    Examples:
      papercli inbox dismiss 2411.18571
      papercli inbox dismiss --all
    """
    if everything == bool(ids):
        raise typer.BadParameter("give arXiv ids or --all (one of them)")
    if watch is not None and not everything:
        raise typer.BadParameter("--watch goes with --all")
    given = None if everything else read_refs(ids or [])
    summary = inbox.dismiss(connect(ctx), given, watch=watch)
    if summary.already:
        echo(f"{counted(summary.already, 'item')} dismissed already", err=True)
    if summary.kept:
        kept = counted(summary.kept, "item")
        echo(f"{kept} kept already, left so (remove a paper with: papercli remove REF)", err=True)
    if not (summary.items or summary.alerts):
        if not (summary.already or summary.kept):
            echo("nothing to dismiss", err=True)
        return
    if summary.items:
        echo(f"dismissed {counted(summary.items, 'item')}")
    for paper_id in summary.alerts:
        echo(f"dismissed the version alert for {paper_id}")


@app.command("open")
def open_command(
    ctx: typer.Context,
    arxiv_id: Annotated[str, typer.Argument(metavar="ID", help="An arXiv id from the inbox.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="Open the PDF instead.")] = False,
) -> None:
    """Open an inbox item's arXiv page (or PDF) in the browser. Its address is printed too.

    \b
    Examples:
      papercli inbox open 2411.18571
      papercli inbox open 2411.18571 --pdf
    """
    url = inbox.item_url(connect(ctx), arxiv_id, pdf=pdf)
    open_in_browser(url)


@app.command("prune")
def prune_command(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", metavar="AGE", help="Items announced longer ago than this: 30d, 8w."
        ),
    ] = "30d",
) -> None:
    """Delete old items from the inbox. What you kept or dismissed is still never shown
    again.

    Kept and dismissed items also go by themselves 30 days after you decided, at a pull.

    \b
    Examples:
      papercli inbox prune
      papercli inbox prune --older-than 8w
    """
    match = re.fullmatch(r"\s*([0-9]{1,5})\s*([dw]?)\s*", older_than)
    if match is None:
        raise typer.BadParameter(
            f"expected an age such as 30d or 8w (at most 99999 days or weeks), not {older_than!r}",
            param_hint="--older-than",
        )
    days = int(match[1]) * (7 if match[2] == "w" else 1)
    removed = inbox.prune(connect(ctx), days)
    echo(f"removed {counted(removed, 'item')} announced over {counted(days, 'day')} ago")
