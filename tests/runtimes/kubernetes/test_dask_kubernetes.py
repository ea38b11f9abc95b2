"""The dask kind with a Kubernetes cluster configured: ``fn.client`` makes the function's
DaskCluster (dask-kubernetes operator ``v1``) on kmock's API emulator, waits until it runs,
and the handler's tasks run on it. The stand-in operator (kube.py here) starts a
real ``dask scheduler`` and the DaskCluster's number of real ``dask worker`` processes here,
the scheduler on the address FNRUN_K8S_DASK_ADDRESS names (as a port-forward would)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from tests.conftest import free_port

pytestmark = pytest.mark.integration
pytest.importorskip("distributed", reason="dask[distributed] (the dask extra)")
pytest.importorskip("kubernetes", reason="the kubernetes client (the k8s extra)")
pytest.importorskip("kmock", reason="kmock, the Kubernetes API emulator (the dev extra)")

from tests.runtimes.kubernetes.kube import WORKLOADS, Emulator, Kubelet, use_cluster  # noqa: E402
from tests.runtimes.placements.test_dask import CODE  # noqa: E402


@pytest.fixture
def operators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Emulator, Kubelet]]:
    monkeypatch.setenv("FNRUN_K8S_DASK_ADDRESS", f"tcp://127.0.0.1:{free_port()}")
    emulator = use_cluster(Emulator(operators=True), tmp_path, monkeypatch)
    kubelet = Kubelet(emulator, tmp_path / "kubelet")
    yield emulator, kubelet
    kubelet.close()
    emulator.close()


def _clusters(emulator: Emulator) -> list[dict[str, Any]]:
    from kubernetes import client

    group, version, plural = WORKLOADS["DaskCluster"]
    raw = client.CustomObjectsApi(emulator.client()).list_cluster_custom_object(
        group, version, plural, _preload_content=False
    )
    return list(json.loads(raw.data)["items"])


def _fn(tmp_path: Path) -> Any:
    path = tmp_path / "work.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function("sums", filename=str(path), kind="dask", handler="total")
    fn.spec.image = "registry.local/fnrun:1"
    fn.spec.replicas = 2
    return fn


def test_a_dask_function_runs_on_its_daskcluster(
    operators: tuple[Emulator, Kubelet],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator, kubelet = operators
    fn = _fn(tmp_path)
    try:
        run = fn.run(params={"n": 5})
        assert run.status.results == {"total": 30, "workers": 2}  # on the cluster's 2 workers
        (cluster,) = _clusters(emulator)
        name = cluster["metadata"]["name"]
        assert cluster["metadata"]["namespace"] == "ml"
        assert cluster["spec"]["worker"]["replicas"] == 2
        assert fn.status.cluster_name == name
        assert fn.status.scheduler_address.startswith("tcp://127.0.0.1:")
        err = capsys.readouterr().err
        assert f"DaskCluster {name} submitted to Kubernetes (context kmock), namespace ml" in err
        assert f"tasks on Dask {fn.status.scheduler_address}" in err

        other = _fn(tmp_path)  # the same function elsewhere (another process): reused
        monkeypatch.setattr(other.status, "scheduler_address", "")
        assert other.run(params={"n": 3}).status.results["total"] == 5
        assert f"DaskCluster {name} exists" in capsys.readouterr().err
        other.close()
        assert len(_clusters(emulator)) == 1  # closing the one that found it keeps it
    finally:
        fn.close()
    assert _clusters(emulator) == [] and fn.status.scheduler_address == ""
    deadline = time.monotonic() + 30
    while kubelet.dask_procs:  # the operator stops its pods
        assert time.monotonic() < deadline, "the DaskCluster's processes still run"
        time.sleep(0.1)


def test_remote_false_keeps_a_local_cluster(
    operators: tuple[Emulator, Kubelet], tmp_path: Path
) -> None:
    emulator, _kubelet = operators
    fn = _fn(tmp_path)
    fn.spec.remote = False  # MLRun's switch
    try:
        assert fn.run(params={"n": 2}).status.results["total"] == 1
    finally:
        fn.close()
    assert _clusters(emulator) == []
