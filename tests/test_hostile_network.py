"""The arXiv border under attack: slow, lying and broken servers, absurd answers, a bad
PAPERCLI_ARXIV_URL, and addresses no browser should be handed.

The servers are real, on 127.0.0.1: pytest-httpserver for well-formed HTTP, and
RawServer (tests/arxiv_fakes.py) for the bytes werkzeug would never send. Pacing and
backoff run on the fake clock; only the deadline tests wait for real, about a second.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import time
import tracemalloc
import webbrowser
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import httpx
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from typer.testing import Result
from werkzeug import Response

from papercli import arxiv, paths, transport
from papercli.arxiv import (
    DEFAULT_URL,
    RETRY_AFTER_CAP,
    URL_ENV,
    ArxivClient,
    BatchResult,
)
from papercli.arxiv_ids import parse_arxiv_id
from papercli.cli import arxiv_commands
from papercli.errors import EXIT_USAGE, ArxivAPIError, NetworkError, PapercliError
from papercli.feed import SkippedEntry, parse_feed
from papercli.models import Paper
from papercli.store import arxiv_meta, base, connection, library, papers
from tests.arxiv_fakes import (
    ATOM,
    LORA,
    NOW,
    PLAIN,
    FakeClock,
    RawServer,
    Replay,
    Script,
    answer,
    atom,
    echo_titles,
    feed_parts,
    fixture,
    paper_entry,
    recorded,
    slow_connections,
    status,
)

SINGLE = "api-2026_single_id_1707.08567_comment_34_authors.xml"  # 1707.08567
BODY = fixture(SINGLE)
TRANSFORMER = "Attention Is All You Need"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def clock(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The commands' client runs on fake time, as in test_cli_arxiv."""
    monkeypatch.setattr(
        arxiv_commands,
        "new_client",
        partial(arxiv_commands.new_client, clock=clock, sleep=clock.sleep),
    )
    monkeypatch.setattr(library, "clock", lambda: NOW)
    return clock


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[Callable[..., ArxivClient]]:
    """Clients of a given URL on fake time, with one retry unless told otherwise."""
    clients: list[ArxivClient] = []

    def make_client(url: str, **options: Any) -> ArxivClient:
        options.setdefault("max_retries", 1)
        clients.append(ArxivClient(url, clock=clock, sleep=clock.sleep, **options))
        return clients[-1]

    yield make_client
    for client in clients:
        client.close()


@pytest.fixture
def raw() -> Iterator[Callable[[Script], RawServer]]:
    """Start RawServers; each is stopped, and its threads joined, after the test."""
    servers: list[RawServer] = []

    def start(script: Script) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def served(
    serve: Callable[..., Replay], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Replay]:
    """Conftest's ``serve``, with the commands pointed at the local server."""
    monkeypatch.setenv(URL_ENV, httpserver.url_for("/api/query"))
    return serve


@pytest.fixture
def db(run: Run, db_path: Path) -> Iterator[sqlite3.Connection]:
    """The user's database, as the commands leave it."""
    assert run("db", "path").exit_code == 0
    conn = connection.open_database(db_path, paths.seed_path())
    yield conn
    conn.close()


def one_line_error(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr == f"error: {text}\n"


def fetch(client: ArxivClient, ids: list[str]) -> list[BatchResult]:
    return list(client.fetch_batches(ids))


def http_head(*headers: bytes, length: int | None = len(BODY)) -> bytes:
    """A 200 status line and headers, with a Content-Length unless it is None."""
    lines = [b"HTTP/1.1 200 OK", b"Content-Type: " + ATOM.encode(), *headers]
    if length is not None:
        lines.append(b"Content-Length: %d" % length)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def sends(data: bytes, *, keep_open: bool = False) -> Script:
    """Answer every request with these bytes, then hang up (or wait for the next request)."""

    def script(conn: Any, number: int, stop: Any) -> bool:
        conn.sendall(data)
        return keep_open

    return script


def drips(data: bytes, every: float, *, after: bytes = b"") -> Script:
    """Send ``after`` at once, then these bytes one at a time, ``every`` seconds apart,
    until told to stop."""

    def script(conn: Any, number: int, stop: Any) -> bool:
        conn.sendall(after)
        for byte in data:
            if stop.wait(every):
                break
            conn.sendall(bytes([byte]))
        return False

    return script


def first_then(first: Script, rest: Script) -> Script:
    return lambda conn, number, stop: (first if number == 1 else rest)(conn, number, stop)


# ---------------------------------------------------------------------------
# 1. A total deadline per request


@pytest.mark.parametrize(
    ("where", "every"),
    [("body", 2.0), ("body", 0.05), ("headers", 2.0), ("headers", 0.05)],
    ids=["body-every-2s", "body-every-50ms", "headers-every-2s", "headers-every-50ms"],
)
def test_a_dripping_server_is_cut_off_at_the_deadline(
    raw: Callable[[Script], RawServer],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    where: str,
    every: float,
) -> None:
    # Every byte comes well within the 30 s read timeout: only the deadline ends this.
    if where == "body":
        server = raw(drips(BODY, every, after=http_head()))
    else:
        server = raw(drips(http_head() + BODY, every))
    client = make_client(server.url, deadline=0.5)
    started = time.monotonic()
    with pytest.raises(NetworkError) as caught:
        fetch(client, ["1707.08567"])
    # Two tries of 0.5 s: a read blocked waiting for the next byte was woken up.
    assert time.monotonic() - started < 1.9
    assert caught.value.message == (
        f"arXiv at {server.url} did not finish answering within 0.5 s after 2 tries"
    )
    assert (len(server.requests), clock.sleeps) == (2, [3.0])
    assert client._http is None


def test_a_request_past_its_deadline_is_tried_again(
    raw: Callable[[Script], RawServer],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
) -> None:
    server = raw(first_then(drips(http_head() + BODY, 0.05), sends(http_head() + BODY)))
    (result,) = fetch(make_client(server.url, deadline=0.5), ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert (len(server.requests), clock.sleeps) == (2, [3.0])


def test_fetch_from_a_dripping_server_ends_in_one_line(
    run: Run,
    raw: Callable[[Script], RawServer],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = raw(drips(http_head() + BODY, 0.05))
    monkeypatch.setenv(URL_ENV, server.url)
    monkeypatch.setattr(
        arxiv_commands,
        "new_client",
        lambda: ArxivClient(
            max_retries=arxiv_commands.RETRIES, deadline=0.3, clock=clock, sleep=clock.sleep
        ),
    )
    one_line_error(
        run("fetch", "lora"),
        3,
        f"arXiv at {server.url} did not finish answering within 0.3 s after 3 tries",
    )
    assert clock.sleeps == [3.0, 6.0]


# ---------------------------------------------------------------------------
# 2. Servers that lie about lengths, send odd headers or hang up


LONGER = len(BODY) + 100


def redirect(location: bytes) -> Script:
    return sends(b"HTTP/1.1 301 Moved\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n")


BROKEN = [
    (
        "content-length-short",
        sends(http_head(length=500) + BODY),
        "sent an answer that stops short (unclosed token: line 6, column 2) after 2 tries",
    ),
    (
        "content-length-zero",
        sends(http_head(length=0) + BODY),
        "sent an empty answer instead of an Atom feed after 2 tries",
    ),
    (
        "content-length-long-then-hang-up",
        sends(http_head(length=LONGER) + BODY),
        "sent a broken answer after 2 tries: peer closed connection without sending complete"
        f" message body (received {len(BODY)} bytes, expected {LONGER})",
    ),
    (
        "conflicting-content-lengths",
        sends(http_head(b"Content-Length: 10") + BODY),
        "sent a broken answer after 2 tries: conflicting Content-Length headers",
    ),
    (
        "negative-content-length",
        sends(http_head(length=-5) + BODY),
        "sent a broken answer after 2 tries: bad Content-Length",
    ),
    (
        "chunk-cut-off",
        sends(http_head(b"Transfer-Encoding: chunked", length=None) + b"ffff\r\n" + BODY[:300]),
        "sent a broken answer after 2 tries: peer closed connection without sending complete"
        " message body (incomplete chunked read)",
    ),
    (
        "no-length-cut-off",
        sends(http_head(b"Connection: close", length=None) + BODY[:300]),
        "sent an answer that stops short (no element found: line 4, column 57) after 2 tries",
    ),
    (
        "hang-up-at-once",
        sends(b""),
        "sent a broken answer after 2 tries: Server disconnected without sending a response.",
    ),
    (
        "garbage-status-line",
        sends(b"HTTP/1.1 OK FINE\r\n\r\n"),
        "sent a broken answer after 2 tries: illegal status line: bytearray(b'HTTP/1.1 OK FINE')",
    ),
    (
        "header-without-colon",
        sends(http_head(b"no colon here") + BODY),
        "sent a broken answer after 2 tries: illegal header line: bytearray(b'no colon here')",
    ),
    (
        "header-name-not-ascii",
        sends(http_head(b"X-\xff\xfe: \xe9") + BODY),
        r"sent a broken answer after 2 tries: illegal header line: bytearray(b'X-\xff\xfe: \xe9')",
    ),
    (
        "200-kb-header",
        sends(http_head(b"X-Big: " + b"a" * 200_000) + BODY),
        "sent a broken answer after 2 tries: Receive buffer too long",
    ),
    (
        "redirect-to-a-malformed-url",
        redirect(b"http://[::1/api"),
        "sent a broken answer after 2 tries: Invalid URL in location header: Invalid port: ':1'.",
    ),
]


@pytest.mark.parametrize(
    ("script", "message"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_a_lying_or_broken_server_is_a_network_error_after_retrying(
    raw: Callable[[Script], RawServer],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    script: Script,
    message: str,
) -> None:
    server = raw(script)
    with pytest.raises(NetworkError) as caught:
        fetch(make_client(server.url), ["1707.08567"])
    assert caught.value.message == f"arXiv at {server.url} {message}"
    assert caught.value.exit_code == 3
    assert (len(server.requests), clock.sleeps) == (2, [3.0])


def test_a_content_length_longer_than_the_body_on_an_open_connection_meets_the_deadline(
    raw: Callable[[Script], RawServer], make_client: Callable[..., ArxivClient]
) -> None:
    server = raw(sends(http_head(length=LONGER) + BODY, keep_open=True))
    with pytest.raises(NetworkError, match=r"did not finish answering within 0\.3 s after 2"):
        fetch(make_client(server.url, deadline=0.3), ["1707.08567"])


def test_slow_tries_count_towards_the_bound_on_a_whole_request(
    raw: Callable[[Script], RawServer], make_client: Callable[..., ArxivClient], clock: FakeClock
) -> None:
    """Only the waits between tries counted: a server dripping its answer made `add` take
    3 tries of 60 s (189 s), `refs` 6 (391 s), past the 2 minutes a request may take."""
    server = raw(sends(http_head(length=LONGER) + BODY, keep_open=True))
    client = make_client(server.url, deadline=0.6, max_retries=10, max_retry_wait=9.5)
    with pytest.raises(NetworkError) as caught:
        fetch(client, ["1707.08567"])
    # 0.6 s a try, then 3 s and 6 s asleep: 9 s of waits fit in 9.5, but not with the tries.
    assert len(server.requests) == 2 and clock.sleeps == [3.0]
    assert caught.value.message.endswith("(gave up after 4 s rather than wait 6 s more)")


def gzipped(data: bytes, times: int = 1) -> bytes:
    """``data`` repeated ``times`` over, gzipped: zeros make a bomb a thousand times its size."""
    pack = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    return b"".join(pack.compress(data) for _ in range(times)) + pack.flush()


def test_a_gzipped_answer_is_read(
    raw: Callable[[Script], RawServer], make_client: Callable[..., ArxivClient]
) -> None:
    packed = gzipped(BODY)
    server = raw(sends(http_head(b"Content-Encoding: gzip", length=len(packed)) + packed))
    (batch,) = fetch(make_client(server.url), ["1707.08567"])
    assert [record.title for record in batch.records.values()] == [
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    ]
    assert b"Accept-Encoding: gzip" in server.requests[0].split(b"\r\n")


def test_a_gzipped_answer_cut_short_is_asked_for_again(
    raw: Callable[[Script], RawServer], make_client: Callable[..., ArxivClient], clock: FakeClock
) -> None:
    """zlib inflates a cut gzip stream without a word: the feed's end was missing, and the
    listing's parse failed at once, where a cut answer is one to ask for again."""
    packed = gzipped(BODY)
    cut = packed[: len(packed) * 2 // 3]
    server = raw(sends(http_head(b"Content-Encoding: gzip", length=len(cut)) + cut))
    with pytest.raises(NetworkError) as caught:
        fetch(make_client(server.url), ["1707.08567"])
    assert caught.value.message == (
        f"arXiv at {server.url} sent a compressed answer that stops short after 2 tries"
    )
    assert (len(server.requests), clock.sleeps) == (2, [3.0])


def test_a_gzip_bomb_is_refused_without_inflating_it(
    raw: Callable[[Script], RawServer], make_client: Callable[..., ArxivClient]
) -> None:
    """100 MB of zeros in 100 kB: it was inflated 64 kB of the wire at a time, up to 64 MB
    at once past the limit (172 MB held at the default 20 MB limit)."""
    bomb = gzipped(bytes(1_000_000), times=100)
    server = raw(sends(http_head(b"Content-Encoding: gzip", length=len(bomb)) + bomb))
    client = make_client(server.url, max_bytes=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(ArxivAPIError) as caught:
            fetch(client, ["1707.08567"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.message == "arXiv's answer is larger than 1,000,000 bytes; not reading it"
    assert peak < 8_000_000


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            sends(http_head(b"Content-Encoding: gzip") + BODY),
            "Error -3 while decompressing data: incorrect header check",
        ),
        (
            sends(http_head(b"Content-Encoding: br") + BODY),
            "it sent its answer in an encoding papercli did not ask for ('br')",
        ),
        (
            redirect(b"file:///etc/passwd"),
            "it redirected to 'file:///etc/passwd', which is not an http or https address",
        ),
        (
            redirect(b"http://" + b"x" * 300 + b"/api/query"),
            f"it redirected to 'http://{'x' * 72}…', which is not an http or https address",
        ),
        # Addresses httpx cannot even make a request of: it ended in its traceback.
        (
            redirect(b"javascript:alert(1)"),
            "it redirected to 'javascript:alert(1)', which is not an http or https address",
        ),
        (
            redirect(b"data:text/html,hi"),
            "it redirected to 'data:text/html,hi', which is not an http or https address",
        ),
        (
            redirect(b"mailto:a@b"),
            "it redirected to 'mailto:a@b', which is not an http or https address",
        ),
    ],
    ids=[
        "gzip-that-is-not",
        "an-encoding-not-asked-for",
        "redirect-to-a-file",
        "redirect-to-an-impossible-host",
        "redirect-to-javascript",
        "redirect-to-data",
        "redirect-to-mailto",
    ],
)
def test_an_answer_that_no_retry_can_mend_fails_at_once(
    raw: Callable[[Script], RawServer],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    script: Script,
    message: str,
) -> None:
    server = raw(script)
    with pytest.raises(NetworkError) as caught:
        fetch(make_client(server.url), ["1707.08567"])
    assert caught.value.message == f"could not talk to arXiv at {server.url}: {message}"
    assert (len(server.requests), clock.sleeps) == (1, [])


def test_a_short_content_length_once_is_retried_on_a_fresh_connection(
    raw: Callable[[Script], RawServer], make_client: Callable[..., ArxivClient], clock: FakeClock
) -> None:
    # The bytes past the lie must not be read as the next answer: the connection goes.
    lie = sends(http_head(length=500) + BODY, keep_open=True)
    server = raw(first_then(lie, sends(http_head() + BODY)))
    (result,) = fetch(make_client(server.url), ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert (len(server.requests), clock.sleeps) == (2, [3.0])


@pytest.mark.parametrize(
    "head",
    [
        http_head(b"Content-Length: %d" % len(BODY)),  # the same length twice
        http_head(b"Transfer-Encoding: chunked", length=None).replace(
            b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n"
        ),
        http_head(
            b"Content-Type: text/html",
            b"Set-Cookie: a=b",
            b"Retry-After: 10",
            b"Retry-After: soon",
            b"X-Odd:   spaces\tand\ttabs  ",
            b"X-Latin-1: caf\xe9",
        ),
    ],
    ids=["same-length-twice", "chunked-and-length", "odd-but-legal-headers"],
)
def test_odd_but_readable_answers_are_read(
    raw: Callable[[Script], RawServer],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    head: bytes,
) -> None:
    body = BODY
    if b"chunked" in head:
        body = b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n"
    server = raw(sends(head + body))
    (result,) = fetch(make_client(server.url), ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert clock.sleeps == []


def test_fetch_from_a_lying_server_ends_in_one_line(
    run: Run,
    raw: Callable[[Script], RawServer],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = raw(sends(http_head(length=LONGER) + BODY))
    monkeypatch.setenv(URL_ENV, server.url)
    result = run("fetch", "lora")
    one_line_error(
        result,
        3,
        f"arXiv at {server.url} sent a broken answer after 3 tries: peer closed connection"
        f" without sending complete message body (received {len(BODY)} bytes,"
        f" expected {LONGER})",
    )
    assert len(server.requests) == 3


# ---------------------------------------------------------------------------
# 3. Retry-After, however malformed


def http_date(offset: timedelta) -> str:
    return format_datetime(datetime.now(UTC) + offset, usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "slept"),
    [
        ("-5", 3.0),
        ("3.5", 3.0),
        ("1e3", 3.0),
        ("0x10", 3.0),
        ("\xb2", 3.0),  # "²": a digit to str.isdigit, not to float
        ("soon", 3.0),
        ("Tue, 32 Foo 2024 25:61:61 GMT", 3.0),
        (http_date(-timedelta(days=3)), 3.0),  # in the past: no wait asked
        ("Mon, 01 Jan 1900 00:00:00 -0000", 3.0),  # no time zone, long past
        ("100", 100.0),
    ],
)
def test_retry_after_is_honoured_only_when_well_formed(
    served: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    httpserver: HTTPServer,
    clock: FakeClock,
    retry_after: str,
    slept: float,
) -> None:
    replay = served(status(503, headers={"Retry-After": retry_after}), recorded(SINGLE))
    (result,) = fetch(make_client(httpserver.url_for("/api/query")), ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert (len(replay.requests), clock.sleeps) == (2, [slept])


def test_several_retry_after_headers_are_ignored(
    served: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    httpserver: HTTPServer,
    clock: FakeClock,
) -> None:
    twice = Response(status=503, headers=[("Retry-After", "10"), ("Retry-After", "20")])
    served(twice, recorded(SINGLE))
    fetch(make_client(httpserver.url_for("/api/query")), ["1707.08567"])
    assert clock.sleeps == [3.0]


@pytest.mark.parametrize(
    "retry_after",
    [str(10**12), "9" * 400, "9" * 5000, "Fri, 31 Dec 9999 23:59:59 GMT"],
    ids=["10**12", "400-digits", "5000-digits", "year-9999"],
)
def test_an_absurd_retry_after_is_capped_and_never_slept_on(
    served: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    httpserver: HTTPServer,
    clock: FakeClock,
    retry_after: str,
) -> None:
    replay = served(status(429, b"Rate exceeded.", {"Retry-After": retry_after}))
    with pytest.raises(NetworkError) as caught:
        fetch(make_client(httpserver.url_for("/api/query")), ["1707.08567"])
    assert caught.value.message == (
        "arXiv answered 429 Too Many Requests after 1 try (gave up rather than wait 86400 s more)"
    )
    assert (len(replay.requests), clock.sleeps) == (1, [])


latin_1 = st.text(st.characters(max_codepoint=255), max_size=40)


@given(
    retry_after=st.one_of(latin_1, st.integers(-(10**30), 10**30).map(str)),
    date=st.one_of(latin_1, st.datetimes().map(lambda d: format_datetime(d, usegmt=False))),
)
def test_any_retry_after_reads_as_nothing_or_a_bounded_wait(retry_after: str, date: str) -> None:
    # As they come off the wire: bytes, which httpx decodes as Latin-1 when not ASCII.
    headers = httpx.Headers(
        [(b"Retry-After", retry_after.encode("latin-1")), (b"Date", date.encode("latin-1"))]
    )
    seconds = arxiv._retry_after(headers)
    assert seconds is None or 0.0 <= seconds <= RETRY_AFTER_CAP


# ---------------------------------------------------------------------------
# 4. Entries that are not usable papers


def test_an_absurd_version_is_reported_and_not_stored(
    run: Run, served: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    served(answer(paper_entry("2106.09685", LORA, version=99999999999999999999)))
    result = run("fetch", "lora")
    assert result.exit_code == 1, result.output
    assert result.stdout == "updated 0, unchanged 0, not found 0, failed 1, title mismatch 0\n"
    assert result.stderr.splitlines() == [
        "failed: lora (arXiv:2106.09685): arXiv sent an unusable entry"
        " (its version 99999999999999999999 is not a real one)",
    ]
    assert arxiv_meta.arxiv_record(db, "lora") is None


def test_entries_that_are_not_papers_are_named_and_skipped(
    run: Run, served: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    plain = feed_parts(PLAIN)[1]  # 1605.08386, as recorded
    served(
        answer(
            plain.replace("http://arxiv.org/abs/1605.08386v1", "https://example.com/evil"),
            re.sub(r"<id>.*?</id>", "", plain),
            plain.replace("1605.08386v1</id>", "\u0661\u0666\u0660\u0665.08386v1</id>"),
            plain.replace("2016-05-26T17:59:46Z</published>", "in the spring</published>"),
            plain.replace("1605.08386v1</id>", "2401.00001v1</id>").replace(
                "Heat-bath random walks with Markov bases", " "
            ),
            plain,
        )
    )
    result = run("add", "1605.08386")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "added heat-bath-random-walks: Heat-bath random walks with Markov bases (2016)\n"
    )
    assert result.stderr.splitlines() == [
        "skipped an entry arXiv sent: https://example.com/evil (its id is not an arXiv id)",
        "skipped an entry arXiv sent: entry 2 (it has no id)",
        "skipped an entry arXiv sent: http://arxiv.org/abs/\u0661\u0666\u0660\u0665.08386v1"
        " (its id is not an arXiv id)",
        "skipped an entry arXiv sent: http://arxiv.org/abs/1605.08386v1"
        " (it has no plausible publication date)",
        "skipped an entry arXiv sent: http://arxiv.org/abs/2401.00001v1 (it has no title)",
    ]
    assert db.execute("SELECT count(*) FROM papers WHERE origin = 'user'").fetchone()[0] == 1


def test_duplicates_and_entries_nobody_asked_for_are_not_stored(
    run: Run, served: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    title = "Heat-bath random walks with Markov bases"
    served(
        answer(
            paper_entry("1605.08386", title, version=2, template=PLAIN),
            paper_entry("2401.00001", "Nobody Asked For This", template=PLAIN),
            feed_parts(PLAIN)[1],  # v1, after v2
            paper_entry("1605.08386", title, version=2, template=PLAIN),
        )
    )
    result = run("add", "1605.08386")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"added heat-bath-random-walks: {title} (2016)\n"
    assert papers.get_paper(db, "heat-bath-random-walks").arxiv_version == 2  # the latest
    assert db.execute("SELECT count(*) FROM papers WHERE arxiv_id = '2401.00001'").fetchone() == (
        0,
    )


def test_of_an_entry_repeated_the_first_is_kept(
    run: Run, served: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    """The last copy was stored, where the README says repeats are ignored (and a listing
    keeps the first)."""
    title = "Heat-bath random walks with Markov bases"
    served(
        answer(
            paper_entry("1605.08386", title, version=2, template=PLAIN),
            paper_entry("1605.08386", "Second copy", version=2, template=PLAIN),
        )
    )
    result = run("add", "1605.08386")
    assert result.stdout == f"added heat-bath-random-walks: {title} (2016)\n"
    assert papers.get_paper(db, "heat-bath-random-walks").title == title


def test_extension_elements_and_odd_shapes_do_not_upset_the_parser() -> None:
    entry = feed_parts(PLAIN)[1].replace(
        "</entry>",
        # feedparser reads an arXiv element with attributes as a dict, and counts entries
        # and RSS items wherever they are; none of it is a second paper.
        '<arxiv:journal_ref volume="3"/>'
        '<x:extra xmlns:x="urn:example" x:flag="1"><entry><id>http://arxiv.org/abs/2401.00001v1'
        "</id><published>2024-01-01T00:00:00Z</published><title>Nested</title></entry></x:extra>"
        "<item><title>an RSS item</title></item>"
        "<title>a second title</title>"
        "</entry>",
    )
    entry = entry.replace(
        "<arxiv:comment>20 pages, 3 figures</arxiv:comment>",
        "<arxiv:comment>12 pages, <b>bold</b> claims</arxiv:comment>",
    ).replace(
        '<arxiv:primary_category term="math.CO"/>',
        '<arxiv:primary_category term="math.CO">stat</arxiv:primary_category>',
    )
    assert 'math.CO">stat<' in entry and "<b>bold" in entry
    feed = parse_feed(atom(entry, "<item><title>stray</title></item>"))
    (record,) = feed.records
    assert (record.arxiv_id, record.version) == ("1605.08386", 1)
    assert record.title == "Heat-bath random walks with Markov bases"
    assert (record.journal_ref, record.comment) == (None, "12 pages, bold claims")
    assert record.primary_category == "math.CO"
    assert (feed.errors, feed.skipped) == ([], [])


@pytest.mark.parametrize(
    ("total", "read"),
    [("12", 12), ("\u00b2", None), ("\u0661\u0662", None), ("9" * 5000, None), ("-1", None)],
)
def test_total_results_is_read_only_when_it_is_a_plain_number(total: str, read: int | None) -> None:
    body = fixture(PLAIN).replace(
        b"<opensearch:totalResults>1<", f"<opensearch:totalResults>{total}<".encode()
    )
    assert parse_feed(body).total_results == read


def _xml_char(char: str) -> bool:
    code = ord(char)
    return char in "\t\n\r" or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code > 0xFFFF


words = st.text(st.characters(exclude_categories=("Cs",)).filter(_xml_char), max_size=20)
entry_ids = st.one_of(
    st.integers(0, 10**30).map(lambda v: f"http://arxiv.org/abs/2106.09685v{v}"),
    st.sampled_from(
        [
            "http://arxiv.org/abs/1707.08567v1",
            "http://arxiv.org/abs/hep-th/9901001v2",
            "http://arxiv.org/abs/math.DG/0211159v1",
            "http://arxiv.org/abs/2106.09685",
            "http://arxiv.org/abs/2106.09685v2v3",
            "http://arxiv.org/abs/0000.0000v1",
            "http://arxiv.org/abs/\u0662\u0661\u0660\u0666.09685v1",
            "https://arxiv.org/api/errors#incorrect_id_format_for_x",
        ]
    ),
    words,
)
dates = st.one_of(
    st.sampled_from(
        [
            "2017-07-27T08:18:33Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2017-13-45T99:99:99Z",
            "Thu, 27 Jul 2017 08:18:33 GMT",
        ]
    ),
    words,
)


def _element(tag: str, text: str, **attributes: str) -> str:
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in attributes.items())
    return f"<{tag}{attrs}>{escape(text)}</{tag}>"


def _author(name: str, affiliations: list[str]) -> str:
    inner = "".join(_element("arxiv:affiliation", a) for a in affiliations)
    return f"<author>{_element('name', name)}{inner}</author>"


entry_parts = st.one_of(
    entry_ids.map(lambda v: _element("id", v)),
    dates.map(lambda v: _element("published", v)),
    dates.map(lambda v: _element("updated", v)),
    st.one_of(words, st.just("Error")).map(lambda v: _element("title", v)),
    words.map(lambda v: _element("summary", v)),
    st.builds(_author, words, st.lists(words, max_size=2)),
    words.map(lambda v: _element("arxiv:primary_category", "", term=v)),
    words.map(lambda v: _element("arxiv:primary_category", v)),
    words.map(lambda v: _element("category", "", term=v)),
    words.map(lambda v: _element("arxiv:doi", v)),
    words.map(lambda v: _element("arxiv:journal_ref", v)),
    words.map(lambda v: _element("arxiv:journal_ref", "", volume=v)),
    words.map(lambda v: _element("arxiv:comment", v)),
    words.map(lambda v: _element("link", "", href=v, rel="alternate")),
    words.map(lambda v: f'<x:ext xmlns:x="urn:x">{_element("entry", v)}</x:ext>'),
    words.map(lambda v: f"<item>{_element('title', v)}</item>"),
)

# Mostly entries with the parts a paper needs, so that some are papers; then anything.
core_parts = st.tuples(
    st.sampled_from(["2106.09685v2", "1707.08567v1", "hep-th/9901001v3"]).map(
        lambda v: _element("id", f"http://arxiv.org/abs/{v}")
    ),
    st.just(_element("published", "2017-07-27T08:18:33Z")),
    words.map(lambda v: _element("title", f"A title {v}")),
).map(list)
entries = (
    st.tuples(
        st.one_of(core_parts, st.just([])),
        st.lists(entry_parts, max_size=8),
    )
    .flatmap(lambda parts: st.permutations(parts[0] + parts[1]))
    .map(lambda parts: f"<entry>{''.join(parts)}</entry>")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entries, max_size=5), st.booleans())
def test_the_parser_skips_what_it_cannot_use_and_never_crashes(
    generated: list[str], repeat_first: bool
) -> None:
    chosen = generated + generated[:1] if repeat_first else generated
    feed = parse_feed(atom(*chosen))
    assert len(feed.records) + len(feed.errors) + len(feed.skipped) == len(chosen)
    for record in feed.records:
        assert str(parse_arxiv_id(record.arxiv_id)) == record.arxiv_id
        assert record.arxiv_id.isascii()
        assert 1 <= record.version <= 999
        assert record.title
        assert ISO_UTC.fullmatch(record.published) and ISO_UTC.fullmatch(record.updated)
        assert 1991 <= int(record.published[:4]) <= 2099
        texts = [record.title, record.abstract, record.comment or "", record.journal_ref or ""]
        texts += [author.name for author in record.authors] + record.categories
        assert not any(CONTROL.search(text) for text in texts)
    for entry in feed.skipped:
        assert entry.label and len(entry.label) <= 80 and not CONTROL.search(entry.label)


def test_a_skipped_entry_for_a_requested_id_fails_that_id_only(
    served: Callable[..., Replay], make_client: Callable[..., ArxivClient], httpserver: HTTPServer
) -> None:
    served(
        answer(
            paper_entry("2106.09685", LORA, version=1000),
            paper_entry("1706.03762", TRANSFORMER),
            "<entry><id>junk</id></entry>",
        )
    )
    client = make_client(httpserver.url_for("/api/query"))
    (result,) = fetch(client, ["2106.09685", "1706.03762", "2401.00001"])
    assert list(result.records) == ["1706.03762"]
    assert result.failed == {
        "2106.09685": "arXiv sent an unusable entry (its version 1000 is not a real one)"
    }
    assert result.missing == ["2401.00001"]
    assert result.skipped == [SkippedEntry("junk", "its id is not an arXiv id")]


# ---------------------------------------------------------------------------
# 5. PAPERCLI_ARXIV_URL


BAD_URLS = [
    "ftp://export.arxiv.org/api/query",
    "export.arxiv.org/api/query",
    "//export.arxiv.org/api/query",
    "http://",
    "https:///api/query",
    "http:export.arxiv.org",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "http://[::1",
    "http://exa mple.org/api",
    "http://example.org:99999/api",
    "http://example.org:0/api",
    " https://export.arxiv.org/api/query",
    "-h",
    "not a url",
    "https://" + "x" * 200,
    "https://export..arxiv.org/api/query",
]


def _url_error(value: str) -> str:
    shown = value if len(value) <= 80 else value[:79] + "…"
    return f"{URL_ENV} must be an http or https address such as {DEFAULT_URL}, not {shown!r}"


@pytest.mark.parametrize("value", BAD_URLS)
@pytest.mark.parametrize("command", [["add", "1605.08386"], ["fetch", "lora"]])
def test_an_invalid_arxiv_url_is_a_usage_error_before_any_request(
    run: Run,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    command: list[str],
) -> None:
    monkeypatch.setenv(URL_ENV, value)
    one_line_error(run(*command), EXIT_USAGE, _url_error(value))
    assert clock.sleeps == []


def test_a_password_or_secret_in_the_arxiv_url_is_not_said(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error quoted PAPERCLI_ARXIV_URL whole, its password and a token in its query
    with it (errors end up in cron mail and logs); an invalid one was quoted whole too."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv(URL_ENV, f"http://ann:s3cretpw@127.0.0.1:{port}/api/query?token=S3CRET&x=1")
    result = run("add", "1605.08386")
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(
        f"error: could not reach arXiv at http://ann:***@127.0.0.1:{port}/api/query?token=***&x=1"
    )
    monkeypatch.setenv(URL_ENV, "ftp://ann:s3cretpw@example.org/api?api_key=S3CRET")
    said = run("add", "1605.08386").stderr
    assert "ann:***@example.org/api?api_key=***" in said
    assert "s3cret" not in said.casefold()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://ann:S3CRET@[::1/api", "http://ann:***@[::1/api"),  # no parser takes it
        ("http://S3CRET@127.0.0.1:1/x", "http://***@127.0.0.1:1/x"),  # a token as the user
        ("http://h/x?x=1;api_key=S3CRET&y=2", "http://h/x?x=1;api_key=***&y=2"),
        ("http://a:S3C@RET@h/q?Token=S3CRET#f", "http://a:***@h/q?Token=***#f"),
        ("http://h/p@q?a=b@c", "http://h/p@q?a=b@c"),  # nothing to hide: as given
        (" http:export.arxiv.org", " http:export.arxiv.org"),
    ],
)
def test_a_url_is_said_without_its_secrets(url: str, said: str) -> None:
    assert transport.said_url(url) == said


def test_a_url_of_the_wrong_scheme_never_reaches_the_server(
    run: Run, serve: Callable[..., Replay], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay = serve(recorded(PLAIN))
    url = httpserver.url_for("/api/query").replace("http://", "gopher://")
    monkeypatch.setenv(URL_ENV, url)
    one_line_error(run("add", "1605.08386"), EXIT_USAGE, _url_error(url))
    assert replay.requests == []


_CONNECTION_SETTINGS = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("HTTPS_PROXY", "http://127.0.0.1:notaport"),
        ("HTTPS_PROXY", "http://127.0.0.1:99999"),  # taken, and wrapped round to 34463
        ("https_proxy", "ftp://proxy.example"),
        ("SSL_CERT_FILE", "missing.pem"),
    ],
)
@pytest.mark.parametrize("command", [["fetch", "lora"], ["refs", "lora"]])
def test_proxy_or_certificate_settings_httpx_cannot_use_end_in_one_line(
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    setting: str,
    value: str,
    command: list[str],
) -> None:
    """httpx reads them when papercli first connects: a proxy with a bad port or scheme,
    or a certificate file that is missing, ended in a traceback."""
    for name in _CONNECTION_SETTINGS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv(setting, str(tmp_path / value) if value.endswith(".pem") else value)
    result = run(*command)
    assert (result.exit_code, result.stdout) == (EXIT_USAGE, "")
    assert result.stderr.startswith("error: cannot set up a connection to ")
    assert result.stderr.endswith(f"; check {setting}\n") and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "value",
    [
        "http://127.0.0.1:8/api/query",
        "HTTPS://Export.arXiv.org/api/query",
        "https://[::1]:8443/api/query",
        "https://mirror.example.org/arxiv/api/query?key=1",
        "http://bücher.example/api",
        "https://export.arxiv.org./api/query",
    ],
)
def test_a_valid_arxiv_url_is_used_as_given(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(URL_ENV, value)
    assert ArxivClient().url == value


env_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


@given(
    st.one_of(
        env_text,
        st.builds(str.__add__, st.sampled_from(["http://", "https://", "HTTP://"]), env_text),
    )
)
def test_any_arxiv_url_is_used_or_refused_in_one_line(value: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(URL_ENV, value)
        try:
            client = ArxivClient()
        except PapercliError as exc:
            assert exc.exit_code == EXIT_USAGE
            assert exc.message.startswith(f"{URL_ENV} must be an http or https address")
            assert "\n" not in exc.message
            return
    assert client.url in (value, DEFAULT_URL)
    # What is accepted makes a request: nothing fails later for want of checking now.
    request = httpx.Request("GET", client.url, params={"id_list": "1"})
    assert request.url.scheme in ("http", "https") and request.url.host


# ---------------------------------------------------------------------------
# 6. open hands only http(s) addresses to the browser


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Everything handed to an opener: typer's, and the webbrowser module's."""
    urls: list[str] = []
    monkeypatch.setattr(typer, "launch", lambda url, **_: urls.append(url) or 0)
    for name in ("open", "open_new", "open_new_tab"):
        monkeypatch.setattr(webbrowser, name, lambda url, *_, **__: urls.append(url) or True)
    return urls


def _paper_with(db: sqlite3.Connection, url: str, pdf_url: str | None = None) -> None:
    with base.transaction(db):
        papers.insert_paper(
            db, Paper("odd", "An Odd Paper", "Odd", 2024, "2024-01-01", url=url, pdf_url=pdf_url)
        )


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/etc/passwd",
        "~/papers/odd.pdf",
        "-a Calculator",
        "--help",
        "ftp://example.org/odd.pdf",
        "http://",
        "https:///odd",
        "http://[::1",
        "https://example.org/odd paper",
        "https://example.org/\x1b[2J",
        "\x00https://example.org/",
        "vbscript:msgbox",
    ],
)
def test_open_refuses_anything_but_http_and_https(
    run: Run, db: sqlite3.Connection, launched: list[str], url: str
) -> None:
    _paper_with(db, url)
    shown = url if len(url) <= 80 else url[:79] + "…"
    one_line_error(
        run("open", "odd"),
        1,
        f"not opening {shown!r}: papercli opens only http and https addresses",
    )
    assert launched == []


def test_open_pdf_is_checked_too(run: Run, db: sqlite3.Connection, launched: list[str]) -> None:
    _paper_with(db, "https://example.org/odd", pdf_url="file:///tmp/odd.pdf")
    one_line_error(
        run("open", "odd", "--pdf"),
        1,
        "not opening 'file:///tmp/odd.pdf': papercli opens only http and https addresses",
    )
    assert launched == []
    assert run("open", "odd").stdout == "https://example.org/odd\n"
    assert launched == ["https://example.org/odd"]


def test_open_takes_an_upper_case_scheme_as_http(
    run: Run, db: sqlite3.Connection, launched: list[str]
) -> None:
    _paper_with(db, "HTTPS://Example.org/Odd")
    result = run("open", "odd")
    assert (result.exit_code, result.stdout) == (0, "https://Example.org/Odd\n")
    assert launched == ["https://Example.org/Odd"]


# ---------------------------------------------------------------------------
# 7. Partial failures say what happened, and a second run completes them


FAKES = {f"2401.{n:05d}": f"Fake paper number {n}" for n in range(1, 151)}


def _queue(run: Run) -> list[str]:
    listing = json.loads(run("queue", "--format", "json").stdout)
    return [paper["id"] for paper in listing]


def test_an_add_that_stops_partway_says_what_is_left_and_a_rerun_finishes(
    run: Run, served: Callable[..., Replay]
) -> None:
    # Batch 1 arrives; batch 2 meets a busy arXiv three times; the rerun meets a calm one.
    echo = echo_titles(FAKES)
    replay = served(echo, status(503), status(503), status(503), echo)
    first = run("add", *FAKES, "--queue")
    assert first.exit_code == 3, first.output
    added = [line for line in first.stdout.splitlines() if line.startswith("added ")]
    assert len(added) == 100
    assert added[0] == "added fake-paper-number-1: Fake paper number 1 (2016)"
    left = list(FAKES)[100:]
    assert first.stderr == (
        "error: arXiv kept answering 503 Service Unavailable after 3 tries;"
        f" added 100 papers before that, but not {', '.join(left[:5])} and 45 more;"
        " run the same command again to add them\n"
    )
    queued = [f"fake-paper-number-{n}" for n in range(1, 151)]
    assert _queue(run) == queued[:100]  # saved batches are queued as they arrive

    second = run("add", *FAKES, "--queue")
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines() == [
        *(f"added fake-paper-number-{n}: Fake paper number {n} (2016)" for n in range(101, 151)),
        f"queued {', '.join(queued[100:])}",
    ]
    assert (
        second.stderr.splitlines()[0] == "2401.00001 is already in your list as fake-paper-number-1"
    )
    assert len(second.stderr.splitlines()) == 100
    assert replay.id_lists[-1] == ",".join(left)  # only the rest was asked for
    assert _queue(run) == queued


def test_a_fetch_that_stops_partway_exits_3_and_names_the_rest(
    run: Run, served: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    with base.transaction(db):
        for n, (arxiv_id, title) in enumerate(list(FAKES.items())[:101], 1):
            papers.insert_paper(
                db, Paper(f"fake-{n}", title, f"Fake {n}", 2024, "2024-01-01", arxiv_id=arxiv_id)
            )
    served(echo_titles(FAKES), status(503))
    result = run("fetch", *(f"fake-{n}" for n in range(1, 102)))
    assert result.exit_code == 3, result.output
    assert result.stdout == "updated 100, unchanged 0, not found 0, failed 1, title mismatch 0\n"
    # (The fakes have no curated authors, so arXiv's differ: a warning line for each.)
    assert result.stderr.splitlines()[0] == (
        "failed: fake-101 (arXiv:2401.00101): arXiv kept answering 503 Service Unavailable"
        " after 3 tries"
    )
    assert result.stderr.splitlines()[-1] == (
        "error: arXiv kept answering 503 Service Unavailable after 3 tries;"
        " stopped after 100 of 101 papers, the others are listed as failed"
    )


def test_an_empty_answer_for_several_ids_is_not_called_not_found(
    run: Run, served: Callable[..., Replay]
) -> None:
    # Under load arXiv answers an id list with an empty feed; the ids are asked once more.
    echo = echo_titles(FAKES)
    replay = served(answer(), answer(), echo)
    result = run("add", "2401.00001", "2401.00002")
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert result.stderr == (
        "error: arXiv returned nothing for 2 ids (it does that when busy): 2401.00001,"
        " 2401.00002; nothing added for them, run the command again later\n"
    )
    assert replay.id_lists == ["2401.00001,2401.00002"] * 2
    again = run("add", "2401.00001", "2401.00002")
    assert again.exit_code == 0, again.output
    assert len(again.stdout.splitlines()) == 2


def test_an_empty_answer_for_one_id_still_means_not_found(
    run: Run, served: Callable[..., Replay]
) -> None:
    replay = served(answer())
    result = run("add", "2401.00001")
    assert result.exit_code == 1
    assert result.stderr == "arXiv does not know 2401.00001; nothing added for it\n"
    assert len(replay.requests) == 2


def test_fetch_says_when_arxiv_returned_nothing(run: Run, served: Callable[..., Replay]) -> None:
    served(answer())
    result = run("fetch", "lora", "transformer")
    assert result.exit_code == 3, result.output
    # The result on stdout, the failure on stderr, as one error line (add says it likewise).
    assert result.stdout == "updated 0, unchanged 0, not found 0, failed 0, title mismatch 0\n"
    assert result.stderr == (
        "error: arXiv returned nothing for 2 ids (it does that when busy); run the command"
        " again later: lora (arXiv:2106.09685), transformer (arXiv:1706.03762)\n"
    )
    summary = json.loads(run("fetch", "lora", "transformer", "--format", "json").stdout)
    assert summary["unanswered"] == [
        {"id": "lora", "arxiv_id": "2106.09685"},
        {"id": "transformer", "arxiv_id": "1706.03762"},
    ]
    assert summary["not_found"] == summary["skipped"] == []


def test_fetch_names_the_first_five_it_got_nothing_for(
    run: Run, served: Callable[..., Replay]
) -> None:
    """`fetch --missing` of the whole catalogue named all 72 in one line."""
    served(answer())
    result = run("fetch", "--missing")
    assert result.exit_code == 3, result.output
    [line] = result.stderr.splitlines()
    said = re.fullmatch(
        r"error: arXiv returned nothing for (\d+) ids \(it does that when busy\); run the"
        r" command again later: ((?:[\w-]+ \(arXiv:[\d.]+\), ){4}[\w-]+ \(arXiv:[\d.]+\))"
        r" and (\d+) more",
        line,
    )
    assert said is not None, line
    assert int(said[3]) == int(said[1]) - 5 > 50


# ---------------------------------------------------------------------------
# 8. Nothing arXiv says can reorder or drive the terminal

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def test_fetch_prints_arxiv_s_words_without_bidi_overrides(
    run: Run, served: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    # U+202E shows the rest of a line backwards ("\u202eexe.txt" reads "txt.exe"): it
    # reached the terminal raw in an error feed's message and in a skipped entry's label.
    rejected = fixture("api-2026_error_malformed_id_abc_http400.xml").replace(
        b"incorrect id format for abc", "incorrect \u202eexe.txt\u202c id \u2066x\u2069".encode()
    )
    evil = feed_parts(PLAIN)[1].replace(
        "http://arxiv.org/abs/1605.08386v1", "http://arxiv.org/abs/\u202eevil.exe\u202c"
    )
    served(
        Response(rejected.replace(b"abc", b"2106.09685"), status=400, content_type=ATOM),
        answer(evil, paper_entry("1706.03762", TRANSFORMER)),
    )
    result = run("fetch", "lora", "transformer")
    assert result.exit_code == 1, result.output
    assert result.stdout == "updated 1, unchanged 0, not found 0, failed 1, title mismatch 0\n"
    # Last, a warning: the recorded entry's authors are not the catalogue's.
    assert result.stderr.splitlines()[:-1] == [
        "failed: lora (arXiv:2106.09685): incorrect exe.txt id x",
        "skipped an entry arXiv sent: http://arxiv.org/abs/evil.exe (its id is not an arXiv id)",
    ]
    assert not BIDI.search(result.stdout + result.stderr)


# ---------------------------------------------------------------------------
# 9. Redirects wait their turn


def test_a_redirect_is_a_request_that_waits_its_turn(
    run: Run, served: Callable[..., Replay], httpserver: HTTPServer
) -> None:
    moved = "/api/query?id_list=2106.09685&max_results=1&moved=1"
    replay = served(
        Response(status=301, headers={"Location": moved}),
        answer(paper_entry("2106.09685", LORA)),
    )
    result = run("fetch", "lora")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("updated 1,")
    assert [seen.params.get("moved") for seen in replay.requests] == [None, ["1"]]
    assert replay.gaps == [3.0]


def test_a_redirect_loop_is_paced_and_given_up_after_five_hops(
    run: Run, served: Callable[..., Replay], httpserver: HTTPServer, db: sqlite3.Connection
) -> None:
    # httpx followed it by itself: 21 requests to arXiv within milliseconds.
    replay = served(Response(status=302, headers={"Location": "/api/query?again=1"}))
    one_line_error(
        run("fetch", "lora"),
        3,
        f"could not talk to arXiv at {httpserver.url_for('/api/query')}:"
        " it redirected more than 5 times",
    )
    assert len(replay.requests) == 6
    assert replay.gaps == [3.0] * 5
    assert arxiv_meta.arxiv_record(db, "lora") is None


# ---------------------------------------------------------------------------
# 10. Requests arrive 3 s apart, however long the client takes to start


def test_requests_arrive_at_least_3_s_apart_when_the_client_is_slow_to_start(
    run: Run, served: Callable[..., Replay], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The turn was taken before the client was made: the second request came 2.92 s later.
    slow_connections(monkeypatch, clock)
    replay = served(echo_titles(FAKES))
    result = run("add", *FAKES)
    assert result.exit_code == 0, result.output
    assert len(replay.requests) == 2
    assert replay.gaps[0] >= 3.0


def test_two_commands_sharing_the_pace_file_count_from_when_a_request_went_out(
    served: Callable[..., Replay],
    httpserver: HTTPServer,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # One command's connection is open already; the other's client is slow to start, so
    # its request goes out after the start it reserved in the pace file.
    replay = served(recorded(SINGLE))
    url, pace_file = httpserver.url_for("/api/query"), str(tmp_path / "arxiv.pace")
    with ArxivClient(url, clock=clock, sleep=clock.sleep, pace_file=pace_file) as warm:
        fetch(warm, ["1707.08567"])
        clock.sleep(10.0)
        slow_connections(monkeypatch, clock)
        with ArxivClient(url, clock=clock, sleep=clock.sleep, pace_file=pace_file) as cold:
            fetch(cold, ["1707.08567"])
        fetch(warm, ["1707.08567"])
    assert len(replay.requests) == 3
    assert replay.gaps[1] >= 3.0


# ---------------------------------------------------------------------------
# 11. An answer that is no feed is arXiv's failure, not the user's: exit 3

PORTAL = b"<html><head><title>Hotel WiFi</title></head><body>Log in</body></html>"
NOT_FEEDS = [
    (
        Response(PORTAL, content_type="text/html"),
        f"arXiv sent something other than an Atom feed: {PORTAL.decode()!r}",
    ),
    (
        Response(b"<feed><entry></feed>", content_type=ATOM),
        "arXiv sent something other than an Atom feed (mismatched tag: line 1, column 15):"
        " '<feed><entry></feed>'",
    ),
    (
        Response(b" " * 20_000_001, content_type=ATOM),
        "arXiv's answer is larger than 20,000,000 bytes; not reading it",
    ),
]


@pytest.mark.parametrize(("sent", "message"), NOT_FEEDS, ids=["portal", "malformed", "20-mb"])
@pytest.mark.parametrize("command", [["fetch", "lora"], ["add", "2401.00001"]])
def test_an_answer_that_is_no_feed_exits_3_in_one_line(
    run: Run,
    served: Callable[..., Replay],
    db: sqlite3.Connection,
    command: list[str],
    sent: Response,
    message: str,
) -> None:
    before = list(db.iterdump())
    replay = served(sent)
    one_line_error(run(*command), 3, message)
    assert len(replay.requests) == 1  # no retry mends it
    assert list(db.iterdump()) == before


# ---------------------------------------------------------------------------
# 12. Only arXiv's own addresses are stored for a paper


@pytest.mark.parametrize(
    ("abs_link", "pdf_link"),
    [
        ("javascript:alert(1)//arxiv.org/abs/x", "file:///etc/passwd#arxiv.org/pdf/x"),
        ("https://evil.example/arxiv.org/abs/2106.09685", "https://arxiv.org.evil/pdf/2106.09685"),
        ("https://arxiv.org/abs/1706.03762v1", "https://arxiv.org/pdf/2106.09685v1 x"),
    ],
    ids=["javascript-and-file", "other-hosts", "another-paper-and-a-space"],
)
def test_links_that_are_not_the_paper_s_arxiv_pages_are_not_stored(
    run: Run, served: Callable[..., Replay], db: sqlite3.Connection, abs_link: str, pdf_link: str
) -> None:
    # Links were picked by "arxiv.org/abs/" anywhere in them, and stored as sent.
    entry = paper_entry("2106.09685", LORA, version=2, template=PLAIN)
    entry = entry.replace("https://arxiv.org/abs/2106.09685v2", escape(abs_link))
    entry = entry.replace("https://arxiv.org/pdf/2106.09685v2", escape(pdf_link))
    served(answer(entry))
    result = run("fetch", "lora")
    assert result.stdout == "updated 1, unchanged 0, not found 0, failed 0, title mismatch 0\n"
    stored = db.execute("SELECT abs_url, pdf_url FROM arxiv_meta WHERE paper_id = 'lora'")
    assert stored.fetchone() == (
        "https://arxiv.org/abs/2106.09685v2",
        "https://arxiv.org/pdf/2106.09685v2",
    )
