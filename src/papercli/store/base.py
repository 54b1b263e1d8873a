"""SQLite plumbing every store module shares: connecting, transactions, error sentences.

papercli uses the standard library's sqlite3: every command opens the database, and
sqlite-utils would add ~100 ms to each start.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress

from papercli import TYPE_CHECKING
from papercli.errors import DatabaseError

if TYPE_CHECKING:
    from _typeshed import StrPath

BUSY_TIMEOUT_MS = 5000


SEP = "\x1f"  # joins list values inside one SQL result column


def connect(path: StrPath) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, uri=False)


def database_error(exc: sqlite3.Error, path: StrPath | None = None) -> DatabaseError:
    """Turn an sqlite3 failure into a sentence for the user."""
    text = str(exc)
    where = f"{path}" if path else "the database"
    if _out_of_space(exc, path):
        return DatabaseError(
            f"no space left on the disk holding {where}; free some space and try again"
        )
    if "locked" in text or "busy" in text:
        return DatabaseError(f"{where} is busy (another papercli is writing to it); try again")
    if "not a database" in text or "malformed" in text:
        return DatabaseError(f"{where} is not a papercli database or is damaged ({text})")
    if "readonly" in text or "unable to open" in text:
        # On a disk mounted read-only SQLite cannot open the file's journal: "unable to open".
        folder = os.path.dirname(os.path.abspath(path)) if path else None
        if folder and not os.access(folder, os.W_OK):
            return DatabaseError(
                f"cannot use {where}: its folder {folder} is read-only, and SQLite writes"
                " its journal beside the database (even to read); make the folder writable"
                " or use a copy of the database elsewhere"
            )
        return DatabaseError(f"cannot write {where}: {text}")
    return DatabaseError(f"database error in {where}: {text}")


LOW_SPACE = 1 << 20
"""Free bytes under which a disk I/O error is taken for a full disk: SQLite reports one
as SQLITE_FULL only while writing pages; creating or growing the write-ahead log's index
(which every command, reading too, needs) fails as a disk I/O error."""


def _out_of_space(exc: sqlite3.Error, path: StrPath | None) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL":
        return True
    if not (name.startswith("SQLITE_IOERR") and path):
        return False
    import shutil  # on this failure only

    try:
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    except OSError:
        return False
    return free < LOW_SPACE


WRITE_CACHE_KIB = 16 * 1024
"""SQLite's page cache while a command writes (its default: 2,000 KiB). Pages that do not
fit are written out to the write-ahead log and read back as the indexes grow. 16 MiB took
8 to 14% off the commands that write many papers (an import of 100,000 new ones, 4% of a
million; redo; mark-read, queue add and tag of 100,000 at a million) for 7 to 16 MB more
memory; 32 MiB took 10% off the import for 23 MB. Deletes (undo of an import) and a first
sync gained nothing; reads (exports) keep the default, and a small write never fills it."""


@contextmanager
def transaction(conn: sqlite3.Connection, *, keep: bool = True) -> Iterator[None]:
    """One all-or-nothing write: BEGIN IMMEDIATE, then COMMIT or ROLLBACK, with
    ``WRITE_CACHE_KIB`` of page cache until it ends.

    With ``keep=False`` the work is rolled back even when it succeeds: a dry run that
    reports exactly what a real run would change.
    """
    global _commits
    usual = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {-WRITE_CACHE_KIB}")
    committing = False
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            committing = keep
            conn.execute("COMMIT" if keep else "ROLLBACK")
            _commits += keep
        except BaseException as exc:
            # On a full disk SQLite rolls the transaction back itself, and a ROLLBACK then
            # fails ("no transaction is active"), hiding why the write failed.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            elif committing and isinstance(exc, KeyboardInterrupt):
                # Ctrl-C during the COMMIT is raised once it returns: the change stands.
                _commits += 1
            raise
    finally:
        conn.execute(f"PRAGMA cache_size = {usual}")


_commits = 0


def commits() -> int:
    """How many transactions this process has committed: a command stopped by Ctrl-C says
    whether a change of its stands (an undo whose COMMIT the Ctrl-C came during said only
    "interrupted", and run again, it undid the command before)."""
    return _commits


def split_list(value: object) -> list[str]:
    return str(value).split(SEP) if value else []


def optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def placeholders(values: Sequence[object]) -> str:
    """A parameter each, for a handful of values: any number of them go as one (IN_IDS),
    as SQLite caps the parameters of a statement (at 999 in builds before 3.32)."""
    return ", ".join("?" * len(values))


def id_list(ids: Sequence[str]) -> str:
    """One parameter holding any number of ids (SQLite caps the number of parameters)."""
    import json  # here: `list` starts ~2 ms sooner without it

    return json.dumps(list(ids))


IN_IDS = "IN (SELECT value FROM json_each(?))"

# A paper's notes in order: by time, then by uid, which keeps notes of one second in the
# order they were written. An imported note's uid ends in its count in that second (`#2`,
# `#10`, the rest alike), so the shorter first: as text the 11th came before the 3rd.
# migrations.M026_NOTE_ORDER indexes this order.
NOTE_ORDER = "created_at, length(uid), uid"


@contextmanager
def dropped_after(conn: sqlite3.Connection, table: str) -> Iterator[None]:
    """``table``, a temporary one, dropped when the block ends. Cut short (Ctrl-C), a
    statement may still be reading it, and the drop failed ("database table is locked"),
    which was reported in place of the interruption: that papercli was busy, exit 4. It
    is then left to go with the connection."""
    try:
        yield
    except BaseException:
        with suppress(sqlite3.Error):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        raise
    conn.execute(f"DROP TABLE IF EXISTS {table}")
