"""The Semantic Scholar client against a real HTTP server on 127.0.0.1 replaying recorded
S2 answers (tests/fixtures/s2), and answers built from their shapes where S2 was never
recorded (listed in tests/fixtures/s2/README.md).

Time is fake, as in test_arxiv.py: the client's clock only moves when it sleeps, so
the one-second pacing and the backoff are asserted exactly.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from papercli.errors import EXIT_NETWORK, EXIT_USAGE, EXIT_USER, NetworkError, PapercliError
from papercli.s2 import (
    API_KEY_ENV,
    DEFAULT_URL,
    INTENTS,
    LINK_FIELDS,
    PAPER_FIELDS,
    URL_ENV,
    S2Client,
    S2Error,
    S2Link,
    S2NotFound,
    S2Paper,
)
from papercli.transport import USER_AGENT
from tests.arxiv_fakes import FakeClock
from tests.s2_fakes import (
    BAD_FIELDS,
    BATCH_DOCS,
    BATCH_WITH_NULL,
    CHEMCROW,
    CITATIONS_LAST,
    CITATIONS_PAGE_1,
    FIXTURES,
    FORBIDDEN,
    GPT1_REFERENCES,
    MIND,
    NOT_FOUND,
    PAPERQA,
    REFERENCES_LAST,
    REFERENCES_PAGE_1,
    SERVER_ERROR,
    TIMED_OUT,
    TOO_MANY,
    S2Replay,
    answer,
    as_citations,
    echo_batch,
    meta,
    paging,
    paper_from_match,
    parsed,
    recorded,
    recorded_edges,
    sha,
    status,
)

BASE = "/graph/v1"
KEY = "s2-test-key-0123456789abcdefABCDEF"
TRANSFORMER_ID = "204e3073870fae3d05bcbc2f6a8e263d9b72e776"
NO_KEY_HINT = (
    "; without an API key, Semantic Scholar shares one rate limit among all anonymous users:"
    " try again later, or set PAPERCLI_S2_API_KEY to a key of your own"
)


@pytest.fixture(autouse=True)
def s2_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the real S2 or uses a key from the environment it runs in."""
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:9/graph/v1")
    monkeypatch.delenv(API_KEY_ENV, raising=False)


@pytest.fixture
def serve(httpserver: HTTPServer, clock: FakeClock) -> Callable[..., S2Replay]:
    """Make the local S2 answer every request under /graph/v1 in turn."""

    def serve(*answers: Response | Callable[[Request], Response]) -> S2Replay:
        replay = S2Replay(clock, list(answers))
        httpserver.expect_request(re.compile(f"{BASE}/.*")).respond_with_handler(replay)
        return replay

    return serve


@pytest.fixture
def make_client(httpserver: HTTPServer, clock: FakeClock) -> Iterator[Callable[..., S2Client]]:
    clients: list[S2Client] = []

    def make_client(**options: Any) -> S2Client:
        options.setdefault("url", httpserver.url_for(BASE))
        clients.append(S2Client(clock=clock, sleep=clock.sleep, **options))
        return clients[-1]

    yield make_client
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., S2Client]) -> S2Client:
    return make_client()


def url_of(httpserver: HTTPServer, path: str) -> str:
    return httpserver.url_for(f"{BASE}/{path}")


# ---------------------------------------------------------------------------
# Papers: the batch and one at a time


def test_a_batch_keeps_the_order_asked_with_none_for_an_unknown_id(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    replay = serve(recorded(BATCH_WITH_NULL))
    ids = parsed_body(BATCH_WITH_NULL)["ids"]
    found = client.papers(ids)
    assert found[0] is None  # CorpusId:211530585, unknown to S2
    assert found[1] == S2Paper(
        paper_id="c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce",
        corpus_id=470667,
        arxiv_id=None,
        doi="10.2139/ssrn.288970",
        title="How Much Should We Trust Differences-in-Differences Estimates?",
        year=2001,
        authors=["Marianne Bertrand", "E. Duflo", "S. Mullainathan"],
        venue="",
        citation_count=10670,
    )
    assert [paper.paper_id for paper in found[1:] if paper] == [
        "c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce",
        "cb1ebd913c3724c599f6b276b14b5c6253da68f3",
        "0f40b1f08821e22e859c6050916cec3667778613",
    ]
    (seen,) = replay.requests
    assert (seen.method, seen.path, seen.args) == (
        "POST",
        f"{BASE}/paper/batch",
        {"fields": ",".join(PAPER_FIELDS)},
    )
    assert seen.json == {"ids": ids}
    assert seen.headers["User-Agent"] == USER_AGENT
    assert "X-Api-Key" not in seen.headers


def parsed_body(name: str) -> Any:
    """The JSON body of a recorded request."""
    return json.loads(meta(name)["request"]["body"])


def test_the_documented_batch_resolves_an_arxiv_id(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    serve(recorded(BATCH_DOCS))
    first, second = client.papers(["649def34f8be52c8b66281af98ae884c09aef38b", "ARXIV:2106.15928"])
    assert first is not None and second is not None
    assert (first.title, first.citation_count) == (
        "Construction of the Literature Graph in Semantic Scholar",
        299,
    )
    # The docs asked for fewer fields: what is absent is empty, not an error.
    assert second == S2Paper(
        "f712fab0d58ae6492e3cdfc1933dae103ec12d5d",
        None,
        None,
        None,
        "Reinfection and low cross-immunity as drivers of epidemic resurgence under high"
        " seroprevalence: a model-based approach with application to Amazonas, Brazil",
        None,
        [],
        "",
        0,
    )


def test_a_batch_goes_500_ids_a_request_one_second_apart(
    serve: Callable[..., S2Replay], client: S2Client, clock: FakeClock
) -> None:
    replay = serve(echo_batch)
    ids = [f"CorpusId:{n}" for n in range(1, 1202)]
    found = client.papers(ids)
    assert [paper.paper_id if paper else None for paper in found] == [sha(i) for i in ids]
    assert [len(seen.json["ids"]) for seen in replay.requests] == [500, 500, 201]
    assert replay.gaps == [1.0, 1.0]
    assert clock.sleeps == [1.0, 1.0]


def test_no_ids_ask_nothing(serve: Callable[..., S2Replay], client: S2Client) -> None:
    replay = serve(echo_batch)
    assert client.papers([]) == []
    assert replay.requests == []


def test_one_string_is_not_a_list_of_ids(client: S2Client) -> None:
    with pytest.raises(TypeError, match="not one string"):
        client.papers("ARXIV:2106.09685")


@pytest.mark.parametrize("bad_id", ["", "   "])
def test_an_empty_id_is_refused_before_asking(client: S2Client, bad_id: str) -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        client.paper(bad_id)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([None, None], "Semantic Scholar answered a batch of 3 ids with 2 papers"),
        ([None] * 4, "Semantic Scholar answered a batch of 3 ids with 4 papers"),
        ({"data": [None, None, None]}, "Semantic Scholar answered a batch of 3 ids without a list"),
        ("papers", "Semantic Scholar answered a batch of 3 ids without a list"),
    ],
)
def test_a_batch_answer_of_the_wrong_shape_is_an_error(
    serve: Callable[..., S2Replay], client: S2Client, body: object, message: str
) -> None:
    replay = serve(answer(body))
    with pytest.raises(S2Error) as caught:
        client.papers(["CorpusId:1", "CorpusId:2", "CorpusId:3"])
    assert (caught.value.message, caught.value.exit_code) == (message, EXIT_NETWORK)
    assert len(replay.requests) == 1


def test_odd_items_in_a_batch_are_none(serve: Callable[..., S2Replay], client: S2Client) -> None:
    good = parsed(BATCH_WITH_NULL)[1]
    serve(answer([good, 42, "paper", {"title": "no id"}, dict(good, paperId="not-a-sha"), []]))
    found = client.papers([f"CorpusId:{n}" for n in range(6)])
    assert [paper is not None for paper in found] == [True, False, False, False, False, False]


def test_a_batch_answer_naming_another_arxiv_id_or_doi_is_none(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    # Matched by position, the answers about other papers would be taken for these.
    good = parsed(BATCH_WITH_NULL)[1]
    other_arxiv = dict(good, paperId=sha("lora"), externalIds={"ArXiv": "2106.09685"})
    same_arxiv = dict(good, paperId=sha("heat"), externalIds={"ArXiv": "1605.08386"})
    other_doi = dict(good, paperId=sha("b"), externalIds={"DOI": "10.1000/B"})
    same_doi = dict(good, paperId=sha("a"), externalIds={"DOI": "10.1000/A"})
    serve(answer([other_arxiv, same_arxiv, other_doi, same_doi]))
    found = client.papers(
        ["ARXIV:1605.08386", "ARXIV:1605.08386", "DOI:10.1000/a", "DOI:10.1000/A"]
    )
    assert [paper and paper.paper_id for paper in found] == [None, sha("heat"), None, sha("a")]


def test_a_paper_by_its_arxiv_id(
    serve: Callable[..., S2Replay], client: S2Client, httpserver: HTTPServer
) -> None:
    replay = serve(answer(paper_from_match()))
    assert client.paper("ARXIV:1706.03762") == S2Paper(
        paper_id=TRANSFORMER_ID,
        corpus_id=13756489,
        arxiv_id="1706.03762",
        doi=None,
        title="Attention is All you Need",
        year=2017,
        authors=[
            "Ashish Vaswani",
            "Noam M. Shazeer",
            "Niki Parmar",
            "Jakob Uszkoreit",
            "Llion Jones",
            "Aidan N. Gomez",
            "Lukasz Kaiser",
            "I. Polosukhin",
        ],
        venue="Neural Information Processing Systems",
        citation_count=136941,
    )
    (seen,) = replay.requests
    assert (seen.method, seen.uri) == (
        "GET",
        f"{BASE}/paper/ARXIV:1706.03762?fields=" + "%2C".join(PAPER_FIELDS),
    )


def test_a_doi_keeps_its_slash_in_the_path(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    replay = serve(recorded(CHEMCROW))
    paper = client.paper("DOI:10.1038/s42256-024-00832-8")
    assert (paper.doi, paper.arxiv_id, paper.year, paper.venue) == (
        "10.1038/s42256-024-00832-8",
        "2304.05376",
        2023,
        "Nat. Mac. Intell.",
    )
    assert paper.authors[0] == "Andrés M Bran"
    assert replay.requests[0].uri.startswith(f"{BASE}/paper/DOI:10.1038/s42256-024-00832-8?")


def test_arxivs_own_doi_is_dropped_for_the_arxiv_id(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    serve(recorded(PAPERQA))
    paper = client.paper("DOI:10.48550/arXiv.2312.07559")
    assert (paper.doi, paper.arxiv_id, paper.corpus_id) == (None, "2312.07559", 266191420)


def test_a_paper_with_only_a_title(serve: Callable[..., S2Replay], client: S2Client) -> None:
    replay = serve(recorded(MIND))
    assert client.paper("10.1093/mind/lix.236.433") == S2Paper(
        "2d5673caa9e6af3a7b82a43f19ee920992db07ad",
        None,
        None,
        None,
        "Computing Machinery and Intelligence",
        None,
        [],
        "",
        None,
    )
    assert replay.requests[0].path == f"{BASE}/paper/10.1093/mind/lix.236.433"


@pytest.mark.parametrize(
    ("paper_id", "path"),
    [
        ("a b?c#d%e", "a%20b%3Fc%23d%25e"),
        ("../../admin", "%2E%2E/%2E%2E/admin"),
        ("DOI:10.1000/./x", "DOI:10.1000/%2E/x"),
        ("DOI:10.1000/ünï", "DOI:10.1000/%C3%BCn%C3%AF"),
        ("CorpusId:1\r\nX-Evil: 1", "CorpusId:1%0D%0AX-Evil:%201"),
    ],
)
def test_ids_are_percent_encoded_in_the_path(
    serve: Callable[..., S2Replay], client: S2Client, paper_id: str, path: str
) -> None:
    replay = serve(answer(paper_from_match()))
    client.paper(paper_id)
    assert replay.requests[0].uri.split("?")[0] == f"{BASE}/paper/{path}"


# ---------------------------------------------------------------------------
# References and citations


def test_gpt1_references_with_influence_and_intents(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    replay = serve(recorded(GPT1_REFERENCES))
    found = client.references("CorpusID:49313245")
    assert (found.total_seen, found.skipped, len(found.links), found.truncated) == (
        73,
        3,
        70,
        False,
    )
    assert sum(link.influential for link in found.links) == 7
    transformer = next(link for link in found.links if link.paper.paper_id == TRANSFORMER_ID)
    assert transformer.influential
    assert transformer.paper.arxiv_id == "1706.03762"
    assert {intent for link in found.links for intent in link.intents} == set(INTENTS)
    first = found.links[0]
    assert first == S2Link(
        S2Paper(
            "928f9dccb806a3278d20d82cc53781c5f44e2bb1",
            19206893,
            "1805.01052",
            "10.18653/v1/p18-1249",  # lower-cased
            "Constituency Parsing with a Self-Attentive Encoder",
            2018,
            ["Nikita Kitaev", "D. Klein"],
            "Annual Meeting of the Association for Computational Linguistics",
            447,
        ),
        influential=False,
        intents=[],
    )
    (seen,) = replay.requests
    assert (seen.path, seen.args) == (
        f"{BASE}/paper/CorpusID:49313245/references",
        {"fields": ",".join(LINK_FIELDS), "offset": "0", "limit": "1000"},
    )


def test_references_follow_next_one_second_apart(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    replay = serve(recorded(REFERENCES_PAGE_1), recorded(REFERENCES_LAST))
    found = client.references("10.2139/ssrn.2250500")
    # 50 + 17 edges, of which 10 + 13 name no paper (paperId null).
    assert (found.total_seen, found.skipped, len(found.links), found.truncated) == (
        67,
        23,
        44,
        False,
    )
    assert [(seen.args["offset"], seen.args["limit"]) for seen in replay.requests] == [
        ("0", "1000"),
        ("50", "950"),
    ]
    assert {seen.path for seen in replay.requests} == {
        f"{BASE}/paper/10.2139/ssrn.2250500/references"
    }
    assert replay.gaps == [1.0]


def test_citations_follow_next_to_the_last_page(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    # The first and the last of the 19 recorded pages, served as if consecutive.
    replay = serve(recorded(CITATIONS_PAGE_1), recorded(CITATIONS_LAST))
    found = client.citations("CorpusID:14514057")
    assert (found.total_seen, found.skipped, len(found.links), found.truncated) == (
        181,
        4,
        177,
        False,
    )
    assert found.links[0].paper.title == (
        "We\u2019ve got you covered! The effect of public health insurance on rural"
        " entrepreneurship in China"
    )
    assert [seen.path for seen in replay.requests] == [
        f"{BASE}/paper/CorpusID:14514057/citations"
    ] * 2
    assert [seen.args["offset"] for seen in replay.requests] == ["0", "100"]


def test_citations_with_influence_and_intents(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    serve(answer(as_citations(parsed(GPT1_REFERENCES))))
    found = client.citations("CorpusID:49313245")
    assert (found.total_seen, found.skipped, len(found.links)) == (73, 3, 70)
    assert sum(link.influential for link in found.links) == 7
    assert sum(bool(link.intents) for link in found.links) == 56


def test_a_limit_stops_reading_and_says_so(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    replay = serve(recorded(CITATIONS_PAGE_1))
    found = client.citations("CorpusID:14514057", limit=100)
    assert (found.total_seen, len(found.links), found.truncated) == (100, 100, True)
    assert [seen.args["limit"] for seen in replay.requests] == ["100"]


@pytest.mark.parametrize(
    ("limit", "asked", "seen", "truncated"),
    [
        (60, [("0", "60")], 60, True),
        (66, [("0", "66")], 66, True),
        (67, [("0", "67")], 67, False),
        (5000, [("0", "1000")], 67, False),
    ],
)
def test_a_limit_against_paging_s2(
    serve: Callable[..., S2Replay],
    client: S2Client,
    limit: int,
    asked: list[tuple[str, str]],
    seen: int,
    truncated: bool,
) -> None:
    replay = serve(paging(recorded_edges(REFERENCES_PAGE_1, REFERENCES_LAST)))
    found = client.references("10.2139/ssrn.2250500", limit=limit)
    assert (found.total_seen, found.truncated) == (seen, truncated)
    assert [(s.args["offset"], s.args["limit"]) for s in replay.requests] == asked


def test_pages_are_at_most_a_thousand_edges(
    serve: Callable[..., S2Replay], client: S2Client, clock: FakeClock
) -> None:
    edges = recorded_edges(GPT1_REFERENCES) * 30  # 2,190 edges
    replay = serve(paging(edges))
    found = client.references("CorpusID:49313245", limit=2100)
    assert [(s.args["offset"], s.args["limit"]) for s in replay.requests] == [
        ("0", "1000"),
        ("1000", "1000"),
        ("2000", "100"),
    ]
    unusable = sum(1 for edge in edges[:2100] if not edge["citedPaper"]["paperId"])
    assert (found.total_seen, found.skipped, found.truncated) == (2100, unusable, True)
    assert unusable > 80
    assert clock.sleeps == [1.0, 1.0]


def test_a_limit_below_one_is_refused(client: S2Client) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1, not 0"):
        client.references("CorpusId:1", limit=0)


def test_a_page_longer_than_asked_is_cut_and_counts_as_more(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    page = parsed(GPT1_REFERENCES)  # 73 edges, no next
    serve(answer(page))
    found = client.references("CorpusID:49313245", limit=10)
    assert (found.total_seen, found.truncated) == (10, True)


@pytest.mark.parametrize(
    "page",
    [
        {"offset": 0, "next": 0, "data": recorded_edges(REFERENCES_PAGE_1)},
        {"offset": 0, "next": 10, "data": recorded_edges(REFERENCES_PAGE_1)},  # goes back
        {"offset": 0, "next": 5000, "data": recorded_edges(REFERENCES_PAGE_1)},  # skips ahead
        {"offset": 0, "next": "50", "data": recorded_edges(REFERENCES_PAGE_1)},
        {"offset": 0, "next": 50.0, "data": recorded_edges(REFERENCES_PAGE_1)},
        {"offset": 0, "next": 50, "data": []},
    ],
    ids=["same", "back", "ahead", "string", "float", "empty-with-next"],
)
def test_a_page_that_does_not_move_on_is_an_error(
    serve: Callable[..., S2Replay], client: S2Client, page: dict[str, Any]
) -> None:
    replay = serve(answer(page))
    with pytest.raises(S2Error) as caught:
        client.references("CorpusId:1")
    assert caught.value.message == (
        "Semantic Scholar sent a page of references at offset 0"
        " whose next offset does not follow it"
    )
    assert len(replay.requests) == 1


@pytest.mark.parametrize(
    "body", [[], {"data": None}, {"data": {"citedPaper": {}}}, {"offset": 0}, "data", 7]
)
def test_a_page_without_a_list_is_an_error(
    serve: Callable[..., S2Replay], client: S2Client, body: object
) -> None:
    serve(answer(body))
    with pytest.raises(S2Error, match=r"^Semantic Scholar sent a page of citations without a list"):
        client.citations("CorpusId:1")


# ---------------------------------------------------------------------------
# Hostile content


def hostile_edge(**changes: Any) -> dict[str, Any]:
    """The first GPT-1 reference, with some of its cited paper's fields replaced."""
    edge: dict[str, Any] = copy.deepcopy(parsed(GPT1_REFERENCES)["data"][0])
    for name, value in changes.items():
        if name in ("isInfluential", "intents"):
            edge[name] = value
        else:
            edge["citedPaper"][name] = value
    return edge


def one_link(
    serve: Callable[..., S2Replay], client: S2Client, edge: dict[str, Any]
) -> S2Link | None:
    serve(answer({"offset": 0, "data": [edge]}))
    found = client.references("CorpusId:1")
    assert found.total_seen == 1
    assert len(found.links) + found.skipped == 1
    return found.links[0] if found.links else None


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"title": "T" * 10_000}, "title", "T" * 999 + "…"),
        ({"title": "a\x1b[31mred\x1b[0m\nline\u202eevil\x00"}, "title", "a[31mred[0m lineevil"),
        ({"title": None}, "title", ""),
        ({"title": ["a list"]}, "title", ""),
        ({"venue": "V" * 500}, "venue", "V" * 299 + "…"),
        ({"venue": 12}, "venue", ""),
        ({"authors": [{"name": "N" * 300}]}, "authors", ["N" * 199 + "…"]),
        (
            {"authors": [{"name": f"A{n}"} for n in range(80)]},
            "authors",
            [f"A{n}" for n in range(50)],
        ),
        (
            {"authors": [{"name": 5}, "Jane", None, {"name": "  "}, {"name": "Ann\tLee\x07"}]},
            "authors",
            ["Ann Lee"],
        ),
        ({"authors": "Jane Doe"}, "authors", []),
        ({"externalIds": {"ArXiv": "2106.09685v2"}}, "arxiv_id", "2106.09685"),
        ({"externalIds": {"ArXiv": "garbage"}}, "arxiv_id", None),
        ({"externalIds": {"ArXiv": 2106.09685}}, "arxiv_id", None),
        ({"externalIds": {"ArXiv": "2106.09685" + "9" * 200}}, "arxiv_id", None),
        ({"externalIds": {"ArXiv": "hep-th/9901001v3"}}, "arxiv_id", "hep-th/9901001"),
        ({"externalIds": {"DOI": " 10.1000/ABC.Def "}}, "doi", "10.1000/abc.def"),
        ({"externalIds": {"DOI": "10.48550/arXiv.2106.09685"}}, "doi", None),
        ({"externalIds": {"DOI": "not a doi"}}, "doi", None),
        ({"externalIds": {"DOI": "10.1000/a\x00b"}}, "doi", None),
        ({"externalIds": {"DOI": "10.1000/" + "x" * 400}}, "doi", None),
        ({"externalIds": "ArXiv:2106.09685"}, "arxiv_id", None),
        ({"year": "2018"}, "year", None),
        ({"year": 2018.0}, "year", None),
        ({"year": 99999}, "year", None),
        ({"year": True}, "year", None),
        ({"citationCount": -5}, "citation_count", None),
        ({"citationCount": 10**12}, "citation_count", None),
        ({"citationCount": False}, "citation_count", None),
        ({"corpusId": "19206893", "externalIds": {}}, "corpus_id", None),
        ({"corpusId": None}, "corpus_id", 19206893),  # from externalIds.CorpusId
        (
            {"paperId": "928F9DCCB806A3278D20D82CC53781C5F44E2BB1"},
            "paper_id",
            "928f9dccb806a3278d20d82cc53781c5f44e2bb1",
        ),
    ],
)
def test_hostile_paper_fields_are_cleaned_or_dropped(
    serve: Callable[..., S2Replay],
    client: S2Client,
    changes: dict[str, Any],
    field: str,
    expected: object,
) -> None:
    link = one_link(serve, client, hostile_edge(**changes))
    assert link is not None
    assert getattr(link.paper, field) == expected


def test_a_number_of_thousands_of_digits_is_dropped_not_the_whole_answer(
    serve: Callable[..., S2Replay], client: S2Client
) -> None:
    """Python reads no integer past 4,300 digits: one such citation count made the whole
    page "an answer that is not JSON", exit 3."""
    edge = json.dumps(hostile_edge(citationCount=12345))
    assert edge.count("12345") == 1
    body = json.dumps({"offset": 0, "data": ["EDGE"]}).replace('"EDGE"', edge)
    serve(Response(body.replace("12345", "9" * 5000), content_type="application/json"))
    found = client.references("CorpusId:1")
    [link] = found.links
    assert link.paper.citation_count is None
    assert link.paper.title == hostile_edge()["citedPaper"]["title"]


@pytest.mark.parametrize(
    ("changes", "influential", "intents"),
    [
        (
            {"intents": ["evil", "background", "background", 3, None, "result"]},
            False,
            ["background", "result"],
        ),
        ({"intents": "methodology"}, False, []),
        ({"intents": None}, False, []),
        ({"isInfluential": "true"}, False, []),
        ({"isInfluential": 1}, False, []),
        ({"isInfluential": True, "intents": ["methodology"]}, True, ["methodology"]),
    ],
)
def test_hostile_edge_fields(
    serve: Callable[..., S2Replay],
    client: S2Client,
    changes: dict[str, Any],
    influential: bool,
    intents: list[str],
) -> None:
    link = one_link(serve, client, hostile_edge(**changes))
    assert link is not None
    assert (link.influential, link.intents) == (influential, intents)


@pytest.mark.parametrize(
    "edge",
    [
        hostile_edge(paperId=None),
        hostile_edge(paperId=""),
        hostile_edge(paperId="zz" * 20),
        hostile_edge(paperId=12345),
        hostile_edge(paperId="928f9dcc" + "\n" * 32),
        {"citedPaper": None, "isInfluential": True},
        {"citingPaper": hostile_edge()["citedPaper"]},  # the other direction's key
        {"isInfluential": True},
        "edge",
        None,
    ],
)
def test_an_edge_without_a_usable_paper_is_skipped_and_counted(
    serve: Callable[..., S2Replay], client: S2Client, edge: object
) -> None:
    serve(answer({"offset": 0, "data": [edge, hostile_edge()]}))
    found = client.references("CorpusId:1")
    assert (found.total_seen, found.skipped, len(found.links)) == (2, 1, 1)


@pytest.mark.parametrize(
    "body", [b"<html>Bad gateway</html>", b"{", b"\xff\xfe\x00garbage", b"[" * 100_000]
)
def test_an_answer_that_is_not_json_is_an_error(
    serve: Callable[..., S2Replay], client: S2Client, httpserver: HTTPServer, body: bytes
) -> None:
    replay = serve(Response(body, content_type="application/json"))
    with pytest.raises(S2Error) as caught:
        client.paper("CorpusId:1")
    assert caught.value.message == (
        "Semantic Scholar sent an answer that is not JSON from "
        + url_of(httpserver, "paper/CorpusId:1")
    )
    assert len(replay.requests) == 1


@pytest.mark.parametrize("body", [[], None, {"title": "no id"}, "paper", {"paperId": "x"}])
def test_a_paper_answer_of_the_wrong_shape_is_an_error(
    serve: Callable[..., S2Replay], client: S2Client, body: object
) -> None:
    serve(answer(body))
    with pytest.raises(S2Error) as caught:
        client.paper("ARXIV:2106.09685")
    assert caught.value.message == "Semantic Scholar sent no usable paper for 'ARXIV:2106.09685'"


def test_an_empty_answer_is_asked_again(
    serve: Callable[..., S2Replay], client: S2Client, clock: FakeClock
) -> None:
    replay = serve(Response(b"", content_type="application/json"), answer(paper_from_match()))
    assert client.paper("ARXIV:1706.03762").paper_id == TRANSFORMER_ID
    assert (len(replay.requests), clock.sleeps) == (2, [1.0])


def test_an_oversized_answer_is_refused(
    serve: Callable[..., S2Replay], make_client: Callable[..., S2Client]
) -> None:
    serve(recorded(GPT1_REFERENCES))
    with pytest.raises(S2Error) as caught:
        make_client(max_bytes=10_000).references("CorpusID:49313245")
    assert caught.value.message == (
        "Semantic Scholar's answer is larger than 10,000 bytes; not reading it"
    )


# ---------------------------------------------------------------------------
# Error answers


def test_404_names_the_id(
    serve: Callable[..., S2Replay], client: S2Client, clock: FakeClock
) -> None:
    replay = serve(recorded(NOT_FOUND))
    with pytest.raises(S2NotFound) as caught:
        client.paper("DOI:10.1101/2024.04.01.587366")
    assert caught.value.message == (
        "Semantic Scholar knows no paper with the id 'DOI:10.1101/2024.04.01.587366'"
    )
    assert caught.value.exit_code == EXIT_USER
    assert (len(replay.requests), clock.sleeps) == (1, [])
    assert client._paced.connection is not None  # an answer like any other


@pytest.mark.parametrize("direction", ["references", "citations"])
def test_404_for_links_names_the_id(
    serve: Callable[..., S2Replay], client: S2Client, direction: str
) -> None:
    serve(recorded(NOT_FOUND))
    with pytest.raises(S2NotFound, match=r"^Semantic Scholar knows no paper with the id 'x y'$"):
        getattr(client, direction)("x\ny")  # shown on one line


def test_400_is_one_line_with_s2s_reason(
    serve: Callable[..., S2Replay], client: S2Client, httpserver: HTTPServer, clock: FakeClock
) -> None:
    replay = serve(recorded(BAD_FIELDS))
    with pytest.raises(S2Error) as caught:
        client.paper("10.1093/mind/lix.236.433")
    assert caught.value.message == (
        "Semantic Scholar rejected the request for "
        + url_of(httpserver, "paper/10.1093/mind/lix.236.433")
        + ": Unrecognized or unsupported fields: [unknown]"
    )
    assert (len(replay.requests), clock.sleeps) == (1, [])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no reason given"),
        (
            b'{"error": "bad\\n\\u001b[2Jthing' + b"x" * 500 + b'"}',
            "bad [2Jthing" + "x" * 187 + "…",
        ),
        (b"not json", "no reason given"),
    ],
)
def test_400_reasons_are_one_bounded_line(
    serve: Callable[..., S2Replay],
    client: S2Client,
    httpserver: HTTPServer,
    body: bytes,
    reason: str,
) -> None:
    serve(status(400, body))
    with pytest.raises(S2Error) as caught:
        client.papers(["CorpusId:1"])
    assert caught.value.message == (
        f"Semantic Scholar rejected the request for {url_of(httpserver, 'paper/batch')}: {reason}"
    )


def test_403_says_the_key_was_refused_without_showing_it(
    serve: Callable[..., S2Replay], make_client: Callable[..., S2Client], clock: FakeClock
) -> None:
    replay = serve(recorded(FORBIDDEN))
    with pytest.raises(S2Error) as caught:
        make_client(api_key="F@k3K3y").papers(["CorpusId:1"])
    assert caught.value.message == (
        "Semantic Scholar refused the API key (403 Forbidden): check it, or ask without one"
    )
    assert replay.requests[0].headers["X-Api-Key"] == "F@k3K3y"
    assert (len(replay.requests), clock.sleeps) == (1, [])


def test_403_names_the_variable_the_key_came_from(
    serve: Callable[..., S2Replay],
    make_client: Callable[..., S2Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(API_KEY_ENV, KEY)
    serve(recorded(FORBIDDEN))
    with pytest.raises(S2Error) as caught:
        make_client().paper("CorpusId:1")
    assert caught.value.message == (
        "Semantic Scholar refused the API key in PAPERCLI_S2_API_KEY (403 Forbidden):"
        " check it, or unset PAPERCLI_S2_API_KEY to ask without one"
    )


def test_403_without_a_key_is_just_a_403(
    serve: Callable[..., S2Replay], client: S2Client, httpserver: HTTPServer
) -> None:
    serve(recorded(FORBIDDEN))
    with pytest.raises(S2Error) as caught:
        client.paper("CorpusId:1")
    assert caught.value.message == (
        f"Semantic Scholar answered 403 Forbidden to {url_of(httpserver, 'paper/CorpusId:1')}:"
        " Forbidden"
    )


@pytest.mark.parametrize(
    "location",
    # httpx cannot make a request of the last two: they ended in its traceback.
    ["http://127.0.0.1:9/steal", "javascript:alert(1)", "data:text/html,hi"],
)
def test_a_redirect_is_not_followed(
    serve: Callable[..., S2Replay],
    make_client: Callable[..., S2Client],
    httpserver: HTTPServer,
    location: str,
) -> None:
    # Following it would send the key wherever the redirect points.
    replay = serve(status(302, headers={"Location": location}))
    with pytest.raises(S2Error) as caught:
        make_client(api_key=KEY).paper("CorpusId:1")
    assert caught.value.message == (
        f"Semantic Scholar answered 302 Found to {url_of(httpserver, 'paper/CorpusId:1')}"
    )
    assert len(replay.requests) == 1


# ---------------------------------------------------------------------------
# Retries, backoff and pacing


def test_429_without_retry_after_backs_off_then_succeeds(
    serve: Callable[..., S2Replay], client: S2Client, clock: FakeClock
) -> None:
    replay = serve(recorded(TOO_MANY), recorded(TOO_MANY), answer(paper_from_match()))
    assert client.paper("ARXIV:1706.03762").paper_id == TRANSFORMER_ID
    assert "Retry-After" not in meta(TOO_MANY)["response"]["headers"]
    assert clock.sleeps == [1.0, 2.0]
    assert replay.gaps == [1.0, 2.0]


def test_429_forever_gives_up_and_suggests_a_key(
    serve: Callable[..., S2Replay], client: S2Client, clock: FakeClock
) -> None:
    replay = serve(recorded(TOO_MANY))
    with pytest.raises(NetworkError) as caught:
        client.papers(["ARXIV:2106.09685"])
    assert caught.value.message == (
        "Semantic Scholar kept answering 429 Too Many Requests after 6 tries" + NO_KEY_HINT
    )
    assert caught.value.exit_code == EXIT_NETWORK
    assert len(replay.requests) == 6
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert client._paced.connection is None  # the failed session let go of its connection


def test_429_forever_with_a_key_gives_up_without_the_hint(
    serve: Callable[..., S2Replay], make_client: Callable[..., S2Client]
) -> None:
    replay = serve(recorded(TOO_MANY))
    with pytest.raises(NetworkError) as caught:
        make_client(api_key=KEY, max_retries=2).paper("CorpusId:1")
    assert (
        caught.value.message
        == "Semantic Scholar kept answering 429 Too Many Requests after 3 tries"
    )
    assert len(replay.requests) == 3


def test_giving_up_early_rather_than_wait_too_long_also_suggests_a_key(
    serve: Callable[..., S2Replay], make_client: Callable[..., S2Client], clock: FakeClock
) -> None:
    serve(recorded(TOO_MANY))
    with pytest.raises(NetworkError) as caught:
        make_client(max_retry_wait=5).paper("CorpusId:1")
    assert caught.value.message == (
        "Semantic Scholar kept answering 429 Too Many Requests after 3 tries"
        " (gave up rather than wait 4 s more)" + NO_KEY_HINT
    )
    assert clock.sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    ("failures", "sleeps"),
    [([SERVER_ERROR], [1.0]), ([TIMED_OUT], [1.0]), ([SERVER_ERROR, TIMED_OUT], [1.0, 2.0])],
)
def test_5xx_then_success(
    serve: Callable[..., S2Replay],
    client: S2Client,
    clock: FakeClock,
    failures: list[str],
    sleeps: list[float],
) -> None:
    replay = serve(*(recorded(name) for name in failures), recorded(GPT1_REFERENCES))
    assert client.references("CorpusID:49313245").total_seen == 73
    assert clock.sleeps == sleeps
    assert len(replay.requests) == len(failures) + 1


def test_5xx_forever_is_a_network_error_without_the_key_hint(
    serve: Callable[..., S2Replay], make_client: Callable[..., S2Client], httpserver: HTTPServer
) -> None:
    serve(recorded(TIMED_OUT))
    with pytest.raises(NetworkError) as caught:
        make_client(max_retries=1).citations("CorpusID:49313245")
    assert caught.value.message == (
        "Semantic Scholar kept answering 504 Gateway Timeout after 2 tries"
    )


@pytest.mark.parametrize(("retry_after", "slept"), [("7", 7.0), ("0", 1.0), ("soon", 1.0)])
def test_retry_after_is_honoured(
    serve: Callable[..., S2Replay],
    client: S2Client,
    clock: FakeClock,
    retry_after: str,
    slept: float,
) -> None:
    replay = serve(status(503, headers={"Retry-After": retry_after}), recorded(CHEMCROW))
    client.paper("DOI:10.1038/s42256-024-00832-8")
    assert clock.sleeps == [slept]
    assert replay.gaps == [slept]


def test_requests_are_at_least_a_second_apart(
    serve: Callable[..., S2Replay], client: S2Client, clock: FakeClock
) -> None:
    replay = serve(
        answer(paper_from_match()),
        recorded(TOO_MANY),
        answer(paper_from_match()),
        recorded(GPT1_REFERENCES),
        recorded(BATCH_WITH_NULL),
    )
    client.paper("ARXIV:1706.03762")
    client.paper("ARXIV:1706.03762")  # a 429, then the paper
    clock.now += 0.25  # time passes between calls: only what is left is waited
    client.references("ARXIV:1706.03762")
    client.papers(parsed_body(BATCH_WITH_NULL)["ids"])
    assert len(replay.requests) == 5
    assert all(gap >= 1.0 for gap in replay.gaps), replay.gaps
    assert clock.sleeps == [1.0, 1.0, 0.75, 1.0]  # pacing, backoff, what is left, pacing
    assert replay.gaps == [1.0, 1.0, 1.0, 1.0]


def test_connection_refused(make_client: Callable[..., S2Client], clock: FakeClock) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(url=f"http://127.0.0.1:{port}/graph/v1", max_retries=2)
    with pytest.raises(NetworkError) as caught:
        client.paper("CorpusId:1")
    assert caught.value.message.startswith(
        f"could not reach Semantic Scholar at http://127.0.0.1:{port}/graph/v1/paper/CorpusId:1"
        " after 3 tries: "
    )
    assert clock.sleeps == [1.0, 2.0]


def test_the_context_manager_closes_the_connection(
    serve: Callable[..., S2Replay], httpserver: HTTPServer, clock: FakeClock
) -> None:
    serve(answer(paper_from_match()))
    with S2Client(httpserver.url_for(BASE), clock=clock, sleep=clock.sleep) as client:
        client.paper("ARXIV:1706.03762")
        assert client._paced.connection is not None
    assert client._paced.connection is None


# ---------------------------------------------------------------------------
# The API key


def test_the_key_is_sent_as_x_api_key(
    serve: Callable[..., S2Replay], make_client: Callable[..., S2Client]
) -> None:
    replay = serve(answer(paper_from_match()))
    make_client(api_key=KEY).paper("ARXIV:1706.03762")
    (seen,) = replay.requests
    assert (seen.headers["X-Api-Key"], seen.headers["User-Agent"]) == (KEY, USER_AGENT)


@pytest.mark.parametrize(("value", "sent"), [(KEY, KEY), (f" {KEY}\n", KEY), ("", None)])
def test_the_key_comes_from_the_environment(
    serve: Callable[..., S2Replay],
    make_client: Callable[..., S2Client],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    sent: str | None,
) -> None:
    monkeypatch.setenv(API_KEY_ENV, value)
    replay = serve(answer(paper_from_match()))
    make_client().paper("ARXIV:1706.03762")
    assert replay.requests[0].headers.get("X-Api-Key") == sent


def test_an_empty_key_argument_means_none_even_with_one_in_the_environment(
    serve: Callable[..., S2Replay],
    make_client: Callable[..., S2Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(API_KEY_ENV, KEY)
    replay = serve(answer(paper_from_match()))
    make_client(api_key="").paper("ARXIV:1706.03762")
    assert "X-Api-Key" not in replay.requests[0].headers


@pytest.mark.parametrize("value", ["two words", "tab\there", "line\nbreak", "ключ", "k" * 201])
def test_an_unusable_key_is_a_usage_error_that_does_not_show_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(API_KEY_ENV, value)
    with pytest.raises(PapercliError) as caught:
        S2Client()
    assert caught.value.message == (
        "PAPERCLI_S2_API_KEY is not a usable Semantic Scholar API key"
        " (expected up to 200 printable ASCII characters, no spaces)"
    )
    assert caught.value.exit_code == EXIT_USAGE


def test_the_key_is_not_in_the_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEY_ENV, KEY)
    client = S2Client("https://s2.example/graph/v1")
    assert repr(client) == "<S2Client https://s2.example/graph/v1 with an API key>"
    assert repr(S2Client("https://s2.example/graph/v1", api_key="")) == (
        "<S2Client https://s2.example/graph/v1 without an API key>"
    )


keys = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=16, max_size=200)
bad_keys = st.builds(
    lambda head, bad, tail: head + bad + tail,
    keys,
    st.sampled_from([" ", "\x00", "\x7f", "é", "\u202e", "\r\nX-Evil: 1"]),
    keys,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.one_of(keys, bad_keys), failure=st.sampled_from([FORBIDDEN, TOO_MANY, BAD_FIELDS]))
def test_no_message_ever_shows_the_key(
    serve: Callable[..., S2Replay], httpserver: HTTPServer, key: str, failure: str
) -> None:
    clock = FakeClock()
    serve(recorded(failure))
    try:
        with S2Client(
            httpserver.url_for(BASE), api_key=key, clock=clock, sleep=clock.sleep, max_retries=1
        ) as client:
            assert key not in repr(client)
            client.papers([key])  # even an id that happens to be the key is never echoed
    except PapercliError as exc:
        assert key not in exc.message
        assert key not in str(exc)
        assert "\n" not in exc.message
    else:
        pytest.fail("every answer served here is an error")
    finally:
        httpserver.clear()


# ---------------------------------------------------------------------------
# PAPERCLI_S2_URL


def test_url_from_argument_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:8/env")
    assert S2Client("http://127.0.0.1:8/arg").url == "http://127.0.0.1:8/arg"
    assert S2Client().url == "http://127.0.0.1:8/env"
    monkeypatch.delenv(URL_ENV)
    assert S2Client().url == DEFAULT_URL == "https://api.semanticscholar.org/graph/v1"


@pytest.mark.parametrize(
    "value",
    [
        "ftp://api.semanticscholar.org/graph/v1",
        "api.semanticscholar.org/graph/v1",
        "http://",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://exa mple.org/api",
        "http://example.org:99999/api",
        " https://api.semanticscholar.org/graph/v1",
        "https://" + "x" * 200,
    ],
)
def test_an_invalid_s2_url_is_a_usage_error_before_any_request(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, value: str
) -> None:
    monkeypatch.setenv(URL_ENV, value)
    with pytest.raises(PapercliError) as caught:
        S2Client(clock=clock, sleep=clock.sleep)
    shown = value if len(value) <= 80 else value[:79] + "…"
    assert caught.value.message == (
        f"PAPERCLI_S2_URL must be an http or https address such as {DEFAULT_URL}, not {shown!r}"
    )
    assert caught.value.exit_code == EXIT_USAGE
    assert clock.sleeps == []


def test_a_base_url_with_a_trailing_slash_is_extended(
    serve: Callable[..., S2Replay], httpserver: HTTPServer, clock: FakeClock
) -> None:
    replay = serve(answer(paper_from_match()))
    client = S2Client(httpserver.url_for(f"{BASE}/"), clock=clock, sleep=clock.sleep)
    client.paper("ARXIV:1706.03762")
    (seen,) = replay.requests
    assert seen.path == f"{BASE}/paper/ARXIV:1706.03762"


def test_the_fixtures_are_byte_for_byte_the_recorded_ones() -> None:
    names = sorted(path.name for path in FIXTURES.glob("s2_*.json") if ".meta." not in path.name)
    assert len(names) == 17
    for name in names:
        recorded_sha = meta(name)["response"]["sha256"]
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == recorded_sha, name
