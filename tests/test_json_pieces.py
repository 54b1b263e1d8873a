"""Reading a JSON object's big array an element at a time must judge a document exactly as
``json.loads`` does, wherever the pieces it reads happen to end."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from papercli import json_pieces
from papercli.json_pieces import BadJSON, NotAnObject, members

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
documents = st.dictionaries(st.text(max_size=6), values, max_size=4).flatmap(
    lambda head: st.lists(values, max_size=6).map(lambda papers: {**head, "papers": papers})
)
layouts = st.sampled_from([{}, {"indent": 2}, {"separators": (",", ":")}, {"indent": "\t"}])


def read(text: str, chunk: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    monkeypatch.setattr(json_pieces, "CHUNK", chunk)
    return list(members(io.StringIO(text), "papers"))


def expected(document: dict[str, object]) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = []
    for key, value in document.items():
        if key == "papers" and isinstance(value, list):
            found.append((key, None, []))
            found += [(key, i, item) for i, item in enumerate(value)]
        else:
            found.append((key, None, value))
    return found


@settings(max_examples=300)
@given(document=documents, layout=layouts, chunk=st.integers(1, 40))
@example(document={"papers": [123456789, 1.5e300, "x\ud800y"]}, layout={}, chunk=3)
def test_every_member_arrives_as_json_loads_reads_it(
    document: dict[str, object], layout: dict[str, object], chunk: int
) -> None:
    text = json.dumps(document, **layout)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert read(text, chunk, monkeypatch) == expected(json.loads(text))


@settings(max_examples=300)
@given(document=documents, layout=layouts, chunk=st.integers(1, 40), data=st.data())
def test_a_damaged_document_fails_where_json_loads_fails(
    document: dict[str, object], layout: dict[str, object], chunk: int, data: st.DataObject
) -> None:
    """Cut short, or with a character put in: refused exactly when ``json.loads`` refuses
    it, on the same line."""
    text = json.dumps(document, **layout)  # type: ignore[arg-type]
    at = data.draw(st.integers(0, len(text)))
    put_in = data.draw(st.sampled_from('{}[],:"x1 \n'))
    damaged = data.draw(st.sampled_from([text[:at], text[:at] + put_in + text[at:]]))
    try:
        loaded = json.loads(damaged)
    except json.JSONDecodeError as exc:
        with pytest.MonkeyPatch.context() as monkeypatch, pytest.raises(BadJSON) as caught:
            read(damaged, chunk, monkeypatch)
        assert caught.value.line == exc.lineno
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        if not isinstance(loaded, dict):
            with pytest.raises(NotAnObject):
                read(damaged, chunk, monkeypatch)
        else:
            try:
                assert read(damaged, chunk, monkeypatch) == expected(loaded)
            except BadJSON as exc:  # a key given twice, which json.loads lets by
                assert exc.message.startswith("Repeated key")


def test_a_key_given_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BadJSON, match="Repeated key 'papers': line 3 column 2"):
        read('{"papers": [1],\n "a": 2,\n "papers": [3]}', 4, monkeypatch)


def test_one_value_may_not_outgrow_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_pieces, "MAX_VALUE", 100)
    text = json.dumps({"papers": [{"note": "x" * 50}, {"note": "y" * 500}]})
    with pytest.raises(BadJSON, match="A value longer than 100 characters"):
        read(text, 10, monkeypatch)


def test_a_long_value_is_read_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value bigger than a piece is parsed again as more is read: by doubling what is
    read, not a piece at a time (which would parse it length / piece times)."""
    calls = 0
    parse = json_pieces._DECODER.raw_decode

    def counted(text: str, start: int) -> tuple[object, int]:
        nonlocal calls
        calls += 1
        return parse(text, start)

    monkeypatch.setattr(json_pieces._DECODER, "raw_decode", counted)
    text = json.dumps({"papers": ["x" * 100_000]})
    assert read(text, 10, monkeypatch)[1] == ("papers", 0, "x" * 100_000)
    assert calls < 20
