"""What the layers below the function kinds need of a function: ``FunctionLike``.

Execution (handler binding, code loading, the child entry) works on any object with these
members; ``fnrun.runtimes.functions.base.BaseRuntime`` is the one the kinds build. Typing
against this protocol keeps ``execution`` from importing ``runtimes``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fnrun.errors import FnrunError
from fnrun.model.function import FunctionMetadata


class FunctionLike(Protocol):
    """A function as execution sees it: its document, its code and its run-time extras."""

    metadata: FunctionMetadata
    spec: Any  # the kind's spec class (a FunctionSpec or a subclass with the kind's fields)

    @property
    def uri(self) -> str: ...
    @property
    def code(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def run_extras(self) -> dict[str, Any]: ...


# The kinds' factories, handed down: layers below the kinds (a graph's RunStep, a hub item
# built from its code) make functions through these, never by importing runtimes.
_MAKERS: dict[str, Callable[..., Any]] = {}


def hand_down(**makers: Callable[..., Any]) -> None:
    """Register the kinds' factories (``import_function``, ``code_to_function``)."""
    _MAKERS.update(makers)


def maker(name: str) -> Callable[..., Any]:
    """The factory ``name`` the kinds handed down (they do when ``fnrun`` is imported)."""
    found = _MAKERS.get(name)
    if found is None:
        raise FnrunError(f"{name} is not available: import fnrun (its function kinds) first")
    return found
