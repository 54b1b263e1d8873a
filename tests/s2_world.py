"""A stand-in for Semantic Scholar's Graph API on 127.0.0.1: a small citation graph around
the catalogue, answered in the shapes of the recorded responses (../shared/fixtures/s2):
batch lookups with nulls, paged reference and citation lists with influence and intents.
Used by the citation tests and to run the --help examples."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import unquote

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from papercli.cli import arxiv_commands, citations
from papercli.store import library
from tests.arxiv_fakes import NOW, FakeClock

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


def citation_world() -> World:
    """The Transformer's references (three in the catalogue), QLoRA's and LCM-LoRA's, 150
    papers outside the list citing LoRA, and Mamba (not in the catalogue), which cites the
    Transformer, FlashAttention and S4."""
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
    world.cite(mamba, flash, False, "methodology")  # listed twice, as references sometimes are
    world.cite(mamba, s4, True, "methodology")
    world.cite(mamba, mamba, False)  # a self-citation
    world.cite(mamba, no_ids, False)
    return world


def serve_world(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> World:
    """The citation world at PAPERCLI_S2_URL, with the commands' clients on fake time."""
    world = citation_world()
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
