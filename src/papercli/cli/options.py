"""The Typer declarations of the options and arguments that several commands share,
and the shell completion of paper references and filter values."""

import contextlib
import os
import re
import sqlite3
from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Annotated
from unicodedata import east_asian_width

import typer

from papercli import paths, textlayout
from papercli.cli.common import SortKey
from papercli.models import ReadStatus
from papercli.store import lookups

Completer = Callable[[typer.Context, str], list[tuple[str, str]]]


def _completer(find: Callable[[sqlite3.Connection, str], list[lookups.Candidate]]) -> Completer:
    """A shell completer offering what ``find`` looks up for the text typed so far, in
    the database the command line names (the shipped catalogue until that exists)."""

    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        try:
            path = paths.resolve_db_path(ctx.find_root().params.get("db_path"))
            database = path if os.path.exists(path) else paths.seed_path()
            with contextlib.closing(lookups.connect_for_completion(database)) as conn:
                found = find(conn, incomplete)
        except Exception:  # a missing, broken or busy database: a keypress prints no traceback
            return []
        from papercli.cli.fast import COMPLETION_VARIABLE  # loaded already: main's first step

        bash = os.environ.get(COMPLETION_VARIABLE) == "complete_bash"
        return [typed for candidate in found if (typed := _as_typed(incomplete, candidate, bash))]

    return complete


# What bash takes as a word of its own as it is: its completion function puts each line on
# the command line unquoted, so `--org goo` completed to `google deepmind`, two words. An
# escaped one (`google\ deepmind`) fared no better: Typer keeps only what starts as typed,
# which arrives unescaped, and bash inserted a dangling `a\` as a common prefix.
_PLAIN_TO_BASH = re.compile(r"[\w@%+=:,./-]*")


def _as_typed(
    typed: str, candidate: lookups.Candidate, bash: bool = False
) -> tuple[str, str] | None:
    """The candidate and its help, spelled to begin with exactly what was typed, since
    Typer and the shells drop any that do not: ``hin`` gives ``hinton`` (which --author
    takes as it takes ``Hinton``), ``fa`` gives ``fair``. None when neither spelling can,
    or for one holding a character the shell protocols cannot carry (a newline, a tab),
    or for ``bash`` one it would split or read (a space, a quote: ``google deepmind``
    comes as its folded key, ``googledeepmind``, which --org takes too)."""
    value, key, help_text = candidate
    for spelling in (value, key):
        start, rest = spelling[: len(typed)], spelling[len(typed) :]
        if not spelling.isprintable() or start.casefold() != typed.casefold():
            continue
        if bash and not _PLAIN_TO_BASH.fullmatch(spelling):
            continue
        return typed + (rest if start == typed else rest.lower()), _plain_help(help_text)
    return None


HELP_CELLS = 60
"""Completion help is cut to this many terminal cells (fewer in a narrower $COLUMNS):
Typer lays out the help of zsh and fish with Rich, which breaks a longer line in two,
and fish takes the second half for a candidate of its own."""

# Typer reads that help as Rich markup, too: escape what would read as a tag (as
# rich.markup.escape does, without its 30 ms import on every keypress).
_MARKUP_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def _plain_help(text: str) -> str:
    columns = os.environ.get("COLUMNS", "")
    cells = min(HELP_CELLS, int(columns) - 1) if columns.isdigit() else HELP_CELLS
    shown = _cut(textlayout.printable(text), max(cells, 10))
    escaped = _MARKUP_TAG.sub(lambda m: f"{m[1]}{m[1]}\\{m[2]}", shown)
    return escaped + "\\" if escaped.endswith("\\") and not escaped.endswith("\\\\") else escaped


def _cut(text: str, cells: int) -> str:
    """``text`` in at most ``cells`` terminal cells (a wide character takes two), cut at
    a word where it can be, with an ellipsis."""
    ends = list(accumulate(2 if east_asian_width(c) in "WF" else 1 for c in text))
    if not ends or ends[-1] <= cells:
        return text
    end = bisect_right(ends, cells - 1)
    kept = text[:end]
    if not text[end].isspace() and " " in kept:
        kept = kept.rsplit(" ", 1)[0]
    return kept.rstrip(" ,;:") + "…"


complete_ref = _completer(lookups.complete_ids)
complete_topic = _completer(lookups.complete_topics)
complete_org = _completer(lookups.complete_organizations)
complete_tag = _completer(lookups.complete_tags)
complete_author = _completer(lookups.complete_families)


def _edits(of: Completer) -> Completer:
    """A command's arguments: papers, then +value or -value completed by ``of`` (a -value
    after ``--``: Click takes a word starting with - for an option)."""

    def complete(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
        if incomplete.startswith(("+", "-")):
            sign = incomplete[0]
            return [(sign + value, note) for value, note in of(ctx, incomplete[1:])]
        return complete_ref(ctx, incomplete)

    return complete


complete_tag_edit = _edits(complete_tag)  # tag lora +peft -later
complete_ref_edit = _edits(complete_ref)  # prereq lora +qlora -gpt-3


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
        autocompletion=complete_org,
        help="Only papers by this organization (any spelling, e.g. meta); repeat for any"
        " of several.",
    ),
]
Topic = Annotated[
    list[str] | None,
    typer.Option(
        "--topic",
        metavar="NAME",
        autocompletion=complete_topic,
        help="Only papers on this topic; repeat for any of several.",
    ),
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
    typer.Option(
        "--status", help="Only papers with this reading status; repeat for any of several."
    ),
]
Tag = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="NAME",
        autocompletion=complete_tag,
        help="Only papers with this tag of yours; repeat for any of several.",
    ),
]
AuthorName = Annotated[
    list[str] | None,
    typer.Option(
        "--author",
        "-a",
        metavar="NAME",
        autocompletion=complete_author,
        help='Only papers by this author: a family name (hinton) or full name ("Quoc Le"),'
        " ignoring case and accents; repeat for any of several.",
    ),
]
Sort = Annotated[
    SortKey,
    typer.Option(
        "--sort",
        help="Order by date, title, year, read (when you read them, oldest first) or added"
        " (papers you added, oldest first, then the catalogue's).",
    ),
]
Reverse = Annotated[bool, typer.Option("--reverse", "-r", help="Reverse the order.")]
Limit = Annotated[
    int | None,
    typer.Option("--limit", "-n", min=0, metavar="N", help="Show at most N papers; 0 for all."),
]

Refs = Annotated[
    list[str],
    typer.Argument(
        metavar="REF...",
        autocompletion=complete_ref,
        help="Papers by id, name, arXiv id or URL, or title words; - reads them from stdin.",
    ),
]


Ref = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        autocompletion=complete_ref,
        help="Id, short name, alias, arXiv id or URL, or title words.",
    ),
]
