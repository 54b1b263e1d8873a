"""The import border: an export may be old, hand-edited, or hostile. Nothing newer is
rewound, a rejected file changes nothing, and no imported value can crash a later command."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from papercli.store import library

Run = Callable[..., Result]

EXIT_CODES = {0, 1}


def _export(run: Run, path: Path) -> dict[str, Any]:
    assert run("export", "--format", "json", "-o", str(path)).exit_code == 0
    return json.loads(path.read_text(encoding="utf-8"))


def _everything(run: Run) -> dict[str, Any]:
    """The whole database as a full JSON export (without the export date) plus the queue."""
    data = json.loads(run("export", "--format", "json").stdout)
    data.pop("exported_on")
    data["queue"] = run("queue", "--format", "json").stdout
    data["history"] = run("history", "--format", "json").stdout
    return data


def _status(run: Run, ref: str) -> dict[str, Any]:
    return json.loads(run("show", ref, "--format", "json").stdout)


# ---------------------------------------------------------------------------
# Nothing newer is rewound


def test_importing_an_older_export_keeps_what_happened_since(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papercli.store import library

    times = iter(f"2026-01-0{day}T10:00:00Z" for day in range(1, 10))
    monkeypatch.setattr(library, "clock", lambda: next(times))
    run("mark-reading", "qlora")  # 01
    run("queue", "add", "qlora", "dpo")  # 02
    old = tmp_path / "old.json"
    _export(run, old)
    run("mark-read", "qlora")  # read since the export, out of the queue
    read_at = _status(run, "qlora")["read_at"]

    result = run("import", str(old))
    assert result.exit_code == 0, result.output

    qlora = _status(run, "qlora")
    assert qlora["status"] == "read"
    assert qlora["read_at"] == read_at
    assert qlora["queue_position"] is None  # not re-queued
    changes = [
        (h["from"], h["to"]) for h in json.loads(run("history", "qlora", "--format", "json").stdout)
    ]
    assert changes == [("reading", "read"), ("unread", "reading")]
    undone = run("undo")  # the import changed nothing: undo reverts the mark-read
    assert undone.exit_code == 0, undone.output
    assert _status(run, "qlora")["status"] == "reading"
    assert run("undo").exit_code == 0


def test_an_older_export_does_not_put_back_in_the_queue_what_was_taken_out_since(
    run: Run, tmp_path: Path
) -> None:
    """Until 3 December it did; `--queue` asks for every paper of the file in the queue."""
    run("queue", "add", "rag", "dpo")
    old = tmp_path / "old.json"
    _export(run, old)
    run("queue", "remove", "rag")
    result = run("import", str(old))
    assert (result.exit_code, result.stdout) == (0, ""), result.output
    assert run("queue", "--format", "ids").stdout.split() == ["dpo"]
    fresh = str(tmp_path / "fresh.db")  # nothing taken out there: the file's queue holds
    assert run("--db", fresh, "import", str(old)).exit_code == 0
    assert run("--db", fresh, "queue", "--format", "ids").stdout.split() == ["rag", "dpo"]
    asked = run("import", str(old), "--queue")
    assert asked.exit_code == 0, asked.output
    assert "rag" in run("queue", "--format", "ids").stdout.split()


def _taken_out_then_exported(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """rag and dpo queued on 2 January, exported, then rag taken out here on 4 January;
    each command after it runs on the day ``_on`` gives."""
    from papercli.store import library

    monkeypatch.setattr(library, "clock", lambda: _TODAY[0])
    _on(2, run, "queue", "add", "rag", "dpo")
    document = _export(run, tmp_path / "old.json")
    _on(4, run, "queue", "remove", "rag")
    return document


_TODAY = ["2026-01-01T10:00:00Z"]


def _on(day: int, run: Run, *args: str) -> None:
    """Run the command at ten on that day of January 2026 (``library.clock`` patched)."""
    _TODAY[0] = f"2026-01-{day:02d}T10:00:00Z"
    result = run(*args)
    assert result.exit_code == 0, result.output


def _queued_at_of(document: dict[str, Any], paper_id: str, value: object) -> Path:
    """The export with the time the paper was queued changed (None: the key left out)."""
    paper = next(p for p in document["papers"] if p["id"] == paper_id)
    paper.pop("queued_at", None)
    if value is not None:
        paper["queued_at"] = value
    path = Path(document["_dir"]) / f"{paper_id}-{value}.json"
    path.write_text(json.dumps({k: v for k, v in document.items() if k != "_dir"}), "utf-8")
    return path


def test_an_export_says_when_each_paper_was_queued(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _taken_out_then_exported(run, tmp_path, monkeypatch)
    queued = {p["id"]: p["queued_at"] for p in document["papers"] if p["queued_at"]}
    assert queued == {"rag": "2026-01-02T10:00:00Z", "dpo": "2026-01-02T10:00:00Z"}
    fresh = str(tmp_path / "fresh.db")  # queued as the file says, so it exports the same
    assert run("--db", fresh, "import", str(tmp_path / "old.json")).exit_code == 0
    again = json.loads(run("--db", fresh, "export", "--format", "json").stdout)
    assert {p["id"]: p["queued_at"] for p in again["papers"] if p["queued_at"]} == queued


def test_a_paper_queued_in_the_file_after_it_was_taken_out_here_is_queued_again(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The later action stands: until 4 December a paper taken out here stayed out
    whatever the file, as the export did not say when each paper was queued."""
    document = _taken_out_then_exported(run, tmp_path, monkeypatch) | {"_dir": str(tmp_path)}
    _on(5, run, "queue", "add", "cot")
    old = _queued_at_of(document, "rag", "2026-01-02T10:00:00Z")  # before the removal
    same = _queued_at_of(document, "rag", "2026-01-04T10:00:00Z")  # in its second
    unsaid = _queued_at_of(document, "rag", None)  # an export from before 4 December
    for path in (old, same, unsaid):
        result = run("import", str(path))
        assert (result.exit_code, result.stdout) == (0, ""), result.output
        assert run("queue", "--format", "ids").stdout.split() == ["dpo", "cot"]
    newer = _queued_at_of(document, "rag", "2026-01-04T10:00:01Z")
    result = run("import", str(newer))
    assert (result.exit_code, result.stdout) == (0, "queued: rag\n"), result.output
    assert run("queue", "--format", "ids").stdout.split() == ["dpo", "cot", "rag"]
    rag = next(p for p in _export(run, tmp_path / "now.json")["papers"] if p["id"] == "rag")
    assert (rag["queue_position"], rag["queued_at"]) == (3, "2026-01-04T10:00:01Z")
    assert run("undo").exit_code == 0
    assert run("queue", "--format", "ids").stdout.split() == ["dpo", "cot"]


def test_a_paper_taken_out_again_after_the_file_queued_it_stays_out(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken out, queued again and taken out again here: the latest removal counts, and an
    undo of a queue add is one."""
    document = _taken_out_then_exported(run, tmp_path, monkeypatch) | {"_dir": str(tmp_path)}
    _on(5, run, "queue", "add", "rag")
    _on(6, run, "mark-skipped", "rag")  # out of the queue again
    _on(7, run, "mark-unread", "rag")
    newer = _queued_at_of(document, "rag", "2026-01-05T12:00:00Z")  # after the first removal
    result = run("import", str(newer))
    assert (result.exit_code, result.stdout) == (0, ""), result.output
    assert run("queue", "--format", "ids").stdout.split() == ["dpo"]
    assert run("undo").exit_code == 0  # the import changed nothing: this undoes the unread
    for _ in ("the skip", "the second queue add"):  # on the 7th: that undo is the latest removal
        assert run("undo").exit_code == 0
    assert run("queue", "--format", "ids").stdout.split() == ["dpo"]
    result = run("import", str(newer))  # until 5 December the undo did not count: queued
    assert (result.exit_code, result.stdout) == (0, ""), result.output
    after_undo = _queued_at_of(document, "rag", "2026-01-07T10:00:01Z")
    _TODAY[0] = "2026-01-08T10:00:00Z"
    result = run("import", str(after_undo))
    assert (result.exit_code, result.stdout) == (0, "queued: rag\n"), result.output


@pytest.mark.parametrize(
    ("stored", "exported"),
    [
        ("2026-11-20 10:00:00", "2026-11-20T10:00:00Z"),  # SQLite's datetime('now')
        ("2024-01-01", "2024-01-01T00:00:00Z"),
        ("x", None),
    ],
)
def test_a_queue_time_stored_in_an_older_form_exports_a_backup_that_imports(
    run: Run, tmp_path: Path, db_path: Path, stored: str, exported: str | None
) -> None:
    """Older versions queued papers at datetime('now'), without the T and Z: exported as
    it was, the queued_at of such a paper made the backup one its import refused."""
    assert run("queue", "add", "lora").exit_code == 0
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        db.execute("UPDATE queue SET added_at = ? WHERE paper_id = 'lora'", (stored,))
    lora = next(p for p in _export(run, tmp_path / "b.json")["papers"] if p["id"] == "lora")
    assert lora["queued_at"] == exported
    fresh = str(tmp_path / "fresh.db")
    result = run("--db", fresh, "import", str(tmp_path / "b.json"))
    assert result.exit_code == 0, result.output
    assert run("--db", fresh, "queue", "--format", "ids").stdout == "lora\n"


def test_import_queue_of_an_old_export_queues_a_paper_taken_out_since_as_of_now(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--queue queues it as asked, at the time of the import: the file's time, before it
    was taken out here, would say it was queued before the removal that came after."""
    document = _taken_out_then_exported(run, tmp_path, monkeypatch) | {"_dir": str(tmp_path)}
    old = _queued_at_of(document, "rag", "2026-01-02T10:00:00Z")
    _on(6, run, "import", str(old), "--queue")
    queued = {p["id"]: p["queued_at"] for p in _export(run, tmp_path / "now.json")["papers"]}
    assert (queued["rag"], queued["dpo"]) == ("2026-01-06T10:00:00Z", "2026-01-02T10:00:00Z")


def test_an_older_export_does_not_bring_back_a_status_undone_since(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The undo is the later change, though the unread status it left has no time."""
    from papercli.store import library

    times = iter(f"2026-01-0{day}T10:00:00Z" for day in range(1, 10))
    monkeypatch.setattr(library, "clock", lambda: next(times))
    run("mark-read", "lora")
    old = tmp_path / "old.json"
    _export(run, old)
    assert run("undo").exit_code == 0
    result = run("import", str(old))
    assert result.exit_code == 0, result.output
    assert "restored" not in result.stdout
    assert _status(run, "lora")["status"] == "unread"
    fresh = str(tmp_path / "fresh.db")  # where nothing happened, the file's status holds
    assert run("--db", fresh, "import", str(old)).exit_code == 0
    assert (
        json.loads(run("--db", fresh, "show", "lora", "--format", "json").stdout)["status"]
        == "read"
    )


def test_a_status_without_a_time_is_older_than_any_here(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It restores a paper never changed here, once; a status set here stays (it was
    stamped with the import's time, and won)."""
    from papercli.store import library

    times = iter(f"2026-01-0{day}T10:00:00Z" for day in range(1, 10))
    monkeypatch.setattr(library, "clock", lambda: next(times))
    document = _export(run, tmp_path / "all.json")
    papers = {p["id"]: p for p in document["papers"]}
    for paper_id in ("lora", "qlora"):
        papers[paper_id] |= {"status": "reading", "status_changed_at": None}
    document["papers"] = [papers["lora"], papers["qlora"]]
    path = tmp_path / "undated.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    run("mark-skipped", "lora")
    result = run("import", str(path))
    assert (result.exit_code, result.stdout) == (0, "restored: qlora\n"), result.output
    assert (_status(run, "lora")["status"], _status(run, "qlora")["status"]) == (
        "skipped",
        "reading",
    )
    again = run("import", str(path))
    assert (again.exit_code, again.stdout) == (0, ""), again.output


def test_a_status_dated_after_this_clock_never_undoes_a_change_made_here(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file from a clock that ran years ahead: its status was later than anything done
    here until then, so each import of it set the status again over yours. It counts as a
    status without a time (and is stored at the import's time); the file still imports."""
    monkeypatch.setattr(library, "clock", lambda: _TODAY[0])
    document = _export(run, tmp_path / "all.json")
    papers = {p["id"]: p for p in document["papers"]}
    for paper_id in ("lora", "qlora"):
        papers[paper_id] |= {"status": "skipped", "status_changed_at": "2031-01-01T00:00:00Z"}
    document["papers"] = [papers["lora"], papers["qlora"]]
    path = tmp_path / "ahead.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _on(2, run, "mark-read", "lora")
    _on(3, run, "import", str(path))
    assert (_status(run, "lora")["status"], _status(run, "qlora")["status"]) == ("read", "skipped")
    assert _status(run, "qlora")["status_changed_at"] == "2026-01-03T10:00:00Z"
    warning = "qlora: status_changed_at 2031-01-01T00:00:00Z is later than this computer's clock"
    _on(4, run, "mark-unread", "lora", "qlora")
    again = run("import", str(path))
    assert (again.exit_code, again.stdout) == (0, ""), again.output
    assert warning in again.stderr
    assert (_status(run, "lora")["status"], _status(run, "qlora")["status"]) == ("unread",) * 2


def test_a_queue_time_after_this_clock_does_not_queue_again_a_paper_taken_out_here(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued at a time later than every removal until then, it came back at each import."""
    document = _taken_out_then_exported(run, tmp_path, monkeypatch) | {"_dir": str(tmp_path)}
    ahead = _queued_at_of(document, "rag", "2031-01-01T00:00:00Z")
    for _ in range(2):
        result = run("import", str(ahead))
        assert (result.exit_code, result.stdout) == (0, ""), result.output
        assert "rag: queued_at 2031-01-01T00:00:00Z is later than" in result.stderr
        assert run("queue", "--format", "ids").stdout.split() == ["dpo"]
    fresh = str(tmp_path / "fresh.db")  # nothing taken out there: queued as of the import
    _on(5, run, "--db", fresh, "import", str(ahead))
    queued = json.loads(run("--db", fresh, "queue", "--format", "json").stdout)
    assert [(p["id"], p["queued_at"][:10]) for p in queued] == [
        ("rag", "2026-01-05"),
        ("dpo", "2026-01-02"),
    ]


def _as_left_before(db_path: Path, script: str) -> None:
    """The database as an earlier papercli (or an import it made) left it: ``script``."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.executescript(script)
    conn.close()


def _read_elsewhere(run: Run, tmp_path: Path, day: int) -> Path:
    """A file from another machine where lora was read at ten on that day of January 2026."""
    document = _export(run, tmp_path / "all.json")
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    lora |= {"status": "read", "status_changed_at": f"2026-01-{day:02d}T10:00:00Z"}
    path = tmp_path / "elsewhere.json"
    path.write_text(json.dumps(document | {"papers": [lora]}), encoding="utf-8")
    return path


def test_the_upgrade_stores_its_own_time_for_a_status_or_queue_time_ahead_of_the_clock(
    run: Run, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import stored such a time until 4 December, and it won every comparison until
    that date: a status set elsewhere since was not taken from the next file. The upgrade
    to schema 23 stores its own time in its place."""
    monkeypatch.setattr(library, "clock", lambda: _TODAY[0])
    _on(1, run, "mark-skipped", "lora")
    _on(1, run, "queue", "add", "rag")
    _as_left_before(  # as an import before 4 December left them, at schema 22
        db_path,
        "UPDATE reading_state SET changed_at = '2031-01-01T00:00:00Z';"
        " UPDATE queue SET added_at = '2031-01-01T00:00:00Z'; PRAGMA user_version = 22;",
    )
    _on(2, run, "list", "--limit", "1")
    assert _status(run, "lora")["status_changed_at"] == "2026-01-02T10:00:00Z"
    queued = json.loads(run("queue", "--format", "json").stdout)
    assert [(p["id"], p["queued_at"]) for p in queued] == [("rag", "2026-01-02T10:00:00+00:00")]

    _on(4, run, "import", str(_read_elsewhere(run, tmp_path, 3)))
    assert _status(run, "lora")["status"] == "read"


def test_the_upgrade_also_mends_such_a_time_that_undo_would_put_back(
    run: Run, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Undoing a `mark-read` made after such an import (or redoing the import) put back
    its status with the time from ahead of the clock, which won again; schema 24 mends
    the undo log's steps too."""
    monkeypatch.setattr(library, "clock", lambda: _TODAY[0])
    _on(1, run, "mark-skipped", "lora")
    _on(2, run, "mark-read", "lora")
    _as_left_before(  # the skipped status as such an import left it, at schema 23
        db_path,
        "UPDATE undo_steps SET data = replace(data, '2026-01-01T10:00:00Z',"
        " '2031-01-01T00:00:00Z') WHERE action = 'state'; PRAGMA user_version = 23;",
    )
    _on(3, run, "undo")
    assert _status(run, "lora")["status"] == "skipped"
    assert _status(run, "lora")["status_changed_at"] == "2026-01-03T10:00:00Z"
    _on(3, run, "undo")  # and a redo of the step that set it
    _on(3, run, "redo")
    assert _status(run, "lora")["status_changed_at"] == "2026-01-03T10:00:00Z"

    _on(5, run, "import", str(_read_elsewhere(run, tmp_path, 4)))
    assert _status(run, "lora")["status"] == "read"


def test_a_step_left_as_migration_23_alone_left_its_status_is_undone(
    run: Run, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 23 gave the status its own upgrade's time and left the step that set it
    with the time from ahead of the clock: undo found them apart and kept the status, as
    if it had changed since. Schema 24 gives the step the status's time."""
    monkeypatch.setattr(library, "clock", lambda: _TODAY[0])
    _on(1, run, "mark-skipped", "lora")
    _as_left_before(  # as such an import, then migration 23 on 2 January, left them
        db_path,
        "UPDATE undo_steps SET data = replace(data, '2026-01-01T10:00:00Z',"
        " '2031-01-01T00:00:00Z') WHERE action = 'state';"
        " UPDATE reading_state SET changed_at = '2026-01-02T10:00:00Z';"
        " PRAGMA user_version = 23;",
    )
    _TODAY[0] = "2026-01-03T10:00:00Z"
    result = run("undo")
    undone = "undone: marked lora skipped\nlora: skipped -> unread (undone)\n"
    assert (result.exit_code, result.stdout, result.stderr) == (0, undone, "")
    assert _status(run, "lora")["status"] == "unread"
    assert run("redo").exit_code == 0
    assert _status(run, "lora")["status_changed_at"] == "2026-01-02T10:00:00Z"


def test_a_change_made_twice_in_a_second_is_imported_twice_and_once_only(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papercli.store import library

    monkeypatch.setattr(library, "clock", lambda: "2026-03-01T09:00:00Z")
    for command in ("mark-reading", "mark-unread", "mark-reading"):
        assert run(command, "lora").exit_code == 0
    backup = tmp_path / "backup.json"
    _export(run, backup)
    fresh = str(tmp_path / "fresh.db")
    for _ in range(2):  # a second import of the same file adds nothing
        assert run("--db", fresh, "import", str(backup)).exit_code == 0
        history = run("--db", fresh, "history", "lora", "--format", "json")
        changes = sorted((h["from"], h["to"]) for h in json.loads(history.stdout))
        assert changes == [("reading", "unread"), ("unread", "reading"), ("unread", "reading")]


def _ids_found(run: Run, words: str) -> list[str]:
    result = run("search", words, "--format", "json")
    return [paper["id"] for paper in json.loads(result.stdout)] if result.exit_code == 0 else []


def test_many_notes_on_one_paper_import_undo_and_redo_searchable(run: Run, tmp_path: Path) -> None:
    """The paper's search document is built once for all its imported notes, and again
    after undo and redo; a note added afterwards is found at once."""
    document = _export(run, tmp_path / "all.json")
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    at = "2026-03-01T09:00:00Z"  # all in one second
    lora["notes"] = [{"created_at": at, "body": f"note {i} zebra{i}"} for i in range(300)]
    document["papers"] = [lora]
    path = tmp_path / "notes.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    assert len(_status(run, "lora")["notes"]) == 300
    assert _ids_found(run, "zebra299") == ["lora"]
    assert run("undo").exit_code == 0
    assert _ids_found(run, "zebra299") == []
    assert run("redo").exit_code == 0
    assert _ids_found(run, "zebra0") == ["lora"]
    assert run("note", "lora", "quokka").exit_code == 0
    assert _ids_found(run, "quokka") == ["lora"]


def test_a_note_imported_into_a_second_that_lost_a_note_imports(run: Run, tmp_path: Path) -> None:
    """Imported notes are named by paper, time and number; a number freed by a delete
    is not given twice."""
    document = _export(run, tmp_path / "all.json")
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    at = "2026-03-01T09:00:00Z"
    for bodies in (["first", "second"], ["third"]):
        lora["notes"] = [{"created_at": at, "body": body} for body in bodies]
        document["papers"] = [lora]
        path = tmp_path / "notes.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        result = run("import", str(path))
        assert result.exit_code == 0, result.output
        if bodies[0] == "first":
            numbered = [n["body"] for n in _status(run, "lora")["notes"]]
            assert run("note", "lora", "--delete", str(numbered.index("first") + 1)).exit_code == 0
    assert sorted(n["body"] for n in _status(run, "lora")["notes"]) == ["second", "third"]


def test_an_export_with_newer_state_is_merged_and_one_undo_reverts_it(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papercli.store import library

    times = iter(f"2026-02-{day:02d}T10:00:00Z" for day in range(1, 20))
    monkeypatch.setattr(library, "clock", lambda: next(times))
    other = tmp_path / "other.db"
    run("--db", str(other), "mark-read", "lora")
    run("--db", str(other), "note", "lora", "from the laptop")
    run("--db", str(other), "tag", "lora", "+laptop")
    run("--db", str(other), "queue", "add", "dpo")
    laptop = tmp_path / "laptop.json"
    assert run("--db", str(other), "export", "--format", "json", "-o", str(laptop)).exit_code == 0

    run("note", "lora", "from the desktop")
    before = _everything(run)
    result = run("import", str(laptop))
    assert result.exit_code == 0, result.output
    lora = _status(run, "lora")
    assert lora["status"] == "read"
    # Notes are in the order they were written, wherever that was.
    assert [n["body"] for n in lora["notes"]] == ["from the laptop", "from the desktop"]
    assert lora["tags"] == ["laptop"]
    assert _status(run, "dpo")["queue_position"] == 1

    undone = run("undo")
    assert undone.exit_code == 0, undone.output
    assert undone.stdout.startswith("undone: imported")
    assert _everything(run) == before
    assert run("undo").stdout == "undone: added a note to lora\n"  # the command before


def test_undo_never_fails_on_state_later_commands_made(run: Run) -> None:
    assert run("queue", "add", "lora").exit_code == 0
    assert run("mark-read", "lora").exit_code == 0  # takes it out of the queue
    assert run("queue", "add", "lora", "--force").exit_code == 0  # back in by hand
    assert run("queue", "add", "dpo").exit_code == 0
    assert run("queue", "move", "dpo", "1").exit_code == 0
    for _ in range(2):  # the move, then dpo's queue add
        assert run("undo").exit_code == 0
    result = run("undo")  # queue add --force: lora leaves the queue again
    assert result.exit_code == 0, result.output
    assert result.stdout == "undone: queued lora\n"
    result = run("redo")  # and comes back
    assert result.stdout == "redone: queued lora\n"
    result = run("undo")
    result = run("undo")  # the mark-read: lora is unread, back at its place
    assert result.exit_code == 0, result.output
    assert "lora: read -> unread (undone)" in result.stdout
    queue = json.loads(run("queue", "--format", "json").stdout)
    assert [p["id"] for p in queue] == ["lora"]


def test_an_imported_alias_never_shadows_an_exact_id(run: Run, tmp_path: Path) -> None:
    document = _export(run, tmp_path / "all.json")
    evil = dict(document["papers"][0])
    evil.update(
        id="evil", short_name="lora", aliases=["lora", "qlora"], arxiv_id=None, title="Evil"
    )
    document["papers"] = [evil]
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    assert _status(run, "lora")["title"] == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert _status(run, "qlora")["id"] == "qlora"
    assert _status(run, "evil")["title"] == "Evil"


def test_prerequisite_cycles_in_a_file_are_dropped_with_a_warning(run: Run, tmp_path: Path) -> None:
    document = _export(run, tmp_path / "all.json")
    template = {k: v for k, v in document["papers"][0].items() if k != "history"}
    first = {**template, "id": "a-paper", "arxiv_id": None, "prerequisites": ["b-paper", "a-paper"]}
    second = {**template, "id": "b-paper", "arxiv_id": None, "prerequisites": ["a-paper", "nope"]}
    document["papers"] = [first, second]
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    # The walk starts at the file's first paper: b-paper's link back to it closes the cycle.
    assert "warning: b-paper: dropped prerequisite a-paper, which would make a cycle" in (
        result.stderr
    )
    assert "warning: a-paper: dropped a prerequisite on itself" in result.stderr
    assert "warning: b-paper: dropped prerequisite nope, an unknown paper" in result.stderr
    path_out = run("path", "a-paper", "--format", "json")
    assert [p["id"] for p in json.loads(path_out.stdout)] == ["b-paper", "a-paper"]


def test_a_long_chain_closing_into_a_cycle_loses_one_link(run: Run, tmp_path: Path) -> None:
    document = _export(run, tmp_path / "all.json")
    template = {k: v for k, v in document["papers"][0].items() if k != "history"}
    template["citation_key"] = None  # new papers, each of its own key
    length = 300
    document["papers"] = [
        {**template, "id": f"c{i}", "arxiv_id": None, "prerequisites": [f"c{(i + 1) % length}"]}
        for i in range(length)
    ]
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: c{length - 1}: dropped prerequisite c0, which would make a cycle"
    ]
    path_out = run("path", "c0", "--format", "json")
    assert [p["id"] for p in json.loads(path_out.stdout)] == [
        f"c{i}" for i in reversed(range(length))
    ]


def _import_papers(run: Run, tmp_path: Path, papers: list[dict[str, Any]]) -> Result:
    """Import these papers (their other fields those of the catalogue's first paper)."""
    document = _export(run, tmp_path / "all.json")
    template = {k: v for k, v in document["papers"][0].items() if k != "history"}
    document["papers"] = [{**template, "arxiv_id": None, **paper} for paper in papers]
    path = tmp_path / "papers.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return run("import", str(path))


def _undo_and_redo(run: Run) -> None:
    for command in ("undo", "redo"):
        result = run(command)
        assert result.exit_code == 0, result.output


def test_a_prerequisite_further_on_in_the_file_is_linked_and_redone(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is read once: a link to a paper not read yet (here two chunks on) is made
    once it is read whole. Until 4 December, redo put the paper back without it."""
    from papercli.store import scratch

    monkeypatch.setattr(scratch, "CHUNK", 2)
    papers = [{"id": f"p{i}", "prerequisites": []} for i in range(5)]
    papers[0]["prerequisites"] = ["p4", "nope", "p1"]
    papers[3]["prerequisites"] = ["p0"]
    result = _import_papers(run, tmp_path, papers)
    assert result.exit_code == 0, result.output
    assert "warning: p0: dropped prerequisite nope, an unknown paper" in result.stderr
    assert (_status(run, "p0")["prerequisites"], _status(run, "p3")["prerequisites"]) == (
        ["p1", "p4"],  # by date, then id
        ["p0"],
    )
    _undo_and_redo(run)
    assert (_status(run, "p0")["prerequisites"], _status(run, "p3")["prerequisites"]) == (
        ["p1", "p4"],
        ["p0"],
    )


@pytest.mark.parametrize("chunk", [1000, 1])
def test_a_prerequisite_links_to_the_paper_its_file_paper_is_here(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The file's `my-lora` is this library's `lora` (the same arXiv id), and its `qlora`
    (another arXiv id) is added as `qlora-2`: links to them go there, before or after them
    in the file. Until 4 December the first led nowhere and the second to this `qlora`."""
    from papercli.store import scratch

    monkeypatch.setattr(scratch, "CHUNK", chunk)
    wants = ["my-lora", "qlora"]
    papers = [
        {"id": "before", "prerequisites": wants},
        {"id": "my-lora", "arxiv_id": "2106.09685"},
        {"id": "qlora", "arxiv_id": "2501.00001", "title": "Not QLoRA"},
        {"id": "after", "prerequisites": wants},
        {"id": "self", "arxiv_id": "2501.00002", "prerequisites": ["also-self"]},
        {"id": "also-self", "arxiv_id": "2501.00002"},  # the same paper as `self`
    ]
    result = _import_papers(run, tmp_path, papers)
    assert result.exit_code == 0, result.output
    assert "added: before, qlora-2, after, self\n" in result.stdout
    assert "warning: self: dropped a prerequisite on itself" in result.stderr
    for paper_id in ("before", "after"):
        # By date: qlora-2 has the date of the catalogue's first paper.
        assert _status(run, paper_id)["prerequisites"] == ["qlora-2", "lora"]
    assert _status(run, "qlora")["title"] == "QLoRA: Efficient Finetuning of Quantized LLMs"


def test_an_import_undone_and_redone_keeps_its_cycles_broken(run: Run, tmp_path: Path) -> None:
    """Until 4 December, redo put back the link the import had dropped: the cycle again."""
    papers = [
        {"id": "a-paper", "prerequisites": ["b-paper"]},
        {"id": "b-paper", "prerequisites": ["a-paper"]},
    ]
    assert _import_papers(run, tmp_path, papers).exit_code == 0
    _undo_and_redo(run)
    assert _status(run, "a-paper")["prerequisites"] == ["b-paper"]
    assert _status(run, "b-paper")["prerequisites"] == []


def test_an_import_undone_and_redone_keeps_the_arxiv_metadata_it_brought(
    run: Run, tmp_path: Path
) -> None:
    """Until 4 December, the added paper's snapshot was taken before its arXiv metadata
    was stored: redo (and sync, to other machines) put it back without its abstract."""
    fetched = {
        "id": "fetched",
        "arxiv_id": "2301.00001",
        "url": None,
        "pdf_url": None,
        "abstract": "What the file's machine fetched.",
        "arxiv_version": 2,
        "arxiv_updated": "2023-02-01T00:00:00Z",
        "fetched_at": "2023-03-01T00:00:00Z",
    }
    assert _import_papers(run, tmp_path, [fetched]).exit_code == 0
    assert run("undo").stdout == "undone: imported 1 paper\n"  # until 4 December: 1 papers
    assert run("redo").stdout == "redone: imported 1 paper\n"
    shown = _status(run, "fetched")
    assert (shown["abstract"], shown["arxiv_version"]) == ("What the file's machine fetched.", 2)


def test_an_import_names_a_hundred_papers_and_counts_the_rest(run: Run, tmp_path: Path) -> None:
    document = _export(run, tmp_path / "all.json")
    template = {k: v for k, v in document["papers"][0].items() if k != "history"}
    template["citation_key"] = None  # new papers, each of its own key
    document["papers"] = [
        {
            **template,
            "id": f"p{i:03}",
            "arxiv_id": None,
            "prerequisites": ["x"],
            "queue_position": 1,
        }
        for i in range(250)
    ]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    named = ", ".join(f"p{i:03}" for i in range(100))
    assert f"added: {named} and 150 more\n" in result.stdout
    assert f"queued: {named} and 150 more\n" in result.stdout
    warnings = result.stderr.splitlines()
    assert warnings[0] == "warning: p000: dropped prerequisite x, an unknown paper"
    assert warnings[99] == "warning: p099: dropped prerequisite x, an unknown paper"
    assert warnings[100] == "warning: and 150 more warnings"
    assert (
        warnings[101] == "restored 0, added 250, already there 0, not found 0, failed 0, skipped 0"
    )
    queue = run("queue", "--format", "json")
    assert [p["id"] for p in json.loads(queue.stdout)][-250:] == [f"p{i:03}" for i in range(250)]


# ---------------------------------------------------------------------------
# Rejected files change nothing


def _one_paper(run: Run, tmp_path: Path) -> dict[str, Any]:
    document = _export(run, tmp_path / "all.json")
    paper = next(p for p in document["papers"] if p["id"] == "lora")
    # A new paper of its own: LoRA's key, taken here, would be warned about.
    return {
        **document,
        "papers": [{**paper, "id": "my-lora", "arxiv_id": None, "citation_key": None}],
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("year", "abc", "papers[0].year: expected int, got str"),
        ("year", 10**30, "papers[0].year: expected the year of its date"),
        ("id", "../../etc/passwd", "papers[0].id: '../../etc/passwd' is not a paper id"),
        ("id", "", "papers[0].id"),
        ("title", "x\ud800y", "papers[0].title: holds a lone surrogate"),
        ("title", "a\x1b[2Jb", "papers[0].title: holds a control character"),
        ("status", "done", "papers[0].status: invalid enum value 'done'"),
        ("read_version", -1, "papers[0].read_version: expected a number from 1 to 1000"),
        ("queue_position", 10**12, "papers[0].queue_position"),
        ("status_changed_at", "tomorrow", "papers[0].status_changed_at: expected a UTC time"),
        ("queued_at", "tomorrow", "papers[0].queued_at: expected a UTC time"),
        ("queued_at", "2026-02-30T10:00:00Z", "papers[0].queued_at: expected a UTC time"),
        ("queued_at", "2026-01-01T10:00:00+01:00", "papers[0].queued_at: expected a UTC time"),
        ("queued_at", 5, "papers[0].queued_at: expected str | null, got int"),
        (  # lora is not queued: a time when it was says something that is not so
            "queued_at",
            "2026-01-01T10:00:00Z",
            "papers[0].queued_at: is a time, but the paper has no queue_position",
        ),
        ("date", "2021-13-01", "papers[0].date: expected YYYY-MM-DD"),
        ("url", "javascript:alert(1)", "papers[0].url: only http(s) addresses"),
        ("notes", [{"created_at": "2026-01-01T00:00:00Z"}], "papers[0].notes[0]"),
        ("tags", [["nested"]], "papers[0].tags[0]: expected str, got array"),
        ("title", "t" * 2000, "papers[0].title: is 2,000 characters long"),
        # Until 3 December a tab or a line break passed where `add` and `tag` refuse them.
        ("tags", ["line\nbreak"], "papers[0].tags[0]: holds a control character"),
        ("url", "https://ok.example/\n# Injected", "papers[0].url: holds a control character"),
        ("url", "https://", "papers[0].url: only http(s) addresses"),
        ("doi", "10.1000/x}y", "papers[0].doi: expected a DOI (10.NNNN/...), got '10.1000/x}y'"),
        ("citation_key", "bad key,{x", "papers[0].citation_key: 'bad key,{x' is not a citation"),
        ("primary_category", "cs.CL}", "papers[0].primary_category: expected an arXiv category"),
    ],
)
def test_a_bad_value_is_named_and_nothing_is_written(
    run: Run, tmp_path: Path, field: str, value: object, message: str
) -> None:
    document = _one_paper(run, tmp_path)
    document["papers"][0][field] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = _everything(run)
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _everything(run) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "papercli-export", "version": 1, "papers": ' + "[" * 100_000, "nested"),
        ("[" * 5000 + "]" * 5000, "not a papercli export"),
        ('{"format": "papercli-export", "version": 1, "papers": [1]}', "papers[0]"),
        ('{"format": "papercli-export", "version": 1, "papers": 5}', "papers: expected array"),
        ('{"format": "papercli-export", "papers": [{"id": 1}], "version": 2}', "version 2"),
        # Read once to merge, and again when that fails: the whole file's fault comes first.
        ('{"papers": [{"id": 1}]}', "not a papercli export"),
        (
            '{"format": "papercli-export", "version": 1, "papers": [{"id": "x", "year": "x"},'
            ' {"id": "y"}, {"id": "y"}]}',
            "paper id 'y' appears twice",
        ),
        ('{"format": "papercli-export", "version": 1, "papers": [{"id": 1}], "x": [}', "line 1"),
        (
            '{"format": "papercli-export", "version": 1,\n "papers": [],\n "papers": []}',
            "not valid JSON: Repeated key 'papers' at line 3, column 2",
        ),
        (  # json.loads would keep the last status: the file says two things
            '{"format": "papercli-export", "version": 1, "papers":\n [{"id": "x", "title": "t",'
            ' "year": 2020, "date": "2020", "status": "read", "status": "unread"}]}',
            "not valid JSON: Repeated key 'status' in an object at line 2, column 3",
        ),
        (
            '{"format": "papercli-export", "version": 1, "papers": [{"id": "x",\n oops',
            "not valid JSON: Expecting property name enclosed in double quotes at line 2",
        ),
    ],
)
def test_malformed_files_are_one_line_errors(
    run: Run, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "does not exist"),
        ("folder.bib", "dir", "is a directory, not a file to import"),
        # Past the first megabyte read: the import is under way when it fails.
        ("late.json", b'{"format": "papercli-export", "version": 1, "papers": ["'
         + b"x" * 2_000_000 + b'\xff"]}', "is not UTF-8 text"),
        ("late.bib", b"@misc{a, title={" + b"x" * 2_000_000 + b"\xff}}\n", "is not UTF-8 text"),
        ("ids.txt", b"2106.09685\n\xff\n", "is not UTF-8 text"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_is_one_line_and_changes_nothing(
    run: Run, tmp_path: Path, name: str, content: bytes | str | None, message: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    before = _everything(run)
    result = run("import", str(path))
    assert (result.exit_code, result.stderr) == (1, f"error: {path} {message}\n")
    assert _everything(run) == before


@pytest.mark.parametrize(
    ("papers", "message"),
    [
        # The papers before it were merged in the same transaction: it is rolled back.
        (
            lambda good: [good, {**good, "id": "also-new"}, {**good, "id": "bad", "year": "x"}],
            "papers[2].year: expected int, got str",
        ),
        (lambda good: [good, good], "paper id 'my-lora' appears twice"),
    ],
)
def test_a_file_bad_past_its_first_paper_changes_nothing(
    run: Run, tmp_path: Path, papers: Callable[[Any], list[Any]], message: str
) -> None:
    document = _one_paper(run, tmp_path)
    document["papers"] = papers(document["papers"][0])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = _everything(run)
    result = run("import", str(path))
    assert (result.exit_code, result.stderr) == (1, f"error: {message}; nothing was imported\n")
    assert _everything(run) == before


def test_an_export_with_its_keys_reordered_imports_the_same(run: Run, tmp_path: Path) -> None:
    """``jq -S`` sorts keys: the version then comes after the papers."""
    document = _one_paper(run, tmp_path)
    path = tmp_path / "sorted.json"
    path.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
    assert path.read_text(encoding="utf-8").index('"papers"') < path.read_text().index('"version"')
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "added: my-lora" in result.stdout
    assert _status(run, "my-lora")["title"] == document["papers"][0]["title"]


@pytest.mark.parametrize("name", ["bom.json", "bom.bib", "bom.txt", "bom-json-without-suffix"])
def test_a_file_starting_with_a_byte_order_mark_imports(
    run: Run, tmp_path: Path, name: str
) -> None:
    """Windows tools (PowerShell 5's ``Out-File``, Notepad) start UTF-8 with a BOM."""
    texts = {
        "bom.json": json.dumps(_one_paper(run, tmp_path)),
        "bom.bib": "@misc{lora, eprint = {2106.09685}}\n",
        "bom.txt": "2106.09685\n",
        "bom-json-without-suffix": json.dumps(_one_paper(run, tmp_path)),
    }
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + texts[name].encode())
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("dry run, nothing changed:"), result.stderr


def test_an_export_read_from_a_pipe_imports(run: Run, tmp_path: Path) -> None:
    """``papercli import <(curl ...)``: a pipe gives its text once, and an import reads a
    file twice (checked, then merged)."""
    import os
    import threading

    document = _one_paper(run, tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(json.dumps(document),))
    writer.start()
    result = run("import", str(fifo))
    writer.join()
    assert result.exit_code == 0, result.output
    assert "added: my-lora" in result.stdout


def test_a_pipe_with_no_room_for_its_copy_is_named(
    run: Run, tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy of a pipe goes to the temporary folder; when that disk is full, the error
    said "cannot read" the pipe, or, for a full disk, "cannot write the output"."""
    import errno
    import os
    import tempfile
    import threading

    class FullDisk:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    document = json.dumps(_one_paper(run, tmp_path))  # under a pipe's buffer: no one waits
    before = db_path.read_bytes()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=(document,))
    writer.start()
    monkeypatch.setattr(tempfile, "TemporaryFile", FullDisk)
    result = run("import", str(fifo))
    writer.join()
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: cannot copy {fifo} to a temporary file in {tempfile.gettempdir()}:"
        " No space left on device; nothing was imported\n",
    )
    assert db_path.read_bytes() == before


def test_a_device_is_refused_before_it_is_read(run: Run, tmp_path: Path) -> None:
    """``import /dev/zero`` read until memory ran out (a traceback, MemoryError, under a
    limit; the machine's memory without one). Only a node made here is tried."""
    import os
    import stat

    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    zero = tmp_path / "zero"
    os.mknod(zero, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    result = run("import", str(zero))
    assert (result.exit_code, result.stderr) == (
        1,
        f"error: {zero} is a device, not a file to import\n",
    )


def test_a_pipe_is_held_on_disk_not_in_memory(tmp_path: Path, mini_seed: Path) -> None:
    """A pipe gives its text once and an import reads it twice: it was read whole into
    memory, and is now copied to a temporary file first. Five times the lines, no more
    memory."""
    import os
    import threading
    import tracemalloc

    from papercli import importing
    from papercli.store import connection

    conn = connection.open_database(tmp_path / "library.db", mini_seed)

    def peak(lines: int) -> int:
        fifo = tmp_path / f"pipe-{lines}"
        os.mkfifo(fifo)
        data = b"2106.09685  # lora\n" * lines  # made before memory is traced
        writer = threading.Thread(target=fifo.write_bytes, args=(data,))
        writer.start()
        tracemalloc.start()
        report = importing.import_file(conn, fifo, lambda: pytest.fail("nothing is new"))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        writer.join()
        assert report.already_there == 1
        return peak

    peak(100)  # first imports and caches
    small, large = peak(20_000), peak(100_000)
    assert large < 1.3 * small, (small, large)


def test_an_imported_value_never_crashes_a_later_command(run: Run, tmp_path: Path) -> None:
    document = _one_paper(run, tmp_path)
    document["papers"][0].update(
        title="Ünïcode [bold]title[/bold] ✓",
        tags=["t" * 900],
        notes=[{"created_at": "2026-01-01T00:00:00Z", "body": "x" * 100_000}],
    )
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    for args in (["list"], ["show", "my-lora"], ["export", "--format", "bibtex"], ["search", "x"]):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)


def test_bibtex_duplicate_keys_are_reported_as_such_without_parser_noise(
    run: Run, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "refs.bib"
    path.write_text(
        "@article{a, title={One}}\n@article{a, title={Two}}\n@article{b, title={Three}\n",
        encoding="utf-8",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: line 2: duplicate citation key 'a'; line 3: malformed BibTeX entry;"
        " nothing was imported\n"
    )
    assert "aborted" not in capfd.readouterr().err  # bibtexparser's own log stays quiet


def test_bibtex_latex_that_cannot_be_read_is_imported_without_noise(
    run: Run, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """LaTeX pylatexenc cannot read (``\\author`` alone) keeps its words; ``\\input`` reads
    no file; and pylatexenc's warnings stay off the terminal."""
    secret = tmp_path / "secret.tex"
    secret.write_text("SECRET", encoding="utf-8")
    path = tmp_path / "refs.bib"
    path.write_text(
        f"@misc{{a, title = {{Tokens \\input{{{secret}}} here}},"
        " author = {Roe, R.}, year = 2024}\n"
        "@misc{b, title = {About \\author}, author = {Roe, R.}, year = 2024}\n",
        encoding="utf-8",
    )
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith("added 2, already there 0, not found 0, failed 0, skipped 0\n")
    assert "WARNING" not in capfd.readouterr().err and "Expected" not in result.stderr
    listed = json.loads(run("list", "--since", "2024", "--format", "json").stdout)
    titles = {paper["title"] for paper in listed}
    assert {"Tokens here", "About \\author"} <= titles and "SECRET" not in str(titles)


@pytest.mark.parametrize("piece", [1, 2, 1000])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_bibtex_read_in_pieces_reads_as_a_whole(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int, newline: str
) -> None:
    """Whatever the pieces and line breaks (Unix, Windows, classic Mac OS), an
    ``@string`` holds for the entries after it, and a problem is named by its line in
    the file."""
    from papercli import importing

    monkeypatch.setattr(importing, "BIBTEX_PIECE", piece)
    path = tmp_path / "refs.bib"
    path.write_text(
        '@string{lora = "LoRA: Low-Rank Adaptation of Large Language Models"}\n'
        "@misc{first, title = {Attention Is All You Need}}\n"
        "\n"
        "@misc{second,\n  title = lora}\n",
        encoding="utf-8",
        newline=newline,
    )
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith("already there 2, not found 0, failed 0, skipped 0\n")
    with path.open("a", encoding="utf-8") as file:
        file.write("@misc{first, title={Again}}\n  @misc{broken, title={No end}\n")
    result = run("import", "--dry-run", str(path))
    assert (result.exit_code, result.stderr) == (
        1,
        "error: line 6: duplicate citation key 'first'; line 7: malformed BibTeX entry;"
        " nothing was imported\n",
    )


def _pieces_a_line_at_a_time(text: str) -> list[tuple[int, str]] | str:
    """What ``importing._pieces`` gave until 4 December, reading a line at a time: its
    pieces, or its error."""
    import io
    import re

    from papercli import importing

    block_start = re.compile(r"[ \t]*@\w*[ \t]*[{(]")
    pieces, lines, blocks, before, size = [], [], 0, 0, 0
    limit = importing.LONGEST_BLOCK
    error = f"more than {limit:,} characters without an entry's start: not BibTeX"
    for line in io.StringIO(text, newline=""):  # as papercli opens a file
        if len(line) >= limit and not line[:limit].endswith("\n"):
            return f"line {before + len(lines) + 1}: {error}"
        if block_start.match(line):
            if blocks == importing.BIBTEX_PIECE:
                pieces.append((before, "".join(lines)))
                before += len(lines)
                lines, blocks = [], 0
            blocks += 1
            size = 0
        size += len(line)
        if size > limit:
            return f"line {before + len(lines) + 1}: {error}"
        lines.append(line)
    return [*pieces, (before, "".join(lines))] if lines else pieces


_BIB_LINES = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(["@misc{a, title = {T}}", "  @article(b,", "@string{s = {x}}"]),
            st.sampled_from(["x = {y},", "}", "", "no @misc{ start", "@ alone"]),
            st.integers(1, 40).map(lambda n: "z" * n),
        ),
        st.sampled_from(["\n", "\n", "\r\n", "\r"]),  # Unix, Windows, classic Mac OS
    ).map("".join),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(
    lines=_BIB_LINES,
    tail=st.sampled_from(["", "@misc{c}", "zzzz", "q" * 33]),
    piece=st.integers(1, 4),
    read=st.integers(1, 50),
    longest=st.integers(8, 60),
)
def test_bibtex_read_in_large_reads_cuts_as_read_a_line_at_a_time(
    lines: list[str], tail: str, piece: int, read: int, longest: int
) -> None:
    r"""Reading the file in large reads gives the pieces (and the lines before each) that
    reading it a line at a time gave, and refuses a block too long at the same line,
    wherever the reads end; any line break (even a ``\r\n`` the reads split) as ``\n``,
    so that bibtexparser counts lines as the file has them."""
    import io

    from papercli import importing
    from papercli.errors import InvalidValueError

    text = "".join(lines) + tail
    read_as = text.replace("\r\n", "\n").replace("\r", "\n")
    last_line = read_as.rsplit("\n", 1)[-1]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (("BIBTEX_PIECE", piece), ("READ_SIZE", read)):
            patch.setattr(importing, name, value)
        patch.setattr(importing, "LONGEST_BLOCK", longest)
        expected = _pieces_a_line_at_a_time(read_as)
        if len(last_line) == longest and isinstance(expected, str):
            return  # an unended last line of exactly that length: refused then, no more
        try:
            opened = io.StringIO(text, newline="")
            got: list[tuple[int, str]] | str = list(importing._pieces(opened))
        except InvalidValueError as exc:
            got = exc.message.removesuffix("; nothing was imported")
    assert got == expected


@pytest.mark.parametrize("piece", [3, 1000])
def test_bibtex_with_more_strings_than_a_piece_reads_as_a_whole(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    """Past BIBTEX_PIECE @strings, a piece is given those its words name: every reference
    still resolves, in any case, to the latest definition."""
    from papercli import importing

    monkeypatch.setattr(importing, "BIBTEX_PIECE", piece)
    lora = "LoRA: Low-Rank Adaptation of Large Language Models"
    strings = [f'@string{{J-{i}:x = "{lora if i == 11 else i}"}}\n' for i in range(12)]
    entries = [
        "@misc{a, title = j-11:X}\n",
        "@misc{b, title = {Attention Is All You Need}}\n",
        "@misc{c,\n  title=J-11:x}\n",
    ]
    path = tmp_path / "refs.bib"
    path.write_text("".join(strings + entries), encoding="utf-8")
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith("already there 3, not found 0, failed 0, skipped 0\n")
    with path.open("a", encoding="utf-8") as file:  # defined again: from here on, the new
        file.write('@string{j-11:x = "Attention Is All You Need"}\n@misc{d, title = j-11:x}\n')
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith("already there 4, not found 0, failed 0, skipped 0\n")


@pytest.mark.parametrize("piece", [1, 2, 1000])
def test_bibtex_problems_are_listed_in_line_order_whatever_the_pieces(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    from papercli import importing

    monkeypatch.setattr(importing, "BIBTEX_PIECE", piece)
    path = tmp_path / "refs.bib"
    path.write_text(
        "@misc{a, title={One}}\n@misc{b, title={Two}}\n"
        "@misc{a, title={Three}}\n@misc{c, title={Open\n",
        encoding="utf-8",
    )
    result = run("import", str(path))
    assert (result.exit_code, result.stderr) == (
        1,
        "error: line 3: duplicate citation key 'a'; line 4: malformed BibTeX entry;"
        " nothing was imported\n",
    )


# ---------------------------------------------------------------------------
# Any mutation of a valid export: a documented exit, no traceback, nothing half-written

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(
        [
            "id",
            "title",
            "year",
            "date",
            "status",
            "notes",
            "tags",
            "authors",
            "history",
            "read_version",
            "queue_position",
            "status_changed_at",
            "prerequisites",
            "kind",
            "arxiv_id",
        ]
    ),
    value=_VALUES,
)
def test_any_mutated_record_imports_whole_or_not_at_all(
    run: Run, tmp_path: Path, field: str, value: object
) -> None:
    document = _one_paper(run, tmp_path)
    document["papers"][0][field] = value
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _imports_whole_or_not_at_all(run, path, then=[["list", "--format", "json"]])


_POOL = ["a", "b", "c", "lora", "qlora", "mine"]
_ARXIV_IDS = [None, None, "2106.09685", "2305.14314", "2501.00001", "2501.00002"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    papers=st.lists(
        st.tuples(
            st.sampled_from(_POOL),
            st.sampled_from(_ARXIV_IDS),
            st.lists(st.sampled_from([*_POOL, "nope"]), max_size=3),
            st.sampled_from(["unread", "reading", "read"]),
            st.sampled_from([None, 1, 2]),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda paper: paper[0],
    ),
    chunk=st.sampled_from([1, 2, 1000]),
    done_here=st.lists(
        st.sampled_from(
            [("mark-read", "lora"), ("mark-reading", "qlora"), ("queue", "add", "lora", "qlora")]
        ),
        max_size=2,
    ),
)
def test_any_graph_of_papers_imports_links_and_redoes_as_it_was(
    run: Run,
    tmp_path: Path,
    papers: list[tuple[str, str | None, list[str], str, int | None]],
    chunk: int,
    done_here: list[tuple[str, ...]],
) -> None:
    """Papers matching this library's by id or arXiv id, or not, with prerequisites on one
    another (before or after them in the file, across chunks), on the catalogue's papers
    and on none, with a status and a queue place, into a library where you read or queued
    some of them: every link an import leaves is to a paper, with no cycle; `undo` then
    `redo` gives back exactly what the import made, and `undo` what was there before."""
    import tempfile

    from papercli.store import scratch

    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "papercli.db"  # each example its own database
        patch.setenv("PAPERCLI_DB", str(db))
        for command in done_here:  # what you did here before the import
            assert run(*command).exit_code == 0
        before = _everything(run)
        patch.setattr(scratch, "CHUNK", chunk)
        result = _import_papers(
            run,
            Path(folder),
            [
                {
                    "id": paper_id,
                    "arxiv_id": arxiv_id,
                    "prerequisites": prereqs,
                    "status": status,
                    "queue_position": place,
                }
                for paper_id, arxiv_id, prereqs, status, place in papers
            ],
        )
        assert result.exit_code == 0, result.output
        _links_lead_to_papers_without_a_cycle(db)
        _imported_redo_is_as_it_was(run, before)


def _links_lead_to_papers_without_a_cycle(db: Path) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        links = conn.execute("SELECT paper_id, prereq_id FROM prerequisites").fetchall()
        ids = {paper_id for (paper_id,) in conn.execute("SELECT id FROM papers")}
    assert [link for link in links if link[1] not in ids or link[0] == link[1]] == []
    needs: dict[str, set[str]] = {}
    for paper_id, prereq in links:
        needs.setdefault(paper_id, set()).add(prereq)
    done: set[str] = set()

    def walk(paper_id: str, seen: tuple[str, ...]) -> None:
        assert paper_id not in seen, f"a cycle: {seen}"
        if paper_id not in done:
            for prereq in needs.get(paper_id, ()):
                walk(prereq, (*seen, paper_id))
            done.add(paper_id)

    for paper_id in needs:
        walk(paper_id, ())


def _imported_redo_is_as_it_was(run: Run, before: dict[str, Any]) -> None:
    imported = _everything(run)
    if imported == before:
        return
    _undo_and_redo(run)
    assert _everything(run) == imported
    assert run("undo").exit_code == 0
    assert _everything(run) == before


def _imports_whole_or_not_at_all(run: Run, path: Path, then: list[list[str]]) -> None:
    """``import PATH`` exits as documented, without a traceback; refused, it leaves the
    database as it was; imported, the commands ``then`` work on what it added, and one
    ``undo`` takes it all back (an import is always one undoable step)."""
    before = _everything(run)
    result = run("import", str(path))
    assert result.exit_code in EXIT_CODES, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 1:
        assert result.stderr.startswith("error: ")
    else:
        for args in then:
            assert run(*args).exit_code == 0, args
        if _everything(run) != before:  # (an entry skipped changes nothing)
            assert run("undo").exit_code == 0
    assert _everything(run) == before


_BIBTEX_TOKENS = [*'{}"#,=@\\ %&_~$', "\n", "a", "Müller", "LeCun, Yann", " and ", "jan"]
_BIBTEX_TOKENS += ['\\"u', "\\author", "\\textbraceleft{}", "lora", "NeurIPS", "Nature", "2015"]
_BIBTEX_TOKENS += ["10.1/x", "http://x"]
_BIBTEX_TEXT = st.lists(st.sampled_from(_BIBTEX_TOKENS), max_size=12).map("".join)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    values=st.fixed_dictionaries(
        {"title": _BIBTEX_TEXT, "author": _BIBTEX_TEXT, "year": st.just("2015") | _BIBTEX_TEXT},
        optional={k: _BIBTEX_TEXT for k in ("month", "journal", "booktitle", "doi", "url")},
    ),
    joined=st.booleans(),
)
def test_any_bibtex_entry_typed_in_imports_whole_or_not_at_all(
    run: Run, tmp_path: Path, values: dict[str, str], joined: bool
) -> None:
    """An entry with any text in the fields papercli reads (braces, quotes, ``#``, LaTeX,
    names, venues) is added, skipped or refused as a whole."""
    fields = ",\n".join(
        f"  {key} = {value}" if joined else f"  {key} = {{{value}}}"
        for key, value in values.items()
    )
    path = tmp_path / "typed.bib"
    path.write_text(f'@string{{lora = "LoRA"}}\n@misc{{typed,\n{fields}\n}}\n', encoding="utf-8")
    exports = [["export", "--format", "bibtex"], ["export", "--format", "ris"]]
    _imports_whole_or_not_at_all(run, path, then=[["list"], *exports])


_PLAIN_PART = st.text(st.characters(blacklist_characters='{}"#\\', codec="utf-8"), max_size=8)


@given(
    parts=st.lists(st.tuples(st.sampled_from(["{}", '""', "@"]), _PLAIN_PART), max_size=5),
    noise=st.text(max_size=30),
)
def test_bibtex_joined_values(parts: list[tuple[str, str]], noise: str) -> None:
    """Parts joined with ``#`` read as their texts one after the other (an @string by its
    value, in any case); any other text comes back a string, without an error."""
    from papercli.importing import _value_text

    strings = {"lora": "LoRA"}
    written = []
    for delimiters, text in parts:
        written.append("LoRA" if delimiters == "@" else delimiters[0] + text + delimiters[1])
    expected = "".join("LoRA" if d == "@" else text for d, text in parts)
    if parts:
        assert _value_text(" # ".join(written), strings) == expected
    assert isinstance(_value_text(noise, strings), str)


def _nested(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text with balanced braces."""
    return st.recursive(
        text,
        lambda inner: st.lists(st.one_of(inner, inner.map("{{{}}}".format)), max_size=3).map(
            "".join
        ),
        max_leaves=6,
    )


# Values as BibTeX writes them (bibtexparser ends a quoted value at a quote inside braces).
_BIBTEX_VALUE = st.one_of(
    _nested(st.text(alphabet='ab ,=@"%', max_size=4)).map("{{{}}}".format),
    _nested(st.text(alphabet="ab ,=@%", max_size=4)).map('"{}"'.format),
    st.sampled_from(["lora", "LoRA", "2024", "unknown"]),
)


@given(value=_BIBTEX_VALUE)
def test_bibtex_values_read_as_bibtexparser_reads_them(value: str) -> None:
    """papercli reads the values it uses itself, not through bibtexparser's middlewares
    (which read every field): it reads each as they would, braces, quotes and @strings."""
    from bibtexparser.entrypoint import parse_string

    from papercli.importing import _value_text

    text = f'@string{{lora = "LoRA"}}\n@misc{{k,\n  title = {value}\n}}\n'
    theirs = parse_string(text)
    assert not theirs.failed_blocks
    as_written = parse_string(text, parse_stack=[]).entries[0]["title"]
    assert _value_text(as_written, {"lora": "LoRA"}) == theirs.entries[0]["title"]


_LATEX_TOKENS = [*"\\{}[]$%&#_~^\"'` au\n", "author", "title", "date", "url", "begin", "end"]
_LATEX_TOKENS += ["verb", "item", "cite", "textbraceleft", "ss", "c", "'"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_LATEX_TOKENS), max_size=30).map("".join) | st.text(max_size=30))
def test_bibtex_latex_in_any_shape_reads_as_one_line_of_text(value: str) -> None:
    """Whatever LaTeX a title holds, broken or not, reads as text without an error."""
    from papercli.importing import _latex_text

    text = _latex_text("\\" + value)
    assert isinstance(text, str)
    assert "\n" not in text


def test_an_older_export_does_not_bring_back_notes_and_tags_taken_away_since(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import merged notes and tags as unions: a note deleted or edited here, or a tag
    taken off, came back from an export made before."""
    for command in (
        ["note", "bert", "shared note"],
        ["note", "bert", "first words"],
        ["tag", "bert", "+Shared", "+other"],
    ):
        assert run(*command).exit_code == 0
    old = tmp_path / "old.json"
    _export(run, old)
    assert run("note", "bert", "--delete", "1").exit_code == 0
    assert run("tag", "bert", "-shared").exit_code == 0
    editor = tmp_path / "editor.sh"  # rewrites the note: "first words" is taken away too
    editor.write_text("#!/bin/sh\nprintf 'second words\\n' > \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    assert run("note", "bert", "--edit", "1").exit_code == 0
    result = run("import", str(old))
    assert result.exit_code == 0, result.output
    bert = _status(run, "bert")
    assert ([n["body"] for n in bert["notes"]], bert["tags"]) == (["second words"], ["other"])
    fresh = str(tmp_path / "fresh.db")  # where nothing was taken away, all of it comes
    assert run("--db", fresh, "import", str(old)).exit_code == 0
    restored = json.loads(run("--db", fresh, "show", "bert", "--format", "json").stdout)
    assert sorted(n["body"] for n in restored["notes"]) == ["first words", "shared note"]
    assert sorted(restored["tags"]) == ["Shared", "other"]


def test_a_deletion_undone_is_not_taken_away(run: Run, tmp_path: Path) -> None:
    assert run("note", "bert", "kept").exit_code == 0
    assert run("tag", "bert", "+kept").exit_code == 0
    old = tmp_path / "old.json"
    _export(run, old)
    assert run("note", "bert", "--delete", "1").exit_code == 0
    assert run("tag", "bert", "-kept").exit_code == 0
    assert run("undo").exit_code == 0
    assert run("undo").exit_code == 0
    assert run("import", str(old)).exit_code == 0
    bert = _status(run, "bert")
    assert ([n["body"] for n in bert["notes"]], bert["tags"]) == (["kept"], ["kept"])


def test_ctrl_c_while_the_import_reads_its_scratch_table_says_interrupted(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C mid-statement left the temporary table of tags taken off in use, and its drop
    ("database table is locked") was reported instead: "busy (another papercli is writing
    to it)", exit 4, with no other papercli running."""
    from papercli.store import merge

    path = tmp_path / "one.json"
    path.write_text(json.dumps(_one_paper(run, tmp_path)), encoding="utf-8")
    reading: list[object] = []

    def cut_short(conn: sqlite3.Connection, *args: object) -> bool:
        conn.execute("INSERT INTO temp.tags_taken_off VALUES ('a', 'x'), ('b', 'y')")
        cursor = conn.execute("SELECT * FROM temp.tags_taken_off")
        cursor.fetchone()  # a statement under way, as Ctrl-C finds it
        reading.append(cursor)
        raise KeyboardInterrupt

    monkeypatch.setattr(merge, "merge_state", cut_short)
    result = run("import", str(path))
    assert result.exit_code == 130, result.output
    assert result.stderr.startswith("error: interrupted;")
    assert reading


def test_ctrl_c_in_a_first_command_says_nothing_was_saved(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library made from the catalogue on first use counted as the command's change:
    an `import` stopped before it saved anything said "interrupted after its changes up to
    then were saved"."""
    from papercli.store import merge

    path = tmp_path / "one.json"
    path.write_text(json.dumps(_one_paper(run, tmp_path)), encoding="utf-8")

    def stopped(*args: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(merge, "merge_state", stopped)
    result = run("--db", str(tmp_path / "first.db"), "import", str(path))
    assert (result.exit_code, result.stderr) == (
        130,
        "error: interrupted; nothing after the last completed step was saved\n",
    )
