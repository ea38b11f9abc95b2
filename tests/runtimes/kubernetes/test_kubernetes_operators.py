"""``mpijob`` and ``spark`` runs on Kubernetes: submitted as an MPIJob (Kubeflow MPI operator
``v2beta1``) and a SparkApplication (Spark operator ``v1beta2``) with the real kubernetes
client to kmock's API emulator, followed through the pod that runs the fnrun entry (the MPI
launcher, the Spark driver), aborted by deleting them. The stand-in operators
(kube.py here) run the launcher's command under real mpirun and the driver under
real spark-submit in the engines tier; the rest needs neither."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import RunError

pytest.importorskip("kubernetes", reason="the kubernetes client (the k8s extra)")
pytest.importorskip("kmock", reason="kmock, the Kubernetes API emulator (the dev extra)")

from tests.runtimes.kubernetes.kube import WORKLOADS, Emulator, Kubelet, use_cluster
from tests.runtimes.kubernetes.test_manifests_run import SPARK_CODE

MPI_CODE = """
from mpi4py import MPI

def train(context, p1: int = 1):
    comm = MPI.COMM_WORLD
    print(f"rank {comm.Get_rank()} of {comm.Get_size()}", flush=True)
    if p1 < 0:  # no collective: rank 0 must not wait for a rank that is gone
        if comm.Get_rank() == 1:
            raise ValueError("rank one gives up")
        return
    context.log_result("total", comm.allreduce(p1, op=MPI.SUM))
"""


def _cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, operators: bool
) -> Iterator[Emulator]:
    emulator = use_cluster(Emulator(operators=operators), tmp_path, monkeypatch)
    yield emulator
    emulator.close()


@pytest.fixture
def operators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    yield from _cluster(tmp_path, monkeypatch, operators=True)


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A cluster without the operators: the API server has no such resources (404)."""
    import kmock

    for emulator in _cluster(tmp_path, monkeypatch, operators=False):
        missing = kmock.KubernetesError(
            status=404,
            reason="NotFound",
            message="the server could not find the requested resource",
        )
        path = "post /apis/kubeflow.org/v2beta1/namespaces/ml/mpijobs"
        emulator.on_loop(lambda e=emulator, p=path, m=missing: e.kmock[p] << m)
        yield emulator


def _fn(tmp_path: Path, kind: str, code: str) -> Any:
    path = tmp_path / "train.py"
    path.write_text(code)
    fn = fnrun.code_to_function("train", filename=str(path), kind=kind, handler="train")
    fn.spec.image = "registry.local/fnrun:1"
    fn.add_volume(  # the run DB and artifacts on a volume the pods share, at the same path
        {"name": "shared", "hostPath": {"path": str(tmp_path)}}, {"mountPath": str(tmp_path)}
    )
    if kind == "mpijob":
        fn.spec.replicas = 2
    return fn


def _objects(emulator: Emulator, kind: str) -> list[dict[str, Any]]:
    from kubernetes import client

    group, version, plural = WORKLOADS[kind]
    raw = client.CustomObjectsApi(emulator.client()).list_cluster_custom_object(
        group, version, plural, _preload_content=False
    )
    return list(json.loads(raw.data)["items"])


def _stopped(tmp_path: Path, operators: Emulator, behaviour: str) -> Iterator[Kubelet]:
    kubelet = Kubelet(operators, tmp_path / "kubelet", behaviour)
    yield kubelet
    kubelet.close()


def test_without_a_cluster_mpijob_and_spark_run_on_this_machine_and_say_why() -> None:
    from fnrun.runtimes.placements import resolve_placement

    mpi = fnrun.new_function("m", kind="mpijob")
    spark = fnrun.new_function("s", kind="spark")
    assert resolve_placement(mpi.placement, mpi) == ("mpi", "FNRUN_K8S=off")
    assert resolve_placement(spark.placement, spark) == ("spark", "FNRUN_K8S=off")


def test_a_cluster_without_the_mpi_operator_says_what_to_install(
    bare: Emulator, tmp_path: Path
) -> None:
    from fnrun.runtimes.kubernetes.cluster import ClusterError

    with pytest.raises(ClusterError, match=r"no MPIJob kind \(kubeflow.org/v2beta1 mpijobs\)") as e:
        _fn(tmp_path, "mpijob", MPI_CODE).run(project="ops")
    assert "the Kubeflow MPI operator is not installed" in str(e.value)
    assert "local=True" in e.value.hint
    (run,) = fnrun.get_run_db().list_runs(project="ops")
    assert run["status"]["state"] == "error" and "not submitted" in run["status"]["error"]


def test_an_mpijob_that_cannot_start_is_aborted_by_deleting_it(
    operators: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in _stopped(tmp_path, operators, "waiting:ImagePullBackOff:pull access denied"):
        run = _fn(tmp_path, "mpijob", MPI_CODE).run(project="ops", watch=False)
        (job,) = _objects(operators, "MPIJob")
        assert run.status.kubernetes["kind"] == "MPIJob"
        assert job["metadata"]["name"] == run.status.kubernetes["job"]
        launcher = job["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["metadata"]["labels"]
        assert launcher["fnrun/role"] == "launcher" and launcher["fnrun/uid"] == run.uid()
        run.abort()
        assert "MPIJob fnrun-train-" in run.error and "deleted from Kubernetes" in run.error
        assert _objects(operators, "MPIJob") == []
        assert run.wait_for_completion(raise_on_failure=False).state() == "aborted"


def test_a_spark_driver_that_is_never_scheduled_fails_the_run_and_goes(
    operators: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FNRUN_K8S_PENDING_TIMEOUT", "0.5")
    for _ in _stopped(tmp_path, operators, "unschedulable"):
        with pytest.raises(RunError, match="could not start: Unschedulable") as err:
            _fn(tmp_path, "spark", SPARK_CODE).run(project="ops")
    assert err.value.run.status.kubernetes["kind"] == "SparkApplication"
    assert _objects(operators, "SparkApplication") == []  # deleted, not left retrying


@pytest.mark.integration
@pytest.mark.engines
def test_an_mpijob_runs_its_ranks_through_the_launcher(
    operators: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("mpi4py", reason="mpi4py (the mpi extra, the engines tier)")
    for kubelet in _stopped(tmp_path, operators, "run"):
        run = _fn(tmp_path, "mpijob", MPI_CODE).run(project="ops", params={"p1": 5})
        assert run.status.results == {"total": 10}  # 5 from each of the 2 ranks
        (job,) = _objects(operators, "MPIJob")
        assert job["spec"]["mpiReplicaSpecs"]["Worker"]["replicas"] == 2
        output = kubelet.outputs[job["metadata"]["name"]]
        assert "rank 1 of 2" in output  # the launcher pod's log: mpirun over both ranks
        logs = run.logs()  # as locally: rank 0 logs itself, the others' lines by rank
        assert "[rank 1] rank 1 of 2" in logs and "rank 0 of 2" in logs
        assert "[1,1]<stdout>" not in logs
        err = capsys.readouterr().err
        assert "as a Kubernetes MPIJob on Kubernetes (context kmock)" in err
        assert f"MPIJob {job['metadata']['name']} submitted" in err

        with pytest.raises(RunError) as failed:
            _fn(tmp_path, "mpijob", MPI_CODE).run(project="ops", params={"p1": -1})
        assert failed.value.run.state() == "error"


@pytest.mark.integration
@pytest.mark.engines
def test_a_spark_application_runs_its_driver_under_spark_submit(
    operators: Emulator, tmp_path: Path
) -> None:
    pytest.importorskip("pyspark", reason="pyspark (the spark extra, the engines tier)")
    for _ in _stopped(tmp_path, operators, "run"):
        run = _fn(tmp_path, "spark", SPARK_CODE).run(project="ops", params={"p1": 4})
    # the session is spark-submit's (the operator's), not one fnrun built
    assert run.status.results == {"master": "local[1]", "total": 6}
    (app,) = _objects(operators, "SparkApplication")
    assert app["spec"]["driver"]["labels"]["fnrun/role"] == "driver"
    assert app["status"]["applicationState"]["state"] == "COMPLETED"
