"""The fnrun demo: create a function from a file, version it, run it, show the tracked run.

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

    first = fn.save(tag="v1")
    fn.set_env("LOG_LEVEL", "debug")
    second = fn.save(tag="v2")
    print(f"\nsaved versions: v1={first[:12]} v2={second[:12]}")
    for version in fnrun.get_run_db().list_function_versions("trainer", "demo")[:3]:
        print(f"  {version['hash'][:12]}  tags={','.join(version['tags'])}")

    stored = fnrun.import_function("db://demo/trainer:v1")
    task = fnrun.new_task("fit-line", params={"slope": 3.0, "noise": 0.05}).set_label("demo", "yes")
    run = stored.run(task, returns=["mse"], local=True)
    print()
    run.show()
    print(f"mse={run.output('mse'):.6f}  state={run.state()}  uid={run.uid()}")
    print(f"run DB: {fnrun.get_run_db()!r}")

    runs = fnrun.get_run_db().list_runs(project="demo", last=3)
    print(f"last runs in project demo: {[r['metadata']['uid'][:8] for r in runs]}")


if __name__ == "__main__":
    main()
