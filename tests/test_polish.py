"""Everyday rough edges a new user tripped over (issue 12), each as that user saw it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _queue(run) -> list[str]:
    return [p["id"] for p in json.loads(run("queue", "--format", "json").stdout)]


def test_a_skipped_paper_leaves_the_queue_and_undo_puts_it_back(run) -> None:
    assert run("queue", "add", "gpt-1", "gpt-2", "gpt-3").exit_code == 0
    assert run("mark-skipped", "gpt-1").exit_code == 0
    assert _queue(run) == ["gpt-2", "gpt-3"]
    assert run("next", "--format", "id").stdout.strip() == "gpt-2"
    exported = run("export", "--queue", "--format", "csv").stdout
    assert "gpt-1" not in exported
    assert run("undo").exit_code == 0
    assert _queue(run) == ["gpt-1", "gpt-2", "gpt-3"]


def test_export_queue_takes_the_filters_and_keeps_the_queue_order(run) -> None:
    assert run("queue", "add", "qlora", "transformer", "lora", "dpo").exit_code == 0
    ids = run("export", "--queue", "--topic", "peft", "--format", "csv").stdout.splitlines()
    assert [line.split(",")[0] for line in ids[1:]] == ["qlora", "lora"]
    since = run("export", "--queue", "--since", "2021", "--format", "csv").stdout.splitlines()
    assert [line.split(",")[0] for line in since[1:]] == ["qlora", "lora", "dpo"]
    by_date = run("export", "--queue", "--sort", "date", "--format", "csv").stdout.splitlines()
    assert [line.split(",")[0] for line in by_date[1:]] == ["transformer", "lora", "qlora", "dpo"]


def test_markdown_groups_by_the_topic_the_listing_was_filtered_by(run) -> None:
    text = run("export", "--topic", "peft", "--group-by", "topic").stdout
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## peft"]
    assert "**LCM-LoRA**" in text


def test_import_queue_dry_run_says_what_would_be_queued(run, tmp_path: Path) -> None:
    bib = tmp_path / "refs.bib"
    bib.write_text("@misc{x, title={LoRA}, eprint={2106.09685}}\n", encoding="utf-8")
    result = run("import", str(bib), "--queue", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be queued: lora" in result.stdout
    assert _queue(run) == []


def test_path_counts_in_the_singular_and_marks_papers_being_read(run) -> None:
    assert run("mark-reading", "transformer").exit_code == 0
    alone = run("path", "transformer").stdout.splitlines()
    assert alone[0].startswith("Reading path to transformer: 1 paper, 0 read")
    assert alone[1].startswith("  1. [/] transformer")


@pytest.mark.parametrize(
    "listing",
    [
        ["list"],
        ["list", "--since", "2021", "-f", "json"],
        ["history"],
        ["history", "--all"],
        ["notes", "-f", "csv"],
    ],
)
def test_limit_zero_shows_everything_in_every_listing(run, listing) -> None:
    """-n 0 is "all" in list, history and notes, as in inbox, refs, cited-by and related
    (until 4 December it showed nothing in these three)."""
    for ref in ("lora", "dpo", "cot"):
        assert run("mark-read", ref).exit_code == 0
        assert run("note", ref, f"read {ref}").exit_code == 0
    everything = run(*listing)
    assert everything.exit_code == 0 and everything.stdout.count("\n") >= 3
    for zero in (["--limit", "0"], ["-n", "0"]):
        assert run(*listing, *zero).stdout == everything.stdout
    assert run(*listing, "-n", "1").stdout != everything.stdout


def test_list_sort_read_orders_by_when_papers_were_read(run, monkeypatch) -> None:
    from papercli.store import library

    times = iter(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"] * 3)
    monkeypatch.setattr(library, "clock", lambda: next(times))
    run("mark-read", "cot")
    run("mark-read", "lora")
    first = run("list", "--sort", "read", "--limit", "3", "--format", "ids").stdout.split()
    assert first[:2] == ["cot", "lora"]  # then the papers never read
    newest = run("list", "--sort", "read", "--reverse", "--limit", "2", "--format", "ids")
    assert newest.stdout.split() == ["lora", "cot"]


def test_markdown_labels_an_address_that_is_a_pdf_as_pdf(run) -> None:
    line = next(
        line for line in run("export", "--search", "gpt-1").stdout.splitlines() if "GPT-1" in line
    )
    assert "[pdf](https://cdn.openai.com/research-covers/" in line
    assert "[abs]" not in line


def test_a_paper_not_on_arxiv_can_be_added_by_hand_and_cited(run, run_json) -> None:
    result = run(
        "add",
        "--title",
        "Deep Learning",
        "--author",
        "Yann LeCun",
        "--author",
        "Yoshua Bengio",
        "--year",
        "2015",
        "--venue",
        "Nature 2015",
        "--doi",
        "10.1038/nature14539",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "added deep-learning: Deep Learning (2015); cite as lecun2015deep\n"
    shown = run_json("show", "deep-learning", "--format", "json")
    assert [a["family"] for a in shown["authors"]] == ["LeCun", "Bengio"]
    assert (shown["venue"], shown["doi"], shown["origin"]) == (
        "Nature 2015",
        "10.1038/nature14539",
        "user",
    )
    bibtex = run("export", "--search", "deep learning", "--year", "2015", "--format", "bibtex")
    assert "@article{lecun2015deep," in bibtex.stdout
    assert run("undo").stdout == "undone: added deep-learning\n"
    assert run("show", "deep-learning").exit_code == 1


def test_a_paper_added_by_hand_again_is_reported_not_added_twice(run) -> None:
    """The same `add --title` typed twice made deep-learning and deep-learning-2015."""
    typed = ["add", "--title", "Deep Learning", "--author", "Yann LeCun", "--year", "2015"]
    assert run(*typed, "--doi", "10.1038/nature14539").exit_code == 0
    for again in (
        ["add", "--title", "deep  learning", "--author", "Y. LeCun", "--year", "2015"],
        ["add", "--title", "Deep learning", "--author", "Y L", "--year", "2015", "--doi",
         "10.1038/NATURE14539"],
    ):  # fmt: skip
        result = run(*again)
        assert (result.exit_code, result.stdout) == (0, "")
        assert result.stderr.endswith(" (2015) is already in your list as deep-learning\n")
    other = run(*typed, "--doi", "10.1234/x")  # the same title and year, another DOI
    assert other.stdout.startswith("added deep-learning-2015:")
    by_doi = run(
        "add", "--title", "Other", "--author", "C D", "--year", "2020", "--doi", "10.1234/X"
    )
    assert by_doi.stderr == "Other (2020) is already in your list as deep-learning-2015\n"
    assert run(*typed[:-1], "2016").stdout.startswith("added deep-learning-2016:")
    named = run(*typed, "--id", "deep-learning-again")  # an id asked for: another paper
    assert named.stdout.startswith("added deep-learning-again:")
    assert run("history", "--all", "--format", "json").stdout.count('"command": "add"') == 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--year", "soon"], "is not a date"),
        (["--year", "2015", "--url", "file:///etc/passwd"], "only http(s) addresses"),
        (["--year", "2015", "--venue", "Nature"], "give '<series> <year>'"),
        (["--year", "2015", "--doi", "nope"], "is not a DOI"),
        ([], "--title needs --year"),
        (["--year", "2015", "--title", "\u200b\u200b"], "--title has no character to show"),
    ],
)
def test_adding_by_hand_checks_what_was_typed(run, extra, message) -> None:
    result = run("add", "--title", "X", "--author", "A B", *extra)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_dois_bibtex_imports_as_a_paper_by_hand(run, run_json, tmp_path: Path) -> None:
    bib = tmp_path / "doi.bib"
    bib.write_text(
        "@article{LeCun_2015, title={Deep learning}, volume={521},"
        " DOI={10.1038/nature14539}, journal={Nature}, author={LeCun, Yann and Bengio, Yoshua"
        " and Hinton, Geoffrey}, year={2015}, month=may, pages={436-444}}\n"
        "@inproceedings{bert, title={BERT}, doi={10.18653/v1/N19-1423}, author={Devlin, Jacob},"
        " year={2019}}\n",
        encoding="utf-8",
    )
    dry = run("import", str(bib), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would be added: deep-learning" in dry.stdout
    assert run("show", "deep-learning").exit_code == 1
    result = run("import", str(bib))
    assert result.exit_code == 0, result.output
    shown = run_json("show", "deep-learning", "--format", "json")
    assert [a["family"] for a in shown["authors"]] == ["LeCun", "Bengio", "Hinton"]
    assert (shown["date"], shown["doi"], shown["citation_key"]) == (
        "2015-05",
        "10.1038/nature14539",
        "LeCun_2015",  # doi.org's key: a paper an import adds is cited by its entry's key
    )
    assert "already there 1" in result.stderr  # BERT, matched by the catalogue's DOI
    assert run("undo").stdout == "undone: added deep-learning\n"


def test_a_bad_entry_in_a_bibtex_file_imports_nothing(run, tmp_path: Path) -> None:
    bib = tmp_path / "bad.bib"
    bib.write_text(
        "@misc{good, title={Fine}, author={A B}, year={2020}}\n"
        "@misc{bad, title={Odd}, author={C D}, year={20x0}}\n",
        encoding="utf-8",
    )
    result = run("import", str(bib))
    assert result.exit_code == 1
    assert "entry 'bad': '20x0' is not a date" in result.stderr
    assert "fine" not in run("list", "--format", "ids").stdout.split()


@pytest.fixture
def in_tokyo(monkeypatch):
    """The process's local time zone is UTC+9 for this test (and back after)."""
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_stored_in_utc_and_shown_in_local_time(run, run_json, monkeypatch, in_tokyo):
    from papercli.store import library

    monkeypatch.setattr(library, "clock", lambda: "2026-01-31T20:30:00Z")  # Feb 1st in Tokyo
    run("mark-read", "lora")
    run("note", "lora", "late night")
    assert run("history").stdout.splitlines()[1].startswith("2026-02-01 05:30  lora")
    [change] = run_json("history", "--format", "json")
    assert change["when"] == "2026-02-01T05:30:00+09:00"
    assert "read on 2026-02-01" in run("show", "lora").stdout
    assert "2026-02-01 05:30" in run("note", "lora").stdout
    assert run_json("notes", "--format", "json")[0]["when"] == "2026-02-01T05:30:00+09:00"
    months = run_json("stats", "--format", "json")["read_per_month"]
    assert months == [{"month": "2026-02", "read": 1}]
    exported = json.loads(
        run("export", "--search", "lora", "--year", "2021", "--format", "json").stdout
    )
    assert exported["papers"][0]["read_at"] == "2026-01-31T20:30:00Z"  # a backup keeps UTC


def test_list_sort_added_puts_the_papers_you_added_first_oldest_first(run) -> None:
    for title in ("First Find", "Second Find"):
        assert run("add", "--title", title, "--author", "A B", "--year", "2024").exit_code == 0
    ids = run("list", "--sort", "added", "--limit", "3", "--format", "ids").stdout.split()
    assert ids[:2] == ["first-find", "second-find"]
    assert ids[2] == run("list", "--limit", "1", "--format", "ids").stdout.strip()  # catalogue
    newest = run("list", "--sort", "added", "--reverse", "--limit", "1", "--format", "ids")
    assert newest.stdout.split() == ["second-find"]


def test_papers_added_with_one_title_get_the_year_then_a_number(run) -> None:
    for number in range(5):  # five papers: each its own DOI (the same one would be one paper)
        typed = ["--title", "Field Notes", "--author", "A B", "--year", "2024"]
        result = run("add", *typed, "--doi", f"10.1234/notes.{number}")
        assert result.exit_code == 0, result.output
    ids = run("list", "--sort", "added", "--limit", "5", "--format", "ids").stdout.split()
    assert ids == [
        "field-notes",
        "field-notes-2024",
        "field-notes-2024-2",
        "field-notes-2024-3",
        "field-notes-2024-4",
    ]
    keys = {
        p["id"]: p["citation_key"]
        for p in json.loads(run("export", "--search", "field notes", "--format", "json").stdout)[
            "papers"
        ]
    }
    assert sorted(keys.values()) == [
        "b2024field",
        "b2024fielda",
        "b2024fieldb",
        "b2024fieldc",
        "b2024fieldd",
    ]


def test_add_takes_a_short_author_option_as_list_export_queue_and_watch_do(run):
    """`-a NAME` was `--author` everywhere else; `add -a` was "No such option"."""
    added = run(
        "add", "--title", "Notes on Quokkas", "-a", "Ann Lee", "-a", "Bo Wu", "--year", "2024"
    )
    assert added.exit_code == 0, added.output
    shown = json.loads(run("show", "notes-on-quokkas", "--format", "json").stdout)
    assert [a["name"] for a in shown["authors"]] == ["Ann Lee", "Bo Wu"]
