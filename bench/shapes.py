"""Time papercli on the shapes of input that once grew with the square of their size, at
two sizes, and show the growth: (t(big) / t(small)) / (big / small), 1 for linear.

Usage:
  python bench/shapes.py [--sizes 4000,16000] [--only NAME,...] [--papercli PATH]

  --sizes    the two sizes N to compare (default 4000,16000)
  --only     a comma-separated subset of the shape names in SHAPES below
  --papercli the papercli to time (default: bench/out/venv/bin/papercli, from
             bench/wheel_venv.sh)

The shapes (each made by this script into bench/out/shapes/, into a fresh database):

  chain          a JSON export of N new papers, each the prerequisite of the one before,
                 with one citation-key stem and a cycle back to the first (`import`)
  path           `path` to the first paper of that chain, after its import
  prereq         `prereq lora +c0 +c1 ...`: every paper of that chain named as read
                 before another, after its import
  tags           `tag lora +c0 +c1 ...`: N tags added to one paper
  notes          a JSON export of one paper with N notes and N status changes (`import`)
  notes undo     `undo` of that import
  notes sync     the first `sync` after that import (every note and change an event)
  one second     N notes in the same second on one paper (`import`)
  strings        BibTeX with N @string abbreviations, then N entries using them
                 (`import --dry-run`)
  one name       BibTeX of N entries typed in by hand, their titles apart but sharing a
                 short name (the id field-notes, field-notes-2024, ...) and a citation
                 key stem (`import`)
  by doi         BibTeX of N entries naming only a DOI, each one that arXiv's metadata
                 of one of N papers imported first lists (`import --dry-run`)
  same title     BibTeX of N entries with one title, after N papers with it were
                 imported (`import --dry-run`)
  same doi       the same with one DOI

Each runs once per size as a whole process, stdout to /dev/null; the table shows seconds,
peak memory (the child's maximum RSS) and the growth. The start-up (~0.1 s) makes a first
step look better than linear; above about 1.3 a shape grows faster than its input.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from curve import measure  # noqa: E402  (one process timed, as curve.py times them)

OUT = BENCH / "out" / "shapes"
AT = "2026-03-01T09:00:00Z"


def paper(pid: str, **fields: object) -> dict[str, object]:
    """A paper as `export --format json` writes one, with what the import requires."""
    return {
        "id": pid,
        "short_name": "",
        "title": f"Shape {pid}",
        "authors": [{"name": "Ada Lovelace", "family": "Lovelace", "given": "Ada"}],
        "year": 2024,
        "date": "2024-01-01",
        "kind": "paper",
        "status": "unread",
        **fields,
    }


def export(papers: list[dict[str, object]]) -> str:
    return json.dumps({"format": "papercli-export", "version": 1, "exported_on": "2026-03-01",
                       "papers": papers})  # fmt: skip


def chain(n: int) -> str:
    return export([paper(f"c{i}", prerequisites=[f"c{(i + 1) % n}"]) for i in range(n)])


def notes(n: int, *, one_second: bool = False) -> str:
    times = [AT if one_second else _time(i) for i in range(n)]
    history = [
        {"old_status": ("unread", "reading")[i % 2], "new_status": ("reading", "unread")[i % 2],
         "changed_at": times[i]}
        for i in range(n)
    ]  # fmt: skip
    return export([paper("solo", notes=[{"created_at": t, "body": f"note {i}"}
                                        for i, t in enumerate(times)],
                         history=[] if one_second else history)])  # fmt: skip


def _time(i: int) -> str:
    return f"2026-01-{1 + i // 86400:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"


def strings(n: int) -> str:
    defined = "".join(f'@string{{j{i} = "Journal {i}"}}\n' for i in range(n))
    used = "".join(
        f"@article{{k{i}, title = {{Paper {i}}}, author = {{Ada Lovelace}}, journal = j{i},"
        f" year = 2020}}\n"
        for i in range(n)
    )
    return defined + used


def fetched_with_dois(n: int) -> str:
    """N papers from arXiv, each with the DOI its metadata lists (``by_doi`` names them)."""
    return export(
        [
            paper(f"d{i}", arxiv_id=f"2401.{i + 1:05d}", dois=[f"10.9/D{i}"], fetched_at=AT)
            for i in range(n)
        ]
    )


def by_doi(n: int) -> str:
    return "".join(f"@article{{k{i}, doi = {{10.9/d{i}}}}}\n" for i in range(n))


def sharing(field: str) -> tuple[Callable[[int], str], Callable[[int], str]]:
    """N papers sharing a title or a DOI, and BibTeX of N entries naming it."""
    value = {"title": "Shared Words", "doi": "10.1234/shared"}[field]

    def papers(n: int) -> str:
        return export([paper(f"s{i}", **{"title": f"Shared {i}", field: value}) for i in range(n)])

    def entries(n: int) -> str:
        return "".join(
            f"@article{{k{i}, {field} = {{{value}}}, author = {{Lovelace, Ada}}, year = 2024}}\n"
            for i in range(n)
        )

    return papers, entries


def one_name(n: int) -> str:
    return "".join(
        f"@misc{{k{i}, title = {{Field Notes: part {i}}}, author = {{Ada Lovelace}},"
        f" year = 2024}}\n"
        for i in range(n)
    )


# name -> (the file it reads, what makes it, the command after `papercli --db DB`,
#          commands run first on the same database, untimed, with what makes their file)
Setup = list[tuple[list[str], Callable[[int], str] | None]]
IMPORT_FILE: tuple[list[str], None] = (["import", "{file}"], None)
SHAPES: dict[str, tuple[str, Callable[[int], str], list[str], Setup]] = {
    "chain": ("chain.json", chain, ["import", "{file}"], []),
    "path": ("chain.json", chain, ["path", "c0", "--format", "json"], [IMPORT_FILE]),
    "prereq": ("chain.json", chain, ["prereq", "lora", "{+chain}"], [IMPORT_FILE]),
    "tags": ("chain.json", chain, ["tag", "lora", "{+chain}"], []),
    "notes": ("notes.json", notes, ["import", "{file}"], []),
    "notes undo": ("notes.json", notes, ["undo"], [IMPORT_FILE]),
    "notes sync": ("notes.json", notes, ["sync", "{folder}"], [IMPORT_FILE]),
    "notes list": ("notes.json", notes, ["notes"], [IMPORT_FILE]),
    "one second": (
        "second.json",
        lambda n: notes(n, one_second=True),
        ["import", "{file}"],
        [],
    ),
    "strings": ("strings.bib", strings, ["import", "--dry-run", "{file}"], []),
    "one name": ("name.bib", one_name, ["import", "{file}"], []),
    "by doi": (
        "doi.bib",
        by_doi,
        ["import", "--dry-run", "{file}"],
        [(["import", "{setup}"], fetched_with_dois)],
    ),
    **{
        f"same {field}": (
            "same.bib",
            sharing(field)[1],
            ["import", "--dry-run", "{file}"],
            [(["import", "{setup}"], sharing(field)[0])],
        )
        for field in ("title", "doi")
    },
}


def run(papercli: str, db: Path, args: list[str], file: Path, size: int) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one papercli process; a failure stops the benchmark."""
    named = {
        "{file}": [str(file)],
        "{folder}": [str(OUT / "sync")],
        "{setup}": [str(OUT / "setup.json")],
        "{+chain}": [f"+c{i}" for i in range(size)],
    }
    argv = [papercli, "--db", str(db), *(word for a in args for word in named.get(a, [a]))]
    return measure(argv, {**os.environ, "PAPERCLI_PAGER": ""})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="4000,16000")
    parser.add_argument("--only", default="")
    parser.add_argument("--papercli", default=str(BENCH / "out" / "venv" / "bin" / "papercli"))
    args = parser.parse_args()
    small, big = (int(size) for size in args.sizes.split(","))
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(SHAPES)
    print(f"papercli: {args.papercli}\n")
    print(f"{'shape':<12} {'N':>7} {'seconds':>8} {'MB':>5}   {'N':>7} {'seconds':>8} {'MB':>5}"
          f"   growth")  # fmt: skip
    for name in names:
        file_name, make, command, setup = SHAPES[name]
        row = []
        for size in (small, big):
            shutil.rmtree(OUT, ignore_errors=True)
            (OUT / "sync").mkdir(parents=True)
            file, db = OUT / file_name, OUT / "papercli.db"
            file.write_text(make(size), encoding="utf-8")
            # The database, from the seed.
            run(args.papercli, db, ["list", "--limit", "1"], file, size)
            for step, make_setup in setup:
                if make_setup:
                    (OUT / "setup.json").write_text(make_setup(size), encoding="utf-8")
                run(args.papercli, db, step, file, size)
            row.append(run(args.papercli, db, command, file, size))
        (t1, m1), (t2, m2) = row
        growth = (t2 / t1) / (big / small)
        print(f"{name:<12} {small:>7,} {t1:>8.2f} {m1:>5.0f}   {big:>7,} {t2:>8.2f} {m2:>5.0f}"
              f"   {growth:.2f}")  # fmt: skip
    shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
