"""``fn.run(watch=False)`` for kinds whose runs are submitted (``job``, ``mpijob``): return
once the run is submitted, and let it go on.

The placement runs in a keeper thread of this process. The caller gets the run back as soon
as the placement says it is submitted (``request.submitted``: the child process started, the
Job created) or, if it never says so, when it ends; an error before that (the cluster refused
the Job) is raised to the caller as with ``watch=True``. After that the keeper does what the
caller would have done: it waits for the run's end and records what the run could not (the
child's exit code, the pod's failure); an error in the keeper itself marks the run ``error``.

A single run's keeper is a daemon: the caller's script may end while the run goes on (its
child process is in a session of its own, its Job is on the cluster), and the run monitor
marks a run whose process died unwatched. Hyper-parameter iterations are driven from this
process, so their keeper is not a daemon: the interpreter waits for it at exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fnrun.db.monitor import UNFINISHED

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest

_KEEPERS: dict[str, threading.Thread] = {}  # run uid -> its keeper in this process


def run_in_background(
    work: Callable[[], dict[str, Any]], request: RunRequest, db: RunDB, daemon: bool = True
) -> dict[str, Any]:
    """Start ``work`` (the placement of ``request``) in a keeper thread; return the run's
    document once it is submitted."""
    submitted = request.submitted = threading.Event()
    outcome: dict[str, Any] = {}

    def keep() -> None:
        try:
            outcome["doc"] = work()
        except BaseException as exc:  # the caller or the run must hear of it
            if submitted.is_set():
                _record(exc, request, db)
            else:
                outcome["error"] = exc
        finally:
            submitted.set()
            _KEEPERS.pop(request.uid, None)

    keeper = threading.Thread(target=keep, name=f"fnrun-run-{request.uid[:8]}", daemon=daemon)
    _KEEPERS[request.uid] = keeper
    keeper.start()
    submitted.wait()
    if "error" in outcome:
        raise outcome["error"]
    if "doc" in outcome:
        return dict(outcome["doc"])
    return db.read_run(request.uid, request.project, request.iteration)


def join_keeper(uid: str, timeout: float | None = None) -> None:
    """Wait for the keeper of run ``uid`` in this process, if any: what it records at the
    end (a rank that failed after rank 0 committed ``completed``) is then in the run DB."""
    keeper = _KEEPERS.get(uid)
    if keeper is not None and keeper is not threading.current_thread():
        keeper.join(timeout)


def _record(exc: BaseException, request: RunRequest, db: RunDB) -> None:
    """The keeper failed after the caller left: the run says so, unless it already ended."""
    run = db.read_run(request.uid, request.project, request.iteration)
    if run.get("status", {}).get("state") in UNFINISHED:
        db.update_run(
            {
                "status.state": "error",
                "status.error": f"following the run failed: {type(exc).__name__}: {exc}",
            },
            request.uid,
            request.project,
            request.iteration,
        )
