"""Time parsing one full arXiv batch, next to the 3 s that arXiv asks between requests.

Usage: python bench/feed_bench.py [--runs 15]

Parses the recorded 100-entry API response (tests/fixtures/arxiv), which is as large as
a `fetch` batch gets, and prints the median parse time, entries per second, and what
share of the pause between two requests the parsing takes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from papercli import feed

PAUSE = 3.0  # seconds between two requests: arXiv's rule, ArxivClient's min_interval
FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "tests/fixtures/arxiv/api-2026_search_testing_start0_max100.xml"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    body = FIXTURE.read_bytes()
    feed.parse_feed(body)  # warm-up: imports and first-use regexes
    took = []
    for _ in range(args.runs):
        started = time.perf_counter()
        parsed = feed.parse_feed(body)
        took.append(time.perf_counter() - started)
    entries = len(parsed.records)
    median = statistics.median(took)
    print(f"entries per batch:  {entries} ({len(body) / 1024:.0f} KiB)")
    print(f"parse time:         {median * 1000:.1f} ms (median of {args.runs})")
    print(f"entries per second: {entries / median:,.0f}")
    print(f"share of the {PAUSE:.0f} s pause between requests: {median / PAUSE:.1%}")


if __name__ == "__main__":
    main()
