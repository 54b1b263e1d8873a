"""Exporting through the CLI: selections, the queue, files written atomically."""

from __future__ import annotations

import json
import os

import bibtexparser
import pytest

from papercli import export
from papercli.cli.transfer import ExportFormat


@pytest.fixture
def small_queue(run):
    run("queue", "add", "lora", "qlora", "transformer")
    run("mark-read", "transformer")  # leaves the queue
    run("mark-reading", "lora")
    run("note", "lora", "rank 8")
    run("tag", "lora", "+peft-week")


LEGEND = "`[x]` read · `[/]` reading · `[ ]` unread · ~~struck through~~ skipped"


def test_export_formats_match_the_writers():
    assert tuple(str(f) for f in ExportFormat) == export.FORMATS


def test_markdown_checklist_of_the_queue(run, small_queue):
    result = run("export", "--queue", "--title", "My queue")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "# My queue"
    assert lines[2].startswith("Exported ") and lines[2].endswith(f"· 2 papers · {LEGEND}")
    items = [line for line in lines if line.startswith("- [")]
    assert items[0].startswith(
        "- [/] **LoRA** — LoRA: Low-Rank Adaptation of Large Language Models"
    )
    assert items[1].startswith("- [ ] **QLoRA** — QLoRA: Efficient Finetuning of Quantized LLMs")
    assert "[pdf](https://arxiv.org/pdf/2106.09685)" in items[0]


def test_markdown_ticks_read_papers_and_groups(run, small_queue):
    text = run("export", "--status", "read", "--status", "reading", "--group-by", "year").stdout
    assert "## 2017" in text and "## 2021" in text
    assert "- [x] **Transformer**" in text
    assert "- [/] **LoRA**" in text  # being read: neither done nor untouched


def test_bibtex_export_parses_back(run, small_queue):
    text = run("export", "--queue", "--format", "bibtex").stdout
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert [e.key for e in library.entries] == ["hu2021lora", "dettmers2023qlora"]
    lora = library.entries[0]
    assert lora.entry_type == "inproceedings"
    assert lora["booktitle"] == "International Conference on Learning Representations"
    assert lora["author"].startswith("Hu, Edward J. and Shen, Yelong and ")
    assert lora["eprint"] == "2106.09685"
    assert lora["archivePrefix"] == "arXiv"
    assert lora["year"] == "2022"  # ICLR 2022, though on arXiv since 2021


def test_json_export_carries_the_users_state(run, small_queue):
    data = json.loads(run("export", "--search", "lora", "--format", "json").stdout)
    assert data["format"] == "papercli-export"
    lora = next(p for p in data["papers"] if p["id"] == "lora")
    assert lora["status"] == "reading"
    assert lora["queue_position"] == 1
    assert lora["tags"] == ["peft-week"]
    assert [n["body"] for n in lora["notes"]] == ["rank 8"]
    assert [h["new_status"] for h in lora["history"]] == ["reading"]


@pytest.mark.parametrize(
    ("fmt", "tag", "note"),
    [
        ("ris", "KW  - peft-week", "N1  - "),
        ("csv", "peft-week", "rank 8"),
        ("json", "peft-week", "rank 8"),
    ],
)
def test_the_formats_that_carry_tags_and_notes_carry_them(run, small_queue, fmt, tag, note):
    text = run("export", "--search", "lora", "--format", fmt).stdout
    assert tag in text
    assert note in text and "rank 8" in text


def test_output_file_is_written_and_reported(run, small_queue, tmp_path):
    target = tmp_path / "queue.bib"
    result = run("export", "--queue", "-f", "bibtex", "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"wrote 2 papers to {target}" in result.stderr
    assert target.read_text(encoding="utf-8").startswith("@inproceedings{hu2021lora,")


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("backup.json", '{\n  "format": "papercli-export"'),
        ("refs.BIB", "@inproceedings{hu2021lora,"),
        ("queue.csv", "id,"),
        ("queue.ris", "TY  - "),
        ("queue.md", "# Reading list"),
        ("queue.txt", "# Reading list"),
    ],
)
def test_without_format_the_file_name_says_which(run, small_queue, tmp_path, name, starts):
    """`export -o backup.json` wrote Markdown, which the import of the backup refused."""
    target = tmp_path / name
    result = run("export", "--queue", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith(starts)


def test_a_backup_named_json_imports_back_and_format_still_decides(run, small_queue, tmp_path):
    backup = tmp_path / "backup.json"
    assert run("export", "-o", str(backup)).exit_code == 0
    restored = run("--db", str(tmp_path / "restored.db"), "import", str(backup))
    assert restored.exit_code == 0, restored.output
    queued = run("--db", str(tmp_path / "restored.db"), "queue", "--format", "ids")
    assert queued.stdout == "lora\nqlora\n"
    markdown = tmp_path / "list.json"
    assert run("export", "--format", "markdown", "-o", str(markdown)).exit_code == 0
    assert markdown.read_text(encoding="utf-8").startswith("# Reading list")


def test_a_failed_write_keeps_the_old_file(run, small_queue, tmp_path, monkeypatch):
    target = tmp_path / "queue.md"
    target.write_text("my old export\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    result = run("export", "--queue", "-o", str(target))
    assert result.exit_code == 1
    assert "No space left on device" in result.stderr
    assert target.read_text() == "my old export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".queue.md")] == []


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/dir/out.md", "directory {tmp}/missing/dir does not exist"),
        (".", "is a directory"),
        # Under a file, it said "directory {tmp}/afile does not exist", of a file there.
        ("afile/out.md", "cannot write {tmp}/afile/out.md: {tmp}/afile is not a directory"),
        ("afile/sub/out.md", "cannot write {tmp}/afile/sub/out.md: Not a directory"),
    ],
)
def test_bad_output_paths(run, tmp_path, target, message):
    (tmp_path / "afile").write_text("mine\n")
    result = run("export", "-o", str(tmp_path / target))
    assert result.exit_code == 1
    assert message.format(tmp=tmp_path) in result.stderr
    assert (tmp_path / "afile").read_text() == "mine\n"


@pytest.mark.parametrize(
    "args",
    [
        ["export", "-o", "{name}/"],  # the fast path
        ["export", "-o{name}/"],  # Typer
        ["export", "-o", "{name}/.", "-f", "json"],
        ["db", "backup", "{name}/"],
    ],
    ids=" ".join,
)
def test_a_file_name_ending_in_a_slash_is_refused(run, tmp_path, args):
    """Until 3 December Path dropped the slash, and `export -o new/` wrote a file `new`."""
    name = tmp_path / "new"
    result = run(*(arg.format(name=name) for arg in args))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(f"error: cannot write {name}/")
    assert result.stderr.endswith(": it names a directory; give a file name\n")
    assert not name.exists()


def test_unknown_format_lists_the_known_ones(run):
    result = run("export", "--format", "docx")
    assert result.exit_code == 2
    for known in export.FORMATS:
        assert known in result.stderr


def test_queue_export_keeps_the_queue_order_unless_sorted(run):
    run("queue", "add", "qlora", "transformer", "dpo", "lora")

    def ids(*options: str) -> list[str]:
        rows = json.loads(run("export", "--queue", "--format", "json", *options).stdout)
        return [row["id"] for row in rows["papers"]]

    assert ids() == ["qlora", "transformer", "dpo", "lora"]
    assert ids("--reverse") == ["lora", "dpo", "transformer", "qlora"]
    assert ids("--since", "2021") == ["qlora", "dpo", "lora"]
    assert ids("--since", "2021", "--reverse") == ["lora", "dpo", "qlora"]
    assert ids("--sort", "date") == ["transformer", "lora", "qlora", "dpo"]
    assert ids("--sort", "date", "--reverse") == ["dpo", "qlora", "lora", "transformer"]


def test_a_generational_suffix_is_no_family_name(run):
    """``Hal Daumé III`` (as arXiv writes him) and ``Martin Luther King, Jr.`` are cited by
    their family names: BibTeX's rules made ``III`` a family name (``III, Hal Daumé``) and
    ``Martin Luther King`` one with the given name ``Jr.``."""
    authors = ["Hal Daumé III", "Martin Luther King, Jr.", "Robert L. Logan IV", "Ann Lee"]
    args = [arg for name in authors for arg in ("--author", name)]
    added = run("add", "--title", "Notes on Suffixes", *args, "--year", "2020", "--id", "sfx")
    assert added.exit_code == 0, added.stderr
    assert "cite as daume2020notes" in added.stdout
    text = run("export", "--search", "suffixes", "--format", "bibtex").stdout
    (entry,) = bibtexparser.parse_string(text).entries
    assert entry["author"] == (
        "Daumé, III, Hal and King, Jr., Martin Luther and Logan, IV, Robert L. and Lee, Ann"
    )
    (item,) = json.loads(run("export", "--search", "suffixes", "--format", "csl-json").stdout)
    assert item["author"][:2] == [
        {"family": "Daumé", "given": "Hal", "suffix": "III"},
        {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
    ]


@pytest.mark.parametrize("name", ["Eve }", "Ann {Brace", "{Team {GLM}}", "Jo {Le} Roy"])
def test_an_author_with_a_brace_inside_the_name_is_refused(run, name):
    """`Eve }` was stored as family name "{}" and cited as a brace, `Ann {Brace` as
    "{Brace}": names that differ from the one typed. Braces are for a whole institution."""
    added = run("add", "--title", "Notes on Quokkas", "--author", name, "--year", "2024")
    assert (added.exit_code, added.stdout) == (1, "")
    assert added.stderr == (
        f"error: --author {name!r}: braces go around a whole organization's name"
        ' ("{Team GLM}"), not in a name\n'
    )
    assert "quokkas" not in run("list", "--since", "2024").stdout.casefold()


def test_an_author_added_in_braces_is_an_institution(run):
    """``add --author "{Team GLM}"`` is cited as the BibTeX import reads ``{Team GLM}``: one
    name, never split (it was ``\\textbraceleft{}Team GLM\\textbraceright{}``, a person with
    braces in their name); without braces it is a person (``GLM, Team``)."""
    args = ["--author", "{Team GLM}", "--author", "{ Google  DeepMind }", "--author", "Ann Lee"]
    added = run("add", "--title", "Notes on Quokkas", *args, "--year", "2024", "--id", "teams")
    assert added.exit_code == 0, added.stderr
    assert "cite as teamglm2024notes" in added.stdout
    text = run("export", "--search", "quokkas", "--format", "bibtex").stdout
    (entry,) = bibtexparser.parse_string(text).entries
    assert entry["author"] == "{Team GLM} and {Google DeepMind} and Lee, Ann"
    (item,) = json.loads(run("export", "--search", "quokkas", "--format", "csl-json").stdout)
    assert item["author"] == [
        {"literal": "Team GLM"},
        {"literal": "Google DeepMind"},
        {"family": "Lee", "given": "Ann"},
    ]
    shown = run("list", "--search", "quokkas", "--format", "json").stdout
    assert json.loads(shown)[0]["authors"] == ["Team GLM", "Google DeepMind", "Ann Lee"]


def test_a_tag_no_paper_has_is_an_error_and_leaves_an_export_file_as_it_was(run, tmp_path):
    """`export --tag thesys -o refs.bib` (a typo) wrote "wrote 0 papers" over the whole
    bibliography, exit 0, where an unknown --org or --topic is an error."""
    assert run("tag", "lora", "+thesis").exit_code == 0
    refs = tmp_path / "refs.bib"
    assert run("export", "-f", "bibtex", "-o", str(refs)).exit_code == 0
    before = refs.read_bytes()
    for command in (["export", "-o", str(refs)], ["list"], ["queue", "add"]):
        result = run(*command, "--tag", "thesys")
        assert (result.exit_code, result.stdout) == (1, ""), command
        assert result.stderr == "error: unknown tag 'thesys'; did you mean 'thesis'?\n"
    assert refs.read_bytes() == before
    assert "lora" in run("list", "--tag", "THESIS").stdout  # any case of A-Z


def test_a_paper_is_cited_under_the_title_its_venue_printed(run, run_json):
    """LLM.int8() appeared at NeurIPS 2022 as "GPT3.int8(): ...": its NeurIPS citation gave
    arXiv's title, which is not the proceedings' paper. The catalogue still shows arXiv's."""
    venue_title = "GPT3.int8(): 8-bit Matrix Multiplication for Transformers at Scale"
    only = ["--search", "int8", "--since", "2022", "--until", "2022"]
    (entry,) = bibtexparser.parse_string(run("export", "-f", "bibtex", *only).stdout).entries
    assert (entry["title"], entry["booktitle"]) == (
        "{" + venue_title + "}",
        "Advances in Neural Information Processing Systems",
    )
    (item,) = json.loads(run("export", "-f", "csl-json", *only).stdout)
    assert item["title"].startswith('<span class="nocase">GPT3.int8')
    assert f"TI  - {venue_title}" in run("export", "-f", "ris", *only).stdout.splitlines()
    shown = run_json("show", "llm-int8", "--format", "json")
    assert shown["title"].startswith("LLM.int8()") and shown["venue_title"] == venue_title
    (exported,) = json.loads(run("export", "-f", "json", *only).stdout)["papers"]
    assert exported["venue_title"] == venue_title
    assert run_json("show", "lora", "--format", "json")["venue_title"] == ""
