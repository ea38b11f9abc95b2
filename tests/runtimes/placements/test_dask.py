"""The dask kind on real Dask: a LocalCluster by default, an existing scheduler by address
(a real `dask scheduler` and two `dask worker` processes started here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from tests.conftest import free_port
from tests.otel import collector, spans

__all__ = ["collector", "spans"]  # the fixtures

pytestmark = pytest.mark.integration
distributed = pytest.importorskip("distributed", reason="dask[distributed] (the dask extra)")

CODE = """
def square(x):
    return x * x

def total(context, n: int = 4):
    client = context.dask_client
    context.log_result("total", sum(client.gather(client.map(square, range(n)))))
    context.log_result("workers", len(client.scheduler_info()["workers"]))
"""


@pytest.fixture
def code(tmp_path: Path) -> str:
    path = tmp_path / "work.py"
    path.write_text(CODE)
    return str(path)


def test_local_cluster_by_default(code: str) -> None:
    fn = fnrun.code_to_function("sums", filename=code, kind="dask", handler="total")
    fn.spec.replicas = 2
    fn.with_limits(mem="700Mi")  # each worker's limit, as its pod's on Kubernetes
    import io
    import urllib.request

    from fnrun.runtimes.progress import LineReporter

    said = io.StringIO()
    try:
        run = fn.run(params={"n": 5}, progress=LineReporter(said))
        assert run.status.results == {"total": 30, "workers": 2}
        link = fn.dashboard_link  # a real dashboard (bokeh), named in the start line
        assert link.startswith("http://127.0.0.1:") and f"dashboard {link}" in said.getvalue()
        with urllib.request.urlopen(link, timeout=10) as page:
            assert page.status == 200
        limits = {w["memory_limit"] for w in fn.client.scheduler_info()["workers"].values()}
        assert limits == {700 * 2**20}
        again = fn.run(params={"n": 3})  # the same cluster, already up
        assert again.status.results["total"] == 5
        assert isinstance(fn.client, distributed.Client)
    finally:
        client = fn.client
        fn.close()
    assert client.status == "closed"


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    assert dask, "the dask command comes with dask[distributed]"
    address = f"tcp://127.0.0.1:{free_port()}"
    port = address.rsplit(":", 1)[1]
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        with distributed.Client(address, timeout="30s") as probe:
            probe.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()  # a worker still reconnecting to the stopped scheduler
                proc.wait(5)


def test_an_existing_scheduler_by_address_kept_through_save(code: str, scheduler: str) -> None:
    fn = fnrun.code_to_function("remote-sums", filename=code, kind="dask", handler="total")
    fn.spec.scheduler_address = scheduler
    import io

    from fnrun.runtimes.progress import LineReporter

    said = io.StringIO()
    try:
        run = fn.run(params={"n": 4}, progress=LineReporter(said))
        assert run.status.results == {"total": 14, "workers": 2}
        assert f"the client here, tasks on Dask {scheduler}" in said.getvalue()
    finally:
        fn.close()
    fn.save()
    stored = fnrun.import_function("db://default/remote-sums")
    assert stored.spec.scheduler_address == scheduler


def test_scheduler_from_mlrun_status_or_the_environment(
    code: str, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fn = fnrun.code_to_function("env-sums", filename=code, kind="dask", handler="total")
    doc = fn.to_dict()
    doc["status"] = {"scheduler_address": scheduler}  # how MLRun records a running cluster
    from_mlrun = fnrun.new_function(runtime=doc)
    assert from_mlrun.scheduler_address == scheduler
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)
    started = time.monotonic()
    try:
        run = fn.run(params={"n": 2})
    finally:
        fn.close()
    assert run.status.results["workers"] == 2 and time.monotonic() - started < 30


SCORE = """
import os

def score(context, x: int = 0):
    context.log_result("loss", (x - 2) ** 2)
    context.log_result("pid", os.getpid())
"""


def test_parallel_iterations_run_on_the_clusters_workers(tmp_path: Path) -> None:
    import os

    path = tmp_path / "score.py"
    path.write_text(SCORE)
    fn = fnrun.code_to_function("grid", filename=str(path), kind="dask", handler="score")
    fn.spec.replicas = 2
    try:
        run = fn.run(
            hyperparams={"x": [0, 1, 2, 3]},
            hyper_param_options={"selector": "min.loss", "parallel_runs": 2},
        )
    finally:
        fn.close()
    assert run.status.best_iteration == 3 and run.status.results["loss"] == 0
    header, *rows = run.status.iterations
    pids = {row[header.index("output.pid")] for row in rows}
    assert len(rows) == 4 and os.getpid() not in pids  # every iteration ran on a worker


def test_dask_cluster_uri_sends_any_kinds_iterations_to_that_scheduler(
    tmp_path: Path, scheduler: str
) -> None:
    path = tmp_path / "score.py"
    path.write_text(SCORE)
    fn = fnrun.code_to_function("job-grid", filename=str(path), kind="job", handler="score")
    run = fn.run(
        hyperparams={"x": [1, 2, 3]},
        hyper_param_options={
            "selector": "min.loss",
            "parallel_runs": 3,
            "dask_cluster_uri": scheduler,
        },
        local=True,
    )
    import os

    assert run.status.best_iteration == 2 and run.metadata.name == "job-grid"
    header, *rows = run.status.iterations
    assert os.getpid() not in {row[header.index("output.pid")] for row in rows}


def test_dask_cluster_uri_may_name_a_stored_dask_function(tmp_path: Path) -> None:
    """MLRun's meaning of ``dask_cluster_uri``: the URI of a stored dask function, whose
    cluster (here the LocalCluster its spec starts) runs the iterations."""
    import os

    cluster = fnrun.new_function("grid-cluster", kind="dask", project="dgrid")
    cluster.spec.replicas = 2
    uri = cluster.save()  # db://dgrid/grid-cluster@<hash>
    path = tmp_path / "score.py"
    path.write_text(SCORE)
    fn = fnrun.code_to_function("uri-grid", filename=str(path), kind="job", handler="score")
    for named in (uri, "db://dgrid/grid-cluster"):
        run = fn.run(
            hyperparams={"x": [1, 2, 3]},
            hyper_param_options={"selector": "min.loss", "parallel_runs": 3,
                                 "dask_cluster_uri": named},
            local=True,
        )  # fmt: skip
        header, *rows = run.status.iterations
        assert run.status.best_iteration == 2 and len(rows) == 3
        assert os.getpid() not in {row[header.index("output.pid")] for row in rows}
    job = fnrun.new_function("not-dask", kind="job", project="dgrid")
    with pytest.raises(fnrun.errors.InvalidArgumentError, match="not a dask one"):
        fn.run(
            hyperparams={"x": [1, 2]},
            hyper_param_options={"parallel_runs": 2, "dask_cluster_uri": job.save()},
            local=True,
        )


FIT = """
def fit(context, n: int = 10):
    client = context.dask_client
    total = sum(client.gather(client.map(abs, range(n))))
    context.log_model("model", body=str(total).encode(), model_file="m.txt", metrics={"n": n})
"""


def serve_model(body: dict) -> dict:  # type: ignore[type-arg]
    path, artifact, _ = fnrun.get_model(body["outputs"]["model"])
    return {"prediction": int(Path(path).read_text()) * 2, "trained_on": artifact.spec.metrics["n"]}


def test_a_graph_trains_on_dask_then_serves_the_logged_model(tmp_path: Path) -> None:
    from fnrun.serving import RunStep

    path = tmp_path / "fit.py"
    path.write_text(FIT)
    trainer = fnrun.code_to_function("fit", filename=str(path), kind="dask", handler="fit")
    trainer.spec.replicas = 2
    fn = fnrun.new_function("train-and-serve", kind="serving")
    graph = fn.set_topology("flow")
    graph.to(RunStep(function=trainer), name="train").to(handler="serve_model").respond()
    try:
        out = fn.to_mock_server(namespace=globals()).test(body={"n": 5})
    finally:
        trainer.close()
    assert out == {"prediction": 20, "trained_on": 5}


LOSES_A_WORKER = """
import os, pathlib, signal

def die_once(marker):
    path = pathlib.Path(marker)
    if not path.exists():
        path.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies under the task
    return 42

def answer(context, marker: str):
    future = context.dask_client.submit(die_once, marker, pure=False)
    context.log_result("answer", future.result())
"""


def test_a_lost_worker_is_the_infrastructures_fault_and_retried(tmp_path: Path) -> None:
    import dask

    path = tmp_path / "loses.py"
    path.write_text(LOSES_A_WORKER)
    fn = fnrun.code_to_function("loses", filename=str(path), kind="dask", handler="answer")
    fn.spec.replicas = 1
    marker = str(tmp_path / "marker")
    # the scheduler gives up on a task whose worker died at once (its default retries it 3x)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        try:
            run = fn.run(params={"marker": marker}, retry={"count": 1, "backoff": 0})
        finally:
            fn.close()
    assert run.status.results == {"answer": 42}
    doc = fnrun.get_run_db().read_run(run.uid(), run.metadata["project"])
    first, second = doc["status"]["attempts"]
    assert first["fault"] == "infrastructure" and "KilledWorker" in first["error"]
    assert second["state"] == "completed"


UNGUARDED = """
import fnrun


def inc(context, x: int = 1):
    context.log_result("y", x + 1)


fn = fnrun.new_function("unguarded", kind="dask")
run = fn.run(handler=inc, params={"x": 2})
print("RESULT", run.outputs["y"])
"""


def test_a_script_without_a_main_guard_fails_at_once_and_with_one_works(tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED)
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode != 0 and time.monotonic() - started < 60  # no hang
    assert "line 10" in done.stderr and 'if __name__ == "__main__":' in done.stderr
    guarded = UNGUARDED.replace("fn = fnrun", 'if __name__ == "__main__":\n    fn = fnrun')
    guarded = guarded.replace("\nrun = ", "\n    run = ").replace("\nprint(", "\n    print(")
    script.write_text(guarded)
    ok = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                        timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "RESULT 3" in ok.stdout


def test_iterations_on_the_workers_continue_the_callers_trace(
    tmp_path: Path, spans: Any, collector: Any
) -> None:
    from opentelemetry import trace

    path = tmp_path / "score.py"
    path.write_text(SCORE)
    fn = fnrun.code_to_function("traced-grid", filename=str(path), kind="dask", handler="score")
    fn.spec.replicas = 2  # the workers inherit OTEL_* (the collector fixture's) and export
    caller = trace.get_tracer("test").start_as_current_span("caller")
    try:
        with caller as span:
            options = {"selector": "min.loss", "parallel_runs": 2}
            run = fn.run(hyperparams={"x": [0, 1, 2]}, hyper_param_options=options)
    finally:
        fn.close()  # the workers exit: their spans are flushed
    trace_id = f"{span.get_span_context().trace_id:032x}"
    assert run.status["trace_id"] == trace_id
    exported = collector.wait_for(3, name="run traced-grid", trace_id=trace_id)
    assert len(exported) == 3  # one span per iteration, from the workers, in the caller's trace
    assert {s.attributes["fnrun.run.iteration"] for s in exported} == {1, 2, 3}
    assert all(s.service == "traced-grid" for s in exported)
