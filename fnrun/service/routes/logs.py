"""``/api/v1/logs``: a run's log, appended in chunks and read by offset; the two helpers are
shared with MLRun's log routes (:mod:`fnrun.service.routes.mlrun`)."""

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fnrun.db.base import RunDB
from fnrun.service.queries import Doc, Offset, Project, Router, Size


async def append_log(db: RunDB, request: Request, uid: str, project: str, append: bool) -> None:
    """Store the request's body as (a chunk of) the run's log, off the event loop."""
    await run_in_threadpool(db.store_log, uid, project, await request.body(), append)


def log_response(
    db: RunDB, uid: str, project: str, offset: int, size: int, state_header: str
) -> Response:
    """``size`` bytes of the run's log from ``offset`` (-1: to the end), the run's state in
    ``state_header``, so a client tails it by offset."""
    state, data = db.get_log(uid, project, offset, size)
    return Response(data, media_type="application/octet-stream", headers={state_header: state})


def routes(db: RunDB) -> Router:
    router = Router()

    @router.post("/logs/{uid}")
    async def store_log(uid: str, request: Request, project: Project, append: bool = True) -> Doc:
        await append_log(db, request, uid, project, append)
        return {}

    @router.get("/logs/{uid}")
    def get_log(uid: str, project: Project, offset: Offset = 0, size: Size = -1) -> Response:
        return log_response(db, uid, project, offset, size, "x-fnrun-run-state")

    return router
