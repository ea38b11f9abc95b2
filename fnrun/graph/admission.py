"""Backpressure: an overloaded step or server refuses early instead of queueing without bound.

A step with ``max_concurrency=N`` runs at most N events at once; up to ``max_queued=M`` more
(default N) wait their turn, and an event beyond that is refused with 503 ``Overloaded``
naming the step, with a ``Retry-After``, before the step does any work. A server with
``max_in_flight=N`` (``fnrun serve --max-in-flight``, ``fn.spec.max_in_flight``) refuses a
request beyond N in flight before any step runs. In-flight, waiting and refused counts are in
``/metrics``. On the async engine the waiting is on the event loop; on the sync engine it
bounds the threads that run the step at once (callers serving from several threads).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.graph.event import Event
from fnrun.graph.nodes import Runner

RETRY_AFTER = 1  # seconds a refused client is told to wait


class Overloaded(FnrunError):
    """Refused: the step (or the server) has as much work as it may hold."""

    http_status = 503
    retry_after = RETRY_AFTER


def check_bound(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(
            f"{field} must be a whole number >= 0, got {value!r}", field=field
        )
    return value


class Gate:
    """The admission of one step: at most ``concurrency`` running, ``queued`` waiting."""

    def __init__(self, step: str, concurrency: int, queued: int) -> None:
        self.step, self.concurrency, self.queued = step, concurrency, queued
        self.running = 0
        self.waiting = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._threads = threading.BoundedSemaphore(concurrency)
        self._loops: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = weakref.WeakKeyDictionary()

    def _refuse(self) -> Overloaded:
        self.refused += 1
        return Overloaded(
            f"step {self.step!r} is at its limit ({self.concurrency} running, {self.waiting} "
            "waiting); try again shortly",
            field=f"graph.{self.step}.max_concurrency",
            hint="retry after the Retry-After seconds, or raise max_concurrency/max_queued",
        )

    # -- threads (the sync engine) -------------------------------------------------------------
    def enter(self) -> None:
        if self._threads.acquire(blocking=False):
            with self._lock:
                self.running += 1
            return
        with self._lock:
            if self.waiting >= self.queued:
                raise self._refuse()
            self.waiting += 1
        try:
            self._threads.acquire()
        finally:
            with self._lock:
                self.waiting -= 1
        with self._lock:
            self.running += 1

    def leave(self) -> None:
        with self._lock:
            self.running -= 1
        self._threads.release()

    # -- the event loop (the async engine) -----------------------------------------------------
    async def enter_async(self) -> None:
        loop = asyncio.get_running_loop()
        slots = self._loops.get(loop)
        if slots is None:
            slots = self._loops[loop] = asyncio.Semaphore(self.concurrency)
        if slots.locked():
            if self.waiting >= self.queued:
                raise self._refuse()
            self.waiting += 1
            try:
                await slots.acquire()
            finally:
                self.waiting -= 1
        else:
            await slots.acquire()
        self.running += 1

    def leave_async(self) -> None:
        self.running -= 1
        slots = self._loops.get(asyncio.get_running_loop())
        if slots is not None:
            slots.release()


def gated(run: Runner, gate: Gate, is_async: bool) -> Runner:
    """``run`` admitted through ``gate``."""
    if is_async:

        async def run_gated_async(event: Event) -> Any:
            await gate.enter_async()
            try:
                return await run(event)
            finally:
                gate.leave_async()

        run_gated_async.is_async = True  # type: ignore[attr-defined]
        return run_gated_async

    def run_gated(event: Event) -> Any:
        gate.enter()
        try:
            return run(event)
        finally:
            gate.leave()

    return run_gated


class Door:
    """The server's admission: at most ``limit`` requests in flight (0: no bound)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.refused = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.in_flight >= self.limit:
                self.refused += 1
                raise Overloaded(
                    f"the server has {self.in_flight} requests in flight, its limit; try again "
                    "shortly",
                    field="max_in_flight",
                    hint="retry after the Retry-After seconds, add replicas, or raise "
                    "--max-in-flight",
                )
            self.in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
