"""Reading paths over random citation graphs stored as Semantic Scholar would give them:
a path always ends, names each paper once, ends at the goal, and (when every paper cites
only older ones) puts every prerequisite before the papers that need it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli import paths
from papercli.models import Paper
from papercli.s2 import LinkList, S2Link, S2Paper
from papercli.store import connection, graph, library, papers
from papercli.store.base import transaction

AT = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("graph") / "papers.db"
    db = connection.open_database(path, paths.seed_path())
    yield db
    db.close()


def catalogue(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(id, arXiv id, date) of the catalogue's arXiv papers, oldest first."""
    return conn.execute(
        "SELECT id, arxiv_id, date FROM papers WHERE arxiv_id IS NOT NULL ORDER BY date, id"
    ).fetchall()


def record(arxiv_id: str) -> S2Paper:
    return S2Paper(
        f"{abs(hash(arxiv_id)):040x}"[:40], None, arxiv_id, None, arxiv_id, 2020, [], "", 1
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_paths_over_random_reference_graphs(conn: sqlite3.Connection, data: st.DataObject) -> None:
    papers = catalogue(conn)
    older_only = data.draw(st.booleans(), label="older_only")
    with transaction(conn, keep=False):  # every example starts from the catalogue alone
        graph.store_papers(conn, [record(a) for _, a, _ in papers], AT)
        for index, (_, arxiv_id, _) in enumerate(papers):
            pool = papers[:index] if older_only else papers
            if not pool:
                continue
            cited = data.draw(st.lists(st.sampled_from(pool), max_size=6), label=arxiv_id)
            links = [S2Link(record(a), data.draw(st.booleans()), []) for _, a, _ in cited]
            graph.store_links(
                conn,
                record(arxiv_id).paper_id,
                "references",
                LinkList(links, len(links), 0, False),
                AT,
            )
        goal = data.draw(st.sampled_from(papers))[0]
        path = [pid for ids in library.reading_path(conn, goal) for pid in ids]
        assert path[-1] == goal
        assert len(path) == len(set(path))
        if older_only:
            place = {pid: i for i, pid in enumerate(path)}
            for pid, links in graph.prerequisites_of(conn, path).items():
                for link in links:
                    assert link.prereq_id in place
                    assert place[link.prereq_id] < place[pid]


def test_a_paper_without_an_arxiv_id_is_its_record_by_doi_in_any_case(tmp_path) -> None:
    """Semantic Scholar stores DOIs in lower case; the list keeps the publisher's."""
    db = connection.open_database(tmp_path / "papers.db", paths.seed_path())
    ssrn, other = "a" * 40, "b" * 40
    with transaction(db):
        papers.insert_paper(
            db,
            Paper(id="ssrn", title="Efficient markets", short_name="", year=2001,
                  date="2001-12-01", doi="10.2139/SSRN.288970", origin="user"),
        )  # fmt: skip
        graph.store_papers(
            db,
            [S2Paper(ssrn, None, None, "10.2139/ssrn.288970", "Efficient markets", 2001, [], "", 1),
             S2Paper(other, None, None, "10.1/other", "Other", 2001, [], "", 1)],
            AT,
        )  # fmt: skip
    assert graph.papers_for(db, [ssrn, other]) == {ssrn: "ssrn"}
    db.close()
