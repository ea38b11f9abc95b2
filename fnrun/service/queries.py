"""What the service's routes share: the router, the path prefix, the request parameters
(project, labels, iteration, log offsets, a JSON body) and the ``label=k=v`` filters — one
rule for fnrun's REST API, MLRun's API and the web UI."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from fnrun.errors import InvalidArgumentError

PREFIX = "/api/v1"
MAX_INT = 2**31 - 1  # query integers the DB columns hold (a larger one is a 422, not a 500)
MAX_LABELS, MAX_LABEL = 32, 512

Doc = dict[str, Any]
Project = Annotated[str, Query(min_length=1, max_length=63)]
Labels = Annotated[list[str] | None, Query(alias="label")]
DocBody = Annotated[Doc, Body()]
Iter = Annotated[int, Query(ge=0, le=MAX_INT)]  # one iteration (0: the parent run)
Count = Annotated[int, Query(ge=0, le=MAX_INT)]  # a page: how many, or how many to skip
AnyIter = Annotated[int | None, Query(ge=0, le=MAX_INT)]  # an iteration, or all of them
Offset = Annotated[int, Query(ge=0, le=2**62)]  # a byte offset into a log
Size = Annotated[int, Query(ge=-1, le=2**62)]  # bytes of a log (-1: to the end)


def query_labels(values: list[str] | None) -> dict[str, str] | None:
    """``label=k=v`` query values as a dict (at most :data:`MAX_LABELS`, each at most
    :data:`MAX_LABEL` characters)."""
    if not values:
        return None
    if len(values) > MAX_LABELS or any(len(v) > MAX_LABEL for v in values):
        raise InvalidArgumentError(
            f"at most {MAX_LABELS} label filters of {MAX_LABEL} characters each",
            field="label",
            hint="filter on fewer or shorter labels",
        )
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise InvalidArgumentError(
                f"label filter {value!r} is not key=value", field="label", hint="label=owner=ann"
            )
        out[key] = val
    return out


class Router(APIRouter):
    """An ``APIRouter`` whose routes answer JSON encoded once, by orjson.

    A route function returns a document (or a ``Response``, sent as it is); the answer is
    encoded here, not validated against the return annotation and re-encoded as FastAPI does
    by default (for a plain ``def`` route that is a second trip to a worker thread, and a
    walk over every run of a list in Python). A plain ``def`` route still runs on a worker
    thread, once; the annotation still documents the answer in the OpenAPI schema."""

    def __init__(self, prefix: str = PREFIX, **kwargs: Any) -> None:
        super().__init__(prefix=prefix, **kwargs)

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, _answering_json(endpoint), **kwargs)


def _answering_json(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    threaded = not inspect.iscoroutinefunction(endpoint)

    @functools.wraps(endpoint)
    async def answered(**kwargs: Any) -> Any:
        if threaded:
            result = await run_in_threadpool(endpoint, **kwargs)
        else:
            result = await endpoint(**kwargs)
        return result if isinstance(result, Response) else json_response(result)

    return answered


def json_response(value: Any) -> Response:
    """``value`` as a JSON answer (what FastAPI would send for it: a non-finite float as
    null, a datetime in ISO format, any other object through FastAPI's encoder)."""
    try:
        body = orjson.dumps(value, default=jsonable_encoder, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer wider than 64 bits, say
        return JSONResponse(_finite(jsonable_encoder(value)))
    return Response(body, media_type="application/json")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
