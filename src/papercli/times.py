"""Times as people read them: papercli stores UTC (``2026-12-01T17:14:07Z``) and shows
local time, the minute in tables and text, the full time with its offset in JSON."""

from __future__ import annotations

from datetime import UTC, datetime


def _utc(stamp: str) -> datetime | None:
    # fromisoformat, not strptime: strptime imports _strptime, with locale and calendar
    # (4 ms, a tenth of `show`). Only the stored form is read: the length
    # rules out fractions of a second, the round trip every other form ISO 8601 allows.
    if len(stamp) != 20 or stamp[-1] != "Z":
        return None
    try:
        moment = datetime.fromisoformat(stamp[:-1])
    except ValueError:
        return None
    return moment if moment.isoformat() == stamp[:-1] else None


def _local(stamp: str) -> datetime | None:
    moment = _utc(stamp)
    if moment is None:
        return None
    try:
        return moment.replace(tzinfo=UTC).astimezone()
    except OverflowError:  # the calendar's first or last hours, in a zone beyond them
        return None


def shown(stamp: str | None) -> str:
    """``2026-12-01 18:14`` in local time; anything not a stored time, as it is."""
    moment = _local(stamp or "")
    return moment.strftime("%Y-%m-%d %H:%M") if moment else stamp or ""


def day(stamp: str | None) -> str:
    """The local date of a stored time."""
    moment = _local(stamp or "")
    return moment.strftime("%Y-%m-%d") if moment else (stamp or "")[:10]


def iso(stamp: str | None) -> str | None:
    """``2026-12-01T18:14:07+01:00``: local time with its offset, for JSON."""
    moment = _local(stamp or "")
    return moment.isoformat(timespec="seconds") if moment else stamp


def stored(stamp: str | None) -> str | None:
    """A time as papercli stores it (``2026-12-01T17:14:07Z``), also from the forms older
    versions and tools left: ``2026-11-20 17:14:07`` (SQLite's datetime('now'), which the
    queue took until November) and a day alone (its midnight); None for anything else, so
    that an export holds only times its import takes."""
    if stamp and len(stamp) == 19 and stamp[10] == " ":
        stamp = f"{stamp[:10]}T{stamp[11:]}Z"
    elif stamp and len(stamp) == 10:
        stamp = f"{stamp}T00:00:00Z"
    return stamp if stamp and _utc(stamp) else None  # not made local: a sync checks each
