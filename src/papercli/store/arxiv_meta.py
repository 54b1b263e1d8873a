"""What ``fetch`` and ``add`` learnt from arXiv (arxiv_meta and arxiv_authors), kept
apart from the curated facts in papers and from the user's own state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from papercli.models import ArxivRecord, Author, Paper
from papercli.names import name_key
from papercli.store.base import IN_IDS, id_list, optional_text


def store_arxiv_record(
    conn: sqlite3.Connection, paper_id: str, record: ArxivRecord, fetched_at: str
) -> None:
    """Save (or replace) what arXiv says about a paper; call inside a transaction."""
    store_arxiv_records(conn, [(paper_id, record)], fetched_at)


def store_arxiv_records(
    conn: sqlite3.Connection, records: Sequence[tuple[str, ArxivRecord]], fetched_at: str
) -> None:
    """``store_arxiv_record`` of each (paper id, record), a statement per table for all."""
    import json  # not at the top: `list` loads this module, and starts ~2 ms sooner without json

    conn.executemany(
        "INSERT OR REPLACE INTO arxiv_meta (paper_id, arxiv_id, version, title, abstract,"
        " published, updated, primary_category, categories, dois, journal_ref, comment,"
        " abs_url, pdf_url, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
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
            )
            for paper_id, record in records
        ],
    )
    conn.executemany(
        "DELETE FROM arxiv_authors WHERE paper_id = ?", [(paper_id,) for paper_id, _ in records]
    )
    conn.executemany(
        "INSERT INTO arxiv_authors (paper_id, position, name, affiliations) VALUES (?, ?, ?, ?)",
        [
            (paper_id, i, a.name, json.dumps(list(a.affiliations), ensure_ascii=False))
            for paper_id, record in records
            for i, a in enumerate(record.authors)
        ],
    )


def arxiv_record(conn: sqlite3.Connection, paper_id: str) -> tuple[ArxivRecord, str] | None:
    """What was last fetched from arXiv for a paper, and when; None if never."""
    return arxiv_records(conn, [paper_id]).get(paper_id)


def arxiv_records(
    conn: sqlite3.Connection, paper_ids: Sequence[str]
) -> dict[str, tuple[ArxivRecord, str]]:
    """``arxiv_record`` of each of these papers fetched ever: a query per table for them
    all (a paper at a time, they were a fifth of a keep's time)."""
    import json

    arg = (id_list(paper_ids),)
    authors: dict[str, list[Author]] = {}
    for paper_id, name, affiliations in conn.execute(
        f"SELECT paper_id, name, affiliations FROM arxiv_authors WHERE paper_id {IN_IDS}"
        " ORDER BY paper_id, position",
        arg,
    ):
        authors.setdefault(paper_id, []).append(Author(str(name), tuple(json.loads(affiliations))))
    found: dict[str, tuple[ArxivRecord, str]] = {}
    for row in conn.execute(
        "SELECT paper_id, arxiv_id, version, title, abstract, published, updated,"
        " primary_category, categories, dois, journal_ref, comment, abs_url, pdf_url, fetched_at"
        f" FROM arxiv_meta WHERE paper_id {IN_IDS}",
        arg,
    ):
        (paper_id, arxiv_id, version, title, abstract, published, updated, primary) = row[:8]
        categories, dois, journal_ref, comment, abs_link, pdf_link, fetched_at = row[8:]
        record = ArxivRecord(
            arxiv_id=str(arxiv_id),
            version=int(version),
            title=str(title),
            abstract=str(abstract),
            authors=authors.get(paper_id, []),
            published=str(published),
            updated=str(updated),
            primary_category=optional_text(primary),
            categories=json.loads(categories),
            dois=json.loads(dois),
            journal_ref=optional_text(journal_ref),
            comment=optional_text(comment),
            abs_url=str(abs_link),
            pdf_url=optional_text(pdf_link),
        )
        found[str(paper_id)] = record, str(fetched_at)
    return found


def fill_arxiv_all(conn: sqlite3.Connection, papers: Sequence[Paper]) -> None:
    """Copy the fetched arXiv metadata, if any, into each paper's arXiv fields, and a
    newer version announced in a daily listing since then: a query per table for them
    all (a paper at a time, three queries each)."""
    ids = [paper.id for paper in papers]
    announced = {
        str(paper_id): (int(version), str(day))
        for paper_id, version, day in conn.execute(
            f"SELECT paper_id, version, announced FROM announced_versions WHERE paper_id {IN_IDS}",
            (id_list(ids),),
        )
    }
    fetched = arxiv_records(conn, ids)
    for paper in papers:
        _fill(paper, fetched.get(paper.id), announced.get(paper.id))


def _fill(
    paper: Paper, fetched: tuple[ArxivRecord, str] | None, announced: tuple[int, str] | None
) -> None:
    if fetched is None:
        if announced is not None:
            paper.arxiv_version, paper.arxiv_updated = announced
        return
    record, paper.fetched_at = fetched
    paper.arxiv_authors = record.authors
    paper.abstract = record.abstract
    paper.primary_category = record.primary_category or paper.primary_category
    paper.categories = record.categories
    paper.dois = record.dois
    paper.journal_ref = record.journal_ref
    paper.comment = record.comment
    paper.arxiv_version = record.version
    paper.arxiv_updated = record.updated
    if announced is not None and announced[0] > record.version:
        paper.arxiv_version, paper.arxiv_updated = announced


def ids_with_arxiv_id(conn: sqlite3.Connection, *, never_fetched: bool = False) -> Iterator[str]:
    """Papers that arXiv can tell about, oldest first; only those never fetched if asked.
    Read them to the end before writing: they come as SQLite reads them."""
    sql = "SELECT id FROM papers WHERE arxiv_id IS NOT NULL"
    if never_fetched:
        sql += " AND id NOT IN (SELECT paper_id FROM arxiv_meta)"
    return (str(pid) for (pid,) in conn.execute(sql + " ORDER BY date, id"))


def arxiv_ids_and_titles(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, tuple[str | None, str]]:
    """(arXiv id or None, title) for each paper id that exists."""
    return {
        str(pid): (optional_text(arxiv_id), str(title))
        for pid, arxiv_id, title in conn.execute(
            f"SELECT id, arxiv_id, title FROM papers WHERE id {IN_IDS}", (id_list(ids),)
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
