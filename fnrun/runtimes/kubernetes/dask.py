"""The dask kind on Kubernetes: a DaskCluster of the function, made when ``fn.client`` is
first asked for with a cluster configured and no scheduler address (as MLRun's dask kind
makes its cluster on Kubernetes; ``fn.spec.remote = False`` keeps a LocalCluster).

The DaskCluster (``kubernetes.dask.org/v1``, the dask-kubernetes operator; a DaskAutoscaler
with min/max replicas) is the one ``fn.manifests()`` shows, named after the function
(``fnrun-<name>-<id>``), so a second process asking for the same function's cluster finds it
running and reuses it. fnrun waits until the operator reports it ``Running`` (the pending
timeout of Jobs, ``FNRUN_K8S_PENDING_TIMEOUT``), then connects to its scheduler Service,
``tcp://<name>-scheduler.<namespace>.svc:8786`` — reachable from inside the cluster; from
outside, forward the port and name it in ``FNRUN_K8S_DASK_ADDRESS``. The address is kept in
``fn.status.scheduler_address`` (MLRun's field; kept through ``save()``); ``fn.close()``
deletes the cluster this process made (one it found running stays).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from fnrun.db import get_run_db
from fnrun.errors import ConflictError, NotFoundError
from fnrun.runtimes.kubernetes.cluster import ClusterError

if TYPE_CHECKING:
    from fnrun.runtimes.kubernetes.cluster import Cluster

ADDRESS_ENV = "FNRUN_K8S_DASK_ADDRESS"
GROUP, VERSION = "kubernetes.dask.org", "v1"


def kubernetes_for(fn: Any) -> Cluster | None:
    """The cluster a dask function's cluster goes to, or None (``spec.remote = False``, as
    MLRun's; no cluster configured; no ``kubernetes`` client: a LocalCluster then)."""
    from fnrun.runtimes.kubernetes.cluster import connect, find_cluster

    if getattr(fn.spec, "remote", None) is False:
        return None
    choice = find_cluster()
    if not choice.found:
        return None
    try:
        import kubernetes  # noqa: F401 - the k8s extra
    except ImportError:
        return None
    return connect(choice)


def start(fn: Any, cluster: Cluster, say: Any = None) -> tuple[str, str, bool]:
    """Make (or find) the function's DaskCluster and wait until it runs: (name, address,
    whether this call made it)."""
    from fnrun.execution.request import build_request
    from fnrun.runtimes.kubernetes.manifests import build_manifests
    from fnrun.runtimes.kubernetes.run import pod_db_url
    from fnrun.runtimes.kubernetes.watch import follow_settings, submit

    say = say or (lambda text: print(text, file=sys.stderr))
    request = build_request(fn, name=fn.metadata.name or "dask")
    key = f"{request.project}/{fn.metadata.name}/{fn.metadata.hash or fn.spec.image}"
    request.uid = hashlib.sha1(key.encode()).hexdigest()  # the same function: the same cluster
    docs = build_manifests(fn, request, pod_db_url(get_run_db()), cluster.namespace)
    name = next(d["metadata"]["name"] for d in docs if d["kind"] == "DaskCluster")
    made = True
    try:
        submit(cluster, docs)
        say(f"DaskCluster {name} submitted to {cluster.describe()}")
    except ConflictError:
        made = False
        say(f"DaskCluster {name} exists on {cluster.describe()}: using it")
    pending, poll = follow_settings()
    _wait_running(cluster, name, pending, min(poll, 1.0))
    address = os.environ.get(ADDRESS_ENV) or f"tcp://{name}-scheduler.{cluster.namespace}.svc:8786"
    say(f"DaskCluster {name} running; its scheduler at {address}")
    return name, address, made


def _wait_running(cluster: Cluster, name: str, timeout: float, poll: float) -> None:
    deadline = time.monotonic() + timeout
    phase = ""
    while True:
        doc = cluster.call(
            f"read DaskCluster {name}", cluster.custom.get_namespaced_custom_object,
            GROUP, VERSION, cluster.namespace, "daskclusters", name,
        )  # fmt: skip
        phase = str(((doc or {}).get("status") or {}).get("phase") or "")
        if phase == "Running":
            return
        if phase in ("Failed", "Error"):
            raise ClusterError(
                f"DaskCluster {name} failed ({phase}) on {cluster.describe()}",
                field="kind",
                hint=f"kubectl -n {cluster.namespace} describe daskcluster {name}",
            )
        if time.monotonic() > deadline:
            stop(cluster, name)
            raise ClusterError(
                f"DaskCluster {name} was not running after {timeout:g} s "
                f"(phase {phase or 'none yet'}); deleted it",
                field="kind",
                hint="is the dask-kubernetes operator installed and are its pods scheduled? "
                "(FNRUN_K8S_PENDING_TIMEOUT sets the wait)",
            )
        time.sleep(poll)


def stop(cluster: Cluster, name: str) -> None:
    """Delete the DaskCluster (its pods and Service go with it) and its autoscaler."""
    for plural in ("daskautoscalers", "daskclusters"):
        with contextlib.suppress(NotFoundError):
            cluster.call(
                f"delete {plural[:-1]} {name}", cluster.custom.delete_namespaced_custom_object,
                GROUP, VERSION, cluster.namespace, plural, name,
                propagation_policy="Background",
            )  # fmt: skip
