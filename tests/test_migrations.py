"""Schema upgrades: an old database reaches the current schema with the user's data intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from papercli.store import migrations, papers
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
    return {
        t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in USER_TABLES
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
