"""Shared by the Semantic Scholar tests: recorded S2 answers, answers built from their
shapes, and a replaying fake S2 that notes every request.

Recorded answers are served byte for byte with their recorded status (tests/fixtures/s2,
with a .meta.json beside each). What S2 was never recorded answering is built from the
recorded shapes by the helpers below; tests/fixtures/s2/README.md lists them.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from werkzeug import Request, Response

from tests.arxiv_fakes import FakeClock

FIXTURES = Path(__file__).parent / "fixtures" / "s2"
JSON = "application/json"

BATCH_WITH_NULL = "s2_batch_4ids_with_null.json"
BATCH_DOCS = "s2_batch_2ids_incl_ARXIV_docs_example.json"
GPT1_REFERENCES = "s2_references_CorpusID_49313245_offset0_contexts.json"  # 73 refs, 1 page
REFERENCES_PAGE_1 = "s2_references_doi-bare_10.2139_ssrn.2250500_offset0.json"  # next: 50
REFERENCES_LAST = "s2_references_doi-bare_10.2139_ssrn.2250500_offset50_last.json"
CITATIONS_PAGE_1 = "s2_citations_CorpusID_14514057_offset0.json"  # next: 100
CITATIONS_LAST = "s2_citations_CorpusID_14514057_offset1800_last.json"  # the 19th page
NOT_FOUND = "s2_error_404_DOI_not_found.json"
BAD_FIELDS = "s2_error_400_unrecognized_fields.json"
FORBIDDEN = "s2_error_403_forbidden_bad_api_key.json"
TOO_MANY = "s2_error_429_too_many_requests.json"  # no Retry-After
SERVER_ERROR = "s2_error_500_batch_internal_server_error.json"
TIMED_OUT = "s2_error_504_citations_timeout.json"
ATTENTION_MATCH = "s2_search_match_attention_is_all_you_need.json"
CHEMCROW = "s2_paper_DOI_10.1038_s42256-024-00832-8.json"  # also ArXiv 2304.05376
PAPERQA = "s2_paper_DOI_10.48550_arxiv.2312.07559_full.json"  # arXiv's DataCite DOI
MIND = "s2_paper_doi-bare_10.1093_mind_lix.236.433_fields-title.json"  # paperId, title


def fixture(name: str) -> bytes:
    """The bytes of one recorded answer."""
    return (FIXTURES / name).read_bytes()


def parsed(name: str) -> Any:
    """One recorded answer, parsed (a fresh copy each time, free to change)."""
    return json.loads(fixture(name))


def meta(name: str) -> dict[str, Any]:
    """The sidecar of a recorded answer: the request, the status and headers."""
    sidecar: dict[str, Any] = json.loads(
        (FIXTURES / name.replace(".json", ".meta.json")).read_text()
    )
    return sidecar


def status_line(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def recorded(name: str) -> Response:
    """A recorded answer with its recorded status and Content-Type (the two docs
    examples have neither: a 200 of JSON)."""
    response = meta(name)["response"]
    code = response.get("status") or 200
    content_type = ((response.get("headers") or {}).get("Content-Type") or [JSON])[0]
    return Response(fixture(name), status=status_line(code), content_type=content_type)


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Response:
    """A bare HTTP answer with this status (and optional body and headers)."""
    return Response(body, status=status_line(code), headers=headers, content_type=JSON)


def answer(value: object) -> Response:
    """A 200 answer of this JSON value."""
    return Response(json.dumps(value), content_type=JSON)


Answer = Response | Callable[[Request], Response]


@dataclass
class Seen:
    """One request as the fake S2 saw it."""

    at: float  # fake time when it arrived
    method: str
    uri: str  # the raw request target, as sent: path and query, still percent-encoded
    path: str  # decoded
    args: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class S2Replay:
    """Answers requests in turn (the last answer repeats) and notes each one."""

    def __init__(self, clock: FakeClock, answers: list[Answer]) -> None:
        self.clock = clock
        self.answers = answers
        self.requests: list[Seen] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(
            Seen(
                self.clock.now,
                request.method,
                request.environ.get("REQUEST_URI", ""),
                request.path,
                dict(request.args),
                dict(request.headers),
                request.get_data(),
            )
        )
        reply = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return reply if isinstance(reply, Response) else reply(request)

    @property
    def gaps(self) -> list[float]:
        times = [seen.at for seen in self.requests]
        return [later - earlier for earlier, later in itertools.pairwise(times)]


# ---------------------------------------------------------------------------
# Answers built from recorded shapes (listed in tests/fixtures/s2/README.md)


def paper_from_match(name: str = ATTENTION_MATCH) -> dict[str, Any]:
    """GET /paper/ARXIV:<id>, never recorded: the paper of a recorded title match
    (GET /paper/search/match, the same 14 fields as a paper lookup) without its
    matchScore, which only a match carries."""
    (paper,) = parsed(name)["data"]
    del paper["matchScore"]
    return dict(paper)


def as_citations(page: dict[str, Any]) -> dict[str, Any]:
    """Citations with isInfluential and intents, never recorded (only a 504 for such a
    request): a recorded page of references, its citedPaper renamed citingPaper."""
    built = copy.deepcopy(page)
    for edge in built["data"]:
        edge["citingPaper"] = edge.pop("citedPaper")
    return built


def recorded_edges(*names: str) -> list[Any]:
    """The edges of recorded pages, one after another."""
    return [edge for name in names for edge in parsed(name)["data"]]


def paging(edges: list[Any]) -> Callable[[Request], Response]:
    """A fake S2 serving these edges by ``offset`` and ``limit`` as S2 does: a page
    ``{"offset", "next", "data"}``, ``next`` only while more remain."""

    def handler(request: Request) -> Response:
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        page: dict[str, Any] = {"offset": offset, "data": edges[offset : offset + limit]}
        if offset + limit < len(edges):
            page["next"] = offset + limit
        return answer(page)

    return handler


def sha(text: str) -> str:
    """A 40-hex S2 paperId made up for ``text``."""
    return hashlib.sha1(text.encode()).hexdigest()


def echo_batch(request: Request) -> Response:
    """POST /paper/batch for any ids: a recorded batch paper re-labelled per id."""
    template = parsed(BATCH_WITH_NULL)[1]
    papers = []
    for paper_id in request.get_json()["ids"]:
        paper = dict(template, paperId=sha(paper_id), title=f"Paper {paper_id}")
        papers.append(paper)
    return answer(papers)
