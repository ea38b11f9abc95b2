"""Backpressure: a step's ``max_concurrency``/``max_queued`` and the server's
``max_in_flight`` refuse early with 503, a ``Retry-After`` and the step named, before any work;
counts in ``/metrics``; under 10x overload nothing hangs and admitted requests stay fast."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from typing import Any

import httpx
import pytest

import fnrun
from fnrun.errors import InvalidArgumentError

RAN: list[str] = []


async def wait_async(body: Any) -> Any:
    RAN.append("async")
    await asyncio.sleep(0.05)
    return {"ok": True}


def wait_sync(body: Any) -> Any:
    RAN.append("sync")
    time.sleep(0.2)
    return {"ok": True}


def _fn(engine: str, handler: str, **bounds: Any) -> Any:
    fn = fnrun.new_function("busy", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to(handler=handler, name="work", **bounds).respond()
    return fn


def test_a_step_refuses_beyond_its_running_and_waiting_bounds() -> None:
    server = _fn("async", "wait_async", max_concurrency=2, max_queued=1).to_mock_server(
        namespace=globals()
    )
    RAN.clear()

    async def flood() -> list[Any]:
        return await asyncio.gather(*(server.test_async("/", {"n": n}) for n in range(6)))

    out = asyncio.run(flood())
    answered = [o for o in out if not hasattr(o, "status_code")]
    refused = [o for o in out if getattr(o, "status_code", 200) == 503]
    assert len(answered) == 3 and len(refused) == 3 and len(RAN) == 3  # no work for the refused
    assert refused[0].headers["Retry-After"] == "1"
    assert refused[0].body["error"] == "Overloaded" and refused[0].body["step"] == "work"
    samples = {(n, labels.get("step")): v for n, _, labels, v in server.server.load_samples("f")}
    assert samples[("fnrun_step_refused", "work")] == 3
    assert samples[("fnrun_step_in_flight", "work")] == 0


def test_on_the_sync_engine_it_bounds_the_threads_running_the_step() -> None:
    server = _fn("sync", "wait_sync", max_concurrency=1, max_queued=1).to_mock_server(
        namespace=globals()
    )
    statuses: list[int] = []

    def call() -> None:
        out = server.test("/", {"x": 1}, silent=True)
        statuses.append(getattr(out, "status_code", 200))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.02)  # one running, one waiting, then two refused
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 200, 503, 503]


def test_the_server_refuses_beyond_max_in_flight_before_any_step_runs() -> None:
    fn = _fn("async", "wait_async")
    fn.spec.max_in_flight = 2
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    RAN.clear()

    async def flood() -> list[Any]:
        return await asyncio.gather(*(server.test_async("/", {"n": n}) for n in range(5)))

    out = asyncio.run(flood())
    refused = [o for o in out if getattr(o, "status_code", 200) == 503]
    assert len(refused) == 3 and len(RAN) == 2
    assert refused[0].body["field"] == "max_in_flight" and refused[0].headers["Retry-After"]
    with pytest.raises(InvalidArgumentError, match="max_concurrency must be"):
        _fn("async", "wait_async", max_concurrency=-1).to_mock_server(namespace=globals())


STEP_CODE = """
import asyncio

async def wait_async(body):
    await asyncio.sleep(0.2)
    return {"ok": True}
"""


async def _send_all(host: str, port: int, clients: int) -> list[tuple[int, float, str]]:
    """``clients`` connections opened first, then one POST on each at once; per request:
    (status, seconds from its send to its full answer, Retry-After). Raw sockets, so the
    client's own cost (a few microseconds a request) does not blur the server's."""
    payload = b'{"x": 1}'
    request = (
        f"POST / HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    conns = [await asyncio.open_connection(host, port) for _ in range(clients)]

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Any:
        start = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {
            k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
        }
        await reader.readexactly(int(headers.get("content-length", "0")))
        writer.close()
        return int(lines[0].split()[1]), time.perf_counter() - start, headers.get("retry-after", "")

    return list(await asyncio.wait_for(asyncio.gather(*(one(r, w) for r, w in conns)), 20))


def test_ten_times_overload_over_http_only_refuses_and_keeps_admitted_requests_fast(
    tmp_path: Any,
) -> None:
    """200 concurrent clients against a deployed 200 ms step limited to 4 running (none waiting:
    a request that waits for a slot of a flood waits a whole step, 2x by construction):
    every answer is a 200 or a 503 with Retry-After, none hangs, the refusals are counted in
    /metrics, and the admitted requests' p99 stays within 2x of the unloaded p99. (The step is
    long enough that the whole flood is read within one step on a busy 2-core machine.)"""
    code = tmp_path / "busy.py"
    code.write_text(STEP_CODE)
    fn = fnrun.code_to_function("busy", filename=str(code), kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    graph.to(handler="wait_async", name="work", max_concurrency=4, max_queued=0).respond()
    url = fn.deploy()  # type: ignore[attr-defined]  # a real uvicorn process
    try:
        host, port = url.removeprefix("http://").split(":")
        unloaded = [t for _ in range(20) for _, t, _ in asyncio.run(_send_all(host, int(port), 1))]
        loaded = asyncio.run(_send_all(host, int(port), 200))
        with httpx.Client() as client:
            metrics = client.get(f"{url}/metrics").text
    finally:
        fn.stop()  # type: ignore[attr-defined]
    assert {status for status, _, _ in loaded} == {200, 503}
    assert all(after == "1" for status, _, after in loaded if status == 503)
    admitted = sorted(t for status, t, _ in loaded if status == 200)
    assert len(admitted) == 4
    p99 = lambda xs: statistics.quantiles(xs, n=100)[98] if len(xs) > 2 else max(xs)  # noqa: E731
    assert p99(admitted) <= 2 * p99(unloaded) + 0.01, (p99(admitted), p99(unloaded))
    assert 'fnrun_step_refused_total{function="busy",step="work"} 196.0' in metrics
