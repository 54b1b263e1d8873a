"""Exports read back by the tools they are meant for: bibtexparser, citeproc-py, csv, json."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from datetime import date
from urllib.parse import quote

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from hypothesis import example, given
from hypothesis import strategies as st

from papercli import names
from papercli.errors import InvalidValueError
from papercli.export import (
    CSV_COLUMNS,
    FORMATS,
    _bibtex_name,
    _bibtex_names,
    _escaped_latex,
    _latex,
    export_papers,
)
from papercli.import_schema import read_ids, read_papers
from papercli.models import Author, Note, Paper, ReadStatus, is_doi
from papercli.records import replace

LEGEND = "`[x]` read · `[/]` reading · `[ ]` unread · ~~struck through~~ skipped"
LORA_TITLE = "LoRA: Low-Rank Adaptation & 100% of $W_0$ {frozen}"


def queue() -> list[Paper]:
    """A small queue covering what the formats have to get right."""
    lora = Paper(
        id="lora",
        title=LORA_TITLE,
        short_name="LoRA",
        year=2021,
        date="2021-06-17",
        arxiv_id="2106.09685",
        url="https://arxiv.org/abs/2106.09685",
        pdf_url="https://arxiv.org/pdf/2106.09685",
        aliases=["low-rank adaptation"],
        organizations=["Microsoft"],
        topics=["fine-tuning", "efficiency"],
        why="Fine-tune a frozen model through small low-rank updates.",
        focus="adapters",
        technique="low-rank matrices",
        sources=["reading-list-a"],
        prerequisites=["transformer"],
        status=ReadStatus.READ,
        status_changed_at="2026-11-01T09:30:00Z",
        read_at="2026-11-01T09:30:00Z",
        tags=["peft", "必读"],
        notes=[
            Note("2026-10-30T08:00:00Z", "读完了。\nKey idea: ΔW = BA."),
            Note("2026-11-01T09:30:00Z", "rank 4 is enough"),
        ],
        authors=[
            Author("Edward J. Hu", ("Microsoft",)),
            Author("Łukasz Kaiser", ("Google Brain", "OpenAI")),
            Author("王伟"),
            Author("Aäron van den Oord"),
        ],
        abstract="We propose Low-Rank Adaptation.\nIt freezes the weights.",
        primary_category="cs.CL",
        categories=["cs.CL", "cs.LG"],
        dois=["10.48550/arXiv.2106.09685"],
        comment="Draft V2",
        arxiv_version=2,
        arxiv_updated="2021-10-16T19:36:22Z",
        fetched_at="2026-10-29T12:00:00Z",
    )
    chatgpt = Paper(
        id="chatgpt",
        title="Introducing ChatGPT",
        short_name="ChatGPT",
        year=2022,
        date="2022-11-30",
        kind="blog",
        url="https://openai.com/blog/chatgpt",
        organizations=["OpenAI"],
        topics=["alignment"],
        queue_position=1,
    )
    transformer = Paper(
        id="transformer",
        title="Attention Is All You Need",
        short_name="Transformer",
        year=2017,
        date="2017-06-12",
        arxiv_id="1706.03762",
        url="https://arxiv.org/abs/1706.03762",
        pdf_url="https://arxiv.org/pdf/1706.03762",
        organizations=["Google Brain", "Google Research"],
        topics=["architecture"],
        status=ReadStatus.READING,
        queue_position=2,
        authors=[Author("Ashish Vaswani"), Author("Noam Shazeer"), Author("Łukasz Kaiser")],
        journal_ref="NeurIPS 2017",
        dois=["10.5555/3295222.3295349"],
    )
    # Same first author, year and first title word as LoRA: its key needs a suffix.
    revisited = Paper(
        id="lora-revisited",
        title="LoRA_Revisited: a *report*",
        short_name="LoRA revisited",
        year=2021,
        date="2021-09",
        kind="report",
        url="https://example.org/lora%20(revisited).pdf",
        organizations=["Microsoft Research"],
        status=ReadStatus.SKIPPED,
        authors=[Author("Edward Hu")],
    )
    return [lora, chatgpt, transformer, revisited]


KEYS = ["hu2021lora", "openai2022introducing", "vaswani2017attention", "hu2021loraa"]
HISTORY = {
    "lora": [
        {"old_status": "unread", "new_status": "reading", "changed_at": "2026-10-30T08:00:00Z"},
        {"old_status": "reading", "new_status": "read", "changed_at": "2026-11-01T09:30:00Z"},
    ]
}

# The prerequisite links the user set from a paper (``prereq lora +transformer -chatgpt``).
LINKS = {
    "lora": [
        {"id": "chatgpt", "state": "removed", "at": "2026-11-02T10:00:00Z"},
        {"id": "transformer", "state": "added", "at": "2026-11-01T10:00:00Z"},
    ]
}


def export(fmt: str, papers: list[Paper] | None = None, **options: object) -> str:
    return export_papers(
        queue() if papers is None else papers, fmt, exported_on=date(2026, 11, 22), **options
    )


# --- BibTeX --------------------------------------------------------------------------------------

# How LaTeX reads what export.py writes for the characters it must escape.
UNLATEX = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    **{"\\" + c: c for c in "&%$#_"},
    "{}": "",
}
UNLATEX_RE = re.compile("|".join(map(re.escape, UNLATEX)))


def unlatex(text: str) -> str:
    return UNLATEX_RE.sub(lambda m: UNLATEX[m.group()], text)


def read_title(entry: bibtexparser.model.Entry) -> str:
    """The title as a reader sees it: without the braces that protect capitals."""
    value = entry["title"]
    assert value.startswith("{") and value.endswith("}")
    return unlatex(value[1:-1])


def test_bibtex_reads_back_with_bibtexparser() -> None:
    text = export("bibtex")
    library = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors()])
    assert not library.failed_blocks
    entries = {entry.key: entry for entry in library.entries}
    assert list(entries) == KEYS

    lora = entries["hu2021lora"]
    assert lora.entry_type == "misc"
    assert read_title(lora) == LORA_TITLE
    assert lora["author"] == [
        "Hu, Edward J.",
        "Kaiser, Łukasz",
        "王伟",
        "van den Oord, Aäron",
    ]
    assert {name: lora[name] for name in ("year", "month", "eprint", "primaryClass", "doi")} == {
        "year": "2021",
        "month": "jun",
        "eprint": "2106.09685",
        "primaryClass": "cs.CL",
        "doi": "10.48550/arXiv.2106.09685",
    }
    assert lora["archivePrefix"] == "arXiv"
    assert lora["url"] == "https://arxiv.org/abs/2106.09685"
    assert unlatex(lora["abstract"]) == "We propose Low-Rank Adaptation. It freezes the weights."

    blog = entries["openai2022introducing"]
    assert blog.entry_type == "misc"
    assert blog["author"] == ["{OpenAI}"]  # braced: an institution, not Mr. OpenAI
    assert blog["howpublished"] == "Blog post"
    assert "eprint" not in blog.fields_dict

    transformer = entries["vaswani2017attention"]
    assert transformer.entry_type == "article"
    assert transformer["journal"] == "NeurIPS 2017"
    assert "primaryClass" not in transformer.fields_dict

    report = entries["hu2021loraa"]
    assert report.entry_type == "techreport"
    assert report["institution"] == "Microsoft Research"
    assert read_title(report) == "LoRA_Revisited: a *report*"
    assert report["month"] == "sep"


def test_a_large_bibtex_export_says_nothing_on_stderr(caplog: pytest.LogCaptureFixture) -> None:
    """bibtexparser logs a warning when it would deep-copy more than 10,000 entries."""
    lora = queue()[0]
    papers = [replace(lora, id=f"lora-{i}", citation_key=f"hu2021lora{i}") for i in range(10_001)]
    with caplog.at_level("WARNING"):
        text = export_papers(papers, "bibtex", exported_on=date(2026, 11, 2))
    assert caplog.records == []
    assert text.count("@misc{hu2021lora") == 10_001
    assert text.count("month = jun,") == 10_001


TITLE_PIECES = [
    *"\\{}&%$#_~^-`'<>,?!",
    *("$k$", "$x_{1}$", "$\\{$", "$\\alpha$", "\\input", "\\{", "5", "a", " "),
]
# What LaTeX must never be handed in a title, whoever wrote it: it reads or writes files,
# redefines the document or ends it.
NEVER_RUN = re.compile(r"\\(?:input|include|immediate|write|openin|openout|read|def|let|end)\b")


@given(st.lists(st.sampled_from(TITLE_PIECES), min_size=1, max_size=10).map("".join))
@example("Notes ${$")  # a "math" piece with a lone brace broke the whole file
@example("$50%$ off")  # % would comment out the closing braces
@example("$\\{$")  # BibTeX counts an escaped brace too
@example("a -- b ``c''")  # ligatures LaTeX would turn into a dash and curly quotes
@example("Set $\\{a}$ odd")  # its brace closed the title early for LaTeX and bibtexparser
@example("$\\input{/etc/hostname}$")  # LaTeX read the file
@example("$^$")  # nothing to raise: an error in LaTeX
def test_any_title_makes_an_entry_latex_reads_as_typed(title: str) -> None:
    """Each entry parses on its own, whole, with balanced braces, and LaTeX reads its title
    as the text typed: outside math, every special character and ligature is escaped or
    broken; what passes as math has braces LaTeX balances and runs no command of harm."""
    lora = replace(queue()[0], title=title)
    library = bibtexparser.parse_string(export("bibtex", [lora]))
    assert not library.failed_blocks
    [entry] = library.entries
    assert entry.fields_dict.keys() >= {"title", "author", "year", "eprint"}
    shown = entry["title"][1:-1]
    assert shown.count("{") == shown.count("}")
    pieces = re.split(r"((?<!\\)\$[^$]+(?<!\\)\$)", shown)  # math: $ not escaped
    text = "".join(p if i % 2 else unlatex(p) for i, p in enumerate(pieces))
    assert text == " ".join(title.split())
    for math in pieces[1::2]:
        unescaped = re.sub(r"\\.", "", math)
        assert unescaped.count("{") == unescaped.count("}"), math
        assert not NEVER_RUN.search(math), math
        assert not re.search(r"[%#&]|[\^_](?=[$}^_])", unescaped), math


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("$k$-NN in $\\mathcal{O}(n^2)$", "$k$-NN in $\\mathcal{O}(n^2)$"),
        ("$\\alpha$-divergence, $\\{a\\}$", "$\\alpha$-divergence, $\\{a\\}$"),
        ("$\\rm M_\\odot$ at $z \\sim 2$", "$\\rm M_\\odot$ at $z \\sim 2$"),
        ("How to Turn $5 into $10", "How to Turn \\$5 into \\$10"),
        (
            "Cheap $\\input{/etc/hostname}$ trick",
            "Cheap \\$\\textbackslash{}input\\textbraceleft{}/etc/hostname\\textbraceright{}\\$"
            " trick",
        ),
        ("Set $\\{a}$ odd", "Set \\$\\textbackslash{}\\textbraceleft{}a\\textbraceright{}\\$ odd"),
        ("$\\RR^n$", "{}\\$\\textbackslash{}RR\\textasciicircum{}n\\$"),  # an author's macro
    ],
    ids=["math", "greek-and-escaped-braces", "old-font-switch", "money", "input", "brace", "macro"],
)
def test_math_passes_to_latex_only_when_it_is_standard_math(title: str, shown: str) -> None:
    """Math as arXiv's titles write it passes through for LaTeX to render; dollars that are
    money, and math with a command LaTeX should not run for a title, are text."""
    text = export("bibtex", [replace(queue()[0], title=title)])
    assert f"\ttitle = {{{{{shown}}}}},\n" in text
    [entry] = bibtexparser.parse_string(text).entries
    assert entry.fields_dict.keys() >= {"title", "author", "year"}


@given(
    st.text(st.sampled_from("{}\\ ,%#=~a1/")),
    st.text(st.sampled_from("{}\\ ,%#a1/")),
    st.text(st.sampled_from("{}\\ ,=a.")),
)
@example("}", "x}y", "cs.CL}")  # one brace in a DOI lost the rest of the file
def test_any_stored_key_doi_url_or_category_makes_an_entry(
    key: str, tail: str, category: str
) -> None:
    """Values stored before they were checked as they came in (an import took any citation
    key, arXiv any category) still give an entry that parses, with balanced braces: what
    cannot stand in BibTeX is left out, a URL's characters are percent-escaped, and a key
    that is none is derived."""
    lora = replace(
        queue()[0],
        citation_key=key or None,
        doi="10.1000/" + tail,
        url="https://example.org/" + tail,
        primary_category=category or None,
    )
    library = bibtexparser.parse_string(export("bibtex", [lora]))
    assert not library.failed_blocks
    [entry] = library.entries
    assert entry.key == (key if names.is_citation_key(key) else "hu2021lora")
    for field in entry.fields:
        assert field.value.count("{") == field.value.count("}"), field
    lone_percents_escaped = re.sub("%(?![0-9A-Fa-f]{2})", "%25", tail)
    assert entry["url"] == "https://example.org/" + quote(lone_percents_escaped, safe="%,#=~/")
    assert entry.fields_dict.keys() >= {"title", "author", "eprint"}
    assert "doi" not in entry.fields_dict or is_doi(entry["doi"])


def test_bibtex_text_is_escaped_for_latex() -> None:
    text = export("bibtex")
    # Inline TeX math passes through for LaTeX and pandoc to render; the rest is escaped.
    assert r"title = {{LoRA: Low-Rank Adaptation \& 100\% of $W_0$ " in text
    assert "month = jun," in text  # the macro, unquoted, so styles print the month's name
    # pylatexenc, as used by bibtexparser's own decoder, reads the escapes the same way.
    entry = bibtexparser.parse_string(
        export("bibtex", queue()[3:]), append_middleware=[LatexDecodingMiddleware()]
    ).entries[0]
    assert entry["title"] == "LoRA_Revisited: a *report*"


# Names and titles as they come, with the characters that need escaping or collapsing.
PIECES = ["Le", "é", " ", "  ", "\\", "{", "&", "$k$", "_", "~", "\t", "\n", "\xa0", "\x85", "\x1b"]
LATEX_TEXT = st.one_of(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), st.text())


@given(LATEX_TEXT)
@example("Le  Cun")
@example(" Le")
@example("Le ")
@example("Le\xa0Cun")
@example("Le\x85Cun")
@example("k_1")
def test_text_that_needs_no_escaping_is_written_as_it_is(text: str) -> None:
    """The shortcut for plain text gives what the escaping would."""
    assert _latex(text) == _escaped_latex(text)


NAME_PART = st.one_of(
    st.just(""), LATEX_TEXT.filter(bool), st.sampled_from(["Le", "Le ", " Le", ","])
)
AUTHORS = st.lists(
    st.builds(
        Author,
        st.just("n"),
        family=NAME_PART.filter(bool),
        given=NAME_PART,
        suffix=NAME_PART,
        literal=st.booleans(),
    ),
    max_size=4,
)


@given(AUTHORS)
@example([Author("n", family="Le ", given="Quoc")])
@example([Author("n", family="Le", given=" Quoc")])
@example([Author("n", family="Le"), Author("n", family=" Cun")])
@example([Author("n", family="Le", given="Quoc "), Author("n", family="Cun")])
@example([Author("n", family="Le , Quoc")])
@example([Author("n", family="Le And"), Author("n", family="Cun", given="and")])
def test_author_field_that_needs_no_escaping_is_joined_as_it_is(authors: list[Author]) -> None:
    """The shortcut for a plain author list gives what escaping each name would."""
    assert _bibtex_names(authors) == " and ".join(_bibtex_name(a) for a in authors)


def test_bibtex_keeps_the_word_and_inside_a_name() -> None:
    """BibTeX and biber split the author list at every ``and`` between spaces, in any case:
    ``Procter and Gamble`` typed without braces made ``Lee, Ann and and Gamble, Procter``,
    four persons out of three, and every one after it off by one."""
    people = [Author("Ann Lee"), Author("Procter and Gamble"), Author("Ali AND Veli")]
    paper = Paper(id="x", title="T", short_name="x", year=2020, date="2020", authors=people)
    text = export("bibtex", [paper])
    (entry,) = bibtexparser.parse_string(text, append_middleware=[SeparateCoAuthors()]).entries
    assert entry["author"] == ["Lee, Ann", "{and} Gamble, Procter", "Veli, Ali {AND}"]


def test_bibtex_keeps_a_family_name_whole_that_bibtex_would_split() -> None:
    """BibTeX's rules take the words up to a family name's last lowercase one for its "von"
    part: ``Ponde de Oliveira Pinto`` was von ``Ponde de``, family ``Oliveira Pinto``, which
    biblatex prints as ``Oliveira Pinto, Henrique Ponde de``. A family name that starts
    with its particle (``van den Oord``) is left to the rules, which read it as meant."""
    people = [
        Author("n", family="Ponde de Oliveira Pinto", given="Henrique"),
        Author("n", family="van den Oord", given="Aäron"),
        Author("n", family="Sen Sharma", given="Arnab"),
    ]
    paper = Paper(id="x", title="T", short_name="x", year=2020, date="2020", authors=people)
    middleware = [SeparateCoAuthors(), SplitNameParts()]
    library = bibtexparser.parse_string(export("bibtex", [paper]), append_middleware=middleware)
    (entry,) = library.entries
    assert [(name.von, name.last, name.first) for name in entry["author"]] == [
        ([], ["{Ponde de Oliveira Pinto}"], ["Henrique"]),
        (["van", "den"], ["Oord"], ["Aäron"]),
        ([], ["Sen", "Sharma"], ["Arnab"]),
    ]


def test_bibtex_institutions_with_and_stay_whole() -> None:
    """biblatex reads ``institution`` as a list split at ``and``, as it reads authors:
    ``Center for Research and Development`` was two institutions."""
    orgs = ["Center for Research and Development", "Microsoft Research"]
    paper = replace(queue()[3], organizations=orgs)
    (entry,) = bibtexparser.parse_string(export("bibtex", [paper])).entries
    assert entry.entry_type == "techreport"
    assert entry["institution"] == "{Center for Research and Development} and Microsoft Research"


def test_bibtex_keys_are_ascii_and_fall_back_to_the_slug() -> None:
    papers = queue()
    papers[0].authors = [Author("Ångström Ørsted")]
    papers[2].authors = [Author("张伟")]  # nothing left in ASCII: the slug it is
    papers.append(Paper(id="lora", title="Again", short_name="x", year=2021, date="2021"))
    keys = [e.key for e in bibtexparser.parse_string(export("bibtex", papers)).entries]
    assert keys == ["orsted2021lora", "openai2022introducing", "transformer", "hu2021lora", "lora"]


def test_bibtex_protects_a_title_that_starts_with_a_macro() -> None:
    paper = Paper(id="x", title="$100 models", short_name="x", year=2020, date="2020")
    entry = bibtexparser.parse_string(export("bibtex", [paper])).entries[0]
    assert entry["title"] == r"{{}\$100 models}"
    assert read_title(entry) == "$100 models"


def test_a_findings_paper_names_its_volume_with_the_year() -> None:
    # The ACL Anthology's booktitle is "Findings of the Association for Computational
    # Linguistics: EMNLP 2022"; without the year it named no volume.
    paper = Paper(
        id="bidirectionality",
        title="On the Role of Bidirectionality in Language Model Pre-Training",
        short_name="x",
        year=2022,
        date="2022-05-24",
        venue="Findings of EMNLP 2022",
    )
    entry = bibtexparser.parse_string(export("bibtex", [paper])).entries[0]
    assert entry.entry_type == "inproceedings"
    assert entry["booktitle"] == (
        "Findings of the Association for Computational Linguistics: EMNLP 2022"
    )
    assert entry["year"] == "2022"
    [item] = json.loads(export("csl-json", [paper]))
    assert item["container-title"].endswith(": EMNLP 2022")
    main = replace(paper, venue="EMNLP 2020")
    entry = bibtexparser.parse_string(export("bibtex", [main])).entries[0]
    assert entry["booktitle"] == "Conference on Empirical Methods in Natural Language Processing"


def normalized(text: str) -> str:
    """What a BibTeX field can keep: one line, single spaces, no control characters."""
    kept = "".join(c for c in text if c.isspace() or unicodedata.category(c) != "Cc")
    return " ".join(kept.split())


@given(st.lists(st.text(), min_size=1, max_size=3))
def test_any_title_survives_bibtex(titles: list[str]) -> None:
    """A BibTeX field cannot keep line breaks or control characters; everything else survives."""
    papers = [
        Paper(id=f"p{i}", title=title, short_name="x", year=2020, date="2020-01-31")
        for i, title in enumerate(titles)
    ]
    library = bibtexparser.parse_string(export("bibtex", papers))
    assert not library.failed_blocks
    assert [read_title(entry) for entry in library.entries] == [normalized(t) for t in titles]


# --- CSL-JSON ------------------------------------------------------------------------------------


def test_csl_json_items() -> None:
    items = json.loads(export("csl-json"))
    assert [item["id"] for item in items] == KEYS
    assert [item["type"] for item in items] == [
        "article",
        "post-weblog",
        "article-journal",
        "report",
    ]
    lora, blog, transformer, report = items
    # Acronyms are kept from sentence-casing styles; TeX math and the rest pass as they are.
    assert lora["title"] == (
        '<span class="nocase">LoRA:</span> Low-Rank Adaptation & 100% of $W_0$ {frozen}'
    )
    assert lora["author"][:3] == [
        {"family": "Hu", "given": "Edward J."},
        {"family": "Kaiser", "given": "Łukasz"},
        {"family": "王伟"},
    ]
    assert lora["issued"] == {"date-parts": [[2021, 6, 17]]}
    assert (lora["publisher"], lora["number"]) == ("arXiv", "arXiv:2106.09685")
    assert lora["DOI"] == "10.48550/arXiv.2106.09685"
    assert lora["abstract"] == queue()[0].abstract
    assert blog["author"] == [{"literal": "OpenAI"}]
    assert "publisher" not in blog
    assert transformer["container-title"] == "NeurIPS 2017"
    assert report["issued"] == {"date-parts": [[2021, 9]]}
    assert report["publisher"] == "Microsoft Research"  # its institution, as in BibTeX


def test_csl_json_gives_the_arxiv_number_to_preprints_only() -> None:
    """A published paper's ``number`` is its number in the journal or proceedings: APA
    printed the arXiv id there ("Neurocomputing, Article arXiv:2104.09864")."""
    lora, _, transformer, _ = json.loads(export("csl-json"))
    assert lora["number"] == "arXiv:2106.09685"
    assert transformer["container-title"] == "NeurIPS 2017"
    assert "number" not in transformer
    assert "publisher" not in transformer


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Bounds for $k<n$ and $m > 2$", "Bounds for $k<n$ and $m > 2$"),
        ("Vec<T> in Rust", '<span class="nocase">Vec<T></span> in Rust'),
        # What citeproc-js and pandoc read as markup stays escaped, as it was.
        (
            "A <b>bold</b> <span class=x>claim</span>",
            "A &#60;b&#62;bold&#60;/b&#62; &#60;span class=x&#62;claim&#60;/span&#62;",
        ),
    ],
)
def test_csl_json_keeps_angle_brackets_that_are_no_markup(title: str, expected: str) -> None:
    """citeproc-js, pandoc and citeproc-py print ``&#60;`` as it is: a title's every ``<``
    was written so, and ``$k<n$`` was cited as ``$k&#60;n$``."""
    paper = Paper(id="p", title=title, short_name="p", year=2020, date="2020")
    (item,) = json.loads(export("csl-json", [paper]))
    assert item["title"] == expected


def test_csl_json_renders_with_citeproc() -> None:
    rendered = harvard(json.loads(export("csl-json")))
    for expected in ("Low-Rank Adaptation", "Hu, E.J.", "Kaiser", "OpenAI", "Vaswani", "2017"):
        assert expected in rendered


# --- CSV -----------------------------------------------------------------------------------------


def test_csv_reads_back_with_dictreader() -> None:
    text = export("csv")
    assert "\r" not in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["id"] for row in rows] == ["lora", "chatgpt", "transformer", "lora-revisited"]
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0] == {
        "id": "lora",
        "short_name": "LoRA",
        "title": LORA_TITLE,
        "authors": "Edward J. Hu; Łukasz Kaiser; 王伟; Aäron van den Oord",
        "venue": "",
        "year": "2021",
        "date": "2021-06-17",
        "kind": "paper",
        "organizations": "Microsoft",
        "topics": "fine-tuning; efficiency",
        "arxiv_id": "2106.09685",
        "url": "https://arxiv.org/abs/2106.09685",
        "pdf_url": "https://arxiv.org/pdf/2106.09685",
        "status": "read",
        "newer_version": "",
        "status_changed_at": "2026-11-01T09:30:00Z",
        "read_at": "2026-11-01T09:30:00Z",
        "queue_position": "",
        "tags": "peft; 必读",
        "notes": "2026-10-30T08:00:00Z: 读完了。\nKey idea: ΔW = BA. | "
        "2026-11-01T09:30:00Z: rank 4 is enough",
        "abstract": "We propose Low-Rank Adaptation.\nIt freezes the weights.",
    }
    assert rows[1]["queue_position"] == "1"
    assert rows[1]["authors"] == rows[1]["pdf_url"] == rows[1]["abstract"] == ""
    assert rows[2]["organizations"] == "Google Brain; Google Research"


# --- JSON ----------------------------------------------------------------------------------------


def parse_json_export(text: str) -> tuple[list[Paper], dict[str, list[dict[str, object]]]]:
    """What an import reads from ``text``: its papers, and each one's history by id."""
    list(read_ids(io.StringIO(text)))
    read = list(read_papers(io.StringIO(text)))
    return [paper for paper, *_ in read], {paper.id: history for paper, history, _ in read}


def test_json_round_trip_keeps_every_field_and_the_history() -> None:
    text = export("json", history=HISTORY, your_prerequisites=LINKS)
    document = json.loads(text)
    assert list(document) == ["format", "version", "exported_on", "papers"]
    assert document["exported_on"] == "2026-11-22"
    assert list(document["papers"][0])[:4] == ["id", "short_name", "title", "authors"]
    assert document["papers"][0]["history"] == HISTORY["lora"]
    assert document["papers"][0]["your_prerequisites"] == LINKS["lora"]
    assert [p["your_prerequisites"] for p in document["papers"][1:]] == [[], [], []]
    links = {paper.id: links for paper, _, links in read_papers(io.StringIO(text))}
    assert links["lora"] == [(x["id"], x["state"], x["at"]) for x in LINKS["lora"]]
    assert "读完了" in text  # ensure_ascii=False

    papers, history = parse_json_export(text)
    assert papers == queue()
    assert history == {
        "lora": HISTORY["lora"],
        "chatgpt": [],
        "transformer": [],
        "lora-revisited": [],
    }
    assert papers[0].authors[1].affiliations == ("Google Brain", "OpenAI")
    assert papers[0].status is ReadStatus.READ


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n  "format": "papercli-export",\n  oops\n}', "line 3"),
        ("[]", '"format": "papercli-export"'),
        ('{"format": "zotero"}', '"format": "papercli-export"'),
        ('{"format": "papercli-export", "version": 2, "papers": []}', "version 2"),
        # == 1 in Python, and taken as version 1 until 5 December: no version papercli writes.
        ('{"format": "papercli-export", "version": true, "papers": []}', "version True"),
        ('{"format": "papercli-export", "version": 1.0, "papers": []}', "version 1.0"),
        ('{"format": "papercli-export", "version": 1}', "missing required field papers"),
        (
            '{"format": "papercli-export", "version": 1, "papers": [{"id": "x"}]}',
            "papers[0]: object missing required field title",
        ),
    ],
)
def test_json_import_rejects_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(message)):
        parse_json_export(text)


def test_json_import_rejects_an_unknown_status() -> None:
    document = json.loads(export("json"))
    document["papers"][1]["status"] = "done"
    with pytest.raises(InvalidValueError, match=r"papers\[1\]\.status: invalid enum value 'done'"):
        parse_json_export(json.dumps(document))


# --- Markdown ------------------------------------------------------------------------------------


def test_markdown_checklist() -> None:
    assert export("markdown", title="My queue").splitlines() == [
        "# My queue",
        "",
        f"Exported 2026-11-22 · 4 papers · {LEGEND}",
        "",
        r"- [x] **LoRA** — LoRA: Low-Rank Adaptation & 100% of \$W\_0\$ {frozen} (2021)"
        " · Microsoft · [abs](https://arxiv.org/abs/2106.09685)"
        " · [pdf](https://arxiv.org/pdf/2106.09685)",
        "- [ ] **ChatGPT** — Introducing ChatGPT (2022) · OpenAI"
        " · [abs](https://openai.com/blog/chatgpt)",
        "- [/] **Transformer** — Attention Is All You Need (2017) · Google Brain, Google Research"
        " · [abs](https://arxiv.org/abs/1706.03762) · [pdf](https://arxiv.org/pdf/1706.03762)",
        r"- [x] ~~**LoRA revisited** — LoRA\_Revisited: a \*report\* (2021)~~"
        " · Microsoft Research · [pdf](https://example.org/lora%20%28revisited%29.pdf)",
    ]


@pytest.mark.parametrize(
    ("group_by", "headings"),
    [
        ("year", ["## 2021", "## 2022", "## 2017"]),
        ("topic", ["## fine-tuning", "## alignment", "## architecture", "## (no topic)"]),
    ],
)
def test_markdown_groups_follow_the_listing_order(group_by: str, headings: list[str]) -> None:
    lines = export("markdown", group_by=group_by).splitlines()
    assert [line for line in lines if line.startswith("## ")] == headings
    if group_by == "year":
        section = lines[lines.index("## 2021") : lines.index("## 2022")]
        assert [line[:12] for line in section if line.startswith("- ")] == [
            "- [x] **LoRA",
            "- [x] ~~**Lo",
        ]


@pytest.mark.parametrize("title", ["Queue #", "Queue ###", "C# and F# #2"])
def test_markdown_heading_keeps_its_hashes(title: str) -> None:
    """CommonMark takes the ``#`` at the end of a heading, after a space, for a closing
    sequence and drops it: ``--title "Queue #"`` was the heading ``Queue``."""
    from markdown_it import MarkdownIt  # rich's Markdown parser

    tokens = MarkdownIt("commonmark").parse(export("markdown", [], title=title))
    assert tokens[0].type == "heading_open"
    assert tokens[1].children is not None
    assert "".join(child.content for child in tokens[1].children) == title


def test_markdown_counts_one_paper() -> None:
    lines = export("markdown", queue()[:1]).splitlines()
    assert f"Exported 2026-11-22 · 1 paper · {LEGEND}" in lines


# --- RIS -----------------------------------------------------------------------------------------


def read_ris(text: str) -> list[list[tuple[str, str]]]:
    records: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if not line:
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line)
        assert match, line
        if match[1] == "ER":
            records.append([])
        else:
            records[-1].append((match[1], match[2]))
    assert records.pop() == []
    return records


def test_ris_records() -> None:
    text = export("ris")
    assert "\r" not in text
    records = read_ris(text)
    assert [record[0] for record in records] == [
        ("TY", "UNPB"),
        ("TY", "BLOG"),
        ("TY", "JOUR"),
        ("TY", "RPRT"),
    ]
    lora = records[0]
    assert [value for tag, value in lora if tag == "AU"] == [
        "Hu, Edward J.",
        "Kaiser, Łukasz",
        "王伟",
        "van den Oord, Aäron",
    ]
    assert dict(lora)["TI"] == LORA_TITLE
    assert [value for tag, value in lora if tag == "KW"] == [
        "fine-tuning",
        "efficiency",
        "peft",
        "必读",
    ]
    assert [value for tag, value in lora if tag == "N1"] == [
        "2026-10-30T08:00:00Z: 读完了。 Key idea: ΔW = BA.",
        "2026-11-01T09:30:00Z: rank 4 is enough",
    ]
    assert {tag: value for tag, value in lora if tag in ("ID", "PY", "DA", "L1", "DO", "PB")} == {
        "ID": "hu2021lora",
        "PY": "2021",
        "DA": "2021/06/17/",
        "L1": "https://arxiv.org/pdf/2106.09685",
        "DO": "10.48550/arXiv.2106.09685",
        "PB": "arXiv",
    }
    assert dict(records[1])["AU"] == "OpenAI"
    assert dict(records[2])["JO"] == "NeurIPS 2017"
    assert dict(records[3])["DA"] == "2021/09//"
    assert dict(records[3])["PB"] == "Microsoft Research"  # the report's institution


# --- All formats ---------------------------------------------------------------------------------


EMPTY = {
    "markdown": "# Reading list\n\nExported 2026-11-22 · 0 papers · `[x]` read · `[/]` reading"
    " · `[ ]` unread · ~~struck through~~ skipped\n",
    "csv": ",".join(CSV_COLUMNS) + "\n",
    "json": '{\n  "format": "papercli-export",\n  "version": 1,\n'
    '  "exported_on": "2026-11-22",\n  "papers": []\n}\n',
    "bibtex": "",
    "csl-json": "[]\n",
    "ris": "",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_handles_an_empty_list(fmt: str) -> None:
    assert export(fmt, []) == EMPTY[fmt]


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(InvalidValueError) as error:
        export("docx")
    assert error.value.message == (
        "unknown export format 'docx' (expected one of: markdown, csv, json, bibtex, csl-json, ris)"
    )


@pytest.mark.parametrize(
    ("fmt", "group_by", "message"),
    [
        ("markdown", "author", "cannot group by 'author' (expected one of: topic, year)"),
        ("csv", "year", "grouping only applies to markdown, not to csv"),
    ],
)
def test_grouping_is_checked(fmt: str, group_by: str, message: str) -> None:
    with pytest.raises(InvalidValueError) as error:
        export(fmt, group_by=group_by)
    assert error.value.message == message


def test_a_report_of_several_institutions_names_each_once() -> None:
    """CSL-JSON's ``publisher`` and RIS's ``PB`` are one field: the institutions are
    joined with ``; ``, which a comma in one of their names cannot be taken for."""
    report = replace(
        queue()[3], organizations=["University of California, Berkeley", "Microsoft Research"]
    )
    [item] = json.loads(export("csl-json", [report]))
    assert item["publisher"] == "University of California, Berkeley; Microsoft Research"
    [record] = read_ris(export("ris", [report]))
    assert dict(record)["PB"] == "University of California, Berkeley; Microsoft Research"
    assert "University of California, Berkeley; Microsoft Research." in harvard([item])


def harvard(items: list[dict[str, object]]) -> str:
    """The items' references as citeproc-py renders them in the Harvard style, a line each."""
    citeproc = pytest.importorskip("citeproc")
    from citeproc.source.json import CiteProcJSON

    style = citeproc.CitationStylesStyle("harvard-cite-them-right", validate=False)
    source = CiteProcJSON(items)
    bibliography = citeproc.CitationStylesBibliography(style, source, citeproc.formatter.plain)
    bibliography.register(citeproc.Citation([citeproc.CitationItem(i["id"]) for i in items]))
    return "\n".join(str(entry) for entry in bibliography.bibliography())
