"""The inbox at any size: listing, triage and pruning take about the same memory for ten
times the items (issue 17). Each test compares inboxes of 2,000 and 20,000 items."""

from __future__ import annotations

import ctypes
import shutil
import sys
import tracemalloc
from pathlib import Path

import pytest

from papercli import inbox, paths
from papercli.models import Author, ListingItem, ReadStatus, Watch
from papercli.store import base, connection, library, scratch, watches
from papercli.store import inbox as stored
from papercli.store.base import transaction
from tests.conftest import peak_megabytes

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="ru_maxrss in kB is Linux's"
)

SIZES = (2_000, 20_000)
WORDS = "low rank adaptation quantized attention retrieval language finetuning sparse experts"


def _arxiv_id(n: int) -> str:
    return f"25{n // 99_999 + 1:02d}.{n % 99_999 + 1:05d}"


def _item(n: int) -> ListingItem:
    """The ``n``th made-up announcement: a few of the profile's words, varying."""
    words = WORDS.split()
    abstract = " ".join(words[(n * k) % len(words)] for k in range(1, 8))
    return ListingItem(
        arxiv_id=_arxiv_id(n),
        version=1,
        title=f"On {words[n % len(words)]} number {n}",
        authors=[Author(f"Author {n % 97}"), Author("Tim Dettmers")],
        abstract=abstract,
        categories=["cs.CL"],
        announce_type="new",
        announced=f"2024-11-{n % 28 + 1:02d}",
    )


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Inboxes of 2,000 and 20,000 items, with LoRA and QLoRA read: to read only (a test
    that writes copies one)."""
    folder = tmp_path_factory.mktemp("inboxes")
    built = {}
    for count in SIZES:
        built[count] = folder / f"{count}.db"
        conn = connection.open_database(built[count], paths.seed_path())
        with transaction(conn):
            items = ((_item(n), ["llm"]) for n in range(count))
            stored.add_items(conn, items, "2026-12-01T00:00:00Z")
        watches.add_watch(conn, Watch("llm", ["cs.CL"]))
        library.set_status(conn, ["lora", "qlora"], ReadStatus.READ)
        conn.close()
    return built


@pytest.mark.parametrize(
    ("include_decided", "limit"),
    [(False, 30), (True, 30), (False, 99_999)],
    ids=["default", "--all", "-n 99999"],
)
def test_a_limited_listing_holds_a_heap_of_the_limit(inboxes, include_decided, limit):
    """Ten times the items, at most 10 bytes more an item (their text scores, 8 bytes
    each): ranking held every item's score and authors, 400 bytes an item here (75 MB for
    100,000 items, 30 shown), and a limit past a chunk a heap of that many (100 bytes an
    item): those are ordered on disk now. Measured in the process: a subprocess starts
    at pytest's size, which hides a few MB."""
    peaks = []
    for count in SIZES:
        conn = connection.open_database(inboxes[count], paths.seed_path())
        tracemalloc.start()
        ranking = inbox.ranked(conn, include_decided=include_decided, limit=limit)
        assert sum(1 for _ in ranking.items) == min(limit, count)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        conn.close()
    small, large = peaks
    assert large - small < 10 * (SIZES[1] - SIZES[0]), peaks


@pytest.mark.parametrize(
    "args",
    [
        ["-n", "0", "-f", "json"],
        ["-n", "0", "-f", "ids"],
        ["-n", "0"],
        ["-n", "99999", "-f", "ids"],
    ],
    ids=" ".join,
)
def test_an_unlimited_listing_is_printed_as_it_is_read(inboxes, args):
    """Ten times the items, about the same memory: every item was held whole (1.2 GB for
    100,000 items as JSON); now their order waits on disk, and they are read a chunk at
    a time."""
    args = ["inbox", *args]
    small, large = (peak_megabytes("--db", str(inboxes[n]), *args) for n in SIZES)
    assert large - small < 3, (small, large)


@pytest.mark.parametrize("everything", [False, True], ids=["every id", "--all"])
def test_dismissing_every_item_holds_a_chunk_of_them(run, inboxes, tmp_path, everything):
    """Ten times the items, about the same memory: every id was held, twice (a million
    would take over 100 MB); now they wait on disk. Measured in the process, as above."""
    peaks = []
    for count in SIZES:
        db = tmp_path / f"{count}.db"
        shutil.copy(inboxes[count], db)
        conn = connection.open_database(db, paths.seed_path())
        given = None if everything else (_arxiv_id(n) for n in range(count))
        tracemalloc.start()
        inbox.dismiss(conn, given)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        conn.close()
        assert run("--db", str(db), "inbox", "--format", "ids").stdout == ""
        assert run("--db", str(db), "undo").exit_code == 0
        assert len(run("--db", str(db), "inbox", "-n", "0", "-f", "ids").stdout.split()) == count
    small, large = peaks
    assert large - small < 10 * (SIZES[1] - SIZES[0]), peaks


def test_keeping_every_item_holds_a_chunk_of_them(run, inboxes, tmp_path, monkeypatch):
    """Ten times the items kept, about the same memory: every item was held whole, and
    every paper added (a million would take gigabytes); now they wait on disk and are
    kept a chunk at a time (lowered here, so that a thousand make many chunks)."""
    monkeypatch.setattr(scratch, "CHUNK", 50)
    peaks, summaries = [], []
    for count in (100, 1_000):
        db = tmp_path / f"{count}.db"
        shutil.copy(inboxes[SIZES[1]], db)
        conn = connection.open_database(db, paths.seed_path())
        tracemalloc.start()
        summaries.append(inbox.keep(conn, (_arxiv_id(n) for n in range(count)), queue=True))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        conn.close()
        left = run("--db", str(db), "inbox", "-n", "0", "--format", "ids").stdout.split()
        assert len(left) == SIZES[1] - count
        assert len(run("--db", str(db), "queue", "--format", "ids").stdout.split()) == count
    small, large = peaks
    assert large - small < 100 * 900, peaks
    for summary in summaries:
        with summary:
            assert len(list(summary.added())) == len(list(summary.queued()))


def _sqlite_highwater(reset: bool = False) -> int:
    """The most memory SQLite has held (as sqlite3_memory_highwater says) since a reset."""
    import _sqlite3

    function = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_highwater
    function.restype, function.argtypes = ctypes.c_int64, [ctypes.c_int]
    return int(function(int(reset)))


def test_pruning_every_item_deletes_a_group_at_a_time(run, inboxes, tmp_path, monkeypatch):
    """Ten times the items pruned, about the same memory: one DELETE of them all had
    SQLite hold every row id first (73 MB to prune a million, 40 MB ten thousand). The
    write cache, which fills up to its bound, is made small here."""
    monkeypatch.setattr(base, "WRITE_CACHE_KIB", 256)
    peaks = []
    for count in SIZES:
        db = tmp_path / f"{count}.db"
        shutil.copy(inboxes[count], db)
        conn = connection.open_database(db, paths.seed_path())
        _sqlite_highwater(reset=True)
        assert inbox.prune(conn, 0) == count
        peaks.append(_sqlite_highwater())
        conn.close()
        assert run("--db", str(db), "inbox", "--all", "--format", "ids").stdout == ""
    small, large = peaks
    assert large - small < 10 * (SIZES[1] - SIZES[0]), peaks
