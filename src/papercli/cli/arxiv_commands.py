"""Talking to arXiv: fetch, add, open.

papercli.arxiv (over papercli.transport, the one home of httpx) and papercli.fetching
are imported inside the commands, so every other command starts without loading an HTTP
client or a feed parser.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from papercli import paths, refs
from papercli.cli.common import (
    ShowFormat,
    connect,
    echo,
    echo_json_arrays,
    fail,
    open_in_browser,
    read_refs,
)
from papercli.cli.options import Ref, complete_ref, complete_topic
from papercli.cli.terminal import progress_bar
from papercli.errors import EXIT_NETWORK, EXIT_USER, InvalidValueError, NotFoundError
from papercli.store import papers
from papercli.textlayout import clipped, counted

if TYPE_CHECKING:
    from papercli.arxiv import ArxivClient
    from papercli.fetching import (
        Added,
        AddSummary,
        AuthorMismatch,
        FetchFailure,
        FetchSummary,
        PaperAsked,
        TitleMismatch,
    )
    from papercli.models import Paper

# A person is waiting: two retries (after 3 s, then 6 s) rather than the client's three.
RETRIES = 2


def new_client(
    *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> ArxivClient:
    """The arXiv client for one command (tests pass a fake clock so nothing waits), paced
    with every other papercli command asking arXiv at the same time."""
    from papercli.arxiv import ArxivClient

    pace_file = paths.pace_file("arxiv")
    return ArxivClient(max_retries=RETRIES, clock=clock, sleep=sleep, pace_file=pace_file)


def fetch_command(
    ctx: typer.Context,
    paper_refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[REF...]",
            autocompletion=complete_ref,
            help="Papers to refresh (default: all with an arXiv id); - reads them from stdin.",
        ),
    ] = None,
    all_papers: Annotated[
        bool, typer.Option("--all", help="Every paper with an arXiv id (the default).")
    ] = False,
    missing: Annotated[
        bool, typer.Option("--missing", help="Only papers never fetched before.")
    ] = False,
    output: Annotated[
        ShowFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ShowFormat.text,
) -> None:
    """Fetch authors, abstract, categories and versions from arXiv.

    Asks arXiv about up to 100 papers per request, 3 s apart as its terms ask, and
    saves each answer as it arrives. A paper whose title on arXiv is not the
    catalogue's is left alone and reported. When arXiv cannot be reached it is
    retried twice (after 3 s, then 6 s) before giving up. PAPERCLI_ARXIV_URL sets
    the API address (default https://export.arxiv.org/api/query). Exit status: 0
    when every paper was fetched, 1 when some were not found, failed or did not
    match, 3 when arXiv could not be reached, sent something other than a feed, or
    answered nothing for several.

    \b
    Examples:
      papercli fetch
      papercli fetch --missing
      papercli fetch lora gpt-3
      papercli fetch --format json
    """
    from papercli import fetching

    if sum([bool(paper_refs), all_papers, missing]) > 1:
        raise typer.BadParameter("give papers, --all or --missing, not several of them")
    conn = connect(ctx)
    given = read_refs(paper_refs) if paper_refs else None
    with fetching.papers_to_fetch(conn, given, missing=missing) as ids:
        if not len(ids):
            echo("nothing to fetch: every paper with an arXiv id was fetched already", err=True)
            return
        with new_client() as client, progress_bar("asking arXiv", len(ids)) as advance:
            summary = fetching.fetch_metadata(conn, ids, client, on_batch=advance)
    with summary:
        if output is ShowFormat.json:
            echo_json_arrays(_fetch_json(summary))
        else:
            echo(_counts(summary))
            for line in _problem_lines(summary):
                echo(line, err=True)
        for warning in _author_warnings(summary):
            echo(warning, err=True)
        if summary.stopped is not None:
            raise summary.stopped
        if unanswered := summary.count("unanswered"):
            # The first five, as `add` names them: a busy arXiv gave a line of 72 names.
            shown = ", ".join(map(_named, islice(summary.papers("unanswered"), 5)))
            more = f" and {unanswered - 5:,} more" if unanswered > 5 else ""
            fail(
                f"{_nothing_for(unanswered)}; run the command again later: {shown}{more}",
                EXIT_NETWORK,
            )
        if not summary.ok:
            raise typer.Exit(EXIT_USER)


def _named(paper: PaperAsked | FetchFailure | TitleMismatch) -> str:
    return f"{paper.paper_id} (arXiv:{paper.arxiv_id})" if paper.arxiv_id else paper.paper_id


def _counts(summary: FetchSummary) -> str:
    """The result, on stdout."""
    count = summary.count
    return (
        f"updated {count('updated')}, unchanged {count('unchanged')},"
        f" not found {count('not_found')}, failed {count('failed')},"
        f" title mismatch {count('title_mismatch')}"
    )


def _problem_lines(summary: FetchSummary) -> Iterator[str]:
    """What did not go well, paper by paper, for stderr (as ``add`` reports it); the
    papers arXiv answered nothing for are the command's error, said last."""
    yield from (f"not found on arXiv: {_named(p)}" for p in summary.papers("not_found"))
    yield from (f"failed: {_named(f)}: {f.reason}" for f in summary.failed())
    yield from (
        f"title mismatch, not stored: {_named(m)} is {m.title!r} here"
        f" but {m.arxiv_title!r} on arXiv"
        for m in summary.mismatched()
    )
    yield from _skipped_lines(summary.skipped())


def _nothing_for(count: int) -> str:
    return f"arXiv returned nothing for {counted(count, 'id')} (it does that when busy)"


def _skipped_lines(skipped: Iterable[tuple[str, str]]) -> Iterator[str]:
    """For each unusable entry arXiv sent, given as (label, reason)."""
    return (f"skipped an entry arXiv sent: {label} ({reason})" for label, reason in skipped)


def _author_warnings(summary: FetchSummary) -> Iterator[str]:
    """Curated author lists that arXiv disagrees with: kept, but worth a correction."""
    return (
        f"warning: authors differ, the catalogue's kept: {m.paper_id} has {len(m.authors)}"
        f" here ({_first_names(m.authors)}), {len(m.arxiv_authors)} on arXiv"
        f" ({_first_names(m.arxiv_authors)})"
        for m in summary.authors_differ()
    )


def _first_names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


def _fetch_json(summary: FetchSummary) -> list[tuple[str, Iterable[object]]]:
    """The report's arrays in order, each read as it is printed."""

    def paper(p: PaperAsked | FetchFailure | TitleMismatch | AuthorMismatch) -> dict[str, object]:
        return {"id": p.paper_id, "arxiv_id": p.arxiv_id}

    return [
        ("updated", map(paper, summary.papers("updated"))),
        ("unchanged", map(paper, summary.papers("unchanged"))),
        ("not_found", map(paper, summary.papers("not_found"))),
        ("failed", ({**paper(f), "reason": f.reason} for f in summary.failed())),
        (
            "title_mismatch",
            (
                {**paper(m), "title": m.title, "arxiv_title": m.arxiv_title}
                for m in summary.mismatched()
            ),
        ),
        (
            "authors_differ",
            (
                {**paper(m), "authors": m.authors, "arxiv_authors": m.arxiv_authors}
                for m in summary.authors_differ()
            ),
        ),
        ("unanswered", map(paper, summary.papers("unanswered"))),
        ("skipped", ({"entry": label, "reason": reason} for label, reason in summary.skipped())),
    ]


def add_command(
    ctx: typer.Context,
    arxiv_refs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ID_OR_URL]...",
            help="arXiv ids (2106.09685, arXiv:2106.09685v2, hep-th/9901001) or arxiv.org"
            " URLs; - reads them from stdin, one a line.",
        ),
    ] = None,
    slug: Annotated[
        str | None,
        typer.Option(
            "--id", metavar="SLUG", help="The id to give the paper (only with a single id)."
        ),
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option(
            "--topic",
            metavar="NAME",
            autocompletion=complete_topic,
            help="File the papers under a topic; repeatable.",
        ),
    ] = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="Also put the added papers in the reading queue.")
    ] = False,
    title: Annotated[
        str | None,
        typer.Option("--title", metavar="TITLE", help="A paper not on arXiv: its title."),
    ] = None,
    author: Annotated[
        list[str] | None,
        typer.Option(
            "--author",
            "-a",
            metavar="NAME",
            help="With --title: an author; repeat in order. An organization in braces: {OpenAI}.",
        ),
    ] = None,
    year: Annotated[
        str | None,
        typer.Option(
            "--year", metavar="DATE", help="With --title: its year (or YYYY-MM, YYYY-MM-DD)."
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", metavar="URL", help="With --title: its address.")
    ] = None,
    venue: Annotated[
        str | None,
        typer.Option(
            "--venue", metavar="VENUE", help="With --title: where it appeared, e.g. 'NeurIPS 2023'."
        ),
    ] = None,
    doi: Annotated[
        str | None, typer.Option("--doi", metavar="DOI", help="With --title: its DOI.")
    ] = None,
    with_refs: Annotated[
        int,
        typer.Option(
            "--with-refs",
            metavar="N",
            min=0,
            max=50,
            help="Also add each paper's N most influential references (Semantic Scholar).",
        ),
    ] = 0,
) -> None:
    """Add papers from arXiv to your list, with their metadata. Or add one that is not on
    arXiv, from its title, authors and year.

    New ids are looked up 100 to a request, each batch printed as it is saved; papers
    already in the catalogue or your list are named instead of added twice. Each paper
    gets an id made from its title (e.g. heat-bath-random-walks) unless --id gives one.
    If arXiv fails partway, what was added stays and the same command again adds the
    rest. Exit status 1 when arXiv did not know an id, 3 when it could not be reached,
    sent something other than a feed, or answered nothing.

    \b
    Examples:
      papercli add 2312.00752
      papercli add 2312.00752 --id mamba --topic architecture --queue
      papercli add 2404.14219 arXiv:2402.17764v1
      papercli refs lora --format ids | papercli add -
      papercli add 2312.00752 --with-refs 3
      papercli add --title "Deep Learning" --author "Yann LeCun" --year 2015
    """
    from papercli import fetching

    conn = connect(ctx)
    if title is not None:
        if arxiv_refs:
            fail("give arXiv ids, or --title for a paper not on arXiv, not both", 2)
        if not year:
            fail("--title needs --year (and at least one --author)", 2)
        given = fetching.PaperByHand(title, author or [], year, url, venue or "", doi)
        paper, there = fetching.add_by_hand(conn, given, slug=slug, topics=topic or [], queue=queue)
        if there is not None:  # its DOI, or its title and year: reported, as an arXiv id is
            echo(f"{paper.title} ({paper.year}) is already in your list as {there}", err=True)
            return
        echo(f"added {paper.id}: {paper.title} ({paper.year}); cite as {paper.citation_key}")
        if queue:
            echo(f"queued {paper.id}")
        return
    if any((author, year, url, venue, doi)):
        fail("--author, --year, --url, --venue and --doi go with --title", 2)
    if not arxiv_refs:
        fail("give arXiv ids or URLs to add, or --title for a paper not on arXiv", 2)
    refs: Iterable[str] = read_refs(arxiv_refs)  # all checked before arXiv is asked
    if with_refs:
        from papercli import graph
        from papercli.cli.citations import s2_client

        named = list(refs)
        extra = graph.references_to_add(conn, named, with_refs, s2_client)
        if extra:
            echo(f"with their most influential references: {', '.join(extra)}", err=True)
        refs = [*named, *extra]
    with new_client() as client:
        try:
            summary = fetching.add_papers(
                conn,
                refs,
                client,
                slug=slug,
                topics=topic or [],
                queue=queue,
                on_added=print_added(),
                on_existing=print_existing,
            )
        except fetching.AddStopped as stopped:
            report_not_added(stopped.summary)  # the stop itself is the command's error
            raise
    report_not_added(summary, final=True)
    if summary.unanswered:
        raise typer.Exit(EXIT_NETWORK)
    if not summary.ok:
        raise typer.Exit(EXIT_USER)


def print_added(*, aside: bool = False) -> Added:
    """Prints each batch an add saved, as it is saved: the papers added and those queued,
    on stdout (on stderr when ``aside``, where the add is not the command's output)."""

    def added(papers: list[Paper], queued: list[str]) -> None:
        for paper in papers:
            echo(f"added {paper.id}: {paper.title} ({paper.year})", err=aside)
        if queued:
            echo(f"queued {', '.join(queued)}", err=aside)

    return added


def print_existing(arxiv_id: str, paper_id: str) -> None:
    echo(f"{arxiv_id} is already in your list as {paper_id}", err=True)


def report_not_added(summary: AddSummary, *, final: bool = False) -> None:
    """What arXiv did not give an add (``print_added`` and ``print_existing`` say the
    rest), on stderr. Ids arXiv answered nothing for come last: when ``final``, that line
    is the command's error (exit 3), and says so as fetch's does."""
    for arxiv_id in summary.not_found:
        echo(f"arXiv does not know {arxiv_id}; nothing added for it", err=True)
    for arxiv_id, reason in summary.failed.items():
        echo(f"arXiv refused {arxiv_id}: {reason}; nothing added for it", err=True)
    for line in _skipped_lines((e.label, e.reason) for e in summary.skipped):
        echo(line, err=True)
    if summary.unanswered:
        echo(
            f"{'error: ' if final else ''}{_nothing_for(len(summary.unanswered))}:"
            f" {', '.join(summary.unanswered)}; nothing added for them,"
            " run the command again later",
            err=True,
        )


def open_command(
    ctx: typer.Context,
    ref: Ref,
    pdf: Annotated[bool, typer.Option("--pdf", help="Open the PDF instead.")] = False,
) -> None:
    """Open a paper's abstract page (or PDF) in the browser. Its address is printed too.

    \b
    Examples:
      papercli open lora
      papercli open "attention is all you need" --pdf
    """
    conn = connect(ctx)
    paper = papers.get_paper(conn, refs.resolve(conn, ref))
    url = paper.pdf_address if pdf else paper.url
    if url is None:
        what = "PDF" if pdf else "web page"
        other = f"; its page is: papercli open {paper.id}" if pdf and paper.url else ""
        raise NotFoundError(f"papercli knows no {what} for {paper.id}{other}")
    url = _web_address(url)
    open_in_browser(url)


def _web_address(url: str) -> str:
    """The URL, if it is an http(s) address: anything else handed to the system's opener
    could run a program or open a local file."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host
        usable = False
    if not usable or not url.isprintable() or any(char.isspace() for char in url):
        raise InvalidValueError(
            f"not opening {clipped(url)!r}: papercli opens only http and https addresses"
        )
    return parts.scheme + url[len(parts.scheme) :]  # urlsplit lowercases the scheme
