"""Shared fixtures: every test runs against its own database, never the user's."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner, Result

from papercli import paths
from papercli.cli import fast
from papercli.cli.app import app
from papercli.seed import load_catalogue
from papercli.store import connection
from papercli.store.shipped import build_seed
from tests.arxiv_fakes import Answer, FakeClock, Replay

TESTS = Path(__file__).parent
MINI_CATALOGUE = TESTS / "data" / "mini_catalogue.toml"


def _stamp(path: str) -> tuple[int, int] | None:
    """(size, mtime) of a file, None if there is none: enough to see it was written."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


# The database papercli would use outside the tests, found when pytest loads this file,
# before any fixture changes the environment; and how it was then.
_REAL_DB = paths.default_db_path()
_REAL_STAMP = _stamp(_REAL_DB)


@pytest.fixture(scope="session", autouse=True)
def session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the whole session away from the user's data dir, outside monkeypatch.

    A test's monkeypatch.undo() (or a forgotten fixture) then falls back to these values,
    never to the real home directory; and the session fails if the user's database was
    touched anyway.
    """
    home = tmp_path_factory.mktemp("session-home")
    saved = {name: os.environ.get(name) for name in _ISOLATING}
    os.environ.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PAPERCLI_DB=str(home / "papercli.db"),
        PAPERCLI_ARXIV_URL="http://127.0.0.1:9/api/query",
        PAPERCLI_ARXIV_RSS_URL="http://127.0.0.1:9/rss/",
    )
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    assert _stamp(_REAL_DB) == _REAL_STAMP, f"the tests touched the user's database {_REAL_DB}"


_ISOLATING = (
    "HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "PAPERCLI_DB",
    "PAPERCLI_ARXIV_URL",
    "PAPERCLI_ARXIV_RSS_URL",
)


@pytest.fixture(autouse=True)
def real_database_untouched() -> Iterator[None]:
    """Fail the very test that writes to the user's real database, not just the session."""
    yield
    assert _stamp(_REAL_DB) == _REAL_STAMP, f"this test touched the user's database {_REAL_DB}"


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the real user data dir and the real arXiv."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))  # the services' pace files
    monkeypatch.setenv("PAPERCLI_DB", str(tmp_path / "papercli.db"))
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("PAPERCLI_ARXIV_RSS_URL", "http://127.0.0.1:9/rss/")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return home


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "papercli.db"


def run_fast(runner: CliRunner, args: list[str], input: str | None = None) -> Result | None:
    """Run ``args`` on the fast path, captured as CliRunner captures; None if it declines."""
    with runner.isolation(input=input) as (stdout, stderr, output):
        code = fast.run(args)
        sys.stdout.flush()
        sys.stderr.flush()
        if code is None:
            return None
        return Result(
            runner, stdout.getvalue(), stderr.getvalue(), output.getvalue(), None, code, None
        )


@pytest.fixture
def run() -> Callable[..., Result]:
    """Run papercli like a user would: ``run("show", "lora")``. As in ``papercli.cli.main``,
    the fast path takes the command line when it can, and the Typer app otherwise."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return run_fast(runner, list(args), input) or runner.invoke(app, list(args), input=input)

    return invoke


@pytest.fixture
def run_json(run: Callable[..., Result]) -> Callable[..., object]:
    """Run a command that prints JSON and return it parsed (asserting success)."""

    def invoke(*args: str) -> object:
        result = run(*args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return invoke


@pytest.fixture
def mini_seed(tmp_path: Path) -> Path:
    """A seed built from the small test catalogue."""
    target = tmp_path / "mini_seed.sqlite"
    build_seed(load_catalogue(MINI_CATALOGUE), target)
    return target


@pytest.fixture
def clock() -> FakeClock:
    """Fake monotonic time for an arXiv client: it only moves when the client sleeps."""
    return FakeClock()


@pytest.fixture
def serve(httpserver: HTTPServer, clock: FakeClock) -> Callable[..., Replay]:
    """Make the local server answer ``/api/query`` in turn: ``serve(recorded(NAME), ...)``."""

    def serve(*answers: Answer) -> Replay:
        replay = Replay(clock, list(answers))
        httpserver.expect_request("/api/query").respond_with_handler(replay)
        return replay

    return serve


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Databases of 2,000 and 10,000 synthetic papers (bench/make_db.py), to read only:
    a test that writes copies one."""
    folder = tmp_path_factory.mktemp("synthetic")
    built = {}
    for count in (2_000, 10_000):
        built[count] = folder / f"{count}.db"
        subprocess.run(
            [
                sys.executable,
                str(TESTS.parent / "bench" / "make_db.py"),
                str(count),
                str(built[count]),
            ],
            check=True,
            capture_output=True,
        )
    return built


@pytest.fixture
def few_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections that take at most 999 parameters a statement, as SQLite builds before
    3.32 did (32,766 since; some distributions raise it further)."""
    connect = connection.connect

    def limited(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        return conn

    monkeypatch.setattr(connection, "connect", limited)


def peak_megabytes(*args: str, before: str = "") -> float:
    """The peak resident memory of ``papercli ARGS`` in its own process, stdout discarded
    (ru_maxrss is in kilobytes on Linux); ``before`` is Python run first in that process
    (to lower a limit, say)."""
    program = (
        f"{before}\nimport sys\nfrom papercli.cli import main\nsys.argv[0] = 'papercli'\nmain()"
    )
    argv = [sys.executable, "-c", program, *args]
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss / 1024


@pytest.fixture
def sqlite_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The work SQLite does on the connections opened from here on, in thousands of its
    virtual machine's steps (``[count]``, reset by the test): a measure of how work grows
    with the input that, unlike time, does not depend on the machine."""
    counted = [0]
    connect = connection.connect

    def counting(path: Path) -> sqlite3.Connection:
        conn = connect(path)

        def step() -> int:
            counted[0] += 1
            return 0  # go on

        conn.set_progress_handler(step, 1000)
        return conn

    monkeypatch.setattr(connection, "connect", counting)
    return counted
