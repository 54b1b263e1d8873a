"""The file-system border: `export -o FILE` and `db backup FILE` replace only a writable
regular file, atomically, keeping its mode, and never touch anyone else's temp files."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from papercli.store import connection

Write = Callable[[Path], Result]


@pytest.fixture(params=["export", "backup"])
def write(request: pytest.FixtureRequest, run: Callable[..., Result]) -> Write:
    """`export -o PATH` or `db backup PATH`: the two commands that write a user's file."""
    run("queue", "add", "lora")  # the database exists, and the export has a paper in it

    def write(path: Path) -> Result:
        if request.param == "export":
            return run("export", "--queue", "-o", str(path))
        return run("db", "backup", str(path))

    return write


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """A directory of its own for the target, so that whatever gets written shows."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


def snapshot(directory: Path) -> dict[str, object]:
    """Each entry's kind and a regular file's bytes, all the way down (never through a
    link): what a user would notice changing."""
    found: dict[str, object] = {}
    for entry in directory.rglob("*"):
        mode = entry.lstat().st_mode
        name = str(entry.relative_to(directory))
        found[name] = entry.read_bytes() if stat.S_ISREG(mode) else stat.S_IFMT(mode)
    return found


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def written_by(result: Result, path: Path) -> bool:
    """Whether ``path`` now holds what the command writes (a database or an export)."""
    assert result.exit_code == 0, result.output
    head = path.read_bytes()[:16]
    return head == b"SQLite format 3\x00" or head.startswith(b"# Reading list")


# --- what is not a regular file is never replaced -------------------------------------


def symlink_to_a_file(path: Path) -> None:
    (path.parent / "real.txt").write_text("the file the link points at\n")
    os.symlink(path.parent / "real.txt", path)


def dangling_symlink(path: Path) -> None:
    os.symlink(path.parent / "nowhere", path)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def directory(path: Path) -> None:
    path.mkdir()
    (path / "inside.txt").write_text("kept\n")


def unix_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # the socket file stays after the socket closes


def character_device(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root may make a device node")
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))


@pytest.fixture
def fail_instead_of_hanging() -> Iterator[None]:
    """Opening a FIFO blocks forever; the alarm turns that into a failure."""

    def interrupt(signum: int, frame: object) -> None:
        raise TimeoutError("blocked: the command opened a FIFO")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("fail_instead_of_hanging")
@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (symlink_to_a_file, "a symlink"),
        (dangling_symlink, "a symlink"),
        (fifo, "a FIFO"),
        (directory, "a directory"),
        (unix_socket, "a socket"),
        (character_device, "a character device"),
    ],
)
def test_what_is_not_a_regular_file_is_refused(write, out, make, kind):
    target = out / "target"
    make(target)
    before = snapshot(out)
    result = write(target)
    assert result.exit_code == 1
    assert (
        result.stderr == f"error: refusing to replace {target}: it is {kind}, not a regular file\n"
    )
    assert snapshot(out) == before


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o440], ids=oct)
def test_a_read_only_file_is_refused_even_for_root(write, out, mode):
    target = out / "target"
    target.write_text("precious\n")
    target.chmod(mode)
    result = write(target)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {target} is read-only; ")
    assert result.stderr.count("\n") == 1
    assert snapshot(out) == {"target": b"precious\n"}
    assert stat.S_IMODE(target.stat().st_mode) == mode


# --- a regular file is replaced, atomically, keeping its mode ---------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664], ids=oct)
def test_an_existing_file_is_replaced_and_keeps_its_mode(write, out, mode):
    target = out / "target"
    target.write_text("an old version\n")
    target.chmod(mode)
    with umask(0o077):  # would give 0o600 to a new file: the old mode must win
        result = write(target)
    assert written_by(result, target)
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert [p.name for p in out.iterdir()] == ["target"]


@pytest.mark.parametrize(
    ("mask", "mode"),
    [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
    ids=["umask-022", "umask-027", "umask-002"],
)
def test_a_new_file_gets_the_mode_a_shell_redirect_would(write, db_path, out, mask, mode):
    db_path.chmod(0o666)  # a backup is given no more than its library (test below)
    target = out / "target"
    with umask(mask):
        result = write(target)
    assert written_by(result, target)
    assert stat.S_IMODE(target.stat().st_mode) == mode  # not mkstemp's 0o600


@pytest.mark.parametrize(
    ("library", "mode"), [(0o600, 0o600), (0o640, 0o640), (0o664, 0o644)], ids=oct
)
def test_a_new_backup_is_no_more_readable_than_the_library(run, db_path, out, library, mode):
    run("mark-read", "lora")
    db_path.chmod(library)
    target = out / "backup.db"
    with umask(0o022):
        result = run("db", "backup", str(target))
    assert written_by(result, target)
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_both_commands_say_they_replace_a_file(run):
    for command in (["export"], ["db", "backup"]):
        assert "existing FILE is replaced atomically" in " ".join(
            run(*command, "--help").stdout.split()
        )


# --- temp files: unique, and only our own are removed -----------------------------------


def test_a_crashed_runs_temp_files_are_left_alone(write, out):
    target = out / "target"
    (out / ".target.tmp").write_text("stale\n")  # the fixed name backups once used
    (out / ".target.abc123.tmp").write_text("stale\n")  # what mkstemp would name
    (out / ".target.def456.tmp").mkdir()  # what mkdtemp would name, with a copy inside
    (out / ".target.def456.tmp" / "target").write_text("stale\n")
    result = write(target)
    assert written_by(result, target)
    assert sorted(p.name for p in out.iterdir()) == [
        ".target.abc123.tmp",
        ".target.def456.tmp",
        ".target.tmp",
        "target",
    ]
    for stale in (".target.tmp", ".target.abc123.tmp", ".target.def456.tmp/target"):
        assert (out / stale).read_text() == "stale\n"


def test_two_backups_at_once_do_not_collide(run, db_path, out, monkeypatch):
    run("mark-read", "lora")
    target = out / "backup.db"
    real_replace = os.replace
    other_backups: list[str] = []

    def another_backup_first(src: str, dst: str) -> None:
        """Just before this backup renames its copy, another one runs to the end."""
        if not other_backups:
            other_backups.append(str(src))
            with sqlite3.connect(db_path) as other:
                connection.backup_database(other, target)
            other.close()
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", another_backup_first)
    result = run("db", "backup", str(target))
    assert result.exit_code == 0, result.output
    assert other_backups  # the two really did overlap
    assert [p.name for p in out.iterdir()] == ["backup.db"]
    with sqlite3.connect(target) as conn:
        status = conn.execute("SELECT status FROM reading_state WHERE paper_id = 'lora'")
        assert status.fetchone() == ("read",)
    conn.close()


def test_two_dated_backups_in_one_second_are_two_files(run, out, monkeypatch):
    """The second replaced the first: the default name is made from the time."""
    from datetime import datetime

    from papercli.cli import db as db_commands

    class OneSecond(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return cls(2026, 12, 5, 13, 30, 0)

    monkeypatch.setattr(db_commands, "datetime", OneSecond)
    monkeypatch.chdir(out)
    run("mark-read", "lora")
    first = run("db", "backup")
    run("mark-read", "qlora")
    second = run("db", "backup")
    assert first.stdout == "backed up to papercli-backup-20261205-133000.db\n"
    assert second.stdout == "backed up to papercli-backup-20261205-133000-2.db\n"
    for name, read in [
        ("papercli-backup-20261205-133000.db", 1),
        ("papercli-backup-20261205-133000-2.db", 2),
    ]:
        with sqlite3.connect(out / name) as conn:
            assert conn.execute("SELECT count(*) FROM reading_state").fetchone()[0] == read
        conn.close()


# --- a failure leaves the old file as it was, and nothing behind ------------------------


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_full_disk_keeps_the_old_file_and_leaves_no_temp_file(write, out, monkeypatch, failing):
    target = out / "target"
    target.write_text("the old version\n")

    def disk_full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, failing, disk_full)
    result = write(target)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write ")
    assert f"{target}: {os.strerror(errno.ENOSPC)}\n" in result.stderr
    assert result.stderr.count("\n") == 1
    assert snapshot(out) == {"target": b"the old version\n"}


def test_a_backup_that_cannot_be_written_exits_1_as_an_export_does(run, out, monkeypatch):
    """SQLite's failure to write the copy (its folder gone, its disk full) is the output's,
    not the library's: it ended as a database error, exit 4."""
    run("mark-read", "lora")
    target = out / "backup.db"
    target.write_text("the old backup\n")
    real_mkdtemp = tempfile.mkdtemp

    def gone(**options: Any) -> str:
        folder = real_mkdtemp(**options)
        os.rmdir(folder)  # as if removed by another program meanwhile
        return folder

    monkeypatch.setattr(tempfile, "mkdtemp", gone)
    result = run("db", "backup", str(target))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: cannot write the backup to {target}: cannot make the copy in its folder\n"
    )
    assert snapshot(out) == {"backup.db": b"the old backup\n"}


@pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount")),
    reason="mounting a small disk needs root",
)
def test_a_backup_to_a_full_disk_exits_1_as_an_export_does(run, tmp_path):
    run("mark-read", "lora")
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)]).returncode:
        pytest.skip("this machine does not let a test mount a disk")
    try:
        result = run("db", "backup", str(small / "backup.db"))
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (
            f"error: cannot write the backup to {small / 'backup.db'}: database or disk is full\n"
        )
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(small)], check=True)  # lazily, should a file stay open


# --- neither a backup nor an export lands on the database it reads ------------------------


@pytest.mark.parametrize("name", ["the database", "a hard link to it", "its journal, not there"])
@pytest.mark.parametrize(
    ("command", "role"),
    [
        (["db", "backup"], "being backed up"),
        (["export", "-o"], "in use"),  # `export -o papers.db`, meaning papers.md, replaced it
        (["export", "--format", "json", "-o"], "in use"),
    ],
    ids=["backup", "export", "export json"],
)
def test_a_backup_or_export_onto_its_own_database_is_refused(
    run, db_path, out, name, command, role
):
    run("mark-read", "lora")
    target = db_path
    if name == "a hard link to it":
        target = out / "papers.db"
        os.link(db_path, target)
    elif name == "its journal, not there":  # was written, then deleted by SQLite as a journal
        target = Path(f"{db_path}-journal")
        assert not target.exists()
    before = db_path.read_bytes()
    result = run(*command, str(target))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: refusing to replace {target}: it is part of the database {role}\n"
    )
    assert db_path.read_bytes() == before
    assert [p.name for p in out.iterdir()] == (["papers.db"] if target.parent == out else [])
    assert not Path(f"{db_path}-journal").exists()
    assert run("show", "lora").stdout.count("read on") == 1
