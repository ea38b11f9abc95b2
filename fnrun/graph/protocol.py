"""Inference request/response shapes: MLRun's row lists and the Open Inference Protocol (v2).

Row lists: ``{"inputs": [[...], ...]}`` -> ``{"id", "model_name", "model_version", "outputs",
"timestamp"}``. Tensors (Open Inference Protocol): ``{"inputs": [{"name", "shape", "datatype",
"data"}]}`` -> ``{"id", "model_name", "model_version", "outputs": [{"name", "shape", "datatype",
"data"}]}``, where the first input's flat ``data`` is reshaped into rows for ``predict``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from math import prod
from typing import Any

from fnrun.errors import InvalidArgumentError

_DATATYPES = {bool: "BOOL", int: "INT64", float: "FP64", str: "BYTES"}


def is_tensor_request(body: Any) -> bool:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    return (
        isinstance(inputs, list)
        and bool(inputs)
        and isinstance(inputs[0], dict)
        and "data" in inputs[0]
    )


def _number(x: Any) -> bool:
    return (type(x) is float or type(x) is int) and x == x  # NaN is not a valid element here


def _integer(x: Any) -> bool:
    return type(x) is int


def _unsigned(x: Any) -> bool:
    return type(x) is int and x >= 0


def _scalar(x: Any) -> bool:
    return type(x) in (int, float, str, bool)


def _bool(x: Any) -> bool:
    return type(x) is bool


def _text(x: Any) -> bool:
    return type(x) is str


# Open Inference Protocol datatypes -> the JSON element each allows
_ELEMENT: dict[str, Callable[[Any], bool]] = {
    "BOOL": _bool,
    **{f"UINT{n}": _unsigned for n in (8, 16, 32, 64)},
    **{f"INT{n}": _integer for n in (8, 16, 32, 64)},
    **{f"FP{n}": _number for n in (16, 32, 64)},
    "BYTES": _text,
}


def _bad(field: str, message: str, hint: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, field=field, hint=hint)


def _check_shape(shape: Any, field: str) -> list[int] | None:
    if shape is None:
        return None
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise _bad(
            f"{field}.shape",
            f"shape must be a list of non-negative integers, got {shape!r}",
            'e.g. "shape": [1, 4]',
        )
    return shape


def _leaves(data: list[Any], field: str) -> tuple[list[int], list[Any]]:
    """The shape of nested ``data`` and its elements; ragged nesting is an error."""
    dims: list[int] = []
    level: list[Any] = data
    while True:
        dims.append(len(level))
        lists = [isinstance(x, list) for x in level]
        if not any(lists):
            return dims, level
        if not all(lists) or len({len(x) for x in level}) != 1:
            raise _bad(
                f"{field}.data",
                "data is ragged: nested lists of different lengths or mixed with values",
                "every row must have the same length",
            )
        level = [y for x in level for y in x]


def rows_from_tensor(tensor: Any, index: int = 0) -> list[Any]:
    """The tensor's flat (or nested) ``data`` as rows of its ``shape``, after checking that
    ``shape``, ``datatype`` and ``data`` agree (a client error names the field: 400)."""
    field = f"inputs[{index}]"
    if not isinstance(tensor, dict) or not isinstance(tensor.get("data"), list):
        raise _bad(
            f"{field}.data",
            "a tensor input needs a 'data' list",
            "send {name, shape, datatype, data}",
        )
    data: list[Any] = tensor["data"]
    shape = _check_shape(tensor.get("shape"), field)
    dtype = tensor.get("datatype")
    if dtype is not None and (not isinstance(dtype, str) or dtype.upper() not in _ELEMENT):
        raise _bad(
            f"{field}.datatype", f"unknown datatype {dtype!r}", "use one of " + ", ".join(_ELEMENT)
        )
    dims, flat = _leaves(data, field)
    ok = _ELEMENT[dtype.upper()] if isinstance(dtype, str) else _scalar
    if not all(ok(x) for x in flat):
        bad = next(x for x in flat if not ok(x))
        raise _bad(
            f"{field}.data",
            f"element {bad!r} does not fit datatype {dtype or 'a JSON scalar'}",
            "send numbers for INT/UINT/FP, true/false for BOOL, strings for BYTES",
        )
    if shape is None:
        return data
    if prod(shape) != prod(dims):
        raise _bad(
            f"{field}.shape",
            f"data of {prod(dims)} elements does not fit shape {shape}",
            "shape must multiply to the number of elements in data",
        )
    if len(dims) > 1 or len(shape) < 2:
        return data
    width = prod(shape[1:])
    return [data[i : i + width] for i in range(0, len(data), width)] if width else []


def check_tensors(inputs: list[Any]) -> None:
    """Check every tensor of a request (the first becomes the rows given to ``predict``)."""
    for i, tensor in enumerate(inputs[1:], start=1):
        rows_from_tensor(tensor, i)


def tensor_output(name: str, values: Any) -> dict[str, Any]:
    rows = values if isinstance(values, list) else [values]
    flat: list[Any] = []
    shape: list[int] = [len(rows)]
    if rows and isinstance(rows[0], list):
        shape.append(len(rows[0]))
        for row in rows:
            flat.extend(row)
    else:
        flat = list(rows)
    sample = flat[0] if flat else 0.0
    return {
        "name": name,
        "shape": shape,
        "datatype": _DATATYPES.get(type(sample), "BYTES"),
        "data": flat,
    }


def response(event_id: Any, model: str, version: str, outputs: Any, tensor: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": event_id, "model_name": model, "model_version": version}
    if tensor:
        body["outputs"] = [tensor_output("output-0", outputs)]
    else:
        body["outputs"] = outputs
        body["timestamp"] = timestamp()
    return body


_cached: tuple[int, str] = (-1, "")  # (whole second, its ISO text): replaced in one assignment


def timestamp() -> str:
    """Now in ISO 8601 UTC with microseconds (``datetime.isoformat`` form), formatting the
    date part once per second: this runs for every inference response."""
    global _cached
    second, micros = divmod(time.time_ns() // 1000, 1_000_000)
    cached_second, prefix = _cached
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _cached = (second, prefix)  # threads never see a second paired with another's text
    return prefix + "%06d+00:00" % micros  # noqa: UP031 - %-format is the fastest here
