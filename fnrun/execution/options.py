"""The options of a run, written once: ``fn.run(**options)``, schedules and run templates
take the same names (MLRun's ``fn.run`` keywords)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from fnrun.execution.hyper import HyperParamOptions


class RunOptions(TypedDict, total=False):
    """What a run does; ``fn.run(runspec, handler, **options)`` (the handler is positional as
    in MLRun, so it is not repeated here)."""

    name: str
    project: str
    params: dict[str, Any] | None
    inputs: dict[str, str] | None
    hyperparams: dict[str, list[Any]] | list[dict[str, Any]] | None
    hyper_param_options: HyperParamOptions | dict[str, Any] | None
    selector: str  # MLRun's spelling of hyper_param_options={"selector": ...}
    returns: list[str] | None
    secrets: dict[str, str] | list[dict[str, Any]] | None
    labels: dict[str, str] | None
    artifact_path: str


class LaunchOptions(RunOptions, total=False):
    """Where and how ``fn.run`` places the run (not part of what a schedule stores)."""

    local: bool
    watch: bool
    auto_build: bool | None
    in_process: bool  # run the handler in this process (``fnrun run``)
    # run again after a failure: a count, or {"count", "backoff", "on"} (fnrun.execution.retry)
    retry: int | dict[str, Any] | Any | None
    progress: Callable[[str, dict[str, Any]], None] | None  # who hears "started"/"ended"
    uid: str  # the run's uid, when the caller chose it


#: the run's own options, in the order a schedule's task lists them
RUN_OPTIONS: tuple[str, ...] = ("handler", *RunOptions.__annotations__)
#: every keyword ``fn.run`` takes beyond the task and handler
LAUNCH_OPTIONS = frozenset(LaunchOptions.__optional_keys__)
Handler = str | Callable[..., Any] | None
