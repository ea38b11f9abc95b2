"""Placements: where a run's handler executes. One module per engine, registered by name;
each function kind names its default placement as a class attribute (no kind-string chains).

A placement turns a run request into the committed run document, through the one execution
path (:func:`fnrun.execution.execute.execute`) wherever the code runs:

- ``here``: this process (the ``handler`` kind, a callable handler, ``fnrun run``);
- ``process``: a child process (``python -m fnrun exec --from-env``), for ``local``/``job``;
- ``dask``: this process as the Dask client, ``context.dask_client`` connected to the
  function's cluster (a LocalCluster by default, or a scheduler address);
- ``dask-workers``: each request on a worker of that cluster (parallel iterations);
- ``spark``: this process as the Spark driver, ``context.spark_session`` configured from the
  function (``local[N]`` by default, or a master URL);
- ``mpi``: ``mpirun -np <replicas>`` ranks, rank 0 tracking the run;
- ``kubernetes``: the function's workload (a ``batch/v1`` Job, an MPIJob, a
  SparkApplication) on the configured cluster, followed to its end; without a cluster, the
  kind's local placement (a child process, mpirun, a local Spark driver).

Each placement also says, in words, where a run of a function goes (the start line).

May import: kubernetes/, local/, progress/ and the layers below runtimes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from fnrun.errors import InvalidArgumentError

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest
    from fnrun.model.function_like import RuntimeLike

Place = Callable[["RunRequest"], dict[str, Any]]


class Placement(Protocol):
    """Builds the callable that runs one request and returns its stored run document."""

    def __call__(self, fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place: ...


Where = Callable[["RuntimeLike"], str]
# the placement a run of the function really uses (another when this one cannot), and why
Resolve = Callable[["RuntimeLike"], tuple[str, str]]


@dataclass(frozen=True)
class Registered:
    """One engine, registered once: how it runs a request and what it says of itself."""

    placement: Placement
    where: Where | None = None  # where a run goes, in words (else the placement's name)
    resolve: Resolve | None = None  # the placement really used, and why (else this one)
    detached: bool = False  # runs outside this process and can go on without it


_REGISTERED: dict[str, Registered] = {}


def register_placement(
    name: str,
    placement: Placement,
    where: Where | None = None,
    resolve: Resolve | None = None,
    detached: bool = False,
) -> None:
    """``detached``: its runs execute outside this process and can go on without it (a
    child process, a Kubernetes workload), so ``watch=False`` may return once they start."""
    _REGISTERED[name] = Registered(placement, where, resolve, detached)


def runs_detached(name: str) -> bool:
    return _registered(name).detached


def resolve_placement(name: str, fn: RuntimeLike) -> tuple[str, str]:
    """The placement a run of ``fn`` placed by ``name`` uses, and why if it is another
    (``kubernetes`` without a configured cluster: ``process``)."""
    resolve = _registered(name).resolve
    return resolve(fn) if resolve is not None else (name, "")


def describe_placement(name: str, fn: RuntimeLike) -> str:
    """Where a run of ``fn`` placed by ``name`` goes, in words."""
    where = _registered(name).where
    return where(fn) if where is not None else name


def get_placement(name: str) -> Placement:
    return _registered(name).placement


def _registered(name: str) -> Registered:
    _load_builtin()
    found = _REGISTERED.get(name)
    if found is None:
        raise InvalidArgumentError(
            f"unknown placement {name!r}",
            field="placement",
            hint=f"placements: {', '.join(sorted(_REGISTERED))}",
        )
    return found


def _load_builtin() -> None:
    """Import the built-in placements (each registers itself); importing one of them directly
    first must not hide the others."""
    from fnrun.runtimes.placements import dask, here, kubernetes, mpi, process, spark  # noqa: F401
