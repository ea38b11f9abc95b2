"""Engines that walk a compiled graph for one event.

The sync engine runs the full DAG in topological order without threads: a branch point hands
each child its own copy of the event (the last child gets the original), a step after several
branches runs once per event that reaches it (MLRun's semantics; ``Merge`` joins branches
explicitly), ``None`` from a step stops its branch, and a failing step goes to its error
handler (which gets the failed step's input with ``error`` and ``origin_state``).
The async engine does the same on asyncio, awaiting coroutine steps, with any number of
events in flight (one task per event) and the branches of one event running at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fnrun.graph.event import Event
from fnrun.graph.nodes import CompiledGraph, Node


class StepFailed(Exception):
    """A step raised and had no error handler; carries the step name for the response."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"step {step!r} failed: {type(cause).__name__}: {cause}")
        self.step = step
        self.cause = cause


class StepExpired(StepFailed):
    """A step ran past its deadline (graph.deadline): no error handler runs after it."""


class Streamed(BaseException):
    """A step answered a generator: the walk stops here and the server streams, running the
    steps after ``step`` once per chunk (:mod:`fnrun.graph.streaming`)."""

    def __init__(self, step: str, event: Event, chunks: Any) -> None:
        super().__init__(step)
        self.step, self.event, self.chunks = step, event, chunks


def run_sync(graph: CompiledGraph, event: Event, start: int = -1) -> Any:
    """The response event (or None when the answering branch was stopped). ``start``:
    continue after that node, whose output is ``event`` (a streamed chunk)."""
    chain = graph.chain
    if chain is not None and start < 0:
        step = 0
        try:
            for step, run in enumerate(chain):  # noqa: B007 - step names the failing node
                event = run(event)
                if event is None:
                    return None
        except Exception as exc:
            raise StepFailed(graph.nodes[step].name, exc) from exc
        return event
    walk = _Walk(graph, event, start)
    for i, node in enumerate(graph.nodes):
        for inp in walk.take(i):
            try:
                out = node.run(inp)
            except Exception as exc:
                walk.handled(_on_error(graph, node, inp, exc, walk))
                continue
            walk.emit(i, out)
    return walk.answer()


class _Walk:
    """One event's way through the graph: the events waiting at each node (a node runs once
    per event that reaches it: a step after two branches runs twice, as in MLRun; a ``Merge``
    step joins them), and the answer (the responding node's first output)."""

    __slots__ = ("_answer", "_handled", "graph", "pending")

    def __init__(self, graph: CompiledGraph, event: Event, start: int = -1) -> None:
        self.graph = graph
        self.pending: list[list[Event] | None] = [None] * len(graph.nodes)
        self._answer: Any = None
        self._handled: Any = None
        if start >= 0:  # continue after node ``start``, whose output is ``event``
            self.emit(start, event)
            return
        pending = self.pending
        for i, copy in graph.roots:
            pending[i] = [event.copy() if copy else event]

    def take(self, i: int) -> list[Event]:
        waiting = self.pending[i]
        if waiting is None:
            return []
        self.pending[i] = None
        return waiting

    def emit(self, i: int, out: Any) -> None:
        """Node ``i`` answered ``out`` (None stops the branch): pass it to its children."""
        if out is None:
            return
        graph = self.graph
        if i == graph.response and self._answer is None:
            self._answer = out
        pending = self.pending
        edges = graph.edges[i]
        if graph.outlet_nodes and i in graph.outlet_nodes:
            edges = _outlets(graph, edges, out)
        for child, copy in edges:
            waiting = pending[child]
            if waiting is None:
                pending[child] = [out.copy() if copy else out]
            else:
                waiting.append(out.copy() if copy else out)

    def handled(self, out: Any) -> None:
        if self._handled is None:
            self._handled = out

    def answer(self) -> Any:
        return self._answer if self._answer is not None else self._handled


def _outlets(graph: CompiledGraph, edges: list[tuple[int, bool]], out: Any) -> Any:
    """The edges to the children ``out.outlets`` names (all when it names none)."""
    names = out.__dict__.pop("outlets", None) if hasattr(out, "__dict__") else None
    if names is None:
        return edges
    chosen = [(c, copy) for c, copy in edges if graph.nodes[c].name in names]
    return [(c, False) for c, _ in chosen] if len(chosen) == 1 else chosen


def _on_error(
    graph: CompiledGraph, node: Node, inp: Event, exc: Exception, walk: _Walk | None
) -> Any:
    if node.on_error < 0:
        raise StepFailed(node.name, exc) from exc
    handler = graph.nodes[node.on_error]
    _mark_failed(inp, node, exc)
    try:
        result = handler.run(inp)
    except Exception as inner:
        raise StepFailed(handler.name, inner) from inner
    if walk is not None:
        walk.emit(node.on_error, result)
    return result


def _mark_failed(inp: Event, node: Node, exc: Exception) -> None:
    inp.error = f"{type(exc).__name__}: {exc}"
    inp.origin_state = node.name


async def run_async(
    graph: CompiledGraph, event: Event, start: int = -1, only: set[int] | None = None
) -> Any:
    """Like :func:`run_sync`, awaiting coroutine steps, with the branches of one event running
    at once (as storey's): a step's output goes to each child as it is ready, so a slow branch
    never holds up another. ``start``: continue after that node, whose output is ``event`` (a
    storey step emitting later); ``only`` is implied (its descendants are what follow it)."""
    line = graph.async_chain
    if line is not None and start < 0:
        step = 0
        try:
            for step, (run, is_async) in enumerate(line):  # noqa: B007 - names the failing node
                out = run(event)
                event = await out if is_async else out
                if event is None:
                    return None
        except Exception as exc:
            raise StepFailed(graph.nodes[step].name, exc) from exc
        return event
    flow = _Flow(graph)
    if start >= 0:
        await flow.emit(start, event)
    else:
        await flow.spread([(i, event.copy() if copy else event) for i, copy in graph.roots])
    return flow.answer()


class _Flow:
    """One event's way through the graph on the async engine: each node runs once per input
    that reaches it, as it arrives; fan-out runs the children concurrently (a failure in one
    cancels the others and fails the event)."""

    __slots__ = ("_answer", "_handled", "graph")

    def __init__(self, graph: CompiledGraph) -> None:
        self.graph = graph
        self._answer: Any = None
        self._handled: Any = None

    async def spread(self, targets: list[tuple[int, Event]]) -> None:
        if len(targets) == 1:
            await self.visit(*targets[0])
            return
        try:
            async with asyncio.TaskGroup() as group:
                for i, inp in targets:
                    group.create_task(self.visit(i, inp))
        except BaseExceptionGroup as failed:  # the first failure, as the sync engine reports it
            raise _first(failed) from None

    async def visit(self, i: int, inp: Event) -> None:
        graph = self.graph
        node = graph.nodes[i]
        try:
            out = await self.step(node, inp)
        except StepExpired:
            raise  # a deadline: no error handler runs after it
        except Exception as exc:
            handled = await _on_error_async(graph, node, inp, exc, None)
            if self._handled is None:
                self._handled = handled
            if handled is not None:
                await self.emit(node.on_error, handled)
            return
        await self.emit(i, out)

    async def step(self, node: Node, inp: Event) -> Any:
        """Run one node on one input (the deadline walk bounds it)."""
        result = node.run(inp)
        return await result if node.is_async else result

    async def emit(self, i: int, out: Any) -> None:
        if out is None:
            return
        graph = self.graph
        if i == graph.response and self._answer is None:
            self._answer = out
        edges = graph.edges[i]
        if graph.outlet_nodes and i in graph.outlet_nodes:
            edges = _outlets(graph, edges, out)
        if edges:
            await self.spread([(child, out.copy() if copy else out) for child, copy in edges])

    def answer(self) -> Any:
        return self._answer if self._answer is not None else self._handled


def _first(group: BaseExceptionGroup) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def _on_error_async(
    graph: CompiledGraph, node: Node, inp: Event, exc: Exception, walk: _Walk | None
) -> Any:
    """The error handler's answer (a coroutine handler awaited); with ``walk``, also passed on
    to the handler's children (the caller passes it on otherwise)."""
    handler = graph.nodes[node.on_error] if node.on_error >= 0 else None
    if handler is None or not handler.is_async:
        return _on_error(graph, node, inp, exc, walk)
    _mark_failed(inp, node, exc)
    try:
        result = await handler.run(inp)
    except Exception as inner:
        raise StepFailed(handler.name, inner) from inner
    if walk is not None:
        walk.emit(node.on_error, result)
    return result
