"""Watching a live graph: what a traffic split, sticky routing and shadow traffic cost the
primary answer, next to the plain router.

    python benchmarks/serving_observe.py [--events 20000] [--rounds 5]

First table (the mock server, sync and async engines, one request at a time; models that
answer in microseconds, then models that wait 1 ms as a remote or GPU model does): a
``ModelRouter`` over two routes (the plain graph), a ``TrafficSplit`` 90/10 by round robin,
the same sticky on a body field, and with ``mirror={"shadow": 1.0}`` (every request also goes
to a shadow route, in a worker thread or a loop task). Events/s are medians over the rounds;
the latency percentiles are of the primary's answer, per request; the last column is the p99
over the plain router's.

Last table: a router over one V2 model, plain, with every request tracked, with OpenTelemetry
imported but no provider, and traced (last: a process installs its provider once).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import fnrun
from fnrun.serving import ModelRouter, TrafficSplit, V2ModelServer

WORK = {"seconds": 0.0}  # each model's wait (an I/O-bound model: a remote call, a GPU)


class Version:
    def __init__(self, context: Any = None, name: str = "", **kwargs: Any) -> None:
        self.name = name

    def do(self, body: Any) -> Any:
        if WORK["seconds"]:
            time.sleep(WORK["seconds"])
        return {"route": self.name, "x": body["x"]}


class AsyncVersion(Version):
    async def do(self, body: Any) -> Any:  # type: ignore[override]
        if WORK["seconds"]:
            await asyncio.sleep(WORK["seconds"])
        return {"route": self.name, "x": body["x"]}


def _server(engine: str, router: Any, shadow: bool) -> Any:
    fn = fnrun.new_function("observe", kind="serving")
    fn.set_topology("router", router, engine=engine)  # type: ignore[attr-defined]
    cls = AsyncVersion if engine == "async" else Version
    for name in ("v1", "v2", *(["shadow"] if shadow else [])):
        fn.add_model(name, class_name=cls, name=name)  # type: ignore[attr-defined]
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


CASES = {
    "router, 2 routes (plain)": (lambda: ModelRouter(), False),
    "TrafficSplit 90/10": (lambda: TrafficSplit(weights={"v1": 90, "v2": 10}), False),
    "TrafficSplit 90/10, sticky": (
        lambda: TrafficSplit(weights={"v1": 90, "v2": 10}, sticky="user"),
        False,
    ),
    "TrafficSplit 90/10 + mirror 100%": (
        lambda: TrafficSplit(weights={"v1": 90, "v2": 10}, mirror={"shadow": 1.0}),
        True,
    ),
}


def _measure(engine: str, make: Any, shadow: bool, events: int, rounds: int) -> tuple[float, ...]:
    server = _server(engine, make(), shadow)
    plain = isinstance(server.server.compiled.objects[-1], ModelRouter) and not isinstance(
        server.server.compiled.objects[-1], TrafficSplit
    )
    path = "/v2/models/v1/infer" if plain else "/"
    rates, lat = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        if engine == "sync":
            for i in range(events):
                t = time.perf_counter()
                server.test(path, {"x": i, "user": f"u{i % 100}"})
                lat.append(time.perf_counter() - t)
        else:

            async def go() -> None:
                for i in range(events):
                    t = time.perf_counter()
                    await server.test_async(path, {"x": i, "user": f"u{i % 100}"})
                    lat.append(time.perf_counter() - t)

            asyncio.run(go())
        rates.append(events / (time.perf_counter() - start))
    server.close()
    lat.sort()
    p50 = lat[len(lat) // 2] * 1e6
    p99 = lat[int(len(lat) * 0.99)] * 1e6
    return statistics.median(rates), p50, p99


class Doubling(V2ModelServer):
    def predict(self, request: Any) -> Any:
        return [row[0] * 2 for row in request["inputs"]]


def _traced() -> None:
    """Install the OpenTelemetry SDK's provider: spans batched to an exporter that drops them
    (what making and ending the spans costs, not a network)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Dropping(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropping()))
    trace.set_tracer_provider(provider)


def observe_rows(events: int, rounds: int) -> list[tuple[str, float, float, float]]:
    """A router with one V2 model: plain, every request tracked to a folder, OpenTelemetry
    imported without a provider (nothing traced), then traced (in this order: a process sets
    its provider once)."""
    import tempfile

    def otel_imported() -> None:
        import opentelemetry.trace  # noqa: F401

    cases = (
        ("router + model (plain)", None, ""),
        ("router + model, every request tracked", None, tempfile.mkdtemp()),
        ("router + model, OpenTelemetry, no provider", otel_imported, ""),
        ("router + model, traced (SDK, 3 spans a request)", _traced, ""),
    )
    out = []
    for label, setup, path in cases:
        if setup is not None:
            setup()
        fn = fnrun.new_function("tracked-bench", kind="serving")
        fn.add_model("m", class_name=Doubling, model_path="x")  # type: ignore[attr-defined]
        if path:
            fn.set_tracking(path)  # type: ignore[attr-defined]
        server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
        rates, lat = [], []
        body = {"inputs": [[1.0, 2.0]]}
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(events):
                t = time.perf_counter()
                server.test("/v2/models/m/infer", body)
                lat.append(time.perf_counter() - t)
            rates.append(events / (time.perf_counter() - start))
        server.close()
        lat.sort()
        out.append((label, statistics.median(rates), lat[len(lat) // 2] * 1e6,
                    lat[int(len(lat) * 0.99)] * 1e6))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--slow-events", type=int, default=1000)
    args = parser.parse_args()
    print(f"{'case':<52} {'ev/s':>10} {'p50 us':>8} {'p99 us':>8} {'p99 x plain':>12}")
    for wait, events in ((0.0, args.events), (0.001, args.slow_events)):
        WORK["seconds"] = wait
        label = "1 ms model" if wait else "us model"
        for engine in ("sync", "async"):
            base = 0.0
            for name, (make, shadow) in CASES.items():
                per_s, p50, p99 = _measure(engine, make, shadow, events, args.rounds)
                base = base or p99
                print(f"{f'{label}, {engine}: {name}':<52} {per_s:>10.0f} {p50:>8.1f} "
                      f"{p99:>8.1f} {p99 / base:>12.2f}")  # fmt: skip
    WORK["seconds"] = 0.0
    print()
    rows = observe_rows(args.events, args.rounds)
    print(f"{'tracking, tracing (sync engine, mock)':<52} {'ev/s':>10} {'p50 us':>8} {'p99 us':>8} "
          f"{'ev/s x plain':>12}")  # fmt: skip
    for label, per_s, p50, p99 in rows:
        print(f"{label:<52} {per_s:>10.0f} {p50:>8.1f} {p99:>8.1f} {per_s / rows[0][1]:>12.2f}")


if __name__ == "__main__":
    main()
