"""Keeping inbox items adds their papers a chunk at a time, together: the same ids,
citation keys, rows, search documents and undo steps as adding them one by one (what
the test keeps), in chunks of one to a thousand items, a few or many added at once."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli import inbox, paths
from papercli.fetching import new_paper
from papercli.models import ArxivRecord, Author, ListingItem, Paper
from papercli.records import replace
from papercli.store import arxiv_meta, changes, connection, library, papers, scratch
from papercli.store import inbox as stored
from papercli.store.base import transaction

NOW = "2026-12-04T01:02:03Z"
# Titles whose short names and first words collide, with each other and the catalogue's
# ("LoRA"), and one with no words for an id ("paper").
TITLES = [
    "LoRA: Low-Rank Adaptation of Large Language Models",
    "LoRA: Low-Rank Adaptation, again",
    "Attention Is All You Need",
    "Müller's lemma: a note",
    "???",
]
AUTHORS = [
    Author("Edward J. Hu"),
    Author("Ashish Vaswani", ("Google Brain, Mountain View",)),
    Author("Jane Müller"),
]


def one_by_one(
    conn: sqlite3.Connection,
    batch: int,
    records: list[tuple[str, ArxivRecord]],
    topic_names: list[str],
    now: str,
) -> list[Paper]:
    """The papers added as ``add`` adds one: made, inserted, their arXiv record stored and
    their undo step recorded, each before the next is made."""
    added = []
    for arxiv_id, record in records:
        paper = new_paper(conn, arxiv_id, record, None, topic_names)
        paper.added_at = now
        paper.citation_key = papers.insert_paper(conn, paper)
        arxiv_meta.store_arxiv_record(conn, paper.id, record, now)
        changes.record_added(conn, batch, [paper.id])
        added.append(paper)
    return added


def contents(path: Path) -> list[object]:
    """Every row of every table (the search index's as its documents), in order."""
    conn = sqlite3.connect(path)
    rows: list[object] = []
    shadow = ("paper_search_", "note_search_", "inbox_search_", "inbox_terms", "sqlite_")
    tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    for (table,) in tables.fetchall():
        if table.startswith(shadow):
            continue
        try:
            found = conn.execute(f"SELECT rowid, * FROM {table} ORDER BY 1").fetchall()
        except sqlite3.OperationalError:  # WITHOUT ROWID
            found = sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
        rows += [table, *found]
    for word in ("lora", "muller", "vaswani", "google"):
        rows.append(
            conn.execute(
                "SELECT rowid FROM paper_search WHERE paper_search MATCH ? ORDER BY rowid", (word,)
            ).fetchall()
        )
    conn.close()
    return rows


def keep_and_undo(path: Path, ids: list[str], queue: bool, tags: list[str]) -> list[object]:
    conn = connection.open_database(path, paths.seed_path())
    with inbox.keep(conn, ids, queue=queue, tags=tags) as summary:
        report = [*summary.added(), *summary.existing(), *summary.queued()]
    conn.close()
    kept = contents(path)
    conn = connection.open_database(path, paths.seed_path())
    library.undo(conn)
    conn.close()
    return [report, kept, contents(path)]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(TITLES),
            st.lists(st.sampled_from(AUTHORS), min_size=1, max_size=3, unique=True),
            st.sampled_from(["new", "replace"]),
        ),
        min_size=1,
        max_size=14,
    ),
    st.sampled_from([(1, 100), (3, 100), (1000, 2), (1000, 100)]),
    st.booleans(),
    st.sampled_from([[], ["to-read"], ["a", "b"]]),
    st.booleans(),
)
def test_keeping_together_adds_what_adding_one_by_one_adds(
    monkeypatch: pytest.MonkeyPatch,
    items: list[tuple[str, list[Author], str]],
    sizes: tuple[int, int],
    queue: bool,
    tags: list[str],
    with_a_paper_in_the_list: bool,
) -> None:
    monkeypatch.setattr(library, "clock", lambda: NOW)
    chunk, together = sizes  # items a keep reads at once, and new papers added at once
    monkeypatch.setattr(scratch, "CHUNK", chunk)
    monkeypatch.setattr(inbox, "ADDED_TOGETHER", together)
    with tempfile.TemporaryDirectory() as folder:
        together, alone = Path(folder, "together.db"), Path(folder, "alone.db")
        conn = connection.open_database(together, paths.seed_path())
        listing = [
            ListingItem(
                arxiv_id=f"2412.{n:05d}",
                version=1 + (kind == "replace"),
                title=title,
                authors=people,
                abstract=f"{title} abstract {n}",
                categories=["cs.CL"],
                announce_type=kind,
                announced="2024-12-02",
            )
            for n, (title, people, kind) in enumerate(items, start=1)
        ]
        if with_a_paper_in_the_list:  # its item is kept as the paper it already is
            (arxiv_id,) = conn.execute(
                "SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL ORDER BY id LIMIT 1"
            ).fetchone()
            listing.insert(len(listing) // 2, replace(listing[0], arxiv_id=arxiv_id))
        with transaction(conn):
            stored.add_items(conn, [(item, ["llm"]) for item in listing], NOW)
        conn.close()
        shutil.copy(together, alone)
        ids = [item.arxiv_id for item in listing]
        kept_together = keep_and_undo(together, ids, queue, tags)
        with monkeypatch.context() as patch:
            patch.setattr(inbox, "_add", one_by_one)
            kept_alone = keep_and_undo(alone, ids, queue, tags)
        assert kept_together == kept_alone
