"""Numbered, append-only schema steps. Never edit a released step: append a new one.

The database's ``PRAGMA user_version`` is the number of steps applied. Catalogue facts
(``papers`` and the tables hanging off it) and the user's own state (``reading_state``,
``status_history``, ``notes``, ``tags``, ``queue``) live in separate tables, so a new
catalogue can be loaded without touching anything the user did.
"""

from __future__ import annotations

import sqlite3

from papercli import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Each step is one SQL script (or, for what SQL cannot say, a function); the runner wraps it
# in a transaction with the version bump.
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

# Full-text search (`papercli search`).
#
# paper_search (unicode61 + porter, so "models" finds "model") holds one row per paper
# and ranks with bm25: title, names (short name and aliases), summary, fetched abstract
# and the user's notes. unicode61 cannot find a Chinese word inside a sentence (a run of
# Han characters is one token), so note_search indexes each note again with the trigram
# tokenizer: any substring of 3+ characters is an index lookup, and shorter ones (most
# Chinese words are 2 characters) scan just the notes. Trigram over every column, for
# text that is English anyway, would cost 2.7x the space (text + index; the index alone
# 6.7x: 116 MB against 17 MB on bench/make_db.py's 100k papers).
#
# Both are ordinary FTS5 tables, storing their own copy of the text: the triggers can
# then rebuild a paper's row from the current data without the old values, so writes
# that skip delete triggers (INSERT OR REPLACE, as catalogue sync and fetch do) cannot
# leave stale entries behind. Update triggers fire only for the indexed columns (and id
# and date), so marking papers read, which writes other tables, costs nothing here.
#
# A paper's row is keyed by search_docs.docid, an INTEGER PRIMARY KEY (which VACUUM
# keeps, unlike papers' implicit rowid) that sorts by date: YYYYMMDD * 10^9 + a counter
# within the day. FTS5 walks a match in rowid order for free, so a word that matches too
# many papers to rank is answered newest first in time proportional to the page shown.
# note_search is keyed by notes.id.

# The first docid of a paper's date ('YYYY-MM-DD', or 'YYYY-MM' taken as day 00).
_M003_DAY = "CAST(substr(replace({date}, '-', '') || '00000000', 1, 8) AS INTEGER) * 1000000000"

# One paper's search row, from the current data.
_M003_DOCUMENT = """
    SELECT d.docid, p.title,
        p.short_name || coalesce(' ' || (SELECT group_concat(name, ' ') FROM paper_names
                                         WHERE paper_id = p.id AND is_alias), ''),
        p.why,
        coalesce((SELECT abstract FROM arxiv_meta WHERE paper_id = p.id), ''),
        coalesce((SELECT group_concat(body, ' ') FROM notes WHERE paper_id = p.id), '')
    FROM papers p JOIN search_docs d ON d.paper_id = p.id"""


# The SQL of M003's triggers, for a paper id given as an expression (`new.id`).
def _m003_forget(paper: str) -> str:
    return f"""
    DELETE FROM paper_search
        WHERE rowid = (SELECT docid FROM search_docs WHERE paper_id = {paper});
    DELETE FROM search_docs WHERE paper_id = {paper};"""


def _m003_add(paper: str, date: str) -> str:
    day = _M003_DAY.format(date=date)
    return f"""
    INSERT INTO search_docs (docid, paper_id) VALUES ((SELECT coalesce(max(docid) + 1, {day})
        FROM search_docs WHERE docid >= {day} AND docid < {day} + 1000000000), {paper});
    INSERT INTO paper_search (rowid, title, names, summary, abstract, notes)
        {_M003_DOCUMENT} WHERE p.id = {paper};"""


def _m003_reindex(paper: str) -> str:
    return f"""
    DELETE FROM paper_search
        WHERE rowid = (SELECT docid FROM search_docs WHERE paper_id = {paper});
    INSERT INTO paper_search (rowid, title, names, summary, abstract, notes)
        {_M003_DOCUMENT} WHERE p.id = {paper};"""


M003_SEARCH = f"""
CREATE TABLE search_docs (docid INTEGER PRIMARY KEY, paper_id TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE paper_search USING fts5(
    title, names, summary, abstract, notes,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE note_search USING fts5(body, tokenize = 'trigram');

INSERT INTO search_docs (docid, paper_id)
    SELECT day + row_number() OVER (PARTITION BY day ORDER BY id) - 1, id
    FROM (SELECT id, {_M003_DAY.format(date="date")} AS day FROM papers);
INSERT INTO paper_search (rowid, title, names, summary, abstract, notes) {_M003_DOCUMENT};
INSERT INTO note_search (rowid, body) SELECT id, body FROM notes;

CREATE TRIGGER papers_search_insert AFTER INSERT ON papers BEGIN
    {_m003_forget("new.id")}
    {_m003_add("new.id", "new.date")}
END;
CREATE TRIGGER papers_search_move AFTER UPDATE OF id, date ON papers BEGIN
    {_m003_forget("old.id")}
    {_m003_add("new.id", "new.date")}
END;
CREATE TRIGGER papers_search_update AFTER UPDATE OF title, short_name, why ON papers BEGIN
    {_m003_reindex("new.id")}
END;
CREATE TRIGGER papers_search_delete AFTER DELETE ON papers BEGIN
    {_m003_forget("old.id")}
END;

-- Only aliases are indexed (the id and short name rows are not), which keeps bulk
-- inserts of papers from indexing each paper three times.
CREATE TRIGGER paper_names_search_insert AFTER INSERT ON paper_names WHEN new.is_alias BEGIN
    {_m003_reindex("new.paper_id")}
END;
CREATE TRIGGER paper_names_search_update AFTER UPDATE ON paper_names
WHEN old.is_alias OR new.is_alias BEGIN
    {_m003_reindex("old.paper_id")}
    {_m003_reindex("new.paper_id")}
END;
CREATE TRIGGER paper_names_search_delete AFTER DELETE ON paper_names WHEN old.is_alias BEGIN
    {_m003_reindex("old.paper_id")}
END;

CREATE TRIGGER arxiv_meta_search_insert AFTER INSERT ON arxiv_meta BEGIN
    {_m003_reindex("new.paper_id")}
END;
CREATE TRIGGER arxiv_meta_search_update AFTER UPDATE OF paper_id, abstract ON arxiv_meta BEGIN
    {_m003_reindex("old.paper_id")}
    {_m003_reindex("new.paper_id")}
END;
CREATE TRIGGER arxiv_meta_search_delete AFTER DELETE ON arxiv_meta BEGIN
    {_m003_reindex("old.paper_id")}
END;

CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
    {_m003_reindex("new.paper_id")}
    DELETE FROM note_search WHERE rowid = new.id;
    INSERT INTO note_search (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_search_update AFTER UPDATE OF id, paper_id, body ON notes BEGIN
    {_m003_reindex("old.paper_id")}
    {_m003_reindex("new.paper_id")}
    DELETE FROM note_search WHERE rowid = old.id;
    INSERT INTO note_search (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_search_delete AFTER DELETE ON notes BEGIN
    {_m003_reindex("old.paper_id")}
    DELETE FROM note_search WHERE rowid = old.id;
END;
"""

# `list` reads papers in (year, date, id) order, its sort key with the id as the last
# tie-break, so that a year filter and the order are one range of this index, read only
# as far as --limit: with papers_year_date, every match was sorted first (277,000 papers
# for --since 2021 in bench/make_db.py's million, over a second).
M004_LIST_ORDER = """
CREATE INDEX papers_year_date_id ON papers(year, date, id);
DROP INDEX papers_year_date;
"""

# Who wrote each paper, where it was published, and the citation key it keeps for life.
# paper_authors is a catalogue table (the seed's rows replace a catalogue paper's), filled
# from arXiv for papers a user added. The folded keys serve `list --author`: a family name
# is one index lookup. papers.citation_key is unique ignoring case, as BibTeX compares keys.
#
# Authors join the full-text index as a column of their own, so `search hinton` finds
# Hinton's papers: paper_search is rebuilt with it, and its triggers with the new document.
M005_DOCUMENT = """
    SELECT d.docid, p.title,
        p.short_name || coalesce(' ' || (SELECT group_concat(name, ' ') FROM paper_names
                                         WHERE paper_id = p.id AND is_alias), ''),
        coalesce((SELECT group_concat(name, ' ') FROM paper_authors WHERE paper_id = p.id), ''),
        p.why,
        coalesce((SELECT abstract FROM arxiv_meta WHERE paper_id = p.id), ''),
        coalesce((SELECT group_concat(body, ' ') FROM notes WHERE paper_id = p.id), '')
    FROM papers p JOIN search_docs d ON d.paper_id = p.id"""
M005_COLUMNS = "rowid, title, names, authors, summary, abstract, notes"


def _m005_forget(paper: str) -> str:
    return f"""
    DELETE FROM paper_search
        WHERE rowid = (SELECT docid FROM search_docs WHERE paper_id = {paper});
    DELETE FROM search_docs WHERE paper_id = {paper};"""


def _m005_add(paper: str, date: str) -> str:
    day = _M003_DAY.format(date=date)
    return f"""
    INSERT INTO search_docs (docid, paper_id) VALUES ((SELECT coalesce(max(docid) + 1, {day})
        FROM search_docs WHERE docid >= {day} AND docid < {day} + 1000000000), {paper});
    INSERT INTO paper_search ({M005_COLUMNS}) {M005_DOCUMENT} WHERE p.id = {paper};"""


def _m005_reindex(paper: str) -> str:
    return f"""
    DELETE FROM paper_search
        WHERE rowid = (SELECT docid FROM search_docs WHERE paper_id = {paper});
    INSERT INTO paper_search ({M005_COLUMNS}) {M005_DOCUMENT} WHERE p.id = {paper};"""


_M003_TRIGGERS = [
    f"{table}_search_{event}"
    for table, events in (
        ("papers", ("insert", "move", "update", "delete")),
        ("paper_names", ("insert", "update", "delete")),
        ("arxiv_meta", ("insert", "update", "delete")),
        ("notes", ("insert", "update", "delete")),
    )
    for event in events
]

M005_AUTHORS = f"""
ALTER TABLE papers ADD COLUMN venue TEXT NOT NULL DEFAULT '';
ALTER TABLE papers ADD COLUMN doi TEXT;
ALTER TABLE papers ADD COLUMN citation_key TEXT;
ALTER TABLE papers ADD COLUMN primary_category TEXT;  -- arXiv's, curated; a fetch may refine it
CREATE UNIQUE INDEX papers_citation_key ON papers(citation_key COLLATE NOCASE);
CREATE INDEX papers_doi ON papers(doi COLLATE NOCASE) WHERE doi IS NOT NULL;
CREATE TABLE paper_authors (
    paper_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,             -- as the paper prints it
    family TEXT NOT NULL,           -- the whole name for an institution
    given TEXT NOT NULL DEFAULT '',
    suffix TEXT NOT NULL DEFAULT '',
    literal INTEGER NOT NULL DEFAULT 0,   -- an institution, never split
    family_key TEXT NOT NULL,       -- names.person_key(family)
    given_key TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (paper_id, position)
) WITHOUT ROWID;
CREATE INDEX paper_authors_family ON paper_authors(family_key, paper_id);

{"".join(f"DROP TRIGGER {name};" for name in _M003_TRIGGERS)}
DROP TABLE paper_search;
CREATE VIRTUAL TABLE paper_search USING fts5(
    title, names, authors, summary, abstract, notes,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO paper_search ({M005_COLUMNS}) {M005_DOCUMENT};

CREATE TRIGGER papers_search_insert AFTER INSERT ON papers BEGIN
    {_m005_forget("new.id")}
    {_m005_add("new.id", "new.date")}
END;
CREATE TRIGGER papers_search_move AFTER UPDATE OF id, date ON papers BEGIN
    {_m005_forget("old.id")}
    {_m005_add("new.id", "new.date")}
END;
CREATE TRIGGER papers_search_update AFTER UPDATE OF title, short_name, why ON papers BEGIN
    {_m005_reindex("new.id")}
END;
CREATE TRIGGER papers_search_delete AFTER DELETE ON papers BEGIN
    {_m005_forget("old.id")}
END;
CREATE TRIGGER paper_names_search_insert AFTER INSERT ON paper_names WHEN new.is_alias BEGIN
    {_m005_reindex("new.paper_id")}
END;
CREATE TRIGGER paper_names_search_update AFTER UPDATE ON paper_names
WHEN old.is_alias OR new.is_alias BEGIN
    {_m005_reindex("old.paper_id")}
    {_m005_reindex("new.paper_id")}
END;
CREATE TRIGGER paper_names_search_delete AFTER DELETE ON paper_names WHEN old.is_alias BEGIN
    {_m005_reindex("old.paper_id")}
END;
CREATE TRIGGER paper_authors_search_insert AFTER INSERT ON paper_authors BEGIN
    {_m005_reindex("new.paper_id")}
END;
CREATE TRIGGER paper_authors_search_update AFTER UPDATE ON paper_authors BEGIN
    {_m005_reindex("old.paper_id")}
    {_m005_reindex("new.paper_id")}
END;
CREATE TRIGGER paper_authors_search_delete AFTER DELETE ON paper_authors BEGIN
    {_m005_reindex("old.paper_id")}
END;
CREATE TRIGGER arxiv_meta_search_insert AFTER INSERT ON arxiv_meta BEGIN
    {_m005_reindex("new.paper_id")}
END;
CREATE TRIGGER arxiv_meta_search_update AFTER UPDATE OF paper_id, abstract ON arxiv_meta BEGIN
    {_m005_reindex("old.paper_id")}
    {_m005_reindex("new.paper_id")}
END;
CREATE TRIGGER arxiv_meta_search_delete AFTER DELETE ON arxiv_meta BEGIN
    {_m005_reindex("old.paper_id")}
END;
CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
    {_m005_reindex("new.paper_id")}
    DELETE FROM note_search WHERE rowid = new.id;
    INSERT INTO note_search (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_search_update AFTER UPDATE OF id, paper_id, body ON notes BEGIN
    {_m005_reindex("old.paper_id")}
    {_m005_reindex("new.paper_id")}
    DELETE FROM note_search WHERE rowid = old.id;
    INSERT INTO note_search (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_search_delete AFTER DELETE ON notes BEGIN
    {_m005_reindex("old.paper_id")}
    DELETE FROM note_search WHERE rowid = old.id;
END;
"""

# The steps of each undoable command (store/changes.py), by the batch number it shares with
# status_history. History entries an import brings from another database are kept with
# batch 0: part of the record, never a step of their own to undo.
M006_UNDO_STEPS = """
CREATE TABLE undo_steps (
    id INTEGER PRIMARY KEY,
    batch INTEGER NOT NULL,
    action TEXT NOT NULL,           -- the kind of step: changes.py's _APPLY
    paper_id TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}' -- JSON: what the action needs
);
CREATE INDEX undo_steps_batch ON undo_steps(batch);
"""

# Tags keep the case they were typed in ("LLM-Eval") and match in any case: the column
# compares without case, so the key, the index and every lookup fold it alike.
M007_TAG_CASE = """
CREATE TABLE tags_new (
    paper_id TEXT NOT NULL, tag TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY (paper_id, tag)
) WITHOUT ROWID;
INSERT OR IGNORE INTO tags_new SELECT paper_id, tag FROM tags;
DROP TABLE tags;
ALTER TABLE tags_new RENAME TO tags;
CREATE INDEX tags_tag ON tags(tag, paper_id);
"""

# One row per command that changed the user's state (store/changes.py): undo marks it
# undone instead of deleting anything, and redo applies it again. The status changes of
# earlier mark commands become batches with steps here, so they undo like the rest.
M008_COMMAND_LOG = """
CREATE TABLE command_log (
    batch INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    undone_at TEXT,                 -- when it was undone; NULL while it stands
    redoable INTEGER NOT NULL DEFAULT 0
);
-- The few batches redo could still apply: found without reading the whole log.
CREATE INDEX command_log_redoable ON command_log(undone_at) WHERE redoable;
INSERT INTO command_log (batch, command, summary, at)
    SELECT batch, 'mark',
        group_concat(paper_id || ': ' || old_status || ' -> ' || new_status, ', '),
        max(changed_at)
    FROM status_history WHERE batch > 0 GROUP BY batch;
INSERT INTO undo_steps (batch, action, paper_id, data)
    SELECT batch, 'state', paper_id, json_object(
        'before', CASE WHEN old_status = 'unread' THEN NULL
                       ELSE json_array(old_status, changed_at, NULL, NULL) END,
        'after', json_array(new_status, changed_at,
                            CASE WHEN new_status = 'read' THEN changed_at END, NULL))
    FROM status_history WHERE batch > 0 ORDER BY id;
INSERT INTO undo_steps (batch, action, paper_id, data)
    SELECT batch, 'queue', paper_id, json_object('before', queue_position, 'after', NULL)
    FROM status_history WHERE batch > 0 AND queue_position IS NOT NULL
    ORDER BY batch, queue_position DESC;
"""

# When a user added a paper (`list --sort added`); the catalogue's papers came with papercli.
# Papers added before this step get the time they were first fetched from arXiv.
M009_ADDED_AT = """
ALTER TABLE papers ADD COLUMN added_at TEXT;
UPDATE papers SET added_at = (SELECT fetched_at FROM arxiv_meta WHERE paper_id = papers.id)
    WHERE origin = 'user';
"""

# Saved interests for the arXiv inbox (`papercli watch`): categories to pull, and the
# words, authors and excluded words an announcement is matched against (JSON lists).
M010_WATCHES = """
CREATE TABLE watches (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    categories TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]',
    authors TEXT NOT NULL DEFAULT '[]',
    excludes TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL
);
"""

# The arXiv inbox (`papercli inbox`): announcements that matched a watch, searchable by
# word for ranking; what the user kept or dismissed, remembered after pruning so that it
# never comes back; and newer versions announced for papers in the user's list.
M011_INBOX = """
CREATE TABLE inbox_items (
    docid INTEGER PRIMARY KEY,
    arxiv_id TEXT NOT NULL UNIQUE,  -- version-less
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    authors TEXT NOT NULL,          -- JSON [[name, [affiliation, ...]], ...]
    author_keys TEXT NOT NULL,      -- each author's name as names.person_key has it, one a line
    abstract TEXT NOT NULL,
    categories TEXT NOT NULL,       -- JSON, the primary first
    announce_type TEXT NOT NULL,
    announced TEXT NOT NULL,        -- the listing's date
    watches TEXT NOT NULL,          -- JSON names of the watches it matched
    dois TEXT NOT NULL,
    journal_ref TEXT,
    words INTEGER NOT NULL,         -- how many words title and abstract have, for ranking
    pulled_at TEXT NOT NULL
);
CREATE INDEX inbox_items_newest ON inbox_items (announced DESC, arxiv_id DESC);
CREATE VIRTUAL TABLE inbox_search USING fts5(
    title, abstract, content = 'inbox_items', content_rowid = 'docid'
);
CREATE VIRTUAL TABLE inbox_terms USING fts5vocab(inbox_search, 'row');
CREATE TRIGGER inbox_items_search_insert AFTER INSERT ON inbox_items BEGIN
    INSERT INTO inbox_search (rowid, title, abstract) VALUES (new.docid, new.title, new.abstract);
END;
CREATE TRIGGER inbox_items_search_delete AFTER DELETE ON inbox_items BEGIN
    INSERT INTO inbox_search (inbox_search, rowid, title, abstract)
        VALUES ('delete', old.docid, old.title, old.abstract);
END;
CREATE TABLE inbox_decisions (
    arxiv_id TEXT PRIMARY KEY,
    decision TEXT NOT NULL CHECK (decision IN ('kept', 'dismissed')),
    decided_at TEXT NOT NULL
);
CREATE TABLE announced_versions (
    paper_id TEXT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    announced TEXT NOT NULL,
    dismissed INTEGER NOT NULL DEFAULT 0
);
"""

# The citation graph from Semantic Scholar (`refs`, `cited-by`, `related`, suggested
# prerequisites): the papers it told about, who cites whom (with its influence flag and
# intents), which lists were fetched and when; and the prerequisite links a user set or
# settled, apart from the catalogue's curated ones.
M012_CITATIONS = """
CREATE TABLE s2_papers (
    s2_id TEXT PRIMARY KEY,        -- Semantic Scholar's paperId
    corpus_id INTEGER,
    arxiv_id TEXT,                 -- version-less
    doi TEXT,                      -- lower case
    title TEXT NOT NULL,
    year INTEGER,
    authors TEXT NOT NULL,         -- JSON list of names
    venue TEXT NOT NULL,
    citation_count INTEGER,
    seen_at TEXT NOT NULL
);
CREATE INDEX s2_papers_arxiv ON s2_papers (arxiv_id) WHERE arxiv_id IS NOT NULL;
CREATE INDEX s2_papers_doi ON s2_papers (doi) WHERE doi IS NOT NULL;
CREATE TABLE s2_links (
    citing TEXT NOT NULL,
    cited TEXT NOT NULL,
    influential INTEGER NOT NULL,
    intents TEXT NOT NULL,         -- JSON: background, methodology, result
    PRIMARY KEY (citing, cited)
) WITHOUT ROWID;
CREATE INDEX s2_links_cited ON s2_links (cited, citing);
CREATE TABLE s2_lookups (
    s2_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('references', 'citations')),
    fetched_at TEXT NOT NULL,
    count INTEGER NOT NULL,        -- edges stored
    truncated INTEGER NOT NULL,    -- Semantic Scholar had more than papercli asked for
    PRIMARY KEY (s2_id, direction)
);
-- What papercli asked Semantic Scholar about and was told it does not know.
CREATE TABLE s2_unknown (ref TEXT PRIMARY KEY, asked_at TEXT NOT NULL);
-- A paper in the list and its Semantic Scholar record: by arXiv id, else by DOI (in any
-- case: Semantic Scholar's are stored in lower case, hence the index).
CREATE INDEX papers_doi_folded ON papers (lower(doi));
CREATE VIEW paper_s2 AS
    SELECT p.id AS paper_id, s.s2_id FROM papers p JOIN s2_papers s ON s.arxiv_id = p.arxiv_id
    UNION ALL
    SELECT p.id, s.s2_id FROM papers p JOIN s2_papers s ON s.doi = lower(p.doi)
        WHERE p.arxiv_id IS NULL AND p.doi IS NOT NULL;
CREATE TABLE user_prereqs (
    paper_id TEXT NOT NULL,
    prereq_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('added', 'removed')),
    at TEXT NOT NULL,
    PRIMARY KEY (paper_id, prereq_id)
);
CREATE INDEX user_prereqs_prereq ON user_prereqs (prereq_id);
"""

# Sync between devices (`papercli sync`): the user's changes as events in an append-only
# file per device. Each thing that syncs (a paper's status, a note, a tag on a paper, a
# queue place, ...) is a register: the event with the latest hybrid logical clock wins,
# ties going to the larger device id. sync_registers holds each register's winner,
# sync_outbox this device's events in the order they are written out, sync_peers how far
# each other device's file has been read. Notes get an id that is the same on every
# device (existing ones: paper, time and rank, so that one export imported on two devices
# gives the same note), and queue places a key to sort by that two devices can both
# insert between (sortkeys.py).
M013_SYNC = """
CREATE TABLE sync_registers (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    hlc TEXT NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE sync_outbox (
    seq INTEGER PRIMARY KEY,
    line TEXT NOT NULL              -- the event, as written to this device's file
);
CREATE TABLE sync_peers (
    device TEXT PRIMARY KEY,
    name TEXT,
    read_bytes INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    last_hlc TEXT,
    synced_at TEXT
);
ALTER TABLE notes ADD COLUMN uid TEXT;
UPDATE notes SET uid = paper_id || '@' || created_at || '#' || (SELECT count(*) FROM notes n
    WHERE n.paper_id = notes.paper_id AND n.created_at = notes.created_at AND n.id < notes.id);
CREATE UNIQUE INDEX notes_uid ON notes (uid);
-- A paper's notes are numbered by time (ties by uid), the same on every device; all
-- notes are listed by time.
CREATE INDEX notes_paper_time ON notes (paper_id, created_at, uid);
CREATE INDEX notes_time ON notes (created_at);  -- then by id, as written
CREATE TRIGGER notes_uid_default AFTER INSERT ON notes WHEN new.uid IS NULL BEGIN
    UPDATE notes SET uid = new.paper_id || '@' || new.created_at || '#' || (SELECT count(*)
        FROM notes n WHERE n.paper_id = new.paper_id AND n.created_at = new.created_at
        AND n.id < new.id) WHERE id = new.id;
END;
ALTER TABLE queue ADD COLUMN sort_key TEXT;
-- History is shown by when things happened: rows arrive from other devices out of order.
CREATE INDEX status_history_time ON status_history (changed_at, id);
"""

# Removing a paper (undo of an import, `remove`) drops the links that name it as a
# prerequisite: by this index, not by reading every link for every paper removed.
M014_PREREQ_INDEX = """
CREATE INDEX prerequisites_prereq ON prerequisites (prereq_id);
"""

# A paper's search document holds its notes and was built again for every note added or
# removed: an import, undo or sync of thousands of notes on one paper took the square of
# their number (5,000: 10 s; 20,000: minutes). While a command says so (a
# 'search_deferred' row in meta, made and removed inside its transaction, so never seen
# by another), a note only marks its paper stale, and the command builds each stale
# paper's document once at the end (store/search.py's deferred_documents).
_DEFERRED = "EXISTS (SELECT 1 FROM meta WHERE key = 'search_deferred')"
M015_DEFERRED_SEARCH = f"""
CREATE TABLE search_stale (paper_id TEXT PRIMARY KEY) WITHOUT ROWID;
DROP TRIGGER notes_search_insert;
DROP TRIGGER notes_search_delete;
CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
    DELETE FROM note_search WHERE rowid = new.id;
    INSERT INTO note_search (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_paper_search_insert AFTER INSERT ON notes WHEN NOT {_DEFERRED} BEGIN
    {_m005_reindex("new.paper_id")}
END;
CREATE TRIGGER notes_paper_stale_insert AFTER INSERT ON notes WHEN {_DEFERRED} BEGIN
    INSERT OR IGNORE INTO search_stale VALUES (new.paper_id);
END;
CREATE TRIGGER notes_search_delete AFTER DELETE ON notes BEGIN
    DELETE FROM note_search WHERE rowid = old.id;
END;
CREATE TRIGGER notes_paper_search_delete AFTER DELETE ON notes WHEN NOT {_DEFERRED} BEGIN
    {_m005_reindex("old.paper_id")}
END;
CREATE TRIGGER notes_paper_stale_delete AFTER DELETE ON notes WHEN {_DEFERRED} BEGIN
    INSERT OR IGNORE INTO search_stale VALUES (old.paper_id);
END;
"""

# One paper's history entry is looked up by its time (changes.HISTORY_BY_PAPER), not among
# all the paper's entries (a sync of a paper with 20,000 walked them 20,000 times). "IF NOT
# EXISTS": a development copy of migration 15 made it too; a released migration never
# changes, as a database past it never runs it again.
M016_HISTORY_BY_TIME = """
CREATE INDEX IF NOT EXISTS status_history_change ON status_history (paper_id, changed_at);
"""

# A BibTeX entry's DOI is looked up among the publisher's DOIs, by index, and among those
# arXiv's metadata lists, which sat in a JSON list per paper: each lookup read every
# paper's list, so an import of N entries by DOI took N times the library's fetched
# papers. The lists' DOIs now have their own table, kept by triggers; the insert trigger
# removes the paper's old DOIs first, as store_arxiv_record writes with INSERT OR
# REPLACE, whose delete fires no trigger.
M017_ARXIV_DOIS = """
CREATE TABLE arxiv_dois (
    doi TEXT NOT NULL COLLATE NOCASE,
    paper_id TEXT NOT NULL,
    PRIMARY KEY (doi, paper_id)
) WITHOUT ROWID;
CREATE INDEX arxiv_dois_paper ON arxiv_dois (paper_id);
INSERT OR IGNORE INTO arxiv_dois
    SELECT d.value, m.paper_id FROM arxiv_meta m, json_each(m.dois) d;
CREATE TRIGGER arxiv_meta_dois_insert AFTER INSERT ON arxiv_meta BEGIN
    DELETE FROM arxiv_dois WHERE paper_id = new.paper_id;
    INSERT OR IGNORE INTO arxiv_dois SELECT value, new.paper_id FROM json_each(new.dois);
END;
CREATE TRIGGER arxiv_meta_dois_update AFTER UPDATE OF paper_id, dois ON arxiv_meta BEGIN
    DELETE FROM arxiv_dois WHERE paper_id = old.paper_id;
    INSERT OR IGNORE INTO arxiv_dois SELECT value, new.paper_id FROM json_each(new.dois);
END;
CREATE TRIGGER arxiv_meta_dois_delete AFTER DELETE ON arxiv_meta BEGIN
    DELETE FROM arxiv_dois WHERE paper_id = old.paper_id;
END;
"""

# Which file of each other device was read (its header's id, new each time the device
# writes it whole): a replaced file is read again from its start, however long it is.
M018_SYNC_FILE_IDS = """
ALTER TABLE sync_peers ADD COLUMN file TEXT;
"""

# A status, note or tag that a sync brings for a paper removed here (removed on another
# device meanwhile) waits here, out of every listing, as its register's value; the paper's
# own ones wait here too when a sync removes it. Whatever puts the paper back (an undo of
# the removal, a sync of that undo, an import) puts them back with it.
M019_SYNC_PARKED = """
CREATE TABLE sync_parked (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    paper_id TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX sync_parked_paper ON sync_parked (paper_id);
CREATE TRIGGER papers_unpark AFTER INSERT ON papers
WHEN EXISTS (SELECT 1 FROM sync_parked WHERE paper_id = new.id) BEGIN
    INSERT OR REPLACE INTO reading_state (paper_id, status, changed_at, read_at, read_version)
        SELECT paper_id, json_extract(value, '$.status'), json_extract(value, '$.changed_at'),
            json_extract(value, '$.read_at'), json_extract(value, '$.read_version')
        FROM sync_parked WHERE kind = 'status' AND paper_id = new.id;
    INSERT OR IGNORE INTO notes (paper_id, created_at, body, uid)
        SELECT paper_id, json_extract(value, '$.created_at'), json_extract(value, '$.body'), key
        FROM sync_parked WHERE kind = 'note' AND paper_id = new.id;
    INSERT OR IGNORE INTO tags (paper_id, tag)
        SELECT paper_id, json_extract(value, '$.tag')
        FROM sync_parked WHERE kind = 'tag' AND paper_id = new.id;
    DELETE FROM sync_parked WHERE paper_id = new.id;
END;
"""

# A queue place a sync brings for a paper removed here waits aside too (it was written as
# a queue row of no paper, and came back on this device alone when the paper did); put
# back, it goes to the end of the queue with its sort key, and whatever put it back
# orders the queue by key once (a place found for each, moving the papers after it, was
# the square of the papers put back). The rows of no paper that syncs
# left before now wait aside as theirs do since M019, so `notes` and `tags` no longer list
# a paper `show` does not know: only in a database that has synced, where nothing else
# leaves such rows (a database from before the catalogue was loaded holds user rows of
# papers not there yet; they are the catalogue's).
M020_SYNC_PARKED_QUEUE = """
DROP TRIGGER papers_unpark;
CREATE TRIGGER papers_unpark AFTER INSERT ON papers
WHEN EXISTS (SELECT 1 FROM sync_parked WHERE paper_id = new.id) BEGIN
    INSERT OR REPLACE INTO reading_state (paper_id, status, changed_at, read_at, read_version)
        SELECT paper_id, json_extract(value, '$.status'), json_extract(value, '$.changed_at'),
            json_extract(value, '$.read_at'), json_extract(value, '$.read_version')
        FROM sync_parked WHERE kind = 'status' AND paper_id = new.id;
    INSERT OR IGNORE INTO notes (paper_id, created_at, body, uid)
        SELECT paper_id, json_extract(value, '$.created_at'), json_extract(value, '$.body'), key
        FROM sync_parked WHERE kind = 'note' AND paper_id = new.id;
    INSERT OR IGNORE INTO tags (paper_id, tag)
        SELECT paper_id, json_extract(value, '$.tag')
        FROM sync_parked WHERE kind = 'tag' AND paper_id = new.id;
    INSERT OR IGNORE INTO queue (paper_id, position, added_at, sort_key)
        SELECT paper_id, (SELECT coalesce(max(position), 0) + 1 FROM queue),
            json_extract(value, '$.added_at'), json_extract(value, '$.key')
        FROM sync_parked WHERE kind = 'queue' AND paper_id = new.id;
    DELETE FROM sync_parked WHERE paper_id = new.id;
END;
INSERT OR IGNORE INTO sync_parked (kind, key, paper_id, value)
    SELECT 'status', paper_id, paper_id, json_object('status', status, 'changed_at',
        changed_at, 'read_at', read_at, 'read_version', read_version)
    FROM reading_state WHERE paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
DELETE FROM reading_state WHERE paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
INSERT OR IGNORE INTO sync_parked (kind, key, paper_id, value)
    SELECT 'note', uid, paper_id, json_object('paper', paper_id, 'created_at', created_at,
        'body', body)
    FROM notes WHERE uid IS NOT NULL AND paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
DELETE FROM notes WHERE uid IS NOT NULL AND paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
INSERT OR IGNORE INTO sync_parked (kind, key, paper_id, value)
    SELECT 'tag', paper_id || char(31) || lower(tag), paper_id, json_object('paper', paper_id,
        'tag', tag)
    FROM tags WHERE paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
DELETE FROM tags WHERE paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
INSERT OR IGNORE INTO sync_parked (kind, key, paper_id, value)
    SELECT 'queue', paper_id, paper_id, json_object('key', sort_key, 'added_at', added_at)
    FROM queue WHERE paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
DELETE FROM queue WHERE paper_id NOT IN (SELECT id FROM papers)
    AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device');
-- the queue numbered 1..n again, in its order, where places were taken out
UPDATE queue SET position = ranked.n FROM (
    SELECT paper_id, row_number() OVER (ORDER BY position, paper_id) AS n FROM queue
) AS ranked WHERE queue.paper_id = ranked.paper_id AND queue.position <> ranked.n;
"""

# A paper's date whose day is not in the calendar (2021-02-30: `add` and a BibTeX import
# checked only that the day was from 01 to 31) keeps its year and month. SQLite's date()
# takes such a day as it is; moved by "+0 days", it comes out as another (2021-03-02).
M021_REAL_DAYS = """
UPDATE papers SET date = substr(date, 1, 7)
    WHERE length(date) = 10 AND date(date, '+0 days') IS NOT date;
"""

# Authors stored as papercli split their names before 3 December, by BibTeX's rules alone,
# are split as `add` splits them now: a suffix is one (Hal Daumé III was family name III,
# Martin Luther King, Jr. given name Jr., imported from BibTeX as Jr. Martin Luther King)
# and `{Team GLM}` typed in is an organization. Only where the stored split is the one
# those rules make of the stored name (or of a BibTeX import's `King, Jr.`), so a split
# the catalogue, an import's explicit parts or a person gave stays (export.resplit). The
# filter reads every row, the function only those a suffix or braces could concern. No sync
# event: each device splits its own copy alike, and one from a device not yet upgraded is
# split alike where a sync or an undo puts it back (changes.stored_author).
M022_AUTHOR_SPLITS = """
CREATE TEMP TABLE resplit AS
    SELECT paper_id, position, resplit_author(name, family, given, suffix, literal) AS now
    FROM paper_authors
    WHERE literal = 0 AND (name LIKE '%jr' OR name LIKE '%jr.' OR name LIKE '%sr'
        OR name LIKE '%sr.' OR name LIKE '%ii' OR name LIKE '%iv' OR name LIKE '{%}'
        OR given IN ('Jr', 'Jr.', 'Sr', 'Sr.', 'II', 'III', 'IV'));
UPDATE paper_authors SET name = json_extract(r.now, '$[0]'), family = json_extract(r.now, '$[1]'),
    given = json_extract(r.now, '$[2]'), suffix = json_extract(r.now, '$[3]'),
    literal = json_extract(r.now, '$[4]'), family_key = json_extract(r.now, '$[5]'),
    given_key = json_extract(r.now, '$[6]')
    FROM temp.resplit AS r
    WHERE r.now IS NOT NULL AND paper_authors.paper_id = r.paper_id
    AND paper_authors.position = r.position;
DROP TABLE temp.resplit;
"""

# A status or queue time later than the clock, as an import stored it from a file made where
# the clock ran ahead (until 4 December): such a time won every comparison with a change
# made after it, so the next import of a file, a first sync's back-fill and a read paper's
# leaving the queue took it for the latest. It becomes the time of the upgrade, the latest
# a change made before it can have. No sync event: each device mends its own copy.
M023_TIMES_NOT_AHEAD = """
UPDATE reading_state SET changed_at = papercli_now() WHERE changed_at > papercli_now();
UPDATE queue SET added_at = papercli_now() WHERE added_at > papercli_now();
"""

# Migration 23 left the undo log as it was: an undo or redo put back the status or queue
# time its step held from such an import (undoing a `mark-read` made after it, or redoing
# the import), and the time won again; and a step that left the status the paper still
# has no longer matched it (undo compares the two), so its undo was refused. A step's
# time becomes the one the paper's status has now, where the step left that status (a
# database upgraded to 23 alone holds that upgrade's time there), else the upgrade's.
M024_UNDO_TIMES_NOT_AHEAD = """
UPDATE undo_steps SET data = json_set(data, '$.before[1]', coalesce((
        SELECT r.changed_at FROM reading_state AS r WHERE r.paper_id = undo_steps.paper_id
        AND r.status = json_extract(undo_steps.data, '$.before[0]')
        AND r.read_at IS json_extract(undo_steps.data, '$.before[2]')
        AND r.read_version IS json_extract(undo_steps.data, '$.before[3]')
        AND r.changed_at <= papercli_now()), papercli_now()))
    WHERE action = 'state' AND json_extract(data, '$.before[1]') > papercli_now();
UPDATE undo_steps SET data = json_set(data, '$.after[1]', coalesce((
        SELECT r.changed_at FROM reading_state AS r WHERE r.paper_id = undo_steps.paper_id
        AND r.status = json_extract(undo_steps.data, '$.after[0]')
        AND r.read_at IS json_extract(undo_steps.data, '$.after[2]')
        AND r.read_version IS json_extract(undo_steps.data, '$.after[3]')
        AND r.changed_at <= papercli_now()), papercli_now()))
    WHERE action = 'state' AND json_extract(data, '$.after[1]') > papercli_now();
UPDATE undo_steps SET data = json_set(data, '$.added_at', papercli_now())
    WHERE action = 'queue' AND json_extract(data, '$.added_at') > papercli_now();
"""

# A BibTeX import matches an entry by its DOI to the paper of least id with it; it read
# every paper holding that DOI to find it, each entry again, so N papers sharing a DOI
# took the square of N. With the id in the index the least is its first row there.
M025_DOI_FIRST = """
DROP INDEX IF EXISTS papers_doi;
CREATE INDEX papers_doi ON papers(doi COLLATE NOCASE, id) WHERE doi IS NOT NULL;
"""

# A paper's notes are numbered in base.NOTE_ORDER, the uid's length before the uid: this
# index reads them in that order, as notes_paper_time did in the one before.
M026_NOTE_ORDER = """
DROP INDEX IF EXISTS notes_paper_time;
CREATE INDEX IF NOT EXISTS notes_paper_order ON notes (paper_id, created_at, length(uid), uid);
"""


def _m027_widened_steps(conn: sqlite3.Connection) -> None:
    """What steps 5, 11 and 20 gained after papercli from main had taken them (1 and 3
    December), where a database lacks it: the papers' primary category (``list`` failed
    without it), the inbox items' author keys (``inbox`` failed), and step 20's trigger as
    it is now (a queue place waiting for its paper went back to its key's place, moving
    every paper after it). Step 5's DOI index, which step 25 drops, is dropped only where
    it exists now: such a database stopped at schema 24, on every command."""
    for table, column, declared in (
        ("papers", "primary_category", "TEXT"),
        ("inbox_items", "author_keys", "TEXT NOT NULL DEFAULT ''"),
    ):
        if column not in {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declared}")
    conn.execute("DROP TRIGGER IF EXISTS papers_unpark")
    [trigger] = [s for s in _statements(M020_SYNC_PARKED_QUEUE) if "CREATE TRIGGER" in s]
    conn.execute(trigger)


def _m028_venue_titles(conn: sqlite3.Connection) -> None:
    """The title a venue printed, where it differs from the catalogue's (arXiv's): its
    citation's. Added where missing, as step 27 adds its columns."""
    if "venue_title" not in {str(row[1]) for row in conn.execute("PRAGMA table_info(papers)")}:
        conn.execute("ALTER TABLE papers ADD COLUMN venue_title TEXT NOT NULL DEFAULT ''")


def _m029_names_in_every_script(conn: sqlite3.Connection) -> None:
    """Author keys as ``names.person_key`` folds them now, which keeps the letters of other
    scripts (it dropped them: 张伟's key was empty, and no ``--author`` found him). Only a
    name outside ASCII (found by its length in bytes) whose key changes is written: written
    whether or not, the 500,000 accented names of a million papers took 73 s, each update
    remaking its paper's search document."""
    import json

    from papercli.names import person_key

    conn.create_function("person_key", 1, person_key, deterministic=True)
    conn.execute(
        "UPDATE paper_authors SET family_key = person_key(family), given_key = person_key(given)"
        " WHERE length(CAST(family || given AS BLOB)) != length(family || given)"
        " AND (family_key != person_key(family) OR given_key != person_key(given))"
    )
    conn.executemany(  # the items of the last days' listings
        "UPDATE inbox_items SET author_keys = ? WHERE docid = ?",
        [
            ("\n".join(person_key(name) for name, _ in json.loads(authors)), docid)
            for docid, authors in conn.execute(
                "SELECT docid, authors FROM inbox_items"
                " WHERE length(CAST(authors AS BLOB)) != length(authors)"
            ).fetchall()
        ],
    )


def _m030_per_cent_signs_in_urls(conn: sqlite3.Connection) -> None:
    """A paper's addresses as ``models.web_address`` keeps them now: a ``%`` that starts no
    escape (``?at=95%&q=1``), kept as typed until 5 December, made an address no parser
    takes in every export but BibTeX's. Only addresses holding a ``%`` are read."""
    from papercli.models import web_address

    def kept(address: str | None) -> str | None:
        return (web_address(address) or address) if address else address

    changed = [
        (kept(url), kept(pdf), paper_id)
        for paper_id, url, pdf in conn.execute(
            "SELECT id, url, pdf_url FROM papers WHERE instr(url, '%') OR instr(pdf_url, '%')"
        ).fetchall()
    ]
    conn.executemany("UPDATE papers SET url = ?, pdf_url = ? WHERE id = ?", changed)


def _m031_shadowed_changes(conn: sqlite3.Connection) -> None:
    """What an undo needs to put back a change another device made before the command but
    which reached here only after it, and lost to it (``sync.shadowed_step``): the clock of
    a command's events (``command_log.hlc``), the winner each of this device's events of a
    status, note or tag replaced (``sync_replaced``), and the events of another device that
    lost to one of this device's (``sync_lost``)."""
    if "hlc" not in {str(row[1]) for row in conn.execute("PRAGMA table_info(command_log)")}:
        conn.execute("ALTER TABLE command_log ADD COLUMN hlc TEXT")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS sync_replaced (kind TEXT NOT NULL, key TEXT NOT NULL,"
        " hlc TEXT NOT NULL, prev_hlc TEXT, prev_device TEXT,"
        " PRIMARY KEY (kind, key, hlc)) WITHOUT ROWID"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS sync_lost (kind TEXT NOT NULL, key TEXT NOT NULL,"
        " hlc TEXT NOT NULL, device TEXT NOT NULL, value TEXT,"
        " PRIMARY KEY (kind, key, hlc, device)) WITHOUT ROWID"
    )
    # A device that synced before: its events until now count as its first sync's, whose
    # dates (when each thing last changed) tell no order within a second, or for tags.
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) SELECT 'sync_backfilled_at', value FROM meta"
        " WHERE key = 'sync_hlc' AND EXISTS (SELECT 1 FROM meta WHERE key = 'sync_device')"
    )


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    M001_INITIAL,
    M002_ARXIV,
    M003_SEARCH,
    M004_LIST_ORDER,
    M005_AUTHORS,
    M006_UNDO_STEPS,
    M007_TAG_CASE,
    M008_COMMAND_LOG,
    M009_ADDED_AT,
    M010_WATCHES,
    M011_INBOX,
    M012_CITATIONS,
    M013_SYNC,
    M014_PREREQ_INDEX,
    M015_DEFERRED_SEARCH,
    M016_HISTORY_BY_TIME,
    M017_ARXIV_DOIS,
    M018_SYNC_FILE_IDS,
    M019_SYNC_PARKED,
    M020_SYNC_PARKED_QUEUE,
    M021_REAL_DAYS,
    M022_AUTHOR_SPLITS,
    M023_TIMES_NOT_AHEAD,
    M024_UNDO_TIMES_NOT_AHEAD,
    M025_DOI_FIRST,
    M026_NOTE_ORDER,
    _m027_widened_steps,
    _m028_venue_titles,
    _m029_names_in_every_script,
    _m030_per_cent_signs_in_urls,
    _m031_shadowed_changes,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing steps, each in its own transaction; return how many ran here.

    Each step looks at the version again once it holds the write lock: papercli commands
    opening an older database at once (after an upgrade, a cron job beside a person) all
    saw it old, and each applied every step again, failing ("duplicate column name") in
    14 of 20 commands started four at a time."""
    ran = 0
    add_functions(conn)
    for number in range(schema_version(conn), SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) == number:  # else another papercli took this step
                _run_step(conn, MIGRATIONS[number])
                conn.execute(f"PRAGMA user_version = {number + 1}")
                ran += 1
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return ran


def _run_step(conn: sqlite3.Connection, step: str | Callable[[sqlite3.Connection], None]) -> None:
    """One step, inside the caller's transaction: a script a statement at a time, or a
    function for what SQL cannot say (a column added only where it is missing)."""
    if callable(step):
        step(conn)
        return
    for statement in _statements(step):
        conn.execute(statement)


def add_functions(conn: sqlite3.Connection) -> None:
    """The functions of papercli's own that steps call (migration 22: resplit_author; 23
    and 24: papercli_now, the time of the upgrade: the clock every command takes its time
    from, read once, when a step first asks)."""
    from functools import cache

    from papercli.store import library
    from papercli.store.authors import resplit_columns

    conn.create_function("resplit_author", 5, resplit_columns, deterministic=True)
    conn.create_function("papercli_now", 0, cache(library.clock))


def _statements(script: str) -> Iterator[str]:
    """A step's statements one at a time, as ``execute`` takes them (``executescript``
    would commit the step's transaction first); SQLite says where each ends, a trigger's
    body and a ``;`` in quotes or comments included."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip("; \n"):
                yield pending
            pending = ""
