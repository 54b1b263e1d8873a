"""Everyday commands stay fast on a million papers: their queries use indexes.

The commands run on the shipped catalogue. Without ANALYZE (which users' databases never
get) SQLite plans as if every table were large, so a plan that reads every paper here
would read every paper at a million too; bench/ has the timings.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from papercli import refs
from papercli.errors import NotFoundError
from papercli.models import Selection
from papercli.store import connection, lookups, papers

# Tables that grow with the catalogue (and their aliases in papercli's SQL); the user's
# own reading_state, queue and tags stay small and may be scanned.
_BIG = r"(p|papers|paper_names|paper_authors|paper_orgs|paper_topics|paper_sources|prerequisites|r|d|search_docs|arxiv_meta|arxiv_authors|status_history|h)"  # noqa: E501


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement the commands run from here on, with its parameters filled in."""
    seen: list[str] = []
    connect = connection.connect

    def traced(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(connection, "connect", traced)
    yield seen


def _plan(db: Path, sql: str) -> list[tuple[int, int, str]]:
    with sqlite3.connect(db) as conn:
        return [(r[0], r[1], r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]


def _big_table_scans(db: Path, queries: list[str]) -> list[tuple[str, str]]:
    """The queries that read a big table whole, with the step of their plan that does
    (the temporary tables they use made first, as the command made them)."""
    with sqlite3.connect(db) as conn:
        for sql in queries:
            if sql.startswith("CREATE TEMP TABLE"):
                conn.execute(sql.replace("CREATE TEMP TABLE", "CREATE TEMP TABLE IF NOT EXISTS"))
        return [
            (sql, detail)
            for sql in queries
            if not sql.startswith("CREATE TEMP TABLE")
            for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")
            if re.match(rf"SCAN {_BIG}\b", detail := row[3])
        ]


def _queries(statements: list[str]) -> list[str]:
    """The statements that read or write rows, and those that make temporary tables."""
    kinds = r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE TEMP TABLE)"
    return [s for s in statements if re.match(kinds, s)]


@pytest.mark.parametrize(
    "args",
    [
        ["show", "lora"],
        ["show", "low-rank adaptation of large language models"],
        ["next"],
        ["mark-read", "lora"],
        ["undo"],
        ["queue"],
        ["list", "--author", "hinton", "--limit", "5"],
        ["list", "--author", "Quoc Le", "--author", "de las casas", "--limit", "5"],
        ["path", "qlora"],
        ["inbox"],
    ],
    ids=" ".join,
)
def test_everyday_commands_read_no_big_table_whole(
    args: list[str], run: Callable[..., Result], db_path: Path, statements: list[str]
) -> None:
    assert run("queue", "add", "lora", "qlora").exit_code == 0
    if args == ["undo"]:
        assert run("mark-read", "lora").exit_code == 0
    statements.clear()

    assert run(*args).exit_code == 0
    assert _big_table_scans(db_path, _queries(statements)) == []


@pytest.mark.parametrize(
    "selection",
    [
        Selection(limit=50),
        Selection(since=2021, limit=50),
        Selection(until=2019, limit=50, reverse=True),
        Selection(year=2020, limit=50),
    ],
    ids=repr,
)
def test_a_page_of_the_list_is_read_in_order_not_sorted(
    selection: Selection, run: Callable[..., Result], db_path: Path, statements: list[str]
) -> None:
    assert run("list", "--limit", "1").exit_code == 0
    conn = connection.open_database(db_path, Path("unused"))
    statements.clear()
    conn.set_trace_callback(statements.append)

    list(papers.iter_papers(conn, selection))

    plan = _plan(db_path, statements[-1])
    (page,) = [node for node, _, detail in plan if detail.startswith("LIST SUBQUERY")]
    picking = [detail for _, parent, detail in plan if parent == page]
    assert any("papers_year_date_id" in detail for detail in picking), picking
    assert not any("TEMP B-TREE" in detail for detail in picking), picking


def test_stats_counts_groups_from_indexes_and_looks_up_only_marked_papers(
    run: Callable[..., Result], db_path: Path, statements: list[str]
) -> None:
    assert run("mark-read", "lora").exit_code == 0
    statements.clear()

    assert run("stats").exit_code == 0
    details = [d for sql in _queries(statements) for _, _, d in _plan(db_path, sql)]
    assert not [d for d in details if re.fullmatch(rf"SCAN {_BIG}", d)]
    # Not every paper's reading state (seconds at a million papers): unmarked are unread.
    assert not [d for d in details if re.match(r"SEARCH s .*LEFT-JOIN", d)]
    # The marked papers' groups are looked up from their states, not every paper's
    # group row read for a state (2.2 s against 0.55 at a million papers, 10% marked).
    marked = [sql for sql in _queries(statements) if "reading_state s" in sql]
    assert len(marked) == 3, marked  # years, organizations, topics
    for sql in marked:
        plan = [d for _, _, d in _plan(db_path, sql)]
        assert plan[0] == "SCAN s", plan
        assert not [d for d in plan if re.match(rf"SCAN {_BIG}\b", d)], plan


def test_did_you_mean_compares_a_bounded_number_of_names(
    run: Callable[..., Result], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("list", "--limit", "1").exit_code == 0
    conn = connection.open_database(db_path, Path("unused"))
    monkeypatch.setattr(lookups, "SUGGESTION_POOL", 10)

    names = lookups.names_to_suggest(conn, "lorra")

    assert 0 < len(names) <= 10
    assert all(name.lower().startswith("lor") for name in names)
    with pytest.raises(NotFoundError, match="did you mean 'lora'"):
        refs.resolve(conn, "lorra")


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--search", "low-rank adaptation"],
        ["list", "--search", "attention", "--limit", "5"],
        ["list", "--search", "models", "--sort", "title", "--topic", "peft"],
        ["list", "--search", "低秩 rank"],
        ["export", "--search", "chain-of-thought", "--format", "csv"],
        ["queue", "add", "--search", "qlora"],
    ],
    ids=" ".join,
)
def test_list_search_looks_words_up_in_the_search_index(
    args: list[str], run: Callable[..., Result], db_path: Path, statements: list[str]
) -> None:
    assert run("note", "lora", "低秩适配").exit_code == 0
    statements.clear()

    result = run(*args)

    assert result.exit_code == 0, result.output
    queries = _queries(statements)
    assert any("paper_search MATCH" in sql for sql in queries)
    assert _big_table_scans(db_path, queries) == []


def test_a_page_of_many_search_matches_is_read_in_order_not_sorted(
    run: Callable[..., Result], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("list", "--limit", "1").exit_code == 0
    conn = connection.open_database(db_path, Path("unused"))
    selection = Selection(search="language models", limit=5)
    few = list(papers.iter_papers(conn, selection))
    assert len(few) == 5
    monkeypatch.setattr(papers, "LIST_SEARCH_FEW", 0)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)

    many = list(papers.iter_papers(conn, selection))

    assert many == few
    plan = _plan(db_path, _queries(statements)[-1])
    (page,) = [node for node, _, detail in plan if detail.startswith("LIST SUBQUERY")]
    picking = [detail for _, parent, detail in plan if parent == page]
    assert any("papers_year_date_id" in detail for detail in picking), picking
    assert not any("TEMP B-TREE" in detail for detail in picking), picking


def test_redo_finds_its_batch_by_index_not_by_reading_every_command(
    run: Callable[..., Result], db_path: Path, statements: list[str]
) -> None:
    """Only the batches undone since the last command can be redone: a partial index
    holds them. Read in batch order instead, a redo walked the whole command log, every
    command ever run, to reach them."""
    for ref in ("lora", "qlora", "dpo"):
        assert run("mark-read", ref).exit_code == 0
    assert run("undo").exit_code == 0
    assert run("undo").exit_code == 0
    statements.clear()

    result = run("redo")

    assert result.exit_code == 0
    assert "qlora" in result.output  # the older of the two undone, as undo took newest first
    (finding,) = [
        sql for sql in _queries(statements) if re.search(r"FROM command_log .*redoable", sql)
    ]
    details = [detail for _, _, detail in _plan(db_path, finding)]
    assert any("USING INDEX command_log_redoable" in d for d in details), details


def test_history_entries_are_looked_up_by_paper_not_by_time(
    run: Callable[..., Result], db_path: Path, statements: list[str], tmp_path: Path
) -> None:
    """A `mark-read` of many papers gives them all the same change and time: a lookup by
    (change, time) would walk every one of them for each, and undoing a big batch on a
    device that syncs took minutes; by the paper alone, it walks all the paper's entries.
    Sync's events, its apply and import look up by paper and time."""
    folder = tmp_path / "sync"
    folder.mkdir()
    assert run("sync", str(folder)).exit_code == 0
    assert run("mark-read", "lora", "qlora", "dpo", "bert").exit_code == 0
    exported = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(exported)).exit_code == 0
    statements.clear()

    assert run("undo").exit_code == 0
    assert run("import", str(exported)).exit_code == 0
    assert run("sync", str(folder)).exit_code == 0

    lookups_by_change = [
        sql
        for sql in _queries(statements)
        if re.search(r"status_history\b.*(old_status =|changed_at IN)", sql)
    ]
    assert any("changed_at IN" in sql for sql in lookups_by_change)  # the import's
    for sql in lookups_by_change:
        details = [detail for _, _, detail in _plan(db_path, sql)]
        assert any("status_history_change (paper_id=? AND changed_at" in d for d in details), (
            sql,
            details,
        )
        assert not any("status_history_read" in d for d in details), (sql, details)


def test_undoing_an_import_reads_no_big_table_whole(
    run: Callable[..., Result], db_path: Path, statements: list[str], tmp_path: Path
) -> None:
    """Removing each paper an import added looks up its rows, links naming it included."""
    new = [
        {"id": f"burrow-{i}", "title": f"Burrowing {i}", "short_name": f"burrow{i}",
         "year": 2024, "date": "2024-02-02", "prerequisites": ["lora", "burrow-0"][: i + 1]}
        for i in range(2)
    ]  # fmt: skip
    source = tmp_path / "new.json"
    head = {"format": "papercli-export", "version": 1, "exported_on": "2024-03-02"}
    source.write_text(json.dumps({**head, "papers": new}))
    assert run("list", "--limit", "1").exit_code == 0
    statements.clear()

    assert run("import", str(source)).exit_code == 0
    assert run("undo").exit_code == 0

    assert _big_table_scans(db_path, _queries(statements)) == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ids.txt", "2106.09685\n1706.03762\n"),
        (
            "refs.bib",
            "@misc{a, eprint = {2106.09685}}\n@misc{b, doi = {10.18653/v1/N19-1423}}\n"
            "@misc{c, title = {Attention Is All You Need}}\n"
            "@misc{d, title = {Burrowing}, author = {Doe, Jane}, year = 2024}\n",
        ),
    ],
)
def test_an_import_looks_its_papers_up_by_index(
    run: Callable[..., Result],
    db_path: Path,
    statements: list[str],
    tmp_path: Path,
    name: str,
    text: str,
) -> None:
    """A thousand arXiv ids at a time, through the index of arXiv ids; DOIs and titles one
    by one, by index too; and a paper typed in is added without reading every paper."""
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    assert run("list", "--limit", "1").exit_code == 0
    statements.clear()

    assert run("import", str(source)).exit_code == 0

    queries = _queries(statements)
    assert any("json_each" in sql and "arxiv_id" in sql for sql in queries)
    assert _big_table_scans(db_path, queries) == []


def test_related_looks_its_links_and_papers_up_by_index(
    run: Callable[..., Result], db_path: Path, statements: list[str]
) -> None:
    """Every link of the target, every paper linked and its paper in the list, each found
    through an index: none of the citation graph's tables, nor the papers, read whole."""
    import random

    from papercli import paths
    from papercli.store import base
    from tests.test_related import build_world

    db = connection.open_database(db_path, paths.seed_path())
    with base.transaction(db):
        target = build_world(db, random.Random(24))
    db.close()
    assert target.paper_id is not None
    statements.clear()

    assert run("related", target.paper_id, "-n", "0").exit_code == 0

    queries = [sql for sql in _queries(statements) if "s2_links" in sql]
    assert queries
    with sqlite3.connect(db_path) as conn:
        scans = [
            (sql, detail)
            for sql in queries
            for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")
            if re.match(r"SCAN (s2_links|s2_papers|papers|a|b|s|d)\b", detail := row[3])
        ]
    assert scans == []


def test_an_import_reads_only_the_steps_of_the_commands_it_asks_about(
    run: Callable[..., Result], db_path: Path, statements: list[str], tmp_path: Path
) -> None:
    """What commands took away (tags, notes, queue places, papers) is read from the log
    first, the steps of those commands looked up by batch: each of these questions read
    every undo step there is, a million after a `mark-read -` of as many."""
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    assert run("mark-read", "lora", "qlora").exit_code == 0
    statements.clear()

    assert run("import", str(backup)).exit_code == 0

    with sqlite3.connect(db_path) as conn:
        for sql in _queries(statements):
            if sql.startswith("CREATE TEMP TABLE"):  # as the command made them
                conn.execute(sql.replace("CREATE TEMP TABLE", "CREATE TEMP TABLE IF NOT EXISTS"))
        scans = [
            (sql, row[3])
            for sql in _queries(statements)
            if "undo_steps" in sql and not sql.startswith(("INSERT INTO undo_steps", "CREATE"))
            for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")
            if re.match(r"SCAN (u|undo_steps)\b", row[3])
        ]
    conn.close()
    assert scans == []
