"""``dask``: the handler runs in this process as the Dask client (as MLRun's dask kind): it
gets ``context.dask_client``, connected to the function's cluster (``fn.client``)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from fnrun.runtimes.placements import Place, register_placement
from fnrun.runtimes.placements.here import in_process

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.runtimes.base import BaseRuntime


def dask_client_side(fn: BaseRuntime, db: RunDB, settings: Settings, watch: bool) -> Place:
    run_here = in_process(fn, db, settings, watch)

    def place(request: Any) -> dict[str, Any]:
        client = fn.client  # type: ignore[attr-defined]  # the dask kind's cluster connection
        _ship_code(fn, client, settings)
        extras = {**request.context_extras, "dask_client": client}
        return run_here(dataclasses.replace(request, context_extras=extras))

    return place


def _ship_code(fn: BaseRuntime, client: Any, settings: Settings) -> None:
    """The function's code is a module only this process has (``fnrun_code_<sha>``): its
    file goes to every worker under that module name (``client.upload_file``), so tasks made
    from its functions unpickle anywhere the cluster runs. Once per client and code version."""
    if not fn.code:
        return
    import hashlib
    from pathlib import Path

    digest = hashlib.sha1(fn.code.encode("utf-8")).hexdigest()
    sent: set[tuple[int, str]] = fn.__dict__.setdefault("_dask_code_sent", set())
    if (id(client), digest) in sent:
        return
    path = Path(settings.home) / "code" / digest / f"fnrun_code_{digest}.py"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fn.code)
    client.upload_file(str(path), load=False)
    sent.add((id(client), digest))


def dask_workers(fn: BaseRuntime, db: RunDB, settings: Settings, watch: bool) -> Place:
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
            pure=False,
            key=f"fnrun-{request.uid or 'run'}-{request.iteration}",
        )
        future.result()
        return db.read_run(config["run"]["uid"], request.project, request.iteration)

    return place


def run_on_worker(
    config: dict[str, Any], secrets: dict[str, str], db_url: str, home: str, artifact_path: str
) -> str:
    """On a Dask worker: run one request (its config as ``fnrun exec`` gets it); the state."""
    from pathlib import Path

    from fnrun.db import get_run_db
    from fnrun.execution.execute import RunRequest, execute
    from fnrun.runtimes.factory import function_from_dict

    fn = function_from_dict(config["function"]) if config.get("function") else None
    request = RunRequest(function=fn, secrets=secrets, **config["run"])
    request.artifact_path = request.artifact_path or artifact_path
    ctx = execute(request, get_run_db(db_url), code_dir=Path(home) / "code", echo=False)
    return str(ctx.state)


register_placement("dask", dask_client_side)
register_placement("dask-workers", dask_workers)
