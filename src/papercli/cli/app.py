"""The Typer app: every command, with its options, help and errors.

Errors raised by the core are turned into one line on stderr and the documented exit
code in ``PapercliGroup.invoke`` (by ``common.report_failure``), so no command needs its
own error handling. Values no command can use (a number beyond SQLite's 64 bits, bytes
that are not UTF-8) are refused as usage errors by ``PapercliCommand``, before any runs.

Commands are built lazily: only the module of the command being run is imported and
turned into a Click command, so `papercli show` does not pay for `fetch` or `export`
(building all of them costs ~30 ms, more than the rest of a typical command).

The modules that define commands do without ``from __future__ import annotations``
(except arxiv_commands, which needs it for type-only imports and waits on the network
anyway): Typer reads a command's annotations when building it, and would have to
``eval`` each one from a string (~1 ms per command).
"""

import importlib
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from papercli import __version__
from papercli.cli.common import (
    EXPECTED_FAILURES,
    AppState,
    echo,
    is_output_failure,
    report_failure,
    report_output_failure,
    value_problem,
)

# Command name -> (module in papercli.cli, attribute, context settings), in --help order.
# The attribute is a command function, or a Typer app for a group of subcommands.
COMMANDS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "list": ("browse", "list_command", None),
    "search": ("search", "search_command", None),
    "show": ("browse", "show_command", None),
    "orgs": ("browse", "orgs_command", None),
    "topics": ("browse", "topics_command", None),
    "authors": ("browse", "authors_command", None),
    "fetch": ("arxiv_commands", "fetch_command", None),
    "add": ("arxiv_commands", "add_command", None),
    "open": ("arxiv_commands", "open_command", None),
    "mark-read": ("reading", "mark_read", None),
    "mark-reading": ("reading", "mark_reading", None),
    "mark-unread": ("reading", "mark_unread", None),
    "mark-skipped": ("reading", "mark_skipped", None),
    "mark": ("reading", "mark_as_command", None),
    "history": ("reading", "history_command", None),
    "undo": ("reading", "undo_command", None),
    "note": ("reading", "note_command", None),
    "tag": ("reading", "tag_command", {"ignore_unknown_options": True}),
    "tags": ("reading", "tags_command", None),
    "path": ("reading", "path_command", None),
    "queue": ("queue", "app", None),
    "next": ("queue", "next_command", None),
    "stats": ("stats", "stats_command", None),
    "export": ("transfer", "export_command", None),
    "import": ("transfer", "import_command", None),
    "db": ("db", "app", None),
}


class PapercliCommand(TyperCommand):
    """A command that refuses, as a usage error, a value it could only fail on later with
    a traceback: a number beyond SQLite's 64 bits, or text with bytes that are not UTF-8.
    Paths are left alone: a file name may be any bytes."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if ctx.resilient_parsing:  # shell completion: never an error
            return rest
        for param in self.get_params(ctx):
            value = ctx.params.get(param.name)
            for item in value if isinstance(value, list | tuple) else [value]:
                if (problem := value_problem(item)) is not None:
                    raise typer.BadParameter(problem, ctx=ctx, param=param)
        return rest


def build_command(name: str) -> Any:
    module_name, attribute, settings = COMMANDS[name]
    target = getattr(importlib.import_module(f"papercli.cli.{module_name}"), attribute)
    if isinstance(target, typer.Typer):
        for info in target.registered_commands:
            if info.cls in (None, TyperCommand):  # Typer's default
                info.cls = PapercliCommand
        group = typer.main.get_group(target)
        group.name = name
        return group
    info = typer.models.CommandInfo(
        name=name, callback=target, context_settings=settings, cls=PapercliCommand
    )
    return typer.main.get_command_from_info(
        info, pretty_exceptions_short=False, rich_markup_mode=None
    )


class PapercliGroup(TyperGroup):
    """Builds commands on demand, and translates expected failures into a one-line error
    and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.commands[cmd_name] = build_command(cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EXPECTED_FAILURES as exc:
            raise typer.Exit(report_failure(exc)) from None
        except OSError as exc:
            # Here, before Click's own handling (exit 1) of a closed pipe.
            if not is_output_failure(exc):
                raise
            raise typer.Exit(report_output_failure(exc)) from None


app = typer.Typer(
    cls=PapercliGroup,
    name="papercli",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        echo(f"papercli {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    db_path: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="PATH",
            dir_okay=False,
            help="Database file to use (default: $PAPERCLI_DB, else the user data dir).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """A reading-list manager for the landmark LLM papers.

    \b
    Examples:
      papercli list --since 2021
      papercli show lora
      papercli --db ~/papers.db list --topic peft
    """
    ctx.obj = AppState(db_option=db_path)
    ctx.call_on_close(ctx.obj.close)
