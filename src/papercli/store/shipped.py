"""The shipped catalogue: building the seed, and bringing a user's database up to it.

A newer seed upserts catalogue facts without touching the user's own state; user-added
papers that the catalogue now ships are adopted, and ids it now uses are freed.
"""

from __future__ import annotations

import os
import sqlite3

from papercli import TYPE_CHECKING
from papercli.errors import DatabaseError
from papercli.names import name_key
from papercli.store.authors import write_authors
from papercli.store.base import connect, transaction
from papercli.store.migrations import migrate
from papercli.store.papers import insert_paper, new_citation_key

if TYPE_CHECKING:
    from pathlib import Path

    from _typeshed import StrPath

    from papercli.seed import CatalogueSource


_CATALOGUE_TABLES = {
    # table: (key columns identifying a paper's rows, or None for whole-table upserts)
    "sources": None,
    "organizations": None,
    "org_names": None,
    "topics": None,
    "paper_names": "paper_id",
    "paper_authors": "paper_id",
    "paper_orgs": "paper_id",
    "paper_topics": "paper_id",
    "paper_sources": "paper_id",
    "prerequisites": "paper_id",
}


def build_seed(cat: CatalogueSource, target: Path) -> int:
    """Write the catalogue into a fresh database at ``target``; return the paper count."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    conn = connect(tmp)
    try:
        migrate(conn)
        write_catalogue(conn, cat)
        conn.execute("VACUUM")
    finally:
        conn.close()
    os.replace(tmp, target)
    return len(cat.papers)


def write_catalogue(conn: sqlite3.Connection, cat: CatalogueSource) -> None:
    """Fill an empty, migrated database with the catalogue (used to build the seed)."""
    with transaction(conn):
        conn.executemany(
            "INSERT INTO sources VALUES (?, ?, ?, ?)",
            [(s.key, s.file, s.title, s.language) for s in cat.sources],
        )
        conn.executemany(
            "INSERT INTO organizations VALUES (?)", [(o.name,) for o in cat.organizations]
        )
        conn.executemany(
            "INSERT OR IGNORE INTO org_names VALUES (?, ?, ?)",
            [(name_key(n), n, o.name) for o in cat.organizations for n in (o.name, *o.aliases)],
        )
        conn.executemany("INSERT INTO topics VALUES (?, ?)", sorted(cat.topics.items()))
        for paper in cat.papers:
            insert_paper(conn, paper)
        conn.execute("INSERT INTO meta VALUES ('catalogue_digest', ?)", (cat.digest,))


def _seed_stamp(seed: StrPath) -> str:
    stat = os.stat(seed)
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _meta(conn: sqlite3.Connection, key: str, schema: str = "main") -> str | None:
    row = conn.execute(f"SELECT value FROM {schema}.meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def sync_if_seed_changed(conn: sqlite3.Connection, seed: StrPath, *, force: bool = False) -> None:
    """Sync when papercli was reinstalled (or, with ``force``, after a schema upgrade)."""
    # A stat() per command; the seed itself is only opened after papercli was reinstalled.
    try:
        stamp = _seed_stamp(seed)
    except OSError:
        return
    if _meta(conn, "seed_stamp") == stamp and not force:
        return
    try:
        sync_catalogue(conn, seed)
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):
            raise


def sync_catalogue(conn: sqlite3.Connection, seed: StrPath) -> None:
    """Bring the catalogue tables up to the shipped seed, in one transaction.

    Papers are upserted, never deleted, and the user's own tables are not touched: a
    newer catalogue adds and corrects papers without losing anyone's reading state.
    """
    try:
        stamp = _seed_stamp(seed)
    except OSError as exc:
        raise DatabaseError(f"the shipped catalogue is missing ({seed}): {exc.strerror}") from None
    from urllib.parse import quote  # only after papercli was installed or upgraded

    conn.execute("ATTACH DATABASE ? AS seed", (f"file:{quote(os.fspath(seed))}?mode=ro",))
    try:
        with transaction(conn):
            if _meta(conn, "catalogue_digest") != _meta(conn, "catalogue_digest", "seed"):
                _copy_catalogue(conn)
            _complete_user_papers(conn)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('seed_stamp', ?)", (stamp,))
    finally:
        conn.execute("DETACH DATABASE seed")


def _columns(conn: sqlite3.Connection, table: str) -> str:
    return ", ".join(row[1] for row in conn.execute(f"PRAGMA main.table_info({table})"))


# A citation key, once given, is the paper's for life in this database: the upsert keeps
# it, and a catalogue key that a user's paper already holds is not taken from it (the
# catalogue paper gets a free key instead, in _complete_user_papers).
_KEEP_KEY = "citation_key = coalesce(papers.citation_key, excluded.citation_key)"
_FREE_SEED_KEY = (
    "CASE WHEN EXISTS (SELECT 1 FROM main.papers m WHERE m.citation_key = s.citation_key"
    " COLLATE NOCASE AND m.id != s.id) THEN NULL ELSE s.citation_key END"
)


def _copy_catalogue(conn: sqlite3.Connection) -> None:
    adopted_keys = _adopt_user_papers(conn)
    cols = _columns(conn, "papers").split(", ")
    updates = ", ".join(
        _KEEP_KEY if c == "citation_key" else f"{c} = excluded.{c}" for c in cols if c != "id"
    )
    chosen = ", ".join(_FREE_SEED_KEY if c == "citation_key" else f"s.{c}" for c in cols)
    conn.execute(
        f"INSERT INTO papers ({', '.join(cols)}) SELECT {chosen} FROM seed.papers s WHERE true "
        f"ON CONFLICT(id) DO UPDATE SET {updates}"
    )
    # Unless another catalogue paper now ships that very key: then the catalogue's stays.
    conn.executemany("UPDATE OR IGNORE papers SET citation_key = ? WHERE id = ?", adopted_keys)
    for table, per_paper in _CATALOGUE_TABLES.items():
        names = _columns(conn, table)
        if per_paper:
            conn.execute(f"DELETE FROM {table} WHERE paper_id IN (SELECT id FROM seed.papers)")
        conn.execute(f"INSERT OR REPLACE INTO {table} ({names}) SELECT {names} FROM seed.{table}")
    conn.execute(
        "INSERT OR REPLACE INTO meta SELECT key, value FROM seed.meta"
        " WHERE key = 'catalogue_digest'"
    )


_USER_TABLES = ("reading_state", "status_history", "notes", "tags", "queue")


def _complete_user_papers(conn: sqlite3.Connection) -> None:
    """Give papers from before authors and keys were stored what they lack: a user paper's
    authors from its fetched arXiv metadata, and every paper without one a citation key."""
    from papercli.export import person  # only when a database is upgraded or synced

    bare = conn.execute(
        "SELECT id FROM papers WHERE origin = 'user'"
        " AND id NOT IN (SELECT paper_id FROM paper_authors)"
        " AND id IN (SELECT paper_id FROM arxiv_authors)"
    ).fetchall()
    for (paper_id,) in bare:
        fetched = conn.execute(
            "SELECT name FROM arxiv_authors WHERE paper_id = ? ORDER BY position", (paper_id,)
        ).fetchall()
        write_authors(conn, paper_id, [person(str(name)) for (name,) in fetched])
    for paper_id, title, year in conn.execute(
        "SELECT id, title, year FROM papers WHERE citation_key IS NULL ORDER BY date, id"
    ).fetchall():
        first = conn.execute(
            "SELECT family FROM paper_authors WHERE paper_id = ?1 AND position = 0"
            " UNION ALL SELECT org FROM paper_orgs WHERE paper_id = ?1 AND position = 0",
            (paper_id,),
        ).fetchone()
        key = new_citation_key(
            conn, str(first[0]) if first else None, int(year), str(title), str(paper_id)
        )
        conn.execute("UPDATE papers SET citation_key = ? WHERE id = ?", (key, paper_id))


def _adopt_user_papers(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Prepare for a newer catalogue (attached as ``seed``) that may ship papers users added.

    Metadata fetched for an arXiv id the catalogue no longer gives a paper is dropped. A
    user-added paper whose arXiv id the catalogue now ships under another id becomes the
    catalogue's paper: the user's state and fetched metadata move to the catalogue id
    (where both ids hold the same state row, the catalogue paper's is kept) and the
    user's copy goes, leaving its citation key to the catalogue paper: the returned
    (key, catalogue id) pairs. A user-added paper whose id the catalogue now gives to a
    different paper is renamed (``id-2``), with everything attached to it.
    """
    clashes = conn.execute(
        "SELECT u.id FROM main.papers u JOIN seed.papers s ON s.id = u.id"
        " WHERE u.origin = 'user' AND s.arxiv_id IS NOT u.arxiv_id"
    ).fetchall()
    for (old,) in clashes:
        _rename_paper(conn, old, _free_id(conn, old))
    for table in ("arxiv_authors", "arxiv_meta"):
        conn.execute(
            f"DELETE FROM {table} WHERE paper_id IN (SELECT p.id FROM main.papers p"
            " JOIN seed.papers s ON s.id = p.id WHERE s.arxiv_id IS NOT p.arxiv_id)"
        )
    adopted = conn.execute(
        "SELECT u.id, s.id FROM main.papers u JOIN seed.papers s ON s.arxiv_id = u.arxiv_id"
        " WHERE u.origin = 'user' AND u.id != s.id"
    ).fetchall()
    keys: list[tuple[str, str]] = []
    for old, new in adopted:
        (key,) = conn.execute("SELECT citation_key FROM papers WHERE id = ?", (old,)).fetchone()
        if key is not None:
            keys.append((str(key), new))
        _close_queue_gap(conn, old, new)
        for table in _USER_TABLES:
            conn.execute(
                f"UPDATE OR IGNORE {table} SET paper_id = ? WHERE paper_id = ?", (new, old)
            )
            conn.execute(f"DELETE FROM {table} WHERE paper_id = ?", (old,))
        for table in ("arxiv_meta", "arxiv_authors"):
            conn.execute(f"UPDATE {table} SET paper_id = ? WHERE paper_id = ?", (new, old))
        for table, per_paper in _CATALOGUE_TABLES.items():
            if per_paper:
                conn.execute(f"DELETE FROM {table} WHERE paper_id = ?", (old,))
        conn.execute("DELETE FROM papers WHERE id = ?", (old,))
    return keys


def _free_id(conn: sqlite3.Connection, wanted: str) -> str:
    """``wanted-2``, ``wanted-3``…: the first id neither the database nor the seed uses."""
    number = 2
    while conn.execute(
        "SELECT 1 FROM main.papers WHERE id = ?1 UNION SELECT 1 FROM seed.papers WHERE id = ?1",
        (f"{wanted}-{number}",),
    ).fetchone():
        number += 1
    return f"{wanted}-{number}"


def _rename_paper(conn: sqlite3.Connection, old: str, new: str) -> None:
    """Give a paper a new id, moving every row that hangs off it; it answers to the new id."""
    per_paper = [t for t, keyed in _CATALOGUE_TABLES.items() if keyed]
    for table in (*per_paper, *_USER_TABLES, "arxiv_meta", "arxiv_authors"):
        conn.execute(f"UPDATE {table} SET paper_id = ? WHERE paper_id = ?", (new, old))
    conn.execute("UPDATE papers SET id = ? WHERE id = ?", (new, old))
    conn.execute("DELETE FROM paper_names WHERE paper_id = ? AND name = ?", (new, old))
    conn.execute("INSERT OR IGNORE INTO paper_names VALUES (?, ?, ?, 0)", (name_key(new), new, new))


def _close_queue_gap(conn: sqlite3.Connection, old: str, new: str) -> None:
    """When both papers are queued, ``old`` leaves the queue and the papers behind move up."""
    row = conn.execute(
        "SELECT position FROM queue WHERE paper_id = ?"
        " AND EXISTS (SELECT 1 FROM queue WHERE paper_id = ?)",
        (old, new),
    ).fetchone()
    if row is not None:
        conn.execute("DELETE FROM queue WHERE paper_id = ?", (old,))
        conn.execute("UPDATE queue SET position = position - 1 WHERE position > ?", (row[0],))
