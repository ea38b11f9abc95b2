"""The registry of function kinds: ``register_runtime`` instead of kind-string if-chains.

The built-in kinds (:mod:`fnrun.runtimes.functions.kinds`) register when they are imported;
the factory imports them on the first function it makes (``factory.runtime_class``,
``factory.kinds``); the registry itself imports no kind.

>>> from fnrun.runtimes.functions.registry import get_runtime_class
>>> get_runtime_class("job").kind
'job'
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, TypeVar

from fnrun.errors import InvalidArgumentError

if TYPE_CHECKING:
    from fnrun.runtimes.functions.base import BaseRuntime

R = TypeVar("R", bound="type[BaseRuntime]")

_RUNTIMES: dict[str, type[BaseRuntime]] = {}
# MLRun spellings that name the same kind ("" is MLRun's local kind, "remote" its nuclio kind).
_ALIASES = {"": "local"}


def register_runtime(cls: R) -> R:
    """Class decorator: make ``cls.kind`` (and ``cls.aliases``) resolve to ``cls``."""
    _RUNTIMES[cls.kind] = cls
    for alias in cls.aliases:
        _ALIASES[alias] = cls.kind
    return cls


def canonical_kind(kind: str | None) -> str:
    kind = (kind or "").strip()
    return _ALIASES.get(kind, kind)


def get_runtime_class(kind: str | None) -> type[BaseRuntime]:
    """The function class for ``kind``; an unknown kind names the known ones."""
    name = canonical_kind(kind)
    cls = _RUNTIMES.get(name)
    if cls is None:
        close = difflib.get_close_matches(name, list(_RUNTIMES), n=1)
        known = ", ".join(kinds())
        hint = f"did you mean '{close[0]}'? kinds: {known}" if close else f"kinds: {known}"
        raise InvalidArgumentError(f"unknown function kind '{kind}'", field="kind", hint=hint)
    return cls


def kinds() -> list[str]:
    """The registered kinds, sorted."""
    return sorted(_RUNTIMES)
