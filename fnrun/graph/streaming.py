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

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

from fnrun.graph.deadline import DeadlineExceeded
from fnrun.graph.engines import StepFailed, Streamed, run_async, run_sync
from fnrun.graph.event import Event, get_path
from fnrun.graph.nodes import CompiledGraph, Runner


class StreamFailed(Exception):
    """A streamed answer failed midway; ``response`` is the error answer."""

    def __init__(self, response: Any) -> None:
        super().__init__(getattr(response, "body", response))
        self.response = response


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


def expired(step: str) -> StepFailed:
    """The failure of a stream whose request ran out of time."""
    return StepFailed(
        step,
        DeadlineExceeded(
            f"step {step!r} was still streaming at the request's deadline",
            field="timeout",
            hint="raise the timeout (graph, step or x-fnrun-timeout) or stream fewer chunks",
        ),
    )


def _left(deadline: float | None, step: str) -> float | None:
    """Seconds left before ``deadline`` (None: no deadline); past it, the stream fails."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired(step)
    return left


def chunks_sync(
    graph: CompiledGraph,
    signal: Streamed,
    is_sync: bool,
    complete: Any,
    deadline: float | None = None,
) -> Iterator[Any]:
    """The answers of the steps after the generator step, chunk by chunk (``complete`` runs
    a coroutine to its end on the server's loop). Past ``deadline`` the stream fails with a
    504; an async generator is cancelled at it, a sync one is stopped before its next chunk.
    The generator is closed however the stream ends (a consumer that stops early too)."""
    start = _index(graph, signal.step)
    source = signal.chunks
    step = signal.step
    try:
        if inspect.isasyncgen(source):
            while True:
                left = _left(deadline, step)
                pending = source.__anext__()
                try:
                    chunk = complete(pending if left is None else asyncio.wait_for(pending, left))
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise expired(step) from None
                yield _continue(graph, signal, chunk, start, is_sync, complete)
        else:
            while True:
                _left(deadline, step)
                try:
                    chunk = next(source)
                except StopIteration:
                    return
                except Exception as exc:
                    raise StepFailed(step, exc) from exc
                _left(deadline, step)
                yield _continue(graph, signal, chunk, start, is_sync, complete)
    finally:
        _close(source, complete)


def _close(source: Any, complete: Any) -> None:
    if inspect.isasyncgen(source):
        with contextlib.suppress(Exception):
            complete(source.aclose())
    elif hasattr(source, "close"):
        with contextlib.suppress(Exception):
            source.close()


def _continue(
    graph: CompiledGraph, signal: Streamed, chunk: Any, start: int, is_sync: bool, complete: Any
) -> Any:
    event = _chunk_event(signal, chunk)
    if is_sync:
        return run_sync(graph, event, start)
    return complete(run_async(graph, event, start))


async def chunks_async(
    graph: CompiledGraph, signal: Streamed, deadline: float | None = None
) -> AsyncGenerator[Any, None]:
    """:func:`chunks_sync` on the running loop: an async generator is cancelled at the
    deadline, and closed when the consumer stops (a client that went away)."""
    start = _index(graph, signal.step)
    source = signal.chunks
    step = signal.step
    try:
        if inspect.isasyncgen(source):
            while True:
                left = _left(deadline, step)
                try:
                    chunk = await (anext(source) if left is None else asyncio.wait_for(
                        anext(source), left))  # fmt: skip
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise expired(step) from None
                yield await run_async(graph, _chunk_event(signal, chunk), start)
        else:
            for chunk in source:
                _left(deadline, step)
                yield await run_async(graph, _chunk_event(signal, chunk), start)
    except StepFailed:
        raise
    except Exception as exc:
        raise StepFailed(step, exc) from exc
    finally:
        if inspect.isasyncgen(source):
            with contextlib.suppress(Exception):
                await source.aclose()
        elif hasattr(source, "close"):
            source.close()
