"""Deadlines that stop work: the graph's ``timeout``, a step's own, and the request's
``x-fnrun-timeout`` header (the smallest wins) answer 504 DeadlineExceeded naming the running
step, on time, on both engines, in the mock and over HTTP; no step runs after expiry, async
steps are cancelled, sync steps see the time they have."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.functions.serving import graph_server_for
from fnrun.service.serving_app import ServingApp

SEEN: list[str] = []


def first(body: Any) -> Any:
    SEEN.append("first")
    return body


def slow_sync(body: Any) -> Any:
    time.sleep(0.4)
    SEEN.append("slow done")
    return body


async def slow_async(body: Any) -> Any:
    try:
        await asyncio.sleep(0.4)
    except asyncio.CancelledError:
        SEEN.append("cancelled")
        raise
    SEEN.append("slow done")
    return body


def after(body: Any) -> Any:
    SEEN.append("after")
    return body


def budget(body: Any, context: Any = None) -> Any:
    """A sync step that reads the time it has."""
    return {"left": context.time_left()}


SLOW = {"sync": "slow_sync", "async": "slow_async"}


def _server(engine: str, graph_timeout: float | None = None, step_timeout: float | None = None):
    fn = fnrun.new_function("deadline", kind="serving")
    graph = fn.set_topology("flow", engine=engine, timeout=graph_timeout)  # type: ignore[attr-defined]
    step = graph.to(handler="first").to(handler=SLOW[engine], name="slow", timeout=step_timeout)
    step.to(handler="after").respond()
    return fn, fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def _timed(server: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = server.test("/", {"x": 1}, silent=True, **kwargs)
    return out, time.perf_counter() - start


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_the_graph_deadline_answers_504_on_time_and_stops_the_graph(engine: str) -> None:
    SEEN.clear()
    _, server = _server(engine, graph_timeout=0.15)
    out, took = _timed(server)
    assert out.status_code == 504
    assert out.body["error"] == "DeadlineExceeded" and out.body["step"] == "slow"
    assert 0.15 <= took < 0.25, f"answered {took:.3f} s after the request, deadline 0.15 s"
    time.sleep(0.4)  # the sync step finishes in its worker; nothing runs after it
    assert "after" not in SEEN
    assert SEEN[-1] == ("slow done" if engine == "sync" else "cancelled")
    assert server.errors[-1]["error"] == "DeadlineExceeded"


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_the_smallest_of_graph_step_and_request_deadlines_wins(engine: str) -> None:
    _, server = _server(engine, graph_timeout=5.0, step_timeout=0.1)
    out, took = _timed(server)
    assert out.status_code == 504 and "the step's timeout of 0.1 s" in out.body["message"]
    assert took < 0.2
    out, took = _timed(server, headers={"x-fnrun-timeout": "0.05"})
    assert out.status_code == 504 and took < 0.15
    assert "the request's deadline" in out.body["message"]  # the header's, not the step's
    assert out.body["field"] == "timeout"
    _, roomy = _server(engine, graph_timeout=5.0)
    out, took = _timed(roomy, headers={"x-fnrun-timeout": "2"})
    assert out == {"x": 1} and took >= 0.4  # within every bound: answered


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_a_sync_step_sees_the_time_it_has(engine: str) -> None:
    fn = fnrun.new_function("budget", kind="serving")
    fn.set_topology("flow", engine=engine).to(handler="budget").respond()  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    assert server.test("/", {"x": 1}) == {"left": None}  # no deadline: none
    left = server.test("/", {"x": 1}, headers={"x-fnrun-timeout": "3"})["left"]
    assert 2.5 < left <= 3.0


def test_the_function_spec_timeout_and_bad_values() -> None:
    fn, _ = _server("async")
    fn.spec.timeout = 0.1
    out, took = _timed(fn.to_mock_server(namespace=globals()))  # type: ignore[attr-defined]
    assert out.status_code == 504 and took < 0.2
    out = fn.to_mock_server(namespace=globals()).test(  # type: ignore[attr-defined]
        "/", {"x": 1}, silent=True, headers={"x-fnrun-timeout": "soon"}
    )
    assert out.status_code == 400 and out.body["field"] == "headers.x-fnrun-timeout"
    bad = fnrun.new_function("bad", kind="serving")
    bad.set_topology("flow").to(handler="first", timeout=-1).respond()  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgumentError, match="timeout must be > 0"):
        bad.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def test_the_step_timeout_is_in_the_spec() -> None:
    fn, _ = _server("async", graph_timeout=2.0, step_timeout=0.5)
    doc = fn.to_dict()["spec"]["graph"]
    assert doc["timeout"] == 2.0 and doc["steps"]["slow"]["timeout"] == 0.5
    assert "timeout" not in doc["steps"]["slow"].get("class_args", {})


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_over_http_the_header_bounds_the_request(engine: str) -> None:
    fn, _ = _server(engine)
    app = ServingApp(graph_server_for(fn, globals()), "deadline")

    async def go() -> tuple[httpx.Response, float]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            start = time.perf_counter()
            r = await client.post("/", json={"x": 1}, headers={"x-fnrun-timeout": "0.1"})
            return r, time.perf_counter() - start

    response, took = asyncio.run(go())
    assert response.status_code == 504 and response.json()["step"] == "slow"
    assert took < 0.2
