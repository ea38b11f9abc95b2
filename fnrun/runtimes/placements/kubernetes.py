"""``kubernetes``: a run becomes the function's Kubernetes workload (a ``batch/v1`` Job for
``job``, an MPIJob for ``mpijob``, a SparkApplication for ``spark``) on the cluster
:func:`fnrun.runtimes.kubernetes.cluster.find_cluster` names, followed to its end
(:mod:`fnrun.runtimes.kubernetes.run`). With no cluster configured, or without the ``kubernetes``
client, the run goes to the kind's local placement (a child process, ``mpirun`` here, a
``local[N]`` Spark driver here) and the start line says why: MLRun code that never says
``local=True`` runs on a laptop as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fnrun.runtimes.kubernetes.cluster import ClusterError, configured_cluster
from fnrun.runtimes.placements import Place, register_placement

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike


def on_cluster(fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place:
    cluster, why = configured_cluster()
    if cluster is None:
        raise ClusterError(f"no cluster to run on: {why}", hint="pass local=True")
    from fnrun.runtimes.kubernetes.run import KubeRun
    from fnrun.runtimes.progress import status_printer

    run = KubeRun(fn, cluster, db, watch, status_printer(watch))

    return run


def where(fn: RuntimeLike) -> str:
    cluster, why = configured_cluster()
    if cluster is None:
        return why
    from fnrun.runtimes.kubernetes.workloads import of_function

    return f"as a Kubernetes {of_function(fn).kind} on {cluster.describe()}"


def resolve(fn: RuntimeLike) -> tuple[str, str]:
    """Here when a cluster is configured, else the kind's local placement (a child process,
    mpirun, a Spark driver here); that too when the function names where it runs (a Spark
    master URL)."""
    local = fn.local_placement or "process"
    if not fn.wants_cluster():
        return local, ""
    cluster, why = configured_cluster()
    return ("kubernetes", "") if cluster is not None else (local, why)


register_placement("kubernetes", on_cluster, where, resolve, detached=True)
