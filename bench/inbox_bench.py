"""Time the inbox: a 2,000-item pull (arXiv's cap) and ranking 20,000 stored items.

Usage: python bench/inbox_bench.py [--runs 5] [--items 20000] [--papercli PATH]
       python bench/inbox_bench.py --items 100000 [--read 300] --build PATH

The pull is timed without the network: the recorded 1,504-item listing, grown to 2,000
items with renumbered copies, is handed to ``inbox.pull`` by a stand-in client, then
parsed, matched against three watches and stored in a fresh database. The ranking is
timed on 20,000 stored items with 20 papers read, in-process and (with --papercli) as
``papercli inbox -n 30`` next to the interpreter floor (``python -c pass``).
Targets (issue 14): the pull under 10 s, the ranking under 0.3 s.

With --build, only the database of --items stored items is made, at PATH, for measuring
other commands on it (issue 17: peak memory with ``/usr/bin/time -f %M``). With --read N,
N items spread over the inbox are also kept and marked read: a full reading profile is
300 papers (``affinity.PROFILE_SIZE``), where the 20 of the catalogue make a small one.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from papercli import inbox, paths
from papercli.arxiv import ListingAnswer
from papercli.feed import parse_listing
from papercli.models import ReadStatus, Watch
from papercli.records import replace
from papercli.store import connection, library, watches
from papercli.store import inbox as stored
from papercli.store.base import transaction

FIXTURES = Path(__file__).resolve().parents[1] / "tests/fixtures/arxiv"
LISTING = FIXTURES / "rss-2024_listing_all_archives.xml"
READ = (
    "transformer", "bert", "gpt-3", "lora", "qlora", "dpo", "rlhf", "instructgpt", "rag",
    "chain-of-thought", "llama", "flashattention", "mixtral", "switch-transformer", "t5",
    "palm", "chinchilla", "toolformer", "react", "gpt-2",
)  # fmt: skip


def grown_listing(size: int) -> bytes:
    """The recorded listing with renumbered copies of its items appended up to ``size``."""
    text = LISTING.read_text()
    items = re.findall(r"<item>.*?</item>", text, re.S)
    extra = []
    for n in range(size - len(items)):
        original = items[n % len(items)]
        arxiv_id = re.search(r"oai:arXiv.org:(\S+?)v\d+<", original)[1]  # type: ignore[index]
        extra.append(original.replace(arxiv_id, f"2412.{n + 1:05d}"))
    end = text.rindex("</channel>")
    return (text[:end] + "".join(extra) + text[end:]).encode()


class StandIn:
    """What inbox.pull needs of the arXiv client, answering from memory."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def fetch_listing(self, categories: list[str], **_: object) -> ListingAnswer:
        return ListingAnswer("memory:", self.body, None, None)


def fresh_database(folder: Path, name: str) -> Path:
    path = folder / name
    connection.open_database(path, paths.seed_path()).close()
    return path


def median_time(action: Callable[[], object], runs: int) -> float:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def time_pull(folder: Path, body: bytes, runs: int) -> tuple[float, int]:
    categories = sorted({c for item in parse_listing(body).items for c in item.categories})
    took, kept = [], 0
    for run in range(runs):
        conn = connection.open_database(fresh_database(folder, f"pull-{run}.db"), paths.seed_path())
        watches.add_watch(conn, Watch("everything", categories))
        watches.add_watch(conn, Watch("llm", ["cs.CL", "cs.LG"], keywords=["language model"]))
        watches.add_watch(conn, Watch("people", ["cs.LG"], authors=["Bengio", "Levine"]))
        started = time.perf_counter()
        summary = inbox.pull(conn, StandIn(body))  # type: ignore[arg-type]
        took.append(time.perf_counter() - started)
        kept = len(summary.new_items)
        conn.close()
    return statistics.median(took), kept


def fill_inbox(path: Path, body: bytes, count: int) -> None:
    """``count`` stored items (renumbered copies of the listing's), and 20 papers read."""
    items = parse_listing(body).items
    conn = connection.open_database(path, paths.seed_path())
    with transaction(conn):
        stored.add_items(
            conn,
            ((replace(items[n % len(items)], arxiv_id=_item_id(n)), ["llm"]) for n in range(count)),
            "2026-12-01T00:00:00Z",
        )
    watches.add_watch(conn, Watch("llm", ["cs.CL", "cs.LG"]))
    library.set_status(conn, [p for p in READ if _exists(conn, p)], ReadStatus.READ)
    conn.close()


def read_items(path: Path, count: int) -> None:
    """Keep ``count`` of the stored items, spread over them, and mark them read."""
    conn = connection.open_database(path, paths.seed_path())
    ids = [str(a) for (a,) in conn.execute("SELECT arxiv_id FROM inbox_items ORDER BY docid")]
    chosen = ids[:: max(1, len(ids) // count)][:count]
    with inbox.keep(conn, chosen) as summary:
        kept = [paper_id for paper_id, _title in summary.added()]
    library.set_status(conn, kept, ReadStatus.READ)
    conn.close()


def _item_id(n: int) -> str:
    """The ``n``th made-up arXiv id: 2501.00001 to 2501.99999, then on into 2502."""
    month, number = divmod(n, 99_999)
    return f"25{month + 1:02d}.{number + 1:05d}"


def _exists(conn: sqlite3.Connection, paper_id: str) -> bool:
    return conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone() is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--papercli", help="an installed papercli to time `inbox -n 30` with")
    parser.add_argument("--build", type=Path, help="only make the inbox of --items here")
    parser.add_argument("--read", type=int, default=0, help="with --build: items kept and read")
    args = parser.parse_args()
    body = grown_listing(2000)
    if args.build:
        fresh_database(args.build.parent, args.build.name)
        fill_inbox(args.build, body, args.items)
        if args.read:
            read_items(args.build, args.read)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pull_time, kept = time_pull(folder, body, args.runs)
        print(f"pull of a 2,000-item listing: {pull_time:.2f} s (parse, match, store;", end="")
        print(f" {kept:,} kept)")
        ranked_db = fresh_database(folder, "ranked.db")
        fill_inbox(ranked_db, body, args.items)
        conn = connection.open_database(ranked_db, paths.seed_path())
        rank_time = median_time(lambda: list(inbox.ranked(conn, limit=30).items), args.runs)
        print(f"ranking {args.items:,} items, 30 shown: {rank_time:.3f} s (in-process)")
        if args.papercli:
            env = {**os.environ, "PAPERCLI_DB": str(ranked_db)}
            floor = median_time(
                lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.runs
            )
            command = median_time(
                lambda: subprocess.run(
                    [args.papercli, "inbox", "-n", "30"], env=env, check=True, capture_output=True
                ),
                args.runs,
            )
            print(
                f"papercli inbox -n 30: {command:.3f} s = {command / floor:.1f}x the floor"
                f" ({floor * 1000:.0f} ms)"
            )


if __name__ == "__main__":
    main()
