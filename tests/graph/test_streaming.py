"""Streaming answers: a generator (or async generator) step streams; each chunk goes through
the steps after it to the responder, on both engines; the mock iterates the answers
(``stream=True``), a plain request gets their list, HTTP sends Server-Sent Events or NDJSON,
and a failure midway is reported in the stream."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import fnrun
from fnrun.mock.server import MockRequestError
from fnrun.runtimes.functions.serving import graph_server_for
from fnrun.service.serving_app import ServingApp

SEEN: list[Any] = []


def words(body: Any) -> Any:
    yield from body["text"].split()


async def words_async(body: Any) -> Any:
    for word in body["text"].split():
        await asyncio.sleep(0)
        yield word


class Tokens:
    def do(self, body: Any) -> Any:
        for i, word in enumerate(body["text"].split()):
            yield {"i": i, "w": word}


def upper(body: Any) -> Any:
    SEEN.append(body)
    return body.upper() if isinstance(body, str) else body


def breaks(body: Any) -> Any:
    yield "first"
    raise ValueError("the model broke midway")


def fails_first(body: Any) -> Any:
    raise ValueError("before any chunk")
    yield  # a generator all the same


def _server(engine: str, **first: Any) -> Any:
    fn = fnrun.new_function("stream", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to(**first, name="gen").to(handler="upper", name="upper").respond()
    return fn


@pytest.mark.parametrize(
    ("engine", "handler"), [("sync", "words"), ("async", "words"), ("async", "words_async")]
)
def test_each_chunk_flows_through_the_steps_after_it(engine: str, handler: str) -> None:
    server = _server(engine, handler=handler).to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    SEEN.clear()
    chunks = server.test("/", {"text": "hello big world"}, stream=True)
    assert next(chunks) == "HELLO" and SEEN == ["hello"]  # one chunk at a time
    assert list(chunks) == ["BIG", "WORLD"] and SEEN == ["hello", "big", "world"]
    assert server.test("/", {"text": "a b"}) == ["A", "B"]  # not streamed: every answer


def test_a_class_step_with_a_generator_do_streams() -> None:
    server = _server("sync", class_name="Tokens").to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    assert list(server.test("/", {"text": "x y"}, stream=True)) == [
        {"i": 0, "w": "x"},
        {"i": 1, "w": "y"},
    ]


def test_a_failure_midway_ends_the_stream_with_the_error() -> None:
    server = _server("async", handler="breaks").to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    chunks = server.test("/", {}, stream=True)
    assert next(chunks) == "FIRST"
    with pytest.raises(MockRequestError, match="the model broke midway") as err:
        next(chunks)
    assert err.value.response.body["step"] == "gen"
    assert server.errors[-1]["message"] == "the model broke midway"


def _http(fn: Any, **headers: str) -> httpx.Response:
    app = ServingApp(graph_server_for(fn, globals()), "stream")

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/", json={"text": "a b"}, headers=headers)

    return asyncio.run(go())


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_over_http_as_server_sent_events_or_ndjson(engine: str) -> None:
    fn = _server(engine, handler="words")
    sse = _http(fn, accept="text/event-stream")
    assert sse.status_code == 200 and sse.headers["content-type"] == "text/event-stream"
    assert sse.text == 'data: "A"\n\ndata: "B"\n\n'
    lines = _http(fn)
    assert lines.headers["content-type"] == "application/x-ndjson" and lines.text == '"A"\n"B"\n'
    broken = _http(_server(engine, handler="breaks"), accept="text/event-stream")
    assert broken.text.startswith('data: "FIRST"\n\nevent: error\ndata: {"error": "ValueError"')
    early = _http(_server(engine, handler="fails_first"))
    assert early.status_code == 500 and early.json()["message"] == "before any chunk"
