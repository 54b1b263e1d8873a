"""Browsing the shipped catalogue through the CLI, as a user would."""

from __future__ import annotations

import csv
import io
import re

import pytest

from papercli.store import library

LIST_KEYS = {
    "id",
    "short_name",
    "title",
    "authors",
    "venue",
    "year",
    "date",
    "kind",
    "organizations",
    "topics",
    "arxiv_id",
    "url",
    "pdf_url",
    "status",
    "newer_version",
}


def test_list_is_oldest_first_and_plain_when_piped(run):
    result = run("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "id",
        "short",
        "name",
        "title",
        "authors",
        "year",
        "organizations",
        "topics",
        "status",
    ]
    assert lines[1].startswith("adam ")  # Adam (2014) is the oldest paper in the catalogue
    assert "Kingma and Ba" in lines[1]
    assert "│" not in result.stdout and "\x1b[" not in result.stdout  # no box drawing, no colour
    assert result.stderr == ""


def test_list_json_has_stable_keys_and_sorted_dates(run_json):
    papers = run_json("list", "--format", "json")
    assert len(papers) >= 60
    assert all(set(p) == LIST_KEYS for p in papers)
    dates = [p["date"] for p in papers]
    assert dates == sorted(dates)
    lora = next(p for p in papers if p["id"] == "lora")
    assert lora["arxiv_id"] == "2106.09685"
    assert lora["url"] == "https://arxiv.org/abs/2106.09685"
    assert lora["year"] == 2021 and lora["status"] == "unread"
    assert isinstance(lora["organizations"], list) and "Microsoft" in lora["organizations"]


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["--since", "2021"], lambda p: p["year"] >= 2021),
        (["--until", "2019"], lambda p: p["year"] <= 2019),
        (["--year", "2020"], lambda p: p["year"] == 2020),
        (["--since", "2019", "--until", "2020"], lambda p: 2019 <= p["year"] <= 2020),
        (["--org", "meta"], lambda p: "Meta AI" in p["organizations"]),
        (["--org", "FACEBOOK"], lambda p: "Meta AI" in p["organizations"]),
        (
            ["--org", "openai", "--org", "google"],
            lambda p: {"OpenAI", "Google"} & set(p["organizations"]),
        ),
        (["--topic", "peft"], lambda p: "peft" in p["topics"]),
        (
            ["--topic", "PEFT", "--since", "2022"],
            lambda p: "peft" in p["topics"] and p["year"] >= 2022,
        ),
    ],
)
def test_list_filters(run_json, args, check):
    papers = run_json("list", *args, "--format", "json")
    assert papers, f"{args} matched nothing"
    assert all(check(p) for p in papers)
    everything = run_json("list", "--format", "json")
    assert len([p for p in everything if check(p)]) == len(papers)


def test_list_search_matches_title_and_aliases(run_json):
    by_title = run_json("list", "--search", "low-rank", "--format", "json")
    assert "lora" in [p["id"] for p in by_title]
    by_alias = run_json("list", "--search", "chain-of-thought", "--format", "json")
    assert "cot" in [p["id"] for p in by_alias]
    assert run_json("list", "--search", "zzqx-nothing", "--format", "json") == []


def test_list_search_is_safe_with_sql_characters(run):
    for text in ['"', "%", "_", "'; DROP TABLE papers; --", "a AND (b", "*"]:
        result = run("list", "--search", text)
        assert result.exit_code == 0, (text, result.output)


def test_list_sort_reverse_and_limit(run):
    result = run("list", "--sort", "title", "--format", "ids")
    ids = result.stdout.split()
    titles = run("list", "--sort", "title", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(titles)))
    assert [r["title"].casefold() for r in rows] == sorted(r["title"].casefold() for r in rows)
    newest = run("list", "--reverse", "--limit", "3", "--format", "ids").stdout.split()
    oldest_first = run("list", "--format", "ids").stdout.split()
    assert newest == oldest_first[::-1][:3]
    assert len(ids) == len(oldest_first)


def test_list_csv_reads_back(run):
    rows = list(csv.DictReader(io.StringIO(run("list", "--org", "meta", "--format", "csv").stdout)))
    assert rows and set(rows[0]) == LIST_KEYS
    assert all("Meta AI" in r["organizations"].split("; ") for r in rows)


def test_list_with_nothing_matching_says_so_on_stderr(run):
    result = run("list", "--year", "1990")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no papers match" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "metaa"], "unknown organization 'metaa'; did you mean 'Meta AI'?"),
        (["--topic", "pfet"], "unknown topic 'pfet'; did you mean 'peft'"),
        (["--since", "2030", "--until", "2020"], "--since 2030 is after --until 2020"),
    ],
)
def test_list_bad_filters_fail_with_one_line(run, args, message):
    result = run("list", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_list_bad_option_value_is_a_usage_error(run):
    result = run("list", "--sort", "colour")
    assert result.exit_code == 2
    assert "colour" in result.stderr


@pytest.mark.parametrize(
    "ref",
    [
        "lora",
        "LoRA",
        "LORA",
        " lora ",
        "2106.09685",
        "2106.09685v2",
        "arXiv:2106.09685",
        "https://arxiv.org/abs/2106.09685",
        "https://arxiv.org/pdf/2106.09685v1",
        "http://arxiv.org/pdf/2106.09685.pdf",
        "low-rank adaptation of large language models",
        "10.48550/arXiv.2106.09685",  # arXiv's own DOI
        "https://doi.org/10.48550/arxiv.2106.09685",
    ],
)
def test_show_finds_a_paper_by_any_reference(run, ref):
    result = run("show", ref)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("lora\n")
    assert "LoRA: Low-Rank Adaptation of Large Language Models" in result.stdout


@pytest.mark.parametrize(
    ("ref", "paper_id"),
    [
        ("gpt3", "gpt-3"),
        ("GPT-3", "gpt-3"),
        ("Chain-of-Thought", "cot"),
        ("attention is all you need", "transformer"),
    ],
)
def test_show_understands_names_people_type(run_json, ref, paper_id):
    assert run_json("show", ref, "--format", "json")["id"] == paper_id


@pytest.mark.parametrize(
    "ref",
    ["10.18653/v1/N19-1423", "10.18653/v1/n19-1423", "doi:10.18653/v1/N19-1423",
     "https://doi.org/10.18653/v1/N19-1423", "https://dx.doi.org/10.18653/v1/N19-1423"],
)  # fmt: skip
def test_a_doi_names_its_paper(run_json, ref):
    """A DOI as people paste it: it was looked up as a name and suggested the closest."""
    assert run_json("show", ref, "--format", "json")["id"] == "bert"


def test_a_doi_no_paper_has_is_said_so(run):
    result = run("show", "10.1234/nothing.here")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "error: no paper in the catalogue or your list has the DOI 10.1234/nothing.here\n"
    )


def test_show_json_has_the_list_keys_plus_long_fields(run_json):
    paper = run_json("show", "qlora", "--format", "json")
    assert set(paper) >= LIST_KEYS
    assert {"aliases", "why", "sources", "prerequisites"} <= set(paper)
    assert "lora" in paper["prerequisites"]
    assert paper["why"]


def test_show_text_lists_prerequisites_with_titles(run):
    result = run("show", "qlora")
    assert result.exit_code == 0
    assert "read first" in result.stdout
    assert "lora (LoRA: Low-Rank Adaptation" in result.stdout


def test_show_keeps_a_url_whole_and_dates_a_note_to_the_minute(run, monkeypatch):
    """Piped, the URL of gpt-1 was cut at the width (`...language_understandin` and
    `g_paper.pdf` on the next line), and a note showed its day alone."""
    monkeypatch.setenv("COLUMNS", "50")  # values beside their labels, the URL past the edge
    monkeypatch.setattr(library, "clock", lambda: "2026-12-05T09:41:00Z")
    run("note", "gpt-1", "see https://example.org/a/very/long/path/that/is/one/word.html")
    shown = run("show", "gpt-1").stdout
    url = next(line for line in shown.splitlines() if line.lstrip().startswith("url"))
    assert url.split()[-1].endswith("language_understanding_paper.pdf")
    assert "https://example.org/a/very/long/path/that/is/one/word.html" in shown
    note = next(line for line in shown.splitlines() if line.lstrip().startswith("note"))
    assert re.search(r"note\s+2026-12-0[45] \d\d:41", note), note


def test_show_ambiguous_lists_candidates(run):
    result = run("show", "gpt")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "'gpt' matches several papers" in result.stderr
    for candidate in ("gpt-1", "gpt-2", "gpt-3"):
        assert candidate in result.stderr


def test_show_unknown_suggests_closest(run):
    result = run("show", "lorra")
    assert result.exit_code == 1
    assert "no paper matches 'lorra'" in result.stderr
    assert "did you mean 'lora'" in result.stderr


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["show", "my-paper"], "error: no paper matches 'my-paper'\n"),
        (["show", "mamba"], "error: no paper matches 'mamba'\n"),
        (
            ["show", "chinchila"],
            "error: no paper matches 'chinchila' — did you mean 'chinchilla'?\n",
        ),
        (["show", "bertt"], "error: no paper matches 'bertt' — did you mean 'bert'?\n"),
        (["list", "--topic", "rag"], "error: unknown topic 'rag'; see papercli topics\n"),
        (
            ["list", "--org", "googel"],
            "error: unknown organization 'googel'; did you mean 'Google'?\n",
        ),
    ],
)
def test_only_names_a_few_letters_off_are_suggested(run, command, said):
    """A suggestion differs from what was typed by a few letters, and is among the best:
    'my-paper' was answered "did you mean 'ppo' or 'bert' or 'dpr'?" (each shares two
    letters with it), 'bertt' with 'distilbert' and 'MiniBERTas' beside 'bert'."""
    result = run(*command)
    assert result.exit_code == 1
    assert result.stderr == said


@pytest.mark.parametrize("ref", ['"', 'attention "is', "NEAR(a", "(low-rank", "*", "a\x00b", "-"])
def test_show_any_reference_is_safe(run, ref):
    """Title words go to the full-text index as words, never as query syntax."""
    result = run("show", "--", ref)
    assert result.exit_code in (0, 1), result.output  # found, or not: never exit 4
    assert "database" not in result.stderr


def test_show_malformed_arxiv_id(run):
    result = run("show", "2106.9685")
    assert result.exit_code == 1
    assert "'2106.9685' is not an arXiv id (expected e.g. 2106.09685" in result.stderr


def test_show_well_formed_arxiv_id_not_in_catalogue(run):
    result = run("show", "2301.00001")
    assert result.exit_code == 1
    assert "arXiv:2301.00001 is not in the catalogue" in result.stderr


@pytest.mark.parametrize("command", ["orgs", "topics"])
def test_counts_sort_by_count_then_name(run_json, command):
    rows = run_json(command, "--format", "json")
    counts = [r["papers"] for r in rows]
    assert counts == sorted(counts, reverse=True)
    by_name = run_json(command, "--sort", "name", "--format", "json")
    assert [r["name"].casefold() for r in by_name] == sorted(r["name"].casefold() for r in rows)


def test_org_counts_agree_with_list(run_json):
    orgs = {r["name"]: r for r in run_json("orgs", "--format", "json")}
    assert "Facebook" in orgs["Meta AI"]["aliases"]
    meta_papers = run_json("list", "--org", "Meta AI", "--format", "json")
    assert orgs["Meta AI"]["papers"] == len(meta_papers)


def test_an_orgs_aliases_are_told_apart_when_one_holds_a_comma(run, run_json):
    """Joined with ", ", `Google Research, Brain Team` read as two aliases."""
    aliases = {r["name"]: r["aliases"] for r in run_json("orgs", "--format", "json")}["Google"]
    assert "Google Research, Brain Team" in aliases
    (line,) = [line for line in run("orgs").stdout.splitlines() if re.match(r"Google +\d", line)]
    assert line.split(None, 2)[2] == "; ".join(aliases)


def test_topics_have_descriptions_and_plain_table(run):
    result = run("topics")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[:3] == ["topic", "papers", "description"]
    assert "peft" in result.stdout


def test_shell_completion_offers_paper_ids_for_show():
    from typer.testing import CliRunner

    from papercli.cli.app import app

    env = {
        "_PAPERCLI_COMPLETE": "complete_bash",
        "COMP_WORDS": "papercli show qlo",
        "COMP_CWORD": "2",
    }
    result = CliRunner().invoke(app, [], env=env, prog_name="papercli")
    assert result.stdout.split() == ["qlora"]


def test_version(run):
    from papercli import __version__

    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"papercli {__version__}\n"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--since", "2021", "--until", "2022"],
        ["--topic", "peft", "--reverse"],
        ["--org", "google", "--sort", "title"],
        ["--sort", "year", "--reverse", "--limit", "7"],
        ["--search", "language models", "--limit", "5"],
        ["--search", "attention"],
        ["--status", "unread", "--limit", "0"],
    ],
    ids=lambda args: " ".join(args) or "(all)",
)
def test_ids_are_the_listing_in_the_same_order(run, run_json, args):
    ids = run("list", *args, "--format", "ids").stdout.splitlines()
    assert ids == [paper["id"] for paper in run_json("list", *args, "--format", "json")]


def test_a_long_listing_at_a_terminal_is_plain_text(run, monkeypatch):
    from papercli.cli import common

    monkeypatch.setattr(common, "fancy_output", lambda: True)
    rich = run("list")
    assert rich.exit_code == 0 and "┃" in rich.stdout  # the catalogue fits in one Rich table
    monkeypatch.setattr(common, "RICH_MAX_ROWS", 10)
    monkeypatch.setenv("COLUMNS", "80")
    plain = run("list")
    assert plain.exit_code == 0 and "┃" not in plain.stdout
    assert max(map(len, plain.stdout.splitlines())) <= 80  # wrapped to the terminal
    monkeypatch.setattr(common, "fancy_output", lambda: False)
    piped = run("list").stdout.splitlines()
    assert len(piped) == len(run("list", "--format", "ids").stdout.split()) + 1  # one a row
