"""A small, polite arXiv API client; the only httpx import.

It moves bytes and paces requests; papercli.feed does the parsing. arXiv's terms
ask for one connection at a time and at least 3 s between requests, retries
included (https://info.arxiv.org/help/api/tou.html). Whatever answers is
untrusted: every request has a total deadline, a broken or cut-off answer is a
failed try, and a Retry-After is honoured only within bounds.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from papercli import __version__
from papercli.arxiv_ids import ArxivId
from papercli.errors import EXIT_USAGE, ArxivAPIError, NetworkError, PapercliError
from papercli.feed import CutOffFeed, FeedError, ParsedFeed, SkippedEntry, parse_feed
from papercli.models import ArxivRecord

DEFAULT_URL = "https://export.arxiv.org/api/query"
URL_ENV = "PAPERCLI_ARXIV_URL"
USER_AGENT = f"papercli/{__version__} (+https://github.com/papercli/papercli)"
MAX_BATCH = 100  # arxiv2bib's chunk size: longer id_lists risk HTTP 414
# A Retry-After longer than this counts as this: nothing that long is meant.
RETRY_AFTER_CAP = 24 * 3600.0


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


class _Overran(Exception):
    """A request went past its deadline, and its connection was cut."""


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
        deadline: float = 60.0,
        max_retries: int = 3,
        min_interval: float = 3.0,
        max_retry_wait: float = 120.0,
        max_bytes: int = 20_000_000,
    ) -> None:
        """``deadline`` bounds each request in real seconds, headers and body included,
        however slowly the server drips them; the clock and sleep only pace requests."""
        self.url = url or _url_from_environment()
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
        """One id_list request, retried with backoff on 429, 5xx, timeouts, overrun
        deadlines, connection errors and answers broken off in transit."""
        # max_results defaults to 10 even for id_list, so always send it.
        params = {"id_list": ",".join(ids), "max_results": str(len(ids))}
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._wait_turn()
            retry_after: float | None = None
            detail = ""
            try:
                status, reason, body, retry_after = self._send(params)
                if status != 429 and status < 500:
                    return self._read(status, reason, body)
            except httpx.TimeoutException:
                problem = f"arXiv at {self.url} did not answer within {self._timeout.read:g} s"
            except _Overran:
                problem = f"arXiv at {self.url} did not finish answering within {self.deadline:g} s"
            except (
                httpx.UnsupportedProtocol,
                httpx.TooManyRedirects,
                httpx.DecodingError,
                UnicodeError,  # a host name too long to look up, e.g. in a redirect
            ) as exc:
                raise NetworkError(
                    f"could not talk to arXiv at {self.url}: {_one_line(str(exc))}"
                ) from None
            except httpx.RemoteProtocolError as exc:
                problem = f"arXiv at {self.url} sent a broken answer"
                detail = f": {_one_line(str(exc)) or type(exc).__name__}"
            except httpx.TransportError as exc:
                problem = f"could not reach arXiv at {self.url}"
                detail = f": {_one_line(str(exc)) or type(exc).__name__}"
            except CutOffFeed as exc:
                self.close()  # whatever the answer left unread must not pass for the next one
                problem = f"arXiv at {self.url} sent {exc.what}"
            else:
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

    def _read(self, status: int, reason: str, body: bytes) -> ParsedFeed:
        if status not in (200, 400):
            raise ArxivAPIError(f"arXiv answered {status} {reason} to {self.url}")
        feed = parse_feed(body)
        if status == 400 and not feed.errors:
            raise ArxivAPIError("arXiv answered 400 Bad Request without saying why")
        return feed

    def _wait_turn(self) -> None:
        """Keep request starts at least min_interval apart, whatever happened in between."""
        if self._last_start is not None:
            wait = self._last_start + self.min_interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _send(self, params: dict[str, str]) -> tuple[int, str, bytes, float | None]:
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
            with self._http.stream("GET", self.url, params=params, extensions=trace) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise ArxivAPIError(
                            f"arXiv's answer is larger than {self.max_bytes:,} bytes;"
                            " not reading it"
                        )
                retry_after = _retry_after(response.headers)
                return response.status_code, response.reason_phrase, bytes(body), retry_after
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


def _url_from_environment() -> str:
    """PAPERCLI_ARXIV_URL if set, checked before any request is made; else arXiv's."""
    value = os.environ.get(URL_ENV, "")
    if not value:
        return DEFAULT_URL
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
            f"{URL_ENV} must be an http or https address such as {DEFAULT_URL}, not {shown!r}",
            EXIT_USAGE,
        )
    return value


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
