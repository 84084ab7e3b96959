"""Frozen, slotted records: what ``attrs.frozen`` gives, for the classes every command builds.

The configuration, the stored session, the answer and the core's effects are built by every
run of the command line, ``backendless-auth token`` in a shell loop included. ``attrs`` imports
``inspect`` and ``platform`` (about 14 ms per start, the eighth of ``import requests``), and so
does ``dataclasses``; these records need neither. ``BackendlessUser`` and ``UserProperty`` stay
attrs classes: ``attrs.evolve`` on a user is public API.

A record has the fields its class annotates, in order, each with an optional default
(``field(default=..., repr=False, eq=False)`` for more), and a ``__post_init__`` it may define
runs once the fields are set. It is built with those fields as
positional or keyword arguments; it has a repr of the fields shown, equality and a hash over
the fields compared, pickles and copies, and refuses every change (:func:`replace` builds a
changed copy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

_T = TypeVar("_T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING: Any = _Missing()


class FrozenRecordError(AttributeError):
    """A field of a record was set or deleted: records never change."""


class _Field:
    __slots__ = ("default", "eq", "repr")

    def __init__(self, default: Any, repr: bool, eq: bool) -> None:
        self.default = default
        self.repr = repr
        self.eq = eq


def field(*, default: Any = _MISSING, repr: bool = True, eq: bool = True) -> Any:
    """A field with a default, or kept out of the repr (secrets), or out of equality."""
    return _Field(default, repr, eq)


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda decorated: decorated


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenRecordError(f"{type(self).__name__} is frozen: build a new one")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenRecordError(f"{type(self).__name__} is frozen")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_T]) -> type[_T]:
    """Make ``cls`` a frozen, slotted record of the fields it annotates (see the module)."""
    # The class's own annotations, in order (strings: every module here defers them).
    names = list(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063  (inspect is the cost)
    fields: dict[str, _Field] = {}
    for name in names:
        value = cls.__dict__.get(name, _MISSING)
        fields[name] = value if isinstance(value, _Field) else _Field(value, True, True)
    seen_default = False
    for name, spec in fields.items():
        if spec.default is _MISSING and seen_default:
            raise TypeError(f"{cls.__name__}.{name}: a field without a default after one with")
        seen_default = seen_default or spec.default is not _MISSING

    namespace = {
        key: value
        for key, value in cls.__dict__.items()
        if key not in names and key not in ("__dict__", "__weakref__")
    }
    # A weak reference slot, as attrs gives: the redactor pins a secret for its owner's life.
    namespace["__slots__"] = (*names, "__weakref__")
    namespace["__match_args__"] = tuple(names)

    # One generated __init__ per class, as attrs and dataclasses do: as fast as one written by
    # hand, which matters for the records the core builds on every call.
    defaults = {f"_default_{name}": spec.default for name, spec in fields.items()}
    params = ", ".join(
        ["self"]
        + [
            name if spec.default is _MISSING else f"{name}=_default_{name}"
            for name, spec in fields.items()
        ]
    )
    body = "".join(f"    _set(self, {name!r}, {name})\n" for name in names)
    if "__post_init__" in cls.__dict__:
        body += "    self.__post_init__()\n"
    body = body or "    pass\n"
    source = f"def __init__({params}) -> None:\n{body}"
    scope: dict[str, Any] = {"_set": object.__setattr__, **defaults}
    exec(source, scope)  # noqa: S102  (built from the class's own field names only)
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    namespace["__init__"] = init

    shown = tuple(name for name, spec in fields.items() if spec.repr)
    compared = tuple(name for name, spec in fields.items() if spec.eq)

    def __repr__(self: Any) -> str:
        parts = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__name__}({parts})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in compared)

    def __hash__(self: Any) -> int:
        return hash((type(self).__qualname__, *(getattr(self, name) for name in compared)))

    def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
        return (type(self), tuple(getattr(self, name) for name in names))

    for function in (__repr__, __eq__, __hash__, __reduce__):
        function.__qualname__ = f"{cls.__qualname__}.{function.__name__}"
        namespace.setdefault(function.__name__, function)
    namespace["__setattr__"] = _frozen_setattr
    namespace["__delattr__"] = _frozen_delattr
    namespace["__qualname__"] = cls.__qualname__
    built: type[_T] = type(cls.__name__, cls.__bases__, namespace)
    return built


def replace(instance: _T, **changes: Any) -> _T:
    """A copy of the record ``instance`` with ``changes`` to its fields."""
    names: tuple[str, ...] = getattr(type(instance), "__match_args__")  # noqa: B009
    values = {name: getattr(instance, name) for name in names}
    unknown = changes.keys() - values.keys()
    if unknown:
        raise TypeError(f"{type(instance).__name__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(instance)(**values)
