"""What fnrun's and MLRun's log routes share: the offset/size query and the answer."""

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fnrun.db.base import RunDB

Offset = Annotated[int, Query(ge=0, le=2**62)]
Size = Annotated[int, Query(ge=-1, le=2**62)]


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
