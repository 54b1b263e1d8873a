"""The order to read papers in: every prerequisite before the papers that need it, oldest
foundations first. Pure: no I/O.

Prerequisites can form a cycle (two papers citing each other, a suggested link against a
curated one): the order then breaks it at its oldest paper, so it always ends, with each
paper once.

The papers are numbered and their links held in arrays of ints: a path of 20,000 papers
took about 1 kB a paper as sets and dicts of ids, which a million-paper list can reach.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterable


class PrereqGraph:
    """Papers, numbered in the order added, with their dates and what each needs (each
    link with how it was made: curated, yours, suggested)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.numbers: dict[str, int] = {}
        self.dates: list[str] = []
        self._needs = array("q")  # each paper's prerequisites by number, one paper after another
        self._hows = bytearray()  # how each of those links was made: an index into _labels
        self._ends = array("q")  # where each paper's prerequisites end in _needs
        self._labels: list[str] = []

    def add(self, pid: str, date: str = "") -> int:
        """The number of paper ``pid``, added (with ``date``) if it is new."""
        number = self.numbers.get(pid)
        if number is None:
            number = self.numbers[pid] = len(self.ids)
            self.ids.append(pid)
            self.dates.append(date)
        return number

    def link(self, number: int, prereqs: Iterable[tuple[int, str]]) -> None:
        """What paper ``number`` needs (papers' links are given in their numbers' order):
        each prerequisite's number, once and not itself, with how the link was made."""
        assert number == len(self._ends), "links are given in the papers' order"
        for prereq, how in prereqs:
            if how not in self._labels:
                self._labels.append(how)
            self._needs.append(prereq)
            self._hows.append(self._labels.index(how))
        self._ends.append(len(self._needs))

    def _start(self, number: int) -> int:
        return self._ends[number - 1] if number else 0

    def order(self, last: int | None = None) -> array[int]:
        """Every paper once, by number: among those whose prerequisites are all placed,
        the oldest comes next, ties by id; a cycle is broken at its oldest paper still
        waiting. ``last`` comes last, even when a cycle runs through it."""
        count = len(self.ids)
        oldest = sorted(self.numbers.values(), key=self.ids.__getitem__)  # no new ints
        oldest.sort(key=self.dates.__getitem__)
        rank = array("q", oldest)  # the papers, oldest first, ties by id: ready holds places
        del oldest
        place = array("q", bytes(8 * count))
        for at, number in enumerate(rank):
            place[number] = at
        waiting = array("q", (self._ends[n] - self._start(n) for n in range(count)))
        needed_by, needed_starts = self._needed_by()
        ready = [at for at in range(count) if not waiting[rank[at]]]  # ascending: a heap
        placed = bytearray(count)
        cycle = 0  # every paper before this place is placed; with none ready, all others wait
        order = array("q")
        while len(order) < count:
            if not ready:
                while placed[rank[cycle]]:
                    cycle += 1
                ready.append(cycle)
            number = rank[heapq.heappop(ready)]
            placed[number] = 1
            order.append(number)
            for other in needed_by[needed_starts[number] : needed_starts[number + 1]]:
                waiting[other] -= 1
                if not waiting[other] and not placed[other]:
                    heapq.heappush(ready, place[other])
        if last is not None:
            order.remove(last)
            order.append(last)
        return order

    def _needed_by(self) -> tuple[array[int], array[int]]:
        """The papers needing each paper, one paper after another, and where each paper's
        start (the last entry: where they all end)."""
        count = len(self.ids)
        starts = array("q", bytes(8 * (count + 1)))
        for prereq in self._needs:
            starts[prereq + 1] += 1
        for number in range(count):
            starts[number + 1] += starts[number]
        filled = array("q", starts)
        needed_by = array("q", bytes(8 * len(self._needs)))
        for number in range(count):
            for prereq in self._needs[self._start(number) : self._ends[number]]:
                needed_by[filled[prereq]] = number
                filled[prereq] += 1
        return needed_by, starts

    def hows(self, order: Iterable[int]) -> list[str | None]:
        """How each paper came on a path read in ``order``: the link to it from the first
        paper there that needs it (None when none does)."""
        found: list[str | None] = [None] * len(self.ids)
        for number in order:
            start = self._start(number)
            for prereq, how in zip(
                self._needs[start : self._ends[number]],
                self._hows[start : self._ends[number]],
                strict=True,
            ):
                if found[prereq] is None:
                    found[prereq] = self._labels[how]
        return found
