"""The arXiv inbox as a user drives it: pull, rank, keep, dismiss, undo, prune.

arXiv is a local server replaying the recorded RSS listings (a 1,504-item all-archives
day, an empty weekend channel, an error channel) and feeds built from their items; time
is fake, so pacing and retries cost nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from typer.testing import Result
from werkzeug import Request, Response

from papercli import paths
from papercli.cli import arxiv_commands
from papercli.store import connection, inbox, library
from tests.arxiv_fakes import NOW, FakeClock, fixture, status

Run = Callable[..., Result]
RSS = "application/rss+xml"
LISTING = fixture("rss-2024_listing_all_archives.xml").decode()
WEEKEND = fixture("rss-2024_empty_listing_test_archive.xml")
ERROR_CHANNEL = fixture("rss-2024_error_bad_archive_astroph.xml")
FEED_PATH = "/rss/cs.CL+cs.LG"
PEFT = "2411.18571"  # "Challenges in Adapting Multilingual LLMs ... using LoRA PEFT Tuning"


@pytest.fixture(autouse=True)
def fake_time(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    monkeypatch.setattr(
        arxiv_commands,
        "new_client",
        partial(arxiv_commands.new_client, clock=clock, sleep=clock.sleep),
    )
    monkeypatch.setattr(library, "clock", lambda: NOW)
    return clock


@pytest.fixture
def arxiv(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> HTTPServer:
    monkeypatch.setenv("PAPERCLI_ARXIV_RSS_URL", httpserver.url_for("/rss/"))
    monkeypatch.setenv("PAPERCLI_ARXIV_URL", httpserver.url_for("/api/query"))
    return httpserver


class Feed:
    """The fake rss.arxiv.org: answers in turn (the last repeats) and notes each request."""

    def __init__(self, *answers: Response | bytes) -> None:
        self.answers = list(answers)
        self.requests: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, bytes):
            return Response(answer, content_type=RSS, headers={"ETag": '"day-1"'})
        return answer


def serve_feed(server: HTTPServer, *answers: Response | bytes) -> Feed:
    feed = Feed(*answers)
    server.expect_request(FEED_PATH).respond_with_handler(feed)
    return feed


def recorded_item(arxiv_id: str) -> str:
    match = re.search(
        rf"<item>(?:(?!</item>).)*?arXiv:{re.escape(arxiv_id)}v.*?</item>", LISTING, re.S
    )
    assert match is not None
    return match[0]


def item(
    arxiv_id: str,
    *,
    title: str,
    abstract: str = "A study of things.",
    categories: tuple[str, ...] = ("cs.CL",),
    kind: str = "new",
    version: int = 1,
    creators: str = "Ada Lovelace, Alan Turing",
    day: str = "Thu, 28 Nov 2024",
) -> str:
    """An RSS item shaped like the recorded ones."""
    cats = "".join(f"<category>{c}</category>" for c in categories)
    return (
        f"<item><title>{title}</title><link>https://arxiv.org/abs/{arxiv_id}</link>"
        f"<description>arXiv:{arxiv_id}v{version} Announce Type: {kind} \nAbstract: {abstract}"
        f'</description><guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v{version}</guid>'
        f"{cats}<pubDate>{day} 00:00:00 -0500</pubDate>"
        f"<arxiv:announce_type>{kind}</arxiv:announce_type><dc:creator>{creators}</dc:creator></item>"
    )


def listing(*items: str, day: str = "Thu, 28 Nov 2024") -> bytes:
    """A listing with the recorded channel around these items, announced on ``day``."""
    head = LISTING[: LISTING.index("<item>")].replace("Thu, 28 Nov 2024", day)
    return (head + "".join(items) + "</channel></rss>").encode()


@pytest.fixture
def watching(run: Run) -> None:
    result = run(
        "watch", "add", "llm", "-c", "cs.CL", "-c", "cs.LG", "-k", "language models", "-k", "LoRA"
    )
    assert result.exit_code == 0, result.output


def inbox_json(run: Run, *args: str) -> list[dict[str, object]]:
    result = run("inbox", "--format", "json", "-n", "0", *args)
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


@pytest.fixture
def db(run: Run, db_path: Path) -> Iterator[sqlite3.Connection]:
    assert run("db", "path").exit_code == 0
    conn = connection.open_database(db_path, paths.seed_path())
    yield conn
    conn.close()


# -- pulling -----------------------------------------------------------------------------


def test_a_pull_asks_once_for_every_watched_category_and_keeps_what_matches(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    feed = serve_feed(arxiv, fixture("rss-2024_listing_all_archives.xml"))
    result = run("inbox", "pull")
    assert result.exit_code == 0, result.output
    [request] = feed.requests
    assert request.path == FEED_PATH
    assert request.headers["User-Agent"].startswith("papercli/")
    lines = result.stdout.splitlines()
    assert lines[0] == "arXiv's listing of 2024-11-28 for cs.CL, cs.LG"
    new = int(re.fullmatch(r"1,504 announcements, (\d+) new in the inbox", lines[1])[1])  # type: ignore[index]
    items = inbox_json(run)
    assert len(items) == new > 10
    for entry in items:
        assert {"cs.CL", "cs.LG"} & set(entry["categories"])  # type: ignore[arg-type]
        text = f"{entry['title']} {entry['abstract']}".lower()
        assert "language models" in text or re.search(r"\blora\b", text)
    assert PEFT in {e["arxiv_id"] for e in items}
    peft = next(e for e in items if e["arxiv_id"] == PEFT)
    assert peft["authors"][:2] == ["Omkar Khade", "Shruti Jagdale"]  # type: ignore[index]
    assert (peft["announce_type"], peft["announced"], peft["watches"]) == (
        "new",
        "2024-11-28",
        ["llm"],
    )
    assert peft["seen"] is False and peft["decision"] is None


def test_json_items_carry_the_documented_keys(run: Run, arxiv: HTTPServer, watching: None) -> None:
    serve_feed(arxiv, listing(item(PEFT, title="LoRA for Marathi")))
    run("inbox", "pull")
    [entry] = inbox_json(run)
    assert set(entry) >= {
        "arxiv_id", "title", "authors", "categories", "announce_type", "announced",
        "watches", "score", "reason", "seen",
    }  # fmt: skip


def test_a_second_pull_the_same_day_costs_one_not_modified_answer(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    feed = serve_feed(arxiv, listing(item(PEFT, title="LoRA for Marathi")), status(304))
    run("inbox", "pull")
    again = run("inbox", "pull")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("nothing new for cs.CL, cs.LG: arXiv's listing has not changed")
    assert feed.requests[1].headers["If-None-Match"] == '"day-1"'
    assert len(inbox_json(run)) == 1
    quiet = run("inbox", "pull", "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")


def test_quiet_speaks_when_there_is_something_new(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(arxiv, listing(item(PEFT, title="LoRA for Marathi")))
    result = run("inbox", "pull", "--quiet")
    assert "1 new in the inbox" in result.stdout


def test_a_weekend_is_a_successful_pull_with_nothing_in_it(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(arxiv, WEEKEND)
    result = run("inbox", "pull")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "no listings today (arXiv does not announce on weekends and holidays)"
    )
    assert inbox_json(run) == []


def test_an_unknown_category_is_one_line_naming_it(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(arxiv, Response(ERROR_CHANNEL, status=400, content_type=RSS))
    result = run("inbox", "pull")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "'astroph'" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_503_is_retried_after_the_pause_arxiv_asks_for(
    run: Run, arxiv: HTTPServer, watching: None, clock: FakeClock
) -> None:
    feed = serve_feed(arxiv, status(503), listing(item(PEFT, title="LoRA for Marathi")))
    result = run("inbox", "pull")
    assert result.exit_code == 0, result.output
    assert len(feed.requests) == 2 and clock.sleeps and min(clock.sleeps) >= 3


def test_when_arxiv_cannot_be_reached_the_inbox_is_unchanged(
    run: Run, arxiv: HTTPServer, watching: None, db: sqlite3.Connection
) -> None:
    serve_feed(arxiv, status(503))
    result = run("inbox", "pull")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: arXiv") and len(result.stderr.strip().splitlines()) == 1
    assert db.execute("SELECT count(*) FROM inbox_items").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM meta WHERE key = 'inbox_pull'").fetchone()[0] == 0


def test_pulling_without_a_watch_says_how_to_add_one(run: Run) -> None:
    result = run("inbox", "pull")
    assert result.exit_code == 1
    assert "papercli watch add" in result.stderr


def test_a_paper_cross_listed_into_two_watched_categories_is_one_item(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(
        arxiv,
        listing(
            item("2411.00001", title="LoRA everywhere", categories=("cs.CL", "cs.AI")),
            item("2411.00001", title="LoRA everywhere", categories=("cs.LG",), kind="cross"),
        ),
    )
    assert "1 new in the inbox" in run("inbox", "pull").stdout
    [entry] = inbox_json(run)
    assert entry["announce_type"] == "new"
    assert entry["categories"] == ["cs.CL", "cs.AI", "cs.LG"]


def test_only_items_matching_a_watch_are_kept(run: Run, arxiv: HTTPServer, watching: None) -> None:
    serve_feed(
        arxiv,
        listing(
            item("2411.00001", title="Protein folding", categories=("cs.LG",)),
            item("2411.00002", title="LoRA for robots", categories=("cs.RO",)),
            item("2411.00003", title="Flora of the Alps", categories=("cs.CL",)),
            item("2411.00004", title="Small LoRA", categories=("cs.CL",)),
        ),
    )
    run("inbox", "pull")
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00004"]


# -- version alerts ------------------------------------------------------------------------


def test_a_replacement_of_a_paper_you_read_is_a_version_alert(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    lora = "2106.09685"
    serve_feed(
        arxiv,
        listing(item(lora, title="LoRA: Low-Rank Adaptation", kind="replace", version=2)),
        listing(
            item(lora, title="LoRA: Low-Rank Adaptation", kind="replace", version=3),
            day="Fri, 29 Nov 2024",
        ),
    )
    first = run("inbox", "pull")
    assert "lora: v2 announced" in first.stdout.splitlines()
    assert run("mark-read", "lora").exit_code == 0
    second = run("inbox", "pull")
    assert "lora: v3 announced (you read v2)" in second.stdout.splitlines()
    assert inbox_json(run) == []  # a paper in your list is an alert, not an item
    assert run("inbox").stdout.splitlines()[0] == "lora: v3 announced (you read v2)"
    assert "arXiv now has v3" in run("show", "lora").stdout
    assert "read (v3 out)" in run("list", "--status", "read").stdout
    dismissed = run("inbox", "dismiss", "lora")
    assert dismissed.stdout == "dismissed the version alert for lora\n"
    assert "v3 announced" not in run("inbox").stdout
    assert run("undo").exit_code == 0
    assert "lora: v3 announced (you read v2)" in run("inbox").stdout


# -- triage --------------------------------------------------------------------------------


def test_keeping_adds_the_paper_from_the_listing_without_asking_arxiv(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(arxiv, fixture("rss-2024_listing_all_archives.xml"))
    run("inbox", "pull")
    kept = run("inbox", "keep", f"arXiv:{PEFT}v1", "--queue", "--tag", "peft")
    assert kept.exit_code == 0, kept.output
    paper_id = re.match(r"added (\S+): Challenges in Adapting", kept.stdout)[1]  # type: ignore[index]
    assert len(arxiv.log) == 1  # the pull; nothing asked for the keep
    shown = run("show", paper_id, "--format", "json")
    paper = json.loads(shown.stdout)
    assert paper["arxiv_id"] == PEFT and paper["tags"] == ["peft"]
    assert paper["abstract"].startswith("Large Language Models (LLMs) have demonstrated")
    assert [a["family"] for a in paper["authors"]][:2] == ["Khade", "Jagdale"]
    assert run("queue", "--format", "json").stdout.count(paper_id) == 1
    assert PEFT not in {e["arxiv_id"] for e in inbox_json(run)}
    assert next(e for e in inbox_json(run, "--all") if e["arxiv_id"] == PEFT)["decision"] == "kept"
    assert run("undo").stdout.startswith(f"undone: kept {paper_id} from the inbox")
    assert run("show", paper_id).exit_code == 1
    assert run("queue", "--format", "json").stdout.strip() == "[]"
    assert PEFT in {e["arxiv_id"] for e in inbox_json(run)}


def test_keeping_or_dismissing_what_is_not_in_the_inbox_changes_nothing(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(arxiv, listing(item(PEFT, title="LoRA for Marathi")))
    run("inbox", "pull")
    for command in ("keep", "dismiss"):
        result = run("inbox", command, PEFT, "2411.99999")
        assert result.exit_code == 1
        assert "2411.99999" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert not inbox_json(run)[0]["seen"]
    bad = run("inbox", "keep", "not-an-id")
    assert bad.exit_code == 1 and "not an arXiv id" in bad.stderr


def test_kept_and_dismissed_items_never_come_back(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    day = listing(
        item("2411.00001", title="LoRA one"),
        item("2411.00002", title="LoRA two"),
        item("2411.00003", title="LoRA three"),
    )
    serve_feed(arxiv, Response(day, content_type=RSS))  # no ETag: every pull is a full answer
    run("inbox", "pull")
    run("inbox", "keep", "2411.00001")
    assert run("inbox", "dismiss", "2411.00002").stdout == "dismissed 1 item\n"
    again = run("inbox", "pull")
    assert (
        "0 new in the inbox (2 already there)" in again.stdout
        or "(3 already there)" in again.stdout
    )
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00003"]
    assert run("inbox", "prune", "--older-than", "0d").stdout.startswith("removed 3 items")
    run("inbox", "pull")
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00003"]


def test_keeping_or_dismissing_again_is_no_step_and_a_redo_waits(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    """Keeping or dismissing an item twice was a step: `undo` said it undid it, changing
    nothing, and the redo waiting was gone. So was editing a watch to what it is."""
    serve_feed(
        arxiv, listing(item("2411.00001", title="LoRA one"), item("2411.00002", title="LoRA two"))
    )
    run("inbox", "pull")
    assert run("inbox", "keep", "2411.00001").exit_code == 0
    assert run("inbox", "dismiss", "2411.00002").stdout == "dismissed 1 item\n"
    run("mark-read", "cot")
    run("undo")
    kept = run("inbox", "keep", "2411.00001")
    # On stderr, as `add` says it (it was on stdout, with the papers added).
    assert (kept.exit_code, kept.stdout) == (0, "")
    assert kept.stderr.startswith("2411.00001 is already in your list as ")
    dismissed = run("inbox", "dismiss", "2411.00002")
    assert (dismissed.exit_code, dismissed.stdout) == (0, "")
    assert dismissed.stderr == "1 item dismissed already\n"
    # Dismissing a kept item left it kept, in your list, listed as dismissed; it is no step.
    dismissed = run("inbox", "dismiss", "2411.00001")
    assert (dismissed.exit_code, dismissed.stdout) == (0, "")
    assert dismissed.stderr == (
        "1 item kept already, left so (remove a paper with: papercli remove REF)\n"
    )
    decisions = {e["arxiv_id"]: e["decision"] for e in inbox_json(run, "--all")}
    assert decisions == {"2411.00001": "kept", "2411.00002": "dismissed"}
    edited = run("watch", "edit", "llm", "-k", "language models", "-k", "LoRA")
    assert edited.stdout == "the watch llm is so already\n"
    assert run("redo").stdout.startswith("redone: marked cot read")
    assert run("undo").stdout.startswith("undone: marked cot read")
    assert run("undo").stdout.startswith("undone: dismissed 2411.00002 from the inbox")
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00002"]


def test_dismissing_everything_is_one_undoable_command(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(
        arxiv, listing(item("2411.00001", title="LoRA one"), item("2411.00002", title="LoRA two"))
    )
    run("inbox", "pull")
    assert run("inbox", "dismiss", "--all").stdout == "dismissed 2 items\n"
    empty = run("inbox")
    assert empty.stdout == "" and "kept or dismissed every item" in empty.stderr
    assert len(inbox_json(run, "--all")) == 2
    run("undo")
    assert len(inbox_json(run)) == 2


def test_open_hands_the_browser_only_the_items_arxiv_page(
    run: Run, arxiv: HTTPServer, watching: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_feed(arxiv, listing(item(PEFT, title="LoRA for Marathi")))
    run("inbox", "pull")
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = run("inbox", "open", PEFT)
    assert (result.exit_code, result.stdout) == (0, f"https://arxiv.org/abs/{PEFT}\n")
    assert run("inbox", "open", PEFT, "--pdf").stdout == f"https://arxiv.org/pdf/{PEFT}v1\n"
    assert opened == [f"https://arxiv.org/abs/{PEFT}", f"https://arxiv.org/pdf/{PEFT}v1"]
    assert run("inbox", "open", "2411.99999").exit_code == 1
    monkeypatch.setattr("webbrowser.open", lambda url: False)  # no browser could be opened
    result = run("inbox", "open", PEFT)
    assert (result.exit_code, result.stdout) == (0, f"https://arxiv.org/abs/{PEFT}\n")
    assert result.stderr == "warning: no browser could be opened; the address is above\n"


# -- ranking -------------------------------------------------------------------------------


def test_items_like_what_you_read_come_first_and_say_why(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    serve_feed(
        arxiv,
        listing(
            item(
                "2411.00003",
                title="Language models for chemistry",
                abstract="Molecules and reactions.",
            ),
            item(
                "2411.00002",
                title="Quantized low-rank adapters for finetuning",
                abstract="We finetune quantized language models with low-rank adapters and LoRA.",
            ),
            item("2411.00001", title="Language models that write poems", abstract="Rhymes."),
        ),
    )
    run("inbox", "pull")
    cold = [e["arxiv_id"] for e in inbox_json(run)]
    assert cold == ["2411.00003", "2411.00002", "2411.00001"]  # nothing read: newest first
    run("mark-read", "lora", "qlora")
    ranked = inbox_json(run)
    assert ranked[0]["arxiv_id"] == "2411.00002"
    assert ranked[0]["reason"].startswith("like ")  # type: ignore[union-attr]
    assert {"LoRA", "QLoRA"} & set(re.split(r"[ ,;]+", ranked[0]["reason"]))  # type: ignore[arg-type]
    assert ranked[0]["score"] > ranked[1]["score"]  # type: ignore[operator]


def test_an_author_you_read_is_a_reason(run: Run, arxiv: HTTPServer, watching: None) -> None:
    serve_feed(
        arxiv,
        listing(
            item("2411.00002", title="LoRA for birds", creators="Ada Lovelace"),
            item("2411.00001", title="LoRA for fish", creators="Tim Dettmers, Ada Lovelace"),
        ),
    )
    run("inbox", "pull")
    run("mark-read", "qlora")
    first = inbox_json(run)[0]
    assert first["arxiv_id"] == "2411.00001"
    assert "author Dettmers" in first["reason"]  # type: ignore[operator]


def test_watch_and_limit_narrow_the_listing(run: Run, arxiv: HTTPServer, watching: None) -> None:
    run("watch", "add", "robots", "-c", "cs.RO")
    arxiv.expect_request("/rss/cs.CL+cs.LG+cs.RO").respond_with_data(
        listing(
            item("2411.00001", title="LoRA one"),
            item("2411.00002", title="Robot arms", categories=("cs.RO",)),
            item("2411.00003", title="LoRA two"),
        ),
        content_type=RSS,
    )
    assert run("inbox", "pull").exit_code == 0
    assert [e["arxiv_id"] for e in inbox_json(run, "--watch", "ROBOTS")] == ["2411.00002"]
    limited = run("inbox", "-n", "1", "--format", "ids")
    assert limited.stdout == "2411.00003\n" and "showing 1 of 3" in limited.stderr
    assert run("inbox", "--watch", "nope").exit_code == 1


# -- catching up ---------------------------------------------------------------------------


def test_missed_days_are_asked_of_the_api_within_the_bound(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    search = fixture("api-2026_search_testing_start0_max10_doi_journalref_comment.xml")
    seen: list[Request] = []

    def api(request: Request) -> Response:
        seen.append(request)
        return Response(search, content_type="application/atom+xml")

    arxiv.expect_request("/api/query").respond_with_handler(api)
    serve_feed(
        arxiv,
        listing(item("2411.00001", title="LoRA one"), day="Mon, 18 Nov 2024"),
        listing(item("2411.00002", title="LoRA two"), day="Thu, 28 Nov 2024"),
    )
    run("inbox", "pull")
    assert not seen  # a first pull has nothing to catch up on
    result = run("inbox", "pull")
    assert result.exit_code == 0, result.output
    query = seen[0].args["search_query"]
    assert "cat:cs.CL OR cat:cs.LG" in query
    assert "submittedDate:[202411220000 TO 202411282359]" in query
    assert "caught up on papers submitted 2024-11-22 to 2024-11-28" in result.stdout
    assert "the last pull was on 2024-11-18" in result.stdout
    # The recorded search answers papers of 2012 to 2025, in other categories: until 5
    # December they went into the inbox, dated as caught up.
    assert "ignored 10 papers arXiv sent from outside the days or categories asked for" in (
        result.stdout + result.stderr
    )
    assert {e["arxiv_id"] for e in inbox_json(run, "--all")} == {"2411.00001", "2411.00002"}


def test_since_must_be_a_date(run: Run, watching: None) -> None:
    """Not a date is a usage error (2), as `--older-than 3y` is (it was 1); a date arXiv
    never announced on is a value refused (1)."""
    for bad, code in (("yesterday", 2), ("2024-13-01", 2), ("1900-01-01", 1)):
        result = run("inbox", "pull", "--since", bad)
        assert result.exit_code == code and len(result.stderr.strip().splitlines()) == 1, bad
    said = run("inbox", "pull", "--since", "2024-13-01").stderr
    assert said.startswith("error: invalid value for --since: expected a date such as 2026-11-20")


def test_prune_wants_an_age(run: Run) -> None:
    result = run("inbox", "prune", "--older-than", "soon")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid value for --older-than: expected an age")
    too_old = run("inbox", "prune", "--older-than", "9999999w")  # said only "such as 30d"
    assert too_old.exit_code == 2 and "at most 99999 days or weeks" in too_old.stderr
    assert run("inbox", "prune", "--older-than", "1d").stdout == (
        "removed 0 items announced over 1 day ago\n"  # until 5 December: "1 days"
    )


def test_a_captive_portal_instead_of_the_listing_exits_3(
    run: Run, arxiv: HTTPServer, watching: None, db: sqlite3.Connection
) -> None:
    # A hotel's log-in page answers 200 for every address: arXiv's failure, not the user's.
    before = list(db.iterdump())
    portal = b"<html><head><title>Hotel WiFi</title></head><body>Log in</body></html>"
    serve_feed(arxiv, Response(portal, content_type="text/html"))
    result = run("inbox", "pull")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == (
        f"error: arXiv sent something other than an RSS feed: {portal.decode()!r}\n"
    )
    assert list(db.iterdump()) == before


# What the inbox ranks by: the papers most recently read, queued or tagged, by the
# definition (every such paper merged, then the newest taken), which reading_profile
# reaches by merging only each table's newest.
_PROFILE_DEFINITION = (
    "SELECT p.id, p.short_name, p.title || ' ' || coalesce(m.abstract, p.why, ''),"
    " coalesce((SELECT group_concat(name, char(10)) FROM paper_authors WHERE paper_id = p.id),"
    " ''), CASE WHEN s.status IN ('read', 'reading') THEN 1.0 ELSE 0.6 END"
    " FROM (SELECT paper_id FROM reading_state WHERE status IN ('read', 'reading')"
    " UNION SELECT paper_id FROM queue UNION SELECT paper_id FROM tags) c"
    " JOIN papers p ON p.id = c.paper_id"
    " LEFT JOIN reading_state s ON s.paper_id = p.id"
    " LEFT JOIN arxiv_meta m ON m.paper_id = p.id"
    " ORDER BY coalesce(s.changed_at, p.added_at, '') DESC, p.id LIMIT ?"
)
_TIMES = st.integers(0, 20).map(lambda minute: f"2026-01-01T00:{minute:02d}:00Z")  # ties too
_TOUCH = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["read", "reading", None, "unread", "skipped"]),
        "changed_at": _TIMES,
        "added_at": st.none() | _TIMES,
        "queued": st.booleans(),
        "tags": st.lists(st.sampled_from(["a", "b"]), unique=True),
    }
)


def test_the_reading_profile_is_the_newest_of_all_read_queued_and_tagged_papers(
    db_path: Path,
) -> None:
    conn = connection.open_database(db_path, paths.seed_path())
    ids = [row[0] for row in conn.execute("SELECT id FROM papers ORDER BY id")]

    @settings(max_examples=300, deadline=None)
    @given(
        st.dictionaries(st.sampled_from(ids), _TOUCH, min_size=2, max_size=40),
        st.sampled_from([1, 2, 5, 300]),
    )
    def check(touched: dict[str, dict[str, Any]], limit: int) -> None:
        conn.execute("SAVEPOINT example")
        try:
            conn.execute("DELETE FROM reading_state")
            for place, (paper_id, how) in enumerate(touched.items()):
                conn.execute(
                    "UPDATE papers SET added_at = ? WHERE id = ?", (how["added_at"], paper_id)
                )
                if how["status"]:
                    conn.execute(
                        "INSERT INTO reading_state (paper_id, status, changed_at) VALUES (?, ?, ?)",
                        (paper_id, how["status"], how["changed_at"]),
                    )
                if how["queued"]:
                    conn.execute(
                        "INSERT INTO queue (paper_id, position, added_at) VALUES (?, ?, ?)",
                        (paper_id, place + 1, how["changed_at"]),
                    )
                for tag in how["tags"]:
                    conn.execute("INSERT INTO tags VALUES (?, ?)", (paper_id, tag))
            expected = [
                (str(a), str(b), str(c), str(d), float(e))
                for a, b, c, d, e in conn.execute(_PROFILE_DEFINITION, (limit,))
            ]
            assert inbox.reading_profile(conn, limit) == expected
        finally:
            conn.execute("ROLLBACK TO example")
            conn.execute("RELEASE example")

    try:
        check()
    finally:
        conn.close()


# -- listings that cannot be right -----------------------------------------------------------


@pytest.mark.parametrize("day", ["Fri, 01 Jan 2099", "garbage", "Fri, 30 Feb 2024"])
def test_a_listing_without_a_plausible_date_stores_nothing_and_keeps_no_etag(
    run: Run, arxiv: HTTPServer, watching: None, day: str
) -> None:
    """A channel dated 2099 stored its items under a date they were never pruned by; one
    with no readable date said "arXiv's listing of None", and its ETag made the next pull
    a 304: the day was lost."""
    feed = serve_feed(
        arxiv,
        listing(item("2411.00001", title="LoRA one"), day=day),
        listing(item("2411.00001", title="LoRA one")),
    )
    result = run("inbox", "pull")
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr.startswith("error: arXiv sent a listing without a plausible date")
    assert inbox_json(run, "--all") == []
    again = run("inbox", "pull")
    assert again.exit_code == 0, again.output
    assert "If-None-Match" not in feed.requests[-1].headers
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00001"]


def test_a_listing_older_than_the_last_one_pulled_is_refused_and_rewinds_nothing(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    """A cache's stale copy of Thursday's listing after Friday's was stored: the pull's date
    went back to Thursday, and Monday's pull caught up on Friday again."""
    feed = serve_feed(
        arxiv,
        listing(
            item("2411.00002", title="LoRA two", day="Fri, 29 Nov 2024"), day="Fri, 29 Nov 2024"
        ),
        listing(item("2411.00001", title="LoRA one")),
        listing(
            item("2411.00003", title="LoRA three", day="Mon, 02 Dec 2024"), day="Mon, 02 Dec 2024"
        ),
    )
    assert run("inbox", "pull").exit_code == 0
    stale = run("inbox", "pull")
    assert (stale.exit_code, stale.stdout) == (3, "")
    assert stale.stderr == (
        "error: arXiv sent the listing of 2024-11-28, older than the one already pulled"
        " (2024-11-29); a cache on the way may have kept an old copy: nothing was stored,"
        " try again later\n"
    )
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00002"]
    monday = run("inbox", "pull")
    assert monday.exit_code == 0, monday.output
    assert "caught up" not in monday.stdout  # Friday's pull stands: Monday follows it
    assert feed.requests[-1].headers.get("If-None-Match") == '"day-1"'
    assert sorted(e["arxiv_id"] for e in inbox_json(run)) == ["2411.00002", "2411.00003"]


def test_a_304_to_a_request_that_asked_for_the_whole_listing_is_an_error(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    """It said "nothing new: the listing has not changed since the last pull", with no
    last pull, and stored a pull of no date."""
    feed = serve_feed(arxiv, Response(status=304), listing(item("2411.00002", title="LoRA two")))
    result = run("inbox", "pull")
    assert (result.exit_code, result.stdout) == (3, "")
    assert "answered 304 Not Modified" in result.stderr and "whole listing" in result.stderr
    again = run("inbox", "pull")  # no pull was stored: no catching up from one, no ETag
    assert again.exit_code == 0, again.output
    assert "caught up" not in again.stdout and "If-None-Match" not in feed.requests[-1].headers
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00002"]


def test_a_listing_cut_off_in_transit_is_asked_for_again(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    """The API's answers were asked for again when cut short; the listing's ended the pull."""
    whole = listing(item("2411.00001", title="LoRA one"))
    cut = Response(whole[: len(whole) * 2 // 3], content_type=RSS)
    feed = serve_feed(arxiv, cut, whole)
    result = run("inbox", "pull")
    assert result.exit_code == 0, result.output
    assert len(feed.requests) == 2
    assert [e["arxiv_id"] for e in inbox_json(run)] == ["2411.00001"]


def test_a_dismissal_names_only_the_items_it_dismissed(
    run: Run, arxiv: HTTPServer, watching: None
) -> None:
    """`history --all` and `undo` named a kept item among those dismissed."""
    serve_feed(
        arxiv, listing(item("2411.00001", title="LoRA one"), item("2411.00002", title="LoRA two"))
    )
    run("inbox", "pull")
    assert run("inbox", "keep", "2411.00001").exit_code == 0
    assert run("inbox", "dismiss", "2411.00001", "2411.00002").stdout == "dismissed 1 item\n"
    assert run("undo").stdout == "undone: dismissed 2411.00002 from the inbox\n"
