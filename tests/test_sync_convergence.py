"""Convergence: devices that change things offline and then sync, in any order and any
number of times, end with the same state, lose no note nobody edited or deleted, and
change nothing when they sync again."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papercli import fetching, graph, paths, sync
from papercli.errors import PapercliError
from papercli.export import export_papers
from papercli.importing import import_file
from papercli.models import ReadStatus, Selection
from papercli.store import connection, library, merge, notes, papers

PAPERS = ["lora", "qlora", "dpo"]  # few, so that devices often change the same things
TAGS = ["peft", "Later"]
OWN = ["Notes on Scaling", "A Survey of Surveys"]  # papers added by hand, maybe on two devices
DEVICES = 3

operations = st.one_of(
    st.tuples(st.just("mark"), st.sampled_from(PAPERS), st.sampled_from(list(ReadStatus))),
    st.tuples(st.just("note"), st.sampled_from(PAPERS)),
    st.tuples(st.just("edit"), st.sampled_from(PAPERS), st.integers(1, 3)),
    st.tuples(st.just("delete"), st.sampled_from(PAPERS), st.integers(1, 3)),
    st.tuples(st.just("tag"), st.sampled_from(PAPERS), st.sampled_from(TAGS), st.booleans()),
    st.tuples(st.just("queue"), st.sampled_from(PAPERS), st.integers(1, 6)),
    st.tuples(st.just("dequeue"), st.sampled_from(PAPERS)),
    st.tuples(st.just("move"), st.sampled_from(PAPERS), st.integers(1, 5)),
    st.tuples(st.just("undo")),
    st.tuples(st.just("add"), st.sampled_from(OWN)),
    st.tuples(st.just("remove"), st.sampled_from(OWN)),
    st.tuples(st.just("prereq"), st.sampled_from(PAPERS), st.sampled_from(PAPERS), st.booleans()),
)
steps = st.lists(
    st.tuples(
        st.integers(0, DEVICES - 1),
        # Mostly changes, now and then a sync: conflicts need changes made apart.
        st.one_of(operations, operations, operations, st.just(("sync",))),
    ),
    min_size=4,
    max_size=30,
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh database made once, copied for every device of every example."""
    path = tmp_path_factory.mktemp("seeded") / "fresh.db"
    connection.open_database(path, paths.seed_path()).close()
    return path


class World:
    def __init__(self, root: Path, seeded: Path) -> None:
        self.folder = root / "shared"
        self.folder.mkdir()
        self.conns: list[sqlite3.Connection] = []
        for n in range(DEVICES):
            db = root / f"device{n}.db"
            shutil.copyfile(seeded, db)
            self.conns.append(connection.open_database(db, paths.seed_path()))
        self.counter = 0
        self.untouched: set[str] = set()  # note texts never edited or deleted anywhere

    def close(self) -> None:
        for conn in self.conns:
            conn.close()

    def do(self, device: int, op: tuple[object, ...]) -> None:
        conn = self.conns[device]
        kind = op[0]
        try:
            if kind == "sync":
                sync.sync(conn, self.folder, name=f"device{device}")
            elif kind == "mark":
                library.set_status(conn, [str(op[1])], ReadStatus(op[2]))
            elif kind == "note":
                self.counter += 1
                text = f"note {self.counter}"
                notes.add_note(conn, str(op[1]), text)
                self.untouched.add(text)
            elif kind in ("edit", "delete"):
                paper, number = str(op[1]), int(op[2])  # type: ignore[call-overload]
                old = notes.note(conn, paper, number)
                self.untouched.discard(old.body)
                if kind == "edit":
                    self.counter += 1
                    notes.edit_note(conn, paper, number, f"edited {self.counter}")
                else:
                    notes.delete_notes(conn, paper, [number])
            elif kind == "tag":
                tag = str(op[2])
                notes.change_tags(
                    conn, [str(op[1])], [tag] if op[3] else [], [] if op[3] else [tag]
                )
            elif kind == "queue":
                length = library.queue_length(conn)
                library.queue_add(conn, [str(op[1])], at=min(int(op[2]), length + 1))  # type: ignore[call-overload]
            elif kind == "dequeue":
                library.queue_remove(conn, [str(op[1])])
            elif kind == "move":
                length = library.queue_length(conn)
                if length:
                    library.queue_move(conn, str(op[1]), min(int(op[2]), length))  # type: ignore[call-overload]
            elif kind == "add":
                fetching.add_by_hand(
                    conn, fetching.PaperByHand(str(op[1]), ["Ada Lovelace"], "2024")
                )
            elif kind == "remove":
                start = str(op[1]).split()[0].lower()
                own = [
                    str(r[0])
                    for r in conn.execute("SELECT id FROM papers WHERE origin = 'user'")
                    if str(r[0]).startswith(start)
                ]
                if own:
                    library.remove_papers(conn, own)
            elif kind == "prereq":
                add, remove = ([str(op[2])], []) if op[3] else ([], [str(op[2])])
                graph.change_prereqs(conn, str(op[1]), add, remove)
            elif kind == "undo":
                library.undo(conn)  # may take a note away, as a delete would
                self.untouched &= self.note_texts(device)
        except PapercliError:
            pass  # nothing to undo, no such note, not in the queue: nothing changed

    def state(self, device: int) -> str:
        """The device's full JSON export, as `papercli export --format json` writes it."""
        conn = self.conns[device]
        ids = list(papers.selected_ids(conn, Selection()))
        full = merge.full_papers(conn, ids)
        history = merge.history_by_paper(conn, ids)
        text = export_papers(full, "json", exported_on="today", history=history)
        return json.dumps(json.loads(text), sort_keys=True)

    def note_texts(self, device: int) -> set[str]:
        return {str(r[0]) for r in self.conns[device].execute("SELECT body FROM notes")}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps, st.permutations(range(DEVICES)), st.booleans())
def test_devices_converge_whatever_they_did_and_however_they_synced(
    tmp_path_factory: pytest.TempPathFactory,
    seeded: Path,
    plan: list[tuple[int, tuple[object, ...]]],
    order: list[int],
    early: bool,
) -> None:
    world = World(tmp_path_factory.mktemp("world"), seeded)
    try:
        if early:  # devices that already sync: every change below is an event as it is made
            for device in order:
                world.do(device, ("sync",))
        for device, op in plan:
            world.do(device, op)
        for _ in range(2):  # the first round writes everything, the second reads it all
            for device in order:
                world.do(device, ("sync",))
        states = [world.state(n) for n in range(DEVICES)]
        assert states[0] == states[1] == states[2]
        for device in range(DEVICES):
            assert world.untouched <= world.note_texts(device)
        for device in reversed(order):
            world.do(device, ("sync",))
            assert world.state(device) == states[0]
    finally:
        world.close()


def test_one_export_imported_on_two_devices_syncs_without_duplicate_notes(
    tmp_path: Path, seeded: Path
) -> None:
    world = World(tmp_path, seeded)
    try:
        world.do(0, ("note", "lora"))
        world.do(0, ("mark", "lora", "read"))
        conn = world.conns[0]
        ids = ["lora"]
        full, history = merge.full_papers(conn, ids), merge.history_by_paper(conn, ids)
        source = tmp_path / "backup.json"
        source.write_text(export_papers(full, "json", exported_on="today", history=history))
        for device in (1, 2):
            import_file(world.conns[device], source, lambda: None)  # type: ignore[arg-type, return-value]
        for device in (1, 2, 1, 2):
            world.do(device, ("sync",))
        assert len(world.note_texts(1)) == 1
        assert world.state(1) == world.state(2)
    finally:
        world.close()
