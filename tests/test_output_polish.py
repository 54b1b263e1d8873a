"""Terminal output people read (issue 12): the pager, colour apart from layout, text and
tables that fit the width, search's counts, and numbers right-aligned in every table.

"At a terminal" is ``terminal.stdout_is_terminal`` patched to say so: CliRunner's stdout
never is one. The pager is a script in tmp_path that copies what it gets to a file.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from papercli import textlayout
from papercli.cli import common, fast, terminal
from papercli.cli.app import app
from papercli.cli.common import RICH_MAX_ROWS
from tests.conftest import run_fast

ESC = "\x1b["


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 80 by 24 terminal (when there is one), no colour settings of the person running
    the tests, and no pager but the fake one (``paged``): never the real less."""
    for name in ("FORCE_COLOR", "PAGER", "LESS", "LV", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPERCLI_PAGER", "")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")


@pytest.fixture
def at_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terminal, "stdout_is_terminal", lambda: True)


@pytest.fixture
def paged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the fake pager puts what it is given (and the $LESS it saw, in ``.less``)."""
    script = tmp_path / "fake-pager"
    script.write_text('#!/bin/sh\nprintf %s "$LESS" > "$1.less"\nexec cat > "$1"\n')
    script.chmod(0o755)
    target = tmp_path / "paged.txt"
    monkeypatch.setenv("PAPERCLI_PAGER", f"{shlex.quote(str(script))} {shlex.quote(str(target))}")
    return target


def _no_pager(paged: Path) -> None:
    assert not paged.exists(), "the pager ran"


# -- 1. the pager ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["list"], ["stats"], ["history"], ["queue"], ["search", "model", "-n", "40"]],
    ids=" ".join,
)
def test_long_output_at_a_terminal_goes_through_the_pager(run, at_terminal, paged, args):
    assert run("queue", "add", "--since", "2022").exit_code == 0  # 40 papers: a long queue
    assert run("mark-read", "transformer", "bert", "gpt-1", "gpt-2", "gpt-3").exit_code == 0
    assert run("mark-skipped", "t5", "ernie", "distilbert", "glam", "alibi").exit_code == 0
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = paged.read_text(encoding="utf-8")
    assert len(text.splitlines()) > 24
    assert ESC in text and ("━" in text or "─" in text)  # coloured tables, for less -R
    assert Path(f"{paged}.less").read_text() == "FRX"  # as git sets it, when $LESS is unset


def test_output_that_fits_the_screen_is_printed_directly(run, at_terminal, paged):
    assert run("queue", "add", "lora").exit_code == 0
    result = run("next")
    assert result.exit_code == 0
    assert result.stdout.startswith("lora  LoRA: Low-Rank Adaptation")
    _no_pager(paged)


def test_long_means_more_lines_than_the_screen_has(run, at_terminal, paged, monkeypatch):
    lines = len(run("--no-pager", "list").stdout.splitlines())
    monkeypatch.setenv("LINES", str(lines))
    assert run("list").stdout.count("\n") == lines
    _no_pager(paged)
    monkeypatch.setenv("LINES", str(lines - 1))
    assert run("list").stdout == ""
    assert paged.read_text(encoding="utf-8").count("\n") == lines


@pytest.mark.parametrize(
    ("option", "variables"),
    [
        ("--no-pager", {}),
        (None, {"PAPERCLI_PAGER": ""}),
        (None, {"PAPERCLI_PAGER": "cat"}),
        (None, {"PAPERCLI_PAGER": None, "PAGER": ""}),
    ],
    ids=["--no-pager", "PAPERCLI_PAGER=", "PAPERCLI_PAGER=cat", "PAGER="],
)
@pytest.mark.parametrize("command", ["list", "stats"])  # the fast path and Typer's
def test_paging_can_be_turned_off(run, at_terminal, paged, monkeypatch, option, variables, command):
    for name, value in variables.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    result = run(*([option] if option else []), command)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) > 24
    _no_pager(paged)


def test_pager_is_papercli_pager_then_pager(run, at_terminal, paged, monkeypatch):
    monkeypatch.setenv("PAGER", "/no/such/pager")
    assert run("list").exit_code == 0
    assert paged.exists()  # PAPERCLI_PAGER wins
    paged.unlink()
    monkeypatch.setenv("PAGER", os.environ["PAPERCLI_PAGER"])
    monkeypatch.delenv("PAPERCLI_PAGER")
    monkeypatch.setenv("LESS", "-S")
    assert run("stats").exit_code == 0
    assert paged.exists()
    assert Path(f"{paged}.less").read_text() == "-S"  # the user's own $LESS is kept


@pytest.mark.parametrize("args", [["list"], ["--color", "always", "stats"]], ids=" ".join)
def test_piped_output_is_never_paged(run, paged, monkeypatch, args):
    monkeypatch.setenv("LINES", "5")
    result = run(*args)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) > 5
    _no_pager(paged)


@pytest.mark.parametrize(
    ("pager", "problem"),
    [
        ("/no/such/pager -R", "'/no/such/pager': No such file or directory"),
        ('less "-R', "'less \"-R': No closing quotation"),
    ],
)
def test_a_pager_that_cannot_run_is_named_and_the_output_printed(
    run, at_terminal, monkeypatch, pager, problem
):
    monkeypatch.setenv("PAPERCLI_PAGER", pager)
    result = run("list")
    assert result.exit_code == 0
    assert result.stderr == f"warning: cannot run the pager {problem}; printing directly\n"
    assert len(result.stdout.splitlines()) > 24


def test_quitting_the_pager_early_is_a_quiet_success(run, at_terminal, tmp_path, monkeypatch):
    quitter = tmp_path / "quits"
    quitter.write_text("#!/bin/sh\nexit 0\n")  # reads nothing: like pressing q at once
    quitter.chmod(0o755)
    monkeypatch.setenv("PAPERCLI_PAGER", str(quitter))
    result = run("export", "--format", "json")  # far more than a pipe holds
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize(
    ("ending", "how"), [("exit 3", "exit status 3"), ("kill -KILL $$", "SIGKILL")]
)
@pytest.mark.parametrize("command", [["export", "--format", "json"], ["list"]], ids=" ".join)
def test_a_pager_that_fails_is_named(run, at_terminal, tmp_path, monkeypatch, command, ending, how):
    """A pager that ran and failed (``PAGER=false``, a wrapper with a bad option) or was
    killed left the screen empty and said nothing, exit 0: the user never learnt why."""
    failing = tmp_path / "fails"
    failing.write_text(f"#!/bin/sh\n{ending}\n")
    failing.chmod(0o755)
    monkeypatch.setenv("PAPERCLI_PAGER", str(failing))
    result = run(*command)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        f"warning: the pager {str(failing)!r} failed ({how});"
        " --no-pager or PAPERCLI_PAGER= prints without one\n"
    )


# -- 2. a listing too long for Rich, at a terminal ---------------------------------------


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_a_listing_too_long_for_rich_is_wrapped_to_the_terminal(
    run, at_terminal, monkeypatch, columns
):
    monkeypatch.setattr(common, "RICH_MAX_ROWS", 10)
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = run("--no-pager", "list").stdout.splitlines()
    assert max(map(len, lines)) <= columns
    assert "┃" not in "".join(lines) and ESC not in "".join(lines)  # plain, streamed
    assert lines[0].startswith("id ") and " title " in lines[0]
    ids = run("list", "--format", "ids").stdout.split()
    starts = [line.split()[0] for line in lines[1:] if not line.startswith(" ")]
    assert starts == ids  # one paper after the other, each id whole on its first line
    assert len(lines) > len(ids) + 1  # titles wrapped onto following lines
    monkeypatch.setattr(terminal, "stdout_is_terminal", lambda: False)
    piped = run("list").stdout.splitlines()
    assert max(map(len, piped)) > columns  # a pipe still gets one line a paper


@pytest.mark.parametrize("columns", [80, 100, 120, 160])
def test_a_long_listing_shows_the_columns_the_rich_table_shows(
    run, at_terminal, monkeypatch, columns
):
    """Past RICH_MAX_ROWS the listing is plain, with the columns Rich would show at that
    width: those beside the title left out alike to give the title its room."""
    monkeypatch.setenv("COLUMNS", str(columns))
    rich_listing = run("--no-pager", "--color", "never", "list").stdout
    rich_header = next(line for line in rich_listing.splitlines() if "┃" in line)
    shown_by_rich = [name.strip() for name in rich_header.split("┃") if name.strip()]
    monkeypatch.setattr(common, "RICH_MAX_ROWS", 10)
    plain_header = run("--no-pager", "list").stdout.splitlines()[0]
    assert [name.strip() for name in plain_header.split("  ") if name.strip()] == shown_by_rich
    assert "title" in shown_by_rich and ("authors" in shown_by_rich) == (columns >= 100)


def test_a_long_listing_in_a_narrow_window_shares_the_width_as_rich_does(
    run, at_terminal, monkeypatch
):
    """At 40 columns Rich gives the title two thirds and wraps a long id; the plain lines
    past RICH_MAX_ROWS let the id keep all 19 of its columns and cut titles into 8
    (`Adam: A` / `Method` / `for Stoc` / `hastic O`)."""
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setattr(common, "RICH_MAX_ROWS", 10)
    lines = run("--no-pager", "list").stdout.splitlines()
    assert max(map(len, lines)) <= 40
    header = lines[0]
    title_width = header.index("year") - header.index("title") - 2
    assert title_width >= 14 and header.index("title") <= 12
    assert {"llm-surv", "ey-insig", "hts"} <= {line.split()[0] for line in lines if line.strip()}
    words = " ".join(lines).split()
    assert "Stochastic" in words and "Stoc" not in words  # titles break between words


def test_a_history_too_long_for_rich_is_printed_as_it_is_read(run, at_terminal, monkeypatch):
    """``history`` lists every change (a ``mark-read -`` of a million papers makes a
    million): past RICH_MAX_ROWS a terminal gets plain lines fitted to it, the titles
    wrapped; piped and as JSON it is the same text as when it was built whole."""
    marked = run("mark-read", "-", input="lora\nqlora\nbert\ntransformer\ngpt-3\n")
    assert marked.exit_code == 0, marked.output
    monkeypatch.setenv("COLUMNS", "60")
    rich = run("--no-pager", "--color", "never", "history").stdout
    monkeypatch.setattr(common, "RICH_MAX_ROWS", 3)
    lines = run("--no-pager", "history").stdout.splitlines()
    assert "┃" in rich and "┃" not in "".join(lines) and ESC not in "".join(lines)
    assert lines[0].split() == ["when", "id", "from", "to", "title"]
    assert max(map(len, lines)) <= 60 and len(lines) > 6  # five changes, titles wrapped
    starts = [line.split()[2] for line in lines[1:] if not line.startswith(" ")]
    assert starts == ["gpt-3", "transformer", "bert", "qlora", "lora"]  # newest first
    monkeypatch.setattr(terminal, "stdout_is_terminal", lambda: False)
    records = json.loads(run("history", "--format", "json").stdout)
    assert [r["id"] for r in records] == ["gpt-3", "transformer", "bert", "qlora", "lora"]


def test_wrapped_titles_break_between_words(run, at_terminal, monkeypatch):
    monkeypatch.setattr(common, "RICH_MAX_ROWS", 1)
    lines = run("--no-pager", "list", "--topic", "peft").stdout.splitlines()
    start = lines[0].index("title")
    end = lines[0].index("authors")
    first = next(i for i, line in enumerate(lines) if line.startswith("lora "))
    title = [lines[first][start:end].strip()]
    for line in lines[first + 1 :]:
        if not line.startswith(" "):
            break
        title.append(line[start:end].strip())
    assert " ".join(title) == "LoRA: Low-Rank Adaptation of Large Language Models"


WORD = st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=1, max_size=8)
CELL = st.lists(WORD, max_size=6).map(" ".join)


@given(
    headers=st.lists(WORD, min_size=1, max_size=5, unique=True),
    rows=st.lists(st.lists(CELL, min_size=5, max_size=5), max_size=6),
    width=st.integers(10, 120),
    data=st.data(),
)
def test_a_fitted_table_fits_and_keeps_every_word(headers, rows, width, data):
    rows = [row[: len(headers)] for row in rows]
    wrapping = data.draw(st.lists(st.sampled_from(headers), unique=True))
    lines = list(textlayout.plain_table_lines(headers, rows, width, wrapping))
    if not rows:
        assert lines == []
        return
    naturals = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    floors = [min(n, max(len(h), 8)) for h, n in zip(headers, naturals, strict=True)]
    if sum(floors) + 2 * (len(headers) - 1) <= width:
        assert max(map(len, lines)) <= width
    words = " ".join(lines).split()
    assert sorted(words) == sorted(" ".join([*headers, *map(" ".join, rows)]).split())


# -- 3. colour apart from layout ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "variables", "colour"),
    [
        ([], {}, True),
        ([], {"NO_COLOR": "1"}, False),
        (["--color", "never"], {}, False),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        (["--color", "always"], {"NO_COLOR": "1"}, True),
        ([], {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        ([], {"NO_COLOR": ""}, True),  # empty counts as unset
    ],
)
@pytest.mark.parametrize("command", [["list", "--since", "2023"], ["queue"], ["stats"]])
def test_colour_is_a_choice_apart_from_the_layout_at_a_terminal(
    run, at_terminal, monkeypatch, args, variables, colour, command
):
    assert run("queue", "add", "lora").exit_code == 0
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    result = run("--no-pager", *args, *command)
    assert result.exit_code == 0
    assert (ESC in result.stdout) == colour
    assert "─" in result.stdout  # Rich's tables either way
    assert max(map(len, _unstyled(result.stdout).splitlines())) <= 80


@pytest.mark.parametrize(
    ("args", "variables"),
    [(["--color", "always"], {}), ([], {"FORCE_COLOR": "1"})],
    ids=["--color always", "FORCE_COLOR"],
)
def test_forced_colour_gives_a_pipe_the_terminals_output(run, monkeypatch, args, variables):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "100")
    result = run(*args, "list", "--since", "2023")
    assert ESC in result.stdout and "┃" in result.stdout
    assert max(map(len, _unstyled(result.stdout).splitlines())) == 100  # fitted to $COLUMNS
    assert _unstyled(result.stdout) == _unstyled(run(*args, "list", "--since", "2023").stdout)


def test_piped_output_is_plain_without_colour(run):
    result = run("list", "--since", "2023")
    assert ESC not in result.stdout and "┃" not in result.stdout


def test_color_and_no_pager_come_before_the_command_on_both_paths(run):
    invocation = fast.parse(["--no-pager", "--color", "never", "list", "-n", "1"])
    assert invocation is not None
    assert invocation.options == {"no_pager": True, "color": "never"}
    assert fast.parse(["list", "--no-pager"]) is None  # left to Typer, which refuses it
    for args in (["list", "--no-pager"], ["list", "--color", "never"]):
        result = run(*args)
        assert result.exit_code == 2
        assert f"no such option: {args[1]}" in result.stderr
    result = run("--color", "sometimes", "list")
    assert result.exit_code == 2 and "'sometimes' is not one of" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--color", "never", "--no-pager", "list", "--since", "2023"],
        ["--no-pager", "--color", "always", "queue"],
        ["--color=never", "--no-pager", "show", "lora"],
    ],
    ids=" ".join,
)
def test_both_paths_print_the_same_at_a_terminal(run, at_terminal, args):
    assert run("queue", "add", "lora", "dpo").exit_code == 0
    fast_result = run_fast(CliRunner(), args)
    assert fast_result is not None, "the fast path declined"
    typer_result = CliRunner().invoke(app, args)
    assert (fast_result.exit_code, fast_result.stdout) == (0, typer_result.stdout)
    assert ("━" in fast_result.stdout or "─" in fast_result.stdout) and fast_result.stdout


def _unstyled(text: str) -> str:
    return re.sub("\x1b\\[[0-9;]*m", "", text)


# -- 4. text wrapped at word boundaries to the width -------------------------------------


def test_next_wraps_at_word_boundaries_and_keeps_the_address_whole(run, monkeypatch):
    assert run("queue", "add", "gpt-1").exit_code == 0
    why = run("show", "gpt-1", "--format", "json").stdout
    paper = json.loads(why)
    for columns in (40, 80):
        monkeypatch.setenv("COLUMNS", str(columns))
        lines = run("next").stdout.splitlines()
        url = lines.pop()
        assert url == f"  {paper['url']}"  # longer than 80 columns, and never broken
        assert max(map(len, lines)) <= columns
        assert lines[0].startswith("gpt-1  Improving")
        text = f"gpt-1 {paper['title']} ({paper['year']}) {paper['why']}"
        assert " ".join(lines).split() == text.split()


@pytest.mark.parametrize("columns", [24, 30, 40, 50, 80, 120, 200])
@pytest.mark.parametrize("where", ["piped", "terminal"])
def test_stats_fit_the_width_and_wrap_names_between_words(run, monkeypatch, columns, where):
    """Below 60 columns the table was cut: every header to "re…" and the names to nothing.
    A narrow window leaves out the progress bars, then skipped, reading and read %; below
    about 35, unread (at 30, "total" was cut to "t"; at 24, at a terminal, to "tot", its
    numbers gone: there the names get narrower than 12)."""
    if where == "terminal":
        monkeypatch.setattr(terminal, "stdout_is_terminal", lambda: True)
    elif columns < 30:
        pytest.skip("piped, the names keep their headers' width: by organization, 15")
    monkeypatch.setenv("COLUMNS", str(columns))
    assert run("mark-read", "lora").exit_code == 0
    text = _unstyled(run("--no-pager", "stats").stdout)
    assert max(map(len, text.splitlines())) <= columns
    assert "…" not in text
    headers = re.findall(r"^ ?overall +(.*?) *$", text, re.MULTILINE)[-1].split()
    assert {"read", "total"} <= set(headers)
    assert ("unread" in headers) == (columns >= 40)
    assert ("progress" in headers) == (columns >= 80)
    orgs = [row["name"] for row in json.loads(run("stats", "-f", "json").stdout)["by_organization"]]
    words = text.split()
    for name in orgs if columns >= 30 else ():  # at 24 a name has 9 columns: "University" folds
        assert all(word in words for word in name.split()), name  # no word cut in two
    everything = next(line.split() for line in text.splitlines() if line.split()[:1] == ["all"])
    assert {"1", "76"} <= set(everything)  # read and total, whole
    if columns == 200:  # room for every name on one line
        assert re.search("^ ?University of Washington  ", text, re.MULTILINE)


@given(
    text=st.lists(st.lists(WORD, max_size=12).map(" ".join), min_size=1, max_size=3).map("\n".join),
    width=st.integers(24, 100),  # room for the longest prefix and a word
    prefix=st.sampled_from(["", "  ", " 1. 2024-05-01  ", "lora  "]),
)
def test_wrap_block_fits_keeps_words_and_paragraphs(text, width, prefix):
    block = textlayout.wrap_block(text, width, prefix)
    lines = block.split("\n")
    assert all(len(line) <= width for line in lines)  # words here are shorter than a line
    assert lines[0].startswith(prefix.rstrip())
    # Beside a prefix up to half the line wide; under a wider one, indented 4.
    indent = " " * len(prefix) if len(prefix) <= width // 2 else textlayout.NARROW_INDENT
    assert all(line.startswith(indent) or not line for line in lines[1:])
    assert block.split() == (prefix + text).split()


WIDE_OR_NARROW_WORD = st.text(
    st.sampled_from("abcdéz日本語のモデル😀\u0301"), min_size=1, max_size=30
)


@given(
    words=st.lists(WIDE_OR_NARROW_WORD, min_size=1, max_size=20),
    width=st.integers(4, 60),
    cut=st.booleans(),
)
def test_wrapped_lines_fit_in_terminal_cells(words, width, cut):
    """Counted in characters, a line of Chinese or Japanese took twice its width at a
    terminal: lines are measured in cells, break between wide characters, and keep
    every character in order."""
    lines = textlayout.wrapped(" ".join(words), width, break_long_words=cut)
    assert "".join(lines).replace(" ", "") == "".join(words)
    for line in lines:
        narrow_word_too_long = " " not in line and cut is False
        assert textlayout.cell_width(line) <= width or narrow_word_too_long or len(line) == 1


def test_show_through_a_pipe_wraps_a_japanese_title_by_terminal_cells(run, monkeypatch):
    """A 60-character Japanese title is 120 columns at a terminal: `show` piped wrapped
    it as 60 characters, a line past the edge of an 80-column window."""
    title = "大規模言語モデルの効率的な微調整のための低ランク適応手法に関する研究" * 2
    added = run("add", "--title", title, "-a", "山田 太郎", "--year", "2024", "--id", "jp")
    assert added.exit_code == 0, added.output
    monkeypatch.setenv("COLUMNS", "80")
    lines = run("show", "jp").stdout.splitlines()
    assert max(map(textlayout.cell_width, lines)) <= 80
    title_lines = lines[1 : next(i for i, line in enumerate(lines) if "authors" in line)]
    assert len(title_lines) == 3
    assert "".join(line.split()[-1] for line in title_lines) == title


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_show_in_a_narrow_window_puts_values_under_their_labels(
    run, monkeypatch, request, terminal
):
    """At 20 columns the labels (14 wide, with a gap and a frame) left the values none:
    `show` printed the labels alone; piped, each value line ran 18 columns past the edge."""
    if terminal:
        request.getfixturevalue("at_terminal")
    monkeypatch.setenv("COLUMNS", "20")
    text = _unstyled(run("--no-pager", "show", "qlora").stdout)
    lines = [line.strip("│ ") for line in text.splitlines()]
    assert lines[lines.index("title") + 1].startswith("QLoRA:")
    assert "NeurIPS 2023" in lines and "dettmers2023qlora" in "".join(lines)
    # Piped, an address longer than the line stays whole, to be copied: 4 + 32 columns.
    assert max(map(len, text.splitlines())) == (20 if terminal else 36)
    monkeypatch.setenv("COLUMNS", "80")
    wide = _unstyled(run("--no-pager", "show", "qlora").stdout)
    assert "QLoRA: Efficient Finetuning of Quantized LLMs" in wide  # beside its label


def test_path_in_a_narrow_window_puts_titles_under_their_ids(run, monkeypatch):
    """At 30 columns each title went on beside a 23-column `  1. [ ] transformer`, and
    every line ran past the edge (`  1. [ ] transformer   Attention`, 31 columns)."""
    monkeypatch.setenv("COLUMNS", "30")
    lines = run("path", "qlora").stdout.splitlines()
    assert max(map(len, lines)) <= 30
    step = lines.index("  1. [ ] transformer")
    assert lines[step + 1] == "    Attention Is All You Need"
    monkeypatch.setenv("COLUMNS", "80")
    assert "  1. [ ] transformer   Attention Is All You Need (2017)" in run("path", "qlora").stdout


def test_wrap_block_never_breaks_an_address_or_kept_words_and_shows_escapes():
    url = "https://example.org/" + "a" * 90
    assert textlayout.wrap_block(f"see {url} now", 40, "  ") == f"  see\n  {url}\n  now"
    goal = f"QLoRA (2023)  <-{textlayout.KEEP_TOGETHER}goal"
    assert textlayout.wrap_block(goal, 20, "8. ") == "8. QLoRA (2023)\n   <- goal"
    assert textlayout.wrap_block("a\x1b[2Jb", 40) == "a\\x1b[2Jb"


# -- 5. search says when it shows fewer than match, and shows the status ----------------


@pytest.mark.parametrize(
    "args",
    [
        ["model"],
        ["language", "models", "--since", "2021"],
        ["model", "--status", "unread", "--topic", "peft"],
        ["transf"],  # the prefix retry
    ],
    ids=" ".join,
)
def test_search_says_how_many_match_when_it_shows_fewer(run, run_json, args):
    everything = run_json("search", *args, "-n", "1000", "--format", "json")
    assert len(everything) > 2
    for output in (["--format", "json"], []):
        result = run("search", *args, "-n", "2", *output)
        assert result.exit_code == 0
        assert result.stderr == f"2 of {len(everything)} matches; -n to see more\n"
    assert run("search", *args, "-n", str(len(everything))).stderr == ""


def test_search_counts_matches_found_inside_notes(run):
    for paper in ("lora", "qlora", "dpo"):
        assert run("note", paper, "我们用低秩适配来微调模型").exit_code == 0
    result = run("search", "低秩", "-n", "1")
    assert result.stderr == "1 of 3 matches; -n to see more\n"
    assert run("search", "低秩", "--status", "read").stderr == "no papers match\n"


def test_search_shows_the_status(run, at_terminal):
    assert run("mark-read", "transformer").exit_code == 0
    lines = run("--color", "never", "search", "attention", "-n", "3").stdout.splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    assert [cell.strip() for cell in header.strip("┃").split("┃")] == [
        "id",
        "title",
        "year",
        "status",
        "match",
    ]
    row = next(line for line in lines if "transformer" in line)
    assert "│ read " in row


def test_search_piped_has_a_status_column(run):
    assert run("mark-reading", "transformer").exit_code == 0
    lines = run("search", "attention", "-n", "3").stdout.splitlines()
    assert lines[0].split() == ["id", "title", "year", "status", "match"]
    column = lines[0].index("status")
    assert lines[1].startswith("transformer ") and lines[1][column:].startswith("reading ")


# -- 6. ids and text left, numbers right, in every table ---------------------------------


def _rich_cells(text: str, header: str) -> list[str]:
    """The non-empty cells of a Rich table's column, as drawn (padding included)."""
    lines = text.splitlines()
    heads = next(line for line in lines if line.startswith("┃")).strip("┃").split("┃")
    column = [head.strip() for head in heads].index(header)
    rows = [line.strip("│").split("│") for line in lines if line.startswith("│")]
    return [row[column] for row in rows if row[column].strip()]


def _plain_cells(text: str, header: str, following: str) -> list[str]:
    lines = text.splitlines()
    start = lines[0].index(header) if header != lines[0].split()[0] else 0
    end = lines[0].index(following)
    return [line[start:end] for line in lines[1:]]


def _aligned(cells: list[str]) -> str:
    """left or right, from where the cells' values start and end."""
    starts = {len(c) - len(c.lstrip()) for c in cells}
    ends = {len(c.rstrip()) for c in cells}
    assert len(starts) == 1 or len(ends) == 1, cells
    return "left" if len(starts) == 1 and len(ends) > 1 else "right"


@pytest.fixture
def long_queue(run):
    assert run("queue", "add", "--since", "2023").exit_code == 0  # 26: one and two digits
    assert run("mark-read", "transformer", "lora", "dpo").exit_code == 0


@pytest.mark.parametrize(
    ("command", "header", "alignment"),
    [
        (["queue"], "#", "right"),
        (["queue"], "id", "left"),
        (["queue"], "title", "left"),
        (["history"], "id", "left"),
        (["history"], "title", "left"),
        (["orgs"], "organization", "left"),
        (["orgs"], "papers", "right"),
        (["topics"], "papers", "right"),
    ],
)
def test_rich_tables_put_numbers_right_and_the_rest_left(
    run, at_terminal, long_queue, monkeypatch, command, header, alignment
):
    monkeypatch.setenv("COLUMNS", "200")
    result = run("--no-pager", "--color", "never", *command)
    assert _aligned(_rich_cells(result.stdout, header)) == alignment


def test_a_listing_too_long_for_rich_keeps_its_numbers_right(run, at_terminal, monkeypatch):
    """Past RICH_MAX_ROWS (the catalogue's 858 authors) a terminal gets plain columns, as
    `list` does; the counts still end in one column."""
    monkeypatch.setenv("COLUMNS", "100")
    lines = run("--no-pager", "--color", "never", "authors").stdout.splitlines()
    assert len(lines) > RICH_MAX_ROWS and lines[0].split() == ["author", "papers"]
    assert len({len(line) for line in lines}) == 1


@pytest.mark.parametrize(
    ("command", "header", "following", "alignment"),
    [
        (["queue"], "#", "id", "right"),
        (["queue"], "id", "title", "left"),
        (["orgs"], "papers", "aliases", "right"),
        (["stats"], "read", "reading", "right"),
    ],
)
def test_plain_tables_put_numbers_right_and_the_rest_left(
    run, long_queue, command, header, following, alignment
):
    text = run(*command).stdout
    if command == ["stats"]:  # its tables follow one another; take the one by year
        text = text.split("\n\n")[1].split("\n", 1)[1]
    cells = [cell for cell in _plain_cells(text, header, following) if cell.strip()]
    assert _aligned(cells) == alignment


def test_the_command_log_too_long_for_rich_is_printed_as_it_is_read(run, at_terminal, monkeypatch):
    """``history --all`` lists every command ever run: past RICH_MAX_ROWS a terminal gets
    plain lines fitted to it, newest first, the summaries wrapped; JSON is unchanged."""
    from papercli.cli import common

    for ref in ("lora", "qlora", "bert", "gpt-3"):
        assert run("mark-read", ref).exit_code == 0
    assert run("queue", "add", "dpo", "transformer", "cot", "react", "toolformer").exit_code == 0
    monkeypatch.setenv("COLUMNS", "50")
    rich = run("--no-pager", "--color", "never", "history", "--all").stdout
    monkeypatch.setattr(common, "RICH_MAX_ROWS", 3)
    lines = run("--no-pager", "history", "--all").stdout.splitlines()
    assert "┃" in rich and "┃" not in "".join(lines) and ESC not in "".join(lines)
    assert lines[0].split() == ["when", "command", "what", "undone"]
    assert max(map(len, lines)) <= 50
    commands = [line.split()[2] for line in lines[1:] if not line.startswith(" ")]
    assert commands == ["queue", "mark-read", "mark-read", "mark-read", "mark-read"]
    first = [lines[1], *itertools.takewhile(lambda line: line.startswith(" "), lines[2:])]
    summary = " ".join(line[lines[0].index("what") :].split("  ")[0] for line in first)
    assert len(first) > 1 and summary == "queued dpo, transformer, cot, react, toolformer"
    monkeypatch.setattr(terminal, "stdout_is_terminal", lambda: False)
    records = json.loads(run("history", "--all", "--format", "json").stdout)
    assert [r["what"] for r in records][-2:] == ["marked qlora read", "marked lora read"]


# -- data at a real terminal ---------------------------------------------------------------


def _at_a_real_terminal(args: list[str], env: dict[str, str]) -> str:
    """What a papercli process prints with a pseudo-terminal as its stdout."""
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    with os.fdopen(leader, "rb", buffering=0) as screen:
        process = subprocess.Popen(
            [sys.executable, "-m", "papercli", *args],
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        os.close(follower)  # read while it writes: a terminal holds only a few kB
        shown = b""
        while True:
            try:
                piece = screen.read(65536)
            except OSError:  # Linux: EIO once the terminal's last writer has gone
                break
            if not piece:
                break
            shown += piece
    assert process.wait(timeout=60) == 0
    return shown.decode("utf-8")


@pytest.mark.parametrize(
    "args",
    [
        ["export", "-f", "csv", "-s", "lora"],
        ["export", "-f", "json", "-s", "lora"],
        ["notes", "-f", "csv"],
        ["notes", "-f", "json"],
        ["show", "lora", "-f", "json"],
    ],
    ids=" ".join,
)
def test_data_formats_at_a_terminal_cannot_drive_it(tmp_path, monkeypatch, args):
    """`export -f csv` wrote a note's escape sequences to the terminal as they were: the
    screen cleared and the window was retitled. At a terminal the data formats show
    control characters as escapes, as tables do; piped, they stay exact."""
    note = "a\x1b]0;PWNED\x07\x1b[2Jb\x9bc"
    env = {**os.environ, "PAPERCLI_DB": str(tmp_path / "t.db"), "PAPERCLI_PAGER": ""}
    run_cli = CliRunner().invoke
    monkeypatch.setenv("PAPERCLI_DB", env["PAPERCLI_DB"])
    assert run_cli(app, ["note", "lora", note]).exit_code == 0
    shown = _at_a_real_terminal(args, env)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\\x1b]0;PWNED\\x07" in shown or "\\u001b]0;PWNED\\u0007" in shown
    piped = run_cli(app, args)
    assert piped.exit_code == 0 and "\x9b" in piped.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["history"],
        ["history", "--all"],
        ["tags"],
        ["topics"],
        ["orgs"],
        ["authors"],
        ["notes"],
        ["queue"],
        ["list", "--since", "2023"],
        ["search", "low-rank"],
    ],
    ids=" ".join,
)
def test_csv_has_the_jsons_keys_and_values(run, args):
    """CSV was the table's text in some listings: `history` wrote `read (undone)` in `to`,
    times to the minute, `#` for `position`, `tag` for `name`, and `queue` five columns
    of the JSON's seventeen. Now every listing's CSV has the JSON's keys and values (lists
    joined with "; ", booleans as in JSON, null as nothing)."""
    import csv
    import io

    for command in (["mark-read", "lora"], ["undo"], ["tag", "lora", "+x"], ["note", "lora", "hi"]):
        assert run(*command).exit_code == 0
    assert run("queue", "add", "qlora", "bert").exit_code == 0
    records = json.loads(run(*args, "--format", "json").stdout)
    table = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv").stdout)))
    assert records and len(table) == len(records)

    def as_csv(value: object) -> str:
        if isinstance(value, list):
            return "; ".join(map(str, value))
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    assert table == [{key: as_csv(value) for key, value in r.items()} for r in records]


def test_an_empty_csv_listing_prints_nothing(run):
    """It printed a blank line, which a CSV reader takes for a header of one empty name."""
    for args in (["list", "--tag", "nosuch"], ["notes"], ["history"], ["tags"]):
        assert run(*args, "--format", "csv").stdout == ""


@pytest.mark.parametrize("columns", [20, 24, 30])
def test_a_list_in_a_very_narrow_window_leaves_out_status_then_year_for_the_title(
    run, at_terminal, monkeypatch, columns
):
    """At 20 columns the title got no room at all: the titles were gone."""
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = _unstyled(run("--no-pager", "list", "--since", "2023", "-n", "3").stdout).splitlines()
    assert max(map(len, lines)) <= columns
    header = lines[1].replace("┃", " ").split()
    assert header == ["id", "title", "year"][: 2 + (columns >= 30)]
    words = " ".join(lines).replace("│", " ").split()
    assert any(word.startswith("Toolformer") for word in words)  # at 20, its ":" folds


def test_a_long_id_leaves_a_title_its_share_and_numbers_stay_whole(run, at_terminal, monkeypatch):
    """Given widths, one long id took the title's room at 80 columns (id 48, title 10);
    at 20 the `#` column was squeezed to nothing in `queue` and `notes`, and it is the
    number `note REF --delete N` needs."""
    long_id = "cjk-paper-with-a-very-long-identifier-name-here"
    added = run(
        "add", "--title", "Notes on Quokkas", "-a", "Ann Lee", "--year", "2024", "--id", long_id
    )
    assert added.exit_code == 0, added.output
    assert run("queue", "add", "lora", long_id).exit_code == 0
    monkeypatch.setenv("COLUMNS", "80")
    text = _unstyled(run("--no-pager", "queue").stdout)
    assert "LoRA: Low-Rank Adaptation of" in text
    assert run("note", "lora", "a thought").exit_code == 0
    monkeypatch.setenv("COLUMNS", "20")
    for command in (["queue"], ["notes"]):
        lines = _unstyled(run("--no-pager", *command).stdout).splitlines()
        assert "#" in lines[1].replace("┃", " ").split(), command
        assert "1" in lines[3].replace("│", " ").split(), command


@pytest.mark.parametrize("columns", [24, 30, 36])
def test_the_queue_in_a_narrow_window_leaves_out_status_and_year_before_the_title(
    run, at_terminal, monkeypatch, columns
):
    """Rich shared the width out itself: at 30 columns a title got three (`Dir`, `ect`)
    and the year was cut (`20`); at 24 the ids were folded a letter a line."""
    assert run("queue", "add", "dpo", "lora").exit_code == 0
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = _unstyled(run("--no-pager", "queue").stdout).splitlines()
    assert max(map(len, lines)) <= columns
    header = lines[1].replace("┃", " ").split()
    assert header == ["#", "id", "title", "year"][: 3 + (columns >= 30)]
    cells = " ".join(lines).replace("│", " ").split()
    assert {"dpo", "lora", "Direct", "LoRA:"} <= set(cells)


@pytest.mark.parametrize("columns", [40, 50, 60])
def test_a_list_in_a_narrow_window_keeps_titles_and_statuses(
    run, at_terminal, monkeypatch, columns
):
    """Below about 64 columns Rich shared the width out itself: the ids kept theirs and the
    titles got none (40 columns), or the status was cut (`unre`). The title and the id now
    share what the year and the status leave, the title two thirds at least."""
    monkeypatch.setenv("COLUMNS", str(columns))
    text = _unstyled(run("--no-pager", "list", "--since", "2023", "-n", "3").stdout)
    assert max(map(len, text.splitlines())) <= columns
    assert "Toolformer:" in text.split()
    assert text.count(" unread") == 3
