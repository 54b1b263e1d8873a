"""The user's database: opening it safely, loading the catalogue, and every query.

This is the only module that speaks SQL. It uses the standard library's sqlite3: every
command opens the database, and sqlite-utils would add ~100 ms to each start.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote

from papercli.arxiv_ids import abs_url, pdf_url
from papercli.errors import DatabaseError, InvalidValueError
from papercli.migrations import SCHEMA_VERSION, migrate, schema_version
from papercli.models import ArxivRecord, Author, Paper, ReadStatus, Selection
from papercli.names import closest, name_key

if TYPE_CHECKING:
    from papercli.seed import CatalogueSource

BUSY_TIMEOUT_MS = 5000
_SEP = "\x1f"  # joins list values inside one SQL result column

# ---------------------------------------------------------------------------
# Opening


def open_database(path: Path, seed: Path, *, create_parent: bool = False) -> sqlite3.Connection:
    """Open (creating from the seed on first use) and upgrade the user's database.

    A new database is built in a temporary file beside the target and renamed into
    place, so a failure never leaves a half-made database behind.
    """
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    if not path.exists():
        _create_database(path, seed, create_parent=create_parent)
    try:
        conn = _connect(path)
        if _check_papercli_database(conn, path) < SCHEMA_VERSION:
            migrate(conn)
        _sync_if_seed_changed(conn, seed)
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None
    return conn


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, uri=False)


def _create_database(path: Path, seed: Path, *, create_parent: bool) -> None:
    import tempfile  # ~1.5 ms to import: only on the first run, not on every command

    parent = path.parent
    if create_parent:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create {parent}: {exc.strerror}") from None
    elif not parent.is_dir():
        raise DatabaseError(f"cannot create {path}: directory {parent} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise DatabaseError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = _connect(tmp)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            migrate(conn)
            sync_catalogue(conn, seed)
        finally:
            conn.close()
        os.replace(tmp, path)
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with suppress(FileNotFoundError):
                leftover.unlink()


def _check_papercli_database(conn: sqlite3.Connection, path: Path) -> int:
    """The database's schema version, once it is known to be papercli's and not too new."""
    version = schema_version(conn)  # raises "file is not a database" for non-SQLite files
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} was written by a newer papercli (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade papercli to use it"
        )
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise DatabaseError(
            f"{path} is an SQLite database, but not papercli's; refusing to touch it"
        )
    return version


def database_error(exc: sqlite3.Error, path: Path | None = None) -> DatabaseError:
    """Turn an sqlite3 failure into a sentence for the user."""
    text = str(exc)
    where = f"{path}" if path else "the database"
    if "locked" in text or "busy" in text:
        return DatabaseError(f"{where} is busy (another papercli is writing to it); try again")
    if "not a database" in text or "malformed" in text:
        return DatabaseError(f"{where} is not a papercli database or is damaged ({text})")
    if "readonly" in text or "unable to open" in text:
        return DatabaseError(f"cannot write {where}: {text}")
    return DatabaseError(f"database error in {where}: {text}")


@contextmanager
def transaction(conn: sqlite3.Connection, *, keep: bool = True) -> Iterator[None]:
    """One all-or-nothing write: BEGIN IMMEDIATE, then COMMIT or ROLLBACK.

    With ``keep=False`` the work is rolled back even when it succeeds: a dry run that
    reports exactly what a real run would change.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT" if keep else "ROLLBACK")


def backup_database(conn: sqlite3.Connection, target: Path) -> None:
    """Write a consistent copy of the whole database to ``target`` (which must not exist).

    ``VACUUM INTO`` reads one snapshot, so the copy is consistent even while another
    papercli writes; it goes to a temporary name first, so a failure leaves no half file.
    """
    if target.exists():
        raise InvalidValueError(f"{target} already exists; choose another file name")
    if not target.parent.is_dir():
        raise InvalidValueError(f"cannot write {target}: directory {target.parent} does not exist")
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        conn.execute("VACUUM INTO ?", (str(tmp),))
        os.replace(tmp, target)
    except sqlite3.OperationalError as exc:
        raise DatabaseError(f"cannot write the backup to {target}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# Loading the catalogue

_CATALOGUE_TABLES = {
    # table: (key columns identifying a paper's rows, or None for whole-table upserts)
    "sources": None,
    "organizations": None,
    "org_names": None,
    "topics": None,
    "paper_names": "paper_id",
    "paper_orgs": "paper_id",
    "paper_topics": "paper_id",
    "paper_sources": "paper_id",
    "prerequisites": "paper_id",
}


def build_seed(cat: CatalogueSource, target: Path) -> int:
    """Write the catalogue into a fresh database at ``target``; return the paper count."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    conn = _connect(tmp)
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


def insert_paper(conn: sqlite3.Connection, paper: Paper) -> None:
    """Add one paper with its names, organizations, topics, sources and prerequisites."""
    conn.execute(
        "INSERT INTO papers (id, title, short_name, kind, arxiv_id, url, pdf_url, date, year,"
        " why, focus, technique, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            paper.id,
            paper.title,
            paper.short_name,
            paper.kind,
            paper.arxiv_id,
            paper.url or (abs_url(paper.arxiv_id) if paper.arxiv_id else None),
            paper.pdf_url or (pdf_url(paper.arxiv_id) if paper.arxiv_id else None),
            paper.date,
            paper.year,
            paper.why,
            paper.focus,
            paper.technique,
            paper.origin,
        ),
    )
    names = [(paper.id, 0), (paper.short_name, 0)] + [(a, 1) for a in paper.aliases]
    conn.executemany(
        "INSERT OR IGNORE INTO paper_names VALUES (?, ?, ?, ?)",
        [(name_key(n), paper.id, n, alias) for n, alias in names if name_key(n)],
    )
    conn.executemany(
        "INSERT INTO paper_orgs VALUES (?, ?, ?)",
        [(paper.id, org, i) for i, org in enumerate(paper.organizations)],
    )
    conn.executemany(
        "INSERT INTO paper_topics VALUES (?, ?, ?)",
        [(paper.id, topic, i) for i, topic in enumerate(paper.topics)],
    )
    conn.executemany(
        "INSERT INTO paper_sources VALUES (?, ?)", [(paper.id, s) for s in paper.sources]
    )
    conn.executemany(
        "INSERT INTO prerequisites VALUES (?, ?)", [(paper.id, p) for p in paper.prerequisites]
    )


def _seed_stamp(seed: Path) -> str:
    stat = seed.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _meta(conn: sqlite3.Connection, key: str, schema: str = "main") -> str | None:
    row = conn.execute(f"SELECT value FROM {schema}.meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _sync_if_seed_changed(conn: sqlite3.Connection, seed: Path) -> None:
    # A stat() per command; the seed itself is only opened after papercli was reinstalled.
    try:
        stamp = _seed_stamp(seed)
    except OSError:
        return
    if _meta(conn, "seed_stamp") == stamp:
        return
    try:
        sync_catalogue(conn, seed)
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):
            raise


def sync_catalogue(conn: sqlite3.Connection, seed: Path) -> None:
    """Bring the catalogue tables up to the shipped seed, in one transaction.

    Papers are upserted, never deleted, and the user's own tables are not touched: a
    newer catalogue adds and corrects papers without losing anyone's reading state.
    """
    try:
        stamp = _seed_stamp(seed)
    except OSError as exc:
        raise DatabaseError(f"the shipped catalogue is missing ({seed}): {exc.strerror}") from None
    conn.execute("ATTACH DATABASE ? AS seed", (f"file:{quote(str(seed))}?mode=ro",))
    try:
        with transaction(conn):
            if _meta(conn, "catalogue_digest") != _meta(conn, "catalogue_digest", "seed"):
                _copy_catalogue(conn)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('seed_stamp', ?)", (stamp,))
    finally:
        conn.execute("DETACH DATABASE seed")


def _columns(conn: sqlite3.Connection, table: str) -> str:
    return ", ".join(row[1] for row in conn.execute(f"PRAGMA main.table_info({table})"))


def _copy_catalogue(conn: sqlite3.Connection) -> None:
    _adopt_user_papers(conn)
    cols = _columns(conn, "papers")
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols.split(", ") if c != "id")
    conn.execute(
        f"INSERT INTO papers ({cols}) SELECT {cols} FROM seed.papers WHERE true "
        f"ON CONFLICT(id) DO UPDATE SET {updates}"
    )
    for table, per_paper in _CATALOGUE_TABLES.items():
        cols = _columns(conn, table)
        if per_paper:
            conn.execute(f"DELETE FROM {table} WHERE paper_id IN (SELECT id FROM seed.papers)")
        conn.execute(f"INSERT OR REPLACE INTO {table} ({cols}) SELECT {cols} FROM seed.{table}")
    conn.execute(
        "INSERT OR REPLACE INTO meta SELECT key, value FROM seed.meta"
        " WHERE key = 'catalogue_digest'"
    )


# ---------------------------------------------------------------------------
# Finding papers

_SUMMARY_COLUMNS = f"""
    p.id, p.title, p.short_name, p.year, p.date, p.kind, p.arxiv_id, p.url, p.pdf_url,
    p.origin, coalesce(s.status, 'unread'),
    (SELECT group_concat(org, '{_SEP}') FROM
        (SELECT org FROM paper_orgs WHERE paper_id = p.id ORDER BY position)),
    (SELECT group_concat(topic, '{_SEP}') FROM
        (SELECT topic FROM paper_topics WHERE paper_id = p.id ORDER BY position)),
    s.read_version, (SELECT version FROM arxiv_meta WHERE paper_id = p.id)
"""
_FROM = "FROM papers p LEFT JOIN reading_state s ON s.paper_id = p.id"
# A paper's year is its date's year, so "date" order leads with the year: year filters
# and the order are then one range of the papers_year_date_id index (migration 4).
_ORDER = {
    "date": "p.year {d}, p.date {d}, p.id {d}",
    "title": "p.title COLLATE NOCASE {d}, p.id {d}",
    "year": "p.year {d}, p.date {d}, p.id {d}",
}


def _split(value: object) -> list[str]:
    return str(value).split(_SEP) if value else []


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _summary(row: Sequence[object]) -> Paper:
    (pid, title, short, year, date, kind, arxiv_id, url, pdf, origin, status, orgs, topics) = row[
        :13
    ]
    read_version, arxiv_version = row[13:]
    return Paper(
        id=str(pid),
        title=str(title),
        short_name=str(short),
        year=int(str(year)),
        date=str(date),
        kind=str(kind),
        arxiv_id=_optional(arxiv_id),
        url=_optional(url),
        pdf_url=_optional(pdf),
        origin=str(origin),
        status=ReadStatus(str(status)),
        organizations=_split(orgs),
        topics=_split(topics),
        read_version=None if read_version is None else int(str(read_version)),
        arxiv_version=None if arxiv_version is None else int(str(arxiv_version)),
    )


def iter_papers(conn: sqlite3.Connection, selection: Selection) -> Iterator[Paper]:
    """The papers a selection picks, sorted and limited in SQL, read one at a time so
    that a listing of a million papers starts at once and holds only what is printed.
    The query runs (and a bad selection raises) on the call, before the first paper."""
    where, order, params = _where_and_order(conn, selection)
    if selection.limit is None:
        sql = f"SELECT {_SUMMARY_COLUMNS} {_FROM} {where} ORDER BY {order}"
    else:
        # The page's ids first, then the listing columns (a subquery each for organizations
        # and topics) for those rows only: when the matches must be sorted (--topic,
        # --org), SQLite would otherwise compute them for every match before sorting.
        sql = (
            f"SELECT {_SUMMARY_COLUMNS} {_FROM} WHERE p.id IN"
            f" (SELECT p.id {_FROM} {where} ORDER BY {order} LIMIT ?) ORDER BY {order}"
        )
        params.append(selection.limit)
    return map(_summary, conn.execute(sql, params))


def selected_ids(conn: sqlite3.Connection, selection: Selection) -> Iterator[str]:
    """Only the ids of what ``iter_papers`` lists, in its order: at a million papers, a
    second rather than the ~30 s of building every listing row."""
    where, order, params = _where_and_order(conn, selection)
    sql = f"SELECT p.id {_FROM} {where} ORDER BY {order}"
    if selection.limit is not None:
        sql += " LIMIT ?"
        params.append(selection.limit)
    return (str(pid) for (pid,) in conn.execute(sql, params))


def _where_and_order(conn: sqlite3.Connection, sel: Selection) -> tuple[str, str, list[object]]:
    where, params = _where(conn, sel)
    return where, _ORDER[sel.sort].format(d="DESC" if sel.reverse else "ASC"), params


def papers_by_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Paper]:
    """Listing rows for the given ids, in the order given (unknown ids are left out)."""
    rows = conn.execute(
        f"SELECT {_SUMMARY_COLUMNS} {_FROM} WHERE p.id IN ({_marks(ids)})", list(ids)
    ).fetchall()
    found = {paper.id: paper for paper in map(_summary, rows)}
    return [found[i] for i in ids if i in found]


def _where(conn: sqlite3.Connection, sel: Selection) -> tuple[str, list[object]]:
    if sel.since is not None and sel.until is not None and sel.since > sel.until:
        raise InvalidValueError(
            f"--since {sel.since} is after --until {sel.until}: nothing can match"
        )
    clauses: list[str] = []
    params: list[object] = []
    for op, value in ((">=", sel.since), ("<=", sel.until), ("=", sel.year)):
        if value is not None:
            clauses.append(f"p.year {op} ?")
            params.append(value)
    if sel.organizations:
        orgs = resolve_organizations(conn, sel.organizations)
        clauses.append(f"p.id IN (SELECT paper_id FROM paper_orgs WHERE org IN ({_marks(orgs)}))")
        params += orgs
    if sel.topics:
        topics = resolve_topics(conn, sel.topics)
        clauses.append(
            f"p.id IN (SELECT paper_id FROM paper_topics WHERE topic IN ({_marks(topics)}))"
        )
        params += topics
    if sel.tags:
        tags = [t.lower() for t in sel.tags]
        clauses.append(f"p.id IN (SELECT paper_id FROM tags WHERE tag IN ({_marks(tags)}))")
        params += tags
    if sel.statuses:
        statuses = [str(s) for s in sel.statuses]
        if ReadStatus.UNREAD in sel.statuses:
            clauses.append(f"coalesce(s.status, 'unread') IN ({_marks(statuses)})")
        else:
            # Only papers the user marked have a reading_state row: those few are found
            # through its status index, rather than by checking every paper.
            clauses.append(
                f"p.id IN (SELECT paper_id FROM reading_state WHERE status IN ({_marks(statuses)}))"
            )
        params += statuses
    if sel.search is not None and sel.search.replace("\x00", " ").split():
        clause, args = _search_clause(conn, sel)
        clauses.append(clause)
        params += args
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


LIST_SEARCH_FEW = 10_000
"""Up to this many matches, `list --search` looks its matches up and sorts them; past it,
a page in date order walks the papers in that order and checks each against the index,
stopping at the page's end: at 1M papers, sorting the 490,000 matches of "transformer"
takes 1.8 s, while checking a paper takes ~30 µs (a rare word would take 30 s)."""


def _search_clause(conn: sqlite3.Connection, sel: Selection) -> tuple[str, list[object]]:
    """The --search filter: papers having every word as a token of the search index, as
    `search` matches them (in the title, names, summary, abstract or notes; "models"
    finds "model"), and an unspaced (Chinese, Japanese) word also inside notes."""
    terms = _search_terms(sel.search or "")
    if not terms:
        return "false", []  # no word has letters or digits: none can match a token
    spaced = [t for t in terms if not re.search(_UNSPACED, t)]
    if len(spaced) == len(terms) and sel.limit is not None and sel.sort != "title":
        query = _fts_query(spaced)
        (count,) = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM paper_search WHERE paper_search MATCH ? LIMIT ?)",
            (query, LIST_SEARCH_FEW + 1),
        ).fetchone()
        if count > LIST_SEARCH_FEW:
            return (
                "EXISTS (SELECT 1 FROM search_docs d JOIN paper_search ON paper_search.rowid ="
                " d.docid WHERE d.paper_id = p.id AND paper_search MATCH ?)",
                [query],
            )
    docids: list[str] = []
    args: list[object] = []
    if spaced:
        docids.append("SELECT rowid FROM paper_search WHERE paper_search MATCH ?")
        args.append(_fts_query(spaced))
    for term in terms:
        if term not in spaced:
            sql, term_args = _unspaced_docids(term)
            docids.append(sql)
            args += term_args
    found = " INTERSECT ".join(docids)
    return f"p.id IN (SELECT paper_id FROM search_docs WHERE docid IN ({found}))", args


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def resolve_organizations(conn: sqlite3.Connection, names: Sequence[str]) -> list[str]:
    """Canonical organization names for what the user typed (``meta`` -> ``Meta AI``)."""
    return [
        _lookup_name(
            conn,
            name,
            "organization",
            "orgs",
            "SELECT org FROM org_names WHERE key = ?",
            name_key(name),
            "SELECT name, org FROM org_names",
        )
        for name in names
    ]


def resolve_topics(conn: sqlite3.Connection, names: Sequence[str]) -> list[str]:
    """Topic names as stored, for what the user typed in any case."""
    return [
        _lookup_name(
            conn,
            name,
            "topic",
            "topics",
            "SELECT name FROM topics WHERE name = ? COLLATE NOCASE",
            name.strip(),
            "SELECT name, name FROM topics",
        )
        for name in names
    ]


def _lookup_name(
    conn: sqlite3.Connection,
    name: str,
    label: str,
    command: str,
    lookup_sql: str,
    key: str,
    known_sql: str,
) -> str:
    row = conn.execute(lookup_sql, (key,)).fetchone()
    if row is not None:
        return str(row[0])
    canonical = {str(spelling): str(target) for spelling, target in conn.execute(known_sql)}
    hint = dict.fromkeys(canonical[h] for h in closest(name, list(canonical)))
    tip = f"did you mean {' or '.join(repr(h) for h in hint)}?" if hint else ""
    raise InvalidValueError(f"unknown {label} {name!r}; {tip or f'see papercli {command}'}")


def count_by(conn: sqlite3.Connection, what: str) -> list[tuple[str, int, list[str]]]:
    """(name, paper count, other spellings) for each organization or topic."""
    if what == "organizations":
        sql = (
            "SELECT o.name, (SELECT count(*) FROM paper_orgs WHERE org = o.name),"
            f" (SELECT group_concat(name, '{_SEP}') FROM org_names"
            "   WHERE org = o.name AND name != o.name) FROM organizations o"
        )
    else:
        sql = (
            "SELECT t.name, (SELECT count(*) FROM paper_topics WHERE topic = t.name),"
            " t.description FROM topics t"
        )
    return [
        (str(n), int(c), _split(extra) if what == "organizations" else [str(extra)])
        for n, c, extra in conn.execute(sql)
    ]


def get_paper(conn: sqlite3.Connection, paper_id: str) -> Paper:
    """Everything known about one paper (the id must exist)."""
    row = conn.execute(f"SELECT {_SUMMARY_COLUMNS} {_FROM} WHERE p.id = ?", (paper_id,)).fetchone()
    if row is None:
        raise InvalidValueError(f"no paper with id {paper_id!r}")
    paper = _summary(row)
    why, focus, technique = conn.execute(
        "SELECT why, focus, technique FROM papers WHERE id = ?", (paper_id,)
    ).fetchone()
    paper.why, paper.focus, paper.technique = why, focus, technique
    paper.aliases = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM paper_names WHERE paper_id = ? AND is_alias ORDER BY rowid",
            (paper_id,),
        )
    ]
    paper.sources = [
        str(r[0])
        for r in conn.execute(
            "SELECT source FROM paper_sources WHERE paper_id = ? ORDER BY source", (paper_id,)
        )
    ]
    paper.prerequisites = [
        str(r[0])
        for r in conn.execute(
            "SELECT r.prereq_id FROM prerequisites r JOIN papers p ON p.id = r.prereq_id"
            " WHERE r.paper_id = ? ORDER BY p.date",
            (paper_id,),
        )
    ]
    _fill_arxiv(conn, paper)
    return paper


# ---------------------------------------------------------------------------
# Lookups behind refs.resolve


def ids_by_name(conn: sqlite3.Connection, key: str) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT paper_id FROM paper_names WHERE key = ? ORDER BY paper_id", (key,)
        )
    ]


def ids_by_name_prefix(conn: sqlite3.Connection, key: str, limit: int) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT paper_id FROM paper_names WHERE key > ? AND key < ? "
            "ORDER BY paper_id LIMIT ?",
            (key, key + "\U0010ffff", limit),
        )
    ]


def ids_by_arxiv_id(conn: sqlite3.Connection, arxiv_id: str) -> list[str]:
    return [
        str(r[0]) for r in conn.execute("SELECT id FROM papers WHERE arxiv_id = ?", (arxiv_id,))
    ]


def ids_by_title_words(conn: sqlite3.Connection, words: Sequence[str], limit: int) -> list[str]:
    """Papers whose title has every word, oldest first.

    Words are matched as the search index's tokens ("models" finds "Model"; "low-rank"
    is the two words in a row), so this is an index lookup rather than a scan of every
    title, which takes seconds on a million papers.
    """
    # As in search_papers: FTS5 reads NUL as the end of the query; a word without
    # letters or digits has no tokens.
    terms = [w.replace("\x00", " ") for w in words if any(c.isalnum() for c in w)]
    if not terms:
        return []
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT d.paper_id FROM paper_search JOIN search_docs d ON d.docid = paper_search.rowid"
            " WHERE paper_search MATCH ? ORDER BY paper_search.rowid LIMIT ?",
            (f"title : ({_fts_query(terms)})", limit),
        )
    ]


def ids_by_doi(conn: sqlite3.Connection, doi: str) -> list[str]:
    """Papers whose fetched arXiv metadata lists this DOI (any case)."""
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT m.paper_id FROM arxiv_meta m, json_each(m.dois) d"
            " WHERE lower(d.value) = lower(?)",
            (doi,),
        )
    ]


def ids_by_title(conn: sqlite3.Connection, title: str) -> list[str]:
    """Papers with exactly this title, ignoring case."""
    return [
        str(r[0])
        for r in conn.execute("SELECT id FROM papers WHERE title = ? COLLATE NOCASE", (title,))
    ]


def paper_exists(conn: sqlite3.Connection, paper_id: str) -> bool:
    return conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone() is not None


SUGGESTION_POOL = 20_000
"""How many names "did you mean" compares a mistyped reference with (~20 ms)."""


def names_to_suggest(conn: sqlite3.Connection, key: str) -> dict[str, str]:
    """Names to look for a mistyped reference among, each mapped to its paper id.

    Every name, in a library of up to SUGGESTION_POOL names. In a bigger one, those
    sharing the longest beginning (up to 3 characters) with ``key`` that any name shares,
    at most SUGGESTION_POOL of them: comparing a million names would take seconds.
    """
    sql = "SELECT name, paper_id FROM paper_names"
    rows = conn.execute(f"{sql} LIMIT ?", (SUGGESTION_POOL + 1,)).fetchall()
    if len(rows) > SUGGESTION_POOL:
        rows = []
        for length in range(min(len(key), 3), 0, -1):
            start = key[:length]
            rows = conn.execute(
                f"{sql} WHERE key >= ? AND key < ? LIMIT ?",
                (start, start + "\U0010ffff", SUGGESTION_POOL),
            ).fetchall()
            if rows:
                break
    return {str(name): str(paper_id) for name, paper_id in rows}


def describe_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> list[tuple[str, str, int]]:
    """(id, title, year) for each id, in the order given."""
    rows = {
        str(r[0]): (str(r[0]), str(r[1]), int(r[2]))
        for r in conn.execute(
            f"SELECT id, title, year FROM papers WHERE id IN ({_marks(ids)})", ids
        )
    }
    return [rows[i] for i in ids if i in rows]


def complete_ids(conn: sqlite3.Connection, prefix: str, limit: int = 50) -> list[tuple[str, str]]:
    """Paper ids starting with ``prefix``, with titles, for shell completion."""
    return [
        (str(i), str(t))
        for i, t in conn.execute(
            "SELECT id, title FROM papers WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
    ]


# ---------------------------------------------------------------------------
# arXiv metadata
#
# What `fetch` and `add` learnt from arXiv lives in arxiv_meta and arxiv_authors,
# apart from the curated facts in papers and from the user's own state.


def store_arxiv_record(
    conn: sqlite3.Connection, paper_id: str, record: ArxivRecord, fetched_at: str
) -> None:
    """Save (or replace) what arXiv says about a paper; call inside a transaction."""
    conn.execute(
        "INSERT OR REPLACE INTO arxiv_meta (paper_id, arxiv_id, version, title, abstract,"
        " published, updated, primary_category, categories, dois, journal_ref, comment,"
        " abs_url, pdf_url, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            paper_id,
            record.arxiv_id,
            record.version,
            record.title,
            record.abstract,
            record.published,
            record.updated,
            record.primary_category,
            json.dumps(record.categories, ensure_ascii=False),
            json.dumps(record.dois, ensure_ascii=False),
            record.journal_ref,
            record.comment,
            record.abs_url,
            record.pdf_url,
            fetched_at,
        ),
    )
    conn.execute("DELETE FROM arxiv_authors WHERE paper_id = ?", (paper_id,))
    conn.executemany(
        "INSERT INTO arxiv_authors (paper_id, position, name, affiliations) VALUES (?, ?, ?, ?)",
        [
            (paper_id, i, a.name, json.dumps(list(a.affiliations), ensure_ascii=False))
            for i, a in enumerate(record.authors)
        ],
    )


def arxiv_record(conn: sqlite3.Connection, paper_id: str) -> tuple[ArxivRecord, str] | None:
    """What was last fetched from arXiv for a paper, and when; None if never."""
    row = conn.execute(
        "SELECT arxiv_id, version, title, abstract, published, updated, primary_category,"
        " categories, dois, journal_ref, comment, abs_url, pdf_url, fetched_at"
        " FROM arxiv_meta WHERE paper_id = ?",
        (paper_id,),
    ).fetchone()
    if row is None:
        return None
    authors = [
        Author(str(name), tuple(json.loads(affiliations)))
        for name, affiliations in conn.execute(
            "SELECT name, affiliations FROM arxiv_authors WHERE paper_id = ? ORDER BY position",
            (paper_id,),
        )
    ]
    (arxiv_id, version, title, abstract, published, updated, primary, categories, dois) = row[:9]
    journal_ref, comment, abs_link, pdf_link, fetched_at = row[9:]
    record = ArxivRecord(
        arxiv_id=str(arxiv_id),
        version=int(version),
        title=str(title),
        abstract=str(abstract),
        authors=authors,
        published=str(published),
        updated=str(updated),
        primary_category=_optional(primary),
        categories=json.loads(categories),
        dois=json.loads(dois),
        journal_ref=_optional(journal_ref),
        comment=_optional(comment),
        abs_url=str(abs_link),
        pdf_url=_optional(pdf_link),
    )
    return record, str(fetched_at)


def _fill_arxiv(conn: sqlite3.Connection, paper: Paper) -> None:
    """Copy the fetched arXiv metadata, if any, into the paper's arXiv fields."""
    fetched = arxiv_record(conn, paper.id)
    if fetched is None:
        return
    record, paper.fetched_at = fetched
    paper.authors = record.authors
    paper.abstract = record.abstract
    paper.primary_category = record.primary_category
    paper.categories = record.categories
    paper.dois = record.dois
    paper.journal_ref = record.journal_ref
    paper.comment = record.comment
    paper.arxiv_version = record.version
    paper.arxiv_updated = record.updated


def ids_with_arxiv_id(conn: sqlite3.Connection, *, never_fetched: bool = False) -> list[str]:
    """Papers that arXiv can tell about, oldest first; only those never fetched if asked."""
    sql = "SELECT id FROM papers WHERE arxiv_id IS NOT NULL"
    if never_fetched:
        sql += " AND id NOT IN (SELECT paper_id FROM arxiv_meta)"
    return [str(r[0]) for r in conn.execute(sql + " ORDER BY date, id")]


def arxiv_ids_and_titles(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, tuple[str | None, str]]:
    """(arXiv id or None, title) for each paper id that exists."""
    return {
        str(pid): (_optional(arxiv_id), str(title))
        for pid, arxiv_id, title in conn.execute(
            f"SELECT id, arxiv_id, title FROM papers WHERE id IN ({_marks(ids)})", ids
        )
    }


def organizations_in(conn: sqlite3.Connection, affiliations: Sequence[str]) -> list[str]:
    """The known organizations named by authors' affiliations, in order of first mention.

    An affiliation matches when it, or one of its comma-separated parts, is a known
    spelling (``Google Brain, Mountain View`` -> ``Google``); the rest are not guessed at.
    """
    found: dict[str, None] = {}
    for affiliation in affiliations:
        for part in (affiliation, *affiliation.split(",")):
            row = conn.execute(
                "SELECT org FROM org_names WHERE key = ?", (name_key(part),)
            ).fetchone()
            if row is not None:
                found[str(row[0])] = None
                break
    return list(found)


_USER_TABLES = ("reading_state", "status_history", "notes", "tags", "queue")


def _adopt_user_papers(conn: sqlite3.Connection) -> None:
    """Prepare for a newer catalogue (attached as ``seed``) that may ship papers users added.

    Metadata fetched for an arXiv id the catalogue no longer gives a paper is dropped. A
    user-added paper whose arXiv id the catalogue now ships under another id becomes the
    catalogue's paper: the user's state and fetched metadata move to the catalogue id
    (where both ids hold the same state row, the catalogue paper's is kept) and the
    user's copy goes. A user-added paper whose id the catalogue now gives to a different
    paper is renamed (``id-2``), with everything attached to it.
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
    for old, new in adopted:
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


# ---------------------------------------------------------------------------
# Full-text search
#
# `search` looks words up in paper_search and note_search (see migrations.M003_SEARCH).
# Every word goes into the FTS5 query as a quoted string, never as query syntax, so no
# input (quotes, `-`, `:`, `*`, AND, NEAR, parentheses) can be an FTS5 or SQL error.

RANK_LIMIT = 10_000
"""Past this many matches, show the newest matches unranked: at 1M papers, ranking every
match of the commonest word takes 0.6 s (2.6 s with a tag filter; bench/search_bench.py),
while counting up to this bound takes a millisecond."""

# bm25 weights of title, names, summary, abstract and notes: a title match counts most.
_WEIGHTS = "10.0, 8.0, 3.0, 1.0, 3.0"
_SNIPPET = "snippet(paper_search, -1, char(2), char(3), '…', 12)"  # matches in \x02…\x03
# Scripts written without spaces between words (Chinese, Japanese; Korean particles):
# unicode61 keeps such a run whole, so these words are looked for inside notes instead.
# A pattern string that `re` compiles (and caches) on first use: compiling these ranges
# takes ~4 ms, too much to pay at every command's start.
_UNSPACED = "[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]"


class SearchHit(NamedTuple):
    paper: Paper
    snippet: list[tuple[str, bool]]  # the best passage, as (text, is a matched word) parts


class SearchResults(NamedTuple):
    hits: list[SearchHit]
    ranked: bool  # best first; else newest first
    too_many: bool  # more than RANK_LIMIT papers matched (so not ranked)


def search_papers(
    conn: sqlite3.Connection, words: str, selection: Selection, limit: int
) -> SearchResults:
    """Papers matching all ``words`` and the list filters in ``selection``, best first.

    A paper named exactly by the words (short name or alias) comes first. When nothing
    matches, the last word is tried as a prefix ("transf" finds "transformer"). Words in
    Chinese or Japanese also match inside notes; with them, or with more than RANK_LIMIT
    matches, the results come newest first instead of ranked.
    """
    words = words.replace("\x00", " ")  # FTS5 would read NUL as the end of the query
    if not words.strip():
        raise InvalidValueError("nothing to search for; give some words, e.g. papercli search lora")
    terms = _search_terms(words)
    if not terms:
        return SearchResults([], ranked=True, too_many=False)
    where, params = _where(conn, selection)
    filters = where.replace("WHERE", "AND", 1)
    spaced = [t for t in terms if not re.search(_UNSPACED, t)]
    if len(spaced) < len(terms):
        unspaced = [t for t in terms if re.search(_UNSPACED, t)]
        hits = _search_unspaced(conn, unspaced, spaced, filters, params, limit)
        return SearchResults(hits, ranked=False, too_many=False)
    # Docids sort by date (see migrations.M003_SEARCH): year filters become a docid range
    # that FTS5 seeks to, rather than a check on every match.
    first = _year_docid(selection.year or selection.since or 0)
    last = _year_docid((selection.year or selection.until or 9999) + 1)
    match = "paper_search MATCH ? AND paper_search.rowid >= ? AND paper_search.rowid < ?"
    count_sql = f"SELECT count(*) FROM (SELECT 1 FROM paper_search WHERE {match} LIMIT ?)"
    query = _fts_query(spaced)
    (count,) = conn.execute(count_sql, (query, first, last, RANK_LIMIT + 1)).fetchone()
    if not count and len(spaced[-1]) >= 3:
        # Only now: FTS5 merges every matching word's list for a prefix, ~30 ms at 1M.
        query += "*"
        (count,) = conn.execute(count_sql, (query, first, last, RANK_LIMIT + 1)).fetchone()
    too_many = count > RANK_LIMIT
    select = (
        f"SELECT {_SUMMARY_COLUMNS}, {_SNIPPET}, paper_search.rowid FROM paper_search"
        " JOIN search_docs d ON d.docid = paper_search.rowid JOIN papers p ON p.id = d.paper_id"
        " LEFT JOIN reading_state s ON s.paper_id = p.id WHERE"
    )
    if too_many:
        # FTS5 reads a match in docid order, so newest first needs no sort: this stops
        # once `limit` papers pass the filters. When few papers can pass them (tags, or
        # statuses other than unread), those papers' docids are gathered first and each
        # match is checked against that set, not joined to papers (~3 µs each: 1.4 s for
        # the commonest word at 1M when nearly none pass).
        few = _few_papers(conn, selection, filters, params)
        if few is not None:
            filters, params = (
                "AND +paper_search.rowid IN (SELECT value FROM json_each(?))",
                [json.dumps(few)],
            )
        rows = conn.execute(
            f"{select} {match} {filters} ORDER BY paper_search.rowid DESC LIMIT ?",
            [query, first, last, *params, limit],
        ).fetchall()
    else:
        # A paper named exactly by the words comes first, then the others by bm25. With
        # ORDER BY rank, FTS5 sorts the match itself and SQLite computes the snippet and
        # the other columns only for the papers shown.
        named = conn.execute(
            f"{select} paper_search.rowid IN (SELECT n.docid FROM paper_names"
            " JOIN search_docs n ON n.paper_id = paper_names.paper_id WHERE key = ?)"
            f" AND {match} {filters}",
            [name_key(words), query, first, last, *params],
        ).fetchall()
        best = conn.execute(
            f"{select} {match} {filters} AND rank MATCH ? ORDER BY rank LIMIT ?",
            [query, first, last, *params, f"bm25({_WEIGHTS})", limit + len(named)],
        ).fetchall()
        rows = list({row[16]: row for row in named + best}.values())[:limit]
    hits = [SearchHit(_summary(row[:15]), _snippet_parts(str(row[15]))) for row in rows]
    return SearchResults(hits, ranked=not too_many, too_many=too_many)


def _few_papers(
    conn: sqlite3.Connection, selection: Selection, filters: str, params: list[object]
) -> list[int] | None:
    """The docids of the papers the filters pick, when the filters can pick few (by tag,
    or by statuses other than unread) and pick at most RANK_LIMIT; else None."""
    read = bool(selection.statuses) and ReadStatus.UNREAD not in selection.statuses
    if not (selection.tags or read):
        return None
    docids = conn.execute(
        "SELECT d.docid FROM papers p JOIN search_docs d ON d.paper_id = p.id"
        f" LEFT JOIN reading_state s ON s.paper_id = p.id WHERE true {filters} LIMIT ?",
        [*params, RANK_LIMIT + 1],
    ).fetchall()
    return [int(r[0]) for r in docids] if len(docids) <= RANK_LIMIT else None


def _year_docid(year: int) -> int:
    """The first docid of a year (years clamped to 0..10000, keeping SQLite's 64 bits)."""
    return min(max(year, 0), 10_000) * 10**13


def _search_terms(words: str) -> list[str]:
    """The words to look up: NUL, which FTS5 would read as the end of the query, splits
    words, and a word without letters or digits is left out (it has no tokens, and an
    empty phrase would match nothing)."""
    return [w for w in words.replace("\x00", " ").split() if any(c.isalnum() for c in w)]


def _fts_query(terms: Sequence[str]) -> str:
    """All terms required, each an FTS5 string (``"`` doubled), never query syntax."""
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _search_unspaced(
    conn: sqlite3.Connection,
    unspaced: Sequence[str],
    spaced: Sequence[str],
    filters: str,
    params: list[object],
    limit: int,
) -> list[SearchHit]:
    """Papers having each unspaced word as a token or inside a note, and the spaced words
    as tokens, newest first."""
    candidates: list[str] = []
    args: list[object] = []
    for term in unspaced:
        sql, term_args = _unspaced_docids(term)
        candidates.append(sql)
        args += term_args
    # The few papers the unspaced words pick, checked while reading the other words' match.
    found = f"paper_search.rowid IN ({' INTERSECT '.join(candidates)})"
    if spaced:
        found = f"paper_search MATCH ? AND +{found}"
        args.insert(0, _fts_query(spaced))
    sql = (
        f"SELECT {_SUMMARY_COLUMNS}, paper_search.notes, paper_search.title, paper_search.names,"
        " paper_search.summary, paper_search.abstract FROM paper_search"
        " JOIN search_docs d ON d.docid = paper_search.rowid JOIN papers p ON p.id = d.paper_id"
        f" LEFT JOIN reading_state s ON s.paper_id = p.id WHERE {found} {filters}"
        " ORDER BY paper_search.rowid DESC LIMIT ?"
    )
    args += [*params, limit]
    return [
        SearchHit(_summary(row[:15]), _excerpt([str(t) for t in row[15:]], unspaced, spaced))
        for row in conn.execute(sql, args)
    ]


def _unspaced_docids(term: str) -> tuple[str, list[object]]:
    """A query for the docids of the papers having an unspaced word as a token or inside
    a note, and its parameters."""
    # The trigram index finds 3+ characters; a shorter word scans the notes.
    in_notes = (
        "SELECT rowid FROM note_search WHERE note_search MATCH ?"
        if len(term) >= 3
        else "SELECT id FROM notes WHERE instr(body, ?)"
    )
    sql = (
        "SELECT docid FROM (SELECT rowid AS docid FROM paper_search WHERE paper_search MATCH ?"
        " UNION SELECT d.docid FROM notes n JOIN search_docs d ON d.paper_id = n.paper_id"
        f" WHERE n.id IN ({in_notes}))"
    )
    quoted = _fts_query([term])
    return sql, [quoted, quoted if len(term) >= 3 else term]


def _snippet_parts(marked: str) -> list[tuple[str, bool]]:
    """FTS5's snippet, matches between \\x02 and \\x03, as (text, is a match) parts."""
    pieces = re.split("[\x02\x03]", " ".join(marked.split()))
    return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]


def _excerpt(
    texts: Sequence[str], unspaced: Sequence[str], spaced: Sequence[str], width: int = 60
) -> list[tuple[str, bool]]:
    """The passage around the first unspaced word in ``texts``, with all words marked
    (what FTS5's snippet does for the words it can match itself)."""
    words = sorted([*unspaced, *spaced], key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, words)), re.IGNORECASE)
    first = re.compile("|".join(map(re.escape, unspaced)), re.IGNORECASE)
    text = next((t for t in texts if first.search(t)), texts[1])
    text = " ".join(text.split())
    found = first.search(text)
    start = max(0, found.start() - width // 3) if found else 0
    passage = text[start : start + width]
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    position = 0
    for match in pattern.finditer(passage):
        parts += [(passage[position : match.start()], False), (match.group(), True)]
        position = match.end()
    parts.append((passage[position:], False))
    if start + width < len(text):
        parts.append(("…", False))
    return [(piece, hit) for piece, hit in parts if piece]
