"""The client's RSS daily listings and API search pages, against a real HTTP server on
127.0.0.1 replaying recorded arXiv answers.

Time is fake, as in test_arxiv.py: the client's clock only moves when it sleeps, so the
3 s pacing shared by listing, search and id_list requests is asserted exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from papercli import arxiv
from papercli.arxiv import (
    RSS_URL,
    RSS_URL_ENV,
    URL_ENV,
    USER_AGENT,
    ArxivClient,
    ListingAnswer,
    SearchPage,
)
from papercli.errors import EXIT_USAGE, ArxivAPIError, NetworkError, PapercliError
from papercli.feed import UnknownCategoryError, parse_feed, parse_listing
from tests.arxiv_fakes import ATOM, FakeClock, Replay, fixture, recorded, status

ALL = "rss-2024_listing_all_archives.xml"
EMPTY_LISTING = "rss-2024_empty_listing_test_archive.xml"
BAD_ARCHIVE = "rss-2024_error_bad_archive_astroph.xml"
PAGE_1 = "api-2026_search_testing_start0_max10_doi_journalref_comment.xml"
PAGE_2 = "api-2026_search_testing_start10_max10.xml"
HUNDRED = "api-2026_search_testing_start0_max100.xml"
EMPTY_SEARCH = "api-2026_idlist_unknown_id_0000.0000_empty.xml"  # 200, totalResults 0
RSS = "application/rss+xml"
CL_LG = "/rss/cs.CL+cs.LG"


class HeaderReplay(Replay):
    """A Replay that also keeps each request's headers and raw request line."""

    def __init__(self, clock: FakeClock, answers: list[Any]) -> None:
        super().__init__(clock, answers)
        self.headers: list[dict[str, str]] = []
        self.raw_uris: list[str] = []

    def __call__(self, request: Request) -> Response:
        self.headers.append(dict(request.headers))
        self.raw_uris.append(request.environ.get("REQUEST_URI", ""))
        return super().__call__(request)


@pytest.fixture
def make_client(httpserver: HTTPServer, clock: FakeClock) -> Iterator[Callable[..., ArxivClient]]:
    clients: list[ArxivClient] = []

    def make_client(**options: Any) -> ArxivClient:
        options.setdefault("url", httpserver.url_for("/api/query"))
        options.setdefault("rss_url", httpserver.url_for("/rss/"))
        clients.append(ArxivClient(clock=clock, sleep=clock.sleep, **options))
        return clients[-1]

    yield make_client
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ArxivClient]) -> ArxivClient:
    return make_client()


@pytest.fixture
def serve_listing(httpserver: HTTPServer, clock: FakeClock) -> Callable[..., HeaderReplay]:
    """Make the local server answer one listing path in turn: ``serve_listing(PATH, ...)``."""

    def serve_listing(path: str, *answers: Response) -> HeaderReplay:
        replay = HeaderReplay(clock, list(answers))
        httpserver.expect_request(path).respond_with_handler(replay)
        return replay

    return serve_listing


def listing(name: str, code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A recorded RSS listing, served as rss.arxiv.org serves it."""
    return Response(fixture(name), status=code, content_type=RSS, headers=headers)


def with_total(name: str, total: int) -> bytes:
    """A recorded search page claiming a smaller result set."""
    body = fixture(name).replace(b">214881<", f">{total}<".encode())
    assert body != fixture(name)
    return body


def search_answer(request: Request, total: int = 214881) -> Response:
    """A search page holding the entries at the requested start and size, cut from the
    recorded 100-entry page (the same query): enough for a shrunken search window."""
    text = fixture(HUNDRED).decode()
    head, first, _ = text.partition("<entry>")
    entries = [
        "<entry>" + part.partition("</entry>")[0] + "</entry>" for part in text.split("<entry>")[1:]
    ]
    tail = text[text.rindex("</entry>") + len("</entry>") :]
    start, size = int(request.args["start"]), int(request.args["max_results"])
    assert first and len(entries) == 100
    body = (head + "".join(entries[start : start + size]) + tail).replace(">214881<", f">{total}<")
    return Response(body.encode(), content_type=ATOM)


def invalid_query(query: str) -> Response:
    """arXiv's 400 error feed for an unparsable query (the current API's wording)."""
    message = f"Invalid query string: '{query}'"
    body = (
        fixture("api-2026_error_malformed_id_abc_http400.xml")
        .replace(b"incorrect id format for abc", message.encode())
        .replace(b"incorrect_id_format_for_abc", b"invalid_query")
    )
    return Response(body, status=400, content_type=ATOM)


def ids(pages: list[SearchPage]) -> list[str]:
    return [record.arxiv_id for page in pages for record in page.records]


def recorded_ids(name: str) -> list[str]:
    return [record.arxiv_id for record in parse_feed(fixture(name)).records]


# ---------------------------------------------------------------------------
# RSS daily listings


@pytest.mark.parametrize("base", ["/rss/", "/rss"])
def test_a_listing_asks_for_the_categories_joined_by_plus_and_passes_the_body_on(
    base: str,
    httpserver: HTTPServer,
    serve_listing: Callable[..., HeaderReplay],
    make_client: Callable[..., ArxivClient],
) -> None:
    replay = serve_listing(CL_LG, listing(ALL))
    answer = make_client(rss_url=httpserver.url_for(base)).fetch_listing(["cs.CL", "cs.LG"])
    assert answer == ListingAnswer(httpserver.url_for(CL_LG), fixture(ALL), None, None)
    assert len(answer.body or b"") > 2_000_000  # well within the default size limit
    assert [seen.user_agent for seen in replay.requests] == [USER_AGENT]
    assert replay.requests[0].params == {}
    assert "If-None-Match" not in replay.headers[0]
    assert "If-Modified-Since" not in replay.headers[0]


def test_an_empty_listing_passes_through(
    serve_listing: Callable[..., HeaderReplay], client: ArxivClient
) -> None:
    serve_listing("/rss/test", listing(EMPTY_LISTING))
    answer = client.fetch_listing(["test"])
    assert answer.body == fixture(EMPTY_LISTING)
    assert parse_listing(answer.body).empty


def test_unsafe_characters_in_a_category_are_percent_encoded(
    httpserver: HTTPServer, client: ArxivClient, clock: FakeClock
) -> None:
    replay = HeaderReplay(clock, [listing(EMPTY_LISTING)])
    httpserver.expect_request("/rss/cs.CL+a b/c+d?e#f").respond_with_handler(replay)
    answer = client.fetch_listing(["cs.CL", "a b/c+d?e#f"])
    assert answer.url == httpserver.url_for("/rss/cs.CL+a%20b%2Fc%2Bd%3Fe%23f")
    assert replay.raw_uris == ["/rss/cs.CL+a%20b%2Fc%2Bd%3Fe%23f"]


def test_a_query_in_the_base_url_is_kept(
    httpserver: HTTPServer,
    serve_listing: Callable[..., HeaderReplay],
    make_client: Callable[..., ArxivClient],
) -> None:
    replay = serve_listing("/mirror/rss/cs.CL", listing(EMPTY_LISTING))
    client = make_client(rss_url=httpserver.url_for("/mirror/rss?key=1"))
    answer = client.fetch_listing(["cs.CL"])
    assert answer.url == httpserver.url_for("/mirror/rss/cs.CL?key=1")
    assert replay.requests[0].params == {"key": ["1"]}


@pytest.mark.parametrize(
    ("categories", "error"),
    [([], ValueError), ("cs.CL", TypeError)],
    ids=["none", "one-string"],
)
def test_a_listing_needs_a_list_of_categories(
    categories: Any, error: type[Exception], client: ArxivClient, httpserver: HTTPServer
) -> None:
    with pytest.raises(error, match="categor"):
        client.fetch_listing(categories)
    assert httpserver.log == []


def test_the_listing_url_comes_from_the_argument_then_the_environment_then_arxiv(
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
    serve_listing: Callable[..., HeaderReplay],
    clock: FakeClock,
) -> None:
    monkeypatch.delenv(RSS_URL_ENV, raising=False)
    assert ArxivClient().rss_url == RSS_URL == "https://rss.arxiv.org/rss/"
    monkeypatch.setenv(RSS_URL_ENV, httpserver.url_for("/env"))
    assert ArxivClient(rss_url="http://127.0.0.1:8/arg").rss_url == "http://127.0.0.1:8/arg"
    replay = serve_listing("/env/cs.CL", listing(EMPTY_LISTING))
    with ArxivClient(clock=clock, sleep=clock.sleep) as client:
        answer = client.fetch_listing(["cs.CL"])
    assert answer.url == httpserver.url_for("/env/cs.CL")
    assert len(replay.requests) == 1


@pytest.mark.parametrize(
    "value",
    [
        "ftp://rss.arxiv.org/rss/",
        "rss.arxiv.org/rss/",
        "https://rss..arxiv.org/rss/",
        "https://" + "x" * 200,
    ],
)
def test_a_bad_listing_url_in_the_environment_is_a_usage_error_before_any_request(
    value: str, monkeypatch: pytest.MonkeyPatch, clock: FakeClock, httpserver: HTTPServer
) -> None:
    monkeypatch.setenv(RSS_URL_ENV, value)
    client = ArxivClient(httpserver.url_for("/api/query"), clock=clock, sleep=clock.sleep)
    with pytest.raises(PapercliError) as caught:
        client.fetch_listing(["cs.CL"])
    shown = value if len(value) <= 80 else value[:79] + "…"
    assert caught.value.message == (
        f"{RSS_URL_ENV} must be an http or https address such as {RSS_URL}, not {shown!r}"
    )
    assert caught.value.exit_code == EXIT_USAGE
    assert clock.sleeps == []
    assert httpserver.log == []


def test_a_bad_listing_url_does_not_stop_id_lookups(
    monkeypatch: pytest.MonkeyPatch,
    httpserver: HTTPServer,
    clock: FakeClock,
    serve: Callable[..., Replay],
) -> None:
    monkeypatch.setenv(RSS_URL_ENV, "gopher://nowhere")
    monkeypatch.setenv(URL_ENV, httpserver.url_for("/api/query"))
    serve(recorded("api-2026_single_id_1605.08386.xml"))
    with ArxivClient(clock=clock, sleep=clock.sleep) as client:
        (batch,) = client.fetch_batches(["1605.08386"])
    assert list(batch.records) == ["1605.08386"]


def test_an_etag_then_a_304_gives_no_body_and_keeps_the_validators(
    serve_listing: Callable[..., HeaderReplay], client: ArxivClient, clock: FakeClock
) -> None:
    etag, modified = '"abc-123"', "Thu, 28 Nov 2024 05:00:00 GMT"
    replay = serve_listing(
        CL_LG,
        listing(ALL, headers={"ETag": etag, "Last-Modified": modified}),
        status(304),
    )
    first = client.fetch_listing(["cs.CL", "cs.LG"])
    assert (first.body, first.etag, first.last_modified) == (fixture(ALL), etag, modified)
    second = client.fetch_listing(
        ["cs.CL", "cs.LG"], etag=first.etag, last_modified=first.last_modified
    )
    assert second == ListingAnswer(first.url, None, etag, modified)
    assert replay.headers[1]["If-None-Match"] == etag
    assert replay.headers[1]["If-Modified-Since"] == modified
    assert replay.gaps == [3.0]


def test_a_304_with_new_validators_gives_the_new_ones(
    serve_listing: Callable[..., HeaderReplay], client: ArxivClient
) -> None:
    replay = serve_listing(CL_LG, status(304, headers={"ETag": '"new"'}))
    answer = client.fetch_listing(
        ["cs.CL", "cs.LG"], etag='"old"', last_modified="Wed, 27 Nov 2024 05:00:00 GMT"
    )
    assert (answer.body, answer.etag, answer.last_modified) == (
        None,
        '"new"',
        "Wed, 27 Nov 2024 05:00:00 GMT",
    )
    assert replay.headers[0]["If-None-Match"] == '"old"'


def test_validators_that_cannot_be_sent_back_are_left_out(
    serve_listing: Callable[..., HeaderReplay], client: ArxivClient
) -> None:
    replay = serve_listing(
        CL_LG, listing(EMPTY_LISTING, headers={"ETag": "x" * 2000, "Last-Modified": "\x7f"})
    )
    answer = client.fetch_listing(["cs.CL", "cs.LG"], etag="bad\x1b[31m", last_modified="caf\xe9")
    assert (answer.body, answer.etag, answer.last_modified) == (fixture(EMPTY_LISTING), None, None)
    assert "If-None-Match" not in replay.headers[0]
    assert "If-Modified-Since" not in replay.headers[0]


def test_an_unknown_category_comes_back_as_arxivs_400_error_channel(
    serve_listing: Callable[..., HeaderReplay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve_listing("/rss/astroph", listing(BAD_ARCHIVE, 400))
    answer = client.fetch_listing(["astroph"])
    assert answer.body == fixture(BAD_ARCHIVE)
    with pytest.raises(UnknownCategoryError) as caught:
        parse_listing(answer.body)
    assert caught.value.category == "astroph"
    assert (len(replay.requests), clock.sleeps) == (1, [])


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            status(400),
            r"^arXiv answered 400 Bad Request to http://\S+/rss/cs\.CL without saying why$",
        ),
        (status(400, b" \n"), r"^arXiv answered 400 Bad Request to http://\S+ without saying why$"),
        (
            status(404, b"<html>Not Found</html>"),
            r"^arXiv answered 404 Not Found to http://\S+/rss/cs\.CL$",
        ),
        (status(403), r"^arXiv answered 403 Forbidden to http://"),
    ],
    ids=["400-empty", "400-blank", "404", "403"],
)
def test_other_listing_answers_are_api_errors_without_retrying(
    answer: Response,
    message: str,
    serve_listing: Callable[..., HeaderReplay],
    client: ArxivClient,
    clock: FakeClock,
) -> None:
    replay = serve_listing("/rss/cs.CL", answer)
    with pytest.raises(ArxivAPIError, match=message):
        client.fetch_listing(["cs.CL"])
    assert (len(replay.requests), clock.sleeps) == (1, [])
    assert client._http is None  # the failed session let go of its connection


@pytest.mark.parametrize(
    "failure",
    [
        status(503),
        status(502, b"<html>Bad Gateway</html>"),
        status(429, b"Rate exceeded."),
        status(200),
    ],
    ids=["503", "502", "429", "200-empty"],
)
def test_a_failed_listing_request_is_retried_3_s_later(
    failure: Response,
    serve_listing: Callable[..., HeaderReplay],
    client: ArxivClient,
    clock: FakeClock,
) -> None:
    replay = serve_listing(CL_LG, failure, listing(ALL))
    answer = client.fetch_listing(["cs.CL", "cs.LG"])
    assert answer.body == fixture(ALL)
    assert clock.sleeps == [3.0]
    assert replay.gaps == [3.0]


def test_listing_retries_honour_retry_after_and_are_bounded(
    serve_listing: Callable[..., HeaderReplay],
    make_client: Callable[..., ArxivClient],
    clock: FakeClock,
) -> None:
    replay = serve_listing(
        CL_LG, status(429, b"Rate exceeded.", {"Retry-After": "10"}), status(503)
    )
    with pytest.raises(NetworkError) as caught:
        make_client().fetch_listing(["cs.CL", "cs.LG"])
    assert caught.value.message == "arXiv kept answering 503 Service Unavailable after 4 tries"
    assert clock.sleeps == [10.0, 6.0, 12.0]
    assert replay.gaps == [10.0, 6.0, 12.0]


def test_a_listing_that_keeps_coming_back_empty_names_the_listing_url(
    serve_listing: Callable[..., HeaderReplay], client: ArxivClient, httpserver: HTTPServer
) -> None:
    serve_listing(CL_LG, status(200))
    with pytest.raises(NetworkError) as caught:
        client.fetch_listing(["cs.CL", "cs.LG"])
    assert caught.value.message == (
        f"arXiv at {httpserver.url_for(CL_LG)} sent an empty answer instead of an RSS feed"
        " after 4 tries"
    )


def test_an_oversized_listing_is_refused(
    serve_listing: Callable[..., HeaderReplay], make_client: Callable[..., ArxivClient]
) -> None:
    serve_listing(CL_LG, listing(ALL))
    with pytest.raises(ArxivAPIError, match="larger than 10,000 bytes"):
        make_client(max_bytes=10_000).fetch_listing(["cs.CL", "cs.LG"])


def test_listing_search_and_id_requests_share_the_3_s_pacing(
    serve_listing: Callable[..., HeaderReplay],
    serve: Callable[..., Replay],
    client: ArxivClient,
    clock: FakeClock,
) -> None:
    rss = serve_listing(CL_LG, listing(EMPTY_LISTING))
    api = serve(recorded("api-2026_single_id_1605.08386.xml"), recorded(PAGE_1))
    client.fetch_listing(["cs.CL", "cs.LG"])
    list(client.fetch_batches(["1605.08386"]))
    next(client.search_pages("testing", page_size=100))
    client.fetch_listing(["cs.CL", "cs.LG"])
    times = sorted(seen.at for seen in rss.requests + api.requests)
    assert [later - earlier for earlier, later in itertools.pairwise(times)] == [
        3.0,
        3.0,
        3.0,
    ]
    assert clock.sleeps == [3.0, 3.0, 3.0]
    assert [seen.at for seen in rss.requests] == [times[0], times[3]]


# ---------------------------------------------------------------------------
# API search pages


def test_search_pages_concatenate_until_the_total_is_reached(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(
        Response(with_total(PAGE_1, 20), content_type=ATOM),
        Response(with_total(PAGE_2, 20), content_type=ATOM),
    )
    pages = list(client.search_pages("testing", page_size=10))
    assert ids(pages) == recorded_ids(PAGE_1) + recorded_ids(PAGE_2)
    assert len(set(ids(pages))) == 20
    assert [(page.total, page.truncated, page.skipped) for page in pages] == [(20, False, [])] * 2
    assert [seen.params for seen in replay.requests] == [
        {
            "search_query": ["testing"],
            "start": [start],
            "max_results": ["10"],
            "sortBy": ["submittedDate"],
            "sortOrder": ["descending"],
        }
        for start in ["0", "10"]
    ]
    assert replay.requests[0].user_agent == USER_AGENT
    assert replay.gaps == [3.0]


def test_search_pages_are_asked_for_one_at_a_time(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(recorded(PAGE_1), recorded(PAGE_2))
    pages = client.search_pages("testing", page_size=10, limit=20)
    first = next(pages)
    assert len(replay.requests) == 1
    assert first.records == parse_feed(fixture(PAGE_1)).records
    assert (first.total, first.truncated) == (214881, False)
    second = next(pages)
    assert (second.total, second.truncated) == (214881, True)
    assert list(pages) == []
    assert len(replay.requests) == 2


def test_the_limit_cuts_the_last_page_and_marks_it_truncated(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(recorded(PAGE_1), recorded(PAGE_2))  # the server sends 10 where 5 were asked
    pages = list(client.search_pages("testing", page_size=10, limit=15))
    assert [len(page.records) for page in pages] == [10, 5]
    assert ids(pages) == recorded_ids(PAGE_1) + recorded_ids(PAGE_2)[:5]
    assert [page.truncated for page in pages] == [False, True]
    assert [(seen.params["start"], seen.params["max_results"]) for seen in replay.requests] == [
        (["0"], ["10"]),
        (["10"], ["5"]),
    ]


def test_a_limit_of_all_results_is_not_truncated(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    serve(Response(with_total(PAGE_1, 10), content_type=ATOM))
    (page,) = client.search_pages("testing", page_size=10, limit=10)
    assert (len(page.records), page.total, page.truncated) == (10, 10, False)


def test_a_short_page_is_the_last(serve: Callable[..., Replay], client: ArxivClient) -> None:
    replay = serve(recorded(PAGE_1))  # 10 results where 100 were asked
    pages = list(client.search_pages("testing"))
    assert ids(pages) == recorded_ids(PAGE_1)
    assert [(page.total, page.truncated) for page in pages] == [(214881, False)]
    assert replay.requests[0].params["max_results"] == ["100"]


def test_search_stays_within_the_apis_result_window(
    serve: Callable[..., Replay],
    client: ArxivClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert arxiv.SEARCH_WINDOW == 10_000
    monkeypatch.setattr(arxiv, "SEARCH_WINDOW", 25)  # the real one needs 10,000 results
    replay = serve(search_answer)
    pages = list(client.search_pages("testing", page_size=10, limit=30_000))
    asked = [(int(s.params["start"][0]), int(s.params["max_results"][0])) for s in replay.requests]
    assert asked == [(0, 10), (10, 10), (20, 5)]
    assert ids(pages) == recorded_ids(HUNDRED)[:25]
    assert [page.truncated for page in pages] == [False, False, True]


def test_an_empty_first_page_is_asked_again_once(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(recorded(EMPTY_SEARCH), recorded(PAGE_1))
    (page,) = client.search_pages("testing", page_size=100)
    assert [record.arxiv_id for record in page.records] == recorded_ids(PAGE_1)
    assert [seen.params["start"] for seen in replay.requests] == [["0"], ["0"]]
    assert clock.sleeps == [3.0]


def test_an_empty_result_is_asked_twice_and_then_believed(
    serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(recorded(EMPTY_SEARCH))
    assert list(client.search_pages("ti:nothingmatchesthis")) == [SearchPage([], [], 0, False)]
    assert len(replay.requests) == 2


def test_an_empty_later_page_is_retried(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(recorded(PAGE_1), recorded(EMPTY_SEARCH), recorded(PAGE_2))
    pages = list(client.search_pages("testing", page_size=10, limit=20))
    assert ids(pages) == recorded_ids(PAGE_1) + recorded_ids(PAGE_2)
    assert [seen.params["start"] for seen in replay.requests] == [["0"], ["10"], ["10"]]
    assert clock.sleeps == [3.0, 3.0]


def test_an_empty_later_page_is_retried_a_bounded_number_of_times(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock, httpserver: HTTPServer
) -> None:
    replay = serve(recorded(PAGE_1), recorded(EMPTY_SEARCH))
    pages = client.search_pages("testing", page_size=10)
    assert len(next(pages).records) == 10
    with pytest.raises(NetworkError) as caught:
        next(pages)
    assert caught.value.message == (
        f"arXiv at {httpserver.url_for('/api/query')} sent an empty page at result 10"
        " of 214,881 after 4 tries"
    )
    assert len(replay.requests) == 5
    assert clock.sleeps == [3.0, 3.0, 6.0, 12.0]
    assert client._http is None


def test_a_search_is_retried_after_a_503(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(status(503, headers={"Retry-After": "7"}), recorded(PAGE_1))
    (page,) = client.search_pages("testing", page_size=100)
    assert len(page.records) == 10
    assert replay.gaps == [7.0]


def test_an_invalid_query_raises_arxivs_message(
    serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    replay = serve(invalid_query("ti:(unclosed"))
    with pytest.raises(ArxivAPIError) as caught:
        list(client.search_pages("ti:(unclosed"))
    assert caught.value.message == "arXiv rejected the search: Invalid query string: 'ti:(unclosed'"
    assert (len(replay.requests), clock.sleeps) == (1, [])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"page_size": 0}, "page_size must be between 1 and 2000, not 0"),
        ({"page_size": 2001}, "page_size must be between 1 and 2000, not 2001"),
        ({"limit": 0}, "limit must be at least 1, not 0"),
        ({"query": " "}, "the search query is empty"),
    ],
)
def test_search_options_are_checked_before_any_request(
    options: dict[str, Any], message: str, client: ArxivClient, httpserver: HTTPServer
) -> None:
    query = options.pop("query", "testing")
    with pytest.raises(ValueError, match=f"^{message}$"):
        client.search_pages(query, **options)
    assert httpserver.log == []
