"""How results look: Rich tables and panels for a person, plain text for pipes.

The only module that imports rich besides the CLI's console (``papercli.cli.terminal``),
and only inside the functions that draw with it: plain output never pays rich's import
cost. Which form, at what width and in what colour is the CLI's choice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import chain, islice

from papercli import TYPE_CHECKING, textlayout, times
from papercli.models import Author, Paper, ReadStatus

if TYPE_CHECKING:
    from typing import Literal

    from rich.console import RenderableType
    from rich.text import Text

    from papercli.store.progress import Stats, StatusCounts

textlayout._ONE_LINE |= {
    code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def _text(value: str, style: str | None = None) -> Text:
    """A Rich cell holding ``value`` as it is, made textlayout.printable, never read as markup."""
    from rich.text import Text

    return Text(textlayout.printable(value), style=style or "")


STATUS_STYLE = {
    ReadStatus.UNREAD: "dim",
    ReadStatus.READING: "yellow",
    ReadStatus.READ: "green",
    ReadStatus.SKIPPED: "dim strike",
}
PAPER_COLUMNS = (
    "id",
    "short name",
    "title",
    "authors",
    "year",
    "organizations",
    "topics",
    "status",
)


def status_text(paper: Paper) -> str:
    """``read``, or ``read (v3 out)`` once arXiv has a newer version than the one read."""
    newer = f" (v{paper.newer_version} out)" if paper.newer_version else ""
    return f"{paper.status}{newer}"


def paper_row(paper: Paper) -> list[str]:
    return [
        paper.id,
        paper.short_name,
        paper.title,
        paper.author_line,
        str(paper.year),
        ", ".join(paper.organizations),
        ", ".join(paper.topics),
        status_text(paper),
    ]


# Organizations and topics get at most this fraction of the width each (longer lists
# wrap), so that titles keep the room to stay on one or two lines.
SIDE_COLUMN_SHARE = 6
# The terminal width below which a column is left out: first the short name (the id
# mostly repeats it), then topics, then organizations, then authors; never the title.
_NEEDED_WIDTH = {"short name": 160, "topics": 120, "organizations": 100, "authors": 70}


def paper_columns(width: int) -> list[str]:
    """The listing's columns at ``width``: narrower terminals drop the columns that say
    least first (see ``_NEEDED_WIDTH``)."""
    return [name for name in PAPER_COLUMNS if width >= _NEEDED_WIDTH.get(name, 0)]


def papers_table(papers: Sequence[Paper], width: int = 160) -> RenderableType:
    """The listing as a table that fits ``width`` columns, the title given room first."""
    from rich.table import Table

    every = paper_columns(width)
    cells: dict[str, list[Text]] = {name: [] for name in every}
    for paper in papers:
        for name, value in zip(PAPER_COLUMNS, paper_row(paper), strict=True):
            if name in cells:
                # Text, not markup: titles may contain brackets.
                cells[name].append(
                    _text(value, STATUS_STYLE[paper.status] if name == "status" else None)
                )
    longest = {
        name: max([len(name)] + [text.cell_len for text in texts]) for name, texts in cells.items()
    }
    # Rich's box: a line between columns with a space each side, a line at each edge.
    widths = _fitting(longest, width, gap=3, edges=2)
    columns = list(widths)
    table = Table(header_style="bold", pad_edge=False)
    for name in columns:
        table.add_column(
            name,
            style={"id": "cyan", "short name": "bold", "topics": "magenta"}.get(name),
            # In a very narrow window an id wraps too, or the title got nothing.
            no_wrap=name in _UNWRAPPED and widths[name] >= longest[name],
            justify=_justify(name),
            overflow="fold",
            max_width=_side_width(name, width),
            # Given, Rich need not measure every cell, twice when the table must shrink.
            width=widths[name],
        )
    for row in zip(*(cells[name] for name in columns), strict=True):
        table.add_row(*row)
    return table


TITLE_ROOM = 30
"""The columns a title keeps at least: the columns beside it are left out for it, in
``_NEEDED_WIDTH``'s order, before a title wraps narrower."""
TITLE_LEAST = 10
"""Narrower than this, a title loses the status and then the year beside it too."""


def _fitting(longest: dict[str, int], width: int, gap: int, edges: int) -> dict[str, int]:
    """The columns shown, each with its width: its ``longest`` value, at most its share
    (``_side_width``) beside the title, and the rest for the title, once the columns
    beside it that leave it less than ``TITLE_ROOM`` are left out (``gap`` columns go
    between two columns, ``edges`` to the sides). When even then it has less (a very
    narrow window), the title and the id share what the year and the status leave, the
    title two thirds at least (Rich shared it out so that the title got nothing)."""
    wanted = {name: min(most, _side_width(name, width) or most) for name, most in longest.items()}
    droppable = [name for name in _NEEDED_WIDTH if name in wanted]
    last_resort = [name for name in ("status", "year") if name in wanted]
    while True:
        beside = sum(w for name, w in wanted.items() if name != "title")
        room = width - edges - gap * (len(wanted) - 1) - beside
        if room >= min(longest["title"], TITLE_ROOM):
            return {**wanted, "title": min(room, longest["title"])}
        if not droppable:
            room += wanted["id"]
            title = max(room - longest["id"], min(room * 2 // 3, longest["title"]))
            if title < min(longest["title"], TITLE_LEAST) and last_resort:
                del wanted[last_resort.pop(0)]  # at 20 columns the title got none
                continue
            return {**wanted, "id": max(1, room - title), "title": title}
        del wanted[droppable.pop(0)]


_UNWRAPPED = ("id", "year", "status")  # short values, kept on one line


def _side_width(column: str, width: int) -> int | None:
    """The most a column beside the title may take: organizations and topics a share of
    the width, authors enough for "Dettmers et al." (longer lines wrap), so that the
    title keeps the room to stay readable at 80 columns."""
    if column in ("organizations", "topics"):
        return width // SIDE_COLUMN_SHARE
    return max(AUTHORS_WIDTH, width // SIDE_COLUMN_SHARE) if column == "authors" else None


AUTHORS_WIDTH = 16


def paper_lines(papers: Iterable[Paper], width: int | None = None) -> Iterator[str]:
    """The listing as plain text, made as it is read: for a pipe, every column, one line
    a paper; with ``width`` (a listing too long for Rich, at a terminal), the columns
    ``papers_table`` shows there, wrapped to fit."""
    if width is None:
        return textlayout.plain_table_lines(PAPER_COLUMNS, map(paper_row, papers))
    rows = map(paper_row, papers)
    first = list(islice(rows, textlayout.ALIGNED_ROWS))  # what the columns are fitted to
    every = paper_columns(width)
    longest = {name: len(name) for name in every}
    for row in first:
        for name in every:
            cell = textlayout.printable(row[PAPER_COLUMNS.index(name)])
            longest[name] = max(longest[name], len(cell))
    fitted = _fitting(longest, width, gap=2, edges=0)
    columns = list(fitted)
    keep = [PAPER_COLUMNS.index(name) for name in columns]
    kept = ([row[i] for i in keep] for row in chain(first, rows))
    wrapping = {name: _side_width(name, width) for name in _WRAPPING_PAPER_COLUMNS}
    # The title's share, and the id's where it wraps (a very narrow window): the title
    # gave up its room first, to 8 columns, while a long id kept its whole width.
    wrapping["title"] = fitted["title"]
    if fitted["id"] < longest["id"]:
        wrapping["id"] = fitted["id"]
    return textlayout.plain_table_lines(columns, kept, width, wrapping)


_WRAPPING_PAPER_COLUMNS = ("title", "authors", "organizations", "topics")


def _justify(header: str) -> Literal["left", "right"]:
    return "right" if header in textlayout.NUMBER_HEADERS else "left"


def counts_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: int | None = None,
    wrapping: Collection[str] = (),
    droppable: Sequence[str] = (),
) -> RenderableType:
    """A small listing (counts, the queue, the history) as a Rich table: numbers
    right-aligned, the rest left; the ids (else the names in the first column) in cyan.
    With ``width``, the ``droppable`` columns are left out in turn while the others, each
    at its least (``textlayout.fitted_widths``), do not fit in it; Rich shares the width
    out among the rest (given widths, one long id took a title's room), a number never
    narrower than its longest (at 20 columns `#` was squeezed to nothing)."""
    from rich.table import Table

    cells = [list(map(_text, row)) for row in rows]
    kept = list(range(len(headers)))
    longest = [
        max([len(header)] + [row[i].cell_len for row in cells]) for i, header in enumerate(headers)
    ]
    leaving = [headers.index(name) for name in droppable] if width is not None else []
    while leaving and width is not None:
        # Rich's box: a line between columns with a space each side, one at each edge.
        room = width - 3 * (len(kept) - 1) - 2
        shown = [headers[i] for i in kept]
        if sum(textlayout.fitted_widths(shown, [longest[i] for i in kept], room, wrapping)) <= room:
            break
        kept.remove(leaving.pop(0))
    key = headers.index("id") if "id" in headers else 0
    table = Table(header_style="bold", pad_edge=False)
    for i in kept:
        number = headers[i] in textlayout.NUMBER_HEADERS
        table.add_column(
            headers[i],
            justify=_justify(headers[i]),
            style="cyan" if i == key else None,
            no_wrap=number,
            overflow="fold",
            min_width=longest[i] if number else None,
        )
    for row in cells:
        table.add_row(*(row[i] for i in kept))
    return table


def detail_lines(paper: Paper, prerequisites: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The labelled fields of ``show``, shared by the panel and the plain text form, made
    ``textlayout.printable`` (notes keep their line breaks)."""
    fields = [
        ("title", paper.title),
        ("authors", ", ".join(map(_author_text, paper.authors))),
        ("venue", paper.venue),
        ("venue title", paper.venue_title),
        ("short name", paper.short_name),
        ("aliases", ", ".join(paper.aliases)),
        ("kind", paper.kind if paper.kind != "paper" else ""),
        ("date", paper.date),
        ("organizations", ", ".join(paper.organizations)),
        ("topics", ", ".join(paper.topics)),
        ("status", _status_line(paper)),
        ("queue", f"#{paper.queue_position}" if paper.queue_position else ""),
        ("tags", ", ".join(paper.tags)),
        ("arXiv", _arxiv_line(paper)),
        ("categories", _categories(paper)),
        ("comment", paper.comment or ""),
        ("journal ref", paper.journal_ref or ""),
        ("DOI", paper.doi or ""),
        ("cite as", paper.citation_key or ""),
        ("url", paper.url or ""),
        ("pdf", paper.pdf_url or ""),
        ("why it matters", paper.why),
        ("reading focus", paper.focus),
        ("key technique", paper.technique),
        ("read first", "; ".join(f"{pid} ({title})" for pid, title in prerequisites)),
        ("sources", ", ".join(paper.sources)),
    ]
    fields += [("note", f"{times.shown(note.created_at)}  {note.body}") for note in paper.notes]
    return [
        (label, textlayout.printable(value, multiline=label == "note"))
        for label, value in fields
        if value
    ]


def _author_text(author: Author) -> str:
    text = "et al." if author.means_others else author.name
    if author.affiliations:
        text += f" ({'; '.join(author.affiliations)})"
    return text.replace(" ", textlayout.KEEP_TOGETHER)


def _arxiv_line(paper: Paper) -> str:
    """``2106.09685 v2 (2021-10-16)`` once fetched: the latest version and its date."""
    if not paper.arxiv_id or not paper.arxiv_version:
        return paper.arxiv_id or ""
    return f"{paper.arxiv_id} v{paper.arxiv_version} ({(paper.arxiv_updated or '')[:10]})"


def _categories(paper: Paper) -> str:
    others = [c for c in paper.categories if c != paper.primary_category]
    if not paper.primary_category:
        return ", ".join(others)
    return paper.primary_category + (f" (also {', '.join(others)})" if others else "")


def _status_line(paper: Paper) -> str:
    if paper.read_at and paper.status is ReadStatus.READ:
        line = f"read on {times.day(paper.read_at)}"
        if paper.newer_version:
            line += f" (v{paper.read_version}); arXiv now has v{paper.newer_version}"
        return line
    if paper.status_changed_at:
        return f"{paper.status} since {times.day(paper.status_changed_at)}"
    return str(paper.status)


# Below this many columns `show` puts each label above its value: beside the labels (14
# columns and a gap, in a frame), the values had none left at 20 columns and vanished.
SHOW_SIDE_BY_SIDE = 50


def plain_details(
    paper: Paper, prerequisites: Sequence[tuple[str, str]], columns: int = 100
) -> str:
    """``show`` as text: values wrapped at word boundaries to ``columns`` under their
    value column (below ``SHOW_SIDE_BY_SIDE`` columns, under their labels), then the
    abstract as a block of its own."""
    lines = detail_lines(paper, prerequisites)
    width = max(len(label) for label, _ in lines)
    beside = columns >= SHOW_SIDE_BY_SIDE
    indent = " " * (width + 4) if beside else textlayout.NARROW_INDENT
    room = max(columns - len(indent), 10)
    out = [paper.id]
    for label, value in lines:
        wrapped = [
            piece
            for paragraph in value.split("\n")  # notes keep their own line breaks
            # A word longer than the line (a URL) stays whole, past the edge: cut, it was
            # copied and grepped wrong.
            for piece in textlayout.wrapped(paragraph, room) or [""]
        ]
        text = ("\n" + indent).join(wrapped).replace(textlayout.KEEP_TOGETHER, " ")
        out.append(f"  {label.ljust(width)}  {text}" if beside else f"  {label}\n{indent}{text}")
    if paper.abstract:
        out += [
            "",
            "  abstract",
            *textlayout.wrapped(
                textlayout.printable(" ".join(paper.abstract.split())),
                columns - 2,
                initial_indent="  ",
                subsequent_indent="  ",
                break_long_words=True,
            ),
        ]
    return "\n".join(out)


def paper_panel(
    paper: Paper, prerequisites: Sequence[tuple[str, str]], width: int
) -> RenderableType:
    from rich.console import Group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    # detail_lines made the values textlayout.printable.
    beside = width >= SHOW_SIDE_BY_SIDE
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=beside)
    if beside:
        grid.add_column(overflow="fold")
    for label, value in detail_lines(paper, prerequisites):
        # Rich wraps at any space; a word longer than the line is folded, never cut.
        text = Text(value.replace(textlayout.KEEP_TOGETHER, " "), overflow="fold")
        if beside:
            grid.add_row(Text(label, style="bold"), text)
        else:
            grid.add_row(Text(label, style="bold"))
            grid.add_row(Padding(text, (0, 0, 0, 2)))
    body: RenderableType = grid
    if paper.abstract:
        abstract = _text(" ".join(paper.abstract.split()))
        body = Group(grid, Text(""), Text("abstract", style="bold"), abstract)
    return Panel(body, title=_text(paper.id, "cyan"), title_align="left", expand=False)


def bar(part: int, whole: int, width: int = 20, fill: str = "#") -> str:
    """An inline bar: ``part`` of ``whole`` as a run of ``fill`` characters."""
    cells = round(width * part / whole) if whole else 0
    return fill * cells + " " * (width - cells)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


def stats_rows(groups: Sequence[StatusCounts], fill: str = "#", width: int = 20) -> list[list[str]]:
    return [
        [
            g.name,
            str(g.read),
            str(g.reading),
            str(g.unread),
            str(g.skipped),
            str(g.total),
            percent(g.read, g.total),
            bar(g.read, g.total, width, fill),
        ]
        for g in groups
    ]


STATS_HEADERS = ["", "read", "reading", "unread", "skipped", "total", "read %", "progress"]


def _month_rows(per_month: Sequence[tuple[str, int]], fill: str, width: int) -> list[list[str]]:
    """The months' rows, their bars as long as ``width`` leaves beside ``2026-12  read``
    (at most 20 columns): at 30 columns a full bar ran past the line."""
    most = max((count for _, count in per_month), default=0)
    room = min(20, max(1, width - _MONTH_WIDTH))
    return [[month, str(count), bar(count, most, room, fill)] for month, count in per_month]


_MONTH_WIDTH = len("2026-12  read  ")  # what a month's line takes besides its bar


# The room a stats line takes besides its name and its bar: the six numbers' columns
# (as wide as their headers) and two spaces between each two of the eight columns.
_STATS_NUMBERS_WIDTH = sum(map(len, STATS_HEADERS[1:-1])) + 2 * (len(STATS_HEADERS) - 1)


def _bar_width(sections: Sequence[tuple[str, Sequence[StatusCounts]]], width: int) -> int:
    """How wide the progress bars are: what the longest name leaves of ``width``, from 8
    to 20 columns (a name longer than that wraps)."""
    longest = max((len(g.name) for _, groups in sections for g in groups), default=0)
    return min(20, max(8, width - _STATS_NUMBERS_WIDTH - longest))


# The columns a narrow window leaves out, first to last, so that the names keep room:
# at 50 columns every header was cut to "re…" and the names to nothing; at 30, with the
# four first left out, "total" was cut to "t" (unread is total less read).
_STATS_LEFT_OUT = ("progress", "skipped", "reading", "read %", "unread")
_STATS_NAME_WIDTH = 12  # the least a name column takes before its names wrap


def _stats_kept(
    rows: Sequence[Sequence[str]], width: int, names: Sequence[str]
) -> tuple[list[int], int]:
    """Which of STATS_HEADERS' columns fit ``width`` (two columns between each two) beside
    a name column as wide as its headers ``names`` (at least _STATS_NAME_WIDTH), leaving out
    _STATS_LEFT_OUT in order; and the least the name column may take, narrower where even
    then they do not fit (at 24 columns Rich cut "total" to "tot", its numbers gone)."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(STATS_HEADERS)]
    name_width = max([_STATS_NAME_WIDTH, *map(len, names)])
    kept = list(range(len(STATS_HEADERS)))
    for header in _STATS_LEFT_OUT:
        if name_width + sum(widths[i] + 2 for i in kept[1:]) <= width:
            break
        kept.remove(STATS_HEADERS.index(header))
    room = width - sum(widths[i] + 2 for i in kept[1:])
    return kept, max(textlayout.NARROWEST_COLUMN, min(_STATS_NAME_WIDTH, room))


def _stats_sections(stats: Stats) -> list[tuple[str, Sequence[StatusCounts]]]:
    return [
        ("overall", [stats.overall]),
        ("by year", stats.by_year),
        ("by organization", stats.by_organization),
        ("by topic", stats.by_topic),
    ]


def plain_stats(stats: Stats, width: int = 80) -> str:
    """``stats`` as text that fits ``width`` columns (long names wrap in their column)."""
    sections = _stats_sections(stats)
    bar_width = _bar_width(sections, width)
    rows = {title: stats_rows(groups, width=bar_width) for title, groups in sections}
    kept, _ = _stats_kept([row for found in rows.values() for row in found], width, list(rows))
    parts = [
        "\n".join(
            [
                title,
                *textlayout.plain_table_lines(
                    [([title, *STATS_HEADERS[1:]])[i] for i in kept],
                    [[row[i] for i in kept] for row in rows[title]],
                    width,
                    wrapping=[title],
                ),
            ]
        )
        for title, _ in sections
    ]
    if stats.read_per_month:
        parts.append(
            "read per month\n"
            + textlayout.plain_table(
                ["month", "read", ""], _month_rows(stats.read_per_month, "#", width)
            )
        )
    return "\n\n".join(parts)


def stats_tables(stats: Stats, width: int = 80) -> RenderableType:
    """``stats`` as Rich tables that fit ``width`` columns (long names wrap)."""
    from rich import box
    from rich.console import Group
    from rich.table import Table

    def table(title: str, headers: Sequence[str], rows: list[list[str]]) -> Table:
        t = Table(
            title=title,
            title_justify="left",
            header_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            collapse_padding=True,  # two spaces between columns, as in plain text
        )
        for i, header in enumerate(headers):
            bars = header in ("progress", "")  # the month table's bars have no header
            t.add_column(
                header,
                justify="left" if i == 0 or bars else "right",
                style="green" if bars else None,
                no_wrap=i > 0,
                overflow="fold",  # a name longer than its column goes on, not cut short
                min_width=name_width if i == 0 else None,
            )
        for row in rows:
            t.add_row(*map(_text, row))
        return t

    sections = _stats_sections(stats)
    bar_width = _bar_width(sections, width - 2)  # the table's edges take a column each
    rows = {title: stats_rows(groups, fill="█", width=bar_width) for title, groups in sections}
    names = [title.split()[-1] for title in rows]
    every_row = [row for found in rows.values() for row in found]
    kept, name_width = _stats_kept(every_row, width - 2, names)
    tables = [
        table(
            title.capitalize(),
            [([title.split()[-1], *STATS_HEADERS[1:]])[i] for i in kept],
            [[row[i] for i in kept] for row in rows[title]],
        )
        for title, _ in sections
    ]
    if stats.read_per_month:
        tables.append(
            table(
                "Read per month",
                ["month", "read", ""],
                _month_rows(stats.read_per_month, "█", width - 2),
            )
        )
    return Group(*tables)


SEARCH_COLUMNS = ("id", "title", "year", "status", "match")
HIT_STYLE = "bold yellow"


def plain_snippet(parts: Sequence[tuple[str, bool]]) -> str:
    """A search snippet as plain text, with the matched words in [brackets]."""
    return "".join(f"[{text}]" if hit else text for text, hit in parts)


def search_row(paper: Paper, snippet: Sequence[tuple[str, bool]]) -> list[str]:
    return [paper.id, paper.title, str(paper.year), status_text(paper), plain_snippet(snippet)]


def search_table(hits: Sequence[tuple[Paper, Sequence[tuple[str, bool]]]]) -> RenderableType:
    """Search results with the matched words of each snippet highlighted."""
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", pad_edge=False)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("title", overflow="fold", ratio=2)
    table.add_column("year", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("match", overflow="fold", ratio=3)
    for paper, snippet in hits:
        table.add_row(
            _text(paper.id),
            _text(paper.title),
            _text(str(paper.year)),
            _text(status_text(paper), STATUS_STYLE[paper.status]),
            Text.assemble(
                *((textlayout.printable(text), HIT_STYLE if hit else "") for text, hit in snippet)
            ),
        )
    return table
