"""The arXiv inbox: announcements that matched a watch, what the user decided about them,
newer versions announced for papers in the list, and where the last pull left off.

A kept or dismissed paper is remembered by its arXiv id in inbox_decisions, apart from
its item, so that pruning the item never lets it come back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from papercli.models import Author, ListingItem
from papercli.names import person_key
from papercli.records import datarecord
from papercli.store import changes

DECISIONS = ("kept", "dismissed")


@datarecord(frozen=True)
class StoredItem:
    """An inbox item as stored, with the decision taken about it (None: not yet)."""

    item: ListingItem
    watches: list[str]
    decision: str | None
    docid: int


@datarecord(frozen=True)
class VersionAlert:
    """A newer arXiv version of a paper in the user's list, announced in a listing."""

    paper_id: str
    short_name: str
    arxiv_id: str
    version: int
    announced: str
    status: str
    read_version: int | None


# -- where the last pull left off ------------------------------------------------------


def pull_state(conn: sqlite3.Connection) -> dict[str, Any]:
    """What the last successful pull saved: url, etag, last_modified, listing_date, at."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'inbox_pull'").fetchone()
    return dict(json.loads(row[0])) if row else {}


def save_pull_state(conn: sqlite3.Connection, state: dict[str, Any]) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('inbox_pull', ?)",
        (json.dumps(state, ensure_ascii=False),),
    )


# -- storing a pull ----------------------------------------------------------------------


def ids_to_leave_out(conn: sqlite3.Connection, arxiv_ids: Sequence[str]) -> set[str]:
    """Of these papers, those already in the inbox or decided about."""
    wanted = json.dumps(list(arxiv_ids))
    return {
        str(row[0])
        for row in conn.execute(
            "SELECT value FROM json_each(?) WHERE value IN (SELECT arxiv_id FROM inbox_items)"
            " OR value IN (SELECT arxiv_id FROM inbox_decisions)",
            (wanted,),
        )
    }


def papers_with_arxiv_ids(conn: sqlite3.Connection, arxiv_ids: Sequence[str]) -> dict[str, str]:
    """The paper in the list (catalogue or the user's) for each of these arXiv ids."""
    rows = conn.execute(
        "SELECT arxiv_id, min(id) FROM papers WHERE arxiv_id IN (SELECT value FROM json_each(?))"
        " GROUP BY arxiv_id",
        (json.dumps(list(arxiv_ids)),),
    )
    return {str(arxiv_id): str(paper_id) for arxiv_id, paper_id in rows}


def add_items(
    conn: sqlite3.Connection, matched: Iterable[tuple[ListingItem, list[str]]], pulled_at: str
) -> None:
    """Store new items with the watches they matched (call inside a transaction)."""
    conn.executemany(
        "INSERT OR IGNORE INTO inbox_items (arxiv_id, version, title, authors, author_keys,"
        " abstract, categories, announce_type, announced, watches, dois, journal_ref, words,"
        " pulled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                item.arxiv_id,
                item.version,
                item.title,
                _dump([[a.name, list(a.affiliations)] for a in item.authors]),
                "\n".join(person_key(a.name) for a in item.authors),
                item.abstract,
                _dump(item.categories),
                item.announce_type,
                item.announced,
                _dump(watches),
                _dump(item.dois),
                item.journal_ref,
                len(f"{item.title} {item.abstract}".split()),
                pulled_at,
            )
            for item, watches in matched
        ),
    )


def announce_versions(
    conn: sqlite3.Connection, announced: Iterable[tuple[str, int, str]]
) -> list[str]:
    """Note newer versions (paper id, version, date) of papers in the list; return the ids
    of the papers whose known version went up."""
    raised: list[str] = []
    for paper_id, version, date in announced:
        known = conn.execute(f"SELECT coalesce({_LATEST}, 0)", {"paper": paper_id}).fetchone()[0]
        if version <= int(known):
            continue
        conn.execute(
            "INSERT OR REPLACE INTO announced_versions (paper_id, version, announced, dismissed)"
            " VALUES (?, ?, ?, 0)",
            (paper_id, version, date),
        )
        raised.append(paper_id)
    return raised


_LATEST = (
    "(SELECT max(version) FROM (SELECT version FROM arxiv_meta WHERE paper_id = :paper"
    " UNION ALL SELECT version FROM announced_versions WHERE paper_id = :paper))"
)


# -- reading the inbox -----------------------------------------------------------------


def version_alerts(conn: sqlite3.Connection) -> list[VersionAlert]:
    """Announced versions newer than what was fetched, not dismissed, newest first."""
    rows = conn.execute(
        "SELECT v.paper_id, p.short_name, p.arxiv_id, v.version, v.announced,"
        " coalesce(s.status, 'unread'), s.read_version"
        " FROM announced_versions v JOIN papers p ON p.id = v.paper_id"
        " LEFT JOIN reading_state s ON s.paper_id = v.paper_id"
        " WHERE NOT v.dismissed AND v.version > coalesce(s.read_version, 0) AND v.version >"
        " coalesce((SELECT version FROM arxiv_meta m WHERE m.paper_id = v.paper_id), 0)"
        " ORDER BY v.announced DESC, v.paper_id"
    )
    return [
        VersionAlert(str(a), str(b), str(c), int(d), str(e), str(f), None if g is None else int(g))
        for a, b, c, d, e, f, g in rows
    ]


def dismiss_version_alerts(conn: sqlite3.Connection, batch: int, paper_ids: Sequence[str]) -> None:
    """Hide these papers' version alerts, as steps of ``batch``."""
    for paper_id in paper_ids:
        set_alert_dismissed(conn, paper_id, True)
        changes.record(conn, batch, "alert", paper_id, False, True)


def set_alert_dismissed(conn: sqlite3.Connection, paper_id: str, value: bool) -> None:
    """Whether a paper's version alert is hidden (also undo's step)."""
    conn.execute(
        "UPDATE announced_versions SET dismissed = ? WHERE paper_id = ?", (int(value), paper_id)
    )


def newest_items(
    conn: sqlite3.Connection, *, undecided_only: bool, watch: str | None = None
) -> Iterator[tuple[int, str, int]]:
    """(docid, author keys one a line, words) of the items to rank, newest first."""
    where, params = _filters(undecided_only, watch)
    yield from conn.execute(
        f"SELECT i.docid, i.author_keys, i.words FROM inbox_items i {where}"
        " ORDER BY i.announced DESC, i.arxiv_id DESC",
        params,
    )


def newest_items_extent(
    conn: sqlite3.Connection, *, undecided_only: bool, watch: str | None = None
) -> tuple[int, int, range]:
    """How many items ``newest_items`` gives, their words in all, and the span of their
    docids: what ranking needs to know of them all before reading them one by one."""
    where, params = _filters(undecided_only, watch)
    count, words, first, last = conn.execute(
        f"SELECT count(*), coalesce(sum(i.words), 0), min(i.docid), max(i.docid)"
        f" FROM inbox_items i {where}",
        params,
    ).fetchone()
    return int(count), int(words), range(first, last + 1) if count else range(0)


def items_by_docid(conn: sqlite3.Connection, docids: Sequence[int]) -> list[StoredItem]:
    """The items with these row ids, in the order given."""
    found = {stored.docid: stored for stored in _items(conn, "docid", docids)}
    return [found[docid] for docid in docids if docid in found]


def items_by_arxiv_id(conn: sqlite3.Connection, arxiv_ids: Sequence[str]) -> list[StoredItem]:
    return _items(conn, "arxiv_id", arxiv_ids)


def _items(conn: sqlite3.Connection, column: str, values: Sequence[object]) -> list[StoredItem]:
    rows = conn.execute(
        f"SELECT {_ITEM_COLUMNS} FROM inbox_items i"
        " LEFT JOIN inbox_decisions d ON d.arxiv_id = i.arxiv_id"
        f" WHERE i.{column} IN (SELECT value FROM json_each(?))",
        (json.dumps(list(values)),),
    )
    return list(map(_stored, rows))


def in_inbox(conn: sqlite3.Connection, arxiv_ids: Sequence[str]) -> set[str]:
    """Those of these papers that have an item in the inbox."""
    rows = conn.execute(
        "SELECT arxiv_id FROM inbox_items WHERE arxiv_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(arxiv_ids)),),
    )
    return {str(arxiv_id) for (arxiv_id,) in rows}


def undecided_ids(conn: sqlite3.Connection, watch: str | None = None) -> Iterator[str]:
    """The arXiv ids of the items not kept or dismissed (of ``watch`` if given), as read."""
    where, params = _filters(True, watch)
    for (arxiv_id,) in conn.execute(f"SELECT i.arxiv_id FROM inbox_items i {where}", params):
        yield str(arxiv_id)


def count_items(conn: sqlite3.Connection) -> tuple[int, int]:
    """How many items there are, and how many wait for a decision."""
    total, waiting = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE arxiv_id NOT IN"
        " (SELECT arxiv_id FROM inbox_decisions)) FROM inbox_items"
    ).fetchone()
    return int(total), int(waiting)


def term_counts(conn: sqlite3.Connection, terms: Sequence[str]) -> dict[str, int]:
    """How many items have each term (the search index's own word list)."""
    return {
        str(term): int(count)
        for term, count in conn.execute(
            "SELECT term, doc FROM inbox_terms WHERE term IN (SELECT value FROM json_each(?))",
            (json.dumps(list(terms)),),
        )
    }


def docids_with_term(conn: sqlite3.Connection, term: str) -> Iterator[int]:
    for (docid,) in conn.execute(
        "SELECT rowid FROM inbox_search WHERE inbox_search MATCH ?", ('"' + term + '"',)
    ):
        yield int(docid)


def reading_profile(conn: sqlite3.Connection, limit: int) -> list[tuple[str, str, str, str, float]]:
    """The papers that say what the user cares about, most recently touched first:
    (paper id, short name, title and abstract, author names joined by newlines, weight).
    Read and reading papers weigh 1; queued or tagged ones 0.6. They are found from the
    user's own tables, not by reading every paper (1 to 4 s at a million papers).

    Each of those tables gives its ``limit`` most recently touched papers first, and only
    those are merged and looked up: merging all of them took 0.13 s with 100,000 papers
    read, 1.4 s with a million (0.07 and 0.45 s now). A paper's time is the same from
    every table (its reading state's, else when it was added), so the newest of the three
    lists are the newest of all."""
    rows = conn.execute(
        "SELECT p.id, p.short_name, p.title || ' ' || coalesce(m.abstract, p.why, ''),"
        " (SELECT group_concat(name, char(10)) FROM paper_authors WHERE paper_id = p.id),"
        " CASE WHEN s.status IN ('read', 'reading') THEN 1.0 ELSE 0.6 END"
        " FROM (SELECT id, touched FROM ("
        # A read or reading paper's time is its state's: no second look-up of the state,
        # which took 0.8 s against 0.45 for a million read papers.
        "  SELECT * FROM (SELECT s.paper_id AS id, s.changed_at AS touched FROM reading_state s"
        "   WHERE s.status IN ('read', 'reading')"
        "   AND EXISTS (SELECT 1 FROM papers WHERE id = s.paper_id)"
        "   ORDER BY touched DESC, id LIMIT ?1)"
        f"  UNION {_newest_of('queue')} UNION {_newest_of('(SELECT DISTINCT paper_id FROM tags)')}"
        " ) ORDER BY touched DESC, id LIMIT ?1) newest"
        " JOIN papers p ON p.id = newest.id"
        " LEFT JOIN reading_state s ON s.paper_id = p.id"
        " LEFT JOIN arxiv_meta m ON m.paper_id = p.id"
        " ORDER BY newest.touched DESC, newest.id",
        (limit,),
    )
    return [(str(a), str(b), str(c), str(d or ""), float(e)) for a, b, c, d, e in rows]


def _newest_of(papers: str) -> str:
    """The ``?1`` papers of ``papers`` (rows of paper_id) touched last, as (id, touched)."""
    return (
        "SELECT * FROM (SELECT c.paper_id AS id, coalesce(s.changed_at, p.added_at, '')"
        f" AS touched FROM {papers} c JOIN papers p ON p.id = c.paper_id"
        " LEFT JOIN reading_state s ON s.paper_id = c.paper_id"
        " ORDER BY touched DESC, id LIMIT ?1)"
    )


# -- decisions -------------------------------------------------------------------------


def decide(
    conn: sqlite3.Connection, batch: int, arxiv_ids: Sequence[str], decision: str, at: str
) -> list[str]:
    """Record a decision about each paper as a step of ``batch`` (inside its transaction);
    return those that were not so already. A paper decided so already keeps its time and makes no
    step: keeping or dismissing an item twice was a step that `undo` "undid" without a
    change, and that took a waiting redo's place."""
    before = decisions(conn, arxiv_ids)
    changed = [a for a in arxiv_ids if before.get(a, ("",))[0] != decision]
    now = {"decision": decision, "at": at}
    _decide(conn, [(arxiv_id, decision, at) for arxiv_id in changed])
    changes.record_all(
        conn,
        batch,
        (
            ("inbox", arxiv_id, None if old is None else {"decision": old[0], "at": old[1]}, now)
            for arxiv_id in changed
            for old in [before.get(arxiv_id)]
        ),
    )
    return changed


def decisions(conn: sqlite3.Connection, arxiv_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """The decision about each of these papers that has one, and its time."""
    return {
        str(a): (str(d), str(t))
        for a, d, t in conn.execute(
            "SELECT arxiv_id, decision, decided_at FROM inbox_decisions"
            " WHERE arxiv_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(arxiv_ids)),),
        )
    }


def set_decision(conn: sqlite3.Connection, arxiv_id: str, value: dict[str, Any] | None) -> None:
    """The decision about a paper is as ``value`` says, or none (also undo's step)."""
    if value is None:
        conn.execute("DELETE FROM inbox_decisions WHERE arxiv_id = ?", (arxiv_id,))
        return
    _decide(conn, [(arxiv_id, value["decision"], value["at"])])


def _decide(conn: sqlite3.Connection, rows: Sequence[tuple[str, str, str]]) -> None:
    """Each (arXiv id, decision, time) as the decision about the paper."""
    conn.executemany(
        "INSERT OR REPLACE INTO inbox_decisions (arxiv_id, decision, decided_at) VALUES (?, ?, ?)",
        rows,
    )


# -- pruning -----------------------------------------------------------------------------


def prune(
    conn: sqlite3.Connection, *, announced_before: str | None, decided_before: str | None
) -> int:
    """Delete items announced before a date, and decided items decided before a time;
    the decisions stay. Returns how many items went."""
    removed = 0
    if announced_before is not None:
        removed += _delete_items(conn, "i.announced < ?", announced_before)
    if decided_before is not None:
        removed += _delete_items(
            conn,
            "EXISTS (SELECT 1 FROM inbox_decisions d WHERE d.arxiv_id = i.arxiv_id"
            " AND d.decided_at < ?)",
            decided_before,
        )
    return removed


PRUNED_TOGETHER = 1000
"""Items deleted by one statement: one statement for them all held every one's row id
(a DELETE with triggers collects them first), 30 MB at a million."""


def _delete_items(conn: sqlite3.Connection, where: str, value: str) -> int:
    """Delete the items ``where`` selects, in order of docid, a group at a time."""
    removed, last = 0, 0
    while docids := [
        int(docid)
        for (docid,) in conn.execute(
            # Not by the announced index: each group would sort every item it selects.
            f"SELECT i.docid FROM inbox_items i NOT INDEXED WHERE i.docid > ? AND {where}"
            " ORDER BY i.docid LIMIT ?",
            (last, value, PRUNED_TOGETHER),
        )
    ]:
        conn.execute(
            "DELETE FROM inbox_items WHERE docid IN (SELECT value FROM json_each(?))",
            (json.dumps(docids),),
        )
        removed += len(docids)
        last = docids[-1]
    return removed


# -- helpers -----------------------------------------------------------------------------

_ITEM_COLUMNS = (
    "i.arxiv_id, i.version, i.title, i.authors, i.abstract, i.categories, i.announce_type,"
    " i.announced, i.dois, i.journal_ref, i.watches, d.decision, i.docid"
)


def _stored(row: tuple[Any, ...]) -> StoredItem:
    arxiv_id, version, title, authors, abstract, categories, kind, announced = row[:8]
    dois, journal_ref, watches, decision, docid = row[8:]
    item = ListingItem(
        arxiv_id=str(arxiv_id),
        version=int(version),
        title=str(title),
        authors=[Author(str(name), tuple(aff)) for name, aff in json.loads(authors)],
        abstract=str(abstract),
        categories=json.loads(categories),
        announce_type=str(kind),
        announced=str(announced),
        dois=json.loads(dois),
        journal_ref=None if journal_ref is None else str(journal_ref),
    )
    return StoredItem(
        item, json.loads(watches), None if decision is None else str(decision), int(docid)
    )


def _filters(undecided_only: bool, watch: str | None) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if undecided_only:
        clauses.append("i.arxiv_id NOT IN (SELECT arxiv_id FROM inbox_decisions)")
    if watch is not None:
        clauses.append("EXISTS (SELECT 1 FROM json_each(i.watches) WHERE value = ? COLLATE NOCASE)")
        params.append(watch)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
