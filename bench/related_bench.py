"""Time `related` where every paper of a library cites one target.

Usage: python bench/related_bench.py SOURCE.db COPY.db [--runs 3]

SOURCE (say bench/out/100k.db) is copied to COPY and given a Semantic Scholar record for
each of its arXiv papers and 1,000 records outside it; every paper cites the paper in the
middle (by id), and 10 of the outside records, 30 of which the target cites (1.1 million
links at 100,000 papers: co-citations and shared references for every one). The target's
links count as fetched. Then the core call is timed with the default 10 shown and with
all, and its peak Python heap (tracemalloc) printed. Peak RSS of the whole command:
``/usr/bin/time -f %M papercli --db COPY.db related ID [-n 0 --format json]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
import tracemalloc

from papercli import graph as core
from papercli import paths
from papercli.s2 import S2Paper
from papercli.store import connection, graph
from papercli.store.base import transaction

AT = "2026-01-01T00:00:00Z"


def build(source: str, copy: str) -> str:
    """Copy ``source`` and link its papers as above; the target's id."""
    shutil.copyfile(source, copy)
    conn = connection.open_database(copy, paths.seed_path())
    rng = random.Random(1)
    rows = conn.execute(
        "SELECT id, arxiv_id FROM papers WHERE arxiv_id IS NOT NULL ORDER BY id"
    ).fetchall()
    target_id = rows[len(rows) // 2][0]

    def record(arxiv_id: str | None) -> S2Paper:
        return S2Paper(f"{rng.getrandbits(160):040x}", None, arxiv_id, None, "t", 2024, [], "", 1)

    records = {pid: record(arxiv_id) for pid, arxiv_id in rows}
    popular = [record(None) for _ in range(1000)]
    target = records[target_id].paper_id
    with transaction(conn):
        graph.store_papers(conn, [*records.values(), *popular], AT)
        links = [(target, p.paper_id) for p in rng.sample(popular, 30)]
        for paper in records.values():
            if paper.paper_id != target:
                links.append((paper.paper_id, target))
                links += [(paper.paper_id, p.paper_id) for p in rng.sample(popular, 10)]
        conn.executemany("INSERT OR IGNORE INTO s2_links VALUES (?, ?, 0, '[]')", links)
        for direction in graph.DIRECTIONS:
            conn.execute(
                "INSERT OR REPLACE INTO s2_lookups VALUES (?, ?, ?, 0, 0)", (target, direction, AT)
            )
    conn.close()
    print(f"{len(rows):,} papers, {len(links):,} links; target {target_id}")
    return str(target_id)


def never() -> None:
    raise AssertionError("the target's links are stored")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("copy")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    target_id = build(args.source, args.copy)
    conn = connection.open_database(args.copy, paths.seed_path())
    target = core.subject(conn, target_id)
    for limit in (10, None):
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            shown = sum(1 for _ in core.related(conn, target, never, limit=limit))
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        sum(1 for _ in core.related(conn, target, never, limit=limit))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"limit {limit}: {shown:,} shown, {min(times):.2f}-{max(times):.2f} s,"
            f" Python heap peak {peak / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main()
