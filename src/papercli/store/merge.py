"""Another copy of the user's state, in and out: everything an export reads, and the
merge an import makes, as one undoable command that never rewinds newer state."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from papercli.models import Paper, ReadStatus
from papercli.store import changes, library
from papercli.store.changes import LIVE_HISTORY
from papercli.store.library import IN_IDS, enqueue, id_list, queue_positions, statuses, with_state
from papercli.store.papers import get_paper


def full_papers(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Paper]:
    """Everything known about each paper, the user's state included, in the order given."""
    return [with_state(conn, get_paper(conn, pid)) for pid in ids]


def history_by_paper(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, list[dict[str, object]]]:
    """Each paper's status changes that stand (not undone), oldest first, for an export."""
    found: dict[str, list[dict[str, object]]] = {pid: [] for pid in ids}
    for pid, old, new, at in conn.execute(
        "SELECT paper_id, old_status, new_status, changed_at FROM status_history"
        f" WHERE paper_id {IN_IDS} AND {LIVE_HISTORY}"
        " ORDER BY changed_at, old_status, new_status, id",
        (id_list(ids),),
    ):
        found[pid].append({"old_status": old, "new_status": new, "changed_at": at})
    return found


def begin_import(conn: sqlite3.Connection) -> int:
    """Start the import's undoable command; call inside its transaction."""
    return changes.begin(conn, "import", library.clock())


def finish_import(conn: sqlite3.Connection, batch: int, summary: str) -> None:
    changes.finish(conn, batch, summary)


def merge_state(
    conn: sqlite3.Connection, paper: Paper, history: Sequence[Mapping[str, object]], batch: int
) -> bool:
    """Merge an exported paper's state into ``paper.id``; call inside a transaction.

    Nothing newer is rewound: the status is the exported one only when it changed later
    than the local one; notes, tags and history entries are added when missing (history
    by paper, time and change). Each change is a step of ``batch``. Returns whether
    anything changed.
    """
    changed = False
    for entry in history:
        row = [entry["old_status"], entry["new_status"], entry["changed_at"]]
        cursor = conn.execute(
            "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at)"
            " SELECT 0, ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM status_history"
            " WHERE paper_id = ?1 AND old_status = ?2 AND new_status = ?3 AND changed_at = ?4)",
            (paper.id, *row),
        )
        if cursor.rowcount:
            new = {"id": cursor.lastrowid}
            changes.record(conn, batch, "history", paper.id, new, {**new, "row": row})
            changed = True
    changed |= _merge_status(conn, paper, batch)
    for tag in paper.tags:
        if conn.execute("INSERT OR IGNORE INTO tags VALUES (?, ?)", (paper.id, tag)).rowcount:
            off, on = {"tag": tag, "on": False}, {"tag": tag, "on": True}
            changes.record(conn, batch, "tag", paper.id, off, on)
            changed = True
    for note in paper.notes:
        cursor = conn.execute(
            "INSERT INTO notes (paper_id, created_at, body) SELECT ?1, ?2, ?3 WHERE NOT EXISTS"
            " (SELECT 1 FROM notes WHERE paper_id = ?1 AND created_at = ?2 AND body = ?3)",
            (paper.id, note.created_at, note.body),
        )
        if cursor.rowcount:
            after = {"id": cursor.lastrowid, "created_at": note.created_at, "body": note.body}
            changes.record(conn, batch, "note", paper.id, {"id": cursor.lastrowid}, after)
            changed = True
    return changed


def _merge_status(conn: sqlite3.Connection, paper: Paper, batch: int) -> bool:
    """Take the exported status when it is the later change (ISO UTC times compare as text)."""
    if paper.status is ReadStatus.UNREAD and not paper.status_changed_at:
        return False
    exported = [
        str(paper.status),
        paper.status_changed_at or library.clock(),
        paper.read_at,
        paper.read_version,
    ]
    current = conn.execute(
        "SELECT status, changed_at, read_at, read_version FROM reading_state WHERE paper_id = ?",
        (paper.id,),
    ).fetchone()
    if current is not None and (list(current) == exported or current[1] >= exported[1]):
        return False
    changes.record(conn, batch, "state", paper.id, current and list(current), exported)
    conn.execute(
        "INSERT OR REPLACE INTO reading_state (paper_id, status, changed_at, read_at,"
        " read_version) VALUES (?, ?, ?, ?, ?)",
        (paper.id, *exported),
    )
    return True


def would_queue(conn: sqlite3.Connection, ids: Sequence[str]) -> list[str]:
    """The ids ``queue_add`` would add (not queued yet, not read), for a dry run."""
    queued = queue_positions(conn, ids)
    current = statuses(conn, ids)
    return [
        pid
        for pid in dict.fromkeys(ids)
        if pid not in queued and current[pid] is not ReadStatus.READ
    ]


def queue_missing(conn: sqlite3.Connection, ids: Sequence[str], batch: int) -> list[str]:
    """Append, in order, the ids not queued yet, as steps of ``batch``; call inside a
    transaction."""
    queued = queue_positions(conn, ids)
    missing = [pid for pid in dict.fromkeys(ids) if pid not in queued]
    if missing:
        (length,) = conn.execute("SELECT count(*) FROM queue").fetchone()
        enqueue(conn, batch, missing, length + 1)
    return missing
