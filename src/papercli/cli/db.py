"""``papercli db``: where the database lives and what is in it."""

from __future__ import annotations

import typer

from papercli.cli.common import state

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


@app.callback()
def db_callback() -> None:
    """Manage the papercli database.

    \b
    Examples:
      papercli db path
      papercli --db ~/papers.db db path
    """


@app.command("path")
def path_command(ctx: typer.Context) -> None:
    """Print where your database lives (--db, then $PAPERCLI_DB, then the user data dir).

    \b
    Example:
      papercli db path
    """
    typer.echo(str(state(ctx).db_path))
