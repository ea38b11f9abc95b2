"""The spark kinds' session: ``fn.spark_session`` (and ``context.spark_session`` in a run).

Where it runs, first that applies: ``fn.spec.master`` (``spark://host:7077``, ``yarn``,
``local[4]``...; MLRun's ``with_spark_service`` sets it on ``remote-spark``),
``FNRUN_SPARK_MASTER``, else ``local[N]`` in this process with N = replicas x executor
cores when either is set, else every core (``local[*]``).

The function's knobs become Spark configuration (:meth:`SparkSessionMixin.spark_conf`):
the app name, driver/executor cores and memory (MLRun's ``with_driver_requests`` /
``with_executor_requests``), executor instances (``replicas``), dynamic allocation,
``spark_conf`` and ``hadoop_conf`` entries, ``deps`` (jars, files, pyFiles, packages),
Java options and the function's env for executors. A Spark application has one session per
process: the session is kept for later runs with the same configuration (a JVM starts once)
and rebuilt when it differs; ``fn.close()`` stops it. ``pyspark`` is the ``spark`` extra,
imported only here.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, Self

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require
from fnrun.model.quantity import parse_quantity

MASTER_ENV = "FNRUN_SPARK_MASTER"
# set in a SparkApplication's driver: spark-submit configured the session; use it as it is
SUBMITTED_ENV = "FNRUN_SPARK_SUBMITTED"
_MASTER_PREFIXES = ("local", "spark://", "yarn", "k8s://", "mesos://", "sc://")
# MLRun's deps keys (the Spark operator's) and the Spark settings they fill
_DEPS = {
    "jars": "spark.jars",
    "files": "spark.files",
    "pyFiles": "spark.submit.pyFiles",
    "packages": "spark.jars.packages",
    "excludePackages": "spark.jars.excludes",
    "repositories": "spark.jars.repositories",
}
_lock = threading.Lock()
_session: dict[str, Any] = {}  # the one session this process keeps: {"key", "session"}


class SparkSessionMixin:
    spec: Any
    metadata: Any

    # -- MLRun's resource verbs for the driver and the executors ---------------------------
    def with_driver_requests(
        self, mem: str | None = None, cpu: str | int | None = None, patch: bool = False
    ) -> Self:
        """Driver memory (``"2g"``, ``"512Mi"``) and cores, as MLRun."""
        self.spec.driver_resources = _resources(
            self.spec.driver_resources, "requests", mem, cpu, patch
        )
        return self

    def with_driver_limits(self, cpu: str | int | None = None, patch: bool = False) -> Self:
        self.spec.driver_resources = _resources(
            self.spec.driver_resources, "limits", None, cpu, patch
        )
        return self

    def with_executor_requests(
        self, mem: str | None = None, cpu: str | int | None = None, patch: bool = False
    ) -> Self:
        """Executor memory and cores, as MLRun."""
        self.spec.executor_resources = _resources(
            self.spec.executor_resources, "requests", mem, cpu, patch
        )
        return self

    def with_executor_limits(self, cpu: str | int | None = None, patch: bool = False) -> Self:
        self.spec.executor_resources = _resources(
            self.spec.executor_resources, "limits", None, cpu, patch
        )
        return self

    def with_dynamic_allocation(
        self,
        min_executors: int | None = None,
        max_executors: int | None = None,
        initial_executors: int | None = None,
    ) -> Self:
        """Let Spark scale executors between the bounds (as MLRun)."""
        allocation: dict[str, Any] = {"enabled": True}
        for key, value in (
            ("minExecutors", min_executors),
            ("maxExecutors", max_executors),
            ("initialExecutors", initial_executors),
        ):
            if value is not None:
                allocation[key] = int(value)
        self.spec.dynamic_allocation = allocation
        return self

    def with_spark_master(self, master: str) -> Self:
        """Run on an existing master (``spark://host:7077``, ``yarn``, ``local[4]``)."""
        self.spec.master = check_master(master)
        return self

    # -- the session ------------------------------------------------------------------------
    @property
    def spark_master(self) -> str:
        """The master URL the session connects to ("" in a spark-submit driver: its own)."""
        if os.environ.get(SUBMITTED_ENV):
            return ""
        if self.spec.master or os.environ.get(MASTER_ENV):
            return check_master(self.spec.master or os.environ[MASTER_ENV])
        spec = self.spec
        if spec.replicas or spec.executor_cores:
            return f"local[{int(spec.replicas or 1) * int(spec.executor_cores or 1)}]"
        return "local[*]"

    def spark_conf(self, app_name: str = "") -> dict[str, str]:
        """The Spark configuration this function's spec means (``spec.spark_conf`` wins)."""
        spec = self.spec
        conf: dict[str, str] = {
            "spark.app.name": app_name or self.metadata.name or "fnrun",
            # the console progress bar is drawn with carriage returns: noise in a run's log
            "spark.ui.showConsoleProgress": "false",
        }
        master = self.spark_master
        if _on_this_machine(master):
            # executors' Python is this interpreter; the driver answers on loopback
            conf["spark.pyspark.python"] = sys.executable
            conf["spark.pyspark.driver.python"] = sys.executable
            conf["spark.driver.host"] = "127.0.0.1"
            conf["spark.driver.bindAddress"] = "127.0.0.1"
        _put(conf, "spark.driver.cores", spec.driver_cores or cores_of(spec.driver_resources))
        _put(conf, "spark.executor.cores", spec.executor_cores or cores_of(spec.executor_resources))
        _put(conf, "spark.driver.memory", _memory(spec.driver_resources, "driver_resources"))
        _put(conf, "spark.executor.memory", _memory(spec.executor_resources, "executor_resources"))
        if not master.startswith("local"):
            _put(conf, "spark.executor.instances", spec.replicas)
        _put(conf, "spark.driver.extraJavaOptions", spec.driver_java_options)
        _put(conf, "spark.executor.extraJavaOptions", spec.executor_java_options)
        allocation = spec.dynamic_allocation or {}
        if allocation.get("enabled"):
            conf["spark.dynamicAllocation.enabled"] = "true"
            conf["spark.dynamicAllocation.shuffleTracking.enabled"] = "true"
            for key in ("minExecutors", "maxExecutors", "initialExecutors"):
                _put(conf, f"spark.dynamicAllocation.{key}", allocation.get(key))
        for key, setting in _DEPS.items():
            values = (spec.deps or {}).get(key)
            if values:
                conf[setting] = ",".join(values) if isinstance(values, list) else str(values)
        for entry in spec.env:
            if "value" in entry:
                conf[f"spark.executorEnv.{entry['name']}"] = str(entry["value"])
        for key, value in (spec.hadoop_conf or {}).items():
            conf[f"spark.hadoop.{key}"] = str(value)
        for key, value in (spec.spark_conf or {}).items():
            conf[str(key)] = conf_text(value)
        return conf

    @property
    def spark_session(self) -> Any:
        """The ``pyspark.sql.SparkSession`` of this function's configuration (made on first
        use, kept for later runs with the same configuration)."""
        return session_for(self.spark_master, self.spark_conf())

    def run_extras(self) -> dict[str, Any]:
        return {"spark_session": self.spark_session}

    def close(self) -> None:
        """Stop the Spark session this process keeps (the JVM stays for a next session)."""
        stop_session()


def session_for(master: str, conf: dict[str, str]) -> Any:
    """The process's session for ``master`` and ``conf``: the kept one when both match,
    else a new one (the kept one, if any, is stopped first: one SparkContext per process)."""
    sql = require("pyspark.sql", "spark", "the spark kinds", field="kind", package="pyspark")
    key = repr((master, sorted(conf.items())))
    with _lock:
        kept = _session.get("session")
        if kept is not None and _session.get("key") == key and _alive(kept):
            return kept
        if kept is not None:
            kept.stop()
            _session.clear()
        builder = sql.SparkSession.builder
        if master:  # else spark-submit (a SparkApplication's driver) set master and conf
            _refuse_foreign_session(sql, master)
            builder = builder.master(master)
            for name, value in conf.items():
                builder = builder.config(name, value)
            if conf.get("spark.pyspark.python"):
                # the RDD API's workers start from PYSPARK_PYTHON (pyspark reads no conf for
                # it): without it they are the system python3, without this venv's packages
                os.environ.setdefault("PYSPARK_PYTHON", conf["spark.pyspark.python"])
        session = builder.getOrCreate()
        _session.update(key=key, session=session)
        return session


def stop_session() -> None:
    with _lock:
        kept = _session.pop("session", None)
        _session.clear()
        if kept is not None:
            kept.stop()


def check_master(master: str) -> str:
    if not isinstance(master, str) or not master.startswith(_MASTER_PREFIXES):
        raise InvalidArgumentError(
            f"invalid Spark master {master!r}",
            field="spec.master",
            hint="give spark://host:7077, local[N], yarn, k8s://https://host or sc://host",
        )
    return master


def _refuse_foreign_session(sql: Any, master: str) -> None:
    """A session this process made outside fnrun holds the one SparkContext: reuse is only
    right when it runs on the same master; otherwise say so instead of running elsewhere."""
    other = sql.SparkSession.getActiveSession()
    if other is None or not _alive(other):
        return
    running = other.sparkContext.master
    if running != master:
        raise InvalidArgumentError(
            f"a Spark session on {running} already runs in this process; the function "
            f"needs {master}",
            field="spec.master",
            hint=f"stop it first (spark.stop()), or set fn.spec.master to {running!r} to run on it",
        )


def _alive(session: Any) -> bool:
    context = getattr(session, "_sc", None)
    return context is not None and getattr(context, "_jsc", None) is not None


def _on_this_machine(master: str) -> bool:
    host = master.split("://", 1)[-1].split(":", 1)[0]
    return master.startswith("local") or host in ("127.0.0.1", "localhost")


def _resources(
    current: dict[str, Any], section: str, mem: str | None, cpu: Any, patch: bool
) -> dict[str, Any]:
    out = dict(current or {})
    values = dict(out.get(section, {})) if patch else {}
    if mem is not None:
        spark_memory(mem, f"{section}.memory")  # refuse a malformed one now, not at run time
        values["memory"] = str(mem)
    if cpu is not None:
        parse_quantity(cpu, f"{section}.cpu")
        values["cpu"] = str(cpu)
    out[section] = values
    return out


def _memory(resources: dict[str, Any], field: str) -> str:
    memory = (resources or {}).get("requests", {}).get("memory")
    return spark_memory(memory, f"spec.{field}.requests.memory") if memory else ""


def spark_memory(value: Any, field: str) -> str:
    """A memory size as Spark reads it: Spark's own ``512m``/``2g`` stay, Kubernetes
    quantities (``512Mi``, ``1G``, bytes) become whole mebibytes.

    >>> spark_memory("2g", "m"), spark_memory("512Mi", "m"), spark_memory("1G", "m")
    ('2g', '512m', '953m')
    """
    text = str(value).strip()
    if text[:-1].isdigit() and text[-1:] in ("k", "m", "g", "t"):
        return text
    mib = int(parse_quantity(text, field) // 2**20)
    if mib < 1:
        raise InvalidArgumentError(
            f"memory {value!r} is under 1 MiB", field=field, hint="give e.g. '512m' or '2Gi'"
        )
    return f"{mib}m"


def cores_of(resources: dict[str, Any]) -> int | None:
    """Whole cores from a resources section's cpu request (at least 1), None without one."""
    cpu = (resources or {}).get("requests", {}).get("cpu")
    return max(1, round(parse_quantity(cpu, "cpu"))) if cpu else None


def _put(conf: dict[str, str], key: str, value: Any) -> None:
    if value not in (None, ""):
        conf[key] = conf_text(value)


def conf_text(value: Any) -> str:
    """A setting as Spark reads it (booleans as true/false)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
