"""Kubernetes manifests of a run, one builder per workload kind, registered by name; each
function kind names its workload (``job``, ``mpijob``, ``spark``, ``dask``) as a class
attribute. ``fn.manifests(...)`` shows what a run would submit; the Kubernetes placement
(:mod:`fnrun.runtimes.kubernetes.run`) submits the same objects (today the ``job`` kind's).

May import: the rest of kubernetes/, local/ and the layers below runtimes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError

if TYPE_CHECKING:
    from fnrun.execution.execute import RunRequest
    from fnrun.model.function_like import RuntimeLike
    from fnrun.runtimes.kubernetes.manifests.pod import RunObjects

Builder = Callable[["RuntimeLike", "RunObjects"], list[dict[str, Any]]]
_BUILDERS: dict[str, Builder] = {}


def register_workload(name: str, builder: Builder) -> None:
    _BUILDERS[name] = builder


def build_manifests(
    fn: RuntimeLike,
    request: RunRequest,
    db_url: str,
    namespace: str = "",
    with_secrets: bool = False,
    db_token: str = "",
) -> list[dict[str, Any]]:
    """The objects a run of ``fn`` submits: [Secret,] ConfigMap, workload (``db_token``: the
    fnrun service's, into the Secret, when the pods report to the service)."""
    from fnrun.runtimes.kubernetes.manifests import dask, job, mpi, spark  # noqa: F401 - they register
    from fnrun.runtimes.kubernetes.manifests.pod import run_objects

    name = getattr(fn, "workload", "")
    builder = _BUILDERS.get(name)
    if builder is None:
        raise InvalidArgumentError(
            f"a {fn.kind!r} function has no Kubernetes workload",
            field="kind",
            hint="kinds with one: " + ", ".join(sorted(_BUILDERS)),
        )
    request.uid = request.uid or uuid.uuid4().hex
    objects = run_objects(fn, request, db_url, namespace, with_secrets, db_token=db_token)
    objects.workload = builder(fn, objects)
    return objects.all()
