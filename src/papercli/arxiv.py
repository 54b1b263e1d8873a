"""A small, polite arXiv API client; the only httpx import.

It moves bytes and paces requests; papercli.feed does the parsing. arXiv's terms
ask for one connection at a time and at least 3 s between requests, retries
included (https://info.arxiv.org/help/api/tou.html).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from papercli import __version__
from papercli.arxiv_ids import ArxivId
from papercli.errors import ArxivAPIError, NetworkError
from papercli.feed import FeedError, ParsedFeed, parse_feed
from papercli.models import ArxivRecord

DEFAULT_URL = "https://export.arxiv.org/api/query"
URL_ENV = "PAPERCLI_ARXIV_URL"
USER_AGENT = f"papercli/{__version__} (+https://github.com/papercli/papercli)"
MAX_BATCH = 100  # arxiv2bib's chunk size: longer id_lists risk HTTP 414


@dataclass
class BatchResult:
    """How one batch of requested ids turned out, keyed by the ids as requested."""

    records: dict[str, ArxivRecord] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # accepted by arXiv but unknown to it
    failed: dict[str, str] = field(default_factory=dict)  # rejected, with arXiv's message


class ArxivClient:
    """Looks papers up by id; use as a context manager so the connection gets closed."""

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_retries: int = 3,
        min_interval: float = 3.0,
        max_retry_wait: float = 120.0,
        max_bytes: int = 20_000_000,
    ) -> None:
        self.url = url or os.environ.get(URL_ENV) or DEFAULT_URL
        self.max_retries = max_retries
        self.min_interval = min_interval
        self.max_retry_wait = max_retry_wait
        self.max_bytes = max_bytes
        self._clock = clock
        self._sleep = sleep
        self._timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._http: httpx.Client | None = None
        self._last_start: float | None = None

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

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
        records: list[ArxivRecord] = []
        asked_again = False
        while pending:
            feed = self._query(pending)
            if feed.errors:
                # One malformed id fails the whole request: drop it and ask for the rest.
                bad_id, message = _rejected_id(feed.errors, pending)
                result.failed[bad_id] = message
                pending.remove(bad_id)
                continue
            records = feed.records
            if records or asked_again:
                break
            asked_again = True  # arXiv sometimes sends an empty page by mistake
        by_id = _index(records)
        for requested in pending:
            if requested in by_id:
                result.records[requested] = by_id[requested]
            else:
                result.missing.append(requested)
        return result

    def _query(self, ids: list[str]) -> ParsedFeed:
        # max_results defaults to 10 even for id_list, so always send it.
        params = {"id_list": ",".join(ids), "max_results": str(len(ids))}
        status, reason, body = self._get(params)
        if status not in (200, 400):
            raise ArxivAPIError(f"arXiv answered {status} {reason} to {self.url}")
        feed = parse_feed(body)
        if status == 400 and not feed.errors:
            raise ArxivAPIError("arXiv answered 400 Bad Request without saying why")
        return feed

    def _get(self, params: dict[str, str]) -> tuple[int, str, bytes]:
        """One GET, retried with backoff on 429, 5xx, timeouts and connection errors."""
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn()
            retry_after: float | None = None
            detail = ""
            try:
                status, reason, body, retry_after = self._send(params)
            except httpx.TimeoutException:
                problem = f"arXiv at {self.url} did not answer within {self._timeout.read:g} s"
            except (httpx.UnsupportedProtocol, httpx.TooManyRedirects, httpx.DecodingError) as exc:
                raise NetworkError(f"could not talk to arXiv at {self.url}: {exc}") from None
            except httpx.TransportError as exc:
                problem = f"could not reach arXiv at {self.url}"
                detail = f": {str(exc) or type(exc).__name__}"
            else:
                if status != 429 and status < 500:
                    return status, reason, body
                answered = "kept answering" if attempt > 1 else "answered"
                problem = f"arXiv {answered} {status} {reason}".rstrip()
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

    def _wait_turn(self) -> None:
        """Keep request starts at least min_interval apart, whatever happened in between."""
        if self._last_start is not None:
            wait = self._last_start + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _send(self, params: dict[str, str]) -> tuple[int, str, bytes, float | None]:
        if self._http is None:
            self._http = httpx.Client(
                headers={"User-Agent": USER_AGENT},
                timeout=self._timeout,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                follow_redirects=True,
            )
        with self._http.stream("GET", self.url, params=params) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise ArxivAPIError(
                        f"arXiv's answer is larger than {self.max_bytes:,} bytes; not reading it"
                    )
            retry_after = _retry_after(response.headers)
            return response.status_code, response.reason_phrase, bytes(body), retry_after


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
    """Seconds asked for by Retry-After (delta-seconds or HTTP-date), if any."""
    value = headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        dates = headers.get_list("Date")
        # Measured against the server's own clock when it sends one.
        now = parsedate_to_datetime(dates[0]) if dates else datetime.now(UTC)
        return (when - now).total_seconds()
    except (TypeError, ValueError):
        return None
