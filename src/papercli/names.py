"""How names people type are compared: ``GPT-3``, ``gpt3`` and ``GPT 3`` are one name."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


def name_key(text: str) -> str:
    """Fold case, width and punctuation away: ``'LLM.int8()'`` -> ``'llmint8'``."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def slugify(text: str) -> str:
    """A paper id made from a name: lowercase ASCII words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def closest(word: str, choices: list[str], limit: int = 3) -> list[str]:
    """The known names nearest to a mistyped one, best first (for "did you mean")."""
    from rapidfuzz import fuzz, process, utils

    found = process.extract(
        word,
        choices,
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=60,
    )
    return [choice for choice, _score, _index in found]
