"""Streaming under the production controls: a streamed request keeps its deadline (504
midway, the generator stopped) and its place at the server's door; a consumer that stops
early, or an HTTP client that goes away, stops the generator; a slow sync generator never
holds the HTTP server's loop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import fnrun
from fnrun.mock.server import MockRequestError

CLOSED: list[str] = []  # the generators that were closed


async def ticks_async(body: Any) -> Any:
    try:
        for i in range(100):
            await asyncio.sleep(0.05)
            yield i
    finally:
        CLOSED.append("async")


def ticks_sync(body: Any) -> Any:
    try:
        for i in range(100):
            time.sleep(0.05)
            yield i
    finally:
        CLOSED.append("sync")


def _mock(engine: str, handler: str, **spec: Any) -> Any:
    fn = fnrun.new_function("ticks", kind="serving")
    fn.set_topology("flow", engine=engine).to(handler=handler, name="gen").respond()  # type: ignore[attr-defined]
    for key, value in spec.items():
        setattr(fn.spec, key, value)
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


@pytest.mark.parametrize(("engine", "handler"), [("async", "ticks_async"), ("sync", "ticks_sync")])
def test_a_streamed_request_keeps_its_deadline(engine: str, handler: str) -> None:
    CLOSED.clear()
    server = _mock(engine, handler)
    got: list[Any] = []
    start = time.monotonic()
    with pytest.raises(MockRequestError, match="still streaming at the request's deadline") as err:
        for chunk in server.test("/", {}, headers={"x-fnrun-timeout": "0.22"}, stream=True):
            got.append(chunk)
    took = time.monotonic() - start
    assert err.value.response.status_code == 504
    assert err.value.response.body["error"] == "DeadlineExceeded"
    assert got == [0, 1, 2, 3][: len(got)] and 3 <= len(got) <= 4
    assert 0.22 <= took < 0.22 + 0.1  # the async generator is cancelled at the deadline
    assert CLOSED[:] == [engine]
    answer = server.test("/", {}, headers={"x-fnrun-timeout": "0.12"}, silent=True)
    assert answer.status_code == 504  # a plain request of a streaming graph too


def test_a_stream_holds_its_place_at_the_door_until_it_ends() -> None:
    CLOSED.clear()
    server = _mock("async", "ticks_async", max_in_flight=1)
    first = server.test("/", {}, stream=True)
    assert next(first) == 0
    with pytest.raises(MockRequestError, match="with status 503") as err:
        next(server.test("/", {}, stream=True))
    assert err.value.response.headers["Retry-After"] == "1"
    first.close()  # a consumer that stops early: the generator is stopped, the place freed
    assert CLOSED[:] == ["async"]
    again = server.test("/", {}, stream=True)
    assert next(again) == 0
    again.close()  # never left to the garbage collector (its cleanup runs now)


STEPS = """
import asyncio, pathlib, time

MARK = {mark!r}

async def ticks_async(body):
    try:
        for i in range(1000):
            await asyncio.sleep(0.05)
            yield i
    finally:
        pathlib.Path(MARK + "-async").write_text("closed")

def ticks_sync(body):
    try:
        time.sleep(0.6)  # a slow first chunk: the server's loop must stay free meanwhile
        for i in range(1000):
            time.sleep(0.05)
            yield i
    finally:
        pathlib.Path(MARK + "-sync").write_text("closed")
"""


def _deployed(tmp_path: Path, engine: str) -> Any:
    code = tmp_path / f"ticks_{engine}.py"
    code.write_text(STEPS.format(mark=str(tmp_path / "mark")))
    fn = fnrun.code_to_function(f"ticks-{engine}", filename=str(code), kind="serving")
    fn.set_topology("flow", engine=engine).to(handler=f"ticks_{engine}").respond()  # type: ignore[attr-defined]
    return fn


def _wait_for(path: Path, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("engine", ["async", "sync"])
def test_a_client_that_goes_away_stops_the_generator(tmp_path: Path, engine: str) -> None:
    fn = _deployed(tmp_path, engine)
    url = fn.deploy()
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            with client.stream("POST", "/", json={}, headers={"accept": "text/event-stream"}) as r:
                if engine == "sync":  # while the generator sleeps, other requests are served
                    start = time.monotonic()
                    assert httpx.get(f"{url}/v2/health", timeout=5).status_code == 200
                    assert time.monotonic() - start < 0.4
                lines = []
                for line in r.iter_lines():
                    if line.startswith("data: "):
                        lines.append(line)
                    if len(lines) == 2:
                        break
            assert lines == ["data: 0", "data: 1"]
        assert _wait_for(tmp_path / f"mark-{engine}", 3)  # the generator's cleanup ran
    finally:
        fn.stop()


def test_a_deadline_ends_an_http_stream_with_an_error_event(tmp_path: Path) -> None:
    fn = _deployed(tmp_path, "async")
    url = fn.deploy()
    try:
        headers = {"accept": "text/event-stream", "x-fnrun-timeout": "0.3"}
        start = time.monotonic()
        answer = httpx.post(f"{url}/", json={}, headers=headers, timeout=10)
        took = time.monotonic() - start
    finally:
        fn.stop()
    assert answer.status_code == 200
    events = answer.text.strip().split("\n\n")
    assert events[0] == "data: 0" and events[-1].startswith("event: error\ndata: ")
    assert '"DeadlineExceeded"' in events[-1] and '"status": 504' in events[-1]
    assert took < 0.3 + 0.3
    assert (tmp_path / "mark-async").exists()
