"""Opening the user's database: first use, overrides, bad files, upgrades."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from papercli import paths
from papercli.errors import DatabaseError
from papercli.seed import load_catalogue
from papercli.store import base, connection, lookups, migrations, notes, papers
from papercli.store.connection import open_database
from papercli.store.shipped import build_seed

from .conftest import MINI_CATALOGUE


def test_first_use_creates_the_database_in_the_user_data_dir(run, monkeypatch, isolated_data_dir):
    monkeypatch.delenv("PAPERCLI_DB")
    expected = isolated_data_dir / ".local" / "share" / "papercli" / "papercli.db"
    assert run("db", "path").stdout.strip() == str(expected)
    assert not expected.exists()  # printing the path creates nothing
    assert run("list", "--limit", "1").exit_code == 0
    assert expected.is_file()


def test_db_option_beats_the_environment(run, tmp_path):
    other = tmp_path / "other.db"
    assert run("--db", str(other), "db", "path").stdout.strip() == str(other)
    assert run("--db", str(other), "list", "--limit", "1").exit_code == 0
    assert other.is_file()
    assert not (tmp_path / "papercli.db").exists()


def test_environment_variable_moves_the_database(run, db_path):
    assert run("db", "path").stdout.strip() == str(db_path)
    run("list", "--limit", "1")
    assert db_path.is_file()


def _one_line_error(result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert text in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard links", "no hard links"])
def test_two_commands_creating_the_database_at_once_lose_nothing(
    run, db_path, mini_seed, monkeypatch, hard_links
):
    """Two commands on a new machine both find no database and build one: the second to
    finish renamed its own over the first's, and what the first wrote was lost (seen in
    tmux: an `add` beside a `fetch`). The second now uses the first's."""
    if not hard_links:

        def no_link(*args: object) -> None:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(connection.os, "link", no_link)
    first = open_database(db_path, mini_seed)
    notes.add_note(first, "lora", "written by the first command")
    first.close()
    # The second command had looked for the file before the first made it:
    connection._create_database(str(db_path), mini_seed, create_parent=False)
    second = open_database(db_path, mini_seed)
    assert [n.body for n in notes.notes_of(second, "lora")] == ["written by the first command"]
    second.close()
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_four_processes_on_a_new_database_keep_all_they_wrote(tmp_path):
    """Real processes at once, each making the database and adding a note: every note
    stays (before, three of four were lost in each of five tries)."""
    db = tmp_path / "new.db"
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "papercli", "--db", str(db), "note", "lora", f"note {n}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    assert [process.wait(timeout=60) for process in started] == [0, 0, 0, 0]
    conn = open_database(db, paths.seed_path())
    assert sorted(n.body for n in notes.notes_of(conn, "lora")) == [f"note {n}" for n in range(4)]
    conn.close()


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_database_that_is_not_a_regular_file_is_refused_untouched(run, tmp_path, kind):
    """SQLite took an empty device (or a FIFO) for a new database: papercli wrote its
    schema onto it, and left a journal file beside it ("disk I/O error"). Only the nodes
    made here are tried: as root, /dev/sdb would have been written to."""
    node = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(node)
    elif os.geteuid() == 0:
        os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # a null device of our own
    else:
        pytest.skip("making a device node needs root")
    result = run("--db", str(node), "list", "--limit", "1")
    _one_line_error(result, 4, "is not a regular file")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(kind)) == [kind]


def test_missing_directory_is_a_clear_error(run, tmp_path):
    target = tmp_path / "nowhere" / "papers.db"
    _one_line_error(run("--db", str(target), "list"), 4, "directory")
    assert not target.parent.exists()


def test_read_only_directory_is_a_clear_error(run, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if (locked / "probe").exists() or _writable(locked):
            pytest.skip("running as a user who can write anywhere")
        _one_line_error(run("--db", str(locked / "papers.db"), "list"), 4, "cannot create")
    finally:
        locked.chmod(0o700)


def test_a_database_in_a_folder_made_read_only_since_says_why_it_cannot_be_used(
    run, tmp_path, monkeypatch
):
    """SQLite writes its journal beside the database even to read it: until 3 December
    `list` there said "cannot write ...: attempt to write a readonly database" of a file
    that was writable."""
    folder = tmp_path / "library"
    folder.mkdir()
    db = folder / "papers.db"
    assert run("--db", str(db), "list", "-n", "1").exit_code == 0
    folder.chmod(0o500)
    try:
        if _writable(folder):  # root writes anywhere: SQLite is then told as it would be
            readonly = sqlite3.OperationalError("attempt to write a readonly database")
            failing = connection.connect

            def connect(path: str) -> sqlite3.Connection:
                failing(path)
                raise readonly

            monkeypatch.setattr(connection, "connect", connect)
            monkeypatch.setattr(base.os, "access", lambda path, mode: False)
        monkeypatch.setenv("PAPERCLI_DB", str(db))  # --db's own check asks os.access too
        _one_line_error(
            run("list", "-n", "1"),
            4,
            f"cannot use {db}: its folder {folder} is read-only, and SQLite writes its"
            " journal beside the database (even to read); make the folder writable or use a"
            " copy of the database elsewhere",
        )
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount")),
    reason="mounting a disk read-only needs root",
)
def test_a_database_on_a_read_only_disk_says_why_it_cannot_be_used(run, tmp_path):
    """On a disk mounted read-only SQLite says "unable to open database file", which
    papercli passed on as "cannot write ...", even of `list`."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)]).returncode:
        pytest.skip("this machine does not let a test mount a disk")
    try:
        db = disk / "papers.db"
        assert run("--db", str(db), "list", "-n", "1").exit_code == 0
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        _one_line_error(
            run("--db", str(db), "list", "-n", "1"),
            4,
            f"cannot use {db}: its folder {disk} is read-only, and SQLite writes its"
            " journal beside the database (even to read); make the folder writable or use a"
            " copy of the database elsewhere",
        )
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)  # lazily, should a file stay open


def _writable(directory: Path) -> bool:
    try:
        (directory / ".probe").touch()
    except OSError:
        return False
    (directory / ".probe").unlink()
    return True


def test_a_file_that_is_not_sqlite_is_left_alone(run, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my precious notes\n" * 100)
    _one_line_error(run("--db", str(notes), "list"), 4, "not a papercli database")
    assert notes.read_text() == "my precious notes\n" * 100


def test_someone_elses_sqlite_database_is_left_alone(run, tmp_path):
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE mine (x)")
    _one_line_error(run("--db", str(other), "list"), 4, "not papercli's")
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["mine"]


def test_a_database_from_a_newer_papercli_is_refused(run, db_path):
    run("list", "--limit", "1")
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    _one_line_error(run("list"), 4, "newer papercli")


def test_a_database_with_a_negative_schema_version_is_refused_untouched(run, db_path):
    """Until 3 December the upgrade ran from there and failed halfway ("table sync_parked
    already exists")."""
    assert run("list", "-n", "1").exit_code == 0
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = -1")
    before = db_path.read_bytes()
    _one_line_error(
        run("list", "-n", "1"), 4, f"{db_path} is not a papercli database or is damaged"
    )
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("command", [["list"], ["db", "path"]], ids=" ".join)
@pytest.mark.parametrize("place", ["before", "after"])
def test_a_directory_given_as_database_is_refused_as_in_the_environment(
    run, tmp_path, place, command
):
    """Exit 4, as the README says and $PAPERCLI_DB has it: --db gave 2 (Click's check).
    `db path` printed the folder as the database's place, exit 0, until 5 December."""
    db = ["--db", str(tmp_path)]
    args = [*db, *command] if place == "before" else [*command, *db]
    _one_line_error(run(*args), 4, f"{tmp_path} is a directory, not a database file")


def test_db_path_refuses_what_every_command_refuses(run, tmp_path):
    """`db path` printed (exit 0) a path under a file, in a missing folder or a loop of
    links, each of which every other command refuses (exit 4)."""
    (tmp_path / "a.db").write_bytes(b"")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    for given, text in [
        (tmp_path / "a.db" / "x.db", "Not a directory"),
        (tmp_path / "nofolder" / "x.db", f"directory {tmp_path / 'nofolder'} does not exist"),
        (tmp_path / "loop1", "Too many levels of symbolic links"),
    ]:
        for command in (["db", "path"], ["list", "-n", "1"]):
            _one_line_error(run("--db", str(given), *command), 4, text)


def test_a_directory_in_the_environment_is_refused_and_left_as_it_is(run, monkeypatch, tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    for given, text in [
        (str(folder), "is a directory, not a database file"),
        (f"{tmp_path}/new/", "names a directory; give the database a file name"),
        ("~/", "home/ is a directory"),  # ~ is the test's home
    ]:
        monkeypatch.setenv("PAPERCLI_DB", given)
        _one_line_error(run("list"), 4, text)
    assert list(folder.iterdir()) == []
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--db", "{folder}/", "list", "-n1"],  # -n1: Typer's, not the fast path's
        ["list", "-n1", "--db", "{folder}/"],
        ["--db", "{folder}/", "list", "-n", "1"],  # the fast path's
        ["--db", "{folder}/", "stats"],
    ],
    ids=" ".join,
)
def test_a_db_option_ending_in_a_slash_is_refused_on_both_paths(run, tmp_path, args):
    """As in $PAPERCLI_DB: until 3 December Typer made a Path of --db, which dropped the
    slash, and made a database file named like the folder (the fast path refused it)."""
    folder = tmp_path / "new"
    _one_line_error(run(*(a.format(folder=folder) for a in args)), 4, "names a directory")
    assert not folder.exists()


@pytest.mark.parametrize("args", [["--db", "", "list"], ["db", "path", "--db", ""]], ids=" ".join)
def test_an_empty_db_option_is_a_usage_error(run, db_path, args):
    """Not the default database, as an empty variable in a script would have it (until 3
    December it was the folder "."; for a moment on 3 December, the default)."""
    result = run(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: invalid value for --db: an empty name names no file")
    assert not db_path.exists()


@pytest.mark.parametrize(
    ("variable", "option", "said"),
    [
        ("", None, "error: $PAPERCLI_DB is blank, which names no database file; unset it"),
        ("   ", None, "error: $PAPERCLI_DB is blank, which names no database file; unset it"),
        (None, "   ", "error: --db is blank, which names no database file; leave it out"),
    ],
)
def test_a_blank_database_name_is_a_usage_error(run, tmp_path, monkeypatch, variable, option, said):
    """`PAPERCLI_DB=""` (a script's empty variable) used the default database, where an
    empty --db is refused; `PAPERCLI_DB="   "` made a database named by three spaces in
    the current folder."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    if variable is not None:
        monkeypatch.setenv("PAPERCLI_DB", variable)
    for command in (["list"], ["db", "path"], ["mark-read", "lora"]):
        result = run(*(["--db", option] if option is not None else []), *command)
        assert (result.exit_code, result.stdout) == (2, ""), command
        assert result.stderr.startswith(said)
    assert list(here.iterdir()) == []


def test_blank_database_migrates_to_the_current_schema(tmp_path, mini_seed):
    conn = open_database(tmp_path / "new.db", mini_seed)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    catalogue_tables = {"papers", "paper_names", "paper_orgs", "paper_topics", "prerequisites"}
    user_tables = {"reading_state", "status_history", "notes", "tags", "queue"}
    assert catalogue_tables | user_tables <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not list(tmp_path.glob(".new.db.*"))  # no temporary file left behind


def test_a_newer_catalogue_updates_facts_but_never_user_state(tmp_path, mini_seed):
    db = tmp_path / "user.db"
    conn = open_database(db, mini_seed)
    with base.transaction(conn):
        conn.execute(
            "INSERT INTO reading_state VALUES ('lora', 'read', '2024-01-01', '2024-01-01', 1)"
        )
        conn.execute("INSERT INTO notes (paper_id, created_at, body) VALUES ('lora', 'x', 'mine')")
        conn.execute("INSERT INTO tags VALUES ('lora', 'must-read')")
        conn.execute("INSERT INTO queue (paper_id, position, added_at) VALUES ('llama', 1, 'x')")
        conn.execute(
            "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at)"
            " VALUES (1, 'lora', 'unread', 'read', 'x')"
        )
    before = {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
        for t in ("reading_state", "notes", "tags", "queue", "status_history")
    }
    conn.close()

    newer = (
        MINI_CATALOGUE.read_text(encoding="utf-8").replace(
            'why = "Cheap fine-tuning with low-rank updates."', 'why = "Corrected summary."'
        )
        + """
[[paper]]
id = "new-paper"
title = "A Paper Added Later"
short_name = "New"
arxiv_id = "2401.00001"
primary_category = "cs.LG"
date = "2024-01-02"
authors = ["Ada Lovelace"]
citation_key = "lovelace2024paper"
checked_against = ["https://arxiv.org/abs/2401.00001"]
organizations = ["Google"]
topics = ["peft"]
why = "Shipped in a later catalogue."
sources = ["test-list"]
prerequisites = ["lora"]
"""
    )
    source = tmp_path / "newer.toml"
    source.write_text(newer, encoding="utf-8")
    newer_seed = tmp_path / "newer_seed.sqlite"
    build_seed(load_catalogue(source), newer_seed)

    conn = open_database(db, newer_seed)
    assert papers.get_paper(conn, "lora").why == "Corrected summary."
    assert papers.get_paper(conn, "new-paper").prerequisites == ["lora"]
    after = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in before}
    assert after == before


def test_database_errors_become_sentences():
    assert "busy" in base.database_error(sqlite3.OperationalError("database is locked")).message
    with pytest.raises(DatabaseError):
        raise base.database_error(sqlite3.DatabaseError("file is not a database"))


def test_upgrading_to_a_newer_shipped_catalogue_keeps_every_piece_of_user_state(
    run, run_json, db_path, tmp_path, monkeypatch
):
    """A database made by today's papercli, then opened by one with a corrected catalogue."""
    run("mark-read", "lora", "qlora")
    run("mark-reading", "cot")
    run("note", "lora", "keep this note")
    run("tag", "lora", "+must-read")
    run("queue", "add", "dpo", "rag")
    tables = ("reading_state", "status_history", "notes", "tags", "queue")
    with sqlite3.connect(db_path) as conn:
        before = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}

    root = Path(__file__).resolve().parents[1]
    source = (root / "data" / "catalogue.toml").read_text(encoding="utf-8")
    source = source.replace(
        'title = "LoRA: Low-Rank Adaptation of Large Language Models"',
        'title = "LoRA: Low-Rank Adaptation of Large Language Models (corrected)"',
    )
    newer = tmp_path / "catalogue.toml"
    newer.write_text(source, encoding="utf-8")
    newer_seed = tmp_path / "seed.sqlite"
    build_seed(load_catalogue(newer), newer_seed)
    monkeypatch.setattr("papercli.paths.seed_path", lambda: newer_seed)

    shown = run_json("show", "lora", "--format", "json")
    assert shown["title"].endswith("(corrected)")
    assert shown["status"] == "read" and shown["tags"] == ["must-read"]
    with sqlite3.connect(db_path) as conn:
        after = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    assert after == before


def test_a_catalogue_paper_taking_a_user_papers_id_renames_the_users_paper(tmp_path, mini_seed):
    from papercli.models import Paper
    from papercli.store import library

    db = tmp_path / "user.db"
    conn = open_database(db, mini_seed)
    mine = Paper(
        id="new-paper",
        title="My Own Find",
        short_name="Mine",
        year=2024,
        date="2024-01-05",
        arxiv_id="2401.09999",
        origin="user",
        topics=["peft"],
    )
    with base.transaction(conn):
        papers.insert_paper(conn, mine)
    library.set_status(conn, ["new-paper"], library.ReadStatus.READ)
    notes.add_note(conn, "new-paper", "my note")
    conn.close()

    newer = (
        MINI_CATALOGUE.read_text(encoding="utf-8")
        + """
[[paper]]
id = "new-paper"
title = "A Paper Added Later"
short_name = "New"
arxiv_id = "2401.00001"
primary_category = "cs.LG"
date = "2024-01-02"
authors = ["Ada Lovelace"]
citation_key = "lovelace2024paper"
checked_against = ["https://arxiv.org/abs/2401.00001"]
organizations = ["Google"]
topics = ["peft"]
why = "Shipped in a later catalogue."
sources = ["test-list"]
prerequisites = []
"""
    )
    source = tmp_path / "newer.toml"
    source.write_text(newer, encoding="utf-8")
    newer_seed = tmp_path / "newer_seed.sqlite"
    build_seed(load_catalogue(source), newer_seed)

    conn = open_database(db, newer_seed)
    assert papers.get_paper(conn, "new-paper").title == "A Paper Added Later"
    renamed = papers.full_papers(conn, ["new-paper-2"])[0]
    assert (renamed.title, renamed.arxiv_id, str(renamed.status)) == (
        "My Own Find",
        "2401.09999",
        "read",
    )
    assert [n.body for n in renamed.notes] == ["my note"]
    assert lookups.ids_by_name(conn, "newpaper") == ["new-paper"]


@pytest.mark.parametrize(
    "args",
    [["mark-read", "lora"], ["tag", "lora", "+later"], ["list", "--format", "ids"]],
    ids=" ".join,
)
def test_the_database_is_one_file_between_commands(args, db_path):
    """Each command closes its database, which folds the write-ahead log back into the
    file: copying papercli.db alone copies everything."""
    for command in (["list", "--limit", "1"], args):
        result = subprocess.run(
            [sys.executable, "-m", "papercli", *command], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    assert db_path.exists()
    assert not Path(f"{db_path}-wal").exists()
    assert not Path(f"{db_path}-shm").exists()


def test_a_write_has_a_bigger_page_cache_until_it_ends(tmp_path):
    conn = sqlite3.connect(tmp_path / "bulk.db", isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    usual = conn.execute("PRAGMA cache_size").fetchone()[0]
    with base.transaction(conn):
        assert conn.execute("PRAGMA cache_size").fetchone()[0] == -base.WRITE_CACHE_KIB
        conn.execute("INSERT INTO t VALUES (1)")
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == usual
    with pytest.raises(KeyboardInterrupt), base.transaction(conn):
        conn.execute("INSERT INTO t VALUES (2)")
        raise KeyboardInterrupt
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == usual
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    conn.close()


@pytest.fixture
def fill_disk(monkeypatch):
    """Call it, and every database papercli opens from then on can grow by no page: SQLite
    fails a write as on a full disk (SQLITE_FULL), and rolls its transaction back itself."""
    real = connection.connect

    def capped(path):
        conn = real(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    return lambda: monkeypatch.setattr(connection, "connect", capped)


def _everything(db_path: Path) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.mark.parametrize(
    "args",
    [["mark-read", "-"], ["note", "lora", "x" * 200_000], ["import"]],
    ids=["mark-read (the fast path)", "note", "import"],
)
def test_a_full_disk_is_named_and_changes_nothing(run, db_path, tmp_path, fill_disk, args):
    assert run("mark-read", "bert").exit_code == 0
    stdin = run("list", "--format", "ids").stdout
    if args[0] == "import":  # 30 papers this library does not have
        other = str(tmp_path / "other.db")
        for n in range(30):
            added = run(
                "--db",
                other,
                "add",
                "--title",
                f"Paper {n}",
                "--author",
                "A. Person",
                "--year",
                "2024",
            )
            assert added.exit_code == 0, added.stderr
        given = tmp_path / "new.json"
        assert run("--db", other, "export", "--format", "json", "-o", str(given)).exit_code == 0
        args = ["import", str(given)]
    before = _everything(db_path)
    fill_disk()
    result = run(*args, input=stdin)
    assert result.stderr == (
        f"error: no space left on the disk holding {db_path}; free some space and try again\n"
    )
    assert result.exit_code == 4
    assert _everything(db_path) == before


@pytest.mark.parametrize(("free", "said"), [(8192, "full"), (1 << 30, "as SQLite said")])
def test_a_disk_io_error_is_called_a_full_disk_only_when_it_is(
    run, db_path, monkeypatch, free, said
):
    """On a full disk, reading commands fail too: SQLite cannot make the write-ahead log's
    index, and says "disk I/O error" (SQLITE_IOERR_SHMSIZE)."""
    import shutil

    assert run("list", "--limit", "1").exit_code == 0

    def failing(conn, path):
        error = sqlite3.OperationalError("disk I/O error")
        error.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
        raise error

    monkeypatch.setattr(connection, "_check_papercli_database", failing)
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1 << 31, 0, free)
    )
    result = run("list")
    assert result.exit_code == 4
    assert result.stderr == (
        f"error: no space left on the disk holding {db_path}; free some space and try again\n"
        if said == "full"
        else f"error: database error in {db_path}: disk I/O error\n"
    )
