"""What the service's routes share: the path prefix, the request parameters (project, labels,
iteration, log offsets, a JSON body) and the ``label=k=v`` filters — one rule for fnrun's
REST API, MLRun's API and the web UI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Query

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
