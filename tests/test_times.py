"""Stored times (``2026-12-01T17:14:07Z``, as papercli writes them and imports accept
them) are read as ``strptime`` reads them, without importing it (papercli.times parses
with ``fromisoformat``); anything else is shown as it is."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import Result

from papercli import times


def strict(stamp: str) -> str | None:
    """What times.iso gave when it parsed with strptime, for the stored form only
    (strptime also reads ``2026-1-1T1:1:1Z``, which papercli never stores)."""
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return stamp
    if moment.isoformat() + "Z" != stamp:
        return stamp
    return moment.replace(tzinfo=UTC).astimezone().isoformat(timespec="seconds")


MOMENTS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))
# Stored times, their near misses (other ISO forms fromisoformat accepts), and any text.
STAMPS = st.one_of(
    MOMENTS.map(lambda moment: moment.isoformat(timespec="seconds") + "Z"),
    st.builds(
        lambda moment, form: moment.isoformat(**form),
        MOMENTS,
        st.sampled_from([{}, {"sep": " "}, {"timespec": "minutes"}, {"timespec": "hours"}]),
    ).flatmap(lambda text: st.sampled_from([text, text + "Z", text + "+01:00Z", text[:10]])),
    st.text(alphabet="0123456789-T:Z+. W", max_size=30),
    st.text(max_size=30),
)


@given(STAMPS)
def test_times_read_exactly_what_strptime_read(stamp: str) -> None:
    assert times.iso(stamp) == strict(stamp)


def test_a_stored_time_is_shown_in_local_time_and_anything_else_as_it_is() -> None:
    assert times.iso("2026-12-01T17:14:07Z") == strict("2026-12-01T17:14:07Z")
    for odd in ("2026-12-01", "2026-12-01T17:14:07", "2026-12-01T17:14:07+01:00Z", "x"):
        assert times.shown(odd) == odd
        assert times.iso(odd) == odd


@pytest.fixture
def beyond_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time nine hours after UTC (a POSIX zone: no time zone database needed)."""
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_time_the_local_calendar_cannot_hold_is_shown_as_stored(
    beyond_utc: None, run: Callable[..., Result], tmp_path: Path
) -> None:
    """An import takes any real time for a note, and the last second of 9999 is in the year
    10000 in Tokyo: `notes` and `show` there ended in a traceback (OverflowError)."""
    late = "9999-12-31T23:59:59Z"
    paper = {"id": "lora", "title": "LoRA", "year": 2021, "date": "2021-06-17",
             "notes": [{"created_at": late, "body": "from the far future"}]}  # fmt: skip
    document = {"format": "papercli-export", "version": 1, "exported_on": "2026-12-01"}
    file = tmp_path / "late.json"
    file.write_text(json.dumps({**document, "papers": [paper]}), encoding="utf-8")
    db = str(tmp_path / "papercli.db")
    assert run("--db", db, "import", str(file)).exit_code == 0
    listed = run("--db", db, "notes")
    assert listed.exit_code == 0, listed.output
    assert f"{late[:10]}" in listed.stdout and "from the far future" in listed.stdout
    shown = run("--db", db, "show", "lora", "--format", "json")
    assert json.loads(shown.stdout)["notes"][0]["created_at"] == late
    assert times.shown("2026-12-01T17:14:07Z") == "2026-12-02 02:14"  # the zone is in force
