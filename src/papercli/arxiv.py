"""A small, polite client for arXiv's API and RSS listings.

It asks and moves bytes; papercli.feed does the parsing, and papercli.transport the
HTTP (one connection, pacing, a total deadline per request, bounded retries that
honour a Retry-After only within bounds). arXiv's terms ask for one connection at a
time and at least 3 s between requests, retries included, across the API and RSS
alike (https://info.arxiv.org/help/api/tou.html), so one client makes both kinds of
request. What is arXiv's own stays here: its URLs and environment variables, id
batching, error feeds (HTTP 400) naming a rejected id, empty pages asked again, and
feeds cut off in transit, which count as failed tries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar, Unpack
from urllib.parse import quote

from papercli.arxiv_ids import ArxivId
from papercli.errors import ArxivAPIError, ArxivRefusal
from papercli.feed import (
    CutOffFeed,
    FeedError,
    ParsedFeed,
    SkippedEntry,
    check_rss,
    parse_feed,
)
from papercli.models import ArxivRecord
from papercli.records import datarecord, field
from papercli.transport import RETRY_AFTER_CAP as RETRY_AFTER_CAP  # re-exported: once here
from papercli.transport import USER_AGENT as USER_AGENT  # re-exported: once here
from papercli.transport import (
    Answer,
    PacedHttp,
    Pacing,
    TryAgain,
    extend_path,
    retry_after,
    said_url,
    url_from_environment,
)

DEFAULT_URL = "https://export.arxiv.org/api/query"
URL_ENV = "PAPERCLI_ARXIV_URL"
RSS_URL = "https://rss.arxiv.org/rss/"
RSS_URL_ENV = "PAPERCLI_ARXIV_RSS_URL"
MAX_BATCH = 100  # arxiv2bib's chunk size: longer id_lists risk HTTP 414
MAX_PAGE_SIZE = 2000  # the API's limit per request
# The API's search index serves results up to this position only; a page beyond it is
# an HTTP 500 (arXiv/arxiv-search's MAX_RESULTS), so start + max_results stays within it.
SEARCH_WINDOW = 10_000
# An ETag or Last-Modified is sent back as given: only short printable ASCII is kept.
_VALIDATOR = re.compile(r"[ -~]{1,1024}")
# Retry-After is read by papercli.transport now; its old name here is what
# tests/test_hostile_network.py checks against RETRY_AFTER_CAP.
_retry_after = retry_after

_T = TypeVar("_T")


@datarecord
class BatchResult:
    """How one batch of requested ids turned out, keyed by the ids as requested."""

    records: dict[str, ArxivRecord] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # absent from arXiv's answer
    failed: dict[str, str] = field(default_factory=dict)  # rejected, with arXiv's message
    # Entries that are no usable paper and were not sent for a requested id.
    skipped: list[SkippedEntry] = field(default_factory=list)
    empty_answer: bool = False  # arXiv sent no entry at all, even when asked twice

    @property
    def unanswered(self) -> list[str]:
        """Missing ids that arXiv more likely failed to answer for than does not know.

        Under load arXiv answers with an empty feed; several well-formed ids that are
        all unknown is less likely than that. One id alone cannot be told apart.
        """
        return list(self.missing) if self.empty_answer and len(self.missing) > 1 else []

    @property
    def not_found(self) -> list[str]:
        """Missing ids that arXiv does not know."""
        return [] if self.unanswered else list(self.missing)


@datarecord(frozen=True)
class ListingAnswer:
    """arXiv's answer to one RSS listing request, unparsed: papercli.feed.parse_listing reads it."""

    url: str  # the URL asked, e.g. https://rss.arxiv.org/rss/cs.CL+cs.LG
    body: bytes | None  # None when the server answered 304 Not Modified
    # The validators to send next time: the answer's, else (on a 304) the ones sent.
    etag: str | None
    last_modified: str | None


@datarecord(frozen=True)
class SearchPage:
    """One page of an API search, newest submissions first."""

    records: list[ArxivRecord]
    skipped: list[SkippedEntry]
    total: int | None  # opensearch:totalResults of this answer
    # True on the last page when more results exist than were asked for (the limit, or
    # the 10,000 results the API serves at most).
    truncated: bool


class ArxivClient:
    """Looks papers up by id, searches, and reads daily listings; use as a context
    manager so the connection gets closed."""

    def __init__(
        self, url: str | None = None, *, rss_url: str | None = None, **pacing: Unpack[Pacing]
    ) -> None:
        """``pacing``: see ``PacedHttp``, whose defaults are arXiv's rules (a request every
        3 s, three retries). Its ``deadline`` bounds each request in real seconds, headers
        and body included, however slowly the server drips them."""
        self.url = url or url_from_environment(URL_ENV, DEFAULT_URL)
        self._rss_url = rss_url
        self._paced = PacedHttp("arXiv", answer_error=ArxivAPIError, **pacing)

    # The transport's settings, as given to the constructor.
    @property
    def deadline(self) -> float:
        return self._paced.deadline

    @property
    def max_retries(self) -> int:
        return self._paced.max_retries

    @property
    def min_interval(self) -> float:
        return self._paced.min_interval

    @property
    def max_retry_wait(self) -> float:
        return self._paced.max_retry_wait

    @property
    def max_bytes(self) -> int:
        return self._paced.max_bytes

    @property
    def _http(self) -> object | None:
        """The open connection, None once closed: a failed session must let go of it."""
        return self._paced.connection

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._paced.close()

    def fetch_batches(
        self, ids: Sequence[ArxivId | str], batch_size: int = MAX_BATCH
    ) -> Iterator[BatchResult]:
        """Look ids up, one request per batch, yielding each batch so it can be saved at once.

        Ids are sent as given (use parse_arxiv_id first); duplicates are asked once.
        """
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}, not {batch_size}")
        wanted = list(dict.fromkeys(str(arxiv_id) for arxiv_id in ids))
        try:
            for start in range(0, len(wanted), batch_size):
                yield self._fetch_batch(wanted[start : start + batch_size])
        except (Exception, KeyboardInterrupt):
            self.close()  # a failed session should not leave a connection open
            raise

    def _fetch_batch(self, batch: list[str]) -> BatchResult:
        result = BatchResult()
        pending = list(batch)
        feed = ParsedFeed([], None)
        asked_again = False
        while pending:
            feed = self._query(pending)
            if feed.errors:
                # One malformed id fails the whole request: drop it and ask for the rest.
                bad_id, message = _rejected_id(feed.errors, pending)
                result.failed[bad_id] = message
                pending.remove(bad_id)
                continue
            if feed.records or feed.skipped or asked_again:
                break
            asked_again = True  # arXiv sometimes sends an empty page by mistake
        result.empty_answer = bool(pending) and not (feed.records or feed.skipped)
        by_id = _index(feed.records)
        unusable = {entry.arxiv_id: entry for entry in feed.skipped if entry.arxiv_id}
        explained: set[str] = set()
        for requested in pending:
            bare = re.sub(r"v[0-9]+$", "", requested)
            if requested in by_id:
                result.records[requested] = by_id[requested]
            elif bare in unusable:
                result.failed[requested] = f"arXiv sent an unusable entry ({unusable[bare].reason})"
                explained.add(bare)
            else:
                result.missing.append(requested)
        result.skipped = [entry for entry in feed.skipped if entry.arxiv_id not in explained]
        return result

    def _query(self, ids: list[str]) -> ParsedFeed:
        """One id_list request."""
        # max_results defaults to 10 even for id_list, so always send it.
        params = {"id_list": ",".join(ids), "max_results": str(len(ids))}
        return self._get(self.url, params, {}, lambda answer: self._read(self.url, answer))

    @property
    def rss_url(self) -> str:
        """Where daily listings are asked for: the argument, PAPERCLI_ARXIV_RSS_URL, or arXiv's.

        Read when used, so that a bad value stops listing requests but nothing else.
        """
        return self._rss_url or url_from_environment(RSS_URL_ENV, RSS_URL)

    def fetch_listing(
        self,
        categories: Sequence[str],
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> ListingAnswer:
        """Ask for today's RSS listing of these categories (one request), conditionally
        when validators from an earlier answer are given.

        The body is passed on unparsed, for papercli.feed.parse_listing: also on 400,
        arXiv's way of answering a category it does not know. A validator that cannot
        be sent as a header (control characters, non-ASCII, over 1,024 characters) is
        left out, which costs a full answer instead of a 304.
        """
        if isinstance(categories, str):
            raise TypeError("categories must be a sequence of category names, not one string")
        if not categories:
            raise ValueError("at least one category is needed for a listing")
        url = _listing_url(self.rss_url, categories)
        sent = {"If-None-Match": _validator(etag), "If-Modified-Since": _validator(last_modified)}
        headers = {name: value for name, value in sent.items() if value is not None}

        def read(answer: Answer) -> ListingAnswer:
            new_etag = _validator(answer.headers.get("ETag"))
            new_modified = _validator(answer.headers.get("Last-Modified"))
            if answer.status == 304:
                if not headers:  # nothing to compare with: no listing was stored
                    raise ArxivAPIError(
                        f"arXiv answered 304 Not Modified to {said_url(url)}, which asked for"
                        " the whole listing"
                    )
                return ListingAnswer(
                    url,
                    None,
                    new_etag or headers.get("If-None-Match"),
                    new_modified or headers.get("If-Modified-Since"),
                )
            if answer.status == 200 and not answer.body.strip():
                raise CutOffFeed("an empty answer instead of an RSS feed")
            if answer.status == 400 and not answer.body.strip():
                raise ArxivAPIError(
                    f"arXiv answered 400 Bad Request to {said_url(url)} without saying why"
                )
            if answer.status not in (200, 400):
                raise ArxivAPIError(
                    f"arXiv answered {answer.status} {answer.reason} to {said_url(url)}"
                )
            if answer.status == 200 and not answer.body.rstrip().endswith(b"</rss>"):
                check_rss(answer.body)  # cut off in transit: asked again, as the API is
            return ListingAnswer(url, answer.body, new_etag, new_modified)

        try:
            return self._get(url, None, headers, read)
        except (Exception, KeyboardInterrupt):
            self.close()
            raise

    def search_pages(
        self, query: str, *, page_size: int = 100, limit: int = 2000
    ) -> Iterator[SearchPage]:
        """Search the API, newest submissions first, one request per page, each page
        yielded as it arrives; at most ``limit`` results, and at most the 10,000 the
        API serves.

        ``query`` is arXiv's search_query syntax, e.g. ``cat:cs.CL AND ti:retrieval``.
        An error feed (an invalid query) is an ArxivRefusal with arXiv's message.
        """
        if not query.strip():
            raise ValueError("the search query is empty")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        return self._search_pages(query, page_size, min(limit, SEARCH_WINDOW))

    def _search_pages(self, query: str, page_size: int, cap: int) -> Iterator[SearchPage]:
        start = 0
        known_total: int | None = None
        try:
            while True:
                size = min(page_size, cap - start)
                feed = self._search_page(query, start, size, known_total)
                if start == 0 and not (feed.records or feed.skipped):
                    # A first page can come back empty by mistake, and then looks like
                    # an empty result set (totalResults 0): ask once more.
                    feed = self._search_page(query, start, size, known_total)
                records = feed.records[:size]
                skipped = feed.skipped[: size - len(records)]
                got = len(records) + len(skipped)
                if feed.total_results is not None:
                    known_total = feed.total_results
                delivered = start + got
                last = (
                    got < size
                    or (known_total is not None and delivered >= known_total)
                    or delivered >= cap
                )
                truncated = (
                    got == size
                    and delivered >= cap
                    and (known_total is None or known_total > delivered)
                )
                yield SearchPage(records, skipped, feed.total_results, truncated)
                if last:
                    return
                start = delivered
        except (Exception, KeyboardInterrupt):
            self.close()  # a failed session should not leave a connection open
            raise

    def _search_page(
        self, query: str, start: int, size: int, known_total: int | None
    ) -> ParsedFeed:
        """One search request; an empty page short of the known total is asked again."""
        params = {
            "search_query": query,
            "start": str(start),
            "max_results": str(size),
            "sortBy": "submittedDate",
            "sortOrder": "descending",
        }

        def read(answer: Answer) -> ParsedFeed:
            feed = self._read(self.url, answer)
            if feed.errors:
                raise ArxivRefusal(f"arXiv rejected the search: {feed.errors[0].message}")
            empty = not (feed.records or feed.skipped)
            if empty and known_total is not None and start < known_total:
                raise TryAgain(f"an empty page at result {start:,} of {known_total:,}")
            return feed

        return self._get(self.url, params, {}, read)

    def _get(
        self,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        read: Callable[[Answer], _T],
    ) -> _T:
        """One GET through the paced transport, which retries 429, 5xx and broken
        answers; a feed cut off in transit is one more answer worth asking again."""

        def read_whole(answer: Answer) -> _T:
            try:
                return read(answer)
            except CutOffFeed as exc:
                raise TryAgain(exc.what, reconnect=True) from None

        return self._paced.request("GET", url, read_whole, params=params, headers=headers)

    def _read(self, url: str, answer: Answer) -> ParsedFeed:
        if answer.status not in (200, 400):
            raise ArxivAPIError(
                f"arXiv answered {answer.status} {answer.reason} to {said_url(url)}"
            )
        feed = parse_feed(answer.body)
        if answer.status == 400 and not feed.errors:
            raise ArxivAPIError("arXiv answered 400 Bad Request without saying why")
        return feed


def _listing_url(base: str, categories: Sequence[str]) -> str:
    """``base`` with the categories joined by ``+`` appended to its path."""
    # Categories come checked against the taxonomy; anything else is still sent as data.
    return extend_path(base, "+".join(quote(category, safe="") for category in categories))


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified value that can be stored and sent back, else None."""
    value = (value or "").strip()
    return value if _VALIDATOR.fullmatch(value) else None


def _rejected_id(errors: list[FeedError], pending: list[str]) -> tuple[str, str]:
    """The id an error feed complains about, from its slug or its message."""
    for error in errors:
        named = {
            error.slug.removeprefix("incorrect_id_format_for_"),
            error.message.removeprefix("incorrect id format for "),
        }
        for requested in pending:
            if requested in named:
                return requested, error.message
    raise ArxivRefusal(f"arXiv rejected the request: {errors[0].message}")


def _index(records: list[ArxivRecord]) -> dict[str, ArxivRecord]:
    """Records by bare id (the latest version wins) and by versioned id; of an entry
    repeated, the first (the copies after it are ignored, as a listing's are)."""
    by_id: dict[str, ArxivRecord] = {}
    for record in records:
        by_id.setdefault(f"{record.arxiv_id}v{record.version}", record)
        kept = by_id.get(record.arxiv_id)
        if kept is None or record.version > kept.version:
            by_id[record.arxiv_id] = record
    return by_id
