"""The README's command reference is generated from --help and must not drift."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from papercli.cli.app import app
from scripts.readme_reference import command_paths, help_text

ROOT = Path(__file__).resolve().parents[1]


# What cog generates from the Typer commands: the README's command reference, and the
# fast path's table of options (see papercli/cli/fast.py).
GENERATED = ["README.md", "src/papercli/cli/fast.py"]


@pytest.mark.parametrize("generated", GENERATED)
def test_generated_text_is_current(generated):
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", generated],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"{generated} is out of date: run `python -m cogapp -r {generated}`\n"
        + result.stdout
        + result.stderr
    )


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "papercli")
def test_every_command_has_help_with_an_example(path):
    assert "Example" in help_text(path)


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "papercli")
def test_every_option_names_its_value(path):
    """An option's value is named as the others name theirs (N, NAME, TITLE, a list of
    choices), not by its Python type: `add --title <str>`, `inbox --limit <int range>`."""
    named = re.findall(r"^ {2}(?:-\w, )?--[\w-]+ (\S+)", help_text(path), re.MULTILINE)
    by_type = [value for value in named if re.match(r"<(str|int|float)|TEXT$|INTEGER$", value)]
    assert by_type == []


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "papercli")
def test_every_example_fits_an_80_column_terminal(path):
    """Examples are printed as written, never wrapped: one longer than a terminal is broken
    in the middle of a word (`--topic architectur` / `e --queue` at 80 columns)."""
    shown = help_text(path)
    examples = re.split(r"Examples?:\n", shown)[1].partition("\n\n")[0].splitlines()
    assert examples
    assert [line for line in examples if len(line) > 80] == []


@pytest.mark.parametrize("group", [[], ["queue"], ["inbox"], ["watch"], ["db"]], ids=" ".join)
def test_every_command_summary_shows_whole_at_80_columns(group):
    """A command's summary is the first sentence of its help, cut with "..." where it is
    longer than the listing's room: `list  List papers, oldest first, filtered by year,
    organization, topic,...` at 80 columns."""
    shown = CliRunner().invoke(app, [*group, "--help"], prog_name="papercli", terminal_width=80)
    assert shown.exit_code == 0
    listing = shown.stdout.partition("Commands:\n")[2]
    assert listing
    assert [line for line in listing.splitlines() if line.endswith("...")] == []


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "papercli")
def test_help_never_breaks_a_word_at_its_hyphen(path):
    """Click wrapped help at hyphens: `--with-` / `prereqs`, `csl-` / `json` on two lines
    at 80 columns, so that a copied option was wrong."""
    shown = CliRunner().invoke(app, [*path, "--help"], prog_name="papercli", terminal_width=80)
    assert shown.exit_code == 0
    assert [line for line in shown.stdout.splitlines() if re.search(r"\w-$", line)] == []
