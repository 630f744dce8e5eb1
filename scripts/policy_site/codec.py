"""Dataclasses to JSON and back, building nothing but registered classes (the parse cache's format).

A module that wants its dataclasses stored says so once: `codec.register(Policy, Section, …)`. Decoding only
ever constructs those classes; any other class named in the data stays an inert `Opaque` record, so data that
another process wrote with more classes registered survives a round trip without being built.

Values: None, bool, int, float, str, date, datetime, tuple, list, dict with str keys, registered dataclasses.
Every dataclass instance is written once into an object table, children first, and referenced by position,
so sharing survives (a Section shared by 300 versions is stored once, as with pickle's memo); equal instances
of a frozen dataclass holding no list or dict are stored once too, as nothing can tell them apart. Cycles are
not supported.

Decoding builds an object when something refers to it, so the rows only reached through a *lazy* field are
never built unless that field is read: a class that inherits `Lazy` and registers with `lazy=("redline",)` gets
that field decoded on first use (a warm build reads every diff's list of changed sections, but renders the
word-level redline of the few pages that changed: the redlines are two thirds of the table).

JSON forms: an integer n is the n-th object of the table (objects are the most common value); {"i": 5} an int;
{"f": 0.5} a float; an array a tuple; {"l": [...]} a list; {"d": {...}} a dict; {"D": "2026-11-25"} a date;
{"T": "2026-11-25T10:00:00+00:00"} a datetime; strings, booleans and null as such. An object is
[class index, field values...], its class [qualified name, [field names]] in the class table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from typing import Any

_REGISTRY: dict[str, type] = {}
_LAZY: dict[str, frozenset[str]] = {}  # class name → fields decoded when first read


def register(*classes: type, lazy: tuple[str, ...] = ()) -> None:
    """Allow the codec to write and build these dataclasses; `lazy`: fields left undecoded until first read
    (the classes must inherit Lazy, and keep their fields in __dict__: no slots)."""
    for cls in classes:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls!r} is not a dataclass")
        if lazy:
            if not issubclass(cls, Lazy) or hasattr(cls, "__slots__") or hasattr(cls, "__post_init__") \
                    or not set(lazy) <= set(_field_names(cls)):
                raise TypeError(f"{cls!r} cannot have lazy fields {lazy}")
            _LAZY[qualified_name(cls)] = frozenset(lazy)
        _REGISTRY[qualified_name(cls)] = cls


class Lazy:
    """A dataclass some of whose fields the codec may leave undecoded until they are first read."""

    def __getattr__(self, name: str) -> Any:  # only called when the field is not set yet
        pending = self.__dict__.get("_pending")
        if pending is None or name not in pending:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = pending[name]()
        self.__dict__[name] = value
        del pending[name]
        if not pending:
            del self.__dict__["_pending"]
        return value

    def __getstate__(self) -> dict[str, Any]:  # pickling and copying see every field, decoded
        for name in list(self.__dict__.get("_pending", ())):
            getattr(self, name)
        return dict(self.__dict__)


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.init]


class CodecError(ValueError):
    """The data is not what this codec writes."""


@dataclasses.dataclass(frozen=True)
class Opaque:
    """An object of a class this process has not registered: kept as data, never built."""

    name: str
    fields: tuple[str, ...]
    values: tuple


class _Tagged:
    """An int, date or datetime on its way to JSON ({"i": 5}); hashable, so that rows holding one compare."""

    __slots__ = ("tag", "value")

    def __init__(self, tag: str, value: object) -> None:
        self.tag, self.value = tag, value

    def __eq__(self, other: object) -> bool:
        return type(other) is _Tagged and self.tag == other.tag and self.value == other.value

    def __hash__(self) -> int:
        return hash((self.tag, self.value))


def to_json(obj: object) -> object:
    """json.dumps' `default` for what an Encoder returns."""
    if type(obj) is _Tagged:
        return {obj.tag: obj.value}
    raise TypeError(f"codec: cannot write {type(obj).__name__}")


class Encoder:
    """Values to data for json.dumps(…, default=to_json), sharing one class table and one object table."""

    def __init__(self) -> None:
        self.classes: list[list] = []
        self.objects: list[tuple] = []
        self._class_index: dict[tuple, int] = {}
        self._kinds: dict[type, tuple[int, list[str], bool]] = {}
        self._memo: dict[int, int] = {}
        self._alive: list[object] = []  # keeps encoded objects alive, so their id() is not reused
        self._rows: dict[tuple, int] = {}  # equal frozen objects are stored once

    @classmethod
    def resume(cls, classes: list[list], objects: list, built: list[object]) -> Encoder:
        """An encoder that goes on from tables read back (`objects` as JSON data, `built` the objects a Decoder
        built from them, in order): values already in those tables encode as their old index, so a file can be
        written again without encoding its old values anew."""
        encoder = cls()
        encoder.classes = [list(c) for c in classes]
        encoder._class_index = {(name, tuple(fields)): i for i, (name, fields) in enumerate(encoder.classes)}
        encoder.objects = list(objects)
        encoder._memo = {id(obj): i for i, obj in enumerate(built) if obj is not None}  # None: never built
        encoder._alive = list(built)
        return encoder

    def _class(self, name: str, fields: list[str]) -> int:
        key = (name, tuple(fields))
        if key not in self._class_index:
            self._class_index[key] = len(self.classes)
            self.classes.append([name, list(fields)])
        return self._class_index[key]

    def _kind(self, kind: type) -> tuple[int, list[str], bool]:
        if _REGISTRY.get(qualified_name(kind)) is not kind:
            raise TypeError(f"codec: {qualified_name(kind)} is not registered; add it to a codec.register(...) call")
        names = _field_names(kind)
        info = self._kinds[kind] = (self._class(qualified_name(kind), names), names,
                                    kind.__dataclass_params__.frozen)  # type: ignore[attr-defined]
        return info

    def value(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or value is None or kind is bool:
            return value
        if kind is tuple:
            return tuple([v if type(v) is str else self.value(v) for v in value])
        if kind is int or kind is float:  # tagged: a bare number is a reference, and True == 1.0 in a row
            return _Tagged("i" if kind is int else "f", value)
        if kind is list:
            return {"l": [self.value(v) for v in value]}
        if kind is dict:
            if not all(type(k) is str for k in value):
                raise TypeError("codec: dict keys must be str")
            return {"d": {k: self.value(v) for k, v in value.items()}}
        if kind is datetime:
            return _Tagged("T", value.isoformat())
        if kind is date:
            return _Tagged("D", value.isoformat())
        index = self._memo.get(id(value))
        if index is not None:
            return index
        if kind is Opaque:
            row = (self._class(value.name, list(value.fields)), *(self.value(v) for v in value.values))
            frozen = False
        else:
            class_index, names, frozen = self._kinds.get(kind) or self._kind(kind)
            row = (class_index, *[v if type(v) is str else self.value(v) for v in map(partial(getattr, value), names)])
        index = len(self.objects)
        if frozen:
            try:  # an equal twin may stand in for it: nothing in it can change
                index = self._rows.setdefault(row, index)
            except TypeError:  # it holds a list or a dict: never shared
                pass
        if index == len(self.objects):
            self.objects.append(row)
        self._memo[id(value)] = index
        self._alive.append(value)
        return index


def _builder(name: str, fields: list[str]):
    """How to build an object of the named class: the registered class, or an Opaque record."""
    cls = _REGISTRY.get(name)
    if cls is None:
        return None
    if _field_names(cls) != fields:
        raise CodecError(f"class {name} has other fields now")
    if hasattr(cls, "__slots__") or hasattr(cls, "__post_init__"):
        return lambda values: cls(*values)

    def build(values: list) -> object:  # what unpickling does: no __init__, the fields set directly
        obj: Any = object.__new__(cls)
        obj.__dict__.update(zip(fields, values))
        return obj

    return build


class _Later:
    """A lazy field's JSON data, decoded when the field is first read."""

    __slots__ = ("decoder", "data", "limit")

    def __init__(self, decoder: Decoder, data: Any, limit: int) -> None:
        self.decoder, self.data, self.limit = decoder, data, limit

    def __call__(self) -> Any:
        try:
            return self.decoder.later(self.data, self.limit)
        except (CodecError, RecursionError) as exc:  # found only now: the caller's error, not a traceback
            raise self.decoder.damaged(str(exc) or type(exc).__name__) from None


class Decoder:
    """JSON-ready data back to values, building registered classes only.

    `value` tells whether a decoded value holds an Opaque object anywhere (a class not registered here).
    """

    def __init__(self, classes: Any, objects: Any,
                 damaged: Callable[[str], Exception] = CodecError) -> None:
        self.damaged = damaged  # the exception a lazy field raises when its data turns out malformed
        if not isinstance(classes, list) or not isinstance(objects, list):
            raise CodecError("no class or object table")
        self._classes: list[tuple[str, tuple[str, ...], Any]] = []
        for entry in classes:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                    and isinstance(entry[1], list) and all(isinstance(f, str) for f in entry[1])):
                raise CodecError("malformed class table")
            self._classes.append((entry[0], tuple(entry[1]), _builder(entry[0], entry[1])))
        self._rows = objects
        self.objects: list[object] = [None] * len(objects)  # built on first reference (None: not yet)
        self._built = bytearray(len(objects))
        self._tainted = bytearray(len(objects))
        self._lazy = [_LAZY.get(name, frozenset()) if build is not None else frozenset()
                      for name, _, build in self._classes]
        self._limit = len(objects)  # a row may refer to rows before it only
        self._taint = False

    def _object(self, index: int) -> None:
        row = self._rows[index]
        if type(row) is not list or not row or type(row[0]) is not int or not 0 <= row[0] < len(self._classes):
            raise CodecError("malformed object")
        name, fields, build = self._classes[row[0]]
        if len(row) != len(fields) + 1:
            raise CodecError(f"an object of {name} has {len(row) - 1} values for {len(fields)} fields")
        outer_taint, outer_limit = self._taint, self._limit
        self._taint, self._limit = build is None, index
        try:
            value = self._value
            lazy = self._lazy[row[0]]
            if lazy:
                later = {f: _Later(self, v, index) for f, v in zip(fields, row[1:]) if f in lazy}
                values = [None if f in lazy else v if type(v) is str else value(v) for f, v in zip(fields, row[1:])]
            else:
                values = [v if type(v) is str else value(v) for v in row[1:]]
            try:
                obj = Opaque(name, fields, tuple(values)) if build is None else build(values)
            except Exception as exc:  # noqa: BLE001 - whatever a constructor says about bad data, it is bad data
                raise CodecError(f"cannot build {name}: {exc}") from None
            if lazy:
                for field in later:
                    del obj.__dict__[field]
                obj.__dict__["_pending"] = later
            self.objects[index] = obj
            self._built[index] = 1
            self._tainted[index] = self._taint
        finally:
            self._taint, self._limit = outer_taint, outer_limit

    def later(self, data: Any, limit: int) -> Any:
        """A lazy field's value (its row was `limit`: it refers to rows before it only)."""
        outer = self._limit, self._taint
        self._limit, self._taint = limit, False
        try:
            return self._value(data)
        finally:
            self._limit, self._taint = outer

    def _value(self, value: Any) -> Any:
        kind = type(value)
        if kind is int:
            if value < 0 or value >= self._limit:
                raise CodecError("reference to an object not defined before")
            if not self._built[value]:
                self._object(value)
            if self._tainted[value]:
                self._taint = True
            return self.objects[value]
        if kind is str or value is None or kind is bool:
            return value
        if kind is list:
            return tuple([v if type(v) is str else self._value(v) for v in value])
        if kind is not dict or len(value) != 1:
            raise CodecError("malformed value")
        (tag, inner), = value.items()
        if tag == "i" and type(inner) is int:
            return inner
        if tag == "f" and type(inner) in (int, float):
            return float(inner)
        if tag == "l" and type(inner) is list:
            return [self._value(v) for v in inner]
        if tag == "d" and type(inner) is dict:
            return {k: self._value(v) for k, v in inner.items()}
        try:
            if tag == "T" and type(inner) is str:
                return datetime.fromisoformat(inner)
            if tag == "D" and type(inner) is str:
                return date.fromisoformat(inner)
        except ValueError:
            raise CodecError(f"malformed date {inner!r}") from None
        raise CodecError(f"unknown form {tag!r}")

    def value(self, value: Any) -> tuple[Any, bool]:
        """A decoded value and whether it holds an Opaque object."""
        self._taint = False
        decoded = self._value(value)
        return decoded, self._taint
