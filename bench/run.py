"""Time papercli commands as whole processes against the interpreter floor.

Usage:
  python bench/run.py [--runs 21] [--db PATH]... [--papercli PATH]

Each command runs alternately with `python -c pass` (the floor), stdout piped, and the
script prints the median wall time of each and their ratio. `list (terminal)` runs on a
pseudo-terminal, so it measures the Rich table. Give several --db to compare database sizes
(see bench/make_db.py). Measure an installed wheel: `bash bench/wheel_venv.sh` prints the
papercli to pass with --papercli.
"""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

COMMANDS = {
    "list --since 2021": ["list", "--since", "2021", "--limit", "50"],
    "show lora": ["show", "lora"],
    "next": ["next"],
    "mark-read lora": ["mark-read", "lora"],
    "list (terminal)": ["list", "--limit", "50"],
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
    print(f"{'database':<28} {'command':<20} {'floor ms':>9} {'cmd ms':>8} {'ratio':>6}")
    for db in databases:
        # No pager: `list (terminal)` measures the Rich table, not starting less.
        env = {**os.environ, "PAPERCLI_DB": str(db), "COLUMNS": "120", "PAPERCLI_PAGER": ""}
        env.pop("NO_COLOR", None)
        # Create (or migrate) the database, and queue a paper so that `next` has one to show.
        subprocess.run([args.papercli, "list", "--limit", "1"], env=env, capture_output=True)
        subprocess.run([args.papercli, "queue", "add", "lora"], env=env, capture_output=True)
        for label, command in COMMANDS.items():
            floor, took = [], []
            for _ in range(args.runs):
                floor.append(run_once(floor_argv, env))
                took.append(run_once([args.papercli, *command], env, label.endswith("(terminal)")))
                if command[0] == "mark-read":  # keep each run a real change
                    subprocess.run([args.papercli, "undo"], env=env, capture_output=True)
            f, c = statistics.median(floor) * 1000, statistics.median(took) * 1000
            print(f"{db.name:<28} {label:<20} {f:9.1f} {c:8.1f} {c / f:6.1f}")


if __name__ == "__main__":
    main()
