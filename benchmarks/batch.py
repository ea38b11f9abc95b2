"""Batch-run overhead: fnrun runs against a plain call of the same function.

    python benchmarks/batch.py [--repeat 30] [--db sqlite|memory]

Rows: a plain function call (the floor); an in-process tracked run (``handler`` kind: context,
binding, result logging, log capture and DB commits); a run in a child process
(``local=True``: forked by the fork server), and the same from a fresh interpreter
(``FNRUN_FORK_SERVER=0``); a 16-iteration grid (in-process iterations, parent + 16 child rows).
Medians of repeated runs, in milliseconds; the DB is a fresh SQLite file (WAL) by default.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any


def train(context: Any = None, p1: int = 1, p2: float = 0.5) -> float:
    value = p1 * p2
    if context is not None:
        context.log_result("accuracy", value)
    return value


CODE = (
    "def train(context, p1=1, p2=0.5):\n"
    "    context.log_result('accuracy', p1 * p2)\n"
    "    return p1 * p2\n"
)


def _median_ms(work: Callable[[], Any], repeat: int, warmup: int = 2) -> tuple[float, float]:
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def _fresh_child(job_fn: Any, repeat: int) -> tuple[float, float]:
    """The child-process run without the fork server (``FNRUN_FORK_SERVER=0``)."""
    from fnrun.config import reset_settings

    os.environ["FNRUN_FORK_SERVER"] = "0"
    reset_settings()
    try:
        return _median_ms(
            lambda: job_fn.run(handler="train", params={"p1": 3}, local=True, watch=False),
            repeat,
            warmup=1,
        )
    finally:
        del os.environ["FNRUN_FORK_SERVER"]
        reset_settings()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db", choices=["sqlite", "memory"], default="sqlite")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="fnrun-bench-")
    os.environ["FNRUN_HOME"] = home
    if args.db == "memory":
        os.environ["FNRUN_DBPATH"] = "sqlite://"

    import fnrun

    handler_fn = fnrun.new_function("bench", kind="handler").with_code(body=CODE)
    job_fn = fnrun.new_function("bench-job", kind="job").with_code(body=CODE)
    grid = {"p1": [1, 2, 3, 4], "p2": [0.1, 0.2, 0.3, 0.4]}
    rows = [
        ("plain call", _median_ms(lambda: train(None, 3), args.repeat * 20)),
        (
            "plain call x16",
            _median_ms(
                lambda: [train(None, a, b) for a in grid["p1"] for b in grid["p2"]],
                args.repeat * 20,
            ),
        ),
        (
            "in-process run (handler kind)",
            _median_ms(
                lambda: handler_fn.run(handler="train", params={"p1": 3}, watch=False), args.repeat
            ),
        ),
        (
            "in-process run, callable",
            _median_ms(
                lambda: handler_fn.run(handler=train, params={"p1": 3}, watch=False), args.repeat
            ),
        ),
        (
            "16-iteration grid (in-process)",
            _median_ms(
                lambda: handler_fn.run(
                    handler="train",
                    hyperparams=grid,
                    watch=False,
                    hyper_param_options={"selector": "max.accuracy"},
                ),
                max(5, args.repeat // 3),
            ),
        ),
        (
            "subprocess run (local=True)",
            _median_ms(
                lambda: job_fn.run(handler="train", params={"p1": 3}, local=True, watch=False),
                max(5, args.repeat // 5),
                warmup=1,
            ),
        ),
        ("subprocess run, fresh interpreter", _fresh_child(job_fn, max(5, args.repeat // 5))),
    ]
    floor = rows[0][1][0]
    print(f"db: {fnrun.get_run_db()!r}")
    print(f"{'case':<34} {'median ms':>10} {'p90 ms':>9} {'x plain call':>13}")
    for label, (median, p90) in rows:
        print(f"{label:<34} {median:>10.3f} {p90:>9.3f} {median / floor:>13.0f}")


if __name__ == "__main__":
    main()
