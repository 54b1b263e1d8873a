"""Time papercli commands as whole processes against the interpreter floor, and against a
stdlib-only script doing the same query on the same file.

Usage:
  python bench/run.py [--runs 21] [--db PATH]... [--papercli PATH]

Each command runs alternately with `python -c pass` (the floor) and with its stdlib script
(`python -c SCRIPT DB`: sqlite3 and the same query, the same rows printed as plain text),
stdout piped. The script prints the median wall time of each, papercli's ratio to the floor,
the stdlib script's, and papercli's to the stdlib script's: how far papercli is from what
the same work costs at the least. `list (terminal)` runs on a pseudo-terminal, so it
measures the Rich table (its stdlib script prints plain columns). `list (default db)`
runs without $PAPERCLI_DB, as a user does: papercli asks platformdirs where its database
is (on Linux only: $XDG_DATA_HOME leads it to a link to the --db). `export bibtex` writes
every paper to stdout, on libraries of at most EXPORT_AT_MOST papers (the issue's target
is the 1,000-paper bench/out/1k.db; bench/export_bench.py times exports at any size); its
stdlib script is bench/export_bench.py's, which writes the file and syncs it. Give several
--db to compare database sizes (see bench/make_db.py). Measure an installed wheel: `bash
bench/wheel_venv.sh` prints the papercli to pass with --papercli.
"""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

COMMANDS = {
    "list --since 2021": ["list", "--since", "2021", "--limit", "50"],
    "show lora": ["show", "lora"],
    "next": ["next"],
    "mark-read lora": ["mark-read", "lora"],
    "list (terminal)": ["list", "--limit", "50"],
    # No --db or $PAPERCLI_DB: what a user runs, paying for platformdirs (Linux only).
    "list (default db)": ["list", "--since", "2021", "--limit", "50"],
    "export bibtex": ["export", "--format", "bibtex"],
}
EXPORT_AT_MOST = 10_000
EXPORT_BENCH = Path(__file__).with_name("export_bench.py")


# The stdlib scripts: sys.argv[1] is the database. Each reads what papercli reads for the
# command (listing columns with organizations, topics and authors; a paper in full; the
# queue's first unread paper) and prints it plainly; mark-read makes the same writes
# (the status, its history, the undo steps, the queue), which `papercli undo` then reverts.
_LISTING = (
    "SELECT p.id, p.short_name, p.title, p.year, coalesce(s.status, 'unread'),"
    " (SELECT group_concat(org, ', ') FROM"
    "   (SELECT org FROM paper_orgs WHERE paper_id = p.id ORDER BY position)),"
    " (SELECT group_concat(topic, ', ') FROM"
    "   (SELECT topic FROM paper_topics WHERE paper_id = p.id ORDER BY position)),"
    " (SELECT group_concat(family, ', ') FROM"
    "   (SELECT family FROM paper_authors WHERE paper_id = p.id ORDER BY position))"
    " FROM papers p LEFT JOIN reading_state s ON s.paper_id = p.id"
)
_LIST = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
rows = conn.execute(LISTING + " WHERE p.year >= 2021 ORDER BY p.year, p.date, p.id LIMIT 50")
sys.stdout.write("".join("  ".join(map(str, row)) + "\\n" for row in rows))
"""
_SHOW = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
(pid,) = conn.execute("SELECT paper_id FROM paper_names WHERE key = 'lora'").fetchone()
row = conn.execute(
    "SELECT p.*, s.status, s.changed_at, s.read_at, q.position FROM papers p"
    " LEFT JOIN reading_state s ON s.paper_id = p.id LEFT JOIN queue q ON q.paper_id = p.id"
    " WHERE p.id = ?", (pid,)).fetchone()
lines = [str(value) for value in row]
for table, column, order in [
    ("paper_authors", "name", "position"), ("paper_orgs", "org", "position"),
    ("paper_topics", "topic", "position"), ("paper_names", "name", "rowid"),
    ("tags", "tag", "tag"), ("notes", "created_at || ' ' || body", "created_at"),
]:
    sql = f"SELECT {column} FROM {table} WHERE paper_id = ? ORDER BY {order}"
    lines.append(", ".join(str(value) for (value,) in conn.execute(sql, (pid,))))
print("\\n".join(lines))
"""
_NEXT = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
(pid,) = conn.execute(
    "SELECT q.paper_id FROM queue q LEFT JOIN reading_state s ON s.paper_id = q.paper_id"
    " WHERE coalesce(s.status, 'unread') IN ('unread', 'reading') ORDER BY q.position LIMIT 1"
).fetchone()
print("  ".join(map(str, conn.execute(LISTING + " WHERE p.id = ?", (pid,)).fetchone())))
"""
_MARK_READ = """
import json, sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
conn.execute("BEGIN IMMEDIATE")
(pid,) = conn.execute("SELECT paper_id FROM paper_names WHERE key = 'lora'").fetchone()
old = conn.execute(
    "SELECT status, changed_at, read_at, read_version FROM reading_state WHERE paper_id = ?",
    (pid,)).fetchone()
place = conn.execute("SELECT position FROM queue WHERE paper_id = ?", (pid,)).fetchone()
batch = conn.execute(
    "INSERT INTO command_log (command, summary, at) VALUES ('mark-read', 'marked lora read', ?)",
    (now,)).lastrowid
conn.execute(
    "INSERT INTO reading_state (paper_id, status, changed_at, read_at) VALUES (?, 'read', ?, ?)"
    " ON CONFLICT(paper_id) DO UPDATE SET status = 'read', changed_at = excluded.changed_at,"
    " read_at = excluded.read_at", (pid, now, now))
conn.execute(
    "INSERT INTO status_history (batch, paper_id, old_status, new_status, changed_at,"
    " queue_position) VALUES (?, ?, ?, 'read', ?, ?)",
    (batch, pid, old[0] if old else "unread", now, place and place[0]))
steps = [("state", {"before": old and list(old), "after": ["read", now, now, None]})]
if place:
    conn.execute("DELETE FROM queue WHERE paper_id = ?", (pid,))
    conn.execute("UPDATE queue SET position = position - 1 WHERE position > ?", place)
    steps.append(("queue", {"before": place[0], "after": None}))
conn.executemany(
    "INSERT INTO undo_steps (batch, action, paper_id, data) VALUES (?, ?, ?, ?)",
    [(batch, kind, pid, json.dumps(data)) for kind, data in steps])
conn.execute("COMMIT")
print(f"marked {pid} read")
"""
STDLIB = {
    label: f"LISTING = {_LISTING!r}\n{script}"
    for label, script in {
        "list --since 2021": _LIST,
        "show lora": _SHOW,
        "next": _NEXT,
        "mark-read lora": _MARK_READ,
        "list (terminal)": _LIST.replace(" WHERE p.year >= 2021", ""),
        "list (default db)": _LIST,
    }.items()
}


def run_once(argv: list[str], env: dict[str, str], terminal: bool = False) -> float:
    started = time.perf_counter()
    if terminal:
        leader, follower = pty.openpty()
        drain = threading.Thread(target=_drain, args=(leader,), daemon=True)
        drain.start()
        subprocess.run(argv, env=env, stdout=follower, stderr=subprocess.DEVNULL, check=False)
        elapsed = time.perf_counter() - started
        os.close(follower)
        drain.join(timeout=1)
        os.close(leader)
        return elapsed
    subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def stdlib_argv(python: str, label: str, db: Path, work: Path) -> list[str]:
    """The stdlib script of the command ``label``, as a command line."""
    if label == "export bibtex":
        target = work / "stdlib.bib"
        return [python, str(EXPORT_BENCH), "--stdlib", "bibtex", str(db), str(target)]
    return [python, "-c", STDLIB[label], str(db)]


def _default_location(env: dict[str, str], db: Path, work: Path) -> dict[str, str]:
    """``env`` without $PAPERCLI_DB, with an $XDG_DATA_HOME in which platformdirs finds
    papercli's database at its default place: a link to ``db``."""
    data_home = work / db.stem
    (data_home / "papercli").mkdir(parents=True, exist_ok=True)
    link = data_home / "papercli" / "papercli.db"
    if not link.is_symlink():
        link.symlink_to(db.resolve())
    used = {**env, "XDG_DATA_HOME": str(data_home)}
    del used["PAPERCLI_DB"]
    return used


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--db", action="append", type=Path)
    parser.add_argument("--papercli", default=shutil.which("papercli") or "papercli")
    args = parser.parse_args()
    python = str(Path(args.papercli).with_name("python"))
    if not Path(python).exists():
        python = sys.executable
    floor_argv = [python, "-c", "pass"]
    databases = args.db or [Path("bench/out/catalogue.db")]
    print(f"papercli: {args.papercli}\nruns: {args.runs} (medians; alternating with the floor)\n")
    print(
        f"{'database':<28} {'command':<20} {'floor ms':>9} {'cmd ms':>8} {'ratio':>6}"
        f" {'stdlib ms':>10} {'ratio':>6} {'cmd/stdlib':>11}"
    )
    work = Path(tempfile.mkdtemp(prefix="papercli-bench-"))
    try:
        for db in databases:
            # No pager: `list (terminal)` measures the Rich table, not starting less.
            env = {**os.environ, "PAPERCLI_DB": str(db), "COLUMNS": "120", "PAPERCLI_PAGER": ""}
            env.pop("NO_COLOR", None)
            # Create (or migrate) the database, and queue a paper so that `next` has one to show.
            subprocess.run([args.papercli, "list", "--limit", "1"], env=env, capture_output=True)
            subprocess.run([args.papercli, "queue", "add", "lora"], env=env, capture_output=True)
            counting = sqlite3.connect(db)
            (papers,) = counting.execute("SELECT count(*) FROM papers").fetchone()
            counting.close()
            for label, command in COMMANDS.items():
                if command[0] == "export" and papers > EXPORT_AT_MOST:
                    continue
                floor, took, stdlib = [], [], []
                terminal = label.endswith("(terminal)")
                used = env
                if label.endswith("(default db)"):
                    if not sys.platform.startswith("linux"):
                        continue
                    used = _default_location(env, db, work)
                for _ in range(args.runs):
                    floor.append(run_once(floor_argv, env))
                    took.append(run_once([args.papercli, *command], used, terminal))
                    if command[0] == "mark-read":  # keep each run a real change
                        subprocess.run([args.papercli, "undo"], env=env, capture_output=True)
                    stdlib.append(run_once(stdlib_argv(python, label, db, work), env, terminal))
                    if command[0] == "mark-read":
                        subprocess.run([args.papercli, "undo"], env=env, capture_output=True)
                f, c = statistics.median(floor) * 1000, statistics.median(took) * 1000
                s = statistics.median(stdlib) * 1000
                print(
                    f"{db.name:<28} {label:<20} {f:9.1f} {c:8.1f} {c / f:6.1f}"
                    f" {s:10.1f} {s / f:6.1f} {c / s:11.1f}"
                )
    finally:
        shutil.rmtree(work)  # the links only


if __name__ == "__main__":
    main()
