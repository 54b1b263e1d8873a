"""The ``papercli`` command line: parse, make one call into the core, render.

Errors raised by the core are turned into one line on stderr and the documented exit
code here, in ``PapercliGroup.invoke``, so no command needs its own error handling.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from papercli import __version__, catalogue
from papercli.cli import arxiv_commands, browse, db, queue, reading, stats, transfer
from papercli.cli.common import AppState, fail
from papercli.errors import EXIT_INTERRUPTED, PapercliError
from papercli.models import ReadStatus


class PapercliGroup(TyperGroup):
    """Translates expected failures into a one-line error and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PapercliError as exc:
            fail(exc.message, exc.exit_code)
        except sqlite3.Error as exc:
            error = catalogue.database_error(exc)
            fail(error.message, error.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; nothing after the last completed step was saved", EXIT_INTERRUPTED)


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
        typer.echo(f"papercli {__version__}")
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


app.command("list")(browse.list_command)
app.command("show")(browse.show_command)
app.command("orgs")(browse.orgs_command)
app.command("topics")(browse.topics_command)
app.command("fetch")(arxiv_commands.fetch_command)
app.command("add")(arxiv_commands.add_command)
app.command("open")(arxiv_commands.open_command)
for _status in (ReadStatus.READ, ReadStatus.READING, ReadStatus.UNREAD, ReadStatus.SKIPPED):
    app.command(f"mark-{_status}")(reading.mark_command(_status))
app.command("mark")(reading.mark_as_command)
app.command("history")(reading.history_command)
app.command("undo")(reading.undo_command)
app.command("note")(reading.note_command)
app.command("tag", context_settings=reading.TAG_CONTEXT)(reading.tag_command)
app.command("tags")(reading.tags_command)
app.command("path")(reading.path_command)
app.add_typer(queue.app, name="queue")
app.command("next")(queue.next_command)
app.command("stats")(stats.stats_command)
app.command("export")(transfer.export_command)
app.command("import")(transfer.import_command)
app.add_typer(db.app, name="db")


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="papercli")
    except BrokenPipeError:
        # The reader went away (``papercli list | head``): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
