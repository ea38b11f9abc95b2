"""GraphServer: the one entry that serves every trigger (mock, HTTP, Kafka, Nuclio handler).

``run(event)`` decodes the body, walks the compiled graph and answers: the responding step's
body, or a ``Response``. A failing step never yields a silent 200: the answer is an error
response naming the step (``verbose`` adds the traceback) and the error goes to the error
stream.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from fnrun.errors import FnrunError, InvalidArgumentError, NotFoundError
from fnrun.graph.admission import Door, Gate, Overloaded, check_bound
from fnrun.graph.compile import compile_graph
from fnrun.graph.context import GraphContext, Response
from fnrun.graph.deadline import (
    NO_DEADLINE,
    check_timeout,
    requested,
    run_async_timed,
    run_sync_timed,
)
from fnrun.graph.engines import StepFailed, Streamed, run_async, run_sync
from fnrun.graph.event import Event, as_event
from fnrun.graph.jsonbody import MAX_DEPTH, decode_body
from fnrun.graph.nodes import CompiledGraph, Env
from fnrun.graph.spans import GraphSpans
from fnrun.graph.storey_step import StoreyStep
from fnrun.graph.stream_entries import StreamEntries
from fnrun.graph.streaming import chunks_async, chunks_sync
from fnrun.graph.tracking import Tracking
from fnrun.model.graph import FlowStep, RouterStep
from fnrun.model.serialize import to_yaml

ErrorSink = Callable[[dict[str, Any]], None]


class GraphServer(StreamEntries):
    """Serves one graph. Build once (``init``), then ``run(event)`` per request."""

    log_failures = True  # a failed request is logged (the mock hands it to its caller instead)

    def __init__(
        self,
        graph: FlowStep | RouterStep,
        namespaces: list[Mapping[str, Any]] | None = None,
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        engine: str = "",
        current_function: str = "*",
        verbose: bool = False,
        error_sink: ErrorSink | None = None,
        queue_push: Any = None,
        context: GraphContext | None = None,
        observe_step: Callable[[str, float], None] | None = None,
        load_mode: str = "",
        project: str = "",
        timeout: float | None = None,
        max_in_flight: int = 0,
        function_name: str = "",
    ) -> None:
        if graph is None:
            raise InvalidArgumentError(
                "the function has no graph",
                field="spec.graph",
                hint="call fn.set_topology('flow') or ('router') first",
            )
        self.graph = graph
        self.load_mode = load_mode or "sync"
        # No engine named: MLRun's default (async semantics: coroutine and storey steps work),
        # walked by the sync engine when no step is async (the answers are the same).
        requested = engine or graph.engine or "auto"
        self.engine = "sync" if requested == "sync" else "async"
        self.verbose = verbose
        self.max_depth = MAX_DEPTH  # JSON nesting bound for bodies this server decodes
        self.context = context or GraphContext(parameters=parameters, secrets=secrets)
        self.context.server = self
        self.context.project = project or self.context.project
        self.context.verbose = verbose
        self.error_sink = error_sink
        self.context.stream_push = queue_push
        self.context.function_name = function_name or self.context.function_name
        self.tracking = Tracking.from_context(self.context)
        self.context.tracking = self.tracking
        self.spans = GraphSpans.for_server(self.context.function_name or "")
        env = Env(
            self.context,
            list(namespaces or []),
            queue_push,
            current_function,
            observe=observe_step,
            engine=self.engine,
            load_mode=load_mode or "sync",
            tap=self.tracking.tap if self.tracking is not None and self.tracking.steps else None,
            spans=self.spans,
        )
        self.compiled: CompiledGraph = compile_graph(graph, env)
        if requested == "auto" and not self.compiled.has_async:
            self.engine = "sync"
        if self.engine == "sync" and self.compiled.has_async:
            names = [n.name for n in self.compiled.nodes if n.is_async]
            raise InvalidArgumentError(
                f"steps {names} are async and the engine is sync",
                field="graph.engine",
                hint="use engine='async'",
            )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._helper: Any = None  # a thread for the loop when called inside a running loop
        self._sync = self.engine == "sync"
        # deadlines: the graph's (or the function's) timeout, the smaller; steps' own
        bounds = [
            check_timeout(t, f)
            for t, f in ((graph.timeout, "graph.timeout"), (timeout, "spec.timeout"))
            if t is not None
        ]
        self.timeout: float | None = min(bounds) if bounds else None  # type: ignore[type-var]
        self._step_bounds = any(n.timeout is not None for n in self.compiled.nodes)
        self._untimed = self.timeout is None and not self._step_bounds
        limit = check_bound(max_in_flight, "max_in_flight")
        self.door = Door(limit) if limit else None
        self.gates = [o for o in self.compiled.objects if isinstance(o, Gate)]
        self._walkers: Any = None  # worker threads of sync walks under a deadline
        if self.spans is not None:  # traced: the entries open the request's span first (an
            self.run = self._run_traced  # type: ignore[method-assign]  # untraced server
            self.run_async = self._run_async_traced  # type: ignore[method-assign]  # keeps
            # the plain methods: no tracing cost, not even a test per request)

    # -- entry points ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The server's spec as MLRun's ``GraphServer.to_dict()`` holds it: version, the
        server's parameters, the graph, the engine's load mode (never its secrets)."""
        return {
            "version": "v2",
            "parameters": self.context.parameters,
            "graph": self.graph.to_dict(),
            "load_mode": self.load_mode,
            "verbose": self.verbose,
        }

    def to_yaml(self) -> str:
        return to_yaml(self.to_dict())

    def run(
        self,
        event: Any,
        context: Any = None,
        get_body: bool = False,
        as_data: bool = False,
        stream: bool = False,
    ) -> Any:
        """Serve one event (ours or a ``nuclio_sdk.Event``): a Response, or with ``get_body``
        the body; ``as_data`` answers a dict or list body as it is (the HTTP front-end encodes
        it) and anything else as a Response. A streaming graph answers the list of its chunks'
        answers, or with ``stream`` an iterator of them (bodies)."""
        ev = event if type(event) is Event else as_event(event)
        if stream:
            return self._stream(ev)
        door = self.door
        if door is not None:
            refused = self._admit(ev, get_body)
            if refused is not None:
                return refused
        try:
            body = ev.body
            if type(body) is not dict and type(body) is not list:
                ev.body = decode_body(body, ev.content_type, self.max_depth)
            # StreamEntries._walk inline (one call less per request)
            deadline = NO_DEADLINE if self._untimed and not ev.headers else self._deadline(ev)
            if deadline is not NO_DEADLINE:
                out = self._run_timed(ev, deadline)
            elif self._sync:
                out = run_sync(self.compiled, ev)
            else:
                out = self._complete(run_async(self.compiled, ev))
        except Streamed as signal:
            return self._collected(ev, signal, get_body, as_data)
        except Exception as exc:
            return self.failure(ev, exc, get_body)
        finally:
            if door is not None:
                door.leave()
        return _finish(out, get_body, as_data)

    def _run_traced(self, event: Any, *args: Any, **kwargs: Any) -> Any:
        """``run`` inside the request's span (graph.spans)."""
        assert self.spans is not None
        ev = event if type(event) is Event else as_event(event)
        return self.spans.request(ev, lambda: GraphServer.run(self, ev, *args, **kwargs))

    async def _run_async_traced(self, event: Any, *args: Any, **kwargs: Any) -> Any:
        """``run_async`` inside the request's span (graph.spans)."""
        assert self.spans is not None
        ev = as_event(event)
        plain = GraphServer.run_async
        return await self.spans.request_async(ev, lambda: plain(self, ev, *args, **kwargs))

    def _admit(self, ev: Event, get_body: bool) -> Any:
        """None when the server's door lets ``ev`` in, else the 503 to answer."""
        assert self.door is not None
        try:
            self.door.enter()
        except Overloaded as exc:
            return self.failure(ev, exc, get_body)
        return None

    # -- streaming -----------------------------------------------------------------------------
    def _chunks(self, signal: Streamed, deadline: float | None = None) -> Any:
        return chunks_sync(self.compiled, signal, self._sync, self._complete, deadline)

    def _collected(self, ev: Event, signal: Streamed, get_body: bool, as_data: bool) -> Any:
        """A streaming graph asked for one answer: the list of its chunks' answers."""
        try:
            bodies = [out.body for out in self._chunks(signal, ev.deadline) if out is not None]
        except Exception as exc:
            return self.failure(ev, exc, get_body)
        return _finish(Event(body=bodies), get_body, as_data)

    async def run_async(self, event: Any, get_body: bool = False, as_data: bool = False) -> Any:
        """Serve one event on the running loop (many may be in flight at once)."""
        ev = as_event(event)
        door = self.door
        if door is not None:
            refused = self._admit(ev, get_body)
            if refused is not None:
                return refused
        try:
            out = await self._walk_async(ev)
        except Streamed as signal:
            try:
                bodies = [
                    o.body
                    async for o in chunks_async(self.compiled, signal, ev.deadline)
                    if o is not None
                ]
            except Exception as exc:
                return self.failure(ev, exc, get_body)
            return _finish(Event(body=bodies), get_body, as_data)
        except Exception as exc:
            return self.failure(ev, exc, get_body)
        finally:
            if door is not None:
                door.leave()
        return _finish(out, get_body, as_data)

    def _deadline(self, ev: Event) -> Any:
        """The request's deadline (a time.monotonic() value, or None with only step bounds),
        set on the event; ``NO_DEADLINE`` when nothing bounds it (the fast path)."""
        asked = requested(ev.headers)
        limit = self.timeout
        if asked is not None:
            limit = asked if limit is None else min(limit, asked)
        if limit is None:
            return None if self._step_bounds else NO_DEADLINE
        deadline = time.monotonic() + limit
        ev.deadline = deadline
        return deadline

    def _run_timed(self, ev: Event, deadline: float | None) -> Any:
        if not self._sync:
            return self._complete(run_async_timed(self.compiled, ev, deadline))
        if self._walkers is None:
            from concurrent.futures import ThreadPoolExecutor

            self._walkers = ThreadPoolExecutor(32, thread_name_prefix="fnrun-graph-walk")
        return run_sync_timed(self.compiled, ev, deadline, self._walkers)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def _complete(self, coro: Any) -> Any:
        """Run ``coro`` to completion on the server's own loop. Called where a loop already
        runs (a notebook cell, an async test), the loop runs in a helper thread instead of
        failing with "this event loop is already running"."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._event_loop().run_until_complete(coro)
        if self._helper is None:
            from concurrent.futures import ThreadPoolExecutor

            self._helper = ThreadPoolExecutor(1, thread_name_prefix="fnrun-graph-loop")
        return self._helper.submit(self._event_loop().run_until_complete, coro).result()

    # -- errors --------------------------------------------------------------------------------
    def failure(self, event: Event, exc: Exception, get_body: bool = False) -> Response:
        """The error answer for ``exc`` (status, message, failing step), also sent to the error
        stream and the log; for failures outside a request too (a storey step's output)."""
        step = exc.step if isinstance(exc, StepFailed) else ""
        cause = exc.cause if isinstance(exc, StepFailed) else exc
        if isinstance(cause, Overloaded):
            return _refusal(step or getattr(cause, "step", ""), cause)
        status = status_of(cause)
        body: dict[str, Any] = {
            "error": type(cause).__name__,
            "message": cause.message if isinstance(cause, FnrunError) else str(cause),
            "step": step,
            "status": status,
        }
        if isinstance(cause, FnrunError):
            body.update({k: v for k, v in (("field", cause.field), ("hint", cause.hint)) if v})
        if self.verbose:
            body["traceback"] = "".join(traceback.format_exception(cause))
        if self.error_sink is not None:
            self.error_sink(
                {**body, "event_id": event.id, "path": event.path, "body": _safe(event.body)}
            )
        if self.log_failures:
            self.context.logger.error(f"request {event.id} failed in step {step!r}: {cause}")
        return Response(body=body, content_type="application/json", status_code=status)

    def load_samples(self, function: str) -> list[tuple[str, str, dict[str, str], float]]:
        """In-flight, waiting and refused counts (the server's and each gated step's) for
        ``/metrics``."""
        label = {"function": function}
        out: list[tuple[str, str, dict[str, str], float]] = []
        if self.door is not None:
            out.append(("fnrun_requests_in_flight", "gauge", label, self.door.in_flight))
            out.append(("fnrun_requests_refused", "counter", label, self.door.refused))
        for gate in self.gates:
            step = {**label, "step": gate.step}
            out.append(("fnrun_step_in_flight", "gauge", step, gate.running))
            out.append(("fnrun_step_queued", "gauge", step, gate.waiting))
            out.append(("fnrun_step_refused", "counter", step, gate.refused))
        tracking = self.tracking
        if tracking is not None:
            out.append(("fnrun_tracking_records", "counter", label, tracking.sink.written))
            out.append(("fnrun_tracking_records_lost", "counter", label, tracking.sink.lost))
        for obj in self.compiled.objects:  # steps that count their own (a TrafficSplit)
            samples = getattr(obj, "metric_samples", None)
            if callable(samples):
                out.extend(samples(function))
        return out

    async def drain_async(self) -> None:
        """Flush storey steps (batches, windows) so their output goes on through the graph."""
        for step in self._storey_steps():
            await step.drain()

    def drain(self) -> None:
        """``drain_async`` from synchronous code (the mock's ``wait_for_completion``)."""
        if self._storey_steps():
            self._complete(self.drain_async())

    def _storey_steps(self) -> list[StoreyStep]:
        return [obj for obj in self.compiled.objects if isinstance(obj, StoreyStep)]

    def close(self) -> None:
        """Flush storey steps, close the step objects that have ``close()`` (flushes tracking
        batches), then the loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.drain()  # not inside a loop: flush here (the HTTP server drains before)
        for obj in self.compiled.objects:
            closer = getattr(obj, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception as exc:
                    self.context.logger.warn(f"closing {type(obj).__name__}: {exc}")
        if self.tracking is not None:
            self.tracking.close()  # what the sink still holds is written
        if self._helper is not None:
            self._helper.shutdown(wait=True)
            self._helper = None
        if self._walkers is not None:
            self._walkers.shutdown(wait=False, cancel_futures=True)
            self._walkers = None
        if self._loop is not None:
            self._loop.close()
            self._loop = None


def _refusal(step: str, cause: Overloaded) -> Response:
    """A 503 that costs next to nothing: under overload, refusals are counted (``/metrics``),
    not logged one by one nor written to the error stream (that would add to the load)."""
    body = {
        "error": "Overloaded",
        "message": cause.message,
        "step": step,
        "status": 503,
        "field": cause.field,
        "hint": cause.hint,
    }
    headers = {"Retry-After": str(cause.retry_after)}
    return Response(headers, body, content_type="application/json", status_code=503)


def status_of(exc: BaseException) -> int:
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InvalidArgumentError):
        return 400
    return 500


def _finish(out: Any, get_body: bool, as_data: bool) -> Any:
    if (get_body or as_data) and out is not None:
        body = out.body
        if type(body) is dict or type(body) is list:
            return body
    return _answer(out, get_body)


def _answer(out: Any, get_body: bool) -> Any:
    body: Any = out.body if out is not None else None
    if hasattr(body, "status_code") and hasattr(body, "body"):
        return body  # a step's own Response: as MLRun, the caller gets it (status, headers)
    if get_body:
        return body
    if isinstance(body, str | bytes) or body is None:
        return Response(body=body, status_code=200)
    return Response(body=to_json(body), content_type="application/json", status_code=200)


def to_json(body: Any) -> str:
    """JSON text; values JSON does not know (dates, numpy scalars) become strings."""
    try:
        return json.dumps(body)
    except TypeError:
        return json.dumps(body, default=str)


def _safe(body: Any) -> Any:
    try:
        json.dumps(body)
        return body
    except (TypeError, ValueError):
        return repr(body)
