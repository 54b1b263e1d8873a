"""Keys that sort a list and leave room between any two: where two devices both insert
into the synced queue, each new place gets a key between its neighbours', so both
insertions survive in an order every device agrees on. Pure: no I/O.

Keys are strings of the digits 0-9a-z compared as strings; a key never ends in 0, so
there is always another key between two different ones.
"""

from __future__ import annotations

from collections.abc import Iterator

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_BASE = len(DIGITS)
_VALUE = {d: i for i, d in enumerate(DIGITS)}


def between(low: str | None, high: str | None) -> str:
    """A key after ``low`` and before ``high`` (None: no bound on that side)."""
    if low is not None and high is not None and not low < high:
        raise ValueError(f"no key between {low!r} and {high!r}: they are out of order")
    prefix = ""
    position = 0
    while True:
        lo = _VALUE[low[position]] if low is not None and position < len(low) else 0
        hi = _VALUE[high[position]] if high is not None and position < len(high) else _BASE
        if hi - lo > 1:
            return prefix + DIGITS[(lo + hi) // 2]
        # No digit fits between here: keep low's digit and look one place further, where
        # high no longer bounds anything unless it shares this digit.
        prefix += DIGITS[lo]
        if hi != lo:
            high = None
        position += 1


def spread(low: str | None, high: str | None, count: int) -> Iterator[str]:
    """``count`` keys in order between ``low`` and ``high``, each new level halving the
    room, so that they stay short (about log2(count) digits more than the bounds). They
    come one at a time, holding about log2(count) of them: a million queued papers get
    their keys without a list of a million."""
    if count <= 0:
        return
    middle = between(low, high)
    left = (count - 1) // 2
    yield from spread(low, middle, left)
    yield middle
    yield from spread(middle, high, count - 1 - left)
