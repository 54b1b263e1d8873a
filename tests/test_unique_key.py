"""Citation keys made unique with a, b, ... z, aa: the first free one when those taken come
first, some free one otherwise, in a few dozen questions whatever the number taken."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from papercli.names import unique_key

LETTERS = "abcdefghijklmnopqrstuvwxyz"
ORDER = ["", *LETTERS, *(a + b for a in LETTERS for b in LETTERS)]  # "", a … z, aa … zz


def asked(taken: set[str]) -> tuple[list[str], Callable[[str], bool]]:
    questions: list[str] = []

    def is_taken(key: str) -> bool:
        questions.append(key)
        return key in taken

    return questions, is_taken


@given(st.integers(0, len(ORDER) - 1))
def test_the_first_free_suffix_when_those_taken_come_first(count: int) -> None:
    questions, is_taken = asked({"smith2020" + s for s in ORDER[:count]})
    assert unique_key("smith2020", is_taken) == "smith2020" + ORDER[count]
    assert len(questions) <= 2 + 2 * count.bit_length()


@given(st.sets(st.sampled_from(ORDER[:60])))
def test_a_free_key_whatever_is_taken(suffixes: set[str]) -> None:
    taken = {"k" + s for s in suffixes}
    _, is_taken = asked(taken)
    key = unique_key("k", is_taken)
    assert key.startswith("k") and key not in taken


def test_a_million_taken_takes_a_few_dozen_questions() -> None:
    questions, _ = asked(set())
    count = 1_000_000

    def is_taken(key: str) -> bool:
        questions.append(key)
        return key == "x" or _number(key[1:]) < count

    key = unique_key("x", is_taken)
    assert _number(key[1:]) == count
    assert len(questions) <= 45


def _number(suffix: str) -> int:
    """The suffix's place in the order a, b, … z, aa (from 0)."""
    number = 0
    for letter in suffix:
        number = number * 26 + LETTERS.index(letter) + 1
    return number - 1
