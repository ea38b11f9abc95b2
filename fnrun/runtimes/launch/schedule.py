"""``fn.run(schedule="*/5 * * * *")``: store the run as a schedule in the fnrun service.

The schedule is named after the function (as MLRun), in the run's project; it holds the
function document (code embedded) and the run's task, and the service runs it on time
(:mod:`fnrun.service.scheduler`). ``schedule`` may also be a dict with the policies:
``{"cron": "0 * * * *", "overlap": "allow", "missed": "skip"}``. Without a service (the run
DB is SQL) it is an error saying how to start one: nothing would run the schedule.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from fnrun.config import get_settings
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError
from fnrun.execution.options import RUN_OPTIONS
from fnrun.model.schedule import check_task, new_schedule
from fnrun.model.values import check_json

if TYPE_CHECKING:
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike

Doc = dict[str, Any]
_TASK = tuple(k for k in RUN_OPTIONS if k != "project")  # the schedule has its own project
_IGNORED = ("watch", "local", "auto_build")  # the service decides where and how it runs


def schedule_run(
    fn: RuntimeLike, schedule: str | Doc, arguments: Doc, db: RunDB | None = None
) -> Doc:
    """Store the schedule of ``fn.run(**arguments)``; returns the stored schedule."""

    db = db or get_run_db()
    if not hasattr(db, "invoke_schedule"):
        raise InvalidArgumentError(
            f"schedules are run by the fnrun service, and the run DB here is {db.url}",
            field="schedule",
            hint="start one (`fnrun service --db <this DB>`), then set "
            "FNRUN_DBPATH=http://127.0.0.1:8080 (and FNRUN_TOKEN if it has a token)",
        )
    unknown = sorted(k for k, v in arguments.items() if k not in (*_TASK, *_IGNORED) and v)
    if unknown:
        raise TypeError(f"run() got unexpected arguments: {', '.join(unknown)}")
    cron, policies = _policies(schedule)
    handler = arguments.get("handler")
    if callable(handler):
        raise InvalidArgumentError(
            "a scheduled run needs its handler by name",
            field="handler",
            hint="handler='name' of a function in the code (the service runs the code)",
        )
    project = arguments.get("project") or fn.metadata.project or get_settings().default_project
    function = fn.to_dict()
    function.setdefault("metadata", {})["project"] = project
    doc = new_schedule(fn.metadata.name, project, cron, function, _task(arguments), **policies)
    stored = db.store_schedule(doc, project)
    nxt = stored.get("status", {}).get("next_run_time", "?")
    print(f"schedule {project}/{fn.metadata.name} stored ({cron}); next run {nxt}", file=sys.stderr)
    return stored


def _policies(schedule: str | Doc) -> tuple[str, Doc]:
    if isinstance(schedule, str):
        return schedule, {}
    if isinstance(schedule, dict):
        extra = sorted(set(schedule) - {"cron", "overlap", "missed"})
        if extra:
            raise InvalidArgumentError(
                f"unknown schedule field {extra[0]!r}",
                field=f"schedule.{extra[0]}",
                hint="cron, overlap (skip|allow), missed (run-once|skip)",
            )
        policies: Doc = {k: schedule[k] for k in ("overlap", "missed") if k in schedule}
        return str(schedule.get("cron", "")), policies
    raise InvalidArgumentError(
        "schedule must be a cron string or a dict", field="schedule", hint="'*/5 * * * *'"
    )


def options_from_task(task: Doc, labels: dict[str, str] | None = None) -> Doc:
    """The ``fn.run`` keywords (``handler`` and the run options) of a stored task, the
    inverse of what :func:`schedule_run` stores; ``labels`` are added to the task's."""
    return {
        "handler": task.get("handler") or None,
        "name": task.get("name") or "",
        "params": dict(task.get("params") or {}),
        "inputs": dict(task.get("inputs") or {}),
        "labels": {**(task.get("labels") or {}), **(labels or {})},
        "secrets": list(task.get("secret_sources") or []) or None,
        "artifact_path": task.get("artifact_path") or "",
        "returns": task.get("returns") or None,
        "hyperparams": task.get("hyperparams") or None,
        "hyper_param_options": task.get("hyper_param_options") or None,
    }


def _task(arguments: Doc) -> Doc:
    """The stored task: only references to secrets (the service refuses values)."""
    params = {k: check_json(v, f"params.{k}") for k, v in (arguments.get("params") or {}).items()}
    secrets = arguments.get("secrets") or []
    if isinstance(secrets, dict):
        secrets = [{"kind": "inline", "source": secrets}]
    task = {
        "name": arguments.get("name") or "",
        "handler": arguments.get("handler") or "",
        "params": params,
        "inputs": dict(arguments.get("inputs") or {}),
        "labels": dict(arguments.get("labels") or {}),
        "secret_sources": list(secrets),
        "artifact_path": arguments.get("artifact_path") or "",
        "returns": list(arguments.get("returns") or []),
        "hyperparams": arguments.get("hyperparams") or {},
        "hyper_param_options": _options(arguments.get("hyper_param_options")),
    }
    task = {k: v for k, v in task.items() if v not in ("", [], {})}
    check_task(task)  # secret values are refused here, before they are sent anywhere
    return task


def _options(value: Any) -> Doc:
    from dataclasses import asdict

    from fnrun.execution.hyper import HyperParamOptions

    if not value:
        return {}
    options = asdict(HyperParamOptions.from_any(value))
    defaults = asdict(HyperParamOptions())
    return {k: v for k, v in options.items() if v != defaults[k] and k != "extra"}
