"""The child side of a run placed in another process: ``python -m fnrun exec --from-env``.

The parent passes the function and run request as JSON in ``FNRUN_EXEC_CONFIG`` and the
secret values in ``FNRUN_EXEC_SECRETS`` (environment only: never in files, DB or logs).
The same entry serves a subprocess, a Kubernetes pod and an MPI rank.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fnrun.tracing as tracing
from fnrun.config import get_settings
from fnrun.db import get_run_db
from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.execution.execute import RunRequest, execute

CONFIG_ENV = "FNRUN_EXEC_CONFIG"
CONFIG_FILE_ENV = "FNRUN_EXEC_CONFIG_FILE"  # a pod reads its config from a mounted ConfigMap
SECRETS_ENV = "FNRUN_EXEC_SECRETS"

Loader = Callable[[dict[str, Any]], Any]  # a function document -> a function object


def exec_config(request: Any) -> dict[str, Any]:
    """The JSON-ready config for a :class:`~fnrun.execution.execute.RunRequest` (no secrets)."""
    fn = request.function
    return {"function": fn.to_dict() if fn is not None else None, "run": request.wire()}


def exec_from_env(environ: dict[str, str] | None = None, *, load: Loader) -> int:
    """Run the request described in the environment; 0 when completed, 1 on error.
    ``load`` turns the function document into a function (the kinds' factory: this layer
    sits below the kinds and never imports them)."""

    env = os.environ if environ is None else environ
    raw = env.get(CONFIG_ENV)
    if not raw and env.get(CONFIG_FILE_ENV):
        raw = Path(env[CONFIG_FILE_ENV]).read_text()
    if not raw:
        raise InvalidArgumentError(
            f"{CONFIG_ENV} is not set",
            field=CONFIG_ENV,
            hint="fnrun exec --from-env is started by fn.run(), not by hand",
        )
    config = json.loads(raw)
    fn = load(config["function"]) if config.get("function") else None
    secrets = json.loads(env.get(SECRETS_ENV) or "{}")
    request = RunRequest(function=fn, secrets=secrets, **config["run"])
    if fn is not None:  # a spark driver's session, a dask client: as where fn.run() runs
        request.context_extras.update(fn.run_extras())
    rank = mpi_rank(env)
    if rank > 0:  # rank 0 stores the run; the others run the same code quietly
        request.context_extras["logging_worker"] = False
    if rank >= 0:
        _whole_lines()
    settings = get_settings()
    _abort_on_sigterm()
    # OTEL_* in the environment: the run's span is exported (and flushed before exit)
    stop_tracing = tracing.configure_from_env(fn.metadata.name if fn is not None else "", env)
    try:
        ctx = execute(request, get_run_db(), code_dir=Path(settings.home) / "code")
    except Terminated:
        return 143  # 128 + SIGTERM, as a killed process; the run committed "aborted"
    finally:
        if stop_tracing is not None:
            stop_tracing()
    return 0 if ctx.state == "completed" else 1


class Terminated(KeyboardInterrupt):
    """SIGTERM reached the run (an abort, a deleted or evicted pod): the run ends
    ``aborted`` with its log and results so far, instead of vanishing mid-write."""


def _abort_on_sigterm() -> None:
    import signal
    import threading

    def terminated(signum: int, frame: object) -> None:
        raise Terminated("terminated by SIGTERM (aborted, or its pod was deleted)")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminated)


def mpi_rank(env: Any) -> int:
    """This process's MPI rank (Open MPI, MPICH/PMI or PMIx), -1 outside MPI."""
    for name in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"):
        value = env.get(name, "")
        if value.isdigit():
            return int(value)
    return -1


def _whole_lines() -> None:
    """An MPI rank writes its output a line at a time: mpirun tags output per chunk it
    reads, so a line written in pieces (text, then its newline) would interleave with
    another rank's and lose its rank tag."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True, write_through=False)


def main(load: Loader) -> int:
    """``python -m fnrun exec --from-env``: exit 0 (completed), 1 (run error), 2 (bad setup)."""
    import sys

    try:
        return exec_from_env(load=load)
    except FnrunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
