"""``fn.deploy(platform="kubernetes")`` of a serving graph: a Deployment (+ Service, +
HorizontalPodAutoscaler) per function of the graph, validated against the official schemas,
applied to kmock with the real client (the test plays the Deployment controller), removed by
``fn.stop()``; and the root pod's command and env, started here, serve the graph."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import FnrunError
from tests.conftest import free_port
from tests.runtimes.kubernetes.kube import Emulator, python_here

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate")
pytest.importorskip("kmock", reason="kmock, the Kubernetes API emulator (the dev extra)")

CODE = """
def add(body):
    return {"n": body["n"] + 1}

def double(body):
    return {"n": body["n"] * 2}
"""
EXTRA = ("apps/v1/deployments", "v1/services", "autoscaling/v2/horizontalpodautoscalers")


def _graph(tmp_path: Path) -> Any:
    code = tmp_path / "pipeline.py"
    code.write_text(CODE)
    fn = fnrun.code_to_function("pipeline", filename=str(code), kind="serving", project="srv")
    fn.spec.image = "registry.local/fnrun-serve:1"
    graph = fn.set_topology("flow")
    graph.to(handler="add", name="add").respond()
    graph.add_step(">>", "link", after="add", path="kafka://kafka.data:9092/link")
    graph.add_step(handler="double", name="double", after="link", function="worker")
    fn.add_child_function("worker", replicas=3)
    fn.with_replicas(min_replicas=2, max_replicas=6)
    fn.with_limits(mem="1Gi", cpu="1")
    fn.set_env("MODE", "k8s")
    return fn


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.on_loop(lambda: [emulator.kmock.resources.__setitem__(r, {}) for r in EXTRA])
    monkeypatch.setenv("FNRUN_K8S", str(emulator.kubeconfig(tmp_path / "kubeconfig")))
    yield emulator
    emulator.close()


def _list(emulator: Emulator, api: str, method: str) -> list[dict[str, Any]]:
    from kubernetes import client

    raw = getattr(getattr(client, api)(emulator.client()), method)(_preload_content=False)
    return list(json.loads(raw.data)["items"])


def _controller(emulator: Emulator, stop: threading.Event) -> None:
    """Marks every Deployment ready, as its controller would once its pods pass readiness."""
    from kubernetes import client

    apps = client.AppsV1Api(emulator.client())
    while not stop.wait(0.05):
        for dep in _list(emulator, "AppsV1Api", "list_deployment_for_all_namespaces"):
            if not (dep.get("status") or {}).get("readyReplicas"):
                meta = dep["metadata"]
                status = {"status": {"readyReplicas": dep["spec"].get("replicas") or 2}}
                apps.patch_namespaced_deployment_status(meta["name"], meta["namespace"], status)


def test_a_graph_deploys_as_deployments_per_function_and_stop_removes_them(
    cluster: Emulator, tmp_path: Path
) -> None:
    fn = _graph(tmp_path)
    stop = threading.Event()
    threading.Thread(target=_controller, args=(cluster, stop), daemon=True).start()
    try:
        address = fn.deploy(platform="kubernetes", timeout=30)
    finally:
        stop.set()
    assert address == "http://fnrun-pipeline.ml.svc.cluster.local"
    deployments = {
        d["metadata"]["name"]: d
        for d in _list(cluster, "AppsV1Api", "list_deployment_for_all_namespaces")
    }
    assert set(deployments) == {"fnrun-pipeline", "fnrun-pipeline-worker"}
    root, worker = deployments["fnrun-pipeline"], deployments["fnrun-pipeline-worker"]
    for doc in (root, worker):
        kubernetes_validate.validate(doc, "1.37.0", strict=True)
        (main,) = doc["spec"]["template"]["spec"]["containers"]
        assert main["image"] == "registry.local/fnrun-serve:1"
        assert main["resources"]["limits"] == {"memory": "1Gi", "cpu": "1"}
        assert {"name": "MODE", "value": "k8s"} in main["env"]
        assert main["readinessProbe"]["httpGet"]["path"] == "/v2/health"
    assert "replicas" not in root["spec"] or root["spec"]["replicas"] is None  # the HPA's
    assert worker["spec"]["replicas"] == 3  # the child function's replicas
    (root_main,) = root["spec"]["template"]["spec"]["containers"]
    assert root_main["command"][-2:] == ["--function", "root"]
    (hpa,) = _list(cluster, "AutoscalingV2Api", "list_horizontal_pod_autoscaler_for_all_namespaces")
    kubernetes_validate.validate(hpa, "1.37.0", strict=True)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 75
    (service,) = _list(cluster, "CoreV1Api", "list_service_for_all_namespaces")
    kubernetes_validate.validate(service, "1.37.0", strict=True)
    config_maps = _list(cluster, "CoreV1Api", "list_config_map_for_all_namespaces")
    worker_yaml = next(c for c in config_maps if c["metadata"]["name"] == "fnrun-pipeline-worker")
    assert "kafka-cluster" in worker_yaml["data"]["function.yaml"]  # it consumes the queue
    again = fnrun.import_function("db://srv/pipeline")
    assert again.status.extra["kubernetes"]["namespace"] == "ml"
    assert fn.stop() is True
    assert _list(cluster, "AppsV1Api", "list_deployment_for_all_namespaces") == []
    assert _list(cluster, "CoreV1Api", "list_service_for_all_namespaces") == []
    assert fn.status.state == "stopped"


def test_a_deployment_that_never_gets_ready_is_a_clear_error(
    cluster: Emulator, tmp_path: Path
) -> None:
    fn = _graph(tmp_path)
    with pytest.raises(FnrunError, match=r"have no ready replica after 0\.3 s"):
        fn.deploy(platform="kubernetes", timeout=0.3)


def test_the_root_pod_command_serves_the_graph_here(tmp_path: Path) -> None:
    """The root Deployment's container command, with its ConfigMap 'mounted' here, starts a
    server that answers through the graph (the queue's part runs in the worker pods)."""
    from fnrun.runtimes.kubernetes.manifests.serving import serving_manifests

    fn = _graph(tmp_path)
    fn.spec.graph.steps.pop("double")
    fn.spec.graph.steps.pop("link")
    fn.spec.function_refs = []
    docs = serving_manifests(fn)
    config_map = next(d for d in docs if d["kind"] == "ConfigMap")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    mounted = tmp_path / "mounted"
    mounted.mkdir()
    (mounted / "function.yaml").write_text(config_map["data"]["function.yaml"])
    port = free_port()
    command = [
        str(mounted / "function.yaml") if part.endswith("function.yaml") else part
        for part in python_here(main["command"])
    ]
    command[command.index("--port") + 1] = str(port)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/",
                    data=b'{"n": 4}',
                    method="POST",
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=2) as resp:
                    assert json.loads(resp.read()) == {"n": 5}
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stdout
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(15)
