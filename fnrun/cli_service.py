"""``fnrun service``: the run DB over HTTP (:mod:`fnrun.service.rest`) for a team."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fnrun.cli_common import console
from fnrun.config import get_settings, to_db_url
from fnrun.errors import InvalidArgumentError
from fnrun.extras import require

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def service(
    host: Annotated[str, typer.Option(help="interface to bind (loopback unless told)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="port")] = 8080,
    db: Annotated[
        str, typer.Option(help="the run DB: a SQLAlchemy URL or SQLite file (FNRUN_DBPATH)")
    ] = "",
    token: Annotated[
        str,
        typer.Option(
            envvar="FNRUN_TOKEN",
            show_default=False,
            help="token every client must send (FNRUN_TOKEN)",
        ),
    ] = "",
    artifact_root: Annotated[
        list[Path] | None,
        typer.Option(help="where artifact downloads may read (repeat; default: artifact path)"),
    ] = None,
    scheduler: Annotated[bool, typer.Option(help="run the stored schedules")] = True,
    workers: Annotated[int, typer.Option(min=1, help="submitted runs started at once")] = 8,
    manifests: Annotated[
        bool, typer.Option(help="print Kubernetes manifests for the service and exit")
    ] = False,
    image: Annotated[str, typer.Option(help="--manifests: the image with fnrun")] = "",
    namespace: Annotated[str, typer.Option(help="--manifests: the namespace")] = "default",
    replicas: Annotated[int, typer.Option(min=1, help="--manifests: replicas")] = 1,
) -> None:
    """Serve the run DB, job submission and schedules under /api/v1 (clients:
    FNRUN_DBPATH=http://HOST:PORT)."""
    if manifests:
        from fnrun.service.k8s import manifests_yaml, service_manifests

        objects = service_manifests(namespace=namespace, image=image, replicas=replicas)
        print(manifests_yaml(objects, "fnrun-service", namespace), end="")
        return

    require("uvicorn", "service", "the fnrun service", field="service")
    require("fastapi", "service", "the fnrun service", field="service")
    from fnrun.db.sql.sqldb import SQLRunDB
    from fnrun.service.queries import PREFIX
    from fnrun.service.rest import create_app

    url = to_db_url(db) if db else get_settings().db_url
    if url.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            "the service needs a SQL database, not another service",
            field="db",
            hint="give a postgresql:// URL or a SQLite file",
        )
    for field, value in (("token", token), ("db", url)):
        if "<set me" in value:
            raise InvalidArgumentError(
                f"the {field} is still the manifests' placeholder",
                field=field,
                hint="set the Secret's values: kubectl create secret generic ... (see the "
                "comment at the top of `fnrun service --manifests`)",
            )
    if host not in _LOOPBACK and not token:
        console.print(f"[yellow]warning: {host} is not loopback and no token is set: anyone "
                      "who reaches it can read and change every run[/yellow]")  # fmt: skip
    app = create_app(SQLRunDB(url), token=token, scheduler=scheduler,
                     artifact_roots=artifact_root or None, workers=workers)  # fmt: skip
    shown = url.split("@")[-1] if "@" in url else url  # never the DB password
    console.print(f"web UI on http://{host}:{port}/ui")
    console.print(f"fnrun service on http://{host}:{port}{PREFIX} over {shown}"
                  + (" (token required)" if token else ""))  # fmt: skip
    import uvicorn

    from fnrun.service.http_protocol import service_config

    uvicorn.Server(service_config(app, host, port, log_level="warning")).run()
