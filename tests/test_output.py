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
