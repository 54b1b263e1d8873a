"""What reaches the terminal: Rich's layout or plain text, colour, the width to fit, the
pager, and the progress bar of a long fetch.

At a terminal, output is laid out for people (Rich tables fitted to the width) and goes
through a pager when it is longer than the screen; piped, it is plain text and never
paged. Colour is a choice of its own, as in gh and git: ``--color``, else ``NO_COLOR``,
else ``FORCE_COLOR``, else whether stdout is a terminal. Turning it off keeps the layout;
forcing it on gives a pipe the terminal's output, colour included (for ``less -R``), but
never the pager.

Cheap to import: the everyday commands load it when piped, so subprocess, shlex and rich
wait until a terminal needs them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum

from papercli import TYPE_CHECKING, textlayout
from papercli.errors import Terminated

if TYPE_CHECKING:
    import subprocess
    from typing import TextIO

    from rich.console import RenderableType


class ColorMode(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


_color_mode = ColorMode.AUTO


def set_color_mode(mode: ColorMode) -> None:
    """Take this command's ``--color``, before it prints anything."""
    global _color_mode
    _color_mode = mode


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def color() -> bool:
    """Whether output gets colour: ``--color``, else ``NO_COLOR`` (off), else
    ``FORCE_COLOR`` (on), else only at a terminal. Empty variables count as unset."""
    if _color_mode is not ColorMode.AUTO:
        return _color_mode is ColorMode.ALWAYS
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or stdout_is_terminal()


def rich_layout() -> bool:
    """Whether output is laid out for a person (Rich tables and panels): at a terminal,
    or wherever colour is forced on."""
    return stdout_is_terminal() or color()


def size(fallback: tuple[int, int] = (80, 24)) -> os.terminal_size:
    """``$COLUMNS`` and ``$LINES``, else the terminal's size, else ``fallback``: what
    shutil.get_terminal_size does, without importing shutil (~1.5 ms) at every start."""
    columns, lines = (_env_int("COLUMNS"), _env_int("LINES"))
    if not (columns and lines):
        try:
            measured = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            measured = os.terminal_size(fallback)
        if measured.columns <= 0 or measured.lines <= 0:
            measured = os.terminal_size(fallback)
        columns, lines = columns or measured.columns, lines or measured.lines
    return os.terminal_size((columns, lines))


def _env_int(name: str) -> int:
    try:
        return max(int(os.environ.get(name, "")), 0)
    except ValueError:
        return 0


def width() -> int:
    """The columns text for people fits in: ``$COLUMNS``, else the terminal's, else 80."""
    return size().columns


def print_rich(renderable: RenderableType) -> None:
    """Print a Rich table or panel at ``width()``, in colour only if ``color()``."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """Rich's own ends the command with exit 1 when the reader has gone: papercli
            ends it as for any output, in silence with 0 (``common.report_output_failure``)."""
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    colour = color()
    screen = size()
    console = _Console(
        file=sys.stdout,
        width=screen.columns,
        height=screen.lines,  # with the width, so that TERM=dumb does not force 80 columns
        force_terminal=colour,
        color_system="auto" if colour else None,
        no_color=not colour,
        # No ":name:" emoji codes: they would change text, and their table (3,600 names)
        # costs 5 to 13 ms to import the first time a plain string is printed.
        emoji=False,
    )
    console.print(renderable)


DEFAULT_PAGER = "less -FRX"

PAGED_COMMANDS = frozenset(
    {
        "list",
        "search",
        "show",
        "next",
        "history",
        "path",
        "related",
        "note",
        "notes",
        "stats",
        "orgs",
        "topics",
        "authors",
        "tags",
        "export",
    }
)
"""The commands whose output is there to be read, paged when long. Not those that ask a
question or report progress (their output must show at once); `queue` is paged by its
listing (``views.show_queue``), not by `queue add`, which may ask."""


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr when a person watches it; otherwise nothing. Yields
    ``advance(done, of)``."""
    if not sys.stderr.isatty():
        yield lambda done, of: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done, of: progress.update(task, completed=done, total=of)


def pager_command() -> list[str] | None:
    """The pager to run, as git and gh choose it: ``$PAPERCLI_PAGER``, else ``$PAGER``,
    else ``less -FRX``; None when that is empty or ``cat``, or cannot be split into
    words (said on stderr)."""
    import shlex

    text = os.environ.get("PAPERCLI_PAGER", os.environ.get("PAGER", DEFAULT_PAGER))
    try:
        words = shlex.split(text)
    except ValueError as exc:  # an open quote
        _warn(f"cannot run the pager {text!r}: {exc}")
        return None
    return None if words in ([], ["cat"]) else words


def hold_output() -> HeldOutput | None:
    """At a terminal with a pager to use, hold back stdout until it is known to be longer
    than the screen (then it goes to the pager) or complete (then to the terminal).
    ``HeldOutput.finish`` ends it. None, changing nothing, anywhere else."""
    if not stdout_is_terminal():
        return None
    command = pager_command()
    if command is None:
        return None
    screen = size()
    held = HeldOutput(sys.stdout, command, screen.lines, screen.columns)
    sys.stdout = held
    return held


# What Rich adds to a line that takes no room on the screen: colour and style codes.
# (Data never holds escapes: textlayout.printable shows them as text.)
STYLE_CODES = "\x1b\\[[0-9;]*m"


def screen_lines(text: str, columns: int) -> int:
    """How many lines of a terminal ``columns`` wide ``text`` fills: a line longer than
    the width wraps onto the next; a last line without a newline counts too."""
    lines = re.sub(STYLE_CODES, "", text).split("\n")
    if lines[-1] == "":
        lines.pop()
    return sum(max(1, -(-len(line) // columns)) for line in lines)


class HeldOutput:
    """Stands in for stdout at a terminal: holds the text back while it fits the screen;
    once it is longer than ``height`` lines, starts the pager and streams the rest to it.
    Each write is flushed to the pager, so quitting the pager early ends the command
    quietly (a closed pipe), however long its output."""

    def __init__(self, terminal: TextIO, command: list[str], height: int, columns: int):
        self.terminal = terminal
        self.command = command
        self.height = height
        self.columns = columns
        self.held: list[str] = []
        self.pager: subprocess.Popen[bytes] | None = None
        self.direct = False  # the pager could not start: print directly

    @property
    def encoding(self) -> str:
        return self.terminal.encoding

    @property
    def errors(self) -> str | None:
        return self.terminal.errors

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.terminal.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # Click probes for a binary stream this way
            raise TypeError("HeldOutput takes text")
        if self.pager is not None:
            self._send(text)
        elif self.direct:
            self.terminal.write(text)
        else:
            self.held.append(text)
            if screen_lines("".join(self.held), self.columns) > self.height:
                self._start_pager()
        return len(text)

    def flush(self) -> None:
        if self.direct:
            self.terminal.flush()

    def _send(self, text: str) -> None:
        assert self.pager is not None and self.pager.stdin is not None
        self.pager.stdin.write(text.encode(self.encoding, self.errors or "strict"))
        self.pager.stdin.flush()

    def _start_pager(self) -> None:
        import subprocess

        # As git does: less and lv get the options that pass colour through and quit at
        # the end of a short text, unless the user set their own.
        env = {"LESS": "FRX", "LV": "-c", **os.environ}
        text, self.held = "".join(self.held), []
        try:
            self.pager = subprocess.Popen(self.command, stdin=subprocess.PIPE, env=env)
        except OSError as exc:
            _warn(f"cannot run the pager {self.command[0]!r}: {exc.strerror}")
            self.direct = True
            self.write(text)
            return
        self._send(text)

    def finish(self) -> None:
        """Put stdout back; print what was held, or close the pager's input and wait
        until the user quits it (Ctrl-C belongs to the pager meanwhile, as in git)."""
        sys.stdout = self.terminal
        if self.pager is None:
            self.terminal.write("".join(self.held))
            self.terminal.flush()
            return
        assert self.pager.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # the user quit the pager before the end
            self.pager.stdin.close()
        while True:
            try:
                status = self.pager.wait()
                break
            except Terminated:  # papercli itself was asked to stop: so is its pager
                self.pager.terminate()
                raise
            except KeyboardInterrupt:
                continue
        if status != 0:  # it ran and failed (PAGER=false) or was killed: output may be lost
            import signal

            how = f"exit status {status}" if status > 0 else signal.Signals(-status).name
            _say(
                f"warning: the pager {self.command[0]!r} failed ({how});"
                " --no-pager or PAPERCLI_PAGER= prints without one"
            )


def _warn(message: str) -> None:
    _say(f"warning: {message}; printing directly")


def _say(line: str) -> None:
    sys.stderr.write(textlayout.printable(line) + "\n")
    sys.stderr.flush()
