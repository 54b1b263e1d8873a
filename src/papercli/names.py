"""How names people type are compared: ``GPT-3``, ``gpt3`` and ``GPT 3`` are one name."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

from papercli.errors import InvalidValueError
from papercli.models import MAX_NAME
from papercli.textlayout import clipped

_NOT_WORD = re.compile(r"[\W_]+")


NOT_IN_A_LINE = "\x00-\x1f\x7f-\x9f\u2028\u2029"
"""Unicode's control characters (Cc) and its line and paragraph separators, as ranges for a
regular expression: the separators have no width at a terminal, and a row's columns slid."""
_NOT_ON_ONE_LINE = f"[{NOT_IN_A_LINE}\ud800-\udfff]"


def is_one_line(text: str) -> bool:
    """Whether ``text`` may be a title, a name, a tag: no control character (a line break
    or a tab included), no line or paragraph separator and no lone surrogate (SQLite
    cannot store one). Other characters are text like any other (a soft hyphen, the
    joiner inside an emoji): what could drive a terminal is escaped where it is printed.
    An import, a sync and ``add`` take the same."""
    return _compiled(_NOT_ON_ONE_LINE).search(text) is None


def tag_name(text: str) -> str:
    """A tag as typed, without the spaces around it; InvalidValueError when it is empty,
    is not ``is_one_line`` or has more than MAX_NAME characters: the library's JSON
    backup would not import with it, nor would the tag sync. Emoji, joined or not, are
    tags like any other."""
    tag = as_tag(text.strip())
    if not tag or not is_one_line(tag):
        raise InvalidValueError(f"a tag must be printable and not empty, not {clipped(tag, 41)!r}")
    if len(tag) > MAX_NAME:
        raise InvalidValueError(f"a tag has at most {MAX_NAME:,} characters, not {len(tag):,}")
    return tag


def as_tag(text: str) -> str:
    """A tag in one Unicode form (NFC), however it was typed: ``Café`` with its accent as
    a combining mark is the same tag as with ``é``, where they were two tags that printed
    alike, and ``list --tag café`` found one of them."""
    if text.isascii():
        return text
    from unicodedata import normalize

    return normalize("NFC", text)


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def nocase(text: str) -> str:
    """A tag's or a watch's name as the database tells them apart (``COLLATE NOCASE``):
    ASCII letters folded, nothing else, so ``À`` and ``à`` are two tags, ``Foo`` and
    ``foo`` one. Sync names them so; ``str.casefold`` folded ``À`` too, and the tag was
    then looked up as ``à``, not found, and sent to the other devices as removed."""
    return text.translate(_ASCII_LOWER)


def name_key(text: str) -> str:
    """Fold case, width and punctuation away: ``'LLM.int8()'`` -> ``'llmint8'``."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def slugify(text: str) -> str:
    """A paper id made from a name: lowercase ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def closest(word: str, choices: list[str], limit: int = 3) -> list[str]:
    """The known names nearest to a mistyped one, best first (for "did you mean"): those
    that differ from it by a few letters, and of them only the nearest few.

    A whole-name similarity, not rapidfuzz's WRatio, whose partial matches offered any
    short name that shares two letters with the word (``my-paper``: did you mean 'ppo' or
    'bert' or 'dpr'?); a name scoring well below the best is left out too (``cs.CLL``:
    'cs.CL', not 'cs.CC' and 'cs.CE')."""
    from rapidfuzz import fuzz, process, utils

    found = process.extract(
        word,
        choices,
        scorer=fuzz.ratio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=_SIMILAR,
    )
    best = found[0][1] if found else 0
    return [choice for choice, score, _index in found if score >= best - _NEAR_THE_BEST]


# How alike (0-100, rapidfuzz's normalized Indel similarity) a name must be to a mistyped
# word to be suggested: one letter off a three-letter id (dpp for dpo) is 67; and how far
# below the best suggestion another may be.
_SIMILAR = 65
_NEAR_THE_BEST = 10


# Letters NFKD does not split into a base letter and an accent.
_NO_DECOMPOSITION = str.maketrans(
    {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE"}
    | {"œ": "oe", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "\u0131": "i"}
)
_KEY_STOPWORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "by", "for", "from", "how", "in", "is", "of", "on"}
    | {"the", "to", "towards", "via", "with"}
)


def ascii_fold(text: str) -> str:
    """Accents stripped (Łukasz -> Lukasz), anything else outside ASCII dropped."""
    folded = unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
    return folded.encode("ascii", "ignore").decode()


def ascii_words(text: str) -> list[str]:
    """Lowercase ASCII words: ``"LLM.int8(): 8-bit"`` -> ``["llm", "int8", "8", "bit"]``."""
    return re.findall(r"[a-z0-9]+", ascii_fold(text).lower())


KEY_PART = 60
"""Characters a citation key takes of a name, a word or an id: more than any real one
has, and a key stays a name an import takes (a name of a thousand letters made one)."""


_CITATION_KEY = r"[A-Za-z0-9_:.+/@-]{1,250}"


def is_citation_key(text: str) -> bool:
    """``hu2021lora``, ``DBLP:conf/nips/VaswaniSPUJGKP17``, ``vaswani-etal-2017-attention``:
    ASCII letters, digits and ``_:.+/@-``: nothing that ends a key in BibTeX (a space, a
    comma, a brace, ``#``, ``%``, ``=``) or that LaTeX reads specially."""
    return _compiled(_CITATION_KEY).fullmatch(text) is not None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """A pattern compiled on first use: every command imports this module, and few
    check a key or a title (compiling both took about 0.6 ms)."""
    return re.compile(pattern)


def citation_key_stem(family: str | None, year: int, title: str, paper_id: str) -> str:
    """``hu2021lora``: first author's family name, year, first significant title word;
    the paper's id (ASCII) when no author is known."""
    letters = "".join(ascii_words(family or ""))[:KEY_PART]
    if not letters:
        return re.sub(r"[^A-Za-z0-9_:.-]", "", ascii_fold(paper_id))[:KEY_PART] or "paper"
    word = next((w for w in ascii_words(title) if w not in _KEY_STOPWORDS), "")
    return f"{letters}{year}{word[:KEY_PART]}"


def person_key(text: str) -> str:
    """How author names are compared: ``Müller``, ``MULLER`` and ``muller`` are one name.

    Case and accents fold away, dots and runs of spaces become single spaces, hyphens stay
    (``Gur-Ari``), so ``Quoc V. Le`` is ``quoc v le``. Letters of other scripts stay (``张伟``,
    ``Παπαδόπουλος`` as ``παπαδοπουλοσ``): until 5 December they were dropped, and no
    ``--author`` found a name written in them.
    """
    if not text.isascii():
        folded = unicodedata.normalize("NFKD", text.translate(_NO_DECOMPOSITION))
        text = "".join(char for char in folded if not unicodedata.combining(char))
    return " ".join(text.casefold().replace(".", " ").split())


def unique_key(stem: str, taken: Callable[[str], bool]) -> str:
    """``stem``, else ``stem`` + ``a``, ``b``, … ``z``, ``aa``, as ``first_free`` finds it."""
    return first_free(lambda number: stem + _suffix(number - 1) if number else stem, taken)


def first_free(name_of: Callable[[int], str], taken: Callable[[str], bool]) -> str:
    """``name_of(0)``, else ``name_of(1)``, …: the first one not taken when the ones taken
    come first (as they do when names are only added), else one not taken. Found by
    doubling, then halving, in a few dozen questions: asked one at a time, a name shared
    by a million papers took a million questions each."""
    if not taken(name_of(0)):
        return name_of(0)
    below, free = 0, 1  # the highest number known taken, one known free
    while taken(name_of(free)):
        below, free = free, 2 * free
    while free - below > 1:
        middle = (below + free) // 2
        if taken(name_of(middle)):
            below = middle
        else:
            free = middle
    return name_of(free)


# string.ascii_lowercase, without importing string (its Template compiles a pattern).
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _suffix(number: int) -> str:
    """The suffix numbered ``number`` from 0: ``a`` … ``z``, ``aa`` … ``zz``, ``aaa``."""
    letters = []
    number += 1
    while number:
        number, letter = divmod(number - 1, 26)
        letters.append(_LETTERS[letter])
    return "".join(reversed(letters))
