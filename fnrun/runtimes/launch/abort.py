"""Abort a run wherever it executes (``run.abort()``, ``fnrun abort UID``).

A run on Kubernetes (``status.kubernetes``) has its workload (Job, MPIJob, SparkApplication)
deleted, pods included (they get SIGTERM, then are killed after their grace period). A run in
a process on this host gets
SIGTERM when that process exists for the run (a child ``fnrun exec``, an ``fnrun run``): the
fnrun entry turns it into an abort, so the run commits ``aborted`` with its log and what it
logged so far. The run is marked ``aborted`` here too, whatever the executor manages to write
before it stops. A run executing inside another program (a notebook kernel, a service) is
only marked, never signalled: that would stop the program; and one in this very process is
refused (interrupt it instead).
"""

from __future__ import annotations

import os
import signal
from typing import Any

from fnrun.db.base import RunDB
from fnrun.db.monitor import PENDING_RETRY, UNFINISHED, executor_gone, this_executor
from fnrun.errors import ConflictError, InvalidArgumentError


def abort_run(db: RunDB, uid: str, project: str = "", iteration: int = 0) -> dict[str, Any]:
    """Stop the run and mark it ``aborted``; returns the stored run document. Through the
    service (``FNRUN_DBPATH=http://``) the service aborts it, where it placed it."""
    remote = getattr(db, "abort_run", None)
    if callable(remote):
        return dict(remote(uid, project, iteration))
    run = db.read_run(uid, project, iteration)
    status = run.get("status") or {}
    state = status.get("state")
    if state not in UNFINISHED:
        raise ConflictError(
            f"run {uid} is already {state}", field="state", hint="only unfinished runs abort"
        )
    where = _stop(status)
    return db.update_run(
        {"status.state": "aborted", "status.error": f"aborted by the user ({where})"},
        uid,
        run["metadata"].get("project", project),
        iteration,
    )


def _stop(status: dict[str, Any]) -> str:
    if status.get("state") == PENDING_RETRY:  # nothing runs: the retry is not started
        return "its retry was not started"
    placed = status.get("kubernetes")
    if placed:
        return _delete_job(placed)
    executor = status.get("executor") or {}
    me = this_executor()
    if executor.get("host") != me["host"]:
        return f"its process on {executor.get('host') or 'another host'} was not signalled"
    if executor.get("pid") == me["pid"]:
        raise InvalidArgumentError(
            "the run executes in this process",
            field="uid",
            hint="interrupt it (Ctrl-C) to abort it",
        )
    if executor_gone(executor):
        return "its process had already exited"
    if not status.get("watcher") and not _fnrun_process(int(executor["pid"])):
        # an in-process run: its process is the user's (a notebook kernel, a service)
        return f"process {executor['pid']} runs it in-process and was not signalled"
    try:
        os.kill(int(executor["pid"]), signal.SIGTERM)
    except ProcessLookupError:
        return "its process had already exited"
    return f"process {executor['pid']} sent SIGTERM"


def _fnrun_process(pid: int) -> bool:
    """Whether ``pid`` is a process fnrun started for runs (``fnrun exec``/``fnrun run``)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    text = b" ".join(argv)
    return b"fnrun exec" in text or b"fnrun run" in text


def _delete_job(placed: dict[str, Any]) -> str:
    from fnrun.runtimes.kubernetes.cluster import recorded_cluster
    from fnrun.runtimes.kubernetes.watch import delete_job
    from fnrun.runtimes.kubernetes.workloads import named

    cluster = recorded_cluster(placed)
    name, workload = placed["job"], named(str(placed.get("kind") or ""))
    if not delete_job(cluster, name, workload):
        return f"its {workload.kind} {name} was already gone"
    return f"{workload.kind} {name} deleted from {cluster.describe()}"
