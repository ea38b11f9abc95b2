"""``spark``: a Spark operator ``sparkoperator.k8s.io/v1beta2`` SparkApplication. The driver
runs the fnrun launcher from the run's ConfigMap (``local:///fnrun/run/main.py``) and gets the
session spark-submit configured (``FNRUN_SPARK_SUBMITTED``); driver and executors carry the
function's cores, memory, env, mounts and node selection; ``spark_conf``, ``hadoop_conf``,
``deps`` and dynamic allocation go to the application as MLRun's spark kind does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.runtimes.kubernetes.manifests import register_workload
from fnrun.runtimes.kubernetes.manifests.pod import RUN_DIR, role_labels, run_pod, to_dict
from fnrun.runtimes.local.spark_session import SUBMITTED_ENV, conf_text, cores_of, spark_memory

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike
    from fnrun.runtimes.kubernetes.manifests.pod import RunObjects

_DEPS = ("jars", "files", "pyFiles", "packages", "excludePackages", "repositories")


def spark_application(fn: RuntimeLike, objects: RunObjects) -> list[dict[str, Any]]:
    spec = fn.spec
    driver_pod = to_dict(run_pod(fn, objects, extra_env={SUBMITTED_ENV: "1"}))["spec"]
    executor_pod = to_dict(run_pod(fn, objects))["spec"]
    app: dict[str, Any] = {
        "type": "Python",
        "pythonVersion": "3",
        "mode": "cluster",
        "image": driver_pod["containers"][0]["image"],
        "mainApplicationFile": f"local://{RUN_DIR}/main.py",
        "sparkVersion": spec.spark_version or "3.5.0",
        "restartPolicy": spec.restart_policy or {"type": "Never"},
        "volumes": driver_pod["volumes"],
        "driver": _role(
            fn, driver_pod, objects, "driver", spec.driver_resources, spec.driver_cores
        ),
        "executor": _role(
            fn, executor_pod, objects, "executor", spec.executor_resources, spec.executor_cores
        ),
    }
    app["executor"]["instances"] = int(spec.replicas or 1)
    if spec.image_pull_policy:
        app["imagePullPolicy"] = spec.image_pull_policy
    if spec.image_pull_secret:
        app["imagePullSecrets"] = [spec.image_pull_secret]
    if spec.spark_conf:
        app["sparkConf"] = {str(k): conf_text(v) for k, v in spec.spark_conf.items()}
    if spec.hadoop_conf:
        app["hadoopConf"] = {str(k): conf_text(v) for k, v in spec.hadoop_conf.items()}
    deps = {k: list(v) for k, v in (spec.deps or {}).items() if k in _DEPS and v}
    if deps:
        app["deps"] = deps
    if (spec.dynamic_allocation or {}).get("enabled"):
        app["dynamicAllocation"] = dict(spec.dynamic_allocation)
    if spec.monitoring:
        app["monitoring"] = dict(spec.monitoring)
    meta: dict[str, Any] = {"name": objects.name, "labels": objects.labels}
    if objects.namespace:
        meta["namespace"] = objects.namespace
    return [
        {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": "SparkApplication",
            "metadata": meta,
            "spec": app,
        }
    ]


def _role(
    fn: RuntimeLike,
    pod: dict[str, Any],
    objects: RunObjects,
    role: str,
    resources: dict[str, Any],
    cores: int | None,
) -> dict[str, Any]:
    spec = fn.spec
    container = pod["containers"][0]
    requests = (resources or {}).get("requests", {})
    limits = (resources or {}).get("limits", {})
    out: dict[str, Any] = {
        "labels": role_labels(objects, role),
        "env": container.get("env", []),
        "volumeMounts": container.get("volumeMounts", []),
        "cores": int(cores or cores_of(resources) or 1),
    }
    if limits.get("cpu"):
        out["coreLimit"] = str(limits["cpu"])
    if requests.get("memory"):
        out["memory"] = spark_memory(requests["memory"], f"spec.{role}_resources.requests.memory")
    if spec.service_account:
        out["serviceAccount"] = spec.service_account
    selector = getattr(spec, f"{role}_node_selector") or spec.node_selector
    if selector:
        out["nodeSelector"] = dict(selector)
    tolerations = getattr(spec, f"{role}_tolerations") or spec.tolerations
    if tolerations:
        out["tolerations"] = list(tolerations)
    affinity = getattr(spec, f"{role}_affinity") or spec.affinity
    if affinity:
        out["affinity"] = affinity
    java = getattr(spec, f"{role}_java_options")
    if java:
        out["javaOptions"] = java
    return out


register_workload("spark", spark_application)
