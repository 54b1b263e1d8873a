"""`papercli sync DIR --git`: two clones of one bare repository are two devices.

The user's git does the work, so these tests run the real git, with an identity and
empty config files of their own (the user's ~/.gitconfig and /etc/gitconfig are never
read), and skip where git is not installed.
"""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

Run = Callable[..., Result]


def git(*args: str | Path) -> str:
    done = subprocess.run(
        ["git", *map(str, args)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"git {' '.join(map(str, args))}: {done.stderr}"
    return done.stdout


@dataclass
class Devices:
    """A bare repository (the remote) and two clones of it, each with its own database."""

    bare: Path
    a: Path
    b: Path
    a_db: Path
    b_db: Path


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An identity and empty git config, and no repository above tmp_path that git
    could find (nor a GIT_DIR or index inherited from a git hook running pytest)."""
    for name in git("rev-parse", "--local-env-vars").split():
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Sync Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "sync@example.org")
    return tmp_path


@pytest.fixture
def devices(git_home: Path) -> Devices:
    """Clones A and B of one bare repository, on a branch that tracks origin/main."""
    tmp = git_home.resolve()
    bare, a, b = tmp / "remote.git", tmp / "a", tmp / "b"
    git("init", "--quiet", "--bare", "-b", "main", bare)
    git("init", "--quiet", "-b", "main", a)
    git("-C", a, "commit", "--quiet", "--allow-empty", "-m", "start")
    git("-C", a, "remote", "add", "origin", bare)
    git("-C", a, "push", "--quiet", "-u", "origin", "main")
    git("clone", "--quiet", bare, b)
    return Devices(bare, a, b, tmp / "a.db", tmp / "b.db")


def sync(run: Run, db: Path, folder: Path, *more: str) -> Result:
    result = run("--db", str(db), "sync", str(folder), "--git", *more)
    assert result.exit_code == 0, result.output
    return result


def show(run_json: Callable[..., Any], db: Path, ref: str) -> dict[str, Any]:
    found = run_json("--db", str(db), "show", ref, "--format", "json")
    assert isinstance(found, dict)
    return found


def device_of(run_json: Callable[..., Any], db: Path) -> str:
    return str(run_json("--db", str(db), "sync", "status", "--format", "json")["device"])


def subjects(repository: Path, *more: str) -> list[str]:
    return git("-C", repository, "log", "--format=%s", *more, "main").splitlines()


def database_files(db: Path) -> dict[str, bytes]:
    """The database and its journal files, byte for byte."""
    return {p.name: p.read_bytes() for p in sorted(db.parent.glob(db.name + "*"))}


def comparable(export: str) -> dict[str, Any]:
    """An export without its date, each paper's history in time order: two devices list
    the status changes made in one second in the order they learnt of them."""
    data: dict[str, Any] = json.loads(export)
    del data["exported_on"]
    for paper in data["papers"]:
        paper["history"].sort(key=lambda h: (h["changed_at"], h["old_status"], h["new_status"]))
    return data


def test_a_status_and_a_note_travel_through_the_remote(
    run: Run, run_json: Callable[..., Any], devices: Devices
) -> None:
    d = devices
    assert run("--db", str(d.a_db), "mark-read", "lora").exit_code == 0
    first = sync(run, d.a_db, d.a, "--name", "laptop")
    assert first.stdout == (
        "first sync of laptop: 2 changes made here before\n"
        f"synced laptop with 0 other devices through {d.a}: wrote 3 events, read 0, applied 0\n"
    )
    assert first.stderr == ""
    joined = sync(run, d.b_db, d.b, "--name", "desk")
    assert joined.stdout == (
        f"synced desk with 1 other device through {d.b}: wrote 1 event, read 3, applied 3\n"
    )
    assert show(run_json, d.b_db, "lora")["status"] == "read"

    assert run("--db", str(d.b_db), "note", "lora", "rank 8 is enough").exit_code == 0
    sync(run, d.b_db, d.b)
    back = sync(run, d.a_db, d.a)
    assert back.stdout.endswith("read 2, applied 2\n")  # B's name and its note
    assert [n["body"] for n in show(run_json, d.a_db, "lora")["notes"]] == ["rank 8 is enough"]

    # The remote holds both devices' files, as each device wrote them, and both clones
    # have nothing left to commit.
    a_id, b_id = device_of(run_json, d.a_db), device_of(run_json, d.b_db)
    files = {f"papercli/{a_id}.jsonl": d.a, f"papercli/{b_id}.jsonl": d.b}
    assert git("-C", d.bare, "ls-tree", "-r", "--name-only", "main").split() == sorted(files)
    for name, clone in files.items():
        assert git("-C", d.bare, "show", f"main:{name}") == (clone / name).read_text()
        assert git("-C", clone, "status", "--porcelain") == ""
    assert subjects(d.bare) == [
        "papercli sync from desk",
        "papercli sync from desk",
        "papercli sync from laptop",
        "start",
    ]


def make_offline_changes(run: Run, d: Devices) -> None:
    """Both devices synced once, then each changed things without syncing; dpo was
    marked on both, later on B."""
    sync(run, d.a_db, d.a, "--name", "laptop")
    sync(run, d.b_db, d.b, "--name", "desk")
    for args in (
        ("tag", "lora", "+peft"),
        ("mark-read", "dpo"),
        ("queue", "add", "rag"),
    ):
        assert run("--db", str(d.a_db), *args).exit_code == 0
    for args in (
        ("mark-reading", "qlora"),
        ("queue", "add", "t5"),
        ("note", "qlora", "4-bit base, LoRA on top"),
        ("mark-skipped", "dpo"),
    ):
        assert run("--db", str(d.b_db), *args).exit_code == 0


def push_race(d: Devices) -> Path:
    """Make B's next push lose a race: its pre-push hook first has A sync (a push of its
    own) between B's pull and B's push, once. Returns the file where each of B's push
    attempts leaves a line."""
    attempts, raced = d.b.parent / "b-pushes", d.b.parent / "raced"
    a_sync = [sys.executable, "-m", "papercli", "--db", str(d.a_db), "sync", str(d.a), "--git"]
    hook = d.b / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        f"echo attempt >> {shlex.quote(str(attempts))}\n"
        f"[ -e {shlex.quote(str(raced))} ] && exit 0\n"
        f": > {shlex.quote(str(raced))}\n"
        "unset $(git rev-parse --local-env-vars)\n"
        f"{shlex.join(a_sync)} > {shlex.quote(str(d.b.parent / 'a-sync.log'))} 2>&1\n"
    )
    hook.chmod(0o755)
    return attempts


def test_a_push_that_loses_the_race_is_pulled_applied_and_pushed_again(
    run: Run, run_json: Callable[..., Any], devices: Devices
) -> None:
    d = devices
    make_offline_changes(run, d)
    attempts = push_race(d)

    raced = sync(run, d.b_db, d.b)
    assert raced.stderr == ""
    assert attempts.read_text().splitlines() == ["attempt", "attempt"]
    # B's commit went on top of the one A pushed in between, and B already applied A's
    # changes on the second pull.
    assert subjects(d.bare, "-2") == ["papercli sync from desk", "papercli sync from laptop"]
    assert show(run_json, d.b_db, "lora")["tags"] == ["peft"]
    assert show(run_json, d.b_db, "rag")["queue_position"] is not None
    assert git("-C", d.b, "status", "--porcelain") == ""

    sync(run, d.a_db, d.a)
    sync(run, d.b_db, d.b)
    exports = [
        comparable(run("--db", str(db), "export", "--format", "json").stdout)
        for db in (d.a_db, d.b_db)
    ]
    assert exports[0] == exports[1]
    queues = [run("--db", str(db), "queue", "--format", "ids").stdout for db in (d.a_db, d.b_db)]
    assert queues[0] == queues[1] and sorted(queues[0].split()) == ["rag", "t5"]
    for db in (d.a_db, d.b_db):
        qlora, dpo = show(run_json, db, "qlora"), show(run_json, db, "dpo")
        assert qlora["status"] == "reading"
        assert [n["body"] for n in qlora["notes"]] == ["4-bit base, LoRA on top"]
        assert dpo["status"] == "skipped"  # marked on both: the later change wins
        history = run_json("--db", str(db), "history", "dpo", "--format", "json")
        assert sorted(h["to"] for h in history) == ["read", "skipped"]


def test_a_lost_push_race_counts_each_other_device_once(run: Run, devices: Devices) -> None:
    make_offline_changes(run, devices)
    push_race(devices)
    raced = sync(run, devices.b_db, devices.b, "--format", "json")
    assert json.loads(raced.stdout)["devices"] == 1


def test_a_folder_outside_any_work_tree_is_refused_and_nothing_is_written(
    run: Run, run_json: Callable[..., Any], git_home: Path
) -> None:
    folder, db = git_home / "plain", git_home / "solo.db"
    folder.mkdir()
    assert run("--db", str(db), "mark-read", "lora").exit_code == 0
    before = database_files(db)

    refused = run("--db", str(db), "sync", str(folder), "--git")
    assert refused.exit_code != 0
    assert refused.stdout == ""
    assert refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert list(folder.iterdir()) == []
    assert database_files(db) == before
    assert run_json("--db", str(db), "sync", "status", "--format", "json")["device"] is None


def test_a_folder_outside_any_work_tree_is_a_user_error_naming_it(run: Run, git_home: Path) -> None:
    folder = (git_home / "plain").resolve()
    folder.mkdir()
    refused = run("sync", str(folder), "--git")
    assert (refused.exit_code, refused.stderr) == (
        1,
        f"error: {folder} is not in a git work tree; --git needs one\n",
    )


def test_a_repository_without_upstream_gets_local_commits(
    run: Run, run_json: Callable[..., Any], git_home: Path
) -> None:
    folder, db = git_home.resolve() / "notes", git_home / "solo.db"
    git("init", "--quiet", "-b", "main", folder)  # no commit, no remote
    assert run("--db", str(db), "mark-read", "lora").exit_code == 0

    first = sync(run, db, folder, "--name", "solo")
    assert first.stdout.endswith(f"through {folder}: wrote 3 events, read 0, applied 0\n")
    own = f"papercli/{device_of(run_json, db)}.jsonl"
    assert git("-C", folder, "ls-files").split() == [own]
    assert git("-C", folder, "status", "--porcelain") == ""
    assert subjects(folder) == ["papercli sync from solo"]

    assert run("--db", str(db), "note", "lora", "second thoughts").exit_code == 0
    sync(run, db, folder)
    sync(run, db, folder)  # nothing new: no empty commit
    assert subjects(folder) == ["papercli sync from solo"] * 2
    assert git("-C", folder, "show", f"main:{own}") == (folder / own).read_text()


def test_a_sync_run_from_a_git_hook_commits_to_the_sync_folder(
    run: Run, git_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git sets GIT_DIR and GIT_INDEX_FILE for its hooks: `sync --git` run from one (a
    notes repository's post-commit hook, say) committed to that repository instead."""
    tmp = git_home.resolve()
    hooked, folder, db = tmp / "hooked", tmp / "notes", tmp / "solo.db"
    git("init", "--quiet", "-b", "main", hooked)
    git("-C", hooked, "commit", "--quiet", "--allow-empty", "-m", "the hook's own")
    git("init", "--quiet", "-b", "main", folder)
    monkeypatch.setenv("GIT_DIR", str(hooked / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(hooked / ".git" / "index"))
    sync(run, db, folder, "--name", "solo")
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert subjects(folder) == ["papercli sync from solo"]
    assert subjects(hooked) == ["the hook's own"]


def test_clones_of_an_empty_repository_push_and_pull(
    run: Run, run_json: Callable[..., Any], git_home: Path
) -> None:
    """The usual start: a new, empty repository on a server, cloned on each machine. Each
    clone's branch is set to track a remote branch that is not there yet; until 3
    December such a sync never pushed, and said nothing."""
    tmp = git_home.resolve()
    bare, a, b = tmp / "remote.git", tmp / "a", tmp / "b"
    git("init", "--quiet", "--bare", "-b", "main", bare)
    git("-c", "init.defaultBranch=main", "clone", "--quiet", bare, a)
    git("-c", "init.defaultBranch=main", "clone", "--quiet", bare, b)
    assert run("--db", str(tmp / "a.db"), "mark-read", "lora").exit_code == 0
    assert run("--db", str(tmp / "b.db"), "mark-read", "bert").exit_code == 0

    sync(run, tmp / "a.db", a, "--name", "A")
    assert subjects(bare) == ["papercli sync from A"]
    assert sync(run, tmp / "b.db", b, "--name", "B").stdout.endswith("read 3, applied 3\n")
    assert sync(run, tmp / "a.db", a).stdout.endswith("read 3, applied 3\n")
    assert subjects(bare) == ["papercli sync from B", "papercli sync from A"]
    for db in (tmp / "a.db", tmp / "b.db"):
        assert [show(run_json, db, p)["status"] for p in ("lora", "bert")] == ["read", "read"]


def test_a_remote_the_branch_does_not_track_is_named_with_the_fix(
    run: Run, run_json: Callable[..., Any], devices: Devices, git_home: Path
) -> None:
    folder, db = git_home.resolve() / "new", git_home / "new.db"
    git("init", "--quiet", "-b", "main", folder)
    git("-C", folder, "remote", "add", "origin", devices.bare)
    assert run("--db", str(db), "mark-read", "lora").exit_code == 0

    refused = run("--db", str(db), "sync", str(folder), "--git", "--name", "new")
    assert (refused.exit_code, refused.stderr) == (
        3,
        f"error: git could not push: the branch main in {folder} tracks no remote branch,"
        " so nothing would reach your other machines; set one (`git push -u origin main`),"
        " then sync again\n",
    )
    assert subjects(folder) == ["papercli sync from new"]  # committed, waiting to go
    git("-C", folder, "pull", "--quiet", "--rebase", "origin", "main")
    git("-C", folder, "push", "--quiet", "-u", "origin", "main")
    sync(run, db, folder)
    assert sync(run, devices.b_db, devices.b).stdout.endswith("applied 3\n")
    assert show(run_json, devices.b_db, "lora")["status"] == "read"


def test_a_notes_repository_with_work_in_progress_syncs_and_keeps_it(
    run: Run, run_json: Callable[..., Any], devices: Devices
) -> None:
    """A repository of notes is rarely clean: a rebase refused to pull ("You have unstaged
    changes"), so every sync failed until the user committed their own work."""
    d = devices
    (d.a / "notes.md").write_text("my notes\n")
    git("-C", d.a, "add", "notes.md")
    git("-C", d.a, "commit", "--quiet", "-m", "notes")
    (d.a / "notes.md").write_text("my notes\nhalf a thought\n")  # not committed
    (d.a / "draft.md").write_text("not even added\n")
    assert run("--db", str(d.b_db), "mark-read", "lora").exit_code == 0
    sync(run, d.b_db, d.b)

    assert sync(run, d.a_db, d.a).stdout.endswith("applied 3\n")
    assert show(run_json, d.a_db, "lora")["status"] == "read"
    assert (d.a / "notes.md").read_text() == "my notes\nhalf a thought\n"
    assert (d.a / "draft.md").read_text() == "not even added\n"
    assert git("-C", d.a, "status", "--porcelain").splitlines() == [" M notes.md", "?? draft.md"]
    assert git("-C", d.a, "stash", "list") == ""


def test_an_unreachable_remote_fails_with_exit_3_and_keeps_the_events(
    run: Run, run_json: Callable[..., Any], devices: Devices
) -> None:
    d = devices
    sync(run, d.a_db, d.a)
    sync(run, d.b_db, d.b)
    gone = d.bare.with_name("moved.git")
    d.bare.rename(gone)
    assert run("--db", str(d.a_db), "mark-read", "bert").exit_code == 0

    failed = run("--db", str(d.a_db), "sync", str(d.a), "--git")
    assert failed.exit_code == 3
    assert failed.stdout == ""
    assert failed.stderr.startswith("error: git could not ")
    assert failed.stderr.count("\n") == 1
    # The change is in the database, in A's file and in a local commit, waiting to go.
    assert show(run_json, d.a_db, "bert")["status"] == "read"
    assert run_json("--db", str(d.a_db), "sync", "status", "--format", "json")["unwritten"] == 0
    assert git("-C", d.a, "rev-list", "--count", "origin/main..main").strip() == "1"

    gone.rename(d.bare)
    sync(run, d.a_db, d.a)
    assert git("-C", d.a, "rev-list", "--count", "origin/main..main").strip() == "0"
    assert sync(run, d.b_db, d.b).stdout.endswith("applied 2\n")  # the status and its history
    assert show(run_json, d.b_db, "bert")["status"] == "read"


def test_an_unreachable_remote_is_named_in_the_error(run: Run, devices: Devices) -> None:
    sync(run, devices.a_db, devices.a)
    devices.bare.rename(devices.bare.with_name("moved.git"))
    failed = run("--db", str(devices.a_db), "sync", str(devices.a), "--git")
    assert "does not appear to be a git repository" in failed.stderr


def _notes_on_both(d: Devices) -> None:
    """A notes.md committed on A, pushed, and pulled by B."""
    (d.a / "notes.md").write_text("line one\n")
    git("-C", d.a, "add", "notes.md")
    git("-C", d.a, "commit", "--quiet", "-m", "notes")
    git("-C", d.a, "push", "--quiet")
    git("-C", d.b, "pull", "--quiet")


def _commit_on_a_and_push(d: Devices, text: str) -> None:
    (d.a / "notes.md").write_text(text)
    git("-C", d.a, "commit", "--quiet", "-am", "A's edit")
    git("-C", d.a, "push", "--quiet")


def test_work_in_progress_git_cannot_put_back_is_named(
    run: Run, run_json: Callable[..., Any], devices: Devices
) -> None:
    """git's autostash conflicted with what was pulled, and the sync said it went well:
    git's own warning was swallowed, and notes.md was left full of conflict markers."""
    d = devices
    _notes_on_both(d)
    _commit_on_a_and_push(d, "line one, as A wrote it\n")
    (d.b / "notes.md").write_text("line one, as B is writing it\n")  # not committed
    assert run("--db", str(d.b_db), "mark-read", "lora").exit_code == 0
    synced = sync(run, d.b_db, d.b, "--format", "json")
    assert json.loads(synced.stdout)["unmerged"] == ["notes.md"]
    assert synced.stderr == (
        "warning: git could not put back your work in progress on notes.md after its pull:"
        " it conflicts with what was pulled; resolve the conflict (git status), and drop"
        " git's copy of it (git stash drop) once it is back\n"
    )
    assert "autostash" in git("-C", d.b, "stash", "list")  # B's text is kept by git
    sync(run, d.a_db, d.a)
    assert show(run_json, d.a_db, "lora")["status"] == "read"  # the sync itself went through


def test_a_rebase_stopped_halfway_is_named_and_nothing_is_committed_into_it(
    run: Run, devices: Devices
) -> None:
    """A sync during a rebase stopped on the user's conflict committed this device's file
    onto the rebase's HEAD and said "HEAD is not on a branch"; the rebase's own commits
    then conflicted with papercli's file."""
    d = devices
    _notes_on_both(d)
    (d.b / "notes.md").write_text("B's line\n")
    git("-C", d.b, "commit", "--quiet", "-am", "B's edit")
    _commit_on_a_and_push(d, "A's line\n")
    assert run("--db", str(d.b_db), "mark-read", "lora").exit_code == 0
    stopped = run("--db", str(d.b_db), "sync", str(d.b), "--git")
    assert stopped.exit_code == 3  # git's pull stopped on notes.md
    head = git("-C", d.b, "rev-parse", "HEAD")
    assert run("--db", str(d.b_db), "mark-read", "qlora").exit_code == 0
    refused = run("--db", str(d.b_db), "sync", str(d.b), "--git")
    assert (refused.exit_code, refused.stdout) == (3, "")
    assert refused.stderr == (
        f"error: git is in the middle of a rebase in {d.b}: finish it (git rebase --continue)"
        " or abort it (git rebase --abort), then sync again\n"
    )
    assert git("-C", d.b, "rev-parse", "HEAD") == head
    git("-C", d.b, "rebase", "--abort")
    git("-C", d.b, "reset", "--quiet", "--hard", "origin/main")  # B gives its edit up
    assert sync(run, d.b_db, d.b).exit_code == 0


def test_a_gitignore_covering_the_sync_files_keeps_no_machine_out(
    run: Run, run_json: Callable[..., Any], devices: Devices
) -> None:
    """`git add` refused the device's file ("The following paths are ignored"), before
    the pull that could have brought a fix: the machine could never sync."""
    d = devices
    sync(run, d.a_db, d.a)
    (d.a / ".gitignore").write_text("papercli/*.jsonl\n")
    git("-C", d.a, "add", ".gitignore")
    git("-C", d.a, "commit", "--quiet", "-m", "ignore")
    git("-C", d.a, "push", "--quiet")
    git("-C", d.b, "pull", "--quiet")
    assert run("--db", str(d.b_db), "mark-read", "lora").exit_code == 0
    sync(run, d.b_db, d.b)
    sync(run, d.a_db, d.a)
    assert show(run_json, d.a_db, "lora")["status"] == "read"


def test_a_sync_stopped_while_git_commits_leaves_no_lock_behind(run: Run, devices: Devices) -> None:
    """Stopped by a kill while git ran, papercli killed git outright (as
    ``subprocess.run`` does), and git's .git/index.lock stayed: every later sync, and the
    user's own commits, failed until it was deleted by hand."""
    d = devices
    started = d.a.parent / "hook-started"
    hook = d.a / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\n: > {shlex.quote(str(started))}\nexec sleep 60\n")
    hook.chmod(0o755)
    assert run("--db", str(d.a_db), "mark-read", "lora").exit_code == 0
    command = [sys.executable, "-m", "papercli", "--db", str(d.a_db), "sync", str(d.a), "--git"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as papercli:
        for _ in range(600):  # until git runs the hook (at most a minute)
            if started.exists() or papercli.poll() is not None:
                break
            time.sleep(0.1)
        assert started.exists()
        papercli.send_signal(signal.SIGTERM)
        _, said = papercli.communicate(timeout=60)
    assert papercli.returncode == 143, said
    assert list((d.a / ".git").glob("*.lock")) == []
    hook.unlink()
    sync(run, d.a_db, d.a)
    assert git("-C", d.a, "status", "--porcelain") == ""


def test_a_detached_head_is_refused_before_anything_is_committed(run: Run, git_home: Path) -> None:
    """In a repository without a remote, mid-`git bisect` (HEAD on no branch), a sync
    committed onto the detached HEAD without a word: the bisect's reset orphaned it."""
    repo, db = git_home / "solo", git_home / "solo.db"
    git("init", "--quiet", "-b", "main", repo)
    for n in range(3):
        git("-C", repo, "commit", "--quiet", "--allow-empty", "-m", f"c{n}")
    git("-C", repo, "checkout", "--quiet", "--detach", "HEAD~1")
    head = git("-C", repo, "rev-parse", "HEAD")
    assert run("--db", str(db), "mark-read", "lora").exit_code == 0
    refused = run("--db", str(db), "sync", str(repo), "--git")
    assert (refused.exit_code, refused.stdout) == (3, "")
    assert refused.stderr == (
        f"error: git could not commit in {repo}: HEAD is not on a branch (a bisect, a commit"
        " checked out); check out a branch, then sync again\n"
    )
    assert git("-C", repo, "rev-parse", "HEAD") == head
    git("-C", repo, "checkout", "--quiet", "main")
    assert run("--db", str(db), "sync", str(repo), "--git").exit_code == 0


def test_git_am_stopped_halfway_is_named_as_am(run: Run, devices: Devices) -> None:
    """`git am` keeps its state where a rebase does (rebase-apply): the error said to run
    `git rebase --abort`, which git refuses during an am."""
    d = devices
    _notes_on_both(d)
    (d.a / "notes.md").write_text("from the patch\n")
    git("-C", d.a, "commit", "--quiet", "-am", "patched")
    patch = git("-C", d.a, "format-patch", "-1", "--stdout")
    git("-C", d.a, "reset", "--quiet", "--hard", "HEAD~1")
    (d.a / "notes.md").write_text("something else\n")
    git("-C", d.a, "commit", "--quiet", "-am", "other")
    (d.a.parent / "p.patch").write_text(patch)
    failed = subprocess.run(
        ["git", "-C", str(d.a), "am", "--quiet", str(d.a.parent / "p.patch")],
        capture_output=True,
        check=False,
    )
    assert failed.returncode != 0  # stopped on the conflict
    refused = run("--db", str(d.a_db), "sync", str(d.a), "--git")
    assert refused.exit_code == 3
    assert refused.stderr == (
        f"error: git is in the middle of git am in {d.a}: finish it (git am --continue) or"
        " abort it (git am --abort), then sync again\n"
    )
