"""The Typer declarations of the options and arguments that several commands share."""

from typing import Annotated

import typer

from papercli.cli.common import SortKey, state
from papercli.models import ReadStatus
from papercli.store import lookups

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
Tag = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="NAME", help="Only papers with this tag of yours; repeatable."),
]
AuthorName = Annotated[
    list[str] | None,
    typer.Option(
        "--author",
        "-a",
        metavar="NAME",
        help='Only papers by this author: a family name (hinton) or full name ("Quoc Le"),'
        " ignoring case and accents; repeatable.",
    ),
]
Sort = Annotated[SortKey, typer.Option("--sort", help="Order by date, title or year.")]
Reverse = Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")]
Limit = Annotated[
    int | None, typer.Option("--limit", "-n", min=0, metavar="N", help="Show at most N papers.")
]

Refs = Annotated[
    list[str],
    typer.Argument(
        metavar="REF...",
        help="Papers by id, name, arXiv id or URL, or title words; - reads them from stdin.",
    ),
]


def complete_ref(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion: paper ids starting with what has been typed."""
    try:
        return lookups.complete_ids(state(ctx).connect(), incomplete)
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
