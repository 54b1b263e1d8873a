"""arXiv's RSS daily listings (rss.arxiv.org) parsed into ListingItems, and the category
taxonomy they are checked against. Recorded listings first, then feeds built from them."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli.arxiv_ids import parse_arxiv_id
from papercli.arxiv_taxonomy import CATEGORIES, check_category, is_category
from papercli.errors import EXIT_USER, ArxivAPIError, InvalidValueError
from papercli.feed import (
    ANNOUNCE_TYPES,
    Listing,
    SkippedEntry,
    UnknownCategoryError,
    parse_listing,
    split_creators,
)
from papercli.models import Author, ListingItem
from tests.arxiv_fakes import INDEX, fixture

ALL = "rss-2024_listing_all_archives.xml"
EMPTY = "rss-2024_empty_listing_test_archive.xml"
ERROR = "rss-2024_error_bad_archive_astroph.xml"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def listing() -> Listing:
    return parse_listing(fixture(ALL))


def item(listing: Listing, arxiv_id: str) -> ListingItem:
    (found,) = [i for i in listing.items if i.arxiv_id == arxiv_id]
    return found


@pytest.mark.parametrize("name", [ALL, EMPTY, ERROR])
def test_the_copies_are_the_recorded_bytes(name: str) -> None:
    assert hashlib.sha256(fixture(name)).hexdigest() == INDEX[name]["sha256"]


def test_the_whole_recorded_listing_parses_clean(listing: Listing) -> None:
    assert (len(listing.items), listing.skipped, listing.warnings) == (1504, [], [])
    assert (listing.empty, listing.announced) == (False, "2024-11-28")
    assert Counter(i.announce_type for i in listing.items) == {
        "new": 926,
        "replace": 569,
        "cross": 9,
    }
    for found in listing.items:
        assert str(parse_arxiv_id(found.arxiv_id)) == found.arxiv_id
        assert 1 <= found.version <= 999 and found.announced == "2024-11-28"
        for text in (found.title, found.abstract):
            assert text and text == " ".join(text.split())
        assert found.categories and len(set(found.categories)) == len(found.categories)
        assert all(is_category(c) for c in found.categories)
        assert found.authors
        for author in found.authors:  # TeX decoded, spaces trimmed, parentheses split off
            assert author.name == author.name.strip() and author.name
            assert not re.search(r"[\\{}()]", author.name), author.name
    body = fixture(ALL)
    assert sum(bool(i.dois) for i in listing.items) == body.count(b"<arxiv:DOI>") == 111
    assert sum(bool(i.journal_ref) for i in listing.items) == body.count(b"<arxiv:journal_r") == 97


def test_a_new_paper_in_full(listing: Listing) -> None:
    first = listing.items[0]
    assert first == ListingItem(
        arxiv_id="2411.17700",
        version=1,
        title="Exploring the Impact of Generative AI on Cross-Border E-Commerce Brand Building"
        " in Chinese Tianjin's Manufacturing Sector",
        authors=[Author("Jun Cui")],
        abstract=first.abstract,
        categories=["cs.CY"],
        announce_type="new",
        announced="2024-11-28",
    )
    assert first.abstract.startswith("This study investigates the influence of generative")
    assert first.abstract.endswith("regression and structural equations (PLS-SEM).")


def test_abstracts_keep_less_than_signs_and_ampersands(listing: Listing) -> None:
    # feedparser reads the description as HTML and turns "1/3<s<1" into "1/3<s><1".
    assert r"where $\frac{1}{3}<s<1$ and" in item(listing, "2411.17730").abstract
    assert "Explore and Exploit (E&E) and" in item(listing, "2411.17942").abstract


def test_a_cross_list_keeps_every_category_primary_first(listing: Listing) -> None:
    cross = item(listing, "2411.16552")
    assert (cross.announce_type, cross.version) == ("cross", 1)
    assert cross.categories == ["stat.AP", "cs.LG", "econ.EM", "stat.ME", "stat.ML"]


def test_a_replacement_with_doi_and_journal_ref(listing: Listing) -> None:
    replaced = item(listing, "1712.07645")
    assert (replaced.announce_type, replaced.version) == ("replace", 2)
    assert replaced.dois == ["10.1134/S1547477118030159"]
    assert replaced.journal_ref == "Phys. Part. Nucl. Lett. 15(3), 225-229 (2018)"


@pytest.mark.parametrize(
    ("arxiv_id", "position", "author"),
    [
        # Affiliations carry commas of their own; "Jr" without a comma is part of the name.
        (
            "2411.17753",
            0,
            Author(
                "Aleteia Araujo",
                ("University of Brasilia Brazil, The University of Melbourne Australia",),
            ),
        ),
        ("2411.17753", 2, Author("Joao Bachiega Jr", ("University of Brasilia Brazil",))),
        ("2410.11112", 2, Author("Mauricio Breternitz Jr.")),
        ("2411.17748", 4, Author("Benjamin Rémy", ("LEMTA",))),  # R\'emy
        ("2411.17709", 7, Author("Jarosław Żygierewicz")),  # Jaros{\l}aw \.Zygierewicz
        ("2411.17806", 3, Author("Wilke van der Schee")),
        ("2411.17952", 2, Author("Arvind")),  # one name: arXiv sends "Kavita Dorai,  Arvind"
        ("2404.02992", 0, Author("CMS Collaboration")),
        ("2411.17801", 0, Author("Aaron B. Pearlman", ("for The CHIME/FRB Collaboration",))),
    ],
)
def test_real_author_strings(
    listing: Listing, arxiv_id: str, position: int, author: Author
) -> None:
    assert item(listing, arxiv_id).authors[position] == author


def test_a_long_affiliation_does_not_make_authors_of_its_parts(listing: Listing) -> None:
    names = [a.name for a in item(listing, "2411.17817").authors]
    assert names[:2] == ["Tianliang Yan", "Yubao Liu"]
    assert not {"Wuhan", "China", "Birmingham"} & set(names)


@pytest.mark.parametrize(
    ("creator", "names"),
    [
        ("Jane Smith, Jr., Bob Jones", ["Jane Smith Jr.", "Bob Jones"]),
        ("Ann Lee, III, Bo Wu, IV", ["Ann Lee III", "Bo Wu IV"]),
        ("A. One (X, Y (Z, W)), B. Two", ["A. One", "B. Two"]),
        ("A. One (unclosed, B. Two", ["A. One (unclosed", "B. Two"]),
        ("Qiuyi (Richard) Zhang", ["Qiuyi (Richard) Zhang"]),
        (r"G\"{o}del, \v Simon, {\O}ystein, \'{\i}", ["Gödel", "Šimon", "Øystein", "í"]),
        (r"x\q{y}, \'", [r"x\qy", "\\'"]),  # unknown TeX: kept, only its braces go
        (", ,  ,", []),
    ],
)
def test_creator_strings_built_from_real_shapes(creator: str, names: list[str]) -> None:
    assert [a.name for a in split_creators(creator)] == names


def test_an_empty_weekend_channel_is_a_listing_with_nothing_in_it() -> None:
    assert parse_listing(fixture(EMPTY)) == Listing([], "2024-11-28", empty=True)


def test_the_error_channel_names_the_bad_category() -> None:
    with pytest.raises(UnknownCategoryError) as caught:
        parse_listing(fixture(ERROR))
    assert caught.value.message == (
        "arXiv does not know the category 'astroph' (see https://arxiv.org/category_taxonomy)"
    )
    assert (caught.value.category, caught.value.exit_code) == ("astroph", EXIT_USER)


def channel(*items: str, title: str = "cs updates on arXiv.org", description: str = "") -> bytes:
    """An RSS listing shaped like the recorded one, around ``items``."""
    head = fixture(EMPTY).split(b"<title>")[0].decode()
    return (
        f"{head}<title>{escape(title)}</title><description>{escape(description)}</description>"
        f"<pubDate>Thu, 28 Nov 2024 00:00:00 -0500</pubDate>{''.join(items)}</channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("description", "category", "message"),
    [
        (
            "Bad subject class 'XX'. Valid subject classes for the archive 'cs' are: cs.AI.",
            "cs.XX",
            "arXiv does not know the category 'cs.XX' (see https://arxiv.org/category_taxonomy)",
        ),
        ("Internal Server Error.", None, "arXiv refused the listing: Internal Server Error."),
    ],
)
def test_other_error_channels(description: str, category: str | None, message: str) -> None:
    with pytest.raises(UnknownCategoryError) as caught:
        parse_listing(channel(title="Feed error for query: x", description=description))
    assert (caught.value.category, caught.value.message) == (category, message)


def real_item(arxiv_id: str) -> str:
    """One recorded item, as text, to edit."""
    body = fixture(ALL).decode()
    start = body.index(f'<guid isPermaLink="false">oai:arXiv.org:{arxiv_id}')
    return body[body.rindex("<item>", 0, start) : body.index("</item>", start) + 7]


def test_unknown_announce_types_are_kept_and_reported() -> None:
    replace_cross = real_item("2411.16552v1").replace(">cross<", ">replace-cross<")
    absonly = real_item("2411.17700v1").replace(">new<", ">absonly<")
    listing = parse_listing(channel(replace_cross, absonly))
    assert [i.announce_type for i in listing.items] == ["replace-cross", "absonly"]
    assert listing.warnings == [
        "arXiv:2411.17700v1 has announce type 'absonly', which papercli does not know;"
        " kept as given"
    ]


def test_the_description_stands_in_for_a_missing_guid_and_announce_type() -> None:
    bare = re.sub(r"<guid.*?</guid>|<arxiv:announce_type>.*?</arxiv:announce_type>", "",
                  real_item("2411.16552v1"))  # fmt: skip
    (found,) = parse_listing(channel(bare)).items
    assert (found.arxiv_id, found.version, found.announce_type) == ("2411.16552", 1, "cross")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda text: text.replace("2411.17700v1", "2411.17700v99999999999"),
         "its version 99999999999 is not a real one"),
        (lambda text: re.sub(r"<title>.*?</title>", "<title> </title>", text), "it has no title"),
        (lambda text: text.replace("2411.17700v1", "notanid"), "it has no arXiv id"),
        (lambda text: text.replace("2411.17700v1", "2411.9v1"), "its id is not an arXiv id"),
        (lambda text: re.sub(r"<title>.*?</title>", f"<title>{'t' * 1001}</title>", text),
         "its title has 1,001 characters (at most 1,000)"),  # a backup could not hold it
    ],
)  # fmt: skip
def test_unusable_items_are_skipped_and_reported(edit: Callable[[str], str], reason: str) -> None:
    good = real_item("2411.17701v1")
    listing = parse_listing(channel(edit(real_item("2411.17700v1")), good))
    assert [i.arxiv_id for i in listing.items] == ["2411.17701"]
    assert [s.reason for s in listing.skipped] == [reason]
    assert not listing.empty


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Rate exceeded.",
        b"<html><head><title>503</title></head></html>",
        fixture("api-2026_single_id_1605.08386.xml"),
        b'<?xml version="1.0"?><rss version="2.0"></rss>',
        fixture(ALL)[:5000],
    ],
    ids=["empty", "text", "html", "atom", "no-channel", "truncated"],
)
def test_what_is_not_an_rss_listing_raises_in_one_line(body: bytes) -> None:
    with pytest.raises(ArxivAPIError) as caught:
        parse_listing(body)
    assert "\n" not in caught.value.message
    assert caught.value.message.startswith("arXiv sent")


# -- fuzzing: items made of any mix of parts -------------------------------------------

words = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
ids = st.one_of(
    st.sampled_from(["2411.17700", "hep-th/9901001", "2411.9", "", "2411.17700v1"]), words
)
versions = st.one_of(st.integers(0, 10**12).map(str), words)


def element(tag: str, text: str) -> str:
    clean = "".join(c for c in text if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))
    return f"<{tag}>{escape(clean)}</{tag}>"


item_parts = st.one_of(
    st.builds(lambda i, v: element("guid", f"oai:arXiv.org:{i}v{v}"), ids, versions),
    st.builds(
        lambda i, v, t, a: element("description", f"arXiv:{i}v{v} Announce Type: {t} \n{a}"),
        ids, versions, words, st.one_of(words, words.map(lambda w: f"Abstract: {w}")),
    ),
    words.map(lambda w: element("title", w)),
    words.map(lambda w: element("category", w)),
    st.one_of(words, st.sampled_from(["Thu, 28 Nov 2024 00:00:00 -0500", "Mon, 1 Jan 99999"]))
    .map(lambda w: element("pubDate", w)),
    st.one_of(words, st.sampled_from(ANNOUNCE_TYPES))
    .map(lambda w: element("arxiv:announce_type", w)),
    words.map(lambda w: element("dc:creator", w)),
    words.map(lambda w: element("arxiv:DOI", w)),
    words.map(lambda w: element("arxiv:journal_reference", w)),
)  # fmt: skip
core = st.tuples(
    st.just(element("guid", "oai:arXiv.org:2411.17700v2")),
    words.map(lambda w: element("title", f"T {w}")),
).map(list)
items = (
    st.tuples(st.one_of(core, st.just([])), st.lists(item_parts, max_size=8))
    .flatmap(lambda parts: st.permutations(parts[0] + parts[1]))
    .map(lambda parts: f"<item>{''.join(parts)}</item>")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(items, max_size=5))
def test_the_parser_skips_what_it_cannot_use_and_never_crashes(generated: list[str]) -> None:
    listing = parse_listing(channel(*generated))
    assert len(listing.items) + len(listing.skipped) == len(generated)
    assert listing.empty == (not generated)
    for found in listing.items:
        assert str(parse_arxiv_id(found.arxiv_id)) == found.arxiv_id and found.arxiv_id.isascii()
        assert 1 <= found.version <= 999 and found.title
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", found.announced)
        texts = [found.title, found.abstract, found.journal_ref or "", found.announce_type]
        texts += [a.name for a in found.authors] + found.categories + found.dois
        texts += [aff for a in found.authors for aff in a.affiliations]
        assert not any(CONTROL.search(text) for text in texts)
    for skipped in listing.skipped:
        assert isinstance(skipped, SkippedEntry) and len(skipped.label) <= 80
    unknown = [i for i in listing.items if i.announce_type not in ANNOUNCE_TYPES]
    assert len(listing.warnings) == len(unknown)


# -- the category taxonomy -------------------------------------------------------------


def test_every_category_in_the_recorded_listing_is_known(listing: Listing) -> None:
    seen = {c for found in listing.items for c in found.categories}
    assert len(seen) == 144
    assert {check_category(c) for c in seen} == seen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cs.cl", "cs.CL"),
        ("CS.LG", "cs.LG"),
        (" stat.ml ", "stat.ML"),
        ("math.co", "math.CO"),
        ("ASTRO-PH.ga", "astro-ph.GA"),
        ("hep-th", "hep-th"),
        ("q-bio.nc", "q-bio.NC"),
        ("econ.em", "econ.EM"),
        ("eess.sp", "eess.SP"),
        ("cond-mat.str-el", "cond-mat.str-el"),
    ],
)
def test_categories_are_found_in_any_case(text: str, expected: str) -> None:
    assert check_category(text) == expected and is_category(text)


def test_names_come_with_the_categories() -> None:
    assert CATEGORIES["cs.CL"] == "Computation and Language"
    assert CATEGORIES["stat.ML"] == "Machine Learning"
    assert CATEGORIES["astro-ph.GA"] == "Astrophysics of Galaxies"
    assert len(CATEGORIES) == 155


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cs.CLL", "'cs.CLL' is not an arXiv category; did you mean 'cs.CL'"),
        ("astroph.GA", "'astroph.GA' is not an arXiv category; did you mean 'astro-ph.GA'"),
        ("xyz", "'xyz' is not an arXiv category; see https://arxiv.org/category_taxonomy"),
        ("cmp-lg", "'cmp-lg' is not an arXiv category"),  # retired in 1998
    ],
)
def test_unknown_categories_suggest_the_nearest(text: str, message: str) -> None:
    assert not is_category(text)
    with pytest.raises(InvalidValueError) as caught:
        check_category(text)
    assert caught.value.message.startswith(message)


@given(st.text(max_size=30))
def test_any_text_is_a_category_or_refused_in_one_line(text: str) -> None:
    try:
        found = check_category(text)
    except InvalidValueError as exc:
        assert not is_category(text)
        assert exc.message.startswith(f"{text!r} is not an arXiv category")
        return
    assert found in CATEGORIES and is_category(text)
