"""Saved interests for the arXiv inbox: each watch names arXiv categories to pull and the
words and authors an announcement must match. Every change is one undoable command."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from papercli.errors import InvalidValueError, NotFoundError
from papercli.models import Watch
from papercli.records import asdict
from papercli.store import changes, library
from papercli.store.base import transaction


def all_watches(conn: sqlite3.Connection) -> list[Watch]:
    return [_watch(row) for row in conn.execute(f"SELECT {_COLUMNS} FROM watches ORDER BY name")]


def get_watch(conn: sqlite3.Connection, name: str) -> Watch:
    watch = watch_named(conn, name)
    if watch is None:
        known = ", ".join(w.name for w in all_watches(conn)) or "none yet"
        raise NotFoundError(f"no watch named {name!r} (watches: {known})")
    return watch


def watch_named(conn: sqlite3.Connection, name: str) -> Watch | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM watches WHERE name = ?", (name,)).fetchone()
    return None if row is None else _watch(row)


def add_watch(conn: sqlite3.Connection, watch: Watch) -> Watch:
    """Save a new watch; its name must be free (any case)."""
    with transaction(conn):
        if conn.execute("SELECT 1 FROM watches WHERE name = ?", (watch.name,)).fetchone():
            raise InvalidValueError(
                f"a watch named {watch.name!r} exists; change it with: papercli watch edit"
                f" {watch.name}"
            )
        saved = Watch(**{**asdict(watch), "created_at": library.clock()})
        batch = changes.begin(conn, "watch add", saved.created_at)
        set_watch(conn, saved.name, asdict(saved))
        changes.record(conn, batch, "watch", saved.name, None, asdict(saved))
        changes.finish(conn, batch, f"added the watch {saved.name}")
    return saved


def edit_watch(
    conn: sqlite3.Connection, name: str, **given: list[str] | None
) -> tuple[Watch, bool]:
    """Replace the lists given (None keeps a list as it is); the watch, and False with no
    step to undo when it was so already (a step that changed nothing took a redo's place)."""
    with transaction(conn):
        before = get_watch(conn, name)
        after = Watch(**{**asdict(before), **{k: v for k, v in given.items() if v is not None}})
        if after == before:
            return after, False
        batch = changes.begin(conn, "watch edit", library.clock())
        set_watch(conn, before.name, asdict(after))
        changes.record(conn, batch, "watch", before.name, asdict(before), asdict(after))
        changes.finish(conn, batch, f"edited the watch {before.name}")
    return after, True


def remove_watch(conn: sqlite3.Connection, name: str) -> Watch:
    with transaction(conn):
        before = get_watch(conn, name)
        batch = changes.begin(conn, "watch remove", library.clock())
        set_watch(conn, before.name, None)
        changes.record(conn, batch, "watch", before.name, asdict(before), None)
        changes.finish(conn, batch, f"removed the watch {before.name}")
    return before


def set_watch(conn: sqlite3.Connection, name: str, value: dict[str, Any] | None) -> None:
    """A watch is as ``value`` says, or does not exist (also undo's and redo's step)."""
    conn.execute("DELETE FROM watches WHERE name = ?", (name,))
    if value is not None:
        conn.execute(
            f"INSERT INTO watches ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                value["name"],
                *(json.dumps(value[k], ensure_ascii=False) for k in _LISTS),
                value["created_at"],
            ),
        )


_LISTS = ("categories", "keywords", "authors", "excludes")
_COLUMNS = "name, categories, keywords, authors, excludes, created_at"


def _watch(row: tuple[Any, ...]) -> Watch:
    name, categories, keywords, authors, excludes, created_at = row
    return Watch(
        str(name),
        json.loads(categories),
        json.loads(keywords),
        json.loads(authors),
        json.loads(excludes),
        str(created_at),
    )
