"""Time every bulk command at several database sizes next to a stdlib-only script doing the
same job on the same file, and show how each grows (issue 17: within 2x of the script, no
super-linear step).

Usage:
  python bench/curve.py [--sizes 10k,100k,1m] [--only NAME,...] [--papercli PATH]

  --sizes    which of bench/out/{10k,100k,1m,3m}.db to use (built by bench/make_db.py;
             default 10k,100k)
  --only     a comma-separated subset of the command names in COMMANDS below (e.g.
             "list ids,undo,export csv")
  --papercli the papercli to time (default: bench/out/venv/bin/papercli, from
             bench/wheel_venv.sh); its python runs the stdlib scripts

Each command runs once per size as a whole process (papercli) and once as its stdlib
script (`python bench/curve.py --stdlib NAME ...`: sqlite3, json and csv only, or
bench/export_bench.py's exporters), stdout to /dev/null (`list table` is the plain table
papercli prints to a pipe), after the database file has been read once so that both find
a warm page cache. The table shows both times, papercli's peak memory (the child's
maximum RSS, which counts this process's ~20 MB at the fork) and their ratio. Then, for
each command, the growth between sizes: (t(big) / t(small)) / (papers(big) /
papers(small)); 1 is linear, above 1 grows faster than the library (start-up, ~0.1 s,
makes the first step look better than linear for fast commands).

The databases are never written: a command that writes runs on a fresh copy (in
bench/out/curve/, removed afterwards), papercli and the script each on their own. The
scripts do the same reads and the same writes (the same rows in the same tables, in one
transaction), but in bulk where papercli goes paper by paper, and without its checks;
they are the floor for the work, not byte-identical copies. Two are lighter than a real
reader: the BibTeX script reads papercli's own export line by line (no BibTeX parser;
`import bibtex (vs bibtexparser)` times the same import against a script that parses the
file with bibtexparser, papercli's parser, and then matches as the other does),
and the JSON import does not re-read a paper it just added to record its undo step.

Inputs, made once per size: every 10th paper's id (mark-read's stdin, ~10%), every
paper's arXiv id (import of ids), and papercli's JSON and BibTeX exports (the imports;
the timed `export` writes them when it runs first). `import json (restore)` imports the
JSON export into a copy whose reading state is cleared (it restores ~10% of statuses and
matches the rest); `import json (new)` imports it into a database with only the
catalogue (every paper added). `import bibtex (new)` imports the BibTeX export without
its arXiv ids, DOIs and URLs (`typed.bib`: papers typed in, each added as it is read)
into that database; its script gives each an id and a citation key from its title, free
among those taken. `undo` and `redo` replay that `mark-read -`, `undo (import
new)` and `redo (import new)` that import; `sync DIR`
is a fresh device's first sync into an empty folder (every paper a user added, every
status and the queue become events); `sync DIR (new device)` is a database with only the
catalogue syncing with that folder (`sync-folder`, the library's first sync): it reads
every event and adds every paper.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import export_bench  # noqa: E402  (the stdlib exporters)

OUT = BENCH / "out"
WORK = OUT / "curve"
CURVE, EXPORTER = str(Path(__file__).resolve()), str(BENCH / "export_bench.py")
SIDES = ("papercli", "stdlib")
SUFFIX = {"json": "json", "csv": "csv", "bibtex": "bib", "csl-json": "json", "ris": "ris"}


@dataclass
class Job:
    """Where one run of a command works: its database, an output file, a sync folder, and
    the inputs made for this size."""

    db: Path
    out: Path
    folder: Path
    inputs: Path  # the folder of this size's inputs

    def input(self, name: str) -> str:
        return str(self.inputs / name)


@dataclass(frozen=True)
class Command:
    name: str
    papercli: Callable[[Job], list[str]]  # arguments after `papercli --db DB`
    stdlib: Callable[[Job], list[str]]  # arguments after `python`
    database: str = "read"  # read (the benchmark db) | copy | no-state (copy) | empty
    setup: tuple[str, ...] = ()  # commands run first (untimed) on the same copy
    stdin: str | None = None  # an input file fed on stdin
    needs: tuple[str, ...] = ()  # inputs to make first
    folder: str | None = None  # an input folder the sync folder starts as a copy of


def export(fmt: str) -> Command:
    return Command(
        f"export {fmt}",
        lambda j: ["export", "--format", fmt, "-o", str(j.out)],
        lambda j: [EXPORTER, "--stdlib", fmt, str(j.db), str(j.out)],
    )


def script(name: str, *args: str) -> Callable[[Job], list[str]]:
    """``python bench/curve.py --stdlib NAME DB ARGS``, ARGS naming inputs or `out`/`folder`."""

    def argv(j: Job) -> list[str]:
        given = [str(getattr(j, a)) if a in ("out", "folder") else j.input(a) for a in args]
        return [CURVE, "--stdlib", name, str(j.db), *given]

    return argv


COMMANDS = [
    *(export(fmt) for fmt in export_bench.FORMATS),
    Command(
        "import json (restore)",
        lambda j: ["import", j.input("export.json")],
        script("import-json", "export.json"),
        database="no-state",
        needs=("export.json",),
    ),
    Command(
        "import json (new)",
        lambda j: ["import", j.input("export.json")],
        script("import-json", "export.json"),
        database="empty",
        needs=("export.json",),
    ),
    Command(
        "import bibtex",
        lambda j: ["import", j.input("export.bib")],
        script("import-bibtex", "export.bib"),
        database="copy",
        needs=("export.bib",),
    ),
    Command(
        "import bibtex (vs bibtexparser)",
        lambda j: ["import", j.input("export.bib")],
        script("import-bibtex-parsed", "export.bib"),
        database="copy",
        needs=("export.bib",),
    ),
    Command(
        "import bibtex (new)",
        lambda j: ["import", j.input("typed.bib")],
        script("import-bibtex-new", "typed.bib"),
        database="empty",
        needs=("typed.bib",),
    ),
    Command(
        "import ids",
        lambda j: ["import", "--format", "text", j.input("arxiv-ids.txt")],
        script("import-ids", "arxiv-ids.txt"),
        database="copy",
        needs=("arxiv-ids.txt",),
    ),
    *(
        Command(f"list {fmt}", lambda j, f=fmt: ["list", "--format", f], script(f"list-{fmt}"))
        for fmt in ("json", "csv", "ids", "table")
    ),
    Command(
        "mark-read -",
        lambda j: ["mark-read", "-"],
        script("mark-read"),
        database="copy",
        stdin="ids.txt",
        needs=("ids.txt",),
    ),
    Command(
        "undo",
        lambda j: ["undo"],
        script("undo"),
        database="copy",
        setup=("mark-read -",),
        needs=("ids.txt",),
    ),
    Command(
        "redo",
        lambda j: ["redo"],
        script("redo"),
        database="copy",
        setup=("mark-read -", "undo"),
        needs=("ids.txt",),
    ),
    Command(
        "undo (import new)",
        lambda j: ["undo"],
        script("undo"),
        database="empty",
        setup=("import json (new)",),
        needs=("export.json",),
    ),
    Command(
        "redo (import new)",
        lambda j: ["redo"],
        script("redo"),
        database="empty",
        setup=("import json (new)", "undo (import new)"),
        needs=("export.json",),
    ),
    Command(
        "queue add --since 2024",
        lambda j: ["queue", "add", "--since", "2024"],
        lambda j: [CURVE, "--stdlib", "queue-add", str(j.db), "2024"],
        database="copy",
    ),
    Command("db backup", lambda j: ["db", "backup", str(j.out)], script("backup", "out")),
    Command(
        "sync DIR (first)",
        lambda j: ["sync", str(j.folder), "--name", "bench"],
        script("sync", "folder"),
        database="copy",
    ),
    Command(
        "sync DIR (new device)",
        lambda j: ["sync", str(j.folder), "--name", "new"],
        script("sync-read", "folder"),
        database="empty",
        needs=("sync-folder",),
        folder="sync-folder",
    ),
]
BY_NAME = {command.name: command for command in COMMANDS}


# --- Running ---------------------------------------------------------------------------


def measure(argv: list[str], env: dict[str, str], stdin: str | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process, as export_bench.measure, with stdin
    from a file; a failure stops the benchmark with the child's stderr."""
    with open(stdin or os.devnull, "rb") as given:
        started = time.perf_counter()
        child = subprocess.Popen(
            argv, env=env, stdin=given, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"failed: {' '.join(argv)}\n{errors.decode(errors='replace')[-3000:]}")
    return took, usage.ru_maxrss / 1024


def warm(db: Path) -> None:
    """Read the database file once, so that neither side pays for a cold page cache (the
    side that ran first did: `list ids` at a million papers took 1.1 s cold, 0.35-0.5 s
    warm). A small buffer: a child's peak memory counts this process's at the fork."""
    buffer = bytearray(1 << 20)
    with open(db, "rb", buffering=0) as handle:
        while handle.readinto(buffer):
            pass


@dataclass
class Runner:
    papercli: str
    python: str
    env: dict[str, str]
    # The copies the last command left, by side and the commands run on them.
    leftover: dict[tuple[str, tuple[str, ...]], Path] = field(default_factory=dict)

    def argv(self, side: str, command: Command, job: Job) -> list[str]:
        if side == "papercli":
            return [self.papercli, "--db", str(job.db), *command.papercli(job)]
        return [self.python, *command.stdlib(job)]

    def database(self, side: str, command: Command, db: Path, inputs: Path) -> Path:
        """The database ``command`` runs on: the benchmark's own, or a fresh copy as it
        asks, with its setup commands run on it first by the same side."""
        if command.database == "read":
            return db
        copy = WORK / f"{side}.db"
        shutil.copy(inputs / "empty.db" if command.database == "empty" else db, copy)
        if command.database == "no-state":
            conn = sqlite3.connect(copy)
            with conn:
                conn.execute("DELETE FROM reading_state")
            conn.close()
        for name in command.setup:
            before = BY_NAME[name]
            job = Job(copy, WORK / f"{side}.out", WORK, inputs)
            stdin = before.stdin and job.input(before.stdin)
            measure(self.argv(side, before, job), self.env, stdin)
        return copy

    def forget(self) -> None:
        for path in self.leftover.values():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        self.leftover.clear()

    def run(self, command: Command, db: Path, inputs: Path) -> dict[str, tuple[float, float]]:
        """Time papercli, then the stdlib script: {side: (seconds, peak MB)}."""
        # The copies the last command left, when that command was the end of this one's
        # setup; the others are no longer wanted.
        kept = {side: self.leftover.pop((side, command.setup), None) for side in SIDES}
        self.forget()
        databases = {side: kept[side] or self.database(side, command, db, inputs) for side in SIDES}
        times = {}
        for side, database in databases.items():
            job = Job(database, WORK / f"{side}.out", WORK / f"{side}-sync", inputs)
            if command.name in ("export json", "export bibtex") and side == "papercli":
                job.out = inputs / f"export.{SUFFIX[command.name.split()[1]]}"  # imports' input
            shutil.rmtree(job.folder, ignore_errors=True)
            if command.folder:
                shutil.copytree(inputs / command.folder, job.folder)
            else:
                job.folder.mkdir()
            stdin = command.stdin and job.input(command.stdin)
            warm(job.db)
            times[side] = measure(self.argv(side, command, job), self.env, stdin)
            if database != db:
                self.leftover[(side, (*command.setup, command.name))] = database
            if job.out.parent == WORK:
                job.out.unlink(missing_ok=True)
            shutil.rmtree(job.folder, ignore_errors=True)
        return times

    def make_input(self, name: str, db: Path, inputs: Path) -> None:
        """One of this size's inputs, unless it is there already."""
        target = inputs / name
        if target.exists():
            return
        if name in ("export.json", "export.bib"):
            fmt = "json" if name.endswith("json") else "bibtex"
            argv = [self.papercli, "--db", str(db), "export", "--format", fmt, "-o", str(target)]
            measure(argv, self.env)
            return
        if name == "sync-folder":  # the library's first sync, for a new device to read
            copy = WORK / "first-sync.db"
            shutil.copy(db, copy)
            target.mkdir()
            measure(
                [self.papercli, "--db", str(copy), "sync", str(target), "--name", "old"], self.env
            )
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            return
        if name == "typed.bib":  # as if typed in: no field that names it on arXiv or by DOI
            self.make_input("export.bib", db, inputs)
            # Line by line: held whole, the file would stay in this process's memory, which
            # every child's peak counts from the fork on.
            with (
                (inputs / "export.bib").open(encoding="utf-8") as bib,
                target.open("w", encoding="utf-8") as typed,
            ):
                typed.writelines(line for line in bib if not ID_FIELD.match(line))
            return
        conn = sqlite3.connect(db)
        if name == "ids.txt":
            rows = conn.execute("SELECT id FROM papers WHERE rowid % 10 = 0 ORDER BY rowid")
        else:  # arxiv-ids.txt
            rows = conn.execute("SELECT arxiv_id FROM papers WHERE arxiv_id IS NOT NULL")
        target.write_text("".join(f"{value}\n" for (value,) in rows))
        conn.close()


def growth(small: tuple[int, float], big: tuple[int, float]) -> float:
    """How much faster than the library a time grew: 1 when linear."""
    return (big[1] / small[1]) / (big[0] / small[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--only", help="comma-separated command names")
    parser.add_argument("--papercli", default=str(OUT / "venv" / "bin" / "papercli"))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BY_NAME)
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown commands {unknown}; known: {', '.join(BY_NAME)}")
    commands = [BY_NAME[name] for name in names]
    python = str(Path(args.papercli).with_name("python"))
    if not Path(python).exists():
        python = sys.executable
    env = {**os.environ, "PAPERCLI_PAGER": "", "COLUMNS": "120"}
    env.pop("PAPERCLI_SYNC_DIR", None)
    runner = Runner(args.papercli, python, env)
    print(f"papercli: {args.papercli}\nstdlib scripts: {python} {CURVE}\n")
    print(f"{'command':<32} {'size':>5} {'papers':>9} {'papercli s':>10} {'MB':>5}"
          f" {'stdlib s':>9} {'ratio':>6}")  # fmt: skip
    results: dict[str, list[tuple[str, int, float, float]]] = {c.name: [] for c in commands}
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        for size in args.sizes.split(","):
            db = OUT / f"{size}.db"
            inputs = WORK / f"inputs-{size}"
            shutil.rmtree(inputs, ignore_errors=True)
            inputs.mkdir()
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                (count,) = conn.execute("SELECT count(*) FROM papers").fetchone()
            conn.close()
            if any(c.database == "empty" for c in commands):
                empty = inputs / "empty.db"  # a database with only the catalogue
                measure([args.papercli, "--db", str(empty), "list", "--limit", "1"], env)
            for command in commands:
                for name in command.needs:
                    runner.make_input(name, db, inputs)
                times = runner.run(command, db, inputs)
                (took, peak), (floor, _) = times["papercli"], times["stdlib"]
                results[command.name].append((size, count, took, floor))
                print(
                    f"{command.name:<32} {size:>5} {count:>9,} {took:10.2f} {peak:5.0f}"
                    f" {floor:9.2f} {took / floor:6.2f}",
                    flush=True,
                )
            runner.forget()
            shutil.rmtree(inputs, ignore_errors=True)
    finally:
        runner.forget()
        for leftover in WORK.glob("*-sync"):
            shutil.rmtree(leftover, ignore_errors=True)
    print("\ngrowth per step, (t(big)/t(small)) / (papers(big)/papers(small)); 1 = linear")
    print(f"{'command':<32} {'step':<12} {'papercli':>9} {'stdlib':>7}")
    for name, rows in results.items():
        for small, big in pairwise(rows):
            step = f"{small[0]}->{big[0]}"
            mine = growth((small[1], small[2]), (big[1], big[2]))
            theirs = growth((small[1], small[3]), (big[1], big[3]))
            print(f"{name:<32} {step:<12} {mine:9.2f} {theirs:7.2f}")


# --- The stdlib scripts ----------------------------------------------------------------------
# Each takes the database first. They print what papercli prints (to the same /dev/null).

SEP, UNIT = "\x1f", "\x1e"
LATEST_VERSION = (
    "(SELECT max(version) FROM (SELECT version FROM arxiv_meta WHERE paper_id = {paper}"
    " UNION ALL SELECT version FROM announced_versions WHERE paper_id = {paper}))"
)
IN_IDS = "IN (SELECT value FROM json_each(?))"
LISTING = f"""
SELECT p.id, p.short_name, p.title, p.year, p.date, p.kind, p.arxiv_id, p.url, p.pdf_url,
    coalesce(s.status, 'unread'),
    (SELECT group_concat(org, '{SEP}') FROM
        (SELECT org FROM paper_orgs WHERE paper_id = p.id ORDER BY position)),
    (SELECT group_concat(topic, '{SEP}') FROM
        (SELECT topic FROM paper_topics WHERE paper_id = p.id ORDER BY position)),
    s.read_version, {LATEST_VERSION.format(paper="p.id")}, p.venue,
    (SELECT group_concat(family || '{UNIT}' || name, '{SEP}') FROM
        (SELECT family, name FROM paper_authors WHERE paper_id = p.id ORDER BY position))
FROM papers p LEFT JOIN reading_state s ON s.paper_id = p.id
ORDER BY p.year, p.date, p.id
"""


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(db: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def summaries(conn: sqlite3.Connection) -> Iterator[dict[str, object]]:
    """Every paper's listing record (`list --format json`), in date order."""
    for row in conn.execute(LISTING):
        pid, short, title, year, date, kind, arxiv_id, url, pdf, status = row[:10]
        orgs, topics, read_version, latest, venue, authors = row[10:]
        newer = latest if status == "read" and read_version and latest > read_version else None
        yield {
            "id": pid, "short_name": short, "title": title,
            "authors": [a.partition(UNIT)[2] for a in authors.split(SEP)] if authors else [],
            "venue": venue, "year": year, "date": date, "kind": kind,
            "organizations": orgs.split(SEP) if orgs else [],
            "topics": topics.split(SEP) if topics else [],
            "arxiv_id": arxiv_id, "url": url, "pdf_url": pdf, "status": status,
            "newer_version": newer,
        }  # fmt: skip


def write_chunks(lines: Iterator[str]) -> None:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == 1000:
            sys.stdout.write("\n".join(chunk) + "\n")
            chunk = []
    if chunk:
        sys.stdout.write("\n".join(chunk) + "\n")


def list_ids(db: str) -> None:
    conn = connect(db)
    rows = conn.execute(
        "SELECT p.id FROM papers p LEFT JOIN reading_state s ON s.paper_id = p.id"
        " ORDER BY p.year, p.date, p.id"
    )
    write_chunks(pid for (pid,) in rows)


def list_json(db: str) -> None:
    items = (
        "  " + json.dumps(r, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        for r in summaries(connect(db))
    )
    sys.stdout.write("[\n")
    write_chunks(_commas(items))
    sys.stdout.write("]\n")


def _commas(items: Iterator[str]) -> Iterator[str]:
    previous = next(items, None)
    for item in items:
        yield previous + ","
        previous = item
    if previous is not None:
        yield previous


def list_csv(db: str) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    first = True
    for record in summaries(connect(db)):
        if first:
            writer.writerow(record)
            first = False
        writer.writerow(
            "; ".join(map(str, v)) if isinstance(v, list) else "" if v is None else v
            for v in record.values()
        )


def list_table(db: str) -> None:
    """Plain columns, as wide as the first 1,000 rows need (papercli's piped table)."""
    headers = ["id", "short name", "title", "authors", "year", "organizations", "topics", "status"]
    rows = (
        [
            r["id"], r["short_name"], r["title"],
            f"{r['authors'][0].split()[-1]} et al." if r["authors"] else "",
            str(r["year"]), ", ".join(r["organizations"]), ", ".join(r["topics"]),
            r["status"],
        ]
        for r in summaries(connect(db))
    )  # fmt: skip
    first = [headers]
    for row in rows:
        first.append(row)
        if len(first) > 1000:
            break
    widths = [max(len(str(row[i])) for row in first) for i in range(len(headers))]

    def line(row: list[object]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    write_chunks(line(row) for row in [*first, *rows])


def resolve_ids(conn: sqlite3.Connection, refs: list[str]) -> list[str]:
    """The refs that are paper ids (all of them, here), in order, once each."""
    found = {
        pid
        for (pid,) in conn.execute(f"SELECT id FROM papers WHERE id {IN_IDS}", (json.dumps(refs),))
    }
    missing = [ref for ref in refs if ref not in found]
    if missing:
        sys.exit(f"not paper ids: {missing[:5]}")
    return list(dict.fromkeys(refs))


def states(conn: sqlite3.Connection, ids: list[str]) -> dict[str, list[object]]:
    return {
        row[0]: list(row[1:])
        for row in conn.execute(
            "SELECT paper_id, status, changed_at, read_at, read_version FROM reading_state"
            f" WHERE paper_id {IN_IDS}",
            (json.dumps(ids),),
        )
    }


def queue_positions(conn: sqlite3.Connection, ids: list[str]) -> dict[str, int]:
    return dict(
        conn.execute(
            f"SELECT paper_id, position FROM queue WHERE paper_id {IN_IDS}", (json.dumps(ids),)
        )
    )


def step(batch: int, kind: str, pid: str, before: object, after: object) -> tuple[object, ...]:
    return (batch, kind, pid, json.dumps({"before": before, "after": after}, ensure_ascii=False))


STEP = "INSERT INTO undo_steps (batch, action, paper_id, data) VALUES (?, ?, ?, ?)"


def begin(conn: sqlite3.Connection, command: str, at: str) -> int:
    conn.execute("BEGIN IMMEDIATE")
    cursor = conn.execute(
        "INSERT INTO command_log (command, summary, at) VALUES (?, '', ?)", (command, at)
    )
    return int(cursor.lastrowid or 0)


def finish(conn: sqlite3.Connection, batch: int, summary: str, changed: bool) -> None:
    if changed:
        conn.execute("UPDATE command_log SET summary = ? WHERE batch = ?", (summary, batch))
        conn.execute("UPDATE command_log SET redoable = 0 WHERE redoable AND batch != ?", (batch,))
    else:
        conn.execute("DELETE FROM command_log WHERE batch = ?", (batch,))
    conn.execute("COMMIT")


def mark_read(db: str) -> None:
    conn = connect(db)
    ids = resolve_ids(conn, [line.strip() for line in sys.stdin if line.strip()])
    at = now()
    batch = begin(conn, "mark-read", at)
    before = states(conn, ids)
    positions = queue_positions(conn, ids)
    changed = [pid for pid in ids if before.get(pid, ["unread"])[0] != "read"]
    latest = LATEST_VERSION.format(paper="?1")
    conn.executemany(
        "INSERT INTO reading_state (paper_id, status, changed_at, read_at, read_version)"
        f" VALUES (?1, 'read', ?2, ?2, {latest}) ON CONFLICT(paper_id) DO UPDATE SET"
        " status = 'read', changed_at = excluded.changed_at, read_at = excluded.read_at,"
        " read_version = coalesce(excluded.read_version, reading_state.read_version)",
        [(pid, at) for pid in changed],
    )
    conn.executemany(
        "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at,"
        " queue_position) VALUES (?, ?, ?, 'read', ?, ?)",
        [(batch, pid, before.get(pid, ["unread"])[0], at, positions.get(pid)) for pid in changed],
    )
    after = states(conn, changed)
    conn.executemany(STEP, [step(batch, "state", p, before.get(p), after[p]) for p in changed])
    dequeued = sorted(
        (p for p in changed if p in positions), key=positions.__getitem__, reverse=True
    )
    conn.executemany(STEP, [step(batch, "queue", p, positions[p], None) for p in dequeued])
    conn.execute(f"DELETE FROM queue WHERE paper_id {IN_IDS}", (json.dumps(dequeued),))
    conn.execute(
        "UPDATE queue SET position = r.n FROM (SELECT paper_id, row_number() OVER"
        " (ORDER BY position) AS n FROM queue) AS r WHERE queue.paper_id = r.paper_id"
    )
    finish(conn, batch, f"marked {', '.join(changed[:5])} read", bool(changed))
    write_chunks(f"{pid}: {before.get(pid, ['unread'])[0]} -> read" for pid in changed)


# The tables holding rows of a paper, besides papers and announced_versions.
PAPER_ROWS = (
    "paper_names", "paper_authors", "paper_orgs", "paper_topics", "paper_sources", "prerequisites",
    "arxiv_meta", "arxiv_authors", "reading_state", "notes", "tags", "queue",
)  # fmt: skip


def replay(db: str, side: str) -> None:
    """undo (side "before") or redo ("after") of the last batch, as changes.undo/redo do
    for the steps mark-read and an import of new papers make: state, queue and paper
    (removed in bulk, or put back from the step's copy)."""
    conn = connect(db)
    conn.execute("BEGIN IMMEDIATE")
    if side == "before":
        sql = "SELECT batch FROM command_log WHERE undone_at IS NULL ORDER BY batch DESC LIMIT 1"
    else:
        sql = (
            "SELECT batch FROM command_log WHERE undone_at IS NOT NULL AND redoable"
            " ORDER BY undone_at DESC, batch ASC LIMIT 1"
        )
    (batch,) = conn.execute(sql).fetchone()
    order = "DESC" if side == "before" else "ASC"
    steps = conn.execute(
        f"SELECT action, paper_id, data FROM undo_steps WHERE batch = ? ORDER BY id {order}",
        (batch,),
    ).fetchall()
    values = [(kind, pid, json.loads(data)[side]) for kind, pid, data in steps]
    gone = json.dumps([pid for kind, pid, value in values if kind == "paper" and value is None])
    conn.execute(f"DELETE FROM announced_versions WHERE paper_id {IN_IDS}", (gone,))
    conn.execute(f"DELETE FROM papers WHERE id {IN_IDS}", (gone,))
    for table in PAPER_ROWS:
        conn.execute(f"DELETE FROM {table} WHERE paper_id {IN_IDS}", (gone,))
    conn.execute(f"DELETE FROM prerequisites WHERE prereq_id {IN_IDS}", (gone,))
    back = [value["paper"] for kind, _, value in values if kind == "paper" and value is not None]
    insert_papers(conn, back)
    state = [(pid, value) for kind, pid, value in values if kind == "state"]
    conn.executemany("DELETE FROM reading_state WHERE paper_id = ?", [(pid,) for pid, _ in state])
    conn.executemany(
        "INSERT INTO reading_state (paper_id, status, changed_at, read_at, read_version)"
        " VALUES (?, ?, ?, ?, ?)",
        [(pid, *value) for pid, value in state if value is not None],
    )
    for kind, pid, position in values:
        if kind == "queue":
            conn.execute("DELETE FROM queue WHERE paper_id = ?", (pid,))
            if position is not None:
                conn.execute(
                    "UPDATE queue SET position = position + 1 WHERE position >= ?", (position,)
                )
                conn.execute(
                    "INSERT INTO queue (paper_id, position, added_at) VALUES (?, ?, ?)",
                    (pid, position, now()),
                )
    if side == "before":
        conn.execute(
            "UPDATE command_log SET undone_at = ?, redoable = 1 WHERE batch = ?", (now(), batch)
        )
    else:
        conn.execute("UPDATE command_log SET undone_at = NULL WHERE batch = ?", (batch,))
    (summary,) = conn.execute(
        "SELECT summary FROM command_log WHERE batch = ?", (batch,)
    ).fetchone()
    rows = conn.execute(
        "SELECT h.paper_id, coalesce(p.title, ''), h.old_status, h.new_status FROM status_history h"
        " LEFT JOIN papers p ON p.id = h.paper_id WHERE h.batch = ? ORDER BY h.id",
        (batch,),
    ).fetchall()
    conn.execute("COMMIT")
    done = "undone" if side == "before" else "redone"
    print(f"{done}: {summary}")
    write_chunks(f"{pid}: {new} -> {old} ({done})" for pid, _, old, new in rows)


def queue_add(db: str, since: str) -> None:
    conn = connect(db)
    ids = [
        pid
        for (pid,) in conn.execute(
            "SELECT p.id FROM papers p LEFT JOIN reading_state s ON s.paper_id = p.id"
            " WHERE p.year >= ? ORDER BY p.year, p.date, p.id",
            (int(since),),
        )
    ]
    at = now()
    batch = begin(conn, "queue add", at)
    queued = queue_positions(conn, ids)
    current = {pid: value[0] for pid, value in states(conn, ids).items()}
    added = [p for p in ids if p not in queued and current.get(p) != "read"]
    (length,) = conn.execute("SELECT count(*) FROM queue").fetchone()
    places = [(pid, length + 1 + i) for i, pid in enumerate(added)]
    conn.executemany(
        "INSERT INTO queue (paper_id, position, added_at) VALUES (?, ?, ?)",
        [(pid, place, at) for pid, place in places],
    )
    conn.executemany(STEP, [step(batch, "queue", pid, None, place) for pid, place in places])
    finish(conn, batch, f"queued {', '.join(added[:5])}", bool(added))
    write_chunks(f"queued {pid}" for pid in added)
    read = [p for p in ids if p not in queued and current.get(p) == "read"]
    print(f"not queued, already read: {', '.join(read)}", file=sys.stderr)


def backup(db: str, target: str) -> None:
    """VACUUM INTO a name beside the target, fsync, rename (as `db backup`)."""
    conn = sqlite3.connect(db)
    tmp = f"{target}.tmp-backup"
    Path(tmp).unlink(missing_ok=True)
    conn.execute("VACUUM INTO ?", (tmp,))
    fd = os.open(tmp, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, target)
    print(f"backed up to {target}")


ARXIV_ID = re.compile(
    r"^(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)?"
    r"(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(?:v\d+)?(?:\.pdf)?/?$",
    re.IGNORECASE,
)


def ids_by_arxiv(conn: sqlite3.Connection, arxiv_ids: list[str]) -> dict[str, str]:
    return dict(
        conn.execute(
            f"SELECT arxiv_id, id FROM papers WHERE arxiv_id {IN_IDS}", (json.dumps(arxiv_ids),)
        )
    )


def import_ids(db: str, path: str) -> None:
    ids = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        item = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if item:
            found = ARXIV_ID.match(item)
            if not found:
                sys.exit(f"line {number}: not an arXiv id; nothing was imported")
            ids.append(found[1])
    ids = list(dict.fromkeys(ids))
    known = ids_by_arxiv(connect(db), ids)
    new = [i for i in ids if i not in known]
    if new:
        sys.exit(f"{len(new)} ids would need arXiv")
    print(f"restored 0, added 0, already there {len(known)}, not found 0", file=sys.stderr)


BIB_ENTRY = re.compile(r"^@(\w+)\{([^,\n]*),\n(.*?)\n\}$", re.MULTILINE | re.DOTALL)
BIB_FIELD = re.compile(r"^\s*(\w+)\s*=\s*(.*?),?$", re.MULTILINE)
LATEX_ESCAPE = re.compile(r"\\([&%$#_{}])")


def import_bibtex(db: str, path: str) -> None:
    """Entries matched by arXiv id, else DOI, else title (papercli's own export, read line
    by line: this is no BibTeX parser)."""
    entries = []
    for entry in BIB_ENTRY.finditer(Path(path).read_text(encoding="utf-8")):
        fields = {}
        for key, value in BIB_FIELD.findall(entry[3]):
            fields[key.lower()] = plain(value)
        entries.append((entry[2], fields))
    match_bibtex(connect(db), entries)


def import_bibtex_parsed(db: str, path: str) -> None:
    """``import_bibtex`` with the file read by bibtexparser (not the standard library):
    papercli's parser, whole file at once, with its default middlewares."""
    import bibtexparser

    entries = [
        (entry.key, {f.key.lower(): plain(str(f.value)) for f in entry.fields})
        for entry in bibtexparser.parse_file(path).entries
    ]
    match_bibtex(connect(db), entries)


ID_FIELD = re.compile(r"\s*(eprint|archiveprefix|primaryclass|url|doi)\s*=", re.IGNORECASE)


def import_bibtex_new(db: str, path: str) -> None:
    """``import_bibtex``'s reading and matching by title, then each entry left added as a
    paper of its own (an id and a citation key from its title, free among those taken,
    authors split at their comma), with its undo step."""
    entries = []
    for entry in BIB_ENTRY.finditer(Path(path).read_text(encoding="utf-8")):
        fields = {key.lower(): plain(value) for key, value in BIB_FIELD.findall(entry[3])}
        entries.append((entry[2], fields))
    conn = connect(db)
    batch = begin(conn, "import", now())
    ids = {name_key(pid) for (pid,) in conn.execute("SELECT id FROM papers")}
    keys = {key.lower() for (key,) in conn.execute("SELECT citation_key FROM papers")}
    new, matched = [], 0
    for _, fields in entries:
        if conn.execute(
            "SELECT 1 FROM papers WHERE title = ? COLLATE NOCASE", (fields["title"],)
        ).fetchone():
            matched += 1
            continue
        words = [w for w in NOT_WORD.split(fields["title"].lower()) if w]
        pid = free("-".join(words[:4]), ids)
        ids.add(name_key(pid))
        authors = []
        for name in fields["author"].split(" and "):
            family, _, given = name.partition(", ")
            authors.append(
                {"name": f"{given} {family}".strip(), "family": family, "given": given,
                 "suffix": "", "literal": False}
            )  # fmt: skip
        key = free(f"{authors[0]['family'].lower()}{fields['year']}{words[0]}", keys, "")
        keys.add(key)
        month = MONTHS.get(fields.get("month", ""))
        new.append(
            {"id": pid, "title": fields["title"], "short_name": " ".join(words[:4]),
             "kind": "paper", "arxiv_id": None, "url": None, "pdf_url": None,
             "date": f"{fields['year']}-{month:02d}" if month else fields["year"],
             "year": int(fields["year"]), "why": "", "focus": "", "technique": "",
             "origin": "user", "venue": "", "doi": None, "citation_key": key,
             "primary_category": None, "added_at": now(), "authors": authors, "aliases": [],
             "organizations": [], "topics": [], "sources": [], "prerequisites": []}
        )  # fmt: skip
    add_papers(conn, new, batch)
    finish(conn, batch, f"added {len(new)}", bool(new))
    print(f"restored 0, added {len(new)}, already there {matched}", file=sys.stderr)


MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def free(stem: str, taken: set[str], joiner: str = "-") -> str:
    """``stem``, else ``stem-2``, ``stem-3``... (``stem2``... without a joiner): the first
    not ``taken`` (compared as name keys for ids, in lower case for citation keys). Each
    stem's search starts where its last ended (``taken`` only grows), so that a stem many
    titles share costs no more each time."""
    key = name_key if joiner else str.lower
    n = TRIED.get((stem, joiner), 1)
    while key(found := stem if n == 1 else f"{stem}{joiner}{n}") in taken:
        n += 1
    TRIED[stem, joiner] = n + 1
    return found


TRIED: dict[tuple[str, str], int] = {}


def plain(value: str) -> str:
    """A BibTeX value as text: braces dropped, LaTeX escapes undone, spaces folded."""
    text = LATEX_ESCAPE.sub(r"\1", value).replace("{", "").replace("}", "")
    return " ".join(text.split())


def match_bibtex(conn: sqlite3.Connection, entries: list[tuple[str, dict[str, str]]]) -> None:
    by_arxiv = ids_by_arxiv(conn, [f["eprint"] for _, f in entries if "eprint" in f])
    matched, skipped = [], []
    for key, fields in entries:
        found = by_arxiv.get(fields.get("eprint", ""))
        if found is None and fields.get("doi"):
            row = conn.execute(
                "SELECT id FROM papers WHERE doi = ? COLLATE NOCASE", (fields["doi"],)
            ).fetchone()
            found = row and row[0]
        if found is None and fields.get("title"):
            row = conn.execute(
                "SELECT id FROM papers WHERE title = ? COLLATE NOCASE", (fields["title"],)
            ).fetchone()
            found = row and row[0]
        (matched if found else skipped).append(found or key)
    print(
        f"restored 0, added 0, already there {len(matched)}, skipped {len(skipped)}",
        file=sys.stderr,
    )


NOT_WORD = re.compile(r"[\W_]+")


def name_key(text: str) -> str:
    return NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def person_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(folded.casefold().replace(".", " ").split())


PAPER_COLUMNS = (
    "id", "title", "short_name", "kind", "arxiv_id", "url", "pdf_url", "date", "year", "why",
    "focus", "technique", "origin", "venue", "doi", "citation_key", "primary_category",
    "added_at",
)  # fmt: skip
SNAPSHOT_DROPS = ("history", "categories", "dois", "journal_ref", "comment", "arxiv_version",
                  "arxiv_updated", "fetched_at", "newer_version")  # fmt: skip


def add_papers(conn: sqlite3.Connection, new: list[dict[str, object]], batch: int) -> None:
    """Insert the papers a JSON import adds, and one undo step each holding the paper."""
    insert_papers(conn, new)
    conn.executemany(
        STEP,
        [
            step(batch, "paper", p["id"], None,
                 {"paper": {k: v for k, v in p.items() if k not in SNAPSHOT_DROPS}, "arxiv": None})
            for p in new
        ],
    )  # fmt: skip


def insert_papers(conn: sqlite3.Connection, new: list[dict[str, object]]) -> None:
    """Insert papers as a JSON export or an undo step holds them, their rows first and the
    papers last, as papercli does: the search index's triggers then make each paper's
    document once, not again for each of its authors and names (papers first, the script
    took longer than papercli: 5.8 s against 3.6 for `sync DIR (new device)` at 10k)."""

    def rows(make: Callable[[dict], list[tuple[object, ...]]]) -> list[tuple[object, ...]]:
        return [row for paper in new for row in make(paper)]

    conn.executemany(
        "INSERT INTO paper_authors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows(lambda p: [
            (p["id"], i, a["name"], a["family"] or a["name"], a["given"], a["suffix"],
             int(a["literal"]), person_key(a["family"] or a["name"]), person_key(a["given"]))
            for i, a in enumerate(p["authors"])
        ]),
    )  # fmt: skip
    conn.executemany(
        "INSERT OR IGNORE INTO paper_names VALUES (?, ?, ?, ?)",
        rows(lambda p: [
            (name_key(n), p["id"], n, alias)
            for n, alias in [(p["id"], 0), (p["short_name"], 0), *((a, 1) for a in p["aliases"])]
            if name_key(n)
        ]),
    )  # fmt: skip
    for table, key in (("paper_orgs", "organizations"), ("paper_topics", "topics")):
        conn.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?)",
            rows(lambda p, k=key: [(p["id"], v, i) for i, v in enumerate(p[k])]),
        )
    for table, key in (("paper_sources", "sources"), ("prerequisites", "prerequisites")):
        conn.executemany(
            f"INSERT INTO {table} VALUES (?, ?)",
            rows(lambda p, k=key: [(p["id"], v) for v in p[k]]),
        )
    conn.executemany(
        f"INSERT INTO papers ({', '.join(PAPER_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(PAPER_COLUMNS))})",
        [tuple("user" if c == "origin" else p[c] for c in PAPER_COLUMNS) for p in new],
    )


def import_json(db: str, path: str) -> None:
    """Match each paper by arXiv id, else id; add the missing ones; restore statuses,
    history, tags, notes and queue places that are newer than the database's."""
    papers = json.loads(Path(path).read_text(encoding="utf-8"))["papers"]
    conn = connect(db)
    at = now()
    batch = begin(conn, "import", at)
    by_arxiv = ids_by_arxiv(conn, [p["arxiv_id"] for p in papers if p["arxiv_id"]])
    ids = [p["id"] for p in papers]
    known = {
        pid
        for (pid,) in conn.execute(f"SELECT id FROM papers WHERE id {IN_IDS}", (json.dumps(ids),))
    }
    new = []
    for paper in papers:
        target = by_arxiv.get(paper["arxiv_id"]) or (paper["id"] if paper["id"] in known else None)
        if target is None:
            new.append(paper)
        else:
            paper["id"] = target
    add_papers(conn, new, batch)
    targets = [p["id"] for p in papers]
    current = states(conn, targets)
    restored, steps, history, tags, notes, reading = [], [], [], [], [], []
    for paper in papers:
        pid = paper["id"]
        for entry in paper["history"]:
            history.append((pid, entry["old_status"], entry["new_status"], entry["changed_at"]))
        exported = [paper["status"], paper["status_changed_at"] or at, paper["read_at"],
                    paper["read_version"]]  # fmt: skip
        here = current.get(pid)
        if (paper["status"] != "unread" or paper["status_changed_at"]) and not (
            here is not None and (here == exported or here[1] >= exported[1])
        ):
            steps.append(step(batch, "state", pid, here, exported))
            reading.append((pid, *exported))
            restored.append(pid)
        tags += [(pid, tag) for tag in paper["tags"]]
        notes += [(pid, n["created_at"], n["body"]) for n in paper["notes"]]
    conn.executemany(
        "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at)"
        " SELECT 0, ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM status_history"
        " WHERE paper_id = ?1 AND old_status = ?2 AND new_status = ?3 AND changed_at = ?4)",
        history,
    )
    conn.executemany(STEP, steps)
    conn.executemany("INSERT OR REPLACE INTO reading_state VALUES (?, ?, ?, ?, ?)", reading)
    conn.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)", tags)
    conn.executemany(
        "INSERT INTO notes (paper_id, created_at, body) SELECT ?1, ?2, ?3 WHERE NOT EXISTS"
        " (SELECT 1 FROM notes WHERE paper_id = ?1 AND created_at = ?2 AND body = ?3)",
        notes,
    )
    wanted = sorted((p["queue_position"], p["id"]) for p in papers if p["queue_position"])
    queued = queue_positions(conn, [pid for _, pid in wanted])
    missing = [pid for _, pid in wanted if pid not in queued]
    (length,) = conn.execute("SELECT count(*) FROM queue").fetchone()
    places = [(pid, length + 1 + i) for i, pid in enumerate(missing)]
    conn.executemany(
        "INSERT INTO queue (paper_id, position, added_at) VALUES (?, ?, ?)",
        [(pid, place, at) for pid, place in places],
    )
    conn.executemany(STEP, [step(batch, "queue", pid, None, place) for pid, place in places])
    finish(conn, batch, f"imported {len(papers)} papers", bool(new or restored or missing))
    added = [p["id"] for p in new]
    for label, shown in (("restored", restored), ("added", added), ("queued", missing)):
        if shown:
            print(f"{label}: {', '.join(shown)}")
    print(f"restored {len(restored)}, added {len(new)}", file=sys.stderr)


def hlc_of_time(iso: str) -> str:
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return f"{0:015d}-{0:05d}"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return f"{max(0, int(when.timestamp() * 1000)):015d}-{0:05d}"


def paper_facts(conn: sqlite3.Connection) -> Iterator[tuple[str, str, dict[str, object]]]:
    """(id, added_at, facts) of every paper a user added, as a sync event holds it, read a
    thousand at a time with a query per table."""
    columns = ", ".join(f"p.{c}" for c in PAPER_COLUMNS)
    cursor = conn.execute(f"SELECT {columns} FROM papers p WHERE origin = 'user'")
    lists = {
        "aliases": "SELECT paper_id, name FROM paper_names WHERE is_alias AND paper_id {IN}"
        " ORDER BY paper_id, rowid",
        "organizations": "SELECT paper_id, org FROM paper_orgs WHERE paper_id {IN}"
        " ORDER BY paper_id, position",
        "topics": "SELECT paper_id, topic FROM paper_topics WHERE paper_id {IN}"
        " ORDER BY paper_id, position",
        "sources": "SELECT paper_id, source FROM paper_sources WHERE paper_id {IN}"
        " ORDER BY paper_id, source",
        "prerequisites": "SELECT r.paper_id, r.prereq_id FROM prerequisites r"
        " JOIN papers p ON p.id = r.prereq_id WHERE r.paper_id {IN} ORDER BY r.paper_id, p.date",
    }
    while chunk := cursor.fetchmany(1000):
        found = {row[0]: dict(zip(PAPER_COLUMNS, row, strict=True)) for row in chunk}
        arg = (json.dumps(list(found)),)
        for paper in found.values():
            paper.update({name: [] for name in lists}, authors=[])
        for name, sql in lists.items():
            for pid, value in conn.execute(sql.format(IN=IN_IDS), arg):
                found[pid][name].append(value)
        for pid, name, family, given, suffix, literal in conn.execute(
            "SELECT paper_id, name, family, given, suffix, literal FROM paper_authors"
            f" WHERE paper_id {IN_IDS} ORDER BY paper_id, position",
            arg,
        ):
            author = {"name": name, "affiliations": [], "family": family, "given": given,
                      "suffix": suffix, "literal": bool(literal)}  # fmt: skip
            found[pid]["authors"].append(author)
        for pid, paper in found.items():
            yield pid, str(paper["added_at"] or ""), paper


def sync(db: str, folder: str) -> None:
    """A fresh device's first sync: an event for every register holding something (each
    status, queue place, live history row, note, tag and paper a user added), in the
    outbox and as the register's winner; the outbox written to the device's file; no
    other device's file to read."""
    conn = connect(db)
    device = os.urandom(16).hex()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("sync_device", device), ("sync_device_name", "bench")],
    )
    unkeyed = conn.execute("SELECT paper_id FROM queue ORDER BY position").fetchall()
    conn.executemany(
        "UPDATE queue SET sort_key = ? WHERE paper_id = ?",
        [(f"{i:08d}", pid) for i, (pid,) in enumerate(unkeyed, 1)],
    )
    lines, winners = [], []

    def event(kind: str, key: str, at: str, value: object) -> None:
        hlc = hlc_of_time(at)
        head = {"id": os.urandom(16).hex(), "device": device, "hlc": hlc, "kind": kind, "key": key}
        lines.append(
            (json.dumps({**head, "value": value}, ensure_ascii=False, separators=(",", ":")),)
        )
        winners.append((kind, key, hlc, device))

    for pid, status, changed_at, read_at, version in conn.execute("SELECT * FROM reading_state"):
        value = {
            "status": status,
            "changed_at": changed_at,
            "read_at": read_at,
            "read_version": version,
        }
        event("status", pid, changed_at, value)
    for uid, pid, at, body in conn.execute("SELECT uid, paper_id, created_at, body FROM notes"):
        event("note", uid, at, {"paper": pid, "created_at": at, "body": body})
    for pid, tag in conn.execute("SELECT paper_id, tag FROM tags"):
        event(
            "tag",
            SEP.join((pid, tag.casefold())),
            "1970-01-01T00:00:00Z",
            {"paper": pid, "tag": tag},
        )
    for pid, key, at in conn.execute("SELECT paper_id, sort_key, added_at FROM queue"):
        event("queue", pid, at, {"key": key, "added_at": at})
    for pid, old, new, at in conn.execute(
        "SELECT paper_id, old_status, new_status, changed_at FROM status_history WHERE batch NOT IN"
        " (SELECT batch FROM command_log WHERE undone_at IS NOT NULL)"
    ):
        event(
            "history",
            SEP.join((pid, old, new, at)),
            at,
            {"paper": pid, "old": old, "new": new, "at": at},
        )
    for pid, at, facts in paper_facts(conn):
        event("paper", pid, at or "1970-01-01T00:00:00Z", facts)
    event("device", device, now(), {"name": "bench"})
    conn.executemany("INSERT INTO sync_outbox (line) VALUES (?)", lines)
    conn.executemany("INSERT OR REPLACE INTO sync_registers VALUES (?, ?, ?, ?)", winners)
    conn.execute("COMMIT")
    own = Path(folder) / "papercli" / f"{device}.jsonl"
    own.parent.mkdir(exist_ok=True)
    tmp = own.with_name(f".{own.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(json.dumps({"papercli_sync": 1, "device": device}, separators=(",", ":")) + "\n")
        for (line,) in conn.execute("SELECT line FROM sync_outbox ORDER BY seq"):
            out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, own)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("sync_written_seq", str(len(lines))), ("sync_written_bytes", str(own.stat().st_size)),
         ("sync_written_to", folder), ("sync_dir", folder)],
    )  # fmt: skip
    conn.execute("COMMIT")
    others = [p for p in (Path(folder) / "papercli").glob("*.jsonl") if p.stem != device]
    print(
        f"first sync of bench: {len(lines) - 1:,} changes made here before; {len(others)} devices"
    )


def sync_read(db: str, folder: str) -> None:
    """A new device's first sync beside another device's file: its own device event
    written out, then the other file's events applied a thousand lines at a time in clock
    order (each register's winner looked up; papers added with their rows, then statuses,
    history, notes, tags, queue places and devices' names), each winner and how far the
    file was read kept, and the queue ordered by key."""
    conn = connect(db)
    device, at = os.urandom(16).hex(), now()
    own_hlc = hlc_of_time(at)
    mine = {"id": os.urandom(16).hex(), "device": device, "hlc": own_hlc, "kind": "device",
            "key": device, "value": {"name": "new"}}  # fmt: skip
    line = json.dumps(mine, ensure_ascii=False, separators=(",", ":"))
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("sync_device", device), ("sync_device_name", "new"), ("sync_hlc", own_hlc)],
    )
    conn.execute("INSERT INTO sync_outbox (line) VALUES (?)", (line,))
    conn.execute("INSERT INTO sync_registers VALUES ('device', ?, ?, ?)", (device, own_hlc, device))
    conn.execute("COMMIT")
    own = Path(folder) / "papercli" / f"{device}.jsonl"
    with open(own, "w", encoding="utf-8") as out:
        out.write(json.dumps({"papercli_sync": 1, "device": device}, separators=(",", ":")) + "\n")
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())
    conn.execute("BEGIN IMMEDIATE")
    applied = 0
    for path in (Path(folder) / "papercli").glob("*.jsonl"):
        if path.stem == device:
            continue
        with open(path, "rb") as handle:
            handle.readline()  # the header
            count, last = 0, ""
            while lines := handle.readlines(1 << 20):
                for start in range(0, len(lines), 1000):
                    chunk = [json.loads(line) for line in lines[start : start + 1000]]
                    applied += apply_events(conn, chunk)
                    count += len(chunk)
                    last = max(last, *(e["hlc"] for e in chunk))
            size = handle.tell()
        conn.execute(
            "INSERT INTO sync_peers (device, read_bytes, events, last_hlc, synced_at)"
            " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (device) DO UPDATE SET read_bytes = ?2,"
            " events = ?3, last_hlc = ?4, synced_at = ?5",
            (path.stem, size, count, last, at),
        )
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sync_hlc', ?)", (last,))
    conn.execute(
        "UPDATE queue SET position = ranked.n FROM (SELECT paper_id, row_number() OVER"
        " (ORDER BY sort_key IS NULL, sort_key, paper_id) AS n FROM queue) AS ranked"
        " WHERE queue.paper_id = ranked.paper_id"
    )
    conn.execute("COMMIT")
    print(f"synced new: wrote 1 event, applied {applied:,}")


def apply_events(conn: sqlite3.Connection, chunk: list[dict[str, Any]]) -> int:
    """Apply the events newer than each register's winner; how many."""
    registers = json.dumps([(e["kind"], e["key"]) for e in chunk])
    current = {
        (kind, key): (hlc, device)
        for kind, key, hlc, device in conn.execute(
            "SELECT r.kind, r.key, r.hlc, r.device FROM json_each(?) j JOIN sync_registers r"
            " ON r.kind = json_extract(j.value, '$[0]') AND r.key = json_extract(j.value, '$[1]')",
            (registers,),
        )
    }
    won: dict[tuple[str, str], tuple[str, str]] = {}
    rows: dict[str, list[Any]] = {kind: [] for kind in ("paper", "status", "history", "note",
                                                         "tag", "queue", "device")}  # fmt: skip
    for event in sorted(chunk, key=lambda e: (e["hlc"], e["device"])):
        register, clock = (event["kind"], event["key"]), (event["hlc"], event["device"])
        best = won.get(register) or current.get(register)
        if best is not None and clock <= best:
            continue
        won[register] = clock
        rows[event["kind"]].append(event)
    insert_papers(conn, [{**e["value"], "origin": "user"} for e in rows["paper"]])
    conn.executemany(
        "INSERT OR REPLACE INTO reading_state VALUES (?, ?, ?, ?, ?)",
        [(e["key"], *(e["value"][f] for f in ("status", "changed_at", "read_at", "read_version")))
         for e in rows["status"]],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at)"
        " VALUES (0, ?, ?, ?, ?)",
        [(v["paper"], v["old"], v["new"], v["at"])
         for e in rows["history"] for v in [e["value"]] for _ in range(v.get("count", 1))],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO notes (paper_id, created_at, body, uid) VALUES (?, ?, ?, ?)",
        [(e["value"]["paper"], e["value"]["created_at"], e["value"]["body"], e["key"])
         for e in rows["note"]],
    )  # fmt: skip
    conn.executemany(
        "INSERT OR IGNORE INTO tags VALUES (?, ?)",
        [(e["value"]["paper"], e["value"]["tag"]) for e in rows["tag"]],
    )
    (length,) = conn.execute("SELECT count(*) FROM queue").fetchone()
    conn.executemany(
        "INSERT INTO queue (paper_id, position, added_at, sort_key) VALUES (?, ?, ?, ?)",
        [(e["key"], length + i, e["value"]["added_at"], e["value"]["key"])
         for i, e in enumerate(rows["queue"], 1)],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO sync_peers (device, name) VALUES (?, ?)"
        " ON CONFLICT (device) DO UPDATE SET name = excluded.name",
        [(e["key"], e["value"]["name"]) for e in rows["device"]],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO sync_registers VALUES (?, ?, ?, ?)",
        [(kind, key, hlc, device) for (kind, key), (hlc, device) in won.items()],
    )
    return len(won)


STDLIB: dict[str, Callable[..., None]] = {
    "list-ids": list_ids,
    "list-json": list_json,
    "list-csv": list_csv,
    "list-table": list_table,
    "mark-read": mark_read,
    "undo": lambda db: replay(db, "before"),
    "redo": lambda db: replay(db, "after"),
    "queue-add": queue_add,
    "backup": backup,
    "import-ids": import_ids,
    "import-bibtex": import_bibtex,
    "import-bibtex-parsed": import_bibtex_parsed,
    "import-bibtex-new": import_bibtex_new,
    "import-json": import_json,
    "sync": sync,
    "sync-read": sync_read,
}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stdlib"]:
        STDLIB[sys.argv[2]](*sys.argv[3:])
    else:
        main()
