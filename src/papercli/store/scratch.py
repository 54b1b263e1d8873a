"""Private scratch databases (a temporary file once past a few MB) for what a command
would otherwise hold in memory: at a million papers, the ids of a file imported or
exported, or of a command's papers, take about 100 MB as Python lists and sets."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice

from papercli import TYPE_CHECKING
from papercli.store.base import IN_IDS, id_list

if TYPE_CHECKING:  # typing costs every export 2-4 ms to import
    from typing import Any, Self

CHUNK = 1000
"""Papers read, written or printed at a time: each query is worth its start, and memory
holds one chunk whatever the size of the library."""


def scratch_db(schema: str) -> sqlite3.Connection:
    """A private scratch database made with ``schema``, inside a transaction it never
    commits: nothing in it need last, and each statement that commits on its own writes a
    journal (twice the time of a million rows written at once)."""
    db = sqlite3.connect("", isolation_level=None)  # "": a private temp file
    db.executescript(schema)
    db.execute("BEGIN")
    return db


class _Scratch:
    """A private scratch database (a temporary file once past a few MB) made with
    ``schema``, for what would take about 100 MB of memory at a million papers. Close it,
    or use it as a context manager."""

    def __init__(self, schema: str) -> None:
        self._scratch = scratch_db(schema)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._scratch.close()


class ScratchSet(_Scratch):
    """A set of strings (the paper ids or citation keys of a file imported or exported),
    kept on disk."""

    def __init__(self) -> None:
        super().__init__("CREATE TABLE ids (id TEXT PRIMARY KEY) WITHOUT ROWID")

    def given(self, values: Collection[str]) -> set[str]:
        """Those of ``values`` kept already."""
        query = f"SELECT id FROM ids WHERE id {IN_IDS}"
        return {str(value) for (value,) in self._scratch.execute(query, (id_list(list(values)),))}

    def add(self, values: Sequence[str]) -> list[str]:
        """Keep the strings; return those given before (here or earlier), in order."""
        first = set(self.add_new(values))
        repeated = []
        for value in values:
            if value in first:
                first.discard(value)
            else:
                repeated.append(value)
        return repeated

    def add_new(self, values: Sequence[str]) -> list[str]:
        """Keep the strings; return those not kept before, each once, in order."""
        known = self.given(values)
        fresh = [value for value in dict.fromkeys(values) if value not in known]
        self._scratch.executemany("INSERT INTO ids VALUES (?)", ((v,) for v in fresh))
        return fresh

    def __contains__(self, value: str) -> bool:
        query = "SELECT 1 FROM ids WHERE id = ?"
        return self._scratch.execute(query, (value,)).fetchone() is not None

    def __iter__(self) -> Iterator[str]:
        """The strings in order (as Python sorts them: SQLite compares UTF-8 bytes)."""
        for (value,) in self._scratch.execute("SELECT id FROM ids ORDER BY id"):
            yield str(value)


class ScratchTargets(_Scratch):
    """The ids of an imported file's papers read so far, each with the local paper it is
    (itself, the one it matched, or the id it was added as), kept on disk."""

    def __init__(self) -> None:
        super().__init__(
            "CREATE TABLE targets (id TEXT PRIMARY KEY, target TEXT NOT NULL) WITHOUT ROWID"
        )

    def add(self, pairs: Sequence[tuple[str, str]]) -> list[str]:
        """Keep the (id, local id) pairs; return the ids given before (here or earlier),
        in order."""
        known = self.targets_of([paper_id for paper_id, _ in pairs])
        fresh: dict[str, str] = {}
        repeated = []
        for paper_id, target in pairs:
            if paper_id in known or paper_id in fresh:
                repeated.append(paper_id)
            else:
                fresh[paper_id] = target
        self._scratch.executemany("INSERT INTO targets VALUES (?, ?)", fresh.items())
        return repeated

    def targets_of(self, ids: Collection[str]) -> dict[str, str]:
        """The local paper of each of ``ids`` kept here."""
        query = f"SELECT id, target FROM targets WHERE id {IN_IDS}"
        rows = self._scratch.execute(query, (id_list(list(ids)),))
        return {str(paper_id): str(target) for paper_id, target in rows}


class ScratchAdded(_Scratch):
    """The papers an import added, each with the number of the undo step that added it
    (to take the paper again once its links change later in the import), kept on disk."""

    def __init__(self) -> None:
        super().__init__("CREATE TABLE added (id TEXT PRIMARY KEY, step INTEGER) WITHOUT ROWID")

    def add(self, steps: Iterable[tuple[str, int]]) -> None:
        self._scratch.executemany("INSERT INTO added VALUES (?, ?)", steps)

    def __contains__(self, value: str) -> bool:
        query = "SELECT 1 FROM added WHERE id = ?"
        return self._scratch.execute(query, (value,)).fetchone() is not None

    def steps_of(self, ids: Collection[str]) -> dict[str, int]:
        """The step of each of ``ids`` kept here."""
        query = f"SELECT id, step FROM added WHERE id {IN_IDS}"
        rows = self._scratch.execute(query, (id_list(list(ids)),))
        return {str(paper_id): int(step) for paper_id, step in rows}


class ScratchNumbers(_Scratch):
    """Strings (the papers of a reading path) numbered 0, 1, ... in the order added, each
    with a date, kept on disk: a long path held each id and its number in a dict, about
    110 bytes a paper. New strings wait in memory, CHUNK at a time (fewer never reach the
    disk: `queue add --with-prereqs` of many papers walks many short paths), and a Bloom
    filter (two bits of 8 to 16 a string: 1 to 2 bytes) says which strings are surely new,
    so that a chain's walk, numbering a paper at a time, asks the disk once a chunk."""

    FIRST_BYTES = 1 << 13  # the Bloom filter's first size (it doubles past a string a byte)

    def __init__(self) -> None:
        super().__init__(
            "CREATE TABLE numbered (number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
            " date TEXT NOT NULL DEFAULT '')"
        )
        self._written = False  # whether any string is on disk: a short walk needs none
        self._count = 0
        self._bits = bytearray(self.FIRST_BYTES)  # the Bloom filter: 2 bits for each string
        self.clear()

    def clear(self, dates: Callable[[list[str]], Mapping[str, str]] | None = None) -> None:
        """Forget every string (a scratch database is worth its start: 0.3 ms); new ones
        are given their ``dates`` (found for many at a time) as they are written."""
        if self._written:
            self._scratch.execute("DELETE FROM numbered")
        if self._count:
            self._bits = bytearray(self.FIRST_BYTES)
        self._dates = dates
        self._count = 0
        self._waiting: dict[str, int] = {}  # numbered, not on disk yet
        self._written = False

    def __len__(self) -> int:
        return self._count

    def _mark(self, value: str) -> None:
        bits = self._bits
        hashed, size = hash(value), 8 * len(bits)
        for spot in (hashed % size, (hashed >> 32) % size):
            bits[spot >> 3] |= 1 << (spot & 7)

    def _flush(self) -> None:
        """Write the strings waiting in memory."""
        if not self._waiting:
            return
        dates = {} if self._dates is None else self._dates(list(self._waiting))
        rows = ((n, value, dates.get(value, "")) for value, n in self._waiting.items())
        self._scratch.executemany("INSERT INTO numbered VALUES (?, ?, ?)", rows)
        self._waiting.clear()
        self._written = True

    def _grow(self) -> None:
        """Double the filter's bits (at 8 a string) and mark every string again."""
        self._flush()
        self._bits = bytearray(2 * len(self._bits))
        rows = self._scratch.execute("SELECT id FROM numbered")
        while chunk := rows.fetchmany(CHUNK):
            for (value,) in chunk:
                self._mark(value)

    def number(self, values: Sequence[str]) -> dict[str, int]:
        """The number of each of ``values``: those not numbered yet numbered next, in
        order."""
        given = dict.fromkeys(values)
        bits, size = self._bits, 8 * len(self._bits)
        maybe = []  # those the filter has seen the like of
        for value in given:
            hashed = hash(value)
            first, second = hashed % size, (hashed >> 32) % size
            if bits[first >> 3] >> (first & 7) & 1 and bits[second >> 3] >> (second & 7) & 1:
                maybe.append(value)
        found = self.numbers_of(maybe) if maybe else {}
        for value in given:
            if value not in found:
                found[value] = self._waiting[value] = self._count
                self._count += 1
                if self._count > len(bits):
                    self._grow()
                    bits, size = self._bits, 8 * len(self._bits)
                else:  # marked (as _mark does)
                    hashed = hash(value)
                    first, second = hashed % size, (hashed >> 32) % size
                    bits[first >> 3] |= 1 << (first & 7)
                    bits[second >> 3] |= 1 << (second & 7)
        if len(self._waiting) >= CHUNK:
            self._flush()
        return found

    def date(self, dates: Iterable[tuple[int, str]]) -> None:
        """Give strings numbered already the dates given: (number, date) pairs."""
        self._flush()
        rows = ((date, number) for number, date in dates)
        self._scratch.executemany("UPDATE numbered SET date = ? WHERE number = ?", rows)

    def numbers_of(self, values: Collection[str]) -> dict[str, int]:
        """The numbers of those of ``values`` numbered already."""
        waiting = self._waiting
        found = {value: waiting[value] for value in values if value in waiting}
        if self._written:
            query = f"SELECT id, number FROM numbered WHERE id {IN_IDS}"
            rest = id_list([value for value in values if value not in found])
            found.update((str(v), int(n)) for v, n in self._scratch.execute(query, (rest,)))
        return found

    def values_of(self, numbers: Iterable[int]) -> list[str]:
        """The strings numbered ``numbers``, in their order."""
        import json

        if not self._written:  # all waiting, in order
            waiting = list(self._waiting)
            return [waiting[number] for number in numbers]
        self._flush()
        query = (
            "SELECT n.id FROM json_each(?) AS j JOIN numbered n ON n.number = j.value"
            " ORDER BY j.key"
        )
        return [str(v) for (v,) in self._scratch.execute(query, (json.dumps(list(numbers)),))]

    def oldest(self) -> Iterator[int]:
        """Every number, by date and then string (as Python sorts them: SQLite compares
        UTF-8 bytes, the order of code points)."""
        if not self._written:  # all waiting, in order
            waiting = list(self._waiting)
            dates = {} if self._dates is None else self._dates(waiting)
            yield from sorted(
                range(len(waiting)), key=lambda n: (dates.get(waiting[n], ""), waiting[n])
            )
            return
        self._flush()
        rows = self._scratch.execute("SELECT number FROM numbered ORDER BY date, id")
        while chunk := rows.fetchmany(CHUNK):
            yield from (number for (number,) in chunk)


class ScratchMap(_Scratch):
    """Values by key (an imported file's ``@string`` definitions), kept on disk; a key
    given again takes its new value."""

    def __init__(self) -> None:
        super().__init__("CREATE TABLE map (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
        self._count = 0

    def put(self, items: Mapping[str, bytes]) -> None:
        self._count += len(items) - len(self.values_of(items))  # those not kept before
        self._scratch.executemany("INSERT OR REPLACE INTO map VALUES (?, ?)", items.items())

    def values(self) -> list[bytes]:
        return [value for (value,) in self._scratch.execute("SELECT value FROM map")]

    def values_of(self, keys: Collection[str]) -> list[bytes]:
        """The values of those of ``keys`` kept here."""
        query = f"SELECT value FROM map WHERE key {IN_IDS}"
        return [value for (value,) in self._scratch.execute(query, (id_list(list(keys)),))]

    def __len__(self) -> int:
        return self._count


class ScratchQueue(_Scratch):
    """The papers an import queues once it has merged them all, in order of rank (a
    paper's place in the exported queue, or the order it was found in) and then of id,
    each at the smallest rank it was given, with the latest time the file says it was
    queued (if it says); kept on disk."""

    def __init__(self) -> None:
        super().__init__(
            "CREATE TABLE queue (id TEXT PRIMARY KEY, rank INTEGER NOT NULL, queued_at TEXT)"
            " WITHOUT ROWID; CREATE INDEX queue_rank ON queue (rank, id);"
        )

    def add(self, paper_id: str, rank: int, queued_at: str | None = None) -> None:
        self._scratch.execute(
            "INSERT INTO queue VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " rank = min(rank, excluded.rank), queued_at"
            " = coalesce(max(queued_at, excluded.queued_at), queued_at, excluded.queued_at)",
            (paper_id, rank, queued_at),
        )

    def __bool__(self) -> bool:
        return self._scratch.execute("SELECT 1 FROM queue LIMIT 1").fetchone() is not None

    def leave_out(self, taken: Iterable[tuple[str, str]]) -> None:
        """Drop each paper given with a time (taken out of the queue then), unless it was
        queued later than that: the later of the two stands."""
        taken = iter(taken)
        while chunk := list(islice(taken, CHUNK)):
            self._scratch.executemany(
                "DELETE FROM queue WHERE id = ? AND (queued_at IS NULL OR queued_at <= ?)", chunk
            )

    def queued_now(self, taken: Iterable[tuple[str, str]]) -> None:
        """Forget the file's time of each paper given with a later time (taken out of the
        queue then): queued again by this import's asking, it is queued now, not at a time
        before it was taken out here."""
        taken = iter(taken)
        while chunk := list(islice(taken, CHUNK)):
            self._scratch.executemany(
                "UPDATE queue SET queued_at = NULL WHERE id = ? AND queued_at <= ?", chunk
            )

    def chunks(self) -> Iterator[list[str]]:
        """The ids in order, CHUNK at a time."""
        for chunk in self.timed_chunks():
            yield [paper_id for paper_id, _ in chunk]

    def timed_chunks(self) -> Iterator[list[tuple[str, str | None]]]:
        """The ids in order, each with when it was queued (None: not said), CHUNK at a time."""
        rows = self._scratch.execute("SELECT id, queued_at FROM queue ORDER BY rank, id")
        while chunk := rows.fetchmany(CHUNK):
            yield [(str(paper_id), at) for paper_id, at in chunk]


class ScratchBatch(_Scratch):
    """The paper ids a command was given, in order and each once, and what it noted of
    each (an outcome, and a queue place), kept on disk to print once the command is done."""

    def __init__(self) -> None:
        super().__init__(
            "CREATE TABLE given (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);"
            " CREATE TABLE noted (seq INTEGER PRIMARY KEY, id TEXT NOT NULL,"
            " outcome TEXT NOT NULL, place INTEGER);"
        )

    def add(self, ids: Iterable[str]) -> None:
        """Keep every id not kept yet, in order, CHUNK at a time."""
        ids = iter(ids)
        while chunk := list(islice(ids, CHUNK)):
            self._scratch.executemany(
                "INSERT OR IGNORE INTO given (id) VALUES (?)", ((pid,) for pid in chunk)
            )

    def __len__(self) -> int:
        return int(self._scratch.execute("SELECT count(*) FROM given").fetchone()[0])

    def first(self, most: int) -> list[str]:
        query = "SELECT id FROM given ORDER BY seq LIMIT ?"
        return [str(pid) for (pid,) in self._scratch.execute(query, (most,))]

    def chunks(self) -> Iterator[list[str]]:
        """The ids in order, CHUNK at a time."""
        rows = self._scratch.execute("SELECT id FROM given ORDER BY seq")
        while chunk := rows.fetchmany(CHUNK):
            yield [str(pid) for (pid,) in chunk]

    def __iter__(self) -> Iterator[str]:
        for chunk in self.chunks():
            yield from chunk

    def note(self, ids: Iterable[str], outcome: str = "") -> None:
        rows = ((pid, outcome) for pid in ids)
        self._scratch.executemany("INSERT INTO noted (id, outcome) VALUES (?, ?)", rows)

    def note_places(self, places: Iterable[tuple[str, int]], outcome: str = "") -> None:
        """Note ids with the queue place each had."""
        rows = ((pid, outcome, place) for pid, place in places)
        self._scratch.executemany("INSERT INTO noted (id, outcome, place) VALUES (?, ?, ?)", rows)

    def noted(self, outcome: str = "") -> Iterator[str]:
        """The ids noted with ``outcome``, in the order they were."""
        query = "SELECT id FROM noted WHERE outcome = ? ORDER BY seq"
        rows = self._scratch.execute(query, (outcome,))
        while chunk := rows.fetchmany(CHUNK):
            yield from (str(pid) for (pid,) in chunk)

    def count(self, outcome: str = "") -> int:
        query = "SELECT count(*) FROM noted WHERE outcome = ?"
        return int(self._scratch.execute(query, (outcome,)).fetchone()[0])

    def places(self, outcome: str = "") -> Iterator[tuple[str, int]]:
        """(id, queue place) of the ids noted with ``outcome`` and a place, the last first."""
        rows = self._scratch.execute(
            "SELECT id, place FROM noted WHERE outcome = ? AND place IS NOT NULL"
            " ORDER BY place DESC",
            (outcome,),
        )
        while chunk := rows.fetchmany(CHUNK):
            yield from ((str(pid), int(place)) for pid, place in chunk)


class ScratchReport(_Scratch):
    """What a long command noted of each thing it met (an outcome, and the details to
    report of it: JSON values), kept on disk to print once it is done: a fetch of a
    million papers reports every one."""

    def __init__(self) -> None:
        super().__init__(
            "CREATE TABLE noted (seq INTEGER PRIMARY KEY, outcome TEXT NOT NULL,"
            " detail TEXT NOT NULL); CREATE INDEX noted_outcome ON noted (outcome, seq);"
        )
        self._counts: dict[str, int] = {}

    def note(self, outcome: str, *detail: object) -> None:
        import json

        row = (outcome, json.dumps(detail))  # ASCII: a lone surrogate is kept too
        self._scratch.execute("INSERT INTO noted (outcome, detail) VALUES (?, ?)", row)
        self._counts[outcome] = self._counts.get(outcome, 0) + 1

    def count(self, outcome: str) -> int:
        return self._counts.get(outcome, 0)

    def noted(self, outcome: str) -> Iterator[list[Any]]:
        """The details noted with ``outcome``, in the order they were."""
        import json

        query = "SELECT detail FROM noted WHERE outcome = ? ORDER BY seq"
        rows = self._scratch.execute(query, (outcome,))
        while chunk := rows.fetchmany(CHUNK):
            yield from (json.loads(detail) for (detail,) in chunk)


class ScratchRanking(_Scratch):
    """Ranked items, kept on disk to be read best first: an unlimited inbox listing of
    100,000 items held them all (1.2 GB as JSON)."""

    def __init__(self) -> None:
        super().__init__(
            "CREATE TABLE ranked (position INTEGER PRIMARY KEY, docid INTEGER NOT NULL,"
            " score REAL NOT NULL)"
        )

    def add(self, keys: Iterable[tuple[float, int, int]]) -> None:
        """Keep (minus the score, position, docid) keys, CHUNK at a time."""
        keys = iter(keys)
        while chunk := list(islice(keys, CHUNK)):
            rows = ((position, docid, -negative) for negative, position, docid in chunk)
            self._scratch.executemany("INSERT INTO ranked VALUES (?, ?, ?)", rows)

    def chunks(self, limit: int | None = None) -> Iterator[list[tuple[int, float]]]:
        """(docid, score) best first, and by position on ties, CHUNK at a time; the first
        ``limit`` only, if given."""
        rows = self._scratch.execute(
            "SELECT docid, score FROM ranked ORDER BY score DESC, position LIMIT ?",
            (-1 if limit is None else limit,),
        )
        while chunk := rows.fetchmany(CHUNK):
            yield [(int(docid), float(score)) for docid, score in chunk]


@contextmanager
def held(ids: Iterable[str]) -> Iterator[ScratchBatch]:
    """A ScratchBatch holding ``ids`` (read to their end first) for the block: closed if
    reading them or the block fails, else left open for the caller to read and close."""
    given = ScratchBatch()
    try:
        given.add(ids)
        yield given
    except BaseException:
        given.close()
        raise
