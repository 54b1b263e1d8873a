"""Importing: papercli JSON round trips, BibTeX matching, arXiv id lists, bad files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from papercli import paths
from papercli.models import VENUES, ArxivRecord, Author, Paper
from papercli.store import arxiv_meta, base, connection, library, papers, scratch


def _state(run) -> None:
    run("mark-read", "lora", "transformer")
    run("mark-reading", "qlora")
    run("note", "lora", "rank 8 is plenty")
    run("note", "lora", "低秩 note, with a newline\nsecond line")
    run("tag", "lora", "qlora", "+must-read")
    run("queue", "add", "dpo", "rag", "cot")
    run("mark-skipped", "rag")


def _add_user_paper(db: Path) -> None:
    """A paper added from arXiv, with fetched metadata, without the network."""
    conn = connection.open_database(db, paths.seed_path())
    paper = Paper(
        id="heat-bath",
        title="Heat-bath random walks with Markov bases",
        short_name="Heat-bath",
        year=2016,
        date="2016-05-26",
        arxiv_id="1605.08386",
        origin="user",
        topics=["survey"],
    )
    record = ArxivRecord(
        arxiv_id="1605.08386",
        version=2,
        title=paper.title,
        abstract="We study walks.",
        authors=[Author("Caprice Stanley", ("NC State",)), Author("Tobias Windisch")],
        published="2016-05-26T17:59:46Z",
        updated="2016-06-01T00:00:00Z",
        primary_category="math.CO",
        categories=["math.CO", "stat.CO"],
        dois=["10.1/x"],
        journal_ref=None,
        comment="12 pages",
        abs_url="https://arxiv.org/abs/1605.08386",
        pdf_url="https://arxiv.org/pdf/1605.08386",
    )
    with base.transaction(conn):
        papers.insert_paper(conn, paper)
        arxiv_meta.store_arxiv_record(conn, "heat-bath", record, "2026-01-01T00:00:00Z")
    library.queue_add(conn, ["heat-bath"])
    conn.close()


def _without_date(text: str) -> dict:
    data = json.loads(text)
    data.pop("exported_on")
    return data


def test_export_then_import_into_a_fresh_database_reproduces_everything(run, db_path, tmp_path):
    _state(run)
    _add_user_paper(db_path)
    exported = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(exported)).exit_code == 0

    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "import", str(exported))
    assert result.exit_code == 0, result.output
    assert "added: heat-bath" in result.stdout
    assert "restored: " in result.stdout and "lora" in result.stdout
    again = run("--db", str(fresh), "export", "--format", "json").stdout
    assert _without_date(again) == _without_date(exported.read_text(encoding="utf-8"))


def test_importing_twice_changes_nothing_more(run, run_json, tmp_path):
    _state(run)
    exported = tmp_path / "backup.json"
    run("export", "--format", "json", "-o", str(exported))
    result = run("import", str(exported))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "restored 0, added 0" in result.stderr
    assert len(run_json("history", "--format", "json")) == 4  # no duplicated history


def test_queue_leaves_out_the_papers_the_file_says_are_read(run, tmp_path):
    """`import --queue` queues what the file names, unless read: read in the file too."""
    _state(run)  # lora and transformer read, qlora reading
    exported = tmp_path / "backup.json"
    run("export", "--format", "json", "-o", str(exported))
    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "import", str(exported), "--queue")
    assert result.exit_code == 0, result.output
    queue = run("--db", str(fresh), "queue", "--format", "ids").stdout.split()
    assert "qlora" in queue and "dpo" in queue
    assert "lora" not in queue and "transformer" not in queue


def test_json_import_keeps_a_url_as_a_browser_sends_it(run, run_json, tmp_path):
    """A space or a brace in a URL is percent-escaped, as `add --url` escapes it, so the
    address works in BibTeX and Markdown; the paper's other values are as in the file."""
    document = json.loads(run("export", "--format", "json", "-s", "lora").stdout)
    [paper] = document["papers"] = [p for p in document["papers"] if p["id"] == "lora"]
    paper |= {"id": "mine", "arxiv_id": None, "citation_key": None}
    paper["url"] = "https://example.org/notes {draft} 1.pdf"
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    shown = run_json("show", "mine", "--format", "json")
    assert shown["url"] == "https://example.org/notes%20%7Bdraft%7D%201.pdf"
    assert shown["title"] == paper["title"]


BRACED_AUTHORS = r"""
@misc{team2023,
  title = {A Report by Many},
  author = {{Gemini Team} and {Barnes and Noble} and M{\"u}ller, Karl and Jane Doe},
  year = {2023},
  month = {13},
}
"""


def test_bibtex_names_in_braces_are_one_institution_each(run, run_json, tmp_path):
    """Persons are split as BibTeX splits them: `and` inside braces separates nothing, and
    a name in braces is an institution, written back in braces; a month that is none is
    left out with a warning."""
    bib = tmp_path / "team.bib"
    bib.write_text(BRACED_AUTHORS, encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 0, result.output
    assert "warning: team2023: left out month '13', not a month" in result.stderr
    [paper_id] = re.findall(r"added: (\S+)", result.stdout)
    shown = run_json("show", paper_id, "--format", "json")
    assert [a["name"] for a in shown["authors"]] == [
        "Gemini Team",
        "Barnes and Noble",
        "Karl Müller",
        "Jane Doe",
    ]
    assert shown["date"] == "2023"
    exported = run("export", "-s", "report by many", "--format", "bibtex").stdout
    assert "author = {{Gemini Team} and {Barnes and Noble} and Müller, Karl and Doe, Jane}" in (
        exported
    )


def test_a_title_with_a_soft_hyphen_comes_back_from_papercli_s_own_bibtex(run, run_json, tmp_path):
    """What an import or arXiv gave (a soft hyphen, a zero-width space) `add` and BibTeX
    import take too: the library's own BibTeX imports into a new library."""
    document = json.loads(run("export", "--format", "json", "-s", "lora").stdout)
    [paper] = document["papers"] = [p for p in document["papers"] if p["id"] == "lora"]
    paper |= {"id": "soft", "arxiv_id": None, "citation_key": None, "url": None}
    paper["title"] = "Low\u00adRank Adap\u200btation"
    path = tmp_path / "soft.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    bib = tmp_path / "soft.bib"
    assert run("export", "-s", "adap", "--format", "bibtex", "-o", str(bib)).exit_code == 0
    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "import", str(bib))
    assert result.exit_code == 0, result.output
    titles = [p["title"] for p in run_json("--db", str(fresh), "list", "--format", "json")]
    assert paper["title"] in titles


def test_a_dash_reads_the_file_from_stdin_and_writes_the_export_to_stdout(
    run, tmp_path, monkeypatch
):
    """As `add -` reads ids: until 3 December `import -` said "- does not exist" and
    `export -o -` wrote a file named "-"."""
    monkeypatch.chdir(tmp_path)
    _state(run)
    exported = run("export", "--format", "json", "-o", "-")
    assert exported.exit_code == 0, exported.output
    assert not (tmp_path / "-").exists()
    fresh = str(tmp_path / "fresh.db")
    result = run("--db", fresh, "import", "-", input=exported.stdout)
    assert result.exit_code == 0, result.output
    assert "restored: " in result.stdout
    again = run("--db", fresh, "export", "--format", "json").stdout
    assert _without_date(again) == _without_date(exported.stdout)
    bib = run("import", "-", "--format", "bibtex", "--dry-run", input=BIBTEX)
    assert bib.exit_code == 0, bib.output
    assert "would be added: 2401.00001" in bib.stdout


@pytest.mark.parametrize("text", ["", '{"format": "papercli-export"}\n', "% only a comment\n"])
def test_a_bibtex_file_without_an_entry_is_an_error(run, tmp_path, text):
    """A JSON file named .bib, or an empty one, said it had imported nothing, exit 0."""
    path = tmp_path / "refs.bib"
    path.write_text(text, encoding="utf-8")
    result = run("import", str(path))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the file holds no BibTeX entry (--format chooses how it is read);"
        " nothing was imported\n"
    )


@pytest.mark.parametrize("text", ["", "\n\n", "# to read later\n"])
def test_a_list_without_an_id_is_an_error(run, text):
    """As a BibTeX file without an entry, and `add -` of an empty stdin: it said it had
    imported nothing, exit 0."""
    result = run("import", "-", input=text)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: the file names no arXiv id (one a line; # starts a comment); nothing was imported\n"
    )


def test_dry_run_changes_nothing(run, tmp_path):
    _state(run)
    exported = tmp_path / "backup.json"
    run("export", "--format", "json", "-o", str(exported))
    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "import", str(exported), "--dry-run")
    assert result.exit_code == 0
    assert "would be restored:" in result.stdout
    assert "dry run, nothing changed" in result.stderr
    status = json.loads(run("--db", str(fresh), "show", "lora", "--format", "json").stdout)
    assert status["status"] == "unread"


def test_malformed_json_imports_nothing(run, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "papercli-export",\n "version": 1,\n "papers": [\n')
    result = run("import", str(bad))
    assert result.exit_code == 1
    assert "line" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


BIBTEX = r"""
@misc{hu2021lora,
  title = {{LoRA}: Low-Rank Adaptation of Large Language Models},
  eprint = {2106.09685},
  archivePrefix = {arXiv},
}
@inproceedings{vaswani,
  title = {Attention Is All You Need},
  year = {2017},
}
@book{knuth,
  title = {The {\TeX}book},
  year = {1984},
}
@misc{new2024,
  title = {Something New},
  url = {https://arxiv.org/abs/2401.00001v2},
}
"""


def test_bibtex_entries_are_matched_and_new_arxiv_papers_listed(run, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(BIBTEX)
    result = run("import", str(bib), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be added: 2401.00001" in result.stdout
    assert "skipped (no arXiv id, matches no paper): knuth" in result.stderr
    assert "already there 2" in result.stderr


def test_bibtex_matches_can_be_queued(run, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(BIBTEX.split("@book")[0])
    result = run("import", str(bib), "--queue")
    assert result.exit_code == 0, result.output
    assert run("queue", "--format", "csv").stdout.count("\n") == 3  # header + 2


def test_malformed_bibtex_names_the_line(run, tmp_path):
    bib = tmp_path / "bad.bib"
    bib.write_text("@misc{ok, title = {Fine}}\n\n@misc{broken,\n  title = {Unclosed\n")
    result = run("import", str(bib))
    assert result.exit_code == 1
    assert "line 3: malformed BibTeX" in result.stderr


def test_id_list_with_a_bad_line_imports_nothing(run, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("# my list\n2106.09685\nnot-an-id\n")
    result = run("import", str(ids))
    assert result.exit_code == 1
    assert "line 3: 'not-an-id' is not an arXiv id" in result.stderr


def test_a_file_without_line_breaks_is_refused_without_being_held(run, tmp_path):
    """A disk image of zeros read as a list of ids was one line held whole."""
    image = tmp_path / "disk.img"
    image.write_bytes(b"2106.09685\n" + b"\0" * 1_000_000)
    result = run("import", str(image))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: line 2 is longer than 4,096 characters: no list of arXiv ids;"
        " nothing was imported\n"
    )


@pytest.mark.parametrize(
    ("tail", "line"),
    [(("x" * 100 + "\n") * 20, 11), ("\0" * 5000, 2)],
    ids=["lines", "one line"],
)
def test_a_bib_file_that_goes_on_without_entries_is_refused_unheld(
    run, tmp_path, monkeypatch, tail, line
):
    """A disk image named .bib was held whole, as one block: a block may hold at most
    LONGEST_BLOCK characters (here 1,000)."""
    from papercli import importing

    monkeypatch.setattr(importing, "LONGEST_BLOCK", 1000)
    bib = tmp_path / "image.bib"
    bib.write_text("@misc{lora, eprint = {2106.09685}}\n" + tail)
    result = run("import", str(bib))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: line {line}: more than 1,000 characters without an entry's start:"
        " not BibTeX; nothing was imported\n"
    )


def test_id_list_dry_run(run, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("https://arxiv.org/abs/2106.09685  # lora\narXiv:2401.00001\n\n")
    result = run("import", str(ids), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout == "would be added: 2401.00001\n"
    assert "already there 1" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["import", "/no/such/file.json"], 1, "does not exist"),
        (["import", ".", "--format", "json"], 1, "is a directory"),
        (["import", "x.json", "--format", "docx"], 2, "bibtex"),
    ],
)
def test_bad_import_arguments(run, args, code, message):
    result = run(*args)
    assert result.exit_code == code
    assert message in result.stderr


def test_an_export_from_before_curated_authors_imports_with_split_names(run, tmp_path):
    """Version 1 exports written before authors were curated: `authors` held arXiv's list,
    names only. The paper gets those as its authors, split, and a citation key."""
    old = {
        "format": "papercli-export",
        "version": 1,
        "exported_on": "2026-06-01",
        "papers": [
            {
                "id": "mamba",
                "short_name": "Mamba",
                "title": "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
                "year": 2023,
                "date": "2023-12-01",
                "kind": "paper",
                "arxiv_id": "2312.00752",
                "status": "read",
                "authors": [
                    {"name": "Albert Gu", "affiliations": ["CMU"]},
                    {"name": "Tri Dao", "affiliations": []},
                ],
                "history": [],
            }
        ],
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    shown = json.loads(run("show", "mamba", "--format", "json").stdout)
    assert [(a["given"], a["family"]) for a in shown["authors"]] == [
        ("Albert", "Gu"),
        ("Tri", "Dao"),
    ]
    assert shown["citation_key"] == "gu2023mamba"
    assert shown["status"] == "read"


def test_id_list_queues_the_papers_already_there_too(run, tmp_path):
    """``--queue`` queues what the file names, whether it adds it or finds it there (as
    for BibTeX and JSON), but not a paper already read."""
    run("mark-read", "dpo")
    ids = tmp_path / "ids.txt"
    ids.write_text("2106.09685\n2305.18290\n")  # LoRA, DPO
    result = run("import", str(ids), "--queue")
    assert result.exit_code == 0, result.output
    assert result.stdout == "queued: lora\n"
    assert "already there 2" in result.stderr
    assert run("queue", "--format", "ids").stdout == "lora\n"


@pytest.mark.parametrize("chunk", [1, 2, scratch.CHUNK])
@pytest.mark.parametrize(
    "name, text",
    [
        ("ids.txt", "2106.09685\n2401.00001\n1706.03762\n2106.09685\n2305.18290\n"),
        (
            "refs.bib",
            "@misc{a, eprint = {2106.09685}}\n@misc{b, eprint = {2401.00001}}\n"
            "@misc{c, doi = {10.18653/v1/N19-1423}}\n"
            "@misc{d, title = {Attention Is All You Need}}\n"
            "@misc{e, url = {https://arxiv.org/abs/2305.18290}}\n",
        ),
    ],
)
def test_imports_look_arxiv_ids_up_a_chunk_at_a_time(run, tmp_path, monkeypatch, chunk, name, text):
    """Whatever the chunk, each line or entry finds its paper (by arXiv id, else DOI or
    title), in the file's order, and an id no paper holds is one to add."""
    monkeypatch.setattr(scratch, "CHUNK", chunk)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run("import", "--dry-run", "--queue", str(path))
    assert result.exit_code == 0, result.output
    queued = "lora, bert, transformer, dpo" if name == "refs.bib" else "lora, transformer, dpo"
    assert result.stdout == f"would be added: 2401.00001\nwould be queued: 2401.00001, {queued}\n"


def _exported_like(template: dict, **changes: object) -> dict:
    """A paper as an export holds it: ``template``'s fields with ``changes``."""
    paper = {**template, "aliases": [], "prerequisites": [], "origin": "user", **changes}
    arxiv_id = paper["arxiv_id"]
    paper["url"] = f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None
    paper["pdf_url"] = f"https://arxiv.org/pdf/{arxiv_id}" if arxiv_id else None
    return paper


@pytest.mark.parametrize("chunk", [1, 2, scratch.CHUNK])
def test_json_import_finds_the_papers_it_added_earlier_in_the_file(
    run, run_json, tmp_path, monkeypatch, chunk
):
    """Papers are added a chunk at a time, yet each paper is matched as if every one before
    it were in the database: by an arXiv id added earlier in the file, by an id given to
    one added earlier, and citation keys stay unique among them; undo takes all of them
    out and redo brings them back as they were."""
    monkeypatch.setattr(scratch, "CHUNK", chunk)
    (lora,) = json.loads(run("export", "--format", "json", "--search", "LoRA: Low-Rank").stdout)[
        "papers"
    ]
    read = {"status": "read", "status_changed_at": "2026-01-02T00:00:00Z"}
    read["history"] = [
        {"old_status": "unread", "new_status": "read", "changed_at": "2026-01-02T00:00:00Z"}
    ]
    walk = {"title": "Random walks", "citation_key": "walk2026", "arxiv_id": "2601.00001"}
    exported = [
        _exported_like(lora, id="walk-a", short_name="WalkA", **walk),
        _exported_like(lora, id="walk-b", short_name="WalkB", **walk, **read),
        _exported_like(lora, title="Another LoRA", arxiv_id="2601.00002"),
        _exported_like(lora, id="lora-2", short_name="L2", arxiv_id=None, tags=["later"]),
        _exported_like(lora, id="walk-c", short_name="WalkC", **{**walk, "arxiv_id": "2601.00003"}),
        _exported_like(lora, id="bert", short_name="B1", title="Bert again", arxiv_id="2601.00004"),
        _exported_like(lora, id="bert-2", short_name="B2", title="Bert 2", arxiv_id="2601.00005"),
    ]
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps({"format": "papercli-export", "version": 1, "papers": exported}))

    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    assert "added: walk-a, lora-2, walk-c, bert-2, bert-2-2\n" in result.stdout

    def added() -> list[dict]:
        every = run_json("export", "--format", "json")["papers"]  # type: ignore[index]
        ours = ("lora-2", "walk-a", "walk-b", "walk-c", "bert-2", "bert-2-2")
        return sorted((p for p in every if p["id"] in ours), key=lambda paper: paper["id"])

    after = added()
    assert [(p["id"], p["arxiv_id"], p["citation_key"], p["status"], p["tags"]) for p in after] == [
        ("bert-2", "2601.00004", "hu2021bert", "unread", []),
        ("bert-2-2", "2601.00005", "hu2021berta", "unread", []),
        ("lora-2", "2601.00002", "hu2021another", "unread", ["later"]),
        ("walk-a", "2601.00001", "walk2026", "read", []),
        ("walk-c", "2601.00003", "hu2021random", "unread", []),
    ]
    assert run("show", "walk-b").exit_code != 0
    assert run("undo").exit_code == 0
    assert added() == []
    assert run("show", "lora").exit_code == 0  # the catalogue's LoRA stays
    assert run("redo").exit_code == 0
    assert added() == after


def test_bibtex_values_joined_with_hash_are_read_as_one_text(run, tmp_path):
    """bibtexparser leaves ``a # b`` as written; papercli joins the parts (braced, quoted,
    numbers, @strings) as BibTeX does, in an @string too, and a ``#`` inside braces stays
    a character."""
    bib = tmp_path / "joined.bib"
    bib.write_text(
        "@string{LoRA = {{LoRA}: Low-Rank Adaptation}}\n"
        "@string{series = lora # { series}}\n"
        "@misc{series, title = Series, author = {Doe, Jane}, year = 2025}\n"
        "@misc{notes, title = {Field notes on } # lora, author = {Doe, Jane}, year = 2026}\n"
        '@misc{cs, title = "Notes" # " on " # {C\\# in } # 2024,'
        " author = {Roe, R.}, year = 2024}\n"
        "@misc{hash, title = {A # B and C#}, author = {Roe, R.}, year = 2024}\n"
        "@misc{odd, title = {Left} # , author = {Roe, R.}, year = 2024}\n",
        encoding="utf-8",
    )
    result = run("import", str(bib))
    assert result.exit_code == 0, result.output
    listed = json.loads(run("list", "--since", "2024", "--format", "json").stdout)
    titles = {paper["title"] for paper in listed}
    assert {
        "Field notes on LoRA: Low-Rank Adaptation",
        "LoRA: Low-Rank Adaptation series",
        "Notes on C# in 2024",
        "A # B and C#",
        "Left #",  # a part missing: kept as written (its braces dropped)
    } <= titles


def test_a_json_export_with_papers_known_by_their_year_imports_back(run, tmp_path):
    """A paper typed in with `--year 2015`, or read from BibTeX without a month, has only
    a year for its date; the JSON import took only YYYY-MM and YYYY-MM-DD, so a backup
    of such a library could not be restored ("papers[1].date: expected ...")."""
    added = run("add", "--title", "Deep Learning", "--author", "Yann LeCun", "--year", "2015")
    assert added.exit_code == 0, added.output
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{old, title = {An Old Report}, author = {Ada Lovelace}, year = 1843}\n")
    assert run("import", str(bib)).exit_code == 0
    backup = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(backup)).exit_code == 0
    fresh = str(tmp_path / "fresh.db")
    restored = run("--db", fresh, "import", str(backup))
    assert restored.exit_code == 0, restored.output
    dates = {
        paper["title"]: paper["date"]
        for paper in json.loads(run("--db", fresh, "list", "--format", "json").stdout)
    }
    assert (dates["Deep Learning"], dates["An Old Report"]) == ("2015", "1843")


LONG = "a" * 1001


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--author", f"Ann {LONG}"], "--author: a name has at most 1,000 characters"),
        (["--url", f"https://example.org/{LONG}"], "--url has at most 1,000 characters"),
        (["--doi", f"10.1234/{LONG}"], "--doi has at most 1,000 characters"),
        (["--id", LONG], "an id has at most 1,000 characters"),
        (
            ["--url", "https://example.org/\x1b"],
            "--url 'https://example.org/\\x1b': only http(s) addresses of printable text are kept",
        ),
        (["--doi", "10.1234/\x07"], "--doi '10.1234/\\x07' is not a DOI (10.NNNN/...)"),
        # One brace in a DOI made the BibTeX export unreadable from there on.
        (["--doi", "10.1234/x}y"], "--doi '10.1234/x}y' is not a DOI (10.NNNN/...)"),
    ],
    ids=["author", "url", "doi", "id", "url-with-a-control", "doi-with-a-control", "doi-brace"],
)
def test_a_paper_typed_in_that_a_backup_could_not_hold_is_refused(run, args, said):
    """Each was taken, and made the library's own JSON backup impossible to import."""
    given = {"--author": "Ann Lee", **dict(zip(args[::2], args[1::2], strict=True))}
    typed = [part for option, value in given.items() for part in (option, value)]
    result = run("add", "--title", "Field Notes", "--year", "2020", *typed)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {said}\n")


def test_a_day_that_is_not_in_the_calendar_is_refused_or_cut_back_to_its_month(
    run, run_json, tmp_path
):
    """Until 3 December `add --year 2021-02-30` and a BibTeX `date = {2021-02-30}` were
    stored as typed (the day was only checked to be 01-31), and cited so."""
    typed = run("add", "--title", "Field Notes", "--author", "Ann Lee", "--year", "2021-02-30")
    assert (typed.exit_code, typed.stderr) == (
        1,
        "error: '2021-02-30' is not a day of the calendar\n",
    )
    bib = tmp_path / "leap.bib"
    bib.write_text("@article{k, title = {Leap}, author = {Lee, Ann}, date = {2021-02-29}}\n")
    refused = run("import", str(bib))
    assert refused.exit_code == 1
    assert "'2021-02-29' is not a day of the calendar" in refused.stderr
    leap_day = run("add", "--title", "Leap Notes", "--author", "Ann Lee", "--year", "2020-02-29")
    assert leap_day.exit_code == 0, leap_day.output
    # An export made before then still imports, its day cut back to the month, and says so.
    document = json.loads(run("export", "--format", "json").stdout)
    [leap] = [p for p in document["papers"] if p["id"] == "leap-notes"]
    assert leap["date"] == "2020-02-29"  # a day that is
    path = tmp_path / "old.json"
    path.write_text(json.dumps({**document, "papers": [{**leap, "date": "2020-02-30"}]}))
    imported = run("--db", str(tmp_path / "other.db"), "import", str(path))
    assert imported.exit_code == 0, imported.output
    assert "warning: leap-notes: 2020-02-30 is no day; kept 2020-02" in imported.stderr
    shown = run_json("--db", str(tmp_path / "other.db"), "show", "leap-notes", "--format", "json")
    assert shown["date"] == "2020-02"


@pytest.mark.parametrize("author", ["\r", "{ }", "{}", " \t"])
def test_an_author_of_only_space_or_braces_is_no_author(run, author):
    """A carriage return passed the check that braces made for `{Team GLM}`, and the
    paper got an author with an empty name, which sync then refused (found by the
    round-trip property test)."""
    result = run("add", "--title", "Field Notes", "--author", author, "--year", "2024")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == 'error: give each author with --author "Given Family" (at least one)\n'


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (
            "title = {T}, author = {A\x01a, B}",
            "author 'B A\\x01a' must be one line of text, without control characters",
        ),
        (
            "title = {T\x01}, author = {Lee, Bo}",
            "title must be one line of text, at most 1,000 characters, without control characters",
        ),
    ],
    ids=["author", "title"],
)
def test_a_bibtex_entry_that_cannot_be_a_paper_names_its_field(
    run, db_path, tmp_path, fields, said
):
    """The entry's errors spoke of `add`'s options (`give each author with --author`) and
    of no author at all, where one name held a control character."""
    assert run("list", "--limit", "1").exit_code == 0  # the library, made from the seed
    before = db_path.read_bytes()
    bib = tmp_path / "refs.bib"
    bib.write_text(f"@misc{{k1, {fields}, year = 2020}}\n")
    result = run("import", str(bib))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: entry 'k1': {said}; nothing was imported\n"
    assert db_path.read_bytes() == before
    typed = run("add", "--title", "T", "--author", "A\x01a", "--year", "2020")
    assert typed.stderr == (
        "error: --author 'A\\x01a' must be one line of text, without control characters\n"
    )


@pytest.mark.parametrize(
    ("author", "shown"),
    [(", Ann", ", Ann"), (",", ","), ("Ann,", "Ann,"), (" , Ann", ", Ann"), (", , ", ", ,")],
)
def test_a_name_with_nothing_before_or_after_its_comma_is_refused(
    run, db_path, tmp_path, author, shown
):
    """BibTeX's rules find no family name in `, Ann`: `add` cited the author as family
    name `, Ann`, given name `Ann`, and a BibTeX or JSON import took it too."""
    typed = run("add", "--title", "Field Notes", "--author", author, "--year", "2024")
    said = f'--author {shown!r}: give "Given Family" or "Family, Given", with a name on each'
    assert (typed.exit_code, typed.stdout) == (1, "")
    assert typed.stderr == f"error: {said} side of the comma\n"
    before = db_path.read_bytes()
    bib = tmp_path / "refs.bib"
    bib.write_text(
        f"@article{{k, title = {{Notes}}, author = {{Lee, Bo and {author}}}, year = 2024}}"
    )
    imported = run("import", str(bib))
    assert (imported.exit_code, imported.stdout) == (1, "")
    assert imported.stderr == (
        f"error: entry 'k': author {shown!r} has no family name, or nothing after its comma"
        " (give 'Family, Given'); nothing was imported\n"
    )
    document = json.loads(run("export", "--format", "json").stdout)
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    paper = _exported_like(lora, id="typed", arxiv_id=None, citation_key=None)
    paper["authors"] = [{"name": author}]
    path = tmp_path / "typed.json"
    path.write_text(json.dumps({**document, "papers": [paper]}))
    imported = run("import", str(path))
    assert (imported.exit_code, imported.stdout) == (1, "")
    assert imported.stderr == (
        f"error: papers[0].authors: {author!r} has no family name, or"
        " nothing after its comma; nothing was imported\n"
    )
    assert db_path.read_bytes() == before


def test_a_url_typed_in_keeps_what_a_url_cannot_hold_percent_escaped(run, run_json):
    """As a browser sends it: a brace in one made the BibTeX export unreadable."""
    url = "https://example.org/my notes/{v2}.pdf?at=95%&q=a%2Fb"
    added = run(
        "add", "--title", "Field Notes", "--author", "Ann Lee", "--year", "2020", "--url", url
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("added field-notes: ")
    shown = run_json("show", "field-notes", "--format", "json")
    # A % that starts no escape is one itself: `95%&` was kept, an address no parser takes.
    assert shown["url"] == "https://example.org/my%20notes/%7Bv2%7D.pdf?at=95%25&q=a%2Fb"


def test_a_long_name_makes_a_citation_key_a_backup_holds(run, tmp_path):
    """A family name of 900 letters made a 910-character key (and 1,000 would have made
    one over what an import takes): a key takes at most 60 characters of the name."""
    added = run("add", "--title", "Short notes", "--author", f"Ann {'b' * 900}", "--year", "2020")
    assert added.stdout.endswith(f"cite as {'b' * 60}2020short\n"), added.output
    backup = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(backup)).exit_code == 0
    assert run("--db", str(tmp_path / "fresh.db"), "import", str(backup)).exit_code == 0


@pytest.mark.parametrize("date", ["٢٠١٥-01", "2015-13", "2015-02-30x", "15", "2015-1"])
def test_a_json_paper_date_in_another_form_is_refused(run, tmp_path, date):
    document = json.loads(run("export", "--format", "json").stdout)
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    lora.update(id="typed", arxiv_id=None, date=date, year=2015, origin="user", citation_key=None)
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({**document, "papers": [lora]}), encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 1, result.output
    assert "date: expected YYYY-MM-DD, YYYY-MM or YYYY" in result.stderr


def test_bibtex_export_of_a_paper_typed_in_imports_back_as_it_was(run, tmp_path):
    """papercli's BibTeX writes ``~``, ``^``, braces and backslashes as LaTeX commands, and a
    file from elsewhere writes accents so (``M{\\"u}ller``): they are read back as the
    characters, so the paper matches itself on a second import; a URL keeps its ``%``."""
    title = r"Cost ~ 10% less: {braces} & C_1 \ back, $k$-NN, 2^n #1"
    added = run("add", "--title", title, "--author", "Jürgen Müller", "--year", "2020")
    assert added.exit_code == 0, added.output
    exported = tmp_path / "mine.bib"
    assert run("export", "--format", "bibtex", "-o", str(exported)).exit_code == 0
    assert r"\textasciitilde{}" in exported.read_text(encoding="utf-8")
    with exported.open("a", encoding="utf-8") as file:
        file.write(
            '\n@misc{elsewhere, title = {{\\"U}ber {\\em fast} tokenizers},'
            ' author = {M{\\"u}ller, J.}, year = 2021, url = {https://example.org/a%20b}}\n'
        )
    fresh = str(tmp_path / "fresh.db")
    result = run("--db", fresh, "import", str(exported))
    assert result.exit_code == 0, result.output
    listed = json.loads(run("--db", fresh, "list", "--since", "2020", "--format", "json").stdout)
    by_title = {paper["title"]: paper for paper in listed}
    assert by_title[title]["authors"] == ["Jürgen Müller"]  # exported as "Müller, Jürgen"
    assert by_title["Über fast tokenizers"]["authors"] == ["J. Müller"]
    shown = run("--db", fresh, "show", by_title["Über fast tokenizers"]["id"], "--format", "json")
    assert json.loads(shown.stdout)["url"] == "https://example.org/a%20b"
    again = run("--db", fresh, "import", str(exported))
    assert again.stderr.endswith("added 0, already there 78, not found 0, failed 0, skipped 0\n")


def test_a_per_cent_sign_beside_latex_keeps_the_rest_of_the_title_and_authors(run, tmp_path):
    """pylatexenc reads ``%`` as LaTeX's comment: a title with an accent and ``95%`` was
    stored as "Reaching 95", and the authors after it were lost, without a word."""
    bib = tmp_path / "percent.bib"
    bib.write_text(
        '@misc{ml2,\n  title={Reaching 95% accuracy\n         on the M{\\"u}ller benchmark},\n'
        '  author={M{\\"u}ller, Hans-50% and Roe, Richard},\n  year={2020}\n}\n',
        encoding="utf-8",
    )
    added = run("import", str(bib))
    assert added.exit_code == 0, added.output
    listed = json.loads(run("list", "--since", "2020", "--format", "json").stdout)
    [paper] = [paper for paper in listed if paper["title"].startswith("Reaching")]
    assert paper["title"] == "Reaching 95% accuracy on the Müller benchmark"
    assert paper["authors"] == ["Hans-50% Müller", "Richard Roe"]
    # After LaTeX's line break `\\` a per cent sign is bare too (it cut "25% done" off).
    bib.write_text(
        "@misc{k3, title = {Half 50\\\\% done \\textbf{now}}, author = {Roe, Rita}, year = 2020}\n",
        encoding="utf-8",
    )
    assert run("import", str(bib)).exit_code == 0
    listed = json.loads(run("list", "--since", "2020", "--format", "json").stdout)
    assert [p["title"] for p in listed if p["title"].startswith("Half")] == ["Half 50 % done now"]


def test_a_json_paper_whose_key_is_taken_here_says_what_it_is_cited_as(run, tmp_path):
    """A paper from another machine whose key another paper holds here was given a new key
    in silence: a document written there, built with this machine's .bib, cited the other
    paper and LaTeX said nothing."""
    there = str(tmp_path / "there.db")
    for db, title in ((there, "Deep Widgets"), (None, "Deep Gadgets")):
        where = ["--db", db] if db else []
        added = run(*where, "add", "--title", title, "-a", "John Smith", "--year", "2020")
        assert added.exit_code == 0, added.output
    exported = tmp_path / "there.json"
    assert run("--db", there, "export", "-f", "json", "-o", str(exported)).exit_code == 0
    result = run("import", str(exported))
    assert result.exit_code == 0, result.output
    assert "warning: deep-widgets: cited as smith2020deepa, its key smith2020deep being taken" in (
        result.stderr
    )
    bib = run("export", "-f", "bibtex", "--since", "2020").stdout
    assert "@misc{smith2020deep,\n\ttitle = {{Deep Gadgets}}" in bib


def test_and_others_in_a_bibtex_author_list_is_no_person(run, tmp_path):
    """``Doe, Jane and others`` gave the paper a co-author named "others": `{"family":
    "others"}` in CSL-JSON, `AU  - others` in RIS, "Jane Doe, others" in `show`. It is
    kept as BibTeX's own mark for the authors left out, and shown as "et al."; `authors`
    listed "others" as a person, and `list --author others` found the paper."""
    bib = tmp_path / "others.bib"
    bib.write_text(
        "@misc{k2, title = {Tee Study}, author = {Doe, Jane and others}, year = 2021}\n",
        encoding="utf-8",
    )
    assert run("import", str(bib)).exit_code == 0
    assert "  authors     Jane Doe, et al.\n" in run("show", "tee-study").stdout
    listed = run("list", "--since", "2021").stdout.splitlines()
    assert [line for line in listed if re.search(r"Tee Study .* Doe et al\. +2021 ", line)]
    only = ["--since", "2021", "--search", "Tee"]
    assert "author = {Doe, Jane and others}" in run("export", "-f", "bibtex", *only).stdout
    [item] = json.loads(run("export", "-f", "csl-json", *only).stdout)
    assert item["author"] == [{"family": "Doe", "given": "Jane"}]
    ris = run("export", "-f", "ris", *only).stdout
    assert [line for line in ris.splitlines() if line.startswith("AU")] == ["AU  - Doe, Jane"]
    names = json.loads(run("authors", "--format", "json").stdout)
    assert "Jane Doe" in [a["name"] for a in names]
    assert "others" not in [a["name"] for a in names]
    result = run("list", "--author", "others")
    assert result.exit_code == 1
    assert "unknown author 'others'" in result.stderr


def test_bibtex_math_in_a_title_is_kept_as_written(run, tmp_path):
    """Braces and escapes are dropped from plain text, but not from math: ``$x^{2}$`` was
    read as ``$x^2$`` and ``$\\&$`` as ``$&$``, so a paper did not match itself."""
    bib = tmp_path / "math.bib"
    bib.write_text(
        "@misc{m, title = {Scaling as $x^{2}$ with $\\&$ and 10\\% off}, author = {Roe, Rita},"
        " year = 2020}\n",
        encoding="utf-8",
    )
    assert run("import", str(bib)).exit_code == 0
    listed = json.loads(run("list", "--since", "2020", "--format", "json").stdout)
    titles = [paper["title"] for paper in listed if paper["title"].startswith("Scaling as")]
    assert titles == ["Scaling as $x^{2}$ with $\\&$ and 10% off"]


def test_bibtex_entry_typed_in_keeps_a_venue_papercli_knows(run, tmp_path):
    """A journal or proceedings papercli knows (by the name its export writes, or the
    short name) becomes the paper's venue, so its citation stays an article or a
    conference paper; one it does not know is not kept."""
    bib = tmp_path / "doi.bib"
    bib.write_text(
        "@article{lecun, title = {Deep learning}, journal = {nature}, year = {2015},\n"
        "  author = {LeCun, Yann and De Freitas, Nando}, doi = {10.1038/nature14539}}\n"
        "@inproceedings{roe, title = {Some Conference Paper}, author = {Roe, Rita}, year = 2023,\n"
        "  booktitle = {Advances in Neural Information Processing Systems}}\n"
        "@inproceedings{doe, title = {A Workshop Paper}, author = {Doe, Dan}, year = 2022,\n"
        "  booktitle = {Proceedings of Some Workshop}}\n"
        "@article{biblatex, title = {Dated the biblatex Way}, author = {Poe, Paul},\n"
        "  date = {2019-05-28}, journaltitle = {Journal of Machine Learning Research}}\n"
        # The export names a Findings volume with its year, as the ACL Anthology does.
        "@inproceedings{foe, title = {A Findings Paper}, author = {Foe, Fay}, year = 2023,\n"
        "  booktitle = {Findings of the Association for Computational Linguistics: EMNLP 2023}}\n",
        encoding="utf-8",
    )
    assert run("import", str(bib)).exit_code == 0
    listed = json.loads(run("list", "--since", "2015", "--format", "json").stdout)
    venues = {paper["title"]: paper["venue"] for paper in listed}
    assert {paper["title"]: paper["date"] for paper in listed}["Dated the biblatex Way"] == (
        "2019-05-28"
    )
    assert venues["Deep learning"] == "Nature 2015"
    assert venues["Some Conference Paper"] == "NeurIPS 2023"
    assert venues["A Workshop Paper"] == ""
    assert venues["Dated the biblatex Way"] == "JMLR 2019"
    assert venues["A Findings Paper"] == "Findings of EMNLP 2023"
    # Names shown in reading order, split as BibTeX splits them (cited as they came).
    deep = json.loads(run("show", "deep-learning", "--format", "json").stdout)
    assert [a["name"] for a in deep["authors"]] == ["Yann LeCun", "Nando De Freitas"]
    cited = run("export", "--search", "deep learning", "--year", "2015", "--format", "bibtex")
    assert "author = {LeCun, Yann and De Freitas, Nando}" in cited.stdout
    exported = run("export", "--search", "some conference paper", "--format", "bibtex").stdout
    assert exported.startswith("@inproceedings{roe,")
    assert "booktitle = {Advances in Neural Information Processing Systems}" in exported


def test_every_venue_papercli_knows_comes_back_from_its_own_bibtex(run, tmp_path, monkeypatch):
    """A paper typed in with a known venue, exported as BibTeX and imported into another
    database, has that venue again: the Findings volumes, which the export names with
    their year (``...: EMNLP 2023``), came back as ``@misc`` without one."""
    for n, series in enumerate(VENUES):
        added = run(
            "add", "--title", f"Venue Paper {series}", "--author", "Rita Roe",
            "--year", str(2001 + n), "--venue", f"{series} {2001 + n}",
        )  # fmt: skip
        assert added.exit_code == 0, added.output
    bib = tmp_path / "venues.bib"
    assert (
        run("export", "--search", "venue paper", "-o", str(bib), "--format", "bibtex").exit_code
        == 0
    )
    monkeypatch.setenv("PAPERCLI_DB", str(tmp_path / "other.db"))
    assert run("import", str(bib)).exit_code == 0
    listed = json.loads(run("list", "--search", "venue paper", "--format", "json").stdout)
    assert {paper["title"]: paper["venue"] for paper in listed} == {
        f"Venue Paper {series}": f"{series} {2001 + n}" for n, series in enumerate(VENUES)
    }


def test_a_paper_a_bibtex_import_adds_is_cited_by_its_entrys_key(run, run_json, tmp_path):
    """Importing your .bib and exporting it again kept no key: every paper got a key of
    papercli's own (``Smith:2020:widgets`` came back as ``smith2020study``), so each
    ``\\cite`` of the document broke. A key taken by another paper (also by an earlier
    entry, ignoring case, as BibTeX compares keys) or with characters BibTeX or LaTeX trip
    on is made afresh, with a warning; a paper already there keeps its own key."""
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@article{Smith:2020:widgets, title = {A Study of Widgets}, author = {Smith, John},\n"
        "  journal = {Transactions on Machine Learning Research}, year = 2020}\n"
        "@misc{hu2021lora, title = {Not LoRA at All}, author = {Roe, Rita}, year = 2021}\n"
        "@misc{SMITH:2020:Widgets, title = {Widgets Again}, author = {Smith, John}, year = 2020}\n"
        "@misc{m\u00fcller2019, title = {Umlauts}, author = {M\u00fcller, Max}, year = 2019}\n"
        "@misc{Vaswani17, title = {Attention Is All You Need}}\n",
        encoding="utf-8",
    )
    dry = run("import", str(bib), "--dry-run")
    assert dry.exit_code == 0, dry.output
    warned = [
        "warning: 'hu2021lora': cited as roe2021not, the entry's key being taken by another paper",
        "warning: 'SMITH:2020:Widgets': cited as smith2020widgets, the entry's key being taken"
        " by another paper",
        "warning: 'm\u00fcller2019': cited as muller2019umlauts, the entry's key being not of"
        " 1 to 250 ASCII letters, digits and _:.+/@-",
    ]
    assert [line for line in dry.stderr.splitlines() if "cited as" in line] == warned
    result = run("import", str(bib))
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "cited as" in line] == warned
    exported = run_json("export", "--format", "json")
    keys = {paper["title"]: paper["citation_key"] for paper in exported["papers"]}
    assert (keys["A Study of Widgets"], keys["Not LoRA at All"]) == (
        "Smith:2020:widgets",
        "roe2021not",
    )
    assert (keys["Widgets Again"], keys["Umlauts"]) == ("smith2020widgets", "muller2019umlauts")
    assert keys["LoRA: Low-Rank Adaptation of Large Language Models"] == "hu2021lora"
    transformer = run_json("show", "transformer", "--format", "json")
    assert transformer["citation_key"] == "vaswani2017attention"
    cited = run("export", "--search", "widgets", "--format", "bibtex").stdout
    assert cited.startswith("@article{Smith:2020:widgets,\n")


def test_bibtex_entry_typed_in_with_odd_links_and_months_is_still_added(run, tmp_path):
    """A DOI written as a link or with ``doi:`` is the DOI (and matches); a URL that is not
    http(s), or a DOI that is none, is left out with a warning instead of refusing the
    file; an empty one is absent; a month may be a number."""
    bib = tmp_path / "odd.bib"
    bib.write_text(
        "@article{a, title = {First Odd Paper}, author = {Roe, Rita}, year = 2020, month = {5},\n"
        "  doi = {https://doi.org/10.5555/odd.1}, url = {www.example.org/a}}\n"
        "@article{b, title = {Second Odd Paper}, author = {Roe, Rita}, year = 2021, month = 13,\n"
        "  doi = {see the journal}, url = {}}\n"
        "@article{c, title = {Third Odd Paper}, author = {Roe, Rita}, year = 2021,\n"
        "  doi = {10.5555/\x1b[2J}, url = {https://example.org/\x1b[2J}}\n",
        encoding="utf-8",
    )
    result = run("import", str(bib))
    assert result.exit_code == 0, result.output
    # Control characters: taken, they made the library's JSON backup impossible to import.
    assert "warning: c: left out url 'https://example.org/\\x1b[2J'" in result.stderr
    assert "warning: c: left out doi '10.5555/\\x1b[2J', not a DOI" in result.stderr
    assert "warning: a: left out url 'www.example.org/a', not an http(s) address" in result.stderr
    assert "warning: b: left out doi 'see the journal', not a DOI (10.NNNN/...)" in result.stderr
    listed = json.loads(run("list", "--since", "2020", "--format", "json").stdout)
    by_title = {paper["title"]: paper for paper in listed}
    first = json.loads(run("show", by_title["First Odd Paper"]["id"], "--format", "json").stdout)
    assert (first["doi"], first["date"], first["url"]) == ("10.5555/odd.1", "2020-05", None)
    assert by_title["Second Odd Paper"]["date"] == "2021"
    again = tmp_path / "again.bib"
    again.write_text("@misc{c, title = {Renamed}, doi = {DOI: 10.5555/odd.1}}\n", encoding="utf-8")
    assert run("import", str(again)).stderr.endswith(
        "added 0, already there 1, not found 0, failed 0, skipped 0\n"
    )


def test_a_left_out_value_of_thousands_of_characters_is_quoted_in_one_short_line(run, tmp_path):
    """A warning quoted the URL, DOI or month it left out whole: a DOI of 5,000 characters
    made a warning of 5,000. Each is cut, as every message cuts what it quotes back."""
    bib = tmp_path / "long.bib"
    bib.write_text(
        "@article{long, title = {A Paper With Long Values}, author = {Roe, Rita}, year = 2020,\n"
        f"  doi = {{{'d' * 5000}}}, url = {{{'u' * 5000}}}, month = {{{'m' * 5000}}}}}\n",
        encoding="utf-8",
    )
    result = run("import", str(bib))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert [line.split("'")[0] for line in warnings] == [
        "warning: long: left out url ",
        "warning: long: left out doi ",
        "warning: long: left out month ",
    ]
    assert all(len(line) < 200 and "…'" in line for line in warnings), warnings


def test_a_list_of_ids_is_read_a_chunk_at_a_time(synthetic, tmp_path, monkeypatch):
    """A list of a million arXiv ids already there took 163 MB: the file's text, its
    lines and its ids were held at once. Lines are now read, checked and matched a chunk
    at a time, each id once (those seen wait on disk): five times the ids, no more memory."""
    import shutil
    import sqlite3
    import tracemalloc

    from papercli import importing

    monkeypatch.setattr(scratch, "CHUNK", 100)
    db = tmp_path / "library.db"
    shutil.copyfile(synthetic[10_000], db)
    listed = [a for (a,) in sqlite3.connect(db).execute("SELECT arxiv_id FROM papers")]
    conn = connection.open_database(db, paths.seed_path())

    def peak(count: int) -> int:
        path = tmp_path / f"{count}.txt"
        path.write_text("# mine\n" + "".join(f"{a}\n{a}\n" for a in listed[:count] if a))
        tracemalloc.start()
        report = importing.import_file(conn, path, lambda: pytest.fail("nothing is new"))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert report.already_there == len([a for a in listed[:count] if a])
        return peak

    peak(100)  # first imports and caches
    small, large = peak(2_000), peak(10_000)
    assert large < 1.3 * small, (small, large)


@pytest.mark.parametrize("chunk", [2, 1000])
def test_bibtex_papers_typed_in_are_undone_and_redone_whole_across_chunks(
    run, tmp_path, monkeypatch, chunk
):
    """An import's papers typed in (no arXiv id) keep their steps for undo a chunk at a
    time: undo takes every one back, the last chunk's too, and redo brings each back as
    added, queued; an entry whose title an earlier entry of the file added matches it."""
    monkeypatch.setattr(scratch, "CHUNK", chunk)
    entries = "".join(
        f"@article{{w{i}, title = {{Walks number {i}}}, author = {{Wu, Ann and Li, Bo}},"
        f" year = {{2019}}, journal = {{J}}}}\n"
        for i in range(5)
    )
    path = tmp_path / "walks.bib"
    path.write_text(entries + "@misc{again, title = {Walks number 3}, year = 2019}\n")

    def everything() -> str:
        data = json.loads(run("export", "--format", "json").stdout)
        data.pop("exported_on")
        return json.dumps([data, run("queue", "--format", "ids").stdout])

    before = everything()
    result = run("import", "--queue", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith("added 5, already there 1, not found 0, failed 0, skipped 0\n")
    after = everything()
    queued = run("queue", "--format", "ids").stdout.split()
    assert len(queued) == 5 and all(pid.startswith("walks-number") for pid in queued)
    assert run("undo").exit_code == 0
    assert everything() == before
    assert run("redo").exit_code == 0
    assert everything() == after


def _user_papers(run, path: Path, papers: list[dict[str, object]], *options: str) -> None:
    """Import ``papers`` (id, title and what else they say) as a JSON export would, with
    ``options`` before the command (``--db``)."""
    for paper in papers:
        paper.update(year=2024, date="2024-01-01", kind="paper", status="unread", short_name="")
        paper["authors"] = [{"name": "Ada Lovelace", "family": "Lovelace", "given": "Ada"}]
    document = {"format": "papercli-export", "version": 1, "exported_on": "2026-03-01"}
    path.write_text(json.dumps({**document, "papers": papers}), encoding="utf-8")
    assert run(*options, "import", str(path)).exit_code == 0


@pytest.mark.parametrize("shared", ["title", "doi"])
def test_an_entry_matching_many_papers_is_matched_to_the_same_one_as_before(run, tmp_path, shared):
    """Of the papers with an entry's DOI, the one of least id; of those with its title,
    the first added."""
    same = {"title": "Shared Words"} if shared == "title" else {"doi": "10.1234/shared"}
    _user_papers(
        run,
        tmp_path / "mine.json",
        [{"id": pid, "title": f"Paper {pid}", **same} for pid in ("b-first", "c-then", "a-last")],
    )
    field = "title = {Shared Words}" if shared == "title" else "doi = {10.1234/SHARED}"
    bib = tmp_path / "one.bib"
    bib.write_text(f"@article{{k, {field}, author = {{Lovelace, Ada}}, year = 2024}}\n")
    result = run("import", "--queue", str(bib))
    assert result.exit_code == 0, result.output
    assert "already there 1," in result.stderr
    assert run("queue", "--format", "ids").stdout == (
        "b-first\n" if shared == "title" else "a-last\n"
    )


@pytest.mark.parametrize("shared", ["title", "doi"])
def test_entries_matching_many_papers_grow_with_them_not_their_square(
    run, sqlite_steps, tmp_path, shared
):
    """A BibTeX entry matched by DOI or title read every paper holding it to take the
    first: importing the export of 4,000 papers sharing a title took 5.6 s, of 4,000
    sharing a DOI 8.4 s, 12 and 13 times as long as 1,000."""
    work = {}
    for count in (100, 400):
        db = tmp_path / f"{count}.db"
        same = {"title": "Shared Words"} if shared == "title" else {"doi": "10.1234/shared"}
        papers = [{"id": f"p{i}", "title": f"Paper {i}", **same} for i in range(count)]
        _user_papers(run, tmp_path / f"{count}.json", papers, "--db", str(db))
        bib = tmp_path / f"{count}.bib"
        assert run("--db", str(db), "export", "-f", "bibtex", "-o", str(bib)).exit_code == 0
        assert bib.read_text().count(same.get("doi", "{Shared Words}")) == count
        sqlite_steps[0] = 0
        result = run("--db", str(db), "import", "--dry-run", str(bib))
        assert result.exit_code == 0, result.output
        assert "added 0, already there" in result.stderr
        work[count] = sqlite_steps[0]
    assert work[400] < 6 * work[100], work


def test_papers_typed_in_are_held_and_added_together_as_if_added_one_by_one(
    run, tmp_path, monkeypatch
):
    """Entries typed in are added a thousand at a time; an entry naming one of them by
    title or DOI (in any case), a title whose id or citation key another took, and a
    title of the catalogue's come out as when each was added as it was read (a chunk of
    one paper)."""
    entries = [  # one after another, no lookup between them that finds a held paper
        "@misc{d1, title = {Deep Nets: A Study}, author = {Wu, Ann}, year = 2020,"
        " doi = {10.5555/pair}}\n",
        "@misc{d3, title = {Deep Nets: A Third}, author = {Wu, Ann}, year = 2020}\n",
        "@misc{d2, title = {Deep Nets: Another}, author = {Wu, Ann}, year = 2020,"
        " doi = {10.5555/PAIR}}\n",
    ]  # fmt: skip
    for i in range(12):
        title = ["Field Notes on Tuning", "FIELD notes on tuning: part two", "Scaling Laws"][i % 3]
        doi = f"10.5555/Shared.{i % 4}" if i % 2 else f"10.5555/own.{i}"
        entries.append(
            f"@article{{e{i}, title = {{{title} {i // 6}}}, author = {{Lovelace, Ada and"
            f" Li, Bo}}, year = {{202{i % 3}}}, journal = {{J}}, doi = {{{doi}}}}}\n"
        )
    entries.append(
        "@misc{again, title = {field notes on tuning 0}, author = {Wu, Ann}, year = 2020}\n"
    )
    entries.append(
        "@misc{doi, title = {Other}, author = {Wu, Ann}, year = 2020, doi = {10.5555/SHARED.1}}\n"
    )
    entries.append("@misc{lora, title = {LoRA: Low-Rank Adaptation of Large Language Models},"
                   " author = {Hu, Edward}, year = 2021}\n")  # fmt: skip
    path = tmp_path / "typed.bib"
    path.write_text("".join(entries))
    together = scratch.CHUNK

    def imported(chunk: int) -> str:
        monkeypatch.setattr(scratch, "CHUNK", chunk)
        db = tmp_path / f"{chunk}.db"
        result = run("--db", str(db), "import", "--queue", str(path))
        assert result.exit_code == 0, result.output
        data = json.loads(run("--db", str(db), "export", "--format", "json").stdout)
        data.pop("exported_on")
        for paper in data["papers"]:
            paper.pop("added_at")
            paper.pop("queued_at")
        return json.dumps([result.stderr, data])

    one_by_one = imported(1)
    assert "added 8, already there 10," in one_by_one
    assert imported(together) == one_by_one


# ---------------------------------------------------------------------------
# The prerequisite links you add or remove (`prereq gpt-2 +bert`, `prereq lora -gpt-3`)
# Until 5 December the JSON export left them out: a restored library lost +bert and
# read gpt-3 before lora again.


@pytest.fixture
def ticking(monkeypatch):
    """papercli's clock on 1, 2, 3... January 2026, a day a command."""
    days = iter(range(1, 29))
    monkeypatch.setattr(library, "clock", lambda: f"2026-01-{next(days):02}T10:00:00Z")


def _read_first(run_json, db: Path, ref: str) -> list[dict]:
    shown = run_json("--db", str(db), "show", ref, "--format", "json")
    return shown["read_first"]  # type: ignore[index]


def _snapshot(run, db: Path) -> tuple[dict, str]:
    """The library as its export shows it, and every command of its history."""
    exported = run("--db", str(db), "export", "--format", "json").stdout
    return _without_date(exported), run("--db", str(db), "history", "--all").stdout


def _set_links(run) -> None:
    assert run("prereq", "gpt-2", "+bert").exit_code == 0
    assert run("prereq", "lora", "-gpt-3").exit_code == 0


def _links_of(document: dict, paper_id: str) -> list[dict]:
    return next(p for p in document["papers"] if p["id"] == paper_id)["your_prerequisites"]


def test_the_prerequisites_you_set_come_back_from_the_backup(
    run, run_json, db_path, tmp_path, ticking
):
    _set_links(run)
    exported = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(exported)).exit_code == 0
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert _links_of(document, "gpt-2") == [
        {"id": "bert", "state": "added", "at": "2026-01-01T10:00:00Z"}
    ]
    assert _links_of(document, "lora") == [
        {"id": "gpt-3", "state": "removed", "at": "2026-01-02T10:00:00Z"}
    ]
    assert _links_of(document, "bert") == []

    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "import", str(exported))
    assert result.exit_code == 0, result.output
    assert "set prerequisites: lora -gpt-3, gpt-2 +bert\n" in result.stdout
    assert {"id": "bert", "kind": "yours"} in _read_first(run_json, fresh, "gpt-2")
    assert "gpt-3" not in [p["id"] for p in _read_first(run_json, fresh, "lora")]
    assert _read_first(run_json, fresh, "lora") == _read_first(run_json, db_path, "lora")
    shown = run("--db", str(fresh), "prereq", "gpt-2").stdout
    assert "bert" in shown and "(yours)" in shown
    again = run("--db", str(fresh), "export", "--format", "json").stdout
    assert _without_date(again) == _without_date(exported.read_text(encoding="utf-8"))


def test_an_older_export_does_not_bring_back_what_an_undo_took_away(run, tmp_path, ticking):
    """On a database that never synced, a tag, queue place and note whose adding was
    undone after the export came back with it (a database that syncs kept the undos)."""
    run("tag", "lora", "+x")
    run("queue", "add", "bert")
    run("note", "t5", "hello")
    old = tmp_path / "old.json"
    assert run("export", "--format", "json", "-o", str(old)).exit_code == 0
    for _ in range(3):
        assert run("undo").exit_code == 0
    imported = run("import", str(old))
    assert imported.exit_code == 0, imported.output
    assert "restored:" not in imported.stdout and "queued:" not in imported.stdout
    assert run("tag", "lora").stdout == "lora: (no tags)\n"
    assert run("queue", "--format", "ids").stdout == ""
    assert run("show", "t5", "--format", "json").stdout.count('"body"') == 0
    assert "nothing to undo" in run("undo").stderr  # the import changed nothing
    fresh = tmp_path / "fresh.db"  # where nothing was undone, the file restores them all
    assert run("--db", str(fresh), "import", str(old)).exit_code == 0
    assert run("--db", str(fresh), "tag", "lora").stdout == "lora: x\n"
    assert run("--db", str(fresh), "queue", "--format", "ids").stdout == "bert\n"


def test_an_older_export_does_not_bring_back_a_paper_you_removed(run, tmp_path) -> None:
    """It came back (and, once synced, on every machine): a removal is a change of its own,
    as a note's deletion is."""
    typed = ["add", "--title", "Field Notes", "--author", "Ann Lee", "--year", "2020"]
    assert run(*typed).exit_code == 0
    run("tag", "field-notes", "+mine")
    old = tmp_path / "old.json"
    assert run("export", "-o", str(old)).exit_code == 0
    assert run("remove", "field-notes", "--yes").exit_code == 0
    imported = run("import", str(old))
    assert (imported.exit_code, imported.stdout) == (0, "")
    assert imported.stderr.startswith(
        "warning: field-notes: left out, as you took it out of your list; add it again to keep it"
    )
    assert run("show", "field-notes").exit_code == 1
    fresh = tmp_path / "fresh.db"  # a restore where it was never removed brings it
    assert run("--db", str(fresh), "import", str(old)).stdout.startswith("added: field-notes")
    assert run("undo").stdout.startswith("undone: removed field-notes")
    assert run("tag", "field-notes").stdout == "field-notes: mine\n"
    again = run("import", str(old))  # there again: the file's state merges as ever
    assert again.exit_code == 0 and "left out" not in again.stderr


def test_an_older_export_does_not_bring_back_a_paper_whose_adding_you_undid(run, tmp_path):
    """It came back on a database that never synced, and stayed out on one that syncs."""
    typed = ["add", "--title", "Field Notes", "--author", "Ann Lee", "--year", "2020"]
    assert run(*typed).exit_code == 0
    old = tmp_path / "old.json"
    assert run("export", "-o", str(old)).exit_code == 0
    assert run("undo").stdout.startswith("undone: added field-notes")
    imported = run("import", str(old))
    assert "field-notes: left out" in imported.stderr
    assert run("show", "field-notes").exit_code == 1


def test_an_older_export_does_not_rewind_the_links_you_set_since(
    run, run_json, db_path, tmp_path, ticking
):
    """Undone since the export, which leaves no link to compare: the undo stands, as a
    change of status undone does. A file's link later than the undo is taken."""
    _set_links(run)  # 01, 02
    old = tmp_path / "old.json"
    assert run("export", "--format", "json", "-o", str(old)).exit_code == 0
    for _ in range(2):  # 03, 04: -gpt-3 and +bert undone, no link left to compare
        assert run("undo").exit_code == 0
    before = _snapshot(run, db_path)
    result = run("import", str(old))
    assert result.exit_code == 0, result.output
    assert "set prerequisites" not in result.stdout
    assert _snapshot(run, db_path) == before
    assert "bert" not in [p["id"] for p in _read_first(run_json, db_path, "gpt-2")]
    assert "gpt-3" in [p["id"] for p in _read_first(run_json, db_path, "lora")]

    newer = tmp_path / "newer.json"
    document = json.loads(old.read_text(encoding="utf-8"))
    for paper in document["papers"]:
        for link in paper["your_prerequisites"]:
            link["at"] = "2026-01-04T12:00:00Z"  # after the undos, before this import
    newer.write_text(json.dumps(document), encoding="utf-8")
    result = run("import", str(newer))
    assert result.exit_code == 0, result.output
    assert "set prerequisites: lora -gpt-3, gpt-2 +bert\n" in result.stdout
    assert {"id": "bert", "kind": "yours"} in _read_first(run_json, db_path, "gpt-2")


def test_a_link_changed_here_since_the_export_stays(run, run_json, db_path, tmp_path, ticking):
    _set_links(run)  # 01, 02
    old = tmp_path / "old.json"
    assert run("export", "--format", "json", "-o", str(old)).exit_code == 0
    assert run("prereq", "gpt-2", "-bert").exit_code == 0  # 03
    assert run("import", str(old)).exit_code == 0
    assert "bert" not in [p["id"] for p in _read_first(run_json, db_path, "gpt-2")]
    document = json.loads(run("export", "--format", "json").stdout)
    assert _links_of(document, "gpt-2") == [
        {"id": "bert", "state": "removed", "at": "2026-01-03T10:00:00Z"}
    ]


def test_importing_the_links_twice_changes_nothing_the_second_time(
    run, run_json, tmp_path, ticking
):
    _set_links(run)
    exported = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(exported)).exit_code == 0
    fresh = tmp_path / "fresh.db"
    assert run("--db", str(fresh), "import", str(exported)).exit_code == 0
    assert {"id": "bert", "kind": "yours"} in _read_first(run_json, fresh, "gpt-2")
    before = _snapshot(run, fresh)
    again = run("--db", str(fresh), "import", str(exported))
    assert again.exit_code == 0, again.output
    assert again.stdout == ""
    assert _snapshot(run, fresh) == before


def test_undo_takes_the_imported_links_back_and_a_dry_run_sets_none(
    run, run_json, db_path, tmp_path, ticking
):
    _set_links(run)
    exported = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(exported)).exit_code == 0
    fresh = tmp_path / "fresh.db"
    assert run("--db", str(fresh), "prereq", "gpt-2").exit_code == 0  # made, with the catalogue
    untouched = _read_first(run_json, fresh, "lora"), _read_first(run_json, fresh, "gpt-2")
    before = fresh.read_bytes()
    dry = run("--db", str(fresh), "import", "--dry-run", str(exported))
    assert dry.exit_code == 0, dry.output
    assert "would set prerequisites: lora -gpt-3, gpt-2 +bert\n" in dry.stdout
    assert fresh.read_bytes() == before

    assert run("--db", str(fresh), "import", str(exported)).exit_code == 0
    assert {"id": "bert", "kind": "yours"} in _read_first(run_json, fresh, "gpt-2")
    undone = run("--db", str(fresh), "undo")
    assert undone.exit_code == 0, undone.output
    assert (_read_first(run_json, fresh, "lora"), _read_first(run_json, fresh, "gpt-2")) == (
        untouched
    )
    document = json.loads(run("--db", str(fresh), "export", "--format", "json").stdout)
    assert all(p["your_prerequisites"] == [] for p in document["papers"])
    assert run("--db", str(fresh), "redo").exit_code == 0
    assert {"id": "bert", "kind": "yours"} in _read_first(run_json, fresh, "gpt-2")


def test_an_export_from_before_the_links_still_imports(run, run_json, tmp_path, ticking):
    _state(run)
    _set_links(run)
    document = json.loads(run("export", "--format", "json").stdout)
    for paper in document["papers"]:
        del paper["your_prerequisites"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(document), encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "import", str(old))
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(
        "restored 4, added 0, already there 72, not found 0, failed 0, skipped 0\n"
    )
    assert "set prerequisites" not in result.stdout
    assert "bert" not in [p["id"] for p in _read_first(run_json, fresh, "gpt-2")]


def test_a_link_to_an_unknown_paper_or_making_a_cycle_is_dropped_with_a_warning(
    run, run_json, tmp_path, ticking
):
    """As a prerequisite of the file is, and as `prereq +X` refuses a cycle."""
    _set_links(run)
    document = json.loads(run("export", "--format", "json").stdout)
    gpt2 = next(p for p in document["papers"] if p["id"] == "gpt-2")
    gpt2["your_prerequisites"].append(
        {"id": "nowhere", "state": "added", "at": "2026-01-01T10:00:00Z"}
    )
    path = tmp_path / "links.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    other = tmp_path / "other.db"
    assert run("--db", str(other), "prereq", "bert", "+gpt-2").exit_code == 0
    result = run("--db", str(other), "import", str(path))
    assert result.exit_code == 0, result.output
    assert "warning: gpt-2: dropped your prerequisite nowhere, an unknown paper\n" in (
        result.stderr
    )
    assert "warning: gpt-2: dropped your prerequisite bert, which would make a cycle\n" in (
        result.stderr
    )
    assert "set prerequisites: lora -gpt-3\n" in result.stdout
    assert "bert" not in [p["id"] for p in _read_first(run_json, other, "gpt-2")]
    assert {"id": "gpt-2", "kind": "yours"} in _read_first(run_json, other, "bert")


def test_a_link_the_file_removes_is_removed_before_those_it_adds(run, run_json, tmp_path):
    """gpt-1 comes before gpt-2 in the file: adding gpt-1's +gpt-2 first met the
    catalogue's gpt-1 before gpt-2, which the file removes, and dropped it as a cycle."""
    assert run("prereq", "gpt-2", "-gpt-1").exit_code == 0
    assert run("prereq", "gpt-1", "+gpt-2").exit_code == 0
    exported = tmp_path / "backup.json"
    assert run("export", "--format", "json", "-o", str(exported)).exit_code == 0
    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "import", str(exported))
    assert (result.exit_code, result.stdout) == (
        0,
        "set prerequisites: gpt-2 -gpt-1, gpt-1 +gpt-2\n",
    )
    assert "warning" not in result.stderr
    assert _read_first(run_json, fresh, "gpt-2") == []
    assert {"id": "gpt-2", "kind": "yours"} in _read_first(run_json, fresh, "gpt-1")


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ([{"id": "bert", "state": "kept", "at": "2026-01-01T10:00:00Z"}], "[0].state: invalid"),
        ([{"id": "a b", "state": "added", "at": "2026-01-01T10:00:00Z"}], "[0].id: 'a b' is not"),
        ([{"id": "bert", "state": "added", "at": "yesterday"}], "[0].at: expected a UTC time"),
        ([{"id": "bert", "state": "added"}], ": object missing required field at"),
        ([{"id": "bert", "state": "added", "at": 5}], "[0].at: expected str | null, got int"),
        ("bert", "your_prerequisites: expected array, got str"),
        (
            [
                {"id": "bert", "state": "added", "at": "2026-01-01T10:00:00Z"},
                {"id": "bert", "state": "removed", "at": "2026-01-01T10:00:00Z"},
            ],
            "[1].id: 'bert' is given twice",
        ),
    ],
)
def test_a_bad_link_refuses_the_file_and_changes_nothing(run, db_path, tmp_path, links, message):
    document = json.loads(run("export", "--format", "json").stdout)
    gpt2 = next(p for p in document["papers"] if p["id"] == "gpt-2")
    gpt2["your_prerequisites"] = links
    index = document["papers"].index(gpt2)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = db_path.read_bytes()
    result = run("import", str(path))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: papers[{index}].your_prerequisites"), result.stderr
    assert message in result.stderr
    assert result.stderr.endswith("; nothing was imported\n")
    assert db_path.read_bytes() == before


def test_arxiv_metadata_without_its_fetch_time_is_left_out_with_a_warning(run, tmp_path):
    """A file whose paper has an abstract or a comment but no `fetched_at` (papercli's own
    exports never write one so; a file edited by hand may): they were left out in
    silence."""
    run("add", "--title", "Field Notes", "--author", "Ann Lee", "--year", "2021")
    document = json.loads(run("export", "--format", "json").stdout)
    [notes] = [p for p in document["papers"] if p["id"] == "field-notes"]
    assert notes["fetched_at"] is None
    edited = {**notes, "abstract": "What we saw.", "comment": "12 pages"}
    path = tmp_path / "edited.json"
    path.write_text(json.dumps({**document, "papers": [edited]}))
    imported = run("--db", str(tmp_path / "other.db"), "import", str(path))
    assert imported.exit_code == 0, imported.output
    assert (
        "warning: field-notes: left out its abstract and comment, which are arXiv's and come"
        " with the fetched_at of when arXiv gave them\n" in imported.stderr
    )
    shown = json.loads(
        run("--db", str(tmp_path / "other.db"), "show", "field-notes", "--format", "json").stdout
    )
    assert shown["abstract"] is None
