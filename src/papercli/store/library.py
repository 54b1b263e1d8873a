"""The user's own state: reading status and its history, the queue, notes and tags.

Everything a user did lives here, apart from what papercli ships (``shipped``,
``papers``). Every function that changes several rows does so in one transaction.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from papercli.errors import InvalidValueError, NotFoundError
from papercli.models import Note, Paper, ReadStatus
from papercli.store.base import transaction
from papercli.store.papers import delete_paper, get_paper


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Tests replace this to get fixed timestamps.
clock: Callable[[], str] = utc_now


def _id_list(ids: Sequence[str]) -> str:
    """One parameter holding any number of ids (SQLite caps the number of parameters)."""
    return json.dumps(list(ids))


_IN_IDS = "IN (SELECT value FROM json_each(?))"


# ---------------------------------------------------------------------------
# Reading status


@dataclass
class StatusChange:
    changed: list[tuple[str, ReadStatus]] = field(default_factory=list)  # (id, old status)
    unchanged: list[str] = field(default_factory=list)
    dequeued: list[str] = field(default_factory=list)


def statuses(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, ReadStatus]:
    """Current status of each id (unread when never set)."""
    found = dict(
        conn.execute(
            f"SELECT paper_id, status FROM reading_state WHERE paper_id {_IN_IDS}", (_id_list(ids),)
        ).fetchall()
    )
    return {pid: ReadStatus(found.get(pid, "unread")) for pid in ids}


def set_status(conn: sqlite3.Connection, ids: Sequence[str], status: ReadStatus) -> StatusChange:
    """Give every paper ``status`` in one transaction, recorded as one undoable batch.

    Marking a paper read or skipped takes it out of the queue (its place is kept in the
    history, so ``undo`` can put it back).
    """
    result = StatusChange()
    now = clock()
    with transaction(conn):
        current = statuses(conn, ids)
        batch = _new_batch(conn)
        positions = _queue_positions(conn, ids) if status in _LEAVES_QUEUE else {}
        for pid in ids:
            old = current[pid]
            if old is status:
                result.unchanged.append(pid)
                continue
            result.changed.append((pid, old))
            read = status is ReadStatus.READ
            conn.execute(
                "INSERT INTO reading_state (paper_id, status, changed_at, read_at, read_version)"
                " VALUES (?1, ?2, ?3, ?4, CASE WHEN ?4 IS NULL THEN NULL ELSE"
                " (SELECT version FROM arxiv_meta WHERE paper_id = ?1) END)"
                " ON CONFLICT(paper_id) DO UPDATE SET status = excluded.status,"
                " changed_at = excluded.changed_at,"
                " read_at = coalesce(excluded.read_at, reading_state.read_at),"
                " read_version = coalesce(excluded.read_version, reading_state.read_version)",
                (pid, str(status), now, now if read else None),
            )
            conn.execute(
                "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at,"
                " queue_position) VALUES (?, ?, ?, ?, ?, ?)",
                (batch, pid, str(old), str(status), now, positions.get(pid)),
            )
            if pid in positions:
                result.dequeued.append(pid)
        if result.dequeued:
            _remove_from_queue(conn, result.dequeued)
    return result


# A paper marked with one of these is done with: it leaves the queue.
_LEAVES_QUEUE = (ReadStatus.READ, ReadStatus.SKIPPED)


@dataclass
class HistoryEntry:
    paper_id: str
    title: str
    old_status: ReadStatus
    new_status: ReadStatus
    changed_at: str


def history(
    conn: sqlite3.Connection, paper_id: str | None = None, limit: int | None = None
) -> list[HistoryEntry]:
    """Status changes, newest first."""
    sql = (
        "SELECT h.paper_id, coalesce(p.title, ''), h.old_status, h.new_status, h.changed_at"
        " FROM status_history h LEFT JOIN papers p ON p.id = h.paper_id"
    )
    params: list[object] = []
    if paper_id is not None:
        sql += " WHERE h.paper_id = ?"
        params.append(paper_id)
    sql += " ORDER BY h.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [
        HistoryEntry(pid, title, ReadStatus(old), ReadStatus(new), at)
        for pid, title, old, new, at in conn.execute(sql, params)
    ]


def _new_batch(conn: sqlite3.Connection) -> int:
    """The number of the next undoable step (a command's changes share one)."""
    return int(
        conn.execute(
            "SELECT max(coalesce((SELECT max(batch) FROM status_history), 0),"
            " coalesce((SELECT max(batch) FROM undo_steps), 0)) + 1"
        ).fetchone()[0]
    )


@dataclass
class Undone:
    """What ``undo`` put back: the status changes, and how many other changes."""

    statuses: list[HistoryEntry] = field(default_factory=list)
    other_changes: int = 0


def undo(conn: sqlite3.Connection) -> Undone:
    """Revert the last undoable command: its status changes and its other steps.

    It never fails on what later commands did in between: a paper already back in the
    queue stays where it is, a note already gone stays gone.
    """
    with transaction(conn):
        (batch,) = conn.execute(
            "SELECT max(coalesce((SELECT max(batch) FROM status_history), 0),"
            " coalesce((SELECT max(batch) FROM undo_steps), 0))"
        ).fetchone()
        if not batch:
            raise NotFoundError("there is nothing to undo")
        rows = conn.execute(
            "SELECT h.paper_id, coalesce(p.title, ''), h.old_status, h.new_status,"
            " h.changed_at, h.queue_position FROM status_history h"
            " LEFT JOIN papers p ON p.id = h.paper_id WHERE h.batch = ? ORDER BY h.id",
            (batch,),
        ).fetchall()
        for pid, _title, old, _new, _at, position in rows:
            previous_read = conn.execute(
                "SELECT max(changed_at) FROM status_history"
                " WHERE paper_id = ? AND new_status = 'read' AND batch < ?",
                (pid, batch),
            ).fetchone()[0]
            conn.execute(
                "UPDATE reading_state SET status = ?, changed_at = ?, read_at = ?"
                " WHERE paper_id = ?",
                (old, clock(), previous_read, pid),
            )
            if position is not None and pid not in _queue_positions(conn, [pid]):
                _insert_into_queue(conn, [pid], position)
        conn.execute("DELETE FROM status_history WHERE batch = ?", (batch,))
        steps = conn.execute(
            "SELECT action, paper_id, data FROM undo_steps WHERE batch = ? ORDER BY id DESC",
            (batch,),
        ).fetchall()
        for action, pid, data in steps:
            _revert(conn, str(action), str(pid), json.loads(data))
        conn.execute("DELETE FROM undo_steps WHERE batch = ?", (batch,))
    reverted = [HistoryEntry(r[0], r[1], ReadStatus(r[3]), ReadStatus(r[2]), r[4]) for r in rows]
    return Undone(reverted, len(steps))


# How each kind of undo step puts things back (the step's data names the rows).
UNDO_ACTIONS = (
    "restore_state",
    "unqueue",
    "forget_note",
    "forget_tag",
    "forget_history",
    "forget_paper",
)


def _record(
    conn: sqlite3.Connection, batch: int, action: str, paper_id: str, **data: object
) -> None:
    conn.execute(
        "INSERT INTO undo_steps (batch, action, paper_id, data) VALUES (?, ?, ?, ?)",
        (batch, action, paper_id, json.dumps(data, ensure_ascii=False)),
    )


def _revert(conn: sqlite3.Connection, action: str, paper_id: str, data: dict[str, Any]) -> None:
    if action == "restore_state":
        conn.execute("DELETE FROM reading_state WHERE paper_id = ?", (paper_id,))
        if data.get("status") is not None:
            conn.execute(
                "INSERT INTO reading_state (paper_id, status, changed_at, read_at, read_version)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    paper_id,
                    data["status"],
                    data["changed_at"],
                    data["read_at"],
                    data["read_version"],
                ),
            )
    elif action == "unqueue":
        if paper_id in _queue_positions(conn, [paper_id]):
            _remove_from_queue(conn, [paper_id])
    elif action == "forget_note":
        conn.execute("DELETE FROM notes WHERE id = ?", (data["id"],))
    elif action == "forget_tag":
        conn.execute("DELETE FROM tags WHERE paper_id = ? AND tag = ?", (paper_id, data["tag"]))
    elif action == "forget_history":
        conn.execute("DELETE FROM status_history WHERE id = ?", (data["id"],))
    elif action == "forget_paper":
        delete_paper(conn, paper_id)


def with_state(conn: sqlite3.Connection, paper: Paper) -> Paper:
    """Fill in the user's side of a paper: status dates, queue place, tags and notes."""
    row = conn.execute(
        "SELECT changed_at, read_at, read_version FROM reading_state WHERE paper_id = ?",
        (paper.id,),
    ).fetchone()
    if row:
        paper.status_changed_at, paper.read_at, paper.read_version = row
    position = conn.execute("SELECT position FROM queue WHERE paper_id = ?", (paper.id,)).fetchone()
    paper.queue_position = position[0] if position else None
    paper.tags = tags_of(conn, paper.id)
    paper.notes = notes_of(conn, paper.id)
    return paper


# ---------------------------------------------------------------------------
# Queue


def _queue_positions(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
    return dict(
        conn.execute(
            f"SELECT paper_id, position FROM queue WHERE paper_id {_IN_IDS}", (_id_list(ids),)
        ).fetchall()
    )


def _queue_length(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM queue").fetchone()[0])


def _remove_from_queue(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
    conn.execute(f"DELETE FROM queue WHERE paper_id {_IN_IDS}", (_id_list(ids),))
    _renumber(conn)


def _renumber(conn: sqlite3.Connection) -> None:
    """Make positions 1..n again, keeping the order."""
    conn.execute(
        "UPDATE queue SET position = ranked.n FROM (SELECT paper_id,"
        " row_number() OVER (ORDER BY position, rowid) AS n FROM queue) AS ranked"
        " WHERE queue.paper_id = ranked.paper_id AND queue.position != ranked.n"
    )


def _insert_into_queue(conn: sqlite3.Connection, ids: Sequence[str], at: int) -> None:
    """Insert ids (not yet queued) so the first lands at position ``at``."""
    at = max(1, min(at, _queue_length(conn) + 1))
    conn.execute("UPDATE queue SET position = position + ? WHERE position >= ?", (len(ids), at))
    now = clock()
    conn.executemany(
        "INSERT INTO queue (paper_id, position, added_at) VALUES (?, ?, ?)",
        [(pid, at + i, now) for i, pid in enumerate(ids)],
    )


@dataclass
class QueueChange:
    added: list[str] = field(default_factory=list)
    already_queued: list[str] = field(default_factory=list)
    skipped_read: list[str] = field(default_factory=list)


def queue_add(
    conn: sqlite3.Connection,
    ids: Sequence[str],
    *,
    at: int | None = None,
    include_read: bool = False,
) -> QueueChange:
    """Append (or insert at position ``at``) papers not queued yet; keep the order of the rest."""
    result = QueueChange()
    with transaction(conn):
        queued = _queue_positions(conn, ids)
        current = statuses(conn, ids)
        for pid in dict.fromkeys(ids):
            if pid in queued:
                result.already_queued.append(pid)
            elif current[pid] is ReadStatus.READ and not include_read:
                result.skipped_read.append(pid)
            else:
                result.added.append(pid)
        if at is not None and not 1 <= at <= _queue_length(conn) + 1:
            raise InvalidValueError(
                f"position {at} is out of range: the queue has {_queue_length(conn)} papers"
            )
        if result.added:
            _insert_into_queue(conn, result.added, at or _queue_length(conn) + 1)
    return result


def queue_remove(conn: sqlite3.Connection, ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Take papers out of the queue; return (removed, not queued)."""
    with transaction(conn):
        queued = _queue_positions(conn, ids)
        removed = [pid for pid in ids if pid in queued]
        if removed:
            _remove_from_queue(conn, removed)
    return removed, [pid for pid in ids if pid not in queued]


def queue_move(conn: sqlite3.Connection, paper_id: str, position: int) -> None:
    with transaction(conn):
        length = _queue_length(conn)
        if paper_id not in _queue_positions(conn, [paper_id]):
            raise NotFoundError(
                f"{paper_id} is not in the queue; add it with: papercli queue add {paper_id}"
            )
        if not 1 <= position <= length:
            raise InvalidValueError(
                f"position {position} is out of range: the queue has {length} papers (1-{length})"
            )
        _remove_from_queue(conn, [paper_id])
        _insert_into_queue(conn, [paper_id], position)


def queue_clear(conn: sqlite3.Connection) -> int:
    with transaction(conn):
        return conn.execute("DELETE FROM queue").rowcount


def next_in_queue(conn: sqlite3.Connection) -> str | None:
    """The first queued paper not read or skipped."""
    row = conn.execute(
        "SELECT q.paper_id FROM queue q LEFT JOIN reading_state s ON s.paper_id = q.paper_id"
        " WHERE coalesce(s.status, 'unread') IN ('unread', 'reading') ORDER BY q.position LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def queue_ids(conn: sqlite3.Connection, limit: int | None = None) -> list[str]:
    sql = "SELECT paper_id FROM queue ORDER BY position"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [str(r[0]) for r in conn.execute(sql)]


# ---------------------------------------------------------------------------
# Reading path


def reading_path(conn: sqlite3.Connection, paper_id: str) -> list[str]:
    """The paper's prerequisites, transitively, in an order that respects them.

    Oldest foundations first: among papers whose prerequisites are all placed, the
    earliest published comes next. The paper itself comes last.
    """
    rows = conn.execute(
        "WITH RECURSIVE needed(id) AS (SELECT ? UNION"
        " SELECT r.prereq_id FROM prerequisites r JOIN needed n ON r.paper_id = n.id)"
        " SELECT n.id, p.date, (SELECT group_concat(prereq_id, char(31)) FROM prerequisites"
        "   WHERE paper_id = n.id) FROM needed n JOIN papers p ON p.id = n.id",
        (paper_id,),
    ).fetchall()
    date = {pid: d for pid, d, _ in rows}
    needs = {pid: {x for x in (pre or "").split("\x1f") if x in date} for pid, _, pre in rows}
    ready = [(date[pid], pid) for pid, pre in needs.items() if not pre]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, pid = heapq.heappop(ready)
        order.append(pid)
        for other, pre in needs.items():
            if pid in pre:
                pre.discard(pid)
                if not pre:
                    heapq.heappush(ready, (date[other], other))
    return order


# ---------------------------------------------------------------------------
# Notes and tags


def add_note(conn: sqlite3.Connection, paper_id: str, body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidValueError("the note is empty; nothing was saved")
    now = clock()
    with transaction(conn):
        conn.execute(
            "INSERT INTO notes (paper_id, created_at, body) VALUES (?, ?, ?)", (paper_id, now, text)
        )
    return now


def notes_of(conn: sqlite3.Connection, paper_id: str) -> list[Note]:
    return [
        Note(str(at), str(body))
        for at, body in conn.execute(
            "SELECT created_at, body FROM notes WHERE paper_id = ? ORDER BY id", (paper_id,)
        )
    ]


def tags_of(conn: sqlite3.Connection, paper_id: str) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute("SELECT tag FROM tags WHERE paper_id = ? ORDER BY tag", (paper_id,))
    ]


def change_tags(
    conn: sqlite3.Connection, ids: Sequence[str], add: Sequence[str], remove: Sequence[str]
) -> None:
    with transaction(conn):
        conn.executemany(
            "INSERT OR IGNORE INTO tags VALUES (?, ?)", [(pid, t) for pid in ids for t in add]
        )
        conn.executemany(
            "DELETE FROM tags WHERE paper_id = ? AND tag = ?",
            [(pid, t) for pid in ids for t in remove],
        )


def tag_counts(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    return [
        (str(t), int(c))
        for t, c in conn.execute("SELECT tag, count(*) FROM tags GROUP BY tag ORDER BY tag")
    ]


# ---------------------------------------------------------------------------
# Export


def full_papers(conn: sqlite3.Connection, ids: Sequence[str]) -> list[Paper]:
    """Everything known about each paper, the user's state included, in the order given."""
    return [with_state(conn, get_paper(conn, pid)) for pid in ids]


def history_by_paper(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, list[dict[str, object]]]:
    """Each paper's status changes, oldest first, for a full-fidelity export."""
    found: dict[str, list[dict[str, object]]] = {pid: [] for pid in ids}
    for pid, old, new, at in conn.execute(
        "SELECT paper_id, old_status, new_status, changed_at FROM status_history"
        f" WHERE paper_id {_IN_IDS} ORDER BY id",
        (_id_list(ids),),
    ):
        found[pid].append({"old_status": old, "new_status": new, "changed_at": at})
    return found


# ---------------------------------------------------------------------------
# Import


def new_batch(conn: sqlite3.Connection) -> int:
    """Start an undoable step of several changes (an import); call inside a transaction."""
    return _new_batch(conn)


def merge_state(
    conn: sqlite3.Connection, paper: Paper, history: Sequence[Mapping[str, object]], batch: int
) -> bool:
    """Merge an exported paper's state into ``paper.id``; call inside a transaction.

    Nothing newer is rewound: the status is the exported one only when it changed later
    than the local one; notes, tags and history entries are added when missing (history
    by paper, time and change). Each change is recorded as a step of ``batch``, so one
    ``undo`` reverts the whole import. Returns whether anything changed.
    """
    changed = False
    for entry in history:
        cursor = conn.execute(
            "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at)"
            " SELECT 0, ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM status_history"
            " WHERE paper_id = ?1 AND old_status = ?2 AND new_status = ?3 AND changed_at = ?4)",
            (paper.id, entry["old_status"], entry["new_status"], entry["changed_at"]),
        )
        if cursor.rowcount:
            _record(conn, batch, "forget_history", paper.id, id=cursor.lastrowid)
            changed = True
    changed |= _merge_status(conn, paper, batch)
    for tag in paper.tags:
        if conn.execute("INSERT OR IGNORE INTO tags VALUES (?, ?)", (paper.id, tag)).rowcount:
            _record(conn, batch, "forget_tag", paper.id, tag=tag)
            changed = True
    for note in paper.notes:
        cursor = conn.execute(
            "INSERT INTO notes (paper_id, created_at, body) SELECT ?1, ?2, ?3 WHERE NOT EXISTS"
            " (SELECT 1 FROM notes WHERE paper_id = ?1 AND created_at = ?2 AND body = ?3)",
            (paper.id, note.created_at, note.body),
        )
        if cursor.rowcount:
            _record(conn, batch, "forget_note", paper.id, id=cursor.lastrowid)
            changed = True
    return changed


def _merge_status(conn: sqlite3.Connection, paper: Paper, batch: int) -> bool:
    """Take the exported status when it is the later change (ISO UTC times compare as text)."""
    if paper.status is ReadStatus.UNREAD and not paper.status_changed_at:
        return False
    exported = (
        str(paper.status),
        paper.status_changed_at or clock(),
        paper.read_at,
        paper.read_version,
    )
    current = conn.execute(
        "SELECT status, changed_at, read_at, read_version FROM reading_state WHERE paper_id = ?",
        (paper.id,),
    ).fetchone()
    if current is not None and (tuple(current) == exported or current[1] >= exported[1]):
        return False
    columns = ("status", "changed_at", "read_at", "read_version")
    before = dict(zip(columns, current or (None,) * 4, strict=True))
    _record(conn, batch, "restore_state", paper.id, **before)
    conn.execute(
        "INSERT OR REPLACE INTO reading_state (paper_id, status, changed_at, read_at,"
        " read_version) VALUES (?, ?, ?, ?, ?)",
        (paper.id, *exported),
    )
    return True


def record_added_paper(conn: sqlite3.Connection, batch: int, paper_id: str) -> None:
    """Make a paper an import added part of its undo: undoing the import removes it."""
    _record(conn, batch, "forget_paper", paper_id)


def would_queue(conn: sqlite3.Connection, ids: Sequence[str]) -> list[str]:
    """The ids ``queue_add`` would add (not queued yet, not read), for a dry run."""
    queued = _queue_positions(conn, ids)
    current = statuses(conn, ids)
    return [
        pid
        for pid in dict.fromkeys(ids)
        if pid not in queued and current[pid] is not ReadStatus.READ
    ]


def queue_missing(conn: sqlite3.Connection, ids: Sequence[str], batch: int) -> list[str]:
    """Append, in order, the ids not queued yet; call inside a transaction. Each is a step
    of ``batch``."""
    queued = _queue_positions(conn, ids)
    missing = [pid for pid in dict.fromkeys(ids) if pid not in queued]
    if missing:
        _insert_into_queue(conn, missing, _queue_length(conn) + 1)
        for pid in missing:
            _record(conn, batch, "unqueue", pid)
    return missing
