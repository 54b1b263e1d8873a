"""The lookups behind ``refs.resolve``: papers by name, name prefix, arXiv id, DOI and
title words, the names "did you mean" compares with, and shell completion."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from papercli.names import name_key, person_key
from papercli.store.base import IN_IDS, id_list
from papercli.store.fts import fts_query


def ids_by_name(conn: sqlite3.Connection, key: str) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT paper_id FROM paper_names WHERE key = ? ORDER BY paper_id", (key,)
        )
    ]


def name_taken(conn: sqlite3.Connection, key: str) -> bool:
    """Whether any paper answers to the name (by its key): one row read, however many do."""
    row = conn.execute("SELECT 1 FROM paper_names WHERE key = ? LIMIT 1", (key,)).fetchone()
    return row is not None


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


def ids_by_arxiv_ids(conn: sqlite3.Connection, arxiv_ids: Sequence[str]) -> dict[str, str]:
    """The paper holding each of these arXiv ids that one does (an arXiv id is unique), in
    one query: an import matches a thousand entries at a time."""
    return {
        str(r[0]): str(r[1])
        for r in conn.execute(
            f"SELECT arxiv_id, id FROM papers WHERE arxiv_id {IN_IDS}", (id_list(arxiv_ids),)
        )
    }


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
            (f"title : ({fts_query(terms)})", limit),
        )
    ]


def id_by_doi(conn: sqlite3.Connection, doi: str) -> str | None:
    """The paper of least id with this DOI (any case): the publisher's, or one arXiv's
    metadata lists. Each side's least is the first row of an index, however many share it."""
    (found,) = conn.execute(
        "SELECT min(id) FROM (SELECT min(id) AS id FROM papers WHERE doi = ? COLLATE NOCASE"
        " UNION ALL SELECT min(paper_id) FROM arxiv_dois WHERE doi = ?)",
        (doi, doi),
    ).fetchone()
    return None if found is None else str(found)


def id_by_title(conn: sqlite3.Connection, title: str) -> str | None:
    """The first paper added with exactly this title, ignoring case: one row of the
    index, however many share the title."""
    row = conn.execute(
        "SELECT id FROM papers WHERE title = ? COLLATE NOCASE ORDER BY rowid LIMIT 1", (title,)
    ).fetchone()
    return None if row is None else str(row[0])


def arxiv_id_of(conn: sqlite3.Connection, paper_id: str) -> str | None:
    row = conn.execute("SELECT arxiv_id FROM papers WHERE id = ?", (paper_id,)).fetchone()
    return None if row is None or not row[0] else str(row[0])


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
            f"SELECT id, title, year FROM papers WHERE id {IN_IDS}", (id_list(ids),)
        )
    }
    return [rows[i] for i in ids if i in rows]


# Shell completion: what the options and arguments accept that starts with what has been
# typed, in any case. Each query is an index range from that start, cut at a limit, so
# a keypress costs the same on a million papers as on the catalogue.

COMPLETIONS = 50
"""How many candidates one completion offers at most."""

Candidate = tuple[str, str, str]
"""A completion: the value as stored, another spelling the option accepts (its folded
key, which need not keep the typed text's accents or spaces), and help to show beside."""


def connect_for_completion(path: str) -> sqlite3.Connection:
    """Open the database read-only: a completion never creates, upgrades or writes it,
    and waits for a writer no longer than a keypress can."""
    from pathlib import Path  # the URI, with its escapes; completion runs under Typer anyway

    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)


def complete_ids(conn: sqlite3.Connection, prefix: str) -> list[Candidate]:
    """Paper ids (always lowercase) starting with ``prefix``, with their titles."""
    start = prefix.lower()
    return [
        (str(i), str(i), str(t))
        for i, t in conn.execute(
            "SELECT id, title FROM papers WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (start, start + "\U0010ffff", COMPLETIONS),
        )
    ]


def complete_topics(conn: sqlite3.Connection, prefix: str) -> list[Candidate]:
    """Topics starting with ``prefix``, with their descriptions (a short table: no index
    needed to compare without case)."""
    return [
        (str(name), str(name), str(description))
        for name, description in conn.execute(
            "SELECT name, description FROM topics WHERE name >= ? COLLATE NOCASE"
            " AND name < ? COLLATE NOCASE ORDER BY name COLLATE NOCASE LIMIT ?",
            (prefix, prefix + "\U0010ffff", COMPLETIONS),
        )
    ]


def complete_organizations(conn: sqlite3.Connection, prefix: str) -> list[Candidate]:
    """Every spelling of an organization (``Meta``, ``FAIR``, ``Facebook AI``) starting
    with ``prefix`` once case, spaces and punctuation are folded, with the organization
    it stands for."""
    start = name_key(prefix)
    return [
        (str(name), str(key), str(org) if org != name else "")
        for name, key, org in conn.execute(
            "SELECT name, key, org FROM org_names WHERE key >= ? AND key < ? ORDER BY key LIMIT ?",
            (start, start + "\U0010ffff", COMPLETIONS),
        )
    ]


def complete_tags(conn: sqlite3.Connection, prefix: str) -> list[Candidate]:
    """The user's tags starting with ``prefix`` (the column compares without case)."""
    return [(tag, tag, "") for tag in _distinct_from(conn, "tags", "tag", prefix)]


def complete_families(conn: sqlite3.Connection, prefix: str) -> list[Candidate]:
    """Authors' family names starting with ``prefix``, folded as ``--author`` folds them
    (``roz`` finds Rozière), each once however many papers its authors wrote."""
    return [
        (str(conn.execute(_FAMILY_OF, (key,)).fetchone()[0]), key, "")
        for key in _distinct_from(conn, "paper_authors", "family_key", person_key(prefix))
    ]


_FAMILY_OF = "SELECT family FROM paper_authors WHERE family_key = ? LIMIT 1"


def _distinct_from(conn: sqlite3.Connection, table: str, column: str, start: str) -> list[str]:
    """The first COMPLETIONS distinct values of an indexed column from ``start`` on that
    begin with it, each found by one index seek past the one before: a family name on
    50,000 papers costs no more than one on a single paper."""
    first = f"SELECT {column} FROM {table} WHERE {column} >= :start AND {column} < :end"
    after = f"SELECT {column} FROM {table} WHERE {column} > found.value AND {column} < :end"
    sql = (
        f"WITH RECURSIVE found(value) AS (SELECT ({first} ORDER BY {column} LIMIT 1)"
        f" UNION ALL SELECT ({after} ORDER BY {column} LIMIT 1) FROM found"
        " WHERE found.value IS NOT NULL LIMIT :limit)"
        " SELECT value FROM found WHERE value IS NOT NULL"
    )
    end = start + "\U0010ffff"
    return [
        str(r[0]) for r in conn.execute(sql, {"start": start, "end": end, "limit": COMPLETIONS})
    ]
