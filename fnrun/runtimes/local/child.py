"""Place a run in child processes that re-enter through ``python -m fnrun exec --from-env``.

The parent records the run before starting the child, streams the child's output (printed
live with ``watch``; with ``watch=False`` on a kind that submits runs, the child is in a
session of its own writing to ``<home>/runs/<uid>-<iteration>.out``, which the parent tails
while it lives, so the run outlives its caller), and, if the child dies before committing a
final state, marks the run ``error`` with the exit code and the output it saw: a crash never
leaves a run ``running``.
A child that exits non-zero after the run committed ``completed`` (another MPI rank failed)
marks it ``error`` too: a run never reads ``completed`` when part of it failed.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import fnrun.tracing as tracing
from fnrun.db import db_token
from fnrun.db.monitor import process_executor, this_executor
from fnrun.execution.entry import CONFIG_ENV, SECRETS_ENV, exec_config
from fnrun.execution.execute import context_for
from fnrun.execution.retry import fault_of_exit
from fnrun.runtimes.local import forkserver
from fnrun.runtimes.local.memory_guard import MemoryGuard

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest

log = logging.getLogger("fnrun.runtimes")
FINAL_STATES = ("completed", "error", "aborted")
EXEC_ENV = (CONFIG_ENV, SECRETS_ENV, "FNRUN_DBPATH", "FNRUN_HOME", "FNRUN_ARTIFACT_PATH")
# a child's output line -> (the text to show and keep, the text to append to the run log now)
Lines = Callable[[str], tuple[str, str]]
Child = subprocess.Popen[Any] | forkserver.ForkedChild


def run_in_subprocess(
    request: RunRequest,
    db: RunDB,
    settings: Settings,
    watch: bool,
    launcher: Sequence[str] = (),
    lines: Lines | None = None,
    env: dict[str, str] | None = None,
    what: str = "the run process",
    memory: tuple[int, str] | None = None,
    per_rank: bool = False,
    cpus: list[int] | None = None,
    threads: int = 0,
) -> dict[str, Any]:
    """Run ``request`` in a child process (``launcher`` before the Python command, as
    ``mpirun -np 2``); return the stored run document. ``memory`` (bytes, as written) is the
    function's memory limit, kept by a :class:`~fnrun.runtimes.local.memory_guard.MemoryGuard`
    (``per_rank``: for each of the launcher's children, as each MPI rank's pod); ``cpus``:
    the CPUs the child is bound to, ``threads`` its thread pools' size
    (:mod:`fnrun.runtimes.local.cpu_limit`)."""
    request.uid = request.uid or uuid.uuid4().hex
    request.watcher = this_executor()  # while this process lives, it records the child's end
    ctx = context_for(request, db)
    ctx.commit()  # state "created": the run exists before the child does
    child_env = {
        **os.environ,
        **(env or {}),
        CONFIG_ENV: json.dumps(exec_config(request)),
        SECRETS_ENV: json.dumps(request.secrets),
        "FNRUN_DBPATH": db.url,
        **({"FNRUN_TOKEN": db_token(db)} if db_token(db) else {}),
        "FNRUN_HOME": str(settings.home),
        "FNRUN_ARTIFACT_PATH": settings.artifact_path,
        "PYTHONUNBUFFERED": "1",
        **(request.trace or tracing.env_carrier()),  # TRACEPARENT: the caller's trace
    }
    if cpus:
        from fnrun.runtimes.local.cpu_limit import THREAD_VARS, bind

        child_env.update({k: str(threads) for k in THREAD_VARS if threads and k not in (env or {})})
    command = [*launcher, sys.executable, "-m", "fnrun", "exec", "--from-env"]
    proc, stream, output = _start(command, child_env, request, db, settings, cpus)
    if cpus:
        bind(proc.pid, cpus)  # before it runs any code: its threads and children inherit it
    guard = MemoryGuard(proc.pid, memory, per_child=per_rank) if memory else None
    seen: list[str] = []
    for raw in stream:
        shown, log_now = lines(raw) if lines is not None else (raw, "")
        shown = ctx.redact(shown)  # the child masks too; this covers what it printed unmasked
        if log_now:
            db.store_log(request.uid, request.project, ctx.redact(log_now).encode())
        else:
            seen.append(shown)
        if watch:
            sys.stdout.write(shown)
    code = proc.wait()
    killed = guard.stop() if guard is not None else ""
    run = db.read_run(request.uid, request.project, request.iteration)
    state = run.get("status", {}).get("state")
    if state not in FINAL_STATES or (code != 0 and state == "completed"):
        ended = "before finishing" if state not in FINAL_STATES else "after the run completed"
        if output is not None:
            ended += f" (its output: {output})"
        # merge, never overwrite: keep the results, labels and artifacts the child committed
        run = db.update_run(
            {
                "status.state": "error",
                "status.error": f"{killed + '; ' if killed else ''}{what} exited "
                f"{_status(proc, code)} {ended}",
                "status.fault": fault_of_exit(code, bool(killed)),
            },
            request.uid,
            request.project,
            request.iteration,
        )
        if state not in FINAL_STATES:
            db.store_log(
                request.uid,
                request.project,
                "".join(seen).encode(),
                append=request.iteration > 0 or request.attempt > 0,  # keep earlier attempts'
            )
    elif output is not None:
        output.unlink(missing_ok=True)  # the run's log holds it all
    return run


def _status(proc: Child, code: int) -> str:
    if isinstance(proc, forkserver.ForkedChild) and proc.status_lost:
        return "(its status is unknown: the fork server that started it ended first)"
    return f"with status {code}"


def _start(
    command: list[str],
    env: dict[str, str],
    request: RunRequest,
    db: RunDB,
    settings: Settings,
    cpus: list[int] | None = None,
) -> tuple[Child, Iterable[str], Path | None]:
    """The child, the lines it writes, and the file they go to (``watch=False`` on a kind
    that submits runs: the child outlives the caller, in a session of its own). A plain
    ``python -m fnrun exec`` comes from the fork server when it can serve it."""
    forked = settings.fork_server and command[0] == sys.executable and forkserver.available()
    if request.submitted is None:
        proc: Child | None = _fork(env, None, cpus) if forked else None
        if proc is None:
            proc = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        assert proc.stdout is not None
        return proc, proc.stdout, None
    output = Path(settings.home) / "runs" / f"{request.uid}-{request.iteration}.out"
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("wb") as sink:
        detached = _fork(env, sink, cpus) if forked else None
        if detached is None:
            detached = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    # the child executes the run from now: if this process dies first, the run monitor
    # judges the run by the child's life, not by ours
    db.update_run(
        {"status.executor": process_executor(detached.pid)},
        request.uid,
        request.project,
        request.iteration,
    )
    request.submitted.set()
    return detached, _tail(output, detached), output


def _fork(env: dict[str, str], sink: IO[bytes] | None, cpus: list[int] | None) -> Child | None:
    """The run's process from the fork server, or None (start a fresh interpreter)."""
    try:
        return forkserver.start(env, sink, session=sink is not None, cpus=cpus)
    except OSError as exc:
        log.warning("%s; the run starts in a fresh interpreter instead", exc)
        return None


def _tail(path: Path, proc: Child, poll: float = 0.1) -> Iterator[str]:
    """The lines a running child writes to ``path``, as they come, to its end."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    with path.open("rb") as f:
        while True:
            chunk = f.read(65536)
            if chunk:
                pending += decoder.decode(chunk)
                *lines, pending = pending.split("\n")
                yield from (line + "\n" for line in lines)
            elif proc.poll() is not None:
                rest = f.read()
                if not rest:
                    break
                pending += decoder.decode(rest)
            else:  # the child's end wakes this at once (a sleep would add up to ``poll``)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=poll)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
