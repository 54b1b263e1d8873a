"""The errors papercli reports to people, each with its exit code.

The core raises these with a sentence meant for the user; the CLI prints the
sentence on stderr and exits with ``exit_code``. Exit codes are documented in
the README.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USER = 1  # not found, ambiguous, invalid value, bad file
EXIT_USAGE = 2  # bad command line (Click's own code)
EXIT_NETWORK = 3  # a service could not be reached, kept failing or sent broken answers
EXIT_DATABASE = 4  # the database is corrupt, locked, unwritable or too new
EXIT_INTERRUPTED = 130  # Ctrl-C (a signal that stops papercli: 128 + its number)


class PapercliError(Exception):
    """Base class: an expected failure with a message for the user."""

    exit_code = EXIT_USER

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class NotFoundError(PapercliError):
    """A reference that matches nothing."""


class AmbiguousError(PapercliError):
    """A reference that matches several papers."""


class InvalidValueError(PapercliError):
    """An option value or argument that is not acceptable."""


class DatabaseError(PapercliError):
    exit_code = EXIT_DATABASE


class NetworkError(PapercliError):
    """arXiv could not be reached, or kept failing after the retries."""

    exit_code = EXIT_NETWORK


class ArxivAPIError(PapercliError):
    """arXiv sent an answer papercli cannot use (not a feed, malformed, too large, an
    unexpected status): a failure of the service, like a network error."""

    exit_code = EXIT_NETWORK


class ArxivRefusal(ArxivAPIError):
    """arXiv refused what the user asked for, in an error feed or channel: an invalid
    search, a category it does not know."""

    exit_code = EXIT_USER


class Terminated(KeyboardInterrupt):
    """A signal asking papercli to stop (SIGTERM from ``kill`` or a service manager,
    SIGHUP from a closed terminal), raised where the command is, as Ctrl-C is: its
    transaction rolls back and a half-written file is removed. Exit code 128 + the
    signal's number, as a shell reports a process the signal ended."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.name = name
        self.exit_code = 128 + signum


def interruption(exc: KeyboardInterrupt, *, saved: bool = False) -> tuple[str, int]:
    """What to say, and the exit code, when Ctrl-C or a signal stopped papercli; ``saved``
    when the command had saved a change by then."""
    if isinstance(exc, Terminated):
        by, code = f" by {exc.name}", exc.exit_code
    else:
        by, code = "", EXIT_INTERRUPTED
    if saved:
        return f"interrupted{by} after its changes up to then were saved", code
    return f"interrupted{by}; nothing after the last completed step was saved", code
