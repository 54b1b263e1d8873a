"""Breaking the prerequisite cycles an imported file may claim, on random graphs: what is
left has no cycle, and each link dropped was needed to break one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli import paths
from papercli.store import connection, papers


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
