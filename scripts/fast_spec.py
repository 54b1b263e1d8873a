"""The command-line table of ``papercli.cli.fast``, generated from the Typer commands.

cog runs this (``python -m cogapp -r src/papercli/cli/fast.py``, from the repository
root); ``tests/test_docs.py`` fails when the table is stale. Anything the fast parser
cannot reproduce exactly (a callback, an environment variable, a type it does not know)
stops the generator with an error, so a new option either works on the fast path or is
a deliberate choice.
"""

from __future__ import annotations

import enum
from typing import Any

from typer.main import get_command

from papercli.cli.app import app, build_command

# The commands people run many times a day; everything else always goes through Typer.
FAST_COMMANDS = (
    "list",
    "show",
    "next",
    "queue",
    "mark-read",
    "mark-reading",
    "mark-unread",
    "mark-skipped",
    "export",
    "import",
)


def _kind(param: Any) -> tuple[str, object]:
    """What the fast parser needs to convert a value exactly as Click does."""
    type_name = type(param.type).__name__
    if param.is_flag:
        if param.secondary_opts or not param.is_bool_flag or param.default is not False:
            raise ValueError(f"{param.name}: only plain on-flags are supported")
        return "flag", True
    if type_name == "TyperChoice":
        if not param.type.case_sensitive:
            raise ValueError(f"{param.name}: case-insensitive choices are not supported")
        return "choice", tuple(param.type.choices)
    if type_name == "WholeNumber":  # app.WholeNumber, Click's int in ASCII digits
        return "int", None
    if type_name == "WholeNumberRange":
        if param.type.min_open or param.type.max_open or param.type.clamp:
            raise ValueError(f"{param.name}: only closed, unclamped ranges are supported")
        return "int", (param.type.min, param.type.max)
    if type_name == "StringParamType":
        return "text", None
    if type_name in ("Path", "TyperPath"):
        # The fast parser leaves directories to Click, whether it takes them or not.
        if param.type.exists or param.type.file_okay is not True or param.type.allow_dash:
            raise ValueError(f"{param.name}: only paths that need not exist are supported")
        return "file", None
    raise ValueError(f"{param.name}: type {type_name} is not supported")


def _default(param: Any) -> object:
    if isinstance(param.default, enum.Enum):
        return param.default.value
    return [] if param.multiple else param.default


def _options(command: Any) -> tuple[dict[str, tuple[str, str, object]], list[str], dict[str, Any]]:
    spellings: dict[str, tuple[str, str, object]] = {}
    repeatable: list[str] = []
    defaults: dict[str, Any] = {}
    for param in command.params:
        if param.param_type_name != "option" or param.callback is not None:
            continue  # options with callbacks (--version) are left to Typer
        if param.envvar or param.count or param.nargs != 1 or param.prompt or param.hidden:
            raise ValueError(f"{param.name}: not supported on the fast path")
        kind = _kind(param)
        for spelling in param.opts:
            spellings[spelling] = (param.name, *kind)
        if param.multiple:
            repeatable.append(param.name)
        defaults[param.name] = _default(param)
    return spellings, repeatable, defaults


def _arguments(command: Any) -> list[tuple[str, int]]:
    arguments = []
    for param in command.params:
        if param.param_type_name == "argument":
            if not param.required or type(param.type).__name__ != "StringParamType":
                raise ValueError(f"{param.name}: only required text arguments are supported")
            arguments.append((param.name, param.nargs))
    return arguments


def _format(value: object) -> str:
    return repr(value).replace("'", '"')


def _dict_lines(keyword: str, items: dict[str, Any]) -> list[str]:
    """A keyword argument holding a dict, one item a line, as ruff formats it."""
    if not items:
        return [f"        {keyword}={{}},"]
    lines = [f"        {keyword}={{"]
    for key, value in items.items():
        line = f'            "{key}": {_format(value)},'
        if len(line) > 100 and isinstance(value, tuple):  # one element a line, as ruff does
            inner = [f"                {_format(v)}," for v in value]
            line = "\n".join([f'            "{key}": (', *inner, "            ),"])
        lines.append(line)
    return [*lines, "        },"]


def spec_source() -> str:
    """The Python source of ``GLOBAL_OPTIONS`` and ``COMMANDS``."""
    root_options, _, _ = _options(get_command(app))
    lines = ["GLOBAL_OPTIONS: dict[str, Option] = {"]
    lines += [f'    "{s}": {_format(o)},' for s, o in root_options.items()]
    lines += ["}", "COMMANDS: dict[str, Spec] = {"]
    for name in FAST_COMMANDS:
        command = build_command(name)
        options, repeatable, defaults = _options(command)
        lines.append(f'    "{name}": Spec(')
        lines += _dict_lines("options", options)
        lines.append(f"        arguments={_format(_arguments(command))},")
        lines.append(f"        repeatable={_format(repeatable)},")
        lines += _dict_lines("defaults", defaults)
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines)
