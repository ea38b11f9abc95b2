"""Dataset metadata: schema, preview rows, describe-stats and histograms (pandas/numpy)."""

from __future__ import annotations

import math
from typing import Any

from fnrun.extras import require
from fnrun.model.values import to_plain


def schema(df: Any) -> dict[str, Any]:
    return {"fields": [{"name": str(c), "type": str(t)} for c, t in df.dtypes.items()]}


def preview(df: Any, rows: int) -> list[list[Any]]:
    return [[_clean(v) for v in row] for row in to_plain(df.head(rows).values.tolist())]


def dataset_stats(df: Any, bins: int = 20) -> dict[str, Any]:
    """Per column: ``describe()`` values, plus a histogram ``[counts, edges]`` for numbers."""

    np = require("numpy", "data", "dataset stats", field="stats")

    described = df.describe(include="all").to_dict()
    out: dict[str, Any] = {}
    for column, values in described.items():
        entry = {k: _clean(to_plain(v)) for k, v in values.items() if not _missing(v)}
        series = df[column]
        if np.issubdtype(series.dtype, np.number):
            counts, edges = np.histogram(series.dropna().to_numpy(), bins=bins)
            entry["hist"] = [counts.tolist(), [round(float(e), 6) for e in edges]]
        out[str(column)] = entry
    return out


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
