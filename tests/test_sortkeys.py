"""Sort keys for the synced queue: there is always a key between two, and lists of them
keep their order however often things are inserted at the same place."""

from __future__ import annotations

import pytest
from hypothesis import given
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
    made = spread(None, None, count)
    assert len(made) == count
    assert made == sorted(made) and len(set(made)) == count
    assert all(len(k) <= 20 and not k.endswith("0") for k in made)


@given(keys, keys, st.integers(0, 300))
def test_spread_between_two_keys_stays_between(a: str, b: str, count: int) -> None:
    low, high = sorted((a, b))
    if low == high:
        return
    made = spread(low, high, count)
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
    changed = settle_queue_keys(conn)
    rows = conn.execute("SELECT paper_id, sort_key FROM queue ORDER BY position").fetchall()
    assert sorted(changed) == ["bert", "dpo", "lora", "qlora"]
    assert [k for _, k in rows] == sorted(k for _, k in rows)
    assert all(len(k) <= 4 for _, k in rows)
    conn.close()
