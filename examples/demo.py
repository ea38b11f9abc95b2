"""The fnrun demo: create a function from a file, version it, run it, show the tracked runs.

Runs on the embedded defaults: an SQLite run DB and artifacts under $FNRUN_HOME (~/.fnrun).
"""

from __future__ import annotations

from pathlib import Path

import fnrun

HERE = Path(__file__).resolve().parent


def main() -> None:
    fn = fnrun.code_to_function(
        "trainer",
        project="demo",
        filename=str(HERE / "train.py"),
        kind="job",
        handler="train",
        image="python:3.11",
        description="fit a line",
    )
    fn.with_limits(mem="512Mi", cpu="1").set_env("LOG_LEVEL", "info")
    fn.doc()

    print("\n== versions: the same content gives the same hash; tags move")
    first = fn.save(tag="v1")
    fn.set_env("LOG_LEVEL", "debug")
    second = fn.save(tag="v2")
    print(f"saved v1={first[:12]} v2={second[:12]}")
    for version in fnrun.get_run_db().list_function_versions("trainer", "demo")[:3]:
        print(f"  {version['hash'][:12]}  tags={','.join(version['tags'])}")

    print("\n== a tracked run in a child process (python -m fnrun exec --from-env)")
    stored = fnrun.import_function("db://demo/trainer:v1")
    task = fnrun.new_task("fit-line", params={"slope": 3.0, "noise": 0.05}).set_label("demo", "yes")
    run = stored.run(task, returns=["mse"], local=True)
    run.show()
    print(f"mse={run.output('mse'):.6f}  chart at {run.artifact('fit').url}")

    print("\n== a 3x3 hyper-parameter grid, best by min.mse, in this process")
    grid = fnrun.code_to_function(
        "trainer-grid",
        project="demo",
        kind="handler",
        filename=str(HERE / "train.py"),
        handler="train",
    )
    hp = grid.run(
        name="fit-grid",
        hyperparams={"noise": [0.01, 0.1, 0.5], "seed": [1, 2, 3]},
        hyper_param_options={"selector": "min.mse"},
        returns=["mse"],
        watch=False,
    )
    print(f"best iteration {hp.status['best_iteration']}: mse={hp.output('mse'):.6f}")
    for row in hp.status["iterations"][:4]:
        print("  ", row)

    print(f"\nrun DB: {fnrun.get_run_db()!r}")
    print("try: .venv/bin/fnrun get runs --project demo")


if __name__ == "__main__":
    main()
