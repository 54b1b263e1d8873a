"""The user's own state: reading status and its history, the queue, notes and tags.

Everything a user did lives here, apart from what papercli ships (``shipped``,
``papers``). Every command that changes something does so in one transaction and records
its steps in the change log (``changes``), so that ``undo`` and ``redo`` can replay it.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice

from papercli import TYPE_CHECKING
from papercli.errors import InvalidValueError, NotFoundError
from papercli.models import ReadStatus
from papercli.reading_order import PrereqGraph
from papercli.records import datarecord
from papercli.store import changes, notes, papers, scratch
from papercli.store.base import IN_IDS, NOTE_ORDER, id_list, transaction
from papercli.textlayout import counted

if TYPE_CHECKING:
    from typing import Any


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Tests replace this to get fixed timestamps.
clock: Callable[[], str] = utc_now


# ---------------------------------------------------------------------------
# Reading status


class StatusChange:
    """What ``set_status`` did, paper by paper, read from disk as it is printed: a
    ``mark-read -`` of a million papers need not hold them. Close it when done (or use it
    as a context manager)."""

    def __init__(self, conn: sqlite3.Connection, batch: int, given: scratch.ScratchBatch) -> None:
        self._conn, self._batch, self._given = conn, batch, given

    def __enter__(self) -> StatusChange:
        return self

    def __exit__(self, *exc: object) -> None:
        self._given.close()

    def changed(self) -> Iterator[tuple[str, ReadStatus, bool]]:
        """(id, old status, whether it left the queue) of each paper changed, in order."""
        for pid, old, left in self._conn.execute(
            "SELECT paper_id, old_status, queue_position IS NOT NULL FROM status_history"
            " WHERE batch = ? ORDER BY id",
            (self._batch,),
        ):
            yield str(pid), ReadStatus(old), bool(left)

    def unchanged(self) -> Iterator[str]:
        """The papers that had the status already, in order."""
        return self._given.noted()


# A paper marked with one of these is done with: it leaves the queue.
_LEAVES_QUEUE = (ReadStatus.READ, ReadStatus.SKIPPED)


def statuses(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, ReadStatus]:
    """Current status of each id (unread when never set)."""
    found = dict(
        conn.execute(
            f"SELECT paper_id, status FROM reading_state WHERE paper_id {IN_IDS}", (id_list(ids),)
        ).fetchall()
    )
    return {pid: ReadStatus(found.get(pid, "unread")) for pid in ids}


def states(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[Any]]:
    """Each paper's reading_state row as [status, changed_at, read_at, read_version]."""
    return {
        str(row[0]): list(row[1:])
        for row in conn.execute(
            "SELECT paper_id, status, changed_at, read_at, read_version FROM reading_state"
            f" WHERE paper_id {IN_IDS}",
            (id_list(ids),),
        )
    }


def set_status(conn: sqlite3.Connection, ids: Iterable[str], status: ReadStatus) -> StatusChange:
    """Give every paper ``status`` in one transaction, as one undoable command.

    Every id is read (onto disk, each once) before anything is written: one that fails
    to resolve changes nothing. Marking a paper read or skipped takes it out of the
    queue; ``undo`` puts it back in its place.
    """
    with scratch.held(ids) as given:
        now = clock()
        with transaction(conn):
            batch = changes.begin(conn, f"mark-{status}", now)
            changed: list[str] = []  # the first few, for the summary
            count = 0
            for chunk in given.chunks():
                done = _set_chunk(conn, batch, chunk, status, now)
                kept = set(done)
                given.note(pid for pid in chunk if pid not in kept)
                changed += done[: 5 - len(changed)]
                count += len(done)
            _dequeue_places(conn, batch, _places_left(conn, batch))
            changes.finish(conn, batch, f"marked {names_list(changed, count)} {status}")
    return StatusChange(conn, batch, given)


def _set_chunk(
    conn: sqlite3.Connection, batch: int, ids: Sequence[str], status: ReadStatus, now: str
) -> list[str]:
    """Give a chunk of ``set_status``'s papers the status; return those it changed. The
    queue places of those it takes out of the queue wait in their history."""
    current = statuses(conn, ids)
    before = states(conn, ids)
    positions = queue_positions(conn, ids) if status in _LEAVES_QUEUE else {}
    changed = [pid for pid in ids if current[pid] is not status]
    for pid in changed:
        read = status is ReadStatus.READ
        conn.execute(
            "INSERT INTO reading_state (paper_id, status, changed_at, read_at, read_version)"
            " VALUES (?1, ?2, ?3, ?4, CASE WHEN ?4 IS NULL THEN NULL ELSE"
            f" {papers.LATEST_VERSION.format(paper='?1')} END)"
            " ON CONFLICT(paper_id) DO UPDATE SET status = excluded.status,"
            " changed_at = excluded.changed_at,"
            " read_at = coalesce(excluded.read_at, reading_state.read_at),"
            " read_version = coalesce(excluded.read_version, reading_state.read_version)",
            (pid, str(status), now, now if read else None),
        )
        conn.execute(
            "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at,"
            " queue_position) VALUES (?, ?, ?, ?, ?, ?)",
            (batch, pid, str(current[pid]), str(status), now, positions.get(pid)),
        )
    after = states(conn, changed)
    for pid in changed:
        changes.record(conn, batch, "state", pid, before.get(pid), after.get(pid))
    return changed


def _places_left(conn: sqlite3.Connection, batch: int) -> Iterator[tuple[str, int]]:
    """The papers ``batch`` took out of the queue with their places, the last first."""
    for pid, place in conn.execute(
        "SELECT paper_id, queue_position FROM status_history"
        " WHERE batch = ? AND queue_position IS NOT NULL ORDER BY queue_position DESC",
        (batch,),
    ):
        yield str(pid), int(place)


def names_list(ids: Sequence[str], total: int | None = None, most: int = 5) -> str:
    """The first ``most`` of ``ids``, and how many more of ``total`` (all of ``ids``)."""
    total = len(ids) if total is None else total
    shown = ", ".join(ids[:most])
    return shown + (f" and {total - most} more" if total > most else "")


@datarecord
class HistoryEntry:
    paper_id: str
    title: str
    old_status: ReadStatus
    new_status: ReadStatus
    changed_at: str
    undone: bool = False


def history(
    conn: sqlite3.Connection, paper_id: str | None = None, limit: int | None = None
) -> Iterator[HistoryEntry]:
    """Status changes, newest first, as they are read (a ``mark-read -`` of a million
    papers makes a million); those of an undone command are marked, not hidden."""
    sql = (
        "SELECT h.paper_id, coalesce(p.title, ''), h.old_status, h.new_status, h.changed_at,"
        f" c.undone_at IS NOT NULL OR h.batch = {changes.UNDONE_ELSEWHERE}"
        " FROM status_history h LEFT JOIN papers p ON p.id = h.paper_id"
        " LEFT JOIN command_log c ON c.batch = h.batch"
    )
    params: list[object] = []
    if paper_id is not None:
        sql += " WHERE h.paper_id = ?"
        params.append(paper_id)
    # Changes in one second: the later first. Rows from other devices arrive later than
    # they were made, so where the database syncs each change's sync clock (ms) says which
    # came last, alike on every device; else the row id does. Ordering them by their
    # statuses (so that devices agreed) listed read -> skipped -> reading backwards.
    # One command's changes share a clock: by paper then, alike everywhere (by row id, two
    # devices listed `mark-read gpt-3 lora adam` in two orders).
    tie = f"{_HISTORY_CLOCK} DESC, h.paper_id DESC, " if changes.syncs(conn) else ""
    sql += f" ORDER BY h.changed_at DESC, {tie}h.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    for pid, title, old, new, at, undone in conn.execute(sql, params):
        yield HistoryEntry(pid, title, ReadStatus(old), ReadStatus(new), at, bool(undone))


_HISTORY_CLOCK = (
    "(SELECT r.hlc FROM sync_registers r WHERE r.kind = 'history' AND r.key = h.paper_id"
    " || char(31) || h.old_status || char(31) || h.new_status || char(31) || h.changed_at)"
)
"""The sync clock of the history row ``h`` (NULL before the first sync): which of the
changes made in one second came last, alike on every device, where their row ids differ
by the order the changes arrived."""


@datarecord
class Replayed:
    """What ``undo`` or ``redo`` replayed: the command, and its status changes, read as
    they are printed, once it is done (a ``mark-read -`` of a million papers made a
    million)."""

    command: changes.LogEntry
    statuses: Iterator[tuple[HistoryEntry, ReadStatus]]  # each change, and the status now
    left: list[changes.LeftStep]  # notes, watches, inbox decisions, prerequisites changed since
    # statuses, notes and tags an undo put back as another device left them before the
    # command, or a redo applied over such a change (the status, or the tag's name)
    brought: list[changes.LeftStep]


def undo(conn: sqlite3.Connection) -> Replayed:
    """Revert the last command that changed anything; its history stays, marked undone."""
    with transaction(conn):
        entry, left, brought = changes.undo(conn, clock())
        return Replayed(entry, _batch_statuses(conn, entry.batch), left, brought)


def redo(conn: sqlite3.Connection) -> Replayed:
    """Apply again the command the last ``undo`` reverted."""
    with transaction(conn):
        entry, left, brought = changes.redo(conn)
        return Replayed(entry, _batch_statuses(conn, entry.batch), left, brought)


def _batch_statuses(
    conn: sqlite3.Connection, batch: int
) -> Iterator[tuple[HistoryEntry, ReadStatus]]:
    """The batch's status changes, each with the paper's status now: a change made since
    (here or on another device) was left as it is, not replayed."""
    for pid, title, old, new, at, now in conn.execute(
        "SELECT h.paper_id, coalesce(p.title, ''), h.old_status, h.new_status, h.changed_at,"
        " coalesce(s.status, 'unread') FROM status_history h"
        " LEFT JOIN papers p ON p.id = h.paper_id"
        " LEFT JOIN reading_state s ON s.paper_id = h.paper_id"
        " WHERE h.batch = ? ORDER BY h.id",
        (batch,),
    ):
        entry = HistoryEntry(str(pid), str(title), ReadStatus(old), ReadStatus(new), str(at))
        yield entry, ReadStatus(now)


# ---------------------------------------------------------------------------
# Queue


def queue_positions(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, int]:
    return dict(
        conn.execute(
            f"SELECT paper_id, position FROM queue WHERE paper_id {IN_IDS}", (id_list(ids),)
        ).fetchall()
    )


def queue_length(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM queue").fetchone()[0])


def _dequeue_places(
    conn: sqlite3.Connection, batch: int, places: Iterable[tuple[str, int]]
) -> None:
    """Take out the queued papers given with their places, the last place first (so that
    undo puts them back front to back, each at its place), CHUNK at a time; then close
    the gaps, once."""
    places = iter(places)
    taken: list[int] | None = []  # the places taken, while there are few
    while chunk := list(islice(places, scratch.CHUNK)):
        leaving = id_list([pid for pid, _ in chunk])
        queued_at = dict(
            conn.execute(
                f"DELETE FROM queue WHERE paper_id {IN_IDS} RETURNING paper_id, added_at",
                (leaving,),
            ).fetchall()
        )
        for pid, position in chunk:  # when it was queued: an undo puts it back as it was
            changes.record(conn, batch, "queue", pid, position, None, added_at=queued_at.get(pid))
        if taken is not None:
            taken += (position for _, position in chunk)
            taken = taken if len(taken) <= changes.GAP_RUNS_MAX else None
    changes.close_gaps(conn, taken)


def enqueue(
    conn: sqlite3.Connection,
    batch: int,
    ids: Sequence[str],
    at: int,
    queued_at: Mapping[str, str | None] | None = None,
) -> None:
    """Insert ids (not yet queued) so the first lands at position ``at``; each queued now,
    or at the time ``queued_at`` gives it (an import's, from its file)."""
    at = max(1, min(at, queue_length(conn) + 1))
    _make_room(conn, at, len(ids))
    _insert_queued(conn, batch, ids, at, queued_at)


def _make_room(conn: sqlite3.Connection, at: int, count: int) -> None:
    """Move the papers from position ``at`` on ``count`` places down: once for all the
    papers a command inserts there (a move a chunk would walk the queue's tail each time)."""
    conn.execute("UPDATE queue SET position = position + ? WHERE position >= ?", (count, at))


def _insert_queued(
    conn: sqlite3.Connection,
    batch: int,
    ids: Sequence[str],
    at: int,
    queued_at: Mapping[str, str | None] | None = None,
) -> None:
    """Queue ids at ``at``, ``at + 1``...: their room made already; each queued now, or
    at the time ``queued_at`` gives it."""
    now = clock()
    times = [(queued_at or {}).get(pid) or now for pid in ids]
    conn.executemany(
        "INSERT INTO queue (paper_id, position, added_at) VALUES (?, ?, ?)",
        [(pid, at + i, when) for i, (pid, when) in enumerate(zip(ids, times, strict=True))],
    )
    for i, (pid, when) in enumerate(zip(ids, times, strict=True)):
        changes.record(conn, batch, "queue", pid, None, at + i, added_at=when)


def record_added(
    conn: sqlite3.Connection, paper_ids: list[str], at: str, *, queue: bool = False
) -> list[str]:
    """Make adding these papers one undoable command (inside the adding transaction),
    with their places at the end of the queue when ``queue``, so that one undo takes
    back both (it took two: the queue places were a command of their own). Returns the
    papers queued: a paper put back with a place it had (a sync's) keeps that one."""
    if not paper_ids:
        return []
    batch = changes.begin(conn, "add", at)
    changes.record_added(conn, batch, paper_ids)
    queued: list[str] = []
    if queue:
        there = queue_positions(conn, paper_ids)
        queued = [pid for pid in paper_ids if pid not in there]
        enqueue(conn, batch, queued, queue_length(conn) + 1)
    changes.finish(conn, batch, f"added {names_list(paper_ids)}" + (" and queued" if queue else ""))
    return queued


def queue_add(
    conn: sqlite3.Connection,
    ids: Iterable[str],
    *,
    at: int | None = None,
    include_read: bool | Callable[[list[str], int], bool] = False,
) -> scratch.ScratchBatch:
    """Append (or insert at position ``at``) papers not queued yet; keep the order of the
    rest. Papers read are queued only with ``include_read``: true, or a function given
    the first five read and how many, asked before anything is written. Every id is read
    (onto disk, each once) first; what became of each is noted there, as "added",
    "queued" (already) or "read" (left out), to be read and closed."""
    with scratch.held(ids) as given:
        if callable(include_read):
            include_read = _ask_about_read(conn, given, include_read)
        with transaction(conn):
            for chunk in given.chunks():
                queued = queue_positions(conn, chunk)
                current = statuses(conn, chunk)
                outcomes: dict[str, list[str]] = {"queued": [], "read": [], "added": []}
                for pid in chunk:
                    outcomes[_queue_outcome(pid, queued, current, include_read)].append(pid)
                for outcome, pids in outcomes.items():
                    given.note(pids, outcome)
            length = queue_length(conn)
            if at is not None:
                _check_position(at, length + 1, length)
            count = given.count("added")
            if count:
                batch = changes.begin(conn, "queue add", clock())
                place = at or length + 1
                _make_room(conn, place, count)
                added = given.noted("added")
                while chunk := list(islice(added, scratch.CHUNK)):
                    _insert_queued(conn, batch, chunk, place)
                    place += len(chunk)
                first = list(islice(given.noted("added"), 5))
                changes.finish(conn, batch, f"queued {names_list(first, count)}")
    return given


def _queue_outcome(
    pid: str, queued: dict[str, int], current: dict[str, ReadStatus], include_read: bool
) -> str:
    if pid in queued:
        return "queued"
    return "read" if current[pid] is ReadStatus.READ and not include_read else "added"


def _ask_about_read(
    conn: sqlite3.Connection, given: scratch.ScratchBatch, ask: Callable[[list[str], int], bool]
) -> bool:
    """``ask`` about the papers given that are read and not queued already (it asked
    about a paper it then said was in the queue), if there are any."""
    first: list[str] = []
    count = 0
    for chunk in given.chunks():
        current, queued = statuses(conn, chunk), queue_positions(conn, chunk)
        read = [pid for pid in chunk if current[pid] is ReadStatus.READ and pid not in queued]
        first += read[: 5 - len(first)]
        count += len(read)
    return bool(count) and ask(first, count)


def queue_remove(conn: sqlite3.Connection, ids: Iterable[str]) -> scratch.ScratchBatch:
    """Take papers out of the queue. Every id is read (onto disk, each once) first; what
    became of each is noted there, as "removed" or "absent", to be read and closed."""
    with scratch.held(ids) as given, transaction(conn):
        for chunk in given.chunks():
            queued = queue_positions(conn, chunk)
            in_queue = [(pid, queued[pid]) for pid in chunk if pid in queued]
            given.note_places(in_queue, "removed")
            given.note((pid for pid in chunk if pid not in queued), "absent")
        count = given.count("removed")
        if count:
            batch = changes.begin(conn, "queue remove", clock())
            _dequeue_places(conn, batch, given.places("removed"))
            first = list(islice(given.noted("removed"), 5))
            changes.finish(conn, batch, f"took {names_list(first, count)} out of the queue")
    return given


def queue_move(conn: sqlite3.Connection, paper_id: str, position: int) -> bool:
    """Move a queued paper to ``position``; False, and no step to undo, if it is there
    already (a step that changed nothing took the place of the redo)."""
    with transaction(conn):
        length = queue_length(conn)
        old = queue_positions(conn, [paper_id]).get(paper_id)
        if old is None:
            raise NotFoundError(
                f"{paper_id} is not in the queue; add it with: papercli queue add {paper_id}"
            )
        _check_position(position, length, length)
        if old == position:
            return False
        batch = changes.begin(conn, "queue move", clock())
        changes.record(conn, batch, "queue", paper_id, old, position)
        # Queued when it was first queued, still: a sync takes a paper read since then out.
        (added,) = conn.execute(
            "DELETE FROM queue WHERE paper_id = ? RETURNING added_at", (paper_id,)
        ).fetchone()
        # Only the papers between the two places move, one place towards the old one.
        if old < position:
            conn.execute(
                "UPDATE queue SET position = position - 1 WHERE position > ? AND position <= ?",
                (old, position),
            )
        else:
            conn.execute(
                "UPDATE queue SET position = position + 1 WHERE position >= ? AND position < ?",
                (position, old),
            )
        conn.execute(
            "INSERT INTO queue (paper_id, position, added_at) VALUES (?, ?, ?)",
            (paper_id, position, added),
        )
        changes.finish(conn, batch, f"moved {paper_id} from #{old} to #{position}")
        return True


def _check_position(position: int, last: int, length: int) -> None:
    """Refuse a place outside 1 to ``last`` in a queue of ``length`` papers."""
    if not 1 <= position <= last:
        places = "1" if last == 1 else f"1 to {last}"
        raise InvalidValueError(
            f"position {position} is out of range: give {places}, as the queue has"
            f" {counted(length, 'paper')}"
        )


def queue_clear(conn: sqlite3.Connection) -> int:
    """Empty the queue; how many papers it held. They wait on disk with their places
    until taken out: every id was held three times (in a list, with its place, sorted),
    69 MB for 107,731 queued papers of a million."""
    with transaction(conn), scratch.ScratchBatch() as queued:
        rows = conn.execute("SELECT paper_id, position FROM queue")
        while chunk := rows.fetchmany(scratch.CHUNK):
            queued.note_places(((str(pid), int(place)) for pid, place in chunk), "queued")
        count = queued.count("queued")
        if count:
            batch = changes.begin(conn, "queue clear", clock())
            _dequeue_places(conn, batch, queued.places("queued"))
            changes.finish(conn, batch, f"cleared the queue ({counted(count, 'paper')})")
        return count


def next_in_queue(conn: sqlite3.Connection) -> str | None:
    """The first queued paper not read or skipped."""
    row = conn.execute(
        "SELECT q.paper_id FROM queue q LEFT JOIN reading_state s ON s.paper_id = q.paper_id"
        " WHERE coalesce(s.status, 'unread') IN ('unread', 'reading') ORDER BY q.position LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def queue_ids(conn: sqlite3.Connection) -> Iterator[str]:
    """The queue's ids in its order, read as they are needed."""
    return (str(pid) for (pid,) in conn.execute("SELECT paper_id FROM queue ORDER BY position"))


# ---------------------------------------------------------------------------
# Reading path


class Walk:
    """The papers a reading path walked (``prerequisite_graph``): their links as numbers
    in memory (``graph``), their ids and dates on disk (``scratch.ScratchNumbers``). Close
    it, or use it as a context manager."""

    def __init__(self) -> None:
        self._papers = scratch.ScratchNumbers()
        self.clear()

    def clear(self, conn: sqlite3.Connection | None = None) -> None:
        """Forget every paper, for another walk: of the list of ``conn``, if given
        (each paper then has its date there, else none)."""
        from papercli.store import graph

        self.graph = PrereqGraph()
        self._papers.clear(None if conn is None else functools.partial(graph.dates_of, conn))
        self._fresh: tuple[int, list[str]] = (0, [])  # the ids numbered last, from the first

    def __enter__(self) -> Walk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._papers.close()

    def __len__(self) -> int:
        return len(self._papers)

    def numbers(self, ids: Sequence[str]) -> dict[str, int]:
        """The number of each of ``ids``: those not walked yet numbered next, in order."""
        first = len(self._papers)
        found = self._papers.number(ids)
        if len(self._papers) > first:
            self._fresh = first, [pid for pid, number in found.items() if number >= first]
        return found

    def known(self, ids: Sequence[str]) -> dict[str, int]:
        """The numbers of those of ``ids`` walked."""
        return self._papers.numbers_of(ids)

    def add_alone(self, key: str, date: str) -> bool:
        """Add a paper needing none (a reference not in the list), unless walked;
        whether it was added."""
        if self._papers.numbers_of([key]):
            return False
        self._papers.date([(self._papers.number([key])[key], date)])
        self.graph.link(len(self._papers) - 1, ())
        return True

    def order(self, last: int | None = None) -> array[int]:
        """``PrereqGraph.order``: oldest first, ties by id (ordered by SQLite)."""
        return self.graph.order(self._papers.oldest(), last)

    def ids_of(self, numbers: range) -> list[str]:
        """The ids of papers ``numbers`` (a chunk of them), in order: of those numbered
        last, from memory (a chain's walk numbers one paper at a time)."""
        first, fresh = self._fresh
        if first <= numbers.start and numbers.stop <= first + len(fresh):
            return fresh[numbers.start - first : numbers.stop - first]
        return self._papers.values_of(numbers)

    def chunks(self, numbers: array[int]) -> Iterator[tuple[array[int], list[str]]]:
        """``numbers`` with their ids, CHUNK at a time, in order."""
        for first in range(0, len(numbers), scratch.CHUNK):
            chunk = numbers[first : first + scratch.CHUNK]
            yield chunk, self._papers.values_of(chunk)


def prerequisite_graph(
    conn: sqlite3.Connection,
    starts: Sequence[str],
    placed: scratch.ScratchSet | None = None,
    walked: Walk | None = None,
) -> Walk:
    """The papers ``starts`` need (curated, the user's and suggested prerequisites),
    transitively, numbered from theirs, with their dates and links: asked about a chunk of
    papers at a time, held as numbers (their ids on disk). Papers ``placed`` are left out
    and not walked past. Close it, or use it as a context manager; or give a Walk
    ``walked`` to walk again (cleared first)."""
    from papercli.store import graph  # only paths need it: everyday commands start faster

    if walked is None:
        walked = Walk()
    walked.clear(conn)
    try:
        walked.numbers(starts)
        done = 0
        while done < len(walked):
            ids = walked.ids_of(range(done, min(done + scratch.CHUNK, len(walked))))
            found = graph.prerequisites_of(conn, ids)
            left_out = (
                set()
                if placed is None
                else placed.given({p.prereq_id for links in found.values() for p in links})
            )
            kept = [[p for p in found[pid] if p.prereq_id not in left_out] for pid in ids]
            numbers = walked.numbers([p.prereq_id for links in kept for p in links])
            for number, links in enumerate(kept, done):
                walked.graph.link(number, [(numbers[p.prereq_id], p.kind) for p in links])
            done += len(ids)
    except BaseException:
        walked.close()
        raise
    return walked


def reading_path(
    conn: sqlite3.Connection, paper_id: str, placed: scratch.ScratchSet | None = None
) -> Iterator[list[str]]:
    """The paper's prerequisites, transitively, in an order that respects them: oldest
    foundations first, the paper itself last; a chunk of ids at a time. Papers ``placed``
    already, with their own prerequisites, are left out and not walked past."""
    with prerequisite_graph(conn, [paper_id], placed) as walked:
        for _, ids in walked.chunks(walked.order(last=0)):
            yield ids


def leading_to(conn: sqlite3.Connection, paper_id: str, starts: Sequence[str]) -> set[str]:
    """Those of ``starts`` whose reading path (``reading_path``) holds ``paper_id``: one
    walk from them all. A walk from each took the square of a chain's length, when every
    paper of a chain was given (2,000 took a minute)."""
    with prerequisite_graph(conn, starts) as walked:
        target = walked.known([paper_id]).get(paper_id)
        if target is None:
            return set()
        leading = walked.graph.leading_to(target)
        return {pid for pid, number in walked.known(starts).items() if leading[number]}


_DONE = (ReadStatus.READ, ReadStatus.SKIPPED)


def unread_paths(conn: sqlite3.Connection, ids: Iterable[str]) -> Iterator[str]:
    """The reading path to each paper (``reading_path``) without the prerequisites read
    or skipped; the paper itself always, for the queue to take or name as read, as it
    takes or names a paper given without its path."""
    # The papers of a path given so far are not walked again: a chain's papers, all
    # named, made each path walk the whole chain before it (the square of its length).
    # They wait on disk: as a set of ids they took about 100 bytes a paper.
    # One walk's scratch database for every path: one each took 3 times as long.
    with scratch.ScratchSet() as placed, Walk() as walked:
        for paper_id in ids:
            if paper_id not in placed:
                prerequisite_graph(conn, [paper_id], placed, walked)
                order = walked.order(last=0)
                order.pop()  # the paper itself
                for _, chunk in walked.chunks(order):
                    placed.add_new(chunk)
                    current = statuses(conn, chunk)
                    yield from (pid for pid in chunk if current[pid] not in _DONE)
            yield paper_id


def command_log(conn: sqlite3.Connection, limit: int | None = None) -> Iterator[changes.LogEntry]:
    """Every command that changed something, newest first (``history --all``), as read."""
    return changes.log(conn, limit)


# ---------------------------------------------------------------------------
# Removing papers a user added


def remove_papers(
    conn: sqlite3.Connection,
    ids: Iterable[str],
    confirm: Callable[[list[str], int], object] | None = None,
) -> scratch.ScratchBatch:
    """Delete papers the user added, with their state, as one undoable command.

    The catalogue's papers cannot be removed (a newer catalogue would bring them back):
    mark them skipped instead. Every id is read (onto disk, each once) first, and
    ``confirm`` given the first five and how many before anything is written (it raises
    to stop); the ids come back, to be read and closed. Each paper's copy for undo is
    taken before any of them is gone (so undo brings back the links among them); then
    they go REMOVED_TOGETHER at a time.
    """
    with scratch.held(ids) as given:
        first, count = given.first(5), len(given)
        if confirm is not None:
            confirm(first, count)
        with transaction(conn):
            _refuse_shipped(conn, given)
            batch = changes.begin(conn, "remove", clock())
            for chunk in given.chunks():
                given.note_places(queue_positions(conn, chunk).items(), "queued")
            _dequeue_places(conn, batch, given.places("queued"))
            for chunk in given.chunks():
                _record_removal(conn, batch, chunk)
            leaving = itertools.chain.from_iterable(given.chunks())
            while group := list(islice(leaving, changes.REMOVED_TOGETHER)):
                papers.delete_papers(conn, group)  # out of the queue already: no gaps
            changes.finish(conn, batch, f"removed {names_list(first, count)}")
    return given


def _refuse_shipped(conn: sqlite3.Connection, given: scratch.ScratchBatch) -> None:
    """Refuse the catalogue's papers among those given, naming the first five given."""
    shipped: list[str] = []
    count = 0
    for chunk in given.chunks():
        found = [
            str(pid)
            for (pid,) in conn.execute(
                "SELECT j.value FROM json_each(?) AS j JOIN papers p ON p.id = j.value"
                " WHERE p.origin != 'user' ORDER BY j.key",
                (id_list(chunk),),
            )
        ]
        shipped += found[: 5 - len(shipped)]
        count += len(found)
    if count:
        more = "" if count == len(shipped) else " ..."
        raise InvalidValueError(
            f"{names_list(shipped, count)}: papers of the catalogue cannot be removed; "
            f"mark them skipped instead (papercli mark-skipped {' '.join(shipped)}{more})"
        )


def _record_removal(conn: sqlite3.Connection, batch: int, ids: Sequence[str]) -> None:
    """Each paper's state, notes, tags and copy, as steps of ``batch``, for undo: read for
    all of ``ids`` together, a query per table (not a dozen queries a paper: 171,000
    statements to remove 10,000 papers)."""
    before = states(conn, ids)
    notes_of: dict[str, list[tuple[Any, ...]]] = {}
    for pid, *note in conn.execute(
        f"SELECT paper_id, id, created_at, body, uid FROM notes WHERE paper_id {IN_IDS}"
        f" ORDER BY paper_id, {NOTE_ORDER}",
        (id_list(ids),),
    ):
        notes_of.setdefault(str(pid), []).append(tuple(note))
    tags_of = notes.tags_by_paper(conn, ids)
    steps: list[tuple[str, str, Any, Any]] = []
    for pid, copy in zip(ids, changes.snapshots(conn, ids), strict=True):
        if pid in before:
            steps.append(("state", pid, before[pid], None))
        for note_id, at, body, uid in notes_of.get(pid, ()):
            note = {"id": note_id, "created_at": at, "body": body, "uid": uid}
            steps.append(("note", pid, note, {"id": note_id, "uid": uid}))
        for tag in tags_of.get(pid, ()):
            steps.append(("tag", pid, {"tag": tag, "on": True}, {"tag": tag, "on": False}))
        steps.append(("paper", pid, copy, None))
    changes.record_all(conn, batch, steps)
