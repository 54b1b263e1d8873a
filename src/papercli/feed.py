"""Turn arXiv's answers into models: API Atom responses into ArxivRecords, RSS daily
listings into ListingItems; the only feedparser import.

Pure: bytes in, models out. feedparser reads the common fields; ElementTree
reads, from the same bytes, what feedparser loses or mangles: each author's
affiliations, every DOI (feedparser keeps only the last ``arxiv:doi``) and the
arXiv extension elements. Both response layouts (legacy before 2025-11-11,
current since) are handled. RSS listings are read with ElementTree alone:
feedparser takes an item's description for HTML and mangles abstracts with
``<`` or ``&`` in them (12 of the 1,504 recorded), and it is 20 times slower.
An answer is untrusted: an entry that is not a usable paper is skipped and
reported, never passed on.
"""

from __future__ import annotations

import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from xml.parsers.expat import errors as expat_errors

import feedparser

from papercli.arxiv_ids import is_category_form, parse_arxiv_id
from papercli.errors import ArxivAPIError, ArxivRefusal, InvalidValueError
from papercli.models import MAX_NAME, MAX_TEXT, ArxivRecord, Author, ListingItem
from papercli.records import datarecord, field
from papercli.textlayout import clipped, without_controls

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
_SITE = "https://arxiv.org"


class CutOffFeed(ArxivAPIError):
    """An answer that ends before its feed does: lost in transit, so worth asking again."""

    def __init__(self, what: str) -> None:
        super().__init__(f"arXiv sent {what}")
        self.what = what  # e.g. "an empty answer"


@datarecord(frozen=True)
class FeedError:
    """An error entry: arXiv's Atom way of saying why it rejected a request."""

    slug: str  # e.g. "incorrect_id_format_for_abc"
    message: str  # e.g. "incorrect id format for abc"


@datarecord(frozen=True)
class SkippedEntry:
    """An entry that is not a paper papercli can use: reported, never stored."""

    label: str  # the entry's id as sent (shortened), or its position when it has none
    reason: str  # e.g. "its version 99999999999999999999 is not a real one"
    arxiv_id: str | None = None  # the paper it claims to be, when that much is readable


@datarecord
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
    return _root(body, f"{_ATOM}feed", "an Atom feed")


def _root(body: bytes, tag: str, kind: str) -> ET.Element:
    """The document's root element when it is a ``tag``, or ArxivAPIError naming what came."""
    if not body.strip():
        raise CutOffFeed(f"an empty answer instead of {kind}")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        if exc.code in _CUT_SHORT:
            raise CutOffFeed(f"an answer that stops short ({exc})") from None
        raise ArxivAPIError(
            f"arXiv sent something other than {kind} ({exc}): {_preview(body)}"
        ) from None
    if root.tag != tag:
        raise ArxivAPIError(f"arXiv sent something other than {kind}: {_preview(body)}")
    return root


def check_rss(body: bytes) -> None:
    """CutOffFeed when the body is an RSS feed that stops short (worth asking again), else
    ArxivAPIError when it is not one: for an answer whose end is not ``</rss>``."""
    _root(body, "rss", "an RSS feed")


def _preview(body: bytes) -> str:
    text = _collapse(body[:200].decode("utf-8", "replace"))
    return repr(clipped(text, 81))


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
    published = _moment(entry.get("published"))
    if published is None:
        return SkippedEntry(label, "it has no plausible publication date", arxiv_id)
    title = _collapse(entry.get("title"))
    if not title:
        return SkippedEntry(label, "it has no title", arxiv_id)
    # Links are picked by address, not rel: the current layout may omit rel. The arXiv
    # elements are read from the XML: feedparser turns one with attributes into a dict.
    hrefs = [link.get("href", "") for link in node.findall(f"{_ATOM}link")]
    versioned = f"{arxiv_id}v{int(version)}"
    primary_node = node.find(f"{_ARXIV}primary_category")
    primary = _collapse(primary_node.get("term")) if primary_node is not None else ""
    # Not of a category's form (cs.CL, hep-th): left out, as it would stand in BibTeX
    # and an import refuses it. Other terms may be anything (an MSC code, 53C).
    primary = primary if is_category_form(primary) else ""
    terms = [_collapse(el.get("term")) for el in node.findall(f"{_ATOM}category")]
    # Asked only when present: feedparser would hand over the v1 date, with a warning.
    # A version is not older than the first, nor its date implausible: then it is the first's.
    updated = _moment(entry.get("updated")) if "updated" in entry else None
    updated = updated if updated is not None and updated >= published else published
    record = ArxivRecord(
        arxiv_id=arxiv_id,
        version=int(version),
        title=title,
        abstract=_collapse(entry.get("summary")),
        authors=[_author(author) for author in node.findall(f"{_ATOM}author")],
        published=published,
        updated=updated,
        primary_category=primary or None,
        categories=list(dict.fromkeys(term for term in [primary, *terms] if term)),
        dois=list(dict.fromkeys(doi for el in node.findall(f"{_ARXIV}doi") for doi in _words(el))),
        journal_ref=_all_text(node.find(f"{_ARXIV}journal_ref")) or None,
        comment=_all_text(node.find(f"{_ARXIV}comment")) or None,
        abs_url=_paper_link(hrefs, "abs", arxiv_id) or f"{_SITE}/abs/{versioned}",
        pdf_url=_paper_link(hrefs, "pdf", arxiv_id) or f"{_SITE}/pdf/{versioned}",
    )
    return _within_limits(record, label)


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
    return _collapse(element.text).split()


def _collapse(text: str | None) -> str:
    """Join hard-wrapped lines (legacy titles, abstracts and comments are wrapped at ~80
    columns) and drop control characters and bidirectional overrides, which no text needs."""
    return without_controls(text or "")


def _label(text: str) -> str:
    """Something an entry sent, short enough to name it in one line."""
    return clipped(_collapse(text), _LABEL_LENGTH)


def _moment(text: str | None) -> str | None:
    """arXiv's time (``2023-05-23T17:50:33Z``) as stored: in UTC, to the second; None unless
    it is a real moment of arXiv's years, at most a day ahead. It is read from the text, as
    feedparser rolls an impossible date over into a real one (30 February into 2 March)."""
    try:
        moment = datetime.fromisoformat(_collapse(text))
    except ValueError:
        return None
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment.year not in _YEARS or moment > datetime.now(UTC) + timedelta(days=1):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _paper_link(hrefs: list[str], page: str, arxiv_id: str) -> str | None:
    """The first of the links that is this paper's ``page`` ("abs" or "pdf") on arxiv.org,
    as https (legacy feeds link to http://arxiv.org, which only redirects now). Any other
    link is not kept: a link merely holding "arxiv.org/abs/" can be a javascript: or
    file: address, which would be stored and handed on."""
    for href in hrefs:
        link = _PAPER_LINK.fullmatch(href)
        if link is not None and link["page"] == page and link["id"] == arxiv_id:
            return _SITE + href.partition("arxiv.org")[2]
    return None


# One pattern for every entry: compiled for each entry's id, a listing recompiled it twice
# an entry.
_PAPER_LINK = re.compile(r"https?://arxiv\.org/(?P<page>abs|pdf)/(?P<id>.+?)(?:v[0-9]{1,3})?")


# ---------------------------------------------------------------------------
# RSS daily listings (rss.arxiv.org)

_DC = "{http://purl.org/dc/elements/1.1/}"
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_GUID = re.compile(r"oai:arXiv\.org:(?P<id>\S+?)v(?P<version>[0-9]+)")
_DESCRIPTION = re.compile(
    r"\s*arXiv:(?P<id>\S+?)v(?P<version>[0-9]+)\s+Announce Type:\s*(?P<type>\S*)"
)
# A name arXiv's author parser split off its own: "Jane Smith, Jr." is one author.
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_NAME_AFFILIATION = re.compile(r"(?P<name>[^()]*?)\s*\((?P<affiliation>.*)\)")
# The error channel's sentences, from arXiv/arxiv-feed's fetch_data.validate_request.
_BAD_ARCHIVE = re.compile(r"Bad archive '(?P<archive>[^']*)'")
_BAD_SUBJECT = re.compile(
    r"Bad subject class '(?P<subject>[^']*)'.*?the archive '(?P<archive>[^']*)'"
)


class UnknownCategoryError(ArxivRefusal):
    """arXiv answered a listing request with its error channel: a category it does not know."""

    def __init__(self, message: str, category: str | None) -> None:
        super().__init__(message)
        self.category = category  # e.g. "astroph", when arXiv's sentence names it


@datarecord
class Listing:
    """One day of arXiv announcements for the categories asked about."""

    items: list[ListingItem]
    announced: str | None  # the channel's date, "2024-11-28"
    empty: bool  # no items at all: arXiv announces nothing on weekends and holidays
    skipped: list[SkippedEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # kept items with something odd


def parse_listing(body: bytes) -> Listing:
    """Parse an RSS daily listing; UnknownCategoryError for arXiv's error channel,
    ArxivAPIError if the body is not an RSS feed."""
    root = _root(body, "rss", "an RSS feed")
    channel = root.find("channel")
    if channel is None:
        raise ArxivAPIError(f"arXiv sent an RSS feed without a channel: {_preview(body)}")
    nodes = channel.findall("item")
    title = _collapse(channel.findtext("title"))
    if not nodes and title.startswith("Feed error"):
        raise _channel_error(_collapse(channel.findtext("description")))
    announced = _rss_date(channel.findtext("pubDate"))
    if nodes and announced is None:
        # Stored under no date, its items were never pruned; under a date years ahead, the
        # same; and the ETag saved with it made the next pull a 304, the day lost.
        given = _label(channel.findtext("pubDate") or "") or "none"
        raise ArxivAPIError(f"arXiv sent a listing without a plausible date (its date: {given})")
    listing = Listing([], announced, empty=not nodes)
    for position, node in enumerate(nodes, 1):
        outcome = _listing_item(node, position, announced)
        if isinstance(outcome, SkippedEntry):
            listing.skipped.append(outcome)
            continue
        listing.items.append(outcome)
        if outcome.announce_type not in ANNOUNCE_TYPES:
            kind = _label(outcome.announce_type) or "no"
            listing.warnings.append(
                f"arXiv:{outcome.arxiv_id}v{outcome.version} has announce type {kind!r},"
                " which papercli does not know; kept as given"
            )
    return listing


def _channel_error(message: str) -> UnknownCategoryError:
    subject = _BAD_SUBJECT.search(message)
    archive = _BAD_ARCHIVE.search(message)
    if subject:
        category: str | None = f"{subject['archive']}.{subject['subject']}"
    else:
        category = archive["archive"] if archive else None
    if category is None:
        return UnknownCategoryError(f"arXiv refused the listing: {_label(message)}", None)
    # arXiv's own sentence goes on to list every archive: too long for one line.
    return UnknownCategoryError(
        f"arXiv does not know the category {_label(category)!r}"
        " (see https://arxiv.org/category_taxonomy)",
        category,
    )


def _listing_item(node: ET.Element, position: int, channel_date: str | None) -> Any:
    """One ListingItem, or the SkippedEntry saying why the item is not one."""
    guid = _collapse(node.findtext("guid"))
    description = node.findtext("description") or ""
    label = _label(guid) or f"item {position}"
    prefix = _DESCRIPTION.match(description)
    match = _GUID.fullmatch(guid) or prefix
    if match is None:
        return SkippedEntry(label, "it has no arXiv id")
    arxiv_id = _bare_id(match["id"])
    if arxiv_id is None:
        return SkippedEntry(label, "its id is not an arXiv id")
    version = match["version"]
    if len(version) > _VERSION_DIGITS or int(version) == 0:
        return SkippedEntry(label, f"its version {_label(version)} is not a real one", arxiv_id)
    title = _collapse(node.findtext("title"))
    if not title:
        return SkippedEntry(label, "it has no title", arxiv_id)
    announced = _rss_date(node.findtext("pubDate")) or channel_date
    if announced is None:
        return SkippedEntry(label, "it has no announcement date", arxiv_id)
    announce_type = _collapse(node.findtext(f"{_ARXIV}announce_type"))
    if not announce_type and prefix:
        announce_type = _collapse(prefix["type"])
    categories = (_collapse(el.text) for el in node.findall("category"))
    doi_nodes = node.findall(f"{_ARXIV}DOI")
    item = ListingItem(
        arxiv_id=arxiv_id,
        version=int(version),
        title=title,
        authors=split_creators(node.findtext(f"{_DC}creator") or ""),
        abstract=_collapse(description.partition("Abstract:")[2]),
        categories=list(dict.fromkeys(c for c in categories if c)),
        announce_type=announce_type,
        announced=announced,
        dois=list(dict.fromkeys(doi for el in doi_nodes for doi in _words(el))),
        journal_ref=_all_text(node.find(f"{_ARXIV}journal_reference")) or None,
    )
    return _within_limits(item, label)


_Entry = TypeVar("_Entry", ArxivRecord, ListingItem)


def _within_limits(entry: _Entry, label: str) -> _Entry | SkippedEntry:
    """The record or listing item, or the SkippedEntry naming its first value longer than
    papercli keeps (``models.MAX_NAME``, ``MAX_TEXT``): stored, it would have made the
    library's JSON backup impossible to import, and never synced. No real arXiv entry is
    near them (arXiv takes abstracts of at most 1,920 characters)."""
    names = [author.name for author in entry.authors]
    affiliations = [place for author in entry.authors for place in author.affiliations]
    values = {
        "title": ([entry.title], MAX_NAME),
        "abstract": ([entry.abstract], MAX_TEXT),
        "comment": ([getattr(entry, "comment", None) or ""], MAX_TEXT),
        "journal reference": ([entry.journal_ref or ""], MAX_NAME),
        "author": (names, MAX_NAME),
        "affiliation": (affiliations, MAX_NAME),
        "category": (entry.categories, MAX_NAME),
        "DOI": (entry.dois, MAX_NAME),
    }
    for what, (texts, most) in values.items():
        longest = max(map(len, texts), default=0)
        if longest > most:
            return SkippedEntry(
                label, f"its {what} has {longest:,} characters (at most {most:,})", entry.arxiv_id
            )
    return entry


def _rss_date(text: str | None) -> str | None:
    """``"Thu, 28 Nov 2024 00:00:00 -0500"`` -> ``"2024-11-28"``: the date in arXiv's own
    time zone, which names the listing (in UTC it would be a different day for some)."""
    try:
        moment = parsedate_to_datetime(_collapse(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    instant = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if moment.year not in _YEARS or instant > datetime.now(UTC) + timedelta(days=1):
        return None  # as _moment: of arXiv's years, a day ahead at most
    return moment.date().isoformat()


def split_creators(text: str) -> list[Author]:
    """The authors in an RSS ``dc:creator``: names joined by ", ", each perhaps followed by
    affiliations in parentheses that have commas of their own, in TeX-accented ASCII."""
    names: list[str] = []
    depth = 0
    start = 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            names.append(text[start:index])
            start = index + 1
    # After a parenthesis left open, commas cannot be told from separators: all split.
    names.extend(text[start:].split(",") if depth else [text[start:]])
    authors: list[Author] = []
    for piece in names:
        piece = _collapse(piece)
        if authors and piece.casefold() in _SUFFIXES:
            previous = authors.pop()
            piece = f"{previous.name} {piece}"
        match = _NAME_AFFILIATION.fullmatch(piece)
        name, affiliation = (match["name"], match["affiliation"]) if match else (piece, "")
        name, affiliation = _untex(name), _collapse(affiliation)
        if name:
            authors.append(Author(name, (affiliation,) if affiliation else ()))
    return authors


# TeX accents as arXiv's metadata spells them (Benjamin R\'emy, Micha{\l}) and the
# combining characters or letters they stand for.
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}  # fmt: skip
_TEX_LETTERS = {
    "l": "ł", "L": "Ł", "o": "ø", "O": "Ø", "i": "i", "j": "j", "ae": "æ", "AE": "Æ",
    "aa": "å", "AA": "Å", "oe": "œ", "OE": "Œ", "ss": "ß", "dh": "ð", "DH": "Ð",
    "th": "þ", "TH": "Þ", "dj": "đ", "DJ": "Đ", "ng": "ŋ", "NG": "Ŋ",
}  # fmt: skip
_LETTER = r"(?:\\(?:i|j)(?![A-Za-z])|[A-Za-z])"
_TEX_ACCENT = re.compile(
    rf"""\\(?P<symbol>['`^"~=.])\s*(?:\{{\s*(?P<braced>{_LETTER})\s*\}}|(?P<bare>{_LETTER}))"""
    rf"|\\(?P<word>[uvHckrdb])(?:\s*\{{\s*(?P<wbraced>{_LETTER})\s*\}}|\s+(?P<wbare>{_LETTER}))"
)
_TEX_NAMES = "|".join(sorted(_TEX_LETTERS, key=len, reverse=True))
_TEX_LETTER = re.compile(rf"\\(?P<name>{_TEX_NAMES})(?![A-Za-z])\s?")


def _untex(name: str) -> str:
    """``Micha\\"el R\\'emy`` -> ``Michaël Rémy``: accented names as people write them, so
    that family names match the ones papercli knows. Anything else is left as sent."""
    if "\\" not in name:
        return name
    name = _TEX_ACCENT.sub(_accented, name)
    name = _TEX_LETTER.sub(lambda m: _TEX_LETTERS[m["name"]], name)
    return _collapse(unicodedata.normalize("NFC", name.replace("{", "").replace("}", "")))


def _accented(match: re.Match[str]) -> str:
    accent = _ACCENTS[match["symbol"] or match["word"]]
    base = next(group for group in match.group("braced", "bare", "wbraced", "wbare") if group)
    return base.removeprefix("\\") + accent
