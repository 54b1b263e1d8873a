"""Time the reading-path walk on a chain: `path` and `queue add --with-prereqs`.

Usage: python bench/path_bench.py SOURCE.db COPY.db [--runs 3]

SOURCE (say bench/out/100k.db, from bench/make_db.py) is copied to COPY with each paper
the prerequisite of the next, oldest first: the newest paper's path is every paper. Then
the core of `path` (the path built and its steps read, as printed) and of `queue add
--with-prereqs` (``library.unread_paths``, read as the queue reads it) are timed, best of
the runs, and their peak Python heap (tracemalloc, in a run of its own) printed, with the
bytes a step that makes. Peak RSS of the whole command:
``/usr/bin/time -f %M papercli --db COPY.db path ID --format json``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import time
import tracemalloc
from collections.abc import Callable

from papercli import graph as core
from papercli import paths
from papercli.store import connection, library


def chained(source: str, copy: str) -> str:
    """Copy ``source``, each paper needing the one before; the newest paper's id."""
    shutil.copyfile(source, copy)
    # Opened by papercli first: a library made before the catalogue changed has it put
    # back then, curated prerequisites included, which would drop the chain added below.
    connection.open_database(copy, paths.seed_path()).close()
    db = sqlite3.connect(copy)
    with db:
        db.execute(
            "INSERT INTO prerequisites (paper_id, prereq_id) SELECT id, before FROM"
            " (SELECT id, lag(id) OVER (ORDER BY date, id) AS before FROM papers)"
            " WHERE before IS NOT NULL"
        )
    (goal,) = db.execute("SELECT id FROM papers ORDER BY date DESC, id DESC LIMIT 1").fetchone()
    db.close()
    return str(goal)


def path(conn: sqlite3.Connection, goal: str) -> int:
    walked = core.reading_path(conn, core.subject(conn, goal), lambda: None)  # type: ignore[arg-type, return-value]
    try:
        return sum(1 for _ in core.steps(conn, walked))
    finally:
        if hasattr(walked, "close"):  # its ids on disk (before 4 December, in lists)
            walked.close()


def queue(conn: sqlite3.Connection, goal: str) -> int:
    return sum(1 for _ in library.unread_paths(conn, [goal]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("copy")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    goal = chained(args.source, args.copy)
    conn = connection.open_database(args.copy, paths.seed_path())
    walks: dict[str, Callable[[sqlite3.Connection, str], int]] = {"path": path, "queue": queue}
    for name, walk in walks.items():
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            steps = walk(conn, goal)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        walk(conn, goal)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"{name:<6} {steps:>9,} steps  {min(times):6.2f} s  peak {peak / 1e6:6.2f} MB"
            f"  ({peak / steps:.0f} bytes a step)"
        )
    conn.close()


if __name__ == "__main__":
    main()
