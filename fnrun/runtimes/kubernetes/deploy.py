"""``fn.deploy(platform="kubernetes")``: apply a serving function's Deployments, Services,
autoscalers and ConfigMaps (:mod:`fnrun.runtimes.kubernetes.manifests.serving`) to the configured
cluster, wait until every Deployment has a ready replica, and record what was applied in
``fn.status`` so ``fn.stop()`` removes exactly that. Re-deploying patches the objects in
place (a rolling update of the Deployments)."""

from __future__ import annotations

import time
from typing import Any

from fnrun.errors import ConflictError, FnrunError, InvalidArgumentError, NotFoundError
from fnrun.runtimes.platforms import DeployOptions, register_platform

_API = {  # kind -> (API class, its method suffix)
    "ConfigMap": ("CoreV1Api", "config_map"),
    "Service": ("CoreV1Api", "service"),
    "Deployment": ("AppsV1Api", "deployment"),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "horizontal_pod_autoscaler"),
}


def deploy_kubernetes(fn: Any, timeout: float = 300.0) -> str:
    from fnrun.runtimes.kubernetes.cluster import configured_cluster
    from fnrun.runtimes.kubernetes.manifests.serving import serving_manifests
    from fnrun.runtimes.kubernetes.watch import follow_settings

    cluster, why = configured_cluster()
    if cluster is None:
        raise InvalidArgumentError(
            f"no Kubernetes cluster to deploy to: {why}",
            field="platform",
            hint="point FNRUN_K8S at a kubeconfig, or deploy with platform='local'",
        )
    docs = serving_manifests(fn, cluster.namespace)
    for doc in docs:
        _apply(cluster, doc)
    applied = [[d["kind"], d["metadata"]["name"]] for d in docs]
    deployments = {
        d["metadata"]["name"]: d["spec"]["selector"]["matchLabels"]
        for d in docs
        if d["kind"] == "Deployment"
    }
    if timeout > 0:
        _wait_ready(cluster, deployments, timeout, follow_settings()[1])
    service = next(name for kind, name in applied if kind == "Service")
    address = f"http://{service}.{cluster.namespace}.svc.cluster.local"
    fn.status.state = "ready"
    fn.status.address = address
    fn.status.internal_invocation_urls = [address]
    fn.status.extra = {
        "kubernetes": {
            "namespace": cluster.namespace,
            "context": cluster.context,
            "config": cluster.choice.source,
            "objects": applied,
        }
    }
    return address


def stop_kubernetes(fn: Any) -> bool:
    """Delete what the last deploy applied; True when anything was there."""
    from fnrun.runtimes.kubernetes.cluster import recorded_cluster

    placed = (fn.status.extra or {}).get("kubernetes")
    if not placed:
        return False
    cluster = recorded_cluster(placed)
    deleted = False
    for kind, name in reversed(placed.get("objects") or []):
        api, suffix = _methods(cluster, kind)
        try:
            cluster.call(
                f"delete {kind} {name}",
                getattr(api, f"delete_namespaced_{suffix}"),
                name,
                cluster.namespace,
            )
            deleted = True
        except NotFoundError:
            pass
    fn.status.state = "stopped"
    fn.status.extra = {}
    return deleted


def _apply(cluster: Any, doc: dict[str, Any]) -> None:
    kind, name, ns = doc["kind"], doc["metadata"]["name"], cluster.namespace
    api, suffix = _methods(cluster, kind)
    try:
        cluster.call(f"create {kind} {name}", getattr(api, f"create_namespaced_{suffix}"), ns, doc)
    except ConflictError:  # deployed before: update in place
        patch = getattr(api, f"patch_namespaced_{suffix}")
        cluster.call(f"update {kind} {name}", patch, name, ns, doc)


def _methods(cluster: Any, kind: str) -> tuple[Any, str]:
    from fnrun.runtimes.kubernetes.manifests.pod import k8s

    api_class, suffix = _API[kind]
    return getattr(k8s(), api_class)(cluster.api), suffix


def _wait_ready(
    cluster: Any, selectors: dict[str, dict[str, str]], timeout: float, poll: float
) -> None:
    import json

    from fnrun.runtimes.kubernetes.manifests.pod import k8s

    apps = k8s().AppsV1Api(cluster.api)
    deadline = time.monotonic() + timeout
    waiting = list(selectors)
    while waiting:
        for name in list(waiting):
            resp = cluster.call(
                f"read Deployment {name}",
                apps.read_namespaced_deployment_status,
                name,
                cluster.namespace,
                _preload_content=False,
            )
            status = json.loads(resp.data or b"{}").get("status") or {}
            if int(status.get("readyReplicas") or 0) >= 1:
                waiting.remove(name)
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise FnrunError(
                f"Deployment(s) {', '.join(waiting)} have no ready replica after {timeout:g} s"
                + _pod_problems(cluster, {n: selectors[n] for n in waiting}),
                field="deploy",
                hint=f"kubectl -n {cluster.namespace} describe deployment {waiting[0]}",
            )
        time.sleep(poll)


def _pod_problems(cluster: Any, selectors: dict[str, dict[str, str]]) -> str:
    """Why the Deployments' pods are not ready, as their status says (image pulls...)."""
    from fnrun.runtimes.kubernetes.watch import JobWatch

    problems = []
    for name, labels in selectors.items():
        view = JobWatch(cluster, name, labels, 0, 0).newest_pod()
        if view is not None and view.problem:
            problems.append(f"{view.name}: {view.problem}")
    return ": " + "; ".join(problems) if problems else ""


def _deploy(fn: Any, options: DeployOptions) -> str:
    address = deploy_kubernetes(fn, timeout=options.timeout)
    if fn.metadata.name:
        fn.save()
    return address


register_platform("kubernetes", _deploy)
