"""Whatever papercli's commands take, its own JSON backup gives back and sync carries to
another machine: the export of a library imports into a new one, which exports the same
again, and a new machine that syncs with it ends with the same export and watches. A
value a command accepted and an import refused made the backup useless (notes over a
million characters, tags with line breaks, typed-in names over a thousand: fixed on 2
December); a tag named beyond ASCII (``À``) reached other machines as removed (fixed on
3 December). So the commands that write what a user types are driven here with any text."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import Result

Run = Callable[..., Result]

# Any text, with the characters that most often break a border: controls, line breaks,
# bidi and joiners, non-BMP, and the delimiters of BibTeX, CSV and JSON.
_TRICKY = st.sampled_from(
    ["\n", "\r", "\t", "\x1b[2J", "\u202e", "\u200d", "\ufeff", "👩‍👩‍👧", "\\", '"', "{", ",", "#"]
)
_TEXT = st.lists(st.text(max_size=8) | _TRICKY, min_size=1, max_size=6).map("".join)


def _export(run: Run, db: Path, target: Path) -> dict[str, Any]:
    exported = run("--db", str(db), "export", "--format", "json", "-o", str(target))
    assert exported.exit_code == 0, exported.output
    document: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    del document["exported_on"]
    return document


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    title=_TEXT,
    author=_TEXT,
    url=st.none() | _TEXT.map(lambda t: "https://example.org/" + t),
    doi=st.none() | _TEXT.map(lambda t: "10.1234/" + t),
    note=_TEXT,
    tag=_TEXT,
    watch=_TEXT,
    keyword=_TEXT,
)
@example(
    title="Straße", author="À", url=None, doi=None, note="x", tag="À", watch="Über", keyword="ß"
)
def test_the_backup_of_anything_the_commands_took_restores_it(
    run: Run,
    tmp_path: Path,
    title: str,
    author: str,
    url: str | None,
    doi: str | None,
    note: str,
    tag: str,
    watch: str,
    keyword: str,
) -> None:
    here = Path(tempfile.mkdtemp(dir=tmp_path))  # tmp_path is shared by the examples
    db, restored = here / "library.db", here / "restored.db"
    added = ["add", "--title", title, "--author", author, "--year", "2024"]
    added += ["--url", url] if url else []
    added += ["--doi", doi] if doi else []
    watched = ["watch", "add", watch, "--category", "cs.CL", "--keyword", keyword]
    for args in (
        added,
        ["note", "lora", note],
        ["tag", "lora", "+" + tag],
        ["mark-read", "lora"],
        ["queue", "add", "bert"],
        watched,
    ):
        result = run("--db", str(db), *args)
        assert result.exit_code in (0, 1, 2), result.output  # taken, or refused in one line
        assert result.exception is None or isinstance(result.exception, SystemExit)

    backup = _export(run, db, here / "backup.json")
    imported = run("--db", str(restored), "import", str(here / "backup.json"))
    assert imported.exit_code == 0, imported.output
    assert _export(run, restored, here / "again.json") == backup

    synced, folder = here / "synced.db", here / "Sync"
    folder.mkdir()
    for device in (db, synced):
        done = run("--db", str(device), "sync", str(folder), "--name", device.stem)
        assert done.exit_code == 0, done.output
        assert "skipped" not in done.output
    assert _export(run, synced, here / "synced.json") == backup
    assert _watches(run, synced) == _watches(run, db)


def _watches(run: Run, db: Path) -> Any:
    listed = run("--db", str(db), "watch", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    return json.loads(listed.stdout)


_PAPERS = ["lora", "qlora", "bert", "transformer", "gpt-3"]
_PAPER = st.sampled_from(_PAPERS)


def _command(*parts: str | st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """A command line of fixed words and drawn ones."""
    return st.tuples(*(st.just(part) if isinstance(part, str) else part for part in parts))


_STATUS = st.sampled_from(["mark-read", "mark-reading", "mark-unread", "mark-skipped"])
_AUTHOR = st.sampled_from(["Ann Lee", "José Ñoño", "李 小龙"]) | _TEXT
_OPERATIONS = st.one_of(
    _command(_STATUS, _PAPER),
    _command("queue", "add", _PAPER),
    _command("queue", "add", _PAPER, "--force"),
    _command("queue", "remove", _PAPER),
    _command("queue", "move", _PAPER, st.sampled_from(["1", "2", "5"])),
    _command("queue", "clear", "--yes"),
    _command("tag", _PAPER, st.sampled_from(["+PEFT", "-peft", "+À", "-à", "+x"])),
    _command("note", _PAPER, _TEXT),
    _command("note", _PAPER, "--delete", "1"),
    _command(
        "prereq",
        _PAPER,
        st.sampled_from(["+transformer", "-transformer", "+bert", "-bert", "+mine"]),
    ),
    _command(
        "add",
        "--title",
        st.sampled_from(["Field Notes", "Straße"]),
        "--author",
        _AUTHOR,
        "--year",
        "2024",
        "--id",
        "mine",
    ),
    _command("remove", "mine", "--yes"),
    _command(st.sampled_from(["mark-read", "mark-skipped"]), "mine"),
    _command("tag", "mine", st.sampled_from(["+PEFT", "-PEFT"])),
    _command("queue", "add", "mine"),
    _command("watch", "add", st.sampled_from(["Über", "peft"]), "-c", "cs.CL"),
    _command("watch", "remove", st.sampled_from(["über", "peft"])),
    _command("undo"),
    _command("redo"),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(_OPERATIONS, min_size=1, max_size=12), sync_midway=st.booleans())
# Queued in the second it was skipped: a new device took it out of the queue.
@example(operations=[("mark-skipped", "lora"), ("queue", "add", "lora")], sync_midway=False)
# Two changes in one second: a backup ordering them as made differed from a synced copy's.
@example(operations=[("mark-read", "lora"), ("mark-reading", "lora")], sync_midway=False)
# Read, then queued again on purpose: the backup dropped it from the queue.
@example(operations=[("mark-read", "lora"), ("queue", "add", "lora", "--force")], sync_midway=False)
# A catalogue link removed, then added the other way round (gpt-1 comes first in the
# export): the import removes before it adds, or it saw a cycle and dropped +gpt-2.
@example(
    operations=[("prereq", "gpt-2", "-gpt-1"), ("prereq", "gpt-1", "+gpt-2")],
    sync_midway=False,
)
def test_any_sequence_of_changes_is_restored_by_the_backup_and_by_sync(
    run: Run, tmp_path: Path, operations: list[tuple[str, ...]], sync_midway: bool
) -> None:
    """Statuses, the queue, tags, notes and prerequisites changed in any order, with undo
    and redo among them: the backup restores the same library, and a new machine that
    syncs with it (once midway too, or only at the end) ends with the same one."""
    here = Path(tempfile.mkdtemp(dir=tmp_path))
    db, synced, folder = here / "library.db", here / "synced.db", here / "Sync"
    folder.mkdir()

    def sync(device: Path) -> None:
        done = run("--db", str(device), "sync", str(folder), "--name", device.stem)
        assert done.exit_code == 0, done.output
        assert "skipped" not in done.output

    for number, args in enumerate(operations):
        result = run("--db", str(db), *args)
        assert result.exit_code in (0, 1, 2), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        if sync_midway and number == len(operations) // 2:
            sync(db)
            sync(synced)

    backup = _export(run, db, here / "backup.json")
    restored = here / "restored.db"
    imported = run("--db", str(restored), "import", str(here / "backup.json"))
    assert imported.exit_code == 0, imported.output
    assert _export(run, restored, here / "again.json") == backup
    sync(db)
    sync(synced)
    assert _export(run, synced, here / "synced.json") == backup
    assert _watches(run, synced) == _watches(run, db)


_TITLE_PIECES = st.sampled_from(
    [*"\\{}&%$#_~^\"'`@,=", " ", "a", "Ü", "ß", "LoRA", "2^n", "$k$", "--", "é", "中文", "👩‍💻"]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(words=st.lists(_TITLE_PIECES, min_size=1, max_size=12))
@example(words=["$", "\\", "~", "$"])  # a text accent in math came back with a brace more
def test_a_title_typed_in_comes_back_from_papercli_s_own_bibtex(
    run: Run, tmp_path: Path, words: list[str]
) -> None:
    """papercli's BibTeX escapes what LaTeX would read (braces, ``%``, ``~``, ``^``...) and
    its import reads those escapes back: a paper typed in is the same paper again."""
    title = "Notes " + "".join(words)
    here = Path(tempfile.mkdtemp(dir=tmp_path))
    db, fresh, bib = here / "library.db", here / "fresh.db", here / "mine.bib"
    added = run("--db", str(db), "add", "--title", title, "--author", "Ann Lee", "--year", "2020")
    if added.exit_code != 0:
        assert added.exit_code == 1, added.output
        return
    assert run("--db", str(db), "export", "--format", "bibtex", "-o", str(bib)).exit_code == 0
    imported = run("--db", str(fresh), "import", str(bib))
    assert imported.exit_code == 0, imported.output
    papers = _export(run, fresh, here / "fresh.json")["papers"]
    assert [p["title"] for p in papers if p["origin"] == "user"] == [" ".join(title.split())]
