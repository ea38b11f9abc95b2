"""Kubernetes manifests of a run (Job, MPIJob, SparkApplication, DaskCluster), built with the
kubernetes client's models and validated against the official schemas (kubernetes-validate,
strict) where Kubernetes owns the type; a generated pod's command and env run here as a
local process, end to end, to prove the entry runs the function."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from tests.runtimes.kubernetes import kube

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate")
pytest.importorskip("kubernetes", reason="the kubernetes client (the k8s extra)")
K8S = "1.37.0"
SECRET = "s3cr3t-value-that-must-not-leak"

CODE = """
import os

def train(context, p1: int = 1):
    context.log_result("p2", p1 * 2)
    context.log_result("token_ok", context.get_secret("TOKEN") == os.environ.get("EXPECT"))
"""


def _valid(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, K8S, strict=True)


def _pod(template: dict[str, Any]) -> dict[str, Any]:
    """A pod template as a Pod, for the official schema."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, **template}


def _fn(tmp_path: Path, kind: str, code: str = CODE) -> Any:
    path = tmp_path / f"{kind}_train.py"
    path.write_text(code)
    fn = fnrun.code_to_function("trainer", filename=str(path), kind=kind, handler="train")
    fn.spec.image = "registry.local/fnrun:1"
    fn.with_limits(mem="2Gi", cpu="1").with_requests(mem="1Gi", cpu="500m").gpus(1)
    fn.set_env("MODE", "prod").set_env_from_secret("DB_PASS", secret="db", secret_key="pw")
    fn.add_volume(
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-pvc"}},
        {"mountPath": "/data"},
    )
    fn.with_node_selection(
        node_selector={"pool": "cpu"},
        tolerations=[
            {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
        ],
    )
    fn.with_service_account("runner")
    fn.set_image_pull_configuration("IfNotPresent", "regcred")
    return fn


def _by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in docs}


def test_job_manifest_is_valid_and_carries_every_knob(tmp_path: Path) -> None:
    fn = _fn(tmp_path, "job")
    docs = fn.manifests(params={"p1": 3}, secrets={"TOKEN": SECRET}, namespace="ml")
    objects = _by_kind(docs)
    assert list(objects) == ["Secret", "ConfigMap", "Job"]
    for doc in docs:
        _valid(doc)
    assert SECRET not in json.dumps(docs)  # shown manifests never hold a secret value
    job = objects["Job"]
    assert job["metadata"]["namespace"] == "ml"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] > 0
    pod = job["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    assert main["image"] == "registry.local/fnrun:1"
    assert main["command"] == ["python", "-m", "fnrun", "exec", "--from-env"]
    assert main["resources"] == {
        "limits": {"memory": "2Gi", "cpu": "1", "nvidia.com/gpu": "1"},  # strings, always
        "requests": {"memory": "1Gi", "cpu": "500m"},
    }
    env = {e["name"]: e for e in main["env"]}
    assert env["MODE"]["value"] == "prod"
    assert env["DB_PASS"]["valueFrom"]["secretKeyRef"] == {"name": "db", "key": "pw"}
    assert env["FNRUN_EXEC_SECRETS"]["valueFrom"]["secretKeyRef"]["name"] == job["metadata"]["name"]
    assert {"name": "data", "mountPath": "/data"} in main["volumeMounts"]
    assert pod["nodeSelector"] == {"pool": "cpu"} and pod["tolerations"][0]["value"] == "ml"
    assert pod["serviceAccountName"] == "runner"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert main["imagePullPolicy"] == "IfNotPresent"
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels["fnrun/function"] == "trainer" and len(labels["fnrun/uid"]) == 32
    config = json.loads(objects["ConfigMap"]["data"]["config.json"])
    assert config["run"]["params"] == {"p1": 3} and config["run"]["uid"] == labels["fnrun/uid"]


def submitted(tmp_path: Path, fn: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A run's manifests with the secret values in (as submitted), and its request."""
    from fnrun.db import get_run_db
    from fnrun.execution.execute import RunRequest
    from fnrun.runtimes.kubernetes.manifests import build_manifests

    request = RunRequest(
        function=fn,
        name="trainer",
        project="k8s",
        params=params,
        secrets={"TOKEN": SECRET},
        artifact_path=str(tmp_path / "art"),
    )
    return request, _by_kind(build_manifests(fn, request, get_run_db().url, with_secrets=True))


def as_kubelet(tmp_path: Path, docs: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """The environment the kubelet gives ``container`` (kube.py here), and the value
    the test code compares its secret with."""
    env = kube.as_kubelet(tmp_path / "run", docs["ConfigMap"], docs.get("Secret"), container)
    env["EXPECT"] = SECRET
    return env


def test_the_generated_pod_runs_the_function_as_a_local_process(tmp_path: Path) -> None:
    """The Job's container command and env, as the kubelet would start it: the run completes
    in the run DB, the secret readable."""
    from fnrun.db import get_run_db

    request, docs = submitted(tmp_path, _fn(tmp_path, "job"), {"p1": 21})
    (main,) = docs["Job"]["spec"]["template"]["spec"]["containers"]
    env = as_kubelet(tmp_path, docs, main)
    command = kube.python_here(main["command"])
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run = get_run_db().read_run(request.uid, "k8s")
    assert run["status"]["state"] == "completed"
    assert run["status"]["results"] == {"p2": 42, "token_ok": True}


def test_mpijob_manifest(tmp_path: Path) -> None:
    fn = _fn(tmp_path, "mpijob")
    fn.spec.replicas = 3
    fn.spec.mpi_args = ["-x", "NCCL_DEBUG=INFO"]
    (_, mpijob) = fn.manifests(params={"p1": 1})
    assert mpijob["apiVersion"] == "kubeflow.org/v2beta1" and mpijob["kind"] == "MPIJob"
    specs = mpijob["spec"]["mpiReplicaSpecs"]
    assert specs["Worker"]["replicas"] == 3 and specs["Launcher"]["replicas"] == 1
    for role in ("Launcher", "Worker"):
        _valid(_pod(specs[role]["template"]))
    (launcher,) = specs["Launcher"]["template"]["spec"]["containers"]
    command = launcher["command"]
    assert command[:3] == ["mpirun", "-np", "3"]
    assert command[-5:] == ["python", "-m", "fnrun", "exec", "--from-env"]
    assert command[-7:-5] == ["-x", "NCCL_DEBUG=INFO"]
    assert "resources" not in launcher  # the ranks' resources are the workers'
    (worker,) = specs["Worker"]["template"]["spec"]["containers"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert mpijob["spec"]["runPolicy"]["backoffLimit"] == 0


def test_spark_application_manifest(tmp_path: Path) -> None:
    fn = _fn(tmp_path, "spark")
    fn.with_driver_requests(mem="1g", cpu=1).with_executor_requests(mem="2Gi", cpu=2)
    fn.spec.replicas = 4
    fn.spec.spark_conf = {"spark.sql.shuffle.partitions": 16}
    fn.spec.deps = {"jars": ["local:///opt/x.jar"]}
    fn.with_dynamic_allocation(min_executors=1, max_executors=6)
    (_, app) = fn.manifests()
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    spec = app["spec"]
    assert spec["type"] == "Python" and spec["mode"] == "cluster"
    assert spec["mainApplicationFile"] == "local:///fnrun/run/main.py"
    assert spec["driver"]["cores"] == 1 and spec["driver"]["memory"] == "1g"
    assert spec["executor"]["cores"] == 2 and spec["executor"]["memory"] == "2048m"
    assert spec["executor"]["instances"] == 4
    assert spec["sparkConf"] == {"spark.sql.shuffle.partitions": "16"}
    assert spec["deps"] == {"jars": ["local:///opt/x.jar"]}
    assert spec["dynamicAllocation"]["maxExecutors"] == 6
    driver_env = {e["name"]: e for e in spec["driver"]["env"]}
    assert driver_env["FNRUN_SPARK_SUBMITTED"]["value"] == "1"  # use spark-submit's session
    assert "FNRUN_SPARK_SUBMITTED" not in {e["name"] for e in spec["executor"]["env"]}
    assert spec["driver"]["nodeSelector"] == {"pool": "cpu"}
    assert spec["imagePullSecrets"] == ["regcred"]
    # the pod parts are Kubernetes types: valid as a pod of the driver's container
    container = {
        "name": "driver",
        "image": spec["image"],
        "env": spec["driver"]["env"],
        "volumeMounts": spec["driver"]["volumeMounts"],
    }
    _valid(_pod({"spec": {"containers": [container], "volumes": spec["volumes"]}}))


def test_dask_cluster_manifest(tmp_path: Path) -> None:
    fn = _fn(tmp_path, "dask")
    fn.spec.replicas = 2
    fn.spec.nthreads = 4
    fn.with_replicas(min_replicas=1, max_replicas=5)
    docs = _by_kind(fn.manifests())
    cluster = docs["DaskCluster"]
    assert cluster["apiVersion"] == "kubernetes.dask.org/v1"
    worker = cluster["spec"]["worker"]
    assert worker["replicas"] == 2
    (container,) = worker["spec"]["containers"]
    assert container["args"][:2] == ["dask", "worker"] and "4" in container["args"]
    assert container["resources"]["requests"]["memory"] == "1Gi"
    scheduler = cluster["spec"]["scheduler"]
    assert scheduler["service"]["ports"][0]["port"] == 8786
    for pod in (worker["spec"], scheduler["spec"]):
        _valid(_pod({"spec": pod}))
    autoscaler = docs["DaskAutoscaler"]
    assert autoscaler["spec"] == {
        "cluster": cluster["metadata"]["name"],
        "minimum": 1,
        "maximum": 5,
    }


def test_remote_spark_is_a_job_driving_its_master(tmp_path: Path) -> None:
    fn = _fn(tmp_path, "remote-spark").with_spark_service("spark://spark.prod:7077")
    (_, job) = fn.manifests()
    assert job["kind"] == "Job"


def test_clear_errors(tmp_path: Path) -> None:
    fn = _fn(tmp_path, "job")
    fn.spec.image = ""
    with pytest.raises(InvalidArgumentError, match="no image") as err:
        fn.manifests()
    assert "FNRUN_DEFAULT_IMAGE" in (err.value.hint or "")
    fn.spec.image = "x"
    fn.spec.volumes = [{"name": "v", "hostPath": "not-a-mapping"}]
    with pytest.raises(InvalidArgumentError, match=r"spec.volumes\[0\]"):
        fn.manifests()
    serving = fnrun.new_function("s", kind="serving")
    with pytest.raises(InvalidArgumentError, match="no Kubernetes workload"):
        serving.manifests()
