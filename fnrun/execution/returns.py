"""Log a handler's return values: by ``returns=`` keys, else under ``return``; falsy ones too.

By type: JSON values (numbers, strings, bools, lists, dicts; numpy values cast) become
results; pandas DataFrames/Series become datasets; bytes become a file artifact; any other
object is pickled into a file artifact (never into the run DB). A key may name what to log
the value as, MLRun's ``"key:type"``: ``result``, ``dataset``, ``plot`` (a matplotlib or
plotly figure), ``file``/``artifact``/``object`` (the type-based default).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

from fnrun.artifacts import PlotArtifact, PlotlyArtifact
from fnrun.artifacts.tabular import as_frame
from fnrun.errors import InvalidArgumentError
from fnrun.execution.context import RunContext

#: what a handler declares about its run (``outputs``, ``labels``): set by decorators such as
#: MLRun's ``@mlrun.handler(outputs=[...])``; a run's own ``returns=`` wins over ``outputs``
HANDLER_ATTR = "__fnrun_handler__"


def log_returns(ctx: RunContext, value: Any, returns: list[str] | None = None) -> None:
    """Record return values. ``None`` with no ``returns`` keys logs nothing."""
    keys = list(returns or [])
    if not keys:
        if value is None:
            return
        pairs = [("return", value)]
    elif len(keys) == 1:
        pairs = [(keys[0], value)]
    else:
        if not isinstance(value, tuple | list) or len(value) != len(keys):
            raise InvalidArgumentError(
                f"returns={keys} names {len(keys)} values but the handler returned "
                f"{type(value).__name__}",
                field="returns",
                hint="return a tuple with one value per key, or fix returns=",
            )
        pairs = list(zip(keys, value, strict=True))
    typed = [(*_key_type(key), item) for key, item in pairs]  # all checked before any is logged
    for name, as_type, item in typed:
        _LOGGERS.get(as_type, log_value)(ctx, name, item)


def _key_type(key: str) -> tuple[str, str]:
    name, _, as_type = (part.strip() for part in key.partition(":"))
    if as_type and as_type not in _LOGGERS:
        raise InvalidArgumentError(
            f"returns key {key!r}: unknown type {as_type!r}",
            field="returns",
            hint=f"use key or key:type with type one of {', '.join(sorted(_LOGGERS))}",
        )
    return name, as_type


def log_value(ctx: RunContext, key: str, value: Any) -> None:
    kind = type(value).__name__
    if kind in ("DataFrame", "Series") and type(value).__module__.startswith("pandas"):
        df = value.to_frame() if kind == "Series" else value
        ctx.log_dataset(key, df=df)
        return
    if isinstance(value, bytes | bytearray):
        ctx.log_artifact(key, body=bytes(value), format="bin")
        return
    try:
        ctx.log_result(key, value)
    except InvalidArgumentError:
        body = pickle.dumps(value)
        ctx.log_artifact(key, body=body, format="pkl", labels={"type": kind})


def _as_result(ctx: RunContext, key: str, value: Any) -> None:
    ctx.log_result(key, value)


def _as_dataset(ctx: RunContext, key: str, value: Any) -> None:

    if type(value).__name__ == "Series":
        value = value.to_frame()
    ctx.log_dataset(key, df=as_frame(value))


def _as_plot(ctx: RunContext, key: str, value: Any) -> None:

    if hasattr(value, "to_html") and hasattr(value, "to_plotly_json"):
        ctx.log_artifact(PlotlyArtifact(key, figure=value))
    elif hasattr(value, "savefig"):
        ctx.log_artifact(PlotArtifact(key, body=value))
    else:
        raise InvalidArgumentError(
            f"returns {key}:plot got a {type(value).__name__}",
            field="returns",
            hint="return a matplotlib or plotly figure",
        )


_LOGGERS: dict[str, Callable[[RunContext, str, Any], None]] = {
    "result": _as_result,
    "dataset": _as_dataset,
    "plot": _as_plot,
    "file": log_value,
    "artifact": log_value,
    "object": log_value,
}
