"""Batch-run overhead: fnrun runs against a plain call of the same function.

    python benchmarks/batch.py [--repeat 30] [--db sqlite|memory] [--mlrun-python PATH]

Rows: a plain function call (the floor); an in-process tracked run (``handler`` kind: context,
binding, result logging, log capture and DB commits); a run in a child process
(``local=True``: forked by the fork server), and the same from a fresh interpreter
(``FNRUN_FORK_SERVER=0``); a 16-iteration grid (in-process iterations, parent + 16 child rows).
Medians of repeated runs, in milliseconds; the DB is a fresh SQLite file (WAL) by default.
With ``--mlrun-python`` (a virtualenv's python with mlrun; ``FNRUN_BENCH_MLRUN_PYTHON``) the
in-process rows are measured with MLRun too, by ``mlrun_batch.py`` in the same sitting, and
``x mlrun`` is MLRun's median over fnrun's (MLRun without a service records runs nowhere).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

from _timing import companion, median_ms


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


def _fresh_child(job_fn: Any, repeat: int) -> tuple[float, float]:
    """The child-process run without the fork server (``FNRUN_FORK_SERVER=0``)."""
    from fnrun.config import reset_settings

    os.environ["FNRUN_FORK_SERVER"] = "0"
    reset_settings()
    try:
        return median_ms(
            lambda: job_fn.run(handler="train", params={"p1": 3}, local=True, watch=False),
            repeat,
            warmup=1,
        )
    finally:
        del os.environ["FNRUN_FORK_SERVER"]
        reset_settings()


def _mlrun_rows(python: str, repeat: int) -> tuple[str, dict[str, tuple[float, float]]]:
    data = companion(python, "mlrun_batch.py", "--repeat", str(repeat))
    if data is None:
        return "", {}
    label = f"mlrun {data['version']} ({data['db']})"
    return label, {k: tuple(v) for k, v in data["rows"].items()}  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument("--mlrun-python", default=os.environ.get("FNRUN_BENCH_MLRUN_PYTHON", ""))
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
        ("plain call", median_ms(lambda: train(None, 3), args.repeat * 20)),
        (
            "plain call x16",
            median_ms(
                lambda: [train(None, a, b) for a in grid["p1"] for b in grid["p2"]],
                args.repeat * 20,
            ),
        ),
        (
            "in-process run (handler kind)",
            median_ms(
                lambda: handler_fn.run(handler="train", params={"p1": 3}, watch=False), args.repeat
            ),
        ),
        (
            "in-process run, callable",
            median_ms(
                lambda: handler_fn.run(handler=train, params={"p1": 3}, watch=False), args.repeat
            ),
        ),
        (
            "16-iteration grid (in-process)",
            median_ms(
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
            median_ms(
                lambda: job_fn.run(handler="train", params={"p1": 3}, local=True, watch=False),
                max(5, args.repeat // 5),
                warmup=1,
            ),
        ),
        ("subprocess run, fresh interpreter", _fresh_child(job_fn, max(5, args.repeat // 5))),
    ]
    mlrun_label, theirs = (
        _mlrun_rows(args.mlrun_python, args.repeat) if args.mlrun_python else ("", {})
    )
    floor = rows[0][1][0]
    print(f"db: {fnrun.get_run_db()!r}" + (f"; against {mlrun_label}" if mlrun_label else ""))
    print(
        f"{'case':<34} {'median ms':>10} {'p90 ms':>9} {'x plain call':>13}"
        + (f" {'mlrun ms':>9} {'x mlrun':>8}" if theirs else "")
    )
    for label, (median, p90) in rows:
        line = f"{label:<34} {median:>10.3f} {p90:>9.3f} {median / floor:>13.0f}"
        if label in theirs:
            line += f" {theirs[label][0]:>9.3f} {theirs[label][0] / median:>7.1f}x"
        print(line)


if __name__ == "__main__":
    main()
