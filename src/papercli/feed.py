"""Turn an arXiv API Atom response into ArxivRecords; the only feedparser import.

Pure: bytes in, models out. feedparser reads the common fields; ElementTree
reads, from the same bytes, what feedparser loses or mangles: each author's
affiliations, every DOI (feedparser keeps only the last ``arxiv:doi``) and the
arXiv extension elements. Both response layouts (legacy before 2025-11-11,
current since) are handled. An answer is untrusted: an entry that is not a
usable paper is skipped and reported, never passed on.
"""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from xml.parsers.expat import errors as expat_errors

import feedparser

from papercli.arxiv_ids import parse_arxiv_id
from papercli.errors import ArxivAPIError, InvalidValueError
from papercli.models import ArxivRecord, Author

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ENTRY_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)(?:v(?P<version>[0-9]+))?$")
# The most revised papers have a few dozen versions; more digits than this is a broken answer.
_VERSION_DIGITS = 3
# arXiv opened in August 1991, and its ids run out in 2099.
_YEARS = range(1991, 2100)
# What expat says when a document stops before its end: a body cut short in transit.
_CUT_SHORT = frozenset(
    expat_errors.codes[message]
    for message in (
        expat_errors.XML_ERROR_NO_ELEMENTS,
        expat_errors.XML_ERROR_UNCLOSED_TOKEN,
        expat_errors.XML_ERROR_PARTIAL_CHAR,
        expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    )
)
_LABEL_LENGTH = 80


class CutOffFeed(ArxivAPIError):
    """An answer that ends before its feed does: lost in transit, so worth asking again."""

    def __init__(self, what: str) -> None:
        super().__init__(f"arXiv sent {what}")
        self.what = what  # e.g. "an empty answer"


@dataclass(frozen=True)
class FeedError:
    """An error entry: arXiv's Atom way of saying why it rejected a request."""

    slug: str  # e.g. "incorrect_id_format_for_abc"
    message: str  # e.g. "incorrect id format for abc"


@dataclass(frozen=True)
class SkippedEntry:
    """An entry that is not a paper papercli can use: reported, never stored."""

    label: str  # the entry's id as sent (shortened), or its position when it has none
    reason: str  # e.g. "its version 99999999999999999999 is not a real one"
    arxiv_id: str | None = None  # the paper it claims to be, when that much is readable


@dataclass
class ParsedFeed:
    records: list[ArxivRecord]
    total_results: int | None  # opensearch:totalResults, the size of the whole result set
    errors: list[FeedError] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)


def parse_feed(body: bytes) -> ParsedFeed:
    """Parse one API response body; ArxivAPIError if it is not an Atom feed."""
    root = _atom_root(body)
    parsed = feedparser.parse(io.BytesIO(body))  # a stream: bytes would be tried as a file name
    if parsed.bozo:
        problem = _collapse(str(parsed.bozo_exception))
        raise ArxivAPIError(f"arXiv sent a malformed Atom feed ({problem})")
    # feedparser also counts <entry> and <item> elements nested where they do not belong,
    # so its entries are matched to the feed's own entries by id, not by position.
    by_id: dict[str, list[Any]] = {}
    for entry in parsed.entries:
        by_id.setdefault(_collapse(entry.get("id")), []).append(entry)
    feed = ParsedFeed([], _total_results(root))
    for position, node in enumerate(root.findall(f"{_ATOM}entry"), 1):
        entry_id = _collapse(node.findtext(f"{_ATOM}id"))
        label = _label(entry_id) or f"entry {position}"
        twins = by_id.get(entry_id)
        if not twins:
            feed.skipped.append(SkippedEntry(label, "it could not be read"))
            continue
        entry = twins.pop(0)
        if "arxiv.org/api/errors" in entry_id or (
            entry.get("title") == "Error" and "published" not in entry
        ):
            feed.errors.append(
                FeedError(entry_id.partition("#")[2], _collapse(entry.get("summary")))
            )
            continue
        outcome = _record(entry, node, entry_id, label)
        if isinstance(outcome, ArxivRecord):
            feed.records.append(outcome)
        else:
            feed.skipped.append(outcome)
    return feed


def _total_results(root: ET.Element) -> int | None:
    total = (root.findtext(f"{_OPENSEARCH}totalResults") or "").strip()
    return int(total) if re.fullmatch(r"[0-9]{1,18}", total) else None


def _atom_root(body: bytes) -> ET.Element:
    """The <feed> element, or ArxivAPIError naming what came instead."""
    if not body.strip():
        raise CutOffFeed("an empty answer instead of an Atom feed")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        if exc.code in _CUT_SHORT:
            raise CutOffFeed(f"an answer that stops short ({exc})") from None
        raise ArxivAPIError(
            f"arXiv sent something other than an Atom feed ({exc}): {_preview(body)}"
        ) from None
    if root.tag != f"{_ATOM}feed":
        raise ArxivAPIError(f"arXiv sent something other than an Atom feed: {_preview(body)}")
    return root


def _preview(body: bytes) -> str:
    text = _collapse(body[:200].decode("utf-8", "replace"))
    return repr(text[:80] + ("…" if len(text) > 80 else ""))


def _record(entry: Any, node: ET.Element, entry_id: str, label: str) -> ArxivRecord | SkippedEntry:
    """One paper, or why the entry is not one (the legacy API's not-found entry has no id)."""
    if not entry_id:
        return SkippedEntry(label, "it has no id")
    match = _ENTRY_ID.search(entry_id)
    arxiv_id = _bare_id(match["id"]) if match else None
    if match is None or arxiv_id is None:
        return SkippedEntry(label, "its id is not an arXiv id")
    # Entry ids have carried a version since at least 2012; 2007-era docs show none.
    version = match["version"] or "1"
    if len(version) > _VERSION_DIGITS or int(version) == 0:
        return SkippedEntry(label, f"its version {_label(version)} is not a real one", arxiv_id)
    published = entry.get("published_parsed")
    if published is None or published.tm_year not in _YEARS:
        return SkippedEntry(label, "it has no plausible publication date", arxiv_id)
    title = _collapse(entry.get("title"))
    if not title:
        return SkippedEntry(label, "it has no title", arxiv_id)
    # Links are picked by address, not rel: the current layout may omit rel. The arXiv
    # elements are read from the XML: feedparser turns one with attributes into a dict.
    hrefs = [link.get("href", "") for link in node.findall(f"{_ATOM}link")]
    abs_link = next((href for href in hrefs if "arxiv.org/abs/" in href), None)
    pdf_link = next((href for href in hrefs if "arxiv.org/pdf/" in href), None)
    primary_node = node.find(f"{_ARXIV}primary_category")
    primary = _collapse(primary_node.get("term")) if primary_node is not None else ""
    terms = [_collapse(el.get("term")) for el in node.findall(f"{_ATOM}category")]
    # Asked only when present: feedparser would hand over the v1 date, with a warning.
    updated = entry.get("updated_parsed") if "updated_parsed" in entry else None
    return ArxivRecord(
        arxiv_id=arxiv_id,
        version=int(version),
        title=title,
        abstract=_collapse(entry.get("summary")),
        authors=[_author(author) for author in node.findall(f"{_ATOM}author")],
        published=_iso(published),
        updated=_iso(updated if updated is not None and updated.tm_year in _YEARS else published),
        primary_category=primary or None,
        categories=list(dict.fromkeys(term for term in [primary, *terms] if term)),
        dois=list(dict.fromkeys(doi for el in node.findall(f"{_ARXIV}doi") for doi in _words(el))),
        journal_ref=_all_text(node.find(f"{_ARXIV}journal_ref")) or None,
        comment=_all_text(node.find(f"{_ARXIV}comment")) or None,
        abs_url=_https(abs_link or entry_id),
        pdf_url=_https(pdf_link) if pdf_link else None,
    )


def _bare_id(text: str) -> str | None:
    """The canonical id, if text is a version-less arXiv id in ASCII digits."""
    if not text.isascii():
        return None
    try:
        parsed = parse_arxiv_id(text)
    except InvalidValueError:
        return None
    return parsed.id if parsed.version is None else None


def _author(node: ET.Element) -> Author:
    affiliations = (_collapse(el.text) for el in node.findall(f"{_ARXIV}affiliation"))
    return Author(_collapse(node.findtext(f"{_ATOM}name")), tuple(a for a in affiliations if a))


def _all_text(element: ET.Element | None) -> str:
    """An element's text, including any markup's inside it."""
    return _collapse("".join(element.itertext())) if element is not None else ""


def _words(element: ET.Element) -> list[str]:
    # The legacy API put several DOIs in one element, separated by spaces.
    return (element.text or "").split()


def _collapse(text: str | None) -> str:
    """Join hard-wrapped lines (legacy titles, abstracts and comments are wrapped at ~80
    columns) and drop control characters, which no text needs and which drive terminals."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", " ".join((text or "").split()))


def _label(text: str) -> str:
    """Something an entry sent, short enough to name it in one line."""
    text = _collapse(text)
    return text if len(text) <= _LABEL_LENGTH else text[: _LABEL_LENGTH - 1] + "…"


def _iso(moment: time.struct_time) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", moment)


def _https(url: str) -> str:
    """Legacy feeds link to http://arxiv.org, which only redirects to https now."""
    return "https://" + url.removeprefix("http://") if url.startswith("http://arxiv.org/") else url
