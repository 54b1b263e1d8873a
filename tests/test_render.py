"""What a person sees at a terminal: Rich output rendered at fixed widths."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from papercli import render, textlayout
from papercli.models import Author, Paper, ReadStatus
from papercli.store.progress import Stats, StatusCounts


def _paper(i: int, status: ReadStatus = ReadStatus.UNREAD) -> Paper:
    return Paper(
        id=f"paper-{i}",
        title="A Rather Long Title About [Bracketed] Large Language Models and Their Limits",
        short_name=f"Paper {i}",
        year=2020 + i,
        date=f"{2020 + i}-01-01",
        organizations=["Google DeepMind", "University of Washington"],
        authors=[Author(n, family=n.split()[-1]) for n in ("Tim Dettmers", "Ari Holtzman", "X Y")],
        topics=["peft", "quantization"],
        status=status,
    )


def _text(renderable: object, width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("width", [60, 80, 90, 100, 110, 120, 160, 200])
def test_papers_table_fits_the_terminal(width):
    papers = [_paper(1), _paper(2, ReadStatus.READ)]
    text = _text(render.papers_table(papers, width), width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "paper-1" in text and "read" in text
    assert "[Bracketed]" in text.replace("\n", " ") or "[Bracketed" in text  # not eaten as markup
    assert ("short name" in text) == (width >= 160)
    assert ("topics" in text) == (width >= 120)
    assert ("organizations" in text) == (width >= 100)
    assert ("authors" in text) == (width >= 70)  # dropped before the title ever is
    assert ("Dettmers et al." in text) == (width >= 70)


@pytest.mark.parametrize(
    ("width", "beside"), [(80, []), (100, ["authors"]), (120, ["organizations", "authors"])]
)
def test_a_title_keeps_its_room_beside_long_ids(width, beside):
    """Long ids leave the title too little: the columns beside it go first (topics, then
    organizations, then authors), and the title keeps at least TITLE_ROOM columns."""
    papers = [_paper(1), _paper(2)]
    papers[0].id = "a-rather-long-paper-id-2024"
    text = _text(render.papers_table(papers, width), width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    header = lines[1]
    assert [name for name in ("topics", "organizations", "authors") if name in header] == beside
    title_cell = next(line for line in lines if "a-rather-long-paper-id-2024" in line)
    assert "A Rather Long Title About" in title_cell  # 25 columns of title on its line
    assert "id" in header and "title" in header and "status" in header


@given(st.text())
def test_text_a_service_sends_is_stored_on_one_line_with_single_spaces(text):
    """An abstract's "and \u200f rlm" was stored as "and  rlm": the mark dropped after
    the spaces were joined."""
    kept = textlayout.without_controls(text)
    assert textlayout.printable(kept) == kept  # nothing left to escape
    assert "  " not in kept and kept == kept.strip()
    assert textlayout.without_controls("and \u200f rlm\x1b[31m") == "and rlm[31m"


def test_plain_table_aligns_columns():
    text = textlayout.plain_table(["id", "title"], [["a", "First"], ["longer-id", "Second"]])
    assert text.splitlines() == ["id         title", "a          First", "longer-id  Second"]


def test_stats_render_with_bars():
    counts = StatusCounts("all", unread=2, read=2)
    stats = Stats(counts, [StatusCounts("2021", read=2)], [], [], [("2024-03", 2)])
    plain = render.plain_stats(stats)
    assert "all" in plain and "50%" in plain and "##########" in plain
    rich_text = _text(render.stats_tables(stats), 100)
    assert "Read per month" in rich_text and "█" in rich_text


def test_a_rich_table_prints_emoji_codes_as_typed():
    """``:fire:`` stays ``:fire:`` (Rich would print 🔥), and Rich's table of 3,600 emoji
    names is never imported for it."""
    code = (
        "import sys; from rich.table import Table; from papercli.cli import terminal\n"
        "table = Table(); table.add_column(':fire: hot'); table.add_row('a :+1: b')\n"
        "terminal.print_rich(table); print('rich._emoji_codes' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert ":fire: hot" in result.stdout
    assert "a :+1: b" in result.stdout
    assert result.stdout.splitlines()[-1] == "False"
