"""Breaking the prerequisite cycles an imported file may claim, on random graphs: what is
left has no cycle, and each link dropped was needed to break one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli import paths
from papercli.store import connection, library, papers


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("cycles") / "papers.db"
    db = connection.open_database(path, paths.seed_path())
    yield db
    db.close()


def reaches(links: set[tuple[str, str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for paper, prereq in links:
            if paper == node and prereq not in seen:
                seen.add(prereq)
                todo.append(prereq)
    return False


nodes = st.integers(0, 7).map(lambda n: f"t-{n}")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sets(st.tuples(nodes, nodes), max_size=20), st.permutations([f"t-{n}" for n in range(8)]))
def test_what_is_left_has_no_cycle_and_each_link_dropped_closed_one(
    conn: sqlite3.Connection, links: set[tuple[str, str]], order: list[str]
) -> None:
    conn.execute("BEGIN")
    try:
        conn.executemany("INSERT INTO prerequisites VALUES (?, ?)", sorted(links))
        dropped = papers.break_prerequisite_cycles(conn, iter(order))
        left = set(
            conn.execute("SELECT paper_id, prereq_id FROM prerequisites WHERE paper_id LIKE 't-%'")
        )
    finally:
        conn.execute("ROLLBACK")
    assert len(dropped) == len(set(dropped))
    assert left == links - set(dropped)
    assert not any(reaches(left, prereq, paper) for paper, prereq in left)
    for paper, prereq in dropped:
        assert reaches(left, prereq, paper), f"{paper} -> {prereq} was dropped without a cycle"


PAPERS = ["transformer", "bert", "gpt-2", "gpt-3", "lora", "qlora", "adam", "layernorm"]
papers_at = st.sampled_from(PAPERS)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sets(st.tuples(papers_at, papers_at), max_size=20),
    st.sets(st.tuples(papers_at, papers_at, st.sampled_from(["added", "removed"])), max_size=8),
    papers_at,
    st.lists(papers_at, max_size=8, unique=True),
)
def test_one_walk_finds_the_papers_whose_path_leads_to_a_paper(
    conn: sqlite3.Connection,
    curated: set[tuple[str, str]],
    yours: set[tuple[str, str, str]],
    goal: str,
    starts: list[str],
) -> None:
    """What `prereq` refuses to add (a paper whose path holds the paper it would come
    before), found by one walk from every paper given rather than one walk each: the same
    papers as following each one's links."""
    mine = {(paper, prereq): state for paper, prereq, state in yours if paper != prereq}
    conn.execute("BEGIN")
    try:
        conn.execute("DELETE FROM prerequisites")
        conn.execute("DELETE FROM user_prereqs")
        conn.executemany("INSERT INTO prerequisites VALUES (?, ?)", sorted(curated))
        conn.executemany(
            "INSERT INTO user_prereqs (paper_id, prereq_id, state, at) VALUES (?, ?, ?, ?)",
            [
                (paper, prereq, state, "2026-01-01T00:00:00Z")
                for (paper, prereq), state in mine.items()
            ],
        )
        found = library.leading_to(conn, goal, starts)
    finally:
        conn.execute("ROLLBACK")
    links = {link for link in curated if link[0] != link[1]} | {
        link for link, state in mine.items() if state == "added"
    }
    links -= {link for link, state in mine.items() if state == "removed"}
    assert found == {start for start in starts if reaches(links, start, goal)}
