"""FTS5 query text: the user's words as match expressions that are never query syntax.

Every word goes into an FTS5 query as a quoted string, so no input (quotes, ``-``, ``:``,
``*``, AND, NEAR, parentheses) can be an FTS5 or SQL error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from papercli.errors import InvalidValueError

MAX_CHARACTERS = 10_000
"""The longest search: a sentence in Chinese is one word, looked up by each of its three
characters in a row (40,000 characters took 1.1 s with 2 MB of notes, 10,000 0.39 s)."""
MAX_WORDS = 1_000
"""The most different words one search looks up: a title or an abstract fits, and each
word is a lookup in the index (a pasted book would take seconds)."""
MAX_UNSPACED = 12
"""The most of them in scripts written without spaces: each is also looked for inside
every note (two characters read the notes through, 16 ms for 2 MB of them), and from
250 on SQLite refused the query as too many terms in a compound SELECT."""

# Scripts written without spaces between words (Chinese, Japanese; Korean particles):
# unicode61 keeps such a run whole, so these words are looked for inside notes instead.
# A pattern string that `re` compiles (and caches) on first use: compiling these ranges
# takes ~4 ms, too much to pay at every command's start.
UNSPACED = "[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]"


def search_terms(words: str) -> list[str]:
    """The words to look up: NUL, which FTS5 would read as the end of the query, splits
    words, and a word without letters or digits is left out (it has no tokens, and an
    empty phrase would match nothing). A word given again in any case is looked up once,
    where it was given last (the place of the word tried as a prefix): FTS5 merged its
    list of papers once for each time, and ``learning`` 500 times took 0.5 s at 100,000
    papers."""
    if len(words) > MAX_CHARACTERS:
        raise InvalidValueError(
            f"a search takes at most {MAX_CHARACTERS:,} characters; this one has {len(words):,}"
        )
    found = [w for w in words.replace("\x00", " ").split() if any(c.isalnum() for c in w)]
    last = {word.lower(): i for i, word in enumerate(found)}
    if len(last) > MAX_WORDS:  # 12,000 words took 1.3 s at 100,000 papers, 1,000 0.19 s
        raise InvalidValueError(
            f"a search takes at most {MAX_WORDS:,} different words; this one has {len(last):,}"
        )
    return [word for i, word in enumerate(found) if last[word.lower()] == i]


def split_unspaced(terms: Sequence[str]) -> tuple[list[str], list[str]]:
    """``search_terms`` as the words FTS5 finds as tokens and those in scripts written
    without spaces (also looked for inside notes), each in order; at most MAX_UNSPACED
    of the latter."""
    spaced: list[str] = []
    unspaced: list[str] = []
    for term in terms:
        (unspaced if re.search(UNSPACED, term) else spaced).append(term)
    if len(unspaced) > MAX_UNSPACED:
        raise InvalidValueError(
            f"a search takes at most {MAX_UNSPACED} different words in Chinese, Japanese or"
            f" Korean; this one has {len(unspaced)}"
        )
    return spaced, unspaced


def fts_query(terms: Sequence[str]) -> str:
    """All terms required, each an FTS5 string (``"`` doubled), never query syntax."""
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)


def unspaced_docids(term: str) -> tuple[str, list[object]]:
    """A query for the docids of the papers having an unspaced word as a token or inside
    a note, and its parameters."""
    # The trigram index finds 3+ characters; a shorter word scans the notes.
    in_notes = (
        "SELECT rowid FROM note_search WHERE note_search MATCH ?"
        if len(term) >= 3
        else "SELECT id FROM notes WHERE instr(body, ?)"
    )
    sql = (
        "SELECT docid FROM (SELECT rowid AS docid FROM paper_search WHERE paper_search MATCH ?"
        " UNION SELECT d.docid FROM notes n JOIN search_docs d ON d.paper_id = n.paper_id"
        f" WHERE n.id IN ({in_notes}))"
    )
    quoted = fts_query([term])
    return sql, [quoted, quoted if len(term) >= 3 else term]
