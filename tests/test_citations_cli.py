"""refs, cited-by, related, prereq and path as a user runs them, against a local Semantic
Scholar: a small citation graph around the catalogue, answered in the shapes of the
recorded responses (../shared/fixtures/s2): batch lookups with nulls, paged reference and
citation lists with influence flags and intents. Time is fake, so pacing costs nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import unquote

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import Result
from werkzeug import Request, Response

from papercli.cli import arxiv_commands, citations
from papercli.store import library
from tests.arxiv_fakes import NOW, FakeClock, echo_titles

Run = Callable[..., Result]
MAMBA = "2312.00752"
S4 = "2111.00396"


@dataclass
class World:
    """What the fake Semantic Scholar knows: papers by S2 id, and who cites whom."""

    papers: dict[str, dict[str, Any]] = field(default_factory=dict)
    cites: dict[str, list[tuple[str, bool, list[str]]]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def paper(self, key: str, title: str, year: int, *, arxiv: str | None = None,
              doi: str | None = None, cited: int = 10) -> str:  # fmt: skip
        s2_id = f"{abs(hash(key)) % 16**40:040x}"
        external: dict[str, Any] = {"CorpusId": len(self.papers) + 1}
        if arxiv:
            external["ArXiv"] = arxiv
        if doi:
            external["DOI"] = doi
        self.papers[s2_id] = {
            "paperId": s2_id,
            "corpusId": len(self.papers) + 1,
            "externalIds": external,
            "title": title,
            "year": year,
            "authors": [{"authorId": "1", "name": "A. Author"}],
            "venue": "",
            "citationCount": cited,
        }
        return s2_id

    def cite(self, citing: str, cited: str, influential: bool = False, *intents: str) -> None:
        self.cites.setdefault(citing, []).append((cited, influential, list(intents)))

    def find(self, ref: str) -> str | None:
        kind, _, value = ref.partition(":")
        for s2_id, paper in self.papers.items():
            ids = paper["externalIds"]
            if s2_id == ref or (kind.upper() == "ARXIV" and ids.get("ArXiv") == value):
                return s2_id
            if kind.upper() == "DOI" and str(ids.get("DOI", "")).lower() == value.lower():
                return s2_id
        return None

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        path = unquote(request.path).removeprefix("/graph/v1/")
        if path == "paper/batch":
            ids = json.loads(request.get_data())["ids"]
            found = [self.papers.get(self.find(i) or "") for i in ids]
            return Response(json.dumps(found), content_type="application/json")
        match = re.fullmatch(r"paper/(.+?)(?:/(references|citations))?", path)
        assert match, path
        s2_id = self.find(match[1])
        if s2_id is None:
            body = {"error": f"Paper with id {match[1]} not found"}
            return Response(json.dumps(body), status=404, content_type="application/json")
        if match[2] is None:
            return Response(json.dumps(self.papers[s2_id]), content_type="application/json")
        if match[2] == "references":
            edges = [(c, i, t, "citedPaper") for c, i, t in self.cites.get(s2_id, [])]
        else:
            edges = [
                (citing, i, t, "citingPaper")
                for citing, cited in self.cites.items()
                for c, i, t in cited
                if c == s2_id
            ]
        offset, limit = int(request.args.get("offset", 0)), int(request.args.get("limit", 100))
        page = edges[offset : offset + limit]
        body: dict[str, Any] = {
            "offset": offset,
            "data": [
                {"isInfluential": i, "intents": t, "contexts": [], key: self.papers[other]}
                for other, i, t, key in page
            ],
        }
        if offset + limit < len(edges):
            body["next"] = offset + limit
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def world(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> World:
    """A citation graph: the Transformer's references (three in the catalogue), QLoRA's,
    and Mamba (not in the catalogue), which cites the Transformer, FlashAttention and S4."""
    world = World()
    transformer = world.paper(
        "transformer", "Attention Is All You Need", 2017, arxiv="1706.03762", cited=90000
    )
    adam = world.paper("adam", "Adam", 2014, arxiv="1412.6980", cited=100000)
    layernorm = world.paper("layernorm", "Layer Normalization", 2016, arxiv="1607.06450")
    moe = world.paper("sparse-moe", "Outrageously Large Neural Networks", 2017, arxiv="1701.06538")
    align = world.paper(
        "align",
        "Neural Machine Translation by Jointly Learning to Align and Translate",
        2014,
        arxiv="1409.0473",
        cited=20000,
    )
    no_ids = world.paper("no-ids", "A report without ids", 2012)
    world.cite(transformer, adam, True, "methodology")
    world.cite(transformer, layernorm, False, "methodology")
    world.cite(transformer, moe, False, "background")
    world.cite(transformer, align, True, "background")
    world.cite(transformer, no_ids, False)
    lora = world.paper(
        "lora",
        "LoRA: Low-Rank Adaptation of Large Language Models",
        2021,
        arxiv="2106.09685",
        cited=5000,
    )
    qlora = world.paper(
        "qlora",
        "QLoRA: Efficient Finetuning of Quantized LLMs",
        2023,
        arxiv="2305.14314",
        cited=2000,
    )
    int8 = world.paper("llm-int8", "LLM.int8()", 2022, arxiv="2208.07339")
    lcm_lora = world.paper("lcm-lora", "LCM-LoRA", 2023, arxiv="2311.05556", cited=300)
    world.cite(qlora, lora, True, "methodology")
    world.cite(qlora, int8, True, "methodology")
    world.cite(qlora, transformer, False, "background")
    world.cite(lcm_lora, lora, True, "methodology")
    world.cite(lcm_lora, transformer, False)
    for n in range(1, 151):  # LoRA is cited by many papers outside the list
        other = world.paper(
            f"citer-{n}", f"A paper using LoRA, number {n}", 2024, arxiv=f"2401.{n:05d}", cited=n
        )
        world.cite(other, lora, False, "methodology")
    mamba = world.paper(
        "mamba",
        "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
        2023,
        arxiv=MAMBA,
    )
    flash = world.paper("flashattention", "FlashAttention", 2022, arxiv="2205.14135")
    s4 = world.paper(
        "s4", "Efficiently Modeling Long Sequences with Structured State Spaces", 2021, arxiv=S4
    )
    world.cite(mamba, transformer, True, "background")
    world.cite(mamba, flash, False, "methodology")
    world.cite(mamba, s4, True, "methodology")
    world.cite(mamba, mamba, False)  # a self-citation
    world.cite(mamba, no_ids, False)
    httpserver.expect_request(re.compile("^/graph/v1/.*")).respond_with_handler(world)
    monkeypatch.setenv("PAPERCLI_S2_URL", httpserver.url_for("/graph/v1"))
    monkeypatch.delenv("PAPERCLI_S2_API_KEY", raising=False)
    monkeypatch.setattr(
        citations, "new_s2_client", partial(citations.new_s2_client, clock=clock, sleep=clock.sleep)
    )
    monkeypatch.setattr(
        arxiv_commands,
        "new_client",
        partial(arxiv_commands.new_client, clock=clock, sleep=clock.sleep),
    )
    monkeypatch.setattr(library, "clock", lambda: NOW)
    return world


def json_of(run: Run, *args: str) -> Any:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- refs ------------------------------------------------------------------------------


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
    assert "Semantic Scholar" in again.stderr  # the attribution
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


def test_offline_with_nothing_stored_is_a_network_error(
    run: Run, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERCLI_S2_URL", "http://127.0.0.1:9/graph/v1")
    result = run("refs", "transformer")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


# -- cited-by ---------------------------------------------------------------------------


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
    assert run("undo").exit_code == 0
    assert {p["kind"] for p in json_of(run, "show", "transformer")["read_first"]} == {"suggested"}
    run("undo")
    assert len(json_of(run, "show", "transformer")["read_first"]) == 3


def test_a_user_link_cannot_make_a_cycle(run: Run, world: World) -> None:
    result = run("prereq", "transformer", "+bert")
    assert result.exit_code == 1
    assert "bert already needs transformer" in result.stderr
    assert run("prereq", "lora", "+lora").exit_code == 1
    assert run("prereq", "lora", "+qlora-nope").exit_code == 1


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


def test_a_famous_paper_s_citations_are_bounded(
    run: Run, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from papercli import graph

    monkeypatch.setattr(graph, "CITATIONS_MAX", 100)
    result = run("cited-by", "lora", "-n", "2")
    assert result.exit_code == 0, result.output
    assert "100 citations (more exist; papercli keeps the first 100)" in result.stderr
