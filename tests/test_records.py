"""``papercli.records`` behaves as ``dataclasses`` does for what papercli declares with it:
the same classes built both ways construct, compare, hash, print, copy and refuse alike."""

from __future__ import annotations

import dataclasses
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from papercli import records
from papercli.models import Author, Paper

NAMES = st.lists(
    st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(
        lambda name: name not in {"self", "other", "if", "in", "is", "or", "and", "not", "as"}
    ),
    min_size=0,
    max_size=5,
    unique=True,
)
# A field: no default, a plain default, or a factory; shown in repr or not.
FIELD = st.tuples(st.sampled_from(["required", "default", "factory"]), st.booleans())
VALUES = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.tuples(st.integers()))


def build(module, names, specs, frozen):
    """A class declared with ``module``'s decorator and field specifier."""
    decorate = (
        dataclasses.dataclass(frozen=frozen)
        if module is dataclasses
        else records.datarecord(frozen=frozen)
    )
    namespace = {"__annotations__": {name: "object" for name in names}}
    for name, (kind, shown) in zip(names, specs, strict=True):
        if kind == "default":
            namespace[name] = module.field(default=(name, 1), repr=shown)
        elif kind == "factory":
            namespace[name] = module.field(default_factory=list, repr=shown)
        elif not shown:
            namespace[name] = module.field(repr=False)
    return decorate(type("Thing", (), namespace))


def outcome(action):
    """What an action returns, or the type of what it raises (messages differ)."""
    try:
        return ("value", action())
    except Exception as exc:
        return ("raised", type(exc).__name__)


@given(
    NAMES.flatmap(
        lambda names: st.tuples(
            st.just(names),
            st.lists(FIELD, min_size=len(names), max_size=len(names)),
            st.booleans(),
            st.lists(VALUES, max_size=len(names) + 1),
            st.lists(
                st.lists(st.integers(0, 1), min_size=len(names), max_size=len(names)),
                min_size=2,
                max_size=2,
            ),
            st.data(),
        )
    )
)
def test_records_behave_as_dataclasses(case):
    names, specs, frozen, values, pair, data = case
    # A required field after a defaulted one is refused by both, alike.
    declared = outcome(lambda: build(dataclasses, names, specs, frozen))
    assert outcome(lambda: build(records, names, specs, frozen))[0] == declared[0]
    if declared[0] == "raised":
        return
    as_dataclass = build(dataclasses, names, specs, frozen)
    as_record = build(records, names, specs, frozen)
    keywords = data.draw(st.dictionaries(st.sampled_from(names or ["x"]), VALUES, max_size=3))

    def make(cls):
        return cls(*values, **keywords)

    made = outcome(lambda: make(as_dataclass))
    assert outcome(lambda: make(as_record))[0] == made[0]
    if made[0] == "raised":
        return
    one, other = make(as_dataclass), make(as_record)
    assert repr(other) == repr(one)
    assert make(as_record) == other
    assert (other == records.replace(other)) is True
    hashed = outcome(lambda: hash(other))
    assert hashed[0] == outcome(lambda: hash(one))[0]
    if hashed[0] == "value":
        assert hash(make(as_record)) == hashed[1]
    assert records.asdict(other) == dataclasses.asdict(one)
    assert records.field_names(other) == tuple(f.name for f in dataclasses.fields(one))
    # Two instances compare alike both ways.
    first, second = pair
    assert (as_record(*first) == as_record(*second)) == (
        as_dataclass(*first) == as_dataclass(*second)
    )
    for name in names:
        assert getattr(other, name) == getattr(one, name)
        # What the class keeps: a plain default, nothing for required and factory fields.
        assert outcome(lambda n=name: getattr(as_record, n)) == outcome(
            lambda n=name: getattr(as_dataclass, n)
        )
        assert (
            outcome(lambda n=name: setattr(other, n, 5))[0]
            == outcome(lambda n=name: setattr(one, n, 5))[0]
        )
    if names:
        changed = records.replace(other, **{names[0]: "new"})
        assert getattr(changed, names[0]) == "new"
        assert changed != other or getattr(other, names[0]) == "new"


def test_default_factories_give_each_instance_its_own_value():
    first, second = Paper("a", "A", "a", 2020, "2020"), Paper("b", "B", "b", 2020, "2020")
    first.topics.append("x")
    assert second.topics == []


def test_records_of_different_classes_are_never_equal():
    @records.datarecord(frozen=True)
    class Other:
        name: str

    assert Author("Ada") != Other("Ada")
    assert Author("Ada") == Author("Ada")


def test_frozen_records_refuse_assignment_and_deletion():
    author = Author("Ada Lovelace")
    with pytest.raises(records.FrozenInstanceError):
        author.name = "Grace"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del author.name  # type: ignore[misc]


def test_replace_refuses_unknown_fields_and_asdict_recurses_into_lists():
    paper = Paper("a", "A", "a", 2020, "2020", authors=[Author("Ada", ("X",))])
    with pytest.raises(TypeError, match="no field 'titel'"):
        records.replace(paper, titel="B")
    assert records.asdict(paper)["authors"] == [
        {
            "name": "Ada",
            "affiliations": ("X",),
            "family": "",
            "given": "",
            "suffix": "",
            "literal": False,
        }
    ]


def test_mutable_defaults_are_refused():
    with pytest.raises(ValueError, match="use default_factory"):

        @records.datarecord
        class Bad:
            items: list[int] = []  # noqa: RUF012 (the point of the test)
