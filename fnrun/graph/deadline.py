"""Deadlines that stop work: a request's time budget, from the graph's ``timeout`` (or the
function's ``spec.timeout``), a step's own ``timeout`` and the request's ``x-fnrun-timeout``
header (seconds) — the smallest wins.

Past it the answer is 504 ``DeadlineExceeded`` naming the step that was running, and no
further step runs. On the async engine an async step is cancelled at its bound (its branch
siblings too); a sync step cannot be interrupted, so it sees the time it has
(``context.time_left()``, or ``event.deadline`` against ``time.monotonic()``) and the graph stops
after it. On the sync engine the walk runs in a worker thread while the caller waits only until
the bound, so the 504 is on time even while a step is still busy (its result is then dropped).
A request without any deadline takes none of these paths.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.graph.engines import StepExpired, _Flow, _on_error, _Walk
from fnrun.graph.event import Event
from fnrun.graph.nodes import CompiledGraph, Node

HEADER = "x-fnrun-timeout"
_POLL = 0.02  # how often a waiting caller looks at the running step's bound (s)

# the bound (a time.monotonic() value) of the step running in this task or thread
_bound: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "fnrun_deadline", default=None
)


NO_DEADLINE: Any = object()  # a request that nothing bounds (the servers' fast path)


class DeadlineExceeded(FnrunError):
    """The request's deadline (or the running step's ``timeout``) passed."""

    http_status = 504


def time_left() -> float | None:
    """Seconds left for the step running now (``None``: no deadline); never below 0."""
    bound = _bound.get()
    return None if bound is None else max(0.0, bound - time.monotonic())


def check_timeout(value: Any, field: str) -> float | None:
    """A timeout setting: ``None``, or a positive finite number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgumentError(
            f"timeout must be a number of seconds, got {value!r}", field=field
        )
    if value <= 0:
        raise InvalidArgumentError(f"timeout must be > 0, got {value!r}", field=field)
    return float(value)


def requested(headers: Any) -> float | None:
    """The ``x-fnrun-timeout`` header's seconds (a 400 naming it when it is not a number)."""
    if not headers:
        return None
    value = headers.get(HEADER)
    if value is None:
        value = headers.get("X-Fnrun-Timeout")
        if value is None:
            return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidArgumentError(
            f"header {HEADER}: {str(value)[:40]!r} is not a number of seconds > 0",
            field=f"headers.{HEADER}",
            hint="send the time budget in seconds, e.g. x-fnrun-timeout: 0.5",
        )
    return seconds


def _bound_of(node: Node, deadline: float | None, now: float) -> float | None:
    if node.timeout is None:
        return deadline
    own = now + node.timeout
    return own if deadline is None else min(deadline, own)


def _expired(node: Node, deadline: float | None, bound: float | None) -> StepExpired:
    """The 504 of a step past its bound, naming what set the bound: the step's own timeout
    only when it was tighter than the request's deadline (graph timeout, x-fnrun-timeout)."""
    own = node.timeout is not None and (deadline is None or bound is None or bound < deadline)
    what = f"the step's timeout of {node.timeout:g} s" if own else "the request's deadline"
    return StepExpired(
        node.name,
        DeadlineExceeded(
            f"step {node.name!r} ran past {what}",
            field=f"graph.{node.name}.timeout" if own else "timeout",
            hint="raise the timeout (graph, step or x-fnrun-timeout) or make the step faster",
        ),
    )


# -- the async engine ---------------------------------------------------------------------------
class _TimedFlow(_Flow):
    __slots__ = ("deadline",)

    def __init__(self, graph: CompiledGraph, deadline: float | None) -> None:
        super().__init__(graph)
        self.deadline = deadline

    async def step(self, node: Node, inp: Event) -> Any:
        now = time.monotonic()
        bound = _bound_of(node, self.deadline, now)
        if bound is not None and now >= bound:
            raise _expired(node, self.deadline, bound)
        token = _bound.set(bound)
        try:
            if not node.is_async:
                out = node.run(inp)
                if bound is not None and time.monotonic() > bound:
                    raise _expired(node, self.deadline, bound)
                return out
            limit = asyncio.timeout_at(_loop_time(bound)) if bound is not None else None
            if limit is None:
                return await node.run(inp)
            try:
                async with limit:
                    return await node.run(inp)
            except TimeoutError:
                if limit.expired():
                    raise _expired(node, self.deadline, bound) from None
                raise
        finally:
            _bound.reset(token)


def _loop_time(bound: float) -> float:
    """``bound`` (time.monotonic) on the running loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (bound - time.monotonic())


async def run_async_timed(graph: CompiledGraph, event: Event, deadline: float | None) -> Any:
    """:func:`~fnrun.graph.engines.run_async` with deadlines (every graph walked as a DAG)."""
    flow = _TimedFlow(graph, deadline)
    await flow.spread([(i, event.copy() if copy else event) for i, copy in graph.roots])
    return flow.answer()


# -- the sync engine ----------------------------------------------------------------------------
class _Progress:
    """What the worker thread is doing, for the caller waiting on it."""

    __slots__ = ("bound", "expired", "node")

    def __init__(self) -> None:
        self.node: Node | None = None
        self.bound: float | None = None
        self.expired = False


def _walk_timed(
    graph: CompiledGraph, event: Event, deadline: float | None, state: _Progress
) -> Any:
    walk = _Walk(graph, event)
    for i, node in enumerate(graph.nodes):
        for inp in walk.take(i):
            now = time.monotonic()
            bound = _bound_of(node, deadline, now)
            if state.expired or (bound is not None and now >= bound):
                raise _expired(node, deadline, bound)
            state.node, state.bound = node, bound
            _bound.set(bound)
            try:
                out = node.run(inp)
            except StepExpired:
                raise
            except Exception as exc:
                if state.expired:
                    raise _expired(node, deadline, bound) from exc
                walk.handled(_on_error(graph, node, inp, exc, walk))
                continue
            if state.expired:
                raise _expired(node, deadline, bound)
            walk.emit(i, out)
    return walk.answer()


def run_sync_timed(
    graph: CompiledGraph, event: Event, deadline: float | None, pool: Executor
) -> Any:
    """The sync walk in a worker of ``pool``; the caller answers 504 at the running step's
    bound (the worker stops before its next step)."""
    state = _Progress()
    context = contextvars.copy_context()
    future = pool.submit(context.run, _walk_timed, graph, event, deadline, state)
    while True:
        bound = state.bound if state.node is not None else deadline
        wait = _POLL if bound is None else min(_POLL, max(0.0, bound - time.monotonic()))
        try:
            return future.result(timeout=wait)
        except FutureTimeout:
            now = time.monotonic()
            bound = state.bound if state.node is not None else deadline  # it may have moved on
            if bound is not None and now >= bound:
                state.expired = True
                node = state.node or graph.nodes[0]
                raise _expired(node, deadline, bound) from None
