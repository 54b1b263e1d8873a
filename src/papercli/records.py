"""Records: classes declared by their annotated fields, like ``dataclasses``, at a fraction
of its start-up cost.

Importing ``dataclasses`` imports ``inspect`` (with ``ast``, ``dis`` and ``tokenize``), and
it takes about half a millisecond to build each class: together about 15 ms for the
classes every everyday command loads, more than the interpreter's own start-up. A record
is declared the same way and gets the same ``__init__`` (generated source, compiled once
per class; a frozen one fills the instance's ``__dict__`` directly, where ``dataclasses``
calls ``object.__setattr__`` for each field, which takes 1.5 to 2 times as long),
``__repr__``, ``__eq__`` and, when frozen, ``__hash__``; type checkers read
``@datarecord`` as ``@dataclass`` (PEP 681). Only what papercli uses is here: defaults and
default factories, ``frozen``, ``repr=False``, ``__post_init__``, ``replace``, ``asdict``
and ``field_names``. ``tests/test_records.py`` checks it against ``dataclasses``.
"""

from __future__ import annotations

from operator import attrgetter

from papercli import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform, overload

    T = TypeVar("T")

_MISSING: Any = object()
# Attributes of a record class: every field's name, and those its repr shows.
_FIELDS = "__record_fields__"
_SHOWN = "__record_repr__"
_VALUES = "__record_values__"  # the fields' values as a tuple, compared and hashed


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class _Field:
    __slots__ = ("default", "default_factory", "repr")

    def __init__(self, default: Any, default_factory: Any, repr: bool) -> None:
        self.default, self.default_factory, self.repr = default, default_factory, repr


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] = _MISSING,
    repr: bool = True,
) -> Any:
    """A field's default or default factory, or that its repr leaves it out."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, repr)


if TYPE_CHECKING:  # what type checkers read; typing itself is not imported (2 ms)

    @overload
    def datarecord(cls: type[T], /) -> type[T]: ...
    @overload
    def datarecord(*, frozen: bool = False) -> Callable[[type[T]], type[T]]: ...
    @dataclass_transform(field_specifiers=(field,))
    def datarecord(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any: ...
else:

    def datarecord(cls=None, /, *, frozen=False):
        """``@datarecord`` or ``@datarecord(frozen=True)`` on a class of annotated fields."""

        def build(cls):
            return _build(cls, frozen)

        return build if cls is None else build(cls)


def _build(cls: type[T], frozen: bool) -> type[T]:
    names = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063 (no inspect)
    namespace: dict[str, Any] = {"_MISSING": _MISSING}
    params, body, shown = [], [], []
    for name in names:
        declared = cls.__dict__.get(name, _MISSING)
        spec = declared if isinstance(declared, _Field) else _Field(declared, _MISSING, True)
        if spec.default is not _MISSING and type(spec.default).__hash__ is None:
            raise ValueError(
                f"mutable default {type(spec.default)} for field {name} is not allowed:"
                " use default_factory"
            )
        if spec.default_factory is not _MISSING:
            namespace[f"_factory_{name}"] = spec.default_factory
            params.append(f"{name}=_MISSING")
            body.append(f"if {name} is _MISSING: {name} = _factory_{name}()")
        elif spec.default is not _MISSING:
            namespace[f"_default_{name}"] = spec.default
            params.append(f"{name}=_default_{name}")
        elif params and "=" in params[-1]:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        else:
            params.append(name)
        if isinstance(declared, _Field):  # the class keeps a plain default, as dataclasses do
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        # A frozen record's fields go straight into its __dict__, past its __setattr__
        # (which refuses): 0.6-0.7 of the time of object.__setattr__, for millions of authors.
        body.append(f"__record_dict__[{name!r}] = {name}" if frozen else f"self.{name} = {name}")
        if spec.repr:
            shown.append(name)
    if frozen and names:
        body.insert(0, "__record_dict__ = self.__dict__")
    if "__post_init__" in cls.__dict__:
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)  # as dataclasses does: the fastest __init__ there is
    namespace["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
    getter = attrgetter(*names) if len(names) > 1 else None
    values = getter or (lambda item: tuple(getattr(item, name) for name in names))
    added: dict[str, Any] = {
        "__init__": namespace["__init__"],
        "__eq__": _eq,
        # Compared and hashed by their values; a mutable record is not hashable.
        "__hash__": _hash if frozen else None,
        _VALUES: staticmethod(values),
        _FIELDS: names,
        _SHOWN: tuple(shown),
        "__match_args__": names,
    }
    if frozen:
        added |= {"__setattr__": _refuse, "__delattr__": _refuse}
    if "__repr__" not in cls.__dict__:
        added["__repr__"] = _repr
    for name, value in added.items():
        setattr(cls, name, value)
    return cls


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    values = getattr(self, _VALUES)
    return values(self) == values(other)


def _hash(self: Any) -> int:
    return hash(getattr(self, _VALUES)(self))


def _repr(self: object) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self, _SHOWN))
    return f"{type(self).__qualname__}({shown})"


def _refuse(self: object, name: str, *value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def is_record(value: object) -> bool:
    """Whether ``value`` is a record (an instance, not the class)."""
    return hasattr(type(value), _FIELDS)


def field_names(item: object) -> tuple[str, ...]:
    """A record's field names, in declaration order."""
    names: tuple[str, ...] = getattr(item, _FIELDS)
    return names


def replace(item: T, /, **changes: Any) -> T:
    """A copy of the record ``item`` with ``changes`` to some of its fields."""
    names = field_names(item)
    unknown = changes.keys() - set(names)
    if unknown:
        raise TypeError(f"{type(item).__qualname__} has no field {sorted(unknown)[0]!r}")
    return type(item)(**{name: getattr(item, name) for name in names} | changes)


def asdict(item: object) -> dict[str, Any]:
    """The record's fields as a dict, records in it (and the lists, tuples and dicts that
    hold them) turned into dicts too. Other values are shared, not copied."""
    return {name: _plain(getattr(item, name)) for name in field_names(item)}


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _SCALARS:  # most values: looked at once, not three times
        return value
    if kind is list or kind is tuple:
        return kind(_plain(member) for member in value)
    if kind is dict:
        return {_plain(key): _plain(member) for key, member in value.items()}
    return asdict(value) if is_record(value) else value
