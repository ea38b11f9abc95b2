"""Which process executes a run, and whether it still exists (MLRun's run monitor, locally).

A run records its executor in ``status.executor`` (host, pid and the process's start time,
so a recycled pid is not mistaken for it). Reading or listing runs on the same host checks
the executors of unfinished runs; a run whose executor is gone is marked ``error``
("executor exited") instead of staying ``running`` forever. Runs of other hosts are left
alone: this host cannot see their processes. A run placed in a child process also names its
``watcher`` (the parent): while the watcher lives, it records the child's end itself.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from typing import Any

# pendingRetry (MLRun's): a failed attempt waits for its retry (fnrun.runtimes.launch.retries)
PENDING_RETRY = "pendingRetry"
UNFINISHED = ("created", "running", "pending", PENDING_RETRY)


@cache
def _host() -> str:
    return socket.gethostname()


def _start_ticks(pid: int) -> str:
    """The process start time in clock ticks since boot ('' where /proc is unavailable)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    # fields[0] is the state (field 3); the start time is field 22
    return "" if fields[0] in ("Z", "X") else fields[19]


def this_executor() -> dict[str, Any]:
    return dict(_own_executor(os.getpid()))  # a fork is another pid: its own record


@cache
def _own_executor(pid: int) -> dict[str, Any]:
    return process_executor(pid)  # this process's start time never changes


def process_executor(pid: int) -> dict[str, Any]:
    """The executor record of process ``pid`` on this host."""
    return {"host": _host(), "pid": pid, "started": _start_ticks(pid)}


def executor_gone(executor: dict[str, Any] | None) -> bool:
    """True when ``executor`` ran on this host and that process no longer exists."""
    if not executor or executor.get("host") != _host():
        return False
    pid = executor.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    if not process_alive(pid):
        return True
    started = _start_ticks(pid)
    recorded = executor.get("started") or ""
    return bool(recorded and started and recorded != started)  # the pid was reused


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs: a zombie (exited, not yet reaped)
    does not; someone else's process does."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:  # gone since the signal, or no /proc here: trust the signal
        return not os.path.isdir("/proc")
    except (OSError, IndexError):
        return True


def stale_update(run: dict[str, Any]) -> dict[str, Any] | None:
    """The dotted updates that mark ``run`` failed when its executor is gone, else None."""
    status = run.get("status") or {}
    if status.get("state") not in UNFINISHED or not executor_gone(status.get("executor")):
        return None
    watcher = status.get("watcher")
    if watcher and not executor_gone(watcher):
        return None  # the live parent watching the run records its end (with the exit code)
    ex = status["executor"]
    return {
        "status.state": "error",
        "status.error": f"executor exited: process {ex.get('pid')} on {ex.get('host')} "
        "ended before the run finished",
    }
