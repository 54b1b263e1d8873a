"""Schema upgrades: an old database reaches the current schema with the user's data intact."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from papercli.models import ArxivRecord, Author, Paper
from papercli.store import arxiv_meta, base, migrations, papers
from papercli.store.connection import open_database

USER_TABLES = ("reading_state", "status_history", "notes", "tags", "queue")


def _schema_1_database(path: Path) -> None:
    """A database as papercli left it before arXiv metadata existed, with a user's state."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        f"BEGIN; {migrations.M001_INITIAL} PRAGMA user_version = 1; COMMIT;"
        """
        BEGIN;
        INSERT INTO reading_state VALUES ('lora', 'read', '2024-01-02T00:00:00Z',
                                          '2024-01-02T00:00:00Z', 1);
        INSERT INTO reading_state VALUES ('transformer', 'reading', '2024-01-01T00:00:00Z',
                                          NULL, NULL);
        INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at)
            VALUES (1, 'transformer', 'unread', 'reading', '2024-01-01T00:00:00Z'),
                   (2, 'lora', 'unread', 'read', '2024-01-02T00:00:00Z');
        INSERT INTO notes (paper_id, created_at, body)
            VALUES ('lora', '2024-01-02T00:00:00Z', 'rank 8 is plenty');
        INSERT INTO tags VALUES ('lora', 'must-read'), ('transformer', 'classic');
        INSERT INTO queue VALUES ('llama', 1, '2024-01-03T00:00:00Z'),
                                 ('transformer', 2, '2024-01-03T00:00:00Z');
        COMMIT;
        """
    )
    conn.close()


def _user_state(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """The user's rows in the columns schema 1 had (later migrations add columns)."""
    return {
        t: [tuple(r) for r in conn.execute(f"SELECT {SCHEMA_1_COLUMNS[t]} FROM {t} ORDER BY 1, 2")]
        for t in USER_TABLES
    }


SCHEMA_1_COLUMNS = {
    "reading_state": "paper_id, status, changed_at, read_at, read_version",
    "status_history": "id, batch, paper_id, old_status, new_status, changed_at, queue_position",
    "notes": "id, paper_id, created_at, body",
    "tags": "paper_id, tag",
    "queue": "paper_id, position, added_at",
}


def test_schema_1_upgrades_with_the_users_state_intact(tmp_path: Path, mini_seed: Path) -> None:
    db = tmp_path / "old.db"
    _schema_1_database(db)
    old = sqlite3.connect(db)
    before = _user_state(old)
    old.close()

    conn = open_database(db, mini_seed)

    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    assert _user_state(conn) == before
    assert all(before.values())
    assert conn.execute("SELECT count(*) FROM arxiv_meta").fetchone()[0] == 0
    assert papers.get_paper(conn, "lora").title  # the catalogue was loaded alongside
    conn.close()


def test_the_arxiv_tables_have_the_columns_other_code_reads(
    tmp_path: Path, mini_seed: Path
) -> None:
    conn = open_database(tmp_path / "new.db", mini_seed)
    columns = {
        table: [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        for table in ("arxiv_meta", "arxiv_authors")
    }
    assert columns == {
        "arxiv_meta": [
            "paper_id", "arxiv_id", "version", "title", "abstract", "published", "updated",
            "primary_category", "categories", "dois", "journal_ref", "comment", "abs_url",
            "pdf_url", "fetched_at",
        ],
        "arxiv_authors": ["paper_id", "position", "name", "affiliations"],
    }  # fmt: skip
    conn.close()


def test_migrating_again_does_nothing(tmp_path: Path, mini_seed: Path) -> None:
    conn = open_database(tmp_path / "new.db", mini_seed)
    assert migrations.migrate(conn) == 0
    conn.close()


def _schema_4_database_with_a_user_paper(path: Path) -> None:
    """A database from before authors and citation keys, holding a paper the user added
    from arXiv (with its fetched authors) and the catalogue as that papercli shipped it."""
    conn = sqlite3.connect(path, isolation_level=None)
    script = "".join(migrations.MIGRATIONS[:4])
    conn.executescript(f"BEGIN; {script} PRAGMA user_version = 4; COMMIT;")
    conn.executescript(
        """
        BEGIN;
        INSERT INTO papers (id, title, short_name, arxiv_id, date, year, origin)
            VALUES ('mamba', 'Mamba: Linear-Time Sequence Modeling with Selective State Spaces',
                    'Mamba', '2312.00752', '2023-12-01', 2023, 'user');
        INSERT INTO arxiv_meta (paper_id, arxiv_id, version, title, abstract, published,
                                updated, fetched_at)
            VALUES ('mamba', '2312.00752', 2, 'Mamba', '', '2023-12-01T00:00:00Z',
                    '2024-05-31T00:00:00Z', '2024-06-01T00:00:00Z');
        INSERT INTO arxiv_authors (paper_id, position, name)
            VALUES ('mamba', 0, 'Albert Gu'), ('mamba', 1, 'Tri Dao');
        INSERT INTO reading_state VALUES ('mamba', 'read', '2024-06-02T00:00:00Z',
                                          '2024-06-02T00:00:00Z', 2);
        COMMIT;
        """
    )
    conn.close()


def test_schema_4_gains_authors_and_keys_for_every_paper(tmp_path: Path, mini_seed: Path) -> None:
    db = tmp_path / "old.db"
    _schema_4_database_with_a_user_paper(db)

    conn = open_database(db, mini_seed)

    mamba = papers.get_paper(conn, "mamba")
    assert [(a.given, a.family) for a in mamba.authors] == [("Albert", "Gu"), ("Tri", "Dao")]
    assert mamba.citation_key == "gu2023mamba"
    lora = papers.get_paper(conn, "lora")
    assert (lora.citation_key, lora.venue, lora.authors[0].family) == (
        "hu2021lora",
        "ICLR 2022",
        "Hu",
    )
    assert conn.execute("SELECT count(*) FROM papers WHERE citation_key IS NULL").fetchone() == (0,)
    # The search index was rebuilt with the authors in it.
    hits = conn.execute(
        "SELECT d.paper_id FROM paper_search JOIN search_docs d ON d.docid = paper_search.rowid"
        " WHERE paper_search MATCH 'authors : dao'"
    ).fetchall()
    assert hits == [("mamba",)]
    conn.close()


# What each released migration says, as it shipped (sha256, first 16 hex digits). A
# database past a migration never runs it again, so a released one must never change:
# what it should have done goes into a new one (as migration 16 did for 15).
RELEASED = [
    "3af877b4b1e3375b", "ecadd0eec2d89630", "09798ba2f435cfde", "a45b21227da41d25",
    "7d040dd5545a1848", "cde2f37c50f79d98", "94fe9a4958821b8d", "c0d38f6849c27674",
    "6054c4186fdd3f30", "f6f4d2bd1eaefe5b", "bb077b51c6f30f91", "34e5e4e9d7b0afe8",
    "3d51d909504685c6", "78b75bc0d4d121d1", "f14c94e077e9308b", "998db93d05971a4e",
    "5953f41823e8665e", "01f254b04a4c3853", "d5a63433bd8a9c87", "3bca5a18be8d7f50",
    "6225ca77acacf129", "a8e844886761112b", "55d89ee26b3f77f3", "d994b983a5d0762c",
    # 25 drops step 5's DOI index only if it is there (since 5 December): the same for a
    # database that took the step, and one whose step 5 had made no such index had stopped
    # at 24 on every command (see the test of databases from before steps were widened).
    "971cce8007d76d64",
]  # fmt: skip

# Migration 22 calls a function of papercli's (authors.resplit_columns, through
# export.resplit), so its SQL alone does not say what it does: what it made of each kind
# of name it touches, as it shipped. A change to how names split that changes a row here
# changes what an upgrade from 21 does: keep a copy of today's function for migration 22.
M022_SPLITS = [
    (("Hal Daumé III", "III", "Hal Daumé", ""), ["Hal Daumé III", "Daumé", "Hal", "III", 0]),
    (
        ("Martin Luther King Jr.", "Jr.", "Martin Luther King", ""),
        ["Martin Luther King Jr.", "King", "Martin Luther", "Jr.", 0],
    ),
    (
        ("Jr. Martin Luther King", "Martin Luther King", "Jr.", ""),
        ["Martin Luther King Jr.", "King", "Martin Luther", "Jr.", 0],
    ),
    (("Jr. Smith", "Smith", "Jr.", ""), ["Smith Jr.", "Smith", "", "Jr.", 0]),
    (
        ("Guido van Rossum Jr", "van Rossum Jr", "Guido", ""),
        ["Guido van Rossum Jr", "van Rossum", "Guido", "Jr", 0],
    ),
    (("Henry IV", "IV", "Henry", ""), ["Henry IV", "Henry", "", "IV", 0]),
    (("Louis Sr.", "Sr.", "Louis", ""), ["Louis Sr.", "Louis", "", "Sr.", 0]),
    (("{Team GLM}", "{Team GLM}", "", ""), ["Team GLM", "Team GLM", "", "", 1]),
    (("{X, Y and Z}", "{X, Y and Z}", "", ""), ["X, Y and Z", "X, Y and Z", "", "", 1]),
    (("Ann Lee", "Lee", "Ann", ""), None),
    (("Hal Daumé III", "Daumé III", "Hal", ""), None),  # an import's explicit split
    (("OpenAI", "OpenAI", "", ""), None),
]


def test_steps_run_a_statement_at_a_time_make_the_schema_their_scripts_make(
    tmp_path: Path,
) -> None:
    """Each step now runs statement by statement inside its transaction (to look at the
    version under the write lock first): the same schema as every script run whole."""
    whole = sqlite3.connect(tmp_path / "whole.db", isolation_level=None)
    migrations.add_functions(whole)
    for step in migrations.MIGRATIONS:
        step(whole) if callable(step) else whole.executescript(step)
    stepped = sqlite3.connect(tmp_path / "stepped.db", isolation_level=None)
    assert migrations.migrate(stepped) == migrations.SCHEMA_VERSION
    schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    assert stepped.execute(schema).fetchall() == whole.execute(schema).fetchall()
    assert len(whole.execute(schema).fetchall()) > 50


def test_commands_opening_an_old_database_at_once_all_upgrade_it_once(tmp_path: Path) -> None:
    """After an upgrade of papercli, a cron job beside a person: every command saw the
    database old and applied each step again, and 14 of 20 failed ("duplicate column
    name: venue"), four at a time from schema 1."""
    db = tmp_path / "old.db"
    _schema_1_database(db)
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "papercli", "--db", str(db), "list", "--limit", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=60)[1] for process in started]
    assert [process.returncode for process in started] == [0, 0, 0, 0], errors
    conn = sqlite3.connect(db)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    assert conn.execute("SELECT status FROM reading_state WHERE paper_id = 'lora'").fetchone()
    conn.close()


def test_released_migrations_never_change() -> None:
    shipped = migrations.MIGRATIONS[: len(RELEASED)]
    assert all(isinstance(m, str) for m in shipped)
    assert [hashlib.sha256(m.encode()).hexdigest()[:16] for m in shipped] == RELEASED  # type: ignore[union-attr]


def test_migration_22_splits_names_as_it_shipped() -> None:
    conn = sqlite3.connect(":memory:")
    migrations.add_functions(conn)
    for stored, split in M022_SPLITS:
        (now,) = conn.execute("SELECT resplit_author(?, ?, ?, ?, 0)", stored).fetchone()
        assert (json.loads(now)[:5] if now else None) == split, stored
    conn.close()


def test_a_database_at_schema_15_syncs_and_undoes_after_the_upgrade(
    run: Callable[..., Result], db_path: Path, tmp_path: Path
) -> None:
    """Schema 15 as the last release shipped it had no (paper, time) index of the history,
    which sync and undo name: the upgrade adds it, and neither fails for want of it."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    script = "".join(migrations.MIGRATIONS[:15])
    conn.executescript(f"BEGIN; {script} PRAGMA user_version = 15; COMMIT;")
    conn.close()
    folder = tmp_path / "sync"
    folder.mkdir()
    for args in (["mark-read", "lora"], ["sync", str(folder)], ["mark-read", "bert"], ["undo"]):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    assert "undone" in result.stdout
    conn = sqlite3.connect(db_path)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    assert conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'status_history_change'"
    ).fetchone()
    conn.close()


def _record(dois: list[str]) -> ArxivRecord:
    return ArxivRecord(
        arxiv_id="1605.08386",
        version=1,
        title="Heat-bath random walks with Markov bases",
        abstract="We study walks.",
        authors=[Author("Caprice Stanley")],
        published="2016-05-26T17:59:46Z",
        updated="2016-05-26T17:59:46Z",
        primary_category="math.CO",
        categories=["math.CO"],
        dois=dois,
        journal_ref=None,
        comment=None,
        abs_url="https://arxiv.org/abs/1605.08386",
        pdf_url=None,
    )


def _imported_by_doi(run: Callable[..., Result], tmp_path: Path, doi: str) -> str:
    bib = tmp_path / "by-doi.bib"
    bib.write_text(f"@article{{k, doi = {{{doi}}}}}\n", encoding="utf-8")
    result = run("import", "--dry-run", str(bib))
    assert result.exit_code == 0, result.output
    return result.stderr


def test_the_dois_arxiv_lists_are_looked_up_by_index_after_the_upgrade(
    run: Callable[..., Result], db_path: Path, tmp_path: Path
) -> None:
    """Migration 17 copies the DOIs of the metadata fetched so far into their own table
    (matched in any case, as before), and triggers keep it in step when a fetch changes
    them and when the paper goes."""
    assert run("list", "--limit", "1").exit_code == 0
    conn = sqlite3.connect(db_path, isolation_level=None)
    with base.transaction(conn):
        papers.insert_paper(
            conn,
            Paper(id="heat-bath", title="Heat-bath random walks", short_name="Heat-bath",
                  year=2016, date="2016-05-26", arxiv_id="1605.08386", origin="user"),
        )  # fmt: skip
        arxiv_meta.store_arxiv_record(conn, "heat-bath", _record(["10.1/Heat"]), "2026-01-01")
    # As schema 16 left it: what migrations 17 to 19 add taken away.
    conn.executescript(
        "DROP TABLE arxiv_dois; DROP TRIGGER arxiv_meta_dois_insert;"
        " DROP TRIGGER arxiv_meta_dois_update; DROP TRIGGER arxiv_meta_dois_delete;"
        " ALTER TABLE sync_peers DROP COLUMN file;"
        " DROP TABLE sync_parked; DROP TRIGGER papers_unpark; PRAGMA user_version = 16;"
    )
    conn.close()

    assert "already there 1" in _imported_by_doi(run, tmp_path, "10.1/HEAT")
    conn = sqlite3.connect(db_path, isolation_level=None)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    with base.transaction(conn):
        arxiv_meta.store_arxiv_record(conn, "heat-bath", _record(["10.2/new"]), "2026-02-01")
    conn.close()
    assert "skipped 1" in _imported_by_doi(run, tmp_path, "10.1/heat")
    assert "already there 1" in _imported_by_doi(run, tmp_path, "10.2/NEW")

    assert run("remove", "heat-bath", "--yes").exit_code == 0
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM arxiv_dois").fetchone()[0] == 0
    conn.close()


def test_an_entry_s_doi_finds_the_paper_of_least_id_by_index_after_the_upgrade(
    run: Callable[..., Result], db_path: Path, tmp_path: Path
) -> None:
    """Migration 25 puts the id in the DOI index, so that the least id with a DOI is its
    first row there; the same paper is matched as before the upgrade."""
    assert run("list", "--limit", "1").exit_code == 0
    conn = sqlite3.connect(db_path, isolation_level=None)
    with base.transaction(conn):
        for pid in ("b-doi", "a-doi"):
            papers.insert_paper(
                conn,
                Paper(id=pid, title=f"Paper {pid}", short_name="", year=2016,
                      date="2016-05-26", doi="10.1/Shared", origin="user"),
            )  # fmt: skip
    conn.executescript(  # as schema 24 left it
        "DROP INDEX papers_doi;"
        " CREATE INDEX papers_doi ON papers(doi COLLATE NOCASE) WHERE doi IS NOT NULL;"
        " PRAGMA user_version = 24;"
    )
    conn.close()

    bib = tmp_path / "by-doi.bib"
    bib.write_text("@article{k, doi = {10.1/SHARED}}\n", encoding="utf-8")
    result = run("import", "--queue", str(bib))
    assert result.exit_code == 0, result.output
    assert "already there 1," in result.stderr
    assert run("queue", "--format", "ids").stdout == "a-doi\n"
    conn = sqlite3.connect(db_path)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT min(id) FROM papers WHERE doi = ? COLLATE NOCASE", ("x",)
    ).fetchall()
    conn.close()
    assert "COVERING INDEX papers_doi (doi=?)" in plan[0][3]


def test_rows_of_no_paper_that_syncs_left_wait_for_their_paper_after_the_upgrade(
    run: Callable[..., Result], db_path: Path, tmp_path: Path
) -> None:
    """Before migration 20 a sync wrote a queue place (and, before 19, a note, tag or
    status) for a paper removed here as a row of no paper: `notes` and `tags` listed it,
    and the queue place came back on this device alone. The upgrade puts them aside, and
    they come back with the paper, the queue place where its sort key says."""
    folder = tmp_path / "sync"
    folder.mkdir()
    for args in (
        ["add", "--title", "Field notes", "--year", "2021", "--author", "J. Doe", "--id", "fn"],
        ["queue", "add", "lora", "qlora"],
        ["sync", str(folder)],
        ["remove", "fn", "--yes"],
    ):
        assert run(*args).exit_code == 0, args
    conn = sqlite3.connect(db_path, isolation_level=None)
    (between,) = conn.execute("SELECT max(sort_key) || '5' FROM queue WHERE paper_id = 'lora'")
    # What syncs before the upgrade wrote for a paper removed here, at schema 19.
    conn.executescript(
        "DROP TRIGGER papers_unpark;"
        + migrations.MIGRATIONS[18][migrations.MIGRATIONS[18].index("CREATE TRIGGER") :]
        + f"""
        INSERT INTO notes (paper_id, created_at, body, uid)
            VALUES ('fn', '2026-12-01T10:00:00Z', 'from the desktop', 'fn@desktop');
        INSERT INTO tags VALUES ('fn', 'Later');
        INSERT INTO reading_state VALUES ('fn', 'reading', '2026-12-01T10:00:00Z', NULL, NULL);
        INSERT INTO queue VALUES ('fn', 3, '2026-12-01T10:00:00Z', '{between[0]}');
        PRAGMA user_version = 19;
        """
    )
    conn.close()

    assert run("notes").stdout == run("tags").stdout == ""  # nothing of a paper not here
    assert [line.split()[1] for line in run("queue").stdout.splitlines()[1:]] == [
        "lora",
        "qlora",
    ]
    assert run("show", "fn").exit_code == 1
    assert run("undo").exit_code == 0  # the removal: the paper comes back, and all of it
    shown = json.loads(run("show", "fn", "--format", "json").stdout)
    assert (shown["status"], shown["tags"]) == ("reading", ["Later"])
    assert [n["body"] for n in shown["notes"]] == ["from the desktop"]
    assert [q["id"] for q in json.loads(run("queue", "--format", "json").stdout)] == [
        "lora",
        "fn",
        "qlora",
    ]
    conn = sqlite3.connect(db_path)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM sync_parked").fetchone() == (0,)
    conn.close()


def test_a_day_not_in_the_calendar_keeps_its_month_after_the_upgrade(
    run: Callable[..., Result], db_path: Path
) -> None:
    """`add` and a BibTeX import took 2021-02-30 until 3 December (migration 21)."""
    added = run("add", "--title", "Field Notes", "--author", "Ann Lee", "--year", "2021-02")
    assert added.exit_code == 0, added.output
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.executescript(
        "UPDATE papers SET date = '2021-02-30' WHERE id = 'field-notes';"
        " UPDATE papers SET date = '2020-02-29' WHERE id = 'lora';"
        " PRAGMA user_version = 20;"
    )
    conn.close()
    shown = json.loads(run("show", "field-notes", "--format", "json").stdout)
    assert shown["date"] == "2021-02"
    assert json.loads(run("show", "lora", "--format", "json").stdout)["date"] == "2020-02-29"


# As papercli split these names before 3 December (BibTeX's rules alone), and one a
# BibTeX import split as `Daumé III, Hal`, which stays.
_OLD_SPLITS = [
    ("sfx", 0, "Hal Daumé III", "III", "Hal Daumé"),
    ("sfx", 1, "Martin Luther King, Jr.", "Martin Luther King", "Jr."),
    ("sfx", 2, "{Team GLM}", "{Team GLM}", ""),
    ("sfx", 3, "Hal Daumé III", "Daumé III", "Hal"),
    ("sfx", 4, "Jr. Martin Luther King", "Martin Luther King", "Jr."),  # BibTeX's `King, Jr.`
]


def _split_as_before(db: Path, version: int | None) -> None:
    """The paper ``sfx``'s authors as papercli stored them before 3 December."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executemany(
        "UPDATE paper_authors SET name = ?3, family = ?4, given = ?5, suffix = '', literal = 0,"
        " family_key = lower(?4), given_key = lower(?5) WHERE paper_id = ?1 AND position = ?2",
        _OLD_SPLITS,
    )
    if version is not None:
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def _add_sfx(run: Callable[..., Result], *db: str) -> None:
    names = ["Hal Daumé III", "Martin Luther King, Jr.", "{Team GLM}", "Daumé III, Hal", "A B"]
    args = [arg for name in names for arg in ("--author", name)]
    added = run(*db, "add", "--title", "Notes on Suffixes", *args, "--year", "2020", "--id", "sfx")
    assert added.exit_code == 0, added.output


def _cited(run: Callable[..., Result], *db: str) -> tuple[str, list[dict[str, str]]]:
    bibtex = run(*db, "export", "--search", "suffixes", "--format", "bibtex").stdout
    (item,) = json.loads(run(*db, "export", "--search", "suffixes", "--format", "csl-json").stdout)
    return bibtex.split("author = {")[1].split("},")[0], item["author"]


_CITED_NOW = (
    "Daumé, III, Hal and King, Jr., Martin Luther and {Team GLM} and Daumé III, Hal"
    " and King, Jr., Martin Luther",
    [
        {"family": "Daumé", "given": "Hal", "suffix": "III"},
        {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
        {"literal": "Team GLM"},
        {"family": "Daumé III", "given": "Hal"},
        {"family": "King", "given": "Martin Luther", "suffix": "Jr."},
    ],
)


def test_authors_split_as_before_3_december_are_split_as_now_after_the_upgrade(
    run: Callable[..., Result], db_path: Path
) -> None:
    """Until 3 December `add` and arXiv's names were split by BibTeX's rules alone: Hal
    Daumé III was cited as `III, Hal Daumé`, `{Team GLM}` as a person with braces in the
    name. Migration 22 splits them as `add` does now, where the stored split is the one
    those rules made of the name, and leaves any other (an import's `Daumé III, Hal`)."""
    _add_sfx(run)
    _split_as_before(db_path, 21)

    assert _cited(run) == _CITED_NOW
    shown = json.loads(run("show", "sfx", "--format", "json").stdout)
    assert [a["name"] for a in shown["authors"]] == [
        "Hal Daumé III",
        "Martin Luther King, Jr.",
        "Team GLM",
        "Hal Daumé III",
        "Martin Luther King Jr.",
    ]
    assert json.loads(run("list", "--author", "king", "--format", "json").stdout)[0]["id"] == "sfx"
    conn = sqlite3.connect(db_path)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    assert migrations.migrate(conn) == 0
    conn.close()


def test_a_paper_synced_from_a_device_not_yet_upgraded_is_split_as_the_upgrade_splits_it(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    """The upgrade sends no event (each device splits its own copy alike, and an event
    would put one device's paper over a later change on another): what a device of
    before 3 December sends is split on arrival, as its own upgrade will split it."""
    old, new = ("--db", str(tmp_path / "old.db")), ("--db", str(tmp_path / "new.db"))
    _add_sfx(run, *old)
    _split_as_before(tmp_path / "old.db", None)
    folder = tmp_path / "sync"
    folder.mkdir()
    for db in (old, new):
        synced = run(*db, "sync", str(folder))
        assert synced.exit_code == 0, synced.output

    assert _cited(run, *new) == _CITED_NOW


def test_a_paper_removed_before_the_upgrade_comes_back_split_as_the_upgrade_splits_it(
    run: Callable[..., Result], db_path: Path
) -> None:
    """`undo` puts a removed paper back as it was when removed: one removed before 3
    December came back with the split of before, which the upgrade had changed."""
    _add_sfx(run)
    _split_as_before(db_path, None)
    assert run("remove", "sfx").exit_code == 0
    assert run("undo").exit_code == 0

    assert _cited(run) == _CITED_NOW


def test_notes_imported_into_one_second_are_numbered_in_order_after_the_upgrade(
    run: Callable[..., Result], db_path: Path, tmp_path: Path
) -> None:
    """Schema 25 ordered a paper's notes by time and uid as text, so the 11th of a second
    imported (`#10`) came before the 3rd; migration 26 indexes the order by the uid's
    length first, and the notes already there are numbered as imported."""
    document = json.loads(run("export", "--format", "json").stdout)
    lora = next(p for p in document["papers"] if p["id"] == "lora")
    lora["notes"] = [{"created_at": "2026-03-01T00:00:00Z", "body": f"p{n}"} for n in range(12)]
    path = tmp_path / "day.json"
    path.write_text(json.dumps({**document, "papers": [lora]}), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.executescript(
        "DROP INDEX notes_paper_order;"
        " CREATE INDEX notes_paper_time ON notes (paper_id, created_at, uid);"
        " PRAGMA user_version = 25;"
    )
    conn.close()

    listed = [line.split("  ")[-1] for line in run("note", "lora").stdout.splitlines()]
    assert listed == [f"p{n}" for n in range(12)]
    conn = sqlite3.connect(db_path)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    plan = conn.execute(
        f"EXPLAIN QUERY PLAN SELECT body FROM notes WHERE paper_id = 'lora'"
        f" ORDER BY {base.NOTE_ORDER}"
    ).fetchall()
    assert [row[3] for row in plan] == ["SEARCH notes USING INDEX notes_paper_order (paper_id=?)"]
    conn.close()


def _run_steps(conn: sqlite3.Connection, steps: int) -> None:
    """The first ``steps`` steps (scripts all), each run whole."""
    migrations.add_functions(conn)
    for step in migrations.MIGRATIONS[:steps]:
        assert isinstance(step, str)
        conn.executescript(step)
    conn.execute(f"PRAGMA user_version = {steps}")


def test_a_database_from_before_steps_5_and_11_were_widened_upgrades_with_its_state(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    """Steps 5 and 11 gained a column and an index after papercli from main had taken them
    (1 December): such a database stopped at schema 24 on every command ("no such index:
    papers_doi"), its export and backup too, and the older papercli refused it as newer;
    past it, `list` failed on the missing column, and `inbox` on the inbox's."""
    db = tmp_path / "widened-since.db"
    conn = sqlite3.connect(db, isolation_level=None)
    _run_steps(conn, 24)
    conn.executescript(
        """
        DROP INDEX papers_doi;
        ALTER TABLE papers DROP COLUMN primary_category;
        ALTER TABLE inbox_items DROP COLUMN author_keys;
        """
    )
    conn.close()
    assert run("--db", str(db), "mark-read", "lora").exit_code == 0, "the first command"
    listed = run("--db", str(db), "list", "--status", "read", "--format", "ids")
    assert (listed.exit_code, listed.stdout) == (0, "lora\n"), listed.output
    assert run("--db", str(db), "inbox").exit_code == 0
    bibtex = run("--db", str(db), "export", "--format", "bibtex", "--status", "read").stdout
    assert "primaryClass = {cs.CL}" in bibtex  # from the catalogue, once the column is back
    conn = sqlite3.connect(db)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    conn.close()


def _as_before(db: Path, version: int, script: str) -> None:
    """Make the database as a papercli of schema ``version`` left it: ``script`` undoes
    what the later steps changed."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(f"{script}; PRAGMA user_version = {version};")
    conn.close()


def test_an_upgrade_gives_the_catalogue_papers_their_venue_titles(
    run: Callable[..., Result], db_path: Path
) -> None:
    """Schema 28 keeps the title a venue printed beside arXiv's: a library from before it
    gains the column, and the newer catalogue fills it in, so LLM.int8() is cited at
    NeurIPS under the proceedings' title."""
    assert run("list", "--limit", "1").exit_code == 0
    _as_before(
        db_path,
        27,
        "ALTER TABLE papers DROP COLUMN venue_title;"
        " UPDATE meta SET value = 'older' WHERE key IN ('catalogue_digest', 'seed_stamp')",
    )
    shown = run("show", "llm-int8")
    assert shown.exit_code == 0, shown.output
    assert "venue title     GPT3.int8(): 8-bit Matrix" in shown.stdout
    conn = sqlite3.connect(db_path, isolation_level=None)
    assert migrations.schema_version(conn) == migrations.SCHEMA_VERSION
    conn.close()


def test_an_upgrade_escapes_the_per_cent_signs_a_url_held_as_typed(
    run: Callable[..., Result], db_path: Path
) -> None:
    """Until 5 December `?at=95%&q=1` was kept as typed, an address no parser takes, in
    every export but BibTeX's (which escaped it as it wrote): migration 30 escapes it."""
    assert run("add", "--title", "Notes", "-a", "Ann Lee", "--year", "2020").exit_code == 0
    _as_before(
        db_path, 29, "UPDATE papers SET url = 'https://example.org/a?at=95%&q=1' WHERE id = 'notes'"
    )
    shown = run("show", "notes", "--format", "json")
    assert json.loads(shown.stdout)["url"] == "https://example.org/a?at=95%25&q=1"


def test_an_upgrade_finds_the_authors_written_in_other_scripts(
    run: Callable[..., Result], db_path: Path
) -> None:
    """A library from before 5 December kept 张伟's key empty: migration 29 folds it again."""
    assert run("add", "--title", "Notes", "--author", "张伟", "--year", "2023").exit_code == 0
    _as_before(db_path, 28, "UPDATE paper_authors SET family_key = '' WHERE paper_id = 'notes'")
    assert run("list", "--author", "张伟", "-f", "ids").stdout == "notes\n"
