"""fetch, add and open as a user runs them, against a local server replaying arXiv.

Time is fake (the commands' client gets the test clock), so retries and pacing cost
nothing; the shipped catalogue is used, with answers re-labelled by ``paper_entry``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import webbrowser
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from subprocess import PIPE

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import Result
from werkzeug import Request, Response

from papercli import paths
from papercli.cli import arxiv_commands
from papercli.store import arxiv_meta, connection, library, papers
from tests.arxiv_fakes import (
    LORA,
    NOW,
    PLAIN,
    FakeClock,
    Replay,
    add_fake_papers,
    answer,
    echo_titles,
    error_feed,
    paper_entry,
    recorded,
    status,
)

TRANSFORMER = "Attention Is All You Need"
ABC_ERROR = "api-2026_error_malformed_id_abc_http400.xml"
AEW10 = "api-2026_single_id_1707.08567_comment_34_authors.xml"
HEAT_BATH = "Heat-bath random walks with Markov bases"

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def clock(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every command's client runs on fake time (conftest's clock), so no test waits for real."""
    fake_time = partial(arxiv_commands.new_client, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr(arxiv_commands, "new_client", fake_time)
    monkeypatch.setattr(library, "clock", lambda: NOW)
    return clock


@pytest.fixture
def serve(
    serve: Callable[..., Replay], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Replay]:
    """Conftest's ``serve``, with the commands pointed at the local server."""
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", httpserver.url_for("/api/query"))
    return serve


@pytest.fixture
def db(run: Run, db_path: Path) -> Iterator[sqlite3.Connection]:
    """The user's database, as the commands left it."""
    assert run("db", "path").exit_code == 0
    conn = connection.open_database(db_path, paths.seed_path())
    yield conn
    conn.close()


def one_line_error(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {text}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------------
# fetch


def test_two_papercli_processes_at_once_ask_arxiv_3_s_apart(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """Real processes on the real clock, each with its own database: they share the pace
    file in the user cache dir (conftest's), locked with flock. Without it, both would ask
    at once."""
    arrived: list[float] = []

    def handler(request: Request) -> Response:
        arrived.append(time.monotonic())
        return answer(paper_entry("2106.09685", LORA))

    httpserver.expect_request("/api/query").respond_with_handler(handler)
    env = {**os.environ, "PAPERCLI_ARXIV_URL": httpserver.url_for("/api/query")}
    commands = [
        [sys.executable, "-m", "papercli", "--db", str(tmp_path / f"{n}.db"), "fetch", "lora"]
        for n in ("one", "two")
    ]
    for command in commands:  # each database made first, so that both start at once
        subprocess.run([*command[:5], "db", "path"], env=env, check=True, capture_output=True)
    started = [subprocess.Popen(c, env=env, stdout=PIPE, stderr=PIPE) for c in commands]
    outputs = [process.communicate(timeout=60) for process in started]
    assert [process.returncode for process in started] == [0, 0], outputs
    first, second = sorted(arrived)
    assert second - first >= 2.9


def test_fetch_stores_metadata_that_show_then_has(
    run: Run, serve: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    replay = serve(answer(paper_entry("2106.09685", LORA, version=2)))
    result = run("fetch", "lora")
    assert result.exit_code == 0, result.output
    assert result.stdout == "updated 1, unchanged 0, not found 0, failed 0, title mismatch 0\n"
    assert replay.id_lists == ["2106.09685"]
    paper = papers.get_paper(db, "lora")
    assert [a.name for a in paper.arxiv_authors] == [
        "Andrew Gould",
        "Susan Dorsher",
        "B. Scott Gaudi",
        "Andrzej Udalski",
    ]
    assert paper.arxiv_authors[2].affiliations == ("CfA",)
    # The curated authors win, and the disagreement is worth a warning.
    assert [a.family for a in paper.authors][:2] == ["Hu", "Shen"]
    assert result.stderr == (
        "warning: authors differ, the catalogue's kept: lora has 8 here (Edward J. Hu,"
        " Yelong Shen, Phillip Wallis, …), 4 on arXiv (Andrew Gould, Susan Dorsher,"
        " B. Scott Gaudi, …)\n"
    )
    assert paper.abstract and paper.abstract.startswith("We derive the frequencies")
    assert (paper.categories, paper.arxiv_version, paper.fetched_at) == (["astro-ph"], 2, NOW)
    assert run("fetch", "lora").stdout.startswith("updated 0, unchanged 1,")


def test_show_json_includes_fetched_metadata(
    run: Run, run_json: Callable[..., object], serve: Callable[..., Replay]
) -> None:
    serve(answer(paper_entry("2106.09685", LORA)))
    assert run("fetch", "lora").exit_code == 0
    shown = run_json("show", "lora", "--format", "json")
    assert isinstance(shown, dict)
    assert shown["authors"][0] == {
        "name": "Edward J. Hu",
        "family": "Hu",
        "given": "Edward J.",
        "literal": False,
        "affiliations": [],
    }
    assert (shown["venue"], shown["doi"], shown["citation_key"]) == (
        "ICLR 2022",
        None,
        "hu2021lora",
    )
    assert shown["abstract"].startswith("We derive the frequencies")
    assert shown["categories"] == ["astro-ph"]


def test_a_title_mismatch_is_reported_and_not_stored(
    run: Run, serve: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    serve(answer(paper_entry("2106.09685", HEAT_BATH)))
    result = run("fetch", "lora")
    assert result.exit_code == 1
    assert result.stdout == "updated 0, unchanged 0, not found 0, failed 0, title mismatch 1\n"
    assert result.stderr.splitlines() == [
        f"title mismatch, not stored: lora (arXiv:2106.09685) is {LORA!r} here"
        f" but {HEAT_BATH!r} on arXiv",
    ]
    assert papers.get_paper(db, "lora").arxiv_authors == []


def test_papers_arxiv_does_not_know_are_named(
    run: Run, serve: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    serve(answer(paper_entry("2106.09685", LORA)))
    result = run("fetch", "lora", "transformer")
    assert result.exit_code == 1
    assert result.stdout == "updated 1, unchanged 0, not found 1, failed 0, title mismatch 0\n"
    # Last, a warning: the recorded entry's authors are not the catalogue's.
    assert result.stderr.splitlines()[:-1] == [
        "not found on arXiv: transformer (arXiv:1706.03762)",
    ]
    assert papers.get_paper(db, "lora").authors


def test_an_id_arxiv_rejects_fails_alone(run: Run, serve: Callable[..., Replay]) -> None:
    replay = serve(error_feed("2106.09685"), answer(paper_entry("1706.03762", TRANSFORMER)))
    result = run("fetch", "lora", "transformer", "gpt-1")
    assert result.exit_code == 1
    assert result.stdout == "updated 1, unchanged 0, not found 0, failed 2, title mismatch 0\n"
    # Last, a warning: the recorded entry's authors are not the catalogue's.
    assert result.stderr.splitlines()[:-1] == [
        "failed: gpt-1: it has no arXiv id",
        "failed: lora (arXiv:2106.09685): incorrect id format for 2106.09685",
    ]
    assert replay.id_lists == ["2106.09685,1706.03762", "1706.03762"]


def test_an_error_feed_naming_no_requested_id_is_one_line(
    run: Run, serve: Callable[..., Replay]
) -> None:
    serve(recorded(ABC_ERROR))
    one_line_error(
        run("fetch", "lora"), 1, "arXiv rejected the request: incorrect id format for abc"
    )


def test_a_busy_arxiv_is_asked_again(
    run: Run, serve: Callable[..., Replay], clock: FakeClock
) -> None:
    replay = serve(status(503), answer(paper_entry("2106.09685", LORA)))
    result = run("fetch", "lora")
    assert result.exit_code == 0, result.output
    assert len(replay.requests) == 2
    assert clock.sleeps == [3.0]


def test_offline_fetch_says_so_in_one_line(run: Run, clock: FakeClock) -> None:
    # conftest points PAPERCLI_ARXIV_URL at a local port nobody listens on.
    one_line_error(
        run("fetch", "lora"),
        3,
        "could not reach arXiv at http://127.0.0.1:9/api/query after 3 tries",
    )
    assert clock.sleeps == [3.0, 6.0]
    assert run("list", "--limit", "1").exit_code == 0  # the rest works offline


def test_ctrl_c_between_batches_keeps_the_first(
    run: Run, serve: Callable[..., Replay], clock: FakeClock, db: sqlite3.Connection
) -> None:
    add_fake_papers(db, 30)  # with the catalogue's, more than one batch of 100
    titles = dict(db.execute("SELECT arxiv_id, title FROM papers WHERE arxiv_id IS NOT NULL"))
    replay = serve(echo_titles(titles))

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    clock.on_sleep = interrupt  # the wait before the second request
    result = run("fetch")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert len(replay.requests) == 1
    assert db.execute("SELECT count(*) FROM arxiv_meta").fetchone()[0] == 100


def test_missing_fetches_only_papers_never_fetched(
    run: Run, serve: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    titles = dict(db.execute("SELECT arxiv_id, title FROM papers WHERE arxiv_id IS NOT NULL"))
    replay = serve(echo_titles(titles))
    assert run("fetch", "lora").exit_code == 0
    summary = json.loads(run("fetch", "--missing", "--format", "json").stdout)
    asked = replay.id_lists[1].split(",")
    assert sorted(asked) == sorted(set(titles) - {"2106.09685"})
    assert {p["id"] for p in summary["updated"]} == set(arxiv_meta.ids_with_arxiv_id(db)) - {"lora"}
    assert {"id": "transformer", "arxiv_id": "1706.03762"} in summary["updated"]
    assert summary["not_found"] == summary["failed"] == summary["title_mismatch"] == []
    result = run("fetch", "--missing")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "nothing to fetch" in result.stderr


def _citation_keys(run: Run) -> dict[str, str]:
    """Every paper's citation key, as `show --format json` and the BibTeX export give it."""
    listing = json.loads(run("export", "--format", "json").stdout)["papers"]
    keys = {p["id"]: p["citation_key"] for p in listing}
    bibtex = run("export", "--format", "bibtex").stdout
    assert [
        line.split("{")[1].rstrip(",") for line in bibtex.splitlines() if line.startswith("@")
    ] == (list(keys.values()))
    return keys


def test_citation_keys_never_change_when_arxiv_metadata_arrives(
    run: Run, serve: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    before = _citation_keys(run)
    assert before["lora"] == "hu2021lora" and before["transformer"] == "vaswani2017attention"
    titles = dict(db.execute("SELECT arxiv_id, title FROM papers WHERE arxiv_id IS NOT NULL"))
    titles["1605.08386"] = HEAT_BATH
    serve(echo_titles(titles))  # arXiv's authors in these answers are someone else entirely
    result = run("fetch")
    assert result.exit_code == 0, result.output
    assert "warning: authors differ" in result.stderr
    assert _citation_keys(run) == before
    assert run("add", "1605.08386").exit_code == 0  # a user's paper gets its key when added
    [added] = run("list", "--search", "heat-bath markov", "--format", "ids").stdout.split()
    key = json.loads(run("show", added, "--format", "json").stdout)["citation_key"]
    assert key == _citation_keys(run)[added] == "stanley2016heat"  # its first author
    assert run("fetch", added).exit_code == 0
    assert _citation_keys(run)[added] == key


def test_papers_and_all_or_missing_do_not_mix(run: Run) -> None:
    result = run("fetch", "lora", "--missing")
    assert result.exit_code == 2
    assert "not several of them" in result.stderr


# ---------------------------------------------------------------------------
# add


def test_add_a_paper_from_arxiv(
    run: Run, run_json: Callable[..., object], serve: Callable[..., Replay]
) -> None:
    replay = serve(recorded(PLAIN))
    result = run("add", "https://arxiv.org/abs/1605.08386v1")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"added heat-bath-random-walks: {HEAT_BATH} (2016)\n"
    assert replay.id_lists == ["1605.08386"]
    shown = run_json("show", "1605.08386", "--format", "json")
    assert isinstance(shown, dict)
    assert {k: shown[k] for k in ("id", "short_name", "date", "origin", "organizations")} == {
        "id": "heat-bath-random-walks",
        "short_name": "Heat-bath random walks",
        "date": "2016-05-26",
        "origin": "user",
        "organizations": [],
    }


def test_add_reads_ids_from_stdin_as_refs_prints_them(
    run: Run, serve: Callable[..., Replay]
) -> None:
    """`refs --format ids | papercli add -`, as refs' help says: '-' was taken for an id."""
    replay = serve(recorded(PLAIN))
    result = run("add", "-", input="\n  1605.08386v1 \n\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"added heat-bath-random-walks: {HEAT_BATH} (2016)\n"
    assert replay.id_lists == ["1605.08386"]
    empty = run("add", "-", input="")
    assert (empty.exit_code, empty.stderr) == (1, "error: no papers given (stdin was empty)\n")
    bad = run("add", "-", input="1605.08386\nnot-an-id\n")
    assert bad.exit_code == 1 and "'not-an-id' is not an arXiv id" in bad.stderr
    assert len(replay.requests) == 1  # nothing asked for a bad list


def test_add_keeps_all_34_authors_in_order(
    run: Run, serve: Callable[..., Replay], db: sqlite3.Connection
) -> None:
    serve(recorded(AEW10))
    assert run("add", "1707.08567", "--id", "aew10").stdout.startswith("added aew10: Proceedings")
    authors = papers.get_paper(db, "aew10").authors
    assert len(authors) == 34
    assert [a.name for a in authors[:2]] == ["Kees A. Schouhamer Immink", "Stan Baggen"]
    assert "Dirk Wübben" in [a.name for a in authors]


def test_add_names_papers_already_in_the_list(run: Run, serve: Callable[..., Replay]) -> None:
    replay = serve(recorded(PLAIN))
    result = run("add", "arXiv:2106.09685v1", "1605.08386", "1605.08386v1")
    assert result.exit_code == 0
    assert result.stderr == "2106.09685 is already in your list as lora\n"
    assert replay.id_lists == ["1605.08386"]
    again = run("add", "1605.08386")
    assert (again.exit_code, again.stdout) == (0, "")
    assert again.stderr == "1605.08386 is already in your list as heat-bath-random-walks\n"
    assert len(replay.requests) == 1  # nothing new: arXiv was not asked


def test_add_with_id_topic_and_queue(
    run: Run, run_json: Callable[..., object], serve: Callable[..., Replay]
) -> None:
    serve(recorded(PLAIN))
    result = run("add", "1605.08386", "--id", "heat-bath", "--topic", "PEFT", "--queue")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"added heat-bath: {HEAT_BATH} (2016)\nqueued heat-bath\n"
    shown = run_json("show", "heat-bath", "--format", "json")
    assert isinstance(shown, dict)
    assert (shown["topics"], shown["queue_position"]) == (["peft"], 1)


def test_add_reports_ids_arxiv_does_not_know(run: Run, serve: Callable[..., Replay]) -> None:
    serve(recorded("api-2026_idlist_two_ids_one_missing_0808.05394_1707.08567.xml"))
    result = run("add", "2401.99999", "1707.08567")
    assert result.exit_code == 1
    assert result.stdout.startswith("added proceedings-workshop-aew10: ")
    assert result.stderr == "arXiv does not know 2401.99999; nothing added for it\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["2106.9685"],
            "'2106.9685' is not an arXiv id (expected e.g. 2106.09685 or hep-th/9901001)",
        ),
        (["1605.08386", "1707.08567", "--id", "mine"], "--id names one paper, but 2 arXiv ids"),
        (["1605.08386", "--id", "lora"], "'lora' is already taken (by lora)"),
        (["1605.08386", "--topic", "nope"], "unknown topic 'nope'"),
    ],
)
def test_add_refuses_bad_input_before_asking_arxiv(
    run: Run, serve: Callable[..., Replay], args: list[str], message: str
) -> None:
    replay = serve(recorded(PLAIN))
    one_line_error(run("add", *args), 1, message)
    assert replay.requests == []


def test_offline_add_says_so_in_one_line(run: Run, clock: FakeClock) -> None:
    one_line_error(run("add", "1605.08386"), 3, "could not reach arXiv")


# ---------------------------------------------------------------------------
# open


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: urls.append(url) or True)
    return urls


@pytest.mark.parametrize(
    ("args", "url"),
    [
        (["lora"], "https://arxiv.org/abs/2106.09685"),
        (["lora", "--pdf"], "https://arxiv.org/pdf/2106.09685"),
        (
            ["gpt-2"],
            "https://cdn.openai.com/better-language-models/"
            "language_models_are_unsupervised_multitask_learners.pdf",
        ),
        (  # its address is the PDF itself
            ["gpt-1", "--pdf"],
            "https://cdn.openai.com/research-covers/language-unsupervised/"
            "language_understanding_paper.pdf",
        ),
    ],
)
def test_open_prints_and_launches_the_page(
    run: Run, launched: list[str], args: list[str], url: str
) -> None:
    result = run("open", *args)
    assert (result.exit_code, result.stdout) == (0, url + "\n")
    assert launched == [url]


def test_open_says_when_no_browser_could_be_opened(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webbrowser answers False when no browser could take the address: `open` ended
    as if the page were showing."""
    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    result = run("open", "lora")
    assert (result.exit_code, result.stdout) == (0, "https://arxiv.org/abs/2106.09685\n")
    assert result.stderr == "warning: no browser could be opened; the address is above\n"


def test_open_pdf_of_a_paper_without_one(run: Run, launched: list[str]) -> None:
    one_line_error(
        run("open", "chatgpt", "--pdf"),
        1,
        "papercli knows no PDF for chatgpt; its page is: papercli open chatgpt",
    )
    assert launched == []


# ---------------------------------------------------------------------------
# version awareness and import from arXiv


def test_a_newer_version_since_reading_is_flagged(
    run: Run, run_json: Callable[..., object], serve: Callable[..., Replay]
) -> None:
    serve(
        answer(paper_entry("2106.09685", LORA, version=1)),
        answer(paper_entry("2106.09685", LORA, version=3)),
    )
    run("fetch", "lora")
    run("mark-read", "lora")
    assert "(v" not in run("list", "--search", "low-rank").stdout
    assert run("fetch", "lora").exit_code == 0
    listed = run("list", "--status", "read").stdout
    assert "read (v3 out)" in listed
    shown = run("show", "lora").stdout
    assert "(v1); arXiv now has v3" in shown
    summary = run_json("list", "--status", "read", "--format", "json")
    assert isinstance(summary, list) and summary[0]["newer_version"] == 3


def test_an_older_version_than_fetched_before_is_refused(
    run: Run, run_json: Callable[..., object], serve: Callable[..., Replay]
) -> None:
    """A stale copy of arXiv's answer (a cache, a mirror) gave version 1 after version 2
    was fetched: it was stored ("updated 1", exit 0), and `show` had the paper back at
    its first version and date, below the version the user had read."""
    serve(
        answer(paper_entry("2106.09685", LORA, version=2)),
        answer(paper_entry("2106.09685", LORA, version=1)),
    )
    run("fetch", "lora")
    run("mark-read", "lora")
    stale = run("fetch", "lora")
    assert stale.exit_code == 1
    assert (
        "failed: lora (arXiv:2106.09685): arXiv sent version 1, older than version 2 fetched"
        " before (a stale copy?); kept version 2"
    ) in stale.output
    shown = run_json("show", "lora", "--format", "json")
    assert isinstance(shown, dict)
    assert (shown["arxiv_version"], shown["read_version"]) == (2, 2)


@pytest.mark.parametrize(
    ("entry_key", "cited_as", "warning"),
    [
        ("Stanley:2016:heat", "Stanley:2016:heat", ""),
        (
            "vaswani2017attention",
            "stanley2016heat",
            "warning: 'vaswani2017attention': cited as stanley2016heat, the entry's key being"
            " taken by another paper\n",
        ),
    ],
    ids=["kept", "taken"],
)
def test_a_bibtex_entry_added_from_arxiv_is_cited_by_its_key(
    run: Run,
    run_json: Callable[..., object],
    serve: Callable[..., Replay],
    tmp_path: Path,
    entry_key: str,
    cited_as: str,
    warning: str,
) -> None:
    serve(recorded(PLAIN))
    bib = tmp_path / "mine.bib"
    bib.write_text(f"@misc{{{entry_key}, eprint = {{1605.08386}}}}\n", encoding="utf-8")
    result = run("import", str(bib))
    assert result.exit_code == 0, result.output
    assert result.stdout == "added: heat-bath-random-walks\n"
    assert result.stderr == (
        f"{warning}restored 0, added 1, already there 0, not found 0, failed 0, skipped 0\n"
    )
    shown = run_json("show", "heat-bath-random-walks", "--format", "json")
    assert isinstance(shown, dict) and shown["citation_key"] == cited_as


def test_a_bibtex_import_that_arxiv_stops_says_what_it_added(
    run: Run, tmp_path: Path, clock: FakeClock
) -> None:
    """The typed-in entry stayed but the error seemed to say nothing was imported."""
    bib = tmp_path / "two.bib"
    bib.write_text(
        "@article{w, title={Widgets for Everyone}, author={Smith, John}, year={2020}}\n"
        "@misc{m, title={Mamba}, author={Gu, Albert}, year={2023}, eprint={2312.00752}}\n",
        encoding="utf-8",
    )
    result = run("import", str(bib))
    one_line_error(result, 3, "could not reach arXiv at http://127.0.0.1:9/api/query after 3 tries")
    assert result.stderr.endswith(
        "; the import added widgets-everyone before that, but not 2312.00752;"
        " import the file again to add them\n"
    )
    again = run("import", str(bib))  # the entry typed in is there: nothing added this time
    one_line_error(again, 3, "could not reach arXiv")
    assert "the import added" not in again.stderr


def test_import_an_id_list_adds_papers_from_arxiv(
    run: Run, serve: Callable[..., Replay], tmp_path: Path
) -> None:
    replay = serve(recorded(PLAIN))
    listing = tmp_path / "to-read.txt"
    listing.write_text("# from a colleague\nhttps://arxiv.org/abs/1605.08386\n2106.09685\n")
    result = run("import", str(listing), "--queue")
    assert result.exit_code == 0, result.output
    # lora is in the catalogue already: queued, not fetched
    assert result.stdout == "added: heat-bath-random-walks\nqueued: heat-bath-random-walks, lora\n"
    assert replay.id_lists == ["1605.08386"]
    assert "already there 1" in result.stderr
