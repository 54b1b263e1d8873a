"""Output written as it is produced: the same text as writing it all at once."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papercli import textlayout
from papercli.cli import common

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(st.lists(JSON_VALUES, max_size=5), st.integers(1, 3))
def test_a_json_array_streams_to_the_text_of_json_dumps(items, chunk):
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", buffer)
        patch.setattr(common, "JSON_CHUNK", chunk)
        common.echo_json_array(iter(items))
    assert buffer.getvalue() == json.dumps(items, ensure_ascii=False, indent=2) + "\n"


@given(st.dictionaries(st.text(), st.lists(JSON_VALUES, max_size=5), max_size=4), st.integers(1, 3))
def test_an_object_of_json_arrays_streams_to_the_text_of_json_dumps(arrays, chunk):
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", buffer)
        patch.setattr(common, "JSON_CHUNK", chunk)
        common.echo_json_arrays((key, iter(items)) for key, items in arrays.items())
    assert buffer.getvalue() == json.dumps(arrays, ensure_ascii=False, indent=2) + "\n"


def test_csv_is_written_in_chunks_that_read_back_whole(capsys):
    rows = [[str(n), f"title, with a comma {n}", 'quote "q"'] for n in range(2500)]
    common.echo_csv(["id", "title", "note"], iter(rows))
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [
        ["id", "title", "note"],
        *rows,
    ]


def test_plain_table_aligns_on_the_first_rows_and_never_cuts_a_later_cell(monkeypatch):
    monkeypatch.setattr(textlayout, "ALIGNED_ROWS", 2)
    rows = [["a", "x"], ["bb", "y"], ["a-much-longer-id", "z"]]
    assert list(textlayout.plain_table_lines(["id", "t"], iter(rows))) == [
        "id  t",
        "a   x",
        "bb  y",
        "a-much-longer-id  z",
    ]
    monkeypatch.setattr(textlayout, "ALIGNED_ROWS", 1000)
    assert textlayout.plain_table(["id", "t"], rows).splitlines()[1] == "a                 x"


def test_plain_table_aligns_wide_characters_by_the_columns_they_take(run):
    """Until 3 December cells were padded by their number of characters: a title in
    Chinese (two columns a character) or a tag with an emoji pushed the rest of its line
    right, piped and at a terminal without Rich."""
    rows = [
        ["低秩适配", "2024", "x"],
        ["lora", "2021", "y"],
        ["🙂tag", "2020", "z"],
        ["Cafe\u0301", "1", "w"],
    ]
    lines = textlayout.plain_table(["title", "year", "t"], rows).splitlines()
    assert lines == [
        "title     year  t",
        "低秩适配  2024  x",
        "lora      2021  y",
        "🙂tag     2020  z",
        "Cafe\u0301         1  w",
    ]
    assert {textlayout.cell_width(line[: -len("  x")]) for line in lines} == {14}
    run("tag", "lora", "+🙂x", "+plain")  # and so a command's output, piped
    assert run("tags").stdout.splitlines() == ["tag    papers", "plain       1", "🙂x         1"]


@given(st.text(max_size=20))
def test_a_cell_takes_as_many_columns_as_its_characters_unless_wide_or_combining(text):
    width = textlayout.cell_width(text)
    assert 0 <= width <= 2 * len(text)
    if text.isascii():
        assert width == len(text)
