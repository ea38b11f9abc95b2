"""A serving (or nuclio) function on Kubernetes without Nuclio: per function of the graph
(the root, and each child function behind a Kafka queue) a ConfigMap with its function
document, a Deployment running ``fnrun serve`` on it, and a HorizontalPodAutoscaler when
``max_replicas`` exceeds ``min_replicas`` (CPU target ``spec.target_cpu``, default 75 %);
the root also gets a ClusterIP Service. Built with the ``kubernetes`` client's models; every
pod knob of the spec (resources, GPUs, env, volumes, node selection, service account, pull
policy/secret) is carried as in the batch pods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.runtimes.kubernetes.manifests.pod import (
    RunObjects,
    http_probe,
    k8s,
    label_value,
    run_pod,
    to_dict,
)

if TYPE_CHECKING:
    from fnrun.model.function_like import RuntimeLike

PORT = 8080
FUNCTION_DIR = "/fnrun/run"  # where the ConfigMap (function.yaml) is mounted, as for runs
DEFAULT_CPU_TARGET = 75


def serving_manifests(fn: RuntimeLike, namespace: str = "") -> list[dict[str, Any]]:
    """Every object of ``fn``'s deployment: the root's, then each child function's."""
    from fnrun.runtimes.local.deploy import child_functions, child_replicas

    parts: list[tuple[str, RuntimeLike]] = [("", fn)]
    children = child_functions(fn) if fn.kind == "serving" else {}
    parts += list(children.items())
    docs: list[dict[str, Any]] = []
    for part, part_fn in parts:
        label = "root" if children and not part else part
        replicas = child_replicas(fn, part) if part else None
        docs += _part(part_fn, label, namespace, service=not part, replicas=replicas)
    return docs


def deployment_name(fn: RuntimeLike, part: str = "") -> str:
    base = label_value(fn.metadata.name or "fn").lower().replace("_", "-").replace(".", "-")
    tail = f"-{label_value(part).lower().replace('_', '-')}" if part and part != "root" else ""
    return f"fnrun-{base}{tail}"[:63].rstrip("-")


def _part(
    fn: RuntimeLike, part: str, namespace: str, service: bool, replicas: int | None
) -> list[dict[str, Any]]:
    client = k8s()
    spec = fn.spec
    name = deployment_name(fn, part)
    labels = {
        "app.kubernetes.io/managed-by": "fnrun",
        "fnrun/project": label_value(fn.metadata.project or "default"),
        "fnrun/function": label_value(fn.metadata.name),
        "fnrun/kind": fn.kind,
        "fnrun/part": part or "main",
    }
    meta = client.V1ObjectMeta(name=name, namespace=namespace or None, labels=labels)
    config_map = to_dict(
        client.V1ConfigMap(
            api_version="v1", kind="ConfigMap", metadata=meta, data={"function.yaml": fn.to_yaml()}
        )
    )
    objects = RunObjects(name, labels, config_map, None, db_url="", namespace=namespace)
    low = spec.min_replicas if spec.min_replicas is not None else (spec.replicas or 1)
    high = spec.max_replicas if spec.max_replicas is not None else low
    if replicas is not None:  # a child function: add_child_function(replicas=N), fixed
        low = high = replicas
    command = [
        "python", "-m", "fnrun", "serve", f"{FUNCTION_DIR}/function.yaml",
        "--host", "0.0.0.0", "--port", str(PORT),
        *(["--function", part] if part else []),
    ]  # fmt: skip
    template = run_pod(fn, objects, command=command, restart_policy="Always")
    container = template.spec.containers[0]
    unused = ("FNRUN_EXEC_CONFIG_FILE", "FNRUN_DBPATH")  # a server, not a run
    container.env = [e for e in container.env if e.name not in unused]
    container.ports = [client.V1ContainerPort(container_port=PORT, name="http")]
    container.readiness_probe = http_probe("/v2/health", PORT, 5)
    container.liveness_probe = http_probe("/v2/health", PORT, 10, failure_threshold=6)
    selector = {"fnrun/function": labels["fnrun/function"], "fnrun/part": labels["fnrun/part"]}
    deployment = client.V1Deployment(
        api_version="apps/v1",
        kind="Deployment",
        metadata=meta,
        spec=client.V1DeploymentSpec(
            replicas=max(low, 1) if high <= low else None,  # the autoscaler owns it otherwise
            selector=client.V1LabelSelector(match_labels=selector),
            template=template,
        ),
    )
    docs = [config_map, to_dict(deployment)]
    if service:
        docs.append(
            to_dict(
                client.V1Service(
                    api_version="v1",
                    kind="Service",
                    metadata=meta,
                    spec=client.V1ServiceSpec(
                        type="ClusterIP",
                        selector=selector,
                        ports=[client.V1ServicePort(name="http", port=80, target_port=PORT)],
                    ),
                )
            )
        )
    if high > low:
        target = int(getattr(spec, "target_cpu", 0) or DEFAULT_CPU_TARGET)
        metric = client.V2MetricSpec(
            type="Resource",
            resource=client.V2ResourceMetricSource(
                name="cpu",
                target=client.V2MetricTarget(type="Utilization", average_utilization=target),
            ),
        )
        docs.append(
            to_dict(
                client.V2HorizontalPodAutoscaler(
                    api_version="autoscaling/v2",
                    kind="HorizontalPodAutoscaler",
                    metadata=meta,
                    spec=client.V2HorizontalPodAutoscalerSpec(
                        scale_target_ref=client.V2CrossVersionObjectReference(
                            api_version="apps/v1", kind="Deployment", name=name
                        ),
                        min_replicas=max(low, 1),
                        max_replicas=high,
                        metrics=[metric],
                    ),
                )
            )
        )
    return docs
