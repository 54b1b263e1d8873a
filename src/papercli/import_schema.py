"""Reading a papercli JSON export back: its schema, checked whole before anything is written.

A file may come from another papercli, a colleague or a web page: every value is checked
for type, range, length and form, so nothing imported can later crash a command. A bad
value is reported with its place (``papers[3].year: expected int, got str``). The
standard library parses the JSON (with line numbers for syntax errors); msgspec checks the
types against the schema below. It is imported only by ``papercli import``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Literal

import msgspec

from papercli.arxiv_ids import parse_arxiv_id
from papercli.errors import InvalidValueError, PapercliError
from papercli.export import JSON_MARKER, JSON_VERSION
from papercli.models import Author, Note, Paper, ReadStatus

Status = Literal["unread", "reading", "read", "skipped"]

MAX_NAME = 1_000  # ids, titles, names, tags, one author's name
MAX_TEXT = 1_000_000  # a note, an abstract


class _Note(msgspec.Struct):
    created_at: str
    body: str


class _Author(msgspec.Struct):
    name: str
    affiliations: list[str] = []
    family: str | None = None
    given: str = ""
    suffix: str = ""
    literal: bool = False


class _Change(msgspec.Struct):
    old_status: Status
    new_status: Status
    changed_at: str


class _Paper(msgspec.Struct):
    id: str
    title: str
    year: int
    date: str
    short_name: str = ""
    kind: Literal["paper", "blog", "report"] = "paper"
    arxiv_id: str | None = None
    url: str | None = None
    pdf_url: str | None = None
    aliases: list[str] = []
    organizations: list[str] = []
    topics: list[str] = []
    why: str = ""
    focus: str = ""
    technique: str = ""
    sources: list[str] = []
    prerequisites: list[str] = []
    origin: str = "user"
    authors: list[_Author] = []
    venue: str = ""
    doi: str | None = None
    citation_key: str | None = None
    added_at: str | None = None
    status: Status = "unread"
    status_changed_at: str | None = None
    read_at: str | None = None
    read_version: int | None = None
    queue_position: int | None = None
    tags: list[str] = []
    notes: list[_Note] = []
    arxiv_authors: list[_Author] | None = None
    abstract: str | None = None
    primary_category: str | None = None
    categories: list[str] = []
    dois: list[str] = []
    journal_ref: str | None = None
    comment: str | None = None
    arxiv_version: int | None = None
    arxiv_updated: str | None = None
    fetched_at: str | None = None
    history: list[_Change] = []


class _Export(msgspec.Struct):
    format: str
    version: int
    papers: list[_Paper]
    exported_on: str = ""


_MSGSPEC_PLACE = re.compile(r"^(.*?)(?: - at `\$\.?(.*)`)?$", re.DOTALL)
_ID = re.compile(r"[^\s/\\]{1,100}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_DATE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def parse_export(text: str) -> tuple[list[Paper], dict[str, list[dict[str, object]]]]:
    """The papers of a papercli JSON export, and every paper's status history by id."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidValueError(
            f"the export is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidValueError("the export is not a papercli export: nested too deeply") from None
    if not isinstance(document, dict) or document.get("format") != JSON_MARKER:
        raise InvalidValueError(f'not a papercli export (no "format": "{JSON_MARKER}" marker)')
    if document.get("version") != JSON_VERSION:
        raise InvalidValueError(
            f"papercli export version {document.get('version')!r} is not supported "
            f"(this papercli reads version {JSON_VERSION}; a newer papercli may read it)"
        )
    try:
        export = msgspec.convert(document, type=_Export)
    except msgspec.ValidationError as exc:
        message, place = _MSGSPEC_PLACE.match(str(exc)).groups()  # type: ignore[union-attr]
        where = f"{place}: " if place else ""
        reason = f"{message[:1].lower()}{message[1:]}".replace("`", "")
        raise InvalidValueError(f"{where}{reason}; nothing was imported") from None
    papers: list[Paper] = []
    history: dict[str, list[dict[str, object]]] = {}
    for number, record in enumerate(export.papers):
        try:
            paper = _paper(record)
        except _Invalid as exc:
            raise InvalidValueError(
                f"papers[{number}].{exc.field}: {exc.reason}; nothing was imported"
            ) from None
        papers.append(paper)
        history[paper.id] = [
            {"old_status": c.old_status, "new_status": c.new_status, "changed_at": c.changed_at}
            for c in record.history
        ]
    ids = [paper.id for paper in papers]
    repeated = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) != len(ids) else []
    if repeated:
        raise InvalidValueError(f"paper id {repeated[0]!r} appears twice; nothing was imported")
    return papers, history


class _Invalid(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def _paper(record: _Paper) -> Paper:
    """The record as a Paper, once every value is in range and well formed."""
    _check_strings(record)
    if not _ID.fullmatch(record.id) or record.id in (".", ".."):
        raise _Invalid("id", f"{record.id!r} is not a paper id (1-100 characters, no spaces or /)")
    if not record.title.strip():
        raise _Invalid("title", "is empty")
    date = _DATE.fullmatch(record.date)
    if date is None:
        raise _Invalid("date", f"expected YYYY-MM-DD or YYYY-MM, got {record.date!r}")
    if not 1000 <= record.year <= 9999 or record.year != int(date[1]):
        raise _Invalid("year", f"expected the year of its date ({date[1]}), got {record.year}")
    if record.arxiv_id is not None:
        try:
            arxiv_id = parse_arxiv_id(record.arxiv_id).id
        except PapercliError as exc:
            raise _Invalid("arxiv_id", exc.message) from None
    else:
        arxiv_id = None
    for name in ("url", "pdf_url"):
        value = getattr(record, name)
        if value is not None and not value.startswith(("https://", "http://")):
            raise _Invalid(name, f"only http(s) addresses are kept, got {value[:60]!r}")
    for name in ("status_changed_at", "read_at", "arxiv_updated", "fetched_at", "added_at"):
        _check_time(name, getattr(record, name))
    for i, note in enumerate(record.notes):
        _check_time(f"notes[{i}].created_at", note.created_at)
    for i, change in enumerate(record.history):
        _check_time(f"history[{i}].changed_at", change.changed_at)
    for name, value, high in (
        ("read_version", record.read_version, 1_000),
        ("arxiv_version", record.arxiv_version, 1_000),
        ("queue_position", record.queue_position, 10_000_000),
    ):
        if value is not None and not 1 <= value <= high:
            raise _Invalid(name, f"expected a number from 1 to {high}, got {value}")
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
        url=record.url,
        pdf_url=record.pdf_url,
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
        tags=list(dict.fromkeys(t for t in record.tags if t.strip())),
        notes=[Note(n.created_at, n.body) for n in record.notes if n.body.strip()],
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
    if record.family is None:
        from papercli.export import person

        return person(record.name, record.affiliations)
    return Author(
        record.name,
        tuple(record.affiliations),
        family=record.family,
        given=record.given,
        suffix=record.suffix,
        literal=record.literal,
    )


def _check_time(name: str, value: str | None) -> None:
    if value is None:
        return
    try:
        if not _TIME.fullmatch(value):
            raise ValueError
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise _Invalid(
            name, f"expected a UTC time like 2024-05-01T09:30:00Z, got {value!r}"
        ) from None


def _check_strings(record: _Paper) -> None:
    """No lone surrogates (SQLite cannot store them), no control characters in names, and
    nothing longer than a note or abstract can be. (A value's name, such as
    ``authors[2].name``, is made only for the error.)"""
    for field, index, part, value in _strings(record):
        long = field in _LONG
        limit = MAX_TEXT if long else MAX_NAME
        if len(value) > limit:
            raise _Invalid(
                _name(field, index, part), f"is {len(value):,} characters long (at most {limit:,})"
            )
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _Invalid(
                    _name(field, index, part), "holds a lone surrogate, which is not text"
                ) from None
        if not long and _CONTROL.search(value):
            raise _Invalid(_name(field, index, part), "holds a control character")


def _name(field: str, index: int | None, part: str | None) -> str:
    return field + ("" if index is None else f"[{index}]") + ("" if part is None else f".{part}")


# Fields whose values are prose: long, with line breaks.
_LONG = frozenset({"notes", "abstract", "why", "focus", "technique", "comment"})


def _strings(record: _Paper) -> Iterator[tuple[str, int | None, str | None, str]]:
    """Every string in the record: its field, index in a list and field in a list item."""
    for name in record.__struct_fields__:
        value = getattr(record, name)
        if isinstance(value, str):
            yield name, None, None, value
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    yield name, i, None, item
                elif isinstance(item, msgspec.Struct):
                    for field in item.__struct_fields__:
                        for text in _texts(getattr(item, field)):
                            yield name, i, field, text


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
