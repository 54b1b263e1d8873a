"""Turn papers into text for other tools: notes, spreadsheets, backups and reference managers.

Pure functions: the CLI decides where the text goes. ``stream_papers`` gives it piece by piece
from papers that arrive a chunk at a time, so that an export of any size holds one chunk;
``export_papers`` gives the same text whole. Every format ends its lines with ``\\n`` (RIS
included: Zotero, EndNote, JabRef and Mendeley all read LF), so write the text with
``newline=""`` to keep it byte-identical on every platform.

The citation formats agree on what a paper is: ``conference`` or ``journal`` by its venue
(or a journal_ref arXiv reports), ``blog`` and ``report`` from the catalogue's kind,
``preprint`` for other arXiv papers, and ``other`` for the rest. They also agree on who wrote
it: the paper's authors (curated in the catalogue, from arXiv for papers a user added), else
its organizations as institutional authors (never invented people); and on its key, the one
stored with the paper, which never changes.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from types import ModuleType

from papercli import TYPE_CHECKING, names
from papercli.arxiv_ids import is_category_form
from papercli.errors import InvalidValueError
from papercli.models import (
    VENUES,
    Author,
    Paper,
    ReadStatus,
    is_doi,
    paper_summary,
    split_venue,
    web_address,
)
from papercli.records import field_names, is_record, replace
from papercli.textlayout import clipped, counted

if TYPE_CHECKING:  # typing costs an export 2-4 ms to import
    from typing import Any, Protocol

    class GivenKeys(Protocol):
        """The citation keys an export has given so far, lowercased. A set holds them for
        one list; a streamed export of a million papers keeps them out of memory
        (``scratch.ScratchSet``)."""

        def given(self, keys: Collection[str]) -> Collection[str]:
            """Those of ``keys`` given already."""
            ...

        def add(self, keys: Sequence[str]) -> object:
            """Keep ``keys`` (what it returns, if anything, is not used)."""
            ...


FORMATS = ("markdown", "csv", "json", "bibtex", "csl-json", "ris")
GROUPS = ("topic", "year")
JSON_MARKER = "papercli-export"
JSON_VERSION = 1

History = Mapping[str, Sequence[Mapping[str, object]]]
Links = Mapping[str, Sequence[Mapping[str, object]]]
"""The prerequisite links the user added or removed, by paper: ``id``, ``state``, ``at``."""
Chunk = tuple[Sequence[Paper], History, Links]
"""Some of the papers, in export order, with the status history of each and the links
the user set from each (JSON only)."""
_Keyed = tuple[Sequence[Paper], Sequence[str]]  # some papers and their citation keys

# work type -> (BibTeX entry type, CSL type, RIS type)
_TYPES = {
    "conference": ("inproceedings", "paper-conference", "CONF"),
    "journal": ("article", "article-journal", "JOUR"),
    "preprint": ("misc", "article", "UNPB"),
    "blog": ("misc", "post-weblog", "BLOG"),
    "report": ("techreport", "report", "RPRT"),
    "other": ("misc", "article", "GEN"),
}


class KeySet:
    """``GivenKeys`` in memory."""

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def given(self, keys: Collection[str]) -> Collection[str]:
        return self._keys.intersection(keys)

    def add(self, keys: Sequence[str]) -> None:
        self._keys.update(keys)


def export_papers(
    papers: Sequence[Paper],
    fmt: str,
    *,
    title: str = "Reading list",
    exported_on: date | str,
    group_by: str | None = None,
    history: History | None = None,
    your_prerequisites: Links | None = None,
    topics_first: Sequence[str] = (),
) -> str:
    """Render ``papers``, in the order given, as ``fmt`` (one of ``FORMATS``).

    ``topics_first``: the topics a listing was filtered by, which Markdown sections by topic
    put a paper under before its other topics."""
    check_format(fmt, group_by)
    if group_by is not None:
        section = section_of(group_by, topics_first)
        first: dict[str, int] = {}
        for paper in papers:
            first.setdefault(section(paper), len(first))
        papers = sorted(papers, key=lambda paper: first[section(paper)])  # stable
    text = stream_papers(
        [(papers, history or {}, your_prerequisites or {})],
        fmt,
        count=len(papers),
        title=title,
        exported_on=exported_on,
        group_by=group_by,
        topics_first=topics_first,
    )
    return "".join(text)


WITH_STATE = ("json", "csv", "ris")
"""The formats that carry the user's notes, tags, queue places and status dates."""
CITATIONS = ("bibtex", "csl-json")
"""The formats that print only a citation: no topics, aliases, sources or prerequisites."""


_FORMAT_OF_SUFFIX = {
    ".json": "json",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".csv": "csv",
    ".ris": "ris",
    ".md": "markdown",
    ".markdown": "markdown",
}


def format_for(fmt: str | None, suffix: str) -> str:
    """The format asked for, else the one the output file's extension names, as `import`
    reads it (``backup.json``: JSON, not CSL-JSON), else Markdown: ``-o backup.json`` wrote
    a Markdown file that the import of the backup then refused."""
    return fmt or _FORMAT_OF_SUFFIX.get(suffix.lower(), "markdown")


def check_format(fmt: str, group_by: str | None = None) -> None:
    """Refuse an unknown format, or a grouping the format does not have."""
    if fmt not in FORMATS:
        known = ", ".join(FORMATS)
        raise InvalidValueError(f"unknown export format {fmt!r} (expected one of: {known})")
    if group_by is not None and group_by not in GROUPS:
        known = ", ".join(GROUPS)
        raise InvalidValueError(f"cannot group by {group_by!r} (expected one of: {known})")
    if group_by is not None and fmt != "markdown":
        raise InvalidValueError(f"grouping only applies to markdown, not to {fmt}")


def stream_papers(
    chunks: Iterable[Chunk],
    fmt: str,
    *,
    count: int,
    title: str = "Reading list",
    exported_on: date | str,
    group_by: str | None = None,
    topics_first: Sequence[str] = (),
    keys: GivenKeys | None = None,
) -> Iterator[str]:
    """The text of ``export_papers`` in pieces, a piece per chunk of papers (and a head and
    a tail), each as soon as its chunk arrives. Checks its options before it returns.

    ``count``: how many papers the chunks hold (Markdown says so at the top). Grouped
    Markdown needs each section's papers together, its sections in the order of their first
    paper in the listing (``section_of`` names a paper's section). ``keys``: where to keep
    the citation keys given, which must stay unique across chunks (a set by default)."""
    check_format(fmt, group_by)
    day = exported_on if isinstance(exported_on, str) else exported_on.isoformat()
    if fmt == "markdown":
        return _markdown(chunks, title, day, count, group_by, topics_first)
    if fmt == "csv":
        return _csv(chunks)
    if fmt == "json":
        return _json(chunks, day)
    keyed = _keyed(chunks, keys or KeySet())
    if fmt == "bibtex":
        return _bibtex(keyed)
    if fmt == "csl-json":
        return _json_array(
            [_csl_item(p, k) for p, k in zip(papers, keys, strict=True)] for papers, keys in keyed
        )
    return _ris(keyed)


# --- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"[\\`*_\[\]<~$]|&(?=#?\w+;)")
_URL_UNSAFE = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"})


def _markdown(
    chunks: Iterable[Chunk],
    title: str,
    day: str,
    count: int,
    group_by: str | None,
    topics_first: Sequence[str],
) -> Iterator[str]:
    """A checklist: read papers are ticked, papers being read marked ``[/]``, skipped ones
    ticked and struck through; a legend under the heading says so.

    Groups (``## topic`` or ``## year``) come in the order of their first paper, so the
    listing's sort order carries over; a paper goes under the first of its topics the
    listing was filtered by, else its first topic, or ``(no topic)``.
    """
    noun = counted(count, "paper")
    legend = "`[x]` read · `[/]` reading · `[ ]` unread · ~~struck through~~ skipped"
    yield f"# {_md_heading(title)}\n\nExported {day} · {noun} · {legend}"
    section = section_of(group_by, topics_first) if group_by else lambda paper: ""
    current: str | None = None
    for papers, *_ in chunks:
        lines = []
        for paper in papers:
            heading = section(paper)
            if heading != current:
                lines.append(f"\n\n## {_md_heading(heading)}\n" if heading else "\n")
                current = heading
            lines.append("\n" + _md_item(paper))
        yield "".join(lines)
    yield "\n"


def section_of(group_by: str, topics_first: Sequence[str] = ()) -> Callable[[Paper], str]:
    """The heading a paper goes under in Markdown sections by ``group_by`` (topic or year)."""
    if group_by == "year":
        return lambda paper: str(paper.year)

    def topic(paper: Paper) -> str:
        preferred = [t for t in paper.topics if t in topics_first]
        return (preferred or paper.topics or ["(no topic)"])[0]

    return topic


def _md_item(paper: Paper) -> str:
    box = {ReadStatus.READ: "x", ReadStatus.SKIPPED: "x", ReadStatus.READING: "/"}.get(
        paper.status, " "
    )
    label = f"**{_md(paper.short_name)}**"
    if paper.title.casefold() != paper.short_name.casefold():
        label += f" — {_md(paper.title)}"
    label += f" ({paper.year})"
    if paper.status == ReadStatus.SKIPPED:
        label = f"~~{label}~~"
    parts = [f"- [{box}] {label}"]
    if paper.organizations:
        parts.append(_md(", ".join(paper.organizations)))
    links = [("abs", None if paper.url_is_pdf else paper.url), ("pdf", paper.pdf_address)]
    parts += [f"[{name}]({url.translate(_URL_UNSAFE)})" for name, url in links if url]
    return " · ".join(parts)


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(), _one_line(text))


def _md_heading(text: str) -> str:
    """``_md`` for a heading, its ``#`` escaped too: CommonMark drops the ones at the end
    after a space as a closing sequence (``# Queue #`` was the heading ``Queue``)."""
    return _md(text).replace("#", "\\#")


# --- CSV and JSON --------------------------------------------------------------------------------

# The header follows paper_summary() even when there is no paper to take it from.
_SUMMARY_KEYS = tuple(paper_summary(Paper(id="", title="", short_name="", year=0, date="")))
CSV_COLUMNS = (
    *_SUMMARY_KEYS,
    *("status_changed_at", "read_at", "queue_position", "tags", "notes", "abstract"),
)


def _csv(chunks: Iterable[Chunk]) -> Iterator[str]:
    """One row per paper: lists joined by ``"; "``, notes as ``created_at: body`` by ``" | "``."""
    import csv  # only CSV pays for it

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for papers, *_ in itertools.chain([((), {}, {})], chunks):  # the header first, on its own
        for paper in papers:
            row: dict[str, object] = {
                **paper_summary(paper),
                "status_changed_at": paper.status_changed_at,
                "read_at": paper.read_at,
                "queue_position": paper.queue_position,
                "tags": paper.tags,
                "notes": " | ".join(f"{n.created_at}: {n.body}" for n in paper.notes),
                "authors": [a.name for a in paper.authors],
                "abstract": paper.abstract,
            }
            writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def _cell(value: object) -> object:
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else value


# Worked out for `show`, not part of a paper's record: the links the user set go out as
# ``your_prerequisites``, the catalogue's as ``prerequisites``.
_NOT_EXPORTED = frozenset({"prerequisite_links"})


def _json(chunks: Iterable[Chunk], day: str) -> Iterator[str]:
    """Every field of every paper plus its status history: a backup that
    ``import_schema.parse_export`` reads back."""
    head = {"format": JSON_MARKER, "version": JSON_VERSION, "exported_on": day, "papers": []}
    # The text of the whole document, with the papers' records inside its empty list.
    opening, closing = _dump_json(head).rsplit("[]", 1)
    records = (
        (_record(paper, history, links) for paper in papers) for papers, history, links in chunks
    )
    pieces = _json_items(records, depth=2)
    first = next(pieces, None)
    if first is None:
        yield opening + "[]" + closing
        return
    yield opening + "[" + first
    yield from pieces
    yield "\n  ]" + closing


def _record(paper: Paper, history: History, links: Links) -> dict[str, object]:
    summary = paper_summary(paper)
    # Everything, authors as whole objects (the summary has only their names).
    rest = {
        k: v
        for k, v in _fields(paper).items()
        if (k not in summary or k == "authors") and k not in _NOT_EXPORTED
    }
    changes = [dict(change) for change in history.get(paper.id, [])]
    yours = [dict(link) for link in links.get(paper.id, [])]
    return {**summary, **rest, "history": changes, "your_prerequisites": yours}


def _fields(item: Any) -> dict[str, object]:
    """``asdict`` for writing out, faster: only the records in non-empty lists (authors,
    notes) are looked into."""
    found: dict[str, object] = {}
    for name in field_names(item):
        value = getattr(item, name)
        if isinstance(value, list) and value and is_record(value[0]):
            value = [_fields(member) for member in value]
        found[name] = value
    return found


def _dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def _json_items(chunks: Iterable[Iterable[object]], depth: int = 1) -> Iterator[str]:
    """The items of a JSON array ``depth`` levels deep, as ``_dump_json`` lays them out
    (each on new lines, commas between), a piece per chunk. Strings in JSON never hold a raw
    newline, so every newline of an item's text starts one of its lines."""
    indent = "\n" + "  " * depth
    separator = ""
    for items in chunks:
        texts = [json.dumps(item, ensure_ascii=False, indent=2) for item in items]
        if texts:
            yield (
                separator
                + indent
                + ("," + indent).join(text.replace("\n", indent) for text in texts)
            )
            separator = ","


def _json_array(chunks: Iterable[Iterable[object]]) -> Iterator[str]:
    """``_dump_json`` of a list, its items a chunk at a time."""
    pieces = _json_items(chunks)
    first = next(pieces, None)
    if first is None:
        yield "[]\n"
        return
    yield "[" + first
    yield from pieces
    yield "\n]\n"


# --- What the citation formats share -------------------------------------------------------------


def _work_type(paper: Paper) -> str:
    venue = split_venue(paper.venue)
    if venue:
        return VENUES[venue[0]][0]
    if paper.journal_ref:
        return "journal"
    if paper.kind in ("blog", "report"):
        return paper.kind
    return "preprint" if paper.arxiv_id else "other"


def _container(paper: Paper) -> str | None:
    """The proceedings' or journal's name, for a published paper. A Findings volume is named
    for its conference and year, as the ACL Anthology cites it ("...: EMNLP 2022")."""
    venue = split_venue(paper.venue)
    if not venue:
        return paper.journal_ref
    series, year = venue
    name = VENUES[series][1]
    return f"{name} {year}" if series.startswith("Findings of ") else name


def _date_parts(paper: Paper) -> list[int]:
    """``[year, month, day]`` with the precision the catalogue has; a published paper's
    year is its venue's (LoRA: arXiv 2021, ICLR 2022)."""
    venue = split_venue(paper.venue)
    if venue:
        return [venue[1]]
    match = re.match(r"(\d{4})(?:-(\d\d)(?:-(\d\d))?)?", paper.date)
    return [int(part) for part in match.groups() if part] if match else [paper.year]


def _doi(paper: Paper) -> str | None:
    return paper.doi or (paper.dois[0] if paper.dois else None)


def person(name: str, affiliations: Sequence[str] = ()) -> Author:
    """An author split the way BibTeX splits ``First von Last`` (bibtexparser's rules):
    ``Quoc V. Le`` -> family ``Le``; ``Aäron van den Oord`` -> family ``van den Oord``.

    A generational suffix at the end is one, as typed or as arXiv writes it: ``Hal Daumé III``
    and ``Martin Luther King, Jr.``, which the rules took for family name ``III`` and given
    name ``Jr.``. Names the rules get wrong (``Sheer El Showk``) are given their family name
    explicitly in the catalogue.
    """
    clean, rest, suffix, parts = _read_name(name)
    return _split_person(clean, affiliations, rest, suffix, parts)


def checked_person(name: str, affiliations: Sequence[str] = ()) -> Author | None:
    """``person(name)`` when ``is_person_name(name)``, else None: the rules read the name
    once for both (twice took a tenth of a BibTeX import of new papers)."""
    clean, rest, suffix, parts = _read_name(name)
    if rest.endswith(",") or not parts.last:
        return None
    return _split_person(clean, affiliations, rest, suffix, parts)


def _read_name(name: str) -> tuple[str, str, str, Any]:
    """``name`` with its spaces folded, without a generational suffix, that suffix, and
    the rest's parts by BibTeX's rules."""
    clean = " ".join(name.split())
    rest, suffix = _without_suffix(clean)
    return clean, rest, suffix, _rules(rest)


def _split_person(
    clean: str, affiliations: Sequence[str], rest: str, suffix: str, parts: Any
) -> Author:
    family, given, jr = _family_given_suffix(parts, rest)
    return Author(clean, tuple(affiliations), family=family, given=given, suffix=suffix or jr)


def _rules(name: str) -> Any:
    """``name``'s parts by BibTeX's rules (bibtexparser's reading of them)."""
    from bibtexparser.middlewares.names import parse_single_name_into_parts

    return parse_single_name_into_parts(name, strict=False)


def _by_the_rules(name: str) -> tuple[str, str, str]:
    """(family, given, suffix) of ``name`` by BibTeX's rules alone; the whole name as the
    family name where they find none (``, Ann``, which ``is_person_name`` refuses)."""
    return _family_given_suffix(_rules(name), name)


def _family_given_suffix(parts: Any, name: str) -> tuple[str, str, str]:
    """The names the rules' ``parts`` of ``name`` give; ``name`` as the family name where
    they find none."""
    family = " ".join([*parts.von, *parts.last]) or name
    return family, " ".join(parts.first), " ".join(parts.jr)


def is_person_name(name: str) -> bool:
    """Whether BibTeX's rules find a family name in ``name`` and, after a comma, given
    names: ``, Ann`` has no family name (it was cited as family name ``, Ann``) and
    ``Ann,`` nothing after its comma."""
    return checked_person(name) is not None


def typed_author(text: str) -> Author:
    """An author as typed (``add --author``): a person (``Given Family``), or in braces an
    institution (``{Team GLM}``), one name that no style splits, as a BibTeX import reads it;
    InvalidValueError for a person of no family name (``is_person_name``)."""
    name = _organization(text)
    if name is not None:
        return Author(name, family=name, literal=True)
    if re.search("[{}]", text):  # BibTeX's rules read `Eve }` as family name "{}"
        raise InvalidValueError(
            f"--author {clipped(' '.join(text.split()))!r}: braces go around a whole"
            ' organization\'s name ("{Team GLM}"), not in a name'
        )
    found = checked_person(text)
    if found is None:
        raise InvalidValueError(
            f'--author {" ".join(text.split())!r}: give "Given Family" or "Family, Given",'
            " with a name on each side of the comma"
        )
    return found


def _organization(text: str) -> str | None:
    """The name in ``{Team GLM}``, typed whole in braces; None for any other text."""
    inner = text.strip()[1:-1]
    if text.strip()[:1] + text.strip()[-1:] == "{}" and not re.search("[{}]", inner):
        return " ".join(inner.split())
    return None


def resplit(author: Author) -> Author | None:
    """The author as papercli splits the name now, where its stored split is the one
    papercli made before 3 December by BibTeX's rules alone: of the name (``Hal Daumé III``
    family name ``III``, ``{Team GLM}`` typed in a person), or of a BibTeX import's
    ``King, Jr.``, named ``Jr. King`` in reading order; None where it is already so, or
    split some other way: by the catalogue, an import's explicit parts, a person.

    Only a name in braces or ending in a suffix, or a given name that is a suffix, is split
    otherwise now: the others are known without BibTeX's rules, which take a sync of many
    papers seconds."""
    clean = " ".join(author.name.split())
    if author.literal:
        return None
    if _organization(clean):
        typed = clean
    elif re.search("[{}]", clean):  # no name `add` takes now: left as it was split
        return None
    elif _without_suffix(clean)[1]:
        typed = clean
    elif author.given in _SUFFIXES and clean == f"{author.given} {author.family}":
        typed = f"{author.family}, {author.given}"
    else:
        return None
    if not is_person_name(typed):
        return None
    if (author.family, author.given, author.suffix) != _by_the_rules(typed):
        return None
    now = typed_author(typed) if typed == clean else in_reading_order(person(typed))
    return replace(now, affiliations=author.affiliations)


def in_reading_order(author: Author) -> Author:
    """``author`` named ``Given Family Suffix`` (``Nando De Freitas``), as ``show`` lists
    names with commas between them, which a BibTeX import's ``Family, Given`` would run into."""
    parts = (author.given, author.family, author.suffix)
    return replace(author, name=" ".join(part for part in parts if part) or author.name)


_SUFFIXES = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})


def _without_suffix(name: str) -> tuple[str, str]:
    """``name`` and its generational suffix, when it ends in one after a space (``Hal Daumé
    III``) or after its only comma (``Martin Luther King, Jr.``); else ``name`` and ``""``.
    ``Daumé, III, Hal`` is BibTeX's own form, which the rules read as they should."""
    if name.count(",") == 1:
        rest, _, last = name.partition(",")
        last = last.strip()
    else:
        rest, _, last = name.rpartition(" ")
    if "," not in rest and rest.strip() and last in _SUFFIXES:
        return rest.strip(), last
    return name, ""


def _people(paper: Paper) -> list[Author]:
    """The paper's authors, or its organizations as institutions when none are known."""
    if paper.authors:
        return [a if a.family else person(a.name, a.affiliations) for a in paper.authors]
    return [Author(org, family=org, literal=True) for org in paper.organizations]


def _keyed(chunks: Iterable[Chunk], given: GivenKeys) -> Iterator[_Keyed]:
    """Each chunk's papers with their citation keys, unique across the chunks."""
    for papers, *_ in chunks:
        yield papers, _citation_keys(papers, given)


def _citation_keys(papers: Sequence[Paper], given: GivenKeys) -> list[str]:
    """Each paper's stored key; a paper without one (or repeating one already used in this
    export, or one that is no key: ``names.is_citation_key``) gets a derived key with
    ``a``, ``b``, ... appended until unique."""
    stems = [
        key if (key := paper.citation_key) and names.is_citation_key(key) else _derived_stem(paper)
        for paper in papers
    ]
    asked = {stem.lower() for stem in stems}
    before = set(given.given(asked))  # in earlier chunks: one question for the whole chunk
    used: set[str] = set()

    def taken(key: str) -> bool:
        low = key.lower()
        if low in used or low in before:
            return True
        return low not in asked and bool(given.given({low}))

    keys = []
    for stem in stems:
        key = names.unique_key(stem, taken)
        used.add(key.lower())
        keys.append(key)
    given.add([key.lower() for key in keys])
    return keys


def _derived_stem(paper: Paper) -> str:
    people = _people(paper)
    first = people[0].family_name if people else None
    return names.citation_key_stem(first, paper.year, paper.title, paper.id)


# Control characters (Unicode's Cc) that are not whitespace: every other Cc is.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def _one_line(text: str) -> str:
    """Whitespace runs (newlines included) become one space; other control characters go."""
    return " ".join(_CONTROL.sub("", text).split())


# --- BibTeX --------------------------------------------------------------------------------------

_LATEX = {
    "\\": r"\textbackslash{}",
    # Not \{ and \}: BibTeX counts those too, so a title with unpaired braces would break the file.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_SPECIAL = re.compile("[" + re.escape("".join(_LATEX)) + "]")


# TeX math as arXiv writes it in titles and abstracts ($k$-NN, $10^9$): kept for LaTeX.
# Delimited as pandoc reads it: no space just inside either $, no digit just after the
# closing one, so "$5 into $10" is money, not math.
_MATH = re.compile(r"(\$(?=[^\s$])[^$\n]*?(?<=[^\s$\\])\$(?![0-9]))")


# Where LaTeX would join two characters into another (-- an en dash, two backquotes or
# two quotes a curly quote, << a guillemet in T1 fonts): an empty group between them
# keeps both as typed, as the escapes above keep ~ a tilde.
_LIGATURE = re.compile(r"([-`'<>,])(?=\1)|[?!](?=`)")  # the first of such a pair


def _is_plain(text: str) -> bool:
    """Whether ``_latex`` leaves the text as it is: no special character and no spaces to
    collapse (whitespace other than single spaces inside is not printable, nor are control
    characters). A character class and substrings: a regular expression with the spaces as
    alternatives took twice as long."""
    return (
        text.isprintable()
        and not _LATEX_SPECIAL.search(text)
        and not _LIGATURE.search(text)
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
    )


def _latex(text: str) -> str:
    """LaTeX-safe text on one line; non-ASCII stays UTF-8 (biber and bibtexparser read it).
    Inline math passes through, so LaTeX and pandoc render it."""
    if _is_plain(text):
        return text  # most names and titles: a tenth of a BibTeX export's time saved
    return _escaped_latex(text)


def _escaped_latex(text: str) -> str:
    pieces = _MATH.split(_one_line(text))
    return "".join(
        piece
        if i % 2 and _is_math(piece)
        else _LIGATURE.sub(_kept_apart, _LATEX_SPECIAL.sub(_escape, piece))
        for i, piece in enumerate(pieces)
    )


def _is_math(piece: str) -> bool:
    """Whether ``$...$`` can pass to LaTeX as math: each command in it one of the standard
    math commands (``_MATH_COMMANDS``), its braces balanced as LaTeX counts them and as
    BibTeX does (escaped ones too), no ``%`` (which would comment out the rest of the
    line, closing braces too), ``#`` or ``&`` (errors in math), and no ``^`` or ``_``
    without what it raises or lowers. A title is anyone's: ``$\\input{...}$`` passed
    whole, for LaTeX to read a file, as did ``$\\{a}$``, whose brace closed the title's
    group early, and ``Notes ${$``, whose lone brace broke the file for bibtexparser,
    BibTeX and biber."""
    depth = counted = 0  # open braces as LaTeX counts them; as BibTeX does
    for token in _MATH_TOKEN.findall(piece[1:-1]):
        if token in ("{", "}"):
            step = 1 if token == "{" else -1
            depth += step
            counted += step
        elif token in ("\\{", "\\}"):
            counted += 1 if token == "\\{" else -1
        elif token[1:] not in _MATH_COMMANDS:
            return False  # a command of another kind, or % # & or a bare ^ _
        if depth < 0 or counted < 0:
            return False
    return depth == counted == 0


# A command, a brace, a character that breaks math, or ^ and _ with nothing to raise.
_MATH_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.?)|[{}%#&]|[\^_](?=\s*(?:[\^_}]|$))")
# The math commands of LaTeX, amsmath and amssymb that titles use, and the font switches
# of LaTeX 2.09 that arXiv's older titles still use ($\rm M_\odot$). Anything else may
# read a file (\input), write one (\immediate\write18), redefine what the document
# means (\def) or end it (\end), or is one author's own macro (\RR) that fails anyway.
_MATH_COMMANDS = frozenset(
    """
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa
    lambda mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega
    Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
    times cdot pm mp div ast star circ bullet oplus ominus otimes odot oslash setminus
    cup cap sqcup wedge vee land lor neg lnot rtimes ltimes dagger ddagger
    leq le geq ge neq ne approx sim simeq cong equiv propto ll gg prec succ preceq succeq
    subset supset subseteq supseteq in notin ni mid parallel perp models vdash
    lesssim gtrsim leqslant geqslant lessapprox gtrapprox triangleq asymp
    to gets rightarrow leftarrow leftrightarrow Rightarrow Leftarrow Leftrightarrow
    longrightarrow longleftarrow Longrightarrow Longleftarrow mapsto uparrow downarrow
    Uparrow Downarrow nearrow searrow nwarrow swarrow hookrightarrow rightrightarrows
    iff implies
    sum prod coprod int iint oint bigcup bigcap bigoplus bigotimes bigvee bigwedge
    lim liminf limsup sup inf max min arg det dim ker log ln exp deg gcd hom Pr
    sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth mod bmod pmod
    infty partial nabla ell hbar imath jmath Re Im aleph emptyset varnothing forall exists
    nexists prime angle triangle Box diamond top bot flat sharp natural surd wp Bbbk
    left right big Big bigg Bigg bigl bigr Bigl Bigr langle rangle lfloor rfloor lceil
    rceil lvert rvert lVert rVert vert Vert backslash
    mathcal mathbb mathrm mathbf mathit mathsf mathtt mathfrak boldsymbol
    rm bf it sf tt cal text textrm textbf textit textsf texttt mbox operatorname
    hat widehat tilde widetilde bar overline underline vec dot ddot check breve acute
    grave overrightarrow underbrace overbrace
    frac dfrac tfrac binom sqrt over atop choose underset overset stackrel limits
    nolimits not
    dots ldots cdots vdots ddots quad qquad colon
    """.split()  # noqa: SIM905 (a list would take 230 lines)
) | {",", ";", ":", "!", " ", "|", "%", "#", "&", "_"}


def _escape(special: re.Match[str]) -> str:
    return _LATEX[special.group()]


def _kept_apart(first: re.Match[str]) -> str:
    return first.group() + "{}"


def _bibtex_names(authors: Sequence[Author]) -> str:
    """The ``author`` field: ``_bibtex_name`` of each, joined by ``and``.

    Most lists need no escaping, which one look at the joined field shows: a name part
    ending in a space shows before the comma after it, every other space to collapse as
    two spaces. Half the time of escaping each part: about 5 ms of a BibTeX export of
    1,000 papers."""
    if not any(author.literal for author in authors):
        field = " and ".join(
            [", ".join(filter(None, (a.family_name, a.suffix, a.given))) for a in authors]
        )
        if (
            _is_plain(field)
            and " ," not in field
            and len(_AND.findall(field)) == len(authors) - 1  # no "and" but between names
            and not any(_inner_von(a.family_name) for a in authors)
        ):
            return field
    return " and ".join(_bibtex_name(author) for author in authors)


# The word BibTeX and biber split an author list at (in any case), and where it may stand
# in a name: between spaces, or before the comma after a name part.
_AND = re.compile(r"(?<![^\s,])and(?![^\s,])", re.IGNORECASE)


def _bibtex_name(author: Author) -> str:
    """``Family, Given`` (``Family, Suffix, Given``); an institution in braces, so that no
    style splits or abbreviates it. A word ``and`` in a person's name is braced, or it
    would split the list there (``Procter and Gamble`` typed without braces)."""
    if author.literal:
        return "{" + _latex(author.family_name) + "}"
    parts = [author.family_name, author.suffix, author.given]
    name = [_AND.sub(r"{\g<0>}", _latex(part)) for part in parts if part]
    if _inner_von(author.family_name):
        name[0] = "{" + name[0] + "}"
    return ", ".join(name)


def _inner_von(family: str) -> bool:
    """Whether BibTeX would take the start of this family name for a "von" part: the words
    up to its last lowercase one, when it does not start with one (``Ponde de Oliveira
    Pinto``: von ``Ponde de``, which biblatex prints after the given names). One that
    starts with its particle (``van den Oord``) is read as meant."""
    if " " not in family or family[:1].islower():
        return False
    return any(word[:1].islower() for word in family.split()[1:])


def _bibtex(chunks: Iterable[_Keyed]) -> Iterator[str]:
    """``@inproceedings``/``@article`` for published papers, ``@techreport`` for reports, else
    ``@misc`` as arXiv does; always the arXiv eprint when there is one.

    Titles sit in a second pair of braces so styles keep their capitals (``{LoRA}``); the month
    is the ``jan``..``dec`` macro; titles and abstracts lose their line breaks. Each chunk goes
    through bibtexparser's writer on its own, the entries of two chunks apart as within one.
    """
    separator = ""
    for papers, keys in chunks:
        if papers:
            yield separator + _bibtex_chunk(papers, keys)
            separator = "\n"


def _institution(org: str) -> str:
    """One of the ``institution`` list, which biblatex splits at ``and`` as it splits
    authors: braced when it has one of its own (``Center for Research and Development``)."""
    name = _latex(org)
    return "{" + name + "}" if _AND.search(name) else name


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _bibtex_chunk(papers: Sequence[Paper], keys: Sequence[str]) -> str:
    """The entries through bibtexparser's writer. Values come enclosed in braces and months
    as their macros, as its AddEnclosing and MonthAbbreviation middlewares would give them:
    those two walked every field again and took a sixth of a BibTeX export."""
    writer = _bibtex_writer()
    library = writer.Library()
    for paper, key in zip(papers, keys, strict=True):
        work = _work_type(paper)
        title = _latex(paper.cited_title)
        # A group opening with a backslash is a BibTeX "special character" whose letters styles
        # may still lowercase; an empty group in front keeps the title protected.
        guard = "{}" if title.startswith("\\") else ""
        values: dict[str, str | None] = {"title": "{" + guard + title + "}"}
        values["author"] = _bibtex_names(_people(paper))
        date_parts = _date_parts(paper)
        values["year"] = str(date_parts[0])
        values["month"] = _MONTHS[date_parts[1] - 1] if len(date_parts) > 1 else None
        container = _latex(_container(paper) or "")
        values["booktitle" if work == "conference" else "journal"] = container
        if work == "report":
            values["institution"] = " and ".join(map(_institution, paper.organizations))
        if work == "blog":
            values["howpublished"] = "Blog post"
        if paper.arxiv_id:
            values |= {"eprint": paper.arxiv_id, "archivePrefix": "arXiv"}
            category = paper.primary_category
            values["primaryClass"] = category if category and is_category_form(category) else None
        # Checked again, for values kept before they were checked as they came in: one
        # brace in a DOI or a URL, or a space in a key, and the rest of the file is lost.
        doi = _doi(paper)
        values["doi"] = doi if doi and is_doi(doi) else None
        values["url"] = web_address(paper.url) if paper.url else None
        values["abstract"] = _latex(paper.abstract or "")
        kept = [
            writer.Field(name, value if name == "month" else "{" + value + "}")
            for name, value in values.items()
            if value
        ]
        library.add(writer.Entry(_TYPES[work][0], key, kept))
    layout = writer.BibtexFormat()
    layout.block_separator = "\n"  # also between chunks: see _bibtex
    text: str = writer.write(library, bibtex_format=layout)  # write_string's, with no middleware
    return text


_writer: ModuleType | None = None


def _bibtex_writer() -> ModuleType:
    """bibtexparser's ``writer`` module (with the model and library it imports), loaded without
    the package's ``__init__``, which imports every middleware, and with them pylatexenc,
    ``logging`` and ``inspect``: 25 of the 30 ms bibtexparser takes to import, a sixth of a
    BibTeX export of 1,000 papers."""
    global _writer
    if _writer is None:
        _writer = _load_without_init("bibtexparser", "writer")
    return _writer


def _load_without_init(package: str, module: str) -> ModuleType:
    """``package.module`` without running ``package/__init__.py``, unless the package is
    imported already or not found as a folder. A stand-in holds the package's place only
    while the module loads: ``sys.modules`` is then as it was, so a later ``import
    package`` runs its ``__init__`` and gets its own copy of the module."""
    import importlib
    import importlib.util

    spec = None if package in sys.modules else importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        # Imported already, or not a package found on a path (frozen, say): as usual.
        return importlib.import_module(f"{package}.{module}")
    before = set(sys.modules)
    stand_in = ModuleType(package)
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[package] = stand_in
    try:
        return importlib.import_module(f"{package}.{module}")
    finally:
        for name in set(sys.modules) - before:
            if name == package or name.startswith(package + "."):
                del sys.modules[name]


# --- CSL-JSON and RIS ----------------------------------------------------------------------------


def _csl_title(title: str) -> str:
    """The title with each word that has a capital after its first letter (LoRA, GLM-130B,
    RLHF) in CSL's ``<span class="nocase">``, so sentence-case styles keep it. A tag that
    CSL processors read as markup (``<b>``, ``<span ...>``) is escaped; every other angle
    bracket stays as it is, since citeproc-js, pandoc and citeproc-py print an escape as
    written (``$k<n$`` was cited as ``$k&#60;n$``)."""
    escaped = _CSL_MARKUP.sub(_escaped_tag, title)
    return " ".join(
        f'<span class="nocase">{word}</span>' if _is_acronym(word) else word
        for word in escaped.split()
    )


# The rich text tags of CSL-JSON (citeproc-js and pandoc's citeproc read these).
_CSL_MARKUP = re.compile(r"</?(?:i|b|sup|sub|sc)>|<span\b[^<>]*>|</span>", re.IGNORECASE)


def _escaped_tag(tag: re.Match[str]) -> str:
    return tag.group().replace("<", "&#60;").replace(">", "&#62;")


def _is_acronym(word: str) -> bool:
    """``LoRA``, ``GLM-130B``, ``RLHF``: a capital after the start of a part of the word
    (``Low-Rank`` is not), or a part that is one capital letter (``Q-Functions``, which
    sentence case made ``q-functions``); TeX math is left alone."""
    if "$" in word:
        return False
    parts = re.split("[-/]", word)
    return any(c.isupper() for part in parts for c in part[1:]) or (
        len(parts) > 1 and any(len(part) == 1 and part.isupper() for part in parts)
    )


def _csl_name(author: Author) -> dict[str, str]:
    if author.literal:
        return {"literal": author.family_name}
    name = {"family": author.family_name, "given": author.given, "suffix": author.suffix}
    return {part: value for part, value in name.items() if value}


def _csl_item(paper: Paper, key: str) -> dict[str, object]:
    """A CSL item the way Zotero writes preprints: ``publisher`` arXiv, ``number`` arXiv:<id>.
    A published paper has neither: its ``number`` would be its number in the journal or
    proceedings, and APA printed the arXiv id as one ("Neurocomputing, Article arXiv:...").
    A report's publisher is its institution, as Zotero writes it."""
    item: dict[str, object] = {"id": key, "type": _TYPES[_work_type(paper)][1]}
    item["title"] = _csl_title(paper.cited_title)
    item["author"] = [_csl_name(a) for a in _people(paper) if not a.means_others]
    item["issued"] = {"date-parts": [_date_parts(paper)]}
    container = _container(paper)
    item["container-title"] = container or _site(paper)
    preprint = paper.arxiv_id and not container
    item["publisher"] = _issuer(paper) or ("arXiv" if preprint else None)
    item["number"] = f"arXiv:{paper.arxiv_id}" if preprint else None
    item["DOI"] = _doi(paper)
    item["URL"] = paper.url
    item["abstract"] = paper.abstract
    return {name: value for name, value in item.items() if value}


def _site(paper: Paper) -> str | None:
    """A blog post's site, as CSL-JSON's ``container-title`` and RIS's ``T2`` name it: its
    first organization (Hugging Face), unless that is its author (OpenAI's posts), whom
    styles would print twice."""
    if _work_type(paper) != "blog" or not paper.organizations:
        return None
    site = paper.organizations[0]
    return None if any(a.literal and a.family_name == site for a in _people(paper)) else site


def _issuer(paper: Paper) -> str | None:
    """A report's institutions, as CSL-JSON and RIS name them (Zotero's ``publisher`` and
    ``PB`` for a report's institution): one field, so they are joined with ``; ``, which
    no institution's own comma can be taken for."""
    if _work_type(paper) != "report":
        return None
    return "; ".join(paper.organizations) or None


def _ris_name(author: Author) -> str:
    if author.literal:
        return author.family_name
    return ", ".join(part for part in (author.family_name, author.given, author.suffix) if part)


def _ris(chunks: Iterable[_Keyed]) -> Iterator[str]:
    """RIS records, a blank line between two."""
    separator = ""
    for papers, keys in chunks:
        if papers:
            records = [_ris_record(p, k) for p, k in zip(papers, keys, strict=True)]
            yield separator + "\n".join(records)
            separator = "\n"


def _ris_record(paper: Paper, key: str) -> str:
    """One RIS record; values are flattened to one line, since RIS is line-based."""
    work = _work_type(paper)
    tags: list[tuple[str, object]] = [("TY", _TYPES[work][2]), ("ID", key)]
    tags.append(("TI", paper.cited_title))
    tags += [("AU", _ris_name(a)) for a in _people(paper) if not a.means_others]
    date_parts = _date_parts(paper)
    tags.append(("PY", date_parts[0]))
    tags.append(("DA", "/".join([*(f"{p:02d}" for p in date_parts), "", ""][:3]) + "/"))
    container = _container(paper)
    if container:
        tags.append(("T2" if work == "conference" else "JO", container))
    elif work == "blog":
        tags.append(("T2", _site(paper)))
    else:
        tags.append(("PB", _issuer(paper) or ("arXiv" if paper.arxiv_id else None)))
    tags += [("UR", paper.url), ("L1", paper.pdf_url)]
    tags.append(("DO", _doi(paper)))
    tags.append(("AB", paper.abstract))
    tags += [("KW", word) for word in dict.fromkeys([*paper.topics, *paper.tags])]
    tags += [("N1", f"{note.created_at}: {note.body}") for note in paper.notes]
    lines = [f"{tag}  - {_one_line(str(value))}" for tag, value in tags if value]
    return "\n".join([*lines, "ER  - "]) + "\n"
