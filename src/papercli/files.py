"""Writing the user's files so that a failure never leaves half a file behind."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from papercli.errors import InvalidValueError

# What to call a file that must not be replaced, by the kind ``os.lstat`` reports.
_SPECIAL_KINDS = (
    (stat.S_ISLNK, "a symlink"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def output_path(given: str, example: str = "papers.bib") -> Path:
    """The file to write that the user named: refused when the name ends in a slash
    (``new/``), which names a directory and which ``Path`` would drop."""
    if not given:
        raise InvalidValueError(f"an empty file name names no file; give one, e.g. {example}")
    if os.path.basename(given) in ("", "."):
        raise InvalidValueError(f"cannot write {given}: it names a directory; give a file name")
    return Path(given)


def free_name(path: Path) -> Path:
    """``path``, else the first of ``NAME-2.EXT``, ``NAME-3.EXT``... that names nothing:
    a default name made from the time (``db backup`` run twice in one second) must not
    replace the file the first run wrote."""
    candidate, number = path, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def check_target(path: Path) -> int:
    """Check that ``path`` may be replaced by renaming a new file onto it, and return the
    permission bits the new file should have.

    Only a writable regular file (or nothing) is replaced: a rename would swap a symlink
    or a device for a plain file and silently break what it stood for. The file keeps its
    old bits; a new file gets what ``>`` would give it. ``lstat`` never opens the path, so
    a FIFO cannot block us.
    """
    directory = path.parent
    try:
        in_a_directory = stat.S_ISDIR(os.stat(directory).st_mode)
    except FileNotFoundError:
        raise InvalidValueError(
            f"cannot write {path}: directory {directory} does not exist"
        ) from None
    except OSError as exc:  # a path through a file, a loop of links
        raise InvalidValueError(f"cannot write {path}: {exc.strerror}") from None
    if not in_a_directory:
        raise InvalidValueError(f"cannot write {path}: {directory} is not a directory")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        umask = os.umask(0o022)  # the only way to read the umask is to set it
        os.umask(umask)
        return 0o666 & ~umask
    except OSError as exc:
        raise InvalidValueError(f"cannot write {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for is_kind, name in _SPECIAL_KINDS if is_kind(info.st_mode)), None)
        raise InvalidValueError(
            f"refusing to replace {path}: it is {kind or 'a special file'}, not a regular file"
        )
    # The mode bits, not os.access: root may write anything, yet should be refused alike.
    if not info.st_mode & 0o222:
        raise InvalidValueError(
            f"{path} is read-only; make it writable (chmod u+w) or choose another file name"
        )
    return info.st_mode & 0o777


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place.

    The old file, if any, stays intact until the new one is complete.
    """
    write_atomic_pieces(path, [text])


def write_atomic_pieces(path: Path, pieces: Iterable[str]) -> None:
    """``write_atomic`` of the text ``pieces`` make, each written as it comes: an export
    of any size never holds its whole text. A failure while the pieces are made (or
    written) leaves no new file and the old one as it was."""
    mode = check_target(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InvalidValueError(f"cannot write {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            os.fchmod(handle.fileno(), mode)
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise InvalidValueError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def locked_file(path: str | None, *, wait: bool) -> Iterator[int | None]:
    """The open file at ``path`` (made if missing), held under its lock (``flock``) for the
    block; without ``wait``, BlockingIOError when another process holds it. None, and no
    lock, where the file cannot serve: no ``flock`` (Windows), no path, not a regular
    file, a file system without locks. The lock goes with the process, so a crash or
    Ctrl-C leaves none."""
    try:
        import fcntl
    except ImportError:
        yield None
        return
    try:
        # O_NONBLOCK: a FIFO put there does not hang the open; it is then left alone.
        fd = -1 if path is None else os.open(path, _LOCK_FLAGS, 0o600)
    except OSError:
        fd = -1
    try:
        if fd < 0 or not stat.S_ISREG(os.fstat(fd).st_mode):
            yield None
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise
        except OSError:
            yield None
            return
        yield fd
    finally:
        if fd >= 0:
            os.close(fd)  # and with it the lock


_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
