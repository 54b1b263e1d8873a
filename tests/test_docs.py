"""The README's command reference is generated from --help and must not drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.readme_reference import command_paths, help_text

ROOT = Path(__file__).resolve().parents[1]


def test_readme_command_reference_is_current():
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        "README.md is out of date: run `python -m cogapp -r README.md`\n"
        + result.stdout
        + result.stderr
    )


@pytest.mark.parametrize("path", list(command_paths()), ids=lambda p: " ".join(p) or "papercli")
def test_every_command_has_help_with_an_example(path):
    assert "Example" in help_text(path)
