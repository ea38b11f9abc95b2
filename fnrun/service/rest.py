"""The run-DB service: fnrun's ``RunDB`` over HTTP, ``/api/v1`` (FastAPI).

One route per ``RunDB`` call, so every client (SDK, CLI, child processes, pods) shares one
DB through :class:`fnrun.db.http.HTTPRunDB` and gets the answers the SQL DB gives. Errors are
JSON ``{"error", "message", "field", "hint"}`` with a 4xx status (404 not found, 400 bad
input, 409 conflict, 422 a malformed request, 503 the DB failing); never a stack trace.
With a token, every request but ``/api/v1/healthz`` needs ``Authorization: Bearer <token>``
(compared in constant time); without it answers 401.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fnrun.config import SERVICE_LIMITS, ServeLimits
from fnrun.db.base import RunDB
from fnrun.errors import (
    AccessError,
    ConflictError,
    DBError,
    FnrunError,
    IntegrityError,
    NotFoundError,
)
from fnrun.service.access import SESSION_COOKIE, allowed
from fnrun.service.guard import ServiceGuard
from fnrun.service.queries import MAX_INT, query_labels
from fnrun.service.sessions import Sessions

PREFIX = "/api/v1"
Doc = dict[str, Any]


def status_for(exc: FnrunError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, AccessError):
        return 403
    if isinstance(exc, ConflictError | IntegrityError):
        return 409
    if isinstance(exc, DBError):
        return 503
    return 400


def _guard(app: Any, token: str, allowed_hosts: tuple[str, ...] | None) -> None:
    """Put :class:`ServiceGuard` outside everything, error answers included."""
    limits = ServeLimits.from_env(prefix="FNRUN_SERVICE_", base=SERVICE_LIMITS)
    if allowed_hosts is None:
        allowed_hosts = tuple(
            h.strip() for h in os.environ.get("FNRUN_SERVICE_HOSTS", "").split(",")
        )
    build = app.build_middleware_stack

    def guarded() -> Any:
        return ServiceGuard(build(), token, max_body=limits.max_body,
                            max_depth=limits.max_depth, allowed_hosts=allowed_hosts)  # fmt: skip

    app.build_middleware_stack = guarded


def create_app(
    db: RunDB,
    token: str = "",
    *,
    scheduler: bool = True,
    artifact_roots: list[Path] | None = None,
    workers: int = 8,
    allowed_hosts: tuple[str, ...] | None = None,
) -> Any:
    """The FastAPI app over ``db`` (``token``: required from every client when set).

    It runs submitted jobs on ``workers`` threads and, with ``scheduler`` and a SQL DB, the
    schedules stored in it; artifact downloads serve local files under ``artifact_roots``
    only (default: the service's artifact path). Every request passes
    :class:`fnrun.service.guard.ServiceGuard` first (limits from ``FNRUN_SERVICE_*``;
    without a token, only ``Host`` names on loopback or in ``allowed_hosts``, default
    ``FNRUN_SERVICE_HOSTS``, comma-separated)."""
    from fastapi import Body, FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, RedirectResponse, Response

    from fnrun.config import get_settings
    from fnrun.service.jobs import JobRunner
    from fnrun.service.log_routes import Offset, Size, append_log, log_response
    from fnrun.service.mlrun_api import (
        CLIENT_HEADER,
        MLRUN_PREFIX,
        mlrun_routes,
        rewrite_mlrun_path,
    )
    from fnrun.service.rest_jobs import job_routes
    from fnrun.service.scheduler import Scheduler

    sessions = Sessions(db, token)
    runner = JobRunner(db, workers=workers)
    clock = Scheduler(db, runner) if scheduler and hasattr(db, "due_schedules") else None  # type: ignore[arg-type]
    roots = artifact_roots or [Path(get_settings().artifact_path)]
    default_project = getattr(db, "default_project", "") or get_settings().default_project

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if clock is not None:
            clock.start()
        try:
            yield
        finally:
            if clock is not None:
                clock.stop()
            runner.close()

    app = FastAPI(
        title="fnrun service",
        version="1",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads its script from a CDN: no third-party script here
        redoc_url=None,
        lifespan=lifespan,
    )
    _guard(app, token, allowed_hosts)

    @app.middleware("http")
    async def authorized(request: Request, call_next: Any) -> Any:
        path = request.url.path
        if not allowed(
            token,
            request.method,
            path,
            request.headers.get("authorization", ""),
            request.cookies.get(SESSION_COOKIE, ""),
            sessions.valid,
        ):
            if path == "/ui" or path.startswith("/ui/"):  # a person: the login page
                return RedirectResponse(f"/ui/login?next={quote(path)}", status_code=303)
            body = {
                "error": "Unauthorized",
                "message": "a valid token is needed",
                "field": "Authorization",
                "hint": "send Authorization: Bearer <FNRUN_TOKEN>",
            }
            return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if request.headers.get(CLIENT_HEADER) and request.url.path.startswith("/api/"):
            # MLRun's own client: its API (fnrun.service.mlrun_api) at the same address
            path = rewrite_mlrun_path(request.url.path, default_project)
            request.scope["path"], request.scope["raw_path"] = path, path.encode()
        return await call_next(request)

    @app.exception_handler(FnrunError)
    async def fnrun_error(request: Request, exc: FnrunError) -> Response:
        if request.url.path.startswith("/ui/"):
            from fnrun.service.ui import error_page

            return error_page(status_for(exc), exc.to_dict()["message"], exc.hint)
        body = exc.to_dict()
        if request.url.path.startswith(MLRUN_PREFIX):  # MLRun's client reads "detail"
            body["detail"] = str(exc)
        return JSONResponse(body, status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        body = {"error": "InvalidArgumentError", "message": str(first.get("msg", "bad request")),
                "field": field, "hint": f"see {PREFIX}/openapi.json"}  # fmt: skip
        if request.url.path.startswith(MLRUN_PREFIX):
            body["detail"] = f"{field}: {body['message']}"
        return JSONResponse(body, status_code=422)

    Project = Annotated[str, Query(min_length=1, max_length=63)]
    Labels = Annotated[list[str] | None, Query(alias="label")]
    DocBody = Annotated[Doc, Body()]

    @app.get(f"{PREFIX}/healthz")
    def healthz() -> Doc:
        return {"status": "ok"}

    # -- projects ------------------------------------------------------------------------
    @app.put(f"{PREFIX}/projects/{{name}}")
    def store_project(name: str, project: DocBody) -> Doc:
        db.store_project(name, project or None)
        return {}

    @app.get(f"{PREFIX}/projects/{{name}}")
    def get_project(name: str) -> Doc:
        return db.get_project(name)

    @app.get(f"{PREFIX}/projects")
    def list_projects() -> list[Doc]:
        return db.list_projects()

    @app.delete(f"{PREFIX}/projects/{{name}}")
    def delete_project(name: str) -> Doc:
        db.delete_project(name)
        return {}

    # -- functions -----------------------------------------------------------------------
    @app.post(f"{PREFIX}/functions/{{name}}")
    def store_function(
        name: str, function: DocBody, project: Project, tag: str = "latest", versioned: bool = True
    ) -> Doc:
        return {"hash_key": db.store_function(function, name, project, tag, versioned)}

    @app.get(f"{PREFIX}/functions/{{name}}")
    def get_function(name: str, project: Project, tag: str = "", hash_key: str = "") -> Doc:
        return db.get_function(name, project, tag, hash_key)

    @app.get(f"{PREFIX}/functions")
    def list_functions(
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        label: Labels = None,
    ) -> list[Doc]:
        return db.list_functions(name, project, tag, query_labels(label))

    @app.get(f"{PREFIX}/functions/{{name}}/versions")
    def list_function_versions(name: str, project: Project) -> list[Doc]:
        return db.list_function_versions(name, project)

    @app.put(f"{PREFIX}/functions/{{name}}/tags/{{tag}}")
    def tag_function(name: str, tag: str, project: Project, hash_key: str) -> Doc:
        db.tag_function(name, project, tag, hash_key)
        return {}

    @app.delete(f"{PREFIX}/functions/{{name}}")
    def delete_function(name: str, project: Project) -> Doc:
        db.delete_function(name, project)
        return {}

    # -- runs ----------------------------------------------------------------------------
    Iter = Annotated[int, Query(ge=0, le=MAX_INT)]
    AnyIter = Annotated[int | None, Query(ge=0, le=MAX_INT)]

    @app.put(f"{PREFIX}/runs/{{uid}}")
    def store_run(uid: str, run: DocBody, project: Project, iter: Iter = 0) -> Doc:
        db.store_run(run, uid, project, iter)
        return {}

    @app.patch(f"{PREFIX}/runs/{{uid}}")
    def update_run(uid: str, updates: DocBody, project: Project, iter: Iter = 0) -> Doc:
        return db.update_run(updates, uid, project, iter)

    @app.get(f"{PREFIX}/runs/{{uid}}")
    def read_run(uid: str, project: Project, iter: Iter = 0) -> Doc:
        return db.read_run(uid, project, iter)

    @app.get(f"{PREFIX}/runs")
    def list_runs(
        name: str | None = None,
        project: str | None = None,
        label: Labels = None,
        state: str | None = None,
        uid: str | None = None,
        iter: bool = False,
        last: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
        offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
        sort: str = "",
    ) -> list[Doc]:
        """Runs newest first (or by ``sort``); a page: ``last`` runs after the first
        ``offset``."""
        labels = query_labels(label)
        return db.list_runs(name, project, labels, state, uid, iter, last, offset, sort)

    @app.delete(f"{PREFIX}/runs/{{uid}}")
    def del_run(uid: str, project: Project, iter: AnyIter = None) -> Doc:
        db.del_run(uid, project, iter)
        return {}

    # -- artifacts -----------------------------------------------------------------------
    @app.put(f"{PREFIX}/artifacts/{{key}}")
    def store_artifact(
        key: str, artifact: DocBody, project: Project, uid: str, iter: Iter = 0, tag: str = ""
    ) -> Doc:
        db.store_artifact(key, artifact, uid, iter, tag, project)
        return {}

    @app.get(f"{PREFIX}/artifacts/{{key}}")
    def read_artifact(
        key: str,
        project: Project,
        tag: str = "",
        iter: AnyIter = None,
        uid: str | None = None,
    ) -> Doc:
        return db.read_artifact(key, tag, iter, project, uid)

    @app.get(f"{PREFIX}/artifacts")
    def list_artifacts(
        name: str | None = None,
        project: str | None = None,
        tag: str | None = None,
        label: Labels = None,
        kind: str | None = None,
    ) -> list[Doc]:
        return db.list_artifacts(name, project, tag, query_labels(label), kind)

    @app.delete(f"{PREFIX}/artifacts/{{key}}")
    def del_artifact(key: str, project: Project, tag: str | None = None) -> Doc:
        db.del_artifact(key, project, tag)
        return {}

    # -- logs ----------------------------------------------------------------------------
    @app.post(f"{PREFIX}/logs/{{uid}}")
    async def store_log(uid: str, request: Request, project: Project, append: bool = True) -> Doc:
        await append_log(db, request, uid, project, append)
        return {}

    @app.get(f"{PREFIX}/logs/{{uid}}")
    def get_log(uid: str, project: Project, offset: Offset = 0, size: Size = -1) -> Response:
        return log_response(db, uid, project, offset, size, "x-fnrun-run-state")

    app.include_router(job_routes(db, runner, clock, roots), prefix=PREFIX)
    app.include_router(mlrun_routes(db))
    from fnrun.service.ui import static_files, ui_routes

    app.include_router(ui_routes(db, token, roots, sessions))
    app.mount("/ui/static", static_files(), name="ui-static")
    return app
