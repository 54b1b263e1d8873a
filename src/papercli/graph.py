"""The citation graph: what a paper cites and what cites it (from Semantic Scholar), the
papers in the list related to it, and the reading path to any paper. No terminal here.

Everything Semantic Scholar says is stored, so every question works offline after the
first; a question that needs an answer not stored yet asks, through a client made only
then (``connect``), so commands that need nothing from the network never load one.
"""

from __future__ import annotations

import contextlib
import sqlite3
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from papercli import arxiv_ids, refs
from papercli.errors import InvalidValueError, NetworkError, PapercliError
from papercli.records import datarecord, field
from papercli.store import changes, graph, library, scratch
from papercli.store.base import transaction
from papercli.store.graph import LinkedPaper
from papercli.textlayout import counted

if TYPE_CHECKING:
    from papercli.s2 import S2Client, S2Paper

Connect = Callable[[], AbstractContextManager["S2Client"]]
"""Makes the Semantic Scholar client, when an answer is needed that is not stored."""

CITATIONS_MAX = 1000  # citations read per paper: enough to rank, bounded for famous papers
REFERENCES_MAX = 1000  # references read per paper (Semantic Scholar's largest page)
NEW_MAX = 3  # references not in the list that a path to a new paper brings along


@datarecord(frozen=True)
class Subject:
    """A paper the user named: one in the list, or any arXiv paper."""

    label: str  # how to name it: the papercli id, or arXiv:<id>
    paper_id: str | None
    arxiv_id: str | None
    doi: str | None

    @property
    def s2_ref(self) -> str:
        """How Semantic Scholar is asked about it (a versioned arXiv id is not found)."""
        if self.arxiv_id:
            return f"ARXIV:{self.arxiv_id}"
        if self.doi:
            return f"DOI:{self.doi}"
        raise InvalidValueError(
            f"{self.label} has no arXiv id or DOI, so Semantic Scholar cannot be asked about it"
        )


def subject(conn: sqlite3.Connection, ref: str) -> Subject:
    """The paper ``ref`` names: a paper in the list, or an arXiv id or URL of any paper."""
    if arxiv_ids.looks_like_arxiv_id(ref):
        arxiv_id = arxiv_ids.parse_arxiv_id(ref).id
        found = graph.paper_with_arxiv_id(conn, arxiv_id)
        if found is None:
            return Subject(f"arXiv:{arxiv_id}", None, arxiv_id, None)
        paper_id, doi = found
        return Subject(paper_id, paper_id, arxiv_id, doi)
    paper_id = refs.resolve(conn, ref)
    return Subject(paper_id, paper_id, *graph.identifiers(conn, paper_id))


class NothingStored(PapercliError):
    """Semantic Scholar was needed, could not be reached, and nothing was stored."""


@datarecord
class Neighbours:
    """A paper's references or citations, as stored."""

    s2_id: str
    title: str
    papers: list[LinkedPaper]
    fetched_at: str
    truncated: bool


def neighbours(
    conn: sqlite3.Connection,
    target: Subject,
    direction: str,
    connect: Connect,
    *,
    refresh: bool = False,
) -> Neighbours:
    """The references (most influential first) or citations (most cited first) of a paper,
    asking Semantic Scholar only when they were never fetched, or ``refresh``."""
    s2_id = graph.s2_id_for(conn, arxiv_id=target.arxiv_id, doi=target.doi)
    stored = None if s2_id is None else graph.lookup_of(conn, s2_id, direction)
    if stored is None or refresh:
        s2_id = fetch(conn, [target], connect, directions=(direction,), refresh=refresh)[0]
        stored = graph.lookup_of(conn, s2_id, direction)
    assert s2_id is not None and stored is not None
    found = graph.linked(conn, s2_id, direction)
    if direction == "references":
        found.sort(key=graph.influence_order)
    else:
        found.sort(key=graph.citation_order)
    record = graph.s2_record(conn, s2_id) or {"title": target.label}
    return Neighbours(s2_id, str(record["title"]), found, stored[0], stored[2])


def fetch(
    conn: sqlite3.Connection,
    targets: Sequence[Subject],
    connect: Connect,
    *,
    directions: Sequence[str] = ("references",),
    refresh: bool = False,
) -> list[str]:
    """Look papers up on Semantic Scholar (all at once) and fetch their references (and
    citations, if asked), one paper at a time, each saved as it arrives; return their ids.
    A paper it does not know is an error naming it (after the others are saved)."""
    from papercli.s2 import S2NotFound

    try:
        with connect() as client:
            ids, unknown = _fetch_with(client, conn, targets, directions, refresh)
    except NetworkError as exc:
        if (
            len(targets) == 1
            and graph.s2_id_for(conn, arxiv_id=targets[0].arxiv_id, doi=targets[0].doi) is None
        ):
            # Offline only when the service could not be reached: one that kept refusing
            # (429, 5xx), answered too slowly or sent something broken was there.
            answered = not exc.message.startswith("could not reach")
            raise NetworkError(
                f"{exc.message}; nothing is stored about {targets[0].label} yet:"
                f" try again {'later' if answered else 'when online'}"
            ) from None
        raise
    if unknown:
        raise S2NotFound(
            f"Semantic Scholar does not know {library.names_list(unknown)}"
            + ("" if refresh else " (--refresh asks again)")
        )
    return ids


def _fetch_with(
    client: S2Client,
    conn: sqlite3.Connection,
    targets: Sequence[Subject],
    directions: Sequence[str],
    refresh: bool,
    on_paper: Callable[[], None] = lambda: None,
) -> tuple[list[str], list[str]]:
    """``fetch`` through a client already made: (the Semantic Scholar ids of the papers
    it knows, the labels of those it does not). ``on_paper()`` after each paper's links.

    A paper looked up is saved with its links, in one transaction once they have all
    arrived: a failure on the way leaves nothing of it, where its record, saved first,
    stayed behind a failed command. Papers Semantic Scholar does not know are noted as
    its answer arrives: that answer is whole, and is not asked for again (until 3
    December each command asked again), unless ``refresh``."""
    known: dict[str, str] = {}
    unknown: list[str] = []  # asked before, unless refreshed: Semantic Scholar's answer
    for target in targets:
        s2_id = graph.s2_id_for(conn, arxiv_id=target.arxiv_id, doi=target.doi)
        if s2_id is not None and not refresh:
            known[target.label] = s2_id
        elif not refresh and graph.is_unknown(conn, target.s2_ref):
            unknown.append(target.label)
    missing_targets = [t for t in targets if t.label not in known and t.label not in unknown]
    looked_up: dict[str, tuple[S2Paper, list[str]]] = {}  # by S2 id: the record, refs asked
    if missing_targets:
        found = client.papers([t.s2_ref for t in missing_targets])
        missed = [t for t, record in zip(missing_targets, found, strict=True) if record is None]
        for target, record in zip(missing_targets, found, strict=True):
            if record is not None:
                looked_up.setdefault(record.paper_id, (record, []))[1].append(target.s2_ref)
                known[target.label] = record.paper_id
        if missed:
            now = library.clock()
            with transaction(conn):
                for target in missed:
                    graph.mark_unknown(conn, target.s2_ref, now)
        unknown += [t.label for t in missed]
    ids = [known[t.label] for t in targets if t.label in known]
    for s2_id in ids:
        fetched = {
            direction: (
                client.references(s2_id, limit=REFERENCES_MAX)
                if direction == "references"
                else client.citations(s2_id, limit=CITATIONS_MAX)
            )
            for direction in directions
            if refresh or graph.lookup_of(conn, s2_id, direction) is None
        }
        now = library.clock()
        with transaction(conn):
            if s2_id in looked_up:
                record, asked = looked_up.pop(s2_id)
                for ref in asked:
                    graph.forget_unknown(conn, ref)
                graph.store_papers(conn, [record], now)
            for direction, links in fetched.items():
                graph.store_links(conn, s2_id, direction, links, now)
        on_paper()
    return ids, unknown


@datarecord
class ListFetched:
    """What ``fetch_list`` did: how many papers' references it fetched, and how many
    papers Semantic Scholar does not know, with the first few of them."""

    fetched: int = 0
    unknown: int = 0
    first_unknown: list[str] = field(default_factory=list)


def fetch_list(
    conn: sqlite3.Connection,
    connect: Connect,
    *,
    refresh: bool = False,
    on_paper: Callable[[int, int], None] | None = None,
) -> ListFetched:
    """Fetch the references of every paper in the list that has an arXiv id or DOI (those
    not fetched yet, unless ``refresh``), through one client. The papers wait on disk and
    are asked about a thousand at a time, each thousand saved before the next: a million
    papers take the memory of a thousand. ``on_paper(done, total)`` follows progress."""
    result = ListFetched()
    with scratch.ScratchBatch() as given:
        given.add(graph.askable_papers(conn, looked_up=refresh))
        total = len(given)
        if not total:
            return result
        done = 0

        def advance() -> None:
            nonlocal done
            done += 1
            if on_paper is not None:
                on_paper(done, total)

        with connect() as client:
            for chunk in given.chunks():
                targets = [Subject(i, i, a, d) for i, a, d in graph.identifiers_of(conn, chunk)]
                ids, unknown = _fetch_with(client, conn, targets, ("references",), refresh, advance)
                result.fetched += len(ids)
                result.unknown += len(unknown)
                result.first_unknown += unknown[: 5 - len(result.first_unknown)]
    return result


def references_to_add(
    conn: sqlite3.Connection, given: Sequence[str], count: int, connect: Connect
) -> list[str]:
    """The arXiv ids of the ``count`` most influential references of each paper (by arXiv
    id) that are neither in the list nor given, for ``add --with-refs``."""
    wanted = dict.fromkeys(arxiv_ids.parse_arxiv_id(ref).id for ref in given)
    targets = [subject(conn, arxiv_id) for arxiv_id in wanted]
    from papercli.s2 import S2NotFound

    with contextlib.suppress(S2NotFound):  # those it knows are fetched; the rest add alone
        fetch(conn, targets, connect)
    extra: dict[str, None] = {}  # in order, looked up by key: a list took papers times refs
    for target in targets:
        if graph.s2_id_for(conn, arxiv_id=target.arxiv_id, doi=target.doi) is None:
            continue
        found = neighbours(conn, target, "references", connect)
        fresh = [
            p.arxiv_id
            for p in found.papers
            if p.paper_id is None and p.arxiv_id and p.arxiv_id not in wanted
        ]
        extra.update(dict.fromkeys([a for a in fresh if a not in extra][:count]))
    return list(extra)


# -- related papers ----------------------------------------------------------------------


@datarecord(frozen=True)
class Related:
    paper_id: str
    score: int
    reason: str


def related(
    conn: sqlite3.Connection,
    target: Subject,
    connect: Connect,
    *,
    refresh: bool = False,
    limit: int | None = None,
) -> Iterator[Related]:
    """Papers in the list most related to ``target`` through citations: citing it or cited
    by it, sharing references with it (bibliographic coupling), or cited together with it
    by the papers stored (co-citation); the best ``limit`` (None: all), by score and then
    id, made as they are read. Fetches its references and citations first if needed."""
    s2_id = graph.s2_id_for(conn, arxiv_id=target.arxiv_id, doi=target.doi)
    needed = (
        s2_id is None
        or refresh
        or any(graph.lookup_of(conn, s2_id, d) is None for d in graph.DIRECTIONS)
    )
    if needed:
        s2_id = fetch(conn, [target], connect, directions=graph.DIRECTIONS, refresh=refresh)[0]
    assert s2_id is not None
    return (
        Related(relation.paper_id, relation.score, _reason(relation))
        for relation in graph.relations(conn, s2_id, limit)
    )


def _reason(relation: graph.Relation) -> str:
    parts = []
    if relation.cited_by_it:
        parts.append("it cites this")
    if relation.cites_it:
        parts.append("cites it")
    if relation.shared_references:
        n = relation.shared_references
        parts.append(counted(n, "shared reference"))
    if relation.cited_together:
        n = relation.cited_together
        parts.append(f"cited together {counted(n, 'time')}")
    return "; ".join(parts)


# -- reading paths ----------------------------------------------------------------------


@datarecord(frozen=True)
class Step:
    paper_id: str | None  # None for a paper not in the list
    arxiv_id: str | None
    title: str
    year: int | None
    status: str | None  # None when not in the list
    kind: str  # how it got on the path: goal, curated, yours, suggested, new


KINDS = ("goal", "curated", "yours", "suggested", "new")
"""How a step got on a path (its ``kind``), by the codes ReadingPath keeps."""


class ReadingPath:
    """A path as numbers: the walk behind it keeps its papers' ids on disk, read with
    their steps' fields as they are printed (``steps``), a chunk at a time. Each step's
    paper was held whole (about 3 kB a step), then its id and kind (about 80 bytes).
    Close it (or use it as a context manager) once printed."""

    def __init__(self, target: Subject) -> None:
        self.target = target
        self.walk: library.Walk | None = None  # the papers walked (open until closed)
        self.order = array("i")  # the walk's papers in the path's order, by number
        self.kinds = bytearray()  # how each step got on the path: an index into KINDS
        self.last: str | None = None  # a last step after the walk's: the goal not in the list
        self.new: list[Step] = []  # the steps not in the list (the goal too)
        self.read = 0  # how many steps are papers read
        self.note: str | None = None  # what the user should know about how it was built

    def __enter__(self) -> ReadingPath:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.walk is not None:
            self.walk.close()

    def __len__(self) -> int:
        return len(self.kinds)

    def chunks(self) -> Iterator[tuple[list[str], list[str]]]:
        """Each step's key (its id, or arXiv:<id> not in the list) and kind, in order,
        CHUNK at a time."""
        done = 0
        if self.walk is not None:
            for _, keys in self.walk.chunks(self.order):
                kinds = [KINDS[kind] for kind in self.kinds[done : done + len(keys)]]
                yield keys, kinds
                done += len(keys)
        if self.last is not None:
            yield [self.last], [KINDS[self.kinds[-1]]]


def reading_path(
    conn: sqlite3.Connection, target: Subject, connect: Connect, *, refresh: bool = False
) -> ReadingPath:
    """The path to any paper: for one in the list, its prerequisites (asking Semantic
    Scholar for its references first when it has no curated links and was never looked
    up); for any other arXiv paper, the papers in the list it cites and their paths, and
    its most influential references not in the list, marked new."""
    if target.paper_id is not None:
        path = _path_in_list(conn, target, connect, refresh=refresh)
    else:
        path = _path_outside(conn, target, connect, refresh=refresh)
    path.read = sum(graph.read_count(conn, keys) for keys, _ in path.chunks())
    return path


def _path_outside(
    conn: sqlite3.Connection, target: Subject, connect: Connect, *, refresh: bool
) -> ReadingPath:
    refs_of = neighbours(conn, target, "references", connect, refresh=refresh)
    in_list = [p.paper_id for p in refs_of.papers if p.paper_id is not None]
    prereqs = list(dict.fromkeys(in_list))[: graph.SUGGESTED_MAX]
    new = [
        p
        for p in refs_of.papers
        if p.paper_id is None and p.arxiv_id and p.arxiv_id != target.arxiv_id
    ][:NEW_MAX]
    path = ReadingPath(target)
    path.walk = walked = library.prerequisite_graph(conn, prereqs)
    for reference in new:
        if walked.add_alone(f"arXiv:{reference.arxiv_id}", f"{reference.year or 0:04d}"):
            path.new.append(
                Step(None, reference.arxiv_id, reference.title, reference.year, None, "new")
            )
    # A paper linked in two ways shows the last link met along the paths of the
    # prerequisites, each walked alone, one after the other (``hows`` keeps the first).
    along = array("i")
    met = bytearray(len(walked))
    for prereq in prereqs:
        for ids in library.reading_path(conn, prereq):
            known = walked.known(ids)
            for pid in ids:
                number = known[pid]
                if not met[number]:
                    met[number] = 1
                    along.append(number)
    hows = walked.graph.hows(reversed(along))
    del along, met
    path.order = walked.order()
    for chunk, keys in walked.chunks(path.order):
        for number, key in zip(chunk, keys, strict=True):
            if number < len(prereqs):  # the walk's starts
                path.kinds.append(KINDS.index("suggested"))
            elif key.startswith("arXiv:"):
                path.kinds.append(KINDS.index("new"))
            else:
                path.kinds.append(KINDS.index(walked.graph.label(hows[number]) or "curated"))
    record = graph.s2_record(conn, refs_of.s2_id) or {}
    goal_title = str(record.get("title") or target.label)
    path.last = f"arXiv:{target.arxiv_id}"
    path.kinds.append(KINDS.index("goal"))
    path.new.append(Step(None, target.arxiv_id, goal_title, record.get("year"), None, "goal"))
    if not prereqs and not new:
        path.note = (
            f"Semantic Scholar lists no references of {target.label} that are in your list"
            " or on arXiv"
        )
    return path


def _path_in_list(
    conn: sqlite3.Connection, target: Subject, connect: Connect, *, refresh: bool
) -> ReadingPath:
    assert target.paper_id is not None
    path = ReadingPath(target)
    # The catalogue's links are its editors' choice, even none (the Transformer's): only a
    # paper the user added, with no links, is looked up unasked.
    origin, curated = graph.origin_and_curated(conn, target.paper_id)
    s2_id = graph.s2_id_for(conn, arxiv_id=target.arxiv_id, doi=target.doi)
    looked_up = s2_id is not None and graph.lookup_of(conn, s2_id, "references") is not None
    unlinked = origin == "user" and not curated and not looked_up
    if refresh or (unlinked and (target.arxiv_id or target.doi)):
        fetch(conn, [target], connect, refresh=refresh)
    path.walk = walked = library.prerequisite_graph(conn, [target.paper_id])
    path.order = order = walked.order(last=0)
    hows = walked.graph.hows(order)
    codes = {how: KINDS.index(walked.graph.label(how) or "curated") for how in set(hows)}
    path.kinds = bytearray(codes[hows[number]] for number in order)
    path.kinds[-1] = KINDS.index("goal")
    if len(order) == 1 and not (target.arxiv_id or target.doi):
        path.note = f"{target.label} has no prerequisites, and no arXiv id or DOI to look up"
    return path


def steps(conn: sqlite3.Connection, path: ReadingPath) -> Iterator[Step]:
    """The path's steps in order, the fields of its papers read a chunk at a time."""
    outside = {f"arXiv:{step.arxiv_id}": step for step in path.new}
    for keys, kinds in path.chunks():
        found = graph.step_fields(conn, keys)
        for key, kind in zip(keys, kinds, strict=True):
            if key in found:
                yield Step(key, *found[key], kind)
            else:
                yield outside[key]


# -- prerequisites the user sets ---------------------------------------------------------


@datarecord
class PrereqChange:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    not_there: list[str] = field(default_factory=list)  # asked to remove, but no prerequisite
    already: list[str] = field(default_factory=list)  # asked to add, but one already


def change_prereqs(
    conn: sqlite3.Connection,
    paper_id: str,
    add: Sequence[str],
    remove: Sequence[str],
    *,
    accept: bool = False,
    reject: bool = False,
) -> PrereqChange:
    """Add and remove prerequisite links of a paper, and accept or reject its suggested
    ones, as one undoable command. A paper cannot need itself, nor a paper that needs it
    (that would make a cycle the user did not mean)."""
    change = PrereqChange()
    current = {
        link.prereq_id: link.kind for link in graph.prerequisites_of(conn, [paper_id])[paper_id]
    }
    new = [p for p in add if p != paper_id and current.get(p) not in ("curated", "yours")]
    needing = library.leading_to(conn, paper_id, new) if new else set()
    states: dict[str, str | None] = {}
    for prereq in add:
        if prereq == paper_id:
            raise InvalidValueError(f"{paper_id} cannot be a prerequisite of itself")
        if current.get(prereq) in ("curated", "yours"):  # nothing to add: no step, no event
            change.already.append(prereq)
            continue
        if prereq in needing:
            raise InvalidValueError(
                f"{prereq} already needs {paper_id} (see: papercli path {prereq});"
                f" {prereq} cannot also be read before {paper_id}"
            )
        states[prereq] = "added"
        change.added.append(prereq)
    for prereq in remove:
        if prereq not in current:  # nothing to remove: no step, no event (there were)
            change.not_there.append(prereq)
            continue
        states[prereq] = "removed"
        change.removed.append(prereq)
    suggested = [pid for pid, kind in current.items() if kind == "suggested" and pid not in states]
    if accept:
        states.update(dict.fromkeys(suggested, "added"))
        change.accepted = suggested
    elif reject:
        states.update(dict.fromkeys(suggested, "removed"))
        change.rejected = suggested
    if not states:
        return change
    now = library.clock()
    with transaction(conn):
        batch = changes.begin(conn, "prereq", now)
        graph.set_prereqs(conn, batch, paper_id, states, now)
        edits = [f"+{p}" for p, s in states.items() if s == "added"]
        edits += [f"-{p}" for p, s in states.items() if s == "removed"]
        changes.finish(conn, batch, f"prerequisites of {paper_id}: {' '.join(edits)}")
    return change
