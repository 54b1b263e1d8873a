"""The change log behind undo and redo: each command that changes the user's state is one
batch of steps, and each step says how one thing was before the command and after it.

Undo puts every step of the newest batch back as it was before (newest step first) and
marks the batch undone; nothing is deleted, so ``history`` still shows it. Redo applies
the most recently undone batch again. A new command forgets what could still be redone.
A step never fails on what other commands did in between: a paper already back in the
queue stays where it is, a note already gone stays gone.

Kinds of step, and what "before" and "after" hold (None: the thing did not exist):
``state`` (a paper's reading_state row), ``queue`` (its queue position), ``note`` (a
note's paper, time and text), ``tag`` (whether the paper had the tag), ``history`` (a
status_history row an import brought), ``paper`` (a whole paper a user added or removed),
``watch`` (a saved watch, keyed by its name), ``inbox`` (the decision about an inbox item,
keyed by its arXiv id), ``alert`` (whether a paper's version alert is dismissed),
``prereq`` (a prerequisite link the user added or removed, or none).
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from collections import Counter
from contextlib import contextmanager

from papercli import TYPE_CHECKING
from papercli.errors import NotFoundError
from papercli.models import ArxivRecord, Author, Note, Paper, ReadStatus
from papercli.records import asdict, datarecord
from papercli.store import arxiv_meta, papers, scratch
from papercli.store.base import IN_IDS, dropped_after, id_list

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from typing import Any

# A status change undone on another device, as a sync brings it: no command of this one.
UNDONE_ELSEWHERE = -1
# Status changes whose batch was undone did not happen: readers of status_history skip them.
# Each entry's batch is looked up in the log: a list of every undone batch, which SQLite
# made again for each statement, read the whole log for each history register a sync
# wrote (a synced `mark-read` of 3,000 papers took 5.7 s with 20,000 commands logged).
LIVE_HISTORY = (
    f"status_history.batch != {UNDONE_ELSEWHERE} AND NOT EXISTS (SELECT 1 FROM command_log c"
    " WHERE c.batch = status_history.batch AND c.undone_at IS NOT NULL)"
)
# Looking up one paper's history entry by its change and time: through the paper and time
# index (migrations.M016). Without it SQLite prefers (new_status, changed_at), which a
# `mark-read` of ten thousand papers shares: each lookup then walks them all, and its undo
# took minutes; by the paper alone, each walked all the paper's entries, and the first
# sync of a paper with 20,000 took a minute.
HISTORY_BY_PAPER = "status_history INDEXED BY status_history_change"


@datarecord(frozen=True)
class LogEntry:
    batch: int
    command: str
    summary: str
    at: str
    undone_at: str | None


IMPORT = "import"  # the command whose notes and queue places are the file's, not made now


def begin(conn: sqlite3.Connection, command: str, at: str) -> int:
    """Start the batch of one command (inside its transaction)."""
    cursor = conn.execute(
        "INSERT INTO command_log (command, summary, at) VALUES (?, '', ?)", (command, at)
    )
    return int(cursor.lastrowid or 0)


def finish(conn: sqlite3.Connection, batch: int, summary: str) -> None:
    """Say what the batch did, in a line for people. A batch that changed something makes
    what was undone before it impossible to redo; one that changed nothing is dropped."""
    changed = conn.execute("SELECT 1 FROM undo_steps WHERE batch = ?", (batch,)).fetchone()
    if changed or conn.execute("SELECT 1 FROM status_history WHERE batch = ?", (batch,)).fetchone():
        conn.execute("UPDATE command_log SET summary = ? WHERE batch = ?", (summary, batch))
        forget_redo(conn, batch)
        _emit(conn, batch, as_made=True)
    else:
        conn.execute("DELETE FROM command_log WHERE batch = ?", (batch,))


def forget_redo(conn: sqlite3.Connection, batch: int = 0) -> None:
    """Something changed (a command, ``batch``, or a sync): nothing undone before is redone."""
    conn.execute("UPDATE command_log SET redoable = 0 WHERE redoable AND batch != ?", (batch,))


_STEP = "INSERT INTO undo_steps (batch, action, paper_id, data) VALUES (?, ?, ?, ?)"


def record(
    conn: sqlite3.Connection,
    batch: int,
    kind: str,
    paper_id: str,
    before: Any,
    after: Any,
    *,
    added_at: str | None = None,
) -> int:
    """One step of ``batch``; return its number. A queue step that puts a paper in the
    queue or takes it out also keeps ``added_at``, when it was queued: a replay that puts
    it back gives it that time again (steps from before 4 December have none: the time of
    the replay)."""
    cursor = conn.execute(_STEP, (batch, kind, paper_id, _step_data(before, after, added_at)))
    return int(cursor.lastrowid or 0)


def record_all(
    conn: sqlite3.Connection, batch: int, steps: Iterable[tuple[str, str, Any, Any]]
) -> None:
    """``record`` of each (kind, paper id, before, after), in order, with one statement."""
    conn.executemany(
        _STEP,
        ((batch, kind, key, _step_data(before, after)) for kind, key, before, after in steps),
    )


def _step_data(before: Any, after: Any, added_at: str | None = None) -> str:
    data: dict[str, Any] = {"before": before, "after": after}
    if added_at is not None:
        data["added_at"] = added_at
    return json.dumps(data, ensure_ascii=False)


def notes_taken_away(conn: sqlite3.Connection) -> dict[str, Counter[tuple[str, str]]]:
    """The notes a command here deleted, or edited into other words, its undo not undone:
    (time, text) by paper, as many times as each went (read from those commands' steps
    alone: one note each)."""
    gone: dict[str, Counter[tuple[str, str]]] = {}
    for paper_id, data, undone in conn.execute(
        "SELECT u.paper_id, u.data, c.undone_at IS NOT NULL FROM command_log AS c"
        " CROSS JOIN undo_steps AS u ON u.batch = c.batch WHERE"
        " ((c.command IN ('note edit', 'note delete') AND c.undone_at IS NULL)"
        f" OR {_UNDONE_HERE}) AND u.action = 'note'"
    ):
        step = json.loads(data)
        # A command's note before it went; an undone one's as it left it (an undone add).
        was, now = (step["after"], step["before"]) if undone else (step["before"], step["after"])
        was, now = was or {}, now or {}
        if "body" in was and now.get("body") != was["body"]:
            gone.setdefault(paper_id, Counter())[(was["created_at"], was["body"])] += 1
    return gone


# The queries of what was taken away read the log first (CROSS JOIN) and look up the
# steps of the commands they name by batch: joined plainly, SQLite read every step there
# is (a million for a `mark-read -` of as many) for each of an import's questions.
_UNDONE_HERE = "(c.undone_at IS NOT NULL AND c.command != 'import')"
OTHER_DEVICE = "device IS NOT (SELECT value FROM meta WHERE key = 'sync_device')"
"""SQL: a sync register's latest change came from another device (this device's own are
in its undo log, which tells an undone import, whose file may bring its papers back)."""
"""A command undone here, whose undo took away what it added: an older export does not
bring that back, as the undo is a change of its own (on a database that syncs, its
registers say so too). Not an import's: importing a file again after undoing its import
brings back what the file has."""


@contextmanager
def tags_taken_off(conn: sqlite3.Connection) -> Iterator[Callable[[str, str], bool]]:
    """Whether a command here took a tag (in any case) off a paper, its undo not undone,
    or a synced change did (here or on another device) and it is still off. Asked of a
    temporary table, made once: a ``tag`` command may take one off a million papers."""
    conn.execute(
        "CREATE TEMP TABLE tags_taken_off (paper_id TEXT NOT NULL,"
        " tag TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY (paper_id, tag)) WITHOUT ROWID"
    )
    with dropped_after(conn, "temp.tags_taken_off"):
        conn.execute(
            "INSERT OR IGNORE INTO temp.tags_taken_off SELECT u.paper_id,"
            " json_extract(u.data, '$.before.tag') FROM command_log AS c"
            " CROSS JOIN undo_steps AS u ON u.batch = c.batch"
            f" WHERE ((c.command = 'tag' AND c.undone_at IS NULL) OR {_UNDONE_HERE})"
            " AND u.action = 'tag' AND json_extract(u.data, '$.after.on')"
            " = (c.undone_at IS NOT NULL)"  # off by the command, or on by the one undone
        )
        # And those another device's change took off, still off (this device's are in the
        # log above); a tag's key is its paper and its name joined by char(31).
        conn.execute(
            "INSERT OR IGNORE INTO temp.tags_taken_off SELECT paper_id, tag FROM"
            " (SELECT substr(key, 1, instr(key, char(31)) - 1) AS paper_id,"
            " substr(key, instr(key, char(31)) + 1) AS tag FROM sync_registers"
            f" WHERE kind = 'tag' AND {OTHER_DEVICE}) AS r"
            " WHERE NOT EXISTS (SELECT 1 FROM tags AS t WHERE t.paper_id = r.paper_id"
            " AND t.tag = r.tag COLLATE NOCASE)"
        )
        if conn.execute("SELECT 1 FROM temp.tags_taken_off LIMIT 1").fetchone() is None:
            yield lambda paper_id, tag: False  # none taken off: no question a tag
        else:
            yield (
                lambda paper_id, tag: (
                    conn.execute(
                        "SELECT 1 FROM temp.tags_taken_off WHERE paper_id = ? AND tag = ?",
                        (paper_id, tag),
                    ).fetchone()
                    is not None
                )
            )


@contextmanager
def papers_removed(conn: sqlite3.Connection) -> Iterator[Callable[[str, str | None], bool]]:
    """Whether a paper absent here was removed by a command here, its undo not undone, or by
    a synced change (here or on another device): asked by its id and arXiv id. Asked of a
    temporary table, made once: a ``remove`` may take a million papers."""
    conn.execute("CREATE TEMP TABLE papers_removed (key TEXT PRIMARY KEY) WITHOUT ROWID")
    with dropped_after(conn, "temp.papers_removed"):
        conn.execute(  # removed by a command, or by the undo of one that added it
            "INSERT OR IGNORE INTO temp.papers_removed SELECT value FROM command_log AS c"
            " CROSS JOIN undo_steps AS u ON u.batch = c.batch, json_each(json_array(u.paper_id,"
            " 'arXiv:' || json_extract(u.data, '$.before.paper.arxiv_id'),"
            " 'arXiv:' || json_extract(u.data, '$.after.paper.arxiv_id')))"
            f" WHERE ((c.command = 'remove' AND c.undone_at IS NULL) OR {_UNDONE_HERE})"
            " AND u.action = 'paper' AND value IS NOT NULL"
            " AND json_extract(u.data, CASE WHEN c.undone_at IS NULL THEN '$.after'"
            " ELSE '$.before' END) IS NULL"
        )
        conn.execute(  # a paper's register, another device's change the paper gone
            "INSERT OR IGNORE INTO temp.papers_removed SELECT key FROM sync_registers AS r"
            f" WHERE kind = 'paper' AND {OTHER_DEVICE}"
            " AND NOT EXISTS (SELECT 1 FROM papers WHERE id = r.key)"
        )
        if conn.execute("SELECT 1 FROM temp.papers_removed LIMIT 1").fetchone() is None:
            yield lambda paper_id, arxiv_id: False  # none removed: no question a paper
            return

        def removed(paper_id: str, arxiv_id: str | None) -> bool:
            return (
                conn.execute(
                    "SELECT 1 FROM temp.papers_removed WHERE key IN (?, ?)",
                    (paper_id, f"arXiv:{arxiv_id}" if arxiv_id else paper_id),
                ).fetchone()
                is not None
            )

        yield removed


def taken_out_of_queue(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """The papers a command here took out of the queue, its undo not undone, or an undo
    took out (of a command that queued them), each once with the time of the latest such
    change (one pass over the undo steps, whatever their number)."""
    for paper_id, at in conn.execute(
        "SELECT u.paper_id, max(CASE WHEN c.undone_at IS NULL THEN c.at ELSE c.undone_at END)"
        " FROM command_log AS c CROSS JOIN undo_steps AS u ON u.batch = c.batch"
        f" WHERE (c.undone_at IS NULL OR {_UNDONE_HERE}) AND u.action = 'queue'"
        " AND ((c.undone_at IS NULL AND json_extract(u.data, '$.before') IS NOT NULL"
        " AND json_extract(u.data, '$.after') IS NULL)"
        " OR (c.undone_at IS NOT NULL AND json_extract(u.data, '$.before') IS NULL"
        " AND json_extract(u.data, '$.after') IS NOT NULL)) GROUP BY u.paper_id"
    ):
        yield str(paper_id), str(at)


def undone_prereqs(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """The prerequisite links a command here set (an import's aside) and an undo took
    back, each with when it was last undone: an undo that left no link is a change of
    its own, which an older export must not rewind. One pass over the undo steps; the
    links are the user's own undone commands, a handful."""
    return {
        (str(paper_id), str(prereq)): str(at)
        for paper_id, prereq, at in conn.execute(
            "SELECT u.paper_id, json_extract(u.data, '$.after.prereq'), max(c.undone_at)"
            " FROM undo_steps AS u JOIN command_log AS c USING (batch)"
            " WHERE u.action = 'prereq' AND c.undone_at IS NOT NULL AND c.command != 'import'"
            " GROUP BY 1, 2"
        )
    }


def record_added(conn: sqlite3.Connection, batch: int, paper_ids: list[str]) -> None:
    """Record the papers just added, each as it is now, as steps of ``batch``."""
    steps = zip(paper_ids, snapshots(conn, paper_ids), strict=True)
    record_all(conn, batch, (("paper", paper_id, None, taken) for paper_id, taken in steps))


def retake_added(conn: sqlite3.Connection, steps: Mapping[str, int]) -> None:
    """Take again, as the papers are now, each paper's snapshot in the step that added it
    (paper id -> step number): an import that adds a paper and then links it to one
    further on in its file, or drops a link of it that closes a cycle, must not have
    redo put the paper back as first added."""
    ids = list(steps)
    conn.executemany(
        "UPDATE undo_steps SET data = ? WHERE id = ?",
        (
            (_step_data(None, taken), steps[paper_id])
            for paper_id, taken in zip(ids, snapshots(conn, ids), strict=True)
        ),
    )


def papers_added(conn: sqlite3.Connection, batch: int) -> Iterator[str]:
    """The papers the batch added, in the order it added them."""
    for (paper_id,) in conn.execute(
        "SELECT paper_id FROM undo_steps WHERE batch = ? AND action = 'paper'"
        " AND json_extract(data, '$.before') IS NULL ORDER BY id",
        (batch,),
    ):
        yield str(paper_id)


def undo(conn: sqlite3.Connection, at: str) -> tuple[LogEntry, list[LeftStep], list[LeftStep]]:
    """Revert the newest batch not undone yet; return it, the steps left as they are, and
    those put back as another device left them (``sync.shadowed_step``)."""
    row = conn.execute(
        "SELECT batch FROM command_log WHERE undone_at IS NULL ORDER BY batch DESC LIMIT 1"
    ).fetchone()
    if row is None:
        raise NotFoundError("there is nothing to undo")
    made = _entry(conn, int(row[0])).at
    left, brought = _replay(conn, int(row[0]), "before", "DESC", since=made)
    conn.execute("UPDATE command_log SET undone_at = ?, redoable = 1 WHERE batch = ?", (at, row[0]))
    _emit(conn, int(row[0]), left)
    return _entry(conn, int(row[0])), left, brought


def redo(conn: sqlite3.Connection) -> tuple[LogEntry, list[LeftStep], list[LeftStep]]:
    """Apply again the most recently undone batch, if nothing happened since: the oldest
    that can be redone, as undo takes the newest first (and a command forgets the rest).
    Not by the wall-clock time of the undo, which can step back between two undos.
    ``+batch``: the few redoable batches are found by their index and sorted; ordered by
    batch itself, SQLite read the whole log from its first command to reach them."""
    row = conn.execute(
        "SELECT batch FROM command_log WHERE undone_at IS NOT NULL AND redoable"
        " ORDER BY +batch LIMIT 1"
    ).fetchone()
    if row is None:
        raise NotFoundError("there is nothing to redo")
    # A queue place another device set after the command stands, as it did for its undo.
    left, brought = _replay(conn, int(row[0]), "after", "ASC", since=_entry(conn, int(row[0])).at)
    conn.execute("UPDATE command_log SET undone_at = NULL WHERE batch = ?", (row[0],))
    _emit(conn, int(row[0]), left)
    return _entry(conn, int(row[0])), left, brought


def _emit(
    conn: sqlite3.Connection, batch: int, left: Sequence[LeftStep] = (), *, as_made: bool = False
) -> None:
    """Once this device syncs, what a command changed is also an event for the others,
    but the queue places a replay ``left`` as another device set them; an import ``as_made``
    (not its undo or redo) dates what it brought back by the file's times. (A device that
    never synced loads none of the sync code.)"""
    if not syncs(conn):
        return
    from papercli.store.sync import emit_batch  # sync reads the steps recorded here

    emit_batch(
        conn,
        batch,
        {("queue", key) for kind, key, _ in left if kind == "queue"},
        restored=as_made and _entry(conn, batch).command == IMPORT,
    )


def log(conn: sqlite3.Connection, limit: int | None = None) -> Iterator[LogEntry]:
    """Every command's batch, newest first (``history --all``), as it is read."""
    sql = "SELECT batch, command, summary, at, undone_at FROM command_log ORDER BY batch DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    for b, c, s, a, u in conn.execute(sql):
        yield LogEntry(int(b), str(c), str(s), str(a), u)


def _entry(conn: sqlite3.Connection, batch: int) -> LogEntry:
    b, c, s, a, u = conn.execute(
        "SELECT batch, command, summary, at, undone_at FROM command_log WHERE batch = ?",
        (batch,),
    ).fetchone()
    return LogEntry(int(b), str(c), str(s), str(a), u)


REMOVED_TOGETHER = 20_000
"""Papers a replay removes with one statement per table (``papers.delete_papers``): at
100,000 papers, groups of 1,000 took 1.6 times as long as removing all at once (each
group walks every table's indexes again); 20,000 (about 2 MB) as long."""


def _replay(
    conn: sqlite3.Connection, batch: int, side: str, order: str, since: str | None = None
) -> tuple[list[LeftStep], list[LeftStep]]:
    """Apply each step's ``side``. The steps are read as they are applied, not held: an
    import's hold a snapshot of every paper it added. Papers to remove wait to go
    together, until a step names one of them (it then sees what it would have seen); queue
    places wait on disk, to be set together at the end (``QueuePlaces``).
    A status, note, watch, inbox decision or prerequisite no longer as the step left it
    (changed since by a sync) stays as it is, as does a queue place another device set
    after the command was made (``since``, for an undo): returned are those other than
    statuses. Also returned: the statuses, notes and tags an undo put back as another
    device left them (``sync.shadowed_step``), or a redo applied over such a change
    (``_brought_detail`` says which status, or the tag)."""
    from papercli.store.search import deferred_documents  # only a replay needs it

    steps = conn.execute(
        f"SELECT id, action, paper_id, data FROM undo_steps WHERE batch = ? ORDER BY id {order}",
        (batch,),
    )
    leaving: dict[str, None] = {}  # papers to remove, in order
    left: list[LeftStep] = []
    papers_changed = False
    made = _command_clock(conn, batch) if side == "before" and syncs(conn) else None
    rewritten: list[tuple[str, int]] = []  # steps whose "before" an undo put back otherwise
    brought: list[LeftStep] = []
    with QueuePlaces() as places:
        with deferred_documents(conn):  # a paper's notes: its document built once
            for step, kind, paper_id, data in steps:
                values = json.loads(data)
                key, value, other = str(paper_id), values[side], values[_OTHER_SIDE[side]]
                papers_changed |= kind == "paper"
                if kind == "state" and state_of(conn, key) != other:
                    places.keep(key)  # changed since, here or by a sync: that change stands
                    continue
                if kind in CHECKED and not _is_as(conn, str(kind), key, other, value):
                    left.append((str(kind), key, other["prereq"] if kind == "prereq" else ""))
                    continue
                if made is not None and kind in _SHADOWED_STEPS:
                    value = _shadowed_step(conn, str(kind), key, value, other, made)
                    if value is not values[side]:  # and its redo expects it so
                        values = {**values, side: value, _ELSEWHERE: True}
                        rewritten.append((json.dumps(values), int(step)))
                if values.get(_ELSEWHERE):  # put back, or again applied over, another's
                    brought.append((str(kind), key, _brought_detail(str(kind), values)))
                    if (
                        side == "before"
                        and kind == "state"
                        and value
                        and value[0] in _OUT_OF_THE_QUEUE
                    ):
                        places.keep(key)  # read there: out of the queue, as it was there
                if key in leaving:
                    _remove(conn, leaving)
                if kind == "paper" and value is None:
                    leaving[key] = None
                    if len(leaving) == REMOVED_TOGETHER:
                        _remove(conn, leaving)
                elif kind == "queue":
                    places.add(key, value, values.get("added_at"), left_queued=other is not None)
                elif kind == "note":  # an import's step names the note's uid on one side
                    _set_note(conn, key, value, value.get("uid") or other.get("uid"))
                else:
                    _APPLY[str(kind)](conn, key, value)
            if leaving:
                _remove(conn, leaving)
        if papers_changed and syncs(conn):
            # A paper put back brings the queue place another device gave it, at the end of
            # the queue: its sort key says where, once for all of them.
            from papercli.store.sync import order_queue_by_keys

            order_queue_by_keys(conn)
        if since is not None and places and syncs(conn):
            left += [("queue", pid, "") for pid in places.keep_placed_elsewhere(conn, since)]
        if places and syncs(conn):  # a removed paper's own queue place: not another device's
            for named in places.named():
                conn.execute(
                    f"DELETE FROM sync_parked WHERE kind = 'queue' AND paper_id {IN_IDS}",
                    (id_list(named),),
                )
        # A paper whose status changed since also keeps its place in the queue, or stays out.
        places.set(conn)
    if papers_changed:
        renumber_queue(conn)  # once, not for each paper removed (quadratic in a big batch)
    conn.executemany("UPDATE undo_steps SET data = ? WHERE id = ?", rewritten)
    return left, brought


_SHADOWED_STEPS = frozenset({"state", "note", "tag"})
_ELSEWHERE = "elsewhere"  # in a step's data: its "before" is another device's change
_OUT_OF_THE_QUEUE = ("read", "skipped")


def _brought_detail(kind: str, values: dict[str, Any]) -> str:
    """What an undo's or redo's message says of a step whose "before" is another device's
    change: the status it put back or replaced (the history row says the command's own
    "from"), or the tag's name."""
    if kind == "state":
        return str(values["before"][0]) if values["before"] else "unread"
    return str(values["after"]["tag"]) if kind == "tag" else ""


def _command_clock(conn: sqlite3.Connection, batch: int) -> str | None:
    """The clock of the command's events, where a change from another device ever lost to
    one of this device's (else None: most undos, on most devices, look up none). None for a
    command from before the first sync: its registers' winners are the first sync's, dated
    by when each thing last changed, which replaced nothing known."""
    if conn.execute("SELECT 1 FROM sync_lost LIMIT 1").fetchone() is None:
        return None
    row = conn.execute("SELECT hlc FROM command_log WHERE batch = ?", (batch,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _shadowed_step(
    conn: sqlite3.Connection, kind: str, key: str, before: Any, after: Any, made: str
) -> Any:
    from papercli.store.sync import shadowed_step  # a device that syncs only

    return shadowed_step(conn, kind, key, before, after, made)


_OTHER_SIDE = {"before": "after", "after": "before"}


def _remove(conn: sqlite3.Connection, leaving: dict[str, None]) -> None:
    """Remove the papers a replay takes away (the undo of their addition, the redo of their
    removal), and forget them. What they carry that the batch did not make came from
    another device since (here, a later command would have been undone first): it waits
    aside for the paper, as it does there, and comes back with a redo."""
    if syncs(conn):
        from papercli.store.sync import park_user_state

        park_user_state(conn, list(leaving))
    papers.delete_papers(conn, list(leaving))
    leaving.clear()


def syncs(conn: sqlite3.Connection) -> bool:
    """Whether this database syncs (its first sync made it a device)."""
    return conn.execute("SELECT 1 FROM meta WHERE key = 'sync_device'").fetchone() is not None


LeftStep = tuple[str, str, str]
"""A step left as it is, as what it names changed since: (kind, key, and for a
prerequisite the paper it links to)."""


def _note_is_as(conn: sqlite3.Connection, _: str, was: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether the note is still as the step left it: no note, or this time and text."""
    uid = was.get("uid") or now.get("uid")
    row = conn.execute(
        f"SELECT created_at, body FROM notes WHERE {'uid' if uid else 'id'} = ?",
        (uid or was["id"],),
    ).fetchone()
    return (row is None) if "body" not in was else row == (was["created_at"], was["body"])


def _is_as(conn: sqlite3.Connection, kind: str, key: str, was: Any, now: Any) -> bool:
    """Whether what a step names is as the step left it (its other side), read as sync
    reads its register. A tag, an alert and a history row are not checked: each is there
    or not, and is set as the step says."""
    if kind == "note":
        return _note_is_as(conn, key, was, now)
    from papercli.names import nocase
    from papercli.store.sync import SEP, read_register

    if kind == "prereq":
        link = was["value"]
        wanted = None if link is None else {"state": link["state"], "at": link["at"]}
        return bool(read_register(conn, kind, SEP.join((key, was["prereq"]))) == wanted)
    return bool(read_register(conn, kind, nocase(key) if kind == "watch" else key) == was)


CHECKED = frozenset({"note", "watch", "inbox", "prereq"})
"""The kinds of step ``_is_as`` checks before a replay applies them."""


def state_of(conn: sqlite3.Connection, paper_id: str) -> list[Any] | None:
    """A paper's reading_state row, as ``set_state`` takes it (None: unread, no row)."""
    row = conn.execute(
        "SELECT status, changed_at, read_at, read_version FROM reading_state WHERE paper_id = ?",
        (paper_id,),
    ).fetchone()
    return None if row is None else list(row)


class QueuePlaces:
    """The queue places a replay sets, in order (a paper's place, or None: out of the
    queue), and the papers whose status changed since, which keep theirs (or stay out):
    on disk, in a scratch database, with the queue rows they replace. Undoing the clear of
    96,694 queued papers held them all in Python lists and dicts: 77 MB, where the clear
    itself took 35. Use as a context manager."""

    def __init__(self) -> None:
        self._db = scratch.scratch_db(
            "CREATE TABLE step (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, place INTEGER,"
            " added_at TEXT, left_queued INTEGER);"
            " CREATE TABLE kept (id TEXT PRIMARY KEY) WITHOUT ROWID;"
            " CREATE TABLE was (id TEXT PRIMARY KEY, added_at TEXT NOT NULL,"
            " place INTEGER NOT NULL) WITHOUT ROWID;"
            " CREATE TABLE final (seq INTEGER PRIMARY KEY, place INTEGER NOT NULL);"
        )

    def __enter__(self) -> QueuePlaces:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def add(
        self, paper_id: str, place: int | None, added_at: str | None, *, left_queued: bool
    ) -> None:
        """A paper's place (None: out of the queue), and when it was queued, if the step
        says: a paper put back gets that time, else the time of the replay. Whether the
        command (or, for a redo, its undo) ``left_queued`` the paper, said by its first
        step: a paper since taken out of the queue, or put in, keeps that change."""
        self._db.execute(
            "INSERT INTO step (id, place, added_at, left_queued) VALUES (?, ?, ?, ?)",
            (paper_id, place, added_at, left_queued),
        )

    def keep(self, paper_id: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO kept VALUES (?)", (paper_id,))

    def __bool__(self) -> bool:
        """Whether there are steps."""
        return self._db.execute("SELECT 1 FROM step LIMIT 1").fetchone() is not None

    def named(self) -> Iterator[list[str]]:
        """The papers the steps name, each once, CHUNK at a time: sorted, as an index on
        the steps or DISTINCT would put a million ids into a tree one at a time, in the
        steps' order (an index made keeping them 33 s instead of 8; DISTINCT took 20 s)."""
        rows = self._db.execute("SELECT id FROM step GROUP BY id")
        while chunk := rows.fetchmany(scratch.CHUNK):
            yield [str(pid) for (pid,) in chunk]

    def set(self, conn: sqlite3.Connection) -> None:
        """Put each paper at its place in the queue (None: out of it), as the steps name
        them, in order, as if inserted one after another into the queue without them.
        Papers another command moved since stay where they are unless a step names them.

        Linear in the queue and in the steps, in memory that holds only a tree of the
        queue's places (8 bytes each): the papers put back get their final places first
        (``_final_places``), then the papers that stay move down past them a run at a
        time (rewriting the queue in Python took 76 MB to undo one `mark-read` with
        107,730 papers queued)."""
        self._keep_changed_since(conn)
        self._db.execute("DELETE FROM step WHERE id IN (SELECT id FROM kept)")
        if not self:
            return
        for named in self.named():
            ids = id_list(named)
            queued = conn.execute(
                f"SELECT paper_id, added_at, position FROM queue WHERE paper_id {IN_IDS}", (ids,)
            ).fetchall()
            self._db.executemany("INSERT INTO was VALUES (?, ?, ?)", queued)
            conn.execute(f"DELETE FROM queue WHERE paper_id {IN_IDS}", (ids,))
        close_gaps(conn, self._taken())
        staying = int(conn.execute("SELECT count(*) FROM queue").fetchone()[0])
        back = self._db.execute("SELECT count(*) FROM step WHERE place IS NOT NULL")
        count = int(back.fetchone()[0])
        if not count:
            return  # papers only taken out (the undo of `queue add`): no tree to build
        wanted = self._db.execute(
            "SELECT seq, place FROM step WHERE place IS NOT NULL ORDER BY seq DESC"
        )
        self._db.executemany(
            "INSERT INTO final VALUES (?, ?)", _final_places(staying, count, wanted)
        )
        # The j-th place taken (from 0, in order) leaves place - j - 1 places before it to
        # papers that stay: those after that, up to the next one's, move down by j + 1.
        # From the end, so that each row moves once.
        upto = staying
        final = self._db.execute("SELECT place FROM final ORDER BY place DESC")
        for j, (place,) in zip(range(count - 1, -1, -1), final, strict=True):
            after = place - j - 1
            if upto > after:
                conn.execute(
                    "UPDATE queue SET position = position + ? WHERE position > ? AND position <= ?",
                    (j + 1, after, upto),
                )
            upto = after
        now = conn.execute("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')").fetchone()[0]
        # Queued when it was: still queued, its own time; else the step's, else now.
        rows = self._db.execute(
            "SELECT s.id, f.place, coalesce(w.added_at, s.added_at, ?) FROM final AS f"
            " JOIN step AS s USING (seq) LEFT JOIN was AS w ON w.id = s.id ORDER BY f.seq",
            (now,),
        )
        while chunk := rows.fetchmany(scratch.CHUNK):
            conn.executemany(
                "INSERT INTO queue (paper_id, position, added_at, sort_key) VALUES (?, ?, ?, NULL)",
                chunk,
            )

    def keep_placed_elsewhere(self, conn: sqlite3.Connection, since: str) -> Iterator[str]:
        """Keep where they are (and yield) the papers whose queue place another device set
        after ``since``, the undone command's time: another machine's later `queue move`
        (or `queue remove`) stands, as its later status does. Its register's clock is
        later than the command's own change of it, so later than its time (another
        device spreading every key afresh, when they grew too long, counts too)."""
        from papercli.events import hlc_of_time

        after = hlc_of_time(since)
        for named in self.named():
            moved = [
                str(key)
                for (key,) in conn.execute(
                    f"SELECT key FROM sync_registers WHERE kind = 'queue' AND key {IN_IDS}"
                    f" AND {OTHER_DEVICE} AND hlc > ?",
                    (id_list(named), after),
                )
            ]
            self._db.executemany("INSERT OR IGNORE INTO kept VALUES (?)", ((pid,) for pid in moved))
            yield from moved

    def _keep_changed_since(self, conn: sqlite3.Connection) -> None:
        """Keep where they are the papers put in or taken out of the queue since the
        command (by another command, or a sync: another device's later `queue remove` was
        undone with this device's `queue move`), a chunk at a time."""
        rows = self._db.execute(  # each paper's first step (SQLite's bare column of min())
            "SELECT id, left_queued, min(seq) FROM step GROUP BY id"
        )
        while chunk := rows.fetchmany(scratch.CHUNK):
            queued = {
                str(pid)
                for (pid,) in conn.execute(
                    f"SELECT paper_id FROM queue WHERE paper_id {IN_IDS}",
                    (id_list([str(pid) for pid, *_ in chunk]),),
                )
            }
            changed = [(pid,) for pid, was, _ in chunk if (pid in queued) != bool(was)]
            self._db.executemany("INSERT OR IGNORE INTO kept VALUES (?)", changed)

    def _taken(self) -> list[int] | None:
        """The places taken out of the queue, while few enough for ``close_gaps`` to
        close a run at a time (None: more)."""
        count = int(self._db.execute("SELECT count(*) FROM was").fetchone()[0])
        if count > GAP_RUNS_MAX:
            return None
        return [int(place) for (place,) in self._db.execute("SELECT place FROM was")]


def _final_places(
    staying: int, count: int, positions: Iterable[tuple[int, int]]
) -> Iterator[tuple[int, int]]:
    """Where ``count`` papers inserted one after another at positions (1 = the head,
    clamped to the queue's length then) end up, among ``staying`` papers already there:
    each, from the last, takes the free place its position names (a Fenwick tree of free
    places). ``positions`` gives (a key, the position) of each paper from the last to the
    first; each comes back with its place, in that order."""
    size = staying + count
    tree = array("l", [0]) * (size + 1)  # tree[i]: free places in (i - lowbit(i), i]
    for i in range(1, size + 1):
        tree[i] = i & -i
    top = 1 << size.bit_length()
    for t, (key, position) in zip(range(count - 1, -1, -1), positions, strict=True):
        wanted = max(1, min(position, staying + t + 1))  # the wanted-th free place
        place, step = 0, top
        while step:
            if place + step <= size and tree[place + step] < wanted:
                place += step
                wanted -= tree[place]
            step >>= 1
        place += 1
        yield key, place
        while place <= size:
            tree[place] -= 1
            place += place & -place


def set_state(conn: sqlite3.Connection, paper_id: str, value: list[Any] | None) -> None:
    """A paper's reading_state row is ``[status, changed_at, read_at, read_version]``, or
    none (undo's and redo's step, and sync's)."""
    conn.execute("DELETE FROM reading_state WHERE paper_id = ?", (paper_id,))
    if value is not None:
        conn.execute(
            "INSERT INTO reading_state (paper_id, status, changed_at, read_at, read_version)"
            " VALUES (?, ?, ?, ?, ?)",
            (paper_id, *value),
        )


GAP_RUNS_MAX = 1000
"""Places taken out of the queue that ``close_gaps`` closes a run at a time: past them,
one statement numbering the whole queue is quicker."""


def close_gaps(conn: sqlite3.Connection, taken: Sequence[int] | None) -> None:
    """Close the places ``taken`` out of the queue (None: too many to say): the papers
    after each move up past it, one statement per run of papers between two places, first
    to last (each run then lands below those still to move), so only the papers after the
    first place taken are written. Marking the first of 59,158 queued papers read took
    0.32 s of statements numbering the queue anew, now 0.08 s."""
    if taken is None or len(taken) > GAP_RUNS_MAX:
        renumber_queue(conn)
        return
    ordered = sorted(taken)
    for moved, place in enumerate(ordered, 1):
        upto = ordered[moved] if moved < len(ordered) else None
        conn.execute(
            "UPDATE queue SET position = position - ?1 WHERE position > ?2"
            " AND (?3 IS NULL OR position < ?3)",
            (moved, place, upto),
        )


def renumber_queue(conn: sqlite3.Connection) -> None:
    """Make positions 1..n again, keeping the order."""
    conn.execute(
        "UPDATE queue SET position = ranked.n FROM (SELECT paper_id,"
        " row_number() OVER (ORDER BY position, rowid) AS n FROM queue) AS ranked"
        " WHERE queue.paper_id = ranked.paper_id AND queue.position != ranked.n"
    )


def _set_note(
    conn: sqlite3.Connection, paper_id: str, value: dict[str, Any], uid: str | None
) -> None:
    """``{"id", "created_at", "body"}``: the note as it was; ``{"id"}`` alone: no note.
    The note is found by ``uid``, the same on every device, not by its row id: a sync may
    have given that id to another device's note since. (Steps older than uids: the id.)"""
    if "body" not in value:
        if uid is None:
            conn.execute("DELETE FROM notes WHERE id = ?", (value["id"],))
        else:
            conn.execute("DELETE FROM notes WHERE uid = ?", (uid,))
        return
    uid = uid or _row_value(conn, "SELECT uid FROM notes WHERE id = ?", value["id"])
    fields = (paper_id, value["created_at"], value["body"], uid)
    if not conn.execute(
        "UPDATE notes SET paper_id = ?, created_at = ?, body = ? WHERE uid = ?", fields
    ).rowcount:
        conn.execute(  # its old row id, unless another note has it now
            "INSERT INTO notes (id, paper_id, created_at, body, uid) VALUES"
            " ((SELECT CASE WHEN EXISTS (SELECT 1 FROM notes WHERE id = ?1) THEN NULL"
            " ELSE ?1 END), ?2, ?3, ?4, ?5)",
            (value["id"], *fields),
        )


def _row_value(conn: sqlite3.Connection, sql: str, *args: object) -> Any:
    row = conn.execute(sql, args).fetchone()
    return None if row is None else row[0]


def set_tag(conn: sqlite3.Connection, paper_id: str, value: dict[str, Any]) -> None:
    """``{"tag", "on"}``: whether the paper carries the tag, spelt so (tags are one in any
    case: ``Foo`` replaces ``foo``)."""
    if value["on"]:
        conn.execute("INSERT OR REPLACE INTO tags VALUES (?, ?)", (paper_id, value["tag"]))
    else:
        conn.execute("DELETE FROM tags WHERE paper_id = ? AND tag = ?", (paper_id, value["tag"]))


def _set_history(conn: sqlite3.Connection, paper_id: str, value: dict[str, Any]) -> None:
    """``{"id", "row"}``: an imported status change is in the history; ``{"id"}``: it is not."""
    if "row" not in value:
        conn.execute("DELETE FROM status_history WHERE id = ?", (value["id"],))
        return
    old, new, at = value["row"]
    conn.execute(
        "INSERT OR IGNORE INTO status_history (id, batch, paper_id, old_status, new_status,"
        " changed_at) VALUES (?, 0, ?, ?, ?, ?)",
        (value["id"], paper_id, old, new, at),
    )


def snapshots(conn: sqlite3.Connection, paper_ids: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Each paper's facts and fetched metadata, enough to put it back after removing it, in
    order, read together (a query per table, not per table and paper)."""
    records = arxiv_meta.arxiv_records(conn, paper_ids)
    for paper in papers.full_papers(conn, paper_ids, with_state=False):
        fetched = records.get(paper.id)
        yield {
            "paper": asdict(paper),
            "arxiv": None if fetched is None else [asdict(fetched[0]), fetched[1]],
        }


def _put_back(conn: sqlite3.Connection, paper_id: str, value: dict[str, Any]) -> None:
    """A user's own paper exists, as in the snapshot (its removal is _replay's)."""
    if conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone():
        return
    fields = dict(value["paper"])
    fields["authors"] = [stored_author(a) for a in fields["authors"]]
    fields["arxiv_authors"] = [stored_author(a) for a in fields["arxiv_authors"]]
    fields["notes"] = [Note(**n) for n in fields["notes"]]
    fields["status"] = ReadStatus(fields["status"])
    papers.insert_paper(conn, Paper(**fields), order_queue=False)  # _replay orders it once
    if value["arxiv"] is not None:
        record, fetched_at = value["arxiv"]
        record["authors"] = [stored_author(a) for a in record["authors"]]
        arxiv_meta.store_arxiv_record(conn, paper_id, ArxivRecord(**record), fetched_at)


def stored_author(value: dict[str, Any]) -> Author:
    """An author as a snapshot or a sync event holds it; one from before 3 December split
    as migration 22 split the library's (``export.resplit``): a paper removed then, or
    sent by a device not yet upgraded, comes back as the upgrade would have left it."""
    from papercli.export import resplit

    author = Author(**{**value, "affiliations": tuple(value.get("affiliations", ()))})
    return resplit(author) or author


def _set_watch(conn: sqlite3.Connection, name: str, value: dict[str, Any] | None) -> None:
    from papercli.store.watches import set_watch  # watches record steps through this module

    set_watch(conn, name, value)


def _set_decision(conn: sqlite3.Connection, arxiv_id: str, value: dict[str, Any] | None) -> None:
    from papercli.store.inbox import set_decision  # the inbox records steps through here

    set_decision(conn, arxiv_id, value)


def _set_prereq(conn: sqlite3.Connection, paper_id: str, step: dict[str, Any]) -> None:
    from papercli.store.graph import set_prereq

    set_prereq(conn, paper_id, step)


def _set_alert(conn: sqlite3.Connection, paper_id: str, value: bool) -> None:
    from papercli.store.inbox import set_alert_dismissed

    set_alert_dismissed(conn, paper_id, value)


_APPLY: dict[str, Any] = {  # queue steps, notes and removed papers: _replay's own
    "watch": _set_watch,  # keyed by the watch's name where other steps have a paper id
    "inbox": _set_decision,  # keyed by the arXiv id: a kept or dismissed inbox item
    "alert": _set_alert,  # whether a paper's version alert is dismissed
    "prereq": _set_prereq,  # a prerequisite link the user set, added or removed
    "state": set_state,
    "tag": set_tag,
    "history": _set_history,
    "paper": _put_back,
}
