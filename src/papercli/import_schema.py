"""Reading a papercli JSON export back: its schema, checked before anything is written.

A file may come from another papercli, a colleague or a web page: every value is checked
for type, range, length and form, so nothing imported can later crash a command. A bad
value is reported with its place (``papers[3].year: expected int, got str``). The file is
read a paper at a time (``json_pieces``: the standard library parses each one, with line
numbers for syntax errors), so an export of any size is read in the same memory; msgspec
checks each paper against the schema below, lengths and characters included. It is
imported only by ``papercli import``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal, NoReturn, TextIO

import msgspec

from papercli.errors import InvalidValueError
from papercli.export import JSON_MARKER, JSON_VERSION, is_person_name, person
from papercli.facts import BadFact, check_paper_id, check_time, checked_facts
from papercli.json_pieces import BadJSON, NotAnObject, members
from papercli.models import (
    MAX_NAME,
    MAX_TEXT,
    MAX_VERSION,
    Author,
    Note,
    Paper,
    ReadStatus,
)
from papercli.names import NOT_IN_A_LINE, as_tag

Status = Literal["unread", "reading", "read", "skipped"]


_SURROGATE = "\ud800-\udfff"  # SQLite cannot store a lone surrogate
# names.is_one_line: until 3 December a tab or a line break passed, into a tag, a URL...
_ONE_LINE = f"^[^{_SURROGATE}{NOT_IN_A_LINE}]*$"
Name = Annotated[str, msgspec.Meta(max_length=MAX_NAME, pattern=_ONE_LINE)]
Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT, pattern=f"^[^{_SURROGATE}\x00]*$")]
"""Prose (a note, an abstract): long, with line breaks, but no NUL (which sync refuses)."""
Uid = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME, pattern=_ONE_LINE)]
"""A note's id on every machine: a key of sync's, so one line and not empty."""


class _Note(msgspec.Struct):
    created_at: Name
    body: Text
    uid: Uid | None = None  # exports before 5 December have none


class _Author(msgspec.Struct):
    name: Name
    affiliations: list[Name] = []
    family: Name | None = None
    given: Name = ""
    suffix: Name = ""
    literal: bool = False


class _Change(msgspec.Struct):
    old_status: Status
    new_status: Status
    changed_at: Name


class _Link(msgspec.Struct):
    id: Name
    state: Literal["added", "removed"]
    at: Name | None  # a time, or null for one stored in no form of a time


class _Paper(msgspec.Struct):
    id: Name
    title: Name
    year: int
    date: Name
    short_name: Name = ""
    kind: Literal["paper", "blog", "report"] = "paper"
    arxiv_id: Name | None = None
    url: Name | None = None
    pdf_url: Name | None = None
    aliases: list[Name] = []
    organizations: list[Name] = []
    topics: list[Name] = []
    why: Text = ""
    focus: Text = ""
    technique: Text = ""
    sources: list[Name] = []
    prerequisites: list[Name] = []
    origin: Name = "user"
    authors: list[_Author] = []
    venue: Name = ""
    doi: Name | None = None
    citation_key: Name | None = None
    added_at: Name | None = None
    status: Status = "unread"
    status_changed_at: Name | None = None
    read_at: Name | None = None
    read_version: int | None = None
    queue_position: int | None = None
    queued_at: Name | None = None  # exports from before 4 December have none
    tags: list[Name] = []
    notes: list[_Note] = []
    arxiv_authors: list[_Author] | None = None
    abstract: Text | None = None
    primary_category: Name | None = None
    categories: list[Name] = []
    dois: list[Name] = []
    journal_ref: Name | None = None
    comment: Text | None = None
    arxiv_version: int | None = None
    arxiv_updated: Name | None = None
    fetched_at: Name | None = None
    history: list[_Change] = []
    your_prerequisites: list[_Link] = []  # exports from before 5 December have none


_MSGSPEC_PLACE = re.compile(r"^(.*?)(?: - at `\$\.?(.*)`)?$", re.DOTALL)
_MSGSPEC_LENGTH = re.compile(r"^Expected `str` of length <= ")
_SURROGATES = re.compile(f"[{_SURROGATE}]")

History = list[dict[str, object]]
Links = list[tuple[str, str, str | None]]
"""The prerequisite links the user set from a paper: (prerequisite id, state, time)."""


def read_ids(file: TextIO) -> Iterator[str]:
    """The id of each paper in an export, in file order (whatever its other values: they
    are checked as the papers are read); then, at the end of the file, that it is a
    papercli export of the version this papercli reads."""
    header: dict[str, object] = {}
    for key, index, value in _members(file):
        if index is None:
            header[key] = value
        elif isinstance(value, dict) and isinstance(value.get("id"), str):
            yield value["id"]
    _check_header(header)


def _check_header(header: dict[str, object]) -> None:
    """That the top-level members are a papercli export's, of the version read here."""
    if header.get("format") != JSON_MARKER:
        raise InvalidValueError(f'not a papercli export (no "format": "{JSON_MARKER}" marker)')
    version = header.get("version")
    if type(version) is not int or version != JSON_VERSION:  # true and 1.0 are == 1 too
        raise InvalidValueError(
            f"papercli export version {version!r} is not supported "
            f"(this papercli reads version {JSON_VERSION}; a newer papercli may read it)"
        )
    if not isinstance(header.get("papers"), list):
        _papers_error(header.get("papers", ...))


def read_papers(file: TextIO) -> Iterator[tuple[Paper, History, Links]]:
    """Each paper of an export, in file order, checked, with its status history and the
    prerequisite links the user added or removed from it; then, at
    the end of the file, that its header is a papercli export's of this version. Ids given
    twice are the caller's to find. A bad value fails where it is: for the error the whole
    file deserves first (not an export, a paper given twice), read it again with
    ``read_ids``."""
    header: dict[str, object] = {}
    for key, index, value in _members(file):
        if index is None:
            header[key] = value
            continue
        try:
            record = msgspec.convert(value, type=_Paper)
            paper = _paper(record)
        except msgspec.ValidationError as exc:
            message, place = _MSGSPEC_PLACE.match(str(exc)).groups()  # type: ignore[union-attr]
            where = f"papers[{index}]" + (f".{place}" if place else "")
            raise InvalidValueError(
                f"{where}: {_reason(message, value, place)}; nothing was imported"
            ) from None
        except BadFact as exc:
            raise InvalidValueError(
                f"papers[{index}].{exc.field}: {exc.reason}; nothing was imported"
            ) from None
        history: History = [
            {"old_status": c.old_status, "new_status": c.new_status, "changed_at": c.changed_at}
            for c in record.history
        ]
        links: Links = [(x.id, x.state, x.at) for x in record.your_prerequisites]
        yield paper, history, links
    _check_header(header)


def _papers_error(value: object) -> NoReturn:
    if value is ...:
        raise InvalidValueError("object missing required field papers; nothing was imported")
    raise InvalidValueError(f"papers: expected array, got {_kind(value)}; nothing was imported")


def _members(file: TextIO) -> Iterator[tuple[str, int | None, object]]:
    """``json_pieces.members`` with its failures said as the user's errors."""
    try:
        yield from members(file, "papers")
    except BadJSON as exc:
        raise InvalidValueError(
            f"the export is not valid JSON: {exc.message} at line {exc.line}, column {exc.column}"
        ) from None
    except NotAnObject:
        raise InvalidValueError(
            f'not a papercli export (no "format": "{JSON_MARKER}" marker)'
        ) from None
    except RecursionError:
        raise InvalidValueError("the export is not a papercli export: nested too deeply") from None


def _reason(message: str, paper: object, place: str | None) -> str:
    """msgspec's complaint in papercli's words; a string's by what is wrong with it."""
    value = _at(paper, place or "")
    if isinstance(value, str) and "matching regex" in message:
        return (
            "holds a lone surrogate, which is not text"
            if _SURROGATES.search(value)
            else "holds a control character"
        )
    if isinstance(value, str) and _MSGSPEC_LENGTH.match(message):
        limit = message.split("<= ")[1].rstrip("`")
        return f"is {len(value):,} characters long (at most {int(limit):,})"
    return f"{message[:1].lower()}{message[1:]}".replace("`", "")


def _at(document: object, place: str) -> object:
    """The value at a msgspec place such as ``authors[2].name``, in the document."""
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", place):
        try:
            document = document[int(index)] if index else document[name]  # type: ignore[index]
        except (LookupError, TypeError):
            return None
    return document


def _kind(value: object) -> str:
    return {dict: "object", str: "str", bool: "bool", int: "int", float: "float"}.get(
        type(value), "null"
    )


def _paper(record: _Paper) -> Paper:
    """The record as a Paper, once every value is in range and well formed."""
    arxiv_id, url, pdf_url = checked_facts(
        id=record.id,
        title=record.title,
        date=record.date,
        year=record.year,
        arxiv_id=record.arxiv_id,
        url=record.url,
        pdf_url=record.pdf_url,
        doi=record.doi,
        citation_key=record.citation_key,
        primary_category=record.primary_category,
    )
    times = ("status_changed_at", "read_at", "arxiv_updated", "fetched_at", "added_at", "queued_at")
    for name in times:
        check_time(name, getattr(record, name))
    for i, note in enumerate(record.notes):
        check_time(f"notes[{i}].created_at", note.created_at)
    for i, change in enumerate(record.history):
        check_time(f"history[{i}].changed_at", change.changed_at)
    linked: set[str] = set()
    for i, link in enumerate(record.your_prerequisites):
        check_paper_id(f"your_prerequisites[{i}].id", link.id)
        check_time(f"your_prerequisites[{i}].at", link.at)
        if link.id in linked:
            raise BadFact(f"your_prerequisites[{i}].id", f"{link.id!r} is given twice")
        linked.add(link.id)
    for name, value, high in (
        ("read_version", record.read_version, MAX_VERSION),
        ("arxiv_version", record.arxiv_version, MAX_VERSION),
        ("queue_position", record.queue_position, 10_000_000),
    ):
        if value is not None and not 1 <= value <= high:
            raise BadFact(name, f"expected a number from 1 to {high}, got {value}")
    if record.queued_at is not None and record.queue_position is None:
        raise BadFact("queued_at", "is a time, but the paper has no queue_position")
    authors = [_author(a) for a in record.authors]
    fetched = (
        authors if record.arxiv_authors is None else [_author(a) for a in record.arxiv_authors]
    )
    return Paper(
        id=record.id,
        title=record.title,
        short_name=record.short_name or record.title[:40],
        year=record.year,
        date=record.date,
        kind=record.kind,
        arxiv_id=arxiv_id,
        url=url,
        pdf_url=pdf_url,
        aliases=[a for a in record.aliases if a.strip()],
        organizations=record.organizations,
        topics=record.topics,
        why=record.why,
        focus=record.focus,
        technique=record.technique,
        sources=record.sources,
        prerequisites=list(dict.fromkeys(record.prerequisites)),
        origin=record.origin,
        authors=authors,
        venue=record.venue,
        doi=record.doi,
        citation_key=record.citation_key,
        added_at=record.added_at,
        status=ReadStatus(record.status),
        status_changed_at=record.status_changed_at,
        read_at=record.read_at,
        read_version=record.read_version,
        queue_position=record.queue_position,
        queued_at=record.queued_at,
        tags=list(dict.fromkeys(as_tag(t) for t in record.tags if t.strip())),
        notes=[Note(n.created_at, n.body, n.uid) for n in record.notes if n.body.strip()],
        arxiv_authors=fetched,
        abstract=record.abstract,
        primary_category=record.primary_category,
        categories=record.categories,
        dois=record.dois,
        journal_ref=record.journal_ref,
        comment=record.comment,
        arxiv_version=record.arxiv_version,
        arxiv_updated=record.arxiv_updated,
        fetched_at=record.fetched_at,
    )


def _author(record: _Author) -> Author:
    """An exported author; one from an export made before names were split is split now."""
    if not (record.family or record.literal or is_person_name(record.name)):
        raise BadFact("authors", f"{record.name!r} has no family name, or nothing after its comma")
    if record.family is None:
        return person(record.name, record.affiliations)
    return Author(
        record.name,
        tuple(record.affiliations),
        family=record.family,
        given=record.given,
        suffix=record.suffix,
        literal=record.literal,
    )
