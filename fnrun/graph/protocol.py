"""Inference request/response shapes: MLRun's row lists and the Open Inference Protocol (v2).

Row lists: ``{"inputs": [[...], ...]}`` -> ``{"id", "model_name", "model_version", "outputs",
"timestamp"}``. Tensors (Open Inference Protocol): ``{"inputs": [{"name", "shape", "datatype",
"data"}]}`` -> ``{"id", "model_name", "model_version", "outputs": [{"name", "shape", "datatype",
"data"}]}``, where the first input's flat ``data`` is reshaped into rows for ``predict``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
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


def rows_from_tensor(tensor: dict[str, Any]) -> list[Any]:
    """The tensor's flat (or nested) ``data`` as rows of its ``shape``."""
    data, shape = tensor.get("data"), tensor.get("shape")
    if not isinstance(data, list):
        raise InvalidArgumentError("a tensor input needs a 'data' list", field="inputs[0].data")
    if not shape or len(shape) < 2 or (data and isinstance(data[0], list)):
        return data
    width = 1
    for dim in shape[1:]:
        width *= int(dim)
    if width <= 0 or len(data) % width:
        raise InvalidArgumentError(
            f"data of length {len(data)} does not fit shape {shape}",
            field="inputs[0].shape",
            hint="shape must multiply to len(data)",
        )
    return [data[i : i + width] for i in range(0, len(data), width)]


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
