"""A small, polite client for the Semantic Scholar (S2) Academic Graph API.

It looks papers up (one, or a batch of up to 500 per request) and reads a paper's
references and citations with S2's influence flag and citation intents. The HTTP
habits are papercli.transport's: one connection, papercli's User-Agent, at most one
request a second (S2's rate for a key, "cumulative across all endpoints"), a total
deadline per request, and bounded retries with exponential backoff on 429 and 5xx,
honouring a Retry-After (S2's 429 sends none). Redirects are not followed, so an
API key is only ever sent to the address it was given for.

Everything S2 sends is untrusted: types are checked, text loses its control
characters and is cut to a bounded length, numbers outside sane bounds are dropped,
intents are kept only when known, arXiv ids are checked and made version-less, and a
paper without an S2 id is skipped (and counted). Citation contexts are not asked
for: they make answers several times larger, and S2 timed out (504) on such a
citations request with limit=1000.

The base URL is https://api.semanticscholar.org/graph/v1, or PAPERCLI_S2_URL; an
optional key comes from PAPERCLI_S2_API_KEY and is sent as ``x-api-key``, never shown
in a message or repr, and never stored.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Unpack
from urllib.parse import quote

from papercli.arxiv_ids import ARXIV_DOI_PREFIX, parse_arxiv_id
from papercli.errors import (
    EXIT_NETWORK,
    EXIT_USAGE,
    EXIT_USER,
    InvalidValueError,
    NotFoundError,
    PapercliError,
)
from papercli.records import datarecord
from papercli.textlayout import clipped, without_controls
from papercli.transport import (
    Answer,
    GaveUp,
    PacedHttp,
    Pacing,
    TryAgain,
    extend_path,
    one_line,
    said_url,
    url_from_environment,
)

DEFAULT_URL = "https://api.semanticscholar.org/graph/v1"
URL_ENV = "PAPERCLI_S2_URL"
API_KEY_ENV = "PAPERCLI_S2_API_KEY"
SERVICE = "Semantic Scholar"
# At most one request a second, and patience with its 429s (without a key, requests share
# a pool): more retries than arXiv's, each waiting less.
PACING: Pacing = {"max_retries": 5, "min_interval": 1.0, "max_retry_wait": 60.0}
MAX_BATCH = 500  # POST /paper/batch: "Can only process 500 paper ids at a time"
MAX_PAGE = 1000  # references and citations: limit "Must be <= 1000"
# What papercli keeps of a paper; paperId comes back anyway, asked for or not.
PAPER_FIELDS = (
    "paperId",
    "corpusId",
    "externalIds",
    "title",
    "year",
    "authors",
    "venue",
    "citationCount",
)
# On /references and /citations the edge's fields and the nested paper's share one list.
LINK_FIELDS = ("isInfluential", "intents", *PAPER_FIELDS)
INTENTS = ("background", "methodology", "result")
MAX_TITLE = 1000
MAX_NAME = 200
MAX_VENUE = 300
MAX_AUTHORS = 50
MAX_DOI = 300
MAX_SHOWN_ID = 100  # an id named in a message
_SHA = re.compile(r"[0-9a-f]{40}")
_KEY = re.compile(r"[!-~]{1,200}")  # visible ASCII: what a header can carry as is
_DOI = re.compile(r"10\.[0-9]{4,9}/\S+")


class S2Error(PapercliError):
    """Semantic Scholar sent something unusable (not JSON, the wrong shape, too large, an
    unexpected status), a failure of the service like a network error; or refused a
    request (400, 403), which is the user's to mend (``EXIT_USER``)."""

    exit_code = EXIT_NETWORK


class S2NotFound(NotFoundError):
    """Semantic Scholar knows no paper by the id asked for (HTTP 404)."""


@datarecord(frozen=True)
class S2Paper:
    """A paper as Semantic Scholar knows it, checked and cleaned."""

    paper_id: str  # S2's 40-hex sha
    corpus_id: int | None
    arxiv_id: str | None  # version-less
    doi: str | None  # lower-case; never arXiv's own 10.48550 DOI
    title: str
    year: int | None
    authors: list[str]  # names, at most MAX_AUTHORS
    venue: str
    citation_count: int | None


@datarecord(frozen=True)
class S2Link:
    """One reference or citation: the other paper and how it is cited."""

    paper: S2Paper  # the cited paper (for references) or the citing one (for citations)
    influential: bool
    intents: list[str]  # some of INTENTS, in S2's order


@datarecord(frozen=True)
class LinkList:
    """A paper's references or citations, as far as they were read."""

    links: list[S2Link]
    total_seen: int  # edges the server sent, including unusable ones
    skipped: int  # edges without a usable paper (null citedPaper, no paperId)
    truncated: bool  # stopped at ``limit`` while the server had more


class S2Client:
    """Looks papers up and reads their references and citations; use as a context
    manager so the connection gets closed."""

    def __init__(
        self, url: str | None = None, *, api_key: str | None = None, **pacing: Unpack[Pacing]
    ) -> None:
        """``url`` and ``api_key`` default to PAPERCLI_S2_URL and PAPERCLI_S2_API_KEY
        (an empty key: none), both checked before any request. ``pacing``: see
        ``PacedHttp``; what is not given follows Semantic Scholar's rules (``PACING``)."""
        self.url = url or url_from_environment(URL_ENV, DEFAULT_URL)
        from_environment = api_key is None
        key = os.environ.get(API_KEY_ENV, "") if api_key is None else api_key
        self._api_key = _checked_key(key, API_KEY_ENV if from_environment else "the API key")
        self._key_from_environment = from_environment
        settings: Pacing = {**PACING, **pacing}
        self._paced = PacedHttp(SERVICE, answer_error=S2Error, follow_redirects=False, **settings)

    def __repr__(self) -> str:
        return f"<S2Client {self.url} {'with' if self._api_key else 'without'} an API key>"

    def __enter__(self) -> S2Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._paced.close()

    def papers(self, ids: Sequence[str]) -> list[S2Paper | None]:
        """Look papers up by S2 id forms ("ARXIV:2106.09685", "DOI:10.x/y",
        "CorpusId:123", a sha), 500 per request; the result is in the order asked,
        None where S2 knows no such paper, sent no usable one, or sent one with another
        arXiv id or DOI than asked. arXiv ids go without a version: S2 is reported to
        know no "ARXIV:1706.03762v1"."""
        if isinstance(ids, str):
            raise TypeError("ids must be a sequence of paper ids, not one string")
        wanted = [_checked_id(paper_id) for paper_id in ids]
        url = extend_path(self.url, "paper/batch")
        found: list[S2Paper | None] = []
        for start in range(0, len(wanted), MAX_BATCH):
            chunk = wanted[start : start + MAX_BATCH]
            answer = self._call(
                "POST", url, {"fields": ",".join(PAPER_FIELDS)}, body={"ids": chunk}
            )
            if not isinstance(answer, list):
                raise S2Error(f"{SERVICE} answered a batch of {len(chunk)} ids without a list")
            if len(answer) != len(chunk):
                raise S2Error(
                    f"{SERVICE} answered a batch of {len(chunk)} ids with {len(answer)} papers"
                )
            found.extend(
                _answering(asked, _paper(item)) for asked, item in zip(chunk, answer, strict=True)
            )
        return found

    def paper(self, paper_id: str) -> S2Paper:
        """One paper by an S2 id form; S2NotFound if S2 does not know it."""
        checked = _checked_id(paper_id)
        url = extend_path(self.url, f"paper/{_path_id(checked)}")
        found = _answering(
            checked, _paper(self._call("GET", url, {"fields": ",".join(PAPER_FIELDS)}, checked))
        )
        if found is None:
            raise S2Error(f"{SERVICE} sent no usable paper for {_shown(checked)}")
        return found

    def references(self, paper_id: str, *, limit: int = 1000) -> LinkList:
        """The papers this one cites, at most ``limit`` edges, in S2's order."""
        return self._links(paper_id, "references", "citedPaper", limit)

    def citations(self, paper_id: str, *, limit: int = 1000) -> LinkList:
        """The papers citing this one, at most ``limit`` edges, in S2's order."""
        return self._links(paper_id, "citations", "citingPaper", limit)

    def _links(self, paper_id: str, direction: str, key: str, limit: int) -> LinkList:
        """Read pages of up to 1,000 edges, following ``next``, until S2 has no more
        or ``limit`` edges were read."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        checked = _checked_id(paper_id)
        url = extend_path(self.url, f"paper/{_path_id(checked)}/{direction}")
        links: list[S2Link] = []
        seen = skipped = offset = 0
        while True:
            size = min(MAX_PAGE, limit - seen)
            params = {"fields": ",".join(LINK_FIELDS), "offset": str(offset), "limit": str(size)}
            page = self._call("GET", url, params, checked)
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise S2Error(f"{SERVICE} sent a page of {direction} without a list of them")
            data: list[object] = page["data"]
            edges = data[:size]
            seen += len(edges)
            for edge in edges:
                link = _link(edge, key)
                if link is None:
                    skipped += 1
                else:
                    links.append(link)
            following = page.get("next")
            if seen >= limit or following is None:
                more = following is not None or len(data) > size
                return LinkList(links, seen, skipped, truncated=seen >= limit and more)
            # Each page must move on, or a hostile server could keep one asking forever.
            if not edges or _whole(following, offset + len(edges), offset + size) is None:
                raise S2Error(
                    f"{SERVICE} sent a page of {direction} at offset {offset:,}"
                    " whose next offset does not follow it"
                )
            offset = following

    def _call(
        self,
        method: str,
        url: str,
        params: Mapping[str, str],
        paper_id: str | None = None,
        *,
        body: Any = None,
    ) -> object:
        """One request through the paced transport; its JSON answer, parsed.

        A 404 is S2NotFound naming ``paper_id``, when there is one.
        """
        headers = {"x-api-key": self._api_key} if self._api_key else {}

        def read(answer: Answer) -> object:
            return self._read(url, answer, paper_id)

        try:
            return self._paced.request(method, url, read, params=params, headers=headers, json=body)
        except S2NotFound:
            raise  # an answer like any other: the connection is still good
        except (Exception, KeyboardInterrupt) as exc:
            self.close()  # a failed session should not leave a connection open
            if isinstance(exc, GaveUp) and exc.status == 429 and not self._api_key:
                raise GaveUp(
                    f"{exc.message}; without an API key, {SERVICE} shares one rate limit"
                    f" among all anonymous users: try again later, or set {API_KEY_ENV}"
                    " to a key of your own",
                    429,
                ) from None
            raise

    def _read(self, url: str, answer: Answer, paper_id: str | None) -> object:
        if answer.status == 200:
            if not answer.body.strip():
                raise TryAgain("an empty answer", reconnect=True)
            try:
                return json.loads(answer.body, parse_int=_bounded_int)
            except (ValueError, RecursionError):
                raise S2Error(
                    f"{SERVICE} sent an answer that is not JSON from {said_url(url)}"
                ) from None
        if answer.status == 404 and paper_id is not None:
            raise S2NotFound(f"{SERVICE} knows no paper with the id {_shown(paper_id)}")
        if answer.status == 403 and self._api_key:
            if self._key_from_environment:
                where, instead = f" in {API_KEY_ENV}", f"unset {API_KEY_ENV} to ask without one"
            else:
                where, instead = "", "ask without one"
            raise S2Error(
                f"{SERVICE} refused the API key{where} (403 Forbidden): check it, or {instead}",
                EXIT_USER,
            )
        said = _said(answer.body)
        if answer.status == 400:
            raise S2Error(
                f"{SERVICE} rejected the request for {said_url(url)}: {said or 'no reason given'}",
                EXIT_USER,
            )
        status = f"{answer.status} {answer.reason}".rstrip()
        raise S2Error(
            f"{SERVICE} answered {status} to {said_url(url)}" + (f": {said}" if said else "")
        )


def _checked_key(key: str, name: str) -> str:
    """The key as it will be sent; "" for none. Never shown: a wrong key may be a secret."""
    key = key.strip()
    if key and not _KEY.fullmatch(key):
        raise PapercliError(
            f"{name} is not a usable Semantic Scholar API key"
            " (expected up to 200 printable ASCII characters, no spaces)",
            EXIT_USAGE,
        )
    return key


def _checked_id(paper_id: str) -> str:
    if not isinstance(paper_id, str) or not paper_id.strip():
        raise ValueError(f"a paper id must be a non-empty string, not {paper_id!r}")
    return paper_id.strip()


def _path_id(paper_id: str) -> str:
    """An id made safe for a URL path. DOIs keep their "/" (S2 reads
    ``DOI:10.1093/mind/lix.236.433`` as one id); a "." or ".." segment is encoded, or
    it would be resolved away."""
    segments = quote(paper_id, safe="/:").split("/")
    return "/".join(s.replace(".", "%2E") if s in (".", "..") else s for s in segments)


def _shown(paper_id: str) -> str:
    """An id as named in a message: quoted, one line, bounded."""
    return repr(_text(paper_id, MAX_SHOWN_ID))


def _said(body: bytes) -> str:
    """What an error answer says: its JSON "error" (S2's own errors) or "message"
    (its gateway's), else nothing."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    said = (parsed.get("error") or parsed.get("message")) if isinstance(parsed, dict) else None
    return one_line(_text(said, 1000)) if isinstance(said, str) else ""


def _answering(asked: str, paper: S2Paper | None) -> S2Paper | None:
    """The paper S2 sent for the id ``asked``, unless it names another arXiv id or DOI than
    the one asked for: an answer about some other paper, which would be stored and shown
    as this one's."""
    kind, _, value = asked.partition(":")
    if paper is None:
        return None
    if kind.upper() == "ARXIV" and paper.arxiv_id is not None:
        return paper if paper.arxiv_id == _arxiv_id(value) else None
    if kind.upper() == "DOI" and paper.doi is not None:
        return paper if paper.doi == value.strip().lower() else None
    return paper


def _link(edge: object, key: str) -> S2Link | None:
    if not isinstance(edge, dict):
        return None
    paper = _paper(edge.get(key))
    if paper is None:
        return None
    return S2Link(paper, edge.get("isInfluential") is True, _intents(edge.get("intents")))


def _paper(raw: object) -> S2Paper | None:
    """A paper from S2's JSON, or None if it has no usable S2 id."""
    if not isinstance(raw, dict):
        return None
    paper_id = raw.get("paperId")
    if not isinstance(paper_id, str) or not _SHA.fullmatch(paper_id.lower()):
        return None
    external = raw.get("externalIds")
    if not isinstance(external, dict):
        external = {}
    corpus_id = _whole(raw.get("corpusId"), 1, 2**63 - 1)
    return S2Paper(
        paper_id=paper_id.lower(),
        corpus_id=corpus_id or _whole(external.get("CorpusId"), 1, 2**63 - 1),
        arxiv_id=_arxiv_id(external.get("ArXiv")),
        doi=_doi(external.get("DOI")),
        title=_text(raw.get("title"), MAX_TITLE),
        year=_whole(raw.get("year"), 1000, 2999),
        authors=_authors(raw.get("authors")),
        venue=_text(raw.get("venue"), MAX_VENUE),
        citation_count=_whole(raw.get("citationCount"), 0, 10**9),
    )


def _text(value: object, cap: int) -> str:
    """A string on one line without control characters, at most ``cap`` long; "" for
    anything that is not a string."""
    if not isinstance(value, str):
        return ""
    return clipped(without_controls(value), cap)


def _bounded_int(digits: str) -> int | None:
    """A JSON integer, or None past 30 digits (dropped, as any number out of bounds is):
    Python refuses to read one past 4,300 digits, and that one number made the whole
    answer "not JSON"."""
    return int(digits) if len(digits) <= 30 else None


def _whole(value: object, low: int, high: int) -> int | None:
    """An int from JSON within bounds (not a bool, not a float), else None."""
    return value if type(value) is int and low <= value <= high else None


def _arxiv_id(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 100:
        return None
    try:
        return parse_arxiv_id(value).id
    except InvalidValueError:
        return None


def _doi(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_DOI:
        return None
    doi = value.strip().lower()
    if without_controls(doi) != doi or not _DOI.fullmatch(doi) or doi.startswith(ARXIV_DOI_PREFIX):
        return None
    return doi


def _authors(value: object) -> list[str]:
    names: list[str] = []
    for author in value if isinstance(value, list) else []:
        name = _text(author.get("name"), MAX_NAME) if isinstance(author, dict) else ""
        if name:
            names.append(name)
            if len(names) == MAX_AUTHORS:
                break
    return names


def _intents(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(i for i in value if isinstance(i, str) and i in INTENTS))
