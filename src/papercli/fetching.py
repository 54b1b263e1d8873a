"""Bring arXiv's metadata into the database: refresh known papers, add new ones.

The core behind ``fetch`` and ``add``: no terminal here. The client is passed in, so
tests hand it a fake clock; every batch is saved in its own transaction as it
arrives, so an interrupted run keeps what it already fetched, and running the same
command again completes it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from functools import partial
from itertools import chain, islice
from typing import TYPE_CHECKING

from papercli import refs
from papercli.arxiv_ids import parse_arxiv_id
from papercli.errors import InvalidValueError, PapercliError
from papercli.models import (
    MAX_NAME,
    VENUES,
    ArxivRecord,
    Author,
    Paper,
    is_doi,
    is_real_day,
    split_venue,
    web_address,
)
from papercli.names import first_free, is_one_line, name_key, person_key, slugify
from papercli.records import datarecord, field
from papercli.store import arxiv_meta, authors, library, lookups, papers, scratch
from papercli.store.base import transaction
from papercli.textlayout import clipped, counted

if TYPE_CHECKING:
    from papercli.arxiv import ArxivClient, BatchResult
    from papercli.feed import SkippedEntry

# Percent similarity (after folding case and punctuation) above which arXiv's title is
# taken to name the catalogue's paper: absorbs "LLaMA"/"Llama", a trailing period or a
# small rewording between versions, but not a different paper.
TITLE_SIMILARITY = 90
# Left out of generated ids: "attention-all-you-need", not "attention-is-all-you".
_STOPWORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "is", "of", "on", "or"}
    | {"the", "to", "via", "with"}
)
_SHORT_NAME_MAX = 30
_SLUG_WORDS = 4


def titles_match(curated: str, arxiv_title: str) -> bool:
    """Whether arXiv's title is the catalogue's, give or take case, punctuation and typos."""
    from rapidfuzz import fuzz

    ours, theirs = name_key(curated), name_key(arxiv_title)
    return ours == theirs or fuzz.ratio(ours, theirs) >= TITLE_SIMILARITY


# ---------------------------------------------------------------------------
# fetch


@datarecord(frozen=True)
class PaperAsked:
    paper_id: str
    arxiv_id: str | None  # as asked; None when it has none that can be asked


@datarecord(frozen=True)
class FetchFailure:
    paper_id: str
    arxiv_id: str | None
    reason: str


@datarecord(frozen=True)
class TitleMismatch:
    paper_id: str
    arxiv_id: str
    title: str  # the catalogue's, which was kept
    arxiv_title: str  # what arXiv calls the paper with that id


@datarecord(frozen=True)
class AuthorMismatch:
    paper_id: str
    arxiv_id: str
    authors: list[str]  # the catalogue's, which are kept
    arxiv_authors: list[str]


class FetchSummary:
    """How each paper fared, kept on disk: a fetch of every paper of a million-paper
    library reports each of them. Read it, then close it (or use it as a context manager).

    Each paper has one outcome (updated, unchanged, not found, failed, title mismatch or
    unanswered); ``authors_differ`` and ``skipped`` (arXiv's unusable entries) come besides.
    """

    def __init__(self) -> None:
        self._report = scratch.ScratchReport()
        self.papers_done = 0
        # Why the fetch stopped partway, when it did; the papers not asked are failed.
        self.stopped: PapercliError | None = None

    def __enter__(self) -> FetchSummary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._report.close()

    def count(self, outcome: str) -> int:
        """How many papers had ``outcome``: a key of the JSON report."""
        return self._report.count(outcome)

    @property
    def ok(self) -> bool:
        return not any(map(self.count, ("not_found", "failed", "title_mismatch", "unanswered")))

    def note(self, outcome: str, paper_id: str, arxiv_id: str | None) -> None:
        """``outcome``: updated, unchanged, not_found or unanswered."""
        self._report.note(outcome, paper_id, arxiv_id)
        self.papers_done += 1

    def note_failed(self, paper_id: str, arxiv_id: str | None, reason: str) -> None:
        self._report.note("failed", paper_id, arxiv_id, reason)
        self.papers_done += 1

    def note_mismatch(self, mismatch: TitleMismatch) -> None:
        m = mismatch
        self._report.note("title_mismatch", m.paper_id, m.arxiv_id, m.title, m.arxiv_title)
        self.papers_done += 1

    def note_authors_differ(self, m: AuthorMismatch) -> None:
        self._report.note("authors_differ", m.paper_id, m.arxiv_id, m.authors, m.arxiv_authors)

    def note_skipped(self, entry: SkippedEntry) -> None:
        self._report.note("skipped", entry.label, entry.reason)

    def papers(self, outcome: str) -> Iterator[PaperAsked]:
        """The papers ``updated``, ``unchanged``, ``not_found`` or ``unanswered``, in order."""
        return (PaperAsked(*detail) for detail in self._report.noted(outcome))

    def failed(self) -> Iterator[FetchFailure]:
        return (FetchFailure(*detail) for detail in self._report.noted("failed"))

    def mismatched(self) -> Iterator[TitleMismatch]:
        return (TitleMismatch(*detail) for detail in self._report.noted("title_mismatch"))

    def authors_differ(self) -> Iterator[AuthorMismatch]:
        return (AuthorMismatch(*detail) for detail in self._report.noted("authors_differ"))

    def skipped(self) -> Iterator[tuple[str, str]]:
        """(label, reason) of each unusable entry arXiv sent."""
        return ((label, reason) for label, reason in self._report.noted("skipped"))


def papers_to_fetch(
    conn: sqlite3.Connection, paper_refs: Iterable[str] | None, *, missing: bool = False
) -> scratch.ScratchBatch:
    """The papers named (all resolved, or none), else every paper with an arXiv id (only
    never-fetched ones if asked), each once and in order, kept on disk: close it."""
    if paper_refs is not None:
        ids = refs.resolve_each(conn, paper_refs)
    else:
        ids = arxiv_meta.ids_with_arxiv_id(conn, never_fetched=missing)
    with scratch.held(ids) as given:
        return given


# Papers to ask arXiv about at once: {arXiv id: [(paper id, catalogue title)]}.
_Group = dict[str, list[tuple[str, str]]]


def fetch_metadata(
    conn: sqlite3.Connection,
    paper_ids: scratch.ScratchBatch | Sequence[str],
    client: ArxivClient,
    on_batch: Callable[[int, int], None] | None = None,
) -> FetchSummary:
    """Ask arXiv about the papers in batches and store what it says, batch by batch.

    Papers are read a chunk at a time, and how each fared goes to the summary on disk,
    so a million papers take the memory of a few batches. Curated facts win: when
    arXiv's title is not the catalogue's (a wrong id, most likely) nothing is stored for
    that paper and the mismatch is reported. If arXiv cannot be used at all the error is
    raised; if it fails after some batches were saved, the rest are reported as failed
    and ``stopped`` says why and how far it got. ``on_batch(done, total)`` follows
    progress in papers.
    """
    summary = FetchSummary()
    total = len(paper_ids)
    groups = _groups_to_ask(conn, iter(paper_ids), summary)
    asked = False
    try:
        for group in groups:
            for batch in client.fetch_batches(list(group)):
                _store_batch(conn, summary, group, batch)
            asked = True
            if on_batch is not None:
                on_batch(summary.papers_done, total)
    except PapercliError as exc:
        if not asked:
            summary.close()
            raise  # nothing was fetched: the one-line error says it all
        done = summary.papers_done
        for unasked in chain([group], groups):
            for arxiv_id, papers_of_id in unasked.items():
                for pid, _ in papers_of_id:
                    summary.note_failed(pid, arxiv_id, exc.message)
        summary.stopped = PapercliError(
            f"{exc.message}; stopped after {done} of {counted(total, 'paper')},"
            " the others are listed as failed",
            exc.exit_code,
        )
    except BaseException:
        summary.close()
        raise
    return summary


def _groups_to_ask(
    conn: sqlite3.Connection, paper_ids: Iterator[str], summary: FetchSummary
) -> Iterator[_Group]:
    """The papers, a batch of arXiv ids at a time (two papers with one id are asked
    once); those that cannot be asked are noted as failed on the way."""
    from papercli.arxiv import MAX_BATCH

    group: _Group = {}
    while chunk := list(islice(paper_ids, scratch.CHUNK)):
        known = arxiv_meta.arxiv_ids_and_titles(conn, chunk)
        for pid in chunk:
            arxiv_id, title = known[pid]
            if arxiv_id is None:
                summary.note_failed(pid, None, "it has no arXiv id")
                continue
            try:
                canonical = parse_arxiv_id(arxiv_id).id
            except InvalidValueError as exc:
                summary.note_failed(pid, None, exc.message)
                continue
            group.setdefault(canonical, []).append((pid, title))
            if len(group) == MAX_BATCH:
                yield group
                group = {}
    if group:
        yield group


def _store_batch(
    conn: sqlite3.Connection, summary: FetchSummary, group: _Group, batch: BatchResult
) -> None:
    """Store what arXiv said of a group in one transaction, then note how each paper
    fared; a paper leaves the group once its record is committed (until then, a stop
    reports it as not asked)."""
    fetched_at = library.clock()
    noted: list[Callable[[], None]] = []
    with transaction(conn):
        for arxiv_id, record in batch.records.items():
            for pid, title in group[arxiv_id]:
                noted.append(
                    _store_checked(conn, summary, pid, arxiv_id, title, record, fetched_at)
                )
    for arxiv_id in batch.records:
        del group[arxiv_id]
    for note in noted:
        note()
    for outcome, missing in (("not_found", batch.not_found), ("unanswered", batch.unanswered)):
        for arxiv_id in missing:
            for pid, _ in group.pop(arxiv_id):
                summary.note(outcome, pid, arxiv_id)
    for arxiv_id, reason in batch.failed.items():
        for pid, _ in group.pop(arxiv_id):
            summary.note_failed(pid, arxiv_id, reason)
    for entry in batch.skipped:
        summary.note_skipped(entry)


def _store_checked(
    conn: sqlite3.Connection,
    summary: FetchSummary,
    paper_id: str,
    arxiv_id: str,
    title: str,
    record: ArxivRecord,
    fetched_at: str,
) -> Callable[[], None]:
    """Store arXiv's record of a paper unless its title is another paper's; returns how
    to note the outcome once the transaction is committed."""
    if not titles_match(title, record.title):
        return partial(
            summary.note_mismatch, TitleMismatch(paper_id, arxiv_id, title, record.title)
        )
    before = arxiv_meta.arxiv_record(conn, paper_id)
    if before is not None and before[0].arxiv_id == arxiv_id and record.version < before[0].version:
        # arXiv answers an id without a version with its latest: an older one is a stale
        # copy (a cache, a mirror), which took the paper's version and dates back.
        kept = before[0].version
        reason = (
            f"arXiv sent version {record.version}, older than version {kept} fetched before"
            f" (a stale copy?); kept version {kept}"
        )
        return partial(summary.note_failed, paper_id, arxiv_id, reason)
    arxiv_meta.store_arxiv_record(conn, paper_id, record, fetched_at)
    differ: AuthorMismatch | None = None
    if papers.origin_of(conn, paper_id) == "user":
        authors.write_authors(conn, paper_id, _authors_of(record))
    else:
        ours = [a.name for a in authors.authors_of(conn, paper_id)]
        theirs = [a.name for a in record.authors]
        if [person_key(n) for n in ours] != [person_key(n) for n in theirs]:
            differ = AuthorMismatch(paper_id, arxiv_id, ours, theirs)
    outcome = "unchanged" if before is not None and before[0] == record else "updated"

    def note() -> None:
        summary.note(outcome, paper_id, arxiv_id)
        if differ is not None:
            summary.note_authors_differ(differ)

    return note


# ---------------------------------------------------------------------------
# add


@datarecord
class AddSummary:
    """What an add did besides what it gave its callbacks: the papers it added, batch by
    batch (an add of thousands of ids takes minutes, at arXiv's pace), and those there
    already."""

    added: int = 0
    queued: int = 0
    existing: int = 0  # papers there already
    not_found: list[str] = field(default_factory=list)  # arXiv ids arXiv does not know
    failed: dict[str, str] = field(default_factory=dict)  # arXiv id -> arXiv's reason
    unanswered: list[str] = field(default_factory=list)  # arXiv sent nothing for them
    skipped: list[SkippedEntry] = field(default_factory=list)  # arXiv's unusable entries

    @property
    def ok(self) -> bool:
        return not (self.not_found or self.failed or self.unanswered)


class AddStopped(PapercliError):
    """arXiv failed partway through an add. What was added stays (and is queued if asked);
    the message says how far it got, and the same command again adds the rest."""

    def __init__(self, cause: PapercliError, summary: AddSummary, not_added: list[str]) -> None:
        super().__init__(
            f"{cause.message}; added {counted(summary.added, 'paper')} before that, but not"
            f" {library.names_list(not_added)};"
            " run the same command again to add them",
            cause.exit_code,
        )
        self.summary = summary
        self.cause = cause
        self.not_added = not_added


Added = Callable[[list[Paper], list[str]], object]
"""Told, once each batch is saved, the papers it added and the ids of those it queued."""
Existing = Callable[[str, str], object]
"""Told the arXiv id and the paper of each one there already."""


def add_papers(
    conn: sqlite3.Connection,
    arxiv_refs: Iterable[str],
    client: ArxivClient,
    *,
    slug: str | None = None,
    topics: Sequence[str] = (),
    queue: bool = False,
    keys: Mapping[str, str] | None = None,
    on_added: Added = lambda papers, queued: None,
    on_existing: Existing = lambda arxiv_id, paper_id: None,
) -> AddSummary:
    """Add arXiv papers to the user's list, asking arXiv about the new ones a batch (100)
    at a time.

    Everything the user typed is checked before any request: the ids, ``slug`` (only
    with a single id) and the topics. The references are read a thousand at a time, each
    id once (those seen, and those there already, wait on disk), as an import of an id
    list reads them: a million need not be held. Papers already in the catalogue or the
    list, by version-less arXiv id, go to ``on_existing`` once all are checked, rather
    than being added twice. A new paper is cited by its key in ``keys`` when no other
    paper has it. Each batch is saved, and queued, as it arrives, then given to
    ``on_added`` and let go; if arXiv fails after that, AddStopped carries the summary so
    far.
    """
    new: list[str] = []
    summary = AddSummary()
    with scratch.ScratchReport() as there:
        for arxiv_id, holder in known_or_new(conn, (parse_arxiv_id(r).id for r in arxiv_refs)):
            if holder is not None:
                there.note("existing", arxiv_id, holder)
            else:
                new.append(arxiv_id)
        summary.existing = there.count("existing")
        if slug is not None:
            if summary.existing + len(new) != 1:
                raise InvalidValueError(
                    f"--id names one paper, but {summary.existing + len(new)} arXiv ids were"
                    " given; add them one at a time to choose their ids"
                )
            _check_slug(conn, slug)
        topic_names = papers.resolve_topics(conn, topics)
        for arxiv_id, paper_id in there.noted("existing"):
            on_existing(arxiv_id, paper_id)
    if not new:
        return summary
    pending = dict.fromkeys(new)
    try:
        for batch in client.fetch_batches(new):
            fetched_at = library.clock()
            added: list[Paper] = []
            with transaction(conn):
                for arxiv_id, record in batch.records.items():
                    paper = new_paper(conn, arxiv_id, record, slug, topic_names)
                    paper.citation_key = (keys or {}).get(arxiv_id)
                    paper.citation_key = papers.insert_paper(conn, paper)
                    arxiv_meta.store_arxiv_record(conn, paper.id, record, fetched_at)
                    added.append(paper)
                queued = library.record_added(conn, [p.id for p in added], fetched_at, queue=queue)
            summary.added += len(added)
            summary.queued += len(queued)
            summary.not_found += batch.not_found
            summary.unanswered += batch.unanswered
            summary.failed.update(batch.failed)
            summary.skipped += batch.skipped
            for arxiv_id in [*batch.records, *batch.missing, *batch.failed]:
                pending.pop(arxiv_id, None)
            if added:
                on_added(added, queued)
    except PapercliError as exc:
        if len(pending) == len(new):
            raise  # nothing was asked for: the one-line error says it all
        raise AddStopped(exc, summary, list(pending)) from None
    return summary


def known_or_new(
    conn: sqlite3.Connection, arxiv_ids: Iterable[str]
) -> Iterator[tuple[str, str | None]]:
    """Each arXiv id once, in order, with the paper holding it (None when none does), read
    and looked up a chunk at a time, those seen waiting on disk: a list of a million need
    not be held (``add -`` and ``import`` of an id list)."""
    with scratch.ScratchSet() as seen:
        ids = iter(arxiv_ids)
        while chunk := list(islice(ids, scratch.CHUNK)):
            fresh = seen.add_new(chunk)
            held = lookups.ids_by_arxiv_ids(conn, fresh)
            for arxiv_id in fresh:
                yield arxiv_id, held.get(arxiv_id)


def new_paper(
    conn: sqlite3.Connection,
    arxiv_id: str,
    record: ArxivRecord,
    slug: str | None,
    topics: list[str],
) -> Paper:
    return _new_paper(conn, arxiv_id, record, slug, topics, set())


def new_papers(
    conn: sqlite3.Connection, records: Iterable[tuple[str, ArxivRecord]], topics: list[str]
) -> list[Paper]:
    """``new_paper`` of each (arXiv id, record), for ``insert_papers`` to add together:
    each id is free of the ones before it here too, as if each were added before the next
    were made (each made, inserted and looked up alone took a third of a keep's time)."""
    names: set[str] = set()  # the name keys of the ids and short names made here
    made = []
    for arxiv_id, record in records:
        paper = _new_paper(conn, arxiv_id, record, None, topics, names)
        names.update(key for key in (name_key(paper.id), name_key(paper.short_name)) if key)
        made.append(paper)
    return made


def _new_paper(
    conn: sqlite3.Connection,
    arxiv_id: str,
    record: ArxivRecord,
    slug: str | None,
    topics: list[str],
    names: set[str],
) -> Paper:
    short_name = short_name_for(record.title)
    year = int(record.published[:4])
    affiliations = [a for author in record.authors for a in author.affiliations]
    return Paper(
        authors=_authors_of(record),
        id=slug or _free_slug(conn, short_name, year, names),
        title=record.title,
        short_name=short_name,
        year=year,
        date=record.published[:10],
        arxiv_id=arxiv_id,
        primary_category=record.primary_category,
        organizations=arxiv_meta.organizations_in(conn, affiliations),
        topics=topics,
        origin="user",
    )


def _authors_of(record: ArxivRecord) -> list[Author]:
    """arXiv's authors, split into family and given names for citations."""
    from papercli.export import person  # bibtexparser's name rules: only when adding

    return [person(a.name, a.affiliations) for a in record.authors]


def short_name_for(title: str) -> str:
    """What a table shows for a title: the part before a colon if short, else its start.

    ``LoRA: Low-Rank Adaptation of ...`` -> ``LoRA``; ``Heat-bath random walks with
    Markov bases`` -> ``Heat-bath random walks``.
    """
    head, colon, _ = title.partition(":")
    if colon and 0 < len(head.strip()) <= _SHORT_NAME_MAX and not _opens_a_bracket(head):
        return head.strip()
    words: list[str] = []
    for word in title.split():
        if len(" ".join([*words, word])) > _SHORT_NAME_MAX:
            break
        words.append(word)
    # It is not cut inside brackets ("Attention Sinks (and How"): it stops before them.
    while words and _opens_a_bracket(" ".join(words)):
        words.pop()
    # Nor does it end on a joining word or a sign ("Attention &", "Models, Data,").
    while words and (words[-1].casefold() in _STOPWORDS or not any(map(str.isalnum, words[-1]))):
        words.pop()
    return " ".join(words).rstrip(",;") or title[:_SHORT_NAME_MAX]


def _opens_a_bracket(text: str) -> bool:
    """Whether ``text`` opens a bracket it does not close."""
    return text.count("(") > text.count(")") or text.count("[") > text.count("]")


@datarecord(frozen=True)
class PaperByHand:
    """What a user types for a paper that is not on arXiv."""

    title: str
    authors: Sequence[str | Author]  # "Given Family", or already split (a BibTeX name)
    date: str  # YYYY, YYYY-MM or YYYY-MM-DD
    url: str | None = None
    venue: str = ""
    doi: str | None = None


def add_by_hand(
    conn: sqlite3.Connection,
    given: PaperByHand,
    *,
    slug: str | None = None,
    topics: Sequence[str] = (),
    queue: bool = False,
) -> tuple[Paper, str | None]:
    """Add a paper that is not on arXiv (a journal article, a report, a blog post) from
    what the user typed, checked first; one undoable command, with its queue place.
    A paper with its DOI, or (unless an id is asked for) its title and year, is one there
    already: nothing is added, and its id comes back too (the same add typed twice made
    two papers)."""
    with transaction(conn):
        paper = paper_by_hand(conn, given, slug=slug, topics=topics)
        there = (paper.doi and lookups.id_by_doi(conn, paper.doi)) or (
            None if slug is not None else _same_title_and_year(conn, paper)
        )
        if there:
            return paper, there
        paper.citation_key = papers.insert_paper(conn, paper)
        library.record_added(conn, [paper.id], library.clock(), queue=queue)
    return paper, None


def _same_title_and_year(conn: sqlite3.Connection, paper: Paper) -> str | None:
    """The paper first added with this title (in any case), if it is of the same year and
    has no other DOI."""
    there = lookups.id_by_title(conn, paper.title)
    if there is None:
        return None
    found = papers.get_paper(conn, there)
    dois = {doi.lower() for doi in (paper.doi, found.doi) if doi}
    return there if found.year == paper.year and len(dois) < 2 else None


def paper_by_hand(
    conn: sqlite3.Connection,
    given: PaperByHand,
    *,
    slug: str | None = None,
    topics: Sequence[str] = (),
    names: Container[str] = (),
    said_as: Callable[[str], str] = "--{}".format,
) -> Paper:
    """Check what was given and make the paper, for ``papers.insert_papers``: its id is
    free in the list and of the name keys ``names`` (papers made, not yet inserted).
    ``said_as`` names a field in an error as the user gave it: ``add``'s ``--title``, a
    BibTeX entry's ``title``."""
    title = " ".join(given.title.split())
    if title and not any(char.isprintable() and not char.isspace() for char in title):
        # Zero-width characters alone (U+200B): listings showed a blank title.
        raise InvalidValueError(f"{said_as('title')} has no character to show")
    if not title or len(title) > MAX_NAME or not is_one_line(title):
        raise InvalidValueError(
            f"{said_as('title')} must be one line of text, at most {MAX_NAME:,} characters,"
            " without control characters"
        )
    for name, value in (("url", given.url), ("doi", given.doi)):
        if value is not None and len(value) > MAX_NAME:  # an import would refuse it
            raise InvalidValueError(f"{said_as(name)} has at most {MAX_NAME:,} characters")
    match = _BY_HAND_DATE.fullmatch(given.date)
    if match is None or not 1000 <= int(match[1]) <= 9999:
        raise InvalidValueError(f"{given.date!r} is not a date: give YYYY, YYYY-MM or YYYY-MM-DD")
    if not is_real_day(given.date):
        raise InvalidValueError(f"{given.date!r} is not a day of the calendar")
    url = None if given.url is None else web_address(given.url)
    if given.url is not None and url is None:
        raise InvalidValueError(
            f"{said_as('url')} {given.url!r}: only http(s) addresses of printable text are kept"
        )
    if given.venue and split_venue(given.venue) is None:
        known = ", ".join(VENUES)
        raise InvalidValueError(
            f"{said_as('venue')} {given.venue!r}: give '<series> <year>' with one of {known}"
        )
    if given.doi is not None and not is_doi(given.doi):
        raise InvalidValueError(f"{said_as('doi')} {given.doi!r} is not a DOI (10.NNNN/...)")
    from papercli.export import typed_author

    people = [
        a if isinstance(a, Author) else typed_author(a)
        for a in given.authors
        if "".join((a.name if isinstance(a, Author) else a).split()).strip("{}")
    ]
    if not people or any(not a.name.strip() for a in people):
        raise InvalidValueError(
            f'give each author with {said_as("author")} "Given Family" (at least one)'
        )
    for person in people:
        if not is_one_line(person.name):
            raise InvalidValueError(
                f"{said_as('author')} {clipped(person.name, 41)!r} must be one line of text,"
                " without control characters"
            )
    if any(len(a.name) > MAX_NAME for a in people):
        raise InvalidValueError(f"{said_as('author')}: a name has at most {MAX_NAME:,} characters")
    if slug is not None:
        _check_slug(conn, slug)
    topic_names = papers.resolve_topics(conn, topics)
    year = int(match[1])
    short_name = short_name_for(title)
    return Paper(
        id=slug or _free_slug(conn, short_name, year, names),
        title=title,
        short_name=short_name,
        year=year,
        date=given.date,
        url=url,
        topics=topic_names,
        origin="user",
        authors=people,
        venue=given.venue,
        doi=given.doi,
    )


_BY_HAND_DATE = re.compile(r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")


def _free_slug(
    conn: sqlite3.Connection, short_name: str, year: int, names: Container[str] = ()
) -> str:
    """A readable id not yet taken (nor its name key in ``names``): ``lora``, else
    ``lora-2021``, else ``lora-2021-2``..."""
    words = [w for w in slugify(short_name).split("-") if w and w not in _STOPWORDS]
    base = "-".join(words[:_SLUG_WORDS]) or "paper"
    return first_free(
        lambda n: f"{base}-{year}-{n}" if n > 1 else f"{base}-{year}" if n else base,
        lambda slug: name_key(slug) in names or not _free(conn, slug),
    )


def _free(conn: sqlite3.Connection, slug: str) -> bool:
    # Ids, short names and aliases share one namespace in refs.resolve; a short name many
    # papers share ("Field Notes") is one row to read, not all of theirs.
    return not lookups.name_taken(conn, name_key(slug))


def _check_slug(conn: sqlite3.Connection, slug: str) -> None:
    if len(slug) > MAX_NAME:
        raise InvalidValueError(f"an id has at most {MAX_NAME:,} characters")
    if not slug or slugify(slug) != slug:
        hint = f", e.g. {slugify(slug)!r}" if slugify(slug) else ""
        raise InvalidValueError(
            f"{slug!r} cannot be an id: use lowercase letters, digits and hyphens{hint}"
        )
    if not _free(conn, slug):
        holder = lookups.ids_by_name(conn, name_key(slug))[0]
        raise InvalidValueError(f"{slug!r} is already taken (by {holder}); choose another --id")
