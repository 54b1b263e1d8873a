"""The catalogue source (data/catalogue.toml), its checks, and the committed seed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from papercli.errors import InvalidValueError
from papercli.seed import load_catalogue
from papercli.store.shipped import build_seed

from .conftest import MINI_CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
TABLES = (
    "sources",
    "organizations",
    "org_names",
    "topics",
    "papers",
    "paper_names",
    "paper_authors",
    "paper_orgs",
    "paper_topics",
    "paper_sources",
    "prerequisites",
    "meta",
)


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def test_committed_seed_matches_the_catalogue_source(tmp_path):
    fresh = tmp_path / "seed.sqlite"
    build_seed(load_catalogue(ROOT / "data" / "catalogue.toml"), fresh)
    assert _dump(fresh) == _dump(ROOT / "data" / "seed.sqlite"), (
        "data/seed.sqlite is stale: run python scripts/build_seed.py"
    )


def test_shipped_catalogue_is_complete():
    cat = load_catalogue(ROOT / "data" / "catalogue.toml")
    assert len(cat.papers) >= 60
    assert all(p.why and p.topics and p.sources for p in cat.papers)
    ids = {p.id for p in cat.papers}
    assert {"transformer", "bert", "gpt-3", "lora", "qlora", "cot", "rag", "llama", "dpo"} <= ids


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = MINI_CATALOGUE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('id = "gpt-2"', 'id = "gpt-1"', "duplicate paper ids"),
        ('organizations = ["Microsoft"]', 'organizations = ["Microsift"]', "unknown organization"),
        ('topics = ["peft"]', 'topics = ["knitting"]', "unknown topic"),
        ('date = "2021-06-17"', 'date = "2020-06-17"', "disagrees with arXiv id 2106.09685"),
        ('date = "2021-06-17"', 'date = "17/06/2021"', "is not YYYY-MM-DD"),
        ("prerequisites = []", 'prerequisites = ["lora"]', "prerequisite cycle"),
        ('aliases = ["GPT2"]', 'aliases = ["GPT1"]', "already belongs to 'gpt-1'"),
        ('id = "lora"', 'id = "LoRA!"', "lowercase letters"),
        ('aliases = ["Meta", "Facebook", "FAIR"]', 'aliases = ["Google Brain"]', "used by"),
        ('"Edward J. Hu", ', '{ name = "Edward J. Hu", family = "Smith" }, ', "needs its family"),
        ('authors = [{ name = "Meta AI", literal = true }]', "authors = []", "has no authors"),
        ('"Yelong Shen", "Phillip', '"Yelong Shen", "Yelong Shen", "Phillip', "listed twice"),
        ('venue = "ICLR 2022"', 'venue = "NIPS 2017"', "venue 'NIPS 2017' is not"),
        ('venue = "ICLR 2022"', 'venue = "ICLR"', "venue 'ICLR' is not"),
        ('venue = "ICLR 2022"', 'doi = "10.48550/arXiv.2106.09685"', "not a publisher's DOI"),
        ('venue = "ICLR 2022"', 'venue_title = "LoRA at ICLR"', "venue_title .* needs the venue"),
        (
            'citation_key = "hu2021lora"\n',
            "",
            "no citation_key .derived from its facts: 'hu2021lora'",
        ),
        ('citation_key = "hu2021lora"', 'citation_key = "vaswani2017attention"', "used twice"),
        ('citation_key = "hu2021lora"', 'citation_key = "Hu 2021"', "is not like"),
        ('checked_against = ["https://arxiv.org/abs/2106.09685"]', "", "checked_against"),
        (
            'arxiv_id = "2106.09685"\nprimary_category = "cs.CL"',
            'arxiv_id = "2106.09685"',
            "primary_category",
        ),
        ('"https://arxiv.org/abs/2106.09685"]', '"file:///etc/passwd"]', "checked_against"),
    ],
)
def test_catalogue_mistakes_are_caught(tmp_path, old, new, problem):
    with pytest.raises(InvalidValueError, match=problem):
        load_catalogue(_broken(tmp_path, old, new))
