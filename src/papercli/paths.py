"""Where the user's database lives: ``--db`` > ``$PAPERCLI_DB`` > the platform's user data dir."""

from __future__ import annotations

import os
from pathlib import Path

DB_ENV_VAR = "PAPERCLI_DB"
DB_FILENAME = "papercli.db"


def default_db_path() -> Path:
    # platformdirs costs ~10 ms to import: only pay it when no override is given.
    from platformdirs import user_data_path

    return user_data_path("papercli", appauthor=False) / DB_FILENAME


def resolve_db_path(option: str | Path | None = None) -> Path:
    """The database to use: the ``--db`` option, else ``$PAPERCLI_DB``, else the user data dir."""
    chosen = option or os.environ.get(DB_ENV_VAR)
    if chosen:
        return Path(chosen).expanduser()
    return default_db_path()


def seed_path() -> Path:
    """The catalogue shipped with papercli.

    A wheel carries it as package data beside this module (read as a plain path, as
    SQLite needs one; importlib.resources would cost ~3 ms per command); an editable
    checkout reads it from ``data/``.
    """
    packaged = Path(__file__).with_name("data") / "seed.sqlite"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "data" / "seed.sqlite"
