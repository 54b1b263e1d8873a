"""The reading workflow through the CLI: status, history, undo, queue, path, notes, tags, stats."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tracemalloc
from collections import deque
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import NoReturn

import pytest

from papercli import paths
from papercli.store import base, connection, library, scratch
from tests.conftest import peak_megabytes


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Timestamps one minute apart, starting 2024-03-01, so history order is testable."""
    ticks = count()

    def clock() -> str:
        minute = next(ticks)
        return f"2024-03-01T10:{minute:02d}:00Z"

    monkeypatch.setattr(library, "clock", clock)


def status_of(run_json, ref: str) -> str:
    return run_json("show", ref, "--format", "json")["status"]


def queue_ids(run) -> list[str]:
    result = run("queue", "--format", "csv")
    assert result.exit_code == 0
    return [line.split(",")[1] for line in result.stdout.splitlines()[1:]]


# --- status -----------------------------------------------------------------


def test_mark_read_records_status_time_and_history(run, run_json):
    result = run("mark-read", "lora", "QLoRA")
    assert result.exit_code == 0
    assert result.stdout == "lora: unread -> read\nqlora: unread -> read\n"
    shown = run_json("show", "lora", "--format", "json")
    assert shown["status"] == "read"
    assert shown["read_at"] == "2024-03-01T10:00:00Z"
    history = run_json("history", "--format", "json")
    assert [(h["id"], h["from"], h["to"]) for h in history] == [
        ("qlora", "unread", "read"),
        ("lora", "unread", "read"),
    ]
    assert {p["id"] for p in run_json("list", "--status", "read", "--format", "json")} == {
        "lora",
        "qlora",
    }


def test_marking_again_is_a_no_op_that_says_so(run, run_json):
    run("mark-read", "lora")
    result = run("mark-read", "lora")
    assert result.exit_code == 0
    assert result.stdout == "lora: already read, nothing to do\n"
    assert len(run_json("history", "--format", "json")) == 1


@pytest.mark.parametrize(
    ("command", "status"),
    [("mark-reading", "reading"), ("mark-skipped", "skipped"), ("mark-unread", "unread")],
)
def test_each_status_command(run, run_json, command, status):
    run("mark-read", "cot")
    assert run(command, "cot").exit_code == 0
    assert status_of(run_json, "cot") == status


def test_generic_mark_and_invalid_status(run, run_json):
    assert run("mark", "cot", "--as", "reading").exit_code == 0
    assert status_of(run_json, "cot") == "reading"
    result = run("mark", "cot", "--as", "finished")
    assert result.exit_code == 2
    for valid in ("unread", "reading", "read", "skipped"):
        assert valid in result.stderr


def test_refs_from_stdin(run, run_json):
    ids = run("list", "--topic", "peft", "--format", "ids").stdout
    result = run("mark-read", "-", input=ids)
    assert result.exit_code == 0
    peft = run_json("list", "--topic", "peft", "--format", "json")
    assert peft and all(p["status"] == "read" for p in peft)


def test_a_bad_reference_in_a_batch_changes_nothing(run, run_json):
    result = run("mark-read", "lora", "lorra", "gpt")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no paper matches 'lorra'" in result.stderr
    assert "'gpt' matches several papers" in result.stderr
    assert "nothing was changed" in result.stderr
    assert status_of(run_json, "lora") == "unread"


def test_undo_reverts_the_last_command_only(run, run_json):
    run("mark-read", "lora")
    run("mark-read", "cot", "react")
    result = run("undo")
    assert result.exit_code == 0
    assert "cot: read -> unread (undone)" in result.stdout
    assert "react: read -> unread (undone)" in result.stdout
    assert status_of(run_json, "cot") == "unread"
    assert status_of(run_json, "lora") == "read"
    assert run("undo").exit_code == 0
    assert status_of(run_json, "lora") == "unread"
    assert run_json("show", "lora", "--format", "json")["read_at"] is None
    nothing = run("undo")
    assert nothing.exit_code == 1
    assert "nothing to undo" in nothing.stderr


def test_history_of_one_paper(run, run_json):
    run("mark-reading", "lora")
    run("mark-read", "lora", "cot")
    entries = run_json("history", "lora", "--format", "json")
    assert [(e["from"], e["to"]) for e in entries] == [("reading", "read"), ("unread", "reading")]
    assert entries[0]["when"] > entries[1]["when"]
    plain = run("history", "lora").stdout.splitlines()
    assert plain[0].split() == ["when", "id", "from", "to", "title"]
    none = run("history", "gpt-4")  # "no changes yet" read as if nothing had changed at all
    assert (none.exit_code, none.stdout, none.stderr) == (0, "", "no status changes of gpt-4 yet\n")


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["history", ""], 1, "error: an empty reference names no paper\n"),
        (["history", "", "--all"], 2, "error: --all shows every command; leave out REF"),
    ],
)
def test_history_of_an_empty_reference_is_an_error(run, args, code, says):
    """As in every other command: until 3 December `history ""` (a script's empty
    variable) showed every paper's history."""
    run("mark-read", "lora", "cot")
    result = run(*args)
    assert (result.exit_code, result.stdout) == (code, "")
    assert result.stderr.startswith(says) and len(result.stderr.splitlines()) == 1


# --- queue --------------------------------------------------------------------


def test_queue_add_show_and_next(run, run_json):
    assert run("queue", "add", "lora", "qlora", "dpo").stdout == (
        "queued lora\nqueued qlora\nqueued dpo\n"
    )
    rows = run_json("queue", "--format", "json")
    assert [(r["position"], r["id"]) for r in rows] == [(1, "lora"), (2, "qlora"), (3, "dpo")]
    assert run("next", "--format", "id").stdout == "lora\n"
    assert run("next", "--format", "ids").stdout == "lora\n"  # as listings call it
    assert run("next", "-f", "ids").stdout == "lora\n"
    text = run("next").stdout
    assert text.startswith("lora  LoRA: Low-Rank Adaptation of Large Language Models (2021)\n")


def test_queue_json_says_when_each_paper_was_queued_and_undo_keeps_it(run, run_json, monkeypatch):
    from papercli import times
    from papercli.store import library

    now = ["2026-01-02T10:00:00Z"]
    monkeypatch.setattr(library, "clock", lambda: now[0])
    run("queue", "add", "lora", "dpo")
    now[0] = "2026-01-03T10:00:00Z"
    run("queue", "remove", "lora")
    run("undo")
    rows = run_json("queue", "--format", "json")
    assert [(r["id"], r["queued_at"]) for r in rows] == [
        ("lora", times.iso("2026-01-02T10:00:00Z")),
        ("dpo", times.iso("2026-01-02T10:00:00Z")),
    ]
    shown = run_json("show", "lora", "--format", "json")  # as it is stored and exported
    assert (shown["queue_position"], shown["queued_at"]) == (1, "2026-01-02T10:00:00Z")
    assert run_json("show", "rag", "--format", "json")["queued_at"] is None


def test_queue_add_positions(run):
    run("queue", "add", "lora", "qlora")
    run("queue", "add", "dpo", "--top")
    run("queue", "add", "cot", "--at", "2")
    assert queue_ids(run) == ["dpo", "cot", "lora", "qlora"]


def test_adding_a_queued_paper_keeps_its_place(run):
    run("queue", "add", "lora", "qlora")
    result = run("queue", "add", "qlora", "--top")
    assert "qlora is already in the queue; its place is unchanged" in result.stdout
    assert queue_ids(run) == ["lora", "qlora"]


def test_a_read_paper_needs_force(run):
    run("mark-read", "lora")
    refused = run("queue", "add", "lora")
    assert refused.exit_code == 1
    assert "already read: lora (use --force" in refused.stderr
    assert queue_ids(run) == []
    assert run("queue", "add", "lora", "--force").exit_code == 0
    assert queue_ids(run) == ["lora"]


def test_marking_read_takes_a_paper_out_of_the_queue_and_undo_puts_it_back(run):
    run("queue", "add", "lora", "qlora", "dpo")
    result = run("mark-read", "qlora")
    assert result.stdout == "qlora: unread -> read (removed from the queue)\n"
    assert queue_ids(run) == ["lora", "dpo"]
    run("undo")
    assert queue_ids(run) == ["lora", "qlora", "dpo"]


def test_queue_add_with_list_filters(run, run_json):
    assert run("queue", "add", "--topic", "peft", "--since", "2021").exit_code == 0
    expected = [
        p["id"] for p in run_json("list", "--topic", "peft", "--since", "2021", "--format", "json")
    ]
    assert queue_ids(run) == expected


def test_queue_add_with_filters_queues_ties_by_id_the_same_in_every_run(synthetic, tmp_path):
    """Papers the filters pick are queued in `list`'s order, those of one date by id: the
    same queue from copies of one library, whatever each process's string hashes."""
    source = synthetic[2_000]
    dates = sqlite3.connect(source).execute(
        "SELECT count(*) - count(DISTINCT date) FROM papers WHERE year >= 2000"
    )
    assert dates.fetchone()[0] > 100  # many papers share a date with another
    env = {**os.environ, "PYTHONPATH": str(Path(paths.__file__).parents[1])}
    queues = []
    for seed in ("1", "2", "3"):
        db = tmp_path / f"copy{seed}.db"
        shutil.copyfile(source, db)
        papercli = [sys.executable, "-m", "papercli", "--db", str(db)]
        added = subprocess.run(
            [*papercli, "queue", "add", "--since", "2000", "--force"],
            env={**env, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
        )
        assert added.returncode == 0, added.stderr
        queues.append(sqlite3.connect(db).execute("SELECT paper_id FROM queue ORDER BY position"))
    first, *others = [[str(pid) for (pid,) in rows] for rows in queues]
    assert all(other == first for other in others)
    library_ = sqlite3.connect(source)
    queued = [
        str(pid) for (pid,) in library_.execute("SELECT paper_id FROM queue ORDER BY position")
    ]
    in_list = library_.execute("SELECT id FROM papers WHERE year >= 2000 ORDER BY date, id")
    assert first == queued + [str(pid) for (pid,) in in_list if pid not in queued]


def test_queue_add_needs_papers_or_filters(run):
    result = run("queue", "add")
    assert result.exit_code == 2
    assert "name papers to queue" in result.stderr


def test_a_move_shifts_only_the_papers_between_the_two_places(run, db_path):
    """Each paper of a five-paper queue moved to each place: the queue is as inserting
    it there in a list gives, numbered from 1 (only the papers between the two places
    are written; the whole queue used to be renumbered)."""
    papers = ["lora", "qlora", "dpo", "cot", "bert"]
    for old in range(1, 6):
        for new in range(1, 6):
            assert run("queue", "clear", "--yes").exit_code == 0
            assert run("queue", "add", *papers).exit_code == 0
            moved = papers[old - 1]
            said = (
                f"{moved} is now #{new}"
                if old != new
                else f"{moved} is already #{new}, nothing to do"
            )
            assert run("queue", "move", moved, str(new)).stdout == said + "\n"
            expected = [p for p in papers if p != moved]
            expected.insert(new - 1, moved)
            assert queue_ids(run) == expected
            places = sqlite3.connect(db_path).execute("SELECT position FROM queue ORDER BY 1")
            assert [p for (p,) in places] == [1, 2, 3, 4, 5]


def test_queue_move_remove_and_errors(run):
    run("queue", "add", "lora", "qlora", "dpo")
    assert run("queue", "move", "dpo", "1").stdout == "dpo is now #1\n"
    assert queue_ids(run) == ["dpo", "lora", "qlora"]
    out_of_range = run("queue", "move", "dpo", "7")
    assert out_of_range.exit_code == 1
    assert out_of_range.stderr == (
        "error: position 7 is out of range: give 1 to 3, as the queue has 3 papers\n"
    )
    not_queued = run("queue", "move", "cot", "1")
    assert not_queued.exit_code == 1
    assert "cot is not in the queue" in not_queued.stderr
    bad_at = run("queue", "add", "cot", "--at", "9")
    assert bad_at.exit_code == 1
    assert "position 9 is out of range: give 1 to 4, as the queue has 3 papers" in bad_at.stderr
    assert queue_ids(run) == ["dpo", "lora", "qlora"]
    removed = run("queue", "remove", "lora", "cot")
    assert removed.stdout == "removed lora\ncot was not in the queue\n"
    assert queue_ids(run) == ["dpo", "qlora"]
    run("queue", "remove", "dpo")
    alone = run("queue", "move", "qlora", "2")  # until 5 December: "has 1 papers"
    assert alone.stderr == "error: position 2 is out of range: give 1, as the queue has 1 paper\n"
    empty = run("queue", "add", "cot", "--at", "0")  # was "the queue has 1 paper (1-2)"
    assert (
        empty.stderr == "error: position 0 is out of range: give 1 to 2, as the queue has 1 paper\n"
    )


def test_a_move_to_the_place_a_paper_has_is_no_step_and_keeps_the_redo(run):
    """Moving a paper to its own place was recorded as a change: `undo` then undid
    nothing ('moved qlora from #2 to #2'), and the redo waiting was lost."""
    run("queue", "add", "lora", "qlora")
    run("tag", "lora", "+x")
    assert run("undo").stdout == "undone: tagged lora +x\n"
    stay = run("queue", "move", "qlora", "2")
    assert (stay.exit_code, stay.stdout) == (0, "qlora is already #2, nothing to do\n")
    assert "#2 to #2" not in run("history", "--all").stdout
    assert run("redo").stdout == "redone: tagged lora +x\n"


def test_queue_clear_asks_or_needs_yes(run):
    run("queue", "add", "lora", "qlora")
    refused = run("queue", "clear")
    assert refused.exit_code == 1
    assert "--yes" in refused.stderr
    assert queue_ids(run) == ["lora", "qlora"]
    assert run("queue", "clear", "--yes").stdout == "cleared the queue (2 papers)\n"
    assert queue_ids(run) == []


def test_queue_add_with_filters_matching_nothing_says_so(run):
    """It ended in silence, as if it had queued what was asked."""
    result = run("queue", "add", "--since", "2030")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "no papers match those filters; nothing was queued\n"
    assert queue_ids(run) == []
    assert run("queue", "add", "--topic", "peft", "--since", "2021").stderr == ""


def test_counts_of_one_are_in_the_singular(run, tmp_path):
    """Until 5 December: "cleared the queue (1 papers)", "wrote 1 papers to ..."."""
    run("queue", "add", "lora")
    assert run("queue", "clear", "--yes").stdout == "cleared the queue (1 paper)\n"
    assert run("undo").stdout == "undone: cleared the queue (1 paper)\n"
    target = tmp_path / "one.bib"
    written = run("export", "--search", "lora rank adaptation", "-f", "bibtex", "-o", str(target))
    assert written.stderr == f"wrote 1 paper to {target}\n"


def test_next_on_an_empty_queue(run):
    result = run("next")
    assert result.exit_code == 1
    assert "your queue is empty" in result.stderr


# --- reading path ---------------------------------------------------------------


def test_path_lists_prerequisites_oldest_first_then_the_paper(run, run_json):
    run("mark-read", "transformer")
    steps = run_json("path", "qlora", "--format", "json")
    ids = [s["id"] for s in steps]
    assert ids[-1] == "qlora"
    assert {"lora", "llm-int8", "transformer"} <= set(ids)
    position = {pid: i for i, pid in enumerate(ids)}
    for step in steps:
        for prereq in run_json("show", step["id"], "--format", "json")["prerequisites"]:
            assert position[prereq] < position[step["id"]], (prereq, step["id"])
    text = run("path", "qlora").stdout
    assert text.splitlines()[0].startswith(f"Reading path to qlora: {len(ids)} papers, 1 read")
    assert "[x] transformer" in text
    assert text.rstrip().endswith("<- goal")


def test_queue_add_with_prereqs_skips_read_and_queued(run, run_json):
    run("mark-read", "transformer")
    run("queue", "add", "lora")
    assert run("queue", "add", "qlora", "--with-prereqs").exit_code == 0
    path = [s["id"] for s in run_json("path", "qlora", "--format", "json")]
    expected = ["lora"] + [p for p in path if p not in ("transformer", "lora")]
    assert queue_ids(run) == expected


def test_queue_add_with_prereqs_leaves_out_skipped_papers_and_names_a_read_goal(run, run_json):
    run("mark-skipped", "gpt-1")
    run("mark-read", "qlora")
    result = run("queue", "add", "qlora", "--with-prereqs")
    assert result.exit_code == 0
    path = [s["id"] for s in run_json("path", "qlora", "--format", "json")]
    assert queue_ids(run) == [p for p in path if p not in ("gpt-1", "qlora")]
    assert "not queued, already read: qlora (use --force to queue it)" in result.stderr
    run("queue", "clear", "--yes")
    run("mark-read", *path)
    everything_read = run("queue", "add", "qlora", "--with-prereqs")
    assert everything_read.exit_code == 1
    assert "not queued, already read: qlora" in everything_read.stderr
    assert run("queue", "add", "qlora", "--with-prereqs", "--force").exit_code == 0
    assert queue_ids(run) == ["qlora"]


def test_queue_add_with_prereqs_walks_a_shared_path_once(run, tmp_path, monkeypatch):
    """Each paper's path was walked whole: the 1,000 papers of one chain, all named,
    took 19 s (a path asked for each, 500,000 papers asked for their prerequisites)."""
    from papercli.store import graph

    export = tmp_path / "all.json"
    run("export", "--format", "json", "-o", str(export))
    document = json.loads(export.read_text(encoding="utf-8"))
    template = {k: v for k, v in document["papers"][0].items() if k != "history"}
    length = 300
    document["papers"] = [
        {**template, "id": f"c{i:03}", "arxiv_id": None, "prerequisites": [f"c{i - 1:03}"]}
        for i in range(1, length)
    ] + [{**template, "id": "c000", "arxiv_id": None, "prerequisites": []}]
    chain = tmp_path / "chain.json"
    chain.write_text(json.dumps(document), encoding="utf-8")
    assert run("import", str(chain)).exit_code == 0
    asked = []
    prerequisites_of = graph.prerequisites_of

    def counted(conn, ids):
        asked.extend(ids)
        return prerequisites_of(conn, ids)

    monkeypatch.setattr(graph, "prerequisites_of", counted)
    ids = [f"c{i:03}" for i in range(length)]
    for given in (ids, ids[::-1]):
        asked.clear()
        run("queue", "clear", "--yes")
        result = run("queue", "add", "-", "--with-prereqs", input="\n".join(given))
        assert result.exit_code == 0, result.output
        assert queue_ids(run) == ids
        assert len(asked) <= 2 * length


def _chained(source: Path, target: Path) -> str:
    """A copy of ``source`` with each paper the prerequisite of the next, oldest first;
    the newest paper, whose path is every paper."""
    shutil.copyfile(source, target)
    db = sqlite3.connect(target)
    with db:
        db.execute(
            "INSERT INTO prerequisites (paper_id, prereq_id) SELECT id, before FROM"
            " (SELECT id, lag(id) OVER (ORDER BY date, id) AS before FROM papers)"
            " WHERE before IS NOT NULL"
        )
    (goal,) = db.execute("SELECT id FROM papers ORDER BY date DESC, id DESC LIMIT 1").fetchone()
    db.close()
    return str(goal)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kB is Linux's")
@pytest.mark.parametrize(
    "args", [[], ["--format", "json"], ["--format", "csv"]], ids=lambda a: " ".join(a) or "table"
)
def test_a_long_reading_path_is_printed_in_the_same_memory(run, synthetic, tmp_path, args):
    """Five times the steps, about the same memory: a path held each step's paper whole,
    its record and its output line (3.8 kB a step: 97 MB for a path of 20,000 papers)."""
    peaks = []
    for papers in (2_000, 10_000):
        db = tmp_path / f"{papers}.db"
        goal = _chained(synthetic[papers], db)
        peaks.append(peak_megabytes("--db", str(db), "path", goal, *args))
    small, large = peaks
    assert large < 1.15 * small, peaks


@pytest.mark.parametrize("args", [["path"], ["queue", "add", "--with-prereqs"]], ids=" ".join)
def test_a_long_reading_path_grows_with_its_steps(run, synthetic, sqlite_steps, tmp_path, args):
    """Five times the steps, about five times SQLite's work: the walk asks about a chunk
    of papers at a time and reads their fields as they are printed."""
    work = {}
    for papers in (2_000, 10_000):
        db = tmp_path / f"{papers}.db"
        goal = _chained(synthetic[papers], db)
        sqlite_steps[0] = 0
        assert run("--db", str(db), *args, goal).exit_code == 0
        work[papers] = sqlite_steps[0]
    assert work[10_000] < 6 * work[2_000], work


def test_walking_a_long_path_holds_a_few_ints_a_step(synthetic, tmp_path):
    """The walk behind `path` and `queue add --with-prereqs` held sets and dicts of ids,
    about 1 kB a step; then numbers, with each id, its number and date, and the path as
    a list of ids (about 220 bytes a step, read as the queue reads it: as it comes); now
    4-byte numbers and a few bytes, the ids on disk (about 40 bytes a step at most)."""

    def walk(conn: sqlite3.Connection, goal: str, _: list[str]) -> None:
        # Read one at a time, as the queue reads them (onto disk).
        assert deque(library.unread_paths(conn, [goal]), maxlen=1) == deque([goal])

    small, large = peaks = _walk_peaks(synthetic, tmp_path, walk)
    assert (large - small) / 8_000 < 50, peaks  # bytes a step


def test_a_long_path_shown_holds_a_few_ints_a_step(synthetic, tmp_path):
    """`path` kept each step's id and kind in lists until it printed them (about 80 bytes
    a step once the walk held numbers); it reads them from the walk as it prints."""
    from papercli import graph

    def walk(conn: sqlite3.Connection, goal: str, _: list[str]) -> None:
        with graph.reading_path(conn, graph.subject(conn, goal), _no_network) as path:
            last = deque(graph.steps(conn, path), maxlen=1)
        assert [step.paper_id for step in last] == [goal]

    small, large = peaks = _walk_peaks(synthetic, tmp_path, walk)
    assert (large - small) / 8_000 < 50, peaks  # bytes a step


def _no_network() -> NoReturn:
    raise AssertionError("a path in the list with curated links asks no one")


def test_queueing_many_paths_keeps_the_papers_placed_on_disk(synthetic, tmp_path):
    """`queue add --with-prereqs` of every paper of a long chain walks each path up to the
    papers placed by those before: a step each, but the placed papers were a set of ids
    (about 90 bytes a paper, 90 MB at a million papers with prerequisites)."""

    def walk(conn: sqlite3.Connection, _: str, ids: list[str]) -> None:
        for _ in library.unread_paths(conn, iter(ids)):
            pass

    small, large = peaks = _walk_peaks(synthetic, tmp_path, walk)
    assert (large - small) / 8_000 < 20, peaks  # bytes a paper


def _walk_peaks(
    synthetic: dict[int, Path],
    tmp_path: Path,
    walk: Callable[[sqlite3.Connection, str, list[str]], None],
) -> list[int]:
    """The Python memory ``walk(conn, goal, ids)`` takes at its peak on chains of 2,000
    and 10,000 papers (``ids``: every paper, oldest first, read before it is traced)."""
    peaks = []
    for papers in (2_000, 10_000):
        db = tmp_path / f"{papers}.db"
        goal = _chained(synthetic[papers], db)
        conn = connection.open_database(db, paths.seed_path())
        ids = [r[0] for r in conn.execute("SELECT id FROM papers ORDER BY date, id")]
        tracemalloc.start()
        walk(conn, goal, ids)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        conn.close()
    return peaks


# --- notes and tags -----------------------------------------------------------------


def test_notes_are_dated_shown_and_searchable(run, run_json):
    assert run("note", "lora", "rank 8 is plenty").stdout == "noted on lora\n"
    run("note", "lora", "低秩适配 很有用")
    listed = run("note", "lora").stdout.splitlines()
    assert listed == [
        " 1. 2024-03-01 10:00  rank 8 is plenty",
        " 2. 2024-03-01 10:01  低秩适配 很有用",
    ]
    shown = run_json("show", "lora", "--format", "json")
    assert [n["body"] for n in shown["notes"]] == ["rank 8 is plenty", "低秩适配 很有用"]
    assert "rank 8 is plenty" in run("show", "lora").stdout
    for words in ("plenty", "低秩"):
        found = run_json("list", "--search", words, "--format", "json")
        assert [p["id"] for p in found] == ["lora"]


def test_notes_written_in_the_same_second_keep_the_order_they_were_written_in(run, monkeypatch):
    """Until 3 December they were numbered at random (by a random id), so `--delete 2`
    just after writing them could delete any of them."""
    monkeypatch.setattr(library, "clock", lambda: "2026-12-03T10:00:00Z")
    for n in range(1, 13):
        assert run("note", "lora", f"thought {n}").exit_code == 0
    assert run("note", "lora", "--delete", "2").exit_code == 0
    assert [line.split("  ")[-1] for line in run("note", "lora").stdout.splitlines()] == [
        f"thought {n}" for n in (1, *range(3, 13))
    ]


def test_deleting_several_notes_at_once_is_one_undo_step(run):
    """`--delete 1 --delete 3` deleted only note 3 (the last option won); the numbers
    are the list's before any note goes, and a number the paper lacks deletes none."""
    for n in range(1, 5):
        assert run("note", "lora", f"thought {n}").exit_code == 0
    missing = run("note", "lora", "--delete", "1", "--delete", "9")
    assert missing.exit_code == 1
    assert missing.stderr == "error: lora has no note 9 (it has 4; see papercli note lora)\n"
    result = run("note", "lora", "--delete", "1", "--delete", "3", "--delete", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "deleted 2 notes of lora; undo brings them back\n"
    bodies = [line.split("  ")[-1] for line in run("note", "lora").stdout.splitlines()]
    assert bodies == ["thought 2", "thought 4"]
    assert run("undo").stdout.startswith("undone: deleted notes 1 and 3 of lora")
    assert len(run("note", "lora").stdout.splitlines()) == 4


def test_notes_imported_into_one_second_keep_the_order_of_the_file(run, run_json, tmp_path):
    """Such notes (a file dated by the day, say) are named by paper, time and count; the
    names compared as text put the 11th (#10) before the 3rd (#2), and an export of
    that order imported elsewhere shuffled them again."""
    document = json.loads(run("export", "--format", "json").stdout)
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    bodies = [f"point {n}" for n in range(1, 13)]
    lora["notes"] = [{"created_at": "2026-03-01T00:00:00Z", "body": body} for body in bodies]
    path = tmp_path / "day.json"
    path.write_text(json.dumps({**document, "papers": [lora]}), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    listed = run("note", "lora").stdout.splitlines()
    assert listed == [f"{n:2d}. 2026-03-01 00:00  point {n}" for n in range(1, 13)]
    assert [n["body"] for n in run_json("show", "lora", "--format", "json")["notes"]] == bodies
    exported = next(
        p for p in run_json("export", "--format", "json")["papers"] if p["id"] == "lora"
    )
    assert [n["body"] for n in exported["notes"]] == bodies
    numbered = {n["note"]: n["number"] for n in run_json("notes", "--format", "json")}
    assert numbered == {f"point {n}": n for n in range(1, 13)}
    assert run("note", "lora", "--delete", "11").exit_code == 0
    assert "point 11" not in run("note", "lora").stdout


def test_note_with_the_editor(run, tmp_path, monkeypatch):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "# a comment\\nwritten in the editor\\n" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    result = run("note", "lora", "--edit")
    assert result.exit_code == 0, result.output
    assert run("note", "lora").stdout.endswith("written in the editor\n")


def test_visual_comes_first_and_a_blank_editor_is_unset(run, tmp_path, monkeypatch):
    """EDITOR="   " said "Permission denied" on the note's file: it was run as a command."""
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "from visual\\n" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("VISUAL", str(editor))
    monkeypatch.setenv("EDITOR", "   ")
    assert run("note", "lora", "--edit").exit_code == 0
    assert run("note", "lora").stdout.endswith("from visual\n")
    monkeypatch.setenv("VISUAL", " ")
    monkeypatch.setenv("EDITOR", str(editor).replace("editor.sh", "missing.sh"))
    missing = run("note", "lora", "--edit")
    assert missing.exit_code == 1 and "missing.sh" in missing.stderr


def test_editing_a_note_keeps_its_lines_that_start_with_a_hash(
    run, run_json, tmp_path, monkeypatch
):
    """Every line starting with # was dropped as a comment: a Markdown heading, or
    "#1 priority", went from a note edited only to add a line below."""
    run("note", "bert", "#1 priority: read section 3\n# Method\nmasked tokens")
    editor = tmp_path / "editor.sh"  # adds a line at the end of the note, as a person would
    editor.write_text(
        "#!/bin/sh\n"
        f'{sys.executable} -c "import sys; p = sys.argv[1]; t = open(p).read();'
        " i = t.index('tokens') + 6; open(p, 'w').write(t[:i] + '\\nmore' + t[i:])\" \"$1\"\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    assert run("note", "bert", "--edit", "1").exit_code == 0
    [note] = run_json("show", "bert", "--format", "json")["notes"]
    assert note["body"] == "#1 priority: read section 3\n# Method\nmasked tokens\nmore"


@pytest.mark.parametrize(
    ("number", "code", "says"),
    [
        ("0", 1, "error: lora has no note 0 (it has 1; see papercli note lora)\n"),
        ("²", 2, "error: give the note as TEXT or use --edit"),
        ("٣", 2, "error: give the note as TEXT or use --edit"),
    ],
)
def test_edit_takes_a_note_number_in_ascii_digits_only(
    run, run_json, tmp_path, monkeypatch, number, code, says
):
    """Until 3 December `--edit 0` wrote a new note in the editor, `--edit ²` ended in a
    traceback, and `--edit ٣` edited note 3."""
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "written in the editor\\n" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    run("note", "lora", "the only note")
    result = run("note", "lora", "--edit", number)
    assert (result.exit_code, result.stdout) == (code, "")
    assert result.stderr.startswith(says) and len(result.stderr.splitlines()) == 1
    shown = run_json("show", "lora", "--format", "json")
    assert [n["body"] for n in shown["notes"]] == ["the only note"]


def test_an_empty_note_is_refused(run):
    result = run("note", "lora", "   ")
    assert result.exit_code == 1
    assert "the note is empty" in result.stderr


def test_tags_add_remove_filter_and_count(run, run_json):
    assert run("tag", "lora", "qlora", "+Must-Read", "+later").exit_code == 0
    result = run("tag", "lora", "-LATER")  # tags match in any case
    assert result.stdout == "lora: Must-Read\n"  # and keep the case they were typed in
    assert run("tag", "lora", "+must-read").stdout == "lora: Must-Read\n"  # no second copy
    assert [p["id"] for p in run_json("list", "--tag", "must-read", "--format", "json")] == [
        "lora",
        "qlora",
    ]
    assert run_json("tags", "--format", "json") == [
        {"name": "later", "papers": 1},
        {"name": "Must-Read", "papers": 2},
    ]
    assert run_json("show", "qlora", "--format", "json")["tags"] == ["later", "Must-Read"]


def test_a_tag_given_twice_ends_as_typed_last(run):
    """``-x +x`` left no tag x: every addition ran before every removal."""
    assert run("tag", "lora", "+x", "+y").exit_code == 0
    assert run("tag", "lora", "-x", "+X", "+y", "-Y").stdout == "lora: x\n"
    assert run("undo").exit_code == 0
    assert run("tag", "lora").stdout == "lora: x, y\n"


def test_a_tag_is_one_tag_however_its_accents_were_typed(run, run_json, tmp_path):
    """Until 3 December "Café" typed with a combining accent and with "é" were two tags
    that printed alike, and `list --tag` found the one typed the same way."""
    composed, combining = "Caf\u00e9", "Cafe\u0301"
    assert run("tag", "lora", f"+{combining}").exit_code == 0
    assert run("tag", "qlora", f"+{composed}").exit_code == 0
    assert run_json("tags", "--format", "json") == [{"name": composed, "papers": 2}]
    for typed in (composed, combining):
        found = run_json("list", "--tag", typed, "--format", "json")
        assert sorted(p["id"] for p in found) == ["lora", "qlora"]
    assert run("tag", "lora", f"-{composed}").exit_code == 0
    assert run_json("show", "lora", "--format", "json")["tags"] == []
    # An import's tags likewise.
    document = json.loads(run("export", "--format", "json").stdout)
    [dpo] = [p for p in document["papers"] if p["id"] == "dpo"]
    path = tmp_path / "tags.json"
    path.write_text(json.dumps({**document, "papers": [{**dpo, "tags": [combining]}]}))
    assert run("import", str(path)).exit_code == 0
    assert run_json("show", "dpo", "--format", "json")["tags"] == [composed]


def test_tag_without_a_tag_lists_the_papers_tags(run):
    run("tag", "lora", "+b", "+a")
    assert run("tag", "lora", "qlora").stdout == "lora: a, b\nqlora: (no tags)\n"


def test_tag_needs_a_paper(run):
    assert run("tag", "+x").exit_code == 2


# --- stats ------------------------------------------------------------------------------


def test_stats_figures(run, run_json):
    total = len(run_json("list", "--format", "json"))
    run("mark-read", "lora", "qlora")
    run("mark-reading", "cot")
    run("mark-skipped", "glam")
    figures = run_json("stats", "--format", "json")
    overall = figures["overall"]
    assert (overall["read"], overall["reading"], overall["skipped"]) == (2, 1, 1)
    assert overall["unread"] == total - 4 and overall["total"] == total
    assert overall["read_percent"] == round(200 / total, 1)
    by_year = {row["name"]: row for row in figures["by_year"]}
    assert by_year["2021"]["read"] == 1 and by_year["2023"]["read"] == 1
    assert figures["read_per_month"] == [{"month": "2024-03", "read": 2}]
    peft = next(row for row in figures["by_topic"] if row["name"] == "peft")
    assert peft["read"] == 2
    text = run("stats").stdout
    assert "overall" in text and "read per month" in text and "2024-03" in text


# --- safety ---------------------------------------------------------------------------


def test_backup_is_a_consistent_copy(run, tmp_path):
    run("mark-read", "lora")
    target = tmp_path / "backup.db"
    result = run("db", "backup", str(target))
    assert result.exit_code == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute(
            "SELECT status FROM reading_state WHERE paper_id = 'lora'"
        ).fetchone() == ("read",)
    run("mark-unread", "lora")
    again = run("db", "backup", str(target))  # replaces the older backup, as export -o does
    assert again.exit_code == 0
    with sqlite3.connect(target) as conn:
        assert conn.execute(
            "SELECT status FROM reading_state WHERE paper_id = 'lora'"
        ).fetchone() == ("unread",)
    missing = run("db", "backup", str(tmp_path / "no" / "such" / "dir.db"))
    assert missing.exit_code == 1
    assert "does not exist" in missing.stderr


def test_a_busy_database_is_a_clear_error_and_nothing_is_half_written(
    run, run_json, db_path, monkeypatch
):
    run("list", "--limit", "1")
    monkeypatch.setattr(base, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another papercli in the middle of a write
    try:
        result = run("mark-read", "lora", "qlora")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 4
    assert "busy" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert status_of(run_json, "lora") == "unread"
    assert status_of(run_json, "qlora") == "unread"
    assert run("mark-read", "lora", "qlora").exit_code == 0


def _queue_everything(run, source: Path, target: Path) -> int:
    """A copy of ``source`` with every paper queued (read ones too); how many that is."""
    shutil.copyfile(source, target)
    result = run("--db", str(target), "queue", "add", "--force", "--since", "0")
    assert result.exit_code == 0, result.output
    return int(sqlite3.connect(target).execute("SELECT count(*) FROM queue").fetchone()[0])


def test_a_queue_longer_than_sqlite_takes_parameters_lists_in_order(
    run, synthetic, tmp_path, few_parameters
):
    """The queue is read in its order, not as a list of ids (one parameter each: 2,000
    were more than some SQLite builds take in one statement)."""
    db = tmp_path / "queued.db"
    queued = _queue_everything(run, synthetic[2_000], db)
    in_order = sqlite3.connect(db).execute("SELECT paper_id FROM queue ORDER BY position")
    order = [str(pid) for (pid,) in in_order]
    result = run("--db", str(db), "queue", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["position", "id", "short_name"]  # the JSON's keys
    assert [row[1] for row in rows[1:]] == order
    assert len(order) == queued > 2_000


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kB is Linux's")
@pytest.mark.parametrize("args", [[], ["--format", "json"]], ids=lambda a: " ".join(a) or "table")
def test_the_queue_is_listed_in_the_same_memory_at_any_length(run, synthetic, tmp_path, args):
    """Five times the queued papers, about the same memory: it took 7.6 kB a paper (821 MB
    for 107,000 queued papers of a million, 1.2 GB as JSON)."""
    peaks = []
    for papers in (2_000, 10_000):
        db = tmp_path / f"{papers}.db"
        _queue_everything(run, synthetic[papers], db)
        peaks.append(peak_megabytes("--db", str(db), "queue", *args))
    small, large = peaks
    assert large - small < 10, peaks


def test_clearing_the_queue_holds_a_chunk_of_it(run, synthetic, tmp_path, monkeypatch):
    """Clearing held every queued id three times (in a list, with its place, sorted): 69 MB
    for 107,731 queued papers of a million. They wait on disk now: five times the papers,
    no more memory. Undo puts them back in their order."""
    monkeypatch.setattr(scratch, "CHUNK", 100)
    peaks = []
    for papers in (2_000, 10_000):
        db = tmp_path / f"{papers}.db"
        queued = _queue_everything(run, synthetic[papers], db)
        order = [
            r[0]
            for r in sqlite3.connect(db).execute("SELECT paper_id FROM queue ORDER BY position")
        ]
        conn = connection.open_database(db, paths.seed_path())
        tracemalloc.start()
        assert library.queue_clear(conn) == queued
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        conn.close()
        assert run("--db", str(db), "queue", "--format", "ids").stdout == ""
        assert run("--db", str(db), "undo").exit_code == 0
        assert run("--db", str(db), "queue", "--format", "ids").stdout.split() == order
    small, large = peaks
    assert large < 1.3 * small, peaks


def test_undoing_a_big_queue_change_holds_a_chunk_of_it(run, synthetic, tmp_path):
    """Undo and redo held every queue place they set in Python lists and dicts, and the
    queue rows they replaced: undoing the clear of 96,694 queued papers took 77 MB (the
    clear 35), 487 MB at a million papers. They wait on disk now: five times the papers,
    the same memory, to undo and redo the clear and then the `queue add` before it."""
    peaks: list[list[int]] = []
    for papers in (2_000, 10_000):
        source = sqlite3.connect(f"file:{synthetic[papers]}?mode=ro", uri=True)
        first = [r[0] for r in source.execute("SELECT paper_id FROM queue ORDER BY position")]
        source.close()
        db = tmp_path / f"{papers}.db"
        _queue_everything(run, synthetic[papers], db)
        queued = run("--db", str(db), "queue", "--format", "ids").stdout.split()
        assert run("--db", str(db), "queue", "clear", "--yes").exit_code == 0
        conn = connection.open_database(db, paths.seed_path())
        peaks.append([])
        for replay, then in [
            (library.undo, queued),  # the clear
            (library.redo, []),
            (library.undo, queued),
            (library.undo, first),  # the queue add
            (library.redo, queued),
        ]:
            tracemalloc.start()
            replay(conn)
            peaks[-1].append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            in_order = conn.execute("SELECT paper_id FROM queue ORDER BY position")
            assert [str(pid) for (pid,) in in_order] == then
        conn.close()
    small, large = peaks
    assert all(b < 1.5 * a for a, b in zip(small, large, strict=True)), peaks


@pytest.mark.parametrize(
    ("tag", "said"),
    [
        ("a" * 1001, "a tag has at most 1,000 characters, not 1,001"),
        ("bad\x01tag", "a tag must be printable and not empty, not 'bad\\x01tag'"),
        ("two\nlines", "a tag must be printable and not empty, not 'two\\nlines'"),
        ("two\u2028lines", "a tag must be printable and not empty, not 'two\\u2028lines'"),
    ],
    ids=["too long", "control character", "line break", "line separator"],
)
def test_a_tag_a_backup_could_not_hold_is_refused(run, run_json, tmp_path, tag, said):
    """Such a tag was taken, and made the library's own JSON backup impossible to import
    (nor did it sync). One that is fine still goes on, and a bad old one can go."""
    result = run("tag", "lora", f"+{tag}")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {said}\n")
    assert run("tag", "lora", "+👩‍💻 to read", f"-{tag}").stdout == "lora: 👩‍💻 to read\n"
    backup = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(backup)).exit_code == 0
    other = tmp_path / "other.db"
    assert run("--db", str(other), "import", str(backup)).exit_code == 0
    assert run("--db", str(other), "tag", "lora").stdout == "lora: 👩‍💻 to read\n"


def test_a_note_a_backup_could_not_hold_is_refused(run, run_json):
    """A note of more than a million characters (from $EDITOR, say) was taken, and made
    the library's JSON backup impossible to import."""
    result = run("note", "lora", "x" * 1_000_001)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: a note has at most 1,000,000 characters, not 1,000,001; nothing was saved\n"
    )
    assert run_json("show", "lora", "--format", "json")["notes"] == []


def test_a_note_with_a_nul_character_is_refused_wherever_it_comes_from(
    run, run_json, tmp_path, monkeypatch
):
    """An editor can save a NUL; sync refuses such a note, so it never reached another
    device: typed, from $EDITOR or in an import, it is refused."""
    refused = "error: a note cannot hold a NUL character; nothing was saved\n"
    typed = run("note", "lora", "a\x00b")
    assert (typed.exit_code, typed.stderr) == (1, refused)
    editor = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'w').write('a\\0b')\""
    monkeypatch.setenv("EDITOR", editor)
    edited = run("note", "lora", "--edit")
    assert (edited.exit_code, edited.stderr) == (1, refused)
    assert run_json("show", "lora", "--format", "json")["notes"] == []

    document = json.loads(run("export", "--format", "json").stdout)
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    lora["notes"] = [{"created_at": "2026-03-01T10:00:00Z", "body": "a\x00b"}]
    path = tmp_path / "nul.json"
    path.write_text(json.dumps({**document, "papers": [lora]}), encoding="utf-8")
    imported = run("import", str(path))
    assert imported.exit_code == 1
    assert "papers[0].notes[0].body: holds a control character" in imported.stderr
    assert run_json("show", "lora", "--format", "json")["notes"] == []


def test_a_note_written_twice_in_one_second_is_restored_twice(run, run_json, tmp_path):
    """An import matched notes by time and text, so the second of two alike was dropped,
    where two status changes alike are both kept."""
    document = json.loads(run("export", "--format", "json").stdout)
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    twice = {"created_at": "2026-03-01T10:00:00Z", "body": "again"}
    lora["notes"] = [twice, twice]
    path = tmp_path / "twice.json"
    path.write_text(json.dumps({**document, "papers": [lora]}), encoding="utf-8")
    for _ in range(2):  # and the second import adds nothing
        assert run("import", str(path)).exit_code == 0
        notes = run_json("show", "lora", "--format", "json")["notes"]
        assert [n["body"] for n in notes] == ["again", "again"]


def test_listing_the_notes_grows_with_them_not_their_square(run, sqlite_steps, tmp_path):
    """Each note's number on its paper came from counting the notes before it: 16,000
    notes on one paper took 13 s to list (4,000: 0.8 s)."""
    document = json.loads(run("export", "--format", "json").stdout)
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    work = {}
    for notes in (1_000, 4_000):
        lora["notes"] = [
            {
                "created_at": f"2026-03-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "body": f"n{i}",
            }
            for i in range(notes)
        ]
        path = tmp_path / f"{notes}.json"
        path.write_text(json.dumps({**document, "papers": [lora]}), encoding="utf-8")
        db = str(tmp_path / f"{notes}.db")
        assert run("--db", db, "import", str(path)).exit_code == 0
        sqlite_steps[0] = 0
        listed = run("--db", db, "notes", "--format", "csv")
        work[notes] = sqlite_steps[0]
        numbers = [row[2] for row in csv.reader(io.StringIO(listed.stdout))][1:]
        assert numbers == [str(n) for n in range(notes, 0, -1)]  # newest first
    assert work[4_000] < 6 * work[1_000], work


@pytest.mark.parametrize("command", ["history", "notes", "list"])
def test_a_negative_limit_is_refused_by_every_listing(run, command):
    """As `list` always did: until 3 December `history` and `notes` showed everything."""
    result = run(command, "--limit", "-1")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: invalid value for --limit: -1 is not in the range x>=0\n"


def test_the_json_keys_are_the_documented_ones(run, run_json):
    """The README's "JSON keys" lists these: a change to them is a change to that list."""
    run("queue", "add", "lora")
    run("mark-read", "qlora")
    run("note", "lora", "rank 8")
    run("tag", "lora", "+peft")
    listed = set(run_json("list", "--format", "json")[0])
    assert set(run_json("queue", "--format", "json")[0]) == {"position", "queued_at"} | listed
    assert set(run_json("next", "--format", "json")) == listed
    assert list(run_json("notes", "--format", "json")[0]) == ["when", "id", "number", "note"]
    assert list(run_json("tags", "--format", "json")[0]) == ["name", "papers"]
    stats = run_json("stats", "--format", "json")
    counts = ["name", "unread", "reading", "read", "skipped", "total", "read_percent"]
    assert list(stats) == ["overall", "by_year", "by_organization", "by_topic", "read_per_month"]
    assert list(stats["overall"]) == counts
    for group in ("by_year", "by_organization", "by_topic"):
        assert list(stats[group][0]) == counts
    assert list(stats["read_per_month"][0]) == ["month", "read"]
