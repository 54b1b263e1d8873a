"""Reading progress for ``papercli stats``: papers read, reading, unread and skipped,
overall and by year, organization and topic, and papers read per month.

Kept apart from ``library`` (which every reading command loads) so that only ``stats``
pays for building these records.
"""

from __future__ import annotations

import sqlite3

from papercli.models import ReadStatus
from papercli.records import datarecord
from papercli.store.changes import LIVE_HISTORY


@datarecord
class StatusCounts:
    name: str
    unread: int = 0
    reading: int = 0
    read: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.unread + self.reading + self.read + self.skipped


@datarecord
class Stats:
    overall: StatusCounts
    by_year: list[StatusCounts]
    by_organization: list[StatusCounts]
    by_topic: list[StatusCounts]
    read_per_month: list[tuple[str, int]]


def _counts(conn: sqlite3.Connection, group_sql: str) -> list[StatusCounts]:
    """Reading status counts per group of ``group_sql`` (rows of name, paper_id).

    Each group's size comes from an index, and only the papers the user marked are
    looked up; the rest are unread. Joining every paper to its state instead took
    seconds on a million papers; so did reading every group row for its paper's state,
    as SQLite chose to (CROSS JOIN keeps the marked papers outside).
    """
    found = {
        str(name): StatusCounts(str(name), unread=int(total))
        for name, total in conn.execute(f"SELECT name, count(*) FROM ({group_sql}) GROUP BY name")
    }
    for name, status, count in conn.execute(
        f"SELECT g.name, s.status, count(*) FROM reading_state s CROSS JOIN ({group_sql}) g"
        " ON g.paper_id = s.paper_id WHERE s.status != 'unread' GROUP BY g.name, s.status"
    ):
        counts = found[str(name)]
        setattr(counts, str(status), int(count))
        counts.unread -= int(count)
    return list(found.values())


def stats(conn: sqlite3.Connection) -> Stats:
    """Reading progress overall, by year, organization and topic, and read per month."""
    by_year = sorted(
        _counts(conn, "SELECT year AS name, id AS paper_id FROM papers"), key=lambda c: c.name
    )
    overall = StatusCounts("all")  # every paper has one year: the years add up to all
    for year in by_year:
        for status in ReadStatus:
            setattr(overall, status, getattr(overall, status) + getattr(year, status))
    by_org = _counts(conn, "SELECT org AS name, paper_id FROM paper_orgs")
    by_topic = _counts(conn, "SELECT topic AS name, paper_id FROM paper_topics")
    per_month = [
        (str(m), int(c))
        for m, c in conn.execute(
            # The local month, as people count them; an undone read did not happen.
            "SELECT substr(datetime(changed_at, 'localtime'), 1, 7) AS month,"
            " count(DISTINCT paper_id) FROM status_history WHERE new_status = 'read'"
            f" AND {LIVE_HISTORY} GROUP BY month ORDER BY month"
        )
    ]
    return Stats(
        overall=overall,
        by_year=by_year,
        by_organization=sorted(by_org, key=lambda c: (-c.total, c.name)),
        by_topic=sorted(by_topic, key=lambda c: (-c.total, c.name)),
        read_per_month=per_month,
    )
