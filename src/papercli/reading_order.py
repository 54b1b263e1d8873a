"""The order to read papers in: every prerequisite before the papers that need it, oldest
foundations first. Pure: no I/O.

Prerequisites can form a cycle (two papers citing each other, a suggested link against a
curated one): the order then breaks it at its oldest paper, so it always ends, with each
paper once.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Set


def reading_order(dates: Mapping[str, str], needs: Mapping[str, Set[str]]) -> list[str]:
    """Every paper in ``dates`` once: among those whose prerequisites (``needs``, limited
    to papers in ``dates``) are all placed, the oldest comes next; ties by id."""
    waiting = {pid: {p for p in needs.get(pid, ()) if p in dates and p != pid} for pid in dates}
    needed_by: dict[str, list[str]] = {}
    for pid, prereqs in waiting.items():
        for prereq in prereqs:
            needed_by.setdefault(prereq, []).append(pid)
    ready = [(dates[pid], pid) for pid, prereqs in waiting.items() if not prereqs]
    heapq.heapify(ready)
    blocked = [(dates[pid], pid) for pid, prereqs in waiting.items() if prereqs]
    heapq.heapify(blocked)
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(dates):
        if not ready:  # a cycle: the oldest paper still waiting goes first
            while blocked[0][1] in placed:
                heapq.heappop(blocked)
            ready.append(heapq.heappop(blocked))
        _, pid = heapq.heappop(ready)
        if pid in placed:
            continue
        placed.add(pid)
        order.append(pid)
        for other in needed_by.get(pid, ()):
            prereqs = waiting[other]
            prereqs.discard(pid)
            if not prereqs and other not in placed:
                heapq.heappush(ready, (dates[other], other))
    return order
