"""``papercli sync``: the same reading state on every machine, through a shared folder."""

from typing import Annotated

import typer

from papercli import sync
from papercli.cli.common import CountFormat, ShowFormat, connect, echo, echo_json, emit_rows
from papercli.textlayout import counted


def sync_command(
    ctx: typer.Context,
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[DIR] | status [DIR]",
            help="The shared folder (default: $PAPERCLI_SYNC_DIR, else the last one);"
            " `status` reports instead of syncing.",
        ),
    ] = None,
    git: Annotated[
        bool,
        typer.Option("--git", help="DIR is a git work tree: commit, pull --rebase, apply, push."),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help="What to call this device (e.g. laptop)."),
    ] = None,
    output: Annotated[
        ShowFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ShowFormat.text,
) -> None:
    """Sync your reading state with your other machines. It goes through a folder you share.

    Each machine appends its changes (statuses, notes, tags, queue, your papers,
    prerequisites, watches, inbox decisions) to its own file in DIR/papercli/, and
    applies the others'. The latest change to each thing wins, everywhere alike. Put
    DIR in Syncthing, Dropbox or iCloud, on a USB stick, or in a git repository (--git).
    The catalogue and fetched metadata are not synced: each machine has its own.

    \b
    Examples:
      papercli sync ~/Sync/papers --name laptop
      papercli sync
      papercli sync ~/notes-repo --git
      papercli sync status
    """
    given = list(args or [])
    if given[:1] == ["status"]:
        if len(given) > 2 or git or name:
            raise typer.BadParameter("sync status takes a folder at most, and no options")
        _show_status(ctx, given[1] if len(given) > 1 else None, output)
        return
    if len(given) > 1:
        raise typer.BadParameter("give one folder")
    if name is not None and (not name.strip() or len(name) > 60 or not name.isprintable()):
        raise typer.BadParameter("a device name is up to 60 printable characters")
    conn = connect(ctx)
    folder = sync.sync_folder(conn, given[0] if given else None)
    with sync.one_at_a_time(conn):
        if git:
            from papercli.gitsync import sync_with_git

            summary = sync_with_git(conn, folder, name=name and name.strip())
        else:
            summary = sync.sync(conn, folder, name=name and name.strip())
    if output is ShowFormat.json:
        echo_json(
            {
                "device": summary.device,
                "name": summary.name,
                "folder": str(summary.folder),
                "first": summary.first,
                "written": summary.written,
                "read": summary.read,
                "applied": summary.applied,
                "taken_back": summary.taken_back,
                "devices": summary.devices,
                "skipped": [
                    {"device": p.device, "reason": p.reason, "lines": p.lines}
                    for p in summary.skipped
                ],
                "newer": summary.newer,
                "conflicts": summary.conflicts,
                "left_behind": summary.left_behind,
                "unmerged": summary.unmerged,
            }
        )
    else:
        if summary.first:
            made = counted(summary.first, "change")
            echo(f"first sync of {summary.name}: {made} made here before")
        if summary.taken_back:
            echo(
                f"took back {counted(summary.taken_back, 'event')} of {summary.name} from its"
                " file in the folder, newer than this database (restored from a backup?)"
            )
        others = counted(summary.devices, "other device")
        echo(
            f"synced {summary.name} with {others} through {summary.folder}: wrote"
            f" {counted(summary.written, 'event')}, read {summary.read:,},"
            f" applied {summary.applied:,}"
        )
    for problem in summary.skipped:
        if not problem.lines:  # the whole file
            echo(f"skipped device {problem.device[:8]}'s file: {problem.reason}", err=True)
            continue
        lines = counted(problem.lines, "line")
        echo(f"skipped {lines} from device {problem.device[:8]}: {problem.reason}", err=True)
    for device in summary.newer:
        echo(
            f"skipped device {device[:8]}'s file: a newer papercli wrote it; upgrade to read it",
            err=True,
        )
    for conflict in summary.conflicts:
        echo(conflict, err=True)
    if summary.left_behind:
        echo(
            f"warning: {summary.folder} has no file of {', '.join(summary.left_behind)}, synced"
            " with before through another folder: each machine's file holds only its own"
            " changes, so theirs reach the machines syncing here once they sync here too"
            " (to change folders, move the old one whole)",
            err=True,
        )

    if summary.unmerged:
        echo(
            f"warning: git could not put back your work in progress on"
            f" {', '.join(summary.unmerged)} after its pull: it conflicts with what was"
            " pulled; resolve the conflict (git status), and drop git's copy of it"
            " (git stash drop) once it is back",
            err=True,
        )


def _show_status(ctx: typer.Context, folder: str | None, output: ShowFormat) -> None:
    found = sync.status(connect(ctx), folder)
    if output is ShowFormat.json:
        echo_json(
            {
                "device": found.device,
                "name": found.name,
                "folder": None if found.folder is None else str(found.folder),
                "unwritten": found.unwritten,
                "devices": [
                    {
                        "device": d.device,
                        "name": d.name,
                        "last_event": d.last_event,
                        "events": d.events,
                        "unread": d.unread_lines,
                    }
                    for d in found.devices
                ],
            }
        )
        return
    if found.device is None:
        echo("this device has never synced; start with: papercli sync DIR --name NAME")
        return
    echo(f"this device: {found.name} ({found.device})")
    echo(f"folder: {found.folder or '(none yet)'}")
    echo(f"events not written yet: {found.unwritten:,}")
    emit_rows(
        CountFormat.table,
        ["device", "name", "last event (UTC)", "events read", "not read yet"],
        [
            [d.device[:8], d.name or "", d.last_event or "", str(d.events), str(d.unread_lines)]
            for d in found.devices
        ],
        empty="no other device has synced through this folder yet",
    )
