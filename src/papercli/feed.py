"""Turn an arXiv API Atom response into ArxivRecords; the only feedparser import.

Pure: bytes in, models out. feedparser reads the common fields; ElementTree
reads, from the same bytes, what feedparser loses: each author's affiliations
and every DOI (feedparser keeps only the last ``arxiv:doi``). Both response
layouts (legacy before 2025-11-11, current since) are handled.
"""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import feedparser

from papercli.errors import ArxivAPIError
from papercli.models import ArxivRecord, Author

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ENTRY_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)(?:v(?P<version>\d+))?$")


@dataclass(frozen=True)
class FeedError:
    """An error entry: arXiv's Atom way of saying why it rejected a request."""

    slug: str  # e.g. "incorrect_id_format_for_abc"
    message: str  # e.g. "incorrect id format for abc"


@dataclass
class ParsedFeed:
    records: list[ArxivRecord]
    total_results: int | None  # opensearch:totalResults, the size of the whole result set
    errors: list[FeedError] = field(default_factory=list)


def parse_feed(body: bytes) -> ParsedFeed:
    """Parse one API response body; ArxivAPIError if it is not an Atom feed."""
    root = _atom_root(body)
    parsed = feedparser.parse(io.BytesIO(body))  # a stream: bytes would be tried as a file name
    if parsed.bozo:
        raise ArxivAPIError(f"arXiv sent a malformed Atom feed ({parsed.bozo_exception})")
    records: list[ArxivRecord] = []
    errors: list[FeedError] = []
    for entry, node in zip(parsed.entries, root.findall(f"{_ATOM}entry"), strict=True):
        entry_id = entry.get("id", "")
        if "arxiv.org/api/errors" in entry_id or (
            entry.get("title") == "Error" and "published" not in entry
        ):
            errors.append(FeedError(entry_id.partition("#")[2], _collapse(entry.get("summary"))))
            continue
        record = _record(entry, node)
        if record is not None:
            records.append(record)
    total = root.findtext(f"{_OPENSEARCH}totalResults")
    return ParsedFeed(records, int(total) if total and total.strip().isdigit() else None, errors)


def _atom_root(body: bytes) -> ET.Element:
    """The <feed> element, or ArxivAPIError naming what came instead."""
    if not body.strip():
        raise ArxivAPIError("arXiv sent an empty answer instead of an Atom feed")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ArxivAPIError(
            f"arXiv sent something other than an Atom feed ({exc}): {_preview(body)}"
        ) from None
    if root.tag != f"{_ATOM}feed":
        raise ArxivAPIError(f"arXiv sent something other than an Atom feed: {_preview(body)}")
    return root


def _preview(body: bytes) -> str:
    text = _collapse(body[:200].decode("utf-8", "replace"))
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def _record(entry: Any, node: ET.Element) -> ArxivRecord | None:
    """One paper, or None for an entry without an id or v1 date (arXiv's not-found shape)."""
    entry_id = entry.get("id", "").strip()
    match = _ENTRY_ID.search(entry_id)
    published = entry.get("published_parsed")
    if match is None or published is None:
        return None
    # Picked by address, not rel: the current layout may omit rel, which feedparser
    # then reports as "alternate" whatever the link is.
    hrefs = [link.get("href", "") for link in entry.get("links", [])]
    abs_link = next((href for href in hrefs if "arxiv.org/abs/" in href), None)
    pdf_link = next((href for href in hrefs if "arxiv.org/pdf/" in href), None)
    primary = entry.get("arxiv_primary_category", {}).get("term")
    terms = [tag["term"] for tag in entry.get("tags", []) if tag.get("term")]
    return ArxivRecord(
        arxiv_id=match["id"],
        # Entry ids have carried a version since at least 2012; 2007-era docs show none.
        version=int(match["version"] or 1),
        title=_collapse(entry.get("title")),
        abstract=_collapse(entry.get("summary")),
        authors=[_author(author) for author in node.findall(f"{_ATOM}author")],
        published=_iso(published),
        updated=_iso(entry.get("updated_parsed") or published),
        primary_category=primary,
        categories=list(dict.fromkeys([primary, *terms] if primary else terms)),
        dois=list(dict.fromkeys(doi for el in node.findall(f"{_ARXIV}doi") for doi in _words(el))),
        journal_ref=_collapse(entry.get("arxiv_journal_ref")) or None,
        comment=_collapse(entry.get("arxiv_comment")) or None,
        abs_url=_https(abs_link or entry_id),
        pdf_url=_https(pdf_link) if pdf_link else None,
    )


def _author(node: ET.Element) -> Author:
    affiliations = (_collapse(el.text) for el in node.findall(f"{_ARXIV}affiliation"))
    return Author(_collapse(node.findtext(f"{_ATOM}name")), tuple(a for a in affiliations if a))


def _words(element: ET.Element) -> list[str]:
    # The legacy API put several DOIs in one element, separated by spaces.
    return (element.text or "").split()


def _collapse(text: str | None) -> str:
    """Join hard-wrapped lines: legacy titles, abstracts and comments are wrapped at ~80 columns."""
    return " ".join((text or "").split())


def _iso(moment: time.struct_time) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)


def _https(url: str) -> str:
    """Legacy feeds link to http://arxiv.org, which only redirects to https now."""
    return "https://" + url.removeprefix("http://") if url.startswith("http://arxiv.org/") else url
