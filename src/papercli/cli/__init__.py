"""The ``papercli`` command line: parse, make one call into the core, render.

``main`` hands the command line to the fast path (``fast``), which runs the everyday
commands without importing Typer, and to the Typer app (``app``) when the fast path
declines. Both call the same code; only the parsing differs.
"""

# Only modules the interpreter loads before any script: Ctrl-C as this module loads (the
# first milliseconds) ends in a traceback that no handler of papercli's can catch.
import codecs
import gc
import io
import os
import sys

# A command lives for a fraction of a second, and reference counting frees nearly all it
# allocates; the cycle collector's default passes (every 700 new objects, mostly during
# imports and Rich's layout) took 3-5 ms of `papercli list`. Collect rarely instead.
GC_THRESHOLD = 50_000


def main() -> None:
    """Console-script entry point."""
    try:
        _utf8_arguments()  # first: it may start papercli again, in UTF-8 mode
        gc.set_threshold(GC_THRESHOLD)
        _drop_unreadable_sizes()
        if not _open_streams():
            sys.stderr.write("error: cannot write the output: stdout is closed\n")
            sys.exit(1)  # before anything is read or changed (EXIT_USER, as a full stdout)
        _utf8_streams()
        _stop_on_signals()
        from papercli.cli import fast

        code = fast.run(sys.argv[1:])
        if code is not None:
            sys.exit(code)
        from papercli.cli.app import app

        app(prog_name="papercli")
    except OSError as exc:
        # The reader went away (``papercli --help | head -1``) or stdout is full, outside a
        # command (commands end the same way: see ``fast.run`` and ``PapercliGroup.invoke``).
        from papercli.cli import common

        if not common.is_output_failure(exc):
            raise
        sys.exit(common.report_output_failure(exc))
    except KeyboardInterrupt as exc:
        # Ctrl-C or a signal outside a command's own handling: while modules load, say, or
        # in the first milliseconds (a traceback, before 5 December).
        from papercli.errors import interruption

        said, code = interruption(exc)
        import contextlib  # here: this module loads no more than the interpreter did

        with contextlib.suppress(OSError):  # a terminal that hung up takes nothing
            sys.stderr.write(f"error: {said}\n")
        sys.exit(code)
    finally:
        # The process is about to exit and the OS frees its memory at once, so spare the
        # interpreter's last collections their walk over every object (7-12 ms). Nothing
        # depends on them: the command has closed its database and files itself.
        gc.freeze()


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP stop papercli as Ctrl-C does (``errors.Terminated``), where they
    ended it at once: a half-written export or sync file stayed beside its target. A
    second one ends it at once, as before, should the clean-up itself hang."""
    import signal

    from papercli.errors import Terminated

    stopping = [
        getattr(signal, name)
        for name in ("SIGTERM", "SIGHUP")
        # one ignored from the start stays so: `nohup papercli ...` outlives its terminal
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) == signal.SIG_DFL
    ]

    def stop(signum: int, frame: object) -> None:
        for each in stopping:
            signal.signal(each, signal.SIG_DFL)
        raise Terminated(signum, signal.Signals(signum).name)

    for each in stopping:
        signal.signal(each, stop)


def _open_streams() -> bool:
    """Whether stdout is open. A closed stdin reads as empty and a closed stderr takes
    nothing; each closed one is opened on the null device, which keeps a file papercli
    opens later from taking its descriptor (and a stray write from landing in the file).
    Python had left them None: `papercli list >&-` and `tag - +x <&-` ended in a traceback."""
    was_open = sys.stdout is not None
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:  # lowest descriptor first: each takes its own
            setattr(sys, name, open(os.devnull, mode, encoding="utf-8"))  # noqa: SIM115
    return was_open


def _utf8_streams() -> None:
    """Read stdin and write to pipes and files in UTF-8, whatever the locale: every format
    papercli writes (BibTeX, JSON, CSV, RIS) is UTF-8, as is what it reads from stdin. A
    narrower encoding (Windows' code page when output is redirected,
    ``PYTHONIOENCODING=ascii``) ended ``export > refs.bib`` in a traceback at the first
    ``ğ``, and refused UTF-8 on stdin as not UTF-8. A terminal keeps its encoding, and
    shows a character it cannot as an escape (``\\u011f``) rather than failing."""
    stdin, stdout = sys.stdin, sys.stdout
    if isinstance(stdin, io.TextIOWrapper) and not _is_utf8(stdin.encoding):
        stdin.reconfigure(encoding="utf-8", errors=stdin.errors)
    if isinstance(stdout, io.TextIOWrapper) and not _is_utf8(stdout.encoding):
        if stdout.isatty():
            stdout.reconfigure(errors="backslashreplace")
        else:
            stdout.reconfigure(encoding="utf-8", errors=stdout.errors)


def _utf8_arguments() -> None:
    """Read the command line, and name files, in UTF-8 whatever the locale: in the C locale
    with UTF-8 mode off (``PYTHONUTF8=0 LC_ALL=C``) Python decodes the arguments as ASCII,
    their other bytes kept as surrogates (``list --search 研究`` was refused as "not valid
    UTF-8"), and encodes file names so too (arguments read again as UTF-8 then failed as
    paths, in a traceback). Only then, and only for a command line with such bytes, papercli
    starts again in UTF-8 mode (``-X utf8``), where both are UTF-8."""
    if _is_utf8(sys.getfilesystemencoding()) or sys.flags.utf8_mode:
        return
    if all(argument.isascii() for argument in sys.argv[1:]):
        return
    os.execv(sys.executable, [sys.executable, "-X", "utf8", *sys.orig_argv[1:]])


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _drop_unreadable_sizes() -> None:
    """Forget a terminal size in ``$COLUMNS`` or ``$LINES`` that is not a number in ASCII
    digits: Rich (and the help's width) read them with ``int``, and ``COLUMNS=²`` ended
    shell completion and the progress bar in a traceback. The terminal is asked instead."""
    for name in ("COLUMNS", "LINES"):
        value = os.environ.get(name)
        if value is not None and not (value.isascii() and value.isdigit()):
            del os.environ[name]
