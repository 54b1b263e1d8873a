"""The README's command reference, generated from ``--help`` (run by cog).

Regenerate with ``python -m cogapp -r README.md``; ``tests/test_docs.py`` fails when it drifts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from papercli.cli.app import app


def command_paths() -> Iterator[list[str]]:
    """Every command and subcommand, depth first, in the order --help lists them."""

    def walk(command: Any, path: list[str]) -> Iterator[list[str]]:
        yield path
        if hasattr(command, "list_commands"):  # a group (typer vendors its own click)
            context = typer.Context(command)
            for name in command.list_commands(context):
                sub = command.get_command(context, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def help_text(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], prog_name="papercli", terminal_width=88)
    assert result.exit_code == 0, result.output
    return result.stdout


def command_reference() -> str:
    parts = []
    for path in command_paths():
        title = " ".join(["papercli", *path])
        parts.append(f"### `{title}`\n\n```\n{help_text(path).rstrip()}\n```\n")
    return "\n".join(parts)
