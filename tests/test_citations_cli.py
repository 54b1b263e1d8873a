"""refs, cited-by, related, prereq and path as a user runs them, against a local Semantic
Scholar (tests/s2_world.py). Time is fake, so pacing costs nothing."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import sqlite3
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import Result
from werkzeug import Request, Response

from papercli import paths
from papercli.s2 import LinkList, S2Paper
from papercli.store import connection
from tests.arxiv_fakes import FakeClock, add_fake_papers, echo_titles, slow_connections
from tests.s2_world import MAMBA, S4, World, serve_world

Run = Callable[..., Result]


@pytest.fixture
def world(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> World:
    return serve_world(httpserver, monkeypatch, clock)


def json_of(run: Run, *args: str) -> Any:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- refs ------------------------------------------------------------------------------


def test_a_reference_listed_twice_or_held_in_two_records_is_one(run: Run, world: World) -> None:
    """The second copy of an edge (not influential, no intent) replaced the first; a second
    record of Adam (another Semantic Scholar id, the same arXiv id) made `[ ] adam` twice
    and "2 in your list"."""
    transformer = world.find("ARXIV:1706.03762")
    adam = world.find("ARXIV:1412.6980")
    assert transformer is not None and adam is not None
    world.cite(transformer, adam, False)  # the same edge again, saying less
    twin = world.paper("adam-twin", "Adam: A Method for Stochastic Optimization", 2014)
    world.papers[twin]["externalIds"]["ArXiv"] = "1412.6980"
    world.cite(transformer, twin, False, "background")
    found = json_of(run, "refs", "transformer")
    adams = [r for r in found if r["arxiv_id"] == "1412.6980"]
    assert len(adams) == 1 and len(found) == 5
    assert adams[0]["id"] == "adam" and adams[0]["influential"] is True
    assert adams[0]["intents"] == ["methodology", "background"]
    table = run("refs", "transformer").stdout
    assert table.count("adam") == 1
    # Not in your list: one record with an arXiv id and a DOI, another with the DOI alone.
    with_both = world.paper("y-both", "Y paper", 2023, arxiv="2301.00001", doi="10.1000/y")
    doi_only = world.paper("y-doi", "Y paper", 2023, doi="10.1000/Y")
    world.cite(transformer, with_both, False)
    world.cite(transformer, doi_only, True, "background")
    found = json_of(run, "refs", "transformer", "--refresh")
    ys = [r for r in found if r["title"] == "Y paper"]
    assert len(ys) == 1 and ys[0]["influential"] is True and len(found) == 6


def test_references_come_most_influential_first_marking_your_list(run: Run, world: World) -> None:
    found = json_of(run, "refs", "transformer")
    assert [r["title"] for r in found] == [
        "Adam",
        "Neural Machine Translation by Jointly Learning to Align and Translate",
        "Layer Normalization",
        "Outrageously Large Neural Networks",
        "A report without ids",
    ]
    adam = found[0]
    keys = ("id", "in_list", "arxiv_id", "status", "influential", "intents")
    assert {k: adam[k] for k in keys} == {
        "id": "adam", "in_list": True, "arxiv_id": "1412.6980", "status": "unread",
        "influential": True, "intents": ["methodology"],
    }  # fmt: skip
    assert found[1]["id"] is None and found[1]["in_list"] is False
    assert set(found[0]) >= {
        "id",
        "in_list",
        "arxiv_id",
        "doi",
        "title",
        "year",
        "status",
        "influential",
        "intents",
    }


def test_references_are_stored_and_read_offline(run: Run, world: World) -> None:
    run("refs", "transformer", "--format", "json")
    asked = len(world.requests)
    run("mark-read", "adam")
    again = run("refs", "transformer", "--in-list")
    assert again.exit_code == 0, again.output
    assert len(world.requests) == asked  # nothing asked: it was stored
    assert "[x] adam" in again.stdout and "Neural Machine" not in again.stdout
    assert again.stderr.splitlines() == [  # the attribution on a line of its own
        "5 references, 3 in your list; fetched 2026-01-02",
        "Citation data from Semantic Scholar (https://www.semanticscholar.org)",
    ]
    run("refs", "transformer", "--refresh", "--format", "ids")
    assert len(world.requests) > asked


def test_ids_are_the_arxiv_ids_to_add(run: Run, world: World) -> None:
    result = run("refs", "transformer", "--format", "ids")
    assert result.stdout.split() == ["1412.6980", "1409.0473", "1607.06450", "1701.06538"]


def test_any_arxiv_paper_can_be_asked_about(run: Run, world: World) -> None:
    found = json_of(run, "refs", f"https://arxiv.org/abs/{MAMBA}v2")
    titles = [r["title"] for r in found]
    assert titles[:2] == [
        "Efficiently Modeling Long Sequences with Structured State Spaces",
        "Attention Is All You Need",
    ]
    assert (
        "Mamba: Linear-Time Sequence Modeling with Selective State Spaces" not in titles
    )  # self-citation


def test_a_paper_semantic_scholar_does_not_know_is_one_line(run: Run, world: World) -> None:
    result = run("refs", "2401.99999")
    assert result.exit_code == 1
    assert "Semantic Scholar does not know arXiv:2401.99999" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_paper_semantic_scholar_does_not_know_is_asked_about_once(run: Run, world: World) -> None:
    """Its answer is kept, as any other: until 3 December each command asked again."""
    for _ in range(2):
        result = run("refs", "2401.99999")
        assert (result.exit_code, result.stderr) == (
            1,
            "error: Semantic Scholar does not know arXiv:2401.99999 (--refresh asks again)\n",
        )
    assert [r.path for r in world.requests] == ["/graph/v1/paper/batch"]
    refreshed = run("refs", "2401.99999", "--refresh")
    assert refreshed.stderr == "error: Semantic Scholar does not know arXiv:2401.99999\n"
    assert len(world.requests) == 2


def test_offline_with_nothing_stored_is_a_network_error(
    run: Run, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCLI_S2_URL", "http://127.0.0.1:9/graph/v1")
    result = run("refs", "transformer")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "nothing is stored about transformer yet: try again when online" in result.stderr


def test_a_service_that_keeps_refusing_is_not_called_offline(
    run: Run, world: World, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request(re.compile("^/busy/.*")).respond_with_data("busy", status=503)
    monkeypatch.setenv("PAPERCLI_S2_URL", httpserver.url_for("/busy/graph/v1"))
    result = run("refs", "transformer")
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.startswith("error: Semantic Scholar kept answering 503 SERVICE UNAVAILABLE")
    assert line.endswith("; nothing is stored about transformer yet: try again later")


def test_a_service_that_sends_empty_answers_is_not_called_offline(
    run: Run, world: World, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Semantic Scholar was there: "try again when online" sent a person to check a
    connection that worked."""
    httpserver.expect_request(re.compile("^/empty/.*")).respond_with_data("", status=200)
    monkeypatch.setenv("PAPERCLI_S2_URL", httpserver.url_for("/empty/graph/v1"))
    result = run("refs", "transformer")
    assert result.exit_code == 3
    [line] = result.stderr.splitlines()
    assert line.endswith("; nothing is stored about transformer yet: try again later"), line


def test_offline_a_host_that_cannot_be_looked_up_is_asked_once(
    run: Run, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No retries (30 s of them) when the name cannot even be looked up."""
    lookups: list[object] = []

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        lookups.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setenv("PAPERCLI_S2_URL", "https://api.semanticscholar.example/graph/v1")
    result = run("refs", "transformer")
    assert result.exit_code == 3
    assert lookups == ["api.semanticscholar.example"]
    [line] = result.stderr.splitlines()
    assert line.startswith("error: could not reach Semantic Scholar at https://api.sem")
    assert line.endswith(
        ": cannot look up api.semanticscholar.example"
        f" ([Errno {socket.EAI_AGAIN}] Temporary failure in name resolution);"
        " check your connection; nothing is stored about transformer yet: try again when online"
    )


# -- cited-by ---------------------------------------------------------------------------


def test_references_and_citations_alike_in_every_key_still_have_one_order() -> None:
    """Two records of one title, as influential and as cited, sort by Semantic Scholar id:
    until 4 December they stayed in the order the query read the links in (the key ended
    on the title), which no ORDER BY set."""
    from papercli.store import graph

    def record(s2_id: str) -> graph.LinkedPaper:
        return graph.LinkedPaper(
            s2_id, None, None, None, "Adam", 2014, 9, None, True, ["methodology"]
        )

    given = [record("s2-b"), record("s2-a")]
    assert [p.s2_id for p in sorted(given, key=graph.influence_order)] == ["s2-a", "s2-b"]
    assert [p.s2_id for p in sorted(given, key=graph.citation_order)] == ["s2-a", "s2-b"]


def test_citing_papers_most_cited_first_in_pages(run: Run, world: World) -> None:
    found = json_of(run, "cited-by", "lora", "-n", "3")
    assert [r["title"] for r in found] == [
        "QLoRA: Efficient Finetuning of Quantized LLMs",
        "LCM-LoRA",
        "A paper using LoRA, number 150",
    ]
    assert found[0]["id"] == "qlora" and found[0]["in_list"]
    everything = json_of(run, "cited-by", "lora", "-n", "0")
    assert len(everything) == 152
    mine = json_of(run, "cited-by", "lora", "--in-list")
    assert [r["id"] for r in mine] == ["qlora", "lcm-lora"]


# -- prerequisites ---------------------------------------------------------------------


def test_references_in_the_list_become_suggested_prerequisites(run: Run, world: World) -> None:
    assert json_of(run, "show", "transformer")["read_first"] == []
    run("refs", "transformer", "--format", "ids")
    read_first = json_of(run, "show", "transformer")["read_first"]
    assert read_first == [
        {"id": "adam", "kind": "suggested"},
        {"id": "layernorm", "kind": "suggested"},
        {"id": "sparse-moe", "kind": "suggested"},
    ]
    assert "suggested from its references" in run("show", "transformer").stdout
    path = run("path", "transformer")
    assert "(suggested)" in path.stdout
    assert [s["id"] for s in json_of(run, "path", "transformer")] == [
        "adam",
        "layernorm",
        "sparse-moe",
        "transformer",
    ]


def test_suggestions_are_accepted_rejected_and_undone(run: Run, world: World) -> None:
    run("refs", "transformer", "--format", "ids")
    assert run("prereq", "transformer", "-sparse-moe").exit_code == 0
    assert [p["id"] for p in json_of(run, "show", "transformer")["read_first"]] == [
        "adam",
        "layernorm",
    ]
    accepted = run("prereq", "transformer", "--accept")
    assert "accepted adam" in accepted.stdout
    assert {p["kind"] for p in json_of(run, "show", "transformer")["read_first"]} == {"yours"}
    again = run("prereq", "transformer", "--accept")  # listed the links as if it had accepted
    assert again.stderr == "no suggested prerequisite of transformer to accept\n"
    assert run("undo").exit_code == 0
    assert {p["kind"] for p in json_of(run, "show", "transformer")["read_first"]} == {"suggested"}
    run("undo")
    assert len(json_of(run, "show", "transformer")["read_first"]) == 3


def test_a_user_link_cannot_make_a_cycle(run: Run, world: World) -> None:
    result = run("prereq", "transformer", "+bert")
    assert result.exit_code == 1
    assert result.stderr == (  # it said "transformer cannot also be read before it": backwards
        "error: bert already needs transformer (see: papercli path bert);"
        " bert cannot also be read before transformer\n"
    )
    assert run("prereq", "lora", "+lora").exit_code == 1
    assert run("prereq", "lora", "+qlora-nope").exit_code == 1


def test_a_cycle_anywhere_among_the_papers_given_changes_nothing(run: Run, world: World) -> None:
    before = json_of(run, "show", "transformer")["read_first"]
    result = run("prereq", "transformer", "+adam", "+bert", "+layernorm")
    assert (result.exit_code, result.stdout) == (1, "")
    assert "bert already needs transformer" in result.stderr
    assert json_of(run, "show", "transformer")["read_first"] == before
    assert run("undo").stderr == "error: there is nothing to undo\n"


def test_naming_a_chain_as_prerequisites_grows_with_it_not_its_square(
    run: Run, sqlite_steps: list[int], tmp_path: Path
) -> None:
    """Each paper to add was walked to its path's end to look for a cycle, one after the
    other: naming each paper of a chain of 2,000 took a minute (0.16 s now)."""
    work = {}
    for count in (100, 400):
        chain = [f"chain{count}-{i}" for i in range(count)]
        papers = [
            {"id": pid, "title": f"Link {pid}", "year": 2024, "date": "2024-01-01",
             "kind": "paper", "status": "unread", "short_name": "",
             "authors": [{"name": "Ada Lovelace", "family": "Lovelace", "given": "Ada"}],
             "prerequisites": chain[i + 1 : i + 2]}
            for i, pid in enumerate([*chain, f"after{count}"])
        ]  # fmt: skip
        document = {"format": "papercli-export", "version": 1, "exported_on": "2026-03-01"}
        path = tmp_path / f"chain{count}.json"
        path.write_text(json.dumps({**document, "papers": papers}), encoding="utf-8")
        assert run("import", str(path)).exit_code == 0
        sqlite_steps[0] = 0
        result = run("prereq", f"after{count}", *(f"+{pid}" for pid in chain))
        assert result.exit_code == 0, result.output
        assert result.stdout.count(f" is now read before after{count}\n") == count
        work[count] = sqlite_steps[0]
    assert work[400] < 6 * work[100], work


def test_removing_a_prerequisite_that_is_none_changes_nothing(run: Run) -> None:
    """It said "qlora is no longer read before lora" and left an undo step and a sync
    event for nothing; now it says what is so, as `queue remove` does."""
    result = run("prereq", "lora", "-qlora")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("qlora was not read before lora\n")
    undone = run("undo")
    assert (undone.exit_code, undone.stderr) == (1, "error: there is nothing to undo\n")


@pytest.mark.parametrize(
    ("edits", "said", "after"),
    [
        (["+transformer", "-transformer"], ["transformer was not read before lora"], []),
        (["-gpt-3", "+GPT-3"], ["gpt-3 is already read before lora"], []),
        (
            ["+transformer", "+Transformer"],
            ["transformer is now read before lora"],
            ["+transformer"],
        ),
    ],
)
def test_a_prerequisite_given_twice_ends_as_typed_last(
    run: Run, edits: list[str], said: list[str], after: list[str]
) -> None:
    """`+x -x` said x was added and then that it was not there, and kept it; `-x +x`
    said both and removed it; an existing link was "now read before" again."""
    result = run("prereq", "lora", *edits)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[: len(said)] == said
    assert not result.stdout.splitlines()[len(said)].endswith("read before lora")
    history = json.loads(run("history", "--all", "--format", "json").stdout)
    assert [h["what"] for h in history] == [f"prerequisites of lora: {e}" for e in after]
    assert [p["id"] for p in json_of(run, "show", "lora")["read_first"]] == (
        ["gpt-3", "transformer"] if after else ["gpt-3"]
    )


def test_the_prerequisites_listed_fit_the_width_as_a_path_s_steps_do(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long title ran past the terminal's edge and wrapped in the middle of a word."""
    monkeypatch.setenv("COLUMNS", "60")
    result = run("prereq", "lora", "+bert")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 60, lines
    at = next(i for i, line in enumerate(lines) if line.startswith("  bert "))
    title = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    assert " ".join(" ".join(lines[at : at + 2]).split()[1:]) == f"{title} (yours)"
    column = lines[at].index("BERT")  # the titles' column, the next line's too
    assert lines[at + 1].startswith(" " * column) and lines[at + 1][column] != " ", lines


# -- paths to any paper ----------------------------------------------------------------


def test_a_path_to_a_paper_not_in_your_list(run: Run, world: World) -> None:
    run("mark-read", "transformer")
    path = run("path", MAMBA)
    assert path.exit_code == 0, path.output
    lines = path.stdout.splitlines()
    assert lines[0].startswith(f"Reading path to arXiv:{MAMBA}: ")
    assert "4 papers, 1 read, 2 not in your list ([+])" in lines[0]
    steps = json_of(run, "path", MAMBA)
    names = [s["id"] or s["arxiv_id"] for s in steps]
    assert names.index("transformer") < names.index("flashattention") < names.index(MAMBA)
    assert names[-1] == MAMBA and S4 in names
    assert {s["kind"] for s in steps if s["arxiv_id"] == S4} == {"new"}
    assert next(s for s in steps if s["id"] == "transformer")["status"] == "read"
    assert len(names) == len(set(names))


def test_adding_the_path_asks_arxiv_once(
    run: Run, world: World, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    titles = {
        MAMBA: "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
        S4: "Efficiently Modeling Long Sequences with Structured State Spaces",
    }
    arxiv_requests: list[Request] = []
    answer = echo_titles(titles)

    def arxiv(request: Request) -> Response:
        arxiv_requests.append(request)
        return answer(request)

    httpserver.expect_request("/api/query").respond_with_handler(arxiv)
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", httpserver.url_for("/api/query"))
    result = run("path", MAMBA, "--add")
    assert result.exit_code == 0, result.output
    assert len(arxiv_requests) == 1
    assert sorted(arxiv_requests[0].args["id_list"].split(",")) == sorted([MAMBA, S4])
    steps = json_of(run, "path", MAMBA)
    assert all(s["in_list"] for s in steps)
    queued = run("queue", "add", steps[-1]["id"], "--with-prereqs")
    assert queued.exit_code == 0, queued.output


def test_adding_the_path_when_arxiv_answers_nothing_exits_3_after_the_path(
    run: Run, world: World, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said "arXiv returned nothing for 2 ids ...; nothing added" and exited 0, where
    `add` with the same answer exits 3 (the README's code for it)."""
    httpserver.expect_request("/api/query").respond_with_data(
        '<feed xmlns="http://www.w3.org/2005/Atom"></feed>', content_type="application/atom+xml"
    )
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", httpserver.url_for("/api/query"))
    result = run("path", MAMBA, "--add")
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: arXiv returned nothing for 2 ids (it does that when")
    assert MAMBA in result.stdout  # the path is printed all the same
    assert not any(s["in_list"] for s in json_of(run, "path", MAMBA) if s["arxiv_id"] == S4)


def test_a_paper_you_added_gets_its_path_from_its_references(run: Run, world: World) -> None:
    """Mamba, added by hand (no catalogue links): path looks its references up once."""
    assert (
        run(
            "add",
            "--title",
            "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
            "--year",
            "2023",
            "--author",
            "Albert Gu",
            "--id",
            "mamba",
        ).exit_code
        == 0
    )
    # Papers added by hand have no arXiv id; one with an arXiv id is the usual case.
    result = run("path", "mamba")
    assert result.exit_code == 0
    assert "no arXiv id or DOI" in result.stderr


# -- related -------------------------------------------------------------------------------


def test_related_papers_with_the_reason(run: Run, world: World) -> None:
    run("refs", "lcm-lora", "--format", "ids")
    run("refs", "qlora", "--format", "ids")
    found = json_of(run, "related", "lora")
    by_id = {r["id"]: r for r in found}
    assert "cites it" in by_id["qlora"]["reason"]
    assert "cited together" in by_id["transformer"]["reason"]
    assert found[0]["score"] >= found[-1]["score"]


def test_the_whole_list_is_one_batch_then_one_request_per_paper(run: Run, world: World) -> None:
    result = run("refs", "--all")
    assert result.exit_code == 0, result.output
    batches = [r for r in world.requests if r.path.endswith("/paper/batch")]
    lists = [r for r in world.requests if r.path.endswith("/references")]
    assert len(batches) == 1
    asked = json.loads(batches[0].get_data())["ids"]
    assert "ARXIV:1706.03762" in asked and "DOI:10.18653/v1/N19-1423" not in asked  # BERT: arXiv
    known = {"transformer", "adam", "layernorm", "sparse-moe", "lora", "qlora", "llm-int8"}
    known |= {"lcm-lora", "flashattention"}
    assert len(lists) == len(known)
    assert result.stdout == f"fetched the references of {len(known)} papers\n"
    assert "Semantic Scholar does not know" in result.stderr
    again = run("refs", "--all")
    assert again.stdout == "fetched the references of 0 papers\n"
    assert len([r for r in world.requests if r.path.endswith("/references")]) == len(known)


class KnowsEveryPaper:
    """A Semantic Scholar that knows every paper asked about and finds no references in
    any, without HTTP: the core fetches thousands of papers in a moment."""

    def __enter__(self) -> KnowsEveryPaper:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def papers(self, refs: list[str]) -> list[S2Paper]:
        return [
            S2Paper(
                hashlib.sha1(ref.encode()).hexdigest(),
                None,
                ref.removeprefix("ARXIV:") if ref.startswith("ARXIV:") else None,
                ref.removeprefix("DOI:").lower() if ref.startswith("DOI:") else None,
                ref,
                2024,
                [],
                "",
                0,
            )
            for ref in refs
        ]

    def references(self, s2_id: str, *, limit: int) -> LinkList:
        return LinkList([], 0, 0, False)


def test_refs_of_the_whole_list_hold_a_chunk_of_it(
    tmp_path: Path, mini_seed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`refs --all` held every paper to ask about, and Semantic Scholar's record of each,
    until all were looked up (at a million papers, 2,000 requests before anything was
    saved). Papers now wait on disk and go a thousand at a time, each thousand saved
    before the next: five times the papers take no more memory."""
    from papercli import graph
    from papercli.store import connection, scratch

    monkeypatch.setattr(scratch, "CHUNK", 100)

    def peak(count: int) -> int:
        conn = connection.open_database(tmp_path / f"{count}.db", mini_seed)
        add_fake_papers(conn, count)
        tracemalloc.start()
        done = graph.fetch_list(conn, KnowsEveryPaper)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (done.fetched, done.unknown) == (count + 3, 0)  # and the catalogue's three
        assert graph.fetch_list(conn, KnowsEveryPaper).fetched == 0  # all looked up
        return peak

    peak(100)  # first imports and caches
    small, large = peak(600), peak(3_000)
    assert large < 1.3 * small, (small, large)


def test_a_famous_paper_s_citations_are_bounded(
    run: Run, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papercli import graph

    monkeypatch.setattr(graph, "CITATIONS_MAX", 100)
    result = run("cited-by", "lora", "-n", "2")
    assert result.exit_code == 0, result.output
    assert "100 citations (more exist; papercli keeps the first 100)" in result.stderr


def test_adding_a_paper_with_its_most_influential_references(
    run: Run, world: World, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    titles = {
        MAMBA: "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
        S4: "Efficiently Modeling Long Sequences with Structured State Spaces",
    }
    asked: list[Request] = []
    answer = echo_titles(titles)
    httpserver.expect_request("/api/query").respond_with_handler(
        lambda request: asked.append(request) or answer(request)
    )
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", httpserver.url_for("/api/query"))
    result = run("add", MAMBA, "--with-refs", "1")
    assert result.exit_code == 0, result.output
    assert f"with their most influential references: {S4}" in result.stderr
    [request] = asked
    assert sorted(request.args["id_list"].split(",")) == sorted([MAMBA, S4])
    assert result.stdout.count("added ") == 2


# -- what Semantic Scholar sees ----------------------------------------------------------


def test_requests_arrive_at_least_a_second_apart_when_the_client_is_slow_to_start(
    run: Run, world: World, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The turn was taken before the client was made: the second request came 0.92 s later.
    slow_connections(monkeypatch, clock)
    arrived: list[float] = []
    world.requests = TimedRequests(clock, arrived)
    result = run("refs", MAMBA)
    assert result.exit_code == 0, result.output
    assert [r.path for r in world.requests] == [
        "/graph/v1/paper/batch",
        f"/graph/v1/paper/{world.find('ARXIV:' + MAMBA)}/references",
    ]
    assert arrived[1] - arrived[0] >= 1.0


class TimedRequests(list[Request]):
    """The fake Semantic Scholar's request log, noting the fake time of each arrival."""

    def __init__(self, clock: FakeClock, arrived: list[float]) -> None:
        super().__init__()
        self.clock = clock
        self.arrived = arrived

    def append(self, request: Request) -> None:
        self.arrived.append(self.clock.now)
        super().append(request)


def test_an_answer_about_another_paper_is_not_taken_for_the_one_asked(
    run: Run, world: World, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Asked about 1605.08386, the batch answered with LoRA's record: its references
    # were printed as 1605.08386's.
    lora = world.find("ARXIV:2106.09685")
    find = world.find
    monkeypatch.setattr(world, "find", lambda ref: lora if ref == "ARXIV:1605.08386" else find(ref))
    result = run("refs", "1605.08386")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == (
        "error: Semantic Scholar does not know arXiv:1605.08386 (--refresh asks again)\n"
    )
    assert [r.path for r in world.requests] == ["/graph/v1/paper/batch"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM s2_papers").fetchone() == (0,)


def test_an_answer_that_is_not_json_exits_3_and_stores_nothing(
    run: Run,
    httpserver: HTTPServer,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    db_path: Path,
) -> None:
    serve_world(httpserver, monkeypatch, clock)
    httpserver.clear()
    portal = Response("<html>Log in</html>", content_type="text/html")
    httpserver.expect_request("/graph/v1/paper/batch").respond_with_response(portal)
    result = run("refs", "lora")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == (
        "error: Semantic Scholar sent an answer that is not JSON from"
        f" {httpserver.url_for('/graph/v1/paper/batch')}\n"
    )
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM s2_papers").fetchone() == (0,)


@pytest.mark.parametrize("command", [["refs", "lora"], ["related", "lora"]])
def test_a_command_that_fails_on_the_links_leaves_the_database_as_it_was(
    run: Run, world: World, httpserver: HTTPServer, db_path: Path, command: list[str]
) -> None:
    # The lookup was saved in a transaction of its own, before the links failed.
    connection.open_database(db_path, paths.seed_path()).close()
    with sqlite3.connect(db_path) as conn:
        before = list(conn.iterdump())
    stuck = {"offset": 0, "next": 0, "data": []}
    lora = world.find("ARXIV:2106.09685")
    direction = "citations" if command[0] == "related" else "references"
    httpserver.clear()
    httpserver.expect_request("/graph/v1/paper/batch").respond_with_handler(world)
    if direction == "citations":
        path = f"/graph/v1/paper/{lora}/references"
        httpserver.expect_request(path).respond_with_handler(world)
    httpserver.expect_request(f"/graph/v1/paper/{lora}/{direction}").respond_with_json(stuck)
    result = run(*command)
    assert (result.exit_code, result.stdout) == (3, ""), result.output
    assert result.stderr == (
        f"error: Semantic Scholar sent a page of {direction} at offset 0 whose next offset"
        " does not follow it\n"
    )
    with sqlite3.connect(db_path) as conn:
        assert list(conn.iterdump()) == before
