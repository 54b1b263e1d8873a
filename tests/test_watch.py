"""Watches: saved interests for the arXiv inbox, checked when saved and undoable."""

from __future__ import annotations

import pytest


def test_a_watch_is_saved_listed_changed_and_removed(run, run_json) -> None:
    added = run(
        "watch",
        "add",
        "peft",
        "-c",
        "CS.cl",
        "-c",
        "cs.LG",
        "-k",
        "low-rank",
        "-a",
        "Dettmers",
        "-x",
        "robotics",
    )
    assert added.exit_code == 0, added.output
    assert added.stdout == "watching cs.CL, cs.LG as peft\n"
    [watch] = run_json("watch", "list", "--format", "json")
    assert {k: watch[k] for k in ("name", "categories", "keywords", "authors", "excludes")} == {
        "name": "peft",
        "categories": ["cs.CL", "cs.LG"],
        "keywords": ["low-rank"],
        "authors": ["Dettmers"],
        "excludes": ["robotics"],
    }
    assert run("watch", "edit", "PEFT", "-k", "adapter", "-k", "low rank").exit_code == 0
    [watch] = run_json("watch", "list", "--format", "json")
    assert (watch["keywords"], watch["categories"]) == (["adapter", "low rank"], ["cs.CL", "cs.LG"])
    assert run("watch", "remove", "peft").stdout == "removed the watch peft\n"
    assert run_json("watch", "list", "--format", "json") == []


def test_every_watch_change_is_undoable(run, run_json) -> None:
    run("watch", "add", "rl", "-c", "cs.LG")
    run("watch", "edit", "rl", "-k", "reward")
    run("watch", "remove", "rl")
    assert run("undo").stdout == "undone: removed the watch rl\n"
    assert run_json("watch", "list", "--format", "json")[0]["keywords"] == ["reward"]
    assert run("undo").stdout == "undone: edited the watch rl\n"
    assert run_json("watch", "list", "--format", "json")[0]["keywords"] == []
    assert run("undo").stdout == "undone: added the watch rl\n"
    assert run_json("watch", "list", "--format", "json") == []
    assert run("redo").stdout == "redone: added the watch rl\n"
    assert [w["name"] for w in run_json("watch", "list", "--format", "json")] == ["rl"]


def test_a_mistyped_category_is_refused_with_a_suggestion(run, run_json) -> None:
    result = run("watch", "add", "x", "-c", "cs.CLL")
    assert result.exit_code in (1, 2)
    assert "cs.CL" in result.stderr and "did you mean" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert run_json("watch", "list", "--format", "json") == []


def test_watch_names_and_categories_are_required_and_unique(run) -> None:
    assert run("watch", "add", "x").exit_code == 2
    assert run("watch", "add", "x", "-c", "cs.CL").exit_code == 0
    taken = run("watch", "add", "X", "-c", "cs.LG")
    assert taken.exit_code == 1
    assert "a watch named 'X' exists" in taken.stderr
    missing = run("watch", "remove", "nope")
    assert missing.exit_code == 1
    assert "no watch named 'nope' (watches: x)" in missing.stderr


@pytest.mark.parametrize(
    "option",
    [["-k", '"'], ["-k", "🙂"], ["-k", "lora", "-k", "."], ["-x", "*"], ["-a", "."], ["-a", "…"]],
)
def test_a_keyword_exclusion_or_author_without_a_word_is_refused(run, run_json, option) -> None:
    """It was saved, and never matched (a watch of such keywords matched nothing, ever),
    never ruled anything out, or named an author as no announcement can."""
    result = run("watch", "add", "x", "-c", "cs.CL", *option)
    assert result.exit_code == 2
    assert f"{option[-1]!r} has no word to match" in result.stderr
    assert run_json("watch", "list", "--format", "json") == []
    run("watch", "add", "x", "-c", "cs.CL")
    assert run("watch", "edit", "x", *option).exit_code == 2
    assert run_json("watch", "list", "--format", "json")[0]["keywords"] == []


def test_an_author_written_in_chinese_is_a_name_to_watch(run, run_json) -> None:
    """Names were compared in Latin letters alone, so `-a 李` was refused as no name."""
    assert run("watch", "add", "x", "-c", "cs.CL", "-a", "李").exit_code == 0
    assert run_json("watch", "list", "--format", "json")[0]["authors"] == ["李"]
