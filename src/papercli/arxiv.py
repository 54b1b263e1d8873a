"""A small, polite client for arXiv's API and RSS listings; the only httpx import.

It moves bytes and paces requests; papercli.feed does the parsing. arXiv's terms
ask for one connection at a time and at least 3 s between requests, retries
included, across the API and RSS alike (https://info.arxiv.org/help/api/tou.html),
so one client makes both kinds of request. Whatever answers is untrusted: every
request has a total deadline, a broken or cut-off answer is a failed try, and a
Retry-After is honoured only within bounds.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import httpx

from papercli import __version__
from papercli.arxiv_ids import ArxivId
from papercli.errors import EXIT_USAGE, ArxivAPIError, NetworkError, PapercliError
from papercli.feed import CutOffFeed, FeedError, ParsedFeed, SkippedEntry, parse_feed
from papercli.models import ArxivRecord

DEFAULT_URL = "https://export.arxiv.org/api/query"
URL_ENV = "PAPERCLI_ARXIV_URL"
RSS_URL = "https://rss.arxiv.org/rss/"
RSS_URL_ENV = "PAPERCLI_ARXIV_RSS_URL"
USER_AGENT = f"papercli/{__version__} (+https://github.com/papercli/papercli)"
MAX_BATCH = 100  # arxiv2bib's chunk size: longer id_lists risk HTTP 414
# A Retry-After longer than this counts as this: nothing that long is meant.
RETRY_AFTER_CAP = 24 * 3600.0
MAX_PAGE_SIZE = 2000  # the API's limit per request
# The API's search index serves results up to this position only; a page beyond it is
# an HTTP 500 (arXiv/arxiv-search's MAX_RESULTS), so start + max_results stays within it.
SEARCH_WINDOW = 10_000
# An ETag or Last-Modified is sent back as given: only short printable ASCII is kept.
_VALIDATOR = re.compile(r"[ -~]{1,1024}")

_T = TypeVar("_T")


@dataclass
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


@dataclass(frozen=True)
class ListingAnswer:
    """arXiv's answer to one RSS listing request, unparsed: papercli.feed.parse_listing reads it."""

    url: str  # the URL asked, e.g. https://rss.arxiv.org/rss/cs.CL+cs.LG
    body: bytes | None  # None when the server answered 304 Not Modified
    # The validators to send next time: the answer's, else (on a 304) the ones sent.
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class SearchPage:
    """One page of an API search, newest submissions first."""

    records: list[ArxivRecord]
    skipped: list[SkippedEntry]
    total: int | None  # opensearch:totalResults of this answer
    # True on the last page when more results exist than were asked for (the limit, or
    # the 10,000 results the API serves at most).
    truncated: bool


class _Answer(NamedTuple):
    status: int
    reason: str
    body: bytes
    headers: httpx.Headers


class _Overran(Exception):
    """A request went past its deadline, and its connection was cut."""


class _TryAgain(Exception):
    """A well-formed answer that is known to be wrong: worth asking again."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what  # e.g. "an empty page at result 200 of 5,000"


class ArxivClient:
    """Looks papers up by id, searches, and reads daily listings; use as a context
    manager so the connection gets closed."""

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float = 60.0,
        max_retries: int = 3,
        min_interval: float = 3.0,
        max_retry_wait: float = 120.0,
        max_bytes: int = 20_000_000,
        rss_url: str | None = None,
    ) -> None:
        """``deadline`` bounds each request in real seconds, headers and body included,
        however slowly the server drips them; the clock and sleep only pace requests."""
        self.url = url or _url_from_environment(URL_ENV, DEFAULT_URL)
        self._rss_url = rss_url
        self.deadline = deadline
        self.max_retries = max_retries
        self.min_interval = min_interval
        self.max_retry_wait = max_retry_wait
        self.max_bytes = max_bytes
        self._clock = clock
        self._sleep = sleep
        self._timeout = httpx.Timeout(read_timeout, connect=min(connect_timeout, deadline))
        self._http: httpx.Client | None = None
        self._last_start: float | None = None
        # The open connection's stream, so that a watchdog thread can cut it at the deadline.
        self._stream: Any = None
        self._overran = False
        self._lock = threading.Lock()

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        with self._lock:
            self._stream = None

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
        return self._rss_url or _url_from_environment(RSS_URL_ENV, RSS_URL)

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

        def read(answer: _Answer) -> ListingAnswer:
            new_etag = _validator(answer.headers.get("ETag"))
            new_modified = _validator(answer.headers.get("Last-Modified"))
            if answer.status == 304:
                return ListingAnswer(
                    url,
                    None,
                    new_etag or headers.get("If-None-Match"),
                    new_modified or headers.get("If-Modified-Since"),
                )
            if answer.status == 200 and not answer.body.strip():
                raise CutOffFeed("an empty answer instead of an RSS feed")
            if answer.status == 400 and not answer.body.strip():
                raise ArxivAPIError(f"arXiv answered 400 Bad Request to {url} without saying why")
            if answer.status not in (200, 400):
                raise ArxivAPIError(f"arXiv answered {answer.status} {answer.reason} to {url}")
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
        An error feed (an invalid query) is an ArxivAPIError with arXiv's message.
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

        def read(answer: _Answer) -> ParsedFeed:
            feed = self._read(self.url, answer)
            if feed.errors:
                raise ArxivAPIError(f"arXiv rejected the search: {feed.errors[0].message}")
            empty = not (feed.records or feed.skipped)
            if empty and known_total is not None and start < known_total:
                raise _TryAgain(f"an empty page at result {start:,} of {known_total:,}")
            return feed

        return self._get(self.url, params, {}, read)

    def _get(
        self,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        read: Callable[[_Answer], _T],
    ) -> _T:
        """One GET, retried with backoff on 429, 5xx, timeouts, overrun deadlines,
        connection errors and answers broken off in transit (or that ``read`` says
        are worth asking again); ``read`` turns any other answer into the result."""
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn()
            retry_after: float | None = None
            detail = ""
            try:
                answer = self._send(url, params, headers)
                if answer.status != 429 and answer.status < 500:
                    return read(answer)
                retry_after = _retry_after(answer.headers)
            except httpx.TimeoutException:
                problem = f"arXiv at {url} did not answer within {self._timeout.read:g} s"
            except _Overran:
                problem = f"arXiv at {url} did not finish answering within {self.deadline:g} s"
            except (
                httpx.UnsupportedProtocol,
                httpx.TooManyRedirects,
                httpx.DecodingError,
                UnicodeError,  # a host name too long to look up, e.g. in a redirect
            ) as exc:
                raise NetworkError(
                    f"could not talk to arXiv at {url}: {_one_line(str(exc))}"
                ) from None
            except httpx.RemoteProtocolError as exc:
                problem = f"arXiv at {url} sent a broken answer"
                detail = f": {_one_line(str(exc)) or type(exc).__name__}"
            except httpx.TransportError as exc:
                problem = f"could not reach arXiv at {url}"
                detail = f": {_one_line(str(exc)) or type(exc).__name__}"
            except CutOffFeed as exc:
                self.close()  # whatever the answer left unread must not pass for the next one
                problem = f"arXiv at {url} sent {exc.what}"
            except _TryAgain as exc:
                problem = f"arXiv at {url} sent {exc.what}"
            else:
                answered = "kept answering" if attempt > 1 else "answered"
                problem = f"arXiv {answered} {answer.status} {answer.reason}".rstrip()
            tries = f"{attempt} {'try' if attempt == 1 else 'tries'}"
            delay = max(self.min_interval * 2 ** (attempt - 1), retry_after or 0.0)
            if attempt > self.max_retries:
                raise NetworkError(f"{problem} after {tries}{detail}")
            if waited + delay > self.max_retry_wait:
                raise NetworkError(
                    f"{problem} after {tries}{detail} (gave up rather than wait {delay:.0f} s more)"
                )
            self._sleep(delay)
            waited += delay

    def _read(self, url: str, answer: _Answer) -> ParsedFeed:
        if answer.status not in (200, 400):
            raise ArxivAPIError(f"arXiv answered {answer.status} {answer.reason} to {url}")
        feed = parse_feed(answer.body)
        if answer.status == 400 and not feed.errors:
            raise ArxivAPIError("arXiv answered 400 Bad Request without saying why")
        return feed

    def _wait_turn(self) -> None:
        """Keep request starts at least min_interval apart, whatever happened in between."""
        if self._last_start is not None:
            wait = self._last_start + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _send(
        self, url: str, params: Mapping[str, str] | None, headers: Mapping[str, str]
    ) -> _Answer:
        """One GET, cut off at the deadline; a failed one drops its connection."""
        if self._http is None:
            self._http = httpx.Client(
                headers={"User-Agent": USER_AGENT},
                timeout=self._timeout,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                follow_redirects=True,
            )
        # httpx has no total timeout: its read timeout restarts with every byte received.
        watchdog = threading.Timer(self.deadline, self._cut_connection)
        self._overran = False
        watchdog.start()
        try:
            trace = {"trace": self._note_stream}
            with self._http.stream(
                "GET", url, params=params, headers=headers, extensions=trace
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise ArxivAPIError(
                            f"arXiv's answer is larger than {self.max_bytes:,} bytes;"
                            " not reading it"
                        )
                return _Answer(
                    response.status_code, response.reason_phrase, bytes(body), response.headers
                )
        except Exception:
            self.close()
            if self._overran:
                raise _Overran from None
            raise
        finally:
            watchdog.cancel()
            watchdog.join()
            if self._overran:
                self.close()  # cut just as the answer completed

    def _note_stream(self, event: str, info: dict[str, Any]) -> None:
        """httpx's trace hook: remember each new connection's stream (TLS replaces TCP)."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._stream = info.get("return_value")
                if self._overran:  # connected after the deadline passed
                    _shut(self._stream)

    def _cut_connection(self) -> None:
        """The watchdog: shutting the socket down wakes the read blocked on it."""
        with self._lock:
            self._overran = True
            _shut(self._stream)


def _url_from_environment(name: str, default: str) -> str:
    """The environment variable ``name`` if set, checked before any request is made;
    else ``default``."""
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        url = httpx.URL(value)
        host = url.raw_host.decode("ascii")  # IDNA-encoded already
        usable = (
            url.scheme in ("http", "https")
            and re.fullmatch(r"[A-Za-z0-9._:-]{1,253}", host) is not None
            # DNS's limits, which the lookup would otherwise enforce with a UnicodeError
            and all(0 < len(label) <= 63 for label in host.removesuffix(".").split("."))
            and (url.port is None or 0 < url.port < 65536)
        )
    except (httpx.InvalidURL, ValueError, UnicodeError):
        usable = False
    if not usable:
        shown = value if len(value) <= 80 else value[:79] + "…"
        raise PapercliError(
            f"{name} must be an http or https address such as {default}, not {shown!r}",
            EXIT_USAGE,
        )
    return value


def _listing_url(base: str, categories: Sequence[str]) -> str:
    """``base`` with the categories joined by ``+`` appended to its path."""
    url = httpx.URL(base)
    path, mark, query = url.raw_path.partition(b"?")
    if not path.endswith(b"/"):
        path += b"/"
    # Categories come checked against the taxonomy; anything else is still sent as data.
    joined = "+".join(quote(category, safe="") for category in categories)
    return str(url.copy_with(raw_path=path + joined.encode("ascii") + mark + query))


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified value that can be stored and sent back, else None."""
    value = (value or "").strip()
    return value if _VALIDATOR.fullmatch(value) else None


def _shut(stream: Any) -> None:
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


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
    raise ArxivAPIError(f"arXiv rejected the request: {errors[0].message}")


def _index(records: list[ArxivRecord]) -> dict[str, ArxivRecord]:
    """Records by bare id (the latest version wins) and by versioned id."""
    by_id: dict[str, ArxivRecord] = {}
    for record in sorted(records, key=lambda r: r.version):
        by_id[record.arxiv_id] = record
        by_id[f"{record.arxiv_id}v{record.version}"] = record
    return by_id


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds asked for by Retry-After (delta-seconds or HTTP-date), if readable.

    A date in the past asks for no wait, and anything over RETRY_AFTER_CAP counts as
    the cap. Anything else is ignored, including a negative number and several
    Retry-After headers (which arrive joined by commas).
    """
    value = headers.get("Retry-After", "").strip()
    if re.fullmatch(r"[0-9]+", value):
        seconds = float(value)  # inf, not an error, for absurdly many digits
    else:
        when = _http_date(value)
        if when is None:
            return None
        # Measured against the server's own clock when it sends a readable one.
        now = _http_date(headers.get("Date", "")) or datetime.now(UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
