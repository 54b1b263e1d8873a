"""`related` over random citation graphs stored as Semantic Scholar would give them,
compared with a straightforward reference (the code of before 4 December, kept here):
the same papers, scores, reasons and order, ties included, and the same bytes printed.
Papers with several Semantic Scholar records, records naming two papers, the target
citing and cited, shared references and co-citations are all drawn."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from papercli import graph as core
from papercli import paths
from papercli.models import Paper
from papercli.s2 import S2Paper
from papercli.store import connection, graph, papers
from papercli.store.base import transaction

AT = "2026-01-01T00:00:00Z"


def _never() -> None:
    raise AssertionError("everything needed is stored: Semantic Scholar is not asked")


def build_world(conn: sqlite3.Connection, rng: random.Random) -> core.Subject:
    """Papers in the list (by arXiv id, by DOI, some sharing one, some with nothing to be
    found by), their Semantic Scholar records (some with two; some naming one paper by
    arXiv id and another by DOI), records of papers outside the list, random links among
    them all, and the target's links fetched both ways. Returns the target."""
    count = rng.randint(3, 30)
    list_papers: list[Paper] = []
    for k in range(count):
        kind = rng.choices(["arxiv", "doi", "both", "none"], [6, 3, 1, 1])[0]
        arxiv_id = f"2412.9{k:04d}" if kind in ("arxiv", "both") else None
        doi = None
        if kind in ("doi", "both"):
            doi = f"10.5555/D{rng.randint(0, max(1, count // 4))}"  # shared now and then
        pid = f"{rng.choice('abcxyz')}{rng.choice('-_')}{k}"  # ties break on these
        list_papers.append(
            Paper(pid, f"Paper {k}", f"P{k}", 2024, "2024-01-01", arxiv_id=arxiv_id, doi=doi)
        )
    papers.insert_papers(conn, list_papers)

    def s2_id() -> str:
        return f"{rng.getrandbits(160):040x}"

    records: list[S2Paper] = []

    def record(arxiv_id: str | None, doi: str | None) -> None:
        records.append(S2Paper(s2_id(), None, arxiv_id, doi, "t", 2024, [], "", 1))

    for paper in list_papers:
        lower = None if paper.doi is None else paper.doi.lower()
        if paper.arxiv_id is None and lower is None:
            continue
        for _ in range(rng.choice([1, 1, 1, 2, 3])):  # duplicate records of one paper
            record(paper.arxiv_id, lower if rng.random() < 0.8 else None)
    with_arxiv = [p for p in list_papers if p.arxiv_id]
    with_doi = [p for p in list_papers if p.doi and not p.arxiv_id]
    for _ in range(rng.randint(0, 3)):  # one record, two papers of the list
        if with_arxiv and with_doi:
            doi = rng.choice(with_doi).doi
            assert doi is not None
            record(rng.choice(with_arxiv).arxiv_id, doi.lower())
    for k in range(rng.randint(0, 15)):  # outside the list
        record(f"2411.8{k:04d}" if rng.random() < 0.5 else None, None)
    graph.store_papers(conn, records, AT)

    picked = rng.choice(records)
    pid = graph.papers_for(conn, [picked.paper_id]).get(picked.paper_id)
    if pid is None:  # a paper outside the list, asked about by its record's ids
        subject = core.Subject(f"arXiv:{picked.arxiv_id}", None, picked.arxiv_id, picked.doi)
    else:
        subject = core.Subject(pid, pid, *graph.identifiers(conn, pid))
    target = graph.s2_id_for(conn, arxiv_id=subject.arxiv_id, doi=subject.doi)
    if target is None:  # a record with neither: never looked up
        return subject
    ids = [r.paper_id for r in records]
    density = rng.random() * 0.4
    links = {
        (a, b) for a in ids for b in ids if a != b and rng.random() < density
    }  # fmt: skip
    for other in rng.sample(ids, min(len(ids), rng.randint(0, 8))):  # the target's own
        if other != target:
            links.add((target, other) if rng.random() < 0.5 else (other, target))
    conn.executemany(
        "INSERT INTO s2_links (citing, cited, influential, intents) VALUES (?, ?, 0, '[]')",
        sorted(links),
    )
    for direction in graph.DIRECTIONS:
        conn.execute(
            "INSERT OR REPLACE INTO s2_lookups VALUES (?, ?, ?, 0, 0)", (target, direction, AT)
        )
    return subject


# -- the reference: the code of before 4 December -------------------------------------


def reference_related(conn: sqlite3.Connection, s2_id: str) -> list[tuple[str, int, str]]:
    """(id, score, reason) of every related paper, best first, as `related` found them."""
    coupling = dict(
        conn.execute(
            "SELECT b.citing, count(DISTINCT b.cited) FROM s2_links a"
            " JOIN s2_links b ON b.cited = a.cited AND b.citing != a.citing"
            " WHERE a.citing = ? GROUP BY b.citing",
            (s2_id,),
        ).fetchall()
    )
    cocited = dict(
        conn.execute(
            "SELECT b.cited, count(DISTINCT b.citing) FROM s2_links a"
            " JOIN s2_links b ON b.citing = a.citing AND b.cited != a.cited"
            " WHERE a.cited = ? GROUP BY b.cited",
            (s2_id,),
        ).fetchall()
    )
    cites = {r[0] for r in conn.execute("SELECT citing FROM s2_links WHERE cited = ?", (s2_id,))}
    cited = {r[0] for r in conn.execute("SELECT cited FROM s2_links WHERE citing = ?", (s2_id,))}
    others = (set(coupling) | set(cocited) | cites | cited) - {s2_id}
    in_list = graph.papers_for(conn, sorted(others))
    own = set(graph.papers_for(conn, [s2_id]).values())
    found: dict[str, tuple[int, int, bool, bool]] = {}
    for s2, pid in in_list.items():
        if pid not in own:
            found.setdefault(
                pid, (coupling.get(s2, 0), cocited.get(s2, 0), s2 in cites, s2 in cited)
            )
    rows = []
    for pid, (shared, together, cites_it, cited_by_it) in found.items():
        parts = []
        if cited_by_it:
            parts.append("it cites this")
        if cites_it:
            parts.append("cites it")
        if shared:
            parts.append(f"{shared} shared reference{'s' if shared != 1 else ''}")
        if together:
            parts.append(f"cited together {together} time{'s' if together != 1 else ''}")
        score = 3 * (cites_it + cited_by_it) + shared + together
        rows.append((pid, score, "; ".join(parts)))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("related") / "papers.db"
    db = connection.open_database(path, paths.seed_path())
    yield db
    db.close()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), limit=st.sampled_from([0, 1, 2, 3, 5, 10]))
def test_related_is_the_reference_over_random_graphs(
    conn: sqlite3.Connection, seed: int, limit: int
) -> None:
    """The same papers, scores, reasons and order as the reference, ties included; a
    paper with several records scored as the reference's first of them."""
    with transaction(conn, keep=False):  # every example starts from the catalogue alone
        target = build_world(conn, random.Random(seed))
        s2_id = graph.s2_id_for(conn, arxiv_id=target.arxiv_id, doi=target.doi)
        if s2_id is None:
            return
        expected = reference_related(conn, s2_id)
        found = core.related(conn, target, _never, limit=limit or None)
        got = [(r.paper_id, r.score, r.reason) for r in found]
        assert got == (expected[:limit] if limit else expected)


# -- the bytes printed -------------------------------------------------------------------

Run = Callable[..., Result]

# sha256 of the stdout and stderr of `related TARGET --format F [-n N]` on build_world(
# random.Random(seed)), printed by the code of before 4 December: the targets of 24 (by
# arXiv id) and 0 (by DOI) are in the list, 2's is not, 28 has no paper related.
PRINTED: dict[int, dict[str, str]] = {
    24: {
        "table None": "a2829481c8f9bcfac2b23cc57bcadc9512720e0a68685ca2aa264073f92f57fb",
        "table 1": "1eda902a9a51de71f204b1f100c893f87d2ead42bee15b7a0e87a303054a1aa8",
        "table 4": "1826b028cc12723540f4a4be7bcd10c9ae9b00ceed049e826a0c48336e52ef3d",
        "table 0": "528da120052c71c982a2d817bcbd1ffd7d408ce205e621ec9afd92aaaa855961",
        "json None": "3ea67576350793216f1b5887f4399d80d7201bda954f3f5facc642db39551d0c",
        "json 1": "de8f01afc2e5d34f79e4ea0dad94aca73cdb1eea1b159d0f9caec20f843a11b5",
        "json 4": "19b1ee92a8e8a7b9d8581930d3ffe1ccbd0175f9ada881f6ba5e589fa59a4cc3",
        "json 0": "fa05f0da6665f22d0beb8d3ceaf237348facd92d96d5f2f3c4eec7d564bbc1ac",
        "csv None": "8be01de6e27e203ffef7c7fbd5f37af1f32a3532a0593ac9495acd998e0177d9",
        "csv 1": "11221811d0cebabce012ebaa51950e3b8adab9ef2247da1048391358994ca4f6",
        "csv 4": "a03572ac5d6a9d0ca222a76d89fe14e9b79d912c061fe7a4247f805c1bfa2da4",
        "csv 0": "b173fa20a4f0d8eb585ee5d51b8c383378ae79838efe10751c27de2340f1d200",
    },
    0: {
        "table None": "58655976b35d3f46769733119578ed70ee23f87af51b64ceaa47a916d06046a1",
        "table 1": "c43100b97096cfecd17d6d9e866ad1f602120b5ce6cbff83b67758ed56bb51f7",
        "table 4": "21978bdd2bedf0ff14bb1c744d7105b5f270b0a0f33b1a7f899cf9f06607730f",
        "table 0": "6296a496fb063350cc491b0931362c96cbeb096121122e99accdd453a1af66be",
        "json None": "907c68063406048b8dbf75d7f2dab1e54adb1572b48b1bfb6f4730be8ee1e5ce",
        "json 1": "f4f284bebab303d3e58a1d814b296c87fa9e52bc31177e799c33e6147632050c",
        "json 4": "9d74d06e3c29c235c2fd817541ac3c2dd27b26149cf188792c1c2b07b82228b3",
        "json 0": "3fd0415b15987371208ee8c41eeb2db2537327363a2265284cf9608d1fa1e994",
        "csv None": "63f44c156dab05fd0293ebfd2fbfdcfdea19e069dada2785193e28f1973b6c81",
        "csv 1": "a74696317262fbf106e17fb62d1306fa8d782d3d8c266151f4bd6134bceab967",
        "csv 4": "e7824727f6a9fab7edf8d2d70440e5bd98715c95af22e217614b181167b7eb7c",
        "csv 0": "ec50555079f181b6114f897f15c30e2352b1c1bee1cb4bc16ae1b3822fa91272",
    },
    2: {
        "table None": "ff6f4cb29a82eac5c7e354f7e77ab2e507d985a7874eff7c8b65bf3fc835de94",
        "table 1": "49afaebb2bce30a9d7bff14c01ef331c72831d9bab52a93c4c3b19060603588b",
        "table 4": "e0a1f26a2b41cf9576a2df56e3162149ce1f92039cca001145d0e162ebfdcdb3",
        "table 0": "585113721ef8a1c2671c38099005e8b20af3a927abb3b4c3fcf0dbceef5c8503",
        "json None": "391afb434eb78dd5f03d804ecb3b894507c2cccaea5314a280db10a2db4d3903",
        "json 1": "db00dec1b462df1cf4b62cff513c63f1a7b3ca1097287fcba30e26d505ebd5ca",
        "json 4": "d7fa290856aae2356fdd352af88676078612d7ac1cf8a7d9fda4fd1ab5aa9d04",
        "json 0": "21eb01bb430957b59df4dc3a24d7f0e0ed3bd014e494d0b5f4fd0dc1b48730ba",
        "csv None": "2315388959112fba7dc7f0577cb85aa3489b7f8d14e0d1de82e40e2c1297a866",
        "csv 1": "3fda0cf0febbc31e217249fc5598f7aa93dd767ebb9a1336c34a2d65429bc9fe",
        "csv 4": "acf1e62f0267386a69690475f07f6b104b181999800cfe6b99c04d87cf47d45e",
        "csv 0": "c1f41b6f3ebe58de5d78ee541547f128c351fea1d4bc202a380a1d8d7023e7b7",
    },
    28: {
        "table None": "6b5d2d926a66dc80bcf171247fa7d5dfc98da3afee900a53047defa809bc38c8",
        "table 1": "6b5d2d926a66dc80bcf171247fa7d5dfc98da3afee900a53047defa809bc38c8",
        "table 4": "6b5d2d926a66dc80bcf171247fa7d5dfc98da3afee900a53047defa809bc38c8",
        "table 0": "6b5d2d926a66dc80bcf171247fa7d5dfc98da3afee900a53047defa809bc38c8",
        "json None": "32b591172e8e01cb9579709cbc195d9502b7587d7b54001ab9ce8c14944cf9c5",
        "json 1": "32b591172e8e01cb9579709cbc195d9502b7587d7b54001ab9ce8c14944cf9c5",
        "json 4": "32b591172e8e01cb9579709cbc195d9502b7587d7b54001ab9ce8c14944cf9c5",
        "json 0": "32b591172e8e01cb9579709cbc195d9502b7587d7b54001ab9ce8c14944cf9c5",
        "csv None": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "csv 1": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "csv 4": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "csv 0": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    },
}


def _world_db(db_path: Path, seed: int) -> str:
    db = connection.open_database(db_path, paths.seed_path())
    with transaction(db):
        target = build_world(db, random.Random(seed))
    db.close()
    ref = target.paper_id or target.arxiv_id
    assert ref is not None
    return ref


@pytest.mark.parametrize("seed", sorted(PRINTED))
def test_related_prints_what_it_printed(run: Run, db_path: Path, seed: int) -> None:
    target = _world_db(db_path, seed)
    printed = {}
    for output in ("table", "json", "csv"):
        for limit in (None, "1", "4", "0"):
            args = ["related", target, "--format", output]
            if limit is not None:
                args += ["-n", limit]
            result = run(*args)
            assert result.exit_code == 0, result.output
            printed[f"{output} {limit}"] = hashlib.sha256(
                f"{result.stdout}\0{result.stderr}".encode()
            ).hexdigest()
    assert printed == PRINTED[seed]


# -- memory ------------------------------------------------------------------------------


def _cited_by_all(path: Path, count: int) -> None:
    """A database where ``count`` papers of the list cite LoRA, each sharing a few of its
    five references (scores 3 to 8, many ties), and LoRA's links are fetched."""
    db = connection.open_database(path, paths.seed_path())
    rng = random.Random(count)
    with transaction(db):
        papers.insert_papers(
            db,
            [
                Paper(
                    f"fake-{n}", f"Fake {n}", f"F{n}", 2024, "2024-01-01", arxiv_id=f"2499.{n:05d}"
                )
                for n in range(1, count + 1)
            ],
        )
        lora = S2Paper("f" * 40, None, "2106.09685", None, "LoRA", 2021, [], "", 1)
        citing = [
            S2Paper(f"{n:040x}", None, f"2499.{n:05d}", None, "t", 2024, [], "", 1)
            for n in range(1, count + 1)
        ]
        cited = [S2Paper(f"e{n:039x}", None, None, None, "r", 2020, [], "", 1) for n in range(5)]
        graph.store_papers(db, [lora, *citing, *cited], AT)
        links = [(lora.paper_id, r.paper_id) for r in cited]
        for paper in citing:
            links.append((paper.paper_id, lora.paper_id))
            links += [(paper.paper_id, r.paper_id) for r in rng.sample(cited, rng.randint(0, 5))]
        db.executemany(
            "INSERT INTO s2_links (citing, cited, influential, intents) VALUES (?, ?, 0, '[]')",
            links,
        )
        for direction in graph.DIRECTIONS:
            db.execute(
                "INSERT INTO s2_lookups VALUES (?, ?, ?, 0, 0)", (lora.paper_id, direction, AT)
            )
    db.close()


def test_related_takes_the_memory_of_the_papers_shown(run: Run, tmp_path: Path) -> None:
    """`related` made a dict entry, a set entry and a Related of every paper linked to
    the target, and sorted them all, to show ten: about 700 bytes a paper in the Python
    heap (a million papers citing one: near 1 GB). SQLite now scores, orders and cuts
    them, and the rows are made as they are printed: the ten shown take the same memory
    for 2,000 papers or 20,000, and so does reading all of them (-n 0) through (from
    the core: CliRunner keeps all that is printed)."""

    def shown(db: Path) -> None:
        result = run("--db", str(db), "related", "lora")
        assert result.exit_code == 0, result.output
        assert len(result.stdout.splitlines()) == 11
        assert result.stdout.splitlines()[1].split()[1] == "8"  # all five references shared

    def read_through(db: Path) -> None:
        conn = connection.open_database(db, paths.seed_path())
        target = core.subject(conn, "lora")
        assert sum(1 for _ in core.related(conn, target, _never)) == int(db.stem)
        conn.close()

    peaks: dict[str, list[int]] = {"shown": [], "read": []}
    for count in (2_000, 20_000):
        db = tmp_path / f"{count}.db"
        _cited_by_all(db, count)
        for name, use in (("shown", shown), ("read", read_through)):
            use(db)  # first imports and caches
            tracemalloc.start()
            use(db)
            peaks[name].append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    for small, large in peaks.values():
        assert (large - small) / 18_000 < 5, peaks  # bytes a paper
