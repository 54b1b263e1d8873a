"""Sort keys for the synced queue: there is always a key between two, and lists of them
keep their order however often things are inserted at the same place."""

from __future__ import annotations

import sqlite3
from random import Random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from papercli.sortkeys import DIGITS, between, spread

keys = st.text(alphabet=DIGITS, min_size=1, max_size=12).filter(lambda k: not k.endswith("0"))


@given(keys, keys)
def test_a_key_between_any_two_different_keys(a: str, b: str) -> None:
    low, high = sorted((a, b))
    if low == high:
        return
    middle = between(low, high)
    assert low < middle < high
    assert not middle.endswith("0")


@given(keys)
def test_keys_before_and_after_any_key(key: str) -> None:
    assert between(None, key) < key < between(key, None)


@given(st.lists(st.integers(0, 50), max_size=200))
def test_inserting_anywhere_keeps_the_order(places: list[int]) -> None:
    order: list[str] = []
    for place in places:
        at = min(place, len(order))
        low = order[at - 1] if at else None
        high = order[at] if at < len(order) else None
        order.insert(at, between(low, high))
    assert order == sorted(order) and len(set(order)) == len(order)


@pytest.mark.parametrize("count", [0, 1, 2, 35, 36, 1000, 50_000])
def test_spread_keys_are_in_order_and_short(count: int) -> None:
    made = list(spread(None, None, count))
    assert len(made) == count
    assert made == sorted(made) and len(set(made)) == count
    assert all(len(k) <= 20 and not k.endswith("0") for k in made)


@given(keys, keys, st.integers(0, 300))
def test_spread_between_two_keys_stays_between(a: str, b: str, count: int) -> None:
    low, high = sorted((a, b))
    if low == high:
        return
    made = list(spread(low, high, count))
    assert made == sorted(made) and len(set(made)) == count
    assert all(low < k < high for k in made)


def test_out_of_order_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        between("b", "a")


def test_long_queue_keys_are_spread_afresh_in_the_same_order(tmp_path) -> None:
    from papercli import paths
    from papercli.store import connection
    from papercli.store.sync import LONG_KEY, settle_queue_keys

    conn = connection.open_database(tmp_path / "papers.db", paths.seed_path())
    long_key = "z" * (LONG_KEY + 1)
    conn.executemany(
        "INSERT INTO queue (paper_id, position, added_at, sort_key) VALUES (?, ?, 'x', ?)",
        [("lora", 1, "a"), ("qlora", 2, "b"), ("dpo", 3, long_key), ("bert", 4, None)],
    )
    changed: list[str] = []
    settle_queue_keys(conn, changed.extend)
    rows = conn.execute("SELECT paper_id, sort_key FROM queue ORDER BY position").fetchall()
    assert sorted(set(changed)) == ["bert", "dpo", "lora", "qlora"]
    assert [k for _, k in rows] == sorted(k for _, k in rows)
    assert all(len(k) <= 4 for _, k in rows)
    conn.close()


def settled_as_before(keys: list[str | None], long_key: int) -> tuple[list[str], set[int]]:
    """The keys settle_queue_keys gave when it held the queue in lists (to 3 December),
    and the places it changed: what the streamed version must give."""
    following: list[str | None] = [None] * len(keys)
    upcoming: str | None = None
    for index in range(len(keys) - 1, -1, -1):
        following[index] = upcoming
        here = keys[index]
        if here is not None and (upcoming is None or here < upcoming):
            upcoming = here
    result = list(keys)
    changed: set[int] = set()

    def give(run: list[int], low: str | None, high: str | None) -> str | None:
        made = list(spread(low, high, len(run)))
        for place, key in zip(run, made, strict=True):
            result[place] = key
        changed.update(run)
        run.clear()
        return made[-1] if made else low

    previous: str | None = None
    run: list[int] = []
    for index, key in enumerate(keys):
        bound = following[index]
        if bound is not None and previous is not None and not previous < bound:
            bound = None
        if (
            key is None
            or (previous is not None and not previous < key)
            or (bound is not None and not key < bound)
        ):
            run.append(index)
            continue
        give(run, previous, key)
        previous = key
    last = give(run, previous, None)
    longest = max((len(k) for k in keys if k is not None), default=0)
    if max(longest, len(last or "")) > long_key:
        give(list(range(len(keys))), None, None)
    return [k or "" for k in result], changed


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.none() | keys, max_size=40),
    st.sampled_from([2, 3, 1000]),
    st.randoms(use_true_random=False),
)
def test_streamed_settling_gives_the_keys_the_lists_gave(
    queued: list[str | None], chunk: int, random: Random
) -> None:
    """Keys missing, repeated, out of order or too long, in queues of up to 40 papers
    (some with gaps between places), settled a few at a time: the same keys as before."""
    from papercli.store import sync

    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE queue (paper_id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " added_at TEXT, sort_key TEXT); CREATE INDEX queue_position ON queue (position);"
    )
    places = sorted(random.sample(range(1, 200), len(queued)))
    rows = [
        (f"p{n}", place, key) for n, (place, key) in enumerate(zip(places, queued, strict=True))
    ]
    random.shuffle(rows)  # rowids in another order than places
    conn.executemany("INSERT INTO queue VALUES (?, ?, 'x', ?)", rows)
    expected, places_changed = settled_as_before(queued, long_key=6)
    changed: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sync, "KEYS_CHUNK", chunk)
        patch.setattr(sync, "LONG_KEY", 6)
        sync._settle_whole_queue(conn, changed.extend)
    got = [str(k) for (k,) in conn.execute("SELECT sort_key FROM queue ORDER BY position")]
    assert got == expected
    assert set(changed) == {f"p{n}" for n in places_changed}


@settings(max_examples=300, deadline=None)
@example([("zzzz", 1)], 1000, 4, Random(0))  # the last key given is too long: spread all
@example([("a", 0), ("b", 2)], 1000, 64, Random(0))  # no room between a and b at first
@given(
    st.lists(st.tuples(keys, st.integers(0, 3)), max_size=30),
    st.sampled_from([1, 3, 1000]),
    st.sampled_from([4, 6, 64]),
    st.randoms(use_true_random=False),
)
def test_placed_papers_get_the_keys_settling_the_whole_queue_gives(
    keyed: list[tuple[str, int]], chunk: int, long_key: int, random: Random
) -> None:
    """After a command, the papers with keys are in their order and the few it placed
    have none: those get keys between their neighbours', found by place, the same keys
    as settling the whole queue (or it is settled whole: many papers without keys, or a
    key too long)."""
    from papercli.store import sync

    queued: list[str | None] = []
    for key, unkeyed_after in sorted(dict(keyed).items()):
        queued += [key, *[None] * unkeyed_after]
    if keyed and keyed[0][1]:
        queued = [None] * keyed[0][1] + queued  # papers placed at the head
    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE queue (paper_id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
        " added_at TEXT, sort_key TEXT); CREATE INDEX queue_position ON queue (position);"
    )
    rows = [(f"p{n}", n + 1, key) for n, key in enumerate(queued)]
    random.shuffle(rows)  # rowids in another order than places
    conn.executemany("INSERT INTO queue VALUES (?, ?, 'x', ?)", rows)
    expected, places_changed = settled_as_before(queued, long_key=long_key)
    changed: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sync, "KEYS_CHUNK", chunk)
        patch.setattr(sync, "LONG_KEY", long_key)
        sync.settle_queue_keys(conn, changed.extend)
    got = [str(k) for (k,) in conn.execute("SELECT sort_key FROM queue ORDER BY position")]
    assert got == expected
    assert set(changed) == {f"p{n}" for n in places_changed}


def test_settling_holds_a_chunk_of_the_queue_whatever_its_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command that touches the queue settles its keys once sync is on, and the
    first sync settles them all: the queue was held in lists, 13 MB for 59,000 papers
    (about 220 MB for a million). Now five times the papers take no more memory."""
    import tracemalloc

    from papercli.store import sync

    monkeypatch.setattr(sync, "KEYS_CHUNK", 100)

    def peak(count: int, key: str | None) -> int:
        conn = sqlite3.connect(":memory:")
        conn.executescript(
            "CREATE TABLE queue (paper_id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
            " added_at TEXT, sort_key TEXT); CREATE INDEX queue_position ON queue (position);"
        )
        rows = ((f"paper-{n}", n, key if n % 2 else None) for n in range(count))
        conn.executemany("INSERT INTO queue VALUES (?, ?, 'x', ?)", rows)
        changed: list[int] = []
        tracemalloc.start()
        sync.settle_queue_keys(conn, lambda ids: changed.append(len(ids)))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert sum(changed) >= count // 2
        return peak

    for key in (None, "z" * 100):  # every key missing; every other one, too long
        peak(100, key)  # first imports and caches
        small, large = peak(600, key), peak(3_000, key)
        assert large < 1.3 * small, (key, small, large)
