"""Where the user's database lives: ``--db`` > ``$PAPERCLI_DB`` > the platform's user data dir.

Paths here are strings, as ``os.path`` takes them: pathlib costs the everyday commands
4 to 6 ms to import (with urllib.parse and ipaddress), a tenth of what they take.
"""

from __future__ import annotations

import os

from papercli import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import StrPath

DB_ENV_VAR = "PAPERCLI_DB"
DB_FILENAME = "papercli.db"


def default_db_path() -> str:
    # platformdirs costs ~10 ms to import: only pay it when no override is given.
    from platformdirs import user_data_dir

    return os.path.join(user_data_dir("papercli", appauthor=False), DB_FILENAME)


def pace_file(service: str) -> str | None:
    """The file in which this user's papercli processes note when they will next ask
    ``service`` (``transport._reserve``), shared by every database."""
    return cache_file(f"{service}.pace")


def cache_file(name: str) -> str | None:
    """A file of that name in the user cache dir, where this user's papercli processes
    meet; None where that folder cannot be made."""
    from platformdirs import user_cache_dir

    folder = user_cache_dir("papercli", appauthor=False)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    return os.path.join(folder, name)


def resolve_db_path(option: StrPath | None = None) -> str:
    """The database to use: the ``--db`` option, else ``$PAPERCLI_DB``, else the user data
    dir. A blank one names no file (a usage error, 2): a script's empty variable must not
    mean the default database (``$PAPERCLI_DB`` empty did), nor a file named by spaces."""
    given = (
        (option, "--db", "leave it out"),
        (os.environ.get(DB_ENV_VAR), f"${DB_ENV_VAR}", "unset it"),
    )
    for chosen, said, instead in given:
        if chosen is None:
            continue
        chosen = os.fspath(chosen)
        if not chosen.strip():
            from papercli.errors import EXIT_USAGE, PapercliError

            raise PapercliError(
                f"{said} is blank, which names no database file; {instead} to use the default one",
                EXIT_USAGE,
            )
        return os.path.expanduser(chosen)
    return default_db_path()


def seed_path() -> str:
    """The catalogue shipped with papercli.

    A wheel carries it as package data beside this module (read as a plain path, as
    SQLite needs one; importlib.resources would cost ~3 ms per command); an editable
    checkout reads it from ``data/``.
    """
    packaged = os.path.join(os.path.dirname(__file__), "data", "seed.sqlite")
    if os.path.isfile(packaged):
        return packaged
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    return os.path.join(checkout, "data", "seed.sqlite")
