"""``mpijob``: a Kubeflow MPI operator ``kubeflow.org/v2beta1`` MPIJob: a launcher running
``mpirun -np <replicas>`` over the fnrun entry, and ``replicas`` workers of the same image
(the operator wires ssh and the hostfile). Rank 0 logs the run, as locally."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.runtimes.kubernetes.manifests import register_workload
from fnrun.runtimes.kubernetes.manifests.pod import ENTRY, run_pod, to_dict

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike
    from fnrun.runtimes.kubernetes.manifests.pod import RunObjects


def mpijob(fn: RuntimeLike, objects: RunObjects) -> list[dict[str, Any]]:
    ranks = int(fn.spec.replicas or 1)
    forward: list[str] = []
    for name in ("FNRUN_EXEC_CONFIG_FILE", "FNRUN_DBPATH", "PYTHONUNBUFFERED"):
        forward += ["-x", name]
    for key in (objects.secret or {}).get("stringData") or {}:  # secrets, the service token
        forward += ["-x", key]
    launch = ["mpirun", "-np", str(ranks), "--tag-output", "--bind-to", "none", *forward]
    launcher = run_pod(
        fn,
        objects,
        command=[*launch, *fn.spec.mpi_args, *ENTRY],
        container_name="launcher",
        role="launcher",
        resources={},  # the launcher only starts ranks: the function's resources go to workers
    )
    worker = run_pod(
        fn, objects, command=["/usr/sbin/sshd", "-De"], container_name="worker", role="worker"
    )
    return [
        {
            "apiVersion": "kubeflow.org/v2beta1",
            "kind": "MPIJob",
            "metadata": {"name": objects.name, "labels": objects.labels}
            | ({"namespace": objects.namespace} if objects.namespace else {}),
            "spec": {
                "slotsPerWorker": 1,
                "runPolicy": {
                    "cleanPodPolicy": fn.spec.clean_pod_policy or "Running",
                    "backoffLimit": 0,
                },
                "mpiReplicaSpecs": {
                    "Launcher": {
                        "replicas": 1,
                        "restartPolicy": "Never",
                        "template": to_dict(launcher),
                    },
                    "Worker": {
                        "replicas": ranks,
                        "restartPolicy": "Never",
                        "template": to_dict(worker),
                    },
                },
            },
        }
    ]


register_workload("mpijob", mpijob)
