"""Follow a run's workload and its pod by polling the API (a run's Job, MPIJob or
SparkApplication, an image build's Job; :mod:`fnrun.runtimes.kubernetes.workloads`).

The loop ends when the workload completes or fails, the pod running the entry (the Job's
pod, the MPI launcher, the Spark driver) ends, the workload is deleted (an abort), or that
pod cannot start: a problem Kubernetes will not fix itself (a malformed image name) at once,
any other (image pulls, scheduling) once it outlasts the pending timeout; then the workload
is deleted rather than left retrying.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fnrun.errors import NotFoundError
from fnrun.runtimes.kubernetes.cluster import ClusterError
from fnrun.runtimes.kubernetes.pod_status import PodView, pod_view
from fnrun.runtimes.kubernetes.workloads import JOB, Workload, workload_of

if TYPE_CHECKING:
    from fnrun.runtimes.kubernetes.cluster import Cluster

OnPod = Callable[[PodView], None]
ABORTED = "aborted: its Job was deleted"
PENDING_ENV = "FNRUN_K8S_PENDING_TIMEOUT"
POLL_ENV = "FNRUN_K8S_POLL"


def follow_settings() -> tuple[float, float]:
    """``(pending timeout, poll interval)`` in seconds, from the environment (600, 2)."""
    return float(os.environ.get(PENDING_ENV) or 600), float(os.environ.get(POLL_ENV) or 2)


class JobWatch:
    """The workload ``name`` (a Job unless told) and the pod running its entry (the one
    carrying ``labels``, and the workload's runner role) on ``cluster``."""

    def __init__(
        self,
        cluster: Cluster,
        name: str,
        labels: dict[str, str],
        pending_timeout: float,
        poll: float,
        workload: Workload = JOB,
    ) -> None:
        self.cluster, self.name, self.workload = cluster, name, workload
        self.labels = {**labels, "fnrun/role": workload.runner} if workload.runner else labels
        self.pending_timeout, self.poll = pending_timeout, poll

    def follow(
        self, on_problem: OnPod | None = None, on_start: OnPod | None = None
    ) -> tuple[PodView | None, str]:
        """Wait for the end; the last pod view and why it failed here ('' if it did not)."""
        deadline = time.monotonic() + self.pending_timeout
        view: PodView | None = None
        shown, started_seen = "", False
        while True:
            job = self.read_job()
            if job is None:
                return view, ABORTED
            view = self.newest_pod() or view
            if view is not None:
                if view.problem and view.problem != shown and on_problem is not None:
                    on_problem(view)
                shown = view.problem
                if view.started and not started_seen:
                    started_seen = True
                    if on_start is not None:
                        on_start(view)
            if self.workload.outcome(job) or (view is not None and view.ended):
                return view, ""
            fatal = view is not None and view.fatal
            if not started_seen and (fatal or time.monotonic() > deadline):
                why = view.problem if view is not None and view.problem else "no pod started"
                if not fatal:
                    why += f" (still pending after {self.pending_timeout:g} s)"
                self.delete()
                return view, f"the pod could not start: {why}"
            time.sleep(self.poll)

    def read_job(self) -> dict[str, Any] | None:
        """The workload's document, or None once it is deleted."""
        group, version, plural = self.workload.path()
        try:
            resp = self.cluster.call(
                f"read {self.workload.kind} {self.name}",
                self.cluster.custom.get_namespaced_custom_object,
                group, version, self.cluster.namespace, plural, self.name,
                _preload_content=False,
            )  # fmt: skip
        except NotFoundError:
            return None
        doc: dict[str, Any] = json.loads(resp.data or b"{}")
        return doc

    def newest_pod(self) -> PodView | None:
        pods = self.pods()
        return pod_view(pods[-1]) if pods else None

    def pods(self) -> list[dict[str, Any]]:
        """The Job's pods, oldest first (by the labels, checked here too)."""
        selector = ",".join(f"{k}={v}" for k, v in self.labels.items())
        core = self.cluster.core
        listed = self._json(
            "list the Job's pods", core.list_namespaced_pod, label_selector=selector
        )
        pods = [
            p
            for p in listed.get("items") or []
            if self.labels.items() <= ((p.get("metadata") or {}).get("labels") or {}).items()
        ]
        return sorted(pods, key=lambda p: str(p["metadata"].get("creationTimestamp") or ""))

    def log(self, pod: str) -> str:
        """A pod's whole log so far."""
        core = self.cluster.core
        resp = self.cluster.call(
            f"read the log of pod {pod}",
            core.read_namespaced_pod_log,
            pod,
            self.cluster.namespace,
            _preload_content=False,
        )
        return bytes(resp.data or b"").decode("utf-8", errors="replace")

    def delete(self) -> bool:
        """Delete the workload and its pods; False when it was gone already."""
        return delete_job(self.cluster, self.name, self.workload)

    def _json(self, what: str, method: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        resp = self.cluster.call(
            what, method, *args, self.cluster.namespace, _preload_content=False, **kw
        )
        return json.loads(resp.data or b"{}")


def submit(cluster: Cluster, docs: list[dict[str, Any]]) -> None:
    """Create a run's Secrets and ConfigMaps, then its workload, then make the workload their
    owner: Kubernetes deletes them with it (its TTL, an abort). A cluster without the
    workload's kind (no MPI or Spark operator) is an error saying what to install."""
    core, custom, ns = cluster.core, cluster.custom, cluster.namespace
    create = {
        "Secret": (core.create_namespaced_secret, core.patch_namespaced_secret),
        "ConfigMap": (core.create_namespaced_config_map, core.patch_namespaced_config_map),
    }
    owned = []
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind in create:
            make, patch = create[kind]
            cluster.call(f"create {kind} {name}", make, ns, doc)
            owned.append((patch, kind, name))
            continue
        wl = workload_of(doc)
        group, version, plural = wl.path()
        try:
            made = cluster.call(
                f"create {kind} {name}", custom.create_namespaced_custom_object,
                group, version, ns, plural, doc,
            )  # fmt: skip
        except NotFoundError as exc:
            if wl is JOB:
                raise
            raise ClusterError(
                f"the cluster has no {kind} kind ({wl.api_version} {plural}): {wl.provider} "
                f"is not installed on {cluster.describe()}",
                field="kind",
                hint=f"install {wl.provider}, or run on this machine with local=True",
            ) from exc
        uid = str(((made or {}).get("metadata") or {}).get("uid") or "")
        owner = {"apiVersion": wl.api_version, "kind": kind, "name": name, "uid": uid}
        for patch, what, obj in owned:
            body = {"metadata": {"ownerReferences": [owner]}}
            cluster.call(f"own {what} {obj} by its {kind}", patch, obj, ns, body)


def delete_job(cluster: Cluster, name: str, workload: Workload = JOB) -> bool:
    """Delete the workload ``name`` with its pods (in the background); False when it was
    gone."""
    group, version, plural = workload.path()
    with contextlib.suppress(NotFoundError):
        cluster.call(
            f"delete {workload.kind} {name}",
            cluster.custom.delete_namespaced_custom_object,
            group,
            version,
            cluster.namespace,
            plural,
            name,
            propagation_policy="Background",
        )
        return True
    return False
