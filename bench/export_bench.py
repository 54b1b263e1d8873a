"""Time `papercli export` in each format, with its peak memory, next to a stdlib-only script
doing the same job on the same database.

Usage:
  python bench/export_bench.py [--papercli PATH] [--format F]... DB...

For each database (built by bench/make_db.py) and format, papercli writes every paper to a
file (`export --format F -o FILE`, the atomic write included); then this file, run as the
stdlib script (`--stdlib F DB OUT`), reads the same tables with sqlite3, a thousand papers
at a time, and writes the same shape with json, csv or plain string formatting (BibTeX by
hand, with a small escape table). Its output is not byte-identical to papercli's (no name
splitting, no citation-key derivation, no LaTeX math): it is the floor for the same work.
Each command runs once (they take seconds); peak memory is the child's own maximum RSS
(`os.wait4`).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

FORMATS = ("json", "csv", "bibtex", "csl-json", "ris", "markdown")
SUFFIX = {"json": "json", "csv": "csv", "bibtex": "bib", "csl-json": "json", "ris": "ris"}


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, child.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papercli", default=shutil.which("papercli") or "papercli")
    parser.add_argument("--format", action="append", choices=FORMATS, dest="formats")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("db", nargs="+", type=Path)
    args = parser.parse_args()
    python = str(Path(args.papercli).with_name("python"))
    if not Path(python).exists():
        python = sys.executable
    env = {**os.environ, "PAPERCLI_PAGER": ""}
    print(f"papercli: {args.papercli}\nstdlib script: {python} {__file__}\n")
    print(
        f"{'database':<14} {'format':<9} {'papercli s':>10} {'MB':>7}"
        f" {'stdlib s':>9} {'MB':>6} {'ratio':>6}"
    )
    for db in args.db:
        for fmt in args.formats or FORMATS:
            target = args.out / f"export-bench.{SUFFIX.get(fmt, 'md')}"
            command = [args.papercli, "--db", str(db), "export", "--format", fmt, "-o", str(target)]
            took, peak, code = measure(command, env)
            floor, floor_peak, floor_code = measure(
                [python, __file__, "--stdlib", fmt, str(db), str(target) + ".stdlib"], env
            )
            failed = " (failed)" if code or floor_code else ""
            print(
                f"{db.name:<14} {fmt:<9} {took:10.2f} {peak:7.0f}"
                f" {floor:9.2f} {floor_peak:6.0f} {took / floor:6.1f}{failed}"
            )


# --- The stdlib script ---------------------------------------------------------------------------

SUMMARY = """
SELECT p.id, p.title, p.short_name, p.year, p.date, p.kind, p.arxiv_id, p.url, p.pdf_url,
    p.origin, p.venue, p.doi, p.citation_key, p.why, p.focus, p.technique, p.primary_category,
    p.added_at, coalesce(s.status, 'unread'), s.changed_at, s.read_at, s.read_version,
    q.position, m.abstract, m.categories, m.dois, m.journal_ref, m.comment, m.version,
    m.updated, m.fetched_at
FROM papers p LEFT JOIN reading_state s ON s.paper_id = p.id
    LEFT JOIN queue q ON q.paper_id = p.id LEFT JOIN arxiv_meta m ON m.paper_id = p.id
WHERE p.id IN (SELECT value FROM json_each(?))
"""
SUMMARY_KEYS = (
    "id", "title", "short_name", "year", "date", "kind", "arxiv_id", "url", "pdf_url", "origin",
    "venue", "doi", "citation_key", "why", "focus", "technique", "primary_category", "added_at",
    "status", "status_changed_at", "read_at", "read_version", "queue_position", "abstract",
    "categories", "dois", "journal_ref", "comment", "arxiv_version", "arxiv_updated",
    "fetched_at",
)  # fmt: skip
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
IN_CHUNK = "paper_id IN (SELECT value FROM json_each(?))"
LISTS = {
    "authors": f"SELECT paper_id, name, family, given FROM paper_authors WHERE {IN_CHUNK}"
    " ORDER BY paper_id, position",
    "aliases": f"SELECT paper_id, name FROM paper_names WHERE {IN_CHUNK} AND is_alias",
    "organizations": f"SELECT paper_id, org FROM paper_orgs WHERE {IN_CHUNK}"
    " ORDER BY paper_id, position",
    "topics": f"SELECT paper_id, topic FROM paper_topics WHERE {IN_CHUNK}"
    " ORDER BY paper_id, position",
    "sources": f"SELECT paper_id, source FROM paper_sources WHERE {IN_CHUNK}",
    "prerequisites": f"SELECT paper_id, prereq_id FROM prerequisites WHERE {IN_CHUNK}",
    "tags": f"SELECT paper_id, tag FROM tags WHERE {IN_CHUNK} ORDER BY paper_id, tag",
    "notes": f"SELECT paper_id, created_at, body FROM notes WHERE {IN_CHUNK}"
    " ORDER BY paper_id, created_at",
    "arxiv_authors": f"SELECT paper_id, name, affiliations FROM arxiv_authors WHERE {IN_CHUNK}"
    " ORDER BY paper_id, position",
    "history": f"SELECT paper_id, old_status, new_status, changed_at FROM status_history"
    f" WHERE {IN_CHUNK} ORDER BY changed_at",
}


def read_papers(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """Every paper with everything about it, in date order, a thousand at a time."""
    ids = conn.execute("SELECT id FROM papers ORDER BY year, date, id")
    while chunk := [pid for (pid,) in ids.fetchmany(1000)]:
        arg = json.dumps(chunk)
        rows = conn.execute(SUMMARY, (arg,))
        found = {row[0]: dict(zip(SUMMARY_KEYS, row, strict=True)) for row in rows}
        for paper in found.values():
            for key in ("categories", "dois"):
                paper[key] = json.loads(paper[key] or "[]")
            for name in LISTS:
                paper[name] = []
        for name, sql in LISTS.items():
            for pid, *values in conn.execute(sql, (arg,)):
                found[pid][name].append(values[0] if len(values) == 1 else values)
        for paper in found.values():
            names = paper["authors"]
            paper["authors"] = [{"name": n, "family": f, "given": g} for n, f, g in names]
            paper["notes"] = [{"created_at": at, "body": body} for at, body in paper["notes"]]
            paper["arxiv_authors"] = [
                {"name": n, "affiliations": json.loads(a)} for n, a in paper["arxiv_authors"]
            ]
            changes = paper["history"]
            paper["history"] = [
                {"old_status": o, "new_status": n, "changed_at": at} for o, n, at in changes
            ]
        yield from (found[pid] for pid in chunk)


def write_json(papers: Iterator[dict[str, Any]], out: TextIO) -> None:
    out.write('{\n  "format": "papercli-export",\n  "version": 1,\n  "papers": [')
    for n, paper in enumerate(papers):
        text = json.dumps(paper, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        out.write(("," if n else "") + "\n    " + text)
    out.write("\n  ]\n}\n")


def write_csv(papers: Iterator[dict[str, Any]], out: TextIO) -> None:
    columns = [k for k in SUMMARY_KEYS if k not in ("categories", "dois")]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*columns, "authors", "organizations", "topics", "tags", "notes"])
    for p in papers:
        writer.writerow(
            [
                *("" if p[k] is None else p[k] for k in columns),
                "; ".join(a["name"] for a in p["authors"]),
                "; ".join(p["organizations"]),
                "; ".join(p["topics"]),
                "; ".join(p["tags"]),
                " | ".join(f"{n['created_at']}: {n['body']}" for n in p["notes"]),
            ]
        )


LATEX = str.maketrans({c: "\\" + c for c in "&%$#_"} | {"{": r"\{", "}": r"\}", "~": r"\~{}"})


def write_bibtex(papers: Iterator[dict[str, Any]], out: TextIO) -> None:
    for p in papers:
        fields = {
            "title": "{" + " ".join(p["title"].split()).translate(LATEX) + "}",
            "author": " and ".join(f"{a['family']}, {a['given']}" for a in p["authors"]),
            "year": str(p["year"]),
            "month": MONTHS[int(p["date"][5:7]) - 1] if len(p["date"]) >= 7 else None,
            "eprint": p["arxiv_id"],
            "archivePrefix": "arXiv" if p["arxiv_id"] else None,
            "primaryClass": p["primary_category"] if p["arxiv_id"] else None,
            "doi": p["doi"],
            "url": p["url"],
            "abstract": " ".join((p["abstract"] or "").split()).translate(LATEX),
        }
        body = ",\n".join(
            f"\t{k} = {v}" if k == "month" else f"\t{k} = {{{v}}}" for k, v in fields.items() if v
        )
        out.write(f"@misc{{{p['citation_key'] or p['id']},\n{body}\n}}\n\n")


def csl_item(p: dict[str, Any]) -> dict[str, Any]:
    item = {
        "id": p["citation_key"] or p["id"],
        "type": "article",
        "title": p["title"],
        "author": [{"family": a["family"], "given": a["given"]} for a in p["authors"]],
        "issued": {"date-parts": [[int(part) for part in p["date"].split("-")]]},
        "publisher": "arXiv" if p["arxiv_id"] else None,
        "number": f"arXiv:{p['arxiv_id']}" if p["arxiv_id"] else None,
        "DOI": p["doi"],
        "URL": p["url"],
        "abstract": p["abstract"],
    }
    return {k: v for k, v in item.items() if v}


def write_csl_json(papers: Iterator[dict[str, Any]], out: TextIO) -> None:
    out.write("[")
    for n, paper in enumerate(papers):
        text = json.dumps(csl_item(paper), ensure_ascii=False, indent=2).replace("\n", "\n  ")
        out.write(("," if n else "") + "\n  " + text)
    out.write("\n]\n")


def write_ris(papers: Iterator[dict[str, Any]], out: TextIO) -> None:
    for p in papers:
        tags = [("TY", "UNPB"), ("ID", p["citation_key"] or p["id"]), ("TI", p["title"])]
        tags += [("AU", f"{a['family']}, {a['given']}") for a in p["authors"]]
        tags += [("PY", p["year"]), ("DA", p["date"].replace("-", "/") + "/")]
        tags += [("UR", p["url"]), ("L1", p["pdf_url"]), ("DO", p["doi"])]
        tags += [("AB", p["abstract"]), *(("KW", k) for k in p["topics"] + p["tags"])]
        tags += [("N1", f"{n['created_at']}: {n['body']}") for n in p["notes"]]
        lines = [f"{tag}  - {' '.join(str(value).split())}" for tag, value in tags if value]
        out.write("\n".join([*lines, "ER  - "]) + "\n\n")


def write_markdown(papers: Iterator[dict[str, Any]], out: TextIO, count: int) -> None:
    out.write(f"# Reading list\n\nExported · {count} papers\n\n")
    box = {"read": "x", "skipped": "x", "reading": "/"}
    for p in papers:
        parts = [f"- [{box.get(p['status'], ' ')}] **{p['short_name']}** — {p['title']}"]
        parts += [", ".join(p["organizations"]), f"[abs]({p['url']})", f"[pdf]({p['pdf_url']})"]
        out.write(" · ".join(parts) + "\n")


WRITERS = {
    "json": write_json,
    "csv": write_csv,
    "bibtex": write_bibtex,
    "csl-json": write_csl_json,
    "ris": write_ris,
}


def stdlib_export(fmt: str, db: str, target: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("BEGIN")  # one snapshot, as papercli reads
    with open(target, "w", encoding="utf-8", newline="") as out:
        if fmt == "markdown":
            (count,) = conn.execute("SELECT count(*) FROM papers").fetchone()
            write_markdown(read_papers(conn), out, count)
        else:
            WRITERS[fmt](read_papers(conn), out)
        out.flush()
        os.fsync(out.fileno())
    conn.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stdlib"]:
        stdlib_export(*sys.argv[2:5])
    else:
        main()
