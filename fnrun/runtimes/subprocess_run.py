"""Place a run in a child process that re-enters through ``python -m fnrun exec --from-env``.

The parent records the run before starting the child, streams the child's output (printed
live with ``watch``), and, if the child dies before committing a final state, marks the run
``error`` with the exit code and the output it saw: a crash never leaves a run ``running``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING, Any

from fnrun.db.monitor import this_executor
from fnrun.execution.entry import CONFIG_ENV, SECRETS_ENV, exec_config
from fnrun.execution.execute import context_for

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.execution.execute import RunRequest

FINAL_STATES = ("completed", "error", "aborted")


def run_in_subprocess(
    request: RunRequest, db: RunDB, settings: Settings, watch: bool
) -> dict[str, Any]:
    """Run ``request`` in a child process; return the stored run document."""
    request.uid = request.uid or uuid.uuid4().hex
    request.watcher = this_executor()  # while this process lives, it records the child's end
    ctx = context_for(request, db)
    ctx.commit()  # state "created": the run exists before the child does
    env = {
        **os.environ,
        CONFIG_ENV: json.dumps(exec_config(request)),
        SECRETS_ENV: json.dumps(request.secrets),
        "FNRUN_DBPATH": db.url,
        "FNRUN_HOME": str(settings.home),
        "FNRUN_ARTIFACT_PATH": settings.artifact_path,
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "fnrun", "exec", "--from-env"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = ctx.redact(line)  # the child masks too; this covers what it printed unmasked
        seen.append(line)
        if watch:
            sys.stdout.write(line)
    code = proc.wait()
    run = db.read_run(request.uid, request.project, request.iteration)
    if run.get("status", {}).get("state") not in FINAL_STATES:
        # merge, never overwrite: keep the results, labels and artifacts the child committed
        run = db.update_run(
            {
                "status.state": "error",
                "status.error": f"the run process exited with status {code} before finishing",
            },
            request.uid,
            request.project,
            request.iteration,
        )
        db.store_log(
            request.uid, request.project, "".join(seen).encode(), append=request.iteration > 0
        )
    return run
