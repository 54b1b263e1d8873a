"""The arXiv inbox: pull the daily listing for the watched categories, keep what matches
a watch, rank it by the user's reading, and triage it into the list. No terminal here.

A pull is all or nothing: the listing (and the API pages that catch up on missed days)
are all fetched and parsed before anything is written, in one transaction, so a failed
pull leaves the inbox as it was and the next pull asks again.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from papercli import affinity, arxiv_ids, refs, watching
from papercli.errors import ArxivAPIError, InvalidValueError, NotFoundError
from papercli.fetching import new_papers
from papercli.models import ArxivRecord, ListingItem, Paper, Watch
from papercli.records import datarecord, field
from papercli.store import arxiv_meta, changes, inbox, library, notes, papers, scratch, watches
from papercli.store.base import transaction
from papercli.textlayout import counted

if TYPE_CHECKING:
    from papercli.arxiv import ArxivClient
    from papercli.feed import SkippedEntry

CATCH_UP_DAYS = 7  # the default bound on how far back a pull catches up through the API
PER_DAY = 1000  # API results asked for per day caught up on (arXiv's window is 10,000)
KEEP_DECIDED_DAYS = 30  # kept and dismissed items are pruned this long after the decision


@datarecord
class PullSummary:
    categories: list[str]
    url: str
    not_modified: bool = False  # the listing had not changed since the last pull (HTTP 304)
    empty: bool = False  # arXiv announced nothing today (weekend or holiday)
    listing_date: str | None = None
    announcements: int = 0  # papers in the listing (and the catch-up), once each
    new_items: list[str] = field(default_factory=list)  # arXiv ids now in the inbox
    already: int = 0  # matched, but already in the inbox or decided about
    alerts: list[inbox.VersionAlert] = field(default_factory=list)
    caught_up: tuple[str, str] | None = None  # the days asked of the API, first and last
    caught_up_count: int = 0
    bounded_from: str | None = None  # the day the catch-up wanted to start from, if cut
    truncated: bool = False  # the API had more than PER_DAY a day
    skipped: list[SkippedEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pruned: int = 0


def pull(
    conn: sqlite3.Connection,
    client: ArxivClient,
    *,
    since: date | None = None,
    max_days: int = CATCH_UP_DAYS,
    today: date | None = None,
) -> PullSummary:
    """Fetch today's listing (one request) and, when pulls were missed or ``since`` asks,
    the days before it from the API; store what matches a watch."""
    from papercli.feed import parse_listing

    all_watches = watches.all_watches(conn)
    if not all_watches:
        raise InvalidValueError(
            "there are no watches to pull for; add one with:"
            " papercli watch add NAME --category cs.CL"
        )
    if max_days < 1:
        raise InvalidValueError(f"--max-days must be at least 1, not {max_days}")
    categories = sorted({c for w in all_watches for c in w.categories})
    state = inbox.pull_state(conn)
    same_feed = state.get("categories") == categories
    answer = client.fetch_listing(
        categories,
        etag=state.get("etag") if same_feed and since is None else None,
        last_modified=state.get("last_modified") if same_feed and since is None else None,
    )
    summary = PullSummary(categories, answer.url)
    items: list[ListingItem] = []
    if answer.body is None:
        summary.not_modified = True
        summary.listing_date = state.get("listing_date")
    else:
        try:
            listing = parse_listing(answer.body)
        except Exception as exc:
            category = getattr(exc, "category", None)
            if category is not None:
                raise _unknown_category(exc, category, all_watches) from None
            raise
        _check_not_older(listing.announced, state.get("listing_date"))
        summary.empty, summary.listing_date = listing.empty, listing.announced
        summary.skipped, summary.warnings = listing.skipped, listing.warnings
        items = listing.items
    start = since or _missed_since(state.get("listing_date"), summary.listing_date)
    end = _day(summary.listing_date) or today or date.today()
    if start is not None and start <= end:
        if (end - start).days >= max_days:
            summary.bounded_from = start.isoformat()
            start = end - timedelta(days=max_days - 1)
        records, summary.truncated = _catch_up(client, categories, start, end)
        asked = [r for r in records if _asked_for(r, categories, start, end)]
        if len(asked) < len(records):
            summary.warnings.append(
                f"ignored {counted(len(records) - len(asked), 'paper')} arXiv sent from outside"
                " the days or categories asked for"
            )
        records = asked
        summary.caught_up = (start.isoformat(), end.isoformat())
        summary.caught_up_count = len(records)
        items += [_as_item(record, categories) for record in records]
    _store(conn, summary, watching.one_item_per_paper(items), all_watches, state, answer)
    return summary


def _check_not_older(announced: str | None, last: object) -> None:
    """A listing older than the last one pulled is a cache's stale copy: stored, it rewound
    the pull's date (the next pull caught up again on days already pulled)."""
    new_day, last_day = _day(announced), _day(last if isinstance(last, str) else None)
    if new_day is not None and last_day is not None and new_day < last_day:
        raise ArxivAPIError(
            f"arXiv sent the listing of {new_day}, older than the one already pulled"
            f" ({last_day}); a cache on the way may have kept an old copy: nothing was"
            " stored, try again later"
        )


def _missed_since(last: str | None, current: str | None) -> date | None:
    """The first day to catch up on: the day of the last listing pulled, when the current
    one is more than a day after it (a first pull has nothing to catch up on)."""
    last_day, current_day = _day(last), _day(current)
    if last_day is None or current_day is None or (current_day - last_day).days <= 1:
        return None
    # Fridays' listings are followed by Mondays': the weekend announces nothing.
    if (current_day - last_day).days <= 3 and current_day.weekday() == 0:
        return None
    return last_day


def _catch_up(
    client: ArxivClient, categories: list[str], start: date, end: date
) -> tuple[list[ArxivRecord], bool]:
    cats = " OR ".join(f"cat:{c}" for c in categories)
    window = f"[{start:%Y%m%d}0000 TO {end:%Y%m%d}2359]"
    limit = min(PER_DAY * ((end - start).days + 1), 10_000)
    records: list[ArxivRecord] = []
    truncated = False
    for page in client.search_pages(f"({cats}) AND submittedDate:{window}", limit=limit):
        records += page.records
        truncated = truncated or page.truncated
    return records, truncated


def _asked_for(record: ArxivRecord, categories: list[str], start: date, end: date) -> bool:
    """Whether a searched paper is one the catch-up asked for: submitted in its days, in
    one of its categories (a search answered with others filled the inbox with papers of
    2012 dated as caught up)."""
    return start.isoformat() <= record.published[:10] <= end.isoformat() and any(
        category in categories for category in record.categories
    )


def _as_item(record: ArxivRecord, watched: list[str]) -> ListingItem:
    """An API record as an announcement: new in its primary category, cross otherwise;
    dated by its submission, which is all the API says."""
    primary = record.primary_category or (record.categories or [""])[0]
    return ListingItem(
        arxiv_id=record.arxiv_id,
        version=record.version,
        title=record.title,
        authors=record.authors,
        abstract=record.abstract,
        categories=list(dict.fromkeys([primary, *record.categories])) if primary else [],
        announce_type="new" if primary in watched or record.version == 1 else "replace",
        announced=record.published[:10],
        dois=record.dois,
        journal_ref=record.journal_ref,
    )


def _store(
    conn: sqlite3.Connection,
    summary: PullSummary,
    items: list[ListingItem],
    all_watches: list[Watch],
    state: dict[str, object],
    answer: object,
) -> None:
    summary.announcements = len(items)
    now = library.clock()
    with transaction(conn):
        in_list = inbox.papers_with_arxiv_ids(conn, [i.arxiv_id for i in items])
        left_out = inbox.ids_to_leave_out(conn, [i.arxiv_id for i in items])
        matched: list[tuple[ListingItem, list[str]]] = []
        newer: list[tuple[str, int, str]] = []
        for item in items:
            if item.arxiv_id in in_list:
                if item.version >= 2:
                    newer.append((in_list[item.arxiv_id], item.version, item.announced))
                continue
            names = watching.matching_watches(item, all_watches)
            if not names:
                continue
            if item.arxiv_id in left_out:
                summary.already += 1
                continue
            matched.append((item, names))
        inbox.add_items(conn, matched, now)
        summary.new_items = [item.arxiv_id for item, _ in matched]
        raised = set(inbox.announce_versions(conn, newer))
        summary.alerts = [a for a in inbox.version_alerts(conn) if a.paper_id in raised]
        summary.pruned = inbox.prune(
            conn, announced_before=None, decided_before=_days_ago(now, KEEP_DECIDED_DAYS)
        )
        inbox.save_pull_state(
            conn,
            {
                "categories": summary.categories,
                "etag": getattr(answer, "etag", None),
                "last_modified": getattr(answer, "last_modified", None),
                "listing_date": summary.listing_date or state.get("listing_date"),
                "at": now,
            },
        )


def _unknown_category(exc: Exception, category: str, all_watches: list[Watch]) -> InvalidValueError:
    using = [w.name for w in all_watches if category.casefold() in map(str.casefold, w.categories)]
    fix = f"; fix it with: papercli watch edit {using[0]} --category ..." if using else ""
    return InvalidValueError(f"{exc}{fix}")


# -- the inbox, ranked ------------------------------------------------------------------


@datarecord(frozen=True)
class RankedItem:
    item: ListingItem
    watches: list[str]
    decision: str | None
    score: float
    reason: str


@datarecord
class Ranking:
    items: Iterator[RankedItem]  # best first, as many as asked for, read as they are used
    shown: int  # how many ``items`` gives
    matching: int  # how many items the filters select, shown or not
    stored: int  # how many items the inbox holds in all
    watches: int  # how many watches there are


def ranked(
    conn: sqlite3.Connection,
    *,
    include_decided: bool = False,
    watch: str | None = None,
    limit: int | None = None,
) -> Ranking:
    """The inbox's items, closest to the user's reading first (newest first on ties),
    scored as they are read and ordered in a heap of ``limit`` or on disk."""
    if watch is not None:
        watch = watches.get_watch(conn, watch).name
    undecided_only = not include_decided
    matching, words, docids = inbox.newest_items_extent(
        conn, undecided_only=undecided_only, watch=watch
    )
    profile = affinity.build_profile(inbox.reading_profile(conn, affinity.PROFILE_SIZE))
    stored_count, _waiting = inbox.count_items(conn)
    terms: dict[str, float] = {}
    if not profile.empty and matching:
        counts = inbox.term_counts(conn, list(profile.word_weight))
        terms = affinity.choose_terms(profile, counts, stored_count)
    keys = affinity.rank_keys(
        inbox.newest_items(conn, undecided_only=undecided_only, watch=watch),
        terms,
        lambda term: inbox.docids_with_term(conn, term),
        profile,
        docids=docids,
        average=words / matching if matching else 1.0,
    )
    items = _ranked_items(conn, _best_first(keys, limit), terms, profile)
    shown = matching if limit is None else min(limit, matching)
    return Ranking(items, shown, matching, stored_count, len(watches.all_watches(conn)))


def _best_first(
    keys: Iterator[affinity.RankKey], limit: int | None
) -> Iterator[list[tuple[int, float]]]:
    """(docid, score) of the best ``limit`` (None: all), best first, a chunk at a time:
    a few from a heap, more ordered on disk (a heap of them all is 100 bytes an item)."""
    if limit is None or limit > scratch.CHUNK:
        with scratch.ScratchRanking() as ranking:
            ranking.add(keys)
            yield from ranking.chunks(limit)
        return
    yield [(docid, -negative) for negative, _position, docid in heapq.nsmallest(limit, keys)]


def _ranked_items(
    conn: sqlite3.Connection,
    chunks: Iterator[list[tuple[int, float]]],
    terms: dict[str, float],
    profile: affinity.Profile,
) -> Iterator[RankedItem]:
    reason = affinity.Reasons(terms, profile)
    for chunk in chunks:
        scores = dict(chunk)
        for stored in inbox.items_by_docid(conn, [docid for docid, _ in chunk]):
            item = stored.item
            keys = affinity.author_keys(a.name for a in item.authors)
            why = reason(f"{item.title} {item.abstract}", keys)
            yield RankedItem(item, stored.watches, stored.decision, scores[stored.docid], why)


def alerts(conn: sqlite3.Connection) -> list[inbox.VersionAlert]:
    return inbox.version_alerts(conn)


# -- triage -----------------------------------------------------------------------------


class KeepSummary:
    """What a keep did, item by item, kept on disk: keeping every item of an inbox of a
    million reports each. Read it, then close it (or use it as a context manager)."""

    def __init__(self) -> None:
        self._report = scratch.ScratchReport()

    def __enter__(self) -> KeepSummary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._report.close()

    def note(self, outcome: str, *detail: str) -> None:
        self._report.note(outcome, *detail)

    def added(self) -> Iterator[tuple[str, str]]:
        """(paper id, title) of each paper added, in order."""
        return ((pid, title) for pid, title in self._report.noted("added"))

    def existing(self) -> Iterator[tuple[str, str]]:
        """(arXiv id, paper id) of each item already in the list."""
        return ((arxiv_id, pid) for arxiv_id, pid in self._report.noted("existing"))

    def queued(self) -> Iterator[str]:
        return (pid for (pid,) in self._report.noted("queued"))


def keep(
    conn: sqlite3.Connection,
    given: Iterable[str],
    *,
    queue: bool = False,
    tags: Sequence[str] = (),
    topics: Sequence[str] = (),
) -> KeepSummary:
    """Add inbox items to the list from what the listing said (no request), as one
    undoable command; ``fetch`` can refresh them later. The items wait on disk and are
    kept a chunk at a time: a million need not be held."""
    summary = KeepSummary()
    try:
        with _inbox_ids(conn, given) as wanted:
            topic_names = papers.resolve_topics(conn, topics)
            _keep(conn, wanted, summary, queue, tags, topic_names)
    except BaseException:
        summary.close()
        raise
    return summary


def _keep(
    conn: sqlite3.Connection,
    wanted: scratch.ScratchBatch,
    summary: KeepSummary,
    queue: bool,
    tags: Sequence[str],
    topic_names: list[str],
) -> None:
    now = library.clock()
    first: list[str] = []  # the first few papers, for the log
    with transaction(conn):
        batch = changes.begin(conn, "inbox keep", now)
        for chunk in wanted.chunks():
            found = {s.item.arxiv_id: s for s in inbox.items_by_arxiv_id(conn, chunk)}
            in_list = inbox.papers_with_arxiv_ids(conn, chunk)
            records = [(a, _as_record(found[a].item)) for a in chunk if a not in in_list]
            added = {
                paper.arxiv_id: paper
                for start in range(0, len(records), ADDED_TOGETHER)
                for paper in _add(
                    conn, batch, records[start : start + ADDED_TOGETHER], topic_names, now
                )
            }
            ids: list[str] = []
            for arxiv_id in chunk:
                if arxiv_id in in_list:
                    summary.note("existing", arxiv_id, in_list[arxiv_id])
                    ids.append(in_list[arxiv_id])
                    continue
                paper = added[arxiv_id]
                summary.note("added", paper.id, paper.title)
                ids.append(paper.id)
            inbox.decide(conn, batch, chunk, "kept", now)
            notes.add_tags(conn, batch, ids, tags)
            if queue:
                queued = library.queue_positions(conn, ids)
                to_queue = [pid for pid in dict.fromkeys(ids) if pid not in queued]
                library.enqueue(conn, batch, to_queue, library.queue_length(conn) + 1)
                for pid in to_queue:
                    summary.note("queued", pid)
            first += ids[: 5 - len(first)]
        kept = library.names_list(first, len(wanted))
        changes.finish(conn, batch, f"kept {kept} from the inbox")


ADDED_TOGETHER = 100
"""New papers a keep makes, stores and snapshots together: a query per table for them
all, where each alone took a dozen; a chunk (1,000) at once held 20 MB more."""


def _add(
    conn: sqlite3.Connection,
    batch: int,
    records: list[tuple[str, ArxivRecord]],
    topic_names: list[str],
    now: str,
) -> list[Paper]:
    """Add the papers of these (arXiv id, record), together, as steps of ``batch``; the
    same ids, keys and steps as adding them one by one. What arXiv said is stored first:
    each paper's search document is then made once, with its abstract, as it arrives."""
    if not records:
        return []
    new = new_papers(conn, records, topic_names)
    for paper in new:
        paper.added_at = now
    arxiv_meta.store_arxiv_records(
        conn, [(paper.id, record) for paper, (_, record) in zip(new, records, strict=True)], now
    )
    for paper, key in zip(new, papers.insert_papers(conn, new), strict=True):
        paper.citation_key = key
    changes.record_added(conn, batch, [paper.id for paper in new])
    return new


@datarecord
class DismissSummary:
    items: int = 0  # how many items were dismissed
    already: int = 0  # how many of those named were dismissed already
    kept: int = 0  # how many of those named were kept, and stay so
    alerts: list[str] = field(default_factory=list)  # paper ids whose version alert went


def dismiss(
    conn: sqlite3.Connection, given: Iterable[str] | None, *, watch: str | None = None
) -> DismissSummary:
    """Dismiss inbox items by arXiv id, and version alerts by paper; with ``given`` None,
    every undecided item (of ``watch`` if given) and every alert. One undoable command.
    The references, then the items, wait on disk: a million need not be held."""
    summary = DismissSummary()
    now = library.clock()
    with scratch.ScratchBatch() as references, scratch.ScratchBatch() as items:
        references.add(given or ())
        with transaction(conn):
            if given is None:
                if watch is not None:
                    watch = watches.get_watch(conn, watch).name
                items.add(inbox.undecided_ids(conn, watch))
                if watch is None:
                    summary.alerts = [a.paper_id for a in inbox.version_alerts(conn)]
            else:
                summary.alerts = _items_and_alerts(conn, references, items)
            if not (len(items) or summary.alerts):
                return summary
            batch = changes.begin(conn, "inbox dismiss", now)
            named: list[str] = []  # the first few dismissed, for the summary
            for chunk in items.chunks():
                # A kept paper is in your list: dismissing its item made `inbox --all`
                # call it dismissed, and was a step of its own.
                decided = inbox.decisions(conn, chunk)
                waiting = [a for a in chunk if decided.get(a, ("",))[0] != "kept"]
                summary.kept += len(chunk) - len(waiting)
                dismissed = inbox.decide(conn, batch, waiting, "dismissed", now)
                summary.items += len(dismissed)
                named += dismissed[:5]
            summary.already = len(items) - summary.items - summary.kept
            inbox.dismiss_version_alerts(conn, batch, summary.alerts)
            first = [*named[:5], *summary.alerts[:5]]
            shown = library.names_list(first, summary.items + len(summary.alerts))
            changes.finish(conn, batch, f"dismissed {shown} from the inbox")
    return summary


def _items_and_alerts(
    conn: sqlite3.Connection, given: Iterable[str], items: scratch.ScratchBatch
) -> list[str]:
    """Which of the references are inbox items (by arXiv id: kept in ``items``, each
    once), and which name papers with a version alert (returned, each once);
    NotFoundError, before anything changes, for any that is neither."""
    alerted = {a.paper_id: a for a in inbox.version_alerts(conn)}
    by_arxiv = {a.arxiv_id: a.paper_id for a in alerted.values()}
    papers_alerted: list[str] = []

    def item_ids() -> Iterator[str]:
        for ref in given:
            if arxiv_ids.looks_like_arxiv_id(ref):
                arxiv_id = arxiv_ids.parse_arxiv_id(ref).id
                if inbox.in_inbox(conn, [arxiv_id]):
                    yield arxiv_id
                    continue
                if arxiv_id in by_arxiv:
                    papers_alerted.append(by_arxiv[arxiv_id])
                    continue
                raise NotFoundError(f"{arxiv_id} is not in the inbox (see: papercli inbox --all)")
            paper_id = refs.resolve(conn, ref)
            if paper_id not in alerted:
                raise NotFoundError(f"{paper_id} has no version alert in the inbox")
            papers_alerted.append(paper_id)

    items.add(item_ids())
    return list(dict.fromkeys(papers_alerted))


def _inbox_ids(conn: sqlite3.Connection, given: Iterable[str]) -> scratch.ScratchBatch:
    """The items these arXiv ids or URLs name, each once and in order, all checked before
    anything is done; kept on disk: close it."""
    with scratch.held(arxiv_ids.parse_arxiv_id(ref).id for ref in given) as wanted:
        if not len(wanted):
            raise InvalidValueError("name at least one arXiv id from the inbox")
        missing: list[str] = []  # the first few, for the message
        count = 0
        for chunk in wanted.chunks():
            there = inbox.in_inbox(conn, chunk)
            gone = [a for a in chunk if a not in there]
            missing += gone[: 5 - len(missing)]
            count += len(gone)
        if count:
            shown = library.names_list(missing, count)
            raise NotFoundError(f"not in the inbox: {shown} (see: papercli inbox --all)")
        return wanted


def _as_record(item: ListingItem) -> ArxivRecord:
    """What the listing said, as an API record: its dates are the announcement's (a new
    paper's) or the month its id names (a replaced one's); ``fetch`` gets the exact ones."""
    published = item.announced
    if item.announce_type not in ("new", "cross"):
        year, month = arxiv_ids.year_month(item.arxiv_id)
        published = f"{year:04d}-{month:02d}-01"
    return ArxivRecord(
        arxiv_id=item.arxiv_id,
        version=item.version,
        title=item.title,
        abstract=item.abstract,
        authors=item.authors,
        published=f"{published}T00:00:00Z",
        updated=f"{item.announced}T00:00:00Z",
        primary_category=item.categories[0] if item.categories else None,
        categories=item.categories,
        dois=item.dois,
        journal_ref=item.journal_ref,
        comment=None,
        abs_url=arxiv_ids.abs_url(item.arxiv_id),
        pdf_url=arxiv_ids.pdf_url(f"{item.arxiv_id}v{item.version}"),
    )


def item_url(conn: sqlite3.Connection, ref: str, *, pdf: bool = False) -> str:
    """The arXiv page (or PDF) of an inbox item, built from its checked id."""
    with _inbox_ids(conn, [ref]) as wanted:
        (item,) = (stored.item for stored in inbox.items_by_arxiv_id(conn, wanted.first(1)))
    return (
        arxiv_ids.pdf_url(f"{item.arxiv_id}v{item.version}")
        if pdf
        else arxiv_ids.abs_url(item.arxiv_id)
    )


# -- pruning ----------------------------------------------------------------------------


def prune(conn: sqlite3.Connection, older_than_days: int) -> int:
    """Delete items announced more than ``older_than_days`` ago; decisions are kept."""
    if older_than_days < 0:
        raise InvalidValueError(f"--older-than must not be negative, not {older_than_days}")
    cutoff = date.fromisoformat(library.clock()[:10]) - timedelta(days=older_than_days)
    with transaction(conn):
        return inbox.prune(conn, announced_before=cutoff.isoformat(), decided_before=None)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _days_ago(now: str, days: int) -> str:
    return (date.fromisoformat(now[:10]) - timedelta(days=days)).isoformat()
