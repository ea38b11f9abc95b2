"""What the layers below the function kinds need of a function: ``FunctionLike``.

Execution (handler binding, code loading, the child entry) works on any object with these
members; ``fnrun.runtimes.functions.base.BaseRuntime`` is the one the kinds build. Typing
against this protocol keeps ``execution`` from importing ``runtimes``.
"""

from __future__ import annotations

from typing import Any, Protocol

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
