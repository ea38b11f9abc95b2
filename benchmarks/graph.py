"""Serving-graph throughput and latency through the mock server, next to plain Python and,
when available, MLRun's mock server running the same graphs.

    python benchmarks/graph.py [--events 20000] [--inflight 200] [--mlrun-python PATH]

Rows: plain calls of the same functions (the floor); ``server.test`` through a 1-step and a
5-step sync flow; a 5-step async flow (one request at a time, and many in flight through
``test_async``); a router with one V2ModelServer (``infer``); a VotingEnsemble of 3 models.
Events/s are medians over 5 rounds; latencies are per-event percentiles.

MLRun pins its own dependencies, so it runs in a virtualenv of its own: ``--mlrun-python``
(or ``FNRUN_BENCH_MLRUN_PYTHON``) names that virtualenv's python, which runs
``mlrun_graph.py`` for the same rows; with neither, MLRun is measured only when ``mlrun`` is
importable here. The ``x mlrun`` column is fnrun's events/s over MLRun's.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any

from _timing import Row, ainc, companion, inc, rate, rate_async, total  # noqa: F401 - ainc is found by name


def _fnrun_server(steps: int, engine: str, handler: str) -> Any:
    import fnrun

    fn = fnrun.new_function("bench", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    for i in range(steps):
        graph.to(handler=handler, name=f"s{i}")
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def _model_servers() -> tuple[Any, Any]:
    import fnrun
    from fnrun.serving import V2ModelServer

    class Model(V2ModelServer):
        def predict(self, request: dict[str, Any]) -> Any:
            return total(request)

    namespace = {"Model": Model}
    single = fnrun.new_function("router", kind="serving")
    single.add_model("m1", class_name="Model", model=True)  # type: ignore[attr-defined]
    ensemble = fnrun.new_function("ensemble", kind="serving")
    ensemble.set_topology("router", class_name="VotingEnsemble")  # type: ignore[attr-defined]
    for i in range(3):
        ensemble.add_model(f"m{i}", class_name="Model", model=True)  # type: ignore[attr-defined]
    return (
        single.to_mock_server(namespace=namespace),  # type: ignore[attr-defined]
        ensemble.to_mock_server(namespace=namespace),  # type: ignore[attr-defined]
    )


_ONE_ASYNC: Any = None


def _storey_server() -> Any:
    """1 step, then storey's Batch of 100 and a step per batch (None without storey)."""
    global _ONE_ASYNC
    if importlib.util.find_spec("storey") is None:
        return None
    import fnrun

    fn = fnrun.new_function("bench-storey", kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    graph.to(handler="ainc", name="s0").respond().to(
        "storey.Batch", name="batch", max_events=100
    ).to(handler="len", name="count")
    _ONE_ASYNC = _fnrun_server(1, "async", "ainc")
    return fn.to_mock_server(namespace={**globals(), "len": len})  # type: ignore[attr-defined]


def _fnrun_rows(n: int, inflight: int) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for steps in (1, 5):
        server = _fnrun_server(steps, "sync", "inc")
        assert server.test(body={"n": 0}) == {"n": steps}
        rows[f"sync, {steps} step(s)"] = rate(lambda s=server: s.test(body={"n": 0}), n)
    server = _fnrun_server(5, "async", "ainc")
    rows["async, 5 steps, 1 in flight"] = rate(lambda: server.test(body={"n": 0}), n // 4)
    rows[f"async, 5 steps, {inflight} in flight"] = rate_async(
        lambda: server.test_async(body={"n": 0}), n, inflight
    )
    storey_server = _storey_server()
    if storey_server is not None:
        rows["async, 1 step + storey.Batch(100)"] = rate(
            lambda: storey_server.test(body={"n": 0}), n // 4
        )
        rows["async, 1 step (no storey), 1 in flight"] = rate(
            lambda: _ONE_ASYNC.test(body={"n": 0}), n // 4
        )
        storey_server.wait_for_completion()
    router, ensemble = _model_servers()
    assert router.test("/v2/models/m1/infer", body={"inputs": [[1, 2, 3]]})["outputs"] == [6]
    rows["router + 1 model, infer"] = rate(
        lambda: router.test("/v2/models/m1/infer", body={"inputs": [[1, 2, 3]]}), n
    )
    assert ensemble.test("/", body={"inputs": [[1, 2, 3]]})["outputs"] == [6]
    rows["VotingEnsemble of 3 models"] = rate(
        lambda: ensemble.test("/", body={"inputs": [[1, 2, 3]]}), n // 2
    )
    return rows


def _mlrun_rows(python: str, n: int) -> tuple[str, dict[str, Row]]:
    data = companion(python, "mlrun_graph.py", "--events", str(max(n // 4, 1000)))
    if data is None:
        return "", {}
    return str(data["version"]), {k: tuple(v) for k, v in data["rows"].items()}  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--inflight", type=int, default=200)
    parser.add_argument("--mlrun-python", default=os.environ.get("FNRUN_BENCH_MLRUN_PYTHON", ""))
    args = parser.parse_args()
    n = args.events
    floor = {
        "plain call, 1 function": rate(lambda: inc({"n": 0}), n),
        "plain call, 5 functions": rate(lambda: inc(inc(inc(inc(inc({"n": 0}))))), n),
        "plain call, model predict": rate(lambda: total({"inputs": [[1, 2, 3]]}), n),
    }
    ours = _fnrun_rows(n, args.inflight)
    python = args.mlrun_python or (
        sys.executable if importlib.util.find_spec("mlrun") is not None else ""
    )
    version, theirs = _mlrun_rows(python, n) if python else ("", {})
    mlrun_label = f"mlrun {version}" if version else "mlrun (not run)"
    print(
        f"{'case':<36} {'fnrun ev/s':>11} {'p50 us':>7} {'p99 us':>7}"
        f" {mlrun_label + ' ev/s':>18} {'p50 us':>7} {'x mlrun':>8}"
    )
    for label, (r, p50, p99) in floor.items():
        print(f"{label:<36} {r:>11.0f} {p50:>7.1f} {p99:>7.1f}")
    for label, (r, p50, p99) in ours.items():
        line = f"{label:<36} {r:>11.0f} {p50:>7.1f} {p99:>7.1f}"
        if label in theirs:
            other, other_p50, _ = theirs[label]
            line += f" {other:>18.0f} {other_p50:>7.1f} {r / other:>7.1f}x"
        print(line)


if __name__ == "__main__":
    main()
