"""Papers: adding one, listing a selection, reading one in full, and the names of
organizations and topics that selections filter by."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from papercli import TYPE_CHECKING, times
from papercli.arxiv_ids import abs_url, pdf_url
from papercli.errors import InvalidValueError
from papercli.models import Author, Note, Paper, ReadStatus, Selection
from papercli.names import citation_key_stem, closest, name_key, person_key, unique_key
from papercli.records import replace
from papercli.store import authors
from papercli.store.arxiv_meta import fill_arxiv_all
from papercli.store.base import (
    IN_IDS,
    NOTE_ORDER,
    SEP,
    dropped_after,
    id_list,
    optional_text,
    placeholders,
    split_list,
)
from papercli.store.fts import fts_query, search_terms, split_unspaced, unspaced_docids
from papercli.textlayout import clipped

if TYPE_CHECKING:
    from typing import Any


def insert_paper(conn: sqlite3.Connection, paper: Paper, *, order_queue: bool = True) -> str:
    """Add one paper (see ``insert_papers``); return its citation key."""
    return insert_papers(conn, [paper], order_queue=order_queue)[0]


def insert_papers(
    conn: sqlite3.Connection, new: Sequence[Paper], *, order_queue: bool = True
) -> list[str]:
    """Add papers with their authors, names, organizations, topics, sources and
    prerequisites; return their citation keys (derived, and made unique, where a paper has
    none or one already taken, also by a paper before it here). A queue place another
    device gave one of them comes back in its sort key's order, unless ``order_queue`` is
    False: an undo putting back many papers orders the queue once, at its end.

    One statement per table for all of them, table by table: each table's pages stay in
    SQLite's cache while it is written (paper by paper, an import of 100,000 new papers
    took a third to a half longer)."""
    given: set[str] = set()

    def taken(key: str) -> bool:
        return key.lower() in given or citation_key_taken(conn, key)

    keys = []
    for paper in new:
        key = paper.citation_key
        if key is None or taken(key):
            stem = citation_key_stem(paper.first_author, paper.year, paper.title, paper.id)
            key = unique_key(stem, taken)
        given.add(key.lower())
        keys.append(key)
    # The rows hanging off the papers first, the papers last: the search index's triggers
    # then make each document once, as its paper arrives, rather than again for each
    # author and alias (eight times as slow for a paper with five authors).
    authors.write_authors_of(conn, [(paper.id, paper.authors) for paper in new])
    conn.executemany(
        "INSERT OR IGNORE INTO paper_names VALUES (?, ?, ?, ?)",
        [
            (name_key(name), paper.id, name, alias)
            for paper in new
            for name, alias in [(paper.id, 0), (paper.short_name, 0)]
            + [(a, 1) for a in paper.aliases]
            if name_key(name)
        ],
    )
    conn.executemany(
        "INSERT INTO paper_orgs VALUES (?, ?, ?)",
        [(paper.id, org, i) for paper in new for i, org in enumerate(paper.organizations)],
    )
    conn.executemany(
        "INSERT INTO paper_topics VALUES (?, ?, ?)",
        [(paper.id, topic, i) for paper in new for i, topic in enumerate(paper.topics)],
    )
    conn.executemany(
        "INSERT INTO paper_sources VALUES (?, ?)",
        [(paper.id, source) for paper in new for source in paper.sources],
    )
    add_prerequisites(conn, [(paper.id, prereq) for paper in new for prereq in paper.prerequisites])
    # A queue place another device gave a paper while it was away here comes back with it,
    # at the end of the queue (the trigger papers_unpark); its sort key says where, as on
    # the other devices, or this one kept another order for good.
    queue_waits = (
        order_queue
        and conn.execute(
            f"SELECT 1 FROM sync_parked WHERE kind = 'queue' AND paper_id {IN_IDS} LIMIT 1",
            (id_list([paper.id for paper in new]),),
        ).fetchone()
    )
    conn.executemany(
        "INSERT INTO papers (id, title, short_name, kind, arxiv_id, url, pdf_url, date, year,"
        " why, focus, technique, origin, venue, venue_title, doi, citation_key, primary_category,"
        " added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
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
                paper.venue,
                paper.venue_title,
                paper.doi,
                key,
                paper.primary_category,
                paper.added_at or (_now() if paper.origin == "user" else None),
            )
            for paper, key in zip(new, keys, strict=True)
        ],
    )
    if queue_waits:
        from papercli.store.sync import order_queue_by_keys  # only where a place waited

        order_queue_by_keys(conn)
    return keys


def add_prerequisites(conn: sqlite3.Connection, links: Iterable[tuple[str, str]]) -> None:
    """Link each paper to a prerequisite: (paper id, prerequisite's id); a link already
    there stays as it is."""
    conn.executemany("INSERT OR IGNORE INTO prerequisites VALUES (?, ?)", links)


# The tables holding a paper's facts (as opposed to the user's state), by paper_id.
FACT_TABLES = (
    "paper_names", "paper_authors", "paper_orgs", "paper_topics", "paper_sources", "prerequisites",
)  # fmt: skip


# The other tables with rows that hang off one paper, by paper_id. status_history is not
# one of them: it is the record of what happened, even to a paper since removed.
_PAPER_ROWS = (
    *FACT_TABLES, "arxiv_meta", "arxiv_authors", "reading_state", "notes", "tags", "queue",
)  # fmt: skip


def delete_papers(conn: sqlite3.Connection, paper_ids: Sequence[str]) -> None:
    """Remove papers and everything attached to them (a user's own papers, on undo,
    ``remove`` or sync), one statement per table for all of them: a statement per table
    and paper took 3.3 of the 4.7 s of undoing an import of 10,000 papers. The queue may
    be left with gaps: renumber it (``changes.renumber_queue``) once done."""
    ids = id_list(paper_ids)
    # The papers first (after announced_versions, which refers to them): their search
    # documents go with them, and removing the rest then leaves the search index alone.
    conn.execute(f"DELETE FROM announced_versions WHERE paper_id {IN_IDS}", (ids,))
    conn.execute(f"DELETE FROM papers WHERE id {IN_IDS}", (ids,))
    for table in _PAPER_ROWS:
        conn.execute(f"DELETE FROM {table} WHERE paper_id {IN_IDS}", (ids,))
    conn.execute(f"DELETE FROM prerequisites WHERE prereq_id {IN_IDS}", (ids,))


def break_prerequisite_cycles(
    conn: sqlite3.Connection, paper_ids: Iterable[str]
) -> list[tuple[str, str]]:
    """Drop the prerequisite links among these papers that close a cycle (a file may claim
    that A needs B and B needs A); return the (paper, prerequisite) links dropped.

    One depth-first walk from each paper in the order given, following each paper's links
    in id order; a link back to a paper on the walk's current path is dropped. Each paper
    and link is visited once (a search from every link took the square of a chain's
    length), and the walk's state is a temporary table, not memory. Call inside a
    transaction."""
    conn.execute(
        "CREATE TEMP TABLE prerequisite_walk (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
        " state INTEGER NOT NULL DEFAULT 0,"  # 0 not reached, 1 on the path, 2 done
        " parent TEXT, after TEXT NOT NULL DEFAULT '')"  # the last link followed from it
    )
    with dropped_after(conn, "temp.prerequisite_walk"):
        conn.executemany(  # only a paper with prerequisites can be on a cycle
            "INSERT OR IGNORE INTO prerequisite_walk (id) SELECT ?1"
            " WHERE EXISTS (SELECT 1 FROM prerequisites WHERE paper_id = ?1)",
            ((paper_id,) for paper_id in paper_ids),
        )
        dropped: list[tuple[str, str]] = []
        start = 0
        while row := conn.execute(
            "SELECT n, id FROM prerequisite_walk WHERE n > ? AND state = 0 ORDER BY n LIMIT 1",
            (start,),
        ).fetchone():
            start = row[0]
            _walk_from(conn, str(row[1]), dropped)
        return dropped


def _walk_from(conn: sqlite3.Connection, node: str | None, dropped: list[tuple[str, str]]) -> None:
    conn.execute("UPDATE prerequisite_walk SET state = 1 WHERE id = ?", (node,))
    while node is not None:
        link = conn.execute(
            "SELECT r.prereq_id, w.state FROM prerequisite_walk v"
            " JOIN prerequisites r ON r.paper_id = v.id AND r.prereq_id > v.after"
            " JOIN prerequisite_walk w ON w.id = r.prereq_id"
            " WHERE v.id = ? ORDER BY r.prereq_id LIMIT 1",
            (node,),
        ).fetchone()
        if link is None:  # every link followed: back to the paper that led here
            conn.execute("UPDATE prerequisite_walk SET state = 2 WHERE id = ?", (node,))
            (node,) = conn.execute(
                "SELECT parent FROM prerequisite_walk WHERE id = ?", (node,)
            ).fetchone()
            continue
        prereq, state = str(link[0]), link[1]
        conn.execute("UPDATE prerequisite_walk SET after = ? WHERE id = ?", (prereq, node))
        if state == 1:
            conn.execute(
                "DELETE FROM prerequisites WHERE paper_id = ? AND prereq_id = ?", (node, prereq)
            )
            dropped.append((node, prereq))
        elif state == 0:
            conn.execute(
                "UPDATE prerequisite_walk SET state = 1, parent = ? WHERE id = ?", (node, prereq)
            )
            node = prereq


def _now() -> str:
    from datetime import UTC, datetime  # only when a user adds a paper

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def origin_of(conn: sqlite3.Connection, paper_id: str) -> str | None:
    row = conn.execute("SELECT origin FROM papers WHERE id = ?", (paper_id,)).fetchone()
    return None if row is None else str(row[0])


def citation_key_taken(conn: sqlite3.Connection, key: str) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM papers WHERE citation_key = ? COLLATE NOCASE", (key,)
        ).fetchone()
    )


def new_citation_key(
    conn: sqlite3.Connection, first_author: str | None, year: int, title: str, paper_id: str
) -> str:
    """``hu2021lora`` for a paper that has none yet, with ``a``, ``b``… if it is taken."""
    stem = citation_key_stem(first_author, year, title, paper_id)
    return unique_key(stem, lambda key: citation_key_taken(conn, key))


# The latest arXiv version known for a paper: fetched, or announced in a daily listing.
LATEST_VERSION = (
    "(SELECT max(version) FROM (SELECT version FROM arxiv_meta WHERE paper_id = {paper}"
    " UNION ALL SELECT version FROM announced_versions WHERE paper_id = {paper}))"
)
_UNIT = "\x1e"  # joins an author's family name and full name in one listing value
SUMMARY_COLUMNS = f"""
    p.id, p.title, p.short_name, p.year, p.date, p.kind, p.arxiv_id, p.url, p.pdf_url,
    p.origin, coalesce(s.status, 'unread'),
    (SELECT group_concat(org, '{SEP}') FROM
        (SELECT org FROM paper_orgs WHERE paper_id = p.id ORDER BY position)),
    (SELECT group_concat(topic, '{SEP}') FROM
        (SELECT topic FROM paper_topics WHERE paper_id = p.id ORDER BY position)),
    s.read_version, {LATEST_VERSION.format(paper="p.id")}, p.venue,
    (SELECT group_concat(family || '{_UNIT}' || name, '{SEP}') FROM
        (SELECT family, name FROM paper_authors WHERE paper_id = p.id ORDER BY position))
"""
SUMMARY_WIDTH = 17  # how many values SUMMARY_COLUMNS gives


SUMMARY_FROM = "FROM papers p LEFT JOIN reading_state s ON s.paper_id = p.id"


# A paper's year is its date's year, so "date" order leads with the year: year filters
# and the order are then one range of the papers_year_date_id index (migration 4).
_ORDER = {
    "date": "p.year {d}, p.date {d}, p.id {d}",
    "title": "p.title COLLATE NOCASE {d}, p.id {d}",
    "year": "p.year {d}, p.date {d}, p.id {d}",
    # When you read it: papers never read come after those you have, newest date first.
    "read": "s.read_at IS NULL, s.read_at {d}, p.year DESC, p.date DESC, p.id {d}",
    # When you added it: your own papers, then the catalogue's (which came with papercli).
    "added": "p.added_at IS NULL, p.added_at {d}, p.year {d}, p.date {d}, p.id {d}",
}


def paper_from_row(row: Sequence[object]) -> Paper:
    (pid, title, short, year, date, kind, arxiv_id, url, pdf, origin, status, orgs, topics) = row[
        :13
    ]
    read_version, arxiv_version, venue, authors = row[13:SUMMARY_WIDTH]
    return Paper(
        id=str(pid),
        title=str(title),
        short_name=str(short),
        year=int(str(year)),
        date=str(date),
        kind=str(kind),
        arxiv_id=optional_text(arxiv_id),
        url=optional_text(url),
        pdf_url=optional_text(pdf),
        origin=str(origin),
        status=ReadStatus(str(status)),
        organizations=split_list(orgs),
        topics=split_list(topics),
        read_version=None if read_version is None else int(str(read_version)),
        arxiv_version=None if arxiv_version is None else int(str(arxiv_version)),
        venue=str(venue),
        authors=[
            Author(name, family=family)
            for family, _, name in (pair.partition(_UNIT) for pair in split_list(authors))
        ],
    )


def iter_papers(conn: sqlite3.Connection, selection: Selection) -> Iterator[Paper]:
    """The papers a selection picks, sorted and limited in SQL, read one at a time so
    that a listing of a million papers starts at once and holds only what is printed.
    The query runs (and a bad selection raises) on the call, before the first paper."""
    where, order, params = _where_and_order(conn, selection)
    if selection.limit is None:
        sql = f"SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM} {where} ORDER BY {order}"
    else:
        # The page's ids first, then the listing columns (a subquery each for organizations
        # and topics) for those rows only: when the matches must be sorted (--topic,
        # --org), SQLite would otherwise compute them for every match before sorting.
        sql = (
            f"SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM} WHERE p.id IN"
            f" (SELECT p.id {SUMMARY_FROM} {where} ORDER BY {order} LIMIT ?) ORDER BY {order}"
        )
        params.append(selection.limit)
    return map(paper_from_row, conn.execute(sql, params))


def iter_queue(conn: sqlite3.Connection) -> Iterator[tuple[Paper, str]]:
    """The queued papers in the queue's order, each with when it was queued, read one at
    a time, as ``iter_papers``."""
    sql = f"SELECT {SUMMARY_COLUMNS}, q.added_at {SUMMARY_FROM} JOIN queue q ON q.paper_id = p.id"
    for row in conn.execute(sql + " ORDER BY q.position"):
        yield paper_from_row(row[:-1]), str(row[-1])


def selected_ids(conn: sqlite3.Connection, selection: Selection) -> Iterator[str]:
    """Only the ids of what ``iter_papers`` lists, in its order: at a million papers, a
    second rather than the ~30 s of building every listing row."""
    where, order, params = _where_and_order(conn, selection)
    sql = f"SELECT p.id {SUMMARY_FROM} {where} ORDER BY {order}"
    if selection.limit is not None:
        sql += " LIMIT ?"
        params.append(selection.limit)
    return (str(pid) for (pid,) in conn.execute(sql, params))


def queued_ids(
    conn: sqlite3.Connection, selection: Selection, *, queue_order: bool
) -> Iterator[str]:
    """The ids of the queued papers a selection picks, read as they are needed: in the
    queue's order (reversed with ``selection.reverse``) or, without ``queue_order``, in the
    selection's sort order."""
    where, order, params = _where_and_order(conn, selection)
    if queue_order:
        order = "q.position DESC" if selection.reverse else "q.position"
    sql = f"SELECT p.id {SUMMARY_FROM} JOIN queue q ON q.paper_id = p.id {where} ORDER BY {order}"
    return (str(pid) for (pid,) in conn.execute(sql, params))


def _where_and_order(conn: sqlite3.Connection, sel: Selection) -> tuple[str, str, list[object]]:
    where, params = where_clause(conn, sel)
    return where, _ORDER[sel.sort].format(d="DESC" if sel.reverse else "ASC"), params


def papers_by_ids(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Paper]:
    """Listing rows for the given ids, in the order given (unknown ids are left out)."""
    rows = conn.execute(
        f"SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM} WHERE p.id {IN_IDS}", (id_list(ids),)
    ).fetchall()
    found = {paper.id: paper for paper in map(paper_from_row, rows)}
    return [found[i] for i in ids if i in found]


def where_clause(conn: sqlite3.Connection, sel: Selection) -> tuple[str, list[object]]:
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
    # Each list of names is one parameter, however many were given (SQLite caps the
    # number of parameters: at 999 in builds before 3.32, 32,766 after).
    if sel.organizations:
        orgs = resolve_organizations(conn, sel.organizations)
        clauses.append(f"p.id IN (SELECT paper_id FROM paper_orgs WHERE org {IN_IDS})")
        params.append(id_list(orgs))
    if sel.topics:
        topics = resolve_topics(conn, sel.topics)
        clauses.append(f"p.id IN (SELECT paper_id FROM paper_topics WHERE topic {IN_IDS})")
        params.append(id_list(topics))
    if sel.tags:  # the column compares without case
        check_tags(conn, sel.tags)
        clauses.append(f"p.id IN (SELECT paper_id FROM tags WHERE tag {IN_IDS})")
        params.append(id_list(sel.tags))
    if sel.authors:
        clause, args = authors.known_authors_clause(conn, sel.authors)
        clauses.append(clause)
        params += args
    if sel.statuses:
        statuses = list(dict.fromkeys(str(s) for s in sel.statuses))  # four at most
        if ReadStatus.UNREAD in sel.statuses:
            clauses.append(f"coalesce(s.status, 'unread') IN ({placeholders(statuses)})")
        else:
            # Only papers the user marked have a reading_state row: those few are found
            # through its status index, rather than by checking every paper.
            marks = placeholders(statuses)
            clauses.append(
                f"p.id IN (SELECT paper_id FROM reading_state WHERE status IN ({marks}))"
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
    terms = search_terms(sel.search or "")
    if not terms:
        return "false", []  # no word has letters or digits: none can match a token
    spaced, unspaced = split_unspaced(terms)
    if not unspaced and sel.limit is not None and sel.sort != "title":
        query = fts_query(spaced)
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
        args.append(fts_query(spaced))
    for term in unspaced:
        sql, term_args = unspaced_docids(term)
        docids.append(sql)
        args += term_args
    found = " INTERSECT ".join(docids)
    return f"p.id IN (SELECT paper_id FROM search_docs WHERE docid IN ({found}))", args


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


def check_tags(conn: sqlite3.Connection, names: Sequence[str]) -> None:
    """InvalidValueError when no paper has any of the tags, as for an unknown topic:
    selected by a typo, `export --tag thesys -o refs.bib` emptied the bibliography. One
    tag among several that none has is no error: a script may name many."""
    if len(names) == 1:
        _lookup_name(
            conn,
            names[0],
            "tag",
            "tags",
            "SELECT tag FROM tags WHERE tag = ? LIMIT 1",
            names[0],
            "SELECT DISTINCT tag, tag FROM tags",
        )
    elif not conn.execute(
        f"SELECT 1 FROM tags WHERE tag {IN_IDS} LIMIT 1", (id_list(list(names)),)
    ).fetchone():
        raise InvalidValueError(
            f"no paper has any of the {len(names):,} tags given; see papercli tags"
        )


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
    raise InvalidValueError(
        f"unknown {label} {clipped(name)!r}; {tip or f'see papercli {command}'}"
    )


def count_by(conn: sqlite3.Connection, what: str) -> list[tuple[str, int, list[str]]]:
    """(name, paper count, other spellings) for each organization or topic."""
    if what == "organizations":
        sql = (
            "SELECT o.name, (SELECT count(*) FROM paper_orgs WHERE org = o.name),"
            f" (SELECT group_concat(name, '{SEP}') FROM org_names"
            "   WHERE org = o.name AND name != o.name) FROM organizations o"
        )
    else:
        sql = (
            "SELECT t.name, (SELECT count(*) FROM paper_topics WHERE topic = t.name),"
            " t.description FROM topics t"
        )
    return [
        (str(n), int(c), split_list(extra) if what == "organizations" else [str(extra)])
        for n, c, extra in conn.execute(sql)
    ]


def get_paper(conn: sqlite3.Connection, paper_id: str) -> Paper:
    """Everything known about one paper (the id must exist), without the user's notes,
    tags, queue place and status dates (``full_papers`` has those)."""
    return full_papers(conn, [paper_id], with_state=False)[0]


_FULL_COLUMNS = (
    "p.id, p.title, p.short_name, p.year, p.date, p.kind, p.arxiv_id, p.url, p.pdf_url,"
    " p.origin, p.venue, p.venue_title, p.why, p.focus, p.technique, p.doi, p.citation_key,"
    " p.primary_category, p.added_at, coalesce(s.status, 'unread'), s.read_version,"
    " s.changed_at, s.read_at"
)


def full_papers(
    conn: sqlite3.Connection,
    ids: Sequence[str],
    *,
    with_state: bool = True,
    cited_only: bool = False,
) -> list[Paper]:
    """Everything known about each paper, in the order given, with the user's state
    (notes, tags, queue place, status dates) unless ``with_state`` is False: a query per
    table for all of them, so that an export of a thousand papers makes a dozen queries
    rather than a dozen per paper (arXiv's metadata, where there is some, aside). With
    ``cited_only``, what a citation prints: no aliases, topics, sources or prerequisites
    (6 to 12% of a BibTeX export's time)."""
    arg = (id_list(ids),)

    def by_paper(sql: str) -> dict[str, list[Any]]:
        """The second column of ``sql`` (paper id first), by paper, in the query's order."""
        grouped: dict[str, list[Any]] = {}
        for pid, value in conn.execute(sql, arg):
            grouped.setdefault(pid, []).append(value)
        return grouped

    orgs = by_paper(
        f"SELECT paper_id, org FROM paper_orgs WHERE paper_id {IN_IDS} ORDER BY paper_id, position"
    )
    none: dict[str, list[Any]] = {}
    topics = aliases = sources = prerequisites = none
    if not cited_only:
        topics = by_paper(
            f"SELECT paper_id, topic FROM paper_topics WHERE paper_id {IN_IDS}"
            " ORDER BY paper_id, position"
        )
        aliases = by_paper(
            f"SELECT paper_id, name FROM paper_names WHERE paper_id {IN_IDS} AND is_alias"
            " ORDER BY paper_id, rowid"
        )
        sources = by_paper(
            f"SELECT paper_id, source FROM paper_sources WHERE paper_id {IN_IDS}"
            " ORDER BY paper_id, source"
        )
        prerequisites = by_paper(
            "SELECT r.paper_id, r.prereq_id FROM prerequisites r"
            " JOIN papers p ON p.id = r.prereq_id"
            f" WHERE r.paper_id {IN_IDS} ORDER BY r.paper_id, p.date, r.prereq_id"
        )
    people: dict[str, list[Author]] = {}
    for pid, name, family, given, suffix, literal in conn.execute(
        "SELECT paper_id, name, family, given, suffix, literal FROM paper_authors"
        f" WHERE paper_id {IN_IDS} ORDER BY paper_id, position",
        arg,
    ):
        person = Author(name, family=family, given=given, suffix=suffix, literal=bool(literal))
        people.setdefault(pid, []).append(person)
    fetched = {  # the few papers with arXiv metadata
        pid
        for (pid,) in conn.execute(
            "SELECT value FROM json_each(?) AS j"
            " WHERE EXISTS (SELECT 1 FROM arxiv_meta WHERE paper_id = j.value)"
            " OR EXISTS (SELECT 1 FROM announced_versions WHERE paper_id = j.value)",
            arg,
        )
    }
    if with_state:
        tags = by_paper(
            f"SELECT paper_id, tag FROM tags WHERE paper_id {IN_IDS} ORDER BY paper_id, tag"
        )
        notes: dict[str, list[Note]] = {}
        for pid, at, body, uid in conn.execute(
            f"SELECT paper_id, created_at, body, uid FROM notes WHERE paper_id {IN_IDS}"
            f" ORDER BY paper_id, {NOTE_ORDER}",
            arg,
        ):
            notes.setdefault(pid, []).append(Note(at, body, uid))
        queued = {
            pid: (position, added_at)
            for pid, position, added_at in conn.execute(
                f"SELECT paper_id, position, added_at FROM queue WHERE paper_id {IN_IDS}", arg
            )
        }
    found: dict[str, Paper] = {}
    rows = conn.execute(f"SELECT {_FULL_COLUMNS} {SUMMARY_FROM} WHERE p.id {IN_IDS}", arg)
    for (
        pid, title, short, year, date, kind, arxiv_id, url, pdf, origin, venue, venue_title, why,
        focus, technique, doi, key, category, added_at, status, read_version, changed_at, read_at,
    ) in rows:  # fmt: skip
        paper = Paper(
            id=pid,
            title=title,
            short_name=short,
            year=int(year),
            date=date,
            kind=kind,
            arxiv_id=arxiv_id or None,
            url=url or None,
            pdf_url=pdf or None,
            aliases=aliases.get(pid, []),
            organizations=orgs.get(pid, []),
            topics=topics.get(pid, []),
            why=why,
            focus=focus,
            technique=technique,
            sources=sources.get(pid, []),
            prerequisites=prerequisites.get(pid, []),
            origin=origin,
            authors=people.get(pid, []),
            venue=venue,
            venue_title=venue_title,
            doi=doi or None,
            citation_key=key or None,
            added_at=added_at or None,
            status=ReadStatus(status),
            read_version=read_version,
            primary_category=category or None,
        )
        if with_state:
            paper.status_changed_at, paper.read_at = changed_at, read_at
            paper.queue_position, queued_at = queued.get(pid, (None, None))
            paper.queued_at = times.stored(queued_at)
            paper.tags = tags.get(pid, [])
            paper.notes = notes.get(pid, [])
        found[pid] = paper
    missing = next((pid for pid in ids if pid not in found), None)
    if missing is not None:
        raise InvalidValueError(f"no paper with id {missing!r}")
    with_arxiv = [found[pid] for pid in dict.fromkeys(ids) if pid in fetched]
    fill_arxiv_all(conn, with_arxiv)
    for paper in with_arxiv:
        paper.authors = _with_affiliations(paper.authors, paper.arxiv_authors)
    return [found[pid] for pid in ids]


def _with_affiliations(authors: list[Author], fetched: list[Author]) -> list[Author]:
    """The curated authors with the affiliations arXiv gave for the same names."""
    known = {person_key(a.name): a.affiliations for a in fetched if a.affiliations}
    return [replace(a, affiliations=known.get(person_key(a.name), a.affiliations)) for a in authors]
