"""Time `search.search_papers` on a database made by bench/make_db.py.

Usage: python bench/search_bench.py DB [--runs 7]

Prints, for a rare, a mid-frequency and the most common term (and a few harder
cases), how many papers match and the median query time in ms (the first run is
warm-up), and the time without the common-term guard (everything ranked by bm25).
Notes (some in Chinese, three of about 2 MB), a tag and abstracts with a mid-frequency
word are added inside a transaction that is rolled back, so the database is left as it
was.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import time
from pathlib import Path

from papercli import paths
from papercli.models import ReadStatus, Selection
from papercli.store import base, connection, fts, search

READ = ReadStatus.READ

NOTES = 2000  # a heavy user's notes, a tenth of them in Chinese
CHINESE = "我们用低秩适配来微调模型 效果很好"
# And three notes of about 2 MB each (pasted papers, logs), one in Chinese without spaces:
# searching Chinese text was once quadratic in a note's length (issue 8).
BIG_NOTES = [
    ("synthetic-11", "wombat " + "gradient checkpointing saves memory at a cost " * 45_000),
    ("synthetic-12", "注意力机制" * 140_000 + "袋熊"),
    ("synthetic-13", " ".join(f"token{i}" for i in range(250_000))),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    conn = connection.open_database(args.db, paths.seed_path())
    papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    synthetic = conn.execute("SELECT count(*) FROM papers WHERE id GLOB 'synthetic-*'").fetchone()[
        0
    ]
    conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, paper_search, row)")
    common = conn.execute("SELECT term FROM temp.vocab ORDER BY doc DESC LIMIT 1").fetchone()[0]
    cases = [
        ("rare: one paper's number", str(synthetic // 2), Selection()),
        ("mid: a word in 5,000 fetched abstracts", "quokka", Selection()),
        ("mid: the phrase low-rank", "low-rank", Selection()),
        ("mid: low-rank --since 2018", "low-rank", Selection(since=2018)),
        (f"most common word: {common}", common, Selection()),
        (f"{common} --year 2015 --status read", common, Selection(year=2015, statuses=[READ])),
        (f"{common} --status read", common, Selection(statuses=[READ])),
        (f"{common} --tag (on 3 papers)", common, Selection(tags=["few"])),
        ("three common words", "sparse mixture experts", Selection()),
        ("prefix: tra", "tra", Selection()),
        ("Chinese in notes: 低秩", "低秩", Selection()),
        ("Chinese in notes: 低秩适配 + model", "低秩适配 model", Selection()),
        ("a word in a 2 MB note: wombat", "wombat", Selection()),
        ("Chinese at the end of a 2 MB note: 袋熊", "袋熊", Selection()),
        ("Chinese all through a 2 MB note: 注意力", "注意力", Selection()),
        ("a word in a 2 MB note of 250,000 words", "token249999", Selection()),
    ]
    print(f"{args.db}: {papers:,} papers, search_papers limit 20, median of {args.runs} runs")
    print(f"{'query':<42}{'matches':>10}{'ranked':>8}{'ms':>9}{'unguarded ms':>14}")
    with base.transaction(conn, keep=False):
        conn.executemany(
            "INSERT INTO tags VALUES (?, 'few')", [(f"synthetic-{i}",) for i in (5, 500, 5000)]
        )
        conn.executemany(
            "INSERT INTO arxiv_meta (paper_id, arxiv_id, version, title, abstract, published,"
            " updated, fetched_at) VALUES (?, '', 1, '', 'On the quokka problem.', '', '', '')",
            [(f"synthetic-{i * 199 % synthetic}",) for i in range(5000)],
        )
        conn.executemany(
            "INSERT INTO notes (paper_id, created_at, body) VALUES (?, '2024-01-01', ?)",
            [
                (f"synthetic-{i * 37 % synthetic}", CHINESE if i % 10 == 0 else "rank 8 is plenty")
                for i in range(NOTES)
            ],
        )
        conn.executemany(
            "INSERT INTO notes (paper_id, created_at, body) VALUES (?, '2024-01-02', ?)", BIG_NOTES
        )
        for label, words, selection in cases:
            guarded, ranked = _median_ms(conn, words, selection, args.runs)
            limit, search.RANK_LIMIT = search.RANK_LIMIT, papers
            unguarded, _ = _median_ms(conn, words, selection, 1)
            search.RANK_LIMIT = limit
            print(
                f"{label:<42}{_matches(conn, words):>10,}{'yes' if ranked else 'no':>8}"
                f"{guarded:>9.1f}{unguarded:>14.1f}"
            )
    conn.close()


def _median_ms(
    conn: sqlite3.Connection, words: str, selection: Selection, runs: int
) -> tuple[float, bool]:
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        results = search.search_papers(conn, words, selection, 20)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:]) * 1000, results.ranked


def _matches(conn: sqlite3.Connection, words: str) -> int:
    """How many papers match the words (the last as a prefix if none do), before filters."""
    if re.search(fts.UNSPACED, words):
        return len(search.search_papers(conn, words, Selection(), 10**9).hits)
    query = fts.fts_query(words.split())
    sql = "SELECT count(*) FROM paper_search WHERE paper_search MATCH ?"
    count = int(conn.execute(sql, (query,)).fetchone()[0])
    return count or int(conn.execute(sql, (query + "*",)).fetchone()[0])


if __name__ == "__main__":
    main()
