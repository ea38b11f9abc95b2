"""Place a run in child processes that re-enter through ``python -m fnrun exec --from-env``.

The parent records the run before starting the child, streams the child's output (printed
live with ``watch``), and, if the child dies before committing a final state, marks the run
``error`` with the exit code and the output it saw: a crash never leaves a run ``running``.
A child that exits non-zero after the run committed ``completed`` (another MPI rank failed)
marks it ``error`` too: a run never reads ``completed`` when part of it failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fnrun.db.monitor import this_executor
from fnrun.execution.entry import CONFIG_ENV, SECRETS_ENV, exec_config
from fnrun.execution.execute import context_for

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest

FINAL_STATES = ("completed", "error", "aborted")
EXEC_ENV = (CONFIG_ENV, SECRETS_ENV, "FNRUN_DBPATH", "FNRUN_HOME", "FNRUN_ARTIFACT_PATH")
# a child's output line -> (the text to show and keep, the text to append to the run log now)
Lines = Callable[[str], tuple[str, str]]


def run_in_subprocess(
    request: RunRequest,
    db: RunDB,
    settings: Settings,
    watch: bool,
    launcher: Sequence[str] = (),
    lines: Lines | None = None,
    env: dict[str, str] | None = None,
    what: str = "the run process",
) -> dict[str, Any]:
    """Run ``request`` in a child process (``launcher`` before the Python command, as
    ``mpirun -np 2``); return the stored run document."""
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
        "FNRUN_HOME": str(settings.home),
        "FNRUN_ARTIFACT_PATH": settings.artifact_path,
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [*launcher, sys.executable, "-m", "fnrun", "exec", "--from-env"],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        shown, log_now = lines(raw) if lines is not None else (raw, "")
        shown = ctx.redact(shown)  # the child masks too; this covers what it printed unmasked
        if log_now:
            db.store_log(request.uid, request.project, ctx.redact(log_now).encode())
        else:
            seen.append(shown)
        if watch:
            sys.stdout.write(shown)
    code = proc.wait()
    run = db.read_run(request.uid, request.project, request.iteration)
    state = run.get("status", {}).get("state")
    if state not in FINAL_STATES or (code != 0 and state == "completed"):
        ended = "before finishing" if state not in FINAL_STATES else "after the run completed"
        # merge, never overwrite: keep the results, labels and artifacts the child committed
        run = db.update_run(
            {"status.state": "error", "status.error": f"{what} exited with status {code} {ended}"},
            request.uid,
            request.project,
            request.iteration,
        )
        if state not in FINAL_STATES:
            db.store_log(
                request.uid, request.project, "".join(seen).encode(), append=request.iteration > 0
            )
    return run
