"""A placement that runs a failed run again when its retry policy says so
(:mod:`fnrun.execution.retry` says whose fault a failure was).

Every attempt is the same run (one uid, as MLRun's): each starts from a fresh context, so the
results and artifacts are the last attempt's only, while ``status.attempts`` (each attempt's
state, error, fault and times) and ``status.retry_count`` travel with every commit of the
next attempt and stay on the final document. The run's log keeps every attempt's output,
each retry after a line naming it and why. A run aborted (or deleted) between attempts is
not run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fnrun.clock import now_iso
from fnrun.db.monitor import PENDING_RETRY, this_executor
from fnrun.execution.retry import CODE, INFRASTRUCTURE, RetryPolicy, fault_of_exception

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest

Place = Callable[["RunRequest"], dict[str, Any]]
Sleep = Callable[[float], None]


def with_retries(
    place: Place,
    policy: RetryPolicy,
    db: RunDB,
    say: Callable[[str], None],
    sleep: Sleep = time.sleep,
) -> Place:
    """``place`` that retries the failures ``policy`` covers."""

    def attempts(request: RunRequest) -> dict[str, Any]:
        request.retry = policy.to_dict()
        done: list[dict[str, Any]] = []
        while True:
            request.attempt = len(done)
            request.status_extra.update(retry_count=request.attempt, attempts=list(done))
            started = now_iso()
            try:
                doc = place(request)
            except Exception as exc:  # the placement itself lost its engine (a Dask worker)
                if fault_of_exception(exc) != INFRASTRUCTURE or not policy.retries(INFRASTRUCTURE):
                    raise
                doc = _lost(db, request, exc)
            status = doc.get("status") or {}
            state = status.get("state", "")
            fault = status.get("fault") or CODE
            done.append(_attempt(request.attempt, state, status, fault, started))
            last = request.attempt >= policy.count
            if state != "error" or last or not policy.retries(fault):
                return _settle(db, request, done, last and state == "error")
            delay = policy.delay(request.attempt + 1)
            why = f"{fault} failure: {status.get('error', '')}".strip()
            text = (
                f"attempt {request.attempt + 1} of {policy.count + 1} failed ({why}); "
                f"retrying in {delay:g} s"
            )
            say(f"run {request.uid[:8]} {text}")
            _pending(db, request, done, text)
            if not _wait(db, request, delay, sleep):  # aborted (or deleted) meanwhile
                return db.read_run(request.uid, request.project, request.iteration)
            db.store_log(
                request.uid,
                request.project,
                f"\n--- fnrun: attempt {request.attempt + 2} of {policy.count + 1} "
                f"(attempt {request.attempt + 1} ended: {why}) ---\n".encode(),
            )

    return attempts


def _attempt(
    number: int, state: str, status: dict[str, Any], fault: str, started: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "attempt": number + 1,
        "state": state,
        "start_time": status.get("start_time") or started,
        "end_time": now_iso(),
    }
    if state == "error":
        entry.update(error=status.get("error", ""), fault=fault)
    return entry


def _settle(
    db: RunDB, request: RunRequest, done: list[dict[str, Any]], exhausted: bool
) -> dict[str, Any]:
    """The final document, with every attempt on it."""
    updates: dict[str, Any] = {"status.attempts": done, "status.retry_count": len(done) - 1}
    if exhausted and len(done) > 1:
        updates["status.status_text"] = f"failed after {len(done)} attempts"
    return db.update_run(updates, request.uid, request.project, request.iteration)


def _lost(db: RunDB, request: RunRequest, exc: Exception) -> dict[str, Any]:
    """The run's document after its placement failed under it: an error of the
    infrastructure, the run's own commits kept."""
    updates = {
        "status.state": "error",
        "status.error": f"{type(exc).__name__}: {exc}",
        "status.fault": INFRASTRUCTURE,
    }
    return db.update_run(updates, request.uid, request.project, request.iteration)


def _pending(db: RunDB, request: RunRequest, done: list[dict[str, Any]], text: str) -> None:
    """The run waits for its retry (MLRun's ``pendingRetry``), in this process: an abort
    cancels the retry, and if this process dies the run monitor ends the run."""
    db.update_run(
        {
            "status.state": PENDING_RETRY,
            "status.status_text": text,
            "status.attempts": done,
            "status.retry_count": len(done) - 1,
            "status.executor": this_executor(),
            "status.watcher": None,
        },
        request.uid,
        request.project,
        request.iteration,
    )


def _wait(db: RunDB, request: RunRequest, delay: float, sleep: Sleep) -> bool:
    """Wait ``delay`` seconds; False as soon as the run is aborted (or deleted)."""
    end = time.monotonic() + delay
    while True:
        try:
            state = (db.read_run(request.uid, request.project, request.iteration).get(
                "status") or {}).get("state")  # fmt: skip
        except Exception:
            return False
        if state != PENDING_RETRY:
            return False
        left = end - time.monotonic()
        if left <= 0:
            return True
        sleep(min(left, 0.5))
