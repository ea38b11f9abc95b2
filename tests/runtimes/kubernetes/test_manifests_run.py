"""The generated MPIJob launcher and SparkApplication driver, run here on the real engines:
the launcher's command under real mpirun, the driver's launcher under real spark-submit (the
operators' own step), each with the env the kubelet would give it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fnrun.db import get_run_db
from tests.runtimes.kubernetes.kube import python_here
from tests.runtimes.kubernetes.test_manifests import _fn, as_kubelet, submitted

pytestmark = [pytest.mark.integration, pytest.mark.engines]

MPI_CODE = """
from mpi4py import MPI

def train(context, p1: int = 1):
    comm = MPI.COMM_WORLD
    context.log_result("total", comm.allreduce(p1, op=MPI.SUM))
"""

SPARK_CODE = """
from pyspark.sql import SparkSession

def train(context, p1: int = 1):
    spark = SparkSession.builder.getOrCreate()
    assert spark is context.spark_session
    context.log_result("master", spark.sparkContext.master)
    context.log_result("total", spark.sparkContext.parallelize(range(p1)).sum())
"""


def test_the_mpijob_launcher_command_runs_the_ranks(tmp_path: Path) -> None:
    pytest.importorskip("mpi4py", reason="mpi4py (the mpi extra, the engines tier)")
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun (Debian's openmpi-bin, the engines tier)")
    fn = _fn(tmp_path, "mpijob", MPI_CODE)
    fn.spec.replicas = 2
    request, docs = submitted(tmp_path, fn, {"p1": 5})
    launcher = docs["MPIJob"]["spec"]["mpiReplicaSpecs"]["Launcher"]["template"]["spec"]
    (container,) = launcher["containers"]
    env = as_kubelet(tmp_path, docs, container)
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    done = subprocess.run(
        python_here(container["command"]), env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    run = get_run_db().read_run(request.uid, "k8s")
    assert run["status"]["results"] == {"total": 10}  # 5 from each of the 2 ranks


def test_the_spark_application_driver_runs_under_spark_submit(tmp_path: Path) -> None:
    pyspark = pytest.importorskip("pyspark", reason="pyspark (the spark extra, the engines tier)")
    fn = _fn(tmp_path, "spark", SPARK_CODE)
    request, docs = submitted(tmp_path, fn, {"p1": 4})
    spec = docs["SparkApplication"]["spec"]
    env = as_kubelet(tmp_path, docs, {"env": spec["driver"]["env"]})
    env["PYSPARK_PYTHON"] = python_here(["python"])[0]
    main = spec["mainApplicationFile"].removeprefix("local://")
    local_main = tmp_path / "run" / Path(main).name  # the ConfigMap's launcher, mounted here
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    done = subprocess.run(
        [
            str(submit),
            "--master",
            "local[1]",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.driver.host=127.0.0.1",
            "--conf",
            "spark.driver.bindAddress=127.0.0.1",
            str(local_main),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    run = get_run_db().read_run(request.uid, "k8s")
    # the session is spark-submit's (its master), not one fnrun built
    assert run["status"]["results"] == {"master": "local[1]", "total": 6}
