"""``job`` runs on Kubernetes: submitted with the real kubernetes client to kmock's API
emulator on loopback, with a stand-in kubelet (tests/runtimes/kubernetes/kube.py) that starts each
pod's container command and env as a local process and patches pod and Job status as the
controllers would. The run goes through the same execution path as everywhere: params,
secrets, results, artifacts and logs land in the run DB; crashes, bad images, pending pods,
refused and unreachable clusters end the run with a clear error."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import ConflictError, RunError

pytest.importorskip("kubernetes", reason="the kubernetes client (the k8s extra)")
pytest.importorskip("kmock", reason="kmock, the Kubernetes API emulator (the dev extra)")

from tests.otel import collector, spans
from tests.runtimes.kubernetes.kube import Emulator, Kubelet, use_cluster

__all__ = ["collector", "spans"]  # the fixtures

SECRET = "pod-secret-value-1234567890"
CODE = """
import os

def train(context, p1: int = 1):
    print(f"training with p1={p1} on {os.environ.get('MODE')}")
    context.log_result("p2", p1 * 2)
    context.log_result("token_ok", context.get_secret("TOKEN") == os.environ.get("EXPECT", "x"))
    context.log_artifact("notes", body=f"p1 was {p1}", local_path="notes.txt")
"""


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    yield emu
    emu.close()


@pytest.fixture
def cluster(emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    return use_cluster(emulator, tmp_path, monkeypatch)


def _kubelet(cluster: Emulator, tmp_path: Path, behaviour: str = "run") -> Iterator[Kubelet]:
    kubelet = Kubelet(cluster, tmp_path / "kubelet", behaviour)
    yield kubelet
    kubelet.close()


@pytest.fixture
def kubelet(cluster: Emulator, tmp_path: Path) -> Iterator[Kubelet]:
    yield from _kubelet(cluster, tmp_path)


def _fn(tmp_path: Path, shared: bool = True, code: str = CODE, handler: str = "train") -> Any:
    path = tmp_path / f"{handler}.py"
    path.write_text(code)
    fn = fnrun.code_to_function(handler, filename=str(path), kind="job", handler=handler)
    fn.spec.image = "registry.local/fnrun:1"
    fn.set_env("MODE", "pods")
    if shared:  # the run DB and artifacts on a volume the pods share, at the same path
        fn.add_volume(
            {"name": "shared", "hostPath": {"path": str(tmp_path)}}, {"mountPath": str(tmp_path)}
        )
    return fn


def _objects(emulator: Emulator, plural: str) -> list[dict[str, Any]]:
    from kubernetes import client

    api = emulator.client()
    if plural == "jobs":
        raw = client.BatchV1Api(api).list_job_for_all_namespaces(_preload_content=False)
    else:
        method = getattr(client.CoreV1Api(api), f"list_{plural}_for_all_namespaces")
        raw = method(_preload_content=False)
    return list(json.loads(raw.data)["items"])


def test_a_job_runs_as_a_kubernetes_job_end_to_end(
    cluster: Emulator, kubelet: Kubelet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _fn(tmp_path).run(params={"p1": 21}, secrets={"TOKEN": SECRET}, project="k8s")
    assert run.state() == "completed"
    assert run.status.results == {"p2": 42, "token_ok": False}  # EXPECT is not in the pod
    assert run.artifact("notes").get().decode() == "p1 was 21"
    (job,) = _objects(cluster, "jobs")
    name = job["metadata"]["name"]
    assert job["metadata"]["namespace"] == "ml"  # the kubeconfig context's namespace
    assert job["spec"]["backoffLimit"] == 0
    assert job["metadata"]["labels"]["fnrun/uid"] == run.uid()
    assert run.to_dict()["status"]["kubernetes"]["job"] == name
    for plural in ("config_map", "secret"):
        (obj,) = [o for o in _objects(cluster, plural) if o["metadata"]["name"] == name]
        (owner,) = obj["metadata"]["ownerReferences"]  # deleted with the Job
        assert owner["kind"] == "Job" and owner["name"] == name
    (secret,) = [o for o in _objects(cluster, "secret") if o["metadata"]["name"] == name]
    assert json.loads(secret["stringData"]["FNRUN_EXEC_SECRETS"]) == {"TOKEN": SECRET}
    stored = json.dumps(fnrun.get_run_db().read_run(run.uid(), "k8s"))
    assert SECRET not in stored and SECRET not in run.logs()
    assert "training with p1=21 on pods" in run.logs()  # the pod logged to the run DB
    out, err = capsys.readouterr()
    assert "training with p1=21 on pods" in out  # the pod's log, streamed while it ran
    assert "as a Kubernetes Job on Kubernetes (context kmock), namespace ml" in err
    assert f"Job {name} submitted" in err and "completed" in err


def test_a_pod_killed_before_reporting_fails_the_run_with_its_reason_and_log(
    cluster: Emulator, tmp_path: Path
) -> None:
    for _ in _kubelet(cluster, tmp_path, "oom"):
        with pytest.raises(RunError) as err:
            _fn(tmp_path).run(project="k8s")
    run = err.value.run
    assert run.state() == "error"  # type: ignore[attr-defined]
    assert "OOMKilled" in run.error and "exit code 137" in run.error  # type: ignore[attr-defined]
    assert "loading..." in run.logs()  # type: ignore[attr-defined]


def test_an_evicted_pod_is_retried_as_a_job_of_its_own(cluster: Emulator, tmp_path: Path) -> None:
    for kubelet in _kubelet(cluster, tmp_path, "evict-first"):
        run = _fn(tmp_path).run(project="k8s", params={"p1": 4}, retry={"count": 2, "backoff": 0})
        assert kubelet.evicted
    assert run.state() == "completed" and run.status.results["p2"] == 8  # type: ignore[attr-defined]
    doc = fnrun.get_run_db().read_run(run.uid(), "k8s")
    first, second = doc["status"]["attempts"]
    assert first["fault"] == "infrastructure" and "Evicted" in first["error"]
    assert second["state"] == "completed"
    jobs = sorted(o["metadata"]["name"] for o in _objects(cluster, "jobs"))
    uid8 = run.uid()[:8]
    assert f"fnrun-train-{uid8}" in jobs and f"fnrun-train-{uid8}-r1" in jobs
    assert "training with p1=4 on pods" in run.logs()  # type: ignore[attr-defined]


def test_a_bug_in_a_pod_is_not_retried(cluster: Emulator, tmp_path: Path) -> None:
    code = "def train(context, p1: int = 1):\n    raise ValueError('a bug in the pod')\n"
    for _ in _kubelet(cluster, tmp_path):
        with pytest.raises(RunError, match="a bug in the pod") as err:
            _fn(tmp_path, code=code).run(project="k8s", retry=2)
    doc = fnrun.get_run_db().read_run(err.value.run.uid(), "k8s")  # type: ignore[union-attr]
    assert [a["fault"] for a in doc["status"]["attempts"]] == ["code"]
    assert len(_objects(cluster, "jobs")) == 1


@pytest.mark.parametrize(
    ("behaviour", "expect", "pending"),
    [
        ("waiting:InvalidImageName:couldn't parse image name", "InvalidImageName", False),
        ("waiting:ImagePullBackOff:Back-off pulling image", "ImagePullBackOff", True),
        ("unschedulable", "Insufficient nvidia.com/gpu", True),
    ],
)
def test_a_pod_that_cannot_start_fails_the_run_and_deletes_its_job(
    cluster: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    behaviour: str,
    expect: str,
    pending: bool,
) -> None:
    monkeypatch.setenv("FNRUN_K8S_PENDING_TIMEOUT", "1")
    for _ in _kubelet(cluster, tmp_path, behaviour):
        with pytest.raises(RunError) as err:
            _fn(tmp_path).run(project="k8s")
    run = err.value.run
    assert run.error.startswith("the pod could not start") and expect in run.error  # type: ignore[attr-defined]
    assert ("still pending after 1 s" in run.error) is pending  # type: ignore[attr-defined]
    assert expect in run.to_dict()["status"]["status_text"]  # type: ignore[attr-defined]
    assert expect in capsys.readouterr().err  # shown while it waited
    assert _objects(cluster, "jobs") == []  # not left pulling forever


def test_hyper_parameter_iterations_are_jobs_of_their_own(
    cluster: Emulator, kubelet: Kubelet, tmp_path: Path
) -> None:
    run = (
        _fn(tmp_path)
        .run(
            project="k8s",
            hyperparams={"p1": [1, 2, 3]},
            hyper_param_options={"selector": "max.p2", "parallel_runs": 2},
            watch=False,
        )
        .wait_for_completion()
    )
    assert run.to_dict()["status"]["best_iteration"] == 3 and run.output("p2") == 6
    names = sorted(j["metadata"]["name"] for j in _objects(cluster, "jobs"))
    assert [n.rsplit("-", 1)[1] for n in names] == ["1", "2", "3"]


def test_an_unreachable_cluster_is_a_clear_error_and_the_run_says_so(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fnrun.runtimes.kubernetes.cluster import ClusterError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = emulator.kubeconfig(tmp_path / "kubeconfig")
    config.write_text(config.read_text().replace(emulator.url, f"http://127.0.0.1:{port}"))
    monkeypatch.setenv("FNRUN_K8S", str(config))
    with pytest.raises(
        ClusterError, match=f"cannot reach the Kubernetes API at http://127.0.0.1:{port}"
    ):
        _fn(tmp_path).run(project="k8s", watch=False)
    (run,) = fnrun.get_run_db().list_runs(project="k8s")
    assert run["status"]["state"] == "error" and "not submitted" in run["status"]["error"]


def test_a_forbidden_namespace_names_what_was_refused(cluster: Emulator, tmp_path: Path) -> None:
    import kmock

    from fnrun.runtimes.kubernetes.cluster import ClusterError

    message = 'configmaps is forbidden: User "tester" cannot create'
    refusal = kmock.KubernetesError(status=403, reason="Forbidden", message=message)
    cluster.on_loop(lambda: cluster.kmock["post /api/v1/namespaces/ml/configmaps"] << refusal)
    with pytest.raises(ClusterError) as err:
        _fn(tmp_path).run(project="k8s", watch=False)
    assert "Kubernetes refused to create ConfigMap" in str(err.value)
    assert 'User "tester" cannot create' in str(err.value)
    assert "configmaps and secrets" in err.value.hint


def test_pods_that_cannot_see_the_run_db_are_warned_about(
    cluster: Emulator, kubelet: Kubelet, tmp_path: Path
) -> None:
    with pytest.warns(UserWarning) as seen:
        _fn(tmp_path, shared=False).run(project="k8s", watch=False).wait_for_completion(
            raise_on_failure=False
        )
    texts = [str(w.message) for w in seen]
    assert any("SQLite run DB" in t and "cannot see unless a shared volume" in t for t in texts)
    assert any("artifacts go to" in t and "lost with the pod" in t for t in texts)


def test_without_a_cluster_a_job_runs_in_a_local_child_process_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FNRUN_K8S")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.setenv("FNRUN_PROGRESS", "1")
    run = _fn(tmp_path).run(params={"p1": 2}, project="k8s")
    assert run.status.results["p2"] == 4
    assert "in a child process (no Kubernetes cluster configured" in capsys.readouterr().err


SLOW = """
import time

def slow(context):
    context.log_result("started", 1)
    print("working...", flush=True)
    time.sleep(60)
    context.log_result("finished", 1)
"""


def _running(project: str) -> dict[str, Any]:
    """The run once its handler has started (its log shows it)."""
    import time

    db = fnrun.get_run_db()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for run in db.list_runs(project=project):
            if "working..." in db.get_log(run["metadata"]["uid"], project)[1].decode():
                return run
        time.sleep(0.05)
    raise AssertionError("the run never started")


def _abort_while_running(fn: Any, project: str) -> tuple[Any, Any]:
    """Run ``fn`` in a thread, abort it once its handler works; (what run() returned, the
    aborted run document)."""
    import threading

    from fnrun.runtimes.launch.runobject import RunObject

    returned: list[Any] = []
    thread = threading.Thread(target=lambda: returned.append(fn.run(project=project)), daemon=True)
    thread.start()
    run = _running(project)
    aborted = RunObject(run, fnrun.get_run_db()).abort()
    thread.join(60)
    assert not thread.is_alive() and returned, "run() did not return after the abort"
    return returned[0], aborted


def test_abort_deletes_the_job_and_the_run_keeps_what_it_logged(
    cluster: Emulator, tmp_path: Path
) -> None:
    for _ in _kubelet(cluster, tmp_path, "hold"):
        fn = _fn(tmp_path, code=SLOW, handler="slow")
        returned, aborted = _abort_while_running(fn, "k8s")
    assert aborted.state() == "aborted" and "Job fnrun-slow-" in aborted.error
    assert "deleted from Kubernetes (context kmock)" in aborted.error
    assert _objects(cluster, "jobs") == []
    final = returned.refresh()
    assert final.state() == "aborted"
    assert final.status.results == {"started": 1}  # committed by the pod as SIGTERM came
    assert "working..." in final.logs()


def test_abort_of_a_local_process_run(tmp_path: Path) -> None:
    fn = _fn(tmp_path, code=SLOW, handler="slow")
    returned, aborted = _abort_while_running(fn, "local")  # no cluster: a child process
    assert "sent SIGTERM" in aborted.error
    final = returned.refresh()
    assert final.state() == "aborted" and final.status.results == {"started": 1}
    assert "working..." in final.logs() and "Terminated" in final.logs()
    with pytest.raises(ConflictError, match="already aborted"):
        final.abort()


def test_watch_false_returns_once_the_job_is_submitted(cluster: Emulator, tmp_path: Path) -> None:
    for _ in _kubelet(cluster, tmp_path, "hold"):
        run = _fn(tmp_path, code=SLOW, handler="slow").run(project="k8s", watch=False)
        assert run.state() in ("created", "running")  # the pod has a minute of work
        (job,) = _objects(cluster, "jobs")
        assert job["metadata"]["name"] == run.status.kubernetes["job"]
        _running("k8s")  # the pod goes on without the caller, and the run hears of it
        run.abort()
        assert run.wait_for_completion(raise_on_failure=False).state() == "aborted"
        assert run.status.results == {"started": 1}


def test_fnrun_run_says_where_the_job_went_and_what_it_waits_for(
    cluster: Emulator, kubelet: Kubelet, tmp_path: Path, fnrun_home: Path
) -> None:
    import os
    import subprocess
    import sys

    fn = _fn(tmp_path)
    fn.export(str(tmp_path / "function.yaml"))
    env = {
        "FNRUN_HOME": str(fnrun_home),
        "HOME": str(tmp_path),
        "PATH": os.environ["PATH"],
        "FNRUN_K8S": os.environ["FNRUN_K8S"],
        "FNRUN_K8S_POLL": "0.05",
        "FNRUN_ARTIFACT_PATH": str(tmp_path / "artifacts"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "fnrun", "run", str(tmp_path / "function.yaml"), "-p", "p1=5"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "as a Kubernetes Job on Kubernetes (context kmock), namespace ml" in done.stderr
    assert "  Job fnrun-train-" in done.stderr and " submitted to " in done.stderr
    assert "training with p1=5 on pods" in done.stdout  # the pod's log


def test_abort_never_signals_a_program_that_runs_a_run_in_process(tmp_path: Path) -> None:
    """An in-process run's executor is the user's program (a notebook kernel): it is marked
    aborted, not sent SIGTERM."""
    import subprocess
    import sys

    from fnrun.db.monitor import this_executor
    from fnrun.runtimes.launch.runobject import RunObject

    kernel = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        db = fnrun.get_run_db()
        executor = {**this_executor(), "pid": kernel.pid, "started": ""}
        doc = {
            "kind": "run",
            "metadata": {"name": "nb", "uid": "a" * 32, "project": "k8s", "iteration": 0},
            "spec": {},
            "status": {"state": "running", "executor": executor},
        }
        db.store_run(doc, "a" * 32, "k8s")
        aborted = RunObject(db.read_run("a" * 32, "k8s"), db).abort()
        assert aborted.state() == "aborted" and "was not signalled" in aborted.error
        assert kernel.poll() is None  # still alive
    finally:
        kernel.kill()
        kernel.wait()


def test_pods_report_to_the_service_with_the_token_from_the_runs_secret(
    cluster: Emulator, kubelet: Kubelet, tmp_path: Path
) -> None:
    pytest.importorskip("fastapi")
    from fnrun.db.http import HTTPRunDB
    from fnrun.db.sql.sqldb import SQLRunDB
    from tests.db.restserver import running_service

    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with running_service(sql, token="kube-t0ken") as url:
        db = HTTPRunDB(url, token="kube-t0ken")  # the token in code only: not in any env
        with pytest.warns(UserWarning, match="their own loopback"):  # true on a real cluster
            run = _fn(tmp_path).run(params={"p1": 3}, project="k8s", db=db)
        assert run.state() == "completed"
        assert sql.read_run(run.uid(), "k8s")["status"]["results"]["p2"] == 6  # via the service
    (job,) = _objects(cluster, "jobs")
    (secret,) = [o for o in _objects(cluster, "secret")
                 if o["metadata"]["name"] == job["metadata"]["name"]]  # fmt: skip
    assert secret["stringData"]["FNRUN_TOKEN"] == "kube-t0ken"
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert "kube-t0ken" not in json.dumps(container)  # the pod spec names the Secret only
    sql.close()


def test_a_job_started_in_a_trace_continues_it_in_its_pod(
    cluster: Emulator, kubelet: Kubelet, tmp_path: Path, spans: Any, collector: Any
) -> None:
    from opentelemetry import trace

    fn = _fn(tmp_path)
    fn.set_env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)  # the pod exports its spans
    fn.set_env("OTEL_BSP_SCHEDULE_DELAY", "100")
    with trace.get_tracer("test").start_as_current_span("caller") as span:
        run = fn.run(params={"p1": 1}, project="k8s")
    trace_id = f"{span.get_span_context().trace_id:032x}"
    assert run.state() == "completed" and run.status["trace_id"] == trace_id
    (job,) = _objects(cluster, "jobs")
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["TRACEPARENT"].split("-")[1] == trace_id  # the pod's code sees it too
    (exported,) = collector.wait_for(1, name="run train", trace_id=trace_id)
    assert exported.attributes["fnrun.run.uid"] == run.uid() and exported.service == "train"
