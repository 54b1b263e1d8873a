"""The tests can never reach the user's own database, even a test that undoes its patches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from papercli import paths
from tests import conftest


def test_undoing_every_patch_still_leaves_the_real_data_dir_alone(
    run, monkeypatch: pytest.MonkeyPatch, session_data_dir: Path
) -> None:
    monkeypatch.undo()  # what test_a_long_listing_at_a_terminal_is_plain_text once did
    assert run("list", "--limit", "1").exit_code == 0
    used = paths.resolve_db_path()
    assert Path(used) == session_data_dir / "papercli.db"
    assert used != conftest._REAL_DB
    assert Path(os.environ["HOME"]) == session_data_dir
    del os.environ["PAPERCLI_DB"]  # even the platform default now lies in the session home
    try:
        assert session_data_dir in Path(paths.resolve_db_path()).parents
    finally:
        os.environ["PAPERCLI_DB"] = str(used)
