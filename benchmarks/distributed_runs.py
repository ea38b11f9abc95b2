"""A 16-iteration hyper-parameter job on every placement, side by side in one run, and each
kind's submit-to-first-log latency:

    python benchmarks/distributed_runs.py [--iterations 16] [--work-ms 50] [--rounds 3]

(Not named distributed.py: run as a script, that name would shadow the distributed package.)

Rows: in-process sequential (the floor of the tracking itself), child processes here
(``parallel_runs=2``), a Dask LocalCluster of 2 worker processes (``kind="dask"``), Spark
``local[2]`` (``kind="spark"``: iterations share the driver's session, in threads) and MPI
(``kind="mpijob"``, one 1-rank ``mpirun`` per iteration), all with ``parallel_runs=2``. Each
iteration sleeps ``--work-ms`` (a stand-in for real work that releases the GIL). An engine's
own start-up (the Dask cluster, the Spark JVM and session) is shown on its own row, not inside
the job. The second table: from ``fn.run()`` to the handler's first line, per kind, engines
warm. Wall-clock seconds, medians of ``--rounds``. Needs ``pip install 'fnrun[dask,spark,mpi]'``
and ``mpirun`` (Open MPI); a missing engine's rows say so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

CODE = """
import time

def work(context, x: int = 0, ms: float = 50.0):
    time.sleep(ms / 1000)
    context.log_result("loss", (x - 7) ** 2)

def first(context):
    context.log_result("started", time.time())
    print("first line")
"""
SPARK_CONF = {"spark.ui.enabled": False, "spark.sql.shuffle.partitions": 2}


def _job(kind: str, path: str, iterations: int, ms: float, parallel: int, fn: Any = None) -> float:
    import fnrun

    fn = fn or fnrun.code_to_function("bench", filename=path, kind=kind, handler="work")
    start = time.perf_counter()
    fn.run(
        params={"ms": ms},
        hyperparams={"x": list(range(iterations))},
        hyper_param_options={"selector": "min.loss", "parallel_runs": parallel},
        local=True,
        watch=False,
    )
    return time.perf_counter() - start


def _latency(fn: Any, rounds: int) -> float:
    """Seconds from ``fn.run()`` to the handler's first line (its own clock reading)."""

    def once() -> float:
        submitted = time.time()
        run = fn.run(handler="first", local=True, watch=False)
        return float(run.status.results["started"]) - submitted

    return _median(once, rounds)


def _engine(kind: str, path: str) -> tuple[Any, float] | None:
    """A function of ``kind`` with its engine started (and the start-up seconds), or None
    when the engine is not installed here."""
    import shutil

    import fnrun

    fn = fnrun.code_to_function("bench", filename=path, kind=kind, handler="work")
    started = time.perf_counter()
    if kind == "dask":
        fn.spec.replicas = 2
        fn.client.wait_for_workers(2)
    elif kind == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError:
            print("spark rows left out: pip install 'fnrun[spark]'")
            return None
        fn.spec.replicas = 2
        fn.spec.spark_conf = dict(SPARK_CONF)
        _ = fn.spark_session
    elif kind == "mpijob":
        if not shutil.which("mpirun"):
            print("mpijob rows left out: apt-get install openmpi-bin")
            return None
        fn.spec.replicas = 1
    return fn, (time.perf_counter() - started if kind in ("dask", "spark") else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=16)
    parser.add_argument("--work-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="fnrun-bench-")
    os.environ["FNRUN_HOME"] = home
    os.environ["FNRUN_PROGRESS"] = "0"
    path = Path(home) / "work.py"
    path.write_text(CODE)

    n, ms, rounds = args.iterations, args.work_ms, args.rounds
    labels = {
        "handler": "in-process, sequential",
        "job": "child processes, parallel_runs=2",
        "dask": "Dask, 2 workers, parallel_runs=2",
        "spark": "Spark local[2], parallel_runs=2",
        "mpijob": "MPI, 1-rank mpirun each, parallel_runs=2",
    }
    rows: list[tuple[str, float]] = []
    latencies: list[tuple[str, float]] = []
    for kind in labels:  # one engine up at a time: rows never share the 2 cores
        made = _engine(kind, str(path))
        if made is None:
            continue
        fn, startup = made
        try:
            if startup:
                rows.append((f"{kind} engine start-up", startup))
            parallel = 1 if kind == "handler" else 2
            timed = _median(lambda fn=fn, p=parallel: _job(fn.kind, "", n, ms, p, fn), rounds)
            rows.append((labels[kind], timed))
            latencies.append((kind, _latency(fn, rounds)))
        finally:
            getattr(fn, "close", lambda: None)()
    floor = n * ms / 1000
    print(f"{n} iterations of {ms:g} ms work (sequential work alone: {floor:.2f} s)")
    print(f"{'placement':<42} {'seconds':>8} {'vs sequential':>14}")
    base = rows[0][1]
    for name, seconds in rows:
        ratio = "" if "start-up" in name else f"{base / seconds:.2f}x"
        print(f"{name:<42} {seconds:8.2f} {ratio:>14}")
    print()
    print(f"{'kind':<10} {'fn.run() to first line, s':>26}")
    for kind, seconds in latencies:
        print(f"{kind:<10} {seconds:26.3f}")


def _median(work: Any, rounds: int) -> float:
    work()  # warm: code cache, DB schema, cluster connections
    return statistics.median(work() for _ in range(rounds))


if __name__ == "__main__":
    main()
