"""What the everyday commands (list, show, next, queue, mark-*, export, import) do once
their arguments are parsed: one call into the core, then the output.

Free of Typer, so that the Typer commands and the fast path (``papercli.cli.fast``) run
this very code; the commands only turn their parameters into these calls.
"""

from __future__ import annotations

import os
from datetime import date
from enum import StrEnum

from papercli import TYPE_CHECKING, render, textlayout, times
from papercli.cli import terminal
from papercli.cli.common import (
    AppState,
    CountFormat,
    ListFormat,
    ShowFormat,
    echo,
    echo_csv_records,
    echo_json,
    echo_json_array,
    echo_lines,
    emit_listing,
    emit_table,
    fail,
    fancy_output,
    read_refs,
    write,
)
from papercli.errors import EXIT_OK, EXIT_USER
from papercli.models import Paper, ReadStatus, Selection, paper_details, paper_summary
from papercli.store import lookups, papers

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath

    from papercli.arxiv import ArxivClient

ARROW = "->"


class NextFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    IDS = "ids"  # as every listing calls it
    ID = "id"  # its first name, kept for the scripts that use it


def list_papers(state: AppState, chosen: Selection, output: ListFormat) -> None:
    """Print the listing as it is read from the database, whatever its length."""
    conn = state.connect()
    if output is ListFormat.ids:
        echo_lines(papers.selected_ids(conn, chosen))
        return
    listing = papers.iter_papers(conn, chosen)
    if output is ListFormat.json:
        echo_json_array(map(paper_summary, listing))
    elif output is ListFormat.csv:
        echo_csv_records(map(paper_summary, listing))
    else:
        emit_table(
            listing,
            lambda first: terminal.print_rich(render.papers_table(first, terminal.width())),
            render.paper_lines,
            "no papers match",
        )


def show_paper(state: AppState, ref: str, output: ShowFormat) -> None:
    from papercli import refs
    from papercli.store import graph  # only here: `list` starts faster without it

    conn = state.connect()
    (paper,) = papers.full_papers(conn, [refs.resolve(conn, ref)])
    paper.prerequisite_links = [
        (link.prereq_id, link.kind) for link in graph.prerequisites_of(conn, [paper.id])[paper.id]
    ]
    if output is ShowFormat.json:
        echo_json(paper_details(paper))
        return
    kinds = dict(paper.prerequisite_links)
    prerequisites = [
        (pid, title + _LINK_NOTES[kinds[pid]])
        for pid, title, _ in lookups.describe_ids(conn, list(kinds))
    ]
    if fancy_output():
        terminal.print_rich(render.paper_panel(paper, prerequisites, terminal.width()))
    else:
        columns = terminal.width()  # $COLUMNS when piped, else 80, as the other texts
        echo(render.plain_details(paper, prerequisites, columns))


# How show marks a prerequisite that is not the catalogue's own.
_LINK_NOTES = {
    "curated": "",
    "yours": ", added by you",
    "suggested": ", suggested from its references",
}


def show_next(state: AppState, output: NextFormat) -> None:
    from papercli.store import library

    conn = state.connect()
    head = library.next_in_queue(conn)
    if head is None:
        fail("your queue is empty; add papers with: papercli queue add REF", EXIT_USER)
    (paper,) = papers.full_papers(conn, [head])
    if output is NextFormat.JSON:
        echo_json(paper_summary(paper))
    elif output in (NextFormat.IDS, NextFormat.ID):
        echo(paper.id)
    else:
        echo(_next_text(paper, terminal.width()))


def _next_text(paper: Paper, width: int) -> str:
    """The id and title, then why it matters and where to read it, wrapped to ``width``
    at word boundaries (the address is never broken)."""
    heading = textlayout.wrap_block(f"{paper.title} ({paper.year})", width, f"{paper.id}  ")
    rest = [
        textlayout.wrap_block(text, width, "  ") for text in (paper.why, paper.url or "") if text
    ]
    return "\n".join([heading, *rest])


def show_queue(state: AppState, output: CountFormat) -> None:
    """The queue in its order, printed as it is read: a queue of any length in the same
    memory (a Rich table up to RICH_MAX_ROWS papers at a terminal, as `list` has)."""
    state.page()  # here, not for the whole `queue` group: `queue add` may ask a question
    emit_listing(
        output,
        ["#", "id", "title", "year", "status"],
        (
            (position, paper, queued_at)
            for position, (paper, queued_at) in enumerate(papers.iter_queue(state.connect()), 1)
        ),
        lambda item: [
            str(item[0]),
            item[1].id,
            item[1].title,
            str(item[1].year),
            str(item[1].status),
        ],
        lambda item: {
            "position": item[0],
            **paper_summary(item[1]),
            "queued_at": times.iso(item[2]),
        },
        empty="your queue is empty; add papers with: papercli queue add REF",
        wrapping=["title"],
        droppable=["status", "year"],
    )


def mark_papers(state: AppState, references: list[str], status: ReadStatus) -> None:
    from papercli import refs
    from papercli.store import library

    conn = state.connect()
    given = refs.resolve_each(conn, read_refs(references))
    with library.set_status(conn, given, status) as change:
        for pid, old, dequeued in change.changed():
            note = " (removed from the queue)" if dequeued else ""
            echo(f"{pid}: {old} {ARROW} {status}{note}")
        for pid in change.unchanged():
            echo(f"{pid}: already {status}, nothing to do")


def _as_path(given: StrPath) -> Path:
    """A Path for ``export -o``: pathlib is imported only when a file is written (with
    urllib.parse, 4-6 ms of an export to stdout)."""
    from papercli.files import output_path

    return output_path(os.fspath(given))


def export_papers(
    state: AppState,
    chosen: Selection,
    asked_format: str | None,
    output: StrPath | None,
    *,
    queue: bool,
    group_by: str | None,
    title: str,
    sorted_by_option: bool,
) -> None:
    """Write the selection (or the queued papers it picks) in the format asked for (else
    the one ``output``'s extension names) to ``output`` or stdout, read, rendered and
    written a chunk of papers at a time, in bounded memory."""
    from papercli import export
    from papercli.store import merge

    target = None if output is None else _as_path(output)
    fmt = export.format_for(asked_format, "" if target is None else target.suffix)
    export.check_format(fmt, group_by)
    conn = state.connect()
    if target is not None:
        from papercli.store.connection import refuse_database_files

        refuse_database_files(conn, target, "in use")
    with merge.ExportReader(conn) as reader:
        topics_first = papers.resolve_topics(conn, chosen.topics) if chosen.topics else ()
        if queue:
            # In the queue's order, unless --sort asks for another (--reverse flips either).
            ids = papers.queued_ids(conn, chosen, queue_order=not sorted_by_option)
        else:
            ids = papers.selected_ids(conn, chosen)
        section_of = export.section_of(group_by, topics_first) if group_by else None
        count = reader.stage(ids, section_of)
        text = export.stream_papers(
            reader.papers(
                with_history=fmt == "json",
                with_state=fmt in export.WITH_STATE,
                cited_only=fmt in export.CITATIONS,
            ),
            fmt,
            count=count,
            title=title,
            exported_on=date.today(),
            group_by=group_by,
            topics_first=topics_first,
            keys=reader.keys,
        )
        if target is None:
            for piece in text:
                write(piece)  # the export itself, exact
        else:
            from papercli.files import write_atomic_pieces  # with tempfile: 3 ms

            write_atomic_pieces(target, text)
    if target is not None:
        shown = textlayout.printable(str(target))  # a line break in the name as \n
        echo(f"wrote {textlayout.counted(count, 'paper')} to {shown}", err=True)
        if fmt == "csl-json" and target.suffix.lower() != ".json":
            echo(
                f"warning: pandoc reads CSL-JSON only from a .json file;"
                f" name it {target.with_suffix('.json').name} for pandoc --bibliography",
                err=True,
            )


def import_file(
    state: AppState, file: str, input_format: str | None, *, dry_run: bool, queue: bool
) -> int:
    """Import ``file`` (``-``: stdin) and say what it did; return the exit code: EXIT_USER
    when arXiv did not know, or refused, an id it was asked for."""
    import sys
    from pathlib import Path

    from papercli import importing

    if not file:  # Path("") is the folder here
        fail("an empty file name names no file; give one, or - for stdin", EXIT_USER)
    report = importing.import_file(
        state.connect(),
        Path(file),
        _arxiv_client,
        kind=input_format,
        dry_run=dry_run,
        queue=queue,
        stdin=sys.stdin.buffer,
    )
    would = "would be " if dry_run else ""
    for label, ids in (
        ("restored", report.restored),
        ("added", report.added),
        ("queued", report.queued),
    ):
        if ids.count:
            echo(f"{would}{label}: {ids.named()}")
    if report.prerequisites.count:  # as `prereq` takes them: gpt-2 +bert, lora -gpt-3
        echo(f"{'would set' if dry_run else 'set'} prerequisites: {report.prerequisites.named()}")
    for warning in report.warnings.first:
        echo(f"warning: {warning}", err=True)
    if more := report.warnings.count - len(report.warnings.first):
        echo(f"warning: and {more:,} more warnings", err=True)
    for arxiv_id in report.not_found:
        echo(f"arXiv does not know {arxiv_id}; not imported", err=True)
    for arxiv_id, reason in report.failed.items():
        echo(f"arXiv refused {arxiv_id}: {reason}", err=True)
    if report.skipped.count:
        echo(f"skipped (no arXiv id, matches no paper): {report.skipped.named()}", err=True)
    counts = (
        f"restored {report.restored.count}, added {report.added.count},"
        f" already there {report.already_there}, not found {len(report.not_found)},"
        f" failed {len(report.failed)}, skipped {report.skipped.count}"
    )
    echo(f"{'dry run, nothing changed: ' if dry_run else ''}{counts}", err=True)
    return EXIT_USER if report.not_found or report.failed else EXIT_OK


def _arxiv_client() -> ArxivClient:
    """The arXiv client an import asks for papers to add: only then are the network
    commands (and Typer with them) loaded, when the time goes to arXiv anyway."""
    from papercli.cli import arxiv_commands

    return arxiv_commands.new_client()
