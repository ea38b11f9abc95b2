"""How a step's callable becomes a runner (``run(event) -> event | None``): bodies or whole
events, input and result paths, async targets, and per-step timing for metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fnrun.graph.event import Event, get_path, set_path
from fnrun.graph.nodes import Runner


def wrap(
    target: Callable[..., Any], full: bool, input_path: str, result_path: str, is_async: bool
) -> Runner:
    """Adapt ``target`` to ``run(event) -> event | None``."""
    if is_async:
        return _async_wrap(target, full, input_path, result_path)
    if full and (input_path or result_path):

        def run_event_paths(event: Event) -> Any:
            whole = event.body
            event.body = get_path(whole, input_path) if input_path else whole
            result = target(event)
            if result is None:
                return None
            out = result.body if _is_event(result) else result
            event.body = set_path(whole, result_path, out) if result_path else out
            return event

        return run_event_paths
    if full:

        def run_event(event: Event) -> Any:
            result = target(event)
            return result if result is None or _is_event(result) else _set_body(event, result)

        return run_event
    if not input_path and not result_path:

        def run_body(event: Event) -> Any:
            body = event.body
            result = target(body)
            if result is None:
                return None if body is not None else event  # an empty body passes on
            event.body = result
            return event

        return run_body

    def run_paths(event: Event) -> Any:
        if event.body is None:
            return event  # a GET without a body (a listing, metadata) passes on
        result = target(get_path(event.body, input_path) if input_path else event.body)
        if result is None:
            return None
        event.body = set_path(event.body, result_path, result) if result_path else result
        return event

    return run_paths


def timed(run: Runner, name: str, observe: Callable[[str, float], None] | None) -> Runner:
    """``run`` reporting its duration to ``observe`` (only when metrics are wanted)."""
    if observe is None:
        return run
    clock = time.perf_counter
    if getattr(run, "is_async", False):

        async def timed_async(event: Event) -> Any:
            start = clock()
            try:
                return await run(event)
            finally:
                observe(name, clock() - start)

        timed_async.is_async = True  # type: ignore[attr-defined]
        return timed_async

    def timed_sync(event: Event) -> Any:
        start = clock()
        out = run(event)  # a failure is counted by the error metrics, not timed
        observe(name, clock() - start)
        return out

    return timed_sync


def _is_event(value: Any) -> bool:
    """An event (ours or nuclio's) rather than a body or a Response (which has a status)."""
    return hasattr(value, "body") and not hasattr(value, "status_code")


def _set_body(event: Event, body: Any) -> Event:
    event.body = body
    return event


def _async_wrap(
    target: Callable[..., Any], full: bool, input_path: str, result_path: str
) -> Runner:
    async def run(event: Event) -> Any:
        whole = event.body
        if whole is None and (input_path or result_path):
            return event
        value = get_path(whole, input_path) if input_path else whole
        if full:
            event.body = value
        result = await target(event if full else value)
        if result is None:
            return None if whole is not None or full else event
        if full and _is_event(result):
            if not input_path and not result_path:
                return result
            result = result.body
        event.body = set_path(whole, result_path, result) if result_path else result
        return event

    run.is_async = True  # type: ignore[attr-defined]
    return run
