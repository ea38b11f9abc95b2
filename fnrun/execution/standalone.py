"""``get_or_create_ctx``: the context of the current run, or a new tracked one for a script.

Inside a run (``fn.run`` of a script or handler) it returns that run's context; in a command
a run started (``mode="args"``/``"pass"``) it joins that run (:mod:`fnrun.execution.attach`).
Called from a plain ``python train.py``, it creates and tracks a new run; the run is
committed at exit as ``completed`` (or ``error`` when the script dies of an exception), with
or without ``with``.
"""

from __future__ import annotations

import atexit
import os
import sys
from types import TracebackType
from typing import Any

from fnrun.execution.attach import attached_context
from fnrun.execution.context import RunContext
from fnrun.execution.execute import _current, current_context

_standalone: RunContext | None = None


def get_or_create_ctx(
    name: str = "", project: str = "", labels: dict[str, str] | None = None, **_ignored: Any
) -> RunContext:
    """The active run's context, or a new standalone one named ``name``."""
    ctx = current_context()
    if ctx is not None:
        return ctx
    global _standalone
    if _standalone is None and (joined := attached_context(os.environ)) is not None:
        _standalone = joined  # a command of a run (args/pass mode): that run, not a new one
        joined.commit()
        _current.set(joined)
        _install_exit_hooks(joined, ends_run=False)
    if _standalone is None:
        from fnrun.config import get_settings
        from fnrun.db import get_run_db

        settings = get_settings()
        _standalone = RunContext(
            name=name or "main",
            project=project or settings.default_project,
            labels=labels,
            artifact_path=settings.artifact_path,
            db=get_run_db(),
        )
        _standalone.state = "running"
        _standalone.commit()
        _current.set(_standalone)
        _install_exit_hooks(_standalone)
    return _standalone


def _install_exit_hooks(ctx: RunContext, ends_run: bool = True) -> None:
    """At exit, commit the run (``completed`` when ``ends_run``; a command's context leaves
    the end to the run's process); an uncaught exception marks it ``error`` first."""
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if ctx.state == "running":
            ctx.mark_error(exc)
            ctx.commit()
        previous(exc_type, exc, tb)

    def at_exit() -> None:
        if ctx.state == "running":
            ctx.commit(completed=ends_run)

    sys.excepthook = hook
    atexit.register(at_exit)
