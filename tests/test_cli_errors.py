"""Errors in one style and options that mean the same everywhere (issue 12).

Every error is one line on stderr starting ``error:``, with the README's exit codes, Click's
usage errors included; `--db` and `-n` work alike in every command; and every example in
every command's help returns something on the shipped catalogue.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from typer.main import get_command
from typer.testing import CliRunner, Result

from papercli import cli as cli_package
from papercli import files, refs
from papercli.cli import arxiv_commands, reading
from papercli.cli import queue as queue_module
from papercli.cli.app import app
from papercli.errors import Terminated
from papercli.store import base
from scripts.readme_reference import command_paths, help_text
from tests.arxiv_fakes import ATOM, FakeClock, fixture
from tests.conftest import run_fast
from tests.s2_world import serve_world

Run = Callable[..., Result]


def assert_one_error_line(result: Result, code: int) -> str:
    """The run failed with ``code`` and said why in one line on stderr, nothing else."""
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (result.exit_code, result.stdout) == (code, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


# -- Click's usage errors, in papercli's style ------------------------------------------

USAGE_ERRORS = [
    (
        ["list", "--frmat", "json"],
        "error: no such option: --frmat (did you mean --format?); see papercli list --help",
    ),
    (["show"], "error: missing argument REF; see papercli show --help"),
    (
        ["list", "--format", "yaml"],
        "error: invalid value for --format: 'yaml' is not one of 'table', 'json', 'csv', 'ids'",
    ),
    (
        ["list", "--since", "abc"],
        "error: invalid value for --since: 'abc' is not a whole number (digits 0-9)",
    ),
    (
        ["list", "extra"],
        "error: got unexpected extra argument(s) (extra); see papercli list --help",
    ),
    (["list", "--since"], "error: option '--since' requires an argument"),
    (["-x", "list"], "error: no such option: -x; see papercli --help"),
    (
        ["mark", "lora"],
        "error: missing option --as (choose from: unread, reading, read, skipped);"
        " see papercli mark --help",
    ),
    (
        ["queue", "add", "lora", "--tpo"],
        "error: no such option: --tpo (did you mean --top?); see papercli queue add --help",
    ),
    (
        ["queue", "move", "lora", "first"],
        "error: invalid value for N: 'first' is not a whole number (digits 0-9)",
    ),
    (["shw", "lora"], "error: no such command 'shw' (did you mean 'show'?)"),
    (["queue", "ad", "lora"], "error: no such command 'ad' (did you mean 'add'?)"),
    (["zzz"], "error: no such command 'zzz'; see papercli --help"),
    (["db", "pth"], "error: no such command 'pth' (did you mean 'path'?)"),
]


@pytest.mark.parametrize(
    ("args", "line"), [pytest.param(*case, id=" ".join(case[0])) for case in USAGE_ERRORS]
)
def test_a_usage_error_is_one_line_and_exit_2(run: Run, args: list[str], line: str) -> None:
    assert assert_one_error_line(run(*args), 2) == line


def test_help_is_unchanged() -> None:
    runner = CliRunner()
    for args in (["list", "--help"], ["list", "-h"], ["queue", "add", "-h"], ["tag", "--help"]):
        result = runner.invoke(app, args, prog_name="papercli")
        assert result.exit_code == 0
        assert result.stdout.startswith(f"Usage: papercli {' '.join(args[:-1])} [OPTIONS]")
        assert result.stderr == ""


def test_an_arxiv_id_not_in_the_list_says_how_to_add_it(run: Run) -> None:
    expected = (
        "error: arXiv:2312.00752 is not in the catalogue or your list;"
        " add it with: papercli add 2312.00752"
    )
    assert assert_one_error_line(run("show", "2312.00752"), 1) == expected
    assert assert_one_error_line(run("show", "arXiv:2312.00752v2"), 1) == expected


def test_a_question_answered_no_is_one_error_line(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`queue clear` at a terminal, answered "n": Click's "Aborted!" becomes an error."""
    run("queue", "add", "lora")
    at_a_terminal = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(queue_module, "sys", at_a_terminal)
    result = run("queue", "clear", input="n\n")
    assert result.exit_code == 1
    assert result.stderr == "error: aborted\n"
    assert run("queue", "--format", "ids").stdout == "lora\n"


@pytest.mark.parametrize(
    ("read", "asked"),
    [
        (["lora"], "Already read: lora. Queue it anyway? [y/N]: "),
        (["lora", "qlora"], "Already read: lora, qlora. Queue them anyway? [y/N]: "),
    ],
)
def test_queueing_read_papers_at_a_terminal_asks_in_the_right_number(
    run: Run, monkeypatch: pytest.MonkeyPatch, read: list[str], asked: str
) -> None:
    run("mark-read", *read)
    at_a_terminal = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(queue_module, "sys", at_a_terminal)
    result = run("queue", "add", *read, input="n\n")
    assert result.stdout == asked + "n\n"  # CliRunner echoes the answer
    them = "it" if len(read) == 1 else "them"
    assert (
        result.stderr
        == f"error: not queued, already read: {', '.join(read)} (use --force to queue {them})\n"
    )
    assert result.exit_code == 1


def test_a_read_paper_already_queued_is_not_asked_about(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It asked "Already read: lora. Queue it anyway?", then said lora was in the queue."""
    run("mark-read", "lora")
    run("queue", "add", "lora", "--force")
    at_a_terminal = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(queue_module, "sys", at_a_terminal)
    result = run("queue", "add", "lora", input="n\n")
    assert (result.exit_code, result.stdout) == (
        0,
        "lora is already in the queue; its place is unchanged\n",
    )


def _answer_at_a_terminal(db: Path, args: list[str], keys: bytes) -> tuple[int, str]:
    """Run papercli on a pseudo-terminal, press ``keys`` once it asks its question, and
    return its exit code and what the terminal showed."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: papercli, at the terminal
        os.execv(sys.executable, [sys.executable, "-m", "papercli", "--db", str(db), *args])
    shown = b""
    while not shown.endswith(b"[y/N]: "):
        shown += os.read(terminal, 1024)
    asked = len(shown)
    os.write(terminal, keys)
    for _ in range(30):
        if not select.select([terminal], [], [], 1)[0]:
            if b"error" not in shown[asked:]:  # the terminal may have echoed ^C
                # Ctrl-C came between the question and the read of the answer (which
                # then waits, the signal already handled): a person would press it again.
                os.write(terminal, keys)
            continue
        try:
            chunk = os.read(terminal, 1024)
        except OSError:  # EIO: papercli has ended
            break
        shown += chunk
    os.close(terminal)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), shown.decode()


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGTERM or SIGHUP to send")
@pytest.mark.parametrize(("stop", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_to_stop_rolls_back_and_ends_in_one_line(
    tmp_path: Path, stop: str, code: int
) -> None:
    """SIGTERM (kill, timeout, a service manager) and SIGHUP (a closed terminal) ended
    papercli at once; they now stop it as Ctrl-C does, exit 128 + the signal's number."""
    db = tmp_path / "mine.db"
    assert CliRunner().invoke(app, ["--db", str(db), "list"]).exit_code == 0
    importing = subprocess.Popen(
        [sys.executable, "-m", "papercli", "--db", str(db), "import", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert importing.stdin is not None
    importing.stdin.write(b"@misc{a, title = {Half Imported}, author = {Roe, Rita}, year = 2024}\n")
    importing.stdin.flush()  # and papercli waits for the rest, stdin left open
    _wait_for_handler(importing.pid, getattr(signal, stop))
    importing.send_signal(getattr(signal, stop))
    out, err = importing.communicate(timeout=60)
    assert (importing.returncode, out) == (code, b"")
    assert (
        err
        == (
            f"error: interrupted by {stop}; nothing after the last completed step was saved\n"
        ).encode()
    )
    listed = CliRunner().invoke(app, ["--db", str(db), "search", "half imported"])
    assert "Half Imported" not in listed.stdout


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP to send")
def test_a_signal_ignored_from_the_start_stays_ignored(tmp_path: Path) -> None:
    """`nohup papercli ...` starts it with SIGHUP ignored: it outlives its terminal."""
    db = tmp_path / "mine.db"
    importing = subprocess.Popen(
        [sys.executable, "-m", "papercli", "--db", str(db), "import", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    assert importing.stdin is not None
    importing.stdin.write(
        b"@misc{a, title = {Outlived Hang-Up}, author = {Roe, Rita}, year = 2024}\n"
    )
    importing.stdin.flush()
    _wait_for_handler(importing.pid, signal.SIGTERM)  # papercli has set its handlers
    importing.send_signal(signal.SIGHUP)
    _, err = importing.communicate(timeout=60)  # closes stdin: the import ends
    assert importing.returncode == 0, err
    listed = CliRunner().invoke(app, ["--db", str(db), "search", "outlived hang-up"])
    assert "Outlived Hang-Up" in listed.stdout


def _wait_for_handler(pid: int, signum: int) -> None:
    """Until process ``pid`` catches ``signum`` (Linux's /proc), or a few seconds."""
    status = Path(f"/proc/{pid}/status")
    for _ in range(200):
        if status.exists():
            caught = next(
                int(line.split()[1], 16)
                for line in status.read_text().splitlines()
                if line.startswith("SigCgt:")
            )
            if caught >> (signum - 1) & 1:
                break
        else:
            time.sleep(2)  # no /proc: give it time to start
            break
        time.sleep(0.05)
    time.sleep(0.5)  # and to read what was written


@pytest.mark.parametrize(
    ("stopped", "code", "said"),
    [
        (Terminated(15, "SIGTERM"), 143, "error: interrupted by SIGTERM;"),
        (KeyboardInterrupt(), 130, "error: interrupted;"),
    ],
)
def test_a_signal_before_the_command_runs_ends_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stopped: KeyboardInterrupt,
    code: int,
    said: str,
) -> None:
    """A signal while papercli's modules load, before any command's own handling, ended
    in a traceback (one in six SIGTERMs sent in the first 0.1 s)."""
    from papercli.cli import fast

    def interrupted(argv: list[str]) -> None:
        raise stopped

    monkeypatch.setattr(fast, "run", interrupted)
    monkeypatch.setattr(sys, "argv", ["papercli", "list"])
    monkeypatch.setattr(cli_package, "_stop_on_signals", lambda: None)  # not in pytest
    nothing = SimpleNamespace(set_threshold=lambda threshold: None, freeze=lambda: None)
    monkeypatch.setattr(cli_package, "gc", nothing)  # nor its collector's settings
    with pytest.raises(SystemExit) as ended:
        cli_package.main()
    assert ended.value.code == code
    assert capsys.readouterr().err.startswith(said)


def test_ctrl_c_in_papercli_s_first_milliseconds_ends_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C before the signal handlers were set (the first ~10 ms) ended in a traceback."""

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "argv", ["papercli", "list"])
    monkeypatch.setattr(cli_package, "_drop_unreadable_sizes", interrupted)
    nothing = SimpleNamespace(set_threshold=lambda threshold: None, freeze=lambda: None)
    monkeypatch.setattr(cli_package, "gc", nothing)
    with pytest.raises(SystemExit) as ended:
        cli_package.main()
    assert ended.value.code == 130
    assert capsys.readouterr().err.startswith("error: interrupted;")


def test_a_signal_mid_export_leaves_no_half_written_file(tmp_path: Path) -> None:
    """The signal arrives while the export is written: the file half written is removed,
    as it is on Ctrl-C, where until 5 December it stayed beside the target."""
    folder = tmp_path / "exports"
    folder.mkdir()
    stopping = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    saved = {each: signal.getsignal(each) for each in stopping}
    cli_package._stop_on_signals()

    def pieces() -> Iterator[str]:
        yield "[\n"
        os.kill(os.getpid(), signal.SIGTERM)
        yield "]\n"

    try:
        with pytest.raises(Terminated):
            files.write_atomic_pieces(folder / "out.json", pieces())
    finally:
        for each, handler in saved.items():
            signal.signal(each, handler)
    assert list(folder.iterdir()) == []


def test_ctrl_c_after_the_change_was_saved_says_that_it_stands(
    run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C as `undo` printed what it had undone said only that nothing after the last
    completed step was saved: the user ran `undo` again, and undid the command before."""
    assert run("mark-read", "gpt-2").exit_code == 0
    assert run("mark-read", "lora").exit_code == 0

    def pressed(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(reading, "_replayed", pressed)
        result = run("undo")
    assert (result.exit_code, result.stdout) == (130, "")
    assert result.stderr == "error: interrupted after its changes up to then were saved\n"
    status = {p: json.loads(run("show", p, "--format", "json").stdout)["status"] for p in LORA_GPT}
    assert status == {"gpt-2": "read", "lora": "unread"}
    refused = run("tag", "nonexistent-paper", "+x")  # the next command starts afresh
    assert refused.stderr.startswith("error: ") and "saved" not in refused.stderr


class _CommitInterrupted:
    """A connection on which Ctrl-C comes while COMMIT runs: Python raises it as soon as
    the COMMIT returns."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        done = self._conn.execute(sql, *args)
        if sql == "COMMIT":
            raise KeyboardInterrupt
        return done


def test_ctrl_c_during_a_commit_counts_the_change_as_saved(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    before = base.commits()
    with pytest.raises(KeyboardInterrupt), base.transaction(_CommitInterrupted(conn)):  # type: ignore[arg-type]
        conn.execute("INSERT INTO t VALUES (1)")
    assert base.commits() == before + 1
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    with pytest.raises(KeyboardInterrupt), base.transaction(conn):  # before its COMMIT
        conn.execute("INSERT INTO t VALUES (2)")
        raise KeyboardInterrupt
    assert base.commits() == before + 1
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]


LORA_GPT = ("lora", "gpt-2")


@pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals")
@pytest.mark.parametrize(
    ("keys", "code", "error"),
    [
        (b"\x03", 130, "error: interrupted; nothing after the last completed step was saved"),
        (b"\x04", 1, "error: aborted"),
    ],
    ids=["ctrl-c", "ctrl-d"],
)
def test_ctrl_c_at_a_question_is_an_interruption(
    tmp_path: Path, keys: bytes, code: int, error: str
) -> None:
    """Until 3 December Ctrl-C at a question was taken for a no (exit 1, not 130), and the
    error went on the question's line."""
    db = tmp_path / "mine.db"
    assert CliRunner().invoke(app, ["--db", str(db), "queue", "add", "lora"]).exit_code == 0
    exit_code, shown = _answer_at_a_terminal(db, ["queue", "clear"], keys)
    *question, said = shown.splitlines()
    assert (exit_code, said) == (code, error)
    assert "".join(question).startswith("Remove every paper from the queue? [y/N]: ")
    assert "error" not in "".join(question)
    queued = CliRunner().invoke(app, ["--db", str(db), "queue", "--format", "ids"])
    assert queued.stdout == "lora\n"


# Tokens a hurried user might type, good and bad; no --edit (an editor), no --help.
TOKENS = ["--frmat", "-x", "--limit", "-n", "abc", "-1", "3", "--format", "yaml", "json"]
TOKENS += ["ids", "--since", "2021", "--", "-", "extra", "lora", "gpt", "--sort", "colour"]
TOKENS += ["--status=maybe", "--db", "--as", "read", "+t", "-t", "--top", "--at", "2312.00752"]
# Every command that needs neither an editor nor a file (`path` to an arXiv id asks
# Semantic Scholar, here a closed port: exit 3).
COMMAND_LINES = ["list", "search", "show", "orgs", "topics", "authors", "mark-read", "mark"]
COMMAND_LINES += ["mark-unread", "history", "undo", "note", "tag", "tags", "path", "queue"]
COMMAND_LINES += ["queue add", "queue remove", "queue move", "queue clear", "next", "stats"]
COMMAND_LINES += ["export", "db path", "shw", "queue ad"]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    command=st.sampled_from(COMMAND_LINES),
    tokens=st.lists(st.sampled_from(TOKENS), max_size=4),
)
def test_whatever_is_typed_a_failure_is_one_error_line(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, tokens: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # `--db NAME` makes its database here
    monkeypatch.setenv("PAPERCLI_S2_URL", "http://127.0.0.1:9")
    result = run(*command.split(), *tokens)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code != 0:
        assert result.exit_code in (1, 2, 3)
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: ")


# -- titles in an ambiguity list -----------------------------------------------------


def test_an_ambiguity_list_cuts_titles_between_words(run: Run, run_json: Run) -> None:
    line = assert_one_error_line(run("show", "gpt"), 1)
    shown = dict(re.findall(r"(gpt-\d) \(([^()]*), \d{4}\)", line))
    assert set(shown) == {"gpt-1", "gpt-2", "gpt-3", "gpt-4"}
    assert shown["gpt-1"] == "Improving Language Understanding by…"
    for pid, text in shown.items():
        title = run_json("show", pid, "--format", "json")["title"]
        assert text == title or (text.endswith("…") and title.startswith(text[:-1] + " "))


@given(st.text(st.sampled_from("ab :,-—\t"), max_size=80), st.integers(5, 60))
def test_shorten_never_cuts_a_word(title: str, width: int) -> None:
    short, normal = refs.shorten(title, width), " ".join(title.split())
    if short == normal:  # whole: short enough, or one word too long to cut
        assert len(normal) <= width or " " not in normal
        return
    assert short.endswith("…")
    kept = short[:-1]
    assert normal.startswith(kept)
    assert normal[len(kept)] in " ,;:-\u2013\u2014"  # the next character ends a word
    assert len(short) <= width or " " not in kept  # longer only for a first word too long


# -- --db after the command name, on both paths ----------------------------------------


@pytest.fixture
def queued_db(tmp_path: Path) -> Path:
    """A database of its own, not the default one: lora and qlora queued."""
    path = tmp_path / "mine.db"
    result = CliRunner().invoke(app, ["--db", str(path), "queue", "add", "lora", "qlora"])
    assert result.exit_code == 0, result.output
    return path


DB_AFTER = [
    (["queue", "--db", "{db}", "--format", "ids"], "lora\nqlora\n"),
    (["next", "--format", "id", "--db={db}"], "lora\n"),
    (["--db", "{other}", "next", "--db", "{db}", "-f", "id"], "lora\n"),
    (["mark-read", "lora", "--db", "{db}"], "lora: unread -> read (removed from the queue)\n"),
    (["list", "--status", "unread", "--db", "{db}", "-n", "1", "-f", "ids"], "adam\n"),
]


@pytest.mark.parametrize(
    ("args", "stdout"), [pytest.param(*case, id=" ".join(case[0])) for case in DB_AFTER]
)
def test_db_works_after_the_command_name_on_both_paths(
    queued_db: Path, tmp_path: Path, db_path: Path, args: list[str], stdout: str
) -> None:
    runner = CliRunner()
    seen = []
    for way in ("typer", "fast"):
        db = tmp_path / f"{way}.db"
        shutil.copyfile(queued_db, db)
        argv = [a.format(db=db, other=tmp_path / "other.db") for a in args]
        result = runner.invoke(app, argv) if way == "typer" else run_fast(runner, argv)
        assert result is not None, "the fast path declined"
        queue = runner.invoke(app, ["--db", str(db), "queue", "-f", "ids"]).stdout
        seen.append((result.exit_code, result.stdout, result.stderr, queue))
    assert seen[0] == seen[1]
    assert seen[0][:2] == (0, stdout)
    assert not db_path.exists()  # the default database was never opened
    assert not (tmp_path / "other.db").exists()  # nor the one named before the command


# -- -n is a limit everywhere --------------------------------------------------------


def _all_params() -> list[tuple[str, object]]:
    root = get_command(app)
    found = []
    for path in command_paths():
        command = root
        for name in path:
            command = command.get_command(None, name)  # type: ignore[attr-defined]
        found += [(" ".join(path), param) for param in command.params]
    return found


def test_n_means_a_limit_in_every_command() -> None:
    with_n = {(where, p.name) for where, p in _all_params() if "-n" in getattr(p, "opts", [])}
    limits = {(where, p.name) for where, p in _all_params() if p.name == "limit"}
    assert with_n == limits
    assert {where for where, _ in limits} >= {"list", "search", "history"}


def test_import_dry_run_has_no_short_form(run: Run, tmp_path: Path) -> None:
    backup = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(backup)).exit_code == 0
    line = assert_one_error_line(run("import", str(backup), "-n"), 2)
    assert line.startswith("error: no such option: -n")
    assert run("import", str(backup), "--dry-run").exit_code == 0


# -- queue --format ids ----------------------------------------------------------------


def test_queue_lists_ids_one_per_line_on_both_paths(run: Run) -> None:
    run("queue", "add", "qlora", "lora", "dpo")
    for args in (["queue", "--format", "ids"], ["queue", "-f", "ids"]):
        fast_result = run_fast(CliRunner(), args)
        assert fast_result is not None
        typer_result = CliRunner().invoke(app, args)
        for result in (fast_result, typer_result):
            assert (result.exit_code, result.stdout) == (0, "qlora\nlora\ndpo\n")
    assert run("mark-read", "-", input=run("queue", "-f", "ids").stdout).exit_code == 0
    assert run("queue", "-f", "ids").stdout == ""


# -- tags that start with a dash -------------------------------------------------------


def test_tag_names_may_look_like_short_options(run: Run, run_json: Run) -> None:
    assert run("tag", "lora", "+hx", "+h", "+keep").stdout == "lora: h, hx, keep\n"
    result = run("tag", "lora", "-hx", "-h")
    assert (result.exit_code, result.stdout) == (0, "lora: keep\n")
    assert run_json("show", "lora", "--format", "json")["tags"] == ["keep"]


# -- every --help example returns something --------------------------------------------


def _help_examples() -> list[str]:
    """Every example line in every command's help, once each, in help order."""
    examples: list[str] = []
    for path in command_paths():
        block = re.search(r"\n  Examples?:\n((?:    .*\n)+)", help_text(path))
        assert block, f"no examples in the help of {path}"
        examples += [line.strip() for line in block.group(1).splitlines()]
    return list(dict.fromkeys(examples))


# Examples that cannot run here, and why.
CANNOT_RUN = {
    "papercli fetch": "needs arXiv",
    "papercli fetch --missing": "needs arXiv",
    "papercli fetch lora gpt-3": "needs arXiv",
    "papercli fetch --format json": "needs arXiv",
    "papercli add 2312.00752": "needs arXiv",
    "papercli add 2312.00752 --id mamba --topic architecture --queue": "needs arXiv",
    "papercli add 2404.14219 arXiv:2402.17764v1": "needs arXiv",
    "papercli open lora": "opens a browser",
    'papercli open "attention is all you need" --pdf': "opens a browser",
    "papercli open $(papercli next --format ids)": "opens a browser",
    "papercli note lora --edit": "opens an editor",
    "papercli note lora --edit 2": "opens an editor",
    "papercli remove my-paper": "needs a paper you added, from arXiv",
    "papercli remove my-paper other-paper --yes": "needs papers you added, from arXiv",
    "papercli queue clear": "asks for confirmation at a terminal",
    "papercli import references.bib --dry-run": "needs a BibTeX file of papers not in the list",
    "papercli import to-read.txt --queue": "needs arXiv",
    "papercli refs lora --format ids | papercli add -": "needs arXiv",
    "papercli path https://arxiv.org/abs/2312.00752 --add": "needs arXiv",
    "papercli add 2312.00752 --with-refs 3": "needs arXiv",
    "papercli inbox open 2411.18571": "opens a browser",
    "papercli inbox open 2411.18571 --pdf": "opens a browser",
}

WATCH = "papercli watch add peft --category cs.CL --category cs.LG -k low-rank"

WATCHED = [WATCH, "papercli inbox pull"]  # the inbox's examples: the recorded listing pulled

# Examples that show something only after earlier commands (run first, in order).
PRIOR_STATE = {
    "papercli prereq transformer --accept": ["papercli refs transformer"],
    "papercli sync": ["papercli sync ~/Sync/papers --name laptop"],
    "papercli inbox pull": [WATCH],
    "papercli inbox pull --since 2026-11-20": [WATCH],
    "papercli inbox pull --quiet": [WATCH],
    "papercli inbox": WATCHED,
    "papercli inbox --watch peft -n 10": WATCHED,
    "papercli inbox keep 2411.18571 --queue": WATCHED,
    "papercli inbox keep 2411.18571": WATCHED,
    "papercli inbox keep 2411.18571 2411.07806 --queue --tag to-read": WATCHED,
    "papercli inbox --format ids -n 3 | papercli inbox keep -": WATCHED,
    "papercli inbox dismiss 2411.18571": WATCHED,
    "papercli inbox dismiss --all": WATCHED,
    "papercli inbox prune": WATCHED,
    "papercli inbox prune --older-than 8w": WATCHED,
    "papercli watch list": [WATCH],
    "papercli watch list --format json": [WATCH],
    'papercli watch edit peft --keyword "low-rank" --keyword adapter': [WATCH],
    "papercli watch remove peft": [WATCH],
    "papercli queue": ["papercli queue add lora"],
    "papercli queue --format ids": ["papercli queue add lora"],
    "papercli queue move qlora 1": ["papercli queue add lora qlora"],
    "papercli queue remove glam": ["papercli queue add glam"],
    "papercli queue remove lora qlora": ["papercli queue add lora qlora"],
    "papercli queue clear --yes": ["papercli queue add lora"],
    "papercli next": ["papercli queue add lora"],
    "papercli history": ["papercli mark-read lora"],
    "papercli history lora": ["papercli mark-read lora"],
    "papercli history --limit 5 --format json": ["papercli mark-read lora"],
    "papercli undo": ["papercli mark-read lora"],
    "papercli redo": ["papercli mark-read lora", "papercli undo"],
    "papercli mark-unread lora": ["papercli mark-read lora"],
    "papercli list --topic peft --format ids | papercli mark-unread -": [
        "papercli list --topic peft --format ids | papercli mark-read -"
    ],
    "papercli note lora": ['papercli note lora "rank 8 is enough"'],
    "papercli note lora --delete 1": ['papercli note lora "rank 8 is enough"'],
    "papercli note lora --delete 1 --delete 3": [
        f"papercli note lora thought {n}" for n in (1, 2, 3)
    ],
    "papercli notes": ['papercli note lora "rank 8 is enough"'],
    "papercli notes --limit 5 --format json": ['papercli note lora "rank 8 is enough"'],
    "papercli tag lora": ["papercli tag lora +must-read"],
    "papercli list --tag must-read": ["papercli tag lora +must-read"],
    "papercli tags": ["papercli tag lora +must-read"],
    "papercli tags --format json": ["papercli tag lora +must-read"],
    "papercli export --queue --format bibtex -o queue.bib": ["papercli queue add lora"],
    "papercli export --queue > reading-list.md": ["papercli queue add lora"],
    "papercli export --status read --group-by year": ["papercli mark-read lora"],
    "papercli import backup.json": [
        "papercli mark-read lora",
        "papercli export --format json -o backup.json",
        "papercli undo",
    ],
}

# What an output says when it shows nothing.
NOTHING = re.compile(r"\b0 papers\b|nothing to do|not in the queue|\(no tags\)|no \w+ match")


@pytest.fixture(scope="module")
def fresh_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh database, made once and copied for each example."""
    directory = tmp_path_factory.mktemp("fresh")
    made = CliRunner().invoke(app, ["--db", str(directory / "made.db"), "list", "--limit", "0"])
    assert made.exit_code == 0, made.output
    with contextlib.closing(sqlite3.connect(directory / "made.db")) as conn:
        conn.execute("VACUUM INTO ?", (str(directory / "fresh.db"),))
    return directory / "fresh.db"


def run_example(run: Run, line: str) -> tuple[Result, str]:
    """Run an example as a shell would (a pipeline, a `> FILE`, a `~`); the last command's
    result and everything it produced: stdout, stderr and the file it wrote."""
    stdin: str | None = None
    result: Result | None = None
    output = ""
    for stage in line.split(" | "):
        words = [os.path.expanduser(word) for word in shlex.split(stage)]
        assert words[0] == "papercli"
        args = words[1 : words.index(">")] if ">" in words else words[1:]  # stdout is shown
        result = run(*args, input=stdin)
        assert result.exit_code == 0, f"{stage}: {result.output}"
        stdin, output = result.stdout, result.stdout + result.stderr
        if "-o" in args:
            output += Path(args[args.index("-o") + 1]).read_text()
    assert result is not None
    return result, output


def make_sync_folders(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folders the sync examples name: a shared one, and a git repository (with an
    identity of its own, and no user or system git config read)."""
    (home / "Sync" / "papers").mkdir(parents=True)
    for name in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"):
        empty = home / f"{name}.cfg"
        empty.write_text("")
        monkeypatch.setenv(name, str(empty))
    for name in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{name}_NAME", "Ada")
        monkeypatch.setenv(f"{name}_EMAIL", "ada@example.org")
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(home / "notes-repo")], check=True)


def serve_recorded_arxiv(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """arXiv on 127.0.0.1, on fake time: the recorded daily listing, and a recorded search
    page for catching up."""
    listing = fixture("rss-2024_listing_all_archives.xml")
    search = fixture("api-2026_search_testing_start0_max10_doi_journalref_comment.xml")
    server.expect_request("/rss/cs.CL+cs.LG").respond_with_data(
        listing, content_type="application/rss+xml"
    )
    server.expect_request("/api/query").respond_with_data(search, content_type=ATOM)
    monkeypatch.setenv("PAPERCLI_ARXIV_RSS_URL", server.url_for("/rss/"))
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", server.url_for("/api/query"))
    clock = FakeClock()
    monkeypatch.setattr(
        arxiv_commands,
        "new_client",
        partial(arxiv_commands.new_client, clock=clock, sleep=clock.sleep),
    )


@pytest.mark.parametrize("example", _help_examples())
def test_every_help_example_returns_something(
    run: Run,
    fresh_db: Path,
    db_path: Path,
    tmp_path: Path,
    isolated_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
    example: str,
) -> None:
    if example in CANNOT_RUN:
        pytest.skip(CANNOT_RUN[example])
    if example.startswith("papercli inbox"):
        serve_recorded_arxiv(httpserver, monkeypatch)
    if re.match(r"papercli (refs|cited-by|related|path|prereq) ", example):
        serve_world(httpserver, monkeypatch, FakeClock())
    if example.startswith("papercli sync"):
        if "--git" in example and shutil.which("git") is None:
            pytest.skip("needs git")
        make_sync_folders(isolated_data_dir, monkeypatch)
    shutil.copyfile(fresh_db, db_path)
    (isolated_data_dir / "backups").mkdir()  # db backup ~/backups/papers.db
    monkeypatch.chdir(tmp_path)  # files the examples write land here
    for step in PRIOR_STATE.get(example, []):
        run_example(run, step)
    result, output = run_example(run, example)
    assert output.strip(), f"{example} printed nothing"
    assert not NOTHING.search(output), f"{example} showed nothing:\n{output}"
    with contextlib.suppress(json.JSONDecodeError):
        assert json.loads(result.stdout), f"{example} printed empty JSON"


def test_the_exception_lists_name_only_real_examples() -> None:
    examples = set(_help_examples())
    assert set(CANNOT_RUN) <= examples
    assert set(PRIOR_STATE) <= examples


def test_cli_main_prints_usage_errors_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console script, not only CliRunner: Click's usage block never shows."""
    from papercli.cli import main

    monkeypatch.setattr(sys, "argv", ["papercli", "shw", "lora"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: no such command 'shw' (did you mean 'show'?)\n"


def test_a_usage_error_quotes_at_most_a_line_of_what_it_refuses(run):
    """Until 3 December a stray argument of 120,000 characters was echoed whole."""
    result = run("notes", "x" * 120_000)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: got unexpected extra argument(s) (xxx")
    assert result.stderr.endswith("…; see papercli notes --help\n")
    assert len(result.stderr) < 400


_NAMING_A_PATH = pytest.mark.parametrize(
    "args",
    [
        ["--db", "{long}", "list"],
        ["export", "-o", "{long}/refs.bib"],
        ["import", "{long}.json"],
    ],
    ids=["--db", "export -o", "import"],
)


@_NAMING_A_PATH
def test_an_error_quotes_at_most_300_characters_of_a_path(run, tmp_path, args):
    """A path of 5,000 characters was said whole (5,039 bytes on stderr), where a usage
    error quotes at most 300 characters of what it refused."""
    long = str(tmp_path / ("x" * 5000))
    result = run(*(arg.format(long=long) for arg in args))
    assert result.exit_code in (1, 4), result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and len(line) < 400
    assert "x" * 200 in line and "x…: File name too long" in line


@_NAMING_A_PATH
def test_an_error_naming_a_long_path_with_spaces_says_its_ends(run, tmp_path, args):
    """A path of 5,000 characters with spaces in it was said whole: only runs without a
    space were clipped. The line keeps its start and its end, where the reason is."""
    long = str(tmp_path / " ".join(["word"] * 1000))
    result = run(*(arg.format(long=long) for arg in args))
    assert result.exit_code in (1, 4), result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and len(line) <= 1000
    assert str(tmp_path) in line and " … " in line
    assert line.endswith((": File name too long", "does not exist", "File name too long"))
