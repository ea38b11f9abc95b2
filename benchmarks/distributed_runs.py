"""A 16-iteration hyper-parameter job, placed three ways, side by side in one run:

    python benchmarks/distributed_runs.py [--iterations 16] [--work-ms 50] [--rounds 3]

(Not named distributed.py: run as a script, that name would shadow the distributed package.)

Rows: in-process sequential (the floor of the tracking itself), child processes here
(``parallel_runs=2``), and a Dask LocalCluster of 2 worker processes (``kind="dask"``,
``parallel_runs=2``). Each iteration sleeps ``--work-ms`` (a stand-in for real work that
releases the GIL). The Dask cluster's start-up is shown on its own row, not inside the job.
Wall-clock seconds, medians of ``--rounds``. Needs ``pip install 'fnrun[dask]'``.
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
"""


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
    import fnrun

    n, ms, rounds = args.iterations, args.work_ms, args.rounds
    rows: list[tuple[str, float]] = []
    rows.append(
        ("in-process, sequential", _median(lambda: _job("handler", str(path), n, ms, 1), rounds))
    )
    rows.append(
        (
            "child processes, parallel_runs=2",
            _median(lambda: _job("job", str(path), n, ms, 2), rounds),
        )
    )
    dask_fn = fnrun.code_to_function("bench", filename=str(path), kind="dask", handler="work")
    dask_fn.spec.replicas = 2
    started = time.perf_counter()
    dask_fn.client.wait_for_workers(2)
    rows.append(("Dask LocalCluster start-up (2 workers)", time.perf_counter() - started))
    try:
        timed = _median(lambda: _job("dask", str(path), n, ms, 2, dask_fn), rounds)
        rows.append(("Dask, 2 workers, parallel_runs=2", timed))
    finally:
        dask_fn.close()
    floor = n * ms / 1000
    print(f"{n} iterations of {ms:g} ms work (sequential work alone: {floor:.2f} s)")
    print(f"{'placement':<42} {'seconds':>8} {'vs sequential':>14}")
    base = rows[0][1]
    for name, seconds in rows:
        ratio = "" if "start-up" in name else f"{base / seconds:.2f}x"
        print(f"{name:<42} {seconds:8.2f} {ratio:>14}")


def _median(work: Any, rounds: int) -> float:
    work()  # warm: code cache, DB schema, cluster connections
    return statistics.median(work() for _ in range(rounds))


if __name__ == "__main__":
    main()
