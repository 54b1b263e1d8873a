"""The core of fetch and add, against a local server replaying recorded arXiv answers.

The recorded papers are not in the test catalogue, so ``paper_entry`` (from
``tests.arxiv_fakes``) re-labels a recorded entry with a catalogue paper's arXiv id and
title. Time is fake throughout.
"""

from __future__ import annotations

import re
import sqlite3
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
from pytest_httpserver import HTTPServer

from papercli.arxiv import ArxivClient, BatchResult
from papercli.errors import InvalidValueError, NetworkError
from papercli.fetching import (
    FetchSummary,
    add_papers,
    fetch_metadata,
    papers_to_fetch,
    short_name_for,
    titles_match,
)
from papercli.models import ArxivRecord, Author, Paper, ReadStatus
from papercli.seed import load_catalogue
from papercli.store import arxiv_meta, base, library, lookups, notes, papers, scratch
from papercli.store.connection import open_database
from papercli.store.shipped import build_seed
from tests.arxiv_fakes import (
    LORA,
    NOW,
    PLAIN,
    RICH,
    FakeClock,
    Replay,
    add_fake_papers,
    answer,
    echo_titles,
    error_feed,
    feed_parts,
    paper_entry,
    recorded,
    status,
)
from tests.conftest import MINI_CATALOGUE


@pytest.fixture
def client(httpserver: HTTPServer, clock: FakeClock) -> Iterator[ArxivClient]:
    """A client of the local server (``serve``, in conftest) with two retries, on fake time."""
    with ArxivClient(
        httpserver.url_for("/api/query"), clock=clock, sleep=clock.sleep, max_retries=2
    ) as client:
        yield client


@pytest.fixture
def conn(tmp_path: Path, mini_seed: Path, monkeypatch: pytest.MonkeyPatch) -> sqlite3.Connection:
    monkeypatch.setattr(library, "clock", lambda: NOW)
    return open_database(tmp_path / "user.db", mini_seed)


def stored_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM arxiv_meta").fetchone()[0])


# ---------------------------------------------------------------------------
# Matching titles and naming papers


@pytest.mark.parametrize(
    ("curated", "on_arxiv"),
    [
        (LORA, LORA),
        (LORA, LORA + "."),
        (
            "LLaMA: Open and Efficient Foundation Language Models",
            "Llama: open and efficient foundation language models",
        ),
        (
            "Pre-training of Deep Bidirectional Transformers",
            "Pre training of deep bidirectional transformers",
        ),
        ("Language Models are Few-Shot Learners", "Language Models are Few Shot Learner"),
    ],
)
def test_small_differences_in_a_title_still_match(curated: str, on_arxiv: str) -> None:
    assert titles_match(curated, on_arxiv)


@pytest.mark.parametrize(
    "on_arxiv",
    ["Heat-bath random walks with Markov bases", "QLoRA: Efficient Finetuning of Quantized LLMs"],
)
def test_another_papers_title_does_not_match(on_arxiv: str) -> None:
    assert not titles_match(LORA, on_arxiv)


@pytest.mark.parametrize(
    ("title", "short_name"),
    [
        (LORA, "LoRA"),
        ("Attention Is All You Need", "Attention Is All You Need"),
        ("Heat-bath random walks with Markov bases", "Heat-bath random walks"),
        (
            "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications",
            "Proceedings of Workshop AEW10",
        ),
        ("Über Müller's Attention & Friends of Friends", "Über Müller's Attention"),
        ("Models, Data, Compute, Parameters and Tokens", "Models, Data, Compute"),
        ("Tokens — Tokenizers — and Their Many Discontents", "Tokens — Tokenizers"),
        ("Attention Sinks (and How to Find Them) in LLMs", "Attention Sinks"),
        ("Mixture of Depths [MoD] for Transformers", "Mixture of Depths [MoD]"),
        ("Sparse Models (SMoE: Routing Experts) Revisited", "Sparse Models"),
    ],
)
def test_short_names_come_from_the_title(title: str, short_name: str) -> None:
    assert short_name_for(title) == short_name


# ---------------------------------------------------------------------------
# fetch


def ids(summary: FetchSummary, outcome: str) -> list[str]:
    return [paper.paper_id for paper in summary.papers(outcome)]


def failed(summary: FetchSummary) -> dict[str, str]:
    return {failure.paper_id: failure.reason for failure in summary.failed()}


def test_fetch_stores_everything_arxiv_says(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(answer(paper_entry("2106.09685", LORA, version=3)))
    summary = fetch_metadata(conn, ["lora"], client)
    assert (ids(summary, "updated"), summary.ok) == (["lora"], True)
    assert replay.id_lists == ["2106.09685"]
    paper = papers.get_paper(conn, "lora")
    assert paper.title == LORA  # the catalogue's own facts are untouched
    assert paper.authors[0].name == "Edward J. Hu"
    assert paper.arxiv_authors == [
        Author("Andrew Gould", ("Ohio State",)),
        Author("Susan Dorsher", ("Ohio State",)),
        Author("B. Scott Gaudi", ("CfA",)),
        Author("Andrzej Udalski", ("Warsaw University Observatory",)),
    ]
    assert paper.abstract is not None
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters")
    assert (paper.primary_category, paper.categories) == ("astro-ph", ["astro-ph"])
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.comment is not None
    assert paper.comment.startswith("62 pages including 16 figures")
    assert (paper.arxiv_version, paper.arxiv_updated) == (3, "2006-01-02T14:57:58Z")
    assert paper.fetched_at == NOW
    record, _ = arxiv_meta.arxiv_record(conn, "lora") or pytest.fail("nothing stored")
    assert record.published == "2006-01-02T14:57:58Z"
    assert record.abs_url == "https://arxiv.org/abs/2106.09685v3"
    assert record.pdf_url == "https://arxiv.org/pdf/2106.09685v3"


def test_a_second_fetch_tells_unchanged_from_updated(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    serve(
        answer(
            paper_entry("2106.09685", LORA), paper_entry("1706.03762", "Attention Is All You Need")
        ),
        answer(
            paper_entry("2106.09685", LORA),
            paper_entry("1706.03762", "Attention Is All You Need", version=2),
        ),
    )
    first = fetch_metadata(conn, ["lora", "transformer"], client)
    assert ids(first, "updated") == ["lora", "transformer"]
    second = fetch_metadata(conn, ["lora", "transformer"], client)
    assert (ids(second, "unchanged"), ids(second, "updated")) == (["lora"], ["transformer"])
    assert papers.get_paper(conn, "transformer").arxiv_version == 2


def test_two_papers_with_one_arxiv_id_are_asked_once_and_both_stored(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    with base.transaction(conn):
        twin = Paper("lora-twin", LORA, "LoRA twin", 2021, "2021-06-17", arxiv_id="2106.09685v1")
        papers.insert_paper(conn, twin)
    replay = serve(answer(paper_entry("2106.09685", LORA)))
    with fetch_metadata(conn, ["lora", "lora-twin"], client) as summary:
        assert ids(summary, "updated") == ["lora", "lora-twin"]
    assert replay.id_lists == ["2106.09685"]
    assert stored_count(conn) == 2


def test_curated_titles_win_over_arxiv(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    serve(answer(paper_entry("2106.09685", "Heat-bath random walks with Markov bases")))
    summary = fetch_metadata(conn, ["lora"], client)
    assert not summary.ok
    assert [(m.paper_id, m.title, m.arxiv_title) for m in summary.mismatched()] == [
        ("lora", LORA, "Heat-bath random walks with Markov bases")
    ]
    assert ids(summary, "updated") == []
    assert arxiv_meta.arxiv_record(conn, "lora") is None


def test_unknown_rejected_and_id_less_papers_are_reported(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(error_feed("2106.09685"), answer())
    summary = fetch_metadata(conn, ["gpt-1", "lora", "transformer"], client)
    assert failed(summary) == {
        "gpt-1": "it has no arXiv id",
        "lora": "incorrect id format for 2106.09685",
    }
    assert ids(summary, "not_found") == ["transformer"]
    # The bad id is dropped and the rest asked again (an empty answer twice: arXiv
    # sometimes sends an empty page by mistake).
    assert replay.id_lists == ["2106.09685,1706.03762", "1706.03762", "1706.03762"]


def test_nothing_fetched_at_all_raises_the_network_error(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    serve(status(503))
    with pytest.raises(NetworkError, match="arXiv kept answering 503 Service Unavailable"):
        fetch_metadata(conn, ["lora"], client)
    assert clock.sleeps == [3.0, 6.0]
    assert stored_count(conn) == 0


def test_each_batch_is_saved_as_it_arrives(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient, clock: FakeClock
) -> None:
    titles = add_fake_papers(conn, 101)
    serve(echo_titles(titles))
    fakes = [f"fake-{n}" for n in range(1, 102)]
    progress: list[tuple[int, int]] = []

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt  # Ctrl-C while waiting to ask for the second batch

    clock.on_sleep = interrupt
    with pytest.raises(KeyboardInterrupt):
        fetch_metadata(conn, fakes, client, on_batch=lambda *p: progress.append(p))
    assert progress == [(100, 101)]
    assert stored_count(conn) == 100
    assert not conn.in_transaction


def test_a_failure_after_some_batches_keeps_them_and_reports_the_rest(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    titles = add_fake_papers(conn, 101)
    serve(echo_titles(titles), status(503))
    summary = fetch_metadata(conn, [f"fake-{n}" for n in range(1, 102)], client)
    assert summary.count("updated") == 100
    assert failed(summary) == {
        "fake-101": "arXiv kept answering 503 Service Unavailable after 3 tries"
    }
    assert stored_count(conn) == 100


class EchoingClient:
    """Answers the ids of ``titles`` at once with a record carrying that title (the others
    are not found), without HTTP: the core stores thousands of papers in a moment."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.titles = titles

    def fetch_batches(self, ids: list[str]) -> Iterator[BatchResult]:
        when = "2024-01-01T00:00:00Z"
        yield BatchResult(
            records={
                arxiv_id: ArxivRecord(
                    arxiv_id,
                    1,
                    self.titles[arxiv_id],
                    "An abstract.",
                    [],
                    when,
                    when,
                    "cs.CL",
                    ["cs.CL"],
                    [],
                    None,
                    None,
                    f"https://arxiv.org/abs/{arxiv_id}",
                    None,
                )
                for arxiv_id in ids
                if arxiv_id in self.titles
            },
            missing=[arxiv_id for arxiv_id in ids if arxiv_id not in self.titles],
        )


def test_a_fetch_holds_a_chunk_of_papers_whatever_their_number(
    tmp_path: Path, mini_seed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each paper's id, title and outcome used to be held until the report: 673 MB before
    the first request to arXiv in a million-paper library. Papers are now read a chunk at
    a time and how each fared goes to disk, so five times the papers take no more memory."""
    monkeypatch.setattr(scratch, "CHUNK", 100)

    def peak(count: int) -> int:
        conn = open_database(tmp_path / f"{count}.db", mini_seed)
        client = EchoingClient(add_fake_papers(conn, count))
        with papers_to_fetch(conn, None) as ids:
            tracemalloc.start()
            with fetch_metadata(conn, ids, cast(ArxivClient, client)) as summary:
                assert summary.count("updated") == count
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
        return peak

    peak(100)  # first imports and caches
    small, large = peak(600), peak(3_000)
    assert large < 1.3 * small, (small, large)


def test_an_add_of_papers_there_already_holds_a_chunk_of_them(
    tmp_path: Path, mini_seed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`add -` of ids already there held every reference, every id and every paper found
    (60 MB for 100,000): they are now read a chunk at a time, and those seen and found
    wait on disk, so five times the ids take no more memory (and arXiv is not asked)."""
    monkeypatch.setattr(scratch, "CHUNK", 100)

    def peak(count: int) -> int:
        conn = open_database(tmp_path / f"{count}.db", mini_seed)
        listed = list(add_fake_papers(conn, count))
        refs = (ref for arxiv_id in listed for ref in (arxiv_id, f"arXiv:{arxiv_id}v2"))
        found: list[int] = [0]

        def existing(arxiv_id: str, paper_id: str) -> None:
            found[0] += 1

        tracemalloc.start()
        summary = add_papers(conn, refs, cast(ArxivClient, None), on_existing=existing)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (found, summary.existing, summary.added) == ([count], count, 0)
        return peak

    peak(100)  # first imports and caches
    small, large = peak(2_000), peak(10_000)
    # sqlite3 keeps a weak reference (80 bytes) to each cursor a connection made, up to 200
    # before it drops the dead ones: a bounded 16 kB that only the larger list reaches, and
    # that took 10,000 ids just past 1.3 times 2,000's peak on Python 3.13 (66,873 bytes
    # against 51,169). Holding the 10,000 ids would take over 600 kB more.
    assert large < 1.3 * small + _CURSOR_REFERENCES, (small, large)


_CURSOR_REFERENCES = 200 * 80


def test_missing_picks_only_papers_never_fetched(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    def to_fetch(given: list[str] | None, missing: bool = False) -> list[str]:
        with papers_to_fetch(conn, given, missing=missing) as found:
            return list(found)

    assert to_fetch(None) == ["transformer", "lora", "llama"]
    serve(answer(paper_entry("2106.09685", LORA)))
    fetch_metadata(conn, ["lora"], client).close()
    assert to_fetch(None, missing=True) == ["transformer", "llama"]
    assert to_fetch(["LoRA", "gpt1", "lora"], missing=True) == ["lora", "gpt-1"]


# ---------------------------------------------------------------------------
# add


def saved(
    batches: list[tuple[list[Paper], list[str]]],
) -> Callable[[list[Paper], list[str]], None]:
    """An ``on_added`` that keeps each batch it is given in ``batches``."""
    return lambda added, queued: batches.append((added, queued))


def test_add_names_papers_from_their_titles_and_avoids_taken_ids(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(
        answer(
            paper_entry("2401.00001", "LoRA: A Different Paper", template=PLAIN),
            paper_entry("2401.00002", "LoRA: Yet Another One", template=PLAIN),
            feed_parts(PLAIN)[1],  # 1605.08386 as recorded
        )
    )
    batches: list[tuple[list[Paper], list[str]]] = []
    summary = add_papers(
        conn, ["2401.00001", "2401.00002", "1605.08386"], client, on_added=saved(batches)
    )
    assert replay.id_lists == ["2401.00001,2401.00002,1605.08386"]
    assert summary.added == 3
    [(added, queued)] = batches  # one request: one batch
    assert queued == []
    assert [(p.id, p.short_name, p.year) for p in added] == [
        ("lora-2016", "LoRA", 2016),
        ("lora-2016-2", "LoRA", 2016),
        ("heat-bath-random-walks", "Heat-bath random walks", 2016),
    ]
    paper = papers.get_paper(conn, "heat-bath-random-walks")
    assert (paper.origin, paper.date, paper.arxiv_id) == ("user", "2016-05-26", "1605.08386")
    assert paper.url == "https://arxiv.org/abs/1605.08386"
    assert [a.name for a in paper.authors] == ["Caprice Stanley", "Tobias Windisch"]


def test_add_reports_papers_already_there_and_asks_only_for_new_ones(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(recorded("api-2026_idlist_two_ids_one_missing_0808.05394_1707.08567.xml"))
    batches: list[tuple[list[Paper], list[str]]] = []
    there: list[tuple[str, str]] = []
    summary = add_papers(
        conn,
        ["arXiv:2106.09685v2", "https://arxiv.org/abs/2401.99999", "1707.08567"],
        client,
        on_added=saved(batches),
        on_existing=lambda arxiv_id, paper_id: there.append((arxiv_id, paper_id)),
    )
    assert (there, summary.existing) == ([("2106.09685", "lora")], 1)
    assert summary.not_found == ["2401.99999"]
    assert [[p.id for p in added] for added, _ in batches] == [["proceedings-workshop-aew10"]]
    assert replay.id_lists == ["2401.99999,1707.08567"]
    authors = papers.get_paper(conn, "proceedings-workshop-aew10").authors
    assert len(authors) == 34


def test_add_files_papers_under_known_organizations_only(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    entry = paper_entry("2401.00001", "A Paper", template=RICH)
    entry = entry.replace("Ohio State", "Google Brain, Mountain View").replace("CfA", "FAIR")
    serve(answer(entry))
    batches: list[tuple[list[Paper], list[str]]] = []
    summary = add_papers(
        conn, ["2401.00001"], client, topics=["PEFT"], queue=True, on_added=saved(batches)
    )
    [([added], queued)] = batches
    paper = papers.full_papers(conn, [added.id])[0]
    assert paper.organizations == ["Google", "Meta AI"]  # "Warsaw University ..." is unknown
    assert paper.topics == ["peft"]
    assert (queued, summary.queued, paper.queue_position) == ([paper.id], 1, 1)


def test_add_gives_each_batch_once_it_is_saved_and_before_the_next_request(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    """So that an add of thousands of ids (minutes at arXiv's pace) shows its progress,
    and holds no more than a batch of papers."""
    fakes = {f"2401.{n:05d}": f"Fake paper number {n}" for n in range(1, 251)}
    replay = serve(*[echo_titles(fakes)] * 3)
    calls: list[tuple[int, int, int, bool]] = []

    def on_added(added: list[Paper], queued: list[str]) -> None:
        stored = all(lookups.ids_by_arxiv_id(conn, p.arxiv_id or "") == [p.id] for p in added)
        calls.append((len(replay.id_lists), len(added), len(queued), stored))

    summary = add_papers(conn, list(fakes), client, queue=True, on_added=on_added)

    assert calls == [(1, 100, 100, True), (2, 100, 100, True), (3, 50, 50, True)]
    assert (summary.added, summary.queued) == (250, 250)


def test_add_checks_everything_typed_before_asking_arxiv(
    conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    replay = serve(answer())
    attempts: list[tuple[list[str], dict[str, object], str]] = [
        (["2106.9685"], {}, "'2106.9685' is not an arXiv id"),
        (["1605.08386", "1707.08567"], {"slug": "mine"}, "--id names one paper, but 2"),
        (
            ["1605.08386"],
            {"slug": "My Paper"},
            "use lowercase letters, digits and hyphens, e.g. 'my-paper'",
        ),
        (["1605.08386"], {"slug": "LoRA"}, "e.g. 'lora'"),
        (["1605.08386"], {"slug": "low-rank-adaptation"}, "already taken (by lora)"),
        (["1605.08386"], {"topics": ["pef"]}, "unknown topic 'pef'; did you mean 'peft'?"),
    ]
    for arxiv_refs, options, message in attempts:
        with pytest.raises(InvalidValueError, match=re.escape(message)):
            add_papers(conn, arxiv_refs, client, **options)  # type: ignore[arg-type]
    assert replay.requests == []


# ---------------------------------------------------------------------------
# A newer catalogue that ships a paper the user added


def test_a_catalogue_paper_takes_over_a_user_added_one(
    tmp_path: Path, conn: sqlite3.Connection, serve: Callable[..., Replay], client: ArxivClient
) -> None:
    serve(answer(feed_parts(PLAIN)[1]))
    batches: list[tuple[list[Paper], list[str]]] = []
    add_papers(conn, ["1605.08386"], client, queue=True, on_added=saved(batches))
    [([added], _)] = batches
    library.queue_add(conn, ["transformer"])
    library.set_status(conn, [added.id], ReadStatus.READING)
    notes.add_note(conn, added.id, "mine")
    notes.change_tags(conn, [added.id], ["walks"], [])
    before = {t: _rows(conn, t) for t in ("reading_state", "status_history", "notes", "tags")}
    conn.close()

    newer = tmp_path / "newer.toml"
    newer.write_text(
        MINI_CATALOGUE.read_text(encoding="utf-8")
        + """
[[paper]]
id = "heat-bath"
title = "Heat-bath random walks with Markov bases"
short_name = "Heat-bath"
arxiv_id = "1605.08386"
primary_category = "math.CO"
date = "2016-05-26"
authors = ["Caprice Stanley", "Tobias Windisch"]
citation_key = "stanley2016markov"
checked_against = ["https://arxiv.org/abs/1605.08386"]
organizations = []
topics = ["architecture"]
why = "Now in the catalogue."
sources = ["test-list"]
prerequisites = []
""",
        encoding="utf-8",
    )
    build_seed(load_catalogue(newer), tmp_path / "newer.sqlite")
    conn = open_database(tmp_path / "user.db", tmp_path / "newer.sqlite")

    paper = papers.full_papers(conn, ["heat-bath"])[0]
    assert (paper.origin, paper.why, paper.status) == (
        "catalogue",
        "Now in the catalogue.",
        "reading",
    )
    assert [n.body for n in paper.notes] == ["mine"]
    assert paper.tags == ["walks"]
    assert list(library.queue_ids(conn)) == ["heat-bath", "transformer"]
    assert [a.name for a in paper.authors] == ["Caprice Stanley", "Tobias Windisch"]
    # The key the user's documents cite stays, whatever the catalogue calls the paper.
    assert added.citation_key == "stanley2016heat"
    assert paper.citation_key == "stanley2016heat"
    after = {t: _rows(conn, t) for t in before}
    assert after == {
        t: [tuple("heat-bath" if v == added.id else v for v in row) for row in rows]
        for t, rows in before.items()
    }
    for table in ("papers", "paper_names", "arxiv_meta", "arxiv_authors", "queue"):
        column = "id" if table == "papers" else "paper_id"
        assert not conn.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (added.id,)).fetchall()


def _rows(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
