"""Full-text search (``papercli search``): ranked matches in paper_search and note_search
(see migrations.M003_SEARCH), with the passage that matched."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, NamedTuple, TypeVar

from papercli.errors import InvalidValueError
from papercli.models import Paper, ReadStatus, Selection
from papercli.names import name_key
from papercli.store.base import IN_IDS, id_list
from papercli.store.fts import fts_query, search_terms, split_unspaced, unspaced_docids
from papercli.store.papers import SUMMARY_COLUMNS, paper_from_row, where_clause
from papercli.store.papers import SUMMARY_WIDTH as W

_STALE = "SELECT paper_id FROM search_stale LIMIT 1000"


@contextmanager
def deferred_documents(conn: sqlite3.Connection) -> Iterator[None]:
    """Inside a transaction: the notes added or removed meanwhile rebuild each paper's
    search document once, at the end, rather than once per note (migrations.M015). The
    row saying so is made and removed inside the transaction; one left by anything else
    is taken over, and its stale papers built too."""
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('search_deferred', '1')")
    yield
    conn.execute("DELETE FROM meta WHERE key = 'search_deferred'")
    while stale := [str(pid) for (pid,) in conn.execute(_STALE)]:
        # Its papers_search_update trigger builds the document, notes and all.
        conn.execute(f"UPDATE papers SET title = title WHERE id {IN_IDS}", (id_list(stale),))
        conn.execute(f"DELETE FROM search_stale WHERE paper_id {IN_IDS}", (id_list(stale),))


RANK_LIMIT = 10_000
"""Past this many matches, show the newest matches unranked: at 1M papers, ranking every
match of the commonest word takes 0.6 s (2.6 s with a tag filter; bench/search_bench.py),
while counting up to this bound takes a millisecond."""


# bm25 weights of title, names, authors, summary, abstract and notes: a title match
# counts most.
_WEIGHTS = "10.0, 8.0, 5.0, 3.0, 1.0, 3.0"


SNIPPET_MAX_CHARS = 4_000
"""FTS5's snippet() weighs every match in a document against every other, so its work grows
with the square of the matches (a 1 MB note of one repeated word took 124 s; 4,000
characters of it take 17 ms). A longer document gets ``_passage`` instead."""

_COLUMNS = ("title", "names", "authors", "summary", "abstract", "notes")  # of paper_search
_SNIPPET = (  # matches in \x02…\x03; NULL for a document too long for snippet()
    f"CASE WHEN {' + '.join(f'length(paper_search.{c})' for c in _COLUMNS)}"
    f" <= {SNIPPET_MAX_CHARS} THEN snippet(paper_search, -1, char(2), char(3), '…', 12) END"
)


class SearchHit(NamedTuple):
    paper: Paper
    snippet: list[tuple[str, bool]]  # the best passage, as (text, is a matched word) parts


Hit = TypeVar("Hit", SearchHit, str)


class SearchResults(NamedTuple, Generic[Hit]):
    hits: Iterable[Hit]  # unranked: read from the match as they are printed
    ranked: bool  # best first; else newest first
    too_many: bool  # more than RANK_LIMIT papers matched (so not ranked)
    total: int | None  # the papers matching the words and filters; None if too_many


def search_papers(
    conn: sqlite3.Connection, words: str, selection: Selection, limit: int
) -> SearchResults[SearchHit]:
    """Papers matching all ``words`` and the list filters in ``selection``, best first,
    each with the passage that matched (``_search``)."""
    results: SearchResults[SearchHit] = _search(conn, words, selection, limit, ids_only=False)
    return results


def search_ids(
    conn: sqlite3.Connection, words: str, selection: Selection, limit: int
) -> SearchResults[str]:
    """The ids alone of what ``search_papers`` finds, in its order: reading nothing else
    of each paper, 490,000 hits take 1.6 s at a million papers rather than 14 s."""
    results: SearchResults[str] = _search(conn, words, selection, limit, ids_only=True)
    return results


def _search(
    conn: sqlite3.Connection, words: str, selection: Selection, limit: int, *, ids_only: bool
) -> Any:
    """Papers matching all ``words`` and the list filters in ``selection``, best first.

    A paper named exactly by the words (short name or alias) comes first. When nothing
    matches, the last word is tried as a prefix ("transf" finds "transformer"). Words in
    Chinese or Japanese also match inside notes; with them, or with more than RANK_LIMIT
    matches, the results come newest first instead of ranked. More than RANK_LIMIT hits
    (a limit past it) are read as they are used, in the same memory at any limit.
    ``ids_only``: each hit is the paper's id (a str), else a SearchHit.
    """
    words = words.replace("\x00", " ")  # FTS5 would read NUL as the end of the query
    if not words.strip():
        raise InvalidValueError("nothing to search for; give some words, e.g. papercli search lora")
    terms = search_terms(words)
    if not terms:
        return SearchResults([], ranked=True, too_many=False, total=0)
    where, params = where_clause(conn, selection)
    filters = where.replace("WHERE", "AND", 1)
    spaced, unspaced = split_unspaced(terms)
    if unspaced:
        hits, found, args = _search_unspaced(
            conn, unspaced, spaced, filters, params, limit, ids_only=ids_only
        )
        total = _total(conn, hits, limit, found, filters, args)
        return SearchResults(hits, ranked=False, too_many=False, total=total)
    # Docids sort by date (see migrations.M003_SEARCH): year filters become a docid range
    # that FTS5 seeks to, rather than a check on every match.
    first = _year_docid(selection.year or selection.since or 0)
    last = _year_docid((selection.year or selection.until or 9999) + 1)
    match = "paper_search MATCH ? AND paper_search.rowid >= ? AND paper_search.rowid < ?"
    count_sql = f"SELECT count(*) FROM (SELECT 1 FROM paper_search WHERE {match} LIMIT ?)"
    query = fts_query(spaced)
    (count,) = conn.execute(count_sql, (query, first, last, RANK_LIMIT + 1)).fetchone()
    if not count and len(spaced[-1]) >= 3:
        # Only now: FTS5 merges every matching word's list for a prefix, ~30 ms at 1M.
        query += "*"
        (count,) = conn.execute(count_sql, (query, first, last, RANK_LIMIT + 1)).fetchone()
    too_many = count > RANK_LIMIT
    # Rows: the paper (its id alone, or SUMMARY_COLUMNS), the snippet, the docid.
    width = 1 if ids_only else W
    select = (
        f"SELECT {'p.id, NULL' if ids_only else f'{SUMMARY_COLUMNS}, {_SNIPPET}'},"
        " paper_search.rowid FROM paper_search"
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
        rows: Iterable[Sequence[Any]] = conn.execute(
            f"{select} {match} {filters} ORDER BY paper_search.rowid DESC LIMIT ?",
            [query, first, last, *params, limit],
        )
    else:
        # A paper named exactly by the words comes first (several of one name oldest
        # first: docids sort by date), then the others by bm25. With
        # ORDER BY rank, FTS5 sorts the match itself and SQLite computes the snippet and
        # the other columns only for the papers shown.
        named = conn.execute(
            f"{select} paper_search.rowid IN (SELECT n.docid FROM paper_names"
            " JOIN search_docs n ON n.paper_id = paper_names.paper_id WHERE key = ?)"
            f" AND {match} {filters} ORDER BY paper_search.rowid",
            [name_key(words), query, first, last, *params],
        ).fetchall()
        best = conn.execute(
            f"{select} {match} {filters} AND rank MATCH ? ORDER BY rank LIMIT ?",
            [query, first, last, *params, f"bm25({_WEIGHTS})", min(limit, count) + len(named)],
        ).fetchall()
        rows = list({row[width + 1]: row for row in named + best}.values())[:limit]

    def hit(row: Sequence[Any]) -> SearchHit | str:
        if ids_only:
            return str(row[0])
        if row[W] is not None:
            snippet = _snippet_parts(str(row[W]))
        else:
            snippet = _passage(conn, int(row[W + 1]), spaced, spaced, _COLUMNS)
        return SearchHit(paper_from_row(row[:W]), snippet)

    if too_many:
        return SearchResults(map(hit, rows), ranked=False, too_many=True, total=None)
    best_first = list(map(hit, rows))  # at most RANK_LIMIT (and the papers named)
    if filters:
        total = _total(conn, best_first, limit, match, filters, [query, first, last, *params])
    else:  # every match is a paper, so the count above is the total
        total = count
    return SearchResults(best_first, ranked=True, too_many=False, total=total)


def _total(
    conn: sqlite3.Connection,
    hits: Sequence[object],
    limit: int,
    found: str,
    filters: str,
    args: list[object],
) -> int:
    """How many papers the search found in all: the hits when fewer than ``limit`` (then
    they are all), else a count of the matches (at most RANK_LIMIT) the filters pass."""
    if len(hits) < limit:
        return len(hits)
    (count,) = conn.execute(
        "SELECT count(*) FROM paper_search JOIN search_docs d ON d.docid = paper_search.rowid"
        " JOIN papers p ON p.id = d.paper_id LEFT JOIN reading_state s ON s.paper_id = p.id"
        f" WHERE {found} {filters}",
        args,
    ).fetchone()
    return int(count)


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


def _search_unspaced(
    conn: sqlite3.Connection,
    unspaced: Sequence[str],
    spaced: Sequence[str],
    filters: str,
    params: list[object],
    limit: int,
    *,
    ids_only: bool,
) -> tuple[list[SearchHit] | list[str], str, list[object]]:
    """Papers having each unspaced word as a token or inside a note, and the spaced words
    as tokens, newest first; and the condition that finds them, with its arguments (the
    filters' after the words'), for counting them all."""
    candidates: list[str] = []
    args: list[object] = []
    for term in unspaced:
        sql, term_args = unspaced_docids(term)
        candidates.append(sql)
        args += term_args
    # The few papers the unspaced words pick, checked while reading the other words' match.
    found = f"paper_search.rowid IN ({' INTERSECT '.join(candidates)})"
    if spaced:
        found = f"paper_search MATCH ? AND +{found}"
        args.insert(0, fts_query(spaced))
    sql = (
        f"SELECT {'p.id' if ids_only else SUMMARY_COLUMNS}, paper_search.rowid FROM paper_search"
        " JOIN search_docs d ON d.docid = paper_search.rowid JOIN papers p ON p.id = d.paper_id"
        f" LEFT JOIN reading_state s ON s.paper_id = p.id WHERE {found} {filters}"
        " ORDER BY paper_search.rowid DESC LIMIT ?"
    )
    # Notes first: that is where an unspaced word is found inside a sentence.
    columns = ("notes", *_COLUMNS[:-1])
    rows = conn.execute(sql, [*args, *params, limit]).fetchall()
    if ids_only:
        return [str(row[0]) for row in rows], found, [*args, *params]
    hits = [
        SearchHit(
            paper_from_row(row[:W]),
            _passage(conn, int(row[W]), unspaced, [*unspaced, *spaced], columns),
        )
        for row in rows
    ]
    return hits, found, [*args, *params]


def _snippet_parts(marked: str) -> list[tuple[str, bool]]:
    """FTS5's snippet, matches between \\x02 and \\x03, as (text, is a match) parts."""
    pieces = re.split("[\x02\x03]", " ".join(marked.split()))
    return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]


def _passage(
    conn: sqlite3.Connection,
    docid: int,
    anchors: Sequence[str],
    words: Sequence[str],
    columns: Sequence[str],
    width: int = 60,
) -> list[tuple[str, bool]]:
    """The ``width`` characters around the first of the ``anchors`` in the first of the
    ``columns`` that has one (else the title's start), with all ``words`` marked: what
    FTS5's snippet shows, for words it cannot mark (unspaced ones) or a document too long
    for it. SQLite finds the place (instr, ASCII case aside) and hands over the passage
    alone, so the work done here does not grow with the text."""
    finds = ", ".join(f"instr(lower({column}), lower(?))" for column in columns for _ in anchors)
    places = conn.execute(
        f"SELECT {finds} FROM paper_search WHERE rowid = ?",
        [*(anchor for _ in columns for anchor in anchors), docid],
    ).fetchone()
    column, place = "title", 1
    for i, name in enumerate(columns):
        found = [p for p in places[i * len(anchors) : (i + 1) * len(anchors)] if p]
        if found:
            column, place = name, min(found)
            break
    start = max(place - width // 3, 1)  # SQLite counts characters from 1
    text, length = conn.execute(
        f"SELECT substr({column}, ?, ?), length({column}) FROM paper_search WHERE rowid = ?",
        (start, width, docid),
    ).fetchone()
    passage = " ".join(str(text).split())
    longest_first = sorted(words, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, longest_first)), re.IGNORECASE)
    parts: list[tuple[str, bool]] = [("…", False)] if start > 1 else []
    position = 0
    for match in pattern.finditer(passage):
        parts += [(passage[position : match.start()], False), (match.group(), True)]
        position = match.end()
    parts.append((passage[position:], False))
    if start - 1 + width < int(length):
        parts.append(("…", False))
    return [(piece, hit) for piece, hit in parts if piece]
