"""Turn what people type for an arXiv paper into a canonical id.

Imported on every command, so it stays cheap: the standard library's ``re`` only, and
the patterns are compiled on first use (``_fullmatch``), not at import: compiling them
all takes ~2 ms, which `papercli list` need not pay.
The rules are arXiv's own (info.arxiv.org/help/arxiv_identifier.html).
"""

from __future__ import annotations

import re
from functools import cache

from papercli import TYPE_CHECKING
from papercli.errors import InvalidValueError
from papercli.records import datarecord

if TYPE_CHECKING:
    from collections.abc import Callable

ARXIV_DOI_PREFIX = "10.48550/"
"""arXiv's own DataCite DOIs (``10.48550/arXiv.2106.09685``): the arXiv id says the same,
so papercli never keeps one as a paper's DOI."""


def id_in_arxiv_doi(doi: str) -> str | None:
    """The arXiv id an arXiv DOI names (in any case), else None."""
    prefix = ARXIV_DOI_PREFIX + "arxiv."
    return doi[len(prefix) :] if doi.lower().startswith(prefix) else None


# ASCII digits only ([0-9], not \d, which takes any script's), versions up to v9999.
# New scheme (2007-04 on): YYMM.NNNN until 1412, YYMM.NNNNN from 1501.
_NEW_ID = (
    r"(?P<id>(?P<yymm>[0-9]{2}(?:0[1-9]|1[0-2]))\.(?P<num>[0-9]{4,5}))"
    r"(?:v(?P<version>[1-9][0-9]{0,3}))?"
)
# Old scheme (1991-08 to 2007-03): archive[.SC]/YYMMNNN; the subject class is dropped.
_OLD_ID = (
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z-]{2,})?/"
    r"(?P<yymm>[0-9]{2}(?:0[1-9]|1[0-2]))(?P<num>[0-9]{3})(?:v(?P<version>[1-9][0-9]{0,3}))?"
)
_URL = (
    r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/"
    r"(?P<rest>[^?#]+?)(?:\.pdf)?/?(?:[?#].*)?"
)
# Loose on purpose: id-shaped text goes to parse_arxiv_id, which names what is wrong.
# Matched against lowercased text: with re.IGNORECASE it takes 4x longer to compile.
_ID_SHAPED = (
    r"arxiv:.*|(?:https?://)?(?:www\.|export\.)?arxiv\.org/.*"
    r"|(?:[0-9]{4}\.[0-9]+|[a-z]+(?:-[a-z]+)?(?:\.[a-z-]+)?/[0-9]+)(?:v[0-9]+)?"
)

_SITE = "https://arxiv.org"


@datarecord(frozen=True)
class ArxivId:
    """A canonical arXiv id; ``version`` None means the latest version."""

    id: str  # "2106.09685" or "hep-th/9901001"
    version: int | None = None

    def __str__(self) -> str:
        return self.id if self.version is None else f"{self.id}v{self.version}"


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an id, ``arXiv:`` citation or arxiv.org abs/pdf URL into an ArxivId."""
    candidate = text.strip()
    url = _fullmatch(_URL, ignore_case=True)(candidate)
    if url:
        candidate = url["rest"]
    elif candidate[:6].lower() == "arxiv:":
        candidate = candidate[len("arxiv:") :].lstrip()
    parsed = _parse_new(candidate) or _parse_old(candidate)
    if parsed is None:
        raise InvalidValueError(
            f"'{text.strip()}' is not an arXiv id (expected e.g. 2106.09685 or hep-th/9901001)"
        )
    return parsed


def looks_like_arxiv_id(text: str) -> bool:
    """Whether text is shaped like an arXiv reference (id, ``arXiv:…`` or arxiv.org URL).

    Deliberately looser than parse_arxiv_id: a malformed id such as ``2106.9685``
    counts, so the caller can report parse_arxiv_id's precise error instead of
    searching titles for it.
    """
    return _fullmatch(_ID_SHAPED)(text.strip().lower()) is not None


def year_month(arxiv_id: str) -> tuple[int, int]:
    """The year and month a (version-less, canonical) id was first submitted in:
    ``2106.09685`` -> (2021, 6), ``hep-th/9901001`` -> (1999, 1), ``9912.12345`` -> (2099, 12)."""
    old_scheme, _, number = arxiv_id.rpartition("/")
    year = int(number[:2])
    # Old-scheme ids run 1991-2007; new-scheme ids start in 2007, so their 91-99 are 2090s.
    century = 1900 if old_scheme and year >= 91 else 2000
    return century + year, int(number[2:4])


def abs_url(arxiv_id: ArxivId | str) -> str:
    """The abstract page; versionless ids point at the latest version."""
    return f"{_SITE}/abs/{arxiv_id}"


def pdf_url(arxiv_id: ArxivId | str) -> str:
    """The PDF; versionless ids point at the latest version."""
    return f"{_SITE}/pdf/{arxiv_id}"


def _parse_new(text: str) -> ArxivId | None:
    match = _fullmatch(_NEW_ID)(text)
    if not match:
        return None
    yymm, num = int(match["yymm"]), match["num"]
    four_digit_era = yymm <= 1412
    if yymm < 704 or (len(num) == 4) != four_digit_era or int(num) == 0:
        return None
    return ArxivId(match["id"], _version(match))


def _parse_old(text: str) -> ArxivId | None:
    match = _fullmatch(_OLD_ID)(text)
    if not match:
        return None
    yymm = match["yymm"]
    if not (int(yymm[:2]) >= 91 or int(yymm) <= 703) or int(match["num"]) == 0:
        return None
    return ArxivId(f"{match['archive']}/{yymm}{match['num']}", _version(match))


@cache
def _fullmatch(pattern: str, *, ignore_case: bool = False) -> Callable[[str], re.Match[str] | None]:
    """The pattern's ``fullmatch``, compiled on first use. ``re.fullmatch(pattern, text)``
    looks the pattern up in ``re``'s cache on every call: a list of a million ids spent
    about a second there."""
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0).fullmatch


def _version(match: re.Match[str]) -> int | None:
    return int(match["version"]) if match["version"] else None


_CATEGORY = r"[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z-]{2,})?"


def is_category_form(text: str) -> bool:
    """Whether ``text`` has the form of an arXiv category (``cs.CL``, ``hep-th``,
    ``physics.acc-ph``), known or not: what a paper's primary category may hold, so that
    it can stand in BibTeX's ``primaryClass`` as it is."""
    return _fullmatch(_CATEGORY)(text) is not None
