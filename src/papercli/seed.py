"""The catalogue's human-readable source (``data/catalogue.toml``), loaded and checked.

``scripts/build_seed.py`` turns it into ``data/seed.sqlite``, which papercli ships and
copies into each user's database.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

from papercli.arxiv_ids import ARXIV_DOI_PREFIX
from papercli.errors import InvalidValueError
from papercli.export import person
from papercli.models import VENUES, Author, Paper, split_venue
from papercli.names import citation_key_stem, name_key
from papercli.records import datarecord, field

KINDS = ("paper", "blog", "report")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_DATE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?")
_ARXIV = re.compile(r"(\d{2})(\d{2})\.\d{4,5}")


@datarecord(frozen=True)
class Source:
    key: str
    file: str
    title: str
    language: str


@datarecord(frozen=True)
class Organization:
    name: str
    aliases: tuple[str, ...] = ()


@datarecord
class CatalogueSource:
    """Everything ``catalogue.toml`` says, validated."""

    sources: list[Source] = field(default_factory=list)
    organizations: list[Organization] = field(default_factory=list)
    topics: dict[str, str] = field(default_factory=dict)
    papers: list[Paper] = field(default_factory=list)
    checked_against: dict[str, list[str]] = field(default_factory=dict)  # id -> source URLs
    digest: str = ""


def load_catalogue(path: Path) -> CatalogueSource:
    """Read and validate the TOML catalogue; raise InvalidValueError naming the bad record."""
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidValueError(f"{path}: {exc}") from None
    cat = CatalogueSource(digest=hashlib.sha256(raw).hexdigest())
    cat.sources = [Source(**s) for s in data.get("source", [])]
    cat.organizations = [
        Organization(o["name"], tuple(o.get("aliases", []))) for o in data.get("organization", [])
    ]
    cat.topics = {t["name"]: t["description"] for t in data.get("topic", [])}
    cat.papers = [_paper(record) for record in data.get("paper", [])]
    cat.checked_against = {
        str(record.get("id")): _list(record, "checked_against") for record in data.get("paper", [])
    }
    _check(cat)
    return cat


def _paper(record: dict[str, object]) -> Paper:
    try:
        date = str(record["date"])
        arxiv_id = record.get("arxiv_id")
        return Paper(
            id=str(record["id"]),
            title=str(record["title"]),
            short_name=str(record["short_name"]),
            year=int(date[:4]) if date[:4].isdigit() else 0,
            date=date,
            kind=str(record.get("kind", "paper")),
            arxiv_id=str(arxiv_id) if arxiv_id else None,
            url=_text(record, "url") or None,
            pdf_url=_text(record, "pdf_url") or None,
            aliases=_list(record, "aliases"),
            organizations=_list(record, "organizations"),
            topics=_list(record, "topics"),
            why=_text(record, "why"),
            focus=_text(record, "focus"),
            technique=_text(record, "technique"),
            sources=_list(record, "sources"),
            prerequisites=_list(record, "prerequisites"),
            authors=[_author(record, entry) for entry in _entries(record, "authors")],
            venue=_text(record, "venue"),
            venue_title=_text(record, "venue_title"),
            doi=_text(record, "doi") or None,
            citation_key=_text(record, "citation_key") or None,
            primary_category=_text(record, "primary_category") or None,
        )
    except KeyError as exc:
        raise InvalidValueError(f"paper {record.get('id', '?')!r} lacks {exc}") from None


def _entries(record: dict[str, object], key: str) -> list[object]:
    value = record.get(key, [])
    if not isinstance(value, list):
        raise InvalidValueError(f"paper {record.get('id')!r}: {key} must be a list")
    return value


def _author(record: dict[str, object], entry: object) -> Author:
    """``"Quoc V. Le"`` (split by BibTeX's rules), ``{ name = "Sheer El Showk", family =
    "El Showk" }`` where the rules split it wrongly, or ``{ name = "OpenAI", literal = true }``."""
    if isinstance(entry, str):
        return person(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InvalidValueError(f"paper {record.get('id')!r}: bad author entry {entry!r}")
    name = " ".join(str(entry["name"]).split())
    if entry.get("literal"):
        return Author(name, family=name, literal=True)
    family, suffix = str(entry.get("family", "")), str(entry.get("suffix", ""))
    if not family or family not in name:
        raise InvalidValueError(f"paper {record.get('id')!r}: {name!r} needs its family name")
    given = str(entry.get("given", "")) or " ".join(
        name.replace(suffix, "").replace(family, "").split()
    )
    return Author(name, family=family, given=given, suffix=suffix)


def _text(record: dict[str, object], key: str) -> str:
    return str(record.get(key, "")).strip()


def _list(record: dict[str, object], key: str) -> list[str]:
    value = record.get(key, [])
    if not isinstance(value, list):
        raise InvalidValueError(f"paper {record.get('id')!r}: {key} must be a list")
    return [str(v) for v in value]


def _check(cat: CatalogueSource) -> None:
    problems: list[str] = []
    orgs = {o.name for o in cat.organizations}
    sources = {s.key for s in cat.sources}
    ids = [p.id for p in cat.papers]
    if len(set(ids)) != len(ids):
        problems.append(
            "duplicate paper ids: " + ", ".join(sorted({i for i in ids if ids.count(i) > 1}))
        )
    org_keys: dict[str, str] = {}
    for org in cat.organizations:
        for spelling in (org.name, *org.aliases):
            owner = org_keys.setdefault(name_key(spelling), org.name)
            if owner != org.name:
                problems.append(f"organization name {spelling!r} used by {owner} and {org.name}")
    name_owner: dict[str, str] = {}
    for p in cat.papers:
        where = f"paper {p.id!r}"
        if not _ID.fullmatch(p.id):
            problems.append(f"{where}: id must be lowercase letters, digits and hyphens")
        if not _DATE.fullmatch(p.date):
            problems.append(f"{where}: date {p.date!r} is not YYYY-MM-DD or YYYY-MM")
        if p.kind not in KINDS:
            problems.append(f"{where}: kind {p.kind!r} is not one of {', '.join(KINDS)}")
        if p.arxiv_id:
            match = _ARXIV.fullmatch(p.arxiv_id)
            if not match:
                problems.append(f"{where}: arxiv_id {p.arxiv_id!r} is not a new-style id")
            elif _DATE.fullmatch(p.date) and not _date_fits_arxiv_id(p.date, match[1], match[2]):
                problems.append(f"{where}: date {p.date} disagrees with arXiv id {p.arxiv_id}")
        elif not p.url:
            problems.append(f"{where}: needs an arxiv_id or a url")
        for label, values, known in (
            ("organization", p.organizations, orgs),
            ("topic", p.topics, set(cat.topics)),
            ("source", p.sources, sources),
            ("prerequisite", p.prerequisites, set(ids)),
        ):
            problems += [f"{where}: unknown {label} {v!r}" for v in values if v not in known]
        if not p.topics:
            problems.append(f"{where}: has no topic")
        checked = cat.checked_against.get(p.id, [])
        problems += [f"{where}: {problem}" for problem in _citation_problems(p, checked)]
        for name in {p.id, p.short_name, *p.aliases}:
            owner = name_owner.setdefault(name_key(name), p.id)
            if owner != p.id:
                problems.append(f"{where}: name {name!r} already belongs to {owner!r}")
    keys = [p.citation_key.lower() for p in cat.papers if p.citation_key]
    problems += [
        f"citation key {k!r} is used twice" for k in sorted(set(keys)) if keys.count(k) > 1
    ]
    problems += _prerequisite_cycles(cat.papers)
    if problems:
        raise InvalidValueError("catalogue.toml: " + "; ".join(problems))


_DOI = re.compile(r"10\.\d{4,9}/\S+")
_CATEGORY = re.compile(r"[a-z-]+(\.[A-Za-z-]+)?")
_KEY = re.compile(r"[a-z]+\d{4}[a-z0-9]*")


def _citation_problems(p: Paper, checked_against: list[str]) -> list[str]:
    """What would make the paper's citation wrong: no or repeated authors, an unknown venue,
    a malformed DOI (or arXiv's own), no arXiv category or citation key, no sources."""
    problems: list[str] = []
    if not p.authors:
        problems.append("has no authors")
    names = [a.name for a in p.authors]
    problems += [f"author {n!r} is listed twice" for n in sorted(set(names)) if names.count(n) > 1]
    if p.venue and split_venue(p.venue) is None:
        known = ", ".join(VENUES)
        problems.append(f"venue {p.venue!r} is not '<series> <year>' with a series in: {known}")
    if p.venue_title and not p.venue:
        problems.append("venue_title is the title a venue printed: it needs the venue")
    if p.doi and (not _DOI.fullmatch(p.doi) or p.doi.startswith(ARXIV_DOI_PREFIX)):
        problems.append(f"doi {p.doi!r} is not a publisher's DOI")
    if p.arxiv_id and not (p.primary_category and _CATEGORY.fullmatch(p.primary_category)):
        problems.append("needs its arXiv primary_category (e.g. 'cs.CL')")
    if not p.citation_key:
        stem = citation_key_stem(p.first_author, p.year, p.title, p.id)
        problems.append(f"has no citation_key (derived from its facts: {stem!r})")
    elif not _KEY.fullmatch(p.citation_key):
        problems.append(f"citation_key {p.citation_key!r} is not like 'vaswani2017attention'")
    if not checked_against or not all(
        u.startswith(("https://", "http://")) for u in checked_against
    ):
        problems.append("checked_against must list the http(s) sources its facts were checked on")
    return problems


def _date_fits_arxiv_id(date: str, yy: str, mm: str) -> bool:
    """An id's YYMM is the month arXiv announced v1: the submission month, or late in the
    month before (CLIP, sent on 2021-02-26, is 2103.00020)."""
    if (date[2:4], date[5:7]) == (yy, mm):
        return True
    previous = (int(yy), int(mm) - 1) if mm != "01" else (int(yy) - 1, 12)
    day = int(date[8:10]) if len(date) == 10 else 0
    return (int(date[2:4]), int(date[5:7])) == previous and day >= 20


def _prerequisite_cycles(papers: list[Paper]) -> list[str]:
    prereqs = {p.id: p.prerequisites for p in papers}
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> list[str]:
        if node in trail:
            return [f"prerequisite cycle: {' -> '.join((*trail, node))}"]
        if node in done:
            return []
        found = [c for nxt in prereqs.get(node, []) for c in visit(nxt, (*trail, node))]
        done.add(node)
        return found

    return [c for p in papers for c in visit(p.id, ())]
