"""Schedules: a function's run request stored with a cron expression, run by the service.

A schedule is ``{kind: "schedule", metadata: {name, project, labels}, spec, status}``:

- ``spec.cron``: five cron fields (minute hour day-of-month month day-of-week), in UTC;
- ``spec.function``: the function document to run (code embedded), ``spec.task``: the run
  request (handler, params, inputs, labels, secret sources by reference, artifact path,
  returns, hyper-parameters);
- ``spec.overlap``: ``skip`` (default; a due time while the previous run still goes runs
  nothing, as MLRun's ``concurrency_limit=1``) or ``allow``;
- ``spec.missed``: what the service does with due times it missed (it was down): ``run-once``
  (default; one catch-up run, however many were missed) or ``skip`` (wait for the next time);
- ``status``: ``next_run_time``, ``last_run_time``, ``last_run_uid``, ``runs``, ``skipped``
  (counts) and ``last_skip`` (when and why).

Secret *values* are refused: they would be stored in the DB. Secret sources that name values
kept elsewhere (``env`` names, a ``file`` on the service's host) are resolved at each run.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require

OVERLAP = ("skip", "allow")
MISSED = ("run-once", "skip")
SCHEDULE_LABEL = "fnrun/schedule"  # on every run a schedule starts: the schedule's name
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$")
_TASK_KEYS = {
    "name",
    "handler",
    "params",
    "inputs",
    "labels",
    "secret_sources",
    "artifact_path",
    "returns",
    "hyperparams",
    "hyper_param_options",
}

Doc = dict[str, Any]


def check_cron(expr: Any) -> str:
    """``expr`` as a checked five-field cron string (``*/5 * * * *``)."""

    if not isinstance(expr, str) or len(expr.split()) != 5:
        raise InvalidArgumentError(
            f"schedule {expr!r} is not a cron expression of five fields",
            field="schedule",
            hint="minute hour day-of-month month day-of-week, e.g. '*/5 * * * *' (UTC)",
        )
    croniter = require("croniter", "service", "cron schedules", field="schedule")
    if not croniter.croniter.is_valid(expr):
        raise InvalidArgumentError(
            f"schedule {expr!r} is not a valid cron expression",
            field="schedule",
            hint="see crontab.guru; fields: minute hour day-of-month month day-of-week",
        )
    return " ".join(expr.split())


def next_after(cron: str, after: datetime) -> datetime:
    """The first time ``cron`` fires strictly after ``after`` (UTC)."""
    from croniter import croniter

    nxt: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
    return nxt.astimezone(UTC)


def iso(when: datetime) -> str:
    """``when`` as UTC ISO-8601 with microseconds: every stamp the same width, so the DB
    sorts and compares them as text."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def new_schedule(
    name: str,
    project: str,
    cron: str,
    function: Doc,
    task: Doc,
    labels: dict[str, str] | None = None,
    overlap: str = "skip",
    missed: str = "run-once",
) -> Doc:
    return {
        "kind": "schedule",
        "metadata": {"name": name, "project": project, "labels": dict(labels or {})},
        "spec": {
            "cron": cron,
            "overlap": overlap,
            "missed": missed,
            "function": function,
            "task": task,
        },
        "status": {},
    }


def validate_schedule(given: Any, project: str = "") -> Doc:
    """A checked copy of schedule document ``given``; every problem names its field."""
    if not isinstance(given, dict):
        raise InvalidArgumentError("a schedule must be a JSON object", field="schedule")
    doc: Doc = copy.deepcopy(given)
    meta = _mapping(doc, "metadata")
    spec = _mapping(doc, "spec")
    name = meta.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgumentError(
            f"schedule name {name!r} is not valid",
            field="metadata.name",
            hint="lower-case letters, digits, '-', '_' and '.', at most 63 characters",
        )
    meta["project"] = project or meta.get("project") or ""
    labels = meta.setdefault("labels", {})
    if not isinstance(labels, dict):
        raise InvalidArgumentError("labels must be an object", field="metadata.labels")
    spec["cron"] = check_cron(spec.get("cron"))
    _choice(spec, "overlap", OVERLAP)
    _choice(spec, "missed", MISSED)
    function = spec.get("function")
    if not isinstance(function, dict) or not function.get("kind"):
        raise InvalidArgumentError(
            "a schedule needs the function document to run",
            field="spec.function",
            hint="fn.to_dict() of a batch function (its code embedded)",
        )
    check_task(_mapping(spec, "task"))
    doc["kind"] = "schedule"
    doc.setdefault("status", {})
    return doc


def check_task(task: Any, field: str = "spec.task", inline_secrets: bool = False) -> None:
    """Check a run task (``inline_secrets``: values allowed, for a submission that keeps them
    in memory only; a schedule would store them)."""
    if not isinstance(task, dict):
        raise InvalidArgumentError("the task must be an object", field=field)
    unknown = sorted(set(task) - _TASK_KEYS)
    if unknown:
        raise InvalidArgumentError(
            f"unknown task field {unknown[0]!r}",
            field=f"{field}.{unknown[0]}",
            hint=f"known: {', '.join(sorted(_TASK_KEYS))}",
        )
    for key in ("params", "inputs", "labels", "hyper_param_options"):
        if not isinstance(task.get(key) or {}, dict):
            raise InvalidArgumentError(f"{key} must be an object", field=f"{field}.{key}")
    if not isinstance(task.get("hyperparams") or {}, dict | list):
        raise InvalidArgumentError(
            "hyperparams must be an object of lists or a list of objects",
            field=f"{field}.hyperparams",
        )
    for key in ("name", "handler", "artifact_path"):
        if not isinstance(task.get(key) or "", str):
            raise InvalidArgumentError(f"{key} must be a string", field=f"{field}.{key}")
    if not isinstance(task.get("returns") or [], list):
        raise InvalidArgumentError("returns must be a list", field=f"{field}.returns")
    sources = task.get("secret_sources") or []
    if not isinstance(sources, list):
        raise InvalidArgumentError("secret sources must be a list", field=f"{field}.secret_sources")
    allowed = ("env", "file", "inline") if inline_secrets else ("env", "file")
    for source in sources:
        kind = source.get("kind") if isinstance(source, dict) else None
        if kind not in allowed:
            raise InvalidArgumentError(
                "a schedule cannot keep secret values: they would be stored in the run DB"
                if kind == "inline"
                else f"secret source kind {kind!r} is not one of {', '.join(allowed)}",
                field=f"{field}.secret_sources",
                hint="name them instead: secrets=[{'kind': 'env', 'source': 'NAME'}] (set in "
                "the service's environment) or {'kind': 'file', 'source': '/path/on/service'}",
            )


def _mapping(doc: Doc, key: str) -> Doc:
    value = doc.setdefault(key, {})
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{key} must be an object", field=key)
    return value


def _choice(spec: Doc, key: str, allowed: tuple[str, ...]) -> None:
    value = spec.setdefault(key, allowed[0])
    if value not in allowed:
        raise InvalidArgumentError(
            f"{key} {value!r} is not one of {', '.join(allowed)}",
            field=f"spec.{key}",
            hint=f"{key}={allowed[0]!r} (default) or {allowed[1]!r}",
        )
