"""Streaming answers: a step whose handler (or ``do``) is a generator or an async generator
streams. Each chunk it yields goes on through the steps after it (each runs once per chunk) to
the responder, whose answers are the stream: an iterator in the mock
(``server.test(..., stream=True)``), Server-Sent Events or NDJSON over HTTP. A request that does
not ask for a stream gets the list of the chunks' answers.

The generator step raises :class:`~fnrun.graph.engines.Streamed` (a signal no error handler
catches) instead of answering; the server then drives the generator and continues the walk
from that step for every chunk, on the graph's engine.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from fnrun.graph.engines import StepFailed, Streamed, run_async, run_sync
from fnrun.graph.event import Event, get_path
from fnrun.graph.nodes import CompiledGraph, Runner


def streams(fn: Any) -> bool:
    """Whether calling ``fn`` gives a (sync or async) generator."""
    target = inspect.unwrap(fn) if callable(fn) else fn
    return inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target)


def stream_runner(target: Callable[..., Any], step: str, full: bool, input_path: str) -> Runner:
    """The runner of a generator step: it hands its generator to the server."""

    def run_stream(event: Event) -> Any:
        value = event if full else (get_path(event.body, input_path) if input_path else event.body)
        raise Streamed(step, event, target(value))

    run_stream.streams = True  # type: ignore[attr-defined]
    return run_stream


def _index(graph: CompiledGraph, step: str) -> int:
    for i, node in enumerate(graph.nodes):
        if node.name == step:
            return i
    raise StepFailed(step, LookupError(f"streaming step {step!r} is not in this graph"))


def _chunk_event(signal: Streamed, chunk: Any) -> Event:
    event = signal.event.copy(deep_body=False)
    event.body = chunk
    return event


def chunks_sync(
    graph: CompiledGraph, signal: Streamed, is_sync: bool, complete: Any
) -> Iterator[Any]:
    """The answers of the steps after the generator step, chunk by chunk (``complete`` runs
    a coroutine to its end on the server's loop)."""
    start = _index(graph, signal.step)
    source = signal.chunks
    if inspect.isasyncgen(source):
        while True:
            try:
                chunk = complete(source.__anext__())
            except StopAsyncIteration:
                return
            yield _continue(graph, signal, chunk, start, is_sync, complete)
    else:
        try:
            for chunk in source:
                yield _continue(graph, signal, chunk, start, is_sync, complete)
        except Exception as exc:
            raise StepFailed(signal.step, exc) from exc


def _continue(
    graph: CompiledGraph, signal: Streamed, chunk: Any, start: int, is_sync: bool, complete: Any
) -> Any:
    event = _chunk_event(signal, chunk)
    if is_sync:
        return run_sync(graph, event, start)
    return complete(run_async(graph, event, start))


async def chunks_async(graph: CompiledGraph, signal: Streamed) -> AsyncIterator[Any]:
    """:func:`chunks_sync` on the running loop."""
    start = _index(graph, signal.step)
    source = signal.chunks
    try:
        if inspect.isasyncgen(source):
            async for chunk in source:
                yield await run_async(graph, _chunk_event(signal, chunk), start)
        else:
            for chunk in source:
                yield await run_async(graph, _chunk_event(signal, chunk), start)
    except StepFailed:
        raise
    except Exception as exc:
        raise StepFailed(signal.step, exc) from exc
