"""Plain data the rest of papercli passes around; no I/O here."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache

from papercli.records import datarecord, field

MAX_NAME = 1_000
"""Characters in an id, a title, a name or a tag: what an import and a sync take, and so
the most papercli lets a person type (a longer tag made the library's own JSON backup
impossible to import)."""
MAX_TEXT = 1_000_000
"""Characters in a note or an abstract, likewise."""
MAX_VERSION = 1_000
"""An arXiv version number an import and a sync take: more than any paper has had (a sync
took up to a million, which the library's JSON backup then refused)."""


class ReadStatus(StrEnum):
    UNREAD = "unread"
    READING = "reading"
    READ = "read"
    SKIPPED = "skipped"


# Where catalogue papers were formally published: a venue is "<series> <year>", and the
# series says whether it is a conference or a journal and what citations call it.
VENUES: dict[str, tuple[str, str]] = {
    "NeurIPS": ("conference", "Advances in Neural Information Processing Systems"),
    "ICLR": ("conference", "International Conference on Learning Representations"),
    "ICML": ("conference", "International Conference on Machine Learning"),
    "ACL": ("conference", "Annual Meeting of the Association for Computational Linguistics"),
    "NAACL": (
        "conference",
        "Conference of the North American Chapter of the Association for Computational"
        " Linguistics: Human Language Technologies",
    ),
    "EMNLP": ("conference", "Conference on Empirical Methods in Natural Language Processing"),
    "Findings of ACL": (
        "conference",
        "Findings of the Association for Computational Linguistics: ACL",
    ),
    "Findings of EMNLP": (
        "conference",
        "Findings of the Association for Computational Linguistics: EMNLP",
    ),
    "CVPR": ("conference", "IEEE/CVF Conference on Computer Vision and Pattern Recognition"),
    "UIST": ("conference", "ACM Symposium on User Interface Software and Technology"),
    "CoRL": ("conference", "Conference on Robot Learning"),
    "JMLR": ("journal", "Journal of Machine Learning Research"),
    "TMLR": ("journal", "Transactions on Machine Learning Research"),
    "TACL": ("journal", "Transactions of the Association for Computational Linguistics"),
    "Neurocomputing": ("journal", "Neurocomputing"),
    "Nature": ("journal", "Nature"),
}


def split_venue(venue: str) -> tuple[str, int] | None:
    """``("NeurIPS", 2017)`` for ``"NeurIPS 2017"``; None unless the series is known and
    the year in ASCII digits (``isdigit`` also takes ``²``, which ``int`` refuses)."""
    series, _, year = venue.rpartition(" ")
    if series in VENUES and year.isascii() and year.isdigit() and len(year) == 4:
        return series, int(year)
    return None


# Characters a URL may not hold as they are (RFC 3986), on which BibTeX (braces, a
# backslash), Markdown and shells trip: kept percent-escaped, as a browser sends them.
_NOT_IN_URLS = ' "<>\\^`{|}'
_URL_ESCAPES = str.maketrans({c: f"%{ord(c):02X}" for c in _NOT_IN_URLS})
_TO_ESCAPE = f"[{re.escape(_NOT_IN_URLS)}]"


def web_address(text: str) -> str | None:
    """``text`` as papercli keeps a paper's URL: an http(s) address with a host, the
    characters a URL may not hold as they are percent-escaped (``a b`` as ``a%20b``, a
    ``%`` that starts no escape as ``%25``);
    None for anything else, a control character included (it made the library's JSON
    backup impossible to import)."""
    if _pattern(_WEB_ADDRESS).match(text) is None or not text.isprintable():
        return None
    if "%" in text:  # a per cent sign that starts no escape (`%d`) is one itself
        text = re.sub("%(?![0-9A-Fa-f]{2})", "%25", text)
    return text.translate(_URL_ESCAPES) if _pattern(_TO_ESCAPE).search(text) else text


_WEB_ADDRESS = r"https?://[^/?#@:\s]"  # a host follows (a regex: urlsplit took 4 µs a URL)
_DOI = r"10\.[0-9]{4,9}/[^\s{}\\]+"


def is_real_day(date: str) -> bool:
    """Whether a date of the form YYYY-MM-DD names a day of the calendar (2021-02-30 does
    not); a year or a month alone always does."""
    if len(date) != 10:
        return True
    from datetime import date as day

    try:
        day.fromisoformat(date)
    except ValueError:
        return False
    return True


def is_doi(text: str) -> bool:
    """``10.NNNN/...``: a DOI as it is stored and cited (no ``https://doi.org/``), of
    printable characters and without a brace or a backslash, which would break the BibTeX
    field it is written in (no registered DOI holds one)."""
    return _pattern(_DOI).fullmatch(text) is not None and text.isprintable()


def bare_doi(text: str) -> str:
    """A DOI without the link or label people write it with (``https://doi.org/``,
    ``doi:``); other text as it is."""
    return _pattern(_DOI_LABEL).sub("", text)


_DOI_LABEL = r"(?i)^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)"


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: every command imports this module, few check an address."""
    return re.compile(pattern)


@datarecord(frozen=True)
class Author:
    """A person as the paper prints the name, split for citations, or an institution."""

    name: str
    affiliations: tuple[str, ...] = ()
    family: str = ""  # "Le" for "Quoc V. Le", "van den Oord"; the whole name if literal
    given: str = ""
    suffix: str = ""  # "IV", "Jr."
    literal: bool = False  # an institution ("OpenAI"): one name, never split

    @property
    def family_name(self) -> str:
        return self.family or self.name

    @property
    def means_others(self) -> bool:
        """Whether this is BibTeX's ``others`` (``Doe, Jane and others``): the authors a
        list leaves out, no person. Kept so, as BibTeX styles print it "et al."; shown as
        "et al." and left out of CSL-JSON and RIS, which have no such name."""
        return not self.literal and not self.given and self.family_name == "others"


@datarecord(frozen=True)
class Note:
    created_at: str
    body: str
    # Its id on every machine (sync's; a JSON export carries it, so that an import of it
    # elsewhere is the same note); None where it was read without it.
    uid: str | None = None


@datarecord
class Paper:
    """One catalogue entry, with the user's state when it was loaded alongside."""

    id: str
    title: str
    short_name: str
    year: int
    date: str  # ISO date, "YYYY-MM-DD" or "YYYY-MM" when only the month is known
    kind: str = "paper"  # paper | blog | report
    arxiv_id: str | None = None
    url: str | None = None
    pdf_url: str | None = None
    aliases: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    why: str = ""
    focus: str = ""
    technique: str = ""
    sources: list[str] = field(default_factory=list)
    prerequisites: list[str] = field(default_factory=list)  # stored with the paper (curated)
    # What to read first, as show and path use it: (paper id, curated | yours | suggested),
    # the stored links less those the user removed, plus the user's and suggested ones.
    prerequisite_links: list[tuple[str, str]] = field(default_factory=list)
    origin: str = "catalogue"  # catalogue | user
    # Who wrote it and where it was published: curated in the catalogue, from arXiv for
    # papers a user added. The citation key never changes once given.
    authors: list[Author] = field(default_factory=list)
    venue: str = ""  # "NeurIPS 2017"; empty for preprints, reports and blogs
    # The title the venue printed, where it is not the one shown (arXiv's, which people
    # know the paper by: "LLM.int8()" appeared at NeurIPS as "GPT3.int8()"): the citation's.
    venue_title: str = ""
    doi: str | None = None  # the publisher's DOI, never arXiv's 10.48550 one
    citation_key: str | None = None
    added_at: str | None = None  # when a user added it (UTC); None for the catalogue's
    status: ReadStatus = ReadStatus.UNREAD
    # The user's own state, filled in where a command shows it.
    status_changed_at: str | None = None
    read_at: str | None = None
    read_version: int | None = None  # the arXiv version that was current when it was read
    queue_position: int | None = None
    queued_at: str | None = None  # when it joined the queue (UTC), while it is queued
    tags: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # Filled in from arXiv by `fetch` (empty until then).
    arxiv_authors: list[Author] = field(default_factory=list)
    abstract: str | None = None
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)
    journal_ref: str | None = None
    comment: str | None = None
    arxiv_version: int | None = None  # the latest version arXiv reported
    arxiv_updated: str | None = None  # when that version was submitted
    fetched_at: str | None = None

    @property
    def url_is_pdf(self) -> bool:
        """Whether the paper's own address is a PDF (GPT-1 and GPT-2 are only PDFs)."""
        path = (self.url or "").split("?", 1)[0].split("#", 1)[0]
        return path.lower().endswith(".pdf")

    @property
    def pdf_address(self) -> str | None:
        """Where its PDF is: the PDF link, else its address when that is a PDF."""
        return self.pdf_url or (self.url if self.url_is_pdf else None)

    @property
    def cited_title(self) -> str:
        """The title a citation gives: the venue's, for a paper cited as its venue's."""
        return self.venue_title or self.title

    @property
    def first_author(self) -> str | None:
        """The first author's family name, else the first organization (for citation keys)."""
        if self.authors:
            return self.authors[0].family_name
        return self.organizations[0] if self.organizations else None

    @property
    def author_line(self) -> str:
        """``Vaswani et al.``, ``Dettmers and Zettlemoyer``, ``OpenAI``; empty if unknown."""
        named = [a.family_name for a in self.authors if not a.means_others]
        if len(named) > 2 or 0 < len(named) < len(self.authors):
            return f"{named[0]} et al."
        return " and ".join(named)

    @property
    def newer_version(self) -> int | None:
        """The latest arXiv version, when it appeared after the user read the paper."""
        if self.status is ReadStatus.READ and self.read_version and self.arxiv_version:
            return self.arxiv_version if self.arxiv_version > self.read_version else None
        return None


@datarecord
class ArxivRecord:
    """What one arXiv API entry says about a paper."""

    arxiv_id: str  # version-less, e.g. "2106.09685" or "hep-th/9901001"
    version: int
    title: str
    abstract: str
    authors: list[Author]
    published: str  # v1 submission time, ISO 8601 UTC
    updated: str  # submission time of the returned version, ISO 8601 UTC
    primary_category: str | None
    categories: list[str]
    dois: list[str]
    journal_ref: str | None
    comment: str | None
    abs_url: str
    pdf_url: str | None


@datarecord
class Selection:
    """Which papers a listing shows: the filters shared by list, export and queue add."""

    since: int | None = None
    until: int | None = None
    year: int | None = None
    organizations: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    search: str | None = None
    statuses: list[ReadStatus] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    sort: str = "date"  # date | title | year | read | added
    reverse: bool = False
    limit: int | None = None

    @property
    def filters(self) -> bool:
        """Whether any filter narrows the selection (sorting and limits do not)."""
        values = (
            self.since,
            self.until,
            self.year,
            self.organizations,
            self.topics,
            self.search,
            self.statuses,
            self.tags,
            self.authors,
        )
        return any(value not in (None, []) for value in values)


def paper_summary(paper: Paper) -> dict[str, object]:
    """The stable JSON object for one paper in a listing. Scripts depend on these keys."""
    return {
        "id": paper.id,
        "short_name": paper.short_name,
        "title": paper.title,
        "authors": [author.name for author in paper.authors],
        "venue": paper.venue,
        "year": paper.year,
        "date": paper.date,
        "kind": paper.kind,
        "organizations": list(paper.organizations),
        "topics": list(paper.topics),
        "arxiv_id": paper.arxiv_id,
        "url": paper.url,
        "pdf_url": paper.pdf_url,
        "status": str(paper.status),
        "newer_version": paper.newer_version,
    }


def paper_details(paper: Paper) -> dict[str, object]:
    """``paper_summary`` plus the long fields, for ``show --format json``."""
    return {
        **paper_summary(paper),
        "aliases": list(paper.aliases),
        "why": paper.why,
        "focus": paper.focus,
        "technique": paper.technique,
        "sources": list(paper.sources),
        "prerequisites": list(paper.prerequisites),
        "read_first": [{"id": pid, "kind": kind} for pid, kind in paper.prerequisite_links],
        "origin": paper.origin,
        "status_changed_at": paper.status_changed_at,
        "read_at": paper.read_at,
        "read_version": paper.read_version,
        "queue_position": paper.queue_position,
        "queued_at": paper.queued_at,
        "tags": list(paper.tags),
        "notes": [{"created_at": n.created_at, "body": n.body} for n in paper.notes],
        "authors": [
            {
                "name": a.name,
                "family": a.family_name,
                "given": a.given,
                "literal": a.literal,
                "affiliations": list(a.affiliations),
            }
            for a in paper.authors
        ],
        "doi": paper.doi,
        "venue_title": paper.venue_title,
        "citation_key": paper.citation_key,
        "abstract": paper.abstract,
        "primary_category": paper.primary_category,
        "categories": list(paper.categories),
        "dois": list(paper.dois),
        "journal_ref": paper.journal_ref,
        "comment": paper.comment,
        "arxiv_version": paper.arxiv_version,
        "arxiv_updated": paper.arxiv_updated,
        "fetched_at": paper.fetched_at,
    }


@datarecord
class ListingItem:
    """One announcement in arXiv's RSS daily listing: a paper that is new, cross-listed
    or replaced today. A paper cross-listed into several requested categories is one item
    per listing it appears in; merging them is the caller's job."""

    arxiv_id: str  # version-less, e.g. "2411.17700" or "hep-th/9901001"
    version: int
    title: str  # as arXiv sends it: TeX such as Schr\"odinger is kept
    authors: list[Author]  # names with TeX accents decoded; "(IFPEN)" becomes an affiliation
    abstract: str
    categories: list[str]  # as arXiv lists them, the primary first
    announce_type: str  # new | cross | replace | replace-cross, or what arXiv sent instead
    announced: str  # the listing's date, "2024-11-28"
    dois: list[str] = field(default_factory=list)
    journal_ref: str | None = None


@datarecord(frozen=True)
class Watch:
    """A saved interest for the arXiv inbox: an announcement in one of its categories that
    has one of its keywords or authors (when it names any) and none of its exclusions."""

    name: str
    categories: list[str]
    keywords: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    created_at: str = ""
