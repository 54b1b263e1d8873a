"""The ``papercli`` command line: parse, make one call into the core, render.

``main`` hands the command line to the fast path (``fast``), which runs the everyday
commands without importing Typer, and to the Typer app (``app``) when the fast path
declines. Both call the same code; only the parsing differs.
"""

import gc
import os
import sys

# A command lives for a fraction of a second, and reference counting frees nearly all it
# allocates; the cycle collector's default passes (every 700 new objects, mostly during
# imports and Rich's layout) took 3-5 ms of `papercli list`. Collect rarely instead.
GC_THRESHOLD = 50_000


def main() -> None:
    """Console-script entry point."""
    gc.set_threshold(GC_THRESHOLD)
    _drop_unreadable_sizes()
    from papercli.cli import common, fast

    try:
        code = fast.run(sys.argv[1:])
        if code is not None:
            sys.exit(code)
        from papercli.cli.app import app

        app(prog_name="papercli")
    except OSError as exc:
        # The reader went away (``papercli --help | head -1``) or stdout is full, outside a
        # command (commands end the same way: see ``fast.run`` and ``PapercliGroup.invoke``).
        if not common.is_output_failure(exc):
            raise
        sys.exit(common.report_output_failure(exc))
    finally:
        # The process is about to exit and the OS frees its memory at once, so spare the
        # interpreter's last collections their walk over every object (7-12 ms). Nothing
        # depends on them: the command has closed its database and files itself.
        gc.freeze()


def _drop_unreadable_sizes() -> None:
    """Forget a terminal size in ``$COLUMNS`` or ``$LINES`` that is not a number in ASCII
    digits: Rich (and the help's width) read them with ``int``, and ``COLUMNS=²`` ended
    shell completion and the progress bar in a traceback. The terminal is asked instead."""
    for name in ("COLUMNS", "LINES"):
        value = os.environ.get(name)
        if value is not None and not (value.isascii() and value.isdigit()):
            del os.environ[name]
