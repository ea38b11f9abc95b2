"""Serving-graph throughput and latency through the mock server, next to plain Python.

    python benchmarks/graph.py [--events 20000] [--inflight 200]

Rows: plain calls of the same functions (the floor); ``server.test`` through a 1-step and a
5-step sync flow; a 5-step async flow (sequential, and with many requests in flight through
``test_async``). Events/s are medians over 5 rounds; latencies are per-event percentiles.
When ``mlrun`` is importable, its mock server runs the same graphs side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any


def inc(x: dict[str, Any]) -> dict[str, Any]:
    x["n"] = x.get("n", 0) + 1
    return x


async def ainc(x: dict[str, Any]) -> dict[str, Any]:
    x["n"] = x.get("n", 0) + 1
    return x


def _rate(work: Callable[[], Any], events: int, rounds: int = 5) -> tuple[float, float, float]:
    """(median events/s, p50 us, p99 us), after a warm-up."""
    for _ in range(min(events, 2000)):
        work()
    rates, lat = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(events):
            t0 = time.perf_counter()
            work()
            lat.append(time.perf_counter() - t0)
        rates.append(events / (time.perf_counter() - start))
    lat.sort()
    return statistics.median(rates), lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def _rate_async(
    server: Any, events: int, inflight: int, rounds: int = 5
) -> tuple[float, float, float]:
    async def one(lat: list[float]) -> None:
        t0 = time.perf_counter()
        await server.test_async(body={"n": 0})
        lat.append(time.perf_counter() - t0)

    async def round_(lat: list[float]) -> float:
        start = time.perf_counter()
        for offset in range(0, events, inflight):
            await asyncio.gather(*(one(lat) for _ in range(min(inflight, events - offset))))
        return events / (time.perf_counter() - start)

    lat: list[float] = []
    rates = [asyncio.run(round_(lat)) for _ in range(rounds)]
    lat.sort()
    return statistics.median(rates), lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


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
            return [sum(row) for row in request["inputs"]]

    namespace = {"Model": Model}
    single = fnrun.new_function("router", kind="serving")
    single.add_model("m1", class_name="Model", model=True)  # type: ignore[attr-defined]
    ensemble = fnrun.new_function("ensemble", kind="serving")
    ensemble.set_topology("router", class_name="VotingEnsemble")  # type: ignore[attr-defined]
    for i in range(3):
        ensemble.add_model(f"m{i}", class_name="Model", model=True)  # type: ignore[attr-defined]
    return (
        single.to_mock_server(namespace=namespace),  # type: ignore[attr-defined]
        ensemble.to_mock_server(namespace=namespace),
    )  # type: ignore[attr-defined]


def _mlrun_server(steps: int, engine: str) -> Any | None:
    try:
        import mlrun
    except ImportError:
        return None
    fn = mlrun.new_function("bench", kind="serving")
    graph = fn.set_topology("flow", engine=engine)
    for i in range(steps):
        graph.to(handler="inc", name=f"s{i}")
    return fn.to_mock_server(namespace=globals())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--inflight", type=int, default=200)
    args = parser.parse_args()
    n = args.events
    rows: list[tuple[str, tuple[float, float, float]]] = [
        ("plain call, 1 function", _rate(lambda: inc({"n": 0}), n)),
        ("plain call, 5 functions", _rate(lambda: inc(inc(inc(inc(inc({"n": 0}))))), n)),
    ]
    for steps in (1, 5):
        server = _fnrun_server(steps, "sync", "inc")
        assert server.test(body={"n": 0}) == {"n": steps}
        rows.append(
            (f"fnrun sync, {steps} step(s)", _rate(lambda s=server: s.test(body={"n": 0}), n))
        )
    server = _fnrun_server(5, "async", "ainc")
    rows.append(
        (
            "fnrun async, 5 steps, 1 in flight",
            _rate(lambda: server.test(body={"n": 0}), max(n // 4, 1000)),
        )
    )
    rows.append(
        (f"fnrun async, 5 steps, {args.inflight} in flight", _rate_async(server, n, args.inflight))
    )
    router, ensemble = _model_servers()
    body = {"inputs": [[1, 2, 3]]}
    assert router.test("/v2/models/m1/infer", body=body)["outputs"] == [6]
    rows.append(
        (
            "fnrun router + 1 model, infer",
            _rate(lambda: router.test("/v2/models/m1/infer", body={"inputs": [[1, 2, 3]]}), n),
        )
    )
    rows.append(
        (
            "fnrun VotingEnsemble of 3 models",
            _rate(lambda: ensemble.test("/", body={"inputs": [[1, 2, 3]]}), n // 2),
        )
    )
    for steps, engine in ((1, "sync"), (5, "sync"), (5, "async")):
        other = _mlrun_server(steps, engine)
        if other is not None:
            rows.append(
                (
                    f"mlrun {engine}, {steps} step(s)",
                    _rate(lambda s=other: s.test(body={"n": 0}), max(n // 10, 1000)),
                )
            )
    print(f"{'case':<38} {'events/s':>10} {'p50 us':>8} {'p99 us':>8}")
    for label, (rate, p50, p99) in rows:
        print(f"{label:<38} {rate:>10.0f} {p50:>8.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
