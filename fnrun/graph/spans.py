"""A served graph's OpenTelemetry spans: one per request (kind SERVER, the parent a
``traceparent`` header names, or the trace the caller is in) and one per step, its child
(named after the step; attributes ``fnrun.step.kind``, ``fnrun.model``,
``fnrun.model.version``, ``fnrun.status``; a failure recorded on the span). Routes of a router
and steps of a nested flow are children of their router's or flow's span.

Built only when a tracer provider is installed (:func:`fnrun.tracing.tracer`): without one a
server compiles no wrapper and its ``run`` is the plain method, so an untraced graph pays
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fnrun.tracing as tracing
from fnrun.graph.nodes import Runner
from fnrun.model.graph import BaseStep

_KEPT = ("is_async", "streams", "routes_outlets")  # runner flags the compiler reads


class GraphSpans:
    """The spans of one server's graph."""

    def __init__(self, tracer: Any, function: str) -> None:
        from opentelemetry.trace import SpanKind, get_current_span

        self.tracer, self.function = tracer, function
        self._server_kind = SpanKind.SERVER
        self._current = get_current_span

    def _recording(self) -> bool:
        """Whether the span the steps would be children of is sampled: a request the
        sampler left out (``OTEL_TRACES_SAMPLER``) costs its steps no spans of their own
        (theirs would be left out too; the request's context still travels on)."""
        return bool(self._current().get_span_context().trace_flags.sampled)  # ended too

    @classmethod
    def for_server(cls, function: str) -> GraphSpans | None:
        """The spans of a server built now, or None when no tracer provider is installed."""
        tracer = tracing.tracer()
        return None if tracer is None else cls(tracer, function)

    # -- the request ------------------------------------------------------------------------
    def request(self, event: Any, serve: Callable[[], Any]) -> Any:
        """``serve()`` (one request) inside the request's span; the answer's status on it."""
        with self._span(event) as span:
            try:
                answer = serve()
            except Exception as exc:
                tracing.record_error(span, exc)
                raise
            _answered(span, answer)
            return answer

    async def request_async(self, event: Any, serve: Callable[[], Any]) -> Any:
        """:meth:`request` for a coroutine ``serve()`` (the async entry)."""
        with self._span(event) as span:
            try:
                answer = await serve()
            except Exception as exc:
                tracing.record_error(span, exc)
                raise
            _answered(span, answer)
            return answer

    def _span(self, event: Any) -> Any:
        """The request's span (current while it is open): kind SERVER, its parent the
        ``traceparent`` header or the trace the caller is in."""
        attributes = tracing.attributes_of(
            (
                ("fnrun.function", self.function),
                ("fnrun.request_id", str(event.id) if event.id is not None else ""),
                ("http.request.method", event.method or ""),
                ("url.path", event.path or ""),
            )
        )
        return self.tracer.start_as_current_span(
            self.function or "serving",
            context=tracing.extract(event.headers),
            kind=self._server_kind,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )

    # -- the steps --------------------------------------------------------------------------
    def step(self, step: BaseStep, run: Runner, objects: list[Any]) -> Runner:
        """``run`` (the runner of ``step``) in a child span of the one current when it runs;
        ``objects``: what compiling the step built (a model server gives model and version)."""
        name = step.name or "router"
        attributes = tracing.attributes_of(
            (
                ("fnrun.step", name),
                ("fnrun.step.kind", getattr(step, "kind", "") or ""),
                ("fnrun.step.class", getattr(step, "class_name", "") or ""),
                ("fnrun.function", self.function),
                *_model_of(name, objects),
            )
        )
        start = self.tracer.start_as_current_span
        opts = {"record_exception": False, "set_status_on_exception": False}
        recording = self._recording  # a request the sampler dropped makes no step spans
        if getattr(run, "is_async", False):

            async def traced_async(event: Any) -> Any:
                if not recording():
                    return await run(event)
                with start(name, attributes=attributes, **opts) as span:
                    try:
                        out = await run(event)
                    except Exception as exc:
                        _failed(span, exc)
                        raise
                    span.set_attribute("fnrun.status", "ok")
                    return out

            traced: Runner = traced_async
        else:

            def traced_sync(event: Any) -> Any:
                if not recording():
                    return run(event)
                with start(name, attributes=attributes, **opts) as span:
                    try:
                        out = run(event)
                    except Exception as exc:
                        _failed(span, exc)
                        raise
                    span.set_attribute("fnrun.status", "ok")
                    return out

            traced = traced_sync
        for flag in _KEPT:
            if getattr(run, flag, False):
                setattr(traced, flag, True)
        return traced


def _model_of(name: str, objects: list[Any]) -> list[tuple[str, Any]]:
    """The model name and version of the model server a step built, if it built one."""
    names = (name, name.partition(":")[0])  # a route "m:v2" serves model "m" version "v2"
    for obj in reversed(objects):
        if getattr(obj, "name", None) in names and hasattr(obj, "model_path"):
            return [("fnrun.model", obj.name), ("fnrun.model.version", getattr(obj, "version", ""))]
    return []


def _failed(span: Any, exc: BaseException) -> None:
    span.set_attribute("fnrun.status", "error")
    tracing.record_error(span, exc)


def _answered(span: Any, answer: Any) -> None:
    """The answer's HTTP status on the request span; a 5xx marks the span an error (a 4xx is
    the client's, as OTel's HTTP server conventions say)."""
    status = getattr(answer, "status_code", None)
    if not isinstance(status, int):
        status = 200
    span.set_attribute("http.response.status_code", status)
    span.set_attribute("fnrun.status", "ok" if status < 400 else "error")
    if status >= 500:
        from opentelemetry.trace import Status, StatusCode

        body = getattr(answer, "body", None)
        message = body.get("message", "") if isinstance(body, dict) else ""
        span.set_status(Status(StatusCode.ERROR, str(message)[:500]))
