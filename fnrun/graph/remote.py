"""Steps that call other HTTP endpoints: ``RemoteStep`` (one request per event) and
``BatchHttpRequests`` (one request per item of a list body, sent concurrently).

Each request carries the event id (``x-request-id``) and path (``x-fnrun-event-path``).
Connection errors, timeouts and 5xx answers are retried ``retries`` times with exponential
back-off (``backoff_factor * 2**attempt`` seconds); a 4xx answer is not retried and is passed
on with its status. When the retries run out the step fails with 502 (504 for a timeout),
naming the URL and the last error. The sync engine uses a pooled ``httpx.Client``; the async
engine an ``httpx.AsyncClient`` with at most ``max_in_flight`` requests at a time.

``fn.add_model(key, model_url=...)`` routes a model to a remote model server with a
``RemoteStep`` that appends the operation (``/infer``, ``/explain``...) to ``model_url``.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.extras import require
from fnrun.model.step_objects import StepToDict


class RemoteCallError(FnrunError):
    """The remote endpoint failed; ``http_status`` is what the step answers."""

    def __init__(self, message: str, http_status: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.http_status = http_status


def _httpx() -> Any:
    return require("httpx", "http", "remote steps", field="class_name")


class RemoteStep(StepToDict):
    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        url: str = "",
        subpath: str = "",
        method: str = "",
        headers: dict[str, str] | None = None,
        return_json: bool = True,
        timeout: float = 30.0,
        retries: int = 3,
        backoff_factor: float = 0.2,
        max_in_flight: int = 16,
        operation_path: bool = False,
        **kwargs: Any,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidArgumentError(
                f"step {name!r}: url {url!r} is not an http(s) URL",
                field="url",
                hint="e.g. url='http://localhost:8080/v2/models/m'",
            )
        if retries < 0 or timeout <= 0 or max_in_flight < 1:
            raise InvalidArgumentError(
                f"step {name!r}: needs retries >= 0, timeout > 0, max_in_flight >= 1",
                field="retries",
            )
        self.context = context
        self.name = name or "remote"
        self.url = url.rstrip("/") + ("/" + subpath.lstrip("/") if subpath else "")
        self.method = method.upper()
        self.headers = dict(headers or {})
        self.return_json = return_json
        self.timeout = timeout
        self.retries = retries
        self.backoff_factor = backoff_factor
        self.max_in_flight = max_in_flight
        self.operation_path = operation_path  # a remote model: append the event's operation
        self._client: Any = None
        self._aclient: Any = None
        self._loop: Any = None
        self._limit: asyncio.Semaphore | None = None

    # -- the step ------------------------------------------------------------------------------
    def do_event(self, event: Any) -> Any:
        event.body = self._call(self._request(event, event.body))
        return event

    async def async_do_event(self, event: Any) -> Any:
        event.body = await self._acall(self._request(event, event.body))
        return event

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- requests ------------------------------------------------------------------------------
    def _request(self, event: Any, body: Any) -> dict[str, Any]:
        url = self.url
        if self.operation_path:
            from fnrun.graph.v2_serving import operation_of

            operation = operation_of(event) or ""
            url = f"{url}/{operation}" if operation else url
        headers = {
            **self.headers,
            "x-request-id": str(event.id),
            "x-fnrun-event-path": str(event.path or "/"),
        }
        content: bytes | None = None
        if isinstance(body, bytes | bytearray):
            content = bytes(body)
        elif isinstance(body, str):
            content = body.encode()
        elif body is not None:
            content = json.dumps(body, default=str).encode()
            headers.setdefault("content-type", "application/json")
        method = self.method or ("POST" if content is not None else "GET")
        return {"method": method, "url": url, "headers": headers, "content": content}

    def _sync_client(self) -> Any:
        if self._client is None:
            self._client = _httpx().Client(timeout=self.timeout)
        return self._client

    def _async_client(self) -> tuple[Any, asyncio.Semaphore]:
        """One client per event loop (a client's connections belong to the loop)."""
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._loop is not loop:
            self._aclient = _httpx().AsyncClient(timeout=self.timeout)
            self._limit = asyncio.Semaphore(self.max_in_flight)
            self._loop = loop
        assert self._limit is not None
        return self._aclient, self._limit

    def _call(self, request: dict[str, Any]) -> Any:
        httpx = _httpx()
        client = self._sync_client()
        for attempt in range(self.retries + 1):
            try:
                response = client.request(**request)
            except httpx.TransportError as exc:
                self._give_up_or_wait(request, attempt, exc)
                time.sleep(self._delay(attempt))
                continue
            if response.status_code < 500 or attempt == self.retries:
                return self._result(request, response)
            time.sleep(self._delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _acall(self, request: dict[str, Any]) -> Any:
        httpx = _httpx()
        client, limit = self._async_client()
        for attempt in range(self.retries + 1):
            try:
                async with limit:
                    response = await client.request(**request)
            except httpx.TransportError as exc:
                self._give_up_or_wait(request, attempt, exc)
                await asyncio.sleep(self._delay(attempt))
                continue
            if response.status_code < 500 or attempt == self.retries:
                return self._result(request, response)
            await asyncio.sleep(self._delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int) -> float:
        return float(self.backoff_factor * 2**attempt)

    def _give_up_or_wait(self, request: dict[str, Any], attempt: int, exc: Exception) -> None:
        if attempt < self.retries:
            return
        timeout = "Timeout" in type(exc).__name__
        raise RemoteCallError(
            f"step {self.name!r}: {request['method']} {request['url']} failed after "
            f"{attempt + 1} attempts: {type(exc).__name__}: {exc}",
            http_status=504 if timeout else 502,
            field="url",
            hint="is the endpoint up? raise timeout= or retries= if it is slow",
        ) from exc

    def _result(self, request: dict[str, Any], response: Any) -> Any:
        status = response.status_code
        if status >= 400:
            raise RemoteCallError(
                f"step {self.name!r}: {request['method']} {request['url']} answered {status}: "
                f"{response.text[:300]}",
                http_status=status if status < 500 else 502,
                field="url",
            )
        ctype = response.headers.get("content-type", "")
        if self.return_json and ("json" in ctype or not ctype):
            return response.json() if response.content else None
        return response.text if ctype.startswith("text/") else response.content


class BatchHttpRequests(RemoteStep):
    """The body is a list: each item is sent as its own request (concurrently); the answer is
    the list of results in the same order. Any failing item fails the step."""

    def do_event(self, event: Any) -> Any:
        requests = [self._request(event, item) for item in self._items(event)]
        if not requests:
            event.body = []
            return event
        self._sync_client()
        with ThreadPoolExecutor(min(self.max_in_flight, len(requests))) as pool:
            event.body = list(pool.map(self._call, requests))
        return event

    async def async_do_event(self, event: Any) -> Any:
        requests = [self._request(event, item) for item in self._items(event)]
        event.body = list(await asyncio.gather(*(self._acall(r) for r in requests)))
        return event

    def _items(self, event: Any) -> list[Any]:
        if not isinstance(event.body, list):
            raise InvalidArgumentError(
                f"step {self.name!r}: BatchHttpRequests needs a list body, got "
                f"{type(event.body).__name__}",
                field="body",
                hint="send a JSON array; each item becomes one request",
            )
        return list(event.body)
