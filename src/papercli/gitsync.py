"""Sync through a git repository with the user's own git: commit this device's file,
pull with rebase (putting the user's work in progress aside and back), apply, push.
papercli never sees credentials: git asks for them as it always does (or, without a
terminal, fails instead of waiting for an answer).

Each device appends only to its own file, so a rebase never conflicts; a push that
loses a race (another device pushed in between) is pulled and pushed once more.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from functools import cache
from pathlib import Path

from papercli import sync
from papercli.errors import EXIT_NETWORK, InvalidValueError, PapercliError
from papercli.textlayout import clipped

TIMEOUT = 300.0  # seconds for one git command: a slow network, not a hung prompt


class GitError(PapercliError):
    """git failed: exit 3, as a network failure (what a pull or push usually is)."""

    exit_code = EXIT_NETWORK


def sync_with_git(
    conn: sqlite3.Connection, folder: Path, *, name: str | None = None
) -> sync.SyncSummary:
    """Commit this device's new events, pull (rebase), apply everyone's, push."""
    if shutil.which("git") is None:
        raise InvalidValueError("--git needs git, and it is not on PATH")
    if _git_answer(folder, "rev-parse", "--is-inside-work-tree") != "true":
        raise InvalidValueError(f"{folder} is not in a git work tree; --git needs one")
    _refuse_an_operation_under_way(folder)
    summary = sync.write(conn, folder, name=name)
    own = sync.own_file(folder, summary.device)
    # --force: a .gitignore that covers the folder's files kept a new machine out for good
    _git(folder, "add", "--force", "--", str(own), what="add this device's file")
    staged = _run(folder, ["diff", "--cached", "--quiet", "--", str(own)], _environment())
    if staged.returncode == 1:
        _git(
            folder,
            "commit",
            "--quiet",
            "-m",
            f"papercli sync from {summary.name}",
            "--",
            str(own),
            what="commit this device's file",
        )
    plan = _remote_plan(folder)
    if plan == PULL:
        _pull(folder, summary)
    sync.read(conn, folder, summary)
    if plan is not None:
        try:
            _git(folder, "push", "--quiet", what="push")
        except GitError:
            # Another device pushed first: take its commits, apply them, push again.
            _pull(folder, summary)
            sync.read(conn, folder, summary)
            _git(folder, "push", "--quiet", what="push")
    return summary


def _pull(folder: Path, summary: sync.SyncSummary) -> None:
    """Pull with rebase, the user's work in progress put aside and back; the files git
    could not put back (it conflicts with what came) go in ``summary.unmerged``: git said
    so only in a warning, and the sync said it went well."""
    _git(folder, "pull", "--rebase", "--autostash", "--quiet", what="pull")
    unmerged = _git_answer(folder, "diff", "--name-only", "--diff-filter=U")
    summary.unmerged = sorted(set(summary.unmerged) | set((unmerged or "").split("\n")) - {""})


_UNDER_WAY = {
    "rebase-merge": ("a rebase", "git rebase --continue", "git rebase --abort"),
    "rebase-apply": ("a rebase", "git rebase --continue", "git rebase --abort"),
    "MERGE_HEAD": ("a merge", "git commit", "git merge --abort"),
    "CHERRY_PICK_HEAD": ("a cherry-pick", "git cherry-pick --continue", "git cherry-pick --abort"),
    "REVERT_HEAD": ("a revert", "git revert --continue", "git revert --abort"),
}


def _refuse_an_operation_under_way(folder: Path) -> None:
    """GitError when a rebase, ``git am``, merge, cherry-pick or revert stopped halfway in
    the repository, or HEAD is on no branch (a bisect, a commit checked out): a sync then
    committed this device's file into it (a rebase's own commits then conflicted with it;
    a bisect's reset orphaned it), and said only "HEAD is not on a branch", if anything."""
    asked = [arg for name in (*_UNDER_WAY, "rebase-apply/applying") for arg in ("--git-path", name)]
    *paths, applying = (_git_answer(folder, "rev-parse", *asked) or "").split("\n")
    for name, path in zip(_UNDER_WAY, paths, strict=False):
        if path and (folder / path).exists():
            what, finish, abort = _UNDER_WAY[name]
            if name == "rebase-apply" and applying and (folder / applying).exists():
                what, finish, abort = "git am", "git am --continue", "git am --abort"
            raise GitError(
                f"git is in the middle of {what} in {folder}: finish it ({finish}) or"
                f" abort it ({abort}), then sync again"
            )
    if _git_answer(folder, "symbolic-ref", "--quiet", "HEAD") is None:
        raise GitError(
            f"git could not commit in {folder}: HEAD is not on a branch (a bisect, a commit"
            " checked out); check out a branch, then sync again"
        )


PULL, PUSH = "pull", "push"


def _remote_plan(folder: Path) -> str | None:
    """PULL (then push) when the branch tracks a remote branch; PUSH alone when it is set
    to track one that is not there yet (a clone of an empty repository: the first push
    makes it; a fetch first finds it if another device made it since); None for a
    repository without remotes, which is just a folder. Remotes the branch does not
    track are an error: the syncs would never leave this machine, and say nothing."""
    if _tracks_a_remote_branch(folder):
        return PULL
    remotes = (_git_answer(folder, "remote") or "").split()
    if not remotes:
        return None
    branch = _git_answer(folder, "symbolic-ref", "--quiet", "--short", "HEAD")
    if branch is None:
        raise GitError(f"git could not push from {folder}: HEAD is not on a branch")
    remote = _git_answer(folder, "config", "--get", f"branch.{branch}.remote")
    if remote is None:
        raise GitError(
            f"git could not push: the branch {branch} in {folder} tracks no remote branch,"
            " so nothing would reach your other machines; set one (`git push -u"
            f" {remotes[0]} {branch}`), then sync again"
        )
    _git(folder, "fetch", "--quiet", remote, what="fetch")
    return PULL if _tracks_a_remote_branch(folder) else PUSH


def _tracks_a_remote_branch(folder: Path) -> bool:
    return _git_answer(folder, "rev-parse", "--abbrev-ref", "@{u}") is not None


def _git_answer(folder: Path, *args: str) -> str | None:
    """What a git command that only looks prints, stripped; None when it fails."""
    found = _run(folder, list(args), _environment())
    return found.stdout.strip() if found.returncode == 0 else None


STOP_WAIT = 10.0
"""Seconds git has to stop when papercli is stopped (Ctrl-C, a kill) while git runs."""


def _run(
    folder: Path, args: list[str], env: dict[str, str], *, stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run git in ``folder``. When papercli is stopped meanwhile, git is asked to stop
    too and waited for: killed, as ``subprocess.run`` kills it, it left its lock files
    (``.git/index.lock``), and every later sync, and the user's own commits, failed."""
    command = ["git", "-C", str(folder), *args]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin,
        text=True,
        errors="replace",
        env=env,
    ) as process:
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except BaseException:  # the timeout, Ctrl-C, a kill: git removes its locks itself
            _stop(process)
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _stop(process: subprocess.Popen[str]) -> None:
    """Ask git to stop (SIGTERM, on which it removes its lock files) and wait for it, not
    for its output: a hook it started may hold the pipes open long after."""
    process.terminate()
    try:
        process.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        process.kill()


def _environment() -> dict[str, str]:
    """The environment without what points git at another repository (GIT_DIR,
    GIT_INDEX_FILE, GIT_WORK_TREE, ...): git sets them for its hooks, and `sync --git`
    run from one committed this device's file to the hook's repository, not the sync
    folder's."""
    local = _repository_variables()
    return {name: value for name, value in os.environ.items() if name not in local}


@cache
def _repository_variables() -> frozenset[str]:
    """The variables git reads to find a repository, as git names them (``rev-parse
    --local-env-vars``, which ``git submodule`` asks too)."""
    named = subprocess.run(
        ["git", "rev-parse", "--local-env-vars"],
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
        timeout=TIMEOUT,
    )
    return frozenset(named.stdout.split() if named.returncode == 0 else ())


def _git(folder: Path, *args: str, what: str) -> str:
    env = _environment()
    if not sys.stdin.isatty():
        env["GIT_TERMINAL_PROMPT"] = "0"  # nobody is there to answer a password prompt
    try:
        done = _run(
            folder,
            list(args),
            env,
            stdin=subprocess.DEVNULL if env.get("GIT_TERMINAL_PROMPT") == "0" else None,
        )
    except subprocess.TimeoutExpired:
        raise GitError(f"git could not {what} within {TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        # git ends with hints and advice; what went wrong is its fatal: or error: line.
        reasons = [line for line in lines if line.startswith(("fatal:", "error:"))]
        said = (reasons or lines or [f"exit status {done.returncode}"])[0]
        raise GitError(f"git could not {what}: {clipped(said, 200)}")
    return done.stdout
