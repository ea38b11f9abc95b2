"""Serving controls: how late a deadline's 504 comes, and how fast an overloaded step refuses.

    python benchmarks/serving_controls.py [--requests 50]

Rows (medians and p99 over the requests, in the mock server):
- deadline enforcement: a 0.1 s deadline on a step that would take 0.5 s (sync engine: a
  blocking step; async engine: an awaiting one); the column is the answer's lateness past the
  deadline;
- refusal under 10x overload: 40 requests at once at a 50 ms async step limited to 4 running
  and none waiting; the columns are the refused (503) requests' latency and the admitted
  ones', next to the step alone;
- time to first chunk of a streaming graph (a generator step answering 100 tokens): the
  generator called directly, the mock's ``server.test(..., stream=True)``, and over HTTP
  (a deployed server; a raw socket sends the request and reads to the first SSE ``data:``
  line), on both engines;
- the graph as a batch job (``srv.to_job()``), rows/s over ``--rows`` rows of a csv through a
  two-step graph: the handlers called in a plain loop over the rows, the job's graph part in
  this process (``serve_rows``), and the whole ``job.run`` (a child process: start, read the
  csv, serve, log the answers as a dataset).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from typing import Any

import fnrun


def blocking(body: Any) -> Any:
    time.sleep(0.5)
    return body


async def awaiting(body: Any) -> Any:
    await asyncio.sleep(0.5)
    return body


async def work(body: Any) -> Any:
    await asyncio.sleep(0.05)
    return body


def _server(engine: str, handler: str, **step: Any) -> Any:
    fn = fnrun.new_function("controls", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to(handler=handler, name="step", **step).respond()
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def _ms(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return statistics.median(values) * 1000, p99 * 1000


def deadline_rows(requests: int) -> list[tuple[str, float, float]]:
    rows = []
    for engine, handler in (("sync", "blocking"), ("async", "awaiting")):
        server = _server(engine, handler)
        late = []
        for _ in range(requests):
            start = time.perf_counter()
            out = server.test("/", {"x": 1}, headers={"x-fnrun-timeout": "0.1"}, silent=True)
            assert out.status_code == 504
            late.append(time.perf_counter() - start - 0.1)
        rows.append((f"deadline 0.1 s, {engine} engine: lateness", *_ms(late)))
        server.close()
    return rows


def overload_rows(rounds: int) -> list[tuple[str, float, float]]:
    server = _server("async", "work", max_concurrency=4, max_queued=0)
    refused: list[float] = []
    admitted: list[float] = []
    alone: list[float] = []

    async def timed() -> tuple[int, float]:
        start = time.perf_counter()
        out = await server.test_async("/", {"x": 1})
        return getattr(out, "status_code", 200), time.perf_counter() - start

    async def go() -> None:
        for _ in range(rounds):
            alone.append((await timed())[1])
            for status, took in await asyncio.gather(*(timed() for _ in range(40))):
                (refused if status == 503 else admitted).append(took)

    asyncio.run(go())
    return [
        ("50 ms step alone", *_ms(alone)),
        ("10x overload: refused (503)", *_ms(refused)),
        ("10x overload: admitted", *_ms(admitted)),
    ]


STEPS = """
def prep(x):
    return {"i": x["i"], "v": x["v"] * 2}

def score(x):
    return {**x, "score": x["v"] * 3 + 1}
"""


TOKENS = """
def tokens(body):
    for i in range(100):
        yield {"token": i}

async def tokens_async(body):
    for i in range(100):
        yield {"token": i}
"""


def first_chunk_rows(requests: int) -> list[tuple[str, float, float]]:
    import pathlib
    import tempfile

    from fnrun.execution.loader import module_from_file

    where = pathlib.Path(tempfile.mkdtemp())
    (where / "bench_tokens.py").write_text(TOKENS)
    module = module_from_file(where / "bench_tokens.py")
    rows = []

    def alone() -> None:
        next(module.tokens({}))

    rows.append(("first chunk: the generator alone", *_ms(_times(alone, requests))))
    for engine, handler in (("sync", "tokens"), ("async", "tokens_async")):
        rows += _first_chunk_of(engine, handler, where / "bench_tokens.py", requests)
    return rows


def _first_chunk_of(engine: str, handler: str, code: Any, requests: int) -> list[Any]:
    import socket
    from urllib.parse import urlsplit

    fn = fnrun.code_to_function(f"tokens-{engine}", filename=str(code), kind="serving")
    fn.set_topology("flow", engine=engine).to(handler=handler).respond()  # type: ignore[attr-defined]
    mock = fn.to_mock_server()  # type: ignore[attr-defined]

    def in_mock() -> None:
        chunks = mock.test("/", {}, stream=True)
        next(chunks)
        chunks.close()

    rows = [(f"first chunk: mock, {engine} engine", *_ms(_times(in_mock, requests)))]
    url = urlsplit(fn.deploy())  # type: ignore[attr-defined]
    request = (
        f"POST / HTTP/1.1\r\nhost: {url.hostname}\r\naccept: text/event-stream\r\n"
        "content-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
    ).encode()

    def over_http() -> None:
        with socket.create_connection((url.hostname, url.port)) as sock:
            sock.sendall(request)
            seen = b""
            while b"data: " not in seen:
                seen += sock.recv(65536)

    try:
        over_http()  # warm
        rows.append((f"first chunk: HTTP, {engine} engine", *_ms(_times(over_http, requests))))
    finally:
        fn.stop()  # type: ignore[attr-defined]
    return rows


def _times(call: Any, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def job_rows(rows: int, rounds: int) -> list[tuple[str, float]]:
    import pathlib
    import tempfile

    import pandas as pd

    from fnrun.execution.loader import module_from_file
    from fnrun.runtimes.functions.graph_job import serve_rows

    where = pathlib.Path(tempfile.mkdtemp())
    (where / "bench_steps.py").write_text(STEPS)
    data = where / "rows.csv"
    pd.DataFrame({"i": range(rows), "v": [i / 3 for i in range(rows)]}).to_csv(data, index=False)
    srv = fnrun.code_to_function("bench", filename=str(where / "bench_steps.py"), kind="serving")
    srv.set_topology("flow", engine="sync").to(handler="prep").to(handler="score").respond()
    job = srv.to_job()
    steps = module_from_file(where / "bench_steps.py")
    doc = job.spec.serving_spec | {}
    doc["spec"] = {**doc["spec"], "build": job.spec.build.to_dict()}

    def loop() -> None:
        for row in pd.read_csv(data).to_dict("records"):
            steps.score(steps.prep(row))

    def graph_part() -> None:
        serve_rows(doc, pd.read_csv(data).to_dict("records"))

    def whole_run() -> None:
        job.run(inputs={"data": str(data)}, local=True, watch=False)

    out = []
    for name, call in (
        ("handlers in a loop", loop),
        ("to_job graph, in process", graph_part),
        ("to_job whole run (child process)", whole_run),
    ):
        took = []
        for _ in range(rounds):
            start = time.perf_counter()
            call()
            took.append(time.perf_counter() - start)
        out.append((name, rows / statistics.median(took)))
    return out


def main() -> None:
    logging.getLogger("fnrun.graph").setLevel(logging.CRITICAL)  # each 504 is logged: quiet
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = deadline_rows(args.requests) + overload_rows(args.requests)
    rows += first_chunk_rows(max(args.requests, 50))
    print(f"{'case':<42} {'median ms':>10} {'p99 ms':>8}")
    for name, median, p99 in rows:
        print(f"{name:<42} {median:>10.2f} {p99:>8.2f}")
    batch = job_rows(args.rows, args.rounds)
    base = batch[0][1]
    print(f"\n{f'{args.rows} rows through a 2-step graph':<42} {'rows/s':>10} {'ratio':>8}")
    for name, per_s in batch:
        print(f"{name:<42} {per_s:>10.0f} {per_s / base:>8.2f}")


if __name__ == "__main__":
    main()
