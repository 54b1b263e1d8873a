"""Another copy of the user's state, in and out: everything an export reads, and the
merge an import makes, as one undoable command that never rewinds newer state."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice

from papercli import times
from papercli.models import Paper, ReadStatus
from papercli.records import datarecord
from papercli.store import changes, graph, library, scratch
from papercli.store.base import IN_IDS, id_list
from papercli.store.changes import HISTORY_BY_PAPER, LIVE_HISTORY
from papercli.store.library import enqueue, queue_positions, statuses
from papercli.store.papers import full_papers, papers_by_ids


def history_by_paper(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, list[dict[str, object]]]:
    """Each paper's status changes that stand (not undone), oldest first, for an export;
    those of one second by the change, alike on every device (an order the sync of a
    change made twice in one second can keep, where the order they were made in it cannot)."""
    found: dict[str, list[dict[str, object]]] = {pid: [] for pid in ids}
    for pid, old, new, at in conn.execute(
        "SELECT paper_id, old_status, new_status, changed_at FROM status_history"
        f" WHERE paper_id {IN_IDS} AND {LIVE_HISTORY}"
        " ORDER BY changed_at, old_status, new_status, id",
        (id_list(ids),),
    ):
        found[pid].append({"old_status": old, "new_status": new, "changed_at": at})
    return found


def links_by_paper(
    conn: sqlite3.Connection, ids: Sequence[str]
) -> dict[str, list[dict[str, str | None]]]:
    """The prerequisite links the user added or removed from each paper that has any, by
    prerequisite id, for an export: each with its state and its time as stored (one
    stored in an older form, in today's; one in no form of a time, as null)."""
    return {
        pid: [{"id": x.prereq_id, "state": x.state, "at": times.stored(x.at)} for x in links]
        for pid, links in graph.user_links(conn, ids).items()
    }


class ExportReader:
    """What an export reads, in memory that does not grow with the library: one read
    transaction on the database, so that however long the export takes it sees the
    database as it was when it began (writers are not held up: the log keeps their
    changes); and a private scratch database (a temporary file once past a few MB) for the
    ids selected, in order, and another (``keys``, an ``export.GivenKeys``) for the citation
    keys given, which at a million papers would take about 150 MB as Python lists and sets.

    Use as a context manager: ``stage`` the selection, then read ``papers``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> ExportReader:
        self._scratch = scratch.scratch_db(
            "CREATE TABLE ids (section INTEGER NOT NULL, seq INTEGER NOT NULL,"
            " paper_id TEXT NOT NULL, PRIMARY KEY (section, seq)) WITHOUT ROWID"
        )
        self.keys = scratch.ScratchSet()
        self._conn.execute("BEGIN DEFERRED")
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._conn.in_transaction:  # a failing disk may have ended it already
                self._conn.execute("ROLLBACK")  # it read only
        finally:
            self._scratch.close()
            self.keys.close()

    def stage(self, ids: Iterable[str], section_of: Callable[[Paper], str] | None = None) -> int:
        """Keep the ids selected, in order, a chunk at a time; return how many.
        ``section_of`` gives a paper's section (Markdown by topic or year): ``papers`` then
        gives each section's papers together, the sections in the order of their first
        paper, from a listing row of each paper read here."""
        sections: dict[str, int] = {}  # a few dozen topics or years
        count = 0
        ids = iter(ids)
        while chunk := list(islice(ids, scratch.CHUNK)):
            if section_of is None:
                numbers = [0] * len(chunk)
            else:
                numbers = [
                    sections.setdefault(section_of(paper), len(sections))
                    for paper in papers_by_ids(self._conn, chunk)
                ]
            self._scratch.executemany(
                "INSERT INTO ids VALUES (?, ?, ?)",
                zip(numbers, range(count, count + len(chunk)), chunk, strict=True),
            )
            count += len(chunk)
        return count

    def papers(
        self, *, with_history: bool = False, with_state: bool = True, cited_only: bool = False
    ) -> Iterator[
        tuple[
            list[Paper], dict[str, list[dict[str, object]]], dict[str, list[dict[str, str | None]]]
        ]
    ]:
        """The staged papers in full, CHUNK at a time, each chunk with its status history
        and the prerequisite links the user added or removed when asked for (JSON), and
        its notes, tags and queue places unless not (BibTeX has no use for them), or only
        what a citation prints (``full_papers``); the next chunk is read when this one is
        done with."""
        after = (-1, -1)
        while True:
            rows = self._scratch.execute(
                "SELECT section, seq, paper_id FROM ids WHERE (section, seq) > (?, ?)"
                " ORDER BY section, seq LIMIT ?",
                (*after, scratch.CHUNK),
            ).fetchall()
            if not rows:
                return
            ids = [str(pid) for _, _, pid in rows]
            history = history_by_paper(self._conn, ids) if with_history else {}
            links = links_by_paper(self._conn, ids) if with_history else {}
            chunk = full_papers(self._conn, ids, with_state=with_state, cited_only=cited_only)
            yield chunk, history, links
            after = rows[-1][:2]


def begin_import(conn: sqlite3.Connection) -> int:
    """Start the import's undoable command; call inside its transaction."""
    return changes.begin(conn, "import", library.clock())


def finish_import(conn: sqlite3.Connection, batch: int, summary: str) -> None:
    changes.finish(conn, batch, summary)


@datarecord
class TakenAway:
    """What commands here took away, their undo not undone, that an older export still
    has: an import does not bring it back."""

    notes: dict[str, Counter[tuple[str, str]]]  # deleted or edited away: (time, text)
    tag_taken_off: Callable[[str, str], bool]  # (paper, tag)
    paper_removed: Callable[[str, str | None], bool]  # (id, arXiv id) of one not here


@contextmanager
def taken_away(conn: sqlite3.Connection) -> Iterator[TakenAway]:
    with changes.tags_taken_off(conn) as tag_taken_off, changes.papers_removed(conn) as removed:
        yield TakenAway(changes.notes_taken_away(conn), tag_taken_off, removed)


def merge_state(
    conn: sqlite3.Connection,
    paper: Paper,
    history: Sequence[Mapping[str, object]],
    batch: int,
    gone: TakenAway,
) -> bool:
    """Merge an exported paper's state into ``paper.id``; call inside a transaction.

    Nothing newer is rewound: the status is the exported one only when it changed later
    than the local one; notes, tags and history entries are added when missing (history
    by paper, time and change, as many times as the file has it), but for the notes and
    tags a command here took away since. Each change is a step of ``batch``. Returns
    whether anything changed.
    """
    changed = _merge_history(conn, paper.id, history, batch)
    changed |= _merge_status(conn, paper, batch)
    for tag in paper.tags:
        if gone.tag_taken_off(paper.id, tag):
            continue
        if conn.execute("INSERT OR IGNORE INTO tags VALUES (?, ?)", (paper.id, tag)).rowcount:
            off, on = {"tag": tag, "on": False}, {"tag": tag, "on": True}
            changes.record(conn, batch, "tag", paper.id, off, on)
            changed = True
    return _merge_notes(conn, paper, batch, gone.notes.get(paper.id, Counter())) or changed


def _merge_history(
    conn: sqlite3.Connection, paper_id: str, history: Sequence[Mapping[str, object]], batch: int
) -> bool:
    """Add each entry as many times as the file has it more than the paper has (a change
    made twice in a second is there twice). The paper's entries at the file's times are
    read once: looked up one at a time, each lookup walked them all, and a paper with
    20,000 entries took minutes."""
    if not history:
        return False
    times = id_list(sorted({str(entry["changed_at"]) for entry in history}))
    there = Counter(
        conn.execute(
            f"SELECT old_status, new_status, changed_at FROM {HISTORY_BY_PAPER}"
            f" WHERE paper_id = ? AND changed_at {IN_IDS}",
            (paper_id, times),
        )
    )
    given: Counter[tuple[object, ...]] = Counter()
    changed = False
    for entry in history:
        row = (entry["old_status"], entry["new_status"], entry["changed_at"])
        given[row] += 1
        if given[row] > there[row]:
            cursor = conn.execute(
                "INSERT INTO status_history (batch, paper_id, old_status, new_status,"
                " changed_at) VALUES (0, ?, ?, ?, ?)",
                (paper_id, *row),
            )
            new = {"id": cursor.lastrowid}
            changes.record(conn, batch, "history", paper_id, new, {**new, "row": list(row)})
            changed = True
    return changed


def _merge_notes(
    conn: sqlite3.Connection, paper: Paper, batch: int, gone: Counter[tuple[str, str]]
) -> bool:
    """Add the notes the paper does not have nor had taken away, reading those it has at
    the file's times once. A note the file gives with its uid (exports since 5 December)
    is there when that note is, with its time and text, and was taken away when a synced
    change deleted or edited it, on any machine; under the file's uid it is the same note on every
    machine, where one imported on another machine was there twice once synced. Any other
    note is matched by time and text: there, or taken away here (``gone``). A note
    written twice in one second is there twice, as a status change is."""
    if not paper.notes:
        return False
    from papercli.store.sync import synced_at  # here: exports read through this module

    there: Counter[tuple[str, str]] = Counter()
    count: Counter[str] = Counter()  # the paper's notes at each of those times
    for at, body in conn.execute(
        f"SELECT created_at, body FROM notes WHERE paper_id = ? AND created_at {IN_IDS}",
        (paper.id, id_list(sorted({note.created_at for note in paper.notes}))),
    ):
        there[(at, body)] += 1
        count[at] += 1
    given: Counter[tuple[str, str]] = Counter()
    changed = False
    for note in paper.notes:
        key = (note.created_at, note.body)
        held = None
        if note.uid is not None:
            held = conn.execute(
                "SELECT created_at, body FROM notes WHERE uid = ?", (note.uid,)
            ).fetchone()
            if (held is None or tuple(held) != key) and synced_at(conn, "note", note.uid):
                continue  # deleted or edited since, on some machine, as one here would be
        given[key] += 1
        if (held is not None and tuple(held) == key) or given[key] <= there[key] + gone[key]:
            continue
        uid = (
            note.uid
            if note.uid is not None and held is None
            else _imported_note_uid(conn, paper.id, note.created_at, count)
        )
        cursor = conn.execute(
            "INSERT INTO notes (paper_id, created_at, body, uid) VALUES (?, ?, ?, ?)",
            (paper.id, note.created_at, note.body, uid),
        )
        after = {"id": cursor.lastrowid, "created_at": note.created_at, "body": note.body}
        changes.record(
            conn, batch, "note", paper.id, {"id": cursor.lastrowid}, after | {"uid": uid}
        )
        changed = True
    return changed


def _imported_note_uid(
    conn: sqlite3.Connection, paper_id: str, at: str, count: Counter[str]
) -> str:
    """The uid migrations.M013's notes_uid_default gives a note that comes without one:
    the paper, the time and how many notes it has at that time, so that two devices
    importing one export give its notes the same uids. Counted here: the trigger counted
    the notes of that second for each note, and thousands in one second took the square
    of their number. A uid taken (a note of that second deleted since) moves on."""
    while True:
        uid = f"{paper_id}@{at}#{count[at]}"
        count[at] += 1
        if conn.execute("SELECT 1 FROM notes WHERE uid = ?", (uid,)).fetchone() is None:
            return uid


def _merge_status(conn: sqlite3.Connection, paper: Paper, batch: int) -> bool:
    """Take the exported status when it is the later change (ISO UTC times compare as
    text): later than the status here and than any change of it here, an undone one too
    (its undo is a change, and the status it left may have no time of its own). A status
    without a time is older than anything here: it is taken only by a paper never
    changed here. Until 3 December an undone status came back from an older export, and
    one without a time always won."""
    if paper.status is ReadStatus.UNREAD and not paper.status_changed_at:
        return False
    from papercli.store.sync import synced_at  # here: exports read through this module

    current = changes.state_of(conn, paper.id)
    # A change another device made, or undid, since counts as one made here.
    synced = synced_at(conn, "status", paper.id)
    here = max(current[1] if current else "", _last_change_here(conn, paper.id), synced)
    exported_at = paper.status_changed_at or ""
    if here and exported_at <= here:
        return False
    exported = [
        str(paper.status),
        exported_at or library.clock(),
        paper.read_at,
        paper.read_version,
    ]
    changes.record(conn, batch, "state", paper.id, current, exported)
    changes.set_state(conn, paper.id, exported)
    return True


def _last_change_here(conn: sqlite3.Connection, paper_id: str) -> str:
    """When a command here last changed the paper's status, or undid such a change (""
    if never). History entries an import or a sync brought (batch 0, or below for one
    undone elsewhere) are changes made elsewhere: what they left is the status itself."""
    (last,) = conn.execute(
        "SELECT max(max(h.changed_at), coalesce(max(c.undone_at), ''))"
        " FROM status_history AS h INDEXED BY status_history_change"
        " LEFT JOIN command_log AS c ON c.batch = h.batch"
        " WHERE h.paper_id = ? AND h.batch > 0",
        (paper_id,),
    ).fetchone()
    return last or ""


def unread(conn: sqlite3.Connection, ids: Sequence[str]) -> list[str]:
    """Those of ``ids`` not read, in order."""
    current = statuses(conn, ids)
    return [pid for pid in ids if current[pid] is not ReadStatus.READ]


def queue_missing(
    conn: sqlite3.Connection,
    ids: Sequence[str],
    batch: int,
    queued_at: Mapping[str, str | None] | None = None,
) -> list[str]:
    """Append, in order, the ids not queued yet, as steps of ``batch``, each queued now or
    at the time ``queued_at`` gives it; call inside a transaction."""
    queued = queue_positions(conn, ids)
    missing = [pid for pid in dict.fromkeys(ids) if pid not in queued]
    if missing:
        (length,) = conn.execute("SELECT count(*) FROM queue").fetchone()
        enqueue(conn, batch, missing, length + 1, queued_at)
    return missing


Link = tuple[str, str, str, str | None]
"""A prerequisite link an import brings: (paper id, prerequisite id, state, time)."""


def merge_prereqs(
    conn: sqlite3.Connection,
    links: Sequence[Link],
    batch: int,
    now: str,
    undone: Callable[[], Mapping[tuple[str, str], str]],
) -> tuple[list[Link], list[Link]]:
    """Merge the links an export gives the user's papers (a chunk of them, the papers
    and prerequisites here); call inside a transaction. Nothing newer is rewound, as
    with the status: a link is set as the file says only when the file's time is later
    than the link's here and than an undo here that took it back (``undone``, asked only
    when a link is not here); a link without a time only where there is nothing here.
    An added link that would make a cycle is left out, as ``prereq +X`` refuses one.
    Each change is a step of ``batch``. Returns the links set and those left out."""
    from papercli.store.sync import SEP, synced_at  # here: exports read through this module

    there = graph.user_links(conn, list(dict.fromkeys(paper_id for paper_id, *_ in links)))
    here = {(paper_id, link.prereq_id): link for paper_id, found in there.items() for link in found}
    undone_at: Mapping[tuple[str, str], str] | None = None
    taken: list[Link] = []
    cut: list[Link] = []
    for link in links:
        paper_id, prereq, state, at = link
        old = here.get((paper_id, prereq))
        if old is None:
            undone_at = undone() if undone_at is None else undone_at
            # An undo on another machine, which a sync brought, is a change made here too.
            latest = max(
                undone_at.get((paper_id, prereq), ""),
                synced_at(conn, "prereq", SEP.join((paper_id, prereq))),
            )
        else:
            latest = old.at
        if latest and (at or "") <= latest:
            continue  # newer here, or the same
        newly_added = state == "added" and (old is None or old.state != "added")
        if newly_added and prereq in library.leading_to(conn, paper_id, [prereq]):
            cut.append(link)
            continue
        was = None if old is None else {"prereq": prereq, "state": old.state, "at": old.at}
        set_to = {"prereq": prereq, "state": state, "at": at or now}
        graph.record_prereq(conn, batch, paper_id, was, set_to, prereq)
        here[paper_id, prereq] = graph.UserLink(prereq, state, at or now)
        taken.append(link)
    return taken, cut
