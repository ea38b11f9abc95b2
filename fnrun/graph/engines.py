"""Engines that walk a compiled graph for one event.

The sync engine runs the full DAG in topological order without threads: a branch point hands
each child its own copy of the event (the last child gets the original), a join step runs once
with ``{parent name: body}``, ``None`` from a step stops its branch, and a failing step goes to
its error handler (which gets the failed step's input with ``error`` and ``origin_state``).
The async engine does the same on asyncio, awaiting coroutine steps, with any number of
events in flight (one task per event).
"""

from __future__ import annotations

from typing import Any

from fnrun.graph.compile import CompiledGraph, Node
from fnrun.graph.event import Event


class StepFailed(Exception):
    """A step raised and had no error handler; carries the step name for the response."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"step {step!r} failed: {type(cause).__name__}: {cause}")
        self.step = step
        self.cause = cause


def run_sync(graph: CompiledGraph, event: Event) -> Any:
    """The response event (or None when the answering branch was stopped)."""
    chain = graph.chain
    if chain is not None:
        step = 0
        try:
            for step, run in enumerate(chain):  # noqa: B007 - step names the failing node
                event = run(event)
                if event is None:
                    return None
        except Exception as exc:
            raise StepFailed(graph.nodes[step].name, exc) from exc
        return event
    outputs: list[Any] = [None] * len(graph.nodes)
    handled: Any = None
    for i, node, inp in _schedule(graph, event, outputs):
        try:
            outputs[i] = node.run(inp)
        except Exception as exc:
            handled = _on_error(graph, node, inp, exc, outputs)
    return _response(graph, outputs, handled)


def _schedule(
    graph: CompiledGraph, event: Event, outputs: list[Any], only: set[int] | None = None
) -> Any:
    """(index, node, input) of each step that runs for this event, in topological order; the
    caller stores each output before the next item is asked for. ``only``: just these nodes
    (the steps after a storey step, continuing with its output)."""
    for i, node in enumerate(graph.nodes):
        if only is not None and i not in only:
            continue
        if node.scheduled:
            inp = _input(node, outputs, event)
            if inp is not None:
                yield i, node, inp


def _input(node: Node, outputs: list[Any], event: Event) -> Any:
    for alt in node.alt_parents:  # an error handler that continues here
        if outputs[alt] is not None:
            return outputs[alt]
    parents = node.parents
    if not parents:
        return None if node.alt_parents else (event.copy() if node.copy_input else event)
    if len(parents) == 1:
        out = outputs[parents[0]]
        return out.copy() if out is not None and node.copy_input else out
    ready = [p for p in parents if outputs[p] is not None]
    if not ready:
        return None
    joined = outputs[ready[0]].copy(deep_body=False)
    joined.body = {node.parent_names[p]: outputs[p].body for p in ready}
    return joined


def _on_error(
    graph: CompiledGraph, node: Node, inp: Event, exc: Exception, outputs: list[Any]
) -> Any:
    if node.on_error < 0:
        raise StepFailed(node.name, exc) from exc
    handler = graph.nodes[node.on_error]
    inp.error = f"{type(exc).__name__}: {exc}"
    inp.origin_state = node.name
    try:
        result = handler.run(inp)
    except Exception as inner:
        raise StepFailed(handler.name, inner) from inner
    outputs[node.on_error] = result
    return result


def _response(graph: CompiledGraph, outputs: list[Any], handled: Any) -> Any:
    if graph.response >= 0 and outputs[graph.response] is not None:
        return outputs[graph.response]
    return handled


async def run_async(
    graph: CompiledGraph, event: Event, start: int = -1, only: set[int] | None = None
) -> Any:
    """Like :func:`run_sync`, awaiting coroutine steps. ``start``: continue after that node
    (``only`` its descendants), whose output is ``event`` (a storey step emitting later)."""
    outputs: list[Any] = [None] * len(graph.nodes)
    handled: Any = None
    if start >= 0:
        outputs[start] = event
    for i, node, inp in _schedule(graph, event, outputs, only):
        try:
            result = node.run(inp)
            outputs[i] = await result if node.is_async else result
        except Exception as exc:
            handled = await _on_error_async(graph, node, inp, exc, outputs)
    return _response(graph, outputs, handled)


async def _on_error_async(
    graph: CompiledGraph, node: Node, inp: Event, exc: Exception, outputs: list[Any]
) -> Any:
    handler = graph.nodes[node.on_error] if node.on_error >= 0 else None
    if handler is None or not handler.is_async:
        return _on_error(graph, node, inp, exc, outputs)
    inp.error = f"{type(exc).__name__}: {exc}"
    inp.origin_state = node.name
    try:
        outputs[node.on_error] = await handler.run(inp)
    except Exception as inner:
        raise StepFailed(handler.name, inner) from inner
    return outputs[node.on_error]
