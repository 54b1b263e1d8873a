"""Turn what a user types into a paper id.

A reference may be the id (``lora``), a short name or alias in any case or spacing
(``LoRA``, ``gpt3``), the start of a name (``distil``), an arXiv id with or without
version or ``arXiv:`` prefix, an arxiv.org abs/pdf URL, or words from the title. Tried in
that order of certainty.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from papercli.arxiv_ids import id_in_arxiv_doi, looks_like_arxiv_id, parse_arxiv_id
from papercli.errors import AmbiguousError, InvalidValueError, NotFoundError, PapercliError
from papercli.models import bare_doi, is_doi
from papercli.names import closest, name_key
from papercli.store import lookups
from papercli.textlayout import clipped

MAX_CANDIDATES = 8
LONGEST_REF = 1000
"""The most characters a reference that is not an id may have: more than any title, name
or URL. A longer one (a line of stdin may hold megabytes) is refused at once, not
compared with every name for a suggestion (seconds and hundreds of MB a megabyte) nor
printed back whole."""


def resolve(conn: sqlite3.Connection, ref: str) -> str:
    """The id of the one paper ``ref`` names; NotFoundError or AmbiguousError otherwise."""
    text = ref.strip()
    if not text:
        raise InvalidValueError("an empty reference names no paper")
    if lookups.paper_exists(conn, text):
        return text  # an exact id wins over any name or alias that folds to it
    if len(text) > LONGEST_REF:
        raise InvalidValueError(
            f"a reference of {len(text):,} characters names no paper"
            f" (at most {LONGEST_REF:,}): {clipped(text, 41)!r}"
        )
    if "10." in text and "/" in text and is_doi(doi := bare_doi(text)):
        return _by_doi(conn, doi)
    key = name_key(text)
    if looks_like_arxiv_id(text):
        arxiv_id = parse_arxiv_id(text).id
        found = lookups.ids_by_arxiv_id(conn, arxiv_id)
        if found:
            return found[0]
        raise NotFoundError(
            f"arXiv:{arxiv_id} is not in the catalogue or your list;"
            f" add it with: papercli add {arxiv_id}"
        )
    # Surest first, each only when the ones before found nothing.
    ids = lookups.ids_by_name(conn, key) if key else []
    if not ids and len(key) > 1:
        ids = lookups.ids_by_name_prefix(conn, key, MAX_CANDIDATES + 1)
    if not ids:
        ids = lookups.ids_by_title_words(conn, text.split(), MAX_CANDIDATES + 1)
    if len(ids) == 1:
        return ids[0]
    if ids:
        raise _ambiguous(conn, text, ids)
    raise _not_found(conn, text)


def resolve_all(conn: sqlite3.Connection, refs: Iterable[str]) -> list[str]:
    """Resolve every ref or none (``resolve_each``), each id once, in order."""
    return list(dict.fromkeys(resolve_each(conn, refs)))


REPORTED = 10
"""The most problems a batch reports: past them, its other references are not read."""


def resolve_each(conn: sqlite3.Connection, refs: Iterable[str]) -> Iterator[str]:
    """The id of each ref as it is read (a million of them need not be held), repeats
    included; once all are read, the problems found, together in one error, so that a
    caller reading every id before it writes changes nothing when one ref is bad."""
    problems: list[PapercliError] = []
    count = 0
    for count, ref in enumerate(refs, 1):  # noqa: B007 (count is read after the loop)
        try:
            found = resolve(conn, ref)
        except PapercliError as exc:
            problems.append(exc)
            if len(problems) > REPORTED:
                break
            continue
        yield found
    if len(problems) == 1 and count == 1:
        raise problems[0]
    if problems:
        messages = "; ".join(p.message for p in problems[:REPORTED])
        more = "; and more" if len(problems) > REPORTED else ""
        raise type(problems[0])(f"{messages}{more}; nothing was changed")


def _ambiguous(conn: sqlite3.Connection, text: str, ids: list[str]) -> AmbiguousError:
    shown = lookups.describe_ids(conn, ids[:MAX_CANDIDATES])
    listing = ", ".join(f"{pid} ({shorten(title)}, {year})" for pid, title, year in shown)
    more = "" if len(ids) <= MAX_CANDIDATES else " and more"
    return AmbiguousError(f"{text!r} matches several papers: {listing}{more}; use one of these ids")


def _by_doi(conn: sqlite3.Connection, doi: str) -> str:
    """The paper with this DOI (the publisher's, or one arXiv lists); an arXiv DOI names
    the arXiv id after its prefix."""
    if arxiv_id := id_in_arxiv_doi(doi):
        return resolve(conn, arxiv_id)
    found = lookups.id_by_doi(conn, doi)
    if found is None:
        raise NotFoundError(f"no paper in the catalogue or your list has the DOI {doi}")
    return found


def shorten(title: str, width: int = 40) -> str:
    """``title`` cut to about ``width`` characters at a word boundary, with an ellipsis:
    a candidate is recognised by its first words, and half a word reads as a typo."""
    text = " ".join(title.split())
    if len(text) <= width:
        return text
    head = text[: width - 1]  # room for the ellipsis
    if text[width - 1] != " ":  # the cut fell inside a word: leave that word out
        head = head.rpartition(" ")[0] or text.partition(" ")[0]
    if head == text:  # one word, too long to cut
        return text
    return (head.rstrip(_TRAILING) or head) + "…"


# What a shortened title should not end on, before its ellipsis (en and em dashes too).
_TRAILING = ",;:-\u2013\u2014 "


def _not_found(conn: sqlite3.Connection, text: str) -> NotFoundError:
    names = lookups.names_to_suggest(conn, name_key(text))
    suggestions = list(dict.fromkeys(names[n] for n in closest(text, list(names))))
    tip = f" — did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    return NotFoundError(f"no paper matches {text!r}{tip}")
