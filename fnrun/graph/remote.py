"""Steps that call other HTTP endpoints: ``RemoteStep`` (one request per event) and
``BatchHttpRequests`` (one request per item of a list body, sent concurrently).

Arguments as MLRun's: ``url`` (may be absent when ``url_expression`` builds it, or relative:
resolved when the graph is built), ``subpath`` (``"$path"`` appends the event's path),
``method``, ``headers``, ``url_expression`` and ``body_expression`` (safe expressions over the
request body named ``event``, plus ``endpoint`` in the URL one: ``"event['url']"``,
``"f'{endpoint}/{event[\"id\"]}'"``; never ``eval``: what the evaluator cannot run is refused
when the step is built), ``return_json`` (``True``: a JSON answer is parsed whatever its
content type, text that is not JSON passes as text; ``False``: the raw bytes, unless the
answer says JSON), ``input_path``/``result_path``, ``retries`` (6) and ``backoff_factor``
(1 s). ``None`` for any of them (as MLRun's code passes) means its default.

Each request carries the event id and path under our names (``x-request-id``,
``x-fnrun-event-path``) and MLRun's (``MLRUN-EVENT-ID``, ``MLRUN-EVENT-PATH``); the HTTP
front-end reads either. Connection errors, timeouts and 5xx answers are retried ``retries``
times with exponential back-off (``backoff_factor * 2**attempt`` seconds, at most 120 s); a 4xx
answer is not retried and is passed on with its status. When the retries run out the step
fails with 502 (504 for a timeout), naming the URL and the last error. The sync engine uses a
pooled ``httpx.Client``; the async engine an ``httpx.AsyncClient`` with at most
``max_in_flight`` requests at a time.

``fn.add_model(key, model_url=...)`` routes a model to a remote model server with a
``RemoteStep`` that appends the operation (``/infer``, ``/explain``...) to ``model_url``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import fnrun.tracing as tracing
from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.extras import require
from fnrun.graph.deadline import HEADER, DeadlineExceeded, time_left
from fnrun.model.step_objects import StepToDict


class RemoteCallError(FnrunError):
    """The remote endpoint failed; ``http_status`` is what the step answers."""

    def __init__(self, message: str, http_status: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.http_status = http_status


def _httpx() -> Any:
    return require("httpx", "http", "remote steps", field="class_name")


# MLRun's header names (mlrun.serving.utils.event_id_key / event_path_key)
MLRUN_EVENT_ID = "MLRUN-EVENT-ID"
MLRUN_EVENT_PATH = "MLRUN-EVENT-PATH"
MAX_BACKOFF = 120.0


class RemoteStep(StepToDict):
    step_class_name = "mlrun.serving.remote.RemoteStep"
    step_args_always = ("return_json", "retries")

    def __init__(
        self,
        url: str | None = "",
        subpath: str | None = "",
        method: str | None = "",
        headers: dict[str, str] | None = None,
        url_expression: str | None = "",
        body_expression: str | None = "",
        return_json: bool | None = True,
        input_path: str | None = "",
        result_path: str | None = "",
        timeout: float | None = 30.0,
        retries: int | None = 6,
        backoff_factor: float | None = 1.0,
        max_in_flight: int | None = 16,
        operation_path: bool = False,
        context: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        # MLRun passes None for any of these ("not given"): the defaults then
        url, subpath, method = url or "", subpath or "", method or ""
        url_expression, body_expression = url_expression or "", body_expression or ""
        timeout = 30.0 if timeout is None else timeout
        retries = 6 if retries is None else retries
        backoff_factor = 1.0 if backoff_factor is None else backoff_factor
        max_in_flight = 16 if max_in_flight is None else max_in_flight
        return_json = True if return_json is None else return_json
        if retries < 0 or timeout <= 0 or max_in_flight < 1 or backoff_factor < 0:
            raise InvalidArgumentError(
                f"step {name!r}: needs retries >= 0, timeout > 0, backoff_factor >= 0, "
                "max_in_flight >= 1",
                field="retries",
            )
        self.context = context
        self.name = name or "remote"
        self.url = url
        self.subpath = subpath
        self.method = method.upper()
        self.headers = dict(headers or {})
        self.return_json = return_json
        self.input_path = input_path or ""
        self.result_path = result_path or ""
        self.timeout = timeout
        self.retries = retries
        self.backoff_factor = backoff_factor
        self.max_in_flight = max_in_flight
        self.operation_path = operation_path  # a remote model: append the event's operation
        self._url_of = _expression(url_expression, self.name, "url_expression", "endpoint")
        self._body_of = _expression(body_expression, self.name, "body_expression")
        self._endpoint = ""
        self._append_path = subpath == "$path"
        self._client: Any = None
        self._aclient: Any = None
        self._loop: Any = None
        self._limit: asyncio.Semaphore | None = None
        if url.startswith(("http://", "https://")):
            self._endpoint = self._resolve(url)

    def post_init(self, mode: str = "sync") -> None:
        """Resolve a relative (or missing) url when the graph is built: the context's
        ``get_remote_endpoint`` may know it; else it is a clear error."""
        if not self._endpoint and (self.url or self._url_of is None):
            self._endpoint = self._resolve(self.url)

    def _resolve(self, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            resolver = getattr(self.context, "get_remote_endpoint", None)
            found = resolver(url) if callable(resolver) and url else ""
            if not found:
                raise InvalidArgumentError(
                    f"step {self.name!r}: url {url!r} is not an http(s) URL",
                    field="url",
                    hint="e.g. url='http://localhost:8080/v2/models/m', or set url_expression=",
                )
            url = found
        url = url.rstrip("/")
        if self.subpath and not self._append_path:
            url = f"{url}/{self.subpath.lstrip('/')}"
        return url

    # -- the step ------------------------------------------------------------------------------
    def do_event(self, event: Any) -> Any:
        whole = event.body
        result = self._call(self._request(event, self._input(whole)))
        event.body = self._output(whole, result)
        return event

    async def async_do_event(self, event: Any) -> Any:
        whole = event.body
        result = await self._acall(self._request(event, self._input(whole)))
        event.body = self._output(whole, result)
        return event

    def _input(self, body: Any) -> Any:
        if not self.input_path:
            return body
        from fnrun.graph.event import get_path

        return get_path(body, self.input_path)

    def _output(self, whole: Any, result: Any) -> Any:
        if not self.result_path:
            return result
        from fnrun.graph.event import set_path

        return set_path(whole, self.result_path, result)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- requests ------------------------------------------------------------------------------
    def _request(self, event: Any, body: Any) -> dict[str, Any]:
        url = self._endpoint
        if self._url_of is not None:
            url = str(self._url_of({"event": body, "endpoint": self._endpoint}))
            if not url.startswith(("http://", "https://")):
                raise InvalidArgumentError(
                    f"step {self.name!r}: url_expression gave {url[:200]!r}, not an http(s) URL",
                    field="url_expression",
                )
        elif self._append_path and (event.path or "/") != "/":
            url = f"{url}/{str(event.path).lstrip('/')}"
        if self.operation_path:
            from fnrun.graph.v2_serving import operation_of

            operation = operation_of(event) or ""
            url = f"{url}/{operation}" if operation else url
        event_id, path = str(event.id), str(event.path or "/")
        headers = {
            **self.headers,
            "x-request-id": event_id,
            "x-fnrun-event-path": path,
            MLRUN_EVENT_ID: event_id,
            MLRUN_EVENT_PATH: path,
        }
        tracing.inject(headers)  # traceparent: the next server continues this step's trace
        method = self.method or (event.method if event.method not in (None, "") else "")
        if method == "GET":
            body = None
        elif self._body_of is not None and body is not None:
            body = self._body_of({"event": body})
        content: bytes | None = None
        if isinstance(body, bytes | bytearray):
            content = bytes(body)
        elif isinstance(body, str):
            content = body.encode()
        elif body is not None:
            content = json.dumps(body, default=str).encode()
            headers.setdefault("content-type", "application/json")
        method = method or ("POST" if content is not None else "GET")
        return {"method": method, "url": url, "headers": headers, "content": content}

    def _bounded(self, request: dict[str, Any]) -> dict[str, Any]:
        """``request`` within the deadline: the time left as its HTTP timeout and in the
        ``x-fnrun-timeout`` header (the next server keeps the same budget)."""
        left = time_left()
        if left is None:
            return request
        if left <= 0:
            raise DeadlineExceeded(
                f"step {self.name!r}: no time left to call {request['url']}",
                field="timeout",
            )
        request["headers"][HEADER] = f"{left:.3f}"
        return {**request, "timeout": min(self.timeout, left)}

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
                response = client.request(**self._bounded(request))
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
                    response = await client.request(**self._bounded(request))
            except httpx.TransportError as exc:
                self._give_up_or_wait(request, attempt, exc)
                await asyncio.sleep(self._delay(attempt))
                continue
            if response.status_code < 500 or attempt == self.retries:
                return self._result(request, response)
            await asyncio.sleep(self._delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int) -> float:
        return min(float(self.backoff_factor * 2**attempt), MAX_BACKOFF)

    def _give_up_or_wait(self, request: dict[str, Any], attempt: int, exc: Exception) -> None:
        if attempt < self.retries:
            return
        timeout = "Timeout" in type(exc).__name__
        detail = str(exc) or ("timed out" if timeout else "no detail")  # async ones say nothing
        if timeout and "timed out" not in detail:
            detail = f"timed out after {self.timeout:g} s ({detail})"
        raise RemoteCallError(
            f"step {self.name!r}: {request['method']} {request['url']} failed after "
            f"{attempt + 1} attempts: {type(exc).__name__}: {detail}",
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
        ctype = response.headers.get("content-type", "").lower()
        if (self.return_json and ("json" in ctype or not ctype)) or "json" in ctype:
            return response.json() if response.content else None
        if not self.return_json:
            return response.content  # the raw bytes, as MLRun's return_json=False
        if ctype.startswith("text/"):  # MLRun reads any answer as JSON when return_json
            try:
                return json.loads(response.text) if response.content else None
            except ValueError:
                return response.text  # (where MLRun's step fails, ours passes the text on)
        return response.content


class BatchHttpRequests(RemoteStep):
    """The body (or its ``input_path``) is a list: each item is sent as its own request
    (concurrently; ``url_expression``/``body_expression`` apply per item); the answer is the
    list of results in the same order. Any failing item fails the step."""

    step_class_name = "mlrun.serving.remote.BatchHttpRequests"

    def do_event(self, event: Any) -> Any:
        whole = event.body
        requests = [self._request(event, item) for item in self._items(self._input(whole))]
        results: list[Any] = []
        if requests:
            self._sync_client()
            with ThreadPoolExecutor(min(self.max_in_flight, len(requests))) as pool:
                # each call in a copy of this context: the request's deadline goes with it
                calls = [pool.submit(contextvars.copy_context().run, self._call, r)
                         for r in requests]  # fmt: skip
                results = [call.result() for call in calls]
        event.body = self._output(whole, results)
        return event

    async def async_do_event(self, event: Any) -> Any:
        whole = event.body
        requests = [self._request(event, item) for item in self._items(self._input(whole))]
        results = list(await asyncio.gather(*(self._acall(r) for r in requests)))
        event.body = self._output(whole, results)
        return event

    def _items(self, body: Any) -> list[Any]:
        if not isinstance(body, list):
            raise InvalidArgumentError(
                f"step {self.name!r}: BatchHttpRequests needs a list body, got "
                f"{type(body).__name__}",
                field="body",
                hint="send a JSON array (or set input_path=); each item becomes one request",
            )
        return list(body)


def _expression(
    text: str, step: str | None, field: str, *extra: str
) -> Callable[[dict[str, Any]], Any] | None:
    """A safe expression over ``event`` (and ``extra`` names), parsed now: one the evaluator
    cannot run is refused when the step is built, never ignored."""
    if not text:
        return None
    from fnrun.execution.safe_expr import evaluate, parse

    tree = parse(text, field=f"graph.{step}.{field}", data=True, names=frozenset({"event", *extra}))
    return lambda names: evaluate(tree, names)
