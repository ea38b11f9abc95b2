"""The rows of benchmarks/graph.py measured with MLRun's mock server; prints JSON rows.

Run by ``graph.py --mlrun-python <python of a virtualenv with mlrun>`` (MLRun pins its own
dependencies, so it lives in a virtualenv of its own); it can also be run by hand:

    /path/to/mlrun-venv/bin/python benchmarks/mlrun_graph.py --events 5000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Any

from _timing import ainc, inc, rate, total  # noqa: F401 - found by name in the graph

os.environ.setdefault("MLRUN_LOG_LEVEL", "ERROR")


def _flow(mlrun: Any, steps: int, engine: str, handler: str) -> Any:
    fn = mlrun.new_function("bench", kind="serving")
    step = fn.set_topology("flow", engine=engine)
    for i in range(steps):
        step = step.to(handler=handler, name=f"s{i}")
    step.respond()
    return fn.to_mock_server(namespace=globals())


def _models(mlrun: Any) -> tuple[Any, Any]:
    from mlrun.serving import V2ModelServer

    class Model(V2ModelServer):  # type: ignore[misc]
        def load(self) -> None:
            self.model = True

        def predict(self, request: dict[str, Any]) -> Any:
            return total(request)

    namespace = {"Model": Model}
    single = mlrun.new_function("router", kind="serving")
    single.add_model("m1", class_name="Model", model_path=".")
    ensemble = mlrun.new_function("ensemble", kind="serving")
    ensemble.set_topology("router", class_name="mlrun.serving.VotingEnsemble")
    for i in range(3):
        ensemble.add_model(f"m{i}", class_name="Model", model_path=".")
    return single.to_mock_server(namespace=namespace), ensemble.to_mock_server(namespace=namespace)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import mlrun

    n = args.events
    rows: dict[str, Any] = {}
    for steps in (1, 5):
        server = _flow(mlrun, steps, "sync", "inc")
        rows[f"sync, {steps} step(s)"] = rate(lambda s=server: s.test(body={"n": 0}), n)
    server = _flow(mlrun, 5, "async", "ainc")
    # MLRun's async mock slows down as events accumulate (storey), so it gets fewer events
    rows["async, 5 steps, 1 in flight"] = rate(lambda: server.test(body={"n": 0}), 300, 3)
    router, ensemble = _models(mlrun)
    body = {"inputs": [[1, 2, 3]]}
    assert router.test("/v2/models/m1/infer", body=body)["outputs"] == [6]
    rows["router + 1 model, infer"] = rate(
        lambda: router.test("/v2/models/m1/infer", body={"inputs": [[1, 2, 3]]}), n
    )
    rows["VotingEnsemble of 3 models"] = rate(
        lambda: ensemble.test("/", body={"inputs": [[1, 2, 3]]}), max(n // 2, 500)
    )
    print(json.dumps({"version": mlrun.__version__, "rows": rows}), flush=True)
    os._exit(0)  # MLRun leaves non-daemon threads behind that would keep the process alive


if __name__ == "__main__":
    main()
