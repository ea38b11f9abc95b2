"""Log a handler's return values: by ``returns=`` keys, else under ``return``; falsy ones too.

By type: JSON values (numbers, strings, bools, lists, dicts; numpy values cast) become
results; pandas DataFrames/Series become datasets; bytes become a file artifact; any other
object is pickled into a file artifact (never into the run DB).
"""

from __future__ import annotations

import pickle
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.execution.context import RunContext


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
    for key, item in pairs:
        log_value(ctx, key, item)


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
