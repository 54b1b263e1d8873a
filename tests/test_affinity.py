"""Scoring inbox items against the user's reading: pure functions, open-ended inputs."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from papercli import affinity
from papercli.affinity import build_profile, choose_terms, rank_keys, reason, words

LORA = ("lora", "LoRA", "LoRA: Low-Rank Adaptation of Large Language Models", "Edward J. Hu", 1.0)
QLORA = ("qlora", "QLoRA", "QLoRA: Efficient Finetuning of Quantized LLMs", "Tim Dettmers", 1.0)


def authors(*names: str) -> str:
    return affinity.author_keys(names)


def rank(candidates, terms, docids_with, profile) -> list[tuple[int, float]]:
    """(docid, score) best first, as the inbox lists them."""
    docids = [docid for docid, _, _ in candidates]
    span = range(min(docids), max(docids) + 1) if docids else range(0)
    average = sum(length for _, _, length in candidates) / len(candidates) if candidates else 1.0
    keys = rank_keys(candidates, terms, docids_with, profile, docids=span, average=average)
    return [(docid, -negative) for negative, _, docid in sorted(keys)]


def test_words_are_the_index_s_words_without_the_filler() -> None:
    assert words("The Low-Rank adaptation of Müller's 2024 models") == {
        "low", "rank", "adaptation", "muller",
    }  # fmt: skip


def test_terms_that_most_items_have_say_nothing() -> None:
    profile = build_profile([LORA])
    terms = choose_terms(profile, {"low": 3, "rank": 90, "adaptation": 0}, items=100)
    assert list(terms) == ["low"]


def test_a_shared_author_counts_and_is_named() -> None:
    profile = build_profile([QLORA])
    candidates = [
        (1, authors("Ada Lovelace"), 10),
        (2, authors("Tim Dettmers"), 10),
    ]
    assert [docid for docid, _ in rank(candidates, {}, lambda _: [], profile)] == [2, 1]
    assert reason("birds", authors("Tim Dettmers"), {}, profile) == "author Dettmers"


def test_the_reason_names_the_closest_papers() -> None:
    profile = build_profile([LORA, QLORA])
    terms = {"quantized": 2.0, "low": 1.0, "rank": 1.0, "adaptation": 1.0}
    assert reason("Quantized low rank adaptation", authors(), terms, profile) == "like LoRA, QLoRA"
    assert reason("Nothing in common", authors(), terms, profile) == ""


# Papers that share the same words with an item tie, whatever order a process's string
# hashes give their sets: the weights 0.1, 0.2, 0.3 and 0.7 sum to 1.3 or to
# 1.2999999999999998 with the order they are added in.
_TIED_REASONS = """
from papercli.affinity import build_profile, reason
for case in range(16):
    shared = [f"shared{case}x{i}" for i in range(4)]
    alpha = ("a", "Alpha", " ".join(shared), "", 1.0)
    bravo = ("b", "Bravo", " ".join(shared + [f"other{case}x{i}" for i in range(40)]), "", 1.0)
    extra = [f"extra{case}x{i}" for i in range(3)]
    terms = dict(zip(shared, [0.1, 0.2, 0.3, 0.7])) | dict.fromkeys(extra, 1.0)
    print(reason(" ".join(shared + extra), "", terms, build_profile([alpha, bravo])))
"""


def test_papers_that_tie_are_named_in_the_profile_s_order_in_every_process() -> None:
    """Until 4 December the overlap was summed in the order of a set of words, which
    changes with PYTHONHASHSEED: a tie came out either way, and two runs of `inbox`
    gave one item different reasons (six of these eight seeds named Bravo first somewhere)."""
    source = str(Path(affinity.__file__).parents[1])
    path = os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))
    for seed in range(8):
        env = {**os.environ, "PYTHONHASHSEED": str(seed), "PYTHONPATH": path}
        result = subprocess.run(
            [sys.executable, "-c", _TIED_REASONS], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["like Alpha, Bravo"] * 16, f"seed {seed}"


@given(
    st.lists(st.integers(1, 500), unique=True, max_size=40),
    st.dictionaries(st.sampled_from(["a1", "b2", "c3", "d4"]), st.floats(0, 10), max_size=4),
    st.lists(st.integers(1, 600), max_size=80),
    st.lists(st.integers(0, 400), min_size=40, max_size=40),
)
def test_ranking_keeps_every_candidate_once_best_first_newest_on_ties(
    docids: list[int], terms: dict[str, float], postings: list[int], lengths: list[int]
) -> None:
    candidates = [(d, authors("A B"), lengths[i]) for i, d in enumerate(docids)]
    profile = build_profile([LORA])
    order = rank(candidates, terms, lambda term: postings, profile)
    assert sorted(d for d, _ in order) == sorted(docids)
    scores = [score for _, score in order]
    assert all(score >= 0 for score in scores)
    assert scores == sorted(scores, reverse=True)
    position = {d: i for i, d in enumerate(docids)}
    for (first, a), (second, b) in itertools.pairwise(order):
        if a == b:
            assert position[first] < position[second]


@given(st.text(max_size=300), st.lists(st.text(max_size=40), max_size=5))
def test_any_text_and_any_names_score_without_failing(text: str, names: list[str]) -> None:
    profile = build_profile([(*LORA[:2], text, "\n".join(names), 0.6)])
    terms = choose_terms(profile, dict.fromkeys(words(text), 1), items=10)
    assert len(terms) <= affinity.TERMS
    reason(text, authors(*names), terms, profile)


def test_a_small_inbox_keeps_the_words_its_watches_ask_for() -> None:
    """With six items that all say LoRA (the watch's keyword), LoRA still counts."""
    profile = build_profile([LORA])
    terms = choose_terms(profile, {"lora": 6, "adaptation": 2}, items=6)
    assert set(terms) == {"lora", "adaptation"}
    assert terms["adaptation"] > terms["lora"]


def straightforward_reason(text: str, keys: str, terms: dict[str, float], profile) -> str:
    """``reason`` as it was written first: every paper of the profile compared with the
    item, its shared terms summed exactly."""
    found = words(text) & terms.keys()
    overlap = [
        (math.fsum(terms[w] for w in found & paper.words) * paper.weight, paper.name)
        for paper in profile.papers
    ]
    alike = [name for weight, name in sorted(overlap, key=lambda p: -p[0])[:2] if weight > 0]
    parts = [f"like {', '.join(dict.fromkeys(alike))}"] if alike else []
    people = list(dict.fromkeys(affinity.shared_authors(keys, profile)))[:2]
    if people:
        parts.append(f"author{'s' if len(people) > 1 else ''} {', '.join(people)}")
    return "; ".join(parts)


# Words, filler ("the", "ab", "2024") and a word that folds ("Müller"), to write the
# papers and items with; weights that tie, and that sum differently in another order.
VOCABULARY = ["lora", "rank", "adapter", "quantized", "muller", "bits", "the", "ab", "2024"]
WEIGHTS = st.sampled_from([0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 0.7, 1 / 3])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["LoRA", "QLoRA", "DoRA", "GPT"]),
            st.lists(st.sampled_from([*VOCABULARY, "Müller"]), max_size=8),
            st.sampled_from(["Tim Dettmers", "Edward J. Hu", ""]),
            st.sampled_from([1.0, 0.6, 0.3]),
        ),
        max_size=90,  # past the 64 bits of a machine word
    ),
    st.dictionaries(st.sampled_from(VOCABULARY), WEIGHTS, max_size=len(VOCABULARY)),
    st.lists(st.lists(st.sampled_from([*VOCABULARY, "Müller", "LoRA"]), max_size=10), max_size=6),
    st.lists(st.sampled_from(["Tim Dettmers", "Ada Lovelace", "Edward J. Hu"]), max_size=3),
)
def test_reasons_name_what_comparing_every_paper_names(
    papers: list[tuple[str, list[str], str, float]],
    terms: dict[str, float],
    items: list[list[str]],
    names: list[str],
) -> None:
    rows = [
        (f"p{n}", name, " ".join(text), author, weight)
        for n, (name, text, author, weight) in enumerate(papers)
    ]
    profile = build_profile(rows)
    reasons = affinity.Reasons(terms, profile)
    for item in items:
        text, keys = " ".join(item), authors(*names)
        expected = straightforward_reason(text, keys, terms, profile)
        assert reasons(text, keys) == expected
        assert reason(text, keys, terms, profile) == expected
