"""Citations and reading paths: refs, cited-by, related, prereq and path.

The Semantic Scholar client (httpx) is made only when an answer is needed that was never
stored, so these commands run offline, at everyday speed, on what was fetched before.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from papercli import graph, paths, textlayout
from papercli.cli import terminal
from papercli.cli.common import (
    CountFormat,
    ListFormat,
    connect,
    echo,
    echo_csv_records,
    echo_json,
    echo_json_array,
    emit_listing,
    emit_rows,
    is_edit,
    state,
)
from papercli.cli.options import Limit, complete_ref, complete_ref_edit
from papercli.errors import EXIT_NETWORK, EXIT_USER
from papercli.store import library
from papercli.store.graph import LinkedPaper

if TYPE_CHECKING:
    import sqlite3

    from papercli.s2 import S2Client

ATTRIBUTION = "Citation data from Semantic Scholar (https://www.semanticscholar.org)"
_MARKS = {"read": "x", "reading": "/", "skipped": "-", "unread": " "}

AnyRef = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        autocompletion=complete_ref,
        help="A paper in your list, or any arXiv id or URL.",
    ),
]
NeighbourFormat = Annotated[
    ListFormat, typer.Option("--format", "-f", help="table, json, csv or ids (arXiv ids).")
]
Refresh = Annotated[
    bool, typer.Option("--refresh", help="Ask Semantic Scholar again, even if stored.")
]


def new_s2_client(
    *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> "S2Client":
    """The Semantic Scholar client for one command (tests pass a fake clock), paced with
    every other papercli command asking it at the same time."""
    from papercli.s2 import S2Client

    return S2Client(clock=clock, sleep=sleep, pace_file=paths.pace_file("s2"))


@contextmanager
def s2_client() -> Iterator["S2Client"]:
    """graph.Connect for the commands: made only when an answer is needed."""
    with new_s2_client() as client:
        yield client


def _record(paper: LinkedPaper) -> dict[str, object]:
    """One reference or citation in JSON and CSV: the keys the README documents."""
    return {
        "id": paper.paper_id,
        "in_list": paper.paper_id is not None,
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi,
        "title": paper.title,
        "year": paper.year,
        "status": paper.status,
        "influential": paper.influential,
        "intents": paper.intents,
        "citation_count": paper.citation_count,
        "s2_id": paper.s2_id,
    }


def _emit(found: graph.Neighbours, shown: list[LinkedPaper], output: ListFormat, what: str) -> None:
    if output is ListFormat.json:
        echo_json([_record(p) for p in shown])
    elif output is ListFormat.csv:
        echo_csv_records(_record(p) for p in shown)
    elif output is ListFormat.ids:
        ids = [p.arxiv_id for p in shown if p.arxiv_id]
        if ids:
            echo("\n".join(ids))
    else:
        rows = [
            [
                "" if p.paper_id is None else f"[{_MARKS.get(p.status or '', ' ')}] {p.paper_id}",
                p.title,
                "" if p.year is None else str(p.year),
                _how(p, what),
            ]
            for p in shown
        ]
        emit_rows(
            CountFormat.table,
            ["in your list", "title", "year", "cited by" if what == "citations" else "how"],
            rows,
            empty=f"Semantic Scholar lists no {what} for this paper"
            if not found.papers
            else f"none of its {what} is in your list",
        )
        in_list = sum(p.paper_id is not None for p in found.papers)
        kept = graph.CITATIONS_MAX if what == "citations" else graph.REFERENCES_MAX
        more = f" (more exist; papercli keeps the first {kept:,})" if found.truncated else ""
        echo(
            f"{len(found.papers):,} {what}{more}, {in_list} in your list; fetched"
            f" {found.fetched_at[:10]}\n{ATTRIBUTION}",  # its own line: not cut by a wrap
            err=True,
        )


def _how(paper: LinkedPaper, what: str) -> str:
    if what == "citations":
        return "" if paper.citation_count is None else f"{paper.citation_count:,}"
    parts = (["influential"] if paper.influential else []) + paper.intents
    return ", ".join(parts)


def refs_command(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(
            metavar="[REF]",
            autocompletion=complete_ref,
            help="A paper in your list, or any arXiv id or URL.",
        ),
    ] = None,
    in_list: Annotated[
        bool, typer.Option("--in-list", help="Only the references in your list.")
    ] = False,
    every: Annotated[
        bool,
        typer.Option("--all", help="Fetch the references of every paper in your list (paced)."),
    ] = False,
    limit: Limit = 0,
    refresh: Refresh = False,
    output: NeighbourFormat = ListFormat.table,
) -> None:
    """Show the papers a paper cites, most influential first. Those in your list are marked.

    Asks Semantic Scholar the first time (1 request a second; PAPERCLI_S2_API_KEY sends
    your API key, PAPERCLI_S2_URL sets the address) and keeps the answer, so it works
    offline afterwards. "how" shows Semantic Scholar's influence flag and how the
    reference is used (methodology, background, result). --all fetches the references
    of every paper in your list that has an arXiv id or DOI, which `related` and the
    suggested prerequisites use. Exit status 3 when Semantic Scholar was needed and
    could not be reached or sent an answer that is not JSON.

    \b
    Examples:
      papercli refs lora
      papercli refs 2312.00752 --in-list
      papercli refs lora --format ids | papercli add -
      papercli refs --all
    """
    if every == (ref is not None):
        raise typer.BadParameter("give a paper, or --all")
    conn = connect(ctx)
    if every:
        with terminal.progress_bar("asking Semantic Scholar", 0) as advance:
            done = graph.fetch_list(conn, s2_client, refresh=refresh, on_paper=advance)
        echo(f"fetched the references of {textlayout.counted(done.fetched, 'paper')}")
        if done.unknown:
            unknown = library.names_list(done.first_unknown, done.unknown)
            echo(f"Semantic Scholar does not know {unknown}", err=True)
        echo(ATTRIBUTION, err=True)
        return
    assert ref is not None
    _show_neighbours(
        ctx, ref, "references", in_list=in_list, limit=limit, refresh=refresh, output=output
    )


def cited_by_command(
    ctx: typer.Context,
    ref: AnyRef,
    in_list: Annotated[
        bool, typer.Option("--in-list", help="Only the citing papers in your list.")
    ] = False,
    limit: Limit = 20,
    refresh: Refresh = False,
    output: NeighbourFormat = ListFormat.table,
) -> None:
    """Show the papers citing a paper, most cited first. Those in your list are marked.

    Reads up to 1,000 citations from Semantic Scholar the first time (a famous paper
    has many more: the count says so) and keeps them.

    \b
    Examples:
      papercli cited-by lora
      papercli cited-by lora --in-list --format json
    """
    _show_neighbours(
        ctx, ref, "citations", in_list=in_list, limit=limit, refresh=refresh, output=output
    )


def _show_neighbours(
    ctx: typer.Context,
    ref: str,
    direction: str,
    *,
    in_list: bool,
    limit: int | None,
    refresh: bool,
    output: ListFormat,
) -> None:
    """refs and cited-by: a paper's references or citations, as asked."""
    state(ctx).page()
    conn = connect(ctx)
    found = graph.neighbours(conn, graph.subject(conn, ref), direction, s2_client, refresh=refresh)
    shown = [p for p in found.papers if p.paper_id is not None or not in_list]
    _emit(found, shown[:limit] if limit else shown, output, direction)


def related_command(
    ctx: typer.Context,
    ref: AnyRef,
    limit: Limit = 10,
    refresh: Refresh = False,
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """Show the papers in your list most related to a paper. They are related through
    citations; each comes with the reason.

    Related means: it cites the paper or is cited by it, shares references with it, or
    is cited together with it by the papers papercli knows. The more papers whose
    references were fetched (`papercli refs --all`), the better this gets.

    \b
    Examples:
      papercli related lora
      papercli related 2312.00752 -n 5 --format json
    """
    conn = connect(ctx)
    target = graph.subject(conn, ref)
    found = graph.related(conn, target, s2_client, refresh=refresh, limit=limit or None)
    emit_listing(
        output,
        ["id", "score", "why"],
        found,
        lambda r: [r.paper_id, str(r.score), r.reason],
        lambda r: {"id": r.paper_id, "score": r.score, "reason": r.reason},
        empty=f"no paper in your list is linked to {target.label} by the citations stored"
        " (papercli refs --all fetches more)",
        wrapping=("why",),
    )


def prereq_command(
    ctx: typer.Context,
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="REF [+OTHER|-OTHER]...",
            autocompletion=complete_ref_edit,
            help="A paper, then papers to add (+) or remove (-) as what to read first.",
        ),
    ],
    accept: Annotated[
        bool, typer.Option("--accept", help="Keep the suggested prerequisites as yours.")
    ] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Drop the suggested prerequisites for good.")
    ] = False,
) -> None:
    """Show or change what to read before a paper.

    A paper's prerequisites are the catalogue's links, the ones you add, and, for a
    paper without catalogue links, up to 5 suggested from its references (the ones in
    your list, most influential first). Each change is one step of `undo`.

    \b
    Examples:
      papercli prereq qlora
      papercli prereq qlora +transformer -llm-int8
      papercli prereq transformer --accept
    """
    from papercli import refs

    if accept and reject:
        raise typer.BadParameter("--accept or --reject, not both")
    edits = [a for a in args[1:] if is_edit(a)]
    if len(edits) != len(args) - 1:
        raise typer.BadParameter("after the paper, give +OTHER or -OTHER")
    conn = connect(ctx)
    paper_id = refs.resolve(conn, args[0])
    last: dict[str, bool] = {}  # a paper named twice: as typed last (-x +x: on), as tag does
    for edit in edits:
        prereq = refs.resolve(conn, edit[1:])
        last.pop(prereq, None)
        last[prereq] = edit[0] == "+"
    add = [prereq for prereq, on in last.items() if on]
    remove = [prereq for prereq, on in last.items() if not on]
    change = graph.change_prereqs(conn, paper_id, add, remove, accept=accept, reject=reject)
    for prereq in change.added:
        echo(f"{prereq} is now read before {paper_id}")
    for prereq in change.already:
        echo(f"{prereq} is already read before {paper_id}")
    for prereq in change.removed:
        echo(f"{prereq} is no longer read before {paper_id}")
    for prereq in change.not_there:
        echo(f"{prereq} was not read before {paper_id}")
    for prereq in change.accepted:
        echo(f"accepted {prereq}")
    for prereq in change.rejected:
        echo(f"rejected {prereq}")
    if (accept or reject) and not (change.accepted or change.rejected):
        said = "accept" if accept else "reject"  # it listed the links as if it had done so
        echo(f"no suggested prerequisite of {paper_id} to {said}", err=True)
    from papercli.store import graph as stored
    from papercli.store import lookups

    links = stored.prerequisites_of(conn, [paper_id])[paper_id]
    titles = {
        pid: title for pid, title, _ in lookups.describe_ids(conn, [p.prereq_id for p in links])
    }
    if not links:
        echo(f"{paper_id}: nothing to read first")
        return
    echo(f"{paper_id}: read first")
    width = max(len(p.prereq_id) for p in links)
    for link in links:
        kind = "" if link.kind == "curated" else f"  ({link.kind})"
        prefix = f"  {link.prereq_id:<{width}}  "
        line = f"{titles.get(link.prereq_id, '')}{kind}"
        echo(textlayout.wrap_block(line, terminal.width(), prefix))  # as `path` lists its steps


_STEP_MARKS = {"read": "x", "reading": "/", "skipped": "-", "unread": " "}


def path_command(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF",
            autocompletion=complete_ref,
            help="The paper you want to get to: in your list, or any arXiv id or URL.",
        ),
    ],
    add: Annotated[
        bool, typer.Option("--add", help="Add the papers on the path that are not in your list.")
    ] = False,
    refresh: Refresh = False,
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """Show the reading order that leads to a paper. Its prerequisites come oldest first.

    Every prerequisite is listed, transitively, foundations first; [x] marks what you
    have read, [+] what is not in your list yet. For a paper without catalogue links,
    and for any arXiv paper not in your list, the path comes from its references on
    Semantic Scholar (looked up once, then stored). --add adds the new papers in one
    arXiv request; `papercli queue add REF --with-prereqs` then queues the unread ones.

    \b
    Examples:
      papercli path qlora
      papercli path 2312.00752
      papercli path https://arxiv.org/abs/2312.00752 --add
      papercli queue add qlora --with-prereqs
    """
    conn = connect(ctx)
    target = graph.subject(conn, ref)
    path = graph.reading_path(conn, target, s2_client, refresh=refresh)
    exit_code = 0
    if add and path.new:
        from papercli.cli.arxiv_commands import (
            new_client,
            print_added,
            print_existing,
            report_not_added,
        )
        from papercli.fetching import add_papers

        to_add = [s.arxiv_id for s in path.new if s.arxiv_id]
        with new_client() as client:
            # The path itself is this command's output: what was added goes to stderr.
            summary = add_papers(
                conn,
                to_add,
                client,
                on_added=print_added(aside=True),
                on_existing=print_existing,
            )
        report_not_added(summary, final=True)
        # The path is printed all the same; the exit code says the add fell short, as
        # `add`'s does (it was 0 when arXiv answered nothing).
        exit_code = EXIT_NETWORK if summary.unanswered else 0 if summary.ok else EXIT_USER
        path.close()
        path = graph.reading_path(conn, graph.subject(conn, ref), s2_client)
    with path:
        _print_path(conn, target, path, output)
    if exit_code:
        raise typer.Exit(exit_code)


def _print_path(
    conn: "sqlite3.Connection", target: graph.Subject, path: graph.ReadingPath, output: CountFormat
) -> None:
    records: Iterator[dict[str, object]] = (
        {
            "step": i,
            "id": s.paper_id,
            "in_list": s.paper_id is not None,
            "arxiv_id": s.arxiv_id,
            "title": s.title,
            "year": s.year,
            "status": s.status,
            "kind": s.kind,
        }
        for i, s in enumerate(graph.steps(conn, path), 1)
    )
    if output is CountFormat.json:
        echo_json_array(records)
        return
    if output is CountFormat.csv:
        echo_csv_records(records)
        return
    total = len(path)
    new = len(path.new)  # the goal too, when it is not in your list
    count = textlayout.counted(total, "paper")
    extra = f", {new} not in your list ([+])" if new else ""
    heading = f"Reading path to {target.label}: {count}, {path.read} read{extra}"
    echo(textlayout.wrap_block(heading + " ([/] reading, [-] skipped)", terminal.width()))
    width = max(len(key) for keys, _ in path.chunks() for key in keys)  # a step's key: its name
    note = {"goal": "  <-\u00a0goal", "suggested": "  (suggested)", "yours": "  (yours)"}
    for step, item in enumerate(graph.steps(conn, path), 1):
        key = item.paper_id or f"arXiv:{item.arxiv_id}"
        mark = "+" if item.status is None else _STEP_MARKS.get(item.status, " ")
        year = "" if item.year is None else f" ({item.year})"
        prefix = f"{step:3}. [{mark}] {key:<{width}}  "
        line = f"{item.title}{year}{note.get(item.kind, '')}"
        echo(textlayout.wrap_block(line, terminal.width(), prefix))
    if path.note:
        echo(path.note, err=True)
