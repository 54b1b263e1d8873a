"""FTS5 query text: the user's words as match expressions that are never query syntax.

Every word goes into an FTS5 query as a quoted string, so no input (quotes, ``-``, ``:``,
``*``, AND, NEAR, parentheses) can be an FTS5 or SQL error.
"""

from __future__ import annotations

from collections.abc import Sequence

# Scripts written without spaces between words (Chinese, Japanese; Korean particles):
# unicode61 keeps such a run whole, so these words are looked for inside notes instead.
# A pattern string that `re` compiles (and caches) on first use: compiling these ranges
# takes ~4 ms, too much to pay at every command's start.
UNSPACED = "[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]"


def search_terms(words: str) -> list[str]:
    """The words to look up: NUL, which FTS5 would read as the end of the query, splits
    words, and a word without letters or digits is left out (it has no tokens, and an
    empty phrase would match nothing)."""
    return [w for w in words.replace("\x00", " ").split() if any(c.isalnum() for c in w)]


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
