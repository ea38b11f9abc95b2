"""The Kubernetes workloads a run can be: where each lives in the API, which of its pods
runs the fnrun entry (and so reports the run and has its log), and how its status says it
ended. A ``batch/v1`` Job is built in; MPIJob and SparkApplication need their operators
installed on the cluster, and a cluster without them is told so by name.

All go through the API's generic object paths (``/apis/<group>/<version>/namespaces/<ns>/
<plural>``), so one submit / read / delete serves every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.kubernetes.pod_status import condition_outcome, job_outcome


@dataclass(frozen=True)
class Workload:
    kind: str
    group: str
    version: str
    plural: str
    runner: str  # the ``fnrun/role`` label of the pod running the entry ('' : its only pod)
    outcome: Callable[[dict[str, Any]], str]  # "complete", "failed: why", '' while it runs
    provider: str  # what serves the kind ("Kubernetes", "the Kubeflow MPI operator", ...)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def path(self) -> tuple[str, str, str]:
        return self.group, self.version, self.plural


def mpijob_outcome(doc: dict[str, Any]) -> str:
    """An MPIJob (``kubeflow.org/v2beta1``) ends with a ``Succeeded`` or ``Failed``
    condition."""
    return condition_outcome(doc, "Succeeded")


def spark_outcome(doc: dict[str, Any]) -> str:
    """A SparkApplication (``v1beta2``) says ``status.applicationState.state``: COMPLETED,
    FAILED or SUBMISSION_FAILED at its end."""
    state = (doc.get("status") or {}).get("applicationState") or {}
    name = str(state.get("state") or "")
    if name == "COMPLETED":
        return "complete"
    if name in ("FAILED", "SUBMISSION_FAILED"):
        why = state.get("errorMessage") or name
        return f"failed: {why}"
    return ""


JOB = Workload("Job", "batch", "v1", "jobs", "", job_outcome, "Kubernetes")
MPIJOB = Workload(
    "MPIJob", "kubeflow.org", "v2beta1", "mpijobs", "launcher", mpijob_outcome,
    "the Kubeflow MPI operator",
)  # fmt: skip
SPARK_APPLICATION = Workload(
    "SparkApplication", "sparkoperator.k8s.io", "v1beta2", "sparkapplications", "driver",
    spark_outcome, "the Spark operator (kubeflow/spark-operator)",
)  # fmt: skip


def dask_outcome(doc: dict[str, Any]) -> str:
    """A DaskCluster runs until deleted; its operator says ``status.phase``."""
    phase = str((doc.get("status") or {}).get("phase") or "")
    return f"failed: {phase}" if phase in ("Failed", "Error") else ""


DASK_CLUSTER = Workload(
    "DaskCluster", "kubernetes.dask.org", "v1", "daskclusters", "scheduler", dask_outcome,
    "the dask-kubernetes operator",
)  # fmt: skip
DASK_AUTOSCALER = Workload(
    "DaskAutoscaler", "kubernetes.dask.org", "v1", "daskautoscalers", "", dask_outcome,
    "the dask-kubernetes operator",
)  # fmt: skip
_BY_KIND = {w.kind: w for w in (JOB, MPIJOB, SPARK_APPLICATION, DASK_CLUSTER, DASK_AUTOSCALER)}


def workload_of(doc: dict[str, Any]) -> Workload:
    """The workload a manifest is (by its ``kind`` and ``apiVersion``)."""
    found = _BY_KIND.get(str(doc.get("kind")))
    if found is None or doc.get("apiVersion") != found.api_version:
        raise InvalidArgumentError(
            f"cannot submit a {doc.get('apiVersion')} {doc.get('kind')}",
            field="kind",
            hint="workloads: " + ", ".join(f"{w.api_version} {w.kind}" for w in _BY_KIND.values()),
        )
    return found


def named(kind: str) -> Workload:
    """The workload of kind ``kind`` (``Job`` when a run recorded none: older runs)."""
    return _BY_KIND.get(kind or "Job", JOB)


_BY_FUNCTION = {"job": JOB, "mpijob": MPIJOB, "spark": SPARK_APPLICATION}


def of_function(fn: Any) -> Workload:
    """The workload a run of ``fn`` submits (its kind's ``workload`` name)."""
    return _BY_FUNCTION.get(getattr(fn, "workload", "") or "job", JOB)
