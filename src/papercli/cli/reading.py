"""The reading workflow: status, history, undo, notes, tags and the reading path."""

from collections.abc import Callable
from typing import Annotated

import typer

from papercli import refs
from papercli.cli import views
from papercli.cli.common import (
    CountFormat,
    connect,
    echo,
    echo_csv,
    echo_json,
    emit_rows,
    fail,
    read_refs,
    state,
)
from papercli.cli.options import Refs
from papercli.models import ReadStatus, paper_summary
from papercli.store import library, papers

_MARK_HELP = {
    ReadStatus.READ: ("Mark papers read (and take them out of the queue).", "mark-read lora qlora"),
    ReadStatus.READING: ("Mark papers as being read now.", "mark-reading lora"),
    ReadStatus.UNREAD: ("Mark papers unread again.", "mark-unread lora"),
    ReadStatus.SKIPPED: ("Mark papers skipped: not worth reading for you.", "mark-skipped glam"),
}


def mark_command(status: ReadStatus) -> Callable[[typer.Context, list[str]], None]:
    """Build ``mark-read`` and its siblings: one command per status."""

    def command(ctx: typer.Context, references: Refs) -> None:
        views.mark_papers(state(ctx), references, status)

    summary, example = _MARK_HELP[status]
    command.__doc__ = f"""{summary}

    Each change is recorded in the history; `papercli undo` reverts the last one.
    All papers are found first: if any reference is unknown or ambiguous, none change.

    \b
    Examples:
      papercli {example}
      papercli list --topic peft --format ids | papercli {example.split()[0]} -
    """
    return command


mark_read = mark_command(ReadStatus.READ)
mark_reading = mark_command(ReadStatus.READING)
mark_unread = mark_command(ReadStatus.UNREAD)
mark_skipped = mark_command(ReadStatus.SKIPPED)


def mark_as_command(
    ctx: typer.Context,
    references: Refs,
    status: Annotated[ReadStatus, typer.Option("--as", help="The new reading status.")],
) -> None:
    """Give papers any reading status.

    \b
    Examples:
      papercli mark lora --as reading
      papercli mark cot react --as read
    """
    views.mark_papers(state(ctx), references, status)


# How `path` marks each step, as the Markdown export does (skipped is struck there).
_PATH_MARKS = {ReadStatus.READ: "x", ReadStatus.READING: "/", ReadStatus.SKIPPED: "-"}


def history_command(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(metavar="[REF]", help="Only this paper.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", metavar="N", help="Show the last N changes.")
    ] = None,
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """Show reading-status changes, newest first.

    \b
    Examples:
      papercli history
      papercli history lora
      papercli history --limit 5 --format json
    """
    conn = connect(ctx)
    paper_id = refs.resolve(conn, ref) if ref else None
    entries = library.history(conn, paper_id, limit)
    rows = [
        [e.changed_at, e.paper_id, str(e.old_status), str(e.new_status), e.title] for e in entries
    ]
    empty = "no status changes yet" if limit != 0 else "--limit 0: nothing to show"
    emit_rows(output, ["when", "id", "from", "to", "title"], rows, empty=empty)


def undo_command(ctx: typer.Context) -> None:
    """Undo the last mark command (all the papers it marked) or import.

    \b
    Examples:
      papercli mark-read lora
      papercli undo
    """
    undone = library.undo(connect(ctx))
    for entry in undone.statuses:
        change = f"{entry.old_status} {views.ARROW} {entry.new_status}"
        echo(f"{entry.paper_id}: {change} (undone)")
    if undone.other_changes:
        echo(f"{undone.other_changes} other changes undone (the last import)")


def note_command(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="REF", help="The paper.")],
    text: Annotated[str | None, typer.Argument(help="The note to add.")] = None,
    edit: Annotated[bool, typer.Option("--edit", "-e", help="Write the note in $EDITOR.")] = False,
) -> None:
    """Add a dated note to a paper, or print its notes.

    With TEXT, the note is added; with --edit, $EDITOR opens for a longer one (lines
    starting with # are dropped); with neither, the paper's notes are printed.

    \b
    Examples:
      papercli note lora "rank 8 is enough for most tasks"
      papercli note lora --edit
      papercli note lora
    """
    conn = connect(ctx)
    paper_id = refs.resolve(conn, ref)
    if text is not None and edit:
        fail("give the note as TEXT or use --edit, not both", 2)
    if edit:
        title = papers.get_paper(conn, paper_id).title
        import click  # typer 0.28 vendors a click without edit(); only --edit pays for it

        template = f"\n# Note on {paper_id}: {title}\n# Lines starting with # are ignored.\n"
        try:
            written = click.edit(template)
        except click.ClickException as exc:  # the editor is missing or exited with an error
            fail(f"no note was written: {exc.format_message()}", 1)
        except UnicodeDecodeError:
            fail("no note was written: the editor saved text that is not UTF-8", 1)
        except ValueError as exc:  # $EDITOR cannot be split into words (an open quote)
            fail(f"no note was written: cannot run $EDITOR: {exc}", 1)
        text = "\n".join(line for line in (written or "").splitlines() if not line.startswith("#"))
    if text is None:
        notes = library.notes_of(conn, paper_id)
        if not notes:
            echo(f"{paper_id} has no notes yet", err=True)
        for note in notes:
            echo(f"{note.created_at}  {note.body}")
        return
    library.add_note(conn, paper_id, text)
    echo(f"noted on {paper_id}")


def tag_command(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(metavar="REF... [+TAG|-TAG]...", help="Papers, then tags to add or remove."),
    ],
) -> None:
    """Add (+name) or remove (-name) your own tags on papers, or list a paper's tags.

    Tags keep the case you type and match in any case. With no +/- tag, the papers'
    tags are printed.

    \b
    Examples:
      papercli tag lora +must-read -later
      papercli tag lora qlora +PEFT-week
      papercli tag lora
      papercli list --tag must-read
    """
    edits = [a for a in args if a[:1] in "+-" and len(a) > 1]
    references = [a for a in args if a not in edits]
    add = [e[1:].strip() for e in edits if e[0] == "+"]
    remove = [e[1:].strip() for e in edits if e[0] == "-"]
    if not references:
        fail("name at least one paper to tag", 2)
    conn = connect(ctx)
    ids = refs.resolve_all(conn, read_refs(references))
    if edits:
        library.change_tags(conn, ids, add, remove)
    for pid in ids:
        echo(f"{pid}: {', '.join(library.tags_of(conn, pid)) or '(no tags)'}")


def tags_command(
    ctx: typer.Context,
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """List your tags with how many papers carry each.

    \b
    Examples:
      papercli tags
      papercli tags --format json
    """
    counts = library.tag_counts(connect(ctx))
    emit_rows(
        output,
        ["tag", "papers"],
        [[tag, str(count)] for tag, count in counts],
        [{"name": tag, "papers": count} for tag, count in counts],
        empty="no tags yet; add one with: papercli tag REF +name",
    )


def path_command(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="REF", help="The paper you want to get to.")],
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """Show the reading order that leads to a paper: its prerequisites, oldest first.

    Every prerequisite is listed, transitively, foundations first; [x] marks what you
    have read. `papercli queue add REF --with-prereqs` queues the unread ones.

    \b
    Examples:
      papercli path qlora
      papercli queue add qlora --with-prereqs
    """
    conn = connect(ctx)
    target = refs.resolve(conn, ref)
    steps = papers.papers_by_ids(conn, library.reading_path(conn, target))
    if output is CountFormat.json:
        echo_json([paper_summary(p) for p in steps])
        return
    if output is CountFormat.csv:
        echo_csv(
            ["step", "id", "title", "year", "status"],
            [[i, p.id, p.title, p.year, str(p.status)] for i, p in enumerate(steps, 1)],
        )
        return
    done = sum(p.status is ReadStatus.READ for p in steps)
    count = f"{len(steps)} paper{'' if len(steps) == 1 else 's'}"
    echo(f"Reading path to {target}: {count}, {done} read ([/] reading, [-] skipped)")
    width = max(len(p.id) for p in steps)
    for step, paper in enumerate(steps, 1):
        mark = _PATH_MARKS.get(paper.status, " ")
        goal = "  <- goal" if paper.id == target else ""
        echo(f"{step:3}. [{mark}] {paper.id:<{width}}  {paper.title} ({paper.year}){goal}")
