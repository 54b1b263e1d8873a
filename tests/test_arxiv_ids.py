from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papercli.arxiv_ids import (
    ArxivId,
    abs_url,
    looks_like_arxiv_id,
    parse_arxiv_id,
    pdf_url,
    year_month,
)
from papercli.errors import InvalidValueError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # New scheme: 4 digits 0704-1412, 5 digits from 1501 (ARXIV.md section 8).
        ("0704.0001", ArxivId("0704.0001")),
        ("1412.7878", ArxivId("1412.7878")),
        ("1501.00001", ArxivId("1501.00001")),
        ("1706.03762", ArxivId("1706.03762")),
        ("2106.09685v2", ArxivId("2106.09685", 2)),
        ("9912.12345v2", ArxivId("9912.12345", 2)),
        # Old scheme: the subject class is dropped, as in the API's own entry ids.
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("cs/0112017", ArxivId("cs/0112017")),
        ("math.CA/0611800v2", ArxivId("math/0611800", 2)),
        ("astro-ph/0601001", ArxivId("astro-ph/0601001")),
        ("q-bio/0401001", ArxivId("q-bio/0401001")),
        ("hep-th/9108001", ArxivId("hep-th/9108001")),
        ("math/0703001", ArxivId("math/0703001")),
        # Citation forms and what people paste.
        ("arXiv:1706.03762", ArxivId("1706.03762")),
        ("ARXIV:1706.03762v5", ArxivId("1706.03762", 5)),
        ("arxiv:math.CA/0611800v2", ArxivId("math/0611800", 2)),
        ("arXiv: 1706.03762", ArxivId("1706.03762")),
        ("  1706.03762\n", ArxivId("1706.03762")),
        ("https://arxiv.org/abs/1706.03762", ArxivId("1706.03762")),
        ("http://arxiv.org/abs/1706.03762v5", ArxivId("1706.03762", 5)),
        ("https://www.arxiv.org/abs/2106.09685", ArxivId("2106.09685")),
        ("https://export.arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001")),
        ("arxiv.org/abs/1706.03762", ArxivId("1706.03762")),
        ("https://arxiv.org/abs/1706.03762/", ArxivId("1706.03762")),
        ("https://arxiv.org/abs/1706.03762?context=cs", ArxivId("1706.03762")),
        ("https://arxiv.org/abs/math.CA/0611800", ArxivId("math/0611800")),
        ("https://arxiv.org/pdf/1706.03762", ArxivId("1706.03762")),
        ("https://arxiv.org/pdf/1706.03762v7.pdf", ArxivId("1706.03762", 7)),
        ("HTTPS://ArXiv.org/PDF/hep-th/9901001v1.pdf", ArxivId("hep-th/9901001", 1)),
    ],
)
def test_parse_valid(text: str, expected: ArxivId) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1412.78780",  # 5 digits before 1501
        "1501.0001",  # 4 digits from 1501
        "0808.05394",
        "0000.0000",
        "0703.0001",  # new scheme starts in 0704
        "1713.00001",  # month 13
        "1501.00000",  # number 0
        "2106.9685",
        "1706.03762v0",
        "1706.03762V2",
        "abc",
        "",
        "hep-th/0801001",  # old scheme ends in 0703
        "hep-th/9901000",
        "hep-th/9913001",
        "HEP-TH/9901001",
        "cond\u2014mat/0709123",  # em dash
        "https://example.org/abs/1706.03762",
        "https://arxiv.org/list/cs.AI",
        "arXiv:",
    ],
)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_arxiv_id(text)


def test_error_names_the_value_and_an_example() -> None:
    with pytest.raises(InvalidValueError) as caught:
        parse_arxiv_id(" 2106.9685 ")
    assert caught.value.message == (
        "'2106.9685' is not an arXiv id (expected e.g. 2106.09685 or hep-th/9901001)"
    )


def test_str_and_urls() -> None:
    assert str(ArxivId("2106.09685")) == "2106.09685"
    assert str(ArxivId("hep-th/9901001", 3)) == "hep-th/9901001v3"
    assert abs_url(ArxivId("2106.09685", 2)) == "https://arxiv.org/abs/2106.09685v2"
    assert pdf_url("hep-th/9901001") == "https://arxiv.org/pdf/hep-th/9901001"


@pytest.mark.parametrize(
    ("arxiv_id", "expected"),
    [
        ("2106.09685", (2021, 6)),
        ("0704.0001", (2007, 4)),
        ("hep-th/9108001", (1991, 8)),
        ("math/0703001", (2007, 3)),
        # New-scheme ids began in 2007, so a 99 in one is 2099, not 1999 (ARXIV.md 8).
        ("9912.12345", (2099, 12)),
    ],
)
def test_year_month_of_each_scheme(arxiv_id: str, expected: tuple[int, int]) -> None:
    assert year_month(arxiv_id) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2106.09685", True),
        ("2106.9685", True),  # malformed but id-shaped: the caller reports parse_arxiv_id's error
        ("1706.03762v2", True),
        ("hep-th/9901001", True),
        ("math.CA/0611800v2", True),
        ("arXiv:whatever", True),
        ("https://arxiv.org/abs/1706.03762", True),
        ("lora", False),
        ("attention is all you need", False),
        ("gpt-4", False),
        ("2106", False),
        ("tcp/ip", False),
        ("", False),
    ],
)
def test_looks_like_arxiv_id(text: str, expected: bool) -> None:
    assert looks_like_arxiv_id(text) is expected


@st.composite
def new_style_ids(draw: st.DrawFn) -> str:
    yymm = draw(
        st.builds(lambda yy, mm: yy * 100 + mm, st.integers(7, 99), st.integers(1, 12)).filter(
            lambda n: n >= 704
        )
    )
    digits = 4 if yymm <= 1412 else 5
    number = draw(st.integers(1, 10**digits - 1))
    return f"{yymm:04d}.{number:0{digits}d}"


@st.composite
def old_style_ids(draw: st.DrawFn) -> str:
    archive = draw(st.sampled_from(["hep-th", "astro-ph", "cond-mat", "math", "cs", "q-bio"]))
    years = st.sampled_from([*range(91, 100), *range(0, 8)])
    yymm = draw(
        st.builds(lambda yy, mm: yy * 100 + mm, years, st.integers(1, 12)).filter(
            lambda n: n >= 9101 or n <= 703
        )
    )
    return f"{archive}/{yymm:04d}{draw(st.integers(1, 999)):03d}"


@given(
    base=st.one_of(new_style_ids(), old_style_ids()),
    version=st.none() | st.integers(1, 99),
)
def test_canonical_ids_round_trip_in_every_form(base: str, version: int | None) -> None:
    text = base if version is None else f"{base}v{version}"
    parsed = parse_arxiv_id(text)
    assert parsed == ArxivId(base, version)
    assert str(parsed) == text
    assert parse_arxiv_id(str(parsed)) == parsed
    for form in (f"arXiv:{text}", abs_url(text), pdf_url(text), f"{pdf_url(text)}.pdf"):
        assert parse_arxiv_id(form) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "2106.09685v" + "1" * 5000,
        "\uff12\uff11\uff10\uff16.\uff10\uff19\uff16\uff18\uff15",  # fullwidth digits
        "2106.09685v12345",
        "hep-th/99\u06601001",  # an Arabic-Indic zero
    ],
)
def test_ids_with_absurd_versions_or_other_scripts_digits_are_refused(text: str) -> None:
    with pytest.raises(InvalidValueError, match="is not an arXiv id"):
        parse_arxiv_id(text)
