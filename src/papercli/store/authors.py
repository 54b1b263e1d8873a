"""Who wrote each paper: the author lists (curated, or arXiv's for papers a user added),
their folded keys, the ``--author`` filter and the counts behind ``papercli authors``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from papercli.errors import InvalidValueError
from papercli.models import Author
from papercli.names import closest, person_key
from papercli.store.base import IN_IDS, id_list
from papercli.textlayout import clipped


def write_authors(conn: sqlite3.Connection, paper_id: str, authors: Sequence[Author]) -> None:
    """Replace a paper's author list (split names as given, with their folded keys)."""
    write_authors_of(conn, [(paper_id, authors)])


def write_authors_of(
    conn: sqlite3.Connection, lists: Sequence[tuple[str, Sequence[Author]]]
) -> None:
    """Replace the author lists of several papers at once (``write_authors``)."""
    conn.execute(
        f"DELETE FROM paper_authors WHERE paper_id {IN_IDS}",
        (id_list([paper_id for paper_id, _ in lists]),),
    )
    conn.executemany(
        "INSERT INTO paper_authors (paper_id, position, name, family, given, suffix, literal,"
        " family_key, given_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(paper_id, i, *_columns(a)) for paper_id, authors in lists for i, a in enumerate(authors)],
    )


def _columns(a: Author) -> tuple[str, str, str, str, int, str, str]:
    """An author's row in paper_authors from ``name`` on, its folded keys included."""
    family = a.family_name
    return (
        a.name,
        family,
        a.given,
        a.suffix,
        int(a.literal),
        person_key(family),
        person_key(a.given),
    )


def resplit_columns(name: str, family: str, given: str, suffix: str, literal: int) -> str | None:
    """Migration 22's SQL function: a stored author's row from ``name`` on, as a JSON list,
    split as ``export.resplit`` splits it now; NULL where it stays as stored."""
    import json

    from papercli.export import resplit

    stored = Author(name, family=family, given=given, suffix=suffix, literal=bool(literal))
    now = resplit(stored)
    return None if now is None else json.dumps(_columns(now), ensure_ascii=False)


def authors_of(conn: sqlite3.Connection, paper_id: str) -> list[Author]:
    return [
        Author(
            str(name), family=str(family), given=str(given), suffix=str(suffix), literal=bool(lit)
        )
        for name, family, given, suffix, lit in conn.execute(
            "SELECT name, family, given, suffix, literal FROM paper_authors"
            " WHERE paper_id = ? ORDER BY position",
            (paper_id,),
        )
    ]


_A_PERSON = "NOT (literal = 0 AND given = '' AND family = 'others')"
"""SQL: the row is an author, not BibTeX's ``others`` (``Author.means_others``), which
``authors`` does not list and ``--author`` does not find."""

NAME_WORDS_AT_MOST = 40
"""Words a name given to ``--author`` may have. Each way to split it into given and family
names is looked up, a string as long as the name each: a name of 60,000 words took 24 GB
before it was refused."""


def authors_clause(queries: Sequence[str]) -> tuple[str, list[object]]:
    """Papers by any of the authors named: ``hinton`` (a family name), ``"Quoc Le"`` (given
    names as the start of the author's: "Quoc V. Le"), ``"de Las Casas"``, ``OpenAI``;
    case and accents aside (``müller`` finds Muller).

    Each way to read the names as a family name with given names before it goes to SQLite
    in one of two JSON parameters, however many names there are: as one comparison each,
    ORed, ~500 names made an expression deeper than SQLite parses. Family names alone are
    found in the family-name index alone."""
    import json  # here: `list` without --author starts ~2 ms sooner without it

    families: dict[str, None] = {}  # family keys, in order
    givens: dict[str, dict[str, str]] = {}  # family key -> {given key: given key + " "}
    for query in queries:
        # An institution as `add` takes it, in braces ("{Team GLM}"), is its name.
        words = person_key(query.replace("{", " ").replace("}", " ")).split()
        if len(words) > NAME_WORDS_AT_MOST:
            raise InvalidValueError(
                f"--author: a name of {len(words):,} words; names have at most"
                f" {NAME_WORDS_AT_MOST} (one --author for each person)"
            )
        for cut in range(len(words)):
            family, given = " ".join(words[cut:]), " ".join(words[:cut])
            if given:
                givens.setdefault(family, {})[given] = given + " "
            else:
                families[family] = None
    if not families and not givens:
        return "false", []
    clause = (
        f"p.id IN (SELECT paper_id FROM paper_authors WHERE family_key {IN_IDS} AND {_A_PERSON}"
        " UNION ALL SELECT a.paper_id FROM json_each(?) AS f, json_each(f.value) AS g"
        " CROSS JOIN paper_authors AS a ON a.family_key = f.key"
        " WHERE a.given_key = g.key OR substr(a.given_key, 1, length(g.value)) = g.value)"
    )
    return clause, [id_list(list(families)), json.dumps(givens)]


def known_authors_clause(
    conn: sqlite3.Connection, queries: Sequence[str]
) -> tuple[str, list[object]]:
    """``authors_clause``, or InvalidValueError when no paper has an author any of
    ``queries`` names, as for a tag no paper has: selecting nothing, ``export --author ...
    -o refs.bib`` emptied the file. One name among several that none has is no error: a
    script may name many."""
    clause, args = authors_clause(queries)
    if conn.execute(f"SELECT 1 FROM papers p WHERE {clause} LIMIT 1", args).fetchone():
        return clause, args
    if len(queries) > 1:
        raise InvalidValueError(
            f"no paper has an author named by any of the {len(queries):,} --author values;"
            " see papercli authors"
        )
    spelt = {
        str(key): str(family)
        for key, family in conn.execute(
            f"SELECT family_key, min(family) FROM paper_authors WHERE {_A_PERSON}"
            " GROUP BY family_key"
        )
    }  # suggested as written ("Müller"), found by key ("muller")
    hint = [spelt[key] for key in closest(person_key(queries[0]), list(spelt))]
    tip = f"did you mean {' or '.join(repr(h) for h in hint)}?" if hint else ""
    raise InvalidValueError(
        f"unknown author {clipped(queries[0])!r}; {tip or 'see papercli authors'}"
    )


def author_counts(
    conn: sqlite3.Connection, *, by_name: bool = False
) -> Iterator[tuple[str, str, int]]:
    """(name as printed, family name, how many papers) for each author, most papers first
    (or by family name), read as they are printed: a library the size of arXiv has
    millions of authors. Names sort without case (``str.casefold``, in SQL)."""
    conn.create_function("casefold", 1, str.casefold, deterministic=True)
    order = "casefold(family), casefold(name), name"
    rows = conn.execute(
        "SELECT name, min(family) AS family, count(DISTINCT paper_id) AS papers"
        f" FROM paper_authors WHERE {_A_PERSON} GROUP BY name"
        f" ORDER BY {'' if by_name else 'papers DESC, '}{order}"
    )
    return ((str(name), str(family), int(count)) for name, family, count in rows)
