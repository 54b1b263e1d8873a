"""The order to read papers in: every prerequisite before the papers that need it, oldest
foundations first. Pure: no I/O.

Prerequisites can form a cycle (two papers citing each other, a suggested link against a
curated one): the order then breaks it at its oldest paper, so it always ends, with each
paper once.

The papers are numbers here, their links arrays of 4-byte ints, the papers ready a byte
each: ids and dates stay with the caller (on disk, for a long path), which gives their
order, oldest first. As sets and dicts of ids a path of 20,000 papers took about 1 kB a
paper; as numbers with their ids and dates in memory, about 140 bytes; now about 40.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

BLOCK = 8
"""Places 2**BLOCK at a time hold a byte saying whether one of them may be ready: the
next ready paper is found by a C search of the blocks, then of one block."""


class PrereqGraph:
    """Papers numbered 0, 1, ... with what each needs (each link with how it was made:
    curated, yours, suggested), given in the papers' order."""

    def __init__(self) -> None:
        self._needs = array("i")  # each paper's prerequisites by number, one paper after another
        self._hows = bytearray()  # how each of those links was made: an index into _labels
        self._ends = array("i")  # where each paper's prerequisites end in _needs
        self._labels: list[str] = []

    def __len__(self) -> int:
        """How many papers have their links given."""
        return len(self._ends)

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

    def order(self, oldest: Iterable[int], last: int | None = None) -> array[int]:
        """Every paper once, by number: among those whose prerequisites are all placed,
        the oldest comes next (``oldest``: every paper's number, oldest first, ties by
        id); a cycle is broken at its oldest paper still waiting. ``last`` comes last,
        even when a cycle runs through it."""
        count = len(self._ends)
        rank = array("i", oldest)  # by place
        assert len(rank) == count, "every paper has its place"
        place = array("i", bytes(4 * count))
        for at, number in enumerate(rank):
            place[number] = at
        waiting = array("i", self._ends)
        for number in range(count - 1, 0, -1):
            waiting[number] -= self._ends[number - 1]
        needed_by, needed_starts = self._needed_by()
        ready = bytearray(count)  # by place
        blocks = bytearray((count >> BLOCK) + 1)  # 1: a place of the block may be ready
        for at in range(count):
            if not waiting[rank[at]]:
                ready[at] = blocks[at >> BLOCK] = 1
        low = 0  # no place before this one is ready
        placed = bytearray(count)  # by number
        cycle = 0  # every paper before this place is placed; with none ready, all others wait
        order = array("i")
        while len(order) < count:
            at = -1
            block = low >> BLOCK
            while (block := blocks.find(1, block)) >= 0:
                at = ready.find(1, max(low, block << BLOCK), (block + 1) << BLOCK)
                if at >= 0:
                    break
                blocks[block] = 0
                block += 1
            if at < 0:  # none ready: all others wait
                while placed[rank[cycle]]:
                    cycle += 1
                at = cycle
            ready[at] = 0
            low = at  # the first ready: those left are after it
            number = rank[at]
            placed[number] = 1
            order.append(number)
            for other in needed_by[needed_starts[number] : needed_starts[number + 1]]:
                waiting[other] -= 1
                if not waiting[other] and not placed[other]:
                    now = place[other]
                    ready[now] = blocks[now >> BLOCK] = 1
                    low = min(low, now)
        if last is not None:
            order.remove(last)
            order.append(last)
        return order

    def _needed_by(self) -> tuple[array[int], array[int]]:
        """The papers needing each paper, one paper after another, and where each paper's
        start (the last entry: where they all end)."""
        count = len(self._ends)
        starts = array("i", bytes(4 * (count + 1)))
        for prereq in self._needs:
            starts[prereq + 1] += 1
        for number in range(count):
            starts[number + 1] += starts[number]
        filled = array("i", starts)
        needed_by = array("i", bytes(4 * len(self._needs)))
        for number in range(count):
            for prereq in self._needs[self._start(number) : self._ends[number]]:
                needed_by[filled[prereq]] = number
                filled[prereq] += 1
        return needed_by, starts

    def leading_to(self, number: int) -> bytearray:
        """Whether each paper's path leads to paper ``number`` (it needs that paper, or
        needs a paper that does, ...), by number; 1 for the paper itself."""
        needed_by, starts = self._needed_by()
        found = bytearray(len(self._ends))
        found[number] = 1
        waiting = [number]
        while waiting:
            reached = waiting.pop()
            for other in needed_by[starts[reached] : starts[reached + 1]]:
                if not found[other]:
                    found[other] = 1
                    waiting.append(other)
        return found

    def hows(self, order: Iterable[int]) -> bytearray:
        """How each paper came on a path read in ``order``, by number: the link to it from
        the first paper there that needs it, as a ``label`` (0 when none does)."""
        found = bytearray(len(self._ends))
        for number in order:
            start = self._start(number)
            for prereq, how in zip(
                self._needs[start : self._ends[number]],
                self._hows[start : self._ends[number]],
                strict=True,
            ):
                if not found[prereq]:
                    found[prereq] = how + 1
        return found

    def label(self, how: int) -> str | None:
        """What a ``hows`` entry stands for: how the link was made (None: no link)."""
        return self._labels[how - 1] if how else None
