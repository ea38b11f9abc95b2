"""The spark kinds on real Spark: a ``local[2]`` session in this process, and a real
standalone master + worker started from the pyspark package (``spark-class``)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.engines]
pyspark = pytest.importorskip("pyspark", reason="pyspark (the spark extra, the engines tier)")

CODE = """
from pyspark.sql import SparkSession

def square(x):
    return x * x

def squares(context, n: int = 4):
    spark = SparkSession.builder.getOrCreate()
    assert spark is context.spark_session
    # square() comes from this file: the executors import it (the code is shipped to them)
    total = spark.sparkContext.parallelize(range(n), 2).map(square).sum()
    print(f"sum of squares below {n}: {total}")
    context.log_result("total", int(total))
    context.log_result("master", spark.sparkContext.master)
    context.log_result("app", spark.sparkContext.applicationId)
    context.log_result("partitions", spark.conf.get("spark.sql.shuffle.partitions"))
    context.log_result("executors", spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size())
"""

QUIET = {"spark.ui.enabled": False, "spark.sql.shuffle.partitions": 3}


@pytest.fixture
def code(tmp_path: Path) -> str:
    path = tmp_path / "etl.py"
    path.write_text(CODE)
    return str(path)


def _spark_fn(code: str, name: str = "etl", kind: str = "spark") -> Any:
    fn = fnrun.code_to_function(name, filename=code, kind=kind, handler="squares")
    fn.spec.spark_conf = dict(QUIET)
    fn.spec.driver_java_options = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    return fn


def test_local_session_by_default_kept_across_runs(code: str) -> None:
    fn = _spark_fn(code)
    fn.spec.replicas = 2
    run = fn.run(params={"n": 5})
    assert run.status.results["total"] == 30
    assert run.status.results["master"] == "local[2]"
    assert run.status.results["partitions"] == "3"
    assert "sum of squares below 5: 30" in run.logs()
    again = fn.run(params={"n": 3})  # the same session: no new JVM application
    assert again.status.results["app"] == run.status.results["app"]
    other = _spark_fn(code, name="etl-other")  # another configuration: a new session
    other.spec.replicas = 2
    third = other.run(params={"n": 2})
    assert third.status.results["total"] == 1
    assert third.status.results["app"] != run.status.results["app"]


def test_parallel_iterations_share_the_session(code: str) -> None:
    fn = _spark_fn(code)
    fn.spec.replicas = 2
    run = fn.run(
        hyperparams={"n": [2, 3, 4, 5]},
        hyper_param_options={"parallel_runs": 2, "selector": "max.total"},
    )
    assert run.status.best_iteration == 4
    assert run.status.results["total"] == 30
    children = fnrun.get_run_db().list_runs(uid=run.metadata.uid, iter=True)
    assert len({c["status"]["results"]["app"] for c in children if c["metadata"]["iteration"]}) == 1


def test_a_foreign_session_on_another_master_is_refused(code: str) -> None:
    from fnrun.runtimes.local.spark_session import stop_session

    stop_session()
    from pyspark.sql import SparkSession

    mine = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    try:
        fn = _spark_fn(code)
        fn.with_spark_master("local[2]")
        with pytest.raises(InvalidArgumentError, match="already runs in this process"):
            fn.run(params={"n": 2})
        fn.with_spark_master("local[1]")  # the hint: run on the session that is there
        assert fn.run(params={"n": 3}).status.results["total"] == 5
    finally:
        fn.close()
        mine.stop()


@pytest.fixture(scope="module")
def standalone() -> Iterator[str]:
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    port, ui = free_port(), free_port()
    master_url = f"spark://127.0.0.1:{port}"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    master = subprocess.Popen(
        [
            str(spark_class),
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui),
        ],
        **common,  # type: ignore[call-overload]
    )
    worker = subprocess.Popen(
        [
            str(spark_class),
            "org.apache.spark.deploy.worker.Worker",
            master_url,
            "--host",
            "127.0.0.1",
            "--cores",
            "2",
            "--memory",
            "1g",
            "--webui-port",
            str(free_port()),
        ],
        **common,  # type: ignore[call-overload]
    )
    try:
        deadline = time.monotonic() + 90
        while True:  # the master's JSON page lists the worker once it registered
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as page:
                    if json.load(page).get("aliveworkers", 0) >= 1:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the standalone worker never registered"
            time.sleep(0.5)
        yield master_url
    finally:
        for proc in (worker, master):
            proc.terminate()
            proc.wait(30)


@pytest.mark.parametrize("kind", ["spark", "remote-spark"])
def test_a_standalone_master_by_url(code: str, standalone: str, kind: str) -> None:
    fn = _spark_fn(code, kind=kind)
    if kind == "remote-spark":
        fn.with_spark_service(standalone)
    else:
        fn.with_spark_master(standalone)
    fn.with_executor_requests(mem="512m", cpu=1)
    try:
        run = fn.run(params={"n": 6})
    finally:
        fn.close()
    assert run.status.results["master"] == standalone
    assert run.status.results["total"] == 55
    assert run.status.results["executors"] >= 2  # the driver and at least one executor
