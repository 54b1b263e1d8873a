"""``papercli db``: where the database lives and what is in it."""

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from typer.models import TyperPath

from papercli.cli.common import connect, echo, state
from papercli.files import free_name, output_path
from papercli.store import connection
from papercli.textlayout import printable

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


@app.callback()
def db_callback() -> None:
    """Manage the papercli database.

    \b
    Examples:
      papercli db path
      papercli db backup ~/backups/papers.db
    """


@app.command("path")
def path_command(ctx: typer.Context) -> None:
    """Print where your database lives. That is --db, then $PAPERCLI_DB, then the user data
    dir. A path where no database can be (a directory, a device) is an error, as it is
    for every command.

    \b
    Example:
      papercli db path
    """
    app_state = state(ctx)
    path = app_state.db_path
    connection.check_database_path(path, create_parent=app_state.creates_folder)
    echo(path)


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[FILE]",
            # A str, as typed: Path("new/") would drop the slash that names a folder.
            click_type=TyperPath(),
            help="Where to write the copy (default: a new dated file here).",
        ),
    ] = None,
) -> None:
    """Write a consistent copy of your database. It is safe even while papercli is in use.

    An existing FILE is replaced atomically, as by `export -o`: the copy is written under
    a temporary name and renamed into place, so a failure leaves the old file intact. A
    symlink, directory, device or read-only file is refused.

    \b
    Examples:
      papercli db backup
      papercli db backup ~/backups/papers.db
    """
    default = Path(f"papercli-backup-{datetime.now():%Y%m%d-%H%M%S}.db")
    destination = free_name(default) if target is None else output_path(target, "papers.db")
    connection.backup_database(connect(ctx), destination)
    echo(f"backed up to {printable(str(destination))}")  # a line break as \n
