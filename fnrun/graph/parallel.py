"""ParallelRun: a router that runs every route on the same event at once and merges the results.

``executor_type``: ``"thread"`` (default; routes run in a thread pool, which suits models that
release the GIL: numpy, sklearn, torch, I/O), ``"process"`` (a pool of forked worker processes
that inherit the loaded routes, for pure-Python CPU-bound steps; events and results must be
picklable and routes must be loaded when the server starts), or ``"array"`` (one after the
other, in the request's thread). On the async engine, async routes are awaited together.

Merging (``merger``, override it to change): dict results are merged key by key in route
order (a non-dict result goes under its route name); ``extend_event=True`` starts from the
event's own body. A failing route fails the request, naming the route.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.graph.forked import call_in_worker, forked_pool, register, unregister
from fnrun.graph.model_routers import ModelRouter, branch


class ParallelRunnerModes(enum.StrEnum):
    """How ``ParallelRun`` (and ``VotingEnsemble``) run their routes (MLRun's names)."""

    array = "array"  # one after the other, in the request's thread
    process = "process"  # forked worker processes
    thread = "thread"  # a thread pool

    @staticmethod
    def all() -> list[ParallelRunnerModes]:
        return [ParallelRunnerModes.thread, ParallelRunnerModes.process, ParallelRunnerModes.array]


_EXECUTORS = tuple(mode.value for mode in ParallelRunnerModes.all())


class RouteFailed(InvalidArgumentError):
    http_status = 500


class ParallelRun(ModelRouter):
    step_class_name = "mlrun.serving.routers.ParallelRun"

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Callable[[Any], Any]] | None = None,
        executor_type: str = "thread",
        max_workers: int | None = None,
        extend_event: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(context, name, routes, **kwargs)
        if executor_type not in _EXECUTORS:
            raise InvalidArgumentError(
                f"unknown executor_type {executor_type!r}",
                field="executor_type",
                hint=f"use one of {', '.join(_EXECUTORS)}",
            )
        self.executor_type = executor_type
        self.max_workers = max_workers or max(1, len(self.routes))
        self.extend_event = extend_event
        self._executor: Executor | None = None
        self._id = 0  # in the forked workers' registry (a compiled route cannot be pickled)

    def post_init(self, mode: str = "sync") -> None:
        if self.executor_type == "thread":
            self._executor = ThreadPoolExecutor(
                self.max_workers, thread_name_prefix=self.name or "parallel"
            )
        elif self.executor_type == "process":
            self._id = register(self)
            self._executor = forked_pool(min(self.max_workers, os.cpu_count() or 1))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        unregister(self._id)

    # -- the step ------------------------------------------------------------------------------
    def do_event(self, event: Any) -> Any:
        listing = self._listing(event)
        if listing is not None:
            return listing
        names = list(self.routes)
        if self._executor is None:
            bodies = [self._run_route(n, branch(event)) for n in names]
        else:
            futures = [self._submit(n, branch(event)) for n in names]
            bodies = [self._result(n, f) for n, f in zip(names, futures, strict=True)]
        return self._merged(event, dict(zip(names, bodies, strict=True)))

    async def do_event_async(self, event: Any) -> Any:
        listing = self._listing(event)
        if listing is not None:
            return listing
        names = list(self.routes)
        bodies = await asyncio.gather(*(self._run_route_async(n, branch(event)) for n in names))
        return self._merged(event, dict(zip(names, bodies, strict=True)))

    def merger(self, body: Any, results: dict[str, Any]) -> Any:
        merged: dict[str, Any] = dict(body) if self.extend_event and isinstance(body, dict) else {}
        for name, result in results.items():
            if isinstance(result, dict):
                merged.update(result)
            else:
                merged[name] = result
        return merged

    # -- helpers -------------------------------------------------------------------------------
    def _listing(self, event: Any) -> Any:
        if (event.method or "GET") == "GET" and not event.body:
            return ModelRouter.do_event(self, event)
        return None

    def _merged(self, event: Any, results: dict[str, Any]) -> Any:
        event.body = self.merger(event.body, results)
        return event

    def _submit(self, name: str, event: Any) -> Any:
        assert self._executor is not None
        if self.executor_type == "process":
            return self._executor.submit(call_in_worker, self._id, "_run_route", name, event)
        return self._executor.submit(self._run_route, name, event)

    def _result(self, name: str, future: Any) -> Any:
        try:
            return future.result()
        except RouteFailed:
            raise
        except Exception as exc:
            raise _failed(self.name, name, exc) from exc

    def _run_route(self, name: str, event: Any) -> Any:
        try:
            out = self.routes[name](event)
        except Exception as exc:
            raise _failed(self.name, name, exc) from exc
        if inspect.isawaitable(out):
            raise InvalidArgumentError(
                f"router {self.name!r}: route {name!r} is async",
                field="graph.engine",
                hint="serve with engine='async'",
            )
        return getattr(out, "body", out)

    async def _run_route_async(self, name: str, event: Any) -> Any:
        route = self.routes[name]
        if getattr(route, "is_async", False):
            try:
                out = await route(event)
            except Exception as exc:
                raise _failed(self.name, name, exc) from exc
            return getattr(out, "body", out)
        if self._executor is None:
            return self._run_route(name, event)
        try:
            return await asyncio.wrap_future(self._submit(name, event))
        except RouteFailed:
            raise
        except Exception as exc:
            raise _failed(self.name, name, exc) from exc


def _failed(router: str | None, route: str, exc: BaseException) -> RouteFailed:
    return RouteFailed(
        f"router {router!r}: route {route!r} failed: {type(exc).__name__}: {exc}",
        field=f"routes.{route}",
    )
