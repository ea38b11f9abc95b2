"""ParallelRun: every route on the same event, on threads, forked processes or in turn."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

import fnrun


def slow_a(body: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.4)
    return {"a": body["x"] + 1}


def slow_b(body: dict[str, Any]) -> dict[str, Any]:
    time.sleep(0.4)
    return {"b": body["x"] * 2}


def scalar(body: dict[str, Any]) -> int:
    return 42


def whose_pid(body: dict[str, Any]) -> dict[str, Any]:
    return {f"pid_{body['tag']}": os.getpid()}


def other_pid(body: dict[str, Any]) -> dict[str, Any]:
    return {"pid_other": os.getpid()}


def broken(body: dict[str, Any]) -> None:
    raise KeyError("feature_7")


async def async_c(body: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0.4)
    return {"c": body["x"] - 1}


def _server(routes: dict[str, str], engine: str = "sync", **class_args: Any) -> Any:
    fn = fnrun.new_function("par", kind="serving")
    graph = fn.set_topology("router", class_name="ParallelRun", engine=engine, **class_args)  # type: ignore[attr-defined]
    for name, handler in routes.items():
        graph.add_route(name, handler=handler)
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def test_thread_routes_overlap_and_results_merge() -> None:
    server = _server({"a": "slow_a", "b": "slow_b", "s": "scalar"})
    start = time.perf_counter()
    assert server.test("/", body={"x": 3}) == {"a": 4, "b": 6, "s": 42}
    assert time.perf_counter() - start < 0.75  # two 0.4 s routes ran at once
    extended = _server({"a": "slow_a"}, extend_event=True)
    assert extended.test("/", body={"x": 3}) == {"x": 3, "a": 4}


def test_array_runs_routes_in_turn() -> None:
    server = _server({"a": "slow_a", "b": "slow_b"}, executor_type="array")
    start = time.perf_counter()
    assert server.test("/", body={"x": 1}) == {"a": 2, "b": 2}
    assert time.perf_counter() - start >= 0.8


def test_process_routes_run_in_forked_workers() -> None:
    server = _server({"p": "whose_pid", "q": "other_pid"}, executor_type="process")
    try:
        out = server.test("/", body={"tag": "p"})
        assert set(out) == {"pid_p", "pid_other"}
        assert os.getpid() not in (out["pid_p"], out["pid_other"])
    finally:
        server.server.close()


@pytest.mark.parametrize("executor", ["thread", "process", "array"])
def test_a_failing_route_fails_the_request_naming_it(executor: str) -> None:
    server = _server({"a": "scalar", "bad": "broken"}, executor_type=executor)
    try:
        out = server.test("/", body={"x": 1}, silent=True)
        assert out.status_code == 500
        assert "route 'bad' failed: KeyError" in out.body["message"]
    finally:
        server.server.close()


def test_async_engine_awaits_async_routes_with_thread_routes() -> None:
    server = _server({"a": "slow_a", "c": "async_c"}, engine="async")
    start = time.perf_counter()
    assert server.test("/", body={"x": 5}) == {"a": 6, "c": 4}
    assert time.perf_counter() - start < 0.75


def test_unknown_executor_is_refused() -> None:
    with pytest.raises(fnrun.errors.InvalidArgumentError, match="unknown executor_type 'gpu'"):
        _server({"a": "scalar"}, executor_type="gpu")
