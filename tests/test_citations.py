"""Citations a researcher can submit: who wrote each paper, where it appeared, stable keys,
and the shipped catalogue's whole bibliography read back by real citation processors."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import bibtexparser
import pytest
from typer.testing import Result

from papercli.export import person
from papercli.models import Author
from papercli.seed import load_catalogue
from tests.conftest import peak_megabytes

ROOT = Path(__file__).resolve().parents[1]
Run = Callable[..., Result]

# The papers whose first author is rightly an institution: GPT-4 (arXiv lists "OpenAI"),
# the ChatGPT announcement (a blog post without a byline) and ChatGLM (arXiv lists the
# collective "Team GLM" first, then its 57 members).
INSTITUTIONAL_FIRST = {"gpt-4", "chatgpt", "chatglm"}


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [
        ("Quoc V. Le", "Quoc V.", "Le"),
        ("Aidan N. Gomez", "Aidan N.", "Gomez"),
        ("Aäron van den Oord", "Aäron", "van den Oord"),
        ("Diego de Las Casas", "Diego", "de Las Casas"),
        ("Patrick von Platen", "Patrick", "von Platen"),
        ("Zeyuan Allen-Zhu", "Zeyuan", "Allen-Zhu"),
        ("Hyung Won Chung", "Hyung Won", "Chung"),
        ("  Jimmy   Ba ", "Jimmy", "Ba"),
    ],
)
def test_names_split_by_bibtex_rules(name: str, given: str, family: str) -> None:
    author = person(name)
    assert (author.given, author.family) == (given, family)
    assert author.name == " ".join(name.split())


def test_the_catalogue_splits_what_the_rules_get_wrong() -> None:
    cat = {p.id: p for p in load_catalogue(ROOT / "data" / "catalogue.toml").papers}
    by_name = {a.name: a for p in cat.values() for a in p.authors}
    assert by_name["Sheer El Showk"].family == "El Showk"
    assert (by_name["Robert L. Logan IV"].family, by_name["Robert L. Logan IV"].suffix) == (
        "Logan",
        "IV",
    )
    assert cat["gpt-4"].authors == [Author("OpenAI", family="OpenAI", literal=True)]
    transformer = [a.name for a in cat["transformer"].authors]
    assert (transformer[0], transformer[-1], len(transformer)) == (
        "Ashish Vaswani",
        "Illia Polosukhin",
        8,
    )


def test_every_catalogue_paper_has_authors_and_a_unique_key() -> None:
    papers = load_catalogue(ROOT / "data" / "catalogue.toml").papers
    assert all(p.authors and p.citation_key for p in papers)
    keys = [p.citation_key.lower() for p in papers if p.citation_key]
    assert len(set(keys)) == len(keys)
    first_institutions = {p.id for p in papers if p.authors[0].literal}
    assert first_institutions == INSTITUTIONAL_FIRST


def test_show_prints_every_author_and_the_venue(run: Run) -> None:
    result = run("show", "transformer")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert (
        "authors Ashish Vaswani, Noam Shazeer, Niki Parmar, Jakob Uszkoreit, Llion Jones,"
        " Aidan N. Gomez, Lukasz Kaiser, Illia Polosukhin venue NeurIPS 2017"
    ) in text
    assert "cite as vaswani2017attention" in text
    bert = run("show", "bert").stdout
    assert "10.18653/v1/N19-1423" in bert


def test_show_wraps_long_author_lists_between_names(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "70")
    result = run("show", "palm")
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 70
    start = next(i for i, line in enumerate(lines) if line.startswith("  authors"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith(" " * 18))
    block = [line[18:] for line in lines[start:end]]
    # Every line ends after a whole name: the 67 names come back from the wrapped lines.
    names = [n.strip() for n in " ".join(block).split(",")]
    assert len([n for n in names if n]) >= 60
    assert all(line.rstrip().endswith(",") for line in block[:-1] if line.strip())


def test_show_piped_without_columns_wraps_at_80_as_the_other_texts(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It wrapped at 100 (`next`, `path`, notes and `stats` at 80, as the README says)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    lines = run("show", "palm").stdout.splitlines()
    assert 70 < max(len(line) for line in lines if "https://" not in line) <= 80


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (["hinton"], {"layernorm", "sparse-moe"}),
        (["HINTON"], {"layernorm", "sparse-moe"}),
        (["roziere"], {"llama"}),  # Baptiste Rozière
        # Given names match as the start of the author's: "Quoc Le" is also "Quoc V. Le".
        (["Quoc Le"], {"sparse-moe", "transformer-xl", "flan", "glam", "lamda", "cot", "lion"}),
        (["quoc v. le"], {"transformer-xl", "flan", "glam", "lion"}),
        (["de las casas"], {"retro", "chinchilla"}),
        (["openai"], {"gpt-4", "chatgpt"}),
        (["dettmers", "hinton"], {"llm-int8", "qlora", "layernorm", "sparse-moe"}),
        (["nobody-at-all", "hinton"], {"layernorm", "sparse-moe"}),
    ],
)
def test_list_author_matches_family_or_full_names(
    run: Run, query: list[str], expected: set[str]
) -> None:
    args = [arg for name in query for arg in ("--author", name)]
    result = run("list", *args, "--format", "ids")
    assert result.exit_code == 0
    assert set(result.stdout.split()) == expected


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("hintn", "unknown author 'hintn'; did you mean 'Hinton'?"),
        ("rozire", "unknown author 'rozire'; did you mean 'Rozière'?"),  # as written
        ("nobody-at-all", "unknown author 'nobody-at-all'; see papercli authors"),
    ],
)
def test_an_author_no_paper_has_is_an_error_and_leaves_an_export_as_it_was(
    run: Run, tmp_path: Path, name: str, said: str
) -> None:
    """It selected nothing, exit 0: `export --author hintn -o refs.bib` emptied the file."""
    refs = tmp_path / "refs.bib"
    refs.write_text("mine\n")
    for command in (["list"], ["export", "-f", "bibtex", "-o", str(refs)]):
        result = run(*command, "--author", name)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {said}\n")
    assert refs.read_text() == "mine\n"
    both = run("list", "--author", name, "--author", "nobody-either")
    assert both.stderr == (
        "error: no paper has an author named by any of the 2 --author values;"
        " see papercli authors\n"
    )


@pytest.mark.parametrize(
    ("name", "query", "typed"),
    [
        ("张伟", "张伟", "Wei Zhang in Chinese"),
        ("Γιώργος Παπαδόπουλος", "ΠΑΠΑΔΟΠΟΥΛΟΣ", "Greek, in capitals and without accents"),
        ("Johann Strauß", "strauss", "a sharp s, as before"),
    ],
)
def test_an_author_written_in_any_script_is_found(
    run: Run, name: str, query: str, typed: str
) -> None:
    """Author keys kept ASCII only: 张伟's was empty, and no --author found a name with no
    Latin letter (`authors` and `search` did)."""
    added = run("add", "--title", "Notes on scripts", "--author", name, "--year", "2023")
    assert added.exit_code == 0, added.output
    found = run("list", "--author", query, "-f", "ids")
    assert (found.exit_code, found.stdout) == (0, "notes-scripts\n"), typed


def test_list_takes_thousands_of_authors_at_once(run: Run) -> None:
    """As a script may give them: 3,000 names no paper has, with two that some have."""
    names = [f"Nobody{i} Atall{i}" for i in range(3_000)] + ["hinton", "Quoc Le"]
    result = run("list", *[arg for name in names for arg in ("--author", name)], "-f", "ids")
    assert result.exit_code == 0, result.stderr
    assert set(result.stdout.split()) == {
        *("layernorm", "sparse-moe", "transformer-xl", "flan", "glam", "lamda", "cot", "lion")
    }


def test_list_json_and_csv_carry_authors_and_venue(run: Run, run_json) -> None:
    [lora] = run_json("list", "--search", "lora", "--year", "2021", "--format", "json")
    assert lora["authors"][:2] == ["Edward J. Hu", "Yelong Shen"]
    assert lora["venue"] == "ICLR 2022"
    csv_text = run("list", "--author", "hu", "--year", "2021", "--format", "csv").stdout
    assert "Edward J. Hu; Yelong Shen" in csv_text


def test_search_finds_papers_by_author(run: Run) -> None:
    result = run("search", "polosukhin", "--format", "json")
    assert [hit["id"] for hit in json.loads(result.stdout)] == ["transformer"]


def test_authors_counts_papers(run: Run, run_json) -> None:
    rows = run_json("authors", "--format", "json")
    sutskever = next(r for r in rows if r["name"] == "Ilya Sutskever")
    assert sutskever == {"name": "Ilya Sutskever", "family": "Sutskever", "papers": 8}
    assert rows[0]["papers"] == max(r["papers"] for r in rows)
    by_name = run_json("authors", "--sort", "name", "--format", "json")
    families = [r["family"].casefold() for r in by_name]
    assert families == sorted(families)


def test_authors_sort_as_python_folds_case_accents_included(run_json) -> None:
    """SQLite sorts the listing with Python's casefold, so "Rozière" and "Ö" sort as
    Python sorts them, not by SQLite's ASCII-only NOCASE."""
    for args, key in (
        ([], lambda r: (-r["papers"], r["family"].casefold(), r["name"].casefold(), r["name"])),
        (["--sort", "name"], lambda r: (r["family"].casefold(), r["name"].casefold(), r["name"])),
    ):
        rows = run_json("authors", *args, "--format", "json")
        assert rows == sorted(rows, key=key)
        assert any(not r["family"].isascii() for r in rows)  # the catalogue has such names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kB is Linux's")
def test_authors_are_listed_in_the_same_memory_however_many(synthetic, tmp_path: Path) -> None:
    """A library the size of arXiv has millions of authors: five times as many, about the
    same memory (sorted in Python, 46,259 authors took 91 MB as JSON)."""
    peaks = []
    for papers in (2_000, 10_000):
        db = tmp_path / f"{papers}.db"
        shutil.copyfile(synthetic[papers], db)
        with sqlite3.connect(db) as conn:  # every author someone else, as in a real library
            conn.execute("DROP TRIGGER paper_authors_search_update")  # search is not run here
            conn.execute("UPDATE paper_authors SET name = name || ' ' || paper_id || position")
        peaks.append(peak_megabytes("--db", str(db), "authors", "--format", "json"))
    assert peaks[1] - peaks[0] < 5, peaks


def _bibtex_entries(run: Run) -> dict[str, bibtexparser.model.Entry]:
    text = run("export", "--format", "bibtex").stdout
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return {e.key: e for e in library.entries}


def test_bibtex_of_the_catalogue_is_submittable(run: Run) -> None:
    entries = _bibtex_entries(run)
    transformer = entries["vaswani2017attention"]
    assert transformer.entry_type == "inproceedings"
    assert transformer["author"].startswith("Vaswani, Ashish and Shazeer, Noam and ")
    assert transformer["author"].endswith(" and Polosukhin, Illia")
    assert transformer["booktitle"] == "Advances in Neural Information Processing Systems"
    assert transformer["year"] == "2017"
    assert (transformer["eprint"], transformer["archivePrefix"]) == ("1706.03762", "arXiv")
    assert transformer["primaryClass"] == "cs.CL"
    on_arxiv = [e for e in entries.values() if "eprint" in e]
    assert len(on_arxiv) >= 70 and all("primaryClass" in e for e in on_arxiv)
    assert "others" not in " ".join(e["author"] for e in entries.values())
    t5 = entries["raffel2019exploring"]
    assert (t5.entry_type, t5["journal"]) == ("article", "Journal of Machine Learning Research")
    assert entries["devlin2018bert"]["doi"] == "10.18653/v1/N19-1423"
    assert entries["openai2023gpt"]["author"] == "{OpenAI}"  # {{OpenAI}} in the file
    assert entries["openai2023gpt"].entry_type == "misc"
    autoprompt = entries["shin2020autoprompt"]["author"]
    assert "Logan, IV, Robert L." in autoprompt
    for openai_report in ("radford2018improving", "radford2019language"):  # GPT-1, GPT-2
        assert entries[openai_report].entry_type == "techreport"
        assert entries[openai_report]["institution"] == "OpenAI"


def test_csl_json_protects_acronyms_and_names_people(run: Run) -> None:
    items = {i["id"]: i for i in json.loads(run("export", "--format", "csl-json").stdout)}
    glm = items["zeng2022glm"]
    assert glm["title"].startswith('<span class="nocase">GLM-130B:</span> An Open Bilingual')
    assert items["lee2023rlaif"]["title"].startswith(
        '<span class="nocase">RLAIF</span> vs. <span class="nocase">RLHF:</span>'
    )
    assert items["hu2021lora"]["author"][0] == {"family": "Hu", "given": "Edward J."}
    assert items["hu2021lora"]["container-title"] == (
        "International Conference on Learning Representations"
    )
    assert items["hu2021lora"]["type"] == "paper-conference"
    assert items["openai2023gpt"]["author"] == [{"literal": "OpenAI"}]
    gpt2 = items["radford2019language"]
    assert (gpt2["type"], gpt2["publisher"]) == ("report", "OpenAI")
    # A one-letter symbol, which sentence case lowercased ("q-functions").
    assert items["chebotar2023q"]["title"].endswith(
        'via Autoregressive <span class="nocase">Q-Functions</span>'
    )


def test_a_blog_post_names_its_site_unless_it_is_the_author(run: Run) -> None:
    items = {i["id"]: i for i in json.loads(run("export", "--format", "csl-json").stdout)}
    moe = items["sanseviero2023mixture"]
    assert (moe["type"], moe["container-title"]) == ("post-weblog", "Hugging Face")
    chatgpt = items["openai2022introducing"]  # OpenAI's post, by OpenAI: named once
    assert (chatgpt["author"], "container-title" in chatgpt) == ([{"literal": "OpenAI"}], False)
    records = run("export", "--format", "ris").stdout.split("\n\n")
    (moe_ris,) = [r for r in records if "ID  - sanseviero2023mixture" in r]
    assert "\nT2  - Hugging Face\n" in moe_ris
    (chatgpt_ris,) = [r for r in records if "ID  - openai2022introducing" in r]
    assert "T2  -" not in chatgpt_ris


def test_ris_has_one_au_per_person_and_the_venue(run: Run) -> None:
    text = run("export", "--search", "bert", "--year", "2018", "--format", "ris").stdout
    assert "AU  - Devlin, Jacob\nAU  - Chang, Ming-Wei\n" in text
    assert "T2  - Conference of the North American Chapter" in text
    assert "DO  - 10.18653/v1/N19-1423" in text


def test_citeproc_renders_the_whole_catalogue_with_people_first(run: Run) -> None:
    citeproc = pytest.importorskip("citeproc")
    from citeproc.source.json import CiteProcJSON

    items = json.loads(run("export", "--format", "csl-json").stdout)
    style = citeproc.CitationStylesStyle("harvard-cite-them-right", validate=False)
    source = CiteProcJSON(items)
    bibliography = citeproc.CitationStylesBibliography(style, source, citeproc.formatter.plain)
    bibliography.register(citeproc.Citation([citeproc.CitationItem(i["id"]) for i in items]))
    rendered = {str(entry).split(" (")[0]: entry for entry in bibliography.bibliography()}
    assert any(text.startswith("Hu, E.J.") and "LoRA" in str(e) for text, e in rendered.items())
    organizations = {"Google", "Microsoft", "Meta AI", "OpenAI", "Google DeepMind", "Anthropic"}
    first_authors = {
        i["id"]: (i["author"][0].get("family") or i["author"][0].get("literal")) for i in items
    }
    assert not {key for key, first in first_authors.items() if first in organizations} - {
        "openai2023gpt",
        "openai2022introducing",
    }


def test_pandoc_cites_the_transformer_as_vaswani_et_al(run: Run, tmp_path: Path) -> None:
    pandoc = shutil.which("pandoc")
    if pandoc is None:
        pytest.skip("pandoc is not installed")
    bib = tmp_path / "catalogue.bib"
    assert run("export", "--format", "bibtex", "-o", str(bib)).exit_code == 0
    out = subprocess.run(
        [pandoc, "--citeproc", f"--bibliography={bib}", "-t", "plain"],
        input="See @vaswani2017attention and @hu2021lora.\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Vaswani et al. (2017)" in out
    assert "Hu et al. (2022)" in out


def test_a_csl_json_file_not_named_json_gets_a_warning(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "refs.csl-json"
    result = run("export", "--format", "csl-json", "-o", str(target), "--year", "2017")
    assert result.exit_code == 0
    assert "warning: pandoc reads CSL-JSON only from a .json file; name it refs.json" in (
        result.stderr
    )
    assert json.loads(target.read_text(encoding="utf-8"))
    quiet = run("export", "--format", "csl-json", "-o", str(tmp_path / "refs.json"))
    assert "warning" not in quiet.stderr


def test_an_institution_is_found_as_add_takes_it_in_braces(run: Run) -> None:
    """`add --author "{Team GLM}"` takes an institution in braces; `--author "{OpenAI}"` was
    an unknown author, "did you mean 'openai'?"."""
    found = run("list", "--author", "{OpenAI}", "-f", "ids")
    assert (found.exit_code, set(found.stdout.split())) == (0, {"gpt-4", "chatgpt"})
