"""`papercli search`: ranked full-text search over titles, names, summaries, abstracts and
notes, kept current by triggers, safe for any input and bounded for common words."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papercli import paths, records
from papercli.errors import InvalidValueError
from papercli.models import ArxivRecord, Selection
from papercli.store import arxiv_meta, base, connection, fts, migrations, search, shipped
from tests.conftest import peak_megabytes


def _ids(hits: object) -> list[str]:
    assert isinstance(hits, list)
    return [hit["id"] for hit in hits]


def _connect(db_path: Path) -> sqlite3.Connection:
    return connection.open_database(db_path, paths.seed_path())


def test_a_title_match_outranks_a_summary_match(run_json):
    hits = run_json("search", "attention", "--format", "json")
    ids = _ids(hits)
    # "Attention Is All You Need" has the word in its title; ALiBi only in its summary.
    assert ids[0] == "transformer"
    assert "alibi" in ids[1:]
    assert [hit["rank"] for hit in hits] == list(range(1, len(hits) + 1))
    assert hits[0]["snippet"].count("[Attention]") == 1


def test_a_paper_named_exactly_comes_first(run_json):
    # LCM-LoRA has "LoRA" in its title, names and summary (a higher bm25), but the word
    # names LoRA itself.
    assert _ids(run_json("search", "LoRA", "--format", "json"))[:2] == ["lora", "lcm-lora"]


def test_papers_of_one_name_come_first_oldest_first(run, run_json, tmp_path):
    """Several papers named exactly by the words are in one order, oldest first. Their
    query had no ORDER BY: its plan happened to read them so (a guard; it passed before)."""
    exported = run_json("export", "--format", "json", "--search", "qlora")
    (qlora,) = exported["papers"]
    fresh = {"arxiv_id": None, "url": None, "pdf_url": None, "doi": None, "origin": "user"}
    fresh |= {"citation_key": None, "aliases": [], "prerequisites": [], "queue_position": None}
    named = [("zeta-a", "2024-03-01"), ("zeta-b", "2021-05-01"), ("zeta-c", "2022-01-01")]
    exported["papers"] = [
        qlora
        | fresh
        | {
            "id": pid,
            "short_name": "Zeta",
            "title": f"Zeta {pid}",
            "date": date,
            "year": int(date[:4]),
        }
        for pid, date in named
    ]
    backup = tmp_path / "zeta.json"
    backup.write_text(json.dumps(exported))
    imported = run("import", str(backup))
    assert imported.exit_code == 0, imported.output
    found = run_json("search", "zeta", "--format", "json")
    assert _ids(found) == ["zeta-b", "zeta-c", "zeta-a"]


@pytest.mark.parametrize(
    ("words", "paper"),
    [("Guanaco", "qlora"), ("smallville", "generative-agents"), ("RWKV", "rwkv")],
)
def test_short_names_and_aliases_are_searched(run_json, words, paper):
    assert _ids(run_json("search", words, "--format", "json"))[0] == paper


@pytest.mark.parametrize(
    ("words", "paper"),
    [("models adapted", "lora"), ("transf", "transformer"), ("flashatt", "flashattention")],
)
def test_other_forms_and_unfinished_words_are_found(run_json, words, paper):
    assert paper in _ids(run_json("search", *words.split(), "--format", "json"))


def test_json_has_the_list_keys_plus_snippet_and_rank(run_json):
    listed = run_json("list", "--format", "json", "--limit", "1")
    (hit,) = run_json("search", "low", "rank", "adaptation", "--format", "json")
    assert set(hit) == set(listed[0]) | {"snippet", "rank"}
    assert hit["id"] == "lora" and hit["rank"] == 1


def test_filters_combine_with_the_words(run, run_json):
    hits = run_json("search", "attention", "--since", "2020", "--topic", "efficiency", "-f", "json")
    assert hits and all(h["year"] >= 2020 and "efficiency" in h["topics"] for h in hits)
    assert "transformer" not in _ids(hits)

    assert run("mark-read", "flashattention").exit_code == 0
    read = run_json("search", "attention", "--status", "read", "--format", "json")
    assert _ids(read) == ["flashattention"]
    assert run("tag", "rwkv", "+rnn").exit_code == 0
    assert _ids(run_json("search", "attention", "--tag", "rnn", "--format", "json")) == ["rwkv"]


def test_plain_output_marks_matches_and_limit_applies(run):
    result = run("search", "attention", "--limit", "2")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "title", "year", "status", "match"]
    assert len(lines) == 3
    assert lines[1].startswith("transformer ") and "[Attention]" in lines[1]
    assert "\x1b[" not in result.stdout and "\x02" not in result.stdout


def test_ids_and_csv_formats(run):
    ids = run("search", "attention", "--format", "ids", "-n", "3")
    assert ids.stdout.splitlines()[0] == "transformer" and len(ids.stdout.splitlines()) == 3
    csv_out = run("search", "attention", "--format", "csv", "-n", "1").stdout.splitlines()
    assert csv_out[0].endswith("snippet,rank") and csv_out[1].startswith("transformer,")


def test_notes_are_searchable_including_chinese_inside_a_sentence(run, run_json):
    assert run_json("search", "低秩", "--format", "json") == []
    run("note", "lora", "今天读了 我们用低秩适配来微调模型 效果很好")
    run("note", "bert", "the zebra example in section 4 is the clearest")

    (hit,) = run_json("search", "低秩", "--format", "json")
    assert hit["id"] == "lora" and "[低秩]" in hit["snippet"] and hit["rank"] is None
    assert _ids(run_json("search", "低秩适配", "--format", "json")) == ["lora"]  # trigram index
    assert _ids(run_json("search", "低秩", "adaptation", "--format", "json")) == ["lora"]
    assert run_json("search", "低秩", "attention", "--format", "json") == []
    assert _ids(run_json("search", "zebra", "--format", "json")) == ["bert"]


def test_fetched_abstracts_are_searchable(run, run_json, db_path):
    assert run_json("search", "zanzibar", "--format", "json") == []
    conn = _connect(db_path)
    record = ArxivRecord(
        arxiv_id="2106.09685",
        version=2,
        title="LoRA: Low-Rank Adaptation of Large Language Models",
        abstract="We tried the method on the zanzibar corpus.",
        authors=[],
        published="2021-06-17T00:00:00Z",
        updated="2021-10-16T00:00:00Z",
        primary_category="cs.CL",
        categories=["cs.CL"],
        dois=[],
        journal_ref=None,
        comment=None,
        abs_url="https://arxiv.org/abs/2106.09685",
        pdf_url=None,
    )
    with base.transaction(conn):
        arxiv_meta.store_arxiv_record(conn, "lora", record, "2024-01-01T00:00:00Z")
    (hit,) = run_json("search", "zanzibar", "--format", "json")
    assert hit["id"] == "lora" and "[zanzibar]" in hit["snippet"]

    # Fetched again (INSERT OR REPLACE, which fires no delete trigger): the old text goes.
    with base.transaction(conn):
        newer = records.replace(record, abstract="Now about Madagascar.")
        arxiv_meta.store_arxiv_record(conn, "lora", newer, "2024-02-01T00:00:00Z")
    assert run_json("search", "zanzibar", "--format", "json") == []
    assert _ids(run_json("search", "madagascar", "--format", "json")) == ["lora"]


@pytest.mark.parametrize(
    "words",
    ['"', 'a"b', "-x", "title:foo", "*", "AND", "OR NOT", "((", "NEAR(a b)",
     "'; DROP TABLE papers; --", "lora*", '"low rank"', "low AND rank", "^lora", "a\x00b",
     "低秩 OR", "{title}: x"],
)  # fmt: skip
def test_hostile_input_is_never_an_error(run, words):
    result = run("search", "--", words)  # `--`: a word may start with "-"
    assert result.exit_code == 0, result.output
    assert "error" not in result.stderr


@pytest.mark.parametrize("words", ["", "   "])
def test_an_empty_query_is_a_one_line_error(run, words):
    result = run("search", words)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: nothing to search for")
    assert len(result.stderr.splitlines()) == 1


def test_a_word_given_again_is_looked_up_once(run_json):
    """In any case, where it was given last (that word is the one tried as a prefix):
    each time it was given, FTS5 merged its list of papers again."""
    assert fts.search_terms("LoRA transf lora adapt LORA") == ["transf", "adapt", "LORA"]
    once = run_json("search", "language models", "--format", "json")
    assert len(once) > 1
    assert (
        run_json("search", " ".join(["language", "Models", "models"] * 300), "--format", "json")
        == once
    )
    # "adapt" is tried as a prefix ("adaptation") where it was given last, not required whole
    assert "lora" in _ids(run_json("search", "adapt lora adapt", "--format", "json"))


@pytest.mark.parametrize("command", [["search"], ["list", "--search"]])
def test_a_search_of_more_than_a_thousand_different_words_is_a_one_line_error(run, command):
    words = [f"w{i}" for i in range(fts.MAX_WORDS)]
    result = run(*command, " ".join(words * 2))  # 1,000 words, each twice: looked up
    assert result.exit_code == 0, result.output
    result = run(*command, " ".join([*words, "one-more"]))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: a search takes at most 1,000 different words; this one has 1,001\n"
    )


@pytest.mark.parametrize("command", [["search"], ["list", "--search"]])
def test_a_search_longer_than_ten_thousand_characters_is_a_one_line_error(run, command):
    """A sentence in Chinese is one word, looked up by its every three characters."""
    assert run(*command, "模" * 9_995 + " lora").exit_code == 0
    result = run(*command, "模" * 9_996 + " lora")
    assert result.exit_code == 1
    assert result.stderr == "error: a search takes at most 10,000 characters; this one has 10,001\n"


@pytest.mark.parametrize("command", [["search"], ["list", "--search"]])
def test_more_than_twelve_words_in_chinese_are_a_one_line_error(run, command):
    """Each is also read for inside every note; 250 were a database error (too many
    terms in a compound SELECT)."""
    words = [chr(0x4E00 + i) + "模" for i in range(300)]
    result = run(*command, " ".join(words[:12] * 2 + ["lora"]))
    assert result.exit_code == 0, result.output
    for typed in (words[:13], words):
        result = run(*command, " ".join(["lora", *typed]))
        assert result.exit_code == 1
        assert result.stderr == (
            "error: a search takes at most 12 different words in Chinese, Japanese or Korean;"
            f" this one has {len(typed)}\n"
        )


def test_too_many_matches_come_newest_first_unranked(run, run_json, monkeypatch):
    everything = run_json("search", "language", "--format", "json", "--limit", "1000")
    assert len(everything) > 5
    monkeypatch.setattr(search, "RANK_LIMIT", 2)

    result = run("search", "language", "--format", "json", "--limit", "5")
    assert result.exit_code == 0
    assert "unranked" in result.stderr
    hits = json.loads(result.stdout)
    assert all(hit["rank"] is None for hit in hits)
    newest = sorted((h["date"] for h in everything), reverse=True)[:5]
    assert [h["date"] for h in hits] == newest
    assert set(_ids(hits)) <= set(_ids(everything))

    filtered = run_json("search", "language", "--until", "2019", "-n", "3", "--format", "json")
    assert [h["date"] for h in filtered] == sorted(
        (h["date"] for h in everything if h["year"] <= 2019), reverse=True
    )[:3]

    # Filters that few papers pass (at most RANK_LIMIT: the matches are checked against
    # them) and ones that many do (the matches are joined to papers) give the same answers.
    run("tag", "llama", "gpt-3", "+mine")
    run("mark-read", "llama", "gpt-3", "bert")
    for args in (["--tag", "mine"], ["--status", "read"], ["--status", "read", "--tag", "mine"]):
        hits = run_json("search", "language", *args, "--format", "json")
        assert _ids(hits) == (
            ["llama", "gpt-3", "bert"] if args == ["--status", "read"] else ["llama", "gpt-3"]
        )


def test_marking_papers_read_leaves_the_search_index_alone(run, db_path):
    run("search", "lora")  # creates the database
    conn = sqlite3.connect(db_path)
    before = conn.execute("SELECT * FROM paper_search_data").fetchall()
    assert run("mark-read", "lora", "bert").exit_code == 0
    assert run("queue", "add", "gpt-3").exit_code == 0
    assert conn.execute("SELECT * FROM paper_search_data").fetchall() == before


def test_imported_papers_are_found_by_every_field_and_gone_after_undo(run, run_json, tmp_path):
    """A paper's search document is made once, as the paper row arrives after its authors
    and aliases, and goes with it: the document must still hold all of them."""
    paper = {
        "id": "wombat-nets",
        "title": "Wombat Networks for Burrowing",
        "short_name": "wombatnet",
        "year": 2024,
        "date": "2024-02-02",
        "aliases": ["Marsupial Transformer"],
        "authors": [{"name": "Quenda Bandicoot", "family": "Bandicoot", "given": "Quenda"}],
        "why": "Digs tunnels with attention.",
        "notes": [{"created_at": "2024-03-01T10:00:00Z", "body": "numbat comparison"}],
    }
    source = tmp_path / "one.json"
    head = {"format": "papercli-export", "version": 1, "exported_on": "2024-03-02"}
    source.write_text(json.dumps({**head, "papers": [paper]}))
    result = run("import", str(source))
    assert result.exit_code == 0, result.output
    for words in ("burrowing", "wombatnet", "marsupial", "bandicoot", "tunnels", "numbat"):
        assert [h["id"] for h in run_json("search", words, "--format", "json")] == ["wombat-nets"]
    assert run("undo").exit_code == 0
    assert run("search", "bandicoot", "--format", "ids").stdout == ""
    assert run("redo").exit_code == 0
    assert run("search", "marsupial", "--format", "ids").stdout == "wombat-nets\n"


def _search(conn: sqlite3.Connection, words: str) -> list[str]:
    return [hit.paper.id for hit in search.search_papers(conn, words, Selection(), 50).hits]


def test_schema_2_database_gets_an_index_of_its_existing_rows(tmp_path):
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.executescript(
        f"BEGIN; {migrations.M001_INITIAL} {migrations.M002_ARXIV} PRAGMA user_version = 2;"
        """
        INSERT INTO papers (id, title, short_name, date, year, why)
            VALUES ('lora', 'LoRA: Low-Rank Adaptation', 'LoRA', '2021-06-17', 2021,
                    'Freezes the weights.');
        INSERT INTO paper_names VALUES ('lowrankadaptation', 'lora', 'Low Rank Adaptation', 1);
        INSERT INTO notes (paper_id, created_at, body)
            VALUES ('lora', '2024-01-02T00:00:00Z', '我们用低秩适配, rank 8 is plenty');
        INSERT INTO arxiv_meta (paper_id, arxiv_id, version, title, abstract, published,
                                updated, fetched_at)
            VALUES ('lora', '2106.09685', 2, 'LoRA', 'An abstract about zanzibar.', '', '', '');
        COMMIT;
        """
    )
    assert migrations.migrate(conn) == migrations.SCHEMA_VERSION - 2

    for words in ("lora", "adaptation", "weights", "plenty", "低秩", "zanzibar"):
        assert _search(conn, words) == ["lora"], words
    conn.execute("INSERT INTO notes (paper_id, created_at, body) VALUES ('lora', '', 'quokka')")
    assert _search(conn, "quokka") == ["lora"]
    conn.execute("DELETE FROM notes")
    assert _search(conn, "plenty") == _search(conn, "低秩") == []
    conn.execute("UPDATE papers SET id = 'lora-2', date = '2020-01-01' WHERE id = 'lora'")
    assert _search(conn, "weights") == ["lora-2"]
    conn.execute("DELETE FROM papers")
    assert _search(conn, "weights") == []
    assert conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0


def test_catalogue_sync_keeps_the_index_consistent(tmp_path, mini_seed):
    conn = connection.open_database(tmp_path / "user.db", mini_seed)
    shipped.sync_catalogue(conn, paths.seed_path())  # the real catalogue over the mini one
    conn.execute("INSERT INTO paper_search(paper_search) VALUES ('integrity-check')")
    assert (
        conn.execute(
            "SELECT count(*) FROM papers p JOIN search_docs d ON d.paper_id = p.id"
            " JOIN paper_search s ON s.rowid = d.docid AND s.title = p.title"
        ).fetchone()
        == conn.execute("SELECT count(*) FROM papers").fetchone()
    )
    assert (
        conn.execute("SELECT count(*) FROM paper_search").fetchone()
        == conn.execute("SELECT count(*) FROM papers").fetchone()
    )


def test_any_text_is_a_safe_query(tmp_path):
    conn = _connect(tmp_path / "papercli.db")
    conn.execute("INSERT INTO notes (paper_id, created_at, body) VALUES ('lora', '', '低秩适配')")

    @settings(max_examples=300, deadline=None)
    @given(words=st.text(), year=st.none() | st.integers(1900, 2100))
    def check(words: str, year: int | None) -> None:
        try:
            results = search.search_papers(conn, words, Selection(since=year), 5)
        except InvalidValueError:
            distinct = {w.lower() for w in words.replace("\x00", " ").split()}
            unspaced = [w for w in distinct if re.search(fts.UNSPACED, w)]
            too_long = len(words) > fts.MAX_CHARACTERS or len(distinct) > fts.MAX_WORDS
            assert not distinct or too_long or len(unspaced) > fts.MAX_UNSPACED
        else:
            assert len(list(results.hits)) <= 5

    check()


def test_terminal_output_highlights_matches():
    from rich.console import Console

    from papercli import render
    from papercli.models import Paper

    paper = Paper(id="lora", title="LoRA [v2]", short_name="LoRA", year=2021, date="2021-06-17")
    console = Console(width=80, record=True, color_system="standard", force_terminal=True)
    console.print(render.search_table([(paper, [("uses ", False), ("low", True)])]))
    assert "\x1b[1;33mlow" in console.export_text(styles=True, clear=False)
    text = console.export_text()
    assert "LoRA [v2]" in text and "uses low" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kB is Linux's")
@pytest.mark.parametrize("fmt", ["ids", "json", "csv", "table"])
def test_hits_past_the_ranking_limit_are_printed_as_they_are_read(synthetic, fmt):
    """`search --limit` far past RANK_LIMIT: five times the hits, about the same memory
    (at a million papers, 490,000 hits of "transformer" took 3.3 GB as ids, 6.2 GB as
    JSON). The ranking limit is lowered here so that a small library passes it."""
    lower = "from papercli.store import search; search.RANK_LIMIT = 100"
    args = ["search", "retrieval", "--limit", "999999", "--format", fmt]
    small, large = (
        peak_megabytes("--db", str(synthetic[papers]), *args, before=lower)
        for papers in (2_000, 10_000)
    )
    assert large - small < 5, (small, large)


def test_hits_past_the_ranking_limit_are_all_printed_newest_first(run, synthetic, monkeypatch):
    monkeypatch.setattr(search, "RANK_LIMIT", 100)
    result = run("--db", str(synthetic[10_000]), "search", "retrieval", "-n", "999999", "-f", "ids")
    assert result.exit_code == 0
    assert "over 100 papers match; showing the newest, unranked" in result.stderr
    newest_first = sqlite3.connect(synthetic[10_000]).execute(
        "SELECT d.paper_id FROM paper_search JOIN search_docs d ON d.docid = paper_search.rowid"
        " WHERE paper_search MATCH 'retrieval' ORDER BY paper_search.rowid DESC"
    )
    assert result.stdout.split() == [str(pid) for (pid,) in newest_first]


@pytest.mark.parametrize(
    "words",
    [
        ["attention"],
        ["attention", "--since", "2020", "--until", "2023"],
        ["transf"],  # nothing matches the word: it is tried as a prefix
        ["lora"],  # a paper named exactly comes first
        ["低秩"],  # inside a note written without spaces
        ["低秩", "rank"],
        ["language", "--topic", "efficiency"],
        ["model", "--status", "read"],
    ],
)
def test_ids_are_those_of_the_full_results_in_their_order(run, words, monkeypatch):
    assert run("note", "lora", "这是低秩适配的笔记 rank").exit_code == 0
    assert run("mark-read", "lora", "gpt-3").exit_code == 0
    for rank_limit in (search.RANK_LIMIT, 3):  # ranked, then newest first
        monkeypatch.setattr(search, "RANK_LIMIT", rank_limit)
        ids = run("search", *words, "--format", "ids", "-n", "40")
        full = run("search", *words, "--format", "json", "-n", "40")
        assert ids.stdout.split() == [hit["id"] for hit in json.loads(full.stdout)]
        assert (ids.exit_code, ids.stderr) == (full.exit_code, full.stderr)


def test_ids_read_nothing_else_of_each_paper(run, synthetic, sqlite_steps, monkeypatch):
    """`search --format ids` read every hit's authors, organizations, topics and versions
    to print its id: 490,000 hits of "transformer" took 14 s at a million papers, against
    1.6 s for the ids alone."""
    monkeypatch.setattr(search, "RANK_LIMIT", 100)
    work = {}
    for fmt in ("ids", "csv"):
        sqlite_steps[0] = 0
        args = ["search", "retrieval", "--limit", "999999", "--format", fmt]
        assert run("--db", str(synthetic[2_000]), *args).exit_code == 0
        work[fmt] = sqlite_steps[0]
    assert work["ids"] < work["csv"] / 3, work
