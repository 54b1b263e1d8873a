"""The Typer app: every command, with its options, help and errors.

Errors raised by the core are turned into one line on stderr and the documented exit
code in ``PapercliGroup.invoke`` (by ``common.report_failure``), so no command needs its
own error handling; Click's usage errors become one line there too (``usage_error_message``),
in place of Click's usage block. Values no command can use (a number beyond SQLite's 64
bits, bytes that are not UTF-8) are refused as usage errors by ``PapercliCommand``, before
any runs.

Commands are built lazily: only the module of the command being run is imported and
turned into a Click command, so `papercli show` does not pay for `fetch` or `export`
(building all of them costs ~30 ms, more than the rest of a typical command).

The modules that define commands do without ``from __future__ import annotations``
(except arxiv_commands, which needs it for type-only imports and waits on the network
anyway): Typer reads a command's annotations when building it, and would have to
``eval`` each one from a string (~1 ms per command).
"""

import difflib
import importlib
from typing import Annotated, Any

import typer
from typer._click import _textwrap

# Typer 0.28 vendors Click here (and is pinned below 0.29): its usage errors are rewritten
# below as one line each.
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer._click.types import IntParamType, IntRange
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import TyperPath

from papercli import __version__
from papercli.cli import terminal
from papercli.cli.common import (
    EXPECTED_FAILURES,
    AppState,
    echo,
    is_output_failure,
    is_whole_number,
    report_failure,
    report_output_failure,
    state,
    value_problem,
)
from papercli.errors import EXIT_USER
from papercli.textlayout import MOST_QUOTED, clipped

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
    "remove": ("reading", "remove_command", None),
    "open": ("arxiv_commands", "open_command", None),
    "mark-read": ("reading", "mark_read", None),
    "mark-reading": ("reading", "mark_reading", None),
    "mark-unread": ("reading", "mark_unread", None),
    "mark-skipped": ("reading", "mark_skipped", None),
    "mark": ("reading", "mark_as_command", None),
    "history": ("reading", "history_command", None),
    "undo": ("reading", "undo_command", None),
    "redo": ("reading", "redo_command", None),
    "note": ("reading", "note_command", None),
    "notes": ("reading", "notes_command", None),
    # Only --help shows help, so that `tag lora -hx` removes the tag "hx".
    "tag": (
        "reading",
        "tag_command",
        {"ignore_unknown_options": True, "help_option_names": ["--help"]},
    ),
    "tags": ("reading", "tags_command", None),
    "path": ("citations", "path_command", None),
    # As with tag: `prereq qlora -hx` removes the prerequisite "hx".
    "prereq": (
        "citations",
        "prereq_command",
        {"ignore_unknown_options": True, "help_option_names": ["--help"]},
    ),
    "refs": ("citations", "refs_command", None),
    "cited-by": ("citations", "cited_by_command", None),
    "related": ("citations", "related_command", None),
    "queue": ("queue", "app", None),
    "next": ("queue", "next_command", None),
    "stats": ("stats", "stats_command", None),
    "export": ("transfer", "export_command", None),
    "import": ("transfer", "import_command", None),
    "watch": ("watch", "app", None),
    "inbox": ("inbox", "app", None),
    "sync": ("sync", "sync_command", None),
    "db": ("db", "app", None),
}


class WholeNumber(IntParamType):
    """Click's int, in ASCII digits only (see ``is_whole_number``): ``note --delete \\u0661``
    deleted note 1."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str) and not is_whole_number(value):
            self.fail(f"{value!r} is not a whole number (digits 0-9)", param, ctx)
        return super().convert(value, param, ctx)


class WholeNumberRange(IntRange, WholeNumber):
    """Click's IntRange, whose range check runs after ``WholeNumber``'s (it comes after
    IntRange's in the method order)."""


def _whole_numbers(kind: Any) -> Any:
    if type(kind) is IntParamType:
        return WholeNumber()
    if type(kind) is IntRange:
        return WholeNumberRange(kind.min, kind.max, kind.min_open, kind.max_open, kind.clamp)
    return kind


class CheckedParameters:
    """Refuses, as a usage error, a value a command (or a group's own options) could only
    fail on later with a traceback: a number beyond SQLite's 64 bits, or text with bytes
    that are not UTF-8. Paths are left alone: a file name may be any bytes. Numbers are
    whole numbers in ASCII digits."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            param.type = _whole_numbers(param.type)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        rest: list[str] = super().parse_args(ctx, args)  # type: ignore[misc]
        if ctx.resilient_parsing:  # shell completion: never an error
            return rest
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if isinstance(param.type, TyperPath):
                continue
            value = ctx.params.get(param.name)
            for item in value if isinstance(value, list | tuple) else [value]:
                if (problem := value_problem(item)) is not None:
                    raise typer.BadParameter(problem, ctx=ctx, param=param)
        return rest


class PapercliCommand(CheckedParameters, TyperCommand):
    """A command whose values are checked as they are read."""


DB_HELP = "Database file to use (default: $PAPERCLI_DB, else the user data dir)."


def _checked_db(ctx: Any, param: Any, value: str | None) -> str | None:
    """--db as typed (Path("new/") would drop the slash), and never empty: an empty
    variable in a script must not mean the default database."""
    if value == "":
        raise typer.BadParameter(
            "an empty name names no file", ctx=ctx, param=param, param_hint="--db"
        )
    return value


def _use_db(ctx: Any, param: Any, value: str | None) -> None:
    if _checked_db(ctx, param, value) is not None:
        state(ctx).db_option = value


def db_option() -> TyperOption:
    """``--db`` for a command, so that it may follow the command name too
    (`papercli list --db x.db`); it overrides one given before the name."""
    return TyperOption(
        param_decls=["--db"],
        type=TyperPath(),  # a directory is refused as $PAPERCLI_DB is: exit 4
        metavar="PATH",
        expose_value=False,
        callback=_use_db,
        help=DB_HELP,
    )


def build_command(name: str) -> Any:
    module_name, attribute, settings = COMMANDS[name]
    target = getattr(importlib.import_module(f"papercli.cli.{module_name}"), attribute)
    if isinstance(target, typer.Typer):
        for info in target.registered_commands:
            if info.cls in (None, TyperCommand):  # Typer's default
                info.cls = PapercliCommand
        if not isinstance(target.info.cls, type) or target.info.cls is TyperGroup:
            target.info.cls = SuggestingGroup
        group = typer.main.get_group(target)
        group.name = name
        for command in [group, *group.commands.values()]:
            command.params.append(db_option())
        return group
    info = typer.models.CommandInfo(
        name=name, callback=target, context_settings=settings, cls=PapercliCommand
    )
    command = typer.main.get_command_from_info(
        info, pretty_exceptions_short=False, rich_markup_mode=None
    )
    command.params.append(db_option())
    return command


class UnknownCommandError(UsageError):
    """A mistyped command, with the closest known one when there is one."""

    def __init__(self, name: str, known: list[str], ctx: Any) -> None:
        match = difflib.get_close_matches(name, known, n=1)
        tip = f" (did you mean {match[0]!r}?)" if match else f"; see {ctx.command_path} --help"
        super().__init__(f"no such command {name!r}{tip}", ctx)


class SuggestingGroup(CheckedParameters, TyperGroup):
    """A group that names the closest command to a mistyped one (Typer's own suggestion
    only sees the commands built so far), its own options checked as a command's."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0]
        if ctx.resilient_parsing or name.startswith("-") or self.get_command(ctx, name):
            return super().resolve_command(ctx, args)
        raise UnknownCommandError(name, self.list_commands(ctx), ctx)


def usage_error_message(exc: ClickException) -> str:
    """Click's error as one sentence: the bad value and what is expected, or for a
    command line of the wrong shape, the help to read."""
    if isinstance(exc, UnknownCommandError):
        return exc.message
    ctx = getattr(exc, "ctx", None)
    see_help = f"; see {ctx.command_path} --help" if ctx is not None else ""
    if isinstance(exc, NoSuchOption):
        tip = f" (did you mean {exc.possibilities[0]}?)" if exc.possibilities else ""
        return f"no such option: {exc.option_name}{tip}{see_help}"
    if isinstance(exc, MissingParameter) and exc.param is not None:
        choices = exc.param.type.get_missing_message(param=exc.param, ctx=ctx)
        extra = f" ({_sentence(choices)})" if choices else ""
        kind = exc.param.param_type_name
        return f"missing {kind} {_param_name(exc.param)}{extra}{see_help}"
    if isinstance(exc, BadParameter) and exc.param is not None:
        return f"invalid value for {_param_name(exc.param)}: {_sentence(exc.message)}"
    return _sentence(exc.format_message()) + (see_help if isinstance(exc, UsageError) else "")


def _param_name(param: Any) -> str:
    """How the user knows a parameter: an option's long name, an argument's metavar."""
    return str(param.opts[0] if param.param_type_name == "option" else param.human_readable_name)


def _sentence(text: str) -> str:
    """Click's capitalised, full-stopped, maybe multi-line text as part of one line, cut
    to ``MOST_QUOTED`` characters: Click quotes what it refuses whole (an argument of a
    hundred thousand characters filled the screen)."""
    text = clipped(" ".join(text.split()).removesuffix("."), MOST_QUOTED)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def report_usage_error(exc: ClickException) -> int:
    echo(f"error: {usage_error_message(exc)}", err=True)
    return exc.exit_code


class PapercliGroup(SuggestingGroup):
    """Builds commands on demand, and translates expected failures, and Click's usage
    errors, into a one-line error and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.commands[cmd_name] = build_command(cmd_name)
        return self.commands.get(cmd_name)

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except NoArgsIsHelpError:
            raise  # `papercli` alone: the help, as it is
        except ClickException as exc:  # an option before the command
            raise typer.Exit(report_usage_error(exc)) from None
        except OSError as exc:
            # `--version` and `--help` print as they are read: a closed pipe there ended in
            # Click's exit 1 (`papercli --version | true`), where a command's ends in 0.
            if not is_output_failure(exc):
                raise
            raise typer.Exit(report_output_failure(exc)) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except ClickException as exc:
            raise typer.Exit(report_usage_error(exc)) from None
        except typer.Abort as exc:  # a question answered no, Ctrl-D or Ctrl-C at it
            # Click makes an Abort of Ctrl-C and Ctrl-D too, keeping them as its context;
            # neither ends the question's line, so end it before the error.
            pressed = exc.__context__
            if isinstance(pressed, KeyboardInterrupt | EOFError):
                echo()
            if isinstance(pressed, KeyboardInterrupt):  # an interruption, as anywhere
                raise typer.Exit(report_failure(pressed, _state(ctx))) from None
            echo("error: aborted", err=True)
            raise typer.Exit(EXIT_USER) from None
        except EXPECTED_FAILURES as exc:
            raise typer.Exit(report_failure(exc, _state(ctx))) from None
        except OSError as exc:
            # Here, before Click's own handling (exit 1) of a closed pipe.
            if not is_output_failure(exc):
                raise
            raise typer.Exit(report_output_failure(exc)) from None


# Click wraps help at hyphens too: at 80 columns `--with-` ended one line and `prereqs`
# began the next, and `csl-` / `json`. Its wrapper splits lines by textwrap's pattern for
# breaking at hyphens; the one for breaking at spaces only keeps such words whole.
_textwrap.TextWrapper.wordsep_re = _textwrap.TextWrapper.wordsep_simple_re

app = typer.Typer(
    cls=PapercliGroup,
    name="papercli",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _state(ctx: Any) -> AppState | None:
    """The command's AppState, once the group's callback has made it."""
    root = ctx.find_root().obj
    return root if isinstance(root, AppState) else None


def _print_version(value: bool) -> None:
    if value:
        echo(f"papercli {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    db_path: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH",
            # A str, as typed: Path("new/") would drop the slash that names a folder.
            click_type=TyperPath(),  # a directory is refused as $PAPERCLI_DB is: exit 4
            help=DB_HELP,
        ),
    ] = None,
    color: Annotated[
        terminal.ColorMode,
        typer.Option(
            "--color",
            help="Colour: auto (at a terminal, unless $NO_COLOR is set), always (even when"
            " piped, with the terminal's tables, e.g. for less -R) or never.",
        ),
    ] = terminal.ColorMode.AUTO,
    no_pager: Annotated[
        bool,
        typer.Option(
            "--no-pager",
            help="Print long output directly (default at a terminal: page it with"
            " $PAPERCLI_PAGER, else $PAGER, else less -FRX).",
        ),
    ] = False,
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
    # Here, not as a callback: the fast path's table leaves options with one to Typer.
    _checked_db(ctx, None, db_path)
    ctx.obj = AppState(db_option=db_path, color=color, pager=not no_pager)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand in terminal.PAGED_COMMANDS:
        ctx.obj.page()
