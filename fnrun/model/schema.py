"""Strict dataclass models: dict round-trip with clear errors for unknown keys and wrong types.

Every data-model object (function, run, artifact, graph) is a dataclass deriving from
:class:`Model`. ``from_dict`` rejects a key the class does not declare, naming the key path and
the closest known key, and checks each value against the field's type hint; ``to_dict`` writes
only the fields that differ from their defaults, so ``from_dict(x.to_dict()) == x``.

>>> from dataclasses import dataclass
>>> @dataclass
... class Point(Model):
...     x: int = 0
>>> Point.from_dict({"x": 1}).to_dict()
{'x': 1}
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self, Union

from fnrun.errors import SchemaError


class _NotSet:
    """Marks a field that was absent (unlike an explicit ``None``)."""

    _instance: ClassVar[_NotSet | None] = None

    def __new__(cls) -> _NotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOTSET"

    def __bool__(self) -> bool:
        return False

    def __deepcopy__(self, memo: dict[int, Any]) -> _NotSet:
        return self


NOTSET: Any = _NotSet()


@dataclasses.dataclass(frozen=True)
class _FieldInfo:
    attr: str
    key: str
    hint: Any
    default: Any  # a value, or a zero-argument factory when ``factory`` is set
    factory: bool

    def default_value(self) -> Any:
        return self.default() if self.factory else self.default


def alias(key: str, **kwargs: Any) -> Any:
    """A dataclass field serialised under another key (``functionSourceCode``)."""
    return dataclasses.field(metadata={"alias": key}, **kwargs)


class Model:
    """Base class of strict data-model dataclasses."""

    _schema_name: ClassVar[str] = ""
    _fields_cache: ClassVar[dict[type, dict[str, _FieldInfo]]] = {}

    @classmethod
    def _fields(cls) -> dict[str, _FieldInfo]:
        """Fields by serialised key; computed once per class."""
        cached = Model._fields_cache.get(cls)
        if cached is None:
            hints = typing.get_type_hints(cls)
            cached = {}
            for f in dataclasses.fields(cls):  # type: ignore[arg-type]
                if not f.init:
                    continue
                factory = f.default is dataclasses.MISSING
                default = f.default_factory if factory else f.default
                key = f.metadata.get("alias", f.name)
                cached[key] = _FieldInfo(f.name, key, hints[f.name], default, factory)
            Model._fields_cache[cls] = cached
        return cached

    @classmethod
    def keys(cls) -> list[str]:
        """The keys this model accepts."""
        return list(cls._fields())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, path: str = "") -> Self:
        """Build from a dict, rejecting unknown keys and wrong types with the key path."""
        if data is None:
            return cls()
        if isinstance(data, cls):
            return copy.deepcopy(data)
        if not isinstance(data, Mapping):
            raise SchemaError(f"expected a mapping, got {type(data).__name__}", field=path or "$")
        fields = cls._fields()
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            info = fields.get(key)
            if info is None:
                raise unknown_key_error(key, list(fields), path, cls._schema_name)
            kwargs[info.attr] = convert(value, info.hint, join(path, key))
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The fields that differ from their defaults, under their serialised keys."""
        out: dict[str, Any] = {}
        for key, info in self._fields().items():
            value = getattr(self, info.attr)
            if _is_default(value, info):
                continue
            out[key] = dump(value)
        return out

    def copy(self) -> Self:
        return copy.deepcopy(self)


def warm_fields() -> int:
    """Compute the field table of every model class imported so far (a server that forks a
    process per run does it once, so no child does it again); the number of classes."""
    todo, seen = list(Model.__subclasses__()), 0
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if dataclasses.is_dataclass(cls):
            cls._fields()
            seen += 1
    return seen


def _is_default(value: Any, info: _FieldInfo) -> bool:
    if value is NOTSET:
        return True
    default = info.default_value()
    if value is default:
        return True
    return type(value) is type(default) and value == default


def dump(value: Any) -> Any:
    """Plain (JSON/YAML-ready) form of a value that may hold models."""
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def unknown_key_error(key: str, known: list[str], path: str, what: str) -> SchemaError:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(known))}"
    where = f" in {what}" if what else ""
    return SchemaError(f"unknown key '{key}'{where}", field=join(path, str(key)), hint=hint)


_SCALARS: dict[type, str] = {str: "str", int: "int", float: "float", bool: "bool"}


def type_name(hint: Any) -> str:
    """A readable name for a type hint: ``list of str``, ``mapping of str to int``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return "any"
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping of {type_name(args[0])} to {type_name(args[1])}"
    if isinstance(hint, type) and issubclass(hint, Model):
        return f"mapping ({hint._schema_name or hint.__name__})"
    return _SCALARS.get(hint, getattr(hint, "__name__", str(hint)))


def convert(value: Any, hint: Any, path: str) -> Any:
    """Check ``value`` against ``hint`` and build nested models; raise SchemaError on mismatch."""
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return _convert_union(value, hint, path)
    if origin is list:
        if not isinstance(value, list | tuple):
            raise _type_error(value, hint, path)
        (item,) = typing.get_args(hint)
        return [convert(v, item, join(path, i)) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _type_error(value, hint, path)
        _, item = typing.get_args(hint)
        return {str(k): convert(v, item, join(path, str(k))) for k, v in value.items()}
    if isinstance(hint, type) and issubclass(hint, Model):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise _type_error(value, hint, path)
        return hint.from_dict(value, path)
    if _scalar_ok(value, hint):
        return value
    raise _type_error(value, hint, path)


def _scalar_ok(value: Any, hint: type) -> bool:
    if isinstance(value, bool):
        return hint is bool
    if hint is float:
        return isinstance(value, int | float)
    return isinstance(value, hint)


def _convert_union(value: Any, hint: Any, path: str) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if value is None:
        if len(args) < len(typing.get_args(hint)):
            return None
        raise _type_error(value, hint, path)
    for arg in args:
        try:
            return convert(value, arg, path)
        except SchemaError:
            if len(args) == 1:
                raise
    raise _type_error(value, hint, path)


def _type_error(value: Any, hint: Any, path: str) -> SchemaError:
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return SchemaError(
        f"expected {type_name(hint)}, got {type(value).__name__} {shown}",
        field=path or "$",
        hint=f"set it to a {type_name(hint)}",
    )
