"""Undo and redo cover every change a user makes, and never lose the record of it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papercli import paths
from papercli.models import Paper
from papercli.store import base, changes, connection, migrations, papers


def _queue(run) -> list[str]:
    return [p["id"] for p in json.loads(run("queue", "--format", "json").stdout)]


def _state(run) -> str:
    """Everything a user did, as a full export (without its date) plus the queue."""
    data = json.loads(run("export", "--format", "json").stdout)
    data.pop("exported_on")
    return json.dumps([data, _queue(run)])


@pytest.mark.parametrize(
    ("commands", "says"),
    [
        ([["queue", "add", "lora", "qlora"]], "undone: queued lora, qlora"),
        (
            [["queue", "add", "lora", "qlora"], ["queue", "remove", "lora"]],
            "undone: took lora out of the queue",
        ),
        (
            [["queue", "add", "lora", "qlora", "dpo"], ["queue", "move", "dpo", "1"]],
            "undone: moved dpo from #3 to #1",
        ),
        (
            [["queue", "add", "lora", "qlora"], ["queue", "clear", "--yes"]],
            "undone: cleared the queue (2 papers)",
        ),
        ([["tag", "lora", "+Must-Read", "+later"]], "undone: tagged lora +Must-Read +later"),
        ([["tag", "lora", "+a"], ["tag", "lora", "-a"]], "undone: tagged lora -a"),
        ([["note", "lora", "first", "thought"]], "undone: added a note to lora"),
        (
            [["note", "lora", "x"], ["note", "lora", "--delete", "1"]],
            "undone: deleted note 1 of lora",
        ),
        ([["mark-read", "lora", "cot"]], "undone: marked lora, cot read"),
        (  # one command, one undo: until 3 December its queue place took a second one
            [
                ["queue", "add", "lora"],
                [
                    "add",
                    "--title",
                    "Field notes",
                    "--year",
                    "2021",
                    "--author",
                    "J. Doe",
                    "--id",
                    "fn",
                    "--queue",
                ],
            ],
            "undone: added fn and queued",
        ),
    ],
)
def test_undo_reverts_exactly_the_last_command_and_redo_reapplies_it(run, commands, says):
    for command in commands[:-1]:
        assert run(*command).exit_code == 0
    before = _state(run)
    assert run(*commands[-1]).exit_code == 0
    after = _state(run)
    undone = run("undo")
    assert undone.exit_code == 0, undone.output
    assert undone.stdout.splitlines()[0] == says
    assert _state(run) == before
    redone = run("redo")
    assert redone.exit_code == 0, redone.output
    assert redone.stdout.splitlines()[0] == says.replace("undone", "redone", 1)
    assert _state(run) == after


def test_a_command_that_changes_nothing_keeps_redo(run):
    run("mark-read", "lora")
    run("undo")
    run("mark-unread", "lora")  # already unread: nothing happens
    assert run("redo").stdout.startswith("redone: marked lora read")


def test_undo_then_a_new_command_leaves_nothing_to_redo(run):
    run("tag", "lora", "+a")
    run("undo")
    run("tag", "lora", "+b")
    result = run("redo")
    assert result.exit_code == 1
    assert "nothing to redo" in result.stderr


def test_history_keeps_undone_changes_marked(run, run_json):
    run("mark-read", "lora")
    run("undo")
    entries = run_json("history", "--format", "json")
    assert [(e["id"], e["to"], e["undone"]) for e in entries] == [("lora", "read", True)]
    assert "read (undone)" in run("history").stdout
    everything = run_json("history", "--all", "--format", "json")
    assert everything[0]["command"] == "mark-read"
    assert everything[0]["what"] == "marked lora read"
    assert everything[0]["undone"] is True
    run("redo")
    assert run_json("history", "--format", "json")[0]["undone"] is False


def test_history_all_shows_every_kind_of_change(run, run_json):
    run("queue", "add", "lora")
    run("tag", "lora", "+x")
    run("note", "lora", "hello")
    commands = [e["command"] for e in run_json("history", "--all", "--format", "json")]
    assert commands == ["note", "tag", "queue add"]


def test_an_undone_read_is_not_counted_as_read(run, run_json):
    run("mark-read", "lora")
    run("undo")
    exported = json.loads(
        run("export", "--search", "lora", "--year", "2021", "--format", "json").stdout
    )
    assert exported["papers"][0]["history"] == []


def test_notes_can_be_edited_deleted_and_listed_across_papers(run, run_json, monkeypatch, tmp_path):
    assert run("note", "lora", "first", "thought").stdout == "noted on lora\n"
    run("note", "qlora", "4-bit")
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "1s/.*/second thought/" "$1"\n', encoding="utf-8")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    assert run("note", "lora", "--edit", "1").stdout == "edited note 1 of lora\n"
    assert run_json("show", "lora", "--format", "json")["notes"][0]["body"] == "second thought"
    listed = run_json("notes", "--format", "json")
    assert [(n["id"], n["number"], n["note"]) for n in listed] == [
        ("qlora", 1, "4-bit"),
        ("lora", 1, "second thought"),
    ]
    assert run("note", "lora", "--delete", "1").exit_code == 0
    assert run_json("show", "lora", "--format", "json")["notes"] == []
    missing = run("note", "lora", "--delete", "3")
    assert missing.exit_code == 1
    assert "lora has no note 3 (it has none" in missing.stderr


def _user_paper(db: Path) -> None:
    conn = connection.open_database(db, paths.seed_path())
    with base.transaction(conn):
        papers.insert_paper(
            conn, Paper("mine", "My Own Paper", "Mine", 2024, "2024-02-02", origin="user")
        )
    conn.close()


def test_remove_deletes_a_users_paper_and_undo_brings_it_all_back(run, db_path):
    run("list", "--limit", "1")
    _user_paper(db_path)
    run("mark-reading", "mine")
    run("note", "mine", "keep this")
    run("tag", "mine", "+own")
    run("queue", "add", "lora", "mine")
    before = _state(run)
    result = run("remove", "mine")
    assert result.exit_code == 0, result.output
    assert result.stdout == "removed mine\n"
    assert run("show", "mine").exit_code == 1
    assert _queue(run) == ["lora"]
    assert run("undo").stdout.startswith("undone: removed mine")
    assert _state(run) == before


def test_catalogue_papers_cannot_be_removed(run):
    result = run("remove", "lora", "--yes")
    assert result.exit_code == 1
    assert "papers of the catalogue cannot be removed; mark them skipped instead" in result.stderr
    assert run("show", "lora").exit_code == 0


def test_an_earlier_databases_mark_commands_still_undo(run, db_path):
    """A mark-read from before the change log: migration 8 turns it into undoable steps."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    script = "".join(migrations.MIGRATIONS[:7])
    conn.executescript(f"BEGIN; {script} PRAGMA user_version = 7; COMMIT;")
    conn.executescript(
        """
        INSERT INTO reading_state VALUES ('lora', 'read', '2024-01-02T00:00:00Z',
                                          '2024-01-02T00:00:00Z', NULL);
        INSERT INTO queue VALUES ('cot', 1, '2024-01-01T00:00:00Z');
        INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at,
                                    queue_position)
            VALUES (1, 'lora', 'unread', 'read', '2024-01-02T00:00:00Z', 1);
        """
    )
    conn.close()
    undone = run("undo")
    assert undone.exit_code == 0, undone.output
    assert undone.stdout == "undone: lora: unread -> read\nlora: read -> unread (undone)\n"
    assert _queue(run) == ["lora", "cot"]
    assert json.loads(run("show", "lora", "--format", "json").stdout)["status"] == "unread"


def _burrows(count: int) -> list[dict[str, object]]:
    """New papers for an import file: a chain of prerequisites, every other one read, with
    a note, a tag and a place in the queue."""
    return [
        {"id": f"burrow-{i}", "title": f"Burrowing {i}", "short_name": f"burrow{i}",
         "year": 2024, "date": "2024-02-02", "prerequisites": [f"burrow-{i - 1}" if i else "lora"],
         "status": "read" if i % 2 else "unread", "status_changed_at": "2024-03-01T10:00:00Z",
         "read_at": "2024-03-01T10:00:00Z" if i % 2 else None, "tags": ["deep"],
         "notes": [{"created_at": "2024-03-01T10:00:00Z", "body": f"on burrow {i}"}],
         "queue_position": i + 1}
        for i in range(count)
    ]  # fmt: skip


def test_undo_of_a_big_import_takes_back_every_paper_and_redo_brings_them_again(
    run, tmp_path, monkeypatch
):
    """Undo removes an import's papers a group at a time (here groups of two): each with
    its state, note, tag, queue place and the links naming it, and nothing else."""
    from papercli.store import changes

    monkeypatch.setattr(changes, "REMOVED_TOGETHER", 2)
    run("queue", "add", "lora")
    head = {"format": "papercli-export", "version": 1, "exported_on": "2024-03-02"}
    source = tmp_path / "burrows.json"
    source.write_text(json.dumps({**head, "papers": _burrows(7)}))
    before = _state(run)
    assert run("import", str(source)).exit_code == 0
    imported = _state(run)
    assert _queue(run)[:2] == ["lora", "burrow-0"]
    assert json.loads(run("show", "burrow-3", "--format", "json").stdout)["status"] == "read"

    assert run("undo").stdout.startswith("undone: imported 7 papers")
    assert _state(run) == before
    assert run("search", "burrowing").stdout == ""
    assert run("redo").exit_code == 0
    assert _state(run) == imported


def test_removing_papers_that_need_each_other_and_undoing_keeps_their_links(run, tmp_path):
    head = {"format": "papercli-export", "version": 1, "exported_on": "2024-03-02"}
    source = tmp_path / "burrows.json"
    source.write_text(json.dumps({**head, "papers": _burrows(3)}))
    assert run("import", str(source)).exit_code == 0
    before = _state(run)
    assert run("remove", "burrow-0", "burrow-1", "burrow-2", "--yes").exit_code == 0
    assert run("show", "burrow-1").exit_code == 1
    assert run("undo").exit_code == 0
    assert _state(run) == before
    path = json.loads(run("path", "burrow-2", "--format", "json").stdout)
    assert [p["id"] for p in path][-3:] == ["burrow-0", "burrow-1", "burrow-2"]


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_a_mark_read_of_many_papers_goes_a_chunk_at_a_time_and_undoes_whole(
    run, monkeypatch, chunk
):
    """The papers given wait on disk and are marked CHUNK at a time: whatever the chunk,
    the output keeps their order (each once), queued ones leave the queue, and undo puts
    each back at its place (their places interleaved with papers not marked)."""
    from papercli.store import scratch

    monkeypatch.setattr(scratch, "CHUNK", chunk)
    assert run("queue", "add", "bert", "lora", "gpt-3", "qlora", "cot", "dpo").exit_code == 0
    assert run("mark-read", "transformer").exit_code == 0
    before = _state(run)
    given = "bert\ndpo\nlora\ntransformer\nDPO\n\ncot\n"
    marked = run("mark-read", "-", input=given)
    assert marked.exit_code == 0, marked.output
    assert marked.stdout.splitlines() == [
        "bert: unread -> read (removed from the queue)",
        "dpo: unread -> read (removed from the queue)",
        "lora: unread -> read (removed from the queue)",
        "cot: unread -> read (removed from the queue)",
        "transformer: already read, nothing to do",
    ]
    assert _queue(run) == ["gpt-3", "qlora"]
    after = _state(run)
    undone = run("undo")
    assert undone.exit_code == 0, undone.output
    assert undone.stdout.splitlines()[0] == "undone: marked bert, dpo, lora, cot read"
    assert _state(run) == before
    assert _queue(run) == ["bert", "lora", "gpt-3", "qlora", "cot", "dpo"]
    assert run("redo").exit_code == 0
    assert _state(run) == after


def test_a_batch_with_many_bad_references_names_the_first_and_changes_nothing(run, run_json):
    """Past ten problems the rest of the input is not read: the error names ten, says
    there are more, and nothing is marked."""
    given = "lora\n" + "".join(f"no-such-paper-{n}\n" for n in range(30)) + "qlora\n"
    result = run("mark-read", "-", input=given)
    assert (result.exit_code, result.stdout) == (1, "")
    message = result.stderr.strip()
    assert message.count("no paper matches") == 10 and "'no-such-paper-9'" in message
    assert "'no-such-paper-10'" not in message
    assert message.endswith("; and more; nothing was changed")
    assert run_json("show", "lora", "--format", "json")["status"] == "unread"


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_tagging_many_papers_goes_a_chunk_at_a_time_and_undoes_whole(run, monkeypatch, chunk):
    """Papers to tag wait on disk too: whatever the chunk, each is tagged and printed
    once, in order, and one undo takes the whole command back (a tag taken off in another
    case comes back as it was written), and redo does it again."""
    from papercli.store import scratch

    monkeypatch.setattr(scratch, "CHUNK", chunk)
    assert run("tag", "lora", "qlora", "+old", "+Side", "+kept").exit_code == 0
    assert run("tag", "cot", "+SIDE").exit_code == 0
    before = _state(run)
    tagged = run(
        "tag", "-", "+new", "-old", "-side", "-kept", "+kept",
        input="qlora\nbert\nQLoRA\nlora\ngpt-3\ncot\nreact\n",
    )  # fmt: skip
    assert tagged.exit_code == 0, tagged.output
    after = _state(run)
    assert tagged.stdout.splitlines() == [
        "qlora: kept, new",
        "bert: kept, new",
        "lora: kept, new",
        "gpt-3: kept, new",
        "cot: kept, new",
        "react: kept, new",
    ]
    undone = run("undo")
    assert undone.stdout.splitlines() == [
        "undone: tagged qlora, bert, lora, gpt-3, cot and 1 more +new +kept -old -side"
    ]
    assert _state(run) == before  # "Side" and "SIDE" back as they were written
    assert run("redo").exit_code == 0
    assert _state(run) == after


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_queueing_and_unqueueing_many_papers_go_a_chunk_at_a_time(run, monkeypatch, chunk):
    """Papers to queue or take out wait on disk: whatever the chunk, those added land
    together at --at in the order given (each once), those queued keep their places,
    read ones are left out and named; `queue remove` takes papers out in any order and
    its undo puts each back at its place."""
    from papercli.store import scratch

    monkeypatch.setattr(scratch, "CHUNK", chunk)
    assert run("queue", "add", "bert", "lora", "gpt-3").exit_code == 0
    assert run("mark-read", "transformer", "dpo").exit_code == 0
    given = "cot\nlora\ntransformer\nreact\nCoT\ndpo\ntoolformer\n"
    added = run("queue", "add", "-", "--at", "2", input=given)
    assert added.exit_code == 0, added.output
    assert added.stdout.splitlines() == [
        "queued cot",
        "queued react",
        "queued toolformer",
        "lora is already in the queue; its place is unchanged",
    ]
    assert added.stderr == (
        "not queued, already read: transformer, dpo (use --force to queue them)\n"
    )
    assert _queue(run) == ["bert", "cot", "react", "toolformer", "lora", "gpt-3"]
    assert run("undo").stdout == "undone: queued cot, react, toolformer\n"
    assert _queue(run) == ["bert", "lora", "gpt-3"]
    assert run("redo").exit_code == 0
    before = _state(run)
    removed = run("queue", "remove", "-", input="gpt-3\nqlora\nbert\ntoolformer\ncot\nGPT-3\n")
    assert removed.stdout.splitlines() == [
        "removed gpt-3",
        "removed bert",
        "removed toolformer",
        "removed cot",
        "qlora was not in the queue",
    ]
    assert _queue(run) == ["react", "lora"]
    assert run("undo").stdout == "undone: took gpt-3, bert, toolformer, cot out of the queue\n"
    assert _state(run) == before


def test_many_read_papers_left_out_of_the_queue_are_counted_not_all_named(run):
    """The message naming the read papers not queued names five and counts the rest,
    as command summaries do."""
    read = ["lora", "qlora", "bert", "gpt-3", "cot", "react", "dpo"]
    assert run("mark-read", *read).exit_code == 0
    refused = run("queue", "add", "-", input="\n".join(read))
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: not queued, already read: lora, qlora, bert, gpt-3, cot and 2 more"
        " (use --force to queue them)\n"
    )


@pytest.mark.parametrize(("chunk", "together"), [(1, 1), (2, 3), (1000, 20_000)])
def test_removing_many_papers_goes_a_chunk_at_a_time_and_undoes_whole(
    run, tmp_path, db_path, monkeypatch, chunk, together
):
    """`remove` reads its papers onto disk, takes every paper's copy for undo before any
    is gone (a chunk's together), then removes them `together` at a time: the links among
    them, their queue places (given in any order), their notes (numbers and sync ids
    too), tags and everything else come back with one undo, and again after a redo."""
    from papercli.store import changes, scratch

    monkeypatch.setattr(scratch, "CHUNK", chunk)
    monkeypatch.setattr(changes, "REMOVED_TOGETHER", together)
    head = {"format": "papercli-export", "version": 1, "exported_on": "2024-03-02"}
    source = tmp_path / "burrows.json"
    burrows = _burrows(5)
    for i, paper in enumerate(burrows[:4]):  # the last: one note and one tag, as given
        paper["tags"] = ["deep", f"side-{i % 2}"]
        paper["notes"] = [  # two in one second, then one before them
            {"created_at": "2024-03-01T10:00:00Z", "body": f"more on burrow {i}"},
            *paper["notes"],  # type: ignore[list-item]
            {"created_at": "2024-02-01T10:00:00Z", "body": f"first on burrow {i}"},
        ]
    burrows[2]["tags"] = []
    source.write_text(json.dumps({**head, "papers": burrows}))
    assert run("import", str(source)).exit_code == 0
    assert run("queue", "add", "lora", "--top").exit_code == 0
    before = _state(run)
    stored = "SELECT paper_id, id, created_at, body, uid FROM notes ORDER BY paper_id, id"
    notes_before = sqlite3.connect(db_path).execute(stored).fetchall()
    given = "burrow-3\nburrow-0\nburrow4\nburrow-3\nburrow-1\nburrow-2\n"
    removed = run("remove", "-", input=given)
    assert removed.exit_code == 0, removed.output
    expected = ["burrow-3", "burrow-0", "burrow-4", "burrow-1", "burrow-2"]
    assert removed.stdout.splitlines() == [f"removed {pid}" for pid in expected]
    assert _queue(run) == ["lora"]
    assert run("undo").stdout.splitlines()[0] == (
        "undone: removed burrow-3, burrow-0, burrow-4, burrow-1, burrow-2"
    )
    assert _state(run) == before
    assert sqlite3.connect(db_path).execute(stored).fetchall() == notes_before  # uids too
    assert run("redo").exit_code == 0
    assert run("show", "burrow-0").exit_code == 1
    assert run("undo").exit_code == 0
    assert _state(run) == before
    path = json.loads(run("path", "burrow-4", "--format", "json").stdout)
    assert [p["id"] for p in path][-5:] == [f"burrow-{i}" for i in range(5)]


def test_removing_queued_papers_leaves_the_queue_numbered_from_one(run, tmp_path, db_path):
    head = {"format": "papercli-export", "version": 1, "exported_on": "2024-03-02"}
    source = tmp_path / "burrows.json"
    source.write_text(json.dumps({**head, "papers": _burrows(2)}))
    assert run("import", str(source)).exit_code == 0
    assert run("queue", "add", "burrow-0", "lora", "burrow-1", "qlora").exit_code == 0
    assert run("remove", "burrow-1", "burrow-0").exit_code == 0
    places = sqlite3.connect(db_path).execute("SELECT paper_id, position FROM queue ORDER BY 2")
    assert places.fetchall() == [("lora", 1), ("qlora", 2)]


def test_removing_catalogue_papers_names_five_and_changes_nothing(run):
    result = run("remove", "-", input="lora\nqlora\nbert\ngpt-3\ncot\nreact\ndpo\n")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: lora, qlora, bert, gpt-3, cot and 2 more: papers of the catalogue cannot be"
        " removed; mark them skipped instead (papercli mark-skipped lora qlora bert gpt-3 cot"
        " ...)\n"
    )


def _places_as_before(
    queue: list[tuple[str, str, str | None]], places: list[tuple[str, int | None]]
) -> list[tuple[str, int, str, str | None]]:
    """What undo made of the queue when it rewrote it whole in Python (the code before
    3 December): the queue without the papers named, each put back at its place in turn."""
    added = {pid: at for pid, at, _ in queue}
    named = {pid for pid, _ in places}
    keys = {pid: key for pid, _, key in queue if pid not in named}
    order = [pid for pid, _, _ in queue if pid not in named]
    for pid, position in places:
        if position is not None:
            order.insert(max(0, min(position - 1, len(order))), pid)
    return [(pid, i, added.get(pid, "now"), keys.get(pid)) for i, pid in enumerate(order, 1)]


@settings(max_examples=300, deadline=None)
@given(
    staying=st.integers(0, 25),
    places=st.lists(
        st.tuples(st.integers(0, 34), st.none() | st.integers(-2, 40)),
        unique_by=lambda place: place[0],
        max_size=12,
    ),
)
def test_undo_puts_queue_places_back_as_inserting_them_in_turn(staying, places):
    """Undo and redo put papers back in the queue without holding it (a run at a time in
    SQL); the result is the one inserting each in turn into a list gives."""
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE queue (paper_id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " added_at TEXT NOT NULL, sort_key TEXT)"
    )
    queue = [(f"p{i}", f"2026-01-{i + 1:02d}", f"k{i}" if i % 3 else None) for i in range(staying)]
    conn.executemany(
        "INSERT INTO queue VALUES (?, ?, ?, ?)",
        [(pid, i, at, key) for i, (pid, at, key) in enumerate(queue, 1)],
    )
    named = [(f"p{n}", position) for n, position in places]

    with changes.QueuePlaces() as steps:
        for pid, position in named:  # each as the command left it: nothing changed since
            steps.add(pid, position, None, left_queued=int(pid[1:]) < staying)
        steps.set(conn)

    got = conn.execute(
        "SELECT paper_id, position, added_at, sort_key FROM queue ORDER BY position"
    ).fetchall()
    expected = _places_as_before(queue, named)
    assert [(p, i, key) for p, i, _, key in got] == [(p, i, key) for p, i, _, key in expected]
    kept = [(g[2], e[2]) for g, e in zip(got, expected, strict=True) if e[2] != "now"]
    assert all(at == was for at, was in kept)  # a paper that was queued keeps its date


@settings(max_examples=300, deadline=None)
@given(
    length=st.integers(0, 40),
    taken=st.sets(st.integers(1, 40), max_size=15),
    chunk=st.sampled_from([1, 3, 1000]),
)
def test_taking_papers_out_closes_the_gaps_in_the_queue_s_order(length, taken, chunk):
    """Papers leaving the queue (a status, `queue remove`) no longer renumber the whole
    queue: the papers after each place taken move up a run at a time, and past a chunk
    of places the queue is renumbered at once. Either way the rest keep their order,
    numbered from 1."""
    from papercli.store import library, scratch

    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE queue (paper_id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " added_at TEXT NOT NULL, sort_key TEXT); CREATE INDEX queue_position ON queue (position);"
    )
    conn.executemany(
        "INSERT INTO queue VALUES (?, ?, 'x', NULL)", [(f"p{i}", i) for i in range(1, length + 1)]
    )
    leaving = [(f"p{place}", place) for place in sorted(taken, reverse=True) if place <= length]
    recorded = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scratch, "CHUNK", chunk)
        patch.setattr(changes, "GAP_RUNS_MAX", chunk)
        patch.setattr(changes, "record", lambda *step, **kw: recorded.append((*step[2:], kw)))
        library._dequeue_places(conn, 1, leaving)
    staying = [f"p{i}" for i in range(1, length + 1) if i not in taken]
    got = conn.execute("SELECT paper_id, position FROM queue ORDER BY position").fetchall()
    assert got == [(pid, i) for i, pid in enumerate(staying, 1)]
    # Each with the time it was queued, for an undo to put it back with.
    assert recorded == [("queue", pid, place, None, {"added_at": "x"}) for pid, place in leaving]


def test_redo_takes_the_last_undone_first_when_the_clock_steps_back_between_undos(run, monkeypatch):
    """Until 3 December redo took the command undone at the latest wall-clock time: after
    the clock stepped back (a time sync, a dead CMOS battery) it redid the older undo."""
    from papercli.store import library

    assert run("mark-read", "lora").exit_code == 0
    assert run("mark-read", "qlora").exit_code == 0
    monkeypatch.setattr(library, "clock", lambda: "2026-12-03T12:00:00Z")
    assert run("undo").stdout.startswith("undone: marked qlora read")
    monkeypatch.setattr(library, "clock", lambda: "2026-12-03T11:00:00Z")  # an hour back
    assert run("undo").stdout.startswith("undone: marked lora read")
    assert run("redo").stdout.startswith("redone: marked lora read")
    assert run("redo").stdout.startswith("redone: marked qlora read")


def test_two_prereq_changes_a_second_apart_both_undo(run, monkeypatch):
    """The undo step of `prereq gpt-2 -bert` put the link back with its own command's time,
    so the undo of `+bert` before it found the link "changed since" and left it."""
    from papercli.store import library

    for second, change in enumerate(["+bert", "-bert"]):
        monkeypatch.setattr(library, "clock", lambda second=second: f"2026-12-05T10:00:0{second}Z")
        assert run("prereq", "gpt-2", change).exit_code == 0
    monkeypatch.setattr(library, "clock", lambda: "2026-12-05T10:00:05Z")
    assert run("undo").stdout == "undone: prerequisites of gpt-2: -bert\n"
    undone = run("undo")
    assert (undone.stdout, undone.stderr) == ("undone: prerequisites of gpt-2: +bert\n", "")
    read_first = json.loads(run("show", "gpt-2", "--format", "json").stdout)["read_first"]
    assert [link["id"] for link in read_first] == ["gpt-1"]
    assert run("redo").exit_code == run("redo").exit_code == 0
    read_first = json.loads(run("show", "gpt-2", "--format", "json").stdout)["read_first"]
    assert [link["id"] for link in read_first] == ["gpt-1"]


def _queued_at(run) -> dict[str, str]:
    """When each queued paper was queued, as the JSON export says."""
    data = json.loads(run("export", "--format", "json").stdout)
    return {p["id"]: p["queued_at"] for p in data["papers"] if p["queue_position"] is not None}


@pytest.mark.parametrize(
    "command",
    [
        ["queue", "remove", "lora"],
        ["queue", "clear", "--yes"],
        ["mark-read", "lora"],
        ["mark-skipped", "lora", "mine"],
        ["remove", "mine", "--yes"],
    ],
)
def test_undo_puts_a_paper_back_in_the_queue_with_the_time_it_was_queued(
    run, db_path, monkeypatch, command
):
    """Until 4 December it came back queued at the time of the undo: an export before the
    command and one after its undo differed."""
    from papercli.store import library

    run("list", "--limit", "1")
    _user_paper(db_path)
    times = iter(f"2026-01-{day:02d}T10:00:00Z" for day in range(1, 29))
    monkeypatch.setattr(library, "clock", lambda: next(times))
    assert run("queue", "add", "lora").exit_code == 0
    assert run("queue", "add", "mine", "dpo").exit_code == 0
    queued = _queued_at(run)
    assert len(set(queued.values())) == 2  # lora queued before the others
    before = _state(run)
    assert run(*command).exit_code == 0
    assert _queued_at(run) != queued
    assert run("undo").exit_code == 0
    assert (_queued_at(run), _state(run)) == (queued, before)
    assert run("redo").exit_code == 0
    assert run("undo").exit_code == 0
    assert _state(run) == before


def test_redo_queues_a_paper_again_at_the_time_it_was_queued(run, monkeypatch):
    from papercli.store import library

    times = iter(f"2026-01-{day:02d}T10:00:00Z" for day in range(1, 29))
    monkeypatch.setattr(library, "clock", lambda: next(times))
    assert run("queue", "add", "lora", "dpo").exit_code == 0
    queued = _queued_at(run)
    assert run("undo").exit_code == 0
    assert _queued_at(run) == {}
    assert run("redo").exit_code == 0
    assert _queued_at(run) == queued


def test_an_undo_step_from_before_queued_times_puts_the_paper_back_queued_now(run, db_path):
    """A step without the time (recorded before 4 December) still undoes: the paper comes
    back queued at the time of the undo, as it did then."""
    run("queue", "add", "lora", "dpo")
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE queue SET added_at = '2020-01-01T00:00:00Z'")
    conn.close()
    run("queue", "remove", "lora")
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE undo_steps SET data = json_remove(data, '$.added_at')")
    conn.close()
    assert run("undo").exit_code == 0
    queued = _queued_at(run)
    assert queued["dpo"] == "2020-01-01T00:00:00Z"
    assert queued["lora"] != "2020-01-01T00:00:00Z"
