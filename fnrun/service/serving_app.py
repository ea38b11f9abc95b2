"""The HTTP front-end of a serving function: a plain ASGI app around ``GraphServer.run``.

Every path goes to the graph except ``GET /v2/health`` and ``GET /metrics``. A raw ASGI app
rather than FastAPI keeps the per-request cost near uvicorn's own (this is the hot path; the
run-DB service uses FastAPI). Any failure answers JSON (4xx for bad input, 5xx with the step
name for a failing step); the process never dies on a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from typing import Any
from urllib.parse import parse_qs

import fnrun.tracing as tracing
from fnrun.config import ServeLimits
from fnrun.errors import InvalidArgumentError
from fnrun.graph.event import HTTP_TRIGGER, Event
from fnrun.graph.server import GraphServer, to_json
from fnrun.graph.streaming import StreamFailed
from fnrun.runtimes.functions.importer import import_function
from fnrun.runtimes.functions.serving import graph_server_for, serving_part
from fnrun.service.metrics import Metrics, Sample
from fnrun.stream.kafka import SafeSink, stream_wiring, triggers_of

SERVE_ENV = "FNRUN_SERVE_FUNCTION"
MAX_IN_FLIGHT_ENV = "FNRUN_SERVE_MAX_IN_FLIGHT"  # fnrun serve --max-in-flight
Message = dict[str, Any]


class ServingApp:
    def __init__(
        self,
        server: GraphServer,
        name: str,
        triggers: list[Any] | None = None,
        on_shutdown: Any = None,
        metrics: Metrics | None = None,
        limits: ServeLimits | None = None,
    ) -> None:
        self.server = server
        self.limits = limits or ServeLimits.from_env()
        server.max_depth = self.limits.max_depth
        self.name = name
        self.metrics = metrics or Metrics(name)
        self._ids = itertools.count(1)
        self._async = server.engine == "async"
        self._streams = server.compiled.streams
        self.triggers = list(triggers or [])
        self._on_shutdown = on_shutdown

    def _health(self) -> tuple[int, bytes]:
        """200 while every trigger consumes; 503 naming the trigger when one is down."""
        triggers = [t.health() for t in self.triggers]
        ok = all(t["healthy"] for t in triggers)
        body: dict[str, Any] = {"status": "ok" if ok else "unhealthy", "function": self.name}
        if triggers:
            body["triggers"] = triggers
        return (200 if ok else 503), json.dumps(body).encode()

    def start_triggers(self) -> None:
        for trigger in self.triggers:
            trigger.start()

    def stop_triggers(self) -> None:
        """Stop consuming, then flush and close (from synchronous code)."""
        self.halt_triggers()
        self.shut_down()

    def halt_triggers(self) -> None:
        for trigger in self.triggers:
            trigger.stop()

    def shut_down(self) -> None:
        if self._on_shutdown is not None:
            self._on_shutdown()

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self)
            return
        if scope["type"] == "websocket":  # refused: the server speaks HTTP only (a 403)
            await receive()
            await send({"type": "websocket.close", "code": 1003})
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method == "GET" and path in ("/v2/health", "/metrics"):
            if path == "/metrics":
                await _send(send, 200, self.metrics.render().encode(), "text/plain; version=0.0.4")
            else:
                await _send(send, *self._health())
            return
        start = time.perf_counter()
        served = await self._serve(scope, receive, path, method)
        if isinstance(served, Event):  # a streaming graph: its chunks as they come
            status = await self._send_stream(send, receive, served)
            self.metrics.observe(status, time.perf_counter() - start, "")
            return
        status, body, ctype, step, extra = served
        self.metrics.observe(status, time.perf_counter() - start, step)
        await _send(send, status, body, ctype, extra)

    async def _send_stream(self, send: Any, receive: Any, event: Event) -> int:
        """Server-Sent Events when the request accepts them (``data: <json>`` per chunk, an
        ``event: error`` if a step fails midway), else NDJSON, chunked. A failure before the
        first chunk is an ordinary error answer. A client that goes away stops the stream: an
        async generator is cancelled where it waits, a sync one (walked in a worker thread,
        never on the loop) is closed after the chunk it is making."""
        sse = "text/event-stream" in (event.headers.get("accept") or "")
        chunks = (
            self.server.stream_async(event)
            if self._async
            else _in_thread(self.server.run(event, stream=True))
        )
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            try:
                first = await _next(chunks, gone, self._async)
            except StreamFailed as failed:
                status, body, error_type, _, extra = _encode(failed.response, event.id)
                await _send(send, status, body, error_type, extra)
                return status
            if first is _GONE:
                return CLIENT_GONE
            kind = b"text/event-stream" if sse else b"application/x-ndjson"
            headers = [(b"content-type", kind), (b"cache-control", b"no-cache"),
                       *_id_header(event.id)]  # fmt: skip
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            try:
                item = first
                while item is not _END:
                    line = _json(item)
                    data = b"data: " + line + b"\n\n" if sse else line + b"\n"
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                    item = await _next(chunks, gone, self._async)
                    if item is _GONE:
                        return CLIENT_GONE
            except StreamFailed as failed:
                error = _json(getattr(failed.response, "body", {}))
                data = b"event: error\ndata: " + error + b"\n\n" if sse else error + b"\n"
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return 200
        finally:
            gone.cancel()
            await chunks.aclose()  # the generator's own cleanup runs, here or after a client left

    async def _serve(
        self, scope: Message, receive: Any, path: str, method: str
    ) -> tuple[int, bytes, str, str, list[tuple[bytes, bytes]]] | Event:
        """(status, body, content type, failing step, response headers); the event itself
        when the graph streams (sent by :meth:`_send_stream`)."""
        # ASGI servers send header names lower-cased
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        # the caller's event id: ours or MLRun's header (a RemoteStep sends both)
        event_id = (
            headers.get("x-request-id")
            or headers.get("mlrun-event-id")
            or headers.get("mlrun_event_id")  # the underscore name older fnrun steps sent
            or next(self._ids)
        )
        ctype = headers.get("content-type")
        try:
            data = await self._body(receive, headers)
        except _ClientError as exc:
            return exc.status, _json(exc.body()), "application/json", "", _id_header(event_id)
        event = Event(
            body=data or None,
            content_type=ctype,
            headers=headers,
            method=method,
            path=path,
            id=event_id,
            trigger=HTTP_TRIGGER,
        )
        query = scope.get("query_string") or b""
        if query:
            event.fields["query"] = {
                k: v[0] if len(v) == 1 else v for k, v in parse_qs(query.decode("latin-1")).items()
            }
        if self._streams:
            return event
        try:
            result = (
                await self.server.run_async(event, as_data=True)
                if self._async
                else self.server.run(event, as_data=True)
            )
        except Exception as exc:  # a bug of ours must not take the server down
            return (
                500,
                _json({"error": type(exc).__name__, "message": str(exc), "status": 500}),
                "application/json",
                "",
                _id_header(event_id),
            )
        return _encode(result, event_id)

    async def _body(self, receive: Any, headers: dict[str, str]) -> bytes:
        limit = self.limits.max_body
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        first = await receive()  # the common case: the whole body is already here, no timer
        body = first.get("body", b"")
        if not first.get("more_body"):
            if len(body) > limit:
                raise _too_large(limit)
            return bytes(body)
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                return await _read_body(receive, limit, body)
        except TimeoutError:
            raise _ClientError(
                408, "RequestTimeout", f"the body was not received in {self.limits.body_timeout} s"
            ) from None


class _ClientError(Exception):
    """A request the front-end refuses before the graph sees it (413, 408)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def body(self) -> dict[str, Any]:
        hint = "FNRUN_SERVE_MAX_BODY" if self.status == 413 else "FNRUN_SERVE_BODY_TIMEOUT"
        return {
            "error": self.error,
            "message": self.message,
            "status": self.status,
            "hint": f"the limit is {hint}",
        }


def _too_large(limit: int) -> _ClientError:
    return _ClientError(413, "RequestTooLarge", f"request body larger than {limit} bytes")


_END: Any = object()


CLIENT_GONE = 499  # the client closed the connection before the answer ended (as nginx)
_GONE = object()


async def _disconnected(receive: Any) -> None:
    """Return when the client has gone (its request body was read already)."""
    while (await receive()).get("type") != "http.disconnect":
        pass


async def _next(chunks: Any, gone: asyncio.Future[None], cancel: bool) -> Any:
    """The next chunk, ``_END``, or ``_GONE`` when the client left first: a chunk still being
    made is cancelled (``cancel``: the async engine's) or let finish (a worker thread's)."""
    pending = asyncio.ensure_future(anext(chunks, _END))
    await asyncio.wait((pending, gone), return_when=asyncio.FIRST_COMPLETED)
    if pending.done():
        return pending.result()
    if cancel:
        pending.cancel()
    with contextlib.suppress(BaseException):
        await pending
    return _GONE


async def _in_thread(chunks: Any) -> Any:
    """A sync iterator of chunks (the sync engine's) as an async one, each chunk made in a
    worker thread so a slow generator never holds the loop; closed there too."""
    try:
        while True:
            item = await asyncio.to_thread(next, chunks, _END)
            if item is _END:
                return
            yield item
    finally:
        await asyncio.to_thread(chunks.close)


def _id_header(event_id: Any) -> list[tuple[bytes, bytes]]:
    return [(b"x-fnrun-event-id", str(event_id).encode())]


def _encode(result: Any, event_id: Any) -> tuple[int, bytes, str, str, list[tuple[bytes, bytes]]]:
    extra = _id_header(event_id)
    if type(result) is dict or type(result) is list:
        return 200, _json(result), "application/json", "", extra
    status = getattr(result, "status_code", 200)
    body = getattr(result, "body", result)
    ctype = getattr(result, "content_type", None) or ""
    step = body.get("step", "") if isinstance(body, dict) and status >= 400 else ""
    own = getattr(result, "headers", None)
    if own:  # a step's own Response headers, and Retry-After on a 503
        extra += [
            (str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
            for k, v in own.items()
            if str(k).lower() not in ("content-type", "content-length", "x-fnrun-event-id")
        ]
    if isinstance(body, bytes):
        return status, body, ctype or "application/octet-stream", step, extra
    if isinstance(body, str):
        return status, body.encode(), ctype or "text/plain; charset=utf-8", step, extra
    if body is None:
        return status, b"", ctype or "text/plain", step, extra
    return status, _json(body), "application/json", step, extra


def _json(body: Any) -> bytes:
    return to_json(body).encode()


async def _read_body(receive: Any, limit: int, first: bytes = b"") -> bytes:
    chunks, size = [first], len(first)
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(
    send: Any,
    status: int,
    body: bytes,
    ctype: str = "application/json",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", ctype.encode()),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any, app: ServingApp) -> None:
    """Stream triggers run with the server: started at startup, drained at shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            app.start_triggers()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            app.halt_triggers()
            await app.server.drain_async()  # storey steps flush before the streams close
            app.shut_down()
            await send({"type": "lifespan.shutdown.complete"})
            return


def build_app(fn: Any, verbose: bool = False, function: str = "") -> ServingApp:
    """The ASGI app of a serving (graph) or nuclio (``handler(context, event)``) function, with
    its Kafka triggers; queue steps and the error stream go to Kafka (``kafka://`` paths)."""
    from fnrun.stream.trigger import KafkaTrigger

    _check_streams(fn)
    # OTEL_* in the environment (OTEL_TRACES_EXPORTER, an OTLP endpoint): spans exported
    stop_tracing = tracing.configure_from_env(fn.metadata.name or "function")
    pusher, queue_push, error_sink = stream_wiring(fn)
    metrics = Metrics(fn.metadata.name or "function")
    limit = os.environ.get(MAX_IN_FLIGHT_ENV, "")
    server = graph_server_for(
        fn,
        max_in_flight=int(limit) if limit.isdigit() else getattr(fn.spec, "max_in_flight", 0) or 0,
        verbose=verbose,
        current_function=serving_part(fn, function),
        queue_push=queue_push,
        observe_step=metrics.observe_step,
        error_sink=error_sink,
    )
    triggers = []
    for name, trigger in triggers_of(getattr(fn.spec, "config", {}) or {}):
        attrs = trigger.get("attributes", {})
        triggers.append(
            KafkaTrigger(
                server,
                list(attrs.get("brokers", [])),
                list(attrs.get("topics", [])),
                attrs.get("consumerGroup") or f"{fn.metadata.name}-{name}",
                attrs.get("initialOffset", "earliest"),
                flush=pusher.flush,
            )
        )

    def shutdown() -> None:
        server.close()  # step objects first: they may still push (tracking batches)
        pusher.close()
        if stop_tracing is not None:
            stop_tracing()  # the spans still held are exported

    name = fn.metadata.name or "function"
    metrics.sources.append(lambda: _stream_samples(name, pusher, server.error_sink, triggers))
    metrics.sources.append(lambda: server.load_samples(name))
    return ServingApp(server, name, triggers, shutdown, metrics)


def _stream_samples(function: str, pusher: Any, sink: Any, triggers: list[Any]) -> list[Sample]:
    """Trigger, producer and error-stream counters for ``/metrics``."""
    label = {"function": function}
    samples = [s for trigger in triggers for s in trigger.metric_samples(function)]
    samples.append(("fnrun_stream_produce_failures", "counter", label, pusher.produce_failures))
    if isinstance(sink, SafeSink):
        samples.append(("fnrun_error_records_truncated", "counter", label, sink.failures))
        samples.append(("fnrun_error_records_lost", "counter", label, sink.lost))
    return samples


def _check_streams(fn: Any) -> None:
    """Streams a served function writes to must be Kafka topics (the mock keeps them in
    memory); fail at start rather than on every request."""

    tracking = (getattr(fn.spec, "parameters", None) or {}).get("log_stream", "")
    if tracking and str(tracking).startswith("memory://"):
        raise InvalidArgumentError(
            f"tracking stream {tracking!r} lives in one process: nobody could read it",
            field="spec.parameters.log_stream",
            hint="fn.set_tracking('kafka://host:port/topic') or a folder (file:///path) for a "
            "served function",
        )


def app_from_env() -> ServingApp:
    """uvicorn factory (``--workers``); the function document path is in FNRUN_SERVE_FUNCTION."""

    return build_app(
        import_function(os.environ[SERVE_ENV]),
        verbose=os.environ.get("FNRUN_SERVE_VERBOSE") == "1",
        function=os.environ.get("FNRUN_SERVE_PART", ""),
    )
