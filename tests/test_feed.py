from __future__ import annotations

import re

import pytest

from papercli.arxiv_ids import parse_arxiv_id
from papercli.errors import ArxivAPIError
from papercli.feed import FeedError, ParsedFeed, parse_feed
from papercli.models import ArxivRecord, Author
from tests.arxiv_fakes import API_FIXTURES, fixture

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def parse(name: str) -> ParsedFeed:
    return parse_feed(fixture(name))


def only(name: str) -> ArxivRecord:
    (record,) = parse(name).records
    return record


@pytest.mark.parametrize("name", API_FIXTURES)
def test_every_recording_parses_into_clean_records(name: str) -> None:
    body = fixture(name)
    feed = parse_feed(body)
    assert len(feed.records) + len(feed.errors) == body.count(b"<entry>")
    total = re.search(rb"totalResults[^>]*>(\d+)<", body)
    assert total is not None
    assert feed.total_results == int(total[1])
    for record in feed.records:
        assert str(parse_arxiv_id(record.arxiv_id)) == record.arxiv_id
        assert record.version >= 1
        assert record.title and record.abstract
        for text in (record.title, record.abstract, record.comment or "x"):
            assert text == " ".join(text.split())
        assert ISO_UTC.fullmatch(record.published)
        assert ISO_UTC.fullmatch(record.updated)
        assert record.updated >= record.published
        assert record.authors and all(author.name for author in record.authors)
        assert record.categories[0] == record.primary_category
        assert len(set(record.categories)) == len(record.categories)
        assert record.abs_url == f"https://arxiv.org/abs/{record.arxiv_id}v{record.version}"
        assert record.pdf_url == f"https://arxiv.org/pdf/{record.arxiv_id}v{record.version}"


def test_current_layout_single_id_with_34_authors() -> None:
    record = only("api-2026_single_id_1707.08567_comment_34_authors.xml")
    assert (record.arxiv_id, record.version) == ("1707.08567", 1)
    assert record.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert len(record.authors) == 34
    assert record.authors[0] == Author("Kees A. Schouhamer Immink")
    assert record.authors[32] == Author("Dirk Wübben")
    assert record.comment == (
        "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"
    )
    assert record.published == record.updated == "2017-07-27T08:18:33Z"
    assert (record.primary_category, record.categories) == ("cs.IT", ["cs.IT"])
    assert (record.dois, record.journal_ref) == ([], None)


def test_id_list_with_a_missing_id_returns_only_the_existing_entry() -> None:
    feed = parse("api-2026_idlist_two_ids_one_missing_0808.05394_1707.08567.xml")
    assert [r.arxiv_id for r in feed.records] == ["1707.08567"]
    assert (feed.total_results, feed.errors) == (1, [])


def test_affiliations_are_kept_per_author() -> None:
    record = only("api-2026_oldstyle_id_astro-ph_0601001_affiliations_journalref.xml")
    assert record.arxiv_id == "astro-ph/0601001"
    assert record.authors == [
        Author("Andrew Gould", ("Ohio State",)),
        Author("Susan Dorsher", ("Ohio State",)),
        Author("B. Scott Gaudi", ("CfA",)),
        Author("Andrzej Udalski", ("Warsaw University Observatory",)),
    ]
    assert record.journal_ref == "ActaAstron.56:1-50,2006"
    assert "V_max<17.5" in record.abstract  # entities decoded, text not treated as HTML
    assert record.abstract.startswith("We derive the frequencies")


def test_old_style_versioned_id_with_cross_list() -> None:
    record = only("api-2026_oldstyle_versioned_id_quant-ph_0201082v1.xml")
    assert (record.arxiv_id, record.version) == ("quant-ph/0201082", 1)
    assert record.categories == ["quant-ph", "cs.PL"]
    assert record.comment == "32 pages"


def test_title_zero_is_a_title() -> None:
    record = only("api-2026_versioned_id_2104.12255v1_title_zero.xml")
    assert (record.arxiv_id, record.version, record.title) == ("2104.12255", 1, "0")
    assert record.authors == [Author("Quan Thoi Minh Nguyen")]


def test_plain_single_id() -> None:
    record = only("api-2026_single_id_1605.08386.xml")
    assert record.title == "Heat-bath random walks with Markov bases"
    assert [a.name for a in record.authors] == ["Caprice Stanley", "Tobias Windisch"]
    assert record.categories == ["math.CO", "math.ST"]


def test_search_page_with_doi_journal_ref_and_comment() -> None:
    feed = parse("api-2026_search_testing_start0_max10_doi_journalref_comment.xml")
    assert (len(feed.records), feed.total_results) == (10, 214881)
    first = feed.records[0]
    assert first.arxiv_id == "2202.12139"
    assert first.dois == ["10.1109/ICSTW55395.2022.00035"]
    assert first.journal_ref is not None and first.journal_ref.startswith(
        "Artificial Intelligence in Software Testing @ 2022 IEEE"
    )
    assert sum(bool(r.dois) for r in feed.records) == 6


def test_updated_differs_from_published_for_a_later_version() -> None:
    record = parse("api-2026_search_testing_start10_max10.xml").records[0]
    assert (record.arxiv_id, record.version) == ("2403.16981", 2)
    assert (record.published, record.updated) == ("2024-03-25T17:42:32Z", "2025-05-24T05:50:33Z")
    assert record.pdf_url == "https://arxiv.org/pdf/2403.16981v2"


def test_full_page_of_100() -> None:
    feed = parse("api-2026_search_testing_start0_max100.xml")
    assert len(feed.records) == 100
    assert sum(bool(r.dois) for r in feed.records) == 32
    assert any("/" in r.arxiv_id for r in feed.records)  # old-style ids among search results
    with_affiliations = [r for r in feed.records if any(a.affiliations for a in r.authors)]
    assert [a for r in with_affiliations for a in r.authors] == [
        Author("Marie-Claude Gaudel", ("LRI",)),
        Author("Pascale Le Gall", ("IBISC",)),
    ]


def test_legacy_two_entries_unwrapped_and_upgraded_to_https() -> None:
    first, second = parse("api-legacy-2012_idlist_two_ids_1205.1001v1_1001.1001v1.xml").records
    assert (first.arxiv_id, second.arxiv_id) == ("1205.1001", "1001.1001")
    assert first.title == (
        "Membrane lateral structure: The influence of immobilized particles on domain size"
    )
    assert first.abstract.startswith("In experiments on model membranes, a formation")
    assert first.categories == ["cond-mat.soft", "physics.bio-ph"]
    assert first.abs_url == "https://arxiv.org/abs/1205.1001v1"
    assert second.comment == (
        'To appear in the proceedings of the 25th NSO Workshop "Chromospheric Structure and '
        "Dynamics. From Old Wisdom to New Insights\", Memorie della Societa' Astronomica "
        "Italiana, Eds. Tritschler et al"
    )
    assert second.published == "2010-01-06T22:12:29Z"


def test_legacy_doi_and_journal_ref() -> None:
    record = only("api-legacy-2019_newstyle_id_1710.08557_doi_journalref.xml")
    assert record.dois == ["10.1186/s12984-017-0305-3"]
    assert record.journal_ref == "Journal of NeuroEngineering and Rehabilitation, 2017"
    assert record.comment is None


def test_legacy_32_authors_with_affiliations() -> None:
    name = "api-legacy-2019_oldstyle_id_astro-ph_9812133_doi_comment_journalref_affiliations.xml"
    record = only(name)
    assert record.arxiv_id == "astro-ph/9812133"
    assert len(record.authors) == 32
    assert record.authors[0] == Author("S. Perlmutter", ("The Supernova Cosmology Project",))
    assert all(a.affiliations == ("The Supernova Cosmology Project",) for a in record.authors)
    assert record.dois == ["10.1086/307221"]
    assert record.journal_ref == "Astrophys.J.517:565-586,1999"
    assert record.categories == ["astro-ph", "hep-ex", "hep-ph"]
    assert record.comment is not None and record.comment.startswith("21 pages and 10 figures.")


def test_a_primary_category_not_of_a_category_s_form_is_left_out() -> None:
    """It would stand in BibTeX's primaryClass as sent (a brace there lost the rest of the
    file), and the library's JSON backup would refuse it."""
    body = fixture("api-2026_single_id_1605.08386.xml")
    body = re.sub(rb'(<arxiv:primary_category[^>]*term=")[^"]*"', rb'\1math.CO} x"', body)
    [record] = parse_feed(body).records
    assert record.primary_category is None
    assert "math.CO" in record.categories


def test_legacy_msc_code_is_kept_as_a_category() -> None:
    record = only("api-legacy-2019_oldstyle_id_math_0211159_msc_category.xml")
    assert (record.arxiv_id, record.primary_category) == ("math/0211159", "math.DG")
    assert record.categories == ["math.DG", "53C"]
    assert record.authors == [Author("Grisha Perelman")]


def test_legacy_1995_journal_ref_only() -> None:
    record = only("api-legacy-2019_oldstyle_id_math_9501234_journalref.xml")
    assert record.arxiv_id == "math/9501234"
    assert record.journal_ref == "J. Algebraic Combin. 6 (1997), no. 3, 253--257"
    assert (record.comment, record.dois) == (None, [])


@pytest.mark.parametrize(
    ("name", "slug", "message"),
    [
        (
            "api-2026_error_malformed_id_abc_http400.xml",
            "incorrect_id_format_for_abc",
            "incorrect id format for abc",
        ),
        (
            "api-legacy-2019_error_malformed_id_INVALIDID_http400.xml",
            "incorrect_id_format_for_INVALIDID",
            "incorrect id format for INVALIDID",
        ),
    ],
)
def test_error_feeds_are_reported_not_counted(name: str, slug: str, message: str) -> None:
    feed = parse(name)
    assert feed.records == []
    assert feed.errors == [FeedError(slug, message)]


@pytest.mark.parametrize(
    "name",
    [
        "api-2026_idlist_unknown_id_0000.0000_empty.xml",
        "api-2026_idlist_nonexistent_id_0808.05394_empty.xml",
    ],
)
def test_empty_feeds(name: str) -> None:
    assert parse(name) == ParsedFeed([], 0, [])


# The cases below edit a real recording to show shapes no recording has.


def test_every_doi_is_kept() -> None:
    # The current API emits one <arxiv:doi> per DOI; feedparser keeps only the last.
    body = fixture("api-legacy-2019_newstyle_id_1710.08557_doi_journalref.xml").replace(
        b"<arxiv:doi ",
        b'<arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.1000/first 10.1000/second'
        b"</arxiv:doi><arxiv:doi ",
    )
    (record,) = parse_feed(body).records
    assert record.dois == ["10.1000/first", "10.1000/second", "10.1186/s12984-017-0305-3"]


def test_links_are_found_without_rel() -> None:
    body = fixture("api-2026_single_id_1605.08386.xml")
    body = body.replace(b' rel="alternate"', b"").replace(b' rel="related"', b"")
    (record,) = parse_feed(body).records
    assert record.abs_url == "https://arxiv.org/abs/1605.08386v1"
    assert record.pdf_url == "https://arxiv.org/pdf/1605.08386v1"


def test_entries_without_id_or_published_are_skipped() -> None:
    # The legacy API answered an unknown id with an entry lacking <id> (arxiv.py issue #80).
    body = fixture("api-2026_single_id_1605.08386.xml")
    body = re.sub(rb"<published>.*?</published>", b"", body)
    assert parse_feed(body).records == []
    body = fixture("api-2026_single_id_1605.08386.xml")
    assert parse_feed(re.sub(rb"<id>http://arxiv.*?</id>", b"", body)).records == []


SINGLE = "api-2026_single_id_1605.08386.xml"  # published and updated 2016-05-26T17:59:46Z


def _dated(published: str, updated: str) -> bytes:
    body = fixture(SINGLE)
    body = body.replace(b"<published>2016-05-26T17:59:46Z", b"<published>" + published.encode())
    return body.replace(b"    <updated>2016-05-26T17:59:46Z", b"    <updated>" + updated.encode())


@pytest.mark.parametrize(
    "published",
    [
        "2023-02-30T00:00:00Z",  # feedparser rolled it over into 2 March
        "2023-13-45T00:00:00Z",  # into 2024-01-14
        "2023-05-23T25:61:00Z",  # into the next day, 02:01
        "2099-01-01T00:00:00Z",  # ahead of today
        "1066-10-14T00:00:00Z",  # before arXiv
        "yesterday",
    ],
)
def test_an_entry_with_an_impossible_publication_date_is_skipped(published: str) -> None:
    feed = parse_feed(_dated(published, "2016-05-26T17:59:46Z"))
    assert feed.records == []
    (skipped,) = feed.skipped
    assert skipped.reason == "it has no plausible publication date"


@pytest.mark.parametrize(
    "updated",
    [
        "2016-02-30T00:00:00Z",
        "2016-05-26T25:00:00Z",
        "2099-01-01T00:00:00Z",
        "2016-05-25T00:00:00Z",
    ],
)
def test_an_impossible_or_earlier_version_date_is_the_first_versions(updated: str) -> None:
    (record,) = parse_feed(_dated("2016-05-26T17:59:46Z", updated)).records
    assert record.updated == record.published == "2016-05-26T17:59:46Z"


def test_a_date_with_an_offset_is_stored_in_utc() -> None:
    (record,) = parse_feed(_dated("2016-05-26T17:59:46-05:00", "2016-06-01T00:00:00+02:00")).records
    assert (record.published, record.updated) == ("2016-05-26T22:59:46Z", "2016-05-31T22:00:00Z")


@pytest.mark.parametrize(
    ("element", "text", "said"),
    [
        (b"title", "t" * 1001, "its title has 1,001 characters (at most 1,000)"),
        (b"summary", "s" * 1_000_001, "its abstract has 1,000,001 characters (at most 1,000,000)"),
        (b"name", "n" * 1001, "its author has 1,001 characters (at most 1,000)"),
    ],
    ids=["title", "abstract", "author"],
)
def test_an_entry_with_a_value_longer_than_papercli_keeps_is_skipped(
    element: bytes, text: str, said: str
) -> None:
    """Stored, it made the library's own JSON backup impossible to import, and never
    synced (no real entry is near: arXiv takes abstracts of at most 1,920 characters)."""
    head, entry, tail = fixture("api-2026_single_id_1605.08386.xml").partition(b"<entry>")
    pattern = rb"<%s>[^<]*</%s>" % (element, element)
    tail = re.sub(pattern, b"<%s>%s</%s>" % (element, text.encode(), element), tail, count=1)
    parsed = parse_feed(head + entry + tail)
    assert parsed.records == []
    [skipped] = parsed.skipped
    assert (skipped.arxiv_id, skipped.reason) == ("1605.08386", said)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"Rate exceeded.",
        b"<!DOCTYPE html>\n<html><head><title>Access Denied</title></head>"
        b"<body><h1>Access Denied</h1><p>python-httpx/0.28.1</p></body></html>",
        b"<html><head><meta charset=utf-8><title>503</title></head></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
        b"<feed><entry><id>http://arxiv.org/abs/1605.08386v1</id></entry></feed>",  # no Atom ns
        fixture("api-2026_single_id_1605.08386.xml")[:1500],
    ],
    ids=["empty", "blank", "rate-exceeded", "html", "bad-html", "rss", "no-namespace", "truncated"],
)
def test_non_atom_bodies_raise(body: bytes) -> None:
    with pytest.raises(ArxivAPIError) as caught:
        parse_feed(body)
    assert "\n" not in caught.value.message
    assert caught.value.message.startswith("arXiv sent")
