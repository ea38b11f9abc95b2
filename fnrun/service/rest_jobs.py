"""The service's routes beyond the RunDB calls: job submission, schedules, abort, downloads,
the hub.

Imported by :func:`fnrun.service.rest.create_app` only (FastAPI is the service's extra).
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse, Response

from fnrun.db.base import RunDB
from fnrun.service.downloads import answer_headers, artifact_body
from fnrun.service.jobs import JobRunner
from fnrun.service.queries import MAX_INT
from fnrun.service.scheduler import Scheduler

Doc = dict[str, Any]
Project = Annotated[str, Query(min_length=1, max_length=63)]
Labels = Annotated[list[str] | None, Query(alias="label")]
DocBody = Annotated[Doc, Body()]


def job_routes(
    db: RunDB, runner: JobRunner, scheduler: Scheduler | None, roots: list[Path]
) -> APIRouter:
    from fnrun.service.queries import query_labels

    router = APIRouter()

    # -- job submission ------------------------------------------------------------------
    @router.post("/submit")
    def submit(
        function: Annotated[Doc | str, Body(description="the function document or db:// URI")],
        task: Annotated[Doc, Body()],
        project: Annotated[str, Body(max_length=63)] = "",
    ) -> Doc:
        """Run a function on its placement; answers the run (``pending``) at once."""
        return runner.submit(function, task, project)

    @router.post("/runs/{uid}/abort")
    def abort(uid: str, project: Project, iter: Annotated[int, Query(ge=0, le=MAX_INT)] = 0) -> Doc:
        """Stop a run where it executes (the service's host, or its Kubernetes Job)."""
        from fnrun.runtimes.launch.abort import abort_run

        return abort_run(db, uid, project, iter)

    # -- artifact bodies -----------------------------------------------------------------
    @router.get("/artifacts/{key}/download", response_model=None)
    def download(
        key: str,
        project: Project,
        tag: str = "",
        iter: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
        uid: str | None = None,
        path: str = "",
        inline: bool = False,
    ) -> Response:
        """The artifact's bytes; ``inline``: for the browser to draw a passive type (a
        picture, text; HTML and SVG under a sandboxing Content-Security-Policy: no scripts,
        its own origin), anything else still an attachment."""
        body = artifact_body(db.read_artifact(key, tag, iter, project, uid), roots, path)
        media, headers = answer_headers(body.filename, inline)
        if body.path is not None:
            return FileResponse(body.path, media_type=media, headers=headers)
        return Response(body.data, media_type=media, headers=headers)

    # -- schedules -----------------------------------------------------------------------
    @router.put("/schedules/{name}")
    def store_schedule(name: str, schedule: DocBody, project: Project) -> Doc:
        schedule.setdefault("metadata", {})
        if isinstance(schedule["metadata"], dict):
            schedule["metadata"]["name"] = name
        return db.store_schedule(schedule, project)

    @router.get("/schedules/{name}")
    def get_schedule(name: str, project: Project) -> Doc:
        return db.get_schedule(name, project)

    @router.get("/schedules")
    def list_schedules(
        project: str | None = None, name: str | None = None, label: Labels = None
    ) -> list[Doc]:
        return db.list_schedules(project, name, query_labels(label))

    @router.delete("/schedules/{name}")
    def delete_schedule(name: str, project: Project) -> Doc:
        db.delete_schedule(name, project)
        return {}

    @router.post("/schedules/{name}/invoke")
    def invoke_schedule(name: str, project: Project) -> Doc:
        """Run the schedule now (its planned times stay); answers the run."""
        if scheduler is None:
            from fnrun.errors import ConflictError

            raise ConflictError("this service runs no scheduler", field="name")
        return scheduler.invoke(name, project)

    # -- the hub -------------------------------------------------------------------------
    @router.get("/hub/items")
    def hub_items(text: str = "", source: str = "") -> Doc:
        """Every hub item (its latest version) whose name, description or categories hold
        ``text``; ``unreachable`` names the sources that could not be read."""
        from dataclasses import asdict

        from fnrun.marketplace.listing import list_items

        rows, unreachable = list_items(text, source)
        return {"items": [asdict(row) for row in rows], "unreachable": unreachable}

    @router.get("/hub/items/{name}")
    def hub_item(name: str, source: str = "", tag: str = "latest") -> Doc:
        """One hub function: its URI, version, digest and function document."""
        from fnrun.marketplace.resolve import resolve
        from fnrun.model.serialize import from_yaml

        where = f"{source}/" if source else ""
        item = resolve(f"hub://{where}{name}:{tag}")
        return {"uri": item.uri, "source": item.source.name, "name": item.name,
                "version": item.version, "sha256": item.sha256,
                "function": from_yaml(item.text, item.uri)}  # fmt: skip

    return router
