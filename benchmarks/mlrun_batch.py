"""The rows of benchmarks/batch.py measured with MLRun; prints one JSON line of rows.

Run by ``batch.py --mlrun-python <python of a virtualenv with mlrun>`` (MLRun pins its own
dependencies, so it lives in a virtualenv of its own); by hand:

    /path/to/mlrun-venv/bin/python benchmarks/mlrun_batch.py --repeat 30

MLRun without ``MLRUN_DBPATH`` (what a user has without an MLRun service) records runs in its
``NopDB``: nothing is written anywhere, so its rows do less than fnrun's, which commit every
run to a SQLite file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

from _timing import median_ms

os.environ.setdefault("MLRUN_LOG_LEVEL", "ERROR")

CODE = (
    "def train(context, p1=1, p2=0.5):\n"
    "    context.log_result('accuracy', p1 * p2)\n"
    "    return p1 * p2\n"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import mlrun

    folder = Path(tempfile.mkdtemp(prefix="mlrun-bench-"))
    (folder / "train_code.py").write_text(CODE)
    sys.path.insert(0, str(folder))
    from train_code import train  # type: ignore[import-not-found]

    fn = mlrun.code_to_function(
        "bench", filename=str(folder / "train_code.py"), kind="job", handler="train"
    )
    handler_fn = mlrun.new_function("bench-handler")
    grid = {"p1": [1, 2, 3, 4], "p2": [0.1, 0.2, 0.3, 0.4]}
    run = fn.run(handler="train", params={"p1": 3}, local=True, watch=False)
    assert run.status.results["accuracy"] == 1.5, run.status.results
    rows = {
        "in-process run (handler kind)": median_ms(
            lambda: fn.run(handler="train", params={"p1": 3}, local=True, watch=False),
            args.repeat,
        ),
        "in-process run, callable": median_ms(
            lambda: handler_fn.run(handler=train, params={"p1": 3}, local=True, watch=False),
            args.repeat,
        ),
        "16-iteration grid (in-process)": median_ms(
            lambda: fn.run(
                handler="train",
                hyperparams=grid,
                local=True,
                watch=False,
                hyper_param_options={"selector": "max.accuracy"},
            ),
            max(5, args.repeat // 3),
        ),
    }
    print(json.dumps({"version": mlrun.__version__, "db": type(mlrun.get_run_db()).__name__,
                      "rows": rows}), flush=True)  # fmt: skip
    os._exit(0)  # MLRun leaves non-daemon threads behind that would keep the process alive


if __name__ == "__main__":
    main()
