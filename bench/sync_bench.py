"""Time a sync that reads and applies 100,000 events from another device, and one with nothing new.

Usage: python bench/sync_bench.py [--events 100000] [--runs 5] [--papercli PATH]

Device A is a database from the seed that syncs once, then runs commands through the
store as a user would over a long time (the clock moves a minute per command): papers
of its own added by hand, 500 to a command (one for every 50 events wanted), then marks
on 500 papers at a time (a status and a history event each), queue additions, tags
added and taken off, and notes, until it has made the events wanted; it writes them all
to its file in a shared folder. Device B, a fresh database from the seed, then syncs
through that folder: the time of that ``sync.sync`` (reading, checking and applying
every event, in-process) is the figure. Then B syncs again with nothing new,
in-process and as the whole ``papercli sync DIR`` command next to the interpreter floor
(``python -c pass``).
Target (the sync issue): 100,000 events read and applied in under 10 s.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from papercli import events, fetching, paths, sync
from papercli.models import ReadStatus
from papercli.store import connection, library, notes, papers
from papercli.store import sync as stored
from papercli.store.base import transaction

TARGET_EVENTS, TARGET_SECONDS = 100_000, 10.0
BATCH = 500  # papers per command
WORDS = (
    "attention", "sparse", "retrieval", "reasoning", "alignment", "preference", "scaling",
    "adapter", "low-rank", "quantized", "mixture", "experts", "agents", "tools", "memory",
    "long", "context", "rotary", "distillation", "curriculum", "reward", "model", "tuning",
)  # fmt: skip
FAMILIES = ("Chen", "Wang", "Smith", "Müller", "Kumar", "Garcia", "Kim", "Nguyen", "Rossi")


def fresh_database(folder: Path, name: str) -> Path:
    path = folder / name
    connection.open_database(path, paths.seed_path()).close()
    return path


def minutes_from(start: datetime) -> Iterator[str]:
    """A clock for the store's commands: one minute later at each call."""
    when = start
    while True:
        yield when.strftime("%Y-%m-%dT%H:%M:%SZ")
        when += timedelta(minutes=1)


def add_papers_by_hand(conn: sqlite3.Connection, count: int, rng: random.Random) -> None:
    """``count`` papers of the user's own, as ``papercli add --title ...`` adds one, 500 to
    a command."""
    for start in range(0, count, BATCH):
        with transaction(conn):
            added = []
            for _ in range(start, min(start + BATCH, count)):
                title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9)))
                given = fetching.PaperByHand(
                    title=title.capitalize(),
                    authors=[f"Ana {rng.choice(FAMILIES)}" for _ in range(rng.randint(1, 6))],
                    date=f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}",
                    venue=rng.choice(["", "NeurIPS 2023", "ICLR 2024"]),
                )
                paper = fetching.paper_by_hand(conn, given)
                papers.insert_paper(conn, paper)
                added.append(paper.id)
            library.record_added(conn, added, library.clock())


def commands(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> Iterator[None]:
    """A user's commands, each yielded once done, for as long as they are wanted."""
    round_ = 0
    while True:
        round_ += 1
        some = rng.sample(ids, min(BATCH, len(ids)))
        library.set_status(conn, some, ReadStatus.READING)
        yield
        library.queue_add(conn, some[: BATCH // 5])
        yield
        notes.change_tags(conn, some, [f"topic-{round_ % 7}"], [])
        yield
        for paper_id in some[:20]:
            notes.add_note(conn, paper_id, f"round {round_}: worth a second look")
        yield
        library.set_status(conn, some, rng.choice([ReadStatus.READ, ReadStatus.SKIPPED]))
        yield
        notes.change_tags(conn, some[: BATCH // 2], [], [f"topic-{round_ % 7}"])
        yield
        library.set_status(conn, some[: BATCH // 5], ReadStatus.UNREAD)
        yield


def make_device_a(folder: Path, shared: Path, wanted: int) -> tuple[int, Counter[str], float]:
    """Device A with about ``wanted`` events written to its file in ``shared``:
    (how many, how many of each kind, seconds it took)."""
    started = time.perf_counter()
    conn = connection.open_database(fresh_database(folder, "a.db"), paths.seed_path())
    sync.write(conn, shared, name="A")  # from now on every command makes events
    rng = random.Random(7)
    saved_clock = library.clock
    ticks = minutes_from(datetime(2025, 1, 1, tzinfo=UTC))
    library.clock = lambda: next(ticks)
    try:
        add_papers_by_hand(conn, max(10, wanted // 50), rng)
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM papers ORDER BY id")]
        for _ in commands(conn, ids, rng):
            if stored.outbox_size(conn) >= wanted:
                break
    finally:
        library.clock = saved_clock
    summary = sync.write(conn, shared)
    conn.close()
    kinds = Counter(
        events.read_event(line.rstrip(b"\n"), summary.device).kind
        for line in sync.own_file(shared, summary.device).read_bytes().splitlines(True)[1:]
    )
    return sum(kinds.values()), kinds, time.perf_counter() - started


# What B must hold after its sync, exactly as A holds it.
STATE = {
    "statuses": "SELECT paper_id, status, changed_at, read_at, read_version FROM reading_state"
    " ORDER BY 1",
    "history": "SELECT paper_id, old_status, new_status, changed_at FROM status_history"
    " ORDER BY 1, 4, 2, 3",
    "notes": "SELECT uid, paper_id, created_at, body FROM notes ORDER BY 1",
    "tags": "SELECT paper_id, tag FROM tags ORDER BY 1, 2",
    "queue": "SELECT paper_id FROM queue ORDER BY position",
    "papers": "SELECT id, title, year FROM papers WHERE origin = 'user' ORDER BY 1",
}


def differences(a: Path, b: Path) -> list[str]:
    """What B does not hold as A does (nothing, when the sync did its work)."""
    found = []
    with sqlite3.connect(a) as one, sqlite3.connect(b) as other:
        for name, sql in STATE.items():
            mine, theirs = one.execute(sql).fetchall(), other.execute(sql).fetchall()
            if mine != theirs:
                found.append(f"{name} ({len(mine):,} on A, {len(theirs):,} on B)")
    return found


def median_time(action: Callable[[], object], runs: int) -> float:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def papercli_command(given: str | None) -> list[str]:
    """The papercli to run: as given, else the one beside this interpreter."""
    if given:
        return [given]
    beside = Path(sys.executable).with_name("papercli")
    found = str(beside) if beside.exists() else shutil.which("papercli")
    return [found] if found else [sys.executable, "-m", "papercli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=TARGET_EVENTS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--papercli", help="the papercli to time `sync DIR` with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shared = folder / "shared"
        shared.mkdir()
        made, kinds, making = make_device_a(folder, shared, args.events)
        size = sum(p.stat().st_size for p in (shared / sync.FOLDER).iterdir())
        mix = ", ".join(f"{kind} {count:,}" for kind, count in kinds.most_common())
        print(f"device A: {made:,} events ({size / 2**20:.1f} MiB) made in {making:.1f} s")
        print(f"  by kind: {mix}")

        b_db = fresh_database(folder, "b.db")
        conn = connection.open_database(b_db, paths.seed_path())
        started = time.perf_counter()
        summary = sync.sync(conn, shared, name="B")
        took = time.perf_counter() - started
        missing = differences(folder / "a.db", b_db)
        if missing:
            sys.exit(f"device B does not hold what device A does: {', '.join(missing)}")
        budget = TARGET_SECONDS * summary.read / TARGET_EVENTS
        print(
            f"device B, first sync: read {summary.read:,} events, applied {summary.applied:,}"
            f" in {took:.2f} s = {summary.read / took:,.0f} events/s"
        )
        print(f"  B now holds what A holds: {', '.join(STATE)} compared row for row")
        print(
            f"  target {TARGET_SECONDS:.0f} s per {TARGET_EVENTS:,} events"
            f" ({budget:.2f} s for these): {took / budget:.2f}x the target time"
        )

        again = median_time(lambda: sync.sync(conn, shared), args.runs)
        if sync.sync(conn, shared).read:
            sys.exit("device B read events again on a sync with nothing new")
        conn.close()
        print(f"device B, nothing new: {again * 1000:.1f} ms (in-process, median of {args.runs})")
        env = {**os.environ, "PAPERCLI_DB": str(b_db)}
        floor = median_time(
            lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), args.runs
        )
        command = papercli_command(args.papercli)
        whole = median_time(
            lambda: subprocess.run(
                [*command, "sync", str(shared)], env=env, check=True, capture_output=True
            ),
            args.runs,
        )
        print(
            f"papercli sync DIR, nothing new: {whole * 1000:.0f} ms = {whole / floor:.1f}x"
            f" the floor ({floor * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    main()
