"""Peak memory and time of papercli's commands, one after another, on a copy of a library.

Usage: python bench/memory_sweep.py DB [--papercli PATH]

bench/curve.py times the bulk commands against stdlib scripts; this runs the rest of the
commands (listings of every match, the history and undo of a big change, a first sync, a
backup, ...) in the order a person might, each in a process of its own, with its peak
resident memory as the operating system counts it. The commands that change the library
run on a copy of DB (from bench/make_db.py): every tenth paper is marked read and tagged,
both undone and the marking redone; 2024's papers are queued, the queue cleared, its
clearing undone and redone; the library is synced to a new folder. The issue's target
(17): every command under 100 MB at a million papers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).with_name("out")


def commands(sync_folder: str) -> list[tuple[str, bool]]:
    """The command lines, each with whether it reads every tenth paper's id from stdin."""
    lines = [
        "orgs",
        "topics",
        "authors",
        "stats",
        "search transformer --limit 1000000 --format json",
        "search tra --limit 1000000",
        "mark-read -",
        "history",
        "history --format json",
        "history --all",
        "tag - +tenth",
        "tags",
        "list --tag tenth --format ids",
        "undo",
        "undo",
        "redo",
        "queue add --since 2024",
        "queue",
        "queue --format json",
        "next",
        "queue clear --yes",
        "undo",
        "redo",
        "note synthetic-5 a note",
        "notes",
        f"sync {sync_folder}",
        "mark-read lora",
        f"sync {sync_folder}",
        "sync status",
    ]
    return [(line, line.endswith(" -") or " - " in line) for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--papercli", default=str(OUT / "venv" / "bin" / "papercli"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / args.db.name
        shutil.copyfile(args.db, copy)
        with sqlite3.connect(copy) as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM papers ORDER BY rowid")]
        tenth = Path(folder) / "tenth.txt"
        tenth.write_text("".join(f"{paper_id}\n" for paper_id in ids[::10]), encoding="utf-8")
        del ids
        sync_folder = os.path.join(folder, "sync")
        os.mkdir(sync_folder)  # as a synced folder (Dropbox, Syncthing) already is
        backup = os.path.join(folder, "backup.db")
        print(f"{args.db.name}: {args.papercli}\n")
        print("| command | exit | seconds | peak MB |")
        print("| --- | ---: | ---: | ---: |")
        for line, reads_stdin in [*commands(sync_folder), (f"db backup {backup}", False)]:
            run(args.papercli, copy, line, tenth if reads_stdin else None)


def run(papercli: str, db: Path, line: str, stdin: Path | None) -> None:
    """One command in a process of its own; /usr/bin/time's count of its peak memory
    (a child forked from this script would start with this script's own)."""
    argv = ["/usr/bin/time", "-f", "%M", papercli, "--db", str(db), *line.split()]
    with open(stdin or os.devnull, encoding="utf-8") as given:
        started = time.perf_counter()
        done = subprocess.run(
            argv, stdin=given, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        seconds = time.perf_counter() - started
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    shown = line.replace(os.path.dirname(str(db)), "…")
    print(f"| `{shown}` | {done.returncode} | {seconds:.2f} | {peak_kb / 1024:.0f} |", flush=True)


if __name__ == "__main__":
    main()
