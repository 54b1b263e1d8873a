"""Turn papers into text for other tools: notes, spreadsheets, backups and reference managers.

Pure functions: the CLI decides where the returned text goes. Every format ends its lines with
``\\n`` (RIS included: Zotero, EndNote, JabRef and Mendeley all read LF), so write the text with
``newline=""`` to keep it byte-identical on every platform.

The citation formats agree on what a paper is: ``conference`` or ``journal`` by its venue
(or a journal_ref arXiv reports), ``blog`` and ``report`` from the catalogue's kind,
``preprint`` for other arXiv papers, and ``other`` for the rest. They also agree on who wrote
it: the paper's authors (curated in the catalogue, from arXiv for papers a user added), else
its organizations as institutional authors (never invented people); and on its key, the one
stored with the paper, which never changes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date

from papercli import names
from papercli.errors import InvalidValueError
from papercli.models import VENUES, Author, Paper, ReadStatus, paper_summary, split_venue

FORMATS = ("markdown", "csv", "json", "bibtex", "csl-json", "ris")
GROUPS = ("topic", "year")
JSON_MARKER = "papercli-export"
JSON_VERSION = 1

History = Mapping[str, Sequence[Mapping[str, object]]]

# work type -> (BibTeX entry type, CSL type, RIS type)
_TYPES = {
    "conference": ("inproceedings", "paper-conference", "CONF"),
    "journal": ("article", "article-journal", "JOUR"),
    "preprint": ("misc", "article", "UNPB"),
    "blog": ("misc", "post-weblog", "BLOG"),
    "report": ("techreport", "report", "RPRT"),
    "other": ("misc", "article", "GEN"),
}


def export_papers(
    papers: Sequence[Paper],
    fmt: str,
    *,
    title: str = "Reading list",
    exported_on: date | str,
    group_by: str | None = None,
    history: History | None = None,
    topics_first: Sequence[str] = (),
) -> str:
    """Render ``papers``, in the order given, as ``fmt`` (one of ``FORMATS``).

    ``topics_first``: the topics a listing was filtered by, which Markdown sections by topic
    put a paper under before its other topics."""
    if fmt not in FORMATS:
        known = ", ".join(FORMATS)
        raise InvalidValueError(f"unknown export format {fmt!r} (expected one of: {known})")
    if group_by is not None and group_by not in GROUPS:
        known = ", ".join(GROUPS)
        raise InvalidValueError(f"cannot group by {group_by!r} (expected one of: {known})")
    if group_by is not None and fmt != "markdown":
        raise InvalidValueError(f"grouping only applies to markdown, not to {fmt}")
    day = exported_on if isinstance(exported_on, str) else exported_on.isoformat()
    if fmt == "markdown":
        return _markdown(papers, title, day, group_by, topics_first)
    if fmt == "csv":
        return _csv(papers)
    if fmt == "json":
        return _json(papers, day, history or {})
    keys = _citation_keys(papers)
    if fmt == "bibtex":
        return _bibtex(papers, keys)
    if fmt == "csl-json":
        return _dump_json([_csl_item(p, k) for p, k in zip(papers, keys, strict=True)])
    return "\n".join(_ris_record(p, k) for p, k in zip(papers, keys, strict=True))


# --- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"[\\`*_\[\]<~$]|&(?=#?\w+;)")
_URL_UNSAFE = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"})


def _markdown(
    papers: Sequence[Paper],
    title: str,
    day: str,
    group_by: str | None,
    topics_first: Sequence[str] = (),
) -> str:
    """A checklist: read papers are ticked, papers being read marked ``[/]``, skipped ones
    ticked and struck through; a legend under the heading says so.

    Groups (``## topic`` or ``## year``) come in the order of their first paper, so the
    listing's sort order carries over; a paper goes under the first of its topics the
    listing was filtered by, else its first topic, or ``(no topic)``.
    """
    count = f"{len(papers)} paper" + ("" if len(papers) == 1 else "s")
    legend = "`[x]` read · `[/]` reading · `[ ]` unread · ~~struck through~~ skipped"
    lines = [f"# {_md(title)}", "", f"Exported {day} · {count} · {legend}"]
    groups: dict[str, list[Paper]] = {}
    for paper in papers:
        if group_by == "topic":
            preferred = [t for t in paper.topics if t in topics_first]
            heading = (preferred or paper.topics or ["(no topic)"])[0]
        else:
            heading = str(paper.year) if group_by == "year" else ""
        groups.setdefault(heading, []).append(paper)
    for heading, members in groups.items():
        if heading:
            lines += ["", f"## {_md(heading)}"]
        lines += ["", *(_md_item(paper) for paper in members)]
    return "\n".join(lines) + "\n"


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


# --- CSV and JSON --------------------------------------------------------------------------------

# The header follows paper_summary() even when there is no paper to take it from.
_SUMMARY_KEYS = tuple(paper_summary(Paper(id="", title="", short_name="", year=0, date="")))
CSV_COLUMNS = (
    *_SUMMARY_KEYS,
    *("status_changed_at", "read_at", "queue_position", "tags", "notes", "abstract"),
)


def _csv(papers: Sequence[Paper]) -> str:
    """One row per paper: lists joined by ``"; "``, notes as ``created_at: body`` by ``" | "``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
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
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, list):
        return "; ".join(value)
    return "" if value is None else value


# Worked out for `show`, not part of a paper's record.
_NOT_EXPORTED = frozenset({"prerequisite_links"})


def _json(papers: Sequence[Paper], day: str, history: History) -> str:
    """Every field of every paper plus its status history: a backup that
    ``import_schema.parse_export`` reads back."""
    records = []
    for paper in papers:
        summary = paper_summary(paper)
        # Everything, authors as whole objects (the summary has only their names).
        rest = {
            k: v
            for k, v in asdict(paper).items()
            if (k not in summary or k == "authors") and k not in _NOT_EXPORTED
        }
        changes = [dict(change) for change in history.get(paper.id, [])]
        records.append({**summary, **rest, "history": changes})
    return _dump_json(
        {"format": JSON_MARKER, "version": JSON_VERSION, "exported_on": day, "papers": records}
    )


def _dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


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
    """The proceedings' or journal's name, for a published paper."""
    venue = split_venue(paper.venue)
    return VENUES[venue[0]][1] if venue else paper.journal_ref


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

    Names the rules get wrong (``Sheer El Showk``, ``Robert L. Logan IV``) are given their
    family name explicitly in the catalogue.
    """
    from bibtexparser.middlewares.names import parse_single_name_into_parts

    clean = " ".join(name.split())
    parts = parse_single_name_into_parts(clean, strict=False)
    family = " ".join([*parts.von, *parts.last]) or clean
    return Author(
        clean,
        tuple(affiliations),
        family=family,
        given=" ".join(parts.first),
        suffix=" ".join(parts.jr),
    )


def _people(paper: Paper) -> list[Author]:
    """The paper's authors, or its organizations as institutions when none are known."""
    if paper.authors:
        return [a if a.family else person(a.name, a.affiliations) for a in paper.authors]
    return [Author(org, family=org, literal=True) for org in paper.organizations]


def _citation_keys(papers: Sequence[Paper]) -> list[str]:
    """Each paper's stored key; a paper without one (or repeating one already used in this
    export) gets a derived key with ``a``, ``b``, ... appended until unique."""
    keys: list[str] = []
    used: set[str] = set()
    for paper in papers:
        people = _people(paper)
        first = people[0].family_name if people else None
        stem = paper.citation_key or names.citation_key_stem(
            first, paper.year, paper.title, paper.id
        )
        key = names.unique_key(stem, lambda k: k.lower() in used)
        used.add(key.lower())
        keys.append(key)
    return keys


def _one_line(text: str) -> str:
    """Whitespace runs (newlines included) become one space; other control characters go."""
    kept = "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")
    return " ".join(kept.split())


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
_MATH = re.compile(r"(\$[^$\n]+\$)")


def _latex(text: str) -> str:
    """LaTeX-safe text on one line; non-ASCII stays UTF-8 (biber and bibtexparser read it).
    Inline math passes through, so LaTeX and pandoc render it."""
    pieces = _MATH.split(_one_line(text))
    return "".join(
        piece if i % 2 else _LATEX_SPECIAL.sub(lambda m: _LATEX[m.group()], piece)
        for i, piece in enumerate(pieces)
    )


def _bibtex_name(author: Author) -> str:
    """``Family, Given`` (``Family, Suffix, Given``); an institution in braces, so that no
    style splits or abbreviates it."""
    if author.literal:
        return "{" + _latex(author.family_name) + "}"
    parts = [author.family_name, author.suffix, author.given]
    return ", ".join(_latex(part) for part in parts if part)


def _bibtex(papers: Sequence[Paper], keys: Sequence[str]) -> str:
    """``@inproceedings``/``@article`` for published papers, ``@techreport`` for reports, else
    ``@misc`` as arXiv does; always the arXiv eprint when there is one.

    Titles sit in a second pair of braces so styles keep their capitals (``{LoRA}``); the month
    is the ``jan``..``dec`` macro; titles and abstracts lose their line breaks.
    """
    from bibtexparser.entrypoint import write_string
    from bibtexparser.library import Library
    from bibtexparser.middlewares import MonthAbbreviationMiddleware, default_unparse_stack
    from bibtexparser.model import Entry, Field
    from bibtexparser.writer import BibtexFormat

    library = Library()
    for paper, key in zip(papers, keys, strict=True):
        work = _work_type(paper)
        title = _latex(paper.title)
        # A group opening with a backslash is a BibTeX "special character" whose letters styles
        # may still lowercase; an empty group in front keeps the title protected.
        guard = "{}" if title.startswith("\\") else ""
        values: dict[str, object] = {"title": "{" + guard + title + "}"}
        values["author"] = " and ".join(_bibtex_name(a) for a in _people(paper))
        date_parts = _date_parts(paper)
        values["year"] = str(date_parts[0])
        values["month"] = date_parts[1] if len(date_parts) > 1 else None
        container = _latex(_container(paper) or "")
        values["booktitle" if work == "conference" else "journal"] = container
        if work == "report":
            values["institution"] = " and ".join(_latex(org) for org in paper.organizations)
        if work == "blog":
            values["howpublished"] = "Blog post"
        if paper.arxiv_id:
            values |= {"eprint": paper.arxiv_id, "archivePrefix": "arXiv"}
            values["primaryClass"] = paper.primary_category
        values["doi"] = _doi(paper)
        values["url"] = paper.url
        values["abstract"] = _latex(paper.abstract or "")
        kept = [Field(name, value) for name, value in values.items() if value]
        library.add(Entry(_TYPES[work][0], key, kept))
    layout = BibtexFormat()  # type: ignore[no-untyped-call]
    layout.block_separator = "\n"
    # The library is thrown away after writing, so the middlewares may change its entries in
    # place rather than deep-copy each one (which bibtexparser warns about on large exports).
    stack = [
        MonthAbbreviationMiddleware(allow_inplace_modification=True),
        *default_unparse_stack(allow_inplace_modification=True),
    ]
    return write_string(library, unparse_stack=stack, bibtex_format=layout)


# --- CSL-JSON and RIS ----------------------------------------------------------------------------


def _csl_title(title: str) -> str:
    """The title with each word that has a capital after its first letter (LoRA, GLM-130B,
    RLHF) in CSL's ``<span class="nocase">``, so sentence-case styles keep it; the angle
    brackets that markup gives meaning to are escaped."""
    escaped = title.replace("<", "&#60;").replace(">", "&#62;")
    return " ".join(
        f'<span class="nocase">{word}</span>' if _is_acronym(word) else word
        for word in escaped.split()
    )


def _is_acronym(word: str) -> bool:
    """``LoRA``, ``GLM-130B``, ``RLHF``: a capital after the start of a part of the word
    (``Low-Rank`` is not); TeX math is left alone."""
    return "$" not in word and any(c.isupper() for part in re.split("[-/]", word) for c in part[1:])


def _csl_name(author: Author) -> dict[str, str]:
    if author.literal:
        return {"literal": author.family_name}
    name = {"family": author.family_name, "given": author.given, "suffix": author.suffix}
    return {part: value for part, value in name.items() if value}


def _csl_item(paper: Paper, key: str) -> dict[str, object]:
    """A CSL item the way Zotero writes preprints: ``publisher`` arXiv, ``number`` arXiv:<id>."""
    item: dict[str, object] = {"id": key, "type": _TYPES[_work_type(paper)][1]}
    item["title"] = _csl_title(paper.title)
    item["author"] = [_csl_name(author) for author in _people(paper)]
    item["issued"] = {"date-parts": [_date_parts(paper)]}
    item["container-title"] = _container(paper)
    item["publisher"] = "arXiv" if paper.arxiv_id and not _container(paper) else None
    item["number"] = f"arXiv:{paper.arxiv_id}" if paper.arxiv_id else None
    item["DOI"] = _doi(paper)
    item["URL"] = paper.url
    item["abstract"] = paper.abstract
    return {name: value for name, value in item.items() if value}


def _ris_name(author: Author) -> str:
    if author.literal:
        return author.family_name
    return ", ".join(part for part in (author.family_name, author.given, author.suffix) if part)


def _ris_record(paper: Paper, key: str) -> str:
    """One RIS record; values are flattened to one line, since RIS is line-based."""
    work = _work_type(paper)
    tags: list[tuple[str, object]] = [("TY", _TYPES[work][2]), ("ID", key)]
    tags.append(("TI", paper.title))
    tags += [("AU", _ris_name(author)) for author in _people(paper)]
    date_parts = _date_parts(paper)
    tags.append(("PY", date_parts[0]))
    tags.append(("DA", "/".join([*(f"{p:02d}" for p in date_parts), "", ""][:3]) + "/"))
    container = _container(paper)
    if container:
        tags.append(("T2" if work == "conference" else "JO", container))
    elif paper.arxiv_id:
        tags.append(("PB", "arXiv"))
    tags += [("UR", paper.url), ("L1", paper.pdf_url)]
    tags.append(("DO", _doi(paper)))
    tags.append(("AB", paper.abstract))
    tags += [("KW", word) for word in dict.fromkeys([*paper.topics, *paper.tags])]
    tags += [("N1", f"{note.created_at}: {note.body}") for note in paper.notes]
    lines = [f"{tag}  - {_one_line(str(value))}" for tag, value in tags if value]
    return "\n".join([*lines, "ER  - "]) + "\n"
