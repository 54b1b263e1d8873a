"""Exports are written as they are read, a chunk of papers at a time: their bytes stay
exactly those of the whole-list writer they replaced.

GOLDEN holds the SHA-256 of each export of the catalogue with a user's state on it (statuses
with their history, an undone command, notes, tags, the queue, fetched arXiv metadata, an
announced version, papers added by hand without a citation key), as the whole-list writer
printed them. A deliberate change of an export's bytes (or of the catalogue) changes these:
print the new ones with ``python -m tests.test_export_stream`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from papercli import export, files, graph, paths, records
from papercli.cli import views
from papercli.cli.app import app
from papercli.errors import InvalidValueError
from papercli.models import ArxivRecord, Author, Paper, ReadStatus
from papercli.store import arxiv_meta, base, connection, library, merge, notes, papers, scratch
from tests.conftest import peak_megabytes
from tests.test_export import HISTORY, LINKS
from tests.test_export import queue as sample_papers
from tests.test_query_plans import _BIG, _plan, _queries, statements  # noqa: F401 (fixture)

EXPORTED_ON = date(2026, 11, 22)

# (label, command line after `papercli export`)
CASES: list[tuple[str, list[str]]] = [
    *((f"all {fmt}", ["--format", fmt]) for fmt in export.FORMATS),
    ("markdown by topic", ["--group-by", "topic"]),
    ("markdown by year", ["--group-by", "year"]),
    ("markdown peft by topic", ["--topic", "peft", "--group-by", "topic"]),
    ("markdown read by year", ["--status", "read", "--status", "reading", "--group-by", "year"]),
    ("queue json", ["--queue", "--format", "json"]),
    ("queue bibtex by title", ["--queue", "--sort", "title", "--format", "bibtex"]),
    ("search csv", ["--search", "lora", "--format", "csv"]),
    ("titles reversed ris", ["--sort", "title", "--reverse", "--format", "ris"]),
    ("added csl-json", ["--sort", "added", "--format", "csl-json"]),
    ("nothing json", ["--year", "1990", "--format", "json"]),
    ("nothing bibtex", ["--year", "1990", "--format", "bibtex"]),
    ("nothing markdown by topic", ["--year", "1990", "--group-by", "topic"]),
]

GOLDEN: dict[str, str] = {
    "all markdown": "8a4196eae87fa3d5a77bb5e71746baef8c3de8739d16efe9c7e53027278827d8",
    "all csv": "fbbd833054060e7cce601509c51d55887b28c90e71b455868f84997defb46a6e",
    "all json": "95fc9e685a94ce2735c5d00c90f7639f86d2862e2c042f7dbf5647435b4f8e73",
    "all bibtex": "91c4e93a5ea071274162836056a04ee1eab56da8fa02ee4e54f7d3765e8eb663",
    "all csl-json": "7be00ad59801c70d73124cd60befe7c9241e7cd1a61e6ee3cb6e03f30aad9e62",
    "all ris": "80821090498583ebd0b8bdc492c1104f0048568eba8dc91b7276c12dabad9822",
    "markdown by topic": "52de756aefd9cfb0694fbed4eb6eca74ddb2a6637f58bf70c4939cf34338d22c",
    "markdown by year": "9175d6f7732d5e1c35d6b76aea66edb9c66087d8e5216f90236ecc6bfe4001d2",
    "markdown peft by topic": "5b5cc63b9355ddd22f4907927fa891258b61d42dec7f55c05aae3ae793af5288",
    "markdown read by year": "3fb0c8279fd10ef7192fc9598ac03c47dcdabeb2a644615e01a5ec79b6ee6638",
    "queue json": "e9a6eff936382be63b1602e9d813b04df6d14072e08a44a89e1f0143c8a8c622",
    "queue bibtex by title": "d533b73cc00f350a65eb5eed963e7d47851246f8f0639adc25c8ca902d940380",
    "search csv": "cafda1c81c4638e2d87b09d17f764a3c10052925600fb494d350bb97498a675f",
    "titles reversed ris": "197480905d68f6d09cc0a5f0cdd3d697c1c95f35bc7027fa866a26ebdca136b6",
    "added csl-json": "78b6f58fb85de8700f6489bc5e330b3a9a14fe9a4dfe90207064362f9581b824",
    "nothing json": "3bc773f8febc117899d155951ec65aad192f43393d0eba1a762be38307b416e1",
    "nothing bibtex": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "nothing markdown by topic": "4447c10cc386c76e9c22745087c6dbec1ddcfe96262e259f7f0138d5d1a1c948",
}


def _times() -> Iterator[str]:
    for minute in itertools.count():
        yield f"2026-11-{1 + minute // 600:02d}T{minute // 60 % 10:02d}:{minute % 60:02d}:00Z"


def build_library(db_path: Path) -> None:
    """The shipped catalogue with a user's state and fetched metadata on it."""
    times = _times()
    saved = library.clock, notes.new_uid
    library.clock = lambda: next(times)
    uids = itertools.count(1)
    notes.new_uid = lambda: f"note-{next(uids)}"  # a JSON export carries each note's uid
    try:
        conn = connection.open_database(db_path, paths.seed_path())
        _fill(conn)
        conn.close()
    finally:
        library.clock, notes.new_uid = saved


def _fill(conn: sqlite3.Connection) -> None:
    hand = [
        Paper(
            id=f"by-hand-{n}",
            title="LoRA: again, {by hand} & 100% $x^2$" if n else "Attention, once more",
            short_name=f"By hand {n}",
            year=2021,
            date="2021-06",
            kind="report" if n == 2 else "paper",
            url=f"https://example.org/{n} (copy).pdf",
            origin="user",
            organizations=["Microsoft"] if n else [],
            topics=["peft"] if n else [],
            authors=[Author("Edward J. Hu", family="Hu", given="Edward J.")] if n else [],
            added_at=f"2026-10-0{n + 1}T08:00:00Z",
        )
        for n in range(3)
    ]
    with base.transaction(conn):
        for paper in hand:
            papers.insert_paper(conn, paper)
        # An older database's papers without a key: the export derives one, unique in it.
        conn.execute("UPDATE papers SET citation_key = NULL WHERE origin = 'user'")
        record = ArxivRecord(
            arxiv_id="2106.09685",
            version=2,
            title="LoRA: Low-Rank Adaptation of Large Language Models",
            abstract="We propose {LoRA}.\nIt freezes $W_0$ & trains 0.01% — 读.",
            authors=[Author("Edward J. Hu", ("Microsoft",)), Author("Yelong Shen")],
            published="2021-06-17T17:37:18Z",
            updated="2021-10-16T19:36:22Z",
            primary_category="cs.CL",
            categories=["cs.CL", "cs.LG"],
            dois=["10.48550/arXiv.2106.09685"],
            journal_ref=None,
            comment="Draft V2",
            abs_url="https://arxiv.org/abs/2106.09685v2",
            pdf_url="https://arxiv.org/pdf/2106.09685v2",
        )
        arxiv_meta.store_arxiv_record(conn, "lora", record, "2026-10-29T12:00:00Z")
    library.queue_add(conn, ["qlora", "by-hand-1", "transformer", "lora", "gpt-3"])
    library.set_status(conn, ["transformer", "lora", "by-hand-2"], ReadStatus.READING)
    library.set_status(conn, ["transformer", "lora"], ReadStatus.READ)
    library.set_status(conn, ["gpt-2"], ReadStatus.SKIPPED)
    library.set_status(conn, ["qlora"], ReadStatus.READ)
    library.undo(conn)  # its history stays, marked undone: the export leaves it out
    with base.transaction(conn):  # a version newer than the one read
        conn.execute("INSERT INTO announced_versions VALUES ('lora', 3, '2026-11-20', 0)")
    notes.add_note(conn, "lora", '读完了。\nKey idea: ΔW = BA, "rank" 4; see {1}')
    notes.add_note(conn, "lora", "second, | with a bar")
    notes.add_note(conn, "by-hand-1", "mine")
    notes.change_tags(conn, ["lora", "qlora", "by-hand-0"], ["peft-week", "必读"], [])
    notes.change_tags(conn, ["transformer"], ["classic"], [])
    graph.change_prereqs(conn, "gpt-2", ["bert"], [])  # JSON: your_prerequisites
    graph.change_prereqs(conn, "lora", [], ["gpt-3"])


@pytest.fixture
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    class Day(date):
        @classmethod
        def today(cls) -> Day:
            return cls(EXPORTED_ON.year, EXPORTED_ON.month, EXPORTED_ON.day)

    monkeypatch.setattr(views, "date", Day)


@pytest.fixture
def rich_library(db_path: Path, fixed_day: None) -> Path:
    build_library(db_path)
    return db_path


def export_all(run: Callable[..., Result]) -> dict[str, str]:
    outputs = {}
    for label, args in CASES:
        result = run("export", *args)
        assert (result.exit_code, result.stderr) == (0, ""), (label, result.output)
        outputs[label] = result.stdout
    return outputs


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(params=[scratch.CHUNK, 7, 1], ids=lambda size: f"chunks of {size}")
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Papers read and written at a time: the default (more than the catalogue), and
    sizes that put sections, keys and separators on each side of a chunk's edge."""
    monkeypatch.setattr(scratch, "CHUNK", request.param)
    return int(request.param)


@pytest.mark.parametrize(("label", "args"), CASES, ids=[label for label, _ in CASES])
def test_export_bytes_are_unchanged(run, rich_library, chunk, label, args):
    result = run("export", *args)
    assert (result.exit_code, result.stderr) == (0, "")
    assert digest(result.stdout) == GOLDEN[label]


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_a_file_holds_the_bytes_of_stdout(run, rich_library, tmp_path, fmt):
    target = tmp_path / f"out.{fmt}"
    result = run("export", "--format", fmt, "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.startswith(f"wrote 79 papers to {target}")
    assert digest(target.read_bytes().decode()) == GOLDEN[f"all {fmt}"]


@pytest.mark.parametrize("fmt", export.FORMATS)
@pytest.mark.parametrize("size", [1, 3])
def test_streamed_chunks_make_the_text_of_the_whole_list(fmt, size):
    """Keys stay unique across chunks (the sample's fourth paper repeats the first's key
    stem), JSON and CSL-JSON commas and the separators of BibTeX and RIS fall between."""
    whole = sample_papers()
    chunks = [(whole[i : i + size], HISTORY, LINKS) for i in range(0, len(whole), size)]
    options = {"exported_on": EXPORTED_ON, "title": "Queue"}
    streamed = export.stream_papers(chunks, fmt, count=len(whole), **options)  # type: ignore[arg-type]
    expected = export.export_papers(
        whole,
        fmt,
        history=HISTORY,
        your_prerequisites=LINKS,
        **options,  # type: ignore[arg-type]
    )
    assert "".join(streamed) == expected


def test_stream_papers_checks_its_options_before_it_is_read():
    with pytest.raises(InvalidValueError, match="grouping only applies to markdown"):
        export.stream_papers([], "csv", count=0, exported_on=EXPORTED_ON, group_by="year")


def test_full_papers_read_everything_in_the_order_asked(rich_library):
    """The batched reader behind show, next and export: in the order asked, a paper asked
    twice twice, arXiv metadata, affiliations and the user's state included (or left out)."""
    conn = connection.open_database(rich_library, paths.seed_path())
    ids = [pid for (pid,) in conn.execute("SELECT id FROM papers ORDER BY random()")]
    ids += ids[:3]
    assert [paper.id for paper in papers.full_papers(conn, ids)] == ids
    (lora,) = papers.full_papers(conn, ["lora"])
    assert lora.authors[0].affiliations == ("Microsoft",)
    assert lora.abstract and lora.arxiv_version
    assert lora.tags == notes.tags_by_paper(conn, ["lora"])["lora"] and lora.tags
    assert lora.notes == notes.notes_of(conn, "lora") and lora.notes
    assert lora.status_changed_at and lora.status is not ReadStatus.UNREAD
    bare = papers.get_paper(conn, "lora")
    assert (bare.tags, bare.notes, bare.status_changed_at) == ([], [], None)
    assert records.replace(bare, tags=lora.tags, notes=lora.notes) == records.replace(
        lora,
        status_changed_at=None,
        read_at=None,
        queue_position=None,
    )
    with pytest.raises(InvalidValueError, match="no paper with id 'nope'"):
        papers.full_papers(conn, ["lora", "nope"])
    conn.close()


@pytest.mark.parametrize("fmt", ["json", "ris"])
def test_an_export_reads_the_database_as_it_was_when_it_began(run, rich_library, monkeypatch, fmt):
    """Another command's changes while an export runs (it is not held up) are not in it."""
    monkeypatch.setattr(scratch, "CHUNK", 7)
    reads = 0
    read_chunk = merge.full_papers

    def meanwhile(conn: sqlite3.Connection, ids: Sequence[str], **options: bool) -> list[Paper]:
        nonlocal reads
        reads += 1
        if reads == 2:
            other = connection.open_database(rich_library, paths.seed_path())
            library.set_status(other, ["gpt-4", "lora"], ReadStatus.SKIPPED)
            notes.add_note(other, "qlora", "written during the export")
            other.close()
        return read_chunk(conn, ids, **options)

    monkeypatch.setattr(merge, "full_papers", meanwhile)
    result = run("export", "--format", fmt)
    assert reads > 2
    assert digest(result.stdout) == GOLDEN[f"all {fmt}"]
    assert "written during the export" in run("export", "--format", fmt).stdout


def test_a_file_is_written_as_the_papers_are_read(run, rich_library, monkeypatch, tmp_path):
    monkeypatch.setattr(scratch, "CHUNK", 10)
    target = tmp_path / "out.bib"
    target.write_text("the old file\n")
    sizes: list[int] = []
    read_chunk = merge.full_papers

    def watched(conn: sqlite3.Connection, ids: Sequence[str], **options: bool) -> list[Paper]:
        (temporary,) = tmp_path.glob(".out.bib.*.tmp")
        sizes.append(temporary.stat().st_size)
        assert target.read_text() == "the old file\n"
        return read_chunk(conn, ids, **options)

    monkeypatch.setattr(merge, "full_papers", watched)
    assert run("export", "--format", "bibtex", "-o", str(target)).exit_code == 0
    assert len(sizes) == 8 and sizes[0] == 0 and sizes == sorted(sizes) and sizes[-1] > 0
    assert digest(target.read_text()) == GOLDEN["all bibtex"]


def test_stdout_gets_each_chunk_as_it_is_read(run, rich_library, monkeypatch):
    monkeypatch.setattr(scratch, "CHUNK", 10)
    printed: list[int] = []
    read_chunk = merge.full_papers

    def watched(conn: sqlite3.Connection, ids: Sequence[str], **options: bool) -> list[Paper]:
        printed.append(len(sys.stdout.buffer.getvalue()))  # type: ignore[attr-defined]
        return read_chunk(conn, ids, **options)

    monkeypatch.setattr(merge, "full_papers", watched)
    assert run("export", "--format", "csv").exit_code == 0
    assert printed[0] > 0  # the header, before the first paper is read
    assert printed == sorted(set(printed)) and len(printed) == 8


def test_a_failure_midway_leaves_the_old_file(run, rich_library, monkeypatch, tmp_path):
    monkeypatch.setattr(scratch, "CHUNK", 10)
    target = tmp_path / "out.json"
    target.write_text("the old file\n")
    reads = 0
    read_chunk = merge.full_papers

    def failing(conn: sqlite3.Connection, ids: Sequence[str], **options: bool) -> list[Paper]:
        nonlocal reads
        reads += 1
        if reads == 3:
            raise sqlite3.OperationalError("disk I/O error")
        return read_chunk(conn, ids, **options)

    monkeypatch.setattr(merge, "full_papers", failing)
    result = run("export", "--format", "json", "-o", str(target))
    assert result.exit_code != 0
    assert result.stderr == f"error: database error in {tmp_path / 'papercli.db'}: disk I/O error\n"
    assert target.read_text() == "the old file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "out.json", "papercli.db"]


def test_pieces_that_fail_leave_no_file(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "out.txt"

    def pieces() -> Iterator[str]:
        yield "a first piece\n"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.write_atomic_pieces(target, pieces())
    assert list(folder.iterdir()) == []
    files.write_atomic_pieces(target, iter(["one, ", "two\n"]))
    assert target.read_text() == "one, two\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json"],
        ["--format", "bibtex"],
        ["--group-by", "topic"],
        ["--queue", "--format", "csl-json"],
    ],
    ids=" ".join,
)
def test_an_export_reads_no_big_table_whole_per_chunk(run, rich_library, statements, args):  # noqa: F811
    """Only the selection may walk the papers (an export of all of them must); what is read
    for each chunk is looked up by id."""
    statements.clear()
    assert run("export", *args).exit_code == 0
    per_chunk = [sql for sql in _queries(statements) if "json_each" in sql or " IN (" in sql]
    assert len(per_chunk) >= 4  # a citation reads the fewest: papers, authors, orgs, arXiv
    scans = [
        (sql, detail)
        for sql in per_chunk
        for _, _, detail in _plan(rich_library, sql)
        if re.match(rf"SCAN {_BIG}\b", detail)
    ]
    assert scans == []


@pytest.mark.parametrize("fmt", [*export.CITATIONS, "ris"])
def test_a_citation_reads_only_what_it_prints(run, rich_library, statements, fmt):  # noqa: F811
    """BibTeX and CSL-JSON print no topics, aliases, sources or prerequisites, so an export
    in them reads none of them (6 to 12% of a BibTeX export's time);
    RIS prints the topics as keywords, and reads them."""
    statements.clear()
    assert run("export", "--format", fmt).exit_code == 0
    read = "\n".join(_queries(statements))
    unprinted = ["FROM paper_topics", "FROM paper_sources", "FROM prerequisites", "is_alias"]
    assert [what for what in unprinted if what in read] == ([] if fmt != "ris" else unprinted)


# --- Memory --------------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in kB is Linux's")
@pytest.mark.parametrize(
    "args", [["--format", "json"], ["--format", "bibtex"], ["--group-by", "topic"]], ids=" ".join
)
def test_memory_does_not_grow_with_the_papers_exported(synthetic, tmp_path, args):
    """Five times the papers, about the same memory. (Whole-list exports took 24 kB more
    per paper for JSON, 9 kB for BibTeX, 7 kB for Markdown: 190, 70 and 55 MB more here.)"""
    small, large = (
        peak_megabytes("--db", str(synthetic[n]), "export", *args, "-o", str(tmp_path / "out"))
        for n in (2_000, 10_000)
    )
    assert large - small < 10, (small, large)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "papercli.db"
        build_library(path)
        runner = CliRunner()
        views.date = type(  # type: ignore[misc]
            "Day", (date,), {"today": classmethod(lambda cls: EXPORTED_ON)}
        )

        def invoke(*args: str) -> Result:
            return runner.invoke(app, ["--db", str(path), *args])

        print("GOLDEN = {")
        for label, text in export_all(invoke).items():
            print(f'    "{label}": "{digest(text)}",')
        print("}")
