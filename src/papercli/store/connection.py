"""The user's database file: open it (creating it from the seed on first use), check
that it is papercli's, migrate it, and back it up."""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import suppress

from papercli import TYPE_CHECKING
from papercli.errors import DatabaseError, InvalidValueError
from papercli.store.base import connect, database_error
from papercli.store.migrations import SCHEMA_VERSION, migrate, schema_version
from papercli.store.shipped import sync_catalogue, sync_if_seed_changed

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath


def check_database_path(path: str, *, create_parent: bool = True) -> bool:
    """Whether the database file is there (False: it is made on first use); an error when
    none can be: a directory, a name ending in a slash, a device, FIFO or socket, a path
    that cannot be followed (through a file, a loop of links), or, unless
    ``create_parent``, a folder that does not exist."""
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise DatabaseError(f"cannot use {path}: {exc.strerror}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise DatabaseError(f"{path} is a directory, not a database file")
    if not os.path.basename(path):
        raise DatabaseError(f"{path} names a directory; give the database a file name")
    if mode is not None and not stat.S_ISREG(mode):
        # SQLite would take an empty device for a new database and write one onto it,
        # with a journal file beside it (in /dev, as root).
        raise DatabaseError(
            f"{path} is not a regular file (a device, FIFO or socket); papercli keeps its"
            " database in an ordinary file"
        )
    parent = os.path.dirname(path) or os.curdir
    if mode is None and not create_parent and not os.path.isdir(parent):
        raise DatabaseError(f"cannot create {path}: directory {parent} does not exist")
    return mode is not None


def open_database(
    path: StrPath, seed: StrPath, *, create_parent: bool = False
) -> sqlite3.Connection:
    """Open (creating from the seed on first use) and upgrade the user's database.

    A new database is built in a temporary file beside the target and given its name
    only when complete (``_publish``), so a failure never leaves a half-made database
    behind.
    """
    path = os.fspath(path)
    if not check_database_path(path, create_parent=create_parent):
        _create_database(path, seed, create_parent=create_parent)
    conn = None
    try:
        conn = connect(path)
        upgraded = _check_papercli_database(conn, path) < SCHEMA_VERSION
        if upgraded:
            migrate(conn)
        # After an upgrade, the new schema's columns are filled in from the seed too.
        sync_if_seed_changed(conn, seed, force=upgraded)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()  # not left for the collector to close, holding the file open
        raise database_error(exc, path) from None
    return conn


def _create_database(path: str, seed: StrPath, *, create_parent: bool) -> None:
    import tempfile  # ~1.5 ms to import: only on the first run, not on every command

    parent, name = os.path.split(path)
    parent = parent or os.curdir
    if create_parent:
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create {parent}: {exc.strerror}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise DatabaseError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)
    try:
        conn = connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            migrate(conn)
            sync_catalogue(conn, seed)
        finally:
            conn.close()
        _publish(tmp, path)
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None
    finally:
        for leftover in (tmp, f"{tmp}-wal", f"{tmp}-shm"):
            with suppress(FileNotFoundError):
                os.unlink(leftover)


def _publish(tmp: str, path: str) -> None:
    """Give the new database its name, unless another papercli gave one first (two
    commands at once on a new machine): replacing that one would have cut the other
    command's writes off into a file no longer there, and lost them. A hard link fails
    when ``path`` exists; where the file system has none (FAT, some network drives), the
    name is checked just before the rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # the other command's database is the one to use
    except OSError:
        if not os.path.exists(path):
            os.replace(tmp, path)


def _check_papercli_database(conn: sqlite3.Connection, path: str) -> int:
    """The database's schema version, once it is known to be papercli's and not too new."""
    version = schema_version(conn)  # raises "file is not a database" for non-SQLite files
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} was written by a newer papercli (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade papercli to use it"
        )
    if version < 0:  # no papercli writes one: migrating it would fail halfway
        raise DatabaseError(f"{path} is not a papercli database or is damaged (schema {version})")
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise DatabaseError(
            f"{path} is an SQLite database, but not papercli's; refusing to touch it"
        )
    return version


# SQLITE_FULL, SQLITE_CANTOPEN and SQLITE_IOERR: writing the backup's copy failed.
_COPY_FAILURES = frozenset({13, 14, 10})


def backup_database(conn: sqlite3.Connection, target: Path) -> None:
    """Write a consistent copy of the whole database to ``target``, replacing a regular
    file there atomically, as ``export -o`` does.

    ``VACUUM INTO`` reads one snapshot, so the copy is consistent even while another
    papercli writes. It must write to a name that does not exist yet: a private directory
    beside the target gives one that no other backup and no crashed run's leftover can
    share, and the copy is renamed into place only once it is complete and on disk.
    """
    import shutil  # only backups need these
    import tempfile
    from pathlib import Path

    from papercli.files import check_target

    mode = check_target(target)
    refuse_database_files(conn, target, "being backed up")
    if not os.path.lexists(target):  # a new copy is no more readable than the library
        mode &= _permissions(database_file(conn))
    try:
        workdir = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        )
    except OSError as exc:
        raise InvalidValueError(f"cannot write {target}: {exc.strerror}") from None
    copy = workdir / target.name
    try:
        conn.execute("VACUUM INTO ?", (str(copy),))
        os.chmod(copy, mode)
        fd = os.open(copy, os.O_RDONLY)
        try:
            os.fsync(fd)  # VACUUM INTO does not sync what it writes
        finally:
            os.close(fd)
        os.replace(copy, target)
    except sqlite3.OperationalError as exc:
        # The copy could not be written (its folder gone, its disk full): the output's
        # failure, exit 1 as an export's; the rest (the library busy) is the database's.
        code = exc.sqlite_errorcode & 0xFF  # the primary code of an extended one
        failure = InvalidValueError if code in _COPY_FAILURES else DatabaseError
        # SQLite names the private copy's path, which the user never sees, when it cannot
        # open it.
        said = "cannot make the copy in its folder" if code == 14 else exc
        raise failure(f"cannot write the backup to {target}: {said}") from None
    except OSError as exc:
        raise InvalidValueError(f"cannot write the backup to {target}: {exc.strerror}") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def refuse_database_files(conn: sqlite3.Connection, target: Path, role: str) -> None:
    """Refuse ``target`` when it is the database ``conn`` has open, or one of its journal
    files, under any name (a link included): replacing it with a backup or an export
    would lose the library."""
    database = database_file(conn)
    target_name = _resolved(target)
    for stem in dict.fromkeys((database, _resolved(database) or database)):
        for own in (stem, f"{stem}-wal", f"{stem}-shm", f"{stem}-journal"):
            # A journal not there yet too: SQLite would take the file written there for
            # one (a backup to `papers.db-journal` was reported written, then deleted).
            if _same_file(own, target) or (target_name and _resolved(own) == target_name):
                raise InvalidValueError(
                    f"refusing to replace {target}: it is part of the database {role}"
                )


def _resolved(path: StrPath) -> str | None:
    """``path`` with its links resolved; None when that cannot be known (a relative name
    in a folder since deleted)."""
    try:
        return os.path.realpath(path)
    except OSError:
        return None


def database_file(conn: sqlite3.Connection) -> str:
    """The file ``conn`` has open ("" for a database in memory)."""
    return str(conn.execute("PRAGMA database_list").fetchone()[2])  # "main" comes first


def _permissions(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:  # an in-memory database: nothing to follow
        return 0o777


def _same_file(path: str, target: Path) -> bool:
    try:
        return os.path.samefile(path, target)
    except OSError:  # either one missing: not the same file
        return False
