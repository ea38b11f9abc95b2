"""The fnrun demo: create a function from a file, version it, run it, show the tracked runs,
then serve the model the run logged, in the in-process mock server.

Runs on the embedded defaults: an SQLite run DB and artifacts under $FNRUN_HOME (~/.fnrun).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fnrun
from fnrun.serving import V2ModelServer

HERE = Path(__file__).resolve().parent


class LineModel(V2ModelServer):
    """Serves the fitted line that train() logged as the model "line"."""

    def load(self) -> None:
        path, _ = self.get_model()
        with open(path) as f:
            slope, intercept = (float(v) for v in f.read().split())
        self.model = (slope, intercept)

    def predict(self, request: dict[str, Any]) -> list[float]:
        slope, intercept = self.model
        return [round(slope * row[0] + intercept, 4) for row in request["inputs"]]


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
    first = fn.save(tag="v1")  # the URI of the saved version: db://demo/trainer@<hash>
    fn.set_env("LOG_LEVEL", "debug")
    second = fn.save(tag="v2")
    print(f"saved v1={first[:30]}... v2={second[:30]}...")
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

    print("\n== serve the logged model: a V2ModelServer behind a router, in the mock server")
    serving = fnrun.new_function("line-server", project="demo", kind="serving")
    serving.add_model("line", model_path=run.outputs["line"], class_name="LineModel")
    server = serving.to_mock_server(namespace=globals())
    answer = server.test("/v2/models/line/infer", body={"inputs": [[0.0], [0.5], [1.0]]})
    print(f"POST /v2/models/line/infer -> outputs {answer['outputs']}")
    listing = server.test("/v2/models/", method="GET")
    print(f"GET /v2/models/ -> {listing}")

    print(f"\nrun DB: {fnrun.get_run_db()!r}")
    print("try: .venv/bin/fnrun get runs --project demo")


if __name__ == "__main__":
    main()
