"""The spark kinds' configuration: the function's knobs as Spark settings (no JVM needed)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.local.spark_session import MASTER_ENV, spark_memory


def _fn(kind: str = "spark") -> Any:
    return fnrun.new_function("etl", kind=kind)


def test_master_defaults_to_local_sized_by_replicas_and_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MASTER_ENV, raising=False)
    fn = _fn()
    assert fn.spark_master == "local[*]"
    fn.spec.replicas = 2
    fn.spec.executor_cores = 3
    assert fn.spark_master == "local[6]"
    monkeypatch.setenv(MASTER_ENV, "spark://10.0.0.1:7077")
    assert fn.spark_master == "spark://10.0.0.1:7077"
    fn.with_spark_master("local[2]")  # the function's own master wins over the environment
    assert fn.spark_master == "local[2]"


def test_knobs_become_spark_settings() -> None:
    fn = _fn()
    fn.with_spark_master("spark://127.0.0.1:7077")
    fn.with_driver_requests(mem="1Gi", cpu=2).with_executor_requests(mem="512m", cpu="1")
    fn.spec.replicas = 3
    fn.spec.deps = {"jars": ["a.jar", "b.jar"], "packages": ["org.x:y:1.0"]}
    fn.spec.spark_conf = {"spark.sql.shuffle.partitions": 8, "spark.executor.cores": 4}
    fn.spec.hadoop_conf = {"fs.s3a.endpoint": "http://127.0.0.1:9000"}
    fn.spec.driver_java_options = "-Dx=1"
    fn.set_env("MODE", "prod")
    fn.with_dynamic_allocation(min_executors=1, max_executors=4)
    conf = fn.spark_conf()
    assert conf["spark.app.name"] == "etl"
    assert conf["spark.driver.memory"] == "1024m"  # a Kubernetes quantity, in Spark's units
    assert conf["spark.executor.memory"] == "512m"  # Spark's own unit stays as given
    assert conf["spark.driver.cores"] == "2"
    assert conf["spark.executor.cores"] == "4"  # spark_conf wins over the derived value
    assert conf["spark.executor.instances"] == "3"
    assert conf["spark.jars"] == "a.jar,b.jar"
    assert conf["spark.jars.packages"] == "org.x:y:1.0"
    assert conf["spark.sql.shuffle.partitions"] == "8"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9000"
    assert conf["spark.driver.extraJavaOptions"] == "-Dx=1"
    assert conf["spark.executorEnv.MODE"] == "prod"
    assert conf["spark.dynamicAllocation.enabled"] == "true"
    assert conf["spark.dynamicAllocation.maxExecutors"] == "4"
    # a master on this machine runs executors with this interpreter, the driver on loopback
    assert conf["spark.pyspark.python"] == sys.executable
    assert conf["spark.driver.host"] == "127.0.0.1"


def test_a_master_elsewhere_gets_no_local_settings() -> None:
    fn = _fn().with_spark_master("spark://spark-master.prod:7077")
    conf = fn.spark_conf()
    assert "spark.pyspark.python" not in conf
    assert "spark.driver.host" not in conf


def test_local_mode_sets_no_executor_instances() -> None:
    fn = _fn().with_spark_master("local[2]")
    fn.spec.replicas = 2
    assert "spark.executor.instances" not in fn.spark_conf()


def test_knobs_survive_save_and_load() -> None:
    fn = _fn().with_spark_master("spark://127.0.0.1:7077").with_executor_requests(mem="2g")
    again = type(fn).from_dict(fn.to_dict())
    assert again.spark_master == "spark://127.0.0.1:7077"
    assert again.spark_conf()["spark.executor.memory"] == "2g"


def test_bad_master_and_memory_are_clear_errors() -> None:
    fn = _fn()
    with pytest.raises(InvalidArgumentError, match="invalid Spark master") as err:
        fn.with_spark_master("http://x")
    assert "spark://host:7077" in (err.value.hint or "")
    with pytest.raises(InvalidArgumentError):
        fn.with_driver_requests(mem="lots")
    with pytest.raises(InvalidArgumentError, match="under 1 MiB"):
        spark_memory("100", "m")


def test_remote_spark_takes_a_master_url_as_its_service() -> None:
    fn = _fn("remote-spark")
    fn.with_spark_service("spark://127.0.0.1:7077")
    assert fn.spark_master == "spark://127.0.0.1:7077"
    assert fn.to_dict()["spec"]["master"] == "spark://127.0.0.1:7077"
    with pytest.raises(InvalidArgumentError, match="invalid Spark master"):
        fn.with_spark_service("my-iguazio-spark")
    with pytest.raises(InvalidArgumentError, match="Iguazio"):
        fn.with_spark_service("spark://h:7077", with_v3io_mount=True)


def test_spark_runs_here_and_says_where() -> None:
    from fnrun.runtimes.placements import describe_placement, resolve_placement

    fn = _fn().with_spark_master("local[2]")
    # a function naming its master is driven from here, cluster or not
    assert fn.placement == "kubernetes" and resolve_placement(fn.placement, fn) == ("spark", "")
    assert describe_placement("spark", fn) == "the driver here, Spark on local[2]"
    name, why = resolve_placement("kubernetes", _fn())  # FNRUN_K8S=off in the tests
    assert name == "spark" and why == "FNRUN_K8S=off"
