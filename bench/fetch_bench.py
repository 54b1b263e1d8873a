"""Time and peak memory of `fetch` and `refs --all` over a whole library, with stand-ins
for arXiv and Semantic Scholar that answer at once (the real ones take 3 s and 1 s a
request: a million papers would take 8 hours and 12 days).

Usage: python bench/fetch_bench.py DB [DB...] [--until-first-request]

Each DB (from bench/make_db.py) is copied to a temporary folder and every paper with an
arXiv id is fetched, in a process of its own so that its peak resident memory (Linux's
ru_maxrss) is its own; then `refs --all` runs there. With --until-first-request the
stand-ins fail at their first request: what the commands hold before asking anything.
Target (issue 17): at most 100 MB at a million papers.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

CHILD = "--child"


def fetch(db: Path, fail: bool) -> dict[str, float]:
    """In this process: fetch every paper through a stand-in that answers each id with
    the paper's own title (or fails at once)."""
    from papercli import fetching
    from papercli.arxiv import BatchResult
    from papercli.errors import NetworkError
    from papercli.models import ArxivRecord
    from papercli.store.connection import connect

    conn = connect(db)
    when = "2024-01-01T00:00:00Z"

    class StandIn:
        def fetch_batches(self, ids: Sequence[str]) -> Iterator[BatchResult]:
            if fail:
                raise NetworkError("the stand-in fails at once")
            marks = ",".join("?" * len(ids))
            titles = conn.execute(
                f"SELECT arxiv_id, title FROM papers WHERE arxiv_id IN ({marks})", list(ids)
            )
            records = {
                arxiv_id: ArxivRecord(
                    arxiv_id, 1, title, "An abstract.", [], when, when, "cs.CL", ["cs.CL"],
                    [], None, None, f"https://arxiv.org/abs/{arxiv_id}", None,
                )
                for arxiv_id, title in titles
            }  # fmt: skip
            yield BatchResult(records=records, missing=[i for i in ids if i not in records])

    start = time.perf_counter()
    with fetching.papers_to_fetch(conn, None) as ids, contextlib.suppress(NetworkError):
        fetching.fetch_metadata(conn, ids, StandIn()).close()
    return _figures(start)


def refs_all(db: Path, fail: bool) -> dict[str, float]:
    """In this process: `refs --all` through a stand-in that knows every paper and finds
    no references in any (or fails at once)."""
    from papercli import graph
    from papercli.errors import NetworkError
    from papercli.s2 import LinkList, S2Paper
    from papercli.store.connection import connect

    class StandIn:
        def __enter__(self) -> StandIn:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def papers(self, refs: list[str]) -> list[S2Paper]:
            if fail:
                raise NetworkError("the stand-in fails at once")
            return [
                S2Paper(
                    hashlib.sha1(ref.encode()).hexdigest(), None,
                    ref.removeprefix("ARXIV:") if ref.startswith("ARXIV:") else None,
                    ref.removeprefix("DOI:").lower() if ref.startswith("DOI:") else None,
                    ref, 2024, [], "", 0,
                )
                for ref in refs
            ]  # fmt: skip

        def references(self, s2_id: str, *, limit: int) -> LinkList:
            return LinkList([], 0, 0, False)

    start = time.perf_counter()
    with contextlib.suppress(NetworkError):
        graph.fetch_list(connect(db), StandIn)
    return _figures(start)


def _figures(start: float) -> dict[str, float]:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": time.perf_counter() - start, "peak_mb": peak}


def main() -> None:
    if sys.argv[1:2] == [CHILD]:
        command, db, fail = sys.argv[2], Path(sys.argv[3]), sys.argv[4] == "fail"
        print(json.dumps((fetch if command == "fetch" else refs_all)(db, fail)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dbs", nargs="+", type=Path)
    parser.add_argument("--until-first-request", action="store_true")
    args = parser.parse_args()
    mode = "fail" if args.until_first_request else "answer"
    print("| library | command | seconds | peak MB |")
    print("| --- | --- | ---: | ---: |")
    for db in args.dbs:
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / db.name
            shutil.copyfile(db, copy)
            for command in ("fetch", "refs --all"):
                child = [sys.executable, __file__, CHILD, command.split()[0], str(copy), mode]
                done = json.loads(subprocess.run(child, check=True, capture_output=True).stdout)
                print(
                    f"| {db.name} | `{command}` | {done['seconds']:.1f} | {done['peak_mb']:.0f} |"
                )


if __name__ == "__main__":
    main()
