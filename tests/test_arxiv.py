"""The client against a real HTTP server on 127.0.0.1 replaying recorded arXiv answers.

Time is fake: the client's clock only moves when it sleeps, so pacing and backoff
are asserted exactly and nothing waits for real (except the hung-request tests,
which wait for one tiny read timeout).
"""

from __future__ import annotations

import os
import re
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from papercli import transport
from papercli.arxiv import DEFAULT_URL, URL_ENV, USER_AGENT, ArxivClient, BatchResult
from papercli.arxiv_ids import ArxivId
from papercli.errors import ArxivAPIError, NetworkError
from tests.arxiv_fakes import INDEX, FakeClock, Replay, recorded, recorded_status, status

SINGLE = "api-2026_single_id_1707.08567_comment_34_authors.xml"
EMPTY = "api-2026_idlist_unknown_id_0000.0000_empty.xml"
TITLE_ZERO = "api-2026_versioned_id_2104.12255v1_title_zero.xml"


@pytest.fixture
def make_client(httpserver: HTTPServer, clock: FakeClock) -> Iterator[Callable[..., ArxivClient]]:
    clients: list[ArxivClient] = []

    def make_client(**options: Any) -> ArxivClient:
        options.setdefault("url", httpserver.url_for("/api/query"))
        clients.append(ArxivClient(clock=clock, sleep=clock.sleep, **options))
        return clients[-1]

    yield make_client
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ArxivClient]) -> ArxivClient:
    return make_client()


def fetch(client: ArxivClient, ids: Sequence[ArxivId | str], **options: Any) -> list[BatchResult]:
    return list(client.fetch_batches(ids, **options))


def requested_ids(name: str) -> list[str]:
    url: str = INDEX[name]["request_url"].split(" ")[0]  # the 2012 one has a note after it
    return parse_qs(urlsplit(url).query)["id_list"][0].split(",")


ID_LIST_RECORDINGS = [
    name for name in INDEX if name.startswith("api-") and "search_testing" not in name
]
MISSING = {
    "api-2026_idlist_two_ids_one_missing_0808.05394_1707.08567.xml": ["0808.05394"],
    "api-2026_idlist_unknown_id_0000.0000_empty.xml": ["0000.0000"],
    "api-2026_idlist_nonexistent_id_0808.05394_empty.xml": ["0808.05394"],
}


@pytest.mark.parametrize("name", ID_LIST_RECORDINGS)
def test_replays_every_id_list_recording(
    name: str, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    ids = requested_ids(name)
    replay = serve(recorded(name))
    (result,) = fetch(client, ids)
    missing = MISSING.get(name, [])
    if recorded_status(name) == 400:
        (bad,) = ids
        assert result == BatchResult(failed={bad: f"incorrect id format for {bad}"})
    else:
        assert list(result.records) == [i for i in ids if i not in missing]
        assert (result.missing, result.failed) == (missing, {})
    for requested, record in result.records.items():
        assert re.sub(r"v\d+$", "", requested) == record.arxiv_id
    first = replay.requests[0]
    assert (first.id_list, first.max_results) == (",".join(ids), str(len(ids)))
    assert set(first.params) == {"id_list", "max_results"}
    assert first.user_agent == USER_AGENT
    # An all-empty answer is asked once more before the ids are called missing.
    assert len(replay.requests) == (2 if missing == ids else 1)


def test_user_agent_names_papercli_and_its_version(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(recorded(SINGLE))
    fetch(client, ["1707.08567"])
    assert replay.requests[0].user_agent.startswith("papercli/0.1.0 (+https://")


def test_results_are_matched_by_id_not_position(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    serve(recorded("api-legacy-2012_idlist_two_ids_1205.1001v1_1001.1001v1.xml"))
    (result,) = fetch(client, [ArxivId("1001.1001", 1), ArxivId("1205.1001")])
    assert list(result.records) == ["1001.1001v1", "1205.1001"]
    assert result.records["1001.1001v1"].title.startswith("The chromosphere")
    assert result.records["1205.1001"].title.startswith("Membrane lateral structure")


def test_a_versioned_request_needs_that_version(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    serve(recorded(TITLE_ZERO))
    (result,) = fetch(client, ["2104.12255v2", "2104.12255"])
    assert list(result.records) == ["2104.12255"]
    assert result.missing == ["2104.12255v2"]


def test_batches_are_paced_and_yielded_as_they_arrive(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(recorded(SINGLE), recorded(TITLE_ZERO))
    batches = client.fetch_batches(
        ["1707.08567", "0808.05394", "1707.08567", "2104.12255v1"], batch_size=2
    )
    first = next(batches)
    assert len(replay.requests) == 1  # the second batch is not asked for yet
    assert (list(first.records), first.missing) == (["1707.08567"], ["0808.05394"])
    (second,) = list(batches)
    assert list(second.records) == ["2104.12255v1"]
    assert replay.id_lists == ["1707.08567,0808.05394", "2104.12255v1"]
    assert [seen.max_results for seen in replay.requests] == ["2", "1"]
    assert clock.sleeps == [3.0]
    assert replay.gaps == [3.0]


def test_two_commands_asking_at_once_are_paced_together(
    serve: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """arXiv's limit holds for "all of the machines under your control as a whole": two
    clients sharing a pace file, as two papercli commands do, ask 3 s apart, and a third
    after them 3 s later again (each waits outside the lock, for the start it reserved)."""
    pace = str(tmp_path / "arxiv.pace")
    replay = serve(*[recorded(SINGLE)] * 4)
    for client in [make_client(pace_file=pace) for _ in range(3)]:
        fetch(client, ["1707.08567"])
    assert replay.gaps == [3.0, 3.0]
    assert clock.sleeps == [3.0, 3.0]
    fetch(make_client(), ["1707.08567"])  # without the file: its own pace only
    assert clock.sleeps == [3.0, 3.0]


@pytest.mark.parametrize("stuck", [False, True])
def test_a_request_waits_while_another_commands_is_in_flight(
    serve: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    tmp_path: Path,
    stuck: bool,
) -> None:
    """arXiv asks for one connection at a time: two commands at once each had a request
    out while the first's answer was slow. The other's request is waited for, a deadline
    at most (a command stopped while it held the lock holds up no other for longer)."""
    from papercli.files import locked_file

    pace = str(tmp_path / "arxiv.pace")
    serve(recorded(SINGLE))
    holding, done = threading.Event(), threading.Event()
    released: list[float] = []

    def other_command() -> None:
        with locked_file(pace + ".busy", wait=True):
            holding.set()
            done.wait(5 if stuck else 0.5)
            released.append(time.monotonic())

    thread = threading.Thread(target=other_command)
    thread.start()
    holding.wait()
    started = time.monotonic()
    fetch(make_client(pace_file=pace, deadline=1.0), ["1707.08567"])
    finished = time.monotonic()
    done.set()
    thread.join()
    if stuck:
        assert 1.0 <= finished - started < 4.0  # went after the deadline, not the 5 s
    else:
        assert finished >= released[0] >= started + 0.4


def test_waiting_for_another_commands_request_counts_towards_the_bound(
    serve: Callable[..., Replay], make_client: Callable[..., ArxivClient], tmp_path: Path
) -> None:
    """Two commands at once against a slow server each ended past the 2 minutes (180 s and
    238 s): the wait for the other's request was not counted."""
    from papercli.files import locked_file

    pace = str(tmp_path / "arxiv.pace")
    replay = serve(*[status(503)] * 3)
    holding, done = threading.Event(), threading.Event()

    def stuck_command() -> None:
        with locked_file(pace + ".busy", wait=True):
            holding.set()
            done.wait(10)

    thread = threading.Thread(target=stuck_command)
    thread.start()
    holding.wait()
    client = make_client(pace_file=pace, deadline=1.0, max_retries=5, max_retry_wait=3.5)
    try:
        with pytest.raises(NetworkError) as caught:
            fetch(client, ["1707.08567"])
    finally:
        done.set()
        thread.join()
    # 1 s waited, then 3 s more to wait: past 3.5 s, after one try (without the wait: two).
    assert len(replay.requests) == 1
    assert caught.value.message.endswith("(gave up after 1 s rather than wait 3 s more)")


def test_the_lower_case_proxy_setting_is_the_one_named(
    make_client: Callable[..., ArxivClient], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx, as urllib, uses http_proxy over HTTP_PROXY: the error named the other."""
    for name in _PROXY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    monkeypatch.setattr(socket, "getaddrinfo", _no_lookup)
    url = "http://export.arxiv.example/api/query"
    with pytest.raises(NetworkError) as caught:
        fetch(make_client(url=url), ["1707.08567"])
    assert "cannot look up the proxy proxy.example:3128" in caught.value.message
    assert caught.value.message.endswith("; check http_proxy")


def _no_lookup(host: object, *args: object, **kwargs: object) -> object:
    raise socket.gaierror(-2, "Name or service not known")


@pytest.mark.parametrize(
    ("noted", "slept"),
    [
        # The clock reads 1000.0; the file holds the last start reserved.
        (b"", []),  # a new file
        (b"990.0", []),  # long past
        (b"998.5", [1.5]),  # 1.5 s ago
        (b"1001.0", [4.0]),  # reserved ahead by another command: the next start after it
        (b"garbage", [3.0]),  # unreadable: as if just asked
        (b"nan", [3.0]),
        (b"inf", [3.0]),
        (b"9999999.0", [3.0]),  # from before the machine started again
        # Then the last request any command sent: the next start is 3 s after it too.
        (b"990.0 999.5", [2.5]),  # reserved long ago, but it went out half a second ago
        (b"1001.0 999.5", [4.0]),
        (b"990.0 990.0", []),
        (b"990.0 nan", []),
        (b"990.0 9999999.0", []),  # sent before the machine started again
        (b"990.0 999.5 1.0", [3.0]),  # unreadable
    ],
)
def test_what_the_pace_file_says_is_waited_for_within_bounds(
    serve: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    tmp_path: Path,
    noted: bytes,
    slept: list[float],
) -> None:
    pace = tmp_path / "arxiv.pace"
    pace.write_bytes(noted)
    serve(recorded(SINGLE))
    fetch(make_client(pace_file=str(pace)), ["1707.08567"])
    assert clock.sleeps == slept
    # The start it took, and when its request went out, for the next.
    assert pace.read_bytes() == f"{clock.now!r} {clock.now!r}".encode()


def test_a_request_waits_for_another_commands_that_went_out_later_than_reserved(
    tmp_path: Path,
) -> None:
    """Commands A and B reserve their starts 3 s apart; A's client takes 0.8 s to start
    and connect, so its request goes out at 1000.8: B's, due at 1003.0, waits until
    1003.8 (six commands at once asked arXiv as little as 2.2 s apart)."""
    pace = str(tmp_path / "arxiv.pace")
    assert transport._reserve(pace, 1000.0, 3.0) == 1000.0  # A
    assert transport._reserve(pace, 1000.0, 3.0) == 1003.0  # B
    assert transport._go_out(pace, 1000.8, 3.0) == 0.0  # A's request goes out
    assert transport._go_out(pace, 1003.0, 3.0) == pytest.approx(0.8)  # B's must wait
    assert transport._go_out(pace, 1003.8, 3.0) == 0.0
    assert transport._reserve(pace, 1004.0, 3.0) == pytest.approx(1006.8)  # C: after B's


def test_a_pace_file_of_an_earlier_papercli_is_read(
    serve: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """One time, the start last reserved: as written before 5 December."""
    pace = tmp_path / "arxiv.pace"
    pace.write_bytes(b"998.5")
    serve(recorded(SINGLE))
    fetch(make_client(pace_file=str(pace)), ["1707.08567"])
    assert clock.sleeps == [1.5]


def test_a_pace_file_that_cannot_serve_is_left_alone(
    serve: Callable[..., Replay],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    """A FIFO or a link where the file should be, or no folder for it: the command paces
    alone, and touches none of them."""
    fifo = tmp_path / "fifo.pace"
    os.mkfifo(fifo)
    target = tmp_path / "target"
    target.write_text("1001.0")
    link = tmp_path / "link.pace"
    link.symlink_to(target)
    serve(*[recorded(SINGLE)] * 3)
    for pace in (fifo, link, tmp_path / "no-such-folder" / "arxiv.pace"):
        fetch(make_client(pace_file=str(pace)), ["1707.08567"])
    assert clock.sleeps == []
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert target.read_text() == "1001.0"
    assert not (tmp_path / "no-such-folder").exists()


def test_at_most_100_ids_per_request(serve: Callable[..., Replay], client: ArxivClient) -> None:
    replay = serve(recorded(EMPTY))
    ids = [f"1501.{n:05d}" for n in range(1, 251)]
    results = fetch(client, ids)
    assert [len(r.missing) for r in results] == [100, 100, 50]
    sizes = [len(seen.id_list.split(",")) for seen in replay.requests]
    assert sizes == [100, 100, 100, 100, 50, 50]  # each empty batch asked twice
    assert [seen.max_results for seen in replay.requests] == [str(size) for size in sizes]
    assert min(replay.gaps) >= 3.0
    with pytest.raises(ValueError, match="batch_size"):
        fetch(client, ids, batch_size=101)


def test_an_empty_page_is_asked_again(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(recorded(EMPTY), recorded(SINGLE))
    (result,) = fetch(client, ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert result.missing == []
    assert (len(replay.requests), clock.sleeps) == (2, [3.0])


def test_a_bad_id_is_dropped_and_the_rest_asked_again(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(recorded("api-2026_error_malformed_id_abc_http400.xml"), recorded(SINGLE))
    (result,) = fetch(client, ["abc", "1707.08567"])
    assert result.failed == {"abc": "incorrect id format for abc"}
    assert list(result.records) == ["1707.08567"]
    assert result.missing == []
    assert replay.id_lists == ["abc,1707.08567", "1707.08567"]
    assert [seen.max_results for seen in replay.requests] == ["2", "1"]
    assert clock.sleeps == [3.0]


def test_an_error_feed_about_something_else_is_an_api_error(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    serve(recorded("api-legacy-2019_error_malformed_id_INVALIDID_http400.xml"))
    with pytest.raises(ArxivAPIError, match=r"^arXiv rejected the request: incorrect id format"):
        fetch(client, ["1707.08567"])


@pytest.mark.parametrize(
    "answer",
    [
        status(503),
        status(502, b"<html>Bad Gateway</html>"),
        status(429, b"Rate exceeded."),
        status(504, headers={"Retry-After": "0"}),
    ],
    ids=["503", "502", "429", "504-retry-after-0"],
)
def test_transient_failures_back_off_then_succeed(
    answer: Response, serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(answer, answer, answer, recorded(SINGLE))
    (result,) = fetch(client, ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert clock.sleeps == [3.0, 6.0, 12.0]
    assert replay.gaps == [3.0, 6.0, 12.0]


def test_retries_are_bounded(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(status(503))
    with pytest.raises(NetworkError) as caught:
        fetch(client, ["1707.08567"])
    assert caught.value.message == "arXiv kept answering 503 Service Unavailable after 4 tries"
    assert (len(replay.requests), clock.sleeps) == (4, [3.0, 6.0, 12.0])


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("10", 10.0),
        ("1", 3.0),  # never sooner than the 3 s the terms ask for
        ("soon", 3.0),  # unreadable: plain backoff
    ],
)
def test_retry_after_is_honoured(
    retry_after: str,
    expected: float,
    serve: Callable[..., Replay],
    client: ArxivClient,
    clock: FakeClock,
) -> None:
    serve(status(429, b"Rate exceeded.", {"Retry-After": retry_after}), recorded(SINGLE))
    fetch(client, ["1707.08567"])
    assert clock.sleeps == [expected]


def test_retry_after_as_an_http_date(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    # Measured against the server's Date header (werkzeug sends the real time).
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    serve(status(503, headers={"Retry-After": when}), recorded(SINGLE))
    fetch(client, ["1707.08567"])
    (slept,) = clock.sleeps
    assert 18.0 <= slept <= 21.0


def test_a_long_retry_after_gives_up_at_once(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    serve(status(503, headers={"Retry-After": "3600"}))
    with pytest.raises(NetworkError) as caught:
        fetch(client, ["1707.08567"])
    assert caught.value.message == (
        "arXiv answered 503 Service Unavailable after 1 try (gave up rather than wait 3600 s more)"
    )
    assert clock.sleeps == []


def test_total_retry_wait_is_capped(
    serve: Callable[..., Replay], make_client: Callable[..., ArxivClient], clock: FakeClock
) -> None:
    replay = serve(status(503))
    with pytest.raises(NetworkError, match="after 3 tries"):
        fetch(make_client(max_retry_wait=10), ["1707.08567"])
    assert clock.sleeps == [3.0, 6.0]
    assert len(replay.requests) == 3


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            Response(b"<!DOCTYPE html><html><body>Access Denied</body></html>", status=200),
            "^arXiv sent something other than an Atom feed",
        ),
        (status(403, b"<html>Access Denied</html>"), "^arXiv answered 403 Forbidden to http://"),
        (status(404), "^arXiv answered 404 Not Found"),
        (status(400, b"oops"), "^arXiv sent something other than an Atom feed"),
    ],
    ids=["html-200", "403", "404", "400-not-atom"],
)
def test_unusable_answers_are_api_errors_without_retrying(
    answer: Response,
    message: str,
    serve: Callable[..., Replay],
    client: ArxivClient,
    clock: FakeClock,
) -> None:
    replay = serve(answer)
    with pytest.raises(ArxivAPIError, match=message) as caught:
        fetch(client, ["1707.08567"])
    assert "\n" not in caught.value.message
    assert (len(replay.requests), clock.sleeps) == (1, [])


def test_an_oversized_answer_is_refused(
    serve: Callable[..., Replay], make_client: Callable[..., ArxivClient]
) -> None:
    serve(recorded("api-2026_search_testing_start0_max100.xml"))
    with pytest.raises(ArxivAPIError, match="larger than 10,000 bytes"):
        fetch(make_client(max_bytes=10_000), ["1707.08567"])


def test_connection_refused(make_client: Callable[..., ArxivClient], clock: FakeClock) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/query"
    client = make_client(url=url)
    with pytest.raises(NetworkError) as caught:
        fetch(client, ["1707.08567"])
    assert caught.value.message.startswith(f"could not reach arXiv at {url} after 4 tries: ")
    assert clock.sleeps == [3.0, 6.0, 12.0]
    assert client._http is None  # the failed session let go of its connection


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (socket.EAI_NONAME, "Name or service not known"),
        (socket.EAI_AGAIN, "Temporary failure in name resolution"),  # offline, most often
    ],
)
def test_a_host_that_cannot_be_looked_up_fails_at_once(
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    code: int,
    reason: str,
) -> None:
    """Offline, retrying only makes a person wait; git and curl stop at once too."""

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        raise socket.gaierror(code, reason)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    url = "http://export.arxiv.example/api/query"
    client = make_client(url=url)
    with pytest.raises(NetworkError) as caught:
        fetch(client, ["1707.08567"])
    assert caught.value.message == (
        f"could not reach arXiv at {url}: cannot look up export.arxiv.example"
        f" ([Errno {code}] {reason}); check your connection"
    )
    assert clock.sleeps == []
    assert client._http is None


_PROXY_SETTINGS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.mark.parametrize("bypassed", [False, True])
def test_a_proxy_that_cannot_be_looked_up_is_named(
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    bypassed: bool,
) -> None:
    """Through a proxy, only the proxy's name is looked up: the error named arXiv's host
    and said to check the connection, when HTTP_PROXY was what was wrong."""
    for name in _PROXY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    if bypassed:
        monkeypatch.setenv("NO_PROXY", "export.arxiv.example")
    looked_up: list[object] = []

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        looked_up.append(host)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    url = "http://export.arxiv.example/api/query"
    with pytest.raises(NetworkError) as caught:
        fetch(make_client(url=url), ["1707.08567"])
    host, check = (
        ("export.arxiv.example", "your connection")
        if bypassed
        else ("the proxy proxy.example:3128", "HTTP_PROXY")
    )
    assert looked_up == [host.removeprefix("the proxy ").removesuffix(":3128")]
    assert caught.value.message == (
        f"could not reach arXiv at {url}: cannot look up {host}"
        f" ([Errno -2] Name or service not known); check {check}"
    )


def test_a_refused_connection_through_a_proxy_names_it(
    make_client: Callable[..., ArxivClient], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in _PROXY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("http_proxy", f"127.0.0.1:{port}")
    url = "http://export.arxiv.example/api/query"
    with pytest.raises(NetworkError) as caught:
        fetch(make_client(url=url), ["1707.08567"])
    assert caught.value.message.startswith(
        f"could not reach arXiv at {url} through the proxy 127.0.0.1:{port} (http_proxy)"
        " after 4 tries: "
    )


def test_a_url_that_cannot_work_fails_at_once(
    make_client: Callable[..., ArxivClient], clock: FakeClock
) -> None:
    with pytest.raises(NetworkError, match=r"^could not talk to arXiv at ftp://x/api/query: "):
        fetch(make_client(url="ftp://x/api/query"), ["1707.08567"])
    assert clock.sleeps == []


def test_a_hung_request_times_out_and_is_retried(
    serve: Callable[..., Replay], make_client: Callable[..., ArxivClient], clock: FakeClock
) -> None:
    released = threading.Event()
    clock.on_sleep = lambda _: released.set()  # free the server once the client gave up

    def hang(request: Request) -> Response:
        released.wait(5)
        return recorded(SINGLE)

    replay = serve(hang, recorded(SINGLE))
    (result,) = fetch(make_client(read_timeout=0.2), ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert (len(replay.requests), clock.sleeps) == (2, [3.0])


def test_a_request_that_keeps_hanging_gives_up(
    serve: Callable[..., Replay], make_client: Callable[..., ArxivClient]
) -> None:
    released = threading.Event()

    def hang(request: Request) -> Response:
        released.wait(5)
        return recorded(SINGLE)

    serve(hang)
    try:
        with pytest.raises(
            NetworkError, match=r"^arXiv at http://\S+ did not answer within 0.1 s after 1 try$"
        ):
            fetch(make_client(read_timeout=0.1, max_retries=0), ["1707.08567"])
    finally:
        released.set()


def test_redirects_are_followed(
    httpserver: HTTPServer, serve: Callable[..., Replay], make_client: Callable[..., ArxivClient]
) -> None:
    httpserver.expect_request("/old").respond_with_handler(
        lambda request: Response(
            status=301, headers={"Location": f"/api/query?{request.query_string.decode()}"}
        )
    )
    replay = serve(recorded(SINGLE))
    (result,) = fetch(make_client(url=httpserver.url_for("/old")), ["1707.08567"])
    assert list(result.records) == ["1707.08567"]
    assert replay.id_lists == ["1707.08567"]


def test_keyboard_interrupt_propagates_after_earlier_batches(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(recorded(SINGLE))
    batches = client.fetch_batches(["1707.08567", "2104.12255v1"], batch_size=1)
    assert list(next(batches).records) == ["1707.08567"]

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    clock.on_sleep = interrupt  # Ctrl-C while waiting to send the second batch
    with pytest.raises(KeyboardInterrupt):
        next(batches)
    assert len(replay.requests) == 1
    assert client._http is None


def test_url_from_argument_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:8/env")
    assert ArxivClient("http://127.0.0.1:8/arg").url == "http://127.0.0.1:8/arg"
    assert ArxivClient().url == "http://127.0.0.1:8/env"
    monkeypatch.delenv(URL_ENV)
    assert ArxivClient().url == DEFAULT_URL == "https://export.arxiv.org/api/query"


def test_context_manager_closes_the_connection(
    serve: Callable[..., Replay], httpserver: HTTPServer, clock: FakeClock
) -> None:
    serve(recorded(SINGLE))
    url = httpserver.url_for("/api/query")
    with ArxivClient(url, clock=clock, sleep=clock.sleep) as client:
        fetch(client, ["1707.08567"])
        assert client._http is not None
    assert client._http is None
