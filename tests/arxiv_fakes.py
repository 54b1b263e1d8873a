"""Shared by the arXiv tests: recorded API responses, a fake clock and a replaying server.

The recorded papers are not in the test catalogue, so ``paper_entry`` re-labels a
recorded entry with a catalogue paper's arXiv id and title.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from werkzeug import Request, Response

from papercli.models import Paper
from papercli.store import base, papers

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
INDEX: dict[str, dict[str, Any]] = json.loads((FIXTURES / "index.json").read_text())
# index.json lists every recording; the API ones and the three RSS listings are copied here.
API_FIXTURES = sorted(name for name in INDEX if name.startswith("api-"))

ATOM = "application/atom+xml; charset=utf-8"
RICH = "api-2026_oldstyle_id_astro-ph_0601001_affiliations_journalref.xml"  # affiliations etc.
PLAIN = "api-2026_single_id_1605.08386.xml"
LORA = "LoRA: Low-Rank Adaptation of Large Language Models"
NOW = "2026-01-02T03:04:05Z"

Answer = Response | Callable[[Request], Response]
"""What the fake arXiv answers with: a fixed response, or a handler building one."""


def fixture(name: str) -> bytes:
    """The bytes of one recorded answer."""
    return (FIXTURES / name).read_bytes()


def recorded_status(name: str) -> int:
    """The HTTP status arXiv sent with a recorded answer."""
    status: int = INDEX[name]["http_status"]
    return status


class FakeClock:
    """Monotonic time that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[float], None] | None = None  # e.g. to interrupt a test run

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(seconds)


def slow_connections(monkeypatch: Any, clock: FakeClock, seconds: float = 0.08) -> None:
    """Make each HTTP client take ``seconds`` of the fake clock to start, as a real one
    takes 70-80 ms (loading the certificates) before its first request goes out."""

    class SlowClient(httpx.Client):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            clock.now += seconds
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", SlowClient)


@dataclass
class Seen:
    """One request as the fake arXiv saw it."""

    at: float  # fake time when the request arrived
    id_list: str
    max_results: str
    user_agent: str
    params: dict[str, list[str]]


class Replay:
    """Answers requests in turn (the last answer repeats) and notes each one."""

    def __init__(self, clock: FakeClock, answers: list[Answer]) -> None:
        self.clock = clock
        self.answers = answers
        self.requests: list[Seen] = []

    def __call__(self, request: Request) -> Response:
        params = parse_qs(request.query_string.decode())
        self.requests.append(
            Seen(
                self.clock.now,
                request.args.get("id_list", ""),
                request.args.get("max_results", ""),
                request.headers.get("User-Agent", ""),
                params,
            )
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer if isinstance(answer, Response) else answer(request)

    @property
    def id_lists(self) -> list[str]:
        return [seen.id_list for seen in self.requests]

    @property
    def gaps(self) -> list[float]:
        times = [seen.at for seen in self.requests]
        return [later - earlier for earlier, later in itertools.pairwise(times)]


def recorded(name: str) -> Response:
    """A recorded answer, replayed with its recorded status."""
    return Response(fixture(name), status=recorded_status(name), content_type=ATOM)


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Response:
    """A bare HTTP answer with this status code (and optional body and headers)."""
    return Response(body, status=f"{code} {HTTPStatus(code).phrase}", headers=headers)


def feed_parts(name: str) -> tuple[str, str, str]:
    """A recording split into the text before its first <entry>, that entry, and the rest."""
    text = fixture(name).decode()
    start, end = text.index("<entry>"), text.index("</entry>") + len("</entry>")
    return text[:start], text[start:end], text[end:]


def paper_entry(arxiv_id: str, title: str, *, version: int = 1, template: str = RICH) -> str:
    """A recorded <entry> re-labelled as another paper (id, links and title)."""
    entry = feed_parts(template)[1]
    recorded_id = re.search(r"arxiv\.org/abs/(.+?)v\d+</id>", entry)
    assert recorded_id is not None
    entry = re.sub(re.escape(recorded_id[1]) + r"v\d+", f"{arxiv_id}v{version}", entry)
    new_title = f"<title>{escape(title)}</title>"
    return re.sub("<title>.*?</title>", lambda _: new_title, entry, count=1)


def atom(*entries: str) -> bytes:
    """A whole API answer holding these entries."""
    head, _, tail = feed_parts(PLAIN)
    return (head + "".join(entries) + tail).encode()


def answer(*entries: str) -> Response:
    """A 200 Atom answer holding these entries."""
    return Response(atom(*entries), content_type=ATOM)


def echo_titles(titles: dict[str, str]) -> Callable[[Request], Response]:
    """An arXiv that knows these papers (arXiv id -> title) and answers any id_list."""

    def handler(request: Request) -> Response:
        ids = request.args["id_list"].split(",")
        return answer(*(paper_entry(i, titles[i], template=PLAIN) for i in ids if i in titles))

    return handler


def error_feed(arxiv_id: str) -> Response:
    """arXiv's 400 error feed rejecting this id as malformed."""
    body = fixture("api-2026_error_malformed_id_abc_http400.xml").replace(b"abc", arxiv_id.encode())
    return Response(body, status=400, content_type=ATOM)


def add_fake_papers(conn: sqlite3.Connection, count: int) -> dict[str, str]:
    """Papers fake-1... with arXiv ids 2401.00001...; returns arXiv id -> title."""
    titles = {f"2401.{n:05d}": f"Fake paper number {n}" for n in range(1, count + 1)}
    with base.transaction(conn):
        for n, (arxiv_id, title) in enumerate(titles.items(), 1):
            papers.insert_paper(
                conn, Paper(f"fake-{n}", title, f"Fake {n}", 2024, "2024-01-01", arxiv_id=arxiv_id)
            )
    return titles


Script = Callable[[socket.socket, int, threading.Event], bool]
"""How RawServer answers: given the connection, the request's number (from 1) and the
server's stop event, write raw bytes; return True to read another request on it."""


class RawServer:
    """An HTTP server on 127.0.0.1 that answers with raw bytes, so it can lie, drip or
    hang up where pytest-httpserver's werkzeug would not. Bounded in time: every socket
    times out after 2 s, and ``close`` stops the scripts and joins every thread."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.stop = threading.Event()
        self.requests: list[bytes] = []  # each request's head, as received
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/api/query"

    def close(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _start(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._start(self._answer, conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        pending = b""
        with conn:
            try:
                while not self.stop.is_set():
                    while b"\r\n\r\n" not in pending:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        pending += chunk
                    head, _, pending = pending.partition(b"\r\n\r\n")
                    self.requests.append(head)
                    if not self.script(conn, len(self.requests), self.stop):
                        return
            except OSError:  # the client hung up, or a socket timed out
                return
