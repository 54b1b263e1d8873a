"""Numbered, append-only schema steps. Never edit a released step: append a new one.

The database's ``PRAGMA user_version`` is the number of steps applied. Catalogue facts
(``papers`` and the tables hanging off it) and the user's own state (``reading_state``,
``status_history``, ``notes``, ``tags``, ``queue``) live in separate tables, so a new
catalogue can be loaded without touching anything the user did.
"""

from __future__ import annotations

import sqlite3

# Each step is one SQL script; the runner wraps it in a transaction with the version bump.
M001_INITIAL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- Catalogue facts: replaced or extended when a newer catalogue ships.
CREATE TABLE sources (
    key TEXT PRIMARY KEY, file TEXT NOT NULL, title TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE TABLE organizations (name TEXT PRIMARY KEY);
CREATE TABLE org_names (
    key TEXT PRIMARY KEY,   -- normalised spelling (see refs.normalise)
    name TEXT NOT NULL,     -- as written
    org TEXT NOT NULL REFERENCES organizations(name)
);
CREATE TABLE topics (name TEXT PRIMARY KEY, description TEXT NOT NULL);
CREATE TABLE papers (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    short_name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'paper',
    arxiv_id TEXT,
    url TEXT,
    pdf_url TEXT,
    date TEXT NOT NULL,
    year INTEGER NOT NULL,
    why TEXT NOT NULL DEFAULT '',
    focus TEXT NOT NULL DEFAULT '',
    technique TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT 'catalogue'  -- catalogue | user
);
CREATE INDEX papers_date ON papers(date);
CREATE INDEX papers_year_date ON papers(year, date);
CREATE INDEX papers_title ON papers(title COLLATE NOCASE);
CREATE UNIQUE INDEX papers_arxiv_id ON papers(arxiv_id) WHERE arxiv_id IS NOT NULL;
CREATE TABLE paper_names (          -- id, short name and aliases, for lookups
    key TEXT NOT NULL,              -- normalised spelling
    paper_id TEXT NOT NULL,
    name TEXT NOT NULL,             -- as written
    is_alias INTEGER NOT NULL,      -- 0 for the id and short name
    PRIMARY KEY (key, paper_id)
);
CREATE INDEX paper_names_paper ON paper_names(paper_id);
CREATE TABLE paper_orgs (
    paper_id TEXT NOT NULL, org TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (paper_id, org)
) WITHOUT ROWID;
CREATE INDEX paper_orgs_org ON paper_orgs(org, paper_id);
CREATE TABLE paper_topics (
    paper_id TEXT NOT NULL, topic TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (paper_id, topic)
) WITHOUT ROWID;
CREATE INDEX paper_topics_topic ON paper_topics(topic, paper_id);
CREATE TABLE paper_sources (
    paper_id TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (paper_id, source)
) WITHOUT ROWID;
CREATE TABLE prerequisites (
    paper_id TEXT NOT NULL, prereq_id TEXT NOT NULL, PRIMARY KEY (paper_id, prereq_id)
) WITHOUT ROWID;

-- The user's own state: never rewritten by a catalogue update.
CREATE TABLE reading_state (
    paper_id TEXT PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'unread'
        CHECK (status IN ('unread', 'reading', 'read', 'skipped')),
    changed_at TEXT NOT NULL,
    read_at TEXT,
    read_version INTEGER
);
CREATE INDEX reading_state_status ON reading_state(status);
CREATE TABLE status_history (
    id INTEGER PRIMARY KEY,
    batch INTEGER NOT NULL,         -- one command's changes share a batch; undo reverts one
    paper_id TEXT NOT NULL,
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    queue_position INTEGER          -- where the paper stood in the queue, if this took it out
);
CREATE INDEX status_history_paper ON status_history(paper_id, id);
CREATE INDEX status_history_batch ON status_history(batch);
CREATE INDEX status_history_read ON status_history(new_status, changed_at);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    paper_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX notes_paper ON notes(paper_id, id);
CREATE TABLE tags (
    paper_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (paper_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags(tag, paper_id);
CREATE TABLE queue (
    paper_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    added_at TEXT NOT NULL
);
CREATE INDEX queue_position ON queue(position);
"""

# What arXiv says about a paper, kept apart from the catalogue's curated facts and from
# the user's state: a new catalogue replaces neither, and `fetch` touches only these.
M002_ARXIV = """
CREATE TABLE arxiv_meta (
    paper_id TEXT PRIMARY KEY,
    arxiv_id TEXT NOT NULL,         -- version-less, as arXiv reports it
    version INTEGER NOT NULL,       -- the latest version when fetched
    title TEXT NOT NULL,
    abstract TEXT NOT NULL,
    published TEXT NOT NULL,        -- v1 submission time, ISO 8601 UTC
    updated TEXT NOT NULL,          -- submission time of the latest version
    primary_category TEXT,
    categories TEXT NOT NULL DEFAULT '[]',   -- JSON list
    dois TEXT NOT NULL DEFAULT '[]',         -- JSON list
    journal_ref TEXT,
    comment TEXT,
    abs_url TEXT,
    pdf_url TEXT,
    fetched_at TEXT NOT NULL
);
CREATE TABLE arxiv_authors (
    paper_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    affiliations TEXT NOT NULL DEFAULT '[]', -- JSON list
    PRIMARY KEY (paper_id, position)
) WITHOUT ROWID;
"""

MIGRATIONS: list[str] = [M001_INITIAL, M002_ARXIV]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing steps, each in its own transaction; return how many ran."""
    current = schema_version(conn)
    for number in range(current, SCHEMA_VERSION):
        script = MIGRATIONS[number]
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number + 1};\nCOMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION - current
