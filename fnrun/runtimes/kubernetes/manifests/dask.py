"""``dask``: a dask-kubernetes operator ``kubernetes.dask.org/v1`` DaskCluster (a scheduler
with its Service and ``replicas`` workers of the function's image, resources, env and
mounts), and a DaskAutoscaler when ``min_replicas``/``max_replicas`` are set. The handler stays
the client, wherever ``fn.run()`` is called, as MLRun's dask kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.runtimes.kubernetes.manifests import register_workload
from fnrun.runtimes.kubernetes.manifests.pod import http_probe, k8s, run_pod, to_dict

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike
    from fnrun.runtimes.kubernetes.manifests.pod import RunObjects

SCHEDULER_PORT, DASHBOARD_PORT, WORKER_DASHBOARD_PORT = 8786, 8787, 8788


def dask_cluster(fn: RuntimeLike, objects: RunObjects) -> list[dict[str, Any]]:
    client = k8s()
    spec = fn.spec
    nthreads = str(spec.nthreads or 1)
    worker = to_dict(
        run_pod(
            fn,
            objects,
            command=[],
            args=[
                "dask",
                "worker",
                "--name",
                "$(DASK_WORKER_NAME)",
                "--nthreads",
                nthreads,
                "--dashboard",
                "--dashboard-address",
                str(WORKER_DASHBOARD_PORT),
            ],
            container_name="worker",
            resources=spec.worker_resources or spec.resources,
            restart_policy="Always",
        )
    )["spec"]
    worker["containers"][0]["ports"] = [_port(client, "http-dashboard", WORKER_DASHBOARD_PORT)]
    scheduler = to_dict(
        run_pod(
            fn,
            objects,
            command=[],
            args=["dask", "scheduler"],
            container_name="scheduler",
            resources=spec.scheduler_resources,
            restart_policy="Always",
        )
    )["spec"]
    main = scheduler["containers"][0]
    main["ports"] = [
        _port(client, "tcp-comm", SCHEDULER_PORT),
        _port(client, "http-dashboard", DASHBOARD_PORT),
    ]
    probe = http_probe("/health", "http-dashboard", 10, initial_delay_seconds=5)
    main["readinessProbe"] = to_dict(probe)
    for pod in (worker, scheduler):
        for container in pod["containers"]:
            container.pop("command", None)  # the image's own entry runs the args
    meta: dict[str, Any] = {"name": objects.name, "labels": objects.labels}
    if objects.namespace:
        meta["namespace"] = objects.namespace
    cluster = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": meta,
        "spec": {
            "worker": {"replicas": int(spec.replicas or spec.min_replicas or 1), "spec": worker},
            "scheduler": {
                "spec": scheduler,
                "service": {
                    "type": spec.service_type or "ClusterIP",
                    "selector": {
                        "dask.org/cluster-name": objects.name,
                        "dask.org/component": "scheduler",
                    },
                    "ports": [
                        {
                            "name": "tcp-comm",
                            "protocol": "TCP",
                            "port": SCHEDULER_PORT,
                            "targetPort": "tcp-comm",
                        },
                        {
                            "name": "http-dashboard",
                            "protocol": "TCP",
                            "port": DASHBOARD_PORT,
                            "targetPort": "http-dashboard",
                        },
                    ],
                },
            },
        },
    }
    out = [cluster]
    if spec.min_replicas is not None or spec.max_replicas is not None:
        low = int(spec.min_replicas or 0)
        out.append(
            {
                "apiVersion": "kubernetes.dask.org/v1",
                "kind": "DaskAutoscaler",
                "metadata": meta,
                "spec": {
                    "cluster": objects.name,
                    "minimum": low,
                    "maximum": int(spec.max_replicas or spec.replicas or max(low, 1)),
                },
            }
        )
    return out


def _port(client: Any, name: str, port: int) -> dict[str, Any]:
    return to_dict(client.V1ContainerPort(name=name, container_port=port, protocol="TCP"))  # type: ignore[no-any-return]


register_workload("dask", dask_cluster)
