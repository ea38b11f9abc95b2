"""A command's process joins the run that started it (MLRun's ``mode="args"`` and
``mode="pass"``): the run's process hands the command its run in the environment
(:data:`ATTACH_ENV`, the secrets apart in :data:`ATTACH_SECRETS_ENV`), so
``get_or_create_ctx`` there returns a context for *that* run — same uid and iteration, its
params, inputs and labels — not a second run; when the command ends, the run's process takes
in what the command's context committed (:func:`adopt`: results, artifacts, labels and the
error it recorded), so the run you started holds them. As MLRun's ``MLRUN_EXEC_CONFIG``.

The run DB must be one both processes reach (a SQL file or the fnrun service; the token of a
service travels in ``FNRUN_TOKEN``, as to any child process)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fnrun.db import db_token, get_run_db
from fnrun.execution.context import RunContext

ATTACH_ENV = "FNRUN_RUN_ATTACH"
ATTACH_SECRETS_ENV = "FNRUN_RUN_ATTACH_SECRETS"


def attach_env(ctx: RunContext) -> dict[str, str]:
    """The environment a command started by the run ``ctx`` joins it through."""
    run = {
        "name": ctx.name,
        "project": ctx.project,
        "uid": ctx.uid,
        "iteration": ctx.iteration,
        "parameters": ctx.parameters,
        "inputs": dict(ctx.inputs),
        "labels": dict(ctx.labels),
        "artifact_path": ctx.artifact_path,
        "handler": ctx.handler,
        "function_uri": ctx.function_uri,
        "watcher": ctx.watcher,
        "executor": ctx.executor,  # the run's own process: the one that ends the run
        "db": ctx.db.url if ctx.db is not None else "",
    }
    env = {ATTACH_ENV: json.dumps(run, default=str)}
    if ctx.secret_values():
        env[ATTACH_SECRETS_ENV] = json.dumps(ctx.secret_values())
    if ctx.db is not None and db_token(ctx.db):
        env["FNRUN_TOKEN"] = db_token(ctx.db)
    return env


def attached_context(environ: Mapping[str, str]) -> RunContext | None:
    """The context of the run this process was started by (``running``), or None."""
    raw = environ.get(ATTACH_ENV)
    if not raw:
        return None
    run: dict[str, Any] = json.loads(raw)
    db_url, executor = run.pop("db", ""), run.pop("executor", None)
    secrets = json.loads(environ.get(ATTACH_SECRETS_ENV) or "{}")
    db = get_run_db(db_url, token=environ.get("FNRUN_TOKEN") or None) if db_url else None
    ctx = RunContext(**run, secrets=secrets, db=db)
    ctx.executor = executor or ctx.executor
    ctx.state = "running"
    return ctx


def adopt(ctx: RunContext) -> str:
    """Take into ``ctx`` what the command's context committed for this run; the error that
    context recorded ("" when none)."""
    if ctx.db is None:
        return ""
    doc = ctx.db.read_run(ctx.uid, ctx.project, ctx.iteration)
    status, labels = doc.get("status") or {}, (doc.get("metadata") or {}).get("labels")
    ctx.results.update(status.get("results") or {})
    ctx.artifact_uris.update(status.get("artifact_uris") or {})
    ctx.labels.update(labels or {})
    return str(status.get("error") or "")
