"""How results look: Rich tables and panels on a terminal, plain text everywhere else.

The only module that imports rich, and only inside the functions that draw with it:
plain output (pipes, ``NO_COLOR``) never pays rich's import cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from papercli.models import Paper, ReadStatus

if TYPE_CHECKING:
    from rich.console import RenderableType

STATUS_STYLE = {
    ReadStatus.UNREAD: "dim",
    ReadStatus.READING: "yellow",
    ReadStatus.READ: "green",
    ReadStatus.SKIPPED: "dim strike",
}
PAPER_COLUMNS = ("id", "short name", "title", "year", "organizations", "topics", "status")


def paper_row(paper: Paper) -> list[str]:
    return [
        paper.id,
        paper.short_name,
        paper.title,
        str(paper.year),
        ", ".join(paper.organizations),
        ", ".join(paper.topics),
        str(paper.status),
    ]


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned with spaces; the last column is never padded."""
    if not rows:
        return ""
    table = [list(headers), *map(list, rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers) - 1)]
    lines = []
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def papers_table(papers: Sequence[Paper], title: str | None = None) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold", expand=False, pad_edge=False)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("short name", style="bold", overflow="fold", max_width=18)
    table.add_column("title", ratio=3, overflow="fold", min_width=20)
    table.add_column("year", justify="right", no_wrap=True)
    table.add_column("organizations", ratio=1, overflow="fold")
    table.add_column("topics", ratio=1, overflow="fold", style="magenta")
    table.add_column("status", no_wrap=True)
    for paper in papers:
        *cells, status = paper_row(paper)  # Text, not markup: titles may contain brackets
        table.add_row(*map(Text, cells), Text(status, style=STATUS_STYLE[paper.status]))
    return table


def counts_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> RenderableType:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", pad_edge=False)
    for i, header in enumerate(headers):
        table.add_column(
            header,
            justify="right" if i == 1 else "left",
            style="cyan" if i == 0 else None,
            overflow="fold",
        )
    for row in rows:
        table.add_row(*map(Text, row))
    return table


def detail_lines(paper: Paper, prerequisites: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The labelled fields of ``show``, shared by the panel and the plain text form."""
    fields = [
        ("title", paper.title),
        ("short name", paper.short_name),
        ("aliases", ", ".join(paper.aliases)),
        ("kind", paper.kind if paper.kind != "paper" else ""),
        ("date", paper.date),
        ("organizations", ", ".join(paper.organizations)),
        ("topics", ", ".join(paper.topics)),
        ("status", str(paper.status)),
        ("arXiv", paper.arxiv_id or ""),
        ("url", paper.url or ""),
        ("pdf", paper.pdf_url or ""),
        ("why it matters", paper.why),
        ("reading focus", paper.focus),
        ("key technique", paper.technique),
        ("read first", "; ".join(f"{pid} ({title})" for pid, title in prerequisites)),
        ("sources", ", ".join(paper.sources)),
    ]
    return [(label, value) for label, value in fields if value]


def plain_details(paper: Paper, prerequisites: Sequence[tuple[str, str]]) -> str:
    lines = detail_lines(paper, prerequisites)
    width = max(len(label) for label, _ in lines)
    return "\n".join([paper.id] + [f"  {label.ljust(width)}  {value}" for label, value in lines])


def paper_panel(paper: Paper, prerequisites: Sequence[tuple[str, str]]) -> RenderableType:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in detail_lines(paper, prerequisites):
        grid.add_row(label, Text(value))
    return Panel(grid, title=Text(paper.id, style="cyan"), title_align="left", expand=False)


def print_rich(renderable: RenderableType) -> None:
    from rich.console import Console

    Console().print(renderable)
