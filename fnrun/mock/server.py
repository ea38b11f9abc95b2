"""The mock server: a serving function's graph, in this process, for tests and notebooks.

>>> server = fn.to_mock_server()                                   # doctest: +SKIP
>>> server.test("/v2/models/m1/infer", body={"inputs": [[1, 2]]})  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from fnrun.errors import FnrunError
from fnrun.graph.event import HTTP_TRIGGER, Event, trigger_info
from fnrun.graph.server import GraphServer
from fnrun.graph.streaming import StreamFailed
from fnrun.mock.streams import MemoryStreams

__all__ = ["ERROR_STREAM", "MockRequestError", "MockServer", "build_mock"]

ERROR_STREAM = "errors"


class MockRequestError(FnrunError, RuntimeError):
    """``server.test`` got an error response (``response`` holds it; ``silent=True`` returns
    it). A ``RuntimeError``, as MLRun's mock raises."""

    def __init__(self, message: str, response: Any) -> None:
        super().__init__(message)
        self.response = response


class ErrorSink:
    """Where the mock's error records go: its in-memory ``errors`` stream, and the settable
    ``error_stream_object`` (anything with ``push(record)``, as MLRun's mock allows). A sink
    that fails is logged; it never fails the request."""

    def __init__(self, streams: MemoryStreams) -> None:
        self.streams = streams
        self.target: Any = None
        self.logger: Any = None

    def __call__(self, record: dict[str, Any]) -> None:
        self.streams.push(ERROR_STREAM, record)
        if self.target is None:
            return
        try:
            self.target.push(record)
        except Exception as exc:
            if self.logger is not None:
                self.logger.error(f"the error stream failed: {type(exc).__name__}: {exc}")


class MockServer:
    def __init__(self, server: GraphServer, streams: MemoryStreams, sink: ErrorSink) -> None:
        self.server = server
        self.streams = streams
        self._sink = sink
        sink.logger = server.context.logger
        self.error_stream = ""  # a path, for code that sets it (the records stay in memory)
        self._ids = itertools.count(1)

    @property
    def context(self) -> Any:
        return self.server.context

    @property
    def graph(self) -> Any:
        return self.server.graph

    def to_dict(self) -> dict[str, Any]:
        """The served spec (``GraphServer.to_dict``), as MLRun's mock server gives it."""
        return self.server.to_dict()

    def to_yaml(self) -> str:
        return self.server.to_yaml()

    @property
    def errors(self) -> list[dict[str, Any]]:
        """What the error stream received."""
        return self.streams.read(ERROR_STREAM)

    @property
    def error_stream_object(self) -> Any:
        """An object with ``push(record)`` that also receives every error record."""
        return self._sink.target

    @error_stream_object.setter
    def error_stream_object(self, target: Any) -> None:
        self._sink.target = target

    _error_stream_object = error_stream_object  # MLRun's spelling

    def test(
        self,
        path: str = "/",
        body: Any = None,
        method: str = "",
        headers: dict[str, Any] | None = None,
        content_type: str | None = None,
        silent: bool = False,
        get_body: bool = True,
        event_id: Any = None,
        trigger: Any = None,
        stream: bool = False,
    ) -> Any:
        """Send one request through the graph; the response body (or Response). ``stream``:
        an iterator of the answers of a streaming graph's chunks (a failure midway raises
        :class:`MockRequestError` from the iterator)."""
        event = Event(
            body=body,
            content_type=content_type,
            headers=headers,
            method=method or ("POST" if body is not None else "GET"),
            path=path,
            id=event_id if event_id is not None else next(self._ids),
            trigger=trigger_info(trigger) if trigger is not None else HTTP_TRIGGER,
        )
        if stream:
            return self._streamed(path, event)
        result = self.server.run(event, get_body=get_body)
        status = getattr(result, "status_code", 200)
        if status >= 300 and not silent:
            body_ = getattr(result, "body", {})
            raise MockRequestError(
                f"{path} failed with status {status}: "
                f"{body_.get('message', body_) if isinstance(body_, dict) else body_}"
                + (
                    f" (step {body_['step']!r})"
                    if isinstance(body_, dict) and body_.get("step")
                    else ""
                ),
                result,
            )
        return result

    def _streamed(self, path: str, event: Event) -> Any:
        started = False
        chunks = self.server.run(event, stream=True)
        try:
            for chunk in chunks:
                started = True
                yield chunk
        except StreamFailed as failed:
            body = getattr(failed.response, "body", {})
            message = body.get("message", body) if isinstance(body, dict) else body
            status = getattr(failed.response, "status_code", 500)
            where = "midway" if started else f"with status {status}"
            raise MockRequestError(f"{path} failed {where}: {message}", failed.response) from None
        finally:
            chunks.close()  # a consumer that stops early stops the generator

    async def test_async(
        self, path: str = "/", body: Any = None, get_body: bool = True, **kwargs: Any
    ) -> Any:
        """Like ``test`` on the running event loop, for many requests in flight."""
        event = Event(
            body=body,
            path=path,
            method=kwargs.get("method") or "POST",
            headers=kwargs.get("headers"),
            id=next(self._ids),
            trigger=trigger_info(kwargs.get("trigger")) or HTTP_TRIGGER,
        )
        return await self.server.run_async(event, get_body=get_body)

    def wait_for_completion(self) -> None:
        """Let storey steps flush what they hold (batches, windows) through the rest of the
        graph; queues in the mock already ran inside each request."""
        self.server.drain()

    def close(self) -> None:
        self.server.close()


def build_mock(
    graph: Any,
    namespaces: list[Any],
    *,
    make_server: Callable[..., GraphServer] | None = None,
    **kwargs: Any,
) -> MockServer:
    """A MockServer of ``graph`` with in-memory streams; ``make_server(**settings)`` builds the
    graph server instead when given (a serving function passes its own, the graph and
    child functions of the function's spec)."""
    streams = MemoryStreams()
    sink = ErrorSink(streams)
    kwargs.update(error_sink=sink, queue_push=streams.push)
    if make_server is not None:
        server = make_server(**kwargs)
    else:
        server = GraphServer(graph, namespaces, **kwargs)
    server.context.is_mock = True
    server.log_failures = False  # the caller gets each failure (raised, or the Response)
    return MockServer(server, streams, sink)
