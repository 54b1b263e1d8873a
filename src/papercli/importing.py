"""Bringing papers and reading state into papercli from a file.

Three kinds of file: a papercli JSON export (restores state onto matching papers and
adds the missing ones), BibTeX (entries matched by arXiv id, DOI or title; unmatched
ones with an arXiv id are added from arXiv), and a plain list of arXiv ids or URLs.
A malformed file imports nothing: BibTeX and id lists are checked whole before anything
is written; a JSON export is read a thousand papers at a time, so that its size does not
decide the memory an import takes, and merged in one transaction that a bad paper rolls
back.
"""

from __future__ import annotations

import errno
import io
import re
import sqlite3
import stat
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import cache
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from papercli.arxiv_ids import ArxivId, parse_arxiv_id
from papercli.errors import InvalidValueError, PapercliError
from papercli.fetching import AddStopped, PaperByHand, known_or_new, paper_by_hand
from papercli.lines import MAX_LINE, LineTooLong, bounded_lines
from papercli.models import (
    VENUES,
    ArxivRecord,
    Author,
    Paper,
    ReadStatus,
    bare_doi,
    is_doi,
    is_real_day,
    split_venue,
    web_address,
)
from papercli.names import is_citation_key, name_key
from papercli.records import datarecord, field, replace
from papercli.store import (
    arxiv_meta,
    base,
    changes,
    library,
    lookups,
    merge,
    papers,
    scratch,
    search,
)
from papercli.store import sync as stored_sync
from papercli.textlayout import clipped, counted

if TYPE_CHECKING:
    from papercli.arxiv import ArxivClient

FORMATS = ("json", "bibtex", "text")
ClientFactory = Callable[[], "ArxivClient"]
Opener = Callable[[], AbstractContextManager[TextIO]]


SHOWN = 100
"""Ids (or warnings) an import's report names of each kind; the rest are counted."""


@datarecord
class Tally:
    """How many ids (or warnings) there are, and the first SHOWN of them: an import may
    add a million papers, which its undo log holds, not memory."""

    count: int = 0
    first: list[str] = field(default_factory=list)

    def extend(self, items: Iterable[str]) -> None:
        for item in items:
            self.count += 1
            if len(self.first) < SHOWN:
                self.first.append(item)

    def append(self, item: str) -> None:
        self.extend((item,))

    def named(self, most: int = SHOWN) -> str:
        """The first ``most`` named, the rest counted: "a, b and 3 more"."""
        shown = self.first[:most]
        more = self.count - len(shown)
        return ", ".join(shown) + (f" and {more:,} more" if more else "")


@datarecord
class ImportReport:
    format: str
    dry_run: bool = False
    restored: Tally = field(default_factory=Tally)  # state put back onto these papers
    added: Tally = field(default_factory=Tally)  # new papers (for text/BibTeX: arXiv ids)
    already_there: int = 0  # papers already there with nothing to change
    not_found: list[str] = field(default_factory=list)  # arXiv ids arXiv does not know
    failed: dict[str, str] = field(default_factory=dict)  # arXiv id -> reason
    skipped: Tally = field(default_factory=Tally)  # BibTeX keys matching nothing, no arXiv id
    queued: Tally = field(default_factory=Tally)
    prerequisites: Tally = field(default_factory=Tally)  # links set: "gpt-2 +bert"
    warnings: Tally = field(default_factory=Tally)  # what was dropped, and why


@contextmanager
def _reading(path: Path | str) -> Iterator[None]:
    """Failures to read ``path`` as one-line errors."""
    try:
        yield
    except FileNotFoundError:
        raise InvalidValueError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise InvalidValueError(f"{path} is a directory, not a file to import") from None
    except UnicodeDecodeError:
        raise InvalidValueError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise InvalidValueError(f"cannot read {path}: {exc.strerror}") from None


# "utf-8-sig": UTF-8 with or without the byte order mark that Windows tools put first.
ENCODING = "utf-8-sig"


@contextmanager
def _opened(path: Path, stdin: BinaryIO | None) -> Iterator[Opener]:
    """What opens the file for each pass over it, failures to read it said as one-line
    errors: a regular file is opened again; a pipe (``<(...)``), which gives its text
    once, and ``-`` (``stdin``) are first copied a chunk at a time to a temporary file,
    held on disk for the import rather than in memory; a device is refused (``/dev/zero``
    never ends: it was read until memory ran out)."""
    if stdin is not None and str(path) == "-":
        with _spooled("stdin", lambda: io.TextIOWrapper(stdin, ENCODING, newline="")) as spool:
            yield spool
        return
    with _reading(path):
        mode = path.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise InvalidValueError(f"{path} is a device, not a file to import")
    if stat.S_ISREG(mode):

        @contextmanager
        def reopened() -> Iterator[TextIO]:
            with _reading(path), path.open(encoding=ENCODING, newline="") as file:
                yield file

        yield reopened
        return
    with _spooled(path, lambda: path.open(encoding=ENCODING, newline="")) as spool:
        yield spool


@contextmanager
def _spooled(name: Path | str, open_source: Callable[[], TextIO]) -> Iterator[Opener]:
    """Text that can be read only once, copied to a temporary file to be read again."""
    import shutil
    import tempfile

    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        with _reading(name), open_source() as source:
            try:
                shutil.copyfileobj(source, spool)
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise  # reading failed
                raise InvalidValueError(
                    f"cannot copy {name} to a temporary file in {tempfile.gettempdir()}:"
                    f" {exc.strerror}; nothing was imported"
                ) from None

        @contextmanager
        def rewound() -> Iterator[TextIO]:
            spool.seek(0)
            yield spool

        yield rewound


def detect_format(path: Path, opener: Opener) -> str:
    """The file's kind, from its extension or else its first character."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".bib", ".bibtex"):
        return "bibtex"
    with opener() as file:
        while (piece := file.read(1 << 16)) and not piece.strip():
            pass
    return {"{": "json", "@": "bibtex"}.get(piece.lstrip()[:1], "text")


def import_file(
    conn: sqlite3.Connection,
    path: Path,
    new_client: ClientFactory,
    *,
    kind: str | None = None,
    dry_run: bool = False,
    queue: bool = False,
    stdin: BinaryIO | None = None,
) -> ImportReport:
    """Import the file at ``path``; ``-`` names ``stdin``, when given."""
    with _opened(path, stdin) as opener:
        kind = kind or detect_format(path, opener)
        if kind == "json":
            return import_json(conn, opener, dry_run=dry_run, queue=queue)
        if kind == "bibtex":
            return import_bibtex(conn, opener, new_client, dry_run=dry_run, queue=queue)
        if kind == "text":
            return import_ids(conn, opener, new_client, dry_run=dry_run, queue=queue)
        raise InvalidValueError(
            f"unknown import format {kind!r} (expected one of: {', '.join(FORMATS)})"
        )


# ---------------------------------------------------------------------------
# papercli JSON


def import_json(
    conn: sqlite3.Connection, opener: Opener, *, dry_run: bool = False, queue: bool = False
) -> ImportReport:
    """Restore an export: state onto matching papers, missing papers added, in one
    transaction, reading the file once. A bad file rolls the merge back and is read again
    for its syntax, header and ids: the error then says first what is wrong with the whole
    file (not an export, a later version, a paper given twice), as it did when a first
    reading for these came before every merge (a quarter of the import's time)."""
    try:
        return _merge_papers(conn, opener, dry_run=dry_run, queue=queue)
    except InvalidValueError:
        _check_whole(opener)
        raise


def _check_whole(opener: Opener) -> None:
    """Raise the file's first fault of syntax, header or ids, if it has one."""
    from papercli.import_schema import read_ids  # msgspec: only a JSON import loads it

    repeated: str | None = None
    with scratch.ScratchSet() as in_file, opener() as file:
        ids = read_ids(file)
        while chunk := list(islice(ids, scratch.CHUNK)):
            repeated = repeated or next(iter(in_file.add(chunk)), None)
    if repeated is not None:  # said once the file is known to be an export
        raise InvalidValueError(_given_twice(repeated))


def _given_twice(paper_id: str) -> str:
    return f"paper id {paper_id!r} appears twice; nothing was imported"


def _merge_papers(
    conn: sqlite3.Connection, opener: Opener, *, dry_run: bool, queue: bool
) -> ImportReport:
    from papercli.import_schema import read_papers

    report = ImportReport("json", dry_run)
    with (
        base.transaction(conn, keep=not dry_run),
        search.deferred_documents(conn),  # a paper's notes: its document built once
        scratch.ScratchTargets() as in_file,  # the file's ids read so far, and their papers
        scratch.ScratchAdded() as added,  # to look up (it may hold a million)
        scratch.ScratchReport() as later,  # prerequisites on papers further on in the file
        scratch.ScratchQueue() as to_queue,
        opener() as file,
        merge.taken_away(conn) as gone,  # an old export's notes and tags deleted since
    ):
        batch = merge.begin_import(conn)
        now = library.clock()
        count = 0
        read = read_papers(file)
        while exported := list(islice(read, scratch.CHUNK)):
            count += len(exported)
            exported = [
                (_not_ahead(_real_day(paper, report), now, report), history, links)
                for paper, history, links in exported
            ]
            exported = _not_removed(exported, gone.paper_removed, conn, report)
            targets, to_add = _place(conn, [paper for paper, *_ in exported])
            given = [paper.id for paper, *_ in exported]
            if repeated := in_file.add(list(zip(given, targets, strict=True))):
                raise InvalidValueError(_given_twice(repeated[0]))
            new = _link_known(to_add, in_file, later, report)
            # The chunk's new papers go in together (papers.insert_papers), before any state.
            for paper, key in zip(new, papers.insert_papers(conn, new), strict=True):
                if paper.citation_key is not None and key != paper.citation_key:
                    report.warnings.append(
                        f"{paper.id}: cited as {key}, its key {paper.citation_key} being"
                        " taken by another paper (any case)"
                    )
            for (paper, *_), target in zip(exported, targets, strict=True):
                if not paper.fetched_at:
                    if said := _arxiv_facts(paper):
                        report.warnings.append(
                            f"{paper.id}: left out its {said}, which are arXiv's and come with"
                            " the fetched_at of when arXiv gave them"
                        )
                elif arxiv_meta.arxiv_record(conn, target) is None:
                    record = _record_of(paper)
                    arxiv_meta.store_arxiv_record(conn, target, record, paper.fetched_at)
            ids = [paper.id for paper in new]
            added.add(
                (target, changes.record(conn, batch, "paper", target, None, taken))
                for target, taken in zip(ids, changes.snapshots(conn, ids), strict=True)
            )
            report.added.extend(ids)
            for (paper, history, links), target in zip(exported, targets, strict=True):
                for prereq, link_state, at in links:  # set once the file is read whole
                    later.note(f"your prerequisite {link_state}", paper.id, target, prereq, at)
                local = paper if target == paper.id else replace(paper, id=target)
                if merge.merge_state(conn, local, history, batch, gone):
                    if target not in added:
                        report.restored.append(target)
                elif target not in added:
                    report.already_there += 1
                if (paper.queue_position is not None or queue) and not _read_since_queued(
                    conn, target, paper.queued_at
                ):
                    to_queue.add(target, paper.queue_position or 1 << 30, paper.queued_at)
        _link_later(conn, later, in_file, added, report)
        if to_queue:  # looked for only when the file queues a paper
            # The file's queue, less what was taken out of it here (or on a device this
            # one syncs with) later than it was queued there (a file without the time:
            # anything taken out here); with
            # --queue, such a paper is queued, as of now.
            taken_out = chain(
                changes.taken_out_of_queue(conn), stored_sync.queue_places_synced_away(conn)
            )
            if queue:
                to_queue.queued_now(taken_out)
            else:
                to_queue.leave_out(taken_out)
        for chunk in to_queue.timed_chunks():
            ids = [pid for pid, _ in chunk]
            report.queued.extend(merge.queue_missing(conn, ids, batch, dict(chunk)))
        new_papers = changes.papers_added(conn, batch)
        cut = papers.break_prerequisite_cycles(conn, new_papers)
        for paper_id, prereq in cut:
            report.warnings.append(
                f"{paper_id}: dropped prerequisite {prereq}, which would make a cycle"
            )
        cut_from = iter(dict.fromkeys(paper_id for paper_id, _ in cut))
        while cut_chunk := list(islice(cut_from, scratch.CHUNK)):
            changes.retake_added(conn, added.steps_of(cut_chunk))
        _merge_your_prerequisites(conn, later, in_file, batch, now, report)
        merge.finish_import(conn, batch, f"imported {counted(count, 'paper')}")
    return report


def _link_known(
    new: Sequence[tuple[str, Paper]],
    in_file: scratch.ScratchTargets,
    later: scratch.ScratchReport,
    report: ImportReport,
) -> list[Paper]:
    """The papers to add (each with the id the file gave it), linked to those of their
    prerequisites the file has given so far, as the local papers these are (a paper the
    file calls `qlora` may be `qlora-2` here, or match `lora` by its arXiv id); the others
    are noted in ``later``, to look for once the file is read whole (``_link_later``)."""
    placed = in_file.targets_of({prereq for _, paper in new for prereq in paper.prerequisites})
    linked = []
    for given, paper in new:
        known: list[str] = []
        for prereq in paper.prerequisites:
            if prereq == given or placed.get(prereq) == paper.id:
                report.warnings.append(f"{given}: dropped a prerequisite on itself")
            elif prereq in placed:
                known.append(placed[prereq])
            else:
                later.note("prerequisite", given, paper.id, prereq)
        linked.append(replace(paper, prerequisites=list(dict.fromkeys(known))))
    return linked


def _link_later(
    conn: sqlite3.Connection,
    later: scratch.ScratchReport,
    in_file: scratch.ScratchTargets,
    added: scratch.ScratchAdded,
    report: ImportReport,
) -> None:
    """Link the papers added to their prerequisites not given before them in the file,
    now read whole: a paper of the file, as the local paper it is, else one of the
    database's; each one that is neither is a warning."""
    noted = later.noted("prerequisite")
    while chunk := list(islice(noted, scratch.CHUNK)):
        placed = in_file.targets_of({prereq for _, _, prereq in chunk})
        links: dict[tuple[str, str], None] = {}
        for given, target, prereq in chunk:
            local = placed.get(prereq) or (prereq if lookups.paper_exists(conn, prereq) else None)
            if local is None:
                report.warnings.append(f"{given}: dropped prerequisite {prereq}, an unknown paper")
            elif local == target:
                report.warnings.append(f"{given}: dropped a prerequisite on itself")
            else:
                links[target, local] = None
        papers.add_prerequisites(conn, links)
        changes.retake_added(conn, added.steps_of({target for target, _ in links}))


def _merge_your_prerequisites(
    conn: sqlite3.Connection,
    later: scratch.ScratchReport,
    in_file: scratch.ScratchTargets,
    batch: int,
    now: str,
    report: ImportReport,
) -> None:
    """Merge the prerequisite links the user added or removed (``merge.merge_prereqs``),
    now that every paper of the file is here: each names its prerequisite as the file
    does, a paper of the file (as the local paper it is), else one of the database's;
    one that is neither is a warning, as is one that would make a cycle. The links the
    file removes go first: one it adds may make a cycle only with a link it removes (a
    catalogue's, say), as the library it came from refused every other."""
    undone = cache(lambda: changes.undone_prereqs(conn))  # read once, when first needed
    for link_state in ("removed", "added"):
        _merge_links(conn, later, in_file, link_state, batch, now, undone, report)


def _merge_links(
    conn: sqlite3.Connection,
    later: scratch.ScratchReport,
    in_file: scratch.ScratchTargets,
    link_state: str,
    batch: int,
    now: str,
    undone: Callable[[], Mapping[tuple[str, str], str]],
    report: ImportReport,
) -> None:
    """``_merge_your_prerequisites`` of the links the file gives as ``link_state``."""
    noted = later.noted(f"your prerequisite {link_state}")
    while chunk := list(islice(noted, scratch.CHUNK)):
        placed = in_file.targets_of({prereq for _, _, prereq, _ in chunk})
        links: list[merge.Link] = []
        named: dict[tuple[str, str], tuple[str, str]] = {}  # as the file named them
        for given, target, prereq, at in chunk:
            local = placed.get(prereq) or (prereq if lookups.paper_exists(conn, prereq) else None)
            if local is None:
                report.warnings.append(
                    f"{given}: dropped your prerequisite {prereq}, an unknown paper"
                )
                continue
            if local == target:
                report.warnings.append(f"{given}: dropped a prerequisite on itself")
                continue
            if at is not None and at > now:
                report.warnings.append(
                    f"{given}: your prerequisite {prereq} at {at} is later than this"
                    " computer's clock; taken as older than your changes"
                )
                at = None
            links.append((target, local, link_state, at))
            named[target, local] = (given, prereq)
        taken, cut = merge.merge_prereqs(conn, links, batch, now, undone)
        sign = {"added": "+", "removed": "-"}
        report.prerequisites.extend(
            f"{target} {sign[state]}{local}" for target, local, state, _ in taken
        )
        for target, local, _, _ in cut:
            given, prereq = named[target, local]
            report.warnings.append(
                f"{given}: dropped your prerequisite {prereq}, which would make a cycle"
            )


def _real_day(paper: Paper, report: ImportReport) -> Paper:
    """The paper with its date's year and month alone where its day is not in the calendar
    (2021-02-30, which `add` and a BibTeX import took until 3 December): an export of such
    a library still imports, and says so."""
    if is_real_day(paper.date):
        return paper
    report.warnings.append(f"{paper.id}: {paper.date} is no day; kept {paper.date[:7]}")
    return replace(paper, date=paper.date[:7])


def _not_ahead(paper: Paper, now: str, report: ImportReport) -> Paper:
    """The paper with a status time or queue time later than this computer's clock taken
    as no time: such a time (a clock that ran ahead where the file was made) would win
    every comparison, so that each import of the file undid what you did since (a status
    set, a paper read or taken out of the queue). Without it, the file's status restores
    only a paper never changed here, and a paper taken out here stays out."""
    ahead = [
        name for name in ("status_changed_at", "queued_at") if (getattr(paper, name) or "") > now
    ]
    if not ahead:
        return paper
    for name in ahead:
        report.warnings.append(
            f"{paper.id}: {name} {getattr(paper, name)} is later than this computer's clock;"
            " taken as older than your changes"
        )
    return replace(paper, **dict.fromkeys(ahead))


def _read_since_queued(conn: sqlite3.Connection, paper_id: str, queued_at: str | None) -> bool:
    """Whether the paper is read here (the file's state merged) and was marked so after the
    file queued it, or the file does not say when: reading takes a paper out of the queue,
    but one queued again once read (``queue add --force``) stays in it."""
    state = changes.state_of(conn, paper_id)
    if state is None or state[0] != ReadStatus.READ.value:
        return False
    return queued_at is None or str(state[1]) > queued_at


def _not_removed(
    exported: list[Any],
    removed: Callable[[str, str | None], bool],
    conn: sqlite3.Connection,
    report: ImportReport,
) -> list[Any]:
    """The file's papers less those you took out of your list (`remove`, not undone, or the
    undo of their adding; here or on a device this one syncs with) and have not added
    again: an older export brought them back, on every machine once synced."""
    kept = []
    for entry in exported:
        paper = entry[0]
        if removed(paper.id, paper.arxiv_id) and _matching_id(conn, paper, {}, {}) is None:
            report.warnings.append(
                f"{paper.id}: left out, as you took it out of your list; add it again to keep it"
            )
            continue
        kept.append(entry)
    return kept


def _place(
    conn: sqlite3.Connection, chunk: Sequence[Paper]
) -> tuple[list[str], list[tuple[str, Paper]]]:
    """The local paper each exported one is (``_matching_id``), and those to add for the
    ones that are none, each with an unused id (and the id the file gave it): as if each
    paper added were in the database before the next one is matched."""
    new: dict[str, tuple[str, Paper]] = {}  # by the id it is added as
    new_arxiv_ids: dict[str, str] = {}
    targets = []
    for paper in chunk:
        target = _matching_id(conn, paper, new, new_arxiv_ids)
        if target is None:
            target = _unused_id(conn, paper.id, new)
            new[target] = (paper.id, replace(paper, id=target, origin="user"))
            if paper.arxiv_id:
                new_arxiv_ids[paper.arxiv_id] = target
        targets.append(target)
    return targets, list(new.values())


def _matching_id(
    conn: sqlite3.Connection,
    paper: Paper,
    new: Mapping[str, tuple[str, Paper]],
    new_arxiv_ids: Mapping[str, str],
) -> str | None:
    """The local paper an exported one is: same arXiv id, else same id (and no other arXiv
    id); among those in the database and the ``new`` ones about to be added."""
    if paper.arxiv_id:
        found = lookups.ids_by_arxiv_id(conn, paper.arxiv_id)
        if found:
            return found[0]
        if paper.arxiv_id in new_arxiv_ids:
            return new_arxiv_ids[paper.arxiv_id]
    if paper.id in new:
        local_arxiv_id = new[paper.id][1].arxiv_id
    elif lookups.paper_exists(conn, paper.id):
        local_arxiv_id = lookups.arxiv_id_of(conn, paper.id)
    else:
        return None
    if not (paper.arxiv_id and local_arxiv_id and local_arxiv_id != paper.arxiv_id):
        return paper.id
    return None


def _unused_id(conn: sqlite3.Connection, wanted: str, new: Mapping[str, object]) -> str:
    candidate, number = wanted, 1
    while candidate in new or lookups.paper_exists(conn, candidate):
        number += 1
        candidate = f"{wanted}-{number}"
    return candidate


def _arxiv_facts(paper: Paper) -> str:
    """The arXiv metadata a file gives a paper, named (``abstract and comment``), or ""."""
    given = [
        name
        for name, value in (
            ("abstract", paper.abstract),
            ("comment", paper.comment),
            ("journal reference", paper.journal_ref),
        )
        if value
    ]
    return " and ".join([", ".join(given[:-1]), given[-1]] if len(given) > 1 else given)


def _record_of(paper: Paper) -> ArxivRecord:
    """The arXiv metadata an export carries, back in the form it is stored in."""
    return ArxivRecord(
        arxiv_id=paper.arxiv_id or "",
        version=paper.arxiv_version or 1,
        title=paper.title,
        abstract=paper.abstract or "",
        authors=list(paper.arxiv_authors),
        published=paper.date,
        updated=paper.arxiv_updated or paper.date,
        primary_category=paper.primary_category,
        categories=list(paper.categories),
        dois=list(paper.dois),
        journal_ref=paper.journal_ref,
        comment=paper.comment,
        abs_url=paper.url or "",
        pdf_url=paper.pdf_url,
    )


# ---------------------------------------------------------------------------
# BibTeX

_COMMENT = re.compile(r"(?:^|\s)#")  # a URL's #fragment is not a comment
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_LATEX_ESCAPE = re.compile(r"\\([&%$#_{}])")
_BARE_PERCENT = re.compile(r"(?<!\\)((?:\\\\)*)%")


def import_bibtex(
    conn: sqlite3.Connection,
    opener: Opener,
    new_client: ClientFactory,
    *,
    dry_run: bool = False,
    queue: bool = False,
) -> ImportReport:
    """Match entries to papers by arXiv id, DOI or title; add unmatched papers with a
    title, authors and year as they are (a DOI's BibTeX) as the file is read, in one
    transaction that a bad entry rolls back; then add unmatched arXiv papers from arXiv."""
    report = ImportReport("bibtex", dry_run)
    to_add: dict[str, str] = {}  # arXiv id: its entry's key (fetching a million takes days)
    with scratch.ScratchQueue() as matched:
        with base.transaction(conn, keep=not dry_run), scratch.ScratchQueue() as added:
            batch = changes.begin(conn, "import", library.clock())
            typed_in = _TypedIn(conn, batch, report.warnings)
            entries = 0
            for entry, strings, fields, arxiv_id, held in _identified(conn, opener):
                entries += 1
                found = held  # most entries match by their ids alone
                if not found and fields.get("doi"):
                    typed_in.before_looking_for(doi=fields["doi"])
                    found = lookups.id_by_doi(conn, fields["doi"])
                if not found:  # the title and authors as text, to match or add by
                    fields = _used_fields(entry, strings, _USED, read_latex=True)
                    if fields.get("title"):
                        typed_in.before_looking_for(title=fields["title"])
                        found = lookups.id_by_title(conn, fields["title"])
                if found:
                    _matched(found, matched, report, queue=queue)
                elif arxiv_id:
                    to_add.setdefault(arxiv_id.id, entry.key)
                elif fields.get("title") and fields.get("author") and _date(fields):
                    given = _by_hand(entry, strings, fields, report.warnings)
                    paper = _paper_by_hand(conn, entry.key, given, typed_in.names)
                    paper_id = typed_in.add(paper, entry.key)
                    report.added.append(paper_id)
                    if queue:
                        added.add(paper_id, report.added.count)
                else:
                    report.skipped.append(entry.key)
            typed_in.flush()
            if not entries:  # another kind of file, or none: not a success
                raise InvalidValueError(
                    "the file holds no BibTeX entry (--format chooses how it is read);"
                    " nothing was imported"
                )
            if queue:
                for chunk in added.chunks():  # new papers: none is queued or read
                    report.queued.extend(merge.queue_missing(conn, chunk, batch))
            changes.finish(conn, batch, f"added {report.added.named(5)}")
        for paper_id in _add_from_arxiv(
            conn, list(to_add), new_client, report, queue=queue, entry_keys=to_add
        ):
            _matched(paper_id, matched, report, queue=queue)
        if queue:
            _queue_matched(conn, matched, report)
    return report


def _identified(
    conn: sqlite3.Connection, opener: Opener
) -> Iterator[tuple[Any, Mapping[str, str], dict[str, str], ArxivId | None, str | None]]:
    """Each entry with its @strings, its id fields (arXiv id, DOI, URL), the arXiv id they
    name and the paper holding that id already: looked up a thousand entries at a time.
    (No paper with an arXiv id is added while the file is read: those come from arXiv.)"""
    entries = _bibtex_entries(opener)
    while chunk := list(islice(entries, scratch.CHUNK)):
        ided = [(entry, strings, _used_fields(entry, strings, _IDS)) for entry, strings in chunk]
        arxiv_ids = [_arxiv_id_of(fields) for _, _, fields in ided]
        held = lookups.ids_by_arxiv_ids(conn, [a.id for a in arxiv_ids if a])
        for (entry, strings, fields), arxiv_id in zip(ided, arxiv_ids, strict=True):
            yield entry, strings, fields, arxiv_id, held.get(arxiv_id.id) if arxiv_id else None


def _matched(
    paper_id: str, matched: scratch.ScratchQueue, report: ImportReport, *, queue: bool
) -> None:
    """Count a paper that was there already; keep it to queue with ``--queue``."""
    report.already_there += 1
    if queue:
        matched.add(paper_id, report.already_there)


def _queue_matched(
    conn: sqlite3.Connection, matched: scratch.ScratchQueue, report: ImportReport
) -> None:
    """With ``--queue`` the papers that were there already are queued too (unless read),
    as the papers added are: one undoable command."""
    queued = Tally()
    with base.transaction(conn, keep=not report.dry_run):
        batch = changes.begin(conn, "queue add", library.clock())
        for chunk in matched.chunks():
            ids = merge.queue_missing(conn, merge.unread(conn, chunk), batch)
            queued.extend(ids)
            report.queued.extend(ids)
        changes.finish(conn, batch, f"queued {queued.named(5)}")


_USED = frozenset(
    {"eprint", "doi", "url", "title", "author", "year", "month", "date"}
    | {"journal", "journaltitle", "booktitle"}  # journaltitle and date: biblatex's
)
"""The fields an entry is matched or added by (an abstract is not read as text)."""
_IDS = frozenset({"eprint", "doi", "url"})
"""The fields that name an entry's arXiv id or DOI, matched before its title."""
_TEXT = ("title", "author", "journal", "journaltitle", "booktitle")
"""The fields LaTeX may style (not a URL or DOI, where ``%`` is no comment)."""


def _used_fields(
    entry: Any, strings: Mapping[str, str], used: frozenset[str], *, read_latex: bool = False
) -> dict[str, str]:
    """An entry's ``used`` fields as text (``strings``: the @strings it may name). Only
    those are read: most entries match by id, without their title's or authors' text.
    With ``read_latex``, a title or author list with LaTeX in it (``M{\\"u}ller``, or
    ``\\textasciitilde{}`` as papercli's own export writes ``~``) is read by pylatexenc,
    half a millisecond a value: only for entries no id matches; so is one with math. The
    rest only lose their braces and escapes (in a URL or DOI, ``%`` is no LaTeX comment)."""
    fields = {}
    for item in entry.fields:
        key = item.key.lower()
        if key in used:
            value = _value_text(item.value, strings)
            latex = read_latex and key in _TEXT and _is_latex(value)
            fields[key] = _latex_text(value) if latex else _plain(value)
    if "doi" in fields:  # as a link or with a label: the DOI it names, to match and keep
        fields["doi"] = bare_doi(fields["doi"])
    return fields


def _is_latex(value: str) -> bool:
    """Whether a value needs pylatexenc: a command other than an escaped character, or
    math, which it keeps as written (``$\\&$``, ``$x^{2}$``), where dropping braces and
    escapes changed it."""
    return "$" in value or "\\" in _LATEX_ESCAPE.sub("", value)


def _latex_text(value: str) -> str:
    """LaTeX as text, on one line; math stays as written (``$k$-NN``). What pylatexenc
    cannot read only loses its braces and escapes: it fails in more ways than its own
    errors (``\\author`` with no argument raises AttributeError), as bibtexparser's
    middleware knows, catching them all."""
    # A bare % is a per cent sign here (`95% accuracy`), never LaTeX's comment: read as one,
    # it cut the title, or the author list, short at it without a word. (After `\\`, a line
    # break, it is bare too.)
    value = _BARE_PERCENT.sub(r"\1\\%", value)
    try:
        with _silenced("pylatexenc"):  # its warnings would land beside papercli's report
            return " ".join(_latex_decoder().latex_to_text(value).split())
    except Exception:  # any of them: see above
        return _plain(value)


@contextmanager
def _silenced(library: str) -> Iterator[None]:
    """A library's log lines kept off the terminal meanwhile (papercli reports itself)."""
    import logging

    logger = logging.getLogger(library)
    level, logger.level = logger.level, logging.CRITICAL + 1
    try:
        yield
    finally:
        logger.level = level


@cache
def _latex_decoder() -> Any:
    """pylatexenc's decoder as bibtexparser's LatexDecodingMiddleware builds it, knowing
    also the braces papercli's export writes as ``\\textbraceleft{}``, and reading its
    ``\\textasciicircum{}`` as ``^``. Built once (35 ms),
    and only for a file with LaTeX in it."""
    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        get_default_latex_context_db,
    )

    context = get_default_latex_context_db()
    macros = [
        MacroTextSpec("url", simplify_repl="%s"),
        MacroTextSpec("textbraceleft", "{"),
        MacroTextSpec("textbraceright", "}"),
        MacroTextSpec("textasciicircum", "^"),  # pylatexenc reads U+02C6, a modifier letter
    ]
    context.add_context_category("papercli", prepend=True, macros=macros)
    return LatexNodes2Text(latex_context=context, math_mode="verbatim")


def _by_hand(
    entry: Any, strings: Mapping[str, str], fields: dict[str, str], warnings: Tally
) -> PaperByHand:
    """A BibTeX entry as a paper typed in by hand (``fields``: its text); a URL that is not
    http(s) or a DOI that is none is left out, with a warning, rather than refusing the
    whole file for it (an empty one is simply absent)."""
    key = entry.key
    date = _date(fields)
    container = fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle")
    url, doi = fields.get("url") or None, fields.get("doi") or None
    if url and (kept := web_address(url)) is None:
        warnings.append(f"{key}: left out url {clipped(url)!r}, not an http(s) address")
    if doi and not is_doi(doi):
        warnings.append(f"{key}: left out doi {clipped(doi)!r}, not a DOI (10.NNNN/...)")
        doi = None
    month = fields.get("month", "")
    if fields.get("year") and month and _month(month) is None:
        warnings.append(f"{key}: left out month {clipped(month)!r}, not a month")
    return PaperByHand(
        fields["title"],
        _authors(entry, strings),
        date,
        kept if url else None,
        venue=_venue(container or "", date),
        doi=doi,
    )


def _authors(entry: Any, strings: Mapping[str, str]) -> list[Author]:
    """The entry's persons split as BibTeX splits them: on ``and`` outside braces, so a
    name in braces (``{Gemini Team}``, ``{Barnes and Noble}``) is one name, an institution.
    Read again from the entry, braces and all: the text in ``fields`` has lost them."""
    from bibtexparser.middlewares.names import split_multiple_persons_names

    value = next(_value_text(f.value, strings) for f in entry.fields if f.key.lower() == "author")
    people = []
    for name in split_multiple_persons_names(value):
        if _one_group(name):
            text = _read(name[1:-1])
            people.append(Author(text, family=text, literal=True))
        elif text := _read(name):
            people.append(_person(entry.key, text))
    return [person for person in people if person.name]


def _one_group(name: str) -> bool:
    """Whether ``name`` is one brace group, ``{...}`` whole."""
    if not (name.startswith("{") and name.endswith("}")):
        return False
    depth = 0
    for mark in _JOINING.finditer(name):
        depth += {"{": 1, "}": -1}.get(mark.group(), 0)
        if depth == 0:
            return mark.end() == len(name)
    return False


def _read(value: str) -> str:
    """A name's LaTeX as text (``M{\\"u}ller``: Müller)."""
    return _latex_text(value) if _is_latex(value) else _plain(value)


def _date(fields: dict[str, str]) -> str:
    """The year with its month (``2015-05``) from ``year`` and ``month``, else biblatex's
    ``date`` (``2015-05-28``, or the start of a range); "" when the entry has neither."""
    if fields.get("year"):
        month = _month(fields.get("month", ""))
        return f"{fields['year']}-{month:02d}" if month else fields["year"]
    return fields.get("date", "").partition("/")[0]


def _month(text: str) -> int | None:
    """``jan``, ``January``, ``1`` or ``01`` as 1; None for anything else."""
    if text.isascii() and text.isdigit():  # int() refuses some that isdigit takes: ²
        return int(text) if 1 <= int(text) <= 12 else None
    return _MONTHS.get(text[:3].lower())


def _person(key: str, name: str) -> Author:
    """A BibTeX name split by BibTeX's rules (``De Freitas, Nando``: family ``De
    Freitas``), in reading order; one they find no family name in (``, Ann``) is refused,
    as ``add --author`` refuses it."""
    from papercli.export import checked_person, in_reading_order

    found = checked_person(name)
    if found is None:
        raise InvalidValueError(
            f"entry {key!r}: author {name!r} has no family name, or nothing after its comma"
            " (give 'Family, Given'); nothing was imported"
        )
    return in_reading_order(found)


_SERIES = {name.casefold(): series for series, (_, name) in VENUES.items()} | {
    series.casefold(): series for series in VENUES
}
"""A known venue by the name papercli's export writes for it (or its short name)."""


def _cited_as(entry_key: str, key: str, warnings: Tally) -> None:
    """Warn where a paper the import adds is not cited by its entry's key: papers are
    cited by their entry's keys, so documents citing those keep working."""
    if key != entry_key:
        why = (
            "taken by another paper"
            if is_citation_key(entry_key)
            else "not of 1 to 250 ASCII letters, digits and _:.+/@-"
        )
        warnings.append(f"{clipped(entry_key)!r}: cited as {key}, the entry's key being {why}")


def _venue(container: str, date: str) -> str:
    """The venue of a journal or proceedings papercli knows (``NeurIPS 2023``), in the
    entry's year, or by the year its name ends in: the export names a Findings volume
    with its year, ``...: EMNLP 2023``. Another is not kept."""
    if series := _SERIES.get(container.casefold()):
        return f"{series} {date[:4]}"
    name, _, year = container.rpartition(" ")
    series = _SERIES.get(name.casefold())
    return f"{series} {year}" if series and split_venue(f"{series} {year}") else ""


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _paper_by_hand(
    conn: sqlite3.Connection, key: str, given: PaperByHand, names: Container[str]
) -> Paper:
    """The paper an entry types in, its id free of ``names`` too; a bad entry is named by
    its key."""
    try:
        return paper_by_hand(conn, given, names=names, said_as=_bibtex_field)
    except PapercliError as exc:
        raise InvalidValueError(f"entry {key!r}: {exc.message}; nothing was imported") from None


def _bibtex_field(name: str) -> str:
    """A field as a BibTeX entry names it, in an error: ``title``, not ``add``'s
    ``--title``; a venue is the entry's ``booktitle`` or ``journal``."""
    return "booktitle or journal" if name == "venue" else name


class _TypedIn:
    """The papers a BibTeX import adds as typed in, inserted a thousand at a time, table
    by table, with their steps for undo (one at a time, seven statements each, they took
    a fifth of such an import). A later entry may name one by its title or DOI: what is
    held is written before a lookup that could find it, so the lookup finds it as it
    would have (``lower`` joins more than SQLite's NOCASE: it may write early, never
    late)."""

    def __init__(self, conn: sqlite3.Connection, batch: int, warnings: Tally) -> None:
        self._conn = conn
        self._batch = batch
        self._warnings = warnings
        self._held: list[Paper] = []
        self._keys: list[str] = []  # the held papers' entries' keys
        self._titles: set[str] = set()
        self._dois: set[str] = set()
        self.names: set[str] = set()  # the name keys of the held papers' ids and short names

    def add(self, paper: Paper, entry_key: str) -> str:
        paper.citation_key = entry_key if is_citation_key(entry_key) else None
        self._held.append(paper)
        self._keys.append(entry_key)
        self._titles.add(paper.title.lower())
        if paper.doi:
            self._dois.add(paper.doi.lower())
        self.names.update(key for key in (name_key(paper.id), name_key(paper.short_name)) if key)
        if len(self._held) == scratch.CHUNK:
            self.flush()
        return paper.id

    def before_looking_for(self, *, title: str = "", doi: str = "") -> None:
        if (title and title.lower() in self._titles) or (doi and doi.lower() in self._dois):
            self.flush()

    def flush(self) -> None:
        if self._held:
            cited = papers.insert_papers(self._conn, self._held)
            for entry_key, key in zip(self._keys, cited, strict=True):
                _cited_as(entry_key, key, self._warnings)
            changes.record_added(self._conn, self._batch, [paper.id for paper in self._held])
            self._held, self._keys = [], []
            self._titles.clear()
            self._dois.clear()
            self.names.clear()


BIBTEX_PIECE = 1000
"""Entries bibtexparser parses at a time: its blocks for a whole file of 100,000 entries
took 550 MB."""
# A line where bibtexparser starts a block, ending any block still open (its own rule);
# after a line break, a literal the regular expression engine looks for fast (searching
# for a line's start instead tried every character: a fifth as fast).
_BLOCK_LINE = r"[ \t]*@\w*[ \t]*[{(]"
_BLOCK_START = re.compile(_BLOCK_LINE)
_BLOCK_AFTER_BREAK = re.compile("\n" + _BLOCK_LINE)


def _bibtex_entries(opener: Opener) -> Iterator[tuple[Any, Mapping[str, str]]]:
    """Every entry of the file with the @strings it may name (values as written: see
    ``_value_text``), parsed BIBTEX_PIECE entries at a time. After the last,
    one error lists each problem (one per block, by line), if there were any: the caller
    writes nothing until the entries are all read.

    The file is cut only where a line starts a block, where bibtexparser would end any
    block anyway, so the pieces hold the blocks the whole file would. ``@string``
    definitions carry over from piece to piece (each holds from where it is defined, as
    in BibTeX; kept on disk, as a file may hold any number), as do citation keys, to
    find the duplicates. bibtexparser logs what it could not parse; those lines would
    land on the user's terminal beside papercli's own message, so its logger is silenced
    meanwhile.
    """
    import pickle

    from bibtexparser.entrypoint import parse_string
    from bibtexparser.library import Library
    from bibtexparser.model import DuplicateBlockKeyBlock

    problems: list[tuple[int, str]] = []  # (line, what is wrong there)
    with (
        _silenced("bibtexparser"),
        scratch.ScratchSet() as keys,
        scratch.ScratchMap() as strings,
        opener() as file,
    ):
        for before, text in _pieces(file):
            given = [pickle.loads(s) for s in _strings_named(text, strings)]
            library_ = Library(given)  # given, a piece's @string defined again is a duplicate
            parse_string(text, library=library_, parse_stack=[])  # values as written
            # @strings by key in lower case (BibTeX's rule), the piece's own read as text.
            values = {s.key.lower(): s.value for s in given}
            seeded = set(map(id, given))
            defined = [s for s in library_.strings if id(s) not in seeded]
            for string in defined:
                string.value = _value_text(string.value, values)
                values[string.key.lower()] = string.value
            strings.put({s.key.lower(): pickle.dumps(s) for s in defined})
            for block in library_.failed_blocks:
                what = (
                    f"duplicate citation key {block.key!r}"
                    if isinstance(block, DuplicateBlockKeyBlock)
                    else "malformed BibTeX entry"
                )
                problems.append((before + (block.start_line or 0) + 1, what))
            entries = library_.entries
            repeated = set(keys.add([entry.key for entry in entries]))
            for entry in entries:
                if entry.key in repeated:
                    line = before + (entry.start_line or 0) + 1
                    problems.append((line, f"duplicate citation key {entry.key!r}"))
                yield entry, values
    if problems:
        problems.sort()  # a piece's broken blocks come before its repeated keys
        shown = "; ".join(f"line {line}: {what}" for line, what in problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise InvalidValueError(f"{shown}; nothing was imported")


# What may name an @string in a value: anything between BibTeX's delimiters.
_WORD = re.compile(r"""[^\s"#%'(),={}]+""")


def _strings_named(text: str, strings: scratch.ScratchMap) -> list[bytes]:
    """The @strings a piece of the file may use (or define again): all of them while they
    are few; past BIBTEX_PIECE, those whose key is a word of the piece. bibtexparser
    copies each one it is given into the parse: given all of them, each piece of a file
    of 20,000 @strings copied them all, and it took 9 s, growing with their square."""
    if len(strings) <= BIBTEX_PIECE:
        return strings.values()
    return strings.values_of(set(_WORD.findall(text.lower())))


# What delimits a value's parts: braces, quotes and "#", not escaped (bibtexparser's rule).
_JOINING = re.compile(r'(?<!\\)[{}"#]')


def _value_text(value: str, strings: Mapping[str, str]) -> str:
    """A value as BibTeX reads it: a braced or quoted text without its delimiters, an
    @string's name as its text (an unknown name stays as written, as a lone one does),
    and parts joined with ``#`` (``{Notes on } # lora # ", 2024"``) as one text. A value
    that does not read so (text outside delimiters, braces that close before its end) is
    kept as written.

    bibtexparser's parser leaves values as written, and its middlewares that read them
    so walk every field, the abstract too: a quarter of its parse. papercli reads only
    the fields it uses."""
    plain = value.strip()
    inner = plain[1:-1]
    if len(plain) >= 2 and "#" not in inner:  # the common case, without a walk (theirs too)
        if plain[0] + plain[-1] == "{}" and "{" not in inner and "}" not in inner:
            return inner
        if plain[0] + plain[-1] == '""' and '"' not in inner:
            return inner
    parts: list[tuple[str, int, int]] = []  # (part, closings at depth 0, quotes at depth 0)
    depth, quoted, start, closed, quotes = 0, False, 0, 0, 0
    for mark in _JOINING.finditer(value):
        char = mark.group()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            closed += 1 if depth == 0 else 2 if depth < 0 else 0  # below 0: nothing encloses
        elif char == '"' and depth == 0:
            quoted = not quoted
            quotes += 1
        elif char == "#" and depth == 0 and not quoted:
            parts.append((value[start : mark.start()].strip(), closed, quotes))
            start, closed, quotes = mark.end(), 0, 0
    parts.append((value[start:].strip(), closed, quotes))
    texts = []
    for part, closed, quotes in parts:
        ends = part[:1] + part[-1:] if len(part) >= 2 else ""
        if (ends == "{}" and closed == 1) or (ends == '""' and quotes == 2):
            texts.append(part[1:-1])
        elif part and _WORD.fullmatch(part):
            texts.append(strings.get(part.lower(), part))
        else:
            return value  # an empty or unbalanced part: not a value BibTeX reads
    return "".join(texts)


LONGEST_BLOCK = 1 << 24
"""Characters from one block's start to the next's: more than any entry. A file that
goes on longer without one (a disk image named .bib) is no BibTeX; it was held whole."""


READ_SIZE = 1 << 18
"""Characters read at a time (a line at a time took a twelfth of a BibTeX import)."""


def _pieces(file: TextIO) -> Iterator[tuple[int, str]]:
    r"""The file's text in pieces of BIBTEX_PIECE blocks, each with the lines before it,
    cut where a line starts a block. Whole lines are looked at as they are read; the
    part of a line after the last line break waits for the next read. A block (or what
    comes before the first) is at most LONGEST_BLOCK characters, so memory stays bounded.
    Every line break is given as ``\n``: bibtexparser counts lines by it alone, and named
    the wrong line in a file from classic Mac OS (``\r``)."""
    held = ""  # read and not given yet: whole lines up to `whole`, then part of one
    scanned = blocks = start = before = 0  # `start`: where in `held` the last block starts
    newlines = io.IncrementalNewlineDecoder(None, translate=True)  # \r\n and \r as \n
    while True:
        chunk = file.read(READ_SIZE)
        held += newlines.decode(chunk, final=not chunk)
        whole = held.rfind("\n") + 1 if chunk else len(held)
        cut = 0  # where in `held` the piece being gathered starts
        for found in _block_starts(held, scanned, whole):
            if found - start > LONGEST_BLOCK:
                raise _not_bibtex(held, start + LONGEST_BLOCK, before, cut)
            if blocks == BIBTEX_PIECE:
                yield before, held[cut:found]
                before += held.count("\n", cut, found)
                cut, blocks = found, 0
            blocks += 1
            start = found
        if whole - start > LONGEST_BLOCK:
            raise _not_bibtex(held, start + LONGEST_BLOCK, before, cut)
        if len(held) - whole >= LONGEST_BLOCK:  # a line no block could hold, still going on
            raise _not_bibtex(held, whole, before, cut)
        held, scanned, start = held[cut:], whole - cut, start - cut
        if not chunk:
            break
    if held:
        yield before, held


def _block_starts(text: str, scanned: int, whole: int) -> Iterator[int]:
    """Where the lines that start a block begin, among the whole lines
    ``text[scanned:whole]`` (``scanned`` is 0, the file's start, or after a line break)."""
    if scanned == 0 and _BLOCK_START.match(text, 0, whole):
        yield 0
    for found in _BLOCK_AFTER_BREAK.finditer(text, max(scanned - 1, 0), whole):
        yield found.start() + 1


def _not_bibtex(held: str, at: int, before: int, cut: int) -> InvalidValueError:
    """The error for a block grown too long by ``held[at]``, named by its line in the file
    (``before``: the file's lines before ``held[cut]``)."""
    line = before + held.count("\n", cut, at) + 1
    return InvalidValueError(
        f"line {line}: more than {LONGEST_BLOCK:,} characters without an entry's start:"
        " not BibTeX; nothing was imported"
    )


def _plain(value: str) -> str:
    """A BibTeX value as text: braces dropped, LaTeX escapes undone, spaces folded."""
    text = _LATEX_ESCAPE.sub(r"\1", value).replace("{", "").replace("}", "")
    return " ".join(text.split())


def _arxiv_id_of(fields: dict[str, str]) -> ArxivId | None:
    candidates = [fields.get("eprint", "")]
    doi = _ARXIV_DOI.match(fields.get("doi", ""))
    candidates += [doi[1] if doi else "", fields.get("url", "")]
    for candidate in candidates:
        try:
            return parse_arxiv_id(candidate)
        except PapercliError:
            continue
    return None


# ---------------------------------------------------------------------------
# A list of arXiv ids


def import_ids(
    conn: sqlite3.Connection,
    opener: Opener,
    new_client: ClientFactory,
    *,
    dry_run: bool = False,
    queue: bool = False,
) -> ImportReport:
    """Add the arXiv ids of a list (``_listed_ids``). Its lines are read a chunk at a time,
    each id once (those seen wait on disk) and matched with the papers there, and every
    line is checked before anything is written: a list of a million ids already there
    took 163 MB held as the file's text, its lines and its ids. The papers not there yet
    are held, to be added from arXiv at its pace."""
    report = ImportReport("text", dry_run)
    new: list[str] = []
    with scratch.ScratchQueue() as matched:
        with opener() as file:
            for arxiv_id, holder in known_or_new(conn, _listed_ids(file)):
                if holder is not None:
                    _matched(holder, matched, report, queue=queue)
                else:
                    new.append(arxiv_id)
        for paper_id in _add_from_arxiv(conn, new, new_client, report, queue=queue):
            _matched(paper_id, matched, report, queue=queue)
        if queue:
            _queue_matched(conn, matched, report)
    return report


def _stopped(cause: PapercliError, report: ImportReport, not_added: Sequence[str]) -> PapercliError:
    """arXiv failed after the import had added papers (a BibTeX file's typed-in entries):
    the error says which stay, as ``add``'s does, rather than seeming to import nothing."""
    return PapercliError(
        f"{cause.message}; the import added {report.added.named(5)} before that, but not"
        f" {library.names_list(list(not_added))}; import the file again to add them",
        cause.exit_code,
    )


def _listed_ids(file: TextIO) -> Iterator[str]:
    """The arXiv id or URL on each line that has one (blank lines and # comments skipped);
    a line with anything else, or too long to hold one, is an error naming it, and
    nothing is imported; so is a file without one id (an empty one, as a BibTeX file
    without an entry: no success)."""
    listed = False
    try:
        for number, line in enumerate(bounded_lines(file), 1):
            item = _COMMENT.split(line, 1)[0].strip()
            if not item:
                continue
            try:
                listed = True
                yield parse_arxiv_id(item).id
            except PapercliError as exc:
                raise InvalidValueError(
                    f"line {number}: {exc.message}; nothing was imported"
                ) from None
    except LineTooLong as long:
        raise InvalidValueError(
            f"line {long.number} is longer than {MAX_LINE:,} characters: no list of arXiv"
            " ids; nothing was imported"
        ) from None
    if not listed:
        raise InvalidValueError(
            "the file names no arXiv id (one a line; # starts a comment); nothing was imported"
        )


def _add_from_arxiv(
    conn: sqlite3.Connection,
    arxiv_ids: Sequence[str],
    new_client: ClientFactory,
    report: ImportReport,
    *,
    queue: bool,
    entry_keys: Mapping[str, str] | None = None,
) -> list[str]:
    """Fetch and add papers (batched requests), each cited by its BibTeX entry's key in
    ``entry_keys`` where it can be; a dry run only lists them. Returns the papers found to
    be there already (added meanwhile by another papercli)."""
    if not arxiv_ids:
        return []
    if report.dry_run:
        report.added.extend(arxiv_ids)
        if queue:
            report.queued.extend(arxiv_ids)  # arXiv ids: the papers get their ids when added
        return []
    entry_keys = entry_keys or {}
    from papercli.fetching import add_papers

    def added(papers: list[Paper], queued: list[str]) -> None:
        report.added.extend(paper.id for paper in papers)
        report.queued.extend(queued)
        for paper in papers:
            if paper.arxiv_id and paper.citation_key and paper.arxiv_id in entry_keys:
                _cited_as(entry_keys[paper.arxiv_id], paper.citation_key, report.warnings)

    there: list[str] = []  # the ids were new when the file was read: few, if any
    typed_in = report.added.count  # added from the file itself, before arXiv is asked
    try:
        with new_client() as client:
            summary = add_papers(
                conn,
                arxiv_ids,
                client,
                queue=queue,
                keys={i: key for i, key in entry_keys.items() if is_citation_key(key)},
                on_added=added,
                on_existing=lambda arxiv_id, paper_id: there.append(paper_id),
            )
    except AddStopped as stopped:
        if not typed_in:
            raise  # it counts all that was added
        raise _stopped(stopped.cause, report, stopped.not_added) from None
    except PapercliError as exc:
        if not typed_in:
            raise  # nothing was added: the one-line error says it all
        raise _stopped(exc, report, arxiv_ids) from None
    report.not_found += summary.not_found
    report.failed.update(summary.failed)
    busy = "arXiv returned nothing for it (it does that when busy); import again later"
    report.failed.update(dict.fromkeys(summary.unanswered, busy))
    report.warnings.extend(
        f"skipped an entry arXiv sent: {s.label} ({s.reason})" for s in summary.skipped
    )
    return there
