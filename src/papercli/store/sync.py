"""Sync's storage: the registers that sync (their current values, read and written), the
winning clock of each, this device's outbox, and how far other devices' files were read.

A register is one thing a user can change, named by a kind and a key:

- ``status`` (paper id): the paper's reading_state row
- ``note`` (note uid): a note's paper, time and text
- ``tag`` (paper id, tag): whether the paper carries the tag
- ``queue`` (paper id): the paper's place in the queue (a sort key) and when it was queued
- ``history`` (paper id, old, new, time): a status change shown by ``history``; one
  made more than once in a second (marked reading, unread, reading) has a ``count``;
  ``undone`` says how many of them were undone (papercli before 3 December left those out)
- ``paper`` (paper id): a paper the user added, with its facts (never fetched metadata)
- ``prereq`` (paper id, prerequisite id): a link the user added or removed
- ``watch`` (name, any case): a saved watch
- ``inbox`` (arXiv id): a kept or dismissed inbox item
- ``device`` (device id): the name a device goes by

A value of None means the thing does not exist (no state, note deleted, tag off, ...).
A status, note or tag of a paper that is not here (removed on this device, while another
changed it) is kept aside as its value, listed nowhere, until the paper is back.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from papercli import events, sortkeys
from papercli.models import Author, Paper
from papercli.names import as_tag, nocase
from papercli.records import asdict, field_names
from papercli.store import changes, papers
from papercli.store.base import IN_IDS, id_list
from papercli.store.changes import HISTORY_BY_PAPER, LIVE_HISTORY

KINDS = ("status", "note", "tag", "queue", "history", "paper", "prereq", "watch", "inbox", "device")
SEP = "\x1f"  # joins the parts of a key
# What a user's paper is, as it syncs: its facts, not the user's state (which syncs as
# its own registers) nor fetched metadata (which each device can fetch again).
PAPER_FACTS = (
    "id", "title", "short_name", "year", "date", "kind", "arxiv_id", "url", "pdf_url",
    "aliases", "organizations", "topics", "why", "focus", "technique", "sources",
    "prerequisites", "origin", "authors", "venue", "doi", "citation_key", "added_at",
    "primary_category",
)  # fmt: skip


# -- this device ---------------------------------------------------------------------


def meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def device_id(conn: sqlite3.Connection) -> str | None:
    """This device's id: set by its first sync, after which every change is an event."""
    return meta(conn, "sync_device")


def next_clock(conn: sqlite3.Connection) -> str:
    """A clock for a change made now, after every clock this device has made or seen."""
    hlc = events.next_hlc(meta(conn, "sync_hlc"), time.time_ns() // 1_000_000)
    set_meta(conn, "sync_hlc", hlc)
    return hlc


def saw_clock(conn: sqlite3.Connection, hlc: str) -> None:
    """Remember a clock from another device, so that later changes here sort after it."""
    if hlc > (meta(conn, "sync_hlc") or ""):
        set_meta(conn, "sync_hlc", hlc)


def emit_batch(
    conn: sqlite3.Connection,
    batch: int,
    unchanged: Collection[tuple[str, str]] = (),
    *,
    restored: bool = False,
) -> None:
    """Once this device syncs: the events of a command just done, undone or redone (the
    registers it changed, as they are now, in order, but those an undo or redo left
    ``unchanged``: sent again, they became this device's, and a redo then took back
    another device's later queue move); call inside its transaction. The registers wait
    on disk, each once: an import's batch names every paper it added.

    ``restored``: an import's notes and queue places are dated by when the file says they
    were written or queued, as a first sync dates them. Dated by the import, an old
    export's note brought back a deletion made since on a device not yet heard from."""
    from papercli.store.scratch import ScratchSet

    device = device_id(conn)
    if device is None:
        return
    with ScratchSet() as registers:
        found = _registers_of_batch(conn, batch)
        queued = False
        while chunk := list(islice(found, 1000)):
            chunk = [register for register in chunk if register not in unchanged]
            registers.add([kind + SEP + key for kind, key in chunk])
            queued |= any(kind == "queue" for kind, _ in chunk)
        if queued:
            settle_queue_keys(conn, lambda ids: registers.add(["queue" + SEP + p for p in ids]))
        in_order = (register.partition(SEP) for register in registers)
        now = next_clock(conn)
        conn.execute("UPDATE command_log SET hlc = ? WHERE batch = ?", (now, batch))
        emit_each(
            conn,
            device,
            (
                # Never later than now: a note dated ahead (a machine whose clock ran fast)
                # made a clock no later change here could beat, its deletion lost everywhere.
                (kind, key, min(_own_time(conn, kind, key) or now, now) if restored else now)
                for kind, _, key in in_order
            ),
        )


def _own_time(conn: sqlite3.Connection, kind: str, key: str) -> str | None:
    """The clock of when a note was written or a paper queued (None for other kinds)."""
    sql = _OWN_TIMES.get(kind)
    row = None if sql is None else conn.execute(sql, (key,)).fetchone()
    return None if row is None else events.hlc_of_time(str(row[0]))


_OWN_TIMES = {
    "note": "SELECT created_at FROM notes WHERE uid = ?",
    "queue": "SELECT added_at FROM queue WHERE paper_id = ?",
}


def emit(
    conn: sqlite3.Connection, device: str, registers: Iterable[tuple[str, str]], hlc: str
) -> int:
    """Put an event for each register, as it is now, in the outbox; make it the winner."""
    return emit_each(conn, device, ((kind, key, hlc) for kind, key in registers))


def emit_each(
    conn: sqlite3.Connection, device: str, registers: Iterable[tuple[str, str, str]]
) -> int:
    """Put an event for each (kind, key, clock) in the outbox, reading a thousand
    registers at a time (the papers among them together), and make each the winner."""
    count = 0
    rows = iter(registers)
    while chunk := list(islice(rows, 1000)):
        facts = paper_registers(conn, [key for kind, key, _ in chunk if kind == "paper"])
        lines = [
            events.event_line(
                device,
                hlc,
                kind,
                key,
                facts[key] if kind == "paper" else read_register(conn, kind, key),
            )
            for kind, key, hlc in chunk
        ]
        add_to_outbox(conn, lines)
        _set_own_winners(conn, [(kind, key, hlc, device) for kind, key, hlc in chunk])
        count += len(chunk)
    return count


# -- registers -------------------------------------------------------------------------


def _registers_of_batch(conn: sqlite3.Connection, batch: int) -> Iterator[tuple[str, str]]:
    """The registers a command (a batch of undo steps) changed, some more than once."""
    for kind, key, data in conn.execute(
        "SELECT action, paper_id, data FROM undo_steps WHERE batch = ?", (batch,)
    ):
        if kind in _NAMED_BY_KEY:  # its data unread: a paper's holds all its facts
            yield _NAMED_BY_KEY[kind], nocase(key) if kind == "watch" else str(key)
            continue
        values = json.loads(data)
        yield from _registers_of_step(conn, str(kind), str(key), values["before"], values["after"])
    for pid, old, new, at in conn.execute(
        "SELECT paper_id, old_status, new_status, changed_at FROM status_history WHERE batch = ?",
        (batch,),
    ):
        yield "history", SEP.join((pid, old, new, at))


_NAMED_BY_KEY = {
    "state": "status",
    "queue": "queue",
    "paper": "paper",
    "inbox": "inbox",
    "watch": "watch",
}
"""The kinds of undo step whose register is named by the step's key alone."""


def _registers_of_step(
    conn: sqlite3.Connection, kind: str, key: str, before: Any, after: Any
) -> set[tuple[str, str]]:
    if kind == "tag":
        return {("tag", SEP.join((key, nocase(v["tag"])))) for v in (before, after) if v}
    if kind == "note":
        uids = {v["uid"] for v in (before, after) if v and v.get("uid")}
        ids = [v["id"] for v in (before, after) if v and "id" in v]
        uids |= {
            str(r[0])
            for r in conn.execute(
                "SELECT uid FROM notes WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            )
        }
        return {("note", uid) for uid in uids}
    if kind == "history":
        rows = [v["row"] for v in (before, after) if v and "row" in v]
        return {("history", SEP.join((key, *map(str, row)))) for row in rows}
    if kind == "prereq":
        return {("prereq", SEP.join((key, v["prereq"]))) for v in (before, after) if v}
    return set()  # alerts: announcements are each device's own cache


_STATUS_FIELDS = ("status", "changed_at", "read_at", "read_version")  # a status register's


PARKED = ("status", "note", "tag", "queue")
"""The registers of a paper that wait, kept aside, while the paper is not here
(migrations.M019, M020): written as rows of no paper, they were listed by `notes` and
`tags` and lost on the device that wrote them when the paper's removal reached it (a
queue place came back on that device alone)."""


def read_register(conn: sqlite3.Connection, kind: str, key: str) -> Any:
    """A register's current value, None when the thing does not exist."""
    parts = key.split(SEP)
    if kind in PARKED:
        row = conn.execute(
            "SELECT value FROM sync_parked WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        if row is not None:
            return json.loads(row[0])
    if kind == "status":
        row = changes.state_of(conn, key)
        return None if row is None else dict(zip(_STATUS_FIELDS, row, strict=True))
    if kind == "note":
        row = conn.execute(
            "SELECT paper_id, created_at, body FROM notes WHERE uid = ?", (key,)
        ).fetchone()
        return None if row is None else {"paper": row[0], "created_at": row[1], "body": row[2]}
    if kind == "tag":
        row = conn.execute(
            "SELECT tag FROM tags WHERE paper_id = ? AND tag = ?", (parts[0], parts[1])
        ).fetchone()
        return None if row is None else {"paper": parts[0], "tag": row[0]}
    if kind == "queue":
        row = conn.execute(
            "SELECT sort_key, added_at FROM queue WHERE paper_id = ?", (key,)
        ).fetchone()
        return None if row is None else {"key": row[0], "added_at": row[1]}
    if kind == "history":
        count, undone = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE NOT ({LIVE_HISTORY})) FROM"
            f" {HISTORY_BY_PAPER} WHERE paper_id = ? AND old_status = ? AND new_status = ?"
            " AND changed_at = ?",
            parts,
        ).fetchone()
        change = dict(zip(("paper", "old", "new", "at"), parts, strict=True))
        count = min(count, events.MAX_REPEATS)
        if count > 1:
            change["count"] = count
        if undone:
            change["undone"] = min(undone, count)
        return change if count else None
    if kind == "paper":
        return paper_registers(conn, [key])[key]
    if kind == "prereq":
        row = conn.execute(
            "SELECT state, at FROM user_prereqs WHERE paper_id = ? AND prereq_id = ?", parts
        ).fetchone()
        return None if row is None else {"state": row[0], "at": row[1]}
    if kind == "watch":
        from papercli.store.watches import watch_named

        # By its name (COLLATE NOCASE, an index), not a walk of every watch: a first
        # sync of W watches read W squared of them.
        watch = watch_named(conn, key)
        return None if watch is None or nocase(watch.name) != key else asdict(watch)
    if kind == "inbox":
        row = conn.execute(
            "SELECT decision, decided_at FROM inbox_decisions WHERE arxiv_id = ?", (key,)
        ).fetchone()
        return None if row is None else {"decision": row[0], "at": row[1]}
    if kind == "device":
        row = conn.execute("SELECT name FROM sync_peers WHERE device = ?", (key,)).fetchone()
        own = meta(conn, "sync_device_name") if key == device_id(conn) else None
        name = own or (row[0] if row else None)
        return None if name is None else {"name": name}
    raise ValueError(f"unknown register kind {kind!r}")


def paper_registers(conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, Any]:
    """The ``paper`` registers of these papers, read together: a user's own paper's
    facts; None for a catalogue paper or one that does not exist."""
    found = dict.fromkeys(keys)
    own = [
        str(pid)
        for (pid,) in conn.execute(
            f"SELECT id FROM papers WHERE id {IN_IDS} AND origin = 'user'", (id_list(keys),)
        )
    ]
    for paper in papers.full_papers(conn, own, with_state=False):
        facts = asdict(paper)
        found[paper.id] = {name: facts[name] for name in PAPER_FACTS}
    return found


def write_register(conn: sqlite3.Connection, kind: str, key: str, value: Any) -> str | None:
    """Make a register hold ``value`` (from another device); call inside a transaction.
    Returns a sentence when it cannot be done as asked (a paper whose arXiv id another
    paper here holds), else None."""
    parts = key.split(SEP)
    if kind in PARKED:
        conn.execute("DELETE FROM sync_parked WHERE kind = ? AND key = ?", (kind, key))
        paper = parts[0] if kind == "tag" else value and value["paper"] if kind == "note" else key
        if value is not None and not _is_here(conn, paper):
            _park(conn, kind, key, paper, value)
            value = None  # and no row of it here
    if kind == "status":
        changes.set_state(conn, key, None if value is None else [value[f] for f in _STATUS_FIELDS])
    elif kind == "note":
        conn.execute("DELETE FROM notes WHERE uid = ?", (key,))
        if value is not None:
            conn.execute(
                "INSERT INTO notes (paper_id, created_at, body, uid) VALUES (?, ?, ?, ?)",
                (value["paper"], value["created_at"], value["body"], key),
            )
    elif kind == "tag":  # in NFC: a papercli before 3 December synced a tag as typed
        changes.set_tag(conn, parts[0], {"tag": as_tag(parts[1]), "on": False})
        if value is not None:
            changes.set_tag(conn, parts[0], {"tag": as_tag(value["tag"]), "on": True})
    elif kind == "queue":
        conn.execute("DELETE FROM queue WHERE paper_id = ?", (key,))
        if value is not None:
            conn.execute(
                "INSERT INTO queue (paper_id, position, added_at, sort_key)"
                " VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM queue), ?, ?)",
                (key, value["added_at"], value["key"]),
            )
    elif kind == "history":
        conn.execute(
            f"DELETE FROM {HISTORY_BY_PAPER} WHERE paper_id = ? AND old_status = ?"
            " AND new_status = ? AND changed_at = ?",
            parts,
        )
        if value is not None:
            count, undone = value.get("count", 1), value.get("undone", 0)
            conn.executemany(
                "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(0, *parts)] * (count - undone) + [(changes.UNDONE_ELSEWHERE, *parts)] * undone,
            )
    elif kind == "paper":
        return _write_paper(conn, key, value)
    elif kind == "prereq":
        from papercli.store.graph import set_prereq

        link = None if value is None else {"prereq": parts[1], **value}
        set_prereq(conn, parts[0], {"prereq": parts[1], "value": link})
    elif kind == "watch":
        from papercli.store.watches import set_watch

        conn.execute("DELETE FROM watches WHERE name = ?", (key,))
        if value is not None:
            set_watch(conn, value["name"], value)
    elif kind == "inbox":
        from papercli.store.inbox import set_decision

        set_decision(conn, key, value)
    elif kind == "device":
        conn.execute(
            "INSERT INTO sync_peers (device, name) VALUES (?, ?)"
            " ON CONFLICT (device) DO UPDATE SET name = excluded.name",
            (key, None if value is None else value["name"]),
        )
    return None


class RegisterWriter:
    """Writes other devices' registers in order, as ``write_register`` does, but holds
    back the papers a device added that are new here, and inserts a run of them table by
    table, as an import does: written one at a time, seven statements each, they were
    half of a new device's first read of a library. A held paper is written before any
    event that could look for it; ``flush`` writes what is held. ``queue_changed`` says
    whether a paper arrived for a queue place that waited for it (which queues it)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._held: list[Paper] = []
        self._ids: set[str] = set()
        self._arxiv_ids: set[str] = set()
        self.queue_changed = False

    def write(self, kind: str, key: str, value: Any) -> str | None:
        if kind == "paper" and value is not None:
            waits = _queue_waits(self._conn, key)  # placed as it arrives: never held
            self.queue_changed |= waits
            if not waits and self._hold(key, value):
                return None
        if self._ids and self._may_look_for_held(kind, key, value):
            self.flush()
        return write_register(self._conn, kind, key, value)

    def flush(self) -> None:
        if self._held:
            papers.insert_papers(self._conn, self._held)
            self._held, self._ids, self._arxiv_ids = [], set(), set()

    def _hold(self, key: str, value: Any) -> bool:
        """Hold a new paper that ``_write_paper`` would simply insert: not here or held
        (a second addition replaces the first), no other paper with its arXiv id (a
        conflict)."""
        arxiv_id = value.get("arxiv_id")  # optional, as in an import
        if key in self._ids or (arxiv_id and arxiv_id in self._arxiv_ids):
            return False
        if _is_here(self._conn, key):
            return False
        if arxiv_id and _holder(self._conn, arxiv_id) is not None:
            return False
        self._held.append(_paper_of(value))
        self._ids.add(key)
        if arxiv_id:
            self._arxiv_ids.add(arxiv_id)
        if len(self._held) == _HELD_PAPERS:
            self.flush()
        return True

    def _may_look_for_held(self, kind: str, key: str, value: Any) -> bool:
        """Whether writing this register could read a held paper: the status, note, tag,
        queue place or history of one (parked while its paper is not here), or any other
        register but a device's name (a paper, a link, a watch, an inbox decision)."""
        if kind == "device":
            return False
        if kind in ("status", "queue"):
            return key in self._ids
        if kind in ("tag", "history"):
            return key.partition(SEP)[0] in self._ids
        if kind == "note":
            return value is not None and value["paper"] in self._ids
        return True


_HELD_PAPERS = 1000


def _paper_of(value: Any) -> Paper:
    """The paper a ``paper`` event's value names. Only the facts papercli syncs are read:
    another field (from a later papercli, or a hand) crashed the sync."""
    fields = {name: value[name] for name in PAPER_FACTS if name in value}
    fields["authors"] = [
        changes.stored_author({name: a[name] for name in field_names(Author) if name in a})
        for a in fields["authors"]
    ]
    return Paper(**fields)


def _write_paper(conn: sqlite3.Connection, key: str, value: Any) -> str | None:
    origin = conn.execute("SELECT origin FROM papers WHERE id = ?", (key,)).fetchone()
    if value is None:
        if origin is not None and origin[0] == "user":
            park_user_state(conn, [key])
            papers.delete_papers(conn, [key])  # the queue: numbered when all are read
        return None
    if origin is not None and origin[0] != "user":
        return None  # the catalogue's: never replaced by a device's copy
    if origin is not None:
        # Added on two devices under one id: the later addition's facts win, the user's
        # state stays (it syncs as registers of its own).
        for table in papers.FACT_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE paper_id = ?", (key,))
        conn.execute("DELETE FROM papers WHERE id = ?", (key,))
    arxiv_id = value.get("arxiv_id")
    holder = arxiv_id and _holder(conn, arxiv_id)
    if holder:
        return f"arXiv:{arxiv_id} is {holder} here but {key} on another device; kept as {holder}"
    # A queue place waiting for the paper goes to the end of the queue, as a queue event
    # does, and the sync orders the queue by key once when all are read (``_queue_waits``).
    # The trigger that puts back what waits would give it its key's place, moving every
    # paper after it: a new device reading 10,000 queued papers took 35 s more for it.
    place = conn.execute(
        "SELECT value FROM sync_parked WHERE kind = 'queue' AND key = ?", (key,)
    ).fetchone()
    conn.execute("DELETE FROM sync_parked WHERE kind = 'queue' AND key = ?", (key,))
    papers.insert_paper(conn, _paper_of(value))
    if place is not None:
        write_register(conn, "queue", key, json.loads(place[0]))
    return None


def _holder(conn: sqlite3.Connection, arxiv_id: str) -> str | None:
    """The paper here with this arXiv id."""
    row = conn.execute("SELECT id FROM papers WHERE arxiv_id = ?", (arxiv_id,)).fetchone()
    return None if row is None else str(row[0])


def _queue_waits(conn: sqlite3.Connection, paper_id: str) -> bool:
    """Whether a queue place waits aside for this paper (its arrival changes the queue)."""
    row = conn.execute(
        "SELECT 1 FROM sync_parked WHERE kind = 'queue' AND key = ?", (paper_id,)
    ).fetchone()
    return row is not None


def _is_here(conn: sqlite3.Connection, paper_id: str) -> bool:
    return conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone() is not None


def _park(conn: sqlite3.Connection, kind: str, key: str, paper_id: str, value: Any) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO sync_parked (kind, key, paper_id, value) VALUES (?, ?, ?, ?)",
        (kind, key, paper_id, json.dumps(value, ensure_ascii=False)),
    )


def park_user_state(conn: sqlite3.Connection, paper_ids: Sequence[str]) -> None:
    """Keep aside the status, notes, tags and queue place of papers about to be removed by
    a sync or by the undo of their addition: those the remover knew go with events of its
    own, the later ones (made on another device meanwhile) wait for the paper, as they do
    on every other device. A statement a kind, whatever the number of papers."""
    ids = id_list(paper_ids)
    for kind, key, value, table in _PARKED_ROWS:
        conn.execute(
            "INSERT OR REPLACE INTO sync_parked (kind, key, paper_id, value)"
            f" SELECT '{kind}', {key}, paper_id, {value} FROM {table} WHERE paper_id {IN_IDS}",
            (ids,),
        )


_PARKED_ROWS = (  # each kind's register key and value, as read_register gives them
    (
        "status",
        "paper_id",
        "json_object('status', status, 'changed_at', changed_at, 'read_at', read_at,"
        " 'read_version', read_version)",
        "reading_state",
    ),
    (
        "note",
        "uid",
        "json_object('paper', paper_id, 'created_at', created_at, 'body', body)",
        "notes",
    ),
    (
        "tag",
        "paper_id || char(31) || lower(tag)",
        "json_object('paper', paper_id, 'tag', tag)",
        "tags",
    ),
    ("queue", "paper_id", "json_object('key', sort_key, 'added_at', added_at)", "queue"),
)
"""lower() folds ASCII letters alone, as ``names.nocase`` does."""


# -- winners -------------------------------------------------------------------------


def winners(
    conn: sqlite3.Connection, registers: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """The (clock, device) of the latest event of each register, where there is one."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for start in range(0, len(registers), 5000):
        chunk = registers[start : start + 5000]
        for kind, key, hlc, device in conn.execute(
            "SELECT r.kind, r.key, r.hlc, r.device FROM json_each(?) j JOIN sync_registers r"
            " ON r.kind = json_extract(j.value, '$[0]') AND r.key = json_extract(j.value, '$[1]')",
            (json.dumps(chunk),),
        ):
            found[(kind, key)] = (hlc, device)
    return found


def set_winners(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str]]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO sync_registers (kind, key, hlc, device) VALUES (?, ?, ?, ?)", rows
    )


SHADOWED = frozenset({"status", "note", "tag"})
"""The registers whose events that lose to this device's are kept for an undo."""


BACKFILLED_AT = "sync_backfilled_at"
"""meta: the clock of this device's first sync. Its events date each thing by when it
last changed, in seconds (a tag, which keeps no time, at 1970): as the winner a command
replaced, such an event says the value was there by the first sync, no sooner."""


def _set_own_winners(conn: sqlite3.Connection, rows: list[tuple[str, str, str, str]]) -> None:
    """``set_winners`` for this device's events, a status, note or tag's remembering the
    winner it replaced (``sync_replaced``): what tells ``shadowed_step`` which changes
    came before the command."""
    replacing = [[kind, key, hlc] for kind, key, hlc, _ in rows if kind in SHADOWED]
    if replacing:
        conn.execute(
            "INSERT OR REPLACE INTO sync_replaced (kind, key, hlc, prev_hlc, prev_device)"
            " SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'),"
            " json_extract(j.value, '$[2]'),"
            " CASE WHEN r.device = ?2 AND r.hlc < ?3 THEN ?3 ELSE r.hlc END, r.device"
            " FROM json_each(?1) AS j"
            " LEFT JOIN sync_registers AS r ON r.kind = json_extract(j.value, '$[0]')"
            " AND r.key = json_extract(j.value, '$[1]')",
            (json.dumps(replacing), rows[0][3], meta(conn, BACKFILLED_AT) or ""),
        )
    set_winners(conn, rows)


def shadow(conn: sqlite3.Connection, losers: Iterable[tuple[str, str, str, str, Any]]) -> None:
    """Keep (kind, key, clock, device, value) of events another device made that lost to
    one of this device's, which ``shadowed_step`` may put back."""
    conn.executemany(
        "INSERT OR IGNORE INTO sync_lost (kind, key, hlc, device, value) VALUES (?, ?, ?, ?, ?)",
        [(kind, key, hlc, device, json.dumps(value)) for kind, key, hlc, device, value in losers],
    )


_NOTHING = object()


def shadowed_step(
    conn: sqlite3.Connection, kind: str, key: str, before: Any, after: Any, made: str
) -> Any:
    """What an undo step puts back instead of ``before`` (this device's value before the
    command whose events have the clock ``made``), or ``before``: the value of the latest
    change another device made after ``before`` was, and before the command, which reached
    here only after the command and lost to it (or to a later one of this device's). Put
    back as it was here, an edit made there, then lost to a deletion here, was lost
    everywhere by the deletion's undo. For statuses, notes and tags."""
    if kind == "state":
        value = _shadowed(conn, "status", key, made)
        if value is _NOTHING:
            return before
        return None if value is None else [value[f] for f in _STATUS_FIELDS]
    if kind == "note":
        uid = before.get("uid") or after.get("uid")
        note: Any = _NOTHING if uid is None else _shadowed(conn, "note", uid, made)
        if note is _NOTHING:
            return before
        kept = {name: before[name] for name in ("id", "uid") if name in before}
        return (
            kept
            if note is None
            else {**kept, "created_at": note["created_at"], "body": note["body"]}
        )
    if kind == "tag":
        value = _shadowed(conn, "tag", SEP.join((key, nocase(before["tag"]))), made)
        if value is _NOTHING:
            return before
        return {"tag": value["tag"] if value else before["tag"], "on": value is not None}
    return before


_UNDONE_THERE = (
    "(l.kind = 'status' AND EXISTS (SELECT 1 FROM status_history WHERE paper_id = l.key"
    " AND new_status = json_extract(l.value, '$.status')"
    f" AND changed_at = json_extract(l.value, '$.changed_at') AND NOT ({LIVE_HISTORY})))"
)
"""SQL: the lost event ``l`` is a status change its machine undid since (its undo left
the status, which had changed since, but marked the change undone): not one to put back."""


def _shadowed(conn: sqlite3.Connection, kind: str, key: str, made: str) -> Any:
    """The value of the latest event of the register from another device between the
    winner the command's event (clock ``made``) replaced and the command: one made after
    what the command changed, which lost here (it would have won, had it come before the
    command); ``_NOTHING`` when there is none."""
    row = conn.execute(
        "SELECT l.value FROM sync_replaced AS r JOIN sync_lost AS l"
        " ON l.kind = r.kind AND l.key = r.key AND l.hlc < r.hlc"
        " AND (l.hlc, l.device) > (coalesce(r.prev_hlc, ''), coalesce(r.prev_device, ''))"
        f" WHERE r.kind = ? AND r.key = ? AND r.hlc = ? AND NOT {_UNDONE_THERE}"
        " ORDER BY l.hlc DESC, l.device DESC LIMIT 1",
        (kind, key, made),
    ).fetchone()
    return _NOTHING if row is None else json.loads(row[0])


# -- the queue's sort keys ---------------------------------------------------------------


LONG_KEY = 64  # a sort key longer than this makes the queue's keys spread afresh


KEYS_CHUNK = 1000
"""Queued papers given keys by one statement: memory holds this many at any queue length."""

_Place = tuple[int, int]  # a queued paper's (position, rowid): its place, ties broken


def settle_queue_keys(
    conn: sqlite3.Connection, changed: Callable[[list[str]], object] = lambda ids: None
) -> None:
    """Give every queued paper without a key, or with one out of order, a key between its
    neighbours', so that sorting by key gives the queue's order; ``changed`` hears of
    those given one, a chunk at a time.

    Papers with keys are in the order of their keys: every command keeps the order of
    the papers it does not place (a paper it places loses its key), and a sync orders
    the queue by key. So after a command only the few papers it placed need keys, each
    run of them between its neighbours': found by place, not by reading the queue in
    Python, which took 0.2 to 0.3 s with 59,158 papers queued (and grew with the queue)
    for every command that touched it once sync was on. Many papers without keys (the
    first sync), a key grown too long, or neighbours out of order: the whole queue."""
    unkeyed, longest = conn.execute(
        "SELECT count(*) FILTER (WHERE sort_key IS NULL), coalesce(max(length(sort_key)), 0)"
        " FROM queue"
    ).fetchone()
    if longest > LONG_KEY or unkeyed > KEYS_CHUNK or not _give_missing_keys(conn, changed):
        _settle_whole_queue(conn, changed)


def _give_missing_keys(conn: sqlite3.Connection, changed: Callable[[list[str]], object]) -> bool:
    """Keys for the queued papers without one, each run of them between the keys of the
    papers just before and after it; False, giving none, when those two are out of order."""
    unkeyed = conn.execute(
        "SELECT position, rowid FROM queue WHERE sort_key IS NULL ORDER BY position, rowid"
    ).fetchall()
    runs: list[tuple[_Run, str | None, str | None]] = []
    run = _Run()
    low: str | None = None
    for position, rowid in unkeyed:
        if not run.count:  # the paper before a run has a key: it would be in the run
            before = conn.execute(
                "SELECT sort_key FROM queue WHERE (position, rowid) < (?, ?)"
                " ORDER BY position DESC, rowid DESC LIMIT 1",
                (position, rowid),
            ).fetchone()
            low = None if before is None else before[0]
        run.add((position, rowid))
        after = conn.execute(
            "SELECT sort_key FROM queue WHERE (position, rowid) > (?, ?)"
            " ORDER BY position, rowid LIMIT 1",
            (position, rowid),
        ).fetchone()
        if after is not None and after[0] is None:
            continue  # the next paper needs a key too: the run goes on
        high = None if after is None else str(after[0])
        if low is not None and high is not None and not low < high:
            return False
        runs.append((run, low, high))
        run = _Run()
    last: str | None = None  # the queue's last key, when a run ends the queue
    for run, low, high in runs:
        given = _give_keys(conn, run, low, high, changed)
        last = given if high is None else last
    if len(last or "") > LONG_KEY:
        _give_keys(conn, _Run.whole_queue(conn), None, None, changed)
    return True


def _settle_whole_queue(conn: sqlite3.Connection, changed: Callable[[list[str]], object]) -> None:
    """``settle_queue_keys`` for any queue: read once, in its order, with the smallest key
    after each paper (a window over the queue backwards), a run of papers needing keys
    kept as the places where it starts and ends: a million queued papers are settled in
    the memory of a thousand."""
    # SQLite sorts the whole result (on disk past its cache) before the first row comes,
    # so the keys given meanwhile are never read back.
    rows = conn.execute(
        "SELECT paper_id, sort_key, position, rowid, min(sort_key) OVER (ORDER BY position"
        " DESC, rowid DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
        " FROM queue ORDER BY position, rowid"
    )
    run = _Run()  # papers in a row needing keys, given them once the run ends
    previous: str | None = None  # the last key kept
    longest = 0
    for _, key, position, rowid, bound in rows:
        longest = max(longest, len(key or ""))
        # A key kept is below every key after it, so ``previous`` is below ``bound``.
        if (
            key is None
            or (previous is not None and not previous < key)
            or (bound is not None and not key < bound)
        ):
            run.add((position, rowid))
            continue
        _give_keys(conn, run, previous, key, changed)
        previous = key
    last = _give_keys(conn, run, previous, None, changed)
    if max(longest, len(last or "")) > LONG_KEY:
        # Inserting again and again at one place lengthens keys: spread them all afresh.
        _give_keys(conn, _Run.whole_queue(conn), None, None, changed)


class _Run:
    """Queued papers in a row: the places of the first and the last, and how many."""

    def __init__(self) -> None:
        self.first: _Place = (0, 0)
        self.last: _Place = (0, 0)
        self.count = 0

    @classmethod
    def whole_queue(cls, conn: sqlite3.Connection) -> _Run:
        run = cls()
        (run.count,) = conn.execute("SELECT count(*) FROM queue").fetchone()
        run.first, run.last = (-(2**63), -(2**63)), (2**63 - 1, 2**63 - 1)
        return run

    def add(self, place: _Place) -> None:
        if not self.count:
            self.first = place
        self.last = place
        self.count += 1

    def chunks(self, conn: sqlite3.Connection) -> Iterator[list[str]]:
        """The run's papers in order, KEYS_CHUNK at a time, each chunk read after the one
        before it was given its keys."""
        after = self.first
        while True:
            rows = conn.execute(
                "SELECT paper_id, position, rowid FROM queue WHERE (position, rowid) >= (?, ?)"
                " AND (position, rowid) <= (?, ?) ORDER BY position, rowid LIMIT ?",
                (*after, *self.last, KEYS_CHUNK),
            ).fetchall()
            if not rows:
                return
            yield [str(pid) for pid, _, _ in rows]
            after = (int(rows[-1][1]), int(rows[-1][2]) + 1)


def _give_keys(
    conn: sqlite3.Connection,
    run: _Run,
    low: str | None,
    high: str | None,
    changed: Callable[[list[str]], object],
) -> str | None:
    """Spread keys between ``low`` and ``high`` over the papers of ``run`` (emptied), a
    chunk at a time; return the last key given (``low`` if none)."""
    last = low
    if run.count:
        keys = sortkeys.spread(low, high, run.count)
        for chunk in run.chunks(conn):
            given = list(islice(keys, len(chunk)))
            conn.executemany(
                "UPDATE queue SET sort_key = ? WHERE paper_id = ?", zip(given, chunk, strict=True)
            )
            changed(chunk)
            last = given[-1]
        run.count = 0
    return last


def dequeue_read(conn: sqlite3.Connection) -> bool:
    """After applying events: take out of the queue, as an event of this device's, each
    paper read or skipped since it was queued (a sync settles a paper's status and its
    place apart, and a move made on one device before it saw the read on another kept the
    paper queued everywhere); whether there were any. A paper queued again after it was
    read stays. Within one second the two changes' clocks say which came last: a paper
    queued on one device and read just after on another stayed queued, read, everywhere
    (a queued skipped paper was taken out of the queue on every other device)."""
    device = device_id(conn)
    read = [
        str(pid)
        for (pid,) in conn.execute(
            "SELECT q.paper_id FROM queue q JOIN reading_state s ON s.paper_id = q.paper_id"
            " LEFT JOIN sync_registers rs ON rs.kind = 'status' AND rs.key = q.paper_id"
            " LEFT JOIN sync_registers rq ON rq.kind = 'queue' AND rq.key = q.paper_id"
            " WHERE s.status IN ('read', 'skipped') AND (s.changed_at > q.added_at"
            " OR (s.changed_at = q.added_at AND rs.hlc > rq.hlc))"
        )
    ]
    if device is None or not read:
        return False
    conn.execute(f"DELETE FROM queue WHERE paper_id {IN_IDS}", (id_list(read),))
    emit(conn, device, [("queue", pid) for pid in read], next_clock(conn))
    return True


def order_queue_by_keys(conn: sqlite3.Connection) -> None:
    """Number the queue 1..n in the order of its sort keys (after applying events)."""
    conn.execute(
        "UPDATE queue SET position = ranked.n FROM (SELECT paper_id, row_number() OVER"
        " (ORDER BY sort_key IS NULL, sort_key, paper_id) AS n FROM queue) AS ranked"
        " WHERE queue.paper_id = ranked.paper_id"
    )


# -- every register, for the first sync ---------------------------------------------------


def all_registers(conn: sqlite3.Connection) -> Iterator[tuple[str, str, str]]:
    """(kind, key, when it last changed) of every register that holds something, for the
    first sync of a database used before: older changes lose to newer ones elsewhere."""
    epoch = "1970-01-01T00:00:00Z"
    for pid, at in conn.execute("SELECT paper_id, changed_at FROM reading_state"):
        yield "status", str(pid), str(at)
    # A note and a queue place are dated by the last command here that changed them (an
    # edit, a move, an undo) where it came after the note was written or the paper queued:
    # dated by those alone, an edit or a move on a copy of the database made before either
    # synced lost to an older delete or clear on the other.
    for uid, at in conn.execute(
        "SELECT n.uid, max(n.created_at, coalesce(l.last, '')) FROM notes AS n LEFT JOIN"
        f" ({_last_changed('note', _NOTE_UID)}) AS l ON l.key = n.uid"
    ):
        yield "note", str(uid), str(at)
    for pid, tag in conn.execute("SELECT paper_id, tag FROM tags"):
        yield "tag", SEP.join((pid, nocase(str(tag)))), epoch
    for pid, at in conn.execute(
        "SELECT q.paper_id, max(q.added_at, coalesce(l.last, '')) FROM queue AS q LEFT JOIN"
        f" ({_last_changed('queue', 'u.paper_id')}) AS l ON l.key = q.paper_id"
    ):
        yield "queue", str(pid), str(at)
    for pid, old, new, at in conn.execute(
        "SELECT paper_id, old_status, new_status, changed_at FROM status_history"
    ):
        yield "history", SEP.join((pid, old, new, at)), str(at)
    for pid, at in conn.execute(
        "SELECT id, coalesce(added_at, '') FROM papers WHERE origin = 'user'"
    ):
        yield "paper", str(pid), str(at) or epoch
    for pid, prereq, at in conn.execute("SELECT paper_id, prereq_id, at FROM user_prereqs"):
        yield "prereq", SEP.join((pid, prereq)), str(at)
    for name, at in conn.execute("SELECT name, created_at FROM watches"):
        yield "watch", nocase(str(name)), str(at)
    for arxiv_id, at in conn.execute("SELECT arxiv_id, decided_at FROM inbox_decisions"):
        yield "inbox", str(arxiv_id), str(at)


def _last_changed(kind: str, key: str) -> str:
    """A query of each register of ``kind`` (named by ``key``, an expression of its step
    ``u``) a command here changed, with when it last did, or its undo: one pass."""
    # An import standing is no change made then: what it brought back is the file's.
    last = (
        f"CASE c.command WHEN '{changes.IMPORT}' THEN c.undone_at"
        " ELSE coalesce(c.undone_at, c.at) END"
    )
    return (
        f"SELECT {key} AS key, max({last}) AS last FROM undo_steps AS u"
        f" JOIN command_log AS c USING (batch) WHERE u.action = '{kind}' GROUP BY 1"
    )


_NOTE_UID = "json_extract(u.data, '$.after.uid')"  # an edit's, an addition's, a deletion's


def emptied_registers(conn: sqlite3.Connection) -> Iterator[tuple[str, str, str]]:
    """(kind, key, when) of every register a command here (or its undo) emptied and that
    is empty still, dated by the latest such command, for the first sync of a database
    used before: what was taken away here stays away where it was older. Each register
    once, remembered on disk, newest command first."""
    from papercli.store.scratch import ScratchSet

    with ScratchSet() as seen:
        for batch, at in conn.execute(
            "SELECT batch, coalesce(undone_at, at) AS last FROM command_log"
            " ORDER BY last DESC, batch DESC"
        ):
            found = _registers_of_batch(conn, int(batch))
            while chunk := list(islice(found, 1000)):
                fresh = seen.add_new([kind + SEP + key for kind, key in chunk])
                for kind, key in _empty(conn, [r.partition(SEP)[::2] for r in fresh]):
                    yield kind, key, str(at)


def _empty(conn: sqlite3.Connection, registers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Those of the (kind, key) registers that hold nothing now: the papers asked together,
    by id alone (reading each one's facts made a first sync after an import of 20,000
    papers take 2.4 times as long)."""
    ids = [key for kind, key in registers if kind == "paper"]
    here = {
        str(pid)
        for (pid,) in conn.execute(
            f"SELECT id FROM papers WHERE id {IN_IDS} AND origin = 'user'", (id_list(ids),)
        )
    }
    return [
        (kind, key)
        for kind, key in registers
        if (key not in here if kind == "paper" else read_register(conn, kind, key) is None)
    ]


def synced_at(conn: sqlite3.Connection, kind: str, key: str) -> str:
    """When another device last changed the register, as an ISO UTC time ("" if its
    latest change is none of theirs): an import weighs it as a change made here. This
    device's own changes are weighed from the undo log, which knows an undone import
    (importing its file again brings it back) from a removal."""
    row = conn.execute(
        f"SELECT hlc FROM sync_registers WHERE kind = ? AND key = ? AND {changes.OTHER_DEVICE}",
        (kind, key),
    ).fetchone()
    return "" if row is None else events.hlc_time(str(row[0]))


def queue_places_synced_away(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """(paper, when) of each queue place another device's change took away, still empty:
    an import of an older export leaves it out as one taken away here."""
    for key, hlc in conn.execute(
        "SELECT r.key, r.hlc FROM sync_registers AS r WHERE r.kind = 'queue'"
        f" AND {changes.OTHER_DEVICE}"
        " AND NOT EXISTS (SELECT 1 FROM queue AS q WHERE q.paper_id = r.key)"
    ):
        yield str(key), events.hlc_time(str(hlc))


# -- the outbox and other devices' files ---------------------------------------------------


def add_to_outbox(conn: sqlite3.Connection, lines: Iterable[str]) -> None:
    conn.executemany("INSERT INTO sync_outbox (line) VALUES (?)", ((line,) for line in lines))


def outbox_after(conn: sqlite3.Connection, seq: int) -> Generator[tuple[int, str], None, None]:
    yield from conn.execute("SELECT seq, line FROM sync_outbox WHERE seq > ? ORDER BY seq", (seq,))


def outbox_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM sync_outbox").fetchone()[0])


def peers(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    return {
        str(row[0]): {
            "name": row[1],
            "read_bytes": int(row[2]),
            "events": int(row[3]),
            "last_hlc": row[4],
            "synced_at": row[5],
            "file": row[6],
        }
        for row in conn.execute(
            "SELECT device, name, read_bytes, events, last_hlc, synced_at, file FROM sync_peers"
        )
    }


def save_peer(
    conn: sqlite3.Connection,
    device: str,
    read_bytes: int,
    events: int,
    last_hlc: str | None,
    at: str,
    file: str | None,
) -> None:
    conn.execute(
        "INSERT INTO sync_peers (device, read_bytes, events, last_hlc, synced_at, file)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device) DO UPDATE SET"
        " read_bytes = excluded.read_bytes, events = sync_peers.events + excluded.events,"
        " last_hlc = max(coalesce(sync_peers.last_hlc, ''), coalesce(excluded.last_hlc, '')),"
        " synced_at = excluded.synced_at, file = excluded.file",
        (device, read_bytes, events, last_hlc, at, file),
    )
