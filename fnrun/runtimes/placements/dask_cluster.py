"""The dask kind's cluster connection: ``fn.client`` is a ``distributed.Client``.

Where it connects, first that applies: ``fn.spec.scheduler_address``, MLRun's
``fn.status.scheduler_address``, ``DASK_SCHEDULER_ADDRESS``; with a Kubernetes cluster
configured, a DaskCluster of the function there (:mod:`fnrun.runtimes.kubernetes.dask`); else a
LocalCluster on
127.0.0.1 of ``spec.replicas`` worker processes (1) with ``spec.nthreads`` threads each (1),
adaptive between ``spec.min_replicas`` and ``spec.max_replicas`` when those are set, with its
dashboard on a free loopback port when bokeh is installed (``fn.dashboard_link``), each
worker's memory limited by ``worker_resources`` / ``resources`` limits as its pod would be. The
connection lives until ``fn.close()`` (or the end of the process). ``distributed`` is the
``dask`` extra, imported only here.
"""

from __future__ import annotations

import os
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require
from fnrun.runtimes.local.main_guard import unguarded_line


class DaskClientMixin:
    spec: Any
    status: Any

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` of this function's cluster (made on first use)."""
        client = self.__dict__.get("_dask_client")
        if client is None or client.status in ("closed", "closing"):
            client = self.__dict__["_dask_client"] = self._connect()
        return client

    @property
    def scheduler_address(self) -> str:
        """The scheduler to connect to ("" for a LocalCluster)."""
        return str(
            self.spec.scheduler_address
            or getattr(self.status, "scheduler_address", "")
            or os.environ.get("DASK_SCHEDULER_ADDRESS", "")
        )

    def _connect(self) -> Any:
        distributed = require("distributed", "dask", "the dask kind", field="kind", package="dask")
        address = self.scheduler_address
        if address:
            return distributed.Client(address, timeout="10s")
        from fnrun.runtimes.kubernetes.dask import kubernetes_for, start

        kube = kubernetes_for(self)
        if kube is not None:
            name, address, made = start(self, kube)
            self.status.scheduler_address, self.status.cluster_name = address, name
            if made:  # close() deletes what this process made, never a cluster it found
                self.__dict__["_kube_cluster"] = (kube, name)
            return distributed.Client(address, timeout="60s")
        _check_main_guard()
        spec = self.spec
        cluster = distributed.LocalCluster(
            n_workers=int(spec.replicas or spec.min_replicas or 1),
            threads_per_worker=int(spec.nthreads or 1),
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0" if _has_dashboard() else None,
            processes=True,
            memory_limit=_memory_limit(spec),
        )
        if spec.min_replicas or spec.max_replicas:
            cluster.adapt(
                minimum=int(spec.min_replicas or 0),
                maximum=int(spec.max_replicas or spec.replicas or spec.min_replicas or 1),
            )
        self.__dict__["_dask_cluster"] = cluster
        return distributed.Client(cluster)

    @property
    def dashboard_link(self) -> str:
        """The cluster's dashboard URL, "" when its scheduler serves none."""
        client = self.client
        services = client.scheduler_info().get("services", {})
        return str(client.dashboard_link) if "dashboard" in services else ""

    def run_extras(self) -> dict[str, Any]:
        return {"dask_client": self.client}

    def close(self) -> None:
        """Close the client, and the LocalCluster when this function started one."""
        client = self.__dict__.pop("_dask_client", None)
        cluster = self.__dict__.pop("_dask_cluster", None)
        kube = self.__dict__.pop("_kube_cluster", None)
        if client is not None:
            client.close()
        if kube is not None:  # the DaskCluster this process made on Kubernetes
            from fnrun.runtimes.kubernetes.dask import stop

            stop(*kube)
            self.status.scheduler_address = self.status.cluster_name = ""
        if cluster is not None:
            cluster.close()


def _check_main_guard() -> None:
    """A LocalCluster started from the top of an unguarded script would hang: its workers are
    spawned processes that import the script again (running this very line again)."""
    line = unguarded_line()
    if line:
        import sys

        script = getattr(sys.modules["__main__"], "__file__", "the script")
        raise InvalidArgumentError(
            f"{script}, line {line}: a dask function run at the top of a script starts a "
            "local Dask cluster whose worker processes import the script again and would run "
            "this line again (they never start)",
            field="kind",
            hint='put the script\'s code under `if __name__ == "__main__":`, or connect to a '
            "running cluster (fn.spec.scheduler_address or DASK_SCHEDULER_ADDRESS)",
        )


def _has_dashboard() -> bool:
    """The dashboard needs bokeh (an optional part of distributed)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _memory_limit(spec: Any) -> str | int:
    """Each worker's memory limit: the workers' (or the function's) memory limit, as on
    Kubernetes; else distributed's default share of this machine."""
    for resources in (spec.worker_resources, spec.resources):
        memory = (resources or {}).get("limits", {}).get("memory")
        if memory:
            from fnrun.model.quantity import parse_quantity

            return int(parse_quantity(memory, "spec.resources.limits.memory"))
    return "auto"
