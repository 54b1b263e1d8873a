"""papercli: a command-line reading-list manager for research papers."""

__version__ = "0.1.0"

# ``typing.TYPE_CHECKING`` without importing typing, which costs every command 2 ms: the
# modules every command loads import their annotations' types under ``if TYPE_CHECKING:``,
# which type checkers read as true whatever the name is bound to.
TYPE_CHECKING = False
