"""The run-DB service: fnrun's ``RunDB`` over HTTP, ``/api/v1`` (FastAPI): the app, its
guard, authorization and error answers; the routes are one module per resource under
:mod:`fnrun.service.routes`.

One route per ``RunDB`` call, so every client (SDK, CLI, child processes, pods) shares one
DB through :class:`fnrun.db.http.HTTPRunDB` and gets the answers the SQL DB gives. Errors are
JSON ``{"error", "message", "field", "hint"}`` with a 4xx status (404 not found, 400 bad
input, 409 conflict, 422 a malformed request, 503 the DB failing); never a stack trace.
With a token, every request but ``/api/v1/healthz`` needs ``Authorization: Bearer <token>``
(compared in constant time); without it answers 401.
"""

import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fnrun.config import SERVICE_LIMITS, ServeLimits, get_settings
from fnrun.db.base import RunDB
from fnrun.errors import (
    AccessError,
    ConflictError,
    DBError,
    FnrunError,
    IntegrityError,
    NotFoundError,
)
from fnrun.service.guard import ServiceGuard
from fnrun.service.queries import PREFIX
from fnrun.service.sessions import Sessions


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


def error_answer(exc: FnrunError) -> Any:
    """The API's answer to an error: its document, with the status it maps to."""
    from fastapi.responses import JSONResponse

    return JSONResponse(exc.to_dict(), status_code=status_for(exc))


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
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

    from fnrun.service.authorized import Authorized
    from fnrun.service.hot import HotWrites
    from fnrun.service.jobs import JobRunner
    from fnrun.service.routes import (
        artifacts,
        functions,
        hub,
        logs,
        mlrun,
        projects,
        runs,
        schedules,
        submit,
    )
    from fnrun.service.routes.mlrun import MLRUN_PREFIX
    from fnrun.service.scheduler import Scheduler

    sessions = Sessions(db, token)
    runner = JobRunner(db, workers=workers)
    writers = ThreadPoolExecutor(32, thread_name_prefix="fnrun-writes")  # the fast lane's
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
            writers.shutdown(wait=True)

    app = FastAPI(
        title="fnrun service",
        version="1",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads its script from a CDN: no third-party script here
        redoc_url=None,
        lifespan=lifespan,
    )
    _guard(app, token, allowed_hosts)

    # inside authorization: the run and log writes of well-formed requests (fnrun.service.hot)
    app.add_middleware(HotWrites, db=db, error_answer=error_answer, pool=writers)
    app.add_middleware(Authorized, token=token, session_ok=sessions.valid,
                       default_project=default_project)  # fmt: skip

    @app.exception_handler(FnrunError)
    async def fnrun_error(request: Request, exc: FnrunError) -> Response:
        if request.url.path.startswith("/ui/"):
            from fnrun.service.ui import error_page

            return error_page(status_for(exc), exc.to_dict()["message"], exc.hint)
        if request.url.path.startswith(MLRUN_PREFIX):  # MLRun's client reads "detail"
            body = {**exc.to_dict(), "detail": str(exc)}
            return JSONResponse(body, status_code=status_for(exc))
        answer: Response = error_answer(exc)
        return answer

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        body = {"error": "InvalidArgumentError", "message": str(first.get("msg", "bad request")),
                "field": field, "hint": f"see {PREFIX}/openapi.json"}  # fmt: skip
        if request.url.path.startswith(MLRUN_PREFIX):
            body["detail"] = f"{field}: {body['message']}"
        return JSONResponse(body, status_code=422)

    @app.get(f"{PREFIX}/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for router in (
        projects.routes(db),
        functions.routes(db),
        runs.routes(db),
        artifacts.routes(db, roots),
        logs.routes(db),
        schedules.routes(db, clock),
        submit.routes(runner),
        hub.routes(),
    ):
        app.router.routes.extend(router.routes)
    app.router.routes.extend(mlrun.routes(db).routes)
    from fnrun.service.ui import static_files, ui_routes

    app.include_router(ui_routes(db, token, roots, sessions))
    app.mount("/ui/static", static_files(), name="ui-static")
    return app
