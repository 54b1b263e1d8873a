"""Stored times (``2026-12-01T17:14:07Z``, as papercli writes them and imports accept
them) are read as ``strptime`` reads them, without importing it (papercli.times parses
with ``fromisoformat``); anything else is shown as it is."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

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
