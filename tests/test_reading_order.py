"""The reading order: every prerequisite first, oldest first, each paper once, always ending."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from papercli.reading_order import PrereqGraph

PAPERS = [f"p{n}" for n in range(30)]


def reading_order(dates: dict[str, str], needs: dict[str, set[str]]) -> list[str]:
    """The order of the papers in ``dates``, each needing those of ``needs`` among them."""
    graph = PrereqGraph()
    for pid, date in dates.items():
        graph.add(pid, date)
    for pid in dates:
        prereqs = needs.get(pid, set()) & dates.keys() - {pid}
        graph.link(graph.numbers[pid], ((graph.numbers[p], "") for p in sorted(prereqs)))
    return [graph.ids[number] for number in graph.order()]


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


def test_oldest_first_among_papers_ready_together() -> None:
    dates = {"gpt3": "2020-05", "transformer": "2017-06", "bert": "2018-10", "lora": "2021-06"}
    needs = {"lora": {"gpt3", "bert"}, "gpt3": {"transformer"}, "bert": {"transformer"}}
    assert reading_order(dates, needs) == ["transformer", "bert", "gpt3", "lora"]


def test_a_cycle_is_broken_at_its_oldest_paper() -> None:
    dates = {"a": "2019", "b": "2018", "c": "2020"}
    needs = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert reading_order(dates, needs) == ["b", "a", "c"]
