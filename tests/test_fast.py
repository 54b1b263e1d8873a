"""The fast path answers exactly as the Typer app does, for every command line it takes.

Each comparison runs the same command line twice on the same database file, restored
in between: once through the Typer app, once through ``fast.run``. Exit code, stdout,
stderr and the reading state afterwards must all be equal.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from papercli.cli import fast
from papercli.cli.app import app
from tests.conftest import run_fast


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with some reading state: a queue, statuses, a tag and a note."""
    directory = tmp_path_factory.mktemp("template")
    path = directory / "working.db"
    runner = CliRunner()
    for args in (
        ["queue", "add", "lora", "qlora", "dpo"],
        ["mark-read", "transformer", "bert"],
        ["mark-reading", "gpt3"],
        ["tag", "lora", "+peft-week"],
        ["note", "lora", "rank 8 is enough"],
    ):
        result = runner.invoke(app, ["--db", str(path), *args])
        assert result.exit_code == 0, result.output
    template = directory / "template.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("VACUUM INTO ?", (str(template),))  # one file, WAL included
    return template


class Comparison:
    """Runs command lines through both paths on a database restored from the template."""

    def __init__(self, template: Path, workdir: Path) -> None:
        self.template = template
        self.db = workdir / "papercli.db"
        self.other_db = workdir / "other.db"
        # The current directory while commands run (the compare fixture enters it), where
        # `export -o FILE` writes.
        self.cwd = workdir / "cwd"
        self.runner = CliRunner()

    def restore(self) -> None:
        for db in (self.db, self.other_db):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.template, db)
        shutil.rmtree(self.cwd, ignore_errors=True)
        self.cwd.mkdir()

    def state(self) -> object:
        env = {"PAPERCLI_DB": str(self.db)}
        papers = self.runner.invoke(app, ["list", "--format", "json"], env=env)
        queue = self.runner.invoke(app, ["queue", "--format", "json"], env=env)
        written = {path.name: path.read_bytes() for path in sorted(self.cwd.iterdir())}
        return json.loads(papers.stdout), json.loads(queue.stdout), written

    def typer(self, args: list[str], input: str | None) -> tuple[Result, object]:
        self.restore()
        result = self.runner.invoke(app, args, input=input, env={"PAPERCLI_DB": str(self.db)})
        return result, self.state()

    def fast(self, args: list[str], input: str | None) -> tuple[Result, object] | None:
        self.restore()
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PAPERCLI_DB", str(self.db))
            result = run_fast(self.runner, args, input)
        return None if result is None else (result, self.state())

    def assert_same(self, args: list[str], input: str | None = None) -> Result:
        """Run ``args`` both ways (the fast path must take it) and compare."""
        fast_run = self.fast(args, input)
        assert fast_run is not None, f"the fast path declined {args}"
        typer_run = self.typer(args, input)
        (fast_result, fast_state), (typer_result, typer_state) = fast_run, typer_run
        assert typer_result.exception is None or isinstance(typer_result.exception, SystemExit)
        assert (fast_result.exit_code, fast_result.stdout, fast_result.stderr) == (
            typer_result.exit_code,
            typer_result.stdout,
            typer_result.stderr,
        )
        assert fast_state == typer_state
        return fast_result


@pytest.fixture
def compare(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Comparison:
    """Both paths run at the same time of day: a paper queued by one in a second and by
    the other in the next showed two times, and the comparison failed now and then."""
    from papercli.store import library

    monkeypatch.setattr(library, "clock", lambda: "2026-06-01T12:00:00Z")
    comparison = Comparison(template, tmp_path)
    comparison.restore()
    monkeypatch.chdir(comparison.cwd)
    return comparison


EVERYDAY = [
    ["list"],
    ["list", "--since", "2021"],
    ["list", "--since=2021", "--until", "2022", "--sort", "title", "-r", "-n", "5"],
    ["list", "--year", "2023", "--format", "json"],
    ["list", "--org", "meta", "--org", "google", "--topic", "peft", "-f", "csv"],
    ["list", "--status", "read", "--status", "reading", "--format", "ids"],
    ["list", "--tag", "peft-week", "--format", "json"],
    ["list", "--search", "low rank", "--limit", "3"],
    ["list", "-s", "attention", "--sort", "year", "--reverse"],
    ["list", "--since", "2030"],
    ["list", "--limit", "0", "--format", "json"],
    ["list", "--org", "no-such-org"],
    ["list", "--topic", "no-such-topic"],
    ["show", "lora"],
    ["show", "lora", "--format", "json"],
    ["show", "--format=json", "2106.09685"],
    ["show", "https://arxiv.org/abs/1706.03762"],
    ["show", "attention is all you need"],
    ["show", "lorra"],
    ["show", "gpt"],
    ["show", "zzzz-nothing"],
    ["next"],
    ["next", "--format", "json"],
    ["next", "-f", "id"],
    ["queue"],
    ["queue", "--format", "json"],
    ["queue", "-f", "csv"],
    ["mark-read", "lora"],
    ["mark-read", "lora", "qlora", "transformer"],
    ["mark-reading", "dpo"],
    ["mark-unread", "bert"],
    ["mark-skipped", "glam"],
    ["mark-read", "lora", "lorra"],
    ["mark-read", "gpt"],
    ["export"],
    ["export", "--format", "bibtex"],
    ["export", "--queue", "--format", "bibtex", "-o", "queue.bib"],
    ["export", "--queue", "--reverse", "-f", "csv"],
    ["export", "--queue", "--sort", "title", "--format=json"],
    ["export", "--queue", "--topic", "peft", "-f", "ris"],
    ["export", "--format", "json", "--status", "read", "--output", "read.json"],
    ["export", "--group-by", "topic", "--topic", "peft", "--title", "PEFT"],
    ["export", "-f", "csl-json", "-o", "refs.csl", "--since", "2023", "-a", "dettmers"],
    ["export", "--group-by", "year", "-f", "csv"],
    ["export", "--since", "2024", "--until", "2020"],
]


@pytest.mark.parametrize("args", EVERYDAY, ids=" ".join)
def test_fast_path_answers_as_typer_does(compare: Comparison, args: list[str]) -> None:
    compare.assert_same(args)


def test_fast_path_reads_references_from_stdin(compare: Comparison) -> None:
    result = compare.assert_same(["mark-read", "-"], input="lora\n\nqlora\n")
    assert result.stdout.splitlines() == [
        "lora: unread -> read (removed from the queue)",
        "qlora: unread -> read (removed from the queue)",
    ]
    compare.assert_same(["mark-read", "-"], input="")


def test_fast_path_honours_db(compare: Comparison) -> None:
    result = compare.assert_same(["--db", str(compare.other_db), "mark-read", "dpo"])
    assert result.stdout == "dpo: unread -> read (removed from the queue)\n"
    compare.assert_same([f"--db={compare.other_db}", "next", "--format", "id"])


def test_fast_path_creates_a_new_database_and_fails_as_typer_does(
    compare: Comparison, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh" / "new.db"
    fresh.parent.mkdir()
    result = compare.assert_same(["--db", str(fresh), "next"])
    assert result.exit_code == 1
    assert result.stderr == "error: your queue is empty; add papers with: papercli queue add REF\n"


def test_fast_path_imports_as_typer_does(compare: Comparison, tmp_path: Path) -> None:
    """Each import runs on a fresh copy of the template, from files outside the folder
    the comparison empties; none asks arXiv (every id is known)."""
    exported = tmp_path / "export.json"
    result = compare.runner.invoke(
        app, ["--db", str(compare.db), "export", "--format", "json", "-o", str(exported)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(exported.read_text(encoding="utf-8"))
    mine = {**document["papers"][0], "id": "mine", "arxiv_id": None, "title": "Mine"}
    document["papers"] = [
        {**p, "status": "read", "history": []} for p in document["papers"] if p["id"] != "gpt3"
    ] + [mine]
    restore = tmp_path / "restore.json"
    restore.write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "refs.bib").write_text("@misc{hu, eprint = {2106.09685}}\n", encoding="utf-8")
    (tmp_path / "ids.txt").write_text("2106.09685\n# a comment\n", encoding="utf-8")
    (tmp_path / "bad.json").write_text('{"format": "papercli-export"}', encoding="utf-8")
    for args in (
        [str(restore)],
        ["--dry-run", str(restore)],
        [str(restore), "--queue"],
        [str(tmp_path / "refs.bib"), "--queue"],
        ["-f", "text", str(tmp_path / "ids.txt")],
        [str(tmp_path / "bad.json")],
        [str(tmp_path / "missing.json")],
    ):
        compare.assert_same(["import", *args])
    result = compare.assert_same(["import", "-"], input=restore.read_text(encoding="utf-8"))
    assert "added: mine" in result.stdout


DECLINED = [
    [],
    ["--help"],
    ["--version"],
    ["list", "--help"],
    ["show", "-h"],
    ["list", "-n5"],
    ["list", "-rn", "5"],
    ["list", "--limit", "-1"],
    ["list", "--limit", "many"],
    ["list", "--since"],
    ["list", "--since", "--until", "2020"],
    ["list", "--format", "yaml"],
    ["list", "--format", "JSON"],
    ["list", "--reverse=yes"],
    ["list", "--bogus"],
    ["list", "extra"],
    ["list", "--", "x"],
    ["show"],
    ["show", "lora", "qlora"],
    ["show", "-lora"],
    ["mark-read"],
    ["queue", "add", "lora"],
    ["queue", "--format", "xml"],
    ["--db", "list"],
    ["--db", "/", "list"],
    ["--db", "", "list"],
    ["--bogus", "list"],
    ["stats"],
    ["search", "lora"],
    ["mark", "lora", "--as", "read"],
    ["export", "-o", "/"],
    ["export", "-o", ""],
    ["export", "--format", "yaml"],
    ["export", "--title", "-x"],
    ["export", "--queue=yes"],
    ["import"],
    ["import", "a.json", "b.json"],
    ["import", "--format", "yaml", "a.json"],
]


@pytest.mark.parametrize("args", DECLINED, ids=lambda a: " ".join(a) or "(nothing)")
def test_anything_else_goes_to_typer(args: list[str]) -> None:
    assert fast.parse(args) is None


def test_shell_completion_goes_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fast.parse(["show", "lo"]) is not None
    monkeypatch.setenv("_PAPERCLI_COMPLETE", "bash_complete")
    assert fast.parse(["show", "lo"]) is None


WORDS = ["lora", "qlora", "lorra", "gpt", "2106.09685", "meta", "peft", "attention", "-", ""]
VALUES = ["2021", "2023", "0", "3", "-1", "x", "json", "csv", "ids", "text", "id", "table"]
VALUES += ["read", "unread", "title", "year", "date", "peft-week", "google"]
ODD = ["--help", "-n5", "--bogus", "--", "-x"]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """Mostly plausible command lines (options of the command with likely values), with
    now and then a token Typer would reject."""
    command = draw(st.sampled_from(sorted(fast.COMMANDS)))
    spellings = sorted(fast.COMMANDS[command].options)
    args = [command]
    for _ in range(draw(st.integers(0, 5))):
        piece = draw(st.sampled_from(["option", "option", "word", "odd"]))
        if piece == "option" and spellings:
            spelling, value = draw(st.sampled_from(spellings)), draw(st.sampled_from(VALUES))
            joined = spelling.startswith("--") and draw(st.booleans())
            args += [f"{spelling}={value}"] if joined else [spelling, value]
        elif piece == "odd":
            args.append(draw(st.sampled_from(ODD)))
        else:
            args.append(draw(st.sampled_from(WORDS)))
    return args


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(args=command_lines())
def test_any_command_line_the_fast_path_takes_matches_typer(
    compare: Comparison, args: list[str]
) -> None:
    if fast.parse(args) is not None:
        compare.assert_same(args)
