"""The form a paper's facts must have to be kept, checked where they arrive from outside:
an import file (``import_schema``) and another device's sync file (``events``). One set of
rules, so that a paper another device sends is one this device would have imported, and
its exports hold only what an import takes back."""

from __future__ import annotations

import re

from papercli import times
from papercli.arxiv_ids import is_category_form, parse_arxiv_id
from papercli.errors import PapercliError
from papercli.models import is_doi, web_address
from papercli.names import is_citation_key
from papercli.textlayout import clipped

_ID = re.compile(r"[^\s/\\]{1,100}")
# A year, a month or a day: papers typed in (`add --title --year 2015`) or read from
# BibTeX without a month have only a year. ASCII digits: \d takes any script's.
_DATE = re.compile(r"([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")


class BadFact(Exception):
    """A fact not in form: its field, and what is wrong with it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def checked_facts(
    *,
    id: str,
    title: str,
    date: str,
    year: int,
    arxiv_id: str | None,
    url: str | None,
    pdf_url: str | None,
    doi: str | None,
    citation_key: str | None,
    primary_category: str | None,
) -> tuple[str | None, str | None, str | None]:
    """The arXiv id, address and PDF address as papercli keeps them, once every one of
    these facts is in form; BadFact otherwise."""
    check_paper_id("id", id)
    if not title.strip():
        raise BadFact("title", "is empty")
    day = _DATE.fullmatch(date)
    if day is None:
        raise BadFact("date", f"expected YYYY-MM-DD, YYYY-MM or YYYY, got {date!r}")
    if not 1000 <= year <= 9999 or year != int(day[1]):
        raise BadFact("year", f"expected the year of its date ({day[1]}), got {year}")
    if arxiv_id is not None:
        try:
            arxiv_id = parse_arxiv_id(arxiv_id).id
        except PapercliError as exc:
            raise BadFact("arxiv_id", exc.message) from None
    if doi is not None and not is_doi(doi):
        raise BadFact("doi", f"expected a DOI (10.NNNN/...), got {clipped(doi, 60)!r}")
    if citation_key is not None and not is_citation_key(citation_key):
        raise BadFact(
            "citation_key",
            f"{clipped(citation_key, 60)!r} is not a citation key"
            " (ASCII letters, digits and _:.+/@-)",
        )
    if primary_category is not None and not is_category_form(primary_category):
        raise BadFact(
            "primary_category",
            f"expected an arXiv category like cs.CL, got {clipped(primary_category, 60)!r}",
        )
    return arxiv_id, _web_address("url", url), _web_address("pdf_url", pdf_url)


def check_paper_id(name: str, value: str) -> None:
    """BadFact unless ``value`` has the form of a paper id."""
    if not _ID.fullmatch(value) or value in (".", ".."):
        raise BadFact(name, f"{value!r} is not a paper id (1-100 characters, no spaces or /)")


def _web_address(name: str, value: str | None) -> str | None:
    """The address as papercli keeps it (``models.web_address``); only http(s) is taken."""
    if value is None:
        return None
    kept = web_address(value)
    if kept is None:
        raise BadFact(name, f"only http(s) addresses are kept, got {clipped(value, 60)!r}")
    return kept


def check_time(name: str, value: str | None) -> None:
    """BadFact unless ``value`` is None or a time in the form papercli stores, a real one
    (``times.stored`` keeps such a time as it is, and turns older forms into it)."""
    if value is not None and times.stored(value) != value:
        raise BadFact(name, f"expected a UTC time like 2024-05-01T09:30:00Z, got {value!r}")
