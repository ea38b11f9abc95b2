"""What the layers below the function kinds need of a function: ``FunctionLike``.

Execution (handler binding, code loading, the child entry) works on any object with these
members; ``fnrun.runtimes.functions.base.BaseRuntime`` is the one the kinds build. Typing
against this protocol keeps ``execution`` from importing ``runtimes``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fnrun.errors import FnrunError
from fnrun.model.function import FunctionMetadata, FunctionStatus


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


class RuntimeLike(FunctionLike, Protocol):
    """A function as the runtimes' lower rooms see it (placements, Kubernetes, local
    processes, builds, the launcher): its kind and the kind's capabilities as well.
    ``fnrun.runtimes.functions.base.BaseRuntime`` is the one the kinds build; typing against
    this keeps those rooms from importing the kinds above them."""

    @property
    def kind(self) -> str: ...
    @property
    def is_batch(self) -> bool: ...
    @property
    def is_deployable(self) -> bool: ...
    @property
    def is_kubernetes(self) -> bool: ...
    @property
    def runs_in_process(self) -> bool: ...
    @property
    def runs_on_this_machine(self) -> bool: ...
    @property
    def submits_runs(self) -> bool: ...
    @property
    def placement(self) -> str: ...
    @property
    def parallel_placement(self) -> str: ...
    @property
    def local_placement(self) -> str: ...
    @property
    def workload(self) -> str: ...

    status: FunctionStatus

    def wants_cluster(self) -> bool: ...
    def to_yaml(self) -> str: ...
    def local_env(self) -> dict[str, str]: ...


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
