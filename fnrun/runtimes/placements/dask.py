"""``dask``: the handler runs in this process as the Dask client (as MLRun's dask kind): it
gets ``context.dask_client``, connected to the function's cluster (``fn.client``)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import fnrun.tracing as tracing
from fnrun.db import db_token, get_run_db
from fnrun.execution.execute import RunRequest, execute
from fnrun.model.function_like import maker
from fnrun.runtimes.placements import Place, register_placement
from fnrun.runtimes.placements.here import in_process
from fnrun.runtimes.placements.shipping import ship_code

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike


def dask_client_side(fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place:
    run_here = in_process(fn, db, settings, watch)

    def place(request: Any) -> dict[str, Any]:
        extras = {**request.context_extras, **fn.run_extras()}  # the cluster's client
        _ship_code(fn, extras["dask_client"], settings)
        return run_here(dataclasses.replace(request, context_extras=extras))

    return place


def _ship_code(fn: RuntimeLike, client: Any, settings: Settings) -> None:
    """The code's module file goes to every worker (``client.upload_file``), so tasks made
    from its functions unpickle wherever the cluster runs them."""
    ship_code(fn, settings.home, client, lambda path: client.upload_file(path, load=False))


def dask_workers(fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place:
    """Each request runs on a worker of the function's cluster (parallel hyper-parameter
    iterations): the worker executes it through the same path and writes the run DB named by
    ``db.url`` (a SQLite file on this machine, or PostgreSQL for a cluster elsewhere)."""
    from fnrun.execution.entry import exec_config

    def place(request: Any) -> dict[str, Any]:
        client = fn.client  # type: ignore[attr-defined]
        _ship_code(fn, client, settings)
        config = exec_config(request)
        future = client.submit(
            run_on_worker,
            config,
            dict(request.secrets),
            db.url,
            str(settings.home),
            settings.artifact_path,
            db_token(db),
            pure=False,
            key=f"fnrun-{request.uid or 'run'}-{request.iteration}",
        )
        future.result()
        return db.read_run(config["run"]["uid"], request.project, request.iteration)

    return place


def run_on_worker(
    config: dict[str, Any],
    secrets: dict[str, str],
    db_url: str,
    home: str,
    artifact_path: str,
    token: str = "",
) -> str:
    """On a Dask worker: run one request (its config as ``fnrun exec`` gets it); the state.
    ``token``: the fnrun service's, when the run DB is the service."""
    from pathlib import Path

    load = maker("function_from_dict")
    fn = load(config["function"]) if config.get("function") else None
    request = RunRequest(function=fn, secrets=secrets, **config["run"])
    request.artifact_path = request.artifact_path or artifact_path
    db = get_run_db(db_url, token=token or None)
    # OTEL_* in the worker's environment: its runs' spans are exported (the SDK flushes
    # them at the worker's exit); the run continues the caller's trace (request.trace)
    tracing.configure_from_env(fn.metadata.name if fn is not None else "")
    ctx = execute(request, db, code_dir=Path(home) / "code", echo=False)
    return str(ctx.state)


def _address(fn: RuntimeLike) -> str:
    return getattr(fn, "scheduler_address", "") or "(a LocalCluster)"


def _client_side(fn: RuntimeLike) -> str:
    link = fn.dashboard_link  # type: ignore[attr-defined]  # connects: the run is about to
    return f"the client here, tasks on Dask {_address(fn)}" + (
        f", dashboard {link}" if link else ""
    )


register_placement("dask", dask_client_side, _client_side)
register_placement("dask-workers", dask_workers, lambda fn: f"iterations on Dask {_address(fn)}")
