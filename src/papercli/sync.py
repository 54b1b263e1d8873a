"""Sync through a folder the user already shares (Syncthing, Dropbox, iCloud, a USB stick,
a git repository): each device appends its changes, as events, to its own file there,
and reads everyone else's. No terminal here; git is in gitsync.py.

Every file has one writer, so file-sync tools never see a conflict. A device applies
another's events in any order, any number of times, with the same result: each register
keeps the event with the latest clock (ties to the larger device id). A line is applied
only once it is whole (a file copied mid-write ends in half a line, read later), and is
checked like an import first: a bad line is skipped and counted, nothing else affected.
A file from a newer papercli is skipped whole and reported. Everything read in one sync
is applied in one transaction.
"""

from __future__ import annotations

import functools
import glob
import os
import socket
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from itertools import chain, islice
from pathlib import Path

from papercli import TYPE_CHECKING, events, paths
from papercli.errors import DatabaseError, InvalidValueError, PapercliError
from papercli.files import locked_file, write_atomic_pieces
from papercli.records import datarecord, field
from papercli.store import changes, library
from papercli.store import sync as stored
from papercli.store.base import transaction
from papercli.store.connection import database_file
from papercli.store.search import deferred_documents

if TYPE_CHECKING:
    from typing import BinaryIO, ParamSpec, TypeVar

    _P = ParamSpec("_P")
    _T = TypeVar("_T")

FOLDER = "papercli"  # the subfolder of DIR that holds every device's file
DIR_ENV = "PAPERCLI_SYNC_DIR"
CHUNK = 1000  # lines read, applied or appended together (5,000 held 60 MB more, no faster)


@datarecord
class Problem:
    """What was wrong with a device's file, said once with how many lines it hit."""

    device: str
    reason: str
    lines: int = 1


@datarecord
class SyncSummary:
    device: str
    name: str
    folder: Path
    first: int = 0  # events made from the state already here, on the first sync
    written: int = 0
    read: int = 0
    applied: int = 0  # events that changed something here (the others were older)
    taken_back: int = 0  # this device's own, from its file, newer than this database
    devices: int = 0
    skipped: list[Problem] = field(default_factory=list)
    newer: list[str] = field(default_factory=list)  # devices whose files are a newer format
    conflicts: list[str] = field(default_factory=list)
    # Devices heard from through another folder whose files this one lacks (a new folder):
    # their changes, and those they passed on, reach it only when they sync here too.
    left_behind: list[str] = field(default_factory=list)
    # `sync --git`: the user's files git could not put back after its pull (they conflict)
    unmerged: list[str] = field(default_factory=list)


def _said_in_one_line(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """A folder or file of the sync that papercli may not read or write (its permissions,
    a mount gone) is named in one line (exit 1), not a traceback."""

    @functools.wraps(function)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return function(*args, **kwargs)
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else " the sync folder"
            raise PapercliError(f"cannot use{where}: {exc.strerror or exc}") from None

    return checked


@_said_in_one_line
def sync_folder(conn: sqlite3.Connection, given: str | None) -> Path:
    """The folder to sync through: given, else $PAPERCLI_SYNC_DIR, else the last one. An
    empty name given (a script's empty variable) is refused: it synced the last folder."""
    if given is not None and not given.strip():
        raise InvalidValueError(
            "an empty folder name names no folder; give one, e.g. papercli sync ~/Sync/papers"
        )
    value = given or os.environ.get(DIR_ENV) or stored.meta(conn, "sync_dir")
    if not value:
        raise InvalidValueError(
            f"say which folder to sync through: papercli sync DIR (or set {DIR_ENV})"
        )
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise InvalidValueError(f"{folder} is not a folder; sync needs one that exists")
    return folder.resolve()


@contextmanager
def one_at_a_time(conn: sqlite3.Connection) -> Iterator[None]:
    """Refuse a second sync of this library while one runs (a cron job beside the user):
    both would append the same events to this device's file, a replaced file could take
    the other's appends with it, and two first syncs would each make a device. The lock
    file is the database's, hidden beside it, however its path is spelt: in the user cache
    folder, it did not hold for a sync whose environment named another (a cron job,
    sudo). Where no file can be made beside the database, the cache folder holds it."""
    try:
        where = os.path.realpath(database_file(conn))
        info = os.stat(where)
    except OSError:  # in memory: no other process can have it
        yield
        return
    folder, name = os.path.split(where)
    with ExitStack() as held:
        try:
            beside = os.path.join(folder, f".{name}.sync-lock")
            if held.enter_context(locked_file(beside, wait=False)) is None:
                # Only then the cache folder (platformdirs' import, the folder made).
                cached = paths.cache_file(f"sync-{info.st_dev}-{info.st_ino}.lock")
                held.enter_context(locked_file(cached, wait=False))
        except BlockingIOError:
            raise DatabaseError(
                "another sync of this library is running; try again when it is done"
            ) from None
        yield


def own_device(conn: sqlite3.Connection, name: str | None) -> tuple[str, str, int]:
    """This device's id and name, made on the first sync, which also turns what is already
    here into events (dated by when each thing last changed): how many, the third."""
    device = stored.device_id(conn)
    first = 0
    with transaction(conn):
        if device is None:
            device = events.new_device_id()
            stored.set_meta(conn, "sync_device", device)
            stored.set_meta(conn, "sync_device_name", name or _host_name())
            stored.settle_queue_keys(conn)
            first = _backfill(conn, device)
            stored.emit(conn, device, [("device", device)], stored.next_clock(conn))
        elif name and name != stored.meta(conn, "sync_device_name"):
            stored.set_meta(conn, "sync_device_name", name)
            stored.emit(conn, device, [("device", device)], stored.next_clock(conn))
    return device, stored.meta(conn, "sync_device_name") or device[:8], first


def _host_name() -> str:
    name = "".join(c for c in socket.gethostname() if c.isprintable())[:60]
    return name or "this device"


def _backfill(conn: sqlite3.Connection, device: str) -> int:
    """An event for every register that holds something, and for every one a command here
    emptied (else the first sync brought back what was taken away here from a device that
    still had it), with the clock of its time, but none after now: a time ahead of the
    clock (a note or history an import brought from a machine whose clock ran ahead) dated
    its event years on, and every device that read it set its clock that far, so a change
    made later lost to one made earlier until then."""
    now = stored.next_clock(conn)
    stored.set_meta(conn, stored.BACKFILLED_AT, now)
    # Read as they are written, not held; then what commands here took away.
    registers = chain(stored.all_registers(conn), stored.emptied_registers(conn))
    return stored.emit_each(
        conn,
        device,
        ((kind, key, min(events.hlc_of_time(at), now)) for kind, key, at in registers),
    )


def sync(conn: sqlite3.Connection, folder: Path, *, name: str | None = None) -> SyncSummary:
    """Write this device's new events to its file in ``folder``, then read and apply
    every other device's."""
    before = stored.meta(conn, "sync_dir")
    summary = write(conn, folder, name=name)
    read(conn, folder, summary)
    if before is not None and before != str(folder):
        summary.left_behind = _absent_peers(conn, folder)
    return summary


def _absent_peers(conn: sqlite3.Connection, folder: Path) -> list[str]:
    """The names of the devices heard from before whose files ``folder`` lacks: each
    machine's file holds only its own changes, so a new folder, unlike one moved whole,
    leaves the others apart until they sync there too."""
    return sorted(
        str(peer["name"] or device[:8])
        for device, peer in stored.peers(conn).items()
        if not (folder / FOLDER / f"{device}.jsonl").exists()
    )


@_said_in_one_line
def write(conn: sqlite3.Connection, folder: Path, *, name: str | None = None) -> SyncSummary:
    """Append this device's events not yet written to its own file (fsynced), after
    taking back the events of its own that the file holds after what this database wrote
    (a database restored from a backup is older than its file: they are its history)."""
    device, device_name, first = own_device(conn, name)
    summary = SyncSummary(device, device_name, folder, first=first)
    own = own_file(folder, device)
    _remove_stale_copies(own)
    written_seq = int(stored.meta(conn, "sync_written_seq") or 0)
    written_bytes = int(stored.meta(conn, "sync_written_bytes") or 0)
    file = stored.meta(conn, "sync_written_file")
    size = _regular_size(own)
    # The file is known by its header (this device's, with the id this database wrote),
    # not by the folder's path: a folder mounted elsewhere (a USB stick) was written whole
    # again from a restored backup's outbox, and the events made after the backup were lost.
    # A file of this device's that is not the one it wrote last (back from another folder)
    # is read back, then written whole: appended to from where the other one ended, it
    # missed the events written there alone.
    found = _file_id(own, device) if size > 0 else _NOT_OURS
    other_file = found is not _NOT_OURS and found != file
    if other_file:
        _take_back(conn, own, device, _Reading(0, file=file), summary)
    whole = found is _NOT_OURS or other_file or size < written_bytes
    # Remembered as the last event written, not the outbox's end: a command run here
    # meanwhile adds events that this sync does not write.
    start = 0 if whole else written_seq
    # Closed here, not when collected after the database is (Ctrl-C as it writes printed
    # "Exception ignored ... Cannot operate on a closed database").
    with closing(stored.outbox_after(conn, start)) as rows:
        outbox = _Taken(rows, start)
        if whole:
            # A new folder, or the file was removed, cut or is not this device's: write it
            # whole again, under a new id. Streamed from the outbox, in bounded memory however
            # many events it holds.
            file = new = events.new_file_id()

            def pieces() -> Iterator[str]:
                yield events.header_line(device, new) + "\n"
                for _, line in outbox:
                    summary.written += 1
                    yield line + "\n"

            write_atomic_pieces(own, pieces())
            size = own.stat().st_size
        else:
            # The file this database wrote, maybe written on since (by this device before a
            # backup was restored), or written whole since (then all of it is read back).
            taken = _Reading(written_bytes if found == file else 0, file=file)
            if taken.offset < size:
                _take_back(conn, own, device, taken, summary)
            if taken.offset < size:
                # Half an event after the last whole line: an append cut short where nothing
                # could cut it back (kill -9, a power cut). Appended to, it would swallow the
                # next event; its own event is still to be written, as it never was.
                _cut_back(own, taken.offset)
                size = taken.offset
            file = taken.file
            size = _append(own, size, summary, outbox)
        with transaction(conn):
            stored.set_meta(conn, "sync_written_seq", str(outbox.last))
            stored.set_meta(conn, "sync_written_bytes", str(size))
            stored.set_meta(conn, "sync_dir", str(folder))
            if file is not None:
                stored.set_meta(conn, "sync_written_file", file)
    return summary


STALE_COPY_SECONDS = 3600


def _remove_stale_copies(own: Path) -> None:
    """Delete this device's half-written copies of its file (``.<file>.<random>.tmp``) an
    hour old: left by a sync killed as it wrote its file whole (kill -9, a power cut), one
    as large as the file went to every machine the folder syncs to, for good. A younger one
    may be another copy of this database's sync under way."""
    cutoff = time.time() - STALE_COPY_SECONDS
    for copy in own.parent.glob(f".{glob.escape(own.name)}.*.tmp"):
        with suppress(OSError):
            info = copy.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                copy.unlink()


class _NotOurs:
    """No file of this device's that can be appended to: none, or another's, or broken."""


_NOT_OURS = _NotOurs()


def _file_id(path: Path, device: str) -> str | _NotOurs | None:
    """The id in the header of ``device``'s file (None in a file written before ids)."""
    with path.open("rb") as handle:
        line = handle.readline(4096)
    try:
        return events.read_header(line, device) if line.endswith(b"\n") else _NOT_OURS
    except (ValueError, events.NewerFormat):
        return _NOT_OURS


def _take_back(
    conn: sqlite3.Connection, own: Path, device: str, taken: _Reading, summary: SyncSummary
) -> None:
    """Apply this device's own events from its file, after ``taken.offset``, as another
    device's are applied: the newer win."""
    with transaction(conn), deferred_documents(conn):
        applied, queued, removed = _apply_file(conn, own, device, taken, summary)
        _settle(conn, applied, queued, removed)
    summary.taken_back = applied


class _Taken:
    """Events from the outbox, with the seq of the last one taken."""

    def __init__(self, rows: Iterator[tuple[int, str]], last: int) -> None:
        self.rows, self.last = rows, last

    def __iter__(self) -> _Taken:
        return self

    def __next__(self) -> tuple[int, str]:
        seq, line = next(self.rows)
        self.last = seq
        return seq, line


def _append(own: Path, size: int, summary: SyncSummary, new: Iterator[tuple[int, str]]) -> int:
    """Append the new events to this device's file (fsynced), a chunk at a time (a command
    may leave a million), and return its new size. A write that fails (a full disk) or is
    interrupted is cut off again, so that no other device finds half an event at its end;
    the next sync appends those events again."""
    chunk = list(islice(new, CHUNK))
    if not chunk:
        return size
    start = size
    try:
        with open(own, "ab") as handle:
            while chunk:
                body = "".join(line + "\n" for _, line in chunk).encode()
                handle.write(body)
                summary.written += len(chunk)
                size += len(body)
                chunk = list(islice(new, CHUNK))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        with suppress(OSError):
            os.truncate(own, start)
        if isinstance(exc, OSError):
            raise InvalidValueError(f"cannot write {own}: {exc.strerror}") from None
        raise
    return size


def _cut_back(own: Path, size: int) -> None:
    try:
        os.truncate(own, size)
    except OSError as exc:
        raise InvalidValueError(f"cannot write {own}: {exc.strerror}") from None


def own_file(folder: Path, device: str) -> Path:
    directory = folder / FOLDER
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise PapercliError(f"{directory} is not a folder papercli can write its file in")
    directory.mkdir(exist_ok=True)
    return directory / f"{device}.jsonl"


def _regular_size(path: Path) -> int:
    """The size of this device's file; -1 if there is none; an error if it is not a file."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return -1
    if not stat.S_ISREG(info.st_mode):
        raise PapercliError(f"{path} is not a regular file; papercli will not write to it")
    return info.st_size


@_said_in_one_line
def read(conn: sqlite3.Connection, folder: Path, summary: SyncSummary) -> None:
    """Apply every other device's new events, in one transaction."""
    directory = folder / FOLDER
    files = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    known = stored.peers(conn)
    now = library.clock()
    others = [p for p in files if p.stem != summary.device and _is_device(p.stem)]
    summary.devices = 0  # set, not added: a git sync may read twice
    with transaction(conn), deferred_documents(conn):  # a paper's notes: built once
        applied_before = summary.applied  # a git sync reads twice
        queue_touched = papers_removed = False
        for path in others:
            device = path.stem
            peer = known.get(device, {})
            reading = _Reading(peer.get("read_bytes", 0), file=peer.get("file"))
            try:
                size = path.stat().st_size
                if not path.is_file():
                    continue  # a folder or FIFO of that name is no device's file
                if reading.offset and (
                    size < reading.offset or _file_id(path, device) != reading.file
                ):
                    reading = _Reading(0)  # the file was replaced: read it again (idempotent)
                with path.open("rb"):
                    pass  # readable: else said below, not found in the middle of reading
            except OSError as exc:
                summary.skipped.append(Problem(device, f"cannot read it: {exc.strerror}", 0))
                continue
            summary.devices += 1
            applied, queued, removed = _apply_file(conn, path, device, reading, summary)
            summary.applied += applied
            queue_touched |= queued
            papers_removed |= removed
            if reading.skip:
                continue
            summary.read += reading.count
            stored.save_peer(
                conn, device, reading.offset, reading.count, reading.last, now, reading.file
            )
        _settle(conn, summary.applied - applied_before, queue_touched, papers_removed)


def _apply_file(
    conn: sqlite3.Connection, path: Path, device: str, reading: _Reading, summary: SyncSummary
) -> tuple[int, bool, bool]:
    """Apply the events of ``device``'s file after ``reading.offset``, a chunk at a time;
    (how many changed something here, the queue changed, a paper removed)."""
    total, queue_touched, papers_removed = 0, False, False
    for chunk in _read_file(path, device, reading, summary):
        applied, queued, removed = _apply(conn, chunk, summary)
        total += applied
        queue_touched |= queued
        papers_removed |= removed
    return total, queue_touched, papers_removed


def _settle(conn: sqlite3.Connection, applied: int, queued: bool, removed: bool) -> None:
    """After applying events: redo would write over them; no paper read since it was
    queued stays queued; the queue numbered once."""
    if applied:
        changes.forget_redo(conn)
        removed |= stored.dequeue_read(conn)
    if queued:
        stored.order_queue_by_keys(conn)
    elif removed:  # renumbered once: for each paper removed, it was quadratic
        changes.renumber_queue(conn)


def _is_device(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


@datarecord
class _Reading:
    """How far a device's file is read: the end of its last whole line, the events found
    and the latest clock among them; ``skip`` for a file not to apply at all."""

    offset: int
    count: int = 0
    last: str | None = None
    skip: bool = False
    file: str | None = None  # the id in the file's header


def _read_file(
    path: Path, device: str, reading: _Reading, summary: SyncSummary
) -> Iterator[list[events.Event]]:
    """The events of the whole lines after ``reading.offset``, CHUNK at a time as they
    are read (a device's file may hold millions; held whole, 310 MB took 1.6 GB), with
    ``reading`` kept up to date. A file to skip whole says so in its first line, before
    any event."""
    found: list[events.Event] = []
    problems: dict[str, Problem] = {}
    with open(path, "rb") as handle:
        handle.seek(reading.offset)
        while line := handle.readline(LONGEST_LINE):
            if len(line) == LONGEST_LINE and not line.endswith(b"\n"):
                skipped = _past_line_end(handle)
                if skipped is None:
                    break  # its end has not arrived yet
                reading.offset += len(line) + skipped
                too_long = f"a line longer than {LONGEST_LINE:,} bytes"
                problems.setdefault(too_long, Problem(device, too_long, 0)).lines += 1
                continue
            if not line.endswith(b"\n"):
                break  # half a line: the rest of it has not arrived yet
            if reading.offset == 0:
                try:
                    reading.file = events.read_header(line, device)
                except events.NewerFormat:
                    summary.newer.append(device)
                    reading.skip = True
                    return
                except ValueError as exc:
                    summary.skipped.append(Problem(device, f"not a papercli sync file: {exc}"))
                    reading.skip = True
                    return
                reading.offset += len(line)
                continue
            reading.offset += len(line)
            try:
                event = events.read_event(line.rstrip(b"\r\n"), device)
            except ValueError as exc:
                problem = problems.setdefault(str(exc), Problem(device, str(exc), 0))
                problem.lines += 1
                continue
            found.append(event)
            reading.count += 1
            reading.last = max(reading.last or "", event.hlc)
            if len(found) == CHUNK:
                yield found
                found = []
    if found:
        yield found
    summary.skipped += problems.values()


LONGEST_LINE = 256 << 20
"""Bytes in an event's line: more than any event holds (each text at most a million
characters). A longer line (a file of zeros, say) is skipped a piece at a time, not held:
it was read whole, however long."""


def _past_line_end(handle: BinaryIO) -> int | None:
    """Read on to the end of the line, a piece at a time: how many bytes that took, or
    None when the file ends first."""
    skipped = 0
    while piece := handle.readline(LONGEST_LINE):
        skipped += len(piece)
        if piece.endswith(b"\n"):
            return skipped
    return None


def _apply(
    conn: sqlite3.Connection, chunk: list[events.Event], summary: SyncSummary
) -> tuple[int, bool, bool]:
    """Apply the events newer than what each register holds; (how many, queue changed,
    a paper removed)."""
    current = stored.winners(conn, [(e.kind, e.key) for e in chunk])
    applied = 0
    queued = removed = False
    won: dict[tuple[str, str], tuple[str, str]] = {}
    lost = []  # events made before one of this device's that reached here after it
    own = stored.device_id(conn)
    writer = stored.RegisterWriter(conn)
    for event in sorted(chunk, key=lambda e: (e.hlc, e.device)):
        register = (event.kind, event.key)
        best = won.get(register) or current.get(register)
        if best is not None and (event.hlc, event.device) <= best:
            if best[1] == own != event.device and event.kind in stored.SHADOWED:
                lost.append((*register, event.hlc, event.device, event.value))
            continue
        queued |= event.kind == "queue"
        conflict = writer.write(event.kind, event.key, event.value)
        if conflict:
            summary.conflicts.append(conflict)
        won[register] = (event.hlc, event.device)
        applied += 1
        removed |= event.kind == "paper" and event.value is None
    writer.flush()
    stored.shadow(conn, lost)
    queued |= writer.queue_changed  # a paper arrived for a queue place that waited for it
    if won:  # the latest clock applied
        stored.saw_clock(conn, max(hlc for hlc, _ in won.values()))
    stored.set_winners(conn, ((k, key, h, d) for (k, key), (h, d) in won.items()))
    return applied, queued, removed


@datarecord
class DeviceStatus:
    device: str
    name: str | None
    last_event: str | None  # when its latest event was made, UTC
    events: int  # events read from it
    unread_lines: int  # whole lines in its file not read yet


@datarecord
class SyncStatus:
    device: str | None
    name: str | None
    folder: Path | None
    unwritten: int
    devices: list[DeviceStatus] = field(default_factory=list)


@_said_in_one_line
def status(conn: sqlite3.Connection, given: str | None) -> SyncStatus:
    """This device, the devices it knows, and what is still to write or to read."""
    device = stored.device_id(conn)
    try:
        folder: Path | None = sync_folder(conn, given)
    except InvalidValueError:
        if given is not None:
            raise
        folder = None
    written = int(stored.meta(conn, "sync_written_seq") or 0)
    result = SyncStatus(
        device, stored.meta(conn, "sync_device_name"), folder, stored.outbox_size(conn) - written
    )
    known = stored.peers(conn)
    names = set(known)
    if folder is not None and (folder / FOLDER).is_dir():
        names |= {
            p.stem for p in (folder / FOLDER).glob("*.jsonl") if _is_device(p.stem) and p.is_file()
        }
    for peer in sorted(names - {device}):
        info = known.get(peer, {})
        unread = 0
        if folder is not None:
            path = folder / FOLDER / f"{peer}.jsonl"
            if path.is_file():
                with open(path, "rb") as handle:
                    handle.seek(info.get("read_bytes", 0))
                    # Counted a MiB at a time: read by lines, a file of 2 GB without a line
                    # break took 4 GB.
                    pieces = iter(lambda: handle.read(1 << 20), b"")
                    unread = sum(piece.count(b"\n") for piece in pieces)
                if not info.get("read_bytes"):
                    unread = max(0, unread - 1)  # the header line
        last = info.get("last_hlc")
        result.devices.append(
            DeviceStatus(
                peer,
                info.get("name"),
                events.hlc_time(last) if last else None,
                int(info.get("events", 0)),
                unread,
            )
        )
    return result
