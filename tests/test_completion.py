"""Shell completion, driven as bash, zsh and fish drive it: papercli is run with
``_PAPERCLI_COMPLETE`` and the words typed so far, and prints its candidates.

Every paper reference completes ids (titles beside them in zsh and fish); --topic,
--org, --tag and --author complete their known values in any case; a completion never
writes the database nor prints a traceback; and each query is an index range.
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from papercli import paths
from papercli.cli.app import app
from papercli.models import Author, Paper
from papercli.store import base, connection, lookups, notes, papers

COMPLETIONS = lookups.COMPLETIONS


def _invoke(shell: str, words: list[str]) -> Result:
    """Run papercli as ``shell``'s completion script does, the last word being the one
    to complete ("" after a space)."""
    line = ["papercli", *words]
    env = {"_PAPERCLI_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        env["COMP_WORDS"] = " ".join(shlex.quote(w) for w in line)
        env["COMP_CWORD"] = str(len(words))
    else:
        typed = " ".join(shlex.quote(w) for w in line[:-1]) + " "
        env["_TYPER_COMPLETE_ARGS"] = typed + (shlex.quote(line[-1]) if line[-1] else "")
    if shell == "fish":
        env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return CliRunner().invoke(app, [], env=env, prog_name="papercli")


def _answer(result: Result) -> str:
    """What the shell reads, once papercli has ended as a completion must: at once,
    successfully, with nothing on stderr."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    return result.stdout


def bash(*words: str) -> list[str]:
    """The candidates bash offers for the last word."""
    return [line for line in _answer(_invoke("bash", list(words))).splitlines() if line]


def fish(*words: str) -> list[tuple[str, str]]:
    """(candidate, help) as fish reads them: one per line, a tab before the help."""
    lines = [line for line in _answer(_invoke("fish", list(words))).splitlines() if line]
    return [(value, help_text) for value, _, help_text in (line.partition("\t") for line in lines)]


def zsh(*words: str) -> list[tuple[str, str]]:
    """(candidate, help) from the ``_arguments`` spec zsh evaluates."""
    spec = _answer(_invoke("zsh", list(words)))
    if spec == "_files":
        return []
    quoted = r'"((?:[^"]|"")*)"'
    pairs = re.findall(rf"{quoted}(?::{quoted})?", spec.removeprefix("_arguments '*: :((")[:-3])
    return [(value, help_text.replace("\\\\:", ":")) for value, help_text in pairs]


# Every command that takes a paper reference, with the words before the reference.
REF_COMMANDS = [
    ["show"],
    ["open"],
    ["fetch"],
    ["history"],
    ["mark-read"],
    ["mark-reading"],
    ["mark-unread"],
    ["mark-skipped"],
    ["mark-read", "lora"],
    ["mark", "--as", "read"],
    ["note"],
    ["tag"],
    ["tag", "lora"],
    ["path"],
    ["prereq"],
    ["prereq", "lora"],
    ["queue", "add"],
    ["queue", "remove"],
    ["queue", "move"],
    ["remove"],
]


@pytest.mark.parametrize("before", REF_COMMANDS, ids=" ".join)
def test_every_paper_reference_completes_ids(before: list[str]) -> None:
    assert bash(*before, "gpt-") == ["gpt-1", "gpt-2", "gpt-3", "gpt-4"]
    assert bash(*before, "GPT-3") == ["GPT-3"]  # any case: refs take it as they take gpt-3


@pytest.mark.parametrize("shell", [zsh, fish], ids=["zsh", "fish"])
def test_zsh_and_fish_show_each_papers_title_beside_its_id(shell) -> None:
    assert shell("show", "gpt-") == [
        ("gpt-1", "Improving Language Understanding by Generative Pre-Training"),
        ("gpt-2", "Language Models are Unsupervised Multitask Learners"),
        ("gpt-3", "Language Models are Few-Shot Learners"),
        ("gpt-4", "GPT-4 Technical Report"),
    ]


def test_a_long_title_is_cut_to_one_line_so_fish_reads_no_stray_candidate() -> None:
    (alibi,) = fish("show", "alibi")
    assert alibi == ("alibi", "Train Short, Test Long: Attention with Linear Biases…")
    assert all(len(help_text) <= 60 for _, help_text in fish("show", ""))


def test_bash_gets_a_value_with_spaces_as_one_word_and_zsh_and_fish_as_it_is(
    run: Callable[..., Result],
) -> None:
    """bash's completion function puts each line on the command line as it is:
    `--org goo` became `--org google deepmind`, two words. Escaped (`google\\ deepmind`),
    Typer dropped it once a space was typed, and bash inserted a dangling `a\\`."""
    found = bash("list", "--org", "google")
    assert "googledeepmind" in found and "googleresearchbrainteam" in found
    assert all(re.fullmatch(r"[\w@%+=:,./-]+", word) for word in found)
    assert run("tag", "lora", "+a b", "+a'c").exit_code == 0
    assert bash("list", "--tag", "a") == []  # nothing bash would split or half-quote
    for shell in (fish, zsh):
        assert ("google research, brain team", "Google") in shell("list", "--org", "google")
    assert {value for value, _ in fish("list", "--tag", "a")} == {"a b", "a'c"}


def test_help_fits_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    assert fish("show", "alibi") == [("alibi", "Train Short, Test Long…")]


@pytest.mark.parametrize(
    ("words", "candidates"),
    [
        (["--topic", "pe"], ["peft"]),
        (["--topic", "PE"], ["PEft"]),  # begins as typed, or the shell drops it
        (["--topic", "p"], ["peft", "position-encoding", "pretraining", "prompting"]),
        # bash gets the folded spelling --org takes of a name with spaces: one word.
        (["--org", "fa"], ["facebook", "facebookai", "facebookairesearch"]),
        (["--org", "Face"], ["Facebook", "Facebookai", "Facebookairesearch"]),
        (["--org", "googled"], ["googledeepmind"]),  # the folded spelling --org takes
        (["--author", "hin"], ["hinton"]),
        (["--author", "Hin"], ["Hinton"]),
        (["--author", "Rozi"], ["Rozière"]),
        (["--author", "roziere"], ["roziere"]),
        (["--status", "r"], ["reading", "read"]),
        (["--status", "s"], ["skipped"]),
    ],
    ids=" ".join,
)
def test_filters_complete_known_values_in_any_case(
    words: list[str], candidates: list[str], run: Callable[..., Result]
) -> None:
    for status, paper in [("reading", "gpt-1"), ("read", "gpt-2"), ("skipped", "gpt-3")]:
        assert run(f"mark-{status}", paper).exit_code == 0

    found = bash("list", *words)
    assert found[: len(candidates)] == candidates
    for value in found:  # and the option takes every one of them
        result = run("list", words[0], value, "--format", "ids")
        assert result.exit_code == 0 and result.stdout, (value, result.output)


def test_org_spellings_name_their_organization() -> None:
    assert fish("list", "--org", "fair") == [("fair", "Meta AI"), ("fair à meta", "Meta AI")]
    assert zsh("list", "--topic", "pef") == [("peft", "Parameter-efficient fine-tuning")]


def test_an_author_on_many_papers_is_offered_once() -> None:
    assert bash("list", "--author", "le") == [
        *("le", "lee", "legresley", "leike", "lepikhin", "lespiau"),  # ten papers by a Lee
        *("lester", "levine", "levskaya", "lewis", "lewkowycz"),
    ]


def test_tags_complete_in_any_case_and_after_plus_or_minus(run: Callable[..., Result]) -> None:
    assert run("tag", "lora", "+PEFT-week", "+later").exit_code == 0
    assert run("tag", "qlora", "+peft-week").exit_code == 0

    assert bash("list", "--tag", "") == ["later", "PEFT-week"]
    assert bash("list", "--tag", "pe") == ["peft-week"]
    assert bash("export", "--tag", "PE") == ["PEFT-week"]
    assert bash("tag", "dpo", "+") == ["+later", "+PEFT-week"]
    assert bash("tag", "lora", "--", "-l") == ["-later"]


def test_prerequisites_complete_after_plus_or_minus() -> None:
    """`prereq lora +qlo` offered nothing: the sign was taken as part of the reference."""
    assert bash("prereq", "dpo", "+gpt-") == ["+gpt-1", "+gpt-2", "+gpt-3", "+gpt-4"]
    assert bash("prereq", "dpo", "--", "-gpt-") == ["-gpt-1", "-gpt-2", "-gpt-3", "-gpt-4"]


@pytest.mark.parametrize(
    "before",
    [["list"], ["search", "x"], ["export"], ["queue", "add"]],
    ids=" ".join,
)
@pytest.mark.parametrize("option", ["--topic", "--org", "--tag", "--author", "--status"])
def test_every_filtering_command_completes_the_filters(
    before: list[str], option: str, run: Callable[..., Result]
) -> None:
    assert run("tag", "lora", "+must-read").exit_code == 0
    assert bash(*before, option, "") != []
    assert bash(*before, option, "zzzz") == []


def test_completion_offers_at_most_a_screenful() -> None:
    assert len(bash("show", "")) == COMPLETIONS
    assert len(bash("list", "--author", "")) == COMPLETIONS


def test_completion_reads_the_database_the_command_line_names(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    assert run("--db", str(other), "tag", "lora", "+elsewhere").exit_code == 0

    assert bash("--db", str(other), "list", "--tag", "") == ["elsewhere"]
    assert bash("list", "--tag", "") == []


def test_before_the_database_exists_completion_offers_the_catalogue(db_path: Path) -> None:
    assert bash("show", "lor") == ["lora"]
    assert bash("list", "--author", "vaswan") == ["vaswani"]
    assert not db_path.exists()  # and a keypress did not create it


def test_completion_never_writes_the_database(run: Callable[..., Result], db_path: Path) -> None:
    assert run("tag", "lora", "+x").exit_code == 0
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 6")  # as an older papercli left it
    conn.close()
    before = db_path.read_bytes()

    for words in (["show", "lo"], ["list", "--tag", ""], ["list", "--org", "meta"]):
        bash(*words)
    assert db_path.read_bytes() == before


def _broken(kind: str, path: Path) -> None:
    if kind == "directory":
        path.mkdir()
    elif kind == "not a database":
        path.write_bytes(b"PK\x03\x04 a zip file, say" * 100)
    elif kind == "empty file":
        path.write_bytes(b"")
    elif kind == "another program's database":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE papers (x)")
    elif kind == "unreadable":
        path.write_bytes(b"")
        path.chmod(0)
    elif kind == "in a missing directory":
        pass  # the path's parent does not exist


@pytest.mark.parametrize(
    "kind",
    [
        "directory",
        "not a database",
        "empty file",
        "another program's database",
        "unreadable",
        "in a missing directory",
    ],
)
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize(
    "words", [["show", "lo"], ["list", "--topic", "p"], ["tag", "lora", "+"]], ids=" ".join
)
def test_a_broken_database_completes_nothing_and_quietly(
    kind: str, shell: str, words: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / ("missing" if kind == "in a missing directory" else "") / "papers.db"
    _broken(kind, db)
    monkeypatch.setenv(paths.DB_ENV_VAR, str(db))
    for where in (["--db", str(db)], []):
        _answer(_invoke(shell, [*where, *words]))


@pytest.fixture
def hostile_titles(db_path: Path) -> Iterator[None]:
    """Papers whose titles Rich would read as markup or that hold control characters."""
    conn = connection.open_database(db_path, paths.seed_path())
    with base.transaction(conn):
        for pid, title in [
            ("zz-markup", "Closing [/x] tags and [bold]styles[/bold] of all kinds"),
            ("zz-control", "A title\nover two lines\twith \x1b[2J escapes"),
        ]:
            papers.insert_paper(
                conn, Paper(pid, title, pid, 2024, "2024-01-01", authors=[Author("A B")])
            )
    notes.change_tags(conn, ["zz-markup"], ["ok"], [])
    conn.close()
    yield


@pytest.mark.parametrize("shell", [zsh, fish], ids=["zsh", "fish"])
def test_titles_are_shown_as_text_never_read_as_markup_or_controls(
    shell, hostile_titles: None
) -> None:
    assert shell("show", "zz-") == [
        ("zz-control", "A title\\nover two lines\\twith \\x1b[2J escapes"),
        ("zz-markup", "Closing [/x] tags and [bold]styles[/bold] of all kinds"),
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shell=st.sampled_from(["bash", "zsh", "fish"]),
    words=st.lists(
        st.sampled_from(["show", "list", "--topic", "--org", "tag", "+", "--db", "queue", "--"])
        # No NUL: no shell can pass one in an environment variable.
        | st.text(
            st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
            | st.sampled_from(["\udcff", "\x1b"])
        ),
        max_size=5,
    ),
)
def test_no_command_line_makes_completion_print_a_traceback(shell: str, words: list[str]) -> None:
    _answer(_invoke(shell, [*words, ""]))


def test_the_installed_command_completes(tmp_path: Path) -> None:
    """Through papercli's real entry point (the fast path steps aside), on a broken file."""
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database" * 100)

    def complete(*words: str, columns: str = "80") -> subprocess.CompletedProcess[str]:
        line = shlex.join(["papercli", *words])
        env = {**os.environ, "_PAPERCLI_COMPLETE": "complete_bash", "COMP_WORDS": line}
        env["COLUMNS"] = columns
        env["COMP_CWORD"] = str(len(words))
        code = "from papercli.cli import main; main()"
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
        )

    assert complete("show", "qlo").stdout == "qlora\n"
    # A size that is no number is the terminal's to say: until 3 December it ended in a
    # traceback (Rich and the help read it with int(), which refuses ²).
    for columns in ("²", "", "wide"):
        answer = complete("show", "qlo", columns=columns)
        assert (answer.returncode, answer.stdout, answer.stderr) == (0, "qlora\n", "")
    broken_answer = complete("--db", str(broken), "show", "qlo")
    assert (broken_answer.returncode, broken_answer.stdout.strip(), broken_answer.stderr) == (
        0,
        "",
        "",
    )


# The tables that grow with the catalogue; the user's tags and the topics stay small.
_BIG = ("papers", "paper_authors", "paper_names", "org_names")


@pytest.mark.parametrize(
    "words",
    [
        ["show", "lo"],
        ["list", "--author", "le"],
        ["list", "--org", "goo"],
        ["list", "--tag", "pe"],
        ["list", "--topic", "p"],
    ],
    ids=" ".join,
)
def test_each_completion_is_an_index_range(
    words: list[str], run: Callable[..., Result], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("tag", "lora", "+peft-week").exit_code == 0
    statements: list[str] = []
    connect = lookups.connect_for_completion

    def traced(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(lookups, "connect_for_completion", traced)
    assert bash(*words)

    with sqlite3.connect(db_path) as conn:
        plans = {
            sql: [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}")] for sql in statements
        }
    assert plans
    for sql, details in plans.items():
        assert not [d for d in details if re.match(rf"SCAN ({'|'.join(_BIG)}|tags)\b", d)], sql
        if "FROM topics" not in sql:  # a few dozen rows, sorted without case
            assert not [d for d in details if "TEMP B-TREE" in d], sql
