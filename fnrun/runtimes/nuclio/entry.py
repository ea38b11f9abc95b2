"""The handler module of a fnrun function inside a Nuclio processor.

Nuclio calls ``init_context(context)`` once per worker and ``handler(context, event)`` per
event, with nuclio-sdk's own ``Context`` and ``Event``. The function document arrives in the
``FNRUN_FUNCTION_SPEC`` environment variable (JSON, set by :mod:`fnrun.runtimes.nuclio.config`);
its graph (or its handler, for a nuclio-kind function) is built once and serves every event,
wired to its streams as under ``fnrun serve`` (queue steps and the error stream write to
Kafka; the producer is flushed before the event is answered, so a Kafka trigger commits only
what was passed on).
"""

from __future__ import annotations

import json
import os
from typing import Any

import fnrun.tracing as tracing
from fnrun.graph.context import GraphContext
from fnrun.graph.server import GraphServer
from fnrun.model.graph import graph_from_dict
from fnrun.runtimes.functions.factory import function_from_dict
from fnrun.runtimes.functions.serving import graph_server_for, serving_part

SPEC_ENV = "FNRUN_FUNCTION_SPEC"
MLRUN_SPEC_ENV = "SERVING_SPEC_ENV"  # MLRun's: the serving spec (graph, parameters, load_mode)


def init_context(context: Any, namespace: dict[str, Any] | None = None) -> None:
    """Build the worker's server once: from fnrun's function document
    (``FNRUN_FUNCTION_SPEC``),
    else from MLRun's serving spec (``SERVING_SPEC_ENV``, as MLRun's own serving tests and
    processors set it), its classes found in ``namespace`` (the handler module's globals)."""
    from fnrun.stream.kafka import stream_wiring

    raw = os.environ.get(SPEC_ENV)
    if not raw and os.environ.get(MLRUN_SPEC_ENV):
        _init_from_mlrun_spec(context, json.loads(os.environ[MLRUN_SPEC_ENV]), namespace)
        return
    if not raw:
        raise RuntimeError(
            f"neither {SPEC_ENV} nor {MLRUN_SPEC_ENV} is set: deploy the function with fnrun"
        )
    fn = function_from_dict(json.loads(raw))
    # OTEL_* in the function's env: spans exported (the SDK flushes them at exit)
    tracing.configure_from_env(fn.metadata.name or "function")
    graph_context = GraphContext(
        parameters=getattr(fn.spec, "parameters", {}), nuclio_context=context
    )
    pusher, queue_push, error_sink = stream_wiring(fn)
    server = graph_server_for(
        fn,
        context=graph_context,
        current_function=serving_part(fn, os.environ.get("FNRUN_SERVE_PART", "")),
        queue_push=queue_push,
        error_sink=error_sink,
    )
    context.user_data.fnrun_server = server
    context.user_data.fnrun_pusher = pusher


def _init_from_mlrun_spec(
    context: Any, spec: dict[str, Any], namespace: dict[str, Any] | None
) -> None:
    """The server of MLRun's serving spec: ``{graph, parameters, load_mode, verbose, ...}``."""
    graph = graph_from_dict(spec.get("graph"))
    if graph is None:
        raise RuntimeError(f"{MLRUN_SPEC_ENV} has no graph")
    parameters = dict(spec.get("parameters") or {})
    if isinstance(context, GraphContext):  # MLRun's tests hand a GraphContext as the context
        graph_context = context
        graph_context.update_parameters(parameters)
    else:
        graph_context = GraphContext(nuclio_context=context, parameters=parameters)
    server = GraphServer(
        graph,
        namespaces=[namespace] if namespace else None,
        verbose=bool(spec.get("verbose")),
        load_mode=str(spec.get("load_mode") or ""),
        context=graph_context,
    )
    context.user_data.fnrun_server = server
    context.user_data.fnrun_pusher = None


def handler(context: Any, event: Any) -> Any:
    """Serve one Nuclio event; the answer is a nuclio-sdk Response."""
    result = context.user_data.fnrun_server.run(event)
    if context.user_data.fnrun_pusher is not None:
        context.user_data.fnrun_pusher.flush()  # cheap when nothing was pushed
    body = result.body
    if isinstance(body, dict | list):
        body = json.dumps(body, default=str)
    return context.Response(
        body=body,
        headers=dict(result.headers or {}),
        content_type=result.content_type or "application/json",
        status_code=result.status_code,
    )
