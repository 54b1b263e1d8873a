"""Make a synthetic papercli database with N extra papers, for the benchmarks.

Usage: python bench/make_db.py N TARGET   (e.g. 1000000 bench/out/1m.db)

The database starts from the shipped catalogue (so `show lora` works) and adds N papers
with realistic field sizes, organizations, topics and some reading state.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from pathlib import Path

from papercli import paths
from papercli.names import name_key, person_key
from papercli.store import base, connection
from papercli.store.migrations import _M003_DAY, M005_COLUMNS, M005_DOCUMENT

WORDS = tuple(
    [
        "attention",
        "transformer",
        "language",
        "model",
        "scaling",
        "retrieval",
        "reasoning",
        "alignment",
        "preference",
        "optimization",
        "sparse",
        "mixture",
        "experts",
        "efficient",
        "inference",
        "quantization",
        "adapter",
        "low",
        "rank",
        "instruction",
        "tuning",
        "reinforcement",
        "learning",
        "human",
        "feedback",
        "chain",
        "thought",
        "prompting",
        "agents",
        "tools",
        "multimodal",
        "vision",
        "code",
        "evaluation",
        "benchmark",
        "safety",
        "distillation",
        "memory",
        "long",
        "context",
        "position",
        "encoding",
        "rotary",
        "diffusion",
        "knowledge",
        "editing",
        "pretraining",
        "corpus",
        "data",
        "curation",
    ]
)


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize()


FAMILIES = ("Chen", "Wang", "Smith", "Müller", "Kumar", "Garcia", "Kim", "Nguyen", "Rossi")
GIVEN = ("Wei", "Anna", "John", "Priya", "Luis", "Min-jun", "Thi", "Marco", "Sara")
# Indexing each paper for search in a trigger takes twice as long (330 s for a million):
# these triggers are off during the load, and the new papers are indexed in two statements.
SEARCH_TRIGGERS = ("papers_search_insert", "paper_authors_search_insert")


def index_new_papers(conn: sqlite3.Connection) -> None:
    """Give every paper without one a search row, as migration 3 does for existing papers
    (docids continue after any paper already indexed on the same day)."""
    day = _M003_DAY.format(date="date")
    conn.execute(
        "INSERT INTO search_docs (docid, paper_id)"
        " SELECT day + row_number() OVER (PARTITION BY day ORDER BY id) - 1 + coalesce("
        "   (SELECT max(docid) + 1 - day FROM search_docs"
        "    WHERE docid >= day AND docid < day + 1000000000), 0), id"
        f" FROM (SELECT id, {day} AS day FROM papers"
        "   WHERE id NOT IN (SELECT paper_id FROM search_docs))"
    )
    conn.execute(
        f"INSERT INTO paper_search ({M005_COLUMNS})"
        f" {M005_DOCUMENT} WHERE d.docid NOT IN (SELECT rowid FROM paper_search)"
    )


class TakenIds:
    """The arXiv ids given so far, in a bitmap of (year-month, digits, number) for the
    new-style ids the papers get (30 MB at any N, where a set of 3 million strings takes
    hundreds of MB), and a set for any other (the catalogue's few)."""

    def __init__(self) -> None:
        self.bits = bytearray(100 * 12 * 2 * 100_000 // 8)
        self.others: set[str] = set()
        self.counts = [0] * (100 * 12 * 2)  # numbers given, by month and number of digits

    def _bit(self, arxiv_id: str) -> int | None:
        yymm, _, number = arxiv_id.partition(".")
        if len(yymm) != 4 or not yymm.isdigit() or len(number) not in (4, 5):
            return None
        if not number.isdigit() or not 1 <= int(yymm[2:]) <= 12:
            return None
        month = int(yymm[:2]) * 12 + int(yymm[2:]) - 1
        return (month * 2 + len(number) - 4) * 100_000 + int(number)

    def __contains__(self, arxiv_id: str) -> bool:
        bit = self._bit(arxiv_id)
        if bit is None:
            return arxiv_id in self.others
        return bool(self.bits[bit >> 3] & (1 << (bit & 7)))

    def add(self, arxiv_id: str) -> None:
        bit = self._bit(arxiv_id)
        if bit is None:
            self.others.add(arxiv_id)
        elif not self.bits[bit >> 3] & (1 << (bit & 7)):
            self.bits[bit >> 3] |= 1 << (bit & 7)
            if arxiv_id[5] != "0":  # one of the numbers a paper made here can get
                self.counts[bit // 100_000] += 1

    def full(self, year: int, month: int, digits: int) -> bool:
        """Whether every number a paper made here can get in that month is taken (the
        search for a free one would never end)."""
        slot = ((year % 100) * 12 + month - 1) * 2 + digits - 4
        return self.counts[slot] >= 9 * 10 ** (digits - 1)


BATCH = 50_000  # papers made and inserted at a time: memory stays the same at any N


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, help="synthetic papers to add to the catalogue's")
    parser.add_argument("target", type=Path, help="the database to write (replaced)")
    args = parser.parse_args()
    count, target = args.count, args.target
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    conn = connection.open_database(target, paths.seed_path())
    orgs = [r[0] for r in conn.execute("SELECT name FROM organizations")]
    topics = [r[0] for r in conn.execute("SELECT name FROM topics")]
    taken = TakenIds()
    for (arxiv_id,) in conn.execute("SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL"):
        taken.add(arxiv_id)
    rng = random.Random(42)
    with base.transaction(conn):
        # The triggers' own SQL, kept from the schema, puts them back after the load.
        triggers = [
            conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
            ).fetchone()[0]
            for name in SEARCH_TRIGGERS
        ]
        for name in SEARCH_TRIGGERS:
            conn.execute(f"DROP TRIGGER {name}")
        serial = 0
        for start in range(0, count, BATCH):
            serial = insert_batch(conn, range(start, min(start + BATCH, count)), serial, taken,
                                  rng, orgs, topics)  # fmt: skip
        conn.execute(
            "INSERT OR IGNORE INTO queue (paper_id, position, added_at)"
            " VALUES ('lora', 1, '2024-01-01')"
        )
        index_new_papers(conn)
        for trigger in triggers:
            conn.execute(trigger)
    # No ANALYZE: papercli never runs it, so a user's database has no statistics, and
    # the benchmarks should meet the query plans users get (statistics taken with an
    # empty queue made every lookup in a queue of 100,000 a walk of all of it).
    conn.close()
    took = time.perf_counter() - started
    print(f"wrote {target}: {count} synthetic papers + the catalogue in {took:.1f} s")


def insert_batch(
    conn: sqlite3.Connection,
    numbers: range,
    serial: int,
    taken: TakenIds,
    rng: random.Random,
    orgs: list[str],
    topics: list[str],
) -> int:
    """Make papers ``numbers`` (with their authors, names, organizations, topics and some
    reading state) and insert them; return the last arXiv serial used. The random draws
    are those a single pass made, so a database of N papers is the same as before."""
    papers, names, paper_orgs, paper_topics, states, authors = [], [], [], [], [], []
    for i in numbers:
        pid = f"synthetic-{i}"
        year = rng.randint(2008, 2025)
        month = rng.randint(1, 12)
        while True:
            # Four-digit serials before 2015, five from then on, as arXiv numbers them.
            digits = 4 if year < 2015 else 5
            if taken.full(year, month, digits):
                # Past about 1.9 million papers a month before 2015 wants more than its
                # 9,000 numbers: the paper moves 7 years on, to the five-digit era.
                year += 7
                continue
            serial += 1
            number = f"{serial % (9 * 10 ** (digits - 1)) + 10 ** (digits - 1):0{digits}d}"
            arxiv_id = f"{year % 100:02d}{month:02d}.{number}"
            if arxiv_id not in taken:
                break
        taken.add(arxiv_id)
        title = sentence(rng, 6, 14)
        short = f"{rng.choice(WORDS).capitalize()}-{i}"
        date = f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
        papers.append(
            (
                pid,
                title,
                short,
                "paper",
                arxiv_id,
                f"https://arxiv.org/abs/{arxiv_id}",
                f"https://arxiv.org/pdf/{arxiv_id}",
                date,
                year,
                sentence(rng, 15, 30),
                "",
                "",
                "user",
                rng.choice(["", "NeurIPS 2023", "ICLR 2024"]),
                None,
                f"synthetic{i}",
                "cs.CL",
                f"{date}T12:00:00Z",
                "",  # venue_title
            )
        )
        for position in range(rng.randint(1, 8)):
            family, given = rng.choice(FAMILIES), rng.choice(GIVEN)
            authors.append(
                (
                    pid,
                    position,
                    f"{given} {family}",
                    family,
                    given,
                    "",
                    0,
                    person_key(family),
                    person_key(given),
                )
            )
        names += [(name_key(pid), pid, pid, 0), (name_key(short), pid, short, 0)]
        for position, org in enumerate(rng.sample(orgs, rng.randint(1, 2))):
            paper_orgs.append((pid, org, position))
        for position, topic in enumerate(rng.sample(topics, rng.randint(1, 3))):
            paper_topics.append((pid, topic, position))
        if rng.random() < 0.1:
            status, changed_at = rng.choice(["read", "reading", "skipped"]), f"{date}T12:00:00Z"
            read_at = changed_at if status == "read" else None
            states.append((pid, status, changed_at, read_at, None))
    conn.executemany(f"INSERT INTO papers VALUES ({', '.join('?' * 19)})", papers)
    conn.executemany(f"INSERT INTO paper_authors VALUES ({', '.join('?' * 9)})", authors)
    conn.executemany("INSERT OR IGNORE INTO paper_names VALUES (?, ?, ?, ?)", names)
    conn.executemany("INSERT INTO paper_orgs VALUES (?, ?, ?)", paper_orgs)
    conn.executemany("INSERT INTO paper_topics VALUES (?, ?, ?)", paper_topics)
    conn.executemany("INSERT INTO reading_state VALUES (?, ?, ?, ?, ?)", states)
    return serial


if __name__ == "__main__":
    sqlite3.enable_callback_tracebacks(True)
    main()
