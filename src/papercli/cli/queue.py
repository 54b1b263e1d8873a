"""The reading queue: ``papercli queue …`` and ``papercli next``."""

import sys
from collections.abc import Iterable
from itertools import islice
from typing import Annotated

import typer

from papercli import refs
from papercli.cli import views
from papercli.cli.common import (
    CountFormat,
    ListFormat,
    connect,
    echo,
    echo_lines,
    fail,
    read_refs,
    selection,
    state,
)
from papercli.cli.options import (
    AuthorName,
    Org,
    Search,
    Since,
    Status,
    Tag,
    Topic,
    Until,
    Year,
    complete_ref,
)
from papercli.errors import EXIT_USER
from papercli.store import library, papers
from papercli.textlayout import counted

app = typer.Typer(no_args_is_help=False, rich_markup_mode=None, invoke_without_command=True)

QueueFormat = Annotated[
    ListFormat, typer.Option("--format", "-f", help="table, json, csv or ids (one per line).")
]


@app.callback()
def queue_callback(ctx: typer.Context, output: QueueFormat = ListFormat.table) -> None:
    """Show your reading queue, or change it with a subcommand.

    \b
    Examples:
      papercli queue
      papercli queue --format ids
      papercli queue add lora qlora
      papercli queue add --topic peft --since 2021
      papercli queue add qlora --with-prereqs
      papercli queue move qlora 1
      papercli next
    """
    if ctx.invoked_subcommand is None and output is ListFormat.ids:
        echo_lines(library.queue_ids(connect(ctx)))
    elif ctx.invoked_subcommand is None:
        views.show_queue(state(ctx), CountFormat(output))


@app.command("add")
def add_command(
    ctx: typer.Context,
    references: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[REF]...",
            help="Papers to queue; - reads them from stdin.",
            autocompletion=complete_ref,
        ),
    ] = None,
    top: Annotated[bool, typer.Option("--top", help="Put them at the head of the queue.")] = False,
    at: Annotated[
        int | None, typer.Option("--at", metavar="N", help="Put them at position N.")
    ] = None,
    with_prereqs: Annotated[
        bool,
        typer.Option(
            "--with-prereqs", help="Queue the unread reading path to each paper, in order."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Queue papers you have already read, without asking.")
    ] = False,
    since: Since = None,
    until: Until = None,
    year: Year = None,
    org: Org = None,
    topic: Topic = None,
    search: Search = None,
    status: Status = None,
    tag: Tag = None,
    author: AuthorName = None,
) -> None:
    """Add papers to the queue. Name them, or pick them with the filters of `list`.

    Filters combine: a paper must pass every option given, and any one value of a
    repeated option (--topic peft --topic rlhf: either topic; --topic peft --since 2023:
    both).

    Papers picked with filters are queued in the order `list` shows them: oldest first,
    papers of the same date by id. Papers already queued keep their place. Papers you have
    read are only queued with --force (or after you confirm, at a terminal).

    \b
    Examples:
      papercli queue add lora qlora
      papercli queue add dpo --top
      papercli queue add --topic peft --since 2021
      papercli queue add qlora --with-prereqs
    """
    if top and at is not None:
        fail("use --top or --at, not both", 2)
    conn = connect(ctx)
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
    )
    if references:
        ids: Iterable[str] = refs.resolve_each(conn, read_refs(references))
    elif chosen.filters:
        ids = papers.selected_ids(conn, chosen)
    else:
        fail("name papers to queue, or pick them with filters such as --topic", 2)
    if with_prereqs:
        ids = library.unread_paths(conn, ids)
    # At a terminal, papers already read are queued once you say so; elsewhere, not.
    include_read = force or (_confirm_read if sys.stdin.isatty() else False)
    with library.queue_add(conn, ids, at=1 if top else at, include_read=include_read) as done:
        for pid in done.noted("added"):
            echo(f"queued {pid}")
        for pid in done.noted("queued"):
            echo(f"{pid} is already in the queue; its place is unchanged")
        skipped = done.count("read")
        if not references and not (skipped or done.count("added") or done.count("queued")):
            echo("no papers match those filters; nothing was queued", err=True)
        if skipped:
            already_read = library.names_list(list(islice(done.noted("read"), 5)), skipped)
            them = "it" if skipped == 1 else "them"
            refused = f"not queued, already read: {already_read} (use --force to queue {them})"
            if not done.count("added"):  # nothing done: a failure, said as every one is
                fail(refused, EXIT_USER)
            echo(refused, err=True)


def _confirm_read(read: list[str], count: int) -> bool:
    """Ask before queueing papers already read (the first few named)."""
    named = library.names_list(read, count)
    them = "it" if count == 1 else "them"
    return typer.confirm(f"Already read: {named}. Queue {them} anyway?", default=False)


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    references: Annotated[
        list[str],
        typer.Argument(
            metavar="REF...", help="Papers to take out; - reads stdin.", autocompletion=complete_ref
        ),
    ],
) -> None:
    """Take papers out of the queue.

    \b
    Examples:
      papercli queue remove glam
      papercli queue remove lora qlora
    """
    conn = connect(ctx)
    with library.queue_remove(conn, refs.resolve_each(conn, read_refs(references))) as done:
        for pid in done.noted("removed"):
            echo(f"removed {pid}")
        for pid in done.noted("absent"):
            echo(f"{pid} was not in the queue")


@app.command("move")
def move_command(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="REF", help="The queued paper.", autocompletion=complete_ref)
    ],
    position: Annotated[int, typer.Argument(metavar="N", help="Its new position (1 = next).")],
) -> None:
    """Move a queued paper to position N.

    \b
    Examples:
      papercli queue move qlora 1
    """
    conn = connect(ctx)
    paper_id = refs.resolve(conn, ref)
    if library.queue_move(conn, paper_id, position):
        echo(f"{paper_id} is now #{position}")
    else:
        echo(f"{paper_id} is already #{position}, nothing to do")


@app.command("clear")
def clear_command(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Empty the queue. At a terminal it asks first; --yes skips the question, and
    elsewhere (a script, input from a pipe) it is needed. `undo` puts the queue back.

    \b
    Examples:
      papercli queue clear
      papercli queue clear --yes
    """
    if not yes:
        if not sys.stdin.isatty():
            fail("refusing to clear the queue without confirmation; add --yes", EXIT_USER)
        typer.confirm("Remove every paper from the queue?", abort=True)
    count = library.queue_clear(connect(ctx))
    echo(f"cleared the queue ({counted(count, 'paper')})")


def next_command(
    ctx: typer.Context,
    output: Annotated[
        views.NextFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="<text|json|ids>",  # and id, its first name, still taken
            help="text, json or ids (the id alone, as in listings; id also works).",
        ),
    ] = views.NextFormat.TEXT,
) -> None:
    """Print the next paper to read: the head of your queue.

    \b
    Examples:
      papercli next
      papercli open $(papercli next --format ids)
    """
    views.show_next(state(ctx), output)
