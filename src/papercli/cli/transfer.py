"""Moving papers out of (and into) papercli: ``export`` and ``import``."""

from enum import StrEnum
from typing import Annotated

import typer
from typer.models import TyperPath

from papercli.cli import views
from papercli.cli.common import SortKey, selection, state
from papercli.cli.options import (
    AuthorName,
    Org,
    Reverse,
    Search,
    Since,
    Status,
    Tag,
    Topic,
    Until,
    Year,
)


class ExportFormat(StrEnum):
    """The formats of ``export.FORMATS`` (a test keeps the two in step)."""

    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    BIBTEX = "bibtex"
    CSL_JSON = "csl-json"
    RIS = "ris"


class GroupBy(StrEnum):
    TOPIC = "topic"
    YEAR = "year"


def export_command(
    ctx: typer.Context,
    output_format: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="The file format to write (default: the one FILE's extension names, .json"
            " .bib .csv .ris .md, else markdown).",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            # A str, as typed: Path("new/") would drop the slash that names a folder.
            click_type=TyperPath(),
            help="Write to FILE (default, or -: stdout).",
        ),
    ] = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="Export your reading queue, in queue order.")
    ] = False,
    group_by: Annotated[
        GroupBy | None, typer.Option("--group-by", help="Markdown only: sections by topic or year.")
    ] = None,
    title: Annotated[
        str, typer.Option("--title", metavar="TITLE", help="Heading of the Markdown checklist.")
    ] = "Reading list",
    since: Since = None,
    until: Until = None,
    year: Year = None,
    org: Org = None,
    topic: Topic = None,
    search: Search = None,
    status: Status = None,
    tag: Tag = None,
    author: AuthorName = None,
    sort: Annotated[
        SortKey | None,
        typer.Option(
            "--sort",
            help="Order by date, title or year (default: date; with --queue, the queue's order).",
        ),
    ] = None,
    reverse: Reverse = False,
) -> None:
    """Export papers: Markdown, CSV, JSON, BibTeX, CSL-JSON or RIS.

    Pick papers with the filters of `list`, or --queue for your queue in order (the
    filters then pick from the queue, and --sort reorders it). JSON
    keeps everything (status, history, notes, tags, queue place) and can be imported
    back. An existing FILE is replaced atomically, as by `db backup`: a failure never
    leaves half a file. A symlink, directory, device or read-only file is refused.

    Without --format, FILE's extension says which: .json (papercli's JSON, which
    `import` reads back), .bib, .csv, .ris, .md; any other, Markdown. Name files as
    their readers expect: .bib for BibTeX (LaTeX, pandoc, Zotero), .json for CSL-JSON
    (pandoc reads CSL-JSON only from a .json file: give --format csl-json), .ris for RIS.

    \b
    Examples:
      papercli export --queue --format bibtex -o queue.bib
      papercli export --queue > reading-list.md
      papercli export --topic peft --format csv -o peft.csv
      papercli export --format json -o backup.json
      papercli export --status read --group-by year
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
        sort=sort or SortKey.DATE,
        reverse=reverse,
    )
    views.export_papers(
        state(ctx),
        chosen,
        output_format and str(output_format),
        None if output == "-" else output,
        queue=queue,
        group_by=str(group_by) if group_by else None,
        title=title,
        sorted_by_option=sort is not None,
    )


class ImportFormat(StrEnum):
    JSON = "json"
    BIBTEX = "bibtex"
    TEXT = "text"


def import_command(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="The file to import; - reads stdin.")],
    input_format: Annotated[
        ImportFormat | None,
        typer.Option("--format", "-f", help="json, bibtex or text (default: from the file)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    queue: Annotated[bool, typer.Option("--queue", help="Also queue the imported papers.")] = False,
) -> None:
    """Import a papercli export, a BibTeX file or arXiv ids.

    JSON (from `export --format json`) restores status, history, notes, tags and queue
    onto matching papers and adds missing ones. BibTeX entries are matched by arXiv id,
    DOI or title; unmatched ones with an arXiv id are added from arXiv. A text file lists
    arXiv ids or URLs, one per line (# starts a comment); they are added from arXiv. A
    malformed file imports nothing.

    \b
    Examples:
      papercli import backup.json
      papercli import references.bib --dry-run
      papercli import to-read.txt --queue
      papercli export --format json | papercli --db copy.db import -
    """
    kind = str(input_format) if input_format else None
    code = views.import_file(state(ctx), file, kind, dry_run=dry_run, queue=queue)
    if code:
        raise typer.Exit(code)
