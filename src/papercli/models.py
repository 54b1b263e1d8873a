"""Plain data the rest of papercli passes around; no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ReadStatus(StrEnum):
    UNREAD = "unread"
    READING = "reading"
    READ = "read"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Author:
    name: str
    affiliations: tuple[str, ...] = ()


@dataclass
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
    prerequisites: list[str] = field(default_factory=list)
    origin: str = "catalogue"  # catalogue | user
    status: ReadStatus = ReadStatus.UNREAD
    # Filled in from arXiv by `fetch` (None until then).
    authors: list[Author] = field(default_factory=list)
    abstract: str | None = None


@dataclass
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


@dataclass
class Selection:
    """Which papers a listing shows: the filters shared by list, export and queue add."""

    since: int | None = None
    until: int | None = None
    year: int | None = None
    organizations: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    search: str | None = None
    statuses: list[ReadStatus] = field(default_factory=list)
    sort: str = "date"  # date | title | year
    reverse: bool = False
    limit: int | None = None


SORT_KEYS = ("date", "title", "year")


def paper_summary(paper: Paper) -> dict[str, object]:
    """The stable JSON object for one paper in a listing. Scripts depend on these keys."""
    return {
        "id": paper.id,
        "short_name": paper.short_name,
        "title": paper.title,
        "year": paper.year,
        "date": paper.date,
        "kind": paper.kind,
        "organizations": list(paper.organizations),
        "topics": list(paper.topics),
        "arxiv_id": paper.arxiv_id,
        "url": paper.url,
        "pdf_url": paper.pdf_url,
        "status": str(paper.status),
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
        "origin": paper.origin,
    }
