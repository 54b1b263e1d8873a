"""The reading order: every prerequisite first, oldest first, each paper once, always ending."""

from __future__ import annotations

import heapq

from hypothesis import given
from hypothesis import strategies as st

from papercli import reading_order as module
from papercli.reading_order import PrereqGraph

PAPERS = [f"p{n}" for n in range(30)]


def built(dates: dict[str, str], needs: dict[str, set[str]]) -> tuple[PrereqGraph, list[int]]:
    """The papers of ``dates`` numbered in its order, each needing those of ``needs``
    among them; and their numbers oldest first, ties by id."""
    graph = PrereqGraph()
    numbers = {pid: number for number, pid in enumerate(dates)}
    for pid in dates:
        prereqs = needs.get(pid, set()) & dates.keys() - {pid}
        graph.link(numbers[pid], ((numbers[p], "") for p in sorted(prereqs)))
    return graph, sorted(numbers.values(), key=lambda n: (list(dates.values())[n], list(dates)[n]))


def reading_order(dates: dict[str, str], needs: dict[str, set[str]]) -> list[str]:
    """The order of the papers in ``dates``, each needing those of ``needs`` among them."""
    graph, oldest = built(dates, needs)
    ids = list(dates)
    return [ids[number] for number in graph.order(oldest)]


def heap_order(dates: dict[str, str], needs: dict[str, set[str]]) -> list[str]:
    """The order as it was found until December 2026: the ready papers' places in a heap
    of ints (36 bytes each), where a byte each now says which are ready."""
    ids = list(dates)
    oldest = sorted(range(len(ids)), key=lambda n: (dates[ids[n]], ids[n]))
    place = {number: at for at, number in enumerate(oldest)}
    needs_of = [needs.get(pid, set()) & dates.keys() - {pid} for pid in ids]
    waiting = [len(prereqs) for prereqs in needs_of]
    ready = [at for at, number in enumerate(oldest) if not waiting[number]]
    placed: set[int] = set()
    cycle, order = 0, []
    while len(order) < len(ids):
        if not ready:
            while oldest[cycle] in placed:
                cycle += 1
            ready.append(cycle)
        number = oldest[heapq.heappop(ready)]
        placed.add(number)
        order.append(ids[number])
        for other, prereqs in enumerate(needs_of):
            if ids[number] in prereqs:
                waiting[other] -= 1
                if not waiting[other] and other not in placed:
                    heapq.heappush(ready, place[other])
    return order


@st.composite
def graphs(draw: st.DrawFn, acyclic: bool) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Random papers with random dates and prerequisites (only older ones if acyclic)."""
    chosen = draw(st.lists(st.sampled_from(PAPERS), unique=True, min_size=1, max_size=30))
    dates = {pid: f"20{draw(st.integers(10, 25))}-0{draw(st.integers(1, 9))}" for pid in chosen}
    needs: dict[str, set[str]] = {}
    for index, pid in enumerate(chosen):
        pool = chosen[:index] if acyclic else chosen
        # Prerequisites may also name papers outside the path, which are ignored.
        outside = st.sampled_from([p for p in PAPERS if p not in dates] or ["elsewhere"])
        names = (st.sampled_from(pool) | outside) if pool else outside
        needs[pid] = set(draw(st.lists(names, max_size=4)))
    return dates, needs


@given(graphs(acyclic=True))
def test_every_prerequisite_comes_before_the_papers_that_need_it(
    graph: tuple[dict[str, str], dict[str, set[str]]],
) -> None:
    dates, needs = graph
    order = reading_order(dates, needs)
    assert sorted(order) == sorted(dates)
    place = {pid: i for i, pid in enumerate(order)}
    for pid, prereqs in needs.items():
        for prereq in prereqs & dates.keys():
            assert place[prereq] < place[pid]


@given(graphs(acyclic=False))
def test_cycles_end_with_each_paper_once(graph: tuple[dict[str, str], dict[str, set[str]]]) -> None:
    dates, needs = graph
    order = reading_order(dates, needs)
    assert sorted(order) == sorted(dates)


@given(graphs(acyclic=False), st.integers(0, 3))
def test_the_order_is_the_one_a_heap_of_the_ready_papers_gave(
    graph: tuple[dict[str, str], dict[str, set[str]]], block: int
) -> None:
    """Papers ready are found by blocks of 2**BLOCK places: small blocks here, so that
    the search crosses them."""
    dates, needs = graph
    kept, module.BLOCK = module.BLOCK, block
    try:
        assert reading_order(dates, needs) == heap_order(dates, needs)
    finally:
        module.BLOCK = kept


def test_oldest_first_among_papers_ready_together() -> None:
    dates = {"gpt3": "2020-05", "transformer": "2017-06", "bert": "2018-10", "lora": "2021-06"}
    needs = {"lora": {"gpt3", "bert"}, "gpt3": {"transformer"}, "bert": {"transformer"}}
    assert reading_order(dates, needs) == ["transformer", "bert", "gpt3", "lora"]


def test_a_cycle_is_broken_at_its_oldest_paper() -> None:
    dates = {"a": "2019", "b": "2018", "c": "2020"}
    needs = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert reading_order(dates, needs) == ["b", "a", "c"]


@given(
    st.lists(
        st.lists(
            st.text(
                st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=3
            ),
            max_size=5,
        ),
        max_size=60,
    ),
    st.integers(0, 2),
)
def test_papers_numbered_on_disk_are_numbered_and_ordered_as_in_memory(
    batches: list[list[str]], dated: int
) -> None:
    """The store numbers a walk's papers on disk, a Bloom filter saying which are surely
    new, and orders them by SQLite (UTF-8 bytes): as a dict and Python's sort did. (Ids
    hold no NUL: SQLite's JSON ends a string there.)"""
    from papercli.store import scratch

    # Written a few at a time, the filter doubled from 2 bytes.
    kept = scratch.CHUNK, scratch.ScratchNumbers.FIRST_BYTES
    scratch.CHUNK, scratch.ScratchNumbers.FIRST_BYTES = 3, 2
    try:
        with scratch.ScratchNumbers() as numbered:
            numbered.clear(lambda values: {v: v[:dated] for v in values})
            numbers: dict[str, int] = {}
            for batch in batches:
                found = numbered.number(batch)
                for value in batch:
                    numbers.setdefault(value, len(numbers))
                assert found == {value: numbers[value] for value in batch}
            assert len(numbered) == len(numbers)
            assert numbered.numbers_of([*numbers, "not numbered"]) == numbers
            ids = list(numbers)
            assert numbered.values_of(reversed(range(len(ids)))) == ids[::-1]
            by_date = sorted(range(len(ids)), key=lambda n: (ids[n][:dated], ids[n]))
            assert list(numbered.oldest()) == by_date
    finally:
        scratch.CHUNK, scratch.ScratchNumbers.FIRST_BYTES = kept
