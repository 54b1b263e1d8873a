"""The fast path: the everyday command lines, run without importing Typer.

Importing Typer (with its vendored Click) takes about 45 ms, four times the interpreter's
own start-up and more than everything else `papercli show lora` does. So for the command
lines typed many times a day (`list`, `show`, `next`, `queue`, `mark-*` and their
options), and `export` and `import`, which scripts run, ``run`` reads argv itself,
against a table generated from the Typer commands, and calls the same ``views``
functions the Typer commands call.

Anything it does not recognise exactly goes to Typer instead (``run`` returns None):
`--help`, a misspelt option, a value Typer would reject, a form such as `-n5`, shell
completion, every other command. Typer then answers as it always does, so the fast path
changes how quickly papercli answers, never what it answers: ``tests/test_fast.py`` runs
both on the same command lines and compares the output.
"""

from __future__ import annotations

import os

from papercli import TYPE_CHECKING
from papercli.cli import views
from papercli.cli.common import (
    EXPECTED_FAILURES,
    SQLITE_INTEGERS,
    AppState,
    CountFormat,
    ListFormat,
    ShowFormat,
    SortKey,
    echo_lines,
    is_output_failure,
    is_whole_number,
    non_utf8,
    report_failure,
    report_output_failure,
    selection,
)
from papercli.cli.terminal import PAGED_COMMANDS, ColorMode
from papercli.models import ReadStatus
from papercli.records import datarecord

if TYPE_CHECKING:
    from typing import Any

    # An option spelling's parameter, its kind ("flag", "int", "text", "choice" or "file")
    # and what the kind needs: the flag's value, the int's (min, max) range, the choices.
    Option = tuple[str, str, Any]


@datarecord(frozen=True)
class Spec:
    """One command's options, positional arguments (name, nargs) and defaults."""

    options: dict[str, Option]
    arguments: list[tuple[str, int]]
    repeatable: list[str]
    defaults: dict[str, Any]


# Generated from the Typer commands by scripts/fast_spec.py; after changing one of these
# commands, run `python -m cogapp -r src/papercli/cli/fast.py` (tests/test_docs.py checks).
# [[[cog from scripts.fast_spec import spec_source; cog.outl(spec_source())]]]
GLOBAL_OPTIONS: dict[str, Option] = {
    "--db": ("db_path", "file", None),
    "--color": ("color", "choice", ("auto", "always", "never")),
    "--no-pager": ("no_pager", "flag", True),
}
COMMANDS: dict[str, Spec] = {
    "list": Spec(
        options={
            "--since": ("since", "int", None),
            "--until": ("until", "int", None),
            "--year": ("year", "int", None),
            "--org": ("org", "text", None),
            "--topic": ("topic", "text", None),
            "--search": ("search", "text", None),
            "-s": ("search", "text", None),
            "--status": ("status", "choice", ("unread", "reading", "read", "skipped")),
            "--tag": ("tag", "text", None),
            "--author": ("author", "text", None),
            "-a": ("author", "text", None),
            "--sort": ("sort", "choice", ("date", "title", "year", "read", "added")),
            "--reverse": ("reverse", "flag", True),
            "-r": ("reverse", "flag", True),
            "--limit": ("limit", "int", (0, None)),
            "-n": ("limit", "int", (0, None)),
            "--format": ("output", "choice", ("table", "json", "csv", "ids")),
            "-f": ("output", "choice", ("table", "json", "csv", "ids")),
        },
        arguments=[],
        repeatable=["org", "topic", "status", "tag", "author"],
        defaults={
            "since": None,
            "until": None,
            "year": None,
            "org": [],
            "topic": [],
            "search": None,
            "status": [],
            "tag": [],
            "author": [],
            "sort": "date",
            "reverse": False,
            "limit": None,
            "output": "table",
        },
    ),
    "show": Spec(
        options={
            "--format": ("output", "choice", ("text", "json")),
            "-f": ("output", "choice", ("text", "json")),
        },
        arguments=[("ref", 1)],
        repeatable=[],
        defaults={
            "output": "text",
        },
    ),
    "next": Spec(
        options={
            "--format": ("output", "choice", ("text", "json", "ids", "id")),
            "-f": ("output", "choice", ("text", "json", "ids", "id")),
        },
        arguments=[],
        repeatable=[],
        defaults={
            "output": "text",
        },
    ),
    "queue": Spec(
        options={
            "--format": ("output", "choice", ("table", "json", "csv", "ids")),
            "-f": ("output", "choice", ("table", "json", "csv", "ids")),
        },
        arguments=[],
        repeatable=[],
        defaults={
            "output": "table",
        },
    ),
    "mark-read": Spec(
        options={},
        arguments=[("references", -1)],
        repeatable=[],
        defaults={},
    ),
    "mark-reading": Spec(
        options={},
        arguments=[("references", -1)],
        repeatable=[],
        defaults={},
    ),
    "mark-unread": Spec(
        options={},
        arguments=[("references", -1)],
        repeatable=[],
        defaults={},
    ),
    "mark-skipped": Spec(
        options={},
        arguments=[("references", -1)],
        repeatable=[],
        defaults={},
    ),
    "export": Spec(
        options={
            "--format": (
                "output_format",
                "choice",
                ("markdown", "csv", "json", "bibtex", "csl-json", "ris"),
            ),
            "-f": (
                "output_format",
                "choice",
                ("markdown", "csv", "json", "bibtex", "csl-json", "ris"),
            ),
            "--output": ("output", "file", None),
            "-o": ("output", "file", None),
            "--queue": ("queue", "flag", True),
            "--group-by": ("group_by", "choice", ("topic", "year")),
            "--title": ("title", "text", None),
            "--since": ("since", "int", None),
            "--until": ("until", "int", None),
            "--year": ("year", "int", None),
            "--org": ("org", "text", None),
            "--topic": ("topic", "text", None),
            "--search": ("search", "text", None),
            "-s": ("search", "text", None),
            "--status": ("status", "choice", ("unread", "reading", "read", "skipped")),
            "--tag": ("tag", "text", None),
            "--author": ("author", "text", None),
            "-a": ("author", "text", None),
            "--sort": ("sort", "choice", ("date", "title", "year", "read", "added")),
            "--reverse": ("reverse", "flag", True),
            "-r": ("reverse", "flag", True),
        },
        arguments=[],
        repeatable=["org", "topic", "status", "tag", "author"],
        defaults={
            "output_format": None,
            "output": None,
            "queue": False,
            "group_by": None,
            "title": "Reading list",
            "since": None,
            "until": None,
            "year": None,
            "org": [],
            "topic": [],
            "search": None,
            "status": [],
            "tag": [],
            "author": [],
            "sort": None,
            "reverse": False,
        },
    ),
    "import": Spec(
        options={
            "--format": ("input_format", "choice", ("json", "bibtex", "text")),
            "-f": ("input_format", "choice", ("json", "bibtex", "text")),
            "--dry-run": ("dry_run", "flag", True),
            "--queue": ("queue", "flag", True),
        },
        arguments=[("file", 1)],
        repeatable=[],
        defaults={
            "input_format": None,
            "dry_run": False,
            "queue": False,
        },
    ),
}
# [[[end]]]

COMPLETION_VARIABLE = "_PAPERCLI_COMPLETE"
# The global options that may follow the command name, as in the Typer app (--color and
# --no-pager go before it, as git's --no-pager does).
_AFTER_COMMAND = {"--db": GLOBAL_OPTIONS["--db"]}


@datarecord(frozen=True)
class Invocation:
    """A command line the fast path takes: the command, the global options given (by
    parameter name: db_path, color, no_pager), and the command's parameter values."""

    command: str
    options: dict[str, Any]
    values: dict[str, Any]


def run(argv: list[str]) -> int | None:
    """Run ``argv`` and return the exit code, or None (having done nothing) when Typer
    should take it."""
    invocation = parse(argv)
    if invocation is None:
        return None
    options = invocation.options
    state = AppState(
        db_option=options.get("db_path"),
        color=ColorMode(options.get("color", ColorMode.AUTO)),
        pager=not options.get("no_pager", False),
    )
    try:
        return _dispatch(state, invocation)
    except EXPECTED_FAILURES as exc:
        return report_failure(exc, state)
    except OSError as exc:  # as in PapercliGroup.invoke: the reader went away, a full disk
        if not is_output_failure(exc):
            raise
        return report_output_failure(exc)


def parse(argv: list[str]) -> Invocation | None:
    """The command and its parameter values, exactly as Typer would pass them, or None."""
    if COMPLETION_VARIABLE in os.environ or any(non_utf8(arg) is not None for arg in argv):
        return None  # bytes that are not UTF-8: Typer says which value holds them
    options: dict[str, Any] = {}
    position = 0
    while position < len(argv) and argv[position].startswith("-"):
        found = _take_option(GLOBAL_OPTIONS, argv, position)
        if found is None:
            return None
        name, value, position = found
        options[name] = value
    if position == len(argv) or argv[position] not in COMMANDS:
        return None
    command = argv[position]
    values = _parse_command(COMMANDS[command], argv[position + 1 :])
    if values is None:
        return None
    if "db_path" in values:
        options["db_path"] = values.pop("db_path")
    return Invocation(command, options, values)


def _parse_command(spec: Spec, argv: list[str]) -> dict[str, Any] | None:
    values = {name: list(v) if isinstance(v, list) else v for name, v in spec.defaults.items()}
    positional: list[str] = []
    position = 0
    while position < len(argv):
        token = argv[position]
        if token.startswith("-") and token != "-":
            # --db may follow the command name too, and then wins over one before it.
            found = _take_option(spec.options, argv, position) or _take_option(
                _AFTER_COMMAND, argv, position
            )
            if found is None:
                return None
            name, value, position = found
            if name in spec.repeatable:
                values[name].append(value)
            else:
                values[name] = value
        else:
            positional.append(token)
            position += 1
    return _bind_arguments(spec.arguments, positional, values)


def _take_option(
    options: dict[str, Option], argv: list[str], position: int
) -> tuple[str, Any, int] | None:
    """The option at ``argv[position]`` (``--name value``, ``--name=value``, ``-n value``
    or a flag): its parameter, converted value and the position after it."""
    spelling, equals, attached = argv[position].partition("=")
    if not spelling.startswith("--"):
        spelling, equals = argv[position], ""
    if spelling not in options:
        return None
    name, kind, detail = options[spelling]
    if kind == "flag":
        return None if equals else (name, detail, position + 1)
    if equals:
        raw, position = attached, position + 1
    elif position + 1 < len(argv) and not argv[position + 1].startswith("-"):
        raw, position = argv[position + 1], position + 2
    else:
        return None
    value = _convert(raw, kind, detail)
    return None if value is None else (name, value, position)


def _convert(raw: str, kind: str, detail: Any) -> Any:
    if kind == "text":
        return raw
    if kind == "choice":
        return raw if raw in detail else None
    if kind == "file":
        # Click refuses a directory or an unreadable file; leave those to it.
        if not raw or os.path.isdir(raw) or (os.path.exists(raw) and not os.access(raw, os.R_OK)):
            return None
        return raw  # a str, as os.path takes it (views.export_papers makes it a Path)
    if not is_whole_number(raw):
        return None
    number = int(raw)
    low, high = detail or (None, None)
    if (low is not None and number < low) or (high is not None and number > high):
        return None
    return number if number in SQLITE_INTEGERS else None  # Typer refuses it


def _bind_arguments(
    arguments: list[tuple[str, int]], positional: list[str], values: dict[str, Any]
) -> dict[str, Any] | None:
    if not arguments:
        return None if positional else values
    ((name, nargs),) = arguments  # each fast command takes one argument, maybe repeated
    if not positional or (nargs == 1 and len(positional) > 1):
        return None
    values[name] = positional[0] if nargs == 1 else positional
    return values


# The parameters of `list` that `selection` takes as they are (status and sort are enums).
_SELECTION = (
    "since",
    "until",
    "year",
    "org",
    "topic",
    "search",
    "tag",
    "author",
    "reverse",
    "limit",
)


def _dispatch(state: AppState, invocation: Invocation) -> int:
    try:
        if invocation.command in PAGED_COMMANDS:
            state.page()
        return _call_view(state, invocation.command, invocation.values)
    finally:
        state.close()


def _call_view(state: AppState, command: str, values: dict[str, Any]) -> int:
    """Call the view, as the Typer command would with the same values; return the exit
    code."""
    if command == "import":
        return views.import_file(
            state,
            values["file"],
            values["input_format"],
            dry_run=values["dry_run"],
            queue=values["queue"],
        )
    if command == "list":
        filters = {name: values[name] for name in _SELECTION}
        chosen = selection(
            **filters,
            status=[ReadStatus(s) for s in values["status"]],
            sort=SortKey(values["sort"]),
        )
        views.list_papers(state, chosen, ListFormat(values["output"]))
    elif command == "show":
        views.show_paper(state, values["ref"], ShowFormat(values["output"]))
    elif command == "next":
        views.show_next(state, views.NextFormat(values["output"]))
    elif command == "queue" and values["output"] == ListFormat.ids:
        from papercli.store import library

        echo_lines(library.queue_ids(state.connect()))
    elif command == "queue":
        views.show_queue(state, CountFormat(values["output"]))
    elif command == "export":
        filters = {name: values[name] for name in _SELECTION if name != "limit"}
        chosen = selection(
            **filters,
            status=[ReadStatus(s) for s in values["status"]],
            sort=SortKey(values["sort"] or SortKey.DATE),
        )
        views.export_papers(
            state,
            chosen,
            values["output_format"],
            values["output"],
            queue=values["queue"],
            group_by=values["group_by"],
            title=values["title"],
            sorted_by_option=values["sort"] is not None,
        )
    else:
        status = ReadStatus(command.removeprefix("mark-"))
        views.mark_papers(state, values["references"], status)
    return 0
