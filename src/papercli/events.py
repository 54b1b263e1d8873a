"""Sync events as they travel between devices: their clock, their one-line JSON form, and
the checks every line from another device's file passes before it may change anything.
Pure: no I/O.

An event says "this register now holds this value" (store/sync.py lists the registers).
Its clock is a hybrid logical clock: milliseconds since 1970 and a counter, fixed width,
so that clocks compare as strings; it never goes back on a device, and moves past every
clock the device has seen, so a change made after seeing another sorts after it.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from papercli import times
from papercli.arxiv_ids import is_category_form, parse_arxiv_id
from papercli.errors import PapercliError
from papercli.facts import BadFact, checked_facts
from papercli.models import MAX_NAME, MAX_TEXT, MAX_VERSION, is_real_day
from papercli.names import is_one_line, nocase
from papercli.records import datarecord

FORMAT = 1  # the sync file format this papercli writes and reads
_HLC = re.compile(r"[0-9]{15}-[0-9]{5}")
_LATEST_MS = 253_402_300_799_999
_LATEST_HLC = f"{_LATEST_MS:015d}-99999"
"""The end of 9999, the calendar's last day: a clock read later (up to the year 33658,
the most 15 digits hold) became every reader's own, and the next after it a digit longer,
which no machine reads: nothing a reader changed reached the others again."""
_DEVICE = re.compile(r"[0-9a-f]{32}")
_FILE = re.compile(r"[0-9a-f]{1,32}")
_STATUSES = frozenset({"unread", "reading", "read", "skipped"})
_SORT_KEY = re.compile(r"[0-9a-z]{0,199}[1-9a-z]")
MAX_REPEATS = 10_000  # the same status change in one second: more are counted as this
SEP = "\x1f"


def new_device_id() -> str:
    return os.urandom(16).hex()  # random, as uuid4 (whose import costs 13 ms)


def next_hlc(last: str | None, now_ms: int) -> str:
    """The clock for a change now: after ``last`` (the latest clock this device has made
    or seen) and at least the wall clock."""
    last_ms, counter = _split(last) if last else (0, -1)
    if now_ms > last_ms:
        return f"{now_ms:015d}-{0:05d}"
    if counter >= 99_999:
        return f"{last_ms + 1:015d}-{0:05d}"
    return f"{last_ms:015d}-{counter + 1:05d}"


def hlc_of_time(iso: str) -> str:
    """The clock of a change made at an ISO 8601 UTC time (the first sync's back-fill)."""
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return f"{0:015d}-{0:05d}"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return f"{max(0, int(when.timestamp() * 1000)):015d}-{0:05d}"


def hlc_time(hlc: str) -> str:
    """``2026-12-01T19:05:14Z``: when a clock was made, for people."""
    from datetime import UTC, datetime

    ms, _ = _split(hlc)  # one read before _LATEST_HLC was checked may be later
    return datetime.fromtimestamp(min(ms, _LATEST_MS) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split(hlc: str) -> tuple[int, int]:
    ms, _, counter = hlc.partition("-")
    return int(ms), int(counter)


def header_line(device: str, file: str) -> str:
    """A file's first line; ``file`` is new each time the file is written whole, so that
    a reader knows a replaced file, whatever its length."""
    header = {"papercli_sync": FORMAT, "device": device, "file": file}
    return json.dumps(header, separators=(",", ":"))


def new_file_id() -> str:
    return os.urandom(8).hex()


def event_line(device: str, hlc: str, kind: str, key: str, value: Any) -> str:
    event = {"id": os.urandom(16).hex(), "device": device, "hlc": hlc, "kind": kind, "key": key}
    return json.dumps({**event, "value": value}, ensure_ascii=False, separators=(",", ":"))


@datarecord(frozen=True)
class Event:
    device: str
    hlc: str
    kind: str
    key: str
    value: Any


class NewerFormat(Exception):
    """A file written by a newer papercli: it is skipped whole, never half read."""


def read_header(line: bytes, device: str) -> str | None:
    """Check a file's first line and return the id it gives the file (None before 3
    December 2026); NewerFormat for a newer papercli's, ValueError if it is not a
    papercli sync file for ``device``."""
    try:
        header = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("its first line is not a papercli sync header") from None
    if not isinstance(header, dict) or not isinstance(header.get("papercli_sync"), int):
        raise ValueError("its first line is not a papercli sync header")
    if header["papercli_sync"] > FORMAT:
        raise NewerFormat(f"it is written in sync format {header['papercli_sync']}")
    if header.get("device") != device:
        raise ValueError("its header names another device")
    file = header.get("file")
    if file is not None and not (isinstance(file, str) and _FILE.fullmatch(file)):
        raise ValueError("its header's file id is not 1 to 32 hex digits")
    return file


def read_event(line: bytes, device: str) -> Event:
    """One line of ``device``'s file, checked whole; ValueError saying what is wrong."""
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError("it is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    if _MAY_HOLD_SURROGATES.search(line) and _holds_surrogate(data):
        raise ValueError("it holds a lone surrogate, which is not text")
    if data.get("device") != device:
        raise ValueError("it names another device than its file")
    hlc, kind, key = data.get("hlc"), data.get("kind"), data.get("key")
    if not isinstance(hlc, str) or not _HLC.fullmatch(hlc):
        raise ValueError("its clock is not one papercli writes")
    if hlc > _LATEST_HLC:
        raise ValueError("its clock is dated after the year 9999")
    if not isinstance(key, str) or not 0 < len(key) <= 4 * MAX_NAME:
        raise ValueError("its key is missing or too long")
    check = _CHECKS.get(kind) if isinstance(kind, str) else None
    if check is None:
        raise ValueError(f"it changes {str(kind)[:40]!r}, which papercli does not sync")
    value = data.get("value")
    if value is not None:
        check(key, value)
    elif kind == "device":
        raise ValueError("a device cannot be removed")
    else:
        _key_parts(str(kind), key)
    return Event(device, hlc, str(kind), key, value)


# A lone surrogate (U+D800 to U+DFFF) spelt as an escape, or in UTF-8 (json reads both):
# SQLite cannot store one, and one in a note's key ended every sync in a traceback.
_MAY_HOLD_SURROGATES = re.compile(rb"\\[uU][dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _holds_surrogate(value: object) -> bool:
    """Whether any text in ``value``, a key too, holds a lone surrogate (the line may only
    spell a pair, an emoji, in escapes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_surrogate(item) for item in value)
    return False


# -- what each kind of value must be ------------------------------------------------------


def _text(value: object, what: str, most: int = MAX_NAME, *, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > most or (not empty and not value):
        raise ValueError(f"its {what} is not text of up to {most:,} characters")
    if "\x00" in value:
        raise ValueError(f"its {what} holds a NUL character")
    return value


def _name(value: object, what: str, most: int = MAX_NAME, *, empty: bool = False) -> str:
    """A title, a name, a tag: text on one line (``names.is_one_line``), as an import takes
    it; a tab or a line break reached the other device's exports, which it then refused."""
    text = _text(value, what, most, empty=empty)
    _on_one_line([(what, text)])
    return text


def _on_one_line(named: list[tuple[str, str]]) -> None:
    """ValueError naming the first (what, text) not on one line: one search for them all
    when none is (a paper has dozens of names, a search each was a tenth of a sync)."""
    if is_one_line("".join(text for _, text in named)):
        return
    what = next(what for what, text in named if not is_one_line(text))
    raise ValueError(f"its {what} is not text on one line")


def _time(value: object, what: str = "time") -> None:
    """A time as papercli keeps it (``times.stored``): any other text reached the exports,
    which an import then refused."""
    if not isinstance(value, str) or times.stored(value) is None:
        raise ValueError(f"its {what} is not a time papercli keeps")


def _optional_time(value: object, what: str) -> None:
    if value is not None:
        _time(value, what)


def _integer(value: object, what: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"its {what} is not a whole number from {low} to {high:,}")


def _object(value: object, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or not keys <= value.keys():
        raise ValueError(f"its value is not an object with {', '.join(sorted(keys))}")
    return value


_PARTS = {"tag": 2, "history": 4, "prereq": 2}


def _key_parts(kind: str, key: str) -> list[str]:
    parts = key.split(SEP)
    if len(parts) != _PARTS.get(kind, 1) or not all(parts):
        raise ValueError(f"its key is not the key of a {kind}")
    if any(len(p) > MAX_NAME for p in parts):
        raise ValueError("its key is too long")
    return parts


def _status(key: str, value: object) -> None:
    _key_parts("status", key)
    state = _object(value, {"status", "changed_at", "read_at", "read_version"})
    if state["status"] not in _STATUSES:
        raise ValueError("its status is not one papercli knows")
    _time(state["changed_at"])
    _optional_time(state["read_at"], "read time")
    if state["read_version"] is not None:
        _integer(state["read_version"], "read version", 1, MAX_VERSION)


def _note(key: str, value: object) -> None:
    _key_parts("note", key)
    note = _object(value, {"paper", "created_at", "body"})
    _name(note["paper"], "paper")
    _time(note["created_at"])
    _text(note["body"], "text", MAX_TEXT)


def _keys_of(name: str) -> tuple[str, str]:
    """The keys that may name a tag or a watch: its ``nocase`` form, and the ``casefold``
    one that papercli before 3 December gave it (the same but for letters beyond ASCII)."""
    return nocase(name), name.casefold()


def _tag(key: str, value: object) -> None:
    paper, folded = _key_parts("tag", key)
    tag = _object(value, {"paper", "tag"})
    name = _name(tag["tag"], "tag")
    if not name.strip():  # an import drops such a tag, and `tag -' '` could not take it off
        raise ValueError("its tag is blank")
    if tag["paper"] != paper or folded not in _keys_of(name):
        raise ValueError("its value is not the tag its key names")


def _queue(key: str, value: object) -> None:
    _key_parts("queue", key)
    place = _object(value, {"key", "added_at"})
    if not isinstance(place["key"], str) or not _SORT_KEY.fullmatch(place["key"]):
        raise ValueError("its queue place is not a sort key")
    _time(place["added_at"])


def _history(key: str, value: object) -> None:
    parts = _key_parts("history", key)
    row = _object(value, {"paper", "old", "new", "at"})
    if [row["paper"], row["old"], row["new"], row["at"]] != parts:
        raise ValueError("its value is not the change its key names")
    if parts[1] not in _STATUSES or parts[2] not in _STATUSES:
        raise ValueError("its status is not one papercli knows")
    _time(parts[3])
    if "count" in row:  # the same change made more than once in a second
        _integer(row["count"], "count", 2, MAX_REPEATS)
    if "undone" in row:  # how many of them were undone
        _integer(row["undone"], "undone count", 1, row.get("count", 1))


_PAPER_NAMES = ("id", "title", "short_name", "date", "kind", "origin", "venue")
_PAPER_PROSE = ("why", "focus", "technique")
_PAPER_LISTS = ("aliases", "organizations", "topics", "sources", "prerequisites")


def _paper(key: str, value: object) -> None:
    """A user's paper as an import would take it: each fact in the form papercli keeps
    (``facts.checked_facts``; until 4 December any text was taken, an arXiv id, a date or
    an address included, and the other device's citations and exports carried it)."""
    _key_parts("paper", key)
    required = {
        *_PAPER_NAMES,
        *_PAPER_PROSE,
        "year",
        "authors",
        "aliases",
        "organizations",
        "topics",
    }
    paper = _object(value, required)
    if paper["id"] != key or paper["origin"] != "user":
        raise ValueError("its value is not the user's paper its key names")
    named = []
    for name in _PAPER_NAMES:
        what = name.replace("_", " ")
        named.append((what, _text(paper[name], what, empty=name not in ("id", "title"))))
    for name in _PAPER_PROSE:
        _text(paper[name], name, MAX_TEXT, empty=True)
    if paper["kind"] not in ("paper", "blog", "report"):
        raise ValueError("its kind is not one papercli knows")
    _integer(paper["year"], "year", 1000, 9999)  # as an import takes it
    for name in ("arxiv_id", "url", "pdf_url", "doi", "citation_key", "primary_category"):
        if paper.get(name) is not None:
            what = name.replace("_", " ")
            named.append((what, _text(paper[name], what)))
    _optional_time(paper.get("added_at"), "time added")
    for name in _PAPER_LISTS:
        items = paper.get(name, [])
        if not isinstance(items, list) or len(items) > 1000:
            raise ValueError(f"its {name} is not a list")
        named += [(name, _text(item, name)) for item in items]
    authors = paper["authors"]
    if not isinstance(authors, list) or len(authors) > 10_000:
        raise ValueError("its authors are not a list")
    for author in authors:
        _author(author, named)
    _on_one_line(named)
    _check_facts(paper)


def _check_facts(paper: dict[str, Any]) -> None:
    """The facts an import checks the form of, in the form papercli keeps them."""
    given = {
        name: paper.get(name) for name in ("arxiv_id", "url", "pdf_url", "doi", "citation_key")
    }
    try:
        kept = checked_facts(
            id=paper["id"],
            title=paper["title"],
            date=paper["date"],
            year=paper["year"],
            primary_category=paper.get("primary_category"),
            **given,
        )
    except BadFact as bad:
        raise ValueError(f"its paper's {bad.field.replace('_', ' ')} is not well formed") from None
    if kept != (given["arxiv_id"], given["url"], given["pdf_url"]):
        raise ValueError("its paper's arXiv id or address is not in the form papercli keeps")
    if not is_real_day(paper["date"]):
        raise ValueError("its paper's date is not a day of the calendar")


def _author(value: object, named: list[tuple[str, str]]) -> None:
    """Check an author's fields, adding its names to ``named`` (to be on one line)."""
    fields = _object(value, {"name"})
    named.append(("author's name", _text(fields["name"], "author's name")))
    for name in ("family", "given", "suffix"):
        if fields.get(name) is not None:
            named.append(("author's name", _text(fields[name], "author's name", empty=True)))
    if not isinstance(fields.get("literal", False), bool):
        raise ValueError("its author is not one papercli writes")
    affiliations = fields.get("affiliations", [])
    if not isinstance(affiliations, list):
        raise ValueError("its author's affiliations are not a list of text")
    for affiliation in affiliations:
        what = "author's affiliation"
        named.append((what, _text(affiliation, what, empty=True)))
    if not (fields.get("family") or fields.get("literal")):
        from papercli.export import is_person_name  # sent by a papercli before 3 December

        if not is_person_name(fields["name"]):
            raise ValueError("its author has no family name")


def _prereq(key: str, value: object) -> None:
    _key_parts("prereq", key)
    link = _object(value, {"state", "at"})
    if link["state"] not in ("added", "removed"):
        raise ValueError("its link is neither added nor removed")
    _time(link["at"])


def _watch(key: str, value: object) -> None:
    """A watch as ``watch add`` takes one: printable names and words, categories in the
    form of arXiv's (a later papercli may know more of them), which the inbox puts in its
    addresses (until 4 December any text was taken)."""
    _key_parts("watch", key)
    watch = _object(value, {"name", "categories", "keywords", "authors", "excludes", "created_at"})
    if key not in _keys_of(_printable(watch["name"], "name", 60)):
        raise ValueError("its value is not the watch its key names")
    for name in ("categories", "keywords", "authors", "excludes"):
        items = watch[name]
        if not isinstance(items, list) or len(items) > 200:
            raise ValueError(f"its {name} is not a list")
        for item in items:
            _printable(item, name, 200)
    if not watch["categories"]:
        raise ValueError("its watch has no category")
    if not all(is_category_form(category) for category in watch["categories"]):
        raise ValueError("its category is not one of arXiv's form")
    _time(watch["created_at"])


def _printable(value: object, what: str, most: int) -> str:
    text = _text(value, what, most)
    if not text.isprintable():
        raise ValueError(f"its {what} is not printable")
    return text


def _inbox(key: str, value: object) -> None:
    _key_parts("inbox", key)
    try:
        kept = parse_arxiv_id(key).id
    except PapercliError:
        kept = None
    if kept != key:
        raise ValueError("its key is not an arXiv id as papercli keeps it")
    decision = _object(value, {"decision", "at"})
    if decision["decision"] not in ("kept", "dismissed"):
        raise ValueError("its decision is neither kept nor dismissed")
    _time(decision["at"])


def _device(key: str, value: object) -> None:
    if not _DEVICE.fullmatch(key):
        raise ValueError("its key is not a device id")
    _printable(_object(value, {"name"})["name"], "device name", 60)


_CHECKS = {
    "status": _status,
    "note": _note,
    "tag": _tag,
    "queue": _queue,
    "history": _history,
    "paper": _paper,
    "prereq": _prereq,
    "watch": _watch,
    "inbox": _inbox,
    "device": _device,
}
