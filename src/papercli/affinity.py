"""How close an inbox item is to what the user reads: pure scoring, no I/O.

The user's reading profile is the words of the papers they read, are reading, queued or
tagged, each word weighted by how many of those papers have it. The words that best tell
the inbox's items apart (weight times inverse document frequency over the inbox) are kept,
and an item scores the share of their weight it has, damped for long abstracts, plus a
bonus for each author it shares with the profile. Nothing read yet, or a tie, falls back
to newest first, the order the candidates come in.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections.abc import Callable, Iterable, Iterator

from papercli.names import ascii_fold, person_key
from papercli.records import datarecord, field

PROFILE_SIZE = 300  # the papers most recently read, queued or tagged
TERMS = 40  # profile words an item is scored on
MOST_COMMON = 0.25  # a word in more of the items than this says nothing about them,
FEW_ITEMS = 50  # unless there are this few: then the words a watch asks for are in most
AUTHOR_BONUS = 0.5  # per shared author, at most two
_MIN_LENGTH = 3
# Words every abstract has; inverse document frequency would sink most of them anyway,
# but an inbox of a few items has too few documents to tell.
_STOPWORDS = frozenset({
    "the", "and", "for", "with", "that", "this", "are", "from", "which", "our", "can", "has",
    "have", "not", "but", "its", "their", "these", "than", "also", "such", "into", "more",
    "over", "both", "how", "when", "where", "what", "while", "use", "using", "used", "based",
    "new", "via", "two", "one", "show", "shows", "paper", "propose", "proposed", "approach",
    "method", "methods", "results", "study", "work", "model", "models", "data", "task",
    "tasks", "performance", "however", "between", "through", "each", "other", "well", "only",
    "all", "may", "further", "first", "large", "state", "art", "without", "across",
})  # fmt: skip

_WORD = re.compile(r"[^\W_]+")  # as SQLite's unicode61 tokenizer splits words


def words(text: str) -> set[str]:
    """The distinct words of ``text`` as the search index has them, minus stopwords."""
    return {word for word in _tokens(text) if _counts(word)}


def _tokens(text: str) -> list[str]:
    return _WORD.findall(ascii_fold(text).casefold())


def _counts(word: str) -> bool:
    """Whether a token of ``_tokens`` is one of ``words``: not short, a number or filler."""
    return len(word) >= _MIN_LENGTH and not word.isdigit() and word not in _STOPWORDS


@datarecord(frozen=True)
class ProfilePaper:
    name: str  # what the reason shows: the paper's short name
    words: frozenset[str]
    weight: float


@datarecord
class Profile:
    """What the user's reading says about their interests."""

    papers: list[ProfilePaper] = field(default_factory=list)
    word_weight: dict[str, float] = field(default_factory=dict)
    # person_key of a full name -> the family name a reason shows
    authors: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.papers


def build_profile(rows: Iterable[tuple[str, str, str, str, float]]) -> Profile:
    """From (paper id, short name, text, author names one per line, weight) rows."""
    profile = Profile()
    for _paper_id, name, text, author_names, weight in rows:
        found = frozenset(words(text))
        profile.papers.append(ProfilePaper(name, found, weight))
        for word in found:
            profile.word_weight[word] = profile.word_weight.get(word, 0.0) + weight
        for full_name in author_names.splitlines():
            if full_name.strip():
                profile.authors[person_key(full_name)] = full_name.split()[-1]
    return profile


def choose_terms(profile: Profile, doc_counts: dict[str, int], items: int) -> dict[str, float]:
    """The profile words worth scoring on, each with its weight times idf over ``items``."""
    scored = {
        word: profile.word_weight[word] * math.log(1 + items / count)
        for word, count in doc_counts.items()
        if word in profile.word_weight
        and count > 0
        and (items < FEW_ITEMS or count <= MOST_COMMON * items)
    }
    best = sorted(scored.items(), key=lambda pair: (-pair[1], pair[0]))[:TERMS]
    return dict(best)


Candidate = tuple[int, str, int]
"""An item to rank: its docid, its authors' person_keys one a line, and its word count."""

RankKey = tuple[float, int, int]
"""(minus the score, position among the candidates, docid): sorted, best first and
newest first (the candidates' order) on ties."""


def rank_keys(
    candidates: Iterable[Candidate],
    terms: dict[str, float],
    docids_with: Callable[[str], Iterable[int]],
    profile: Profile,
    *,
    docids: range,
    average: float,
) -> Iterator[RankKey]:
    """Each candidate's key, in their order (newest first); ``docids`` spans theirs and
    ``average`` is their mean word count, so that they are read once, as they come."""
    text_score = _text_scores(terms, docids_with, docids)
    total = sum(terms.values()) or 1.0
    people = profile.authors.keys()
    for position, (docid, keys, length) in enumerate(candidates):
        score = text_score[docid - docids.start]
        if score:
            score /= total * (0.5 + 0.5 * length / (average or 1.0))
        if people and not people.isdisjoint(keys.split("\n")):
            score += AUTHOR_BONUS * min(2, len(shared_authors(keys, profile)))
        yield -round(score, 6), position, docid


def _text_scores(
    terms: dict[str, float], docids_with: Callable[[str], Iterable[int]], docids: range
) -> array[float]:
    """The weight of the terms each docid in ``docids`` has, summed in the terms' order:
    8 bytes an item, where a dict of the candidates' took about 100."""
    scores = array("d", [0.0]) * len(docids)
    for term, weight in terms.items():
        for docid in docids_with(term):
            if docid in docids:  # not an item filtered out before or after them all
                scores[docid - docids.start] += weight
    return scores


def author_keys(names: Iterable[str]) -> str:
    """What ``Candidate`` and ``shared_authors`` take: person_keys one a line."""
    return "\n".join(map(person_key, names))


def shared_authors(keys: str, profile: Profile) -> list[str]:
    """The family names of the item's authors (person_keys one a line) the profile also
    has, in the item's order."""
    return [profile.authors[key] for key in keys.split("\n") if key in profile.authors]


def reason(text: str, keys: str, terms: dict[str, float], profile: Profile) -> str:
    """Why an item ranks where it does: ``like LoRA, QLoRA; author Dettmers``."""
    return Reasons(terms, profile)(text, keys)


class Reasons:
    """``reason`` for the items of one ranking. Which profile papers have each term is
    found once, as a bit set (bit n: the profile's nth paper); an item then splits the
    papers by the terms it has, in the terms' order, into groups that share the same of
    them, and so the same sum: at most two to the number of terms it has, however many
    papers. With a profile of 300, about 100 µs an item, half of it finding the item's words
    (each item compared with every paper took 370 µs; with a profile of 16, 47 and 77).

    A paper's likeness is the weight of the terms it shares with the item, summed exactly
    (math.fsum: in any order the same, where a plain sum in a set's order hung on the
    process's string hashes, and tied papers swapped), times the paper's weight. The two
    likest papers with any are named, the profile's order first among equals, and the
    shared authors."""

    def __init__(self, terms: dict[str, float], profile: Profile) -> None:
        self.profile = profile
        self.terms = {term: weight for term, weight in terms.items() if _counts(term)}
        self.papers_with = dict.fromkeys(self.terms, 0)
        self.weighing: dict[float, int] = {}  # the papers of each weight
        for position, paper in enumerate(profile.papers):
            bit = 1 << position
            for term in paper.words & self.terms.keys():
                self.papers_with[term] |= bit
            self.weighing[paper.weight] = self.weighing.get(paper.weight, 0) | bit
        self.everyone = (1 << len(profile.papers)) - 1

    def __call__(self, text: str, keys: str) -> str:
        profile = self.profile
        names = [profile.papers[position].name for position in self._likest(text)]
        parts = [f"like {', '.join(dict.fromkeys(names))}"] if names else []
        people = list(dict.fromkeys(shared_authors(keys, profile)))[:2]
        if people:
            parts.append(f"author{'s' if len(people) > 1 else ''} {', '.join(people)}")
        return "; ".join(parts)

    def _likest(self, text: str) -> list[int]:
        """The positions of the (at most) two papers likest the text."""
        found = {word for word in _tokens(text) if word in self.terms}
        if not found:
            return []
        # The papers with the same of the terms so far, and those terms' weights.
        groups: list[tuple[int, tuple[float, ...]]] = [(self.everyone, ())]
        for term, weight in self.terms.items():
            if term in found:
                having = self.papers_with[term]
                split = []
                for papers, weights in groups:
                    if with_term := papers & having:
                        split.append((with_term, (*weights, weight)))
                    if without := papers & ~having:
                        split.append((without, weights))
                groups = split
        alike: list[tuple[float, int]] = []
        for papers, weights in groups:
            total = math.fsum(weights)
            for paper_weight, weighing in self.weighing.items():
                if (likeness := total * paper_weight) > 0 and (these := papers & weighing):
                    first = these & -these
                    alike.append((-likeness, first.bit_length() - 1))
                    if second := (these ^ first) & -(these ^ first):
                        alike.append((-likeness, second.bit_length() - 1))
        return [position for _, position in heapq.nsmallest(2, alike)]
