"""The mock server: a serving function's graph, in this process, for tests and notebooks.

>>> server = fn.to_mock_server()                                   # doctest: +SKIP
>>> server.test("/v2/models/m1/infer", body={"inputs": [[1, 2]]})  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from typing import Any

from fnrun.errors import FnrunError
from fnrun.graph.event import HTTP_TRIGGER, Event, trigger_info
from fnrun.graph.server import GraphServer
from fnrun.mock.streams import MemoryStreams

ERROR_STREAM = "errors"


class MockRequestError(FnrunError):
    """``server.test`` got an error response (``response`` holds it; ``silent=True`` returns it)."""

    def __init__(self, message: str, response: Any) -> None:
        super().__init__(message)
        self.response = response


class MockServer:
    def __init__(self, server: GraphServer, streams: MemoryStreams) -> None:
        self.server = server
        self.streams = streams
        self._ids = itertools.count(1)

    @property
    def context(self) -> Any:
        return self.server.context

    @property
    def errors(self) -> list[dict[str, Any]]:
        """What the error stream received."""
        return self.streams.read(ERROR_STREAM)

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
    ) -> Any:
        """Send one request through the graph; the response body (or Response)."""
        event = Event(
            body=body,
            content_type=content_type,
            headers=headers,
            method=method or ("POST" if body is not None else "GET"),
            path=path,
            id=event_id if event_id is not None else next(self._ids),
            trigger=trigger_info(trigger) if trigger is not None else HTTP_TRIGGER,
        )
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
