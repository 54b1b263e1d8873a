"""Start-up cost cannot creep back: everyday commands must not import heavy modules.

Each command runs in a fresh interpreter (imports are per process), with stdout piped.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterable

import pytest

from papercli.export import _load_without_init

# What the network, export and terminal-rendering paths need, and nothing else should load.
FORBIDDEN = (
    "httpx",
    "feedparser",
    "sqlite_utils",
    "bibtexparser",
    "pylatexenc",
    "rich",
    "rapidfuzz",
    "pydantic",
    "papercli.arxiv",
    "papercli.transport",
    "papercli.s2",
    "papercli.feed",
    "papercli.export",
    "papercli.fetching",
    "papercli.importing",
    "papercli.import_schema",
    "papercli.json_pieces",
    "msgspec",
    "papercli.arxiv_taxonomy",
    # Loaded only by the commands that need them:
    "papercli.store.progress",  # stats
    "papercli.store.sync",  # only once a device syncs
    "uuid",  # 13 ms to import: random ids come from os.urandom
    "dataclasses",  # with inspect, about 15 ms: papercli.records builds the classes
    "inspect",
    "typing",  # 2 ms: annotations' types are imported under papercli.TYPE_CHECKING
    "papercli.sync",
    "papercli.events",
    "papercli.seed",  # building the seed (tomllib)
    "csv",  # --format csv
    "pathlib",  # with urllib.parse and ipaddress, 4-6 ms: papercli.paths keeps paths as str
    "urllib",
    "_strptime",  # with locale and calendar, 4 ms: papercli.times reads with fromisoformat
    # The everyday commands take the fast path, without Typer (papercli.cli.fast):
    "typer",
    "click",
    "papercli.cli.app",
)
# What `list` in particular does without (show, mark-read and next need them; json
# with its six patterns costs about 2 ms).
LIST_FORBIDDEN = ("papercli.store.library", "papercli.refs", "json")

# argv: the forbidden module names (space-separated), then the command line. No json here:
# `list` must not load it either.
PROBE = """
import contextlib, io, sys
forbidden, args = sys.argv[1].split(), sys.argv[2:]
sys.argv = ["papercli", *args]
from papercli.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit:
        pass
loaded = [m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in forbidden)]
print(" ".join(sorted(loaded)))
"""


def loaded_modules(args: list[str], forbidden: Iterable[str]) -> list[str]:
    """Which of ``forbidden`` (or their submodules) `papercli ARGS` loads, in a fresh
    interpreter with stdout piped."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, " ".join(forbidden), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1].split()


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--since", "2021"],
        ["show", "lora"],
        ["mark-read", "lora"],
        ["next"],
        ["queue"],
    ],
    ids=lambda args: " ".join(args),
)
def test_everyday_commands_import_nothing_heavy(args, db_path):
    for setup in (["queue", "add", "lora"], ["note", "lora", "its times are shown too"]):
        loaded_modules(setup, [])
    forbidden = FORBIDDEN + (LIST_FORBIDDEN if args[0] == "list" else ())
    assert loaded_modules(args, forbidden) == []


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "papercli", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("papercli ")


NETWORK = ("httpx", "feedparser", "papercli.arxiv", "papercli.feed")


@pytest.mark.parametrize(
    "args",
    [
        ["inbox"],
        ["inbox", "--format", "json"],
        ["inbox", "dismiss", "--all"],
        ["watch", "list"],
        ["path", "qlora"],
        ["prereq", "qlora"],
        ["show", "transformer", "--format", "json"],
        ["sync", "status"],
    ],
    ids=lambda args: " ".join(args),
)
def test_what_is_stored_needs_no_network_modules(args, db_path):
    """The inbox until it pulls, and paths and prerequisites of stored papers."""
    assert loaded_modules(args, NETWORK) == []


@pytest.mark.parametrize("fmt", ["bibtex", "json", "csv"])
def test_export_takes_the_fast_path(fmt, db_path):
    """`export` is run by scripts and Makefiles: no Typer, no network modules, and to
    stdout no pathlib (only ``-o`` needs it); typing only with bibtexparser, csv for CSV."""
    forbidden = ["typer", "click", "papercli.cli.app", "pathlib", *NETWORK]
    forbidden += [name for name in ("typing", "csv") if fmt not in ("bibtex", name)]
    assert loaded_modules(["export", "--format", fmt], forbidden) == []


def test_bibtex_export_loads_only_bibtexparsers_writer(db_path):
    """The package's ``__init__`` imports every middleware, with pylatexenc, logging and
    inspect: 25 of the 30 ms bibtexparser takes to import. The writer is loaded without it,
    and ``sys.modules`` holds no part of bibtexparser afterwards."""
    forbidden = ["bibtexparser", "pylatexenc", "logging", "inspect"]
    assert loaded_modules(["export", "--format", "bibtex"], forbidden) == []


def test_a_module_loads_without_its_packages_init(tmp_path, monkeypatch):
    package = tmp_path / "heavy"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('the whole package ran')\n")
    (package / "model.py").write_text("class Entry:\n    pass\n")
    (package / "writer.py").write_text("from .model import Entry\nfrom heavy import model\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    writer = _load_without_init("heavy", "writer")

    assert writer.Entry is writer.model.Entry
    assert [name for name in sys.modules if name.split(".")[0] == "heavy"] == []
    with pytest.raises(RuntimeError, match="the whole package ran"):
        importlib.import_module("heavy")  # a later import gets the package as it is


def test_a_package_imported_already_gives_its_own_module(tmp_path, monkeypatch):
    package = tmp_path / "light"
    package.mkdir()
    (package / "__init__.py").write_text("from . import writer\n")
    (package / "writer.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    light = importlib.import_module("light")
    try:
        assert _load_without_init("light", "writer") is light.writer
        assert sys.modules["light"] is light
    finally:
        del sys.modules["light"], sys.modules["light.writer"]


def test_a_missing_package_is_the_usual_import_error(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="No module named 'not_installed_anywhere'"):
        _load_without_init("not_installed_anywhere", "writer")


@pytest.mark.parametrize(
    ("name", "text"),
    [("known.bib", "@misc{lora, eprint = {2106.09685}}\n"), ("known.txt", "2106.09685\n")],
)
def test_an_import_loads_only_its_own_reader(name, text, db_path, tmp_path):
    """BibTeX and id lists need neither the JSON schema's msgspec (about 25 ms) nor, when
    every paper is known, the network modules, nor Typer (an import takes the fast path)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    forbidden = ["msgspec", "papercli.import_schema", "typer", "click", *NETWORK]
    assert loaded_modules(["import", str(path)], forbidden) == []


def test_a_json_import_takes_the_fast_path(db_path, tmp_path):
    path = tmp_path / "backup.json"
    loaded_modules(["export", "--format", "json", "-o", str(path)], [])
    forbidden = ["typer", "click", "papercli.cli.app", *NETWORK]
    assert loaded_modules(["import", str(path)], forbidden) == []
