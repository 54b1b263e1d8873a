"""The notes and tags a user writes on papers: each change one undoable command."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence

from papercli.errors import InvalidValueError, NotFoundError
from papercli.models import MAX_TEXT, Note
from papercli.records import datarecord
from papercli.store import changes, library, scratch
from papercli.store.base import IN_IDS, NOTE_ORDER, id_list, transaction


def new_uid() -> str:
    """A note's id, the same on every device it syncs to: the time in nanoseconds, then
    random bits (uuid's import costs 13 ms). A paper's notes are numbered by their time to
    the second, then by uid: so notes written in the same second keep the order they were
    written in (random uids numbered them at random, and `note REF --delete 2` just after
    writing three could delete the first or the third)."""
    return f"{time.time_ns():016x}{os.urandom(8).hex()}"


def add_note(conn: sqlite3.Connection, paper_id: str, body: str) -> str:
    text = _note_text(body)
    now = library.clock()
    with transaction(conn):
        batch = changes.begin(conn, "note", now)
        uid = new_uid()
        cursor = conn.execute(
            "INSERT INTO notes (paper_id, created_at, body, uid) VALUES (?, ?, ?, ?)",
            (paper_id, now, text, uid),
        )
        note = {"id": cursor.lastrowid, "created_at": now, "body": text, "uid": uid}
        changes.record(conn, batch, "note", paper_id, {"id": cursor.lastrowid, "uid": uid}, note)
        changes.finish(conn, batch, f"added a note to {paper_id}")
    return now


def _note_text(body: str) -> str:
    """The note, checked as an import and a sync check it (longer, it made the library's
    JSON backup impossible to import, and never synced)."""
    text = body.strip()
    if not text:
        raise InvalidValueError("the note is empty; nothing was saved")
    if len(text) > MAX_TEXT:
        raise InvalidValueError(
            f"a note has at most {MAX_TEXT:,} characters, not {len(text):,}; nothing was saved"
        )
    if "\x00" in text:  # an editor may save one; no other device would take the note
        raise InvalidValueError("a note cannot hold a NUL character; nothing was saved")
    return text


def edit_note(conn: sqlite3.Connection, paper_id: str, number: int, body: str) -> None:
    """Replace the text of a paper's note number ``number`` (1 = oldest); its date stays."""
    text = _note_text(body)
    with transaction(conn):
        note_id, created_at, old = _note(conn, paper_id, number)
        batch = changes.begin(conn, "note edit", library.clock())
        conn.execute("UPDATE notes SET body = ? WHERE id = ?", (text, note_id))
        before = {"id": note_id, "created_at": created_at, "body": old, "uid": _uid(conn, note_id)}
        changes.record(conn, batch, "note", paper_id, before, {**before, "body": text})
        changes.finish(conn, batch, f"edited note {number} of {paper_id}")


def delete_notes(conn: sqlite3.Connection, paper_id: str, numbers: Sequence[int]) -> list[Note]:
    """Delete a paper's notes by number (1 = oldest), each numbered as listed before any
    goes, in one undoable command; return them. One number missing: none is deleted."""
    wanted = sorted(set(numbers))
    with transaction(conn):
        rows = _notes_numbered(conn, paper_id, wanted)
        batch = changes.begin(conn, "note delete", library.clock())
        for note_id, created_at, body in rows:
            uid = _uid(conn, note_id)
            conn.execute("DELETE FROM notes WHERE id = ?", (note_id,))
            before = {"id": note_id, "created_at": created_at, "body": body, "uid": uid}
            changes.record(conn, batch, "note", paper_id, before, {"id": note_id, "uid": uid})
        which = f"note {wanted[0]}" if len(wanted) == 1 else f"notes {_listed(wanted)}"
        changes.finish(conn, batch, f"deleted {which} of {paper_id}")
    return [Note(created_at, body) for _, created_at, body in rows]


def _listed(numbers: Sequence[int]) -> str:
    """``1, 2 and 4``."""
    *first, last = map(str, numbers)
    return f"{', '.join(first)} and {last}" if first else last


def _uid(conn: sqlite3.Connection, note_id: int) -> str | None:
    row = conn.execute("SELECT uid FROM notes WHERE id = ?", (note_id,)).fetchone()
    return None if row is None else str(row[0])


def note(conn: sqlite3.Connection, paper_id: str, number: int) -> Note:
    """A paper's note number ``number`` (1 = oldest)."""
    _, created_at, body = _note(conn, paper_id, number)
    return Note(created_at, body)


def _note(conn: sqlite3.Connection, paper_id: str, number: int) -> tuple[int, str, str]:
    return _notes_numbered(conn, paper_id, [number])[0]


def _notes_numbered(
    conn: sqlite3.Connection, paper_id: str, numbers: Sequence[int]
) -> list[tuple[int, str, str]]:
    """(id, created_at, body) of the paper's notes with these numbers (1 = oldest)."""
    rows = conn.execute(
        f"SELECT id, created_at, body FROM notes WHERE paper_id = ? ORDER BY {NOTE_ORDER}",
        (paper_id,),
    ).fetchall()
    for number in numbers:
        if not 1 <= number <= len(rows):
            have = f"it has {len(rows)}" if rows else "it has none"
            raise NotFoundError(
                f"{paper_id} has no note {number} ({have}; see papercli note {paper_id})"
            )
    return [(int(rows[n - 1][0]), str(rows[n - 1][1]), str(rows[n - 1][2])) for n in numbers]


def notes_of(conn: sqlite3.Connection, paper_id: str) -> list[Note]:
    return [
        Note(str(at), str(body), None if uid is None else str(uid))
        for at, body, uid in conn.execute(
            f"SELECT created_at, body, uid FROM notes WHERE paper_id = ? ORDER BY {NOTE_ORDER}",
            (paper_id,),
        )
    ]


@datarecord(frozen=True)
class PaperNote:
    paper_id: str
    title: str
    number: int  # the note's number on its paper, as `note REF --edit N` takes it
    created_at: str
    body: str


def all_notes(conn: sqlite3.Connection, limit: int | None = None) -> Iterator[PaperNote]:
    """Every note on every paper, newest first, read as they are printed. Each note's
    number on its paper comes from one numbering of the shown notes' papers: counting
    the notes before each one took the square of a paper's notes (16,000 took 13 s)."""
    sql = (
        "WITH shown AS (SELECT id FROM notes ORDER BY created_at DESC, id DESC LIMIT ?)"
        " SELECT numbered.paper_id, coalesce(p.title, ''), number, created_at, body FROM"
        " (SELECT id, paper_id, created_at, body,"
        f"   row_number() OVER (PARTITION BY paper_id ORDER BY {NOTE_ORDER}) AS number"
        "   FROM notes WHERE paper_id IN (SELECT paper_id FROM notes WHERE id IN shown)"
        " ) AS numbered LEFT JOIN papers p ON p.id = numbered.paper_id"
        " WHERE numbered.id IN shown"
        " ORDER BY created_at DESC, numbered.id DESC"  # within a second, as written here
    )
    return (
        PaperNote(str(pid), str(title), int(number), str(at), str(body))
        for pid, title, number, at, body in conn.execute(sql, (-1 if limit is None else limit,))
    )


def tags_by_paper(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """The tags of each of the papers ``ids`` (those with some), in order, with one query."""
    tags: dict[str, list[str]] = {}
    for pid, tag in conn.execute(
        f"SELECT paper_id, tag FROM tags WHERE paper_id {IN_IDS} ORDER BY paper_id, tag",
        (id_list(ids),),
    ):
        tags.setdefault(str(pid), []).append(str(tag))
    return tags


def change_tags(
    conn: sqlite3.Connection, ids: Iterable[str], add: Sequence[str], remove: Sequence[str]
) -> scratch.ScratchBatch:
    """Add and remove tags on papers, as one undoable command, CHUNK papers at a time.
    Every id is read (onto disk, each once) before anything is written; the ids come
    back, to be read in order and closed."""
    with scratch.held(ids) as given:
        if add or remove:
            _change_tags(conn, given, add, remove)
    return given


def _change_tags(
    conn: sqlite3.Connection, given: scratch.ScratchBatch, add: Sequence[str], remove: Sequence[str]
) -> None:
    with transaction(conn):
        batch = changes.begin(conn, "tag", library.clock())
        for ids in given.chunks():
            add_tags(conn, batch, ids, add)
            if remove:
                _remove_tags(conn, batch, ids, remove)
        edits = [f"+{t}" for t in add] + [f"-{t}" for t in remove]
        tagged = library.names_list(given.first(5), len(given))
        changes.finish(conn, batch, f"tagged {tagged} {' '.join(edits)}")


def add_tags(conn: sqlite3.Connection, batch: int, ids: Sequence[str], tags: Sequence[str]) -> None:
    """Tag papers, as steps of ``batch`` (inside its transaction): a step for each tag a
    paper did not have (in any case), recorded together."""
    added = [
        (pid, tag)
        for pid in ids
        for tag in tags
        if conn.execute("INSERT OR IGNORE INTO tags VALUES (?, ?)", (pid, tag)).rowcount
    ]
    changes.record_all(
        conn,
        batch,
        (("tag", pid, {"tag": tag, "on": False}, {"tag": tag, "on": True}) for pid, tag in added),
    )


def _remove_tags(
    conn: sqlite3.Connection, batch: int, ids: Sequence[str], tags: Sequence[str]
) -> None:
    """Take the ``tags`` (each in any case, none twice) off the papers ``ids`` (each once),
    as steps of ``batch`` naming each tag as it was stored: by paper, then in ``tags``'
    order."""
    stored = conn.execute(
        "SELECT t.paper_id, t.tag FROM json_each(?) AS p JOIN tags AS t ON t.paper_id = p.value"
        " JOIN json_each(?) AS r ON t.tag = r.value ORDER BY p.key, r.key",
        (id_list(ids), id_list(tags)),
    ).fetchall()
    conn.executemany("DELETE FROM tags WHERE paper_id = ? AND tag = ?", stored)
    changes.record_all(
        conn,
        batch,
        (("tag", pid, {"tag": tag, "on": True}, {"tag": tag, "on": False}) for pid, tag in stored),
    )


def tag_counts(conn: sqlite3.Connection) -> Iterator[tuple[str, int]]:
    """Each tag with how many papers carry it, by name, read as they are printed."""
    rows = conn.execute("SELECT tag, count(*) FROM tags GROUP BY tag ORDER BY tag")
    return ((str(t), int(c)) for t, c in rows)
