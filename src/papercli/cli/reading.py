"""The reading workflow: status, history, undo, notes, tags and the reading path."""

import errno
import os
import sqlite3
import stat
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from papercli import refs, textlayout, times
from papercli.cli import terminal, views
from papercli.cli.common import (
    CountFormat,
    connect,
    echo,
    emit_listing,
    fail,
    is_edit,
    read_refs,
    state,
)
from papercli.cli.options import Refs, complete_ref, complete_tag_edit
from papercli.models import MAX_TEXT, ReadStatus
from papercli.names import as_tag, nocase, tag_name
from papercli.store import library, notes, papers

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
    ref: Annotated[
        str | None,
        typer.Argument(metavar="[REF]", autocompletion=complete_ref, help="Only this paper."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-n", min=0, metavar="N", help="Show the last N changes; 0 for all."
        ),
    ] = None,
    every_change: Annotated[
        bool,
        typer.Option(
            "--all", help="Every command that changed something (queue, tags, notes, imports)."
        ),
    ] = False,
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """Show reading-status changes, newest first. Undone ones are marked, not hidden.

    \b
    Examples:
      papercli history
      papercli history lora
      papercli history --all --limit 10
      papercli history --limit 5 --format json
    """
    conn, limit = connect(ctx), limit or None
    if every_change:
        if ref is not None:
            fail("--all shows every command; leave out REF, or drop --all for one paper", 2)
        emit_listing(
            output,
            ["when", "command", "what", "undone"],
            library.command_log(conn, limit),
            lambda e: [times.shown(e.at), e.command, e.summary, "undone" if e.undone_at else ""],
            lambda e: {
                "when": times.iso(e.at),
                "command": e.command,
                "what": e.summary,
                "undone": bool(e.undone_at),
            },
            empty="no changes yet",
            wrapping=["what"],
        )
        return
    paper_id = refs.resolve(conn, ref) if ref is not None else None
    emit_listing(
        output,
        ["when", "id", "from", "to", "title"],
        library.history(conn, paper_id, limit),
        lambda e: [
            times.shown(e.changed_at),
            e.paper_id,
            str(e.old_status),
            f"{e.new_status} (undone)" if e.undone else str(e.new_status),
            e.title,
        ],
        lambda e: {
            "when": times.iso(e.changed_at),
            "id": e.paper_id,
            "from": str(e.old_status),
            "to": str(e.new_status),
            "title": e.title,
            "undone": e.undone,
        },
        empty="no changes yet" if paper_id is None else f"no status changes of {paper_id} yet",
        wrapping=["title"],
    )


def undo_command(ctx: typer.Context) -> None:
    """Undo the last command that changed something. A mark, queue, tag, note, add, remove
    or import can be undone. Its history stays, marked undone; `redo` applies it again.

    \b
    Examples:
      papercli mark-read lora
      papercli undo
      papercli redo
    """
    _replayed(library.undo(connect(ctx)), "undone")


def redo_command(ctx: typer.Context) -> None:
    """Redo the last `undo`. It applies again what the undo reverted, unless something
    changed since.

    \b
    Examples:
      papercli undo
      papercli redo
    """
    _replayed(library.redo(connect(ctx)), "redone")


def _replayed(replayed: library.Replayed, done: str) -> None:
    echo(f"{done}: {replayed.command.summary or replayed.command.command}")
    elsewhere = "as another machine left it before the command"
    # The status another machine had set, which the undo put back (or the redo replaced):
    # the history row has this machine's "from".
    brought = {key: status for kind, key, status in replayed.brought if kind == "state"}
    for entry, now in replayed.statuses:
        old, new = (entry.old_status, entry.new_status)
        if entry.paper_id in brought:
            there = brought[entry.paper_id]
            if done == "redone":
                echo(f"{entry.paper_id}: {there} {views.ARROW} {now} ({done})")
            elif there == new.value:
                echo(f"{entry.paper_id}: left {now} ({done}, {elsewhere})")
            else:
                echo(f"{entry.paper_id}: {new} {views.ARROW} {there} ({done}, {elsewhere})")
            continue
        if done == "redone":
            old, new = new, old
        if now is old:
            echo(f"{entry.paper_id}: {new} {views.ARROW} {old} ({done})")
        else:
            echo(f"{entry.paper_id}: left {now}, as it changed since (not {done})")
    queued = [key for kind, key, _ in replayed.left if kind == "queue"]
    for kind, key, prereq in replayed.left:
        if kind != "queue" or len(queued) == 1:
            echo(
                f"{_left_thing(kind, key, prereq)}: left as it is, as it changed since (not {done})"
            )
    if len(queued) > 1:  # one line, for a batch of any size
        names = library.names_list(queued)
        echo(f"the queue places of {names}: left as they are, as they changed since (not {done})")
    for kind, key, tag in replayed.brought:
        if kind != "state" and done == "undone":
            thing = f"the tag {tag} on {key}" if kind == "tag" else _left_thing(kind, key, "")
            echo(f"{thing}: put back {elsewhere} ({done})")


def _left_thing(kind: str, key: str, prereq: str) -> str:
    """What a step names, for a person: a note, watch, inbox decision or prerequisite."""
    if kind == "note":
        return f"a note on {key}"
    if kind == "watch":
        return f"the watch {key}"
    if kind == "inbox":
        return f"the inbox decision on arXiv:{key}"
    if kind == "queue":
        return f"{key}'s place in the queue"
    return f"{prereq} as a prerequisite of {key}"


def note_command(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(metavar="REF", autocompletion=complete_ref, help="The paper.")
    ],
    text: Annotated[
        list[str] | None,
        typer.Argument(metavar="[TEXT]...", help="The note to add (quotes not needed)."),
    ] = None,
    edit: Annotated[
        bool,
        typer.Option("--edit", "-e", help="Write a note in $EDITOR; with a number N, edit note N."),
    ] = False,
    delete: Annotated[
        list[int] | None,
        typer.Option(
            "--delete", metavar="N", help="Delete note N (see the list); repeat for several."
        ),
    ] = None,
) -> None:
    """Add, print, edit or delete a paper's dated notes.

    With TEXT, the note is added; with --edit, $EDITOR opens for a longer one (what you
    write above the scissors line "# ---- >8 ----" is the note), or on note N with
    --edit N; with neither, the paper's notes are printed, numbered. Editing and deleting
    can be undone.

    \b
    Examples:
      papercli note lora rank 8 is enough for most tasks
      papercli note lora --edit
      papercli note lora --edit 2
      papercli note lora --delete 1
      papercli note lora --delete 1 --delete 3
      papercli note lora
    """
    conn = connect(ctx)
    paper_id = refs.resolve(conn, ref)
    words = text or []
    if delete:
        if words or edit:
            fail("--delete N takes no TEXT and no --edit", 2)
        gone = notes.delete_notes(conn, paper_id, delete)
        if len(gone) == 1:
            when = times.day(gone[0].created_at)
            echo(f"deleted note {delete[0]} of {paper_id} ({when}); undo brings it back")
        else:
            echo(f"deleted {len(gone)} notes of {paper_id}; undo brings them back")
        return
    number = _note_number(words) if edit and words else None
    if words and edit and number is None:
        fail("give the note as TEXT or use --edit (with a note number to edit one), not both", 2)
    if edit:
        body = notes.note(conn, paper_id, number).body if number is not None else ""
        written = _write_in_editor(conn, paper_id, body)
        if number is not None:
            notes.edit_note(conn, paper_id, number, written)
            echo(f"edited note {number} of {paper_id}")
            return
        words = [written]
    if not words:
        listed = notes.notes_of(conn, paper_id)
        if not listed:
            echo(f"{paper_id} has no notes yet", err=True)
        for i, note in enumerate(listed, 1):
            echo(
                textlayout.wrap_block(
                    note.body, terminal.width(), f"{i:2}. {times.shown(note.created_at)}  "
                )
            )
        return
    notes.add_note(conn, paper_id, " ".join(words))
    echo(f"noted on {paper_id}")


def _note_number(words: list[str]) -> int | None:
    """``--edit 2``: the one word is a note number (a note of one number is unlikely), in
    ASCII digits (``int`` refuses some that ``isdigit`` takes, such as ``²``)."""
    word = words[0] if len(words) == 1 else ""
    return int(word) if word.isascii() and word.isdigit() else None


def _write_in_editor(conn: sqlite3.Connection, paper_id: str, body: str) -> str:
    """The text written in $EDITOR, above the scissors line (as git's); one line and exit 1 when
    the editor is missing or fails, saves nothing new, or leaves something that is not a
    file of text (no note is written then). The file lives in a folder of its own, which
    is removed afterwards whatever the editor left in it."""
    title = papers.get_paper(conn, paper_id).title
    import shutil
    import tempfile

    import click  # typer 0.28 vendors a click without edit(); only --edit pays for it

    below = [f"# Note on {paper_id}: {title}", "# Everything from the line above down is ignored."]
    template = "\n".join([body, _SCISSORS, *below, ""])
    folder = tempfile.mkdtemp(prefix="papercli-note-")
    path = os.path.join(folder, "note.txt")
    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(template)
        for name in ("VISUAL", "EDITOR"):  # a blank one is unset (click would run "   ")
            if not os.environ.get(name, "x").strip():
                del os.environ[name]
        try:
            click.edit(filename=path)
        except click.ClickException as exc:  # the editor is missing or exited with an error
            fail(f"no note was written: {exc.format_message()}", 1)
        except ValueError as exc:  # $EDITOR cannot be split into words (an open quote)
            fail(f"no note was written: cannot run $EDITOR: {exc}", 1)
        written = _saved_text(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if written == template:
        fail("no note was written: nothing was changed in the editor", 1)
    lines = written.splitlines()
    if _SCISSORS in lines:
        return "\n".join(lines[: lines.index(_SCISSORS)])
    return "\n".join(line for line in lines if line not in below)  # the line above removed


_SCISSORS = "# ------------------------ >8 ------------------------"
"""Where the note ends in the editor's file (git's scissors line): every line of the note
is kept, one starting with # too (a Markdown heading, "#1 priority"), which the comment
rule that dropped all such lines lost when a note was edited."""


EDITED_BYTES = 8 * MAX_TEXT
"""The most of an edited note's file that is read: a note of MAX_TEXT characters in any
script, with its comment lines, is less. A bigger file is refused unread."""


_NOT_A_FILE = "no note was written: the editor left a link or a special file, not a file"


def _saved_text(path: str) -> str:
    """What the editor left at ``path``, if it is a file of UTF-8 text of a note's size.
    An editor may have removed it, or put a FIFO or a link to a device in its place."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        fail("no note was written: the editor removed the file", 1)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink, which is not followed
            fail(_NOT_A_FILE, 1)
        fail(f"no note was written: cannot read what the editor saved: {exc.strerror}", 1)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            fail(_NOT_A_FILE, 1)
        if info.st_size > EDITED_BYTES:
            fail(
                f"no note was written: the editor saved {info.st_size:,} bytes; a note has"
                f" at most {MAX_TEXT:,} characters",
                1,
            )
        data = file.read(EDITED_BYTES + 1)
    try:
        return data.decode("utf-8-sig")  # a byte order mark, as Windows editors write
    except UnicodeDecodeError:
        fail("no note was written: the editor saved text that is not UTF-8", 1)


def notes_command(
    ctx: typer.Context,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", min=0, metavar="N", help="Show the last N notes; 0 for all."),
    ] = None,
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """List every note on every paper, newest first.

    \b
    Examples:
      papercli notes
      papercli notes --limit 5 --format json
    """
    emit_listing(
        output,
        ["when", "id", "#", "note"],
        notes.all_notes(connect(ctx), limit or None),
        lambda n: [times.shown(n.created_at), n.paper_id, str(n.number), n.body],
        lambda n: {
            "when": times.iso(n.created_at),
            "id": n.paper_id,
            "number": n.number,
            "note": n.body,
        },
        empty="no notes yet; add one with: papercli note REF TEXT",
        wrapping=["note"],
        droppable=["when"],  # the number `note REF --delete N` needs stays
    )


def remove_command(
    ctx: typer.Context,
    references: Refs,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove papers you added. Their notes, tags, status and queue place go with them.

    The catalogue's papers cannot be removed: mark them skipped to hide them from your
    queue. At a terminal you are asked first; `undo` puts everything back.

    \b
    Examples:
      papercli remove my-paper
      papercli remove my-paper other-paper --yes
    """
    conn = connect(ctx)
    given = refs.resolve_each(conn, read_refs(references))
    confirm = None if yes or not sys.stdin.isatty() else _confirm_removal
    with library.remove_papers(conn, given, confirm) as removed:
        for ids in removed.chunks():
            for pid in ids:
                echo(f"removed {pid}")


def _confirm_removal(first: list[str], count: int) -> None:
    """Ask before removing papers (the first few named); stop if the answer is no."""
    question = f"remove {library.names_list(first, count)} and everything you noted on them?"
    if not typer.confirm(question):
        fail("nothing was removed", 1)


def tag_command(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="REF... [+TAG|-TAG]...",
            autocompletion=complete_tag_edit,
            help="Papers, then tags to add or remove.",
        ),
    ],
) -> None:
    """Add (+name) or remove (-name) your own tags on papers.

    Tags keep the case you type and match in any case of A-Z (PEFT is peft; CAFÉ and
    café are two tags). With no +/- tag, the papers' tags are printed. Only --help
    shows help here, so `tag lora -h` removes the tag "h"; put -- before a tag that
    would read as an option: papercli tag lora -- --db.

    \b
    Examples:
      papercli tag lora +must-read -later
      papercli tag lora qlora +PEFT-week
      papercli tag lora
      papercli list --tag must-read
    """
    edits = [a for a in args if is_edit(a)]
    references = [a for a in args if not is_edit(a)]  # `a not in edits` took N edits' square
    last: dict[str, tuple[bool, str]] = {}  # a tag given twice: as typed last (-x +x: on)
    for edit in edits:
        # Any tag may be removed, a bad old one too; one added is checked.
        name = tag_name(edit[1:]) if edit[0] == "+" else as_tag(edit[1:].strip())
        last.pop(nocase(name), None)
        last[nocase(name)] = (edit[0] == "+", name)
    add = [name for on, name in last.values() if on]
    remove = [name for on, name in last.values() if not on]
    if not references:
        fail("name at least one paper to tag", 2)
    conn = connect(ctx)
    given = refs.resolve_each(conn, read_refs(references))
    with notes.change_tags(conn, given, add, remove) as tagged:
        for ids in tagged.chunks():
            tags = notes.tags_by_paper(conn, ids)
            for pid in ids:
                echo(f"{pid}: {', '.join(tags.get(pid, [])) or '(no tags)'}")


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
    emit_listing(
        output,
        ["tag", "papers"],
        notes.tag_counts(connect(ctx)),
        lambda row: [row[0], str(row[1])],
        lambda row: {"name": row[0], "papers": row[1]},
        empty="no tags yet; add one with: papercli tag REF +name",
    )
