"""The citation graph Semantic Scholar told papercli about, and prerequisite links.

s2_papers holds the papers it described, s2_links who cites whom (with its influence
flag and citation intents), s2_lookups which reference and citation lists were fetched.
A paper in the list is matched to its Semantic Scholar record by arXiv id, else by DOI
(the paper_s2 view). A paper's prerequisites are the catalogue's curated links, the
links the user added (user_prereqs), and for a paper without curated links the papers
in the list it cites, ranked by influence and intent: the suggested links. A link the
user removed or rejected is never suggested again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from papercli import TYPE_CHECKING
from papercli.records import datarecord, replace
from papercli.store import changes
from papercli.store.base import IN_IDS, id_list
from papercli.store.scratch import CHUNK

if TYPE_CHECKING:
    from typing import Any

    from papercli.s2 import LinkList, S2Paper

SUGGESTED_MAX = 5  # suggested prerequisites per paper
DIRECTIONS = ("references", "citations")
# Methodology and background references say more about what to read first than results.
_INTENT_RANK = {"methodology": 0, "background": 1, "result": 2}


# -- storing what Semantic Scholar said ------------------------------------------------


def store_papers(conn: sqlite3.Connection, found: Iterable[S2Paper], at: str) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO s2_papers (s2_id, corpus_id, arxiv_id, doi, title, year,"
        " authors, venue, citation_count, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                p.paper_id,
                p.corpus_id,
                p.arxiv_id,
                p.doi,
                p.title,
                p.year,
                json.dumps(p.authors, ensure_ascii=False),
                p.venue,
                p.citation_count,
                at,
            )
            for p in found
        ),
    )


def store_links(
    conn: sqlite3.Connection, s2_id: str, direction: str, found: LinkList, at: str
) -> None:
    """Save a paper's references (replacing those stored) or citations (adding to them),
    and when they were fetched; call inside a transaction."""
    store_papers(conn, (link.paper for link in found.links), at)
    if direction == "references":
        conn.execute("DELETE FROM s2_links WHERE citing = ?", (s2_id,))
    # An edge listed twice is one, with what either copy says (the last copy, kept alone,
    # lost the first's influence flag and intents).
    edges: dict[tuple[str, str], tuple[bool, list[str]]] = {}
    for link in found.links:
        other = link.paper.paper_id
        edge = (s2_id, other) if direction == "references" else (other, s2_id)
        influential, intents = edges.get(edge, (False, []))
        edges[edge] = (influential or link.influential, list(dict.fromkeys(intents + link.intents)))
    conn.executemany(
        "INSERT OR REPLACE INTO s2_links (citing, cited, influential, intents) VALUES (?, ?, ?, ?)",
        (
            (citing, cited, int(influential), json.dumps(intents))
            for (citing, cited), (influential, intents) in edges.items()
            if citing != cited  # a paper listed among its own references
        ),
    )
    conn.execute(
        "INSERT OR REPLACE INTO s2_lookups (s2_id, direction, fetched_at, count, truncated)"
        " VALUES (?, ?, ?, ?, ?)",
        (s2_id, direction, at, len(found.links), int(found.truncated)),
    )


def mark_unknown(conn: sqlite3.Connection, ref: str, at: str) -> None:
    conn.execute("INSERT OR REPLACE INTO s2_unknown (ref, asked_at) VALUES (?, ?)", (ref, at))


def forget_unknown(conn: sqlite3.Connection, ref: str) -> None:
    conn.execute("DELETE FROM s2_unknown WHERE ref = ?", (ref,))


def is_unknown(conn: sqlite3.Connection, ref: str) -> str | None:
    """When Semantic Scholar said it does not know ``ref``, if it did."""
    row = conn.execute("SELECT asked_at FROM s2_unknown WHERE ref = ?", (ref,)).fetchone()
    return None if row is None else str(row[0])


# -- finding records -------------------------------------------------------------------


def paper_with_arxiv_id(conn: sqlite3.Connection, arxiv_id: str) -> tuple[str, str | None] | None:
    """(id, DOI) of the paper in the list with this arXiv id; None if there is none."""
    row = conn.execute("SELECT id, doi FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
    return None if row is None else (str(row[0]), row[1])


def identifiers(conn: sqlite3.Connection, paper_id: str) -> tuple[str | None, str | None]:
    """(arXiv id, DOI) of a paper in the list: what Semantic Scholar can be asked by."""
    arxiv_id, doi = conn.execute(
        "SELECT arxiv_id, doi FROM papers WHERE id = ?", (paper_id,)
    ).fetchone()
    return arxiv_id, doi


def askable_papers(conn: sqlite3.Connection, *, looked_up: bool = True) -> Iterator[str]:
    """Every paper with an arXiv id or DOI, oldest first, as SQLite reads them; without
    ``looked_up``, only those whose references were never fetched. Read them to the end
    before writing."""
    sql = "SELECT id FROM papers WHERE (arxiv_id IS NOT NULL OR doi IS NOT NULL)"
    if not looked_up:
        sql += (
            " AND id NOT IN (SELECT ps.paper_id FROM paper_s2 ps"
            " JOIN s2_lookups k ON k.s2_id = ps.s2_id WHERE k.direction = 'references')"
        )
    return (str(pid) for (pid,) in conn.execute(sql + " ORDER BY date, id"))


def identifiers_of(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> list[tuple[str, str | None, str | None]]:
    """(id, arXiv id, DOI) of each of the papers, in the order given."""
    found = {
        str(pid): (arxiv_id, doi)
        for pid, arxiv_id, doi in conn.execute(
            f"SELECT id, arxiv_id, doi FROM papers WHERE id {IN_IDS}", (id_list(ids),)
        )
    }
    return [(pid, *found[pid]) for pid in ids if pid in found]


def step_fields(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, tuple[str | None, str, int, str]]:
    """(arXiv id, title, year, status) of each of the papers, by id: what a reading path
    shows of a paper in the list."""
    return {
        str(pid): (None if arxiv_id is None else str(arxiv_id), str(title), int(year), str(status))
        for pid, arxiv_id, title, year, status in conn.execute(
            "SELECT p.id, p.arxiv_id, p.title, p.year, coalesce(s.status, 'unread') FROM papers p"
            f" LEFT JOIN reading_state s ON s.paper_id = p.id WHERE p.id {IN_IDS}",
            (id_list(ids),),
        )
    }


def read_count(conn: sqlite3.Connection, ids: Sequence[str]) -> int:
    """How many of the papers are read (``+status``: by their ids, not every paper read)."""
    query = f"SELECT count(*) FROM reading_state WHERE paper_id {IN_IDS} AND +status = 'read'"
    return int(conn.execute(query, (id_list(ids),)).fetchone()[0])


def dates_of(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, str]:
    return dict(
        conn.execute(f"SELECT id, date FROM papers WHERE id {IN_IDS}", (id_list(ids),)).fetchall()
    )


def origin_and_curated(conn: sqlite3.Connection, paper_id: str) -> tuple[str, bool]:
    """Where a paper came from (catalogue or user), and whether it has stored links."""
    origin, curated = conn.execute(
        "SELECT origin, EXISTS (SELECT 1 FROM prerequisites WHERE paper_id = id)"
        " FROM papers WHERE id = ?",
        (paper_id,),
    ).fetchone()
    return str(origin), bool(curated)


def s2_id_for(conn: sqlite3.Connection, *, arxiv_id: str | None, doi: str | None) -> str | None:
    """The stored record of a paper with this arXiv id (else this DOI), if any."""
    if arxiv_id:
        row = conn.execute("SELECT s2_id FROM s2_papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
        if row:
            return str(row[0])
    if doi:
        row = conn.execute("SELECT s2_id FROM s2_papers WHERE doi = ?", (doi.lower(),)).fetchone()
        if row:
            return str(row[0])
    return None


def s2_record(conn: sqlite3.Connection, s2_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT s2_id, arxiv_id, doi, title, year, authors, venue, citation_count"
        " FROM s2_papers WHERE s2_id = ?",
        (s2_id,),
    ).fetchone()
    if row is None:
        return None
    keys = ("s2_id", "arxiv_id", "doi", "title", "year", "authors", "venue", "citation_count")
    record = dict(zip(keys, row, strict=True))
    record["authors"] = json.loads(record["authors"])
    return record


def lookup_of(conn: sqlite3.Connection, s2_id: str, direction: str) -> tuple[str, int, bool] | None:
    """When a paper's references or citations were fetched, how many, and whether cut."""
    row = conn.execute(
        "SELECT fetched_at, count, truncated FROM s2_lookups WHERE s2_id = ? AND direction = ?",
        (s2_id, direction),
    ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]), bool(row[2]))


@datarecord(frozen=True)
class LinkedPaper:
    """A paper at the other end of a citation, and where it is in the user's list."""

    s2_id: str
    paper_id: str | None  # papercli's id when the paper is in the list
    arxiv_id: str | None
    doi: str | None
    title: str
    year: int | None
    citation_count: int | None
    status: str | None  # the user's status when in the list
    influential: bool
    intents: list[str]


def linked(conn: sqlite3.Connection, s2_id: str, direction: str) -> list[LinkedPaper]:
    """A paper's stored references (papers it cites) or citations (papers citing it)."""
    near, far = ("citing", "cited") if direction == "references" else ("cited", "citing")
    rows = conn.execute(
        f"SELECT s.s2_id, s.arxiv_id, s.doi, s.title, s.year, s.citation_count,"
        f" l.influential, l.intents FROM s2_links l JOIN s2_papers s ON s.s2_id = l.{far}"
        f" WHERE l.{near} = ? ORDER BY s.s2_id",  # one order: which of two records is first
        (s2_id,),
    ).fetchall()
    in_list = papers_for(conn, [str(row[0]) for row in rows])
    statuses = dict(
        conn.execute(
            "SELECT paper_id, status FROM reading_state"
            " WHERE paper_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(in_list.values())),),
        ).fetchall()
    )
    found: dict[str, LinkedPaper] = {}
    home: dict[str, str] = {}  # each name a record goes by -> the line it is on
    for s2, arxiv_id, doi, title, year, cited, influential, intents in rows:
        paper_id = in_list.get(str(s2))
        linked_paper = LinkedPaper(
            str(s2),
            paper_id,
            None if arxiv_id is None else str(arxiv_id),
            None if doi is None else str(doi),
            str(title),
            None if year is None else int(year),
            None if cited is None else int(cited),
            None if paper_id is None else str(statuses.get(paper_id, "unread")),
            bool(influential),
            list(json.loads(intents)),
        )
        # Two records of one paper (Semantic Scholar has some) are one line: `refs` showed
        # `[ ] adam` twice and counted it twice. A record is one paper's if it shares any
        # name with it (one with an arXiv id and a DOI, another with the DOI alone).
        names = [
            name
            for name in (
                paper_id and f"id:{paper_id}",
                arxiv_id and f"arXiv:{arxiv_id}",
                doi and f"doi:{str(doi).lower()}",
            )
            if name
        ] or [f"s2:{s2}"]
        key = next((home[name] for name in names if name in home), names[0])
        for name in names:
            home.setdefault(name, key)
        first = found.get(key)
        found[key] = linked_paper if first is None else _merged(first, linked_paper)
    return list(found.values())


def _intent_rank(intent: str) -> tuple[int, str]:
    return _INTENT_RANK.get(intent, 3), intent


def _merged(first: LinkedPaper, second: LinkedPaper) -> LinkedPaper:
    """One paper's two records as one: the first's, with what either says of the link."""
    return replace(
        first,
        influential=first.influential or second.influential,
        intents=sorted(set(first.intents + second.intents), key=_intent_rank),
        citation_count=max(
            (c for c in (first.citation_count, second.citation_count) if c is not None),
            default=None,
        ),
    )


def papers_for(conn: sqlite3.Connection, s2_ids: Sequence[str]) -> dict[str, str]:
    """The paper in the list each Semantic Scholar record is, where there is one: by arXiv
    id, else (for a paper without one) by DOI. ``+s.doi``: compared with the column's
    text affinity, ``lower(p.doi)`` cannot use its index, and SQLite read every paper."""
    wanted = json.dumps(list(s2_ids))
    return {
        str(s2): str(pid)
        for s2, pid in conn.execute(
            "SELECT s.s2_id, p.id FROM s2_papers s JOIN papers p ON p.arxiv_id = s.arxiv_id"
            " WHERE s.s2_id IN (SELECT value FROM json_each(?))"
            " UNION ALL SELECT s.s2_id, p.id FROM s2_papers s JOIN papers p"
            " ON lower(p.doi) = +s.doi AND p.arxiv_id IS NULL"
            " WHERE s.s2_id IN (SELECT value FROM json_each(?))",
            (wanted, wanted),
        )
    }


def influence_order(paper: LinkedPaper) -> tuple[int, int, int, str, str]:
    """Most influential first: the influence flag, then the intent (methodology and
    background first), then how cited the paper is; then by title and Semantic Scholar id,
    so that papers alike in all that (two records of one title) have one order too, not
    the order a query plan reads them in."""
    intent = min((_INTENT_RANK.get(i, 3) for i in paper.intents), default=3)
    cited = -(paper.citation_count or 0)
    return (not paper.influential, intent, cited, paper.title.casefold(), paper.s2_id)


def citation_order(paper: LinkedPaper) -> tuple[int, str, str]:
    """Most cited first, then by title and Semantic Scholar id (a full order)."""
    return (-(paper.citation_count or 0), paper.title.casefold(), paper.s2_id)


# -- prerequisites -----------------------------------------------------------------------


@datarecord(frozen=True)
class Prerequisite:
    prereq_id: str
    kind: str  # curated | yours | suggested


def prerequisites_of(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[Prerequisite]]:
    """Each paper's prerequisites: curated links (oldest first), the user's own, and for a
    paper without curated links up to SUGGESTED_MAX suggested from its references; never
    one the user removed or rejected, never the paper itself, each once."""
    wanted = json.dumps(list(ids))
    curated: dict[str, list[str]] = {}
    for paper_id, prereq_id in conn.execute(
        "SELECT r.paper_id, r.prereq_id FROM prerequisites r JOIN papers p ON p.id = r.prereq_id"
        " WHERE r.paper_id IN (SELECT value FROM json_each(?)) ORDER BY p.date, p.id",
        (wanted,),
    ):
        curated.setdefault(str(paper_id), []).append(str(prereq_id))
    own: dict[str, list[str]] = {}
    removed: set[tuple[str, str]] = set()
    for paper_id, prereq_id, state in conn.execute(
        "SELECT u.paper_id, u.prereq_id, u.state FROM user_prereqs u JOIN papers p"
        " ON p.id = u.prereq_id WHERE u.paper_id IN (SELECT value FROM json_each(?))"
        " ORDER BY p.date, p.id",
        (wanted,),
    ):
        if state == "removed":
            removed.add((str(paper_id), str(prereq_id)))
        else:
            own.setdefault(str(paper_id), []).append(str(prereq_id))
    suggested = suggestions(conn, [pid for pid in ids if pid not in curated])
    result: dict[str, list[Prerequisite]] = {}
    for pid in ids:
        links: dict[str, Prerequisite] = {}
        for kind, found in (
            ("curated", curated.get(pid, [])),
            ("yours", own.get(pid, [])),
            ("suggested", suggested.get(pid, [])),
        ):
            for prereq in found:
                if prereq != pid and (pid, prereq) not in removed:
                    links.setdefault(prereq, Prerequisite(prereq, kind))
        result[pid] = list(links.values())
    return result


def suggestions(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """The papers in the list each paper cites, most influential first, at most
    SUGGESTED_MAX, leaving out those the user removed or rejected."""
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT ps.paper_id, l.cited, l.influential, l.intents, coalesce(s.citation_count, 0)"
        " FROM paper_s2 ps JOIN s2_links l ON l.citing = ps.s2_id"
        " JOIN s2_papers s ON s.s2_id = l.cited"
        " WHERE ps.paper_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(ids)),),
    ).fetchall()
    in_list = papers_for(conn, list({str(row[1]) for row in rows}))
    removed = {
        (str(a), str(b))
        for a, b in conn.execute(
            "SELECT paper_id, prereq_id FROM user_prereqs WHERE state = 'removed'"
            " AND paper_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(ids)),),
        )
    }
    ranked: dict[str, list[tuple[tuple[int, int, int], str]]] = {}
    for paper_id, cited, influential, intents, count in rows:
        prereq = in_list.get(str(cited))
        if prereq is None or prereq == paper_id or (paper_id, prereq) in removed:
            continue
        intent = min((_INTENT_RANK.get(i, 3) for i in json.loads(intents)), default=3)
        ranked.setdefault(str(paper_id), []).append(((-influential, intent, -count), prereq))
    return {
        pid: list(dict.fromkeys(prereq for _, prereq in sorted(found)))[:SUGGESTED_MAX]
        for pid, found in ranked.items()
    }


def user_prereqs(conn: sqlite3.Connection, paper_id: str) -> dict[str, tuple[str, str]]:
    """The user's links from a paper: each prerequisite's state and when it was set."""
    return {
        str(prereq): (str(state), str(at))
        for prereq, state, at in conn.execute(
            "SELECT prereq_id, state, at FROM user_prereqs WHERE paper_id = ?", (paper_id,)
        )
    }


def user_links(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[UserLink]]:
    """The links the user added or removed from each of the papers that has any, to
    papers in the list, by prerequisite id: one query for a chunk of papers (an export's,
    an import's), through the table's key."""
    found: dict[str, list[UserLink]] = {}
    for paper_id, prereq_id, state, at in conn.execute(
        "SELECT u.paper_id, u.prereq_id, u.state, u.at FROM user_prereqs u"
        f" WHERE u.paper_id {IN_IDS} AND EXISTS (SELECT 1 FROM papers p WHERE p.id = u.prereq_id)"
        " ORDER BY u.paper_id, u.prereq_id",
        (id_list(ids),),
    ):
        found.setdefault(str(paper_id), []).append(UserLink(str(prereq_id), str(state), str(at)))
    return found


@datarecord(frozen=True)
class UserLink:
    """A link the user added or removed from a paper, and when."""

    prereq_id: str
    state: str  # added | removed
    at: str


def set_prereqs(
    conn: sqlite3.Connection, batch: int, paper_id: str, states: dict[str, str | None], at: str
) -> None:
    """Set the user's link from ``paper_id`` to each paper: added, removed, or none (back
    to what the catalogue and the suggestions say), as steps of ``batch``."""
    before = user_prereqs(conn, paper_id)
    for prereq_id, state in states.items():
        old = before.get(prereq_id)
        if (old and old[0]) == state:
            continue
        # The link as it was, with its own time: with this command's, an undo of the one
        # before found the link "changed since" and left it (+bert, -bert, undo, undo).
        was = None if old is None else {"prereq": prereq_id, "state": old[0], "at": old[1]}
        now = None if state is None else {"prereq": prereq_id, "state": state, "at": at}
        record_prereq(conn, batch, paper_id, was, now, prereq_id)


def record_prereq(
    conn: sqlite3.Connection,
    batch: int,
    paper_id: str,
    was: dict[str, str] | None,
    now: dict[str, str] | None,
    prereq_id: str,
) -> None:
    """Set one user link from ``paper_id`` as ``now`` says (None: no link), as a step of
    ``batch`` whose undo puts back ``was``; a sync sends it as it sends every step."""
    set_prereq(conn, paper_id, {"prereq": prereq_id, "value": now})
    changes.record(
        conn, batch, "prereq", paper_id, {"prereq": prereq_id, "value": was},
        {"prereq": prereq_id, "value": now},
    )  # fmt: skip


def set_prereq(conn: sqlite3.Connection, paper_id: str, step: dict[str, Any]) -> None:
    """One user link as a step says (also undo's and redo's step)."""
    value = step["value"]
    conn.execute(
        "DELETE FROM user_prereqs WHERE paper_id = ? AND prereq_id = ?", (paper_id, step["prereq"])
    )
    if value is not None:
        conn.execute(
            "INSERT INTO user_prereqs (paper_id, prereq_id, state, at) VALUES (?, ?, ?, ?)",
            (paper_id, value["prereq"], value["state"], value["at"]),
        )


# -- relatedness -------------------------------------------------------------------------


@datarecord(frozen=True)
class Relation:
    paper_id: str
    score: int  # 3 for citing it, 3 for being cited by it, 1 a shared reference or co-citation
    shared_references: int  # bibliographic coupling
    cited_together: int  # co-citation: stored papers citing both
    cites_it: bool
    cited_by_it: bool


# The paper in the list without an arXiv id that the record ``s`` is by its DOI, the last
# added of several: papers_for's answer, whose DOI rows come last and overwrite.
_BY_DOI = (
    "(SELECT d.id FROM papers d WHERE lower(d.doi) = +s.doi AND d.arxiv_id IS NULL"
    " ORDER BY d.rowid DESC LIMIT 1)"
)

# Every stored record linked to the target (:s2): citing it, cited by it, sharing its
# references (a row per shared reference) or cited with it (a row per paper citing both).
# count(DISTINCT) was not needed: a link is stored once, so each row is another paper.
_LINKED = """
SELECT b.citing AS s2, 1 AS shared, 0 AS together, 0 AS cites_it, 0 AS cited_by_it
    FROM s2_links a JOIN s2_links b ON b.cited = a.cited WHERE a.citing = :s2 AND b.citing != :s2
UNION ALL SELECT b.cited, 0, 1, 0, 0
    FROM s2_links a JOIN s2_links b ON b.citing = a.citing WHERE a.cited = :s2 AND b.cited != :s2
UNION ALL SELECT citing, 0, 0, 1, 0 FROM s2_links WHERE cited = :s2 AND citing != :s2
UNION ALL SELECT cited, 0, 0, 0, 1 FROM s2_links WHERE citing = :s2 AND cited != :s2
"""

# Each linked record summed up, named as the paper in the list it is (the DOI's, else the
# arXiv id's, as papers_for); a paper named by several records takes the numbers of the
# first that papers_for listed (``later``: not found by arXiv id, listed after those
# that are; then by id), through min() taking its row's other columns (SQLite's bare
# columns: a window's row_number() took 15% longer); the target's own paper is left
# out. Then the best, by score and id.
_RELATIONS = f"""
WITH linked AS (
    SELECT s2, sum(shared) AS shared, sum(together) AS together, max(cites_it) AS cites_it,
        max(cited_by_it) AS cited_by_it
    FROM ({_LINKED}) GROUP BY s2
), named AS (
    SELECT l.*, coalesce({_BY_DOI}, a.id) AS pid, a.id IS NULL AS later
    FROM linked l JOIN s2_papers s ON s.s2_id = l.s2 LEFT JOIN papers a ON a.arxiv_id = s.arxiv_id
), chosen AS (
    SELECT pid, shared, together, cites_it, cited_by_it, min(later || s2) FROM named
    WHERE pid IS NOT NULL AND pid IS NOT (
        SELECT coalesce({_BY_DOI}, (SELECT a.id FROM papers a WHERE a.arxiv_id = s.arxiv_id))
        FROM s2_papers s WHERE s.s2_id = :s2
    ) GROUP BY pid
)
SELECT pid, 3 * (cites_it + cited_by_it) + shared + together AS score, shared, together,
    cites_it, cited_by_it
FROM chosen ORDER BY score DESC, pid LIMIT :limit
"""


def relations(conn: sqlite3.Connection, s2_id: str, limit: int | None = None) -> Iterator[Relation]:
    """Papers in the list linked to ``s2_id`` through stored citations, most related first
    and then by id (the first ``limit`` of them, if given), read CHUNK at a time: scored,
    ordered and cut by SQLite, a related paper took 900 bytes of Python objects.

    A paper is its records' as papers_for maps them (a record naming a paper by arXiv id
    and another by DOI is the DOI's), less the target's own paper. A paper with several
    records linked is scored by one of them, not their sum: the first of those papers_for
    finds by arXiv id, else the first of the rest, by Semantic Scholar id (as the dict of
    papers_for came, in the order of the ids asked about)."""
    rows = conn.execute(_RELATIONS, {"s2": s2_id, "limit": -1 if limit is None else limit})
    while chunk := rows.fetchmany(CHUNK):
        for pid, score, shared, together, cites_it, cited_by_it in chunk:
            yield Relation(
                str(pid), int(score), int(shared), int(together), bool(cites_it), bool(cited_by_it)
            )
