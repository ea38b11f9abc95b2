"""Log a handler's return value: by ``returns=`` keys, else under ``return``; falsy values too."""

from __future__ import annotations

from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.execution.context import RunContext
from fnrun.execution.values import to_plain


def log_returns(ctx: RunContext, value: Any, returns: list[str] | None = None) -> None:
    """Record return values as results. ``None`` with no ``returns`` keys logs nothing."""
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
        _log_one(ctx, key, item)


def _log_one(ctx: RunContext, key: str, value: Any) -> None:
    try:
        ctx.log_result(key, value)
    except InvalidArgumentError:
        # Not JSON: recorded as a note; typed artifact logging (DataFrames, files) is separate.
        kind = type(to_plain(value)).__name__
        ctx.logger.warning("return value %r of type %s is not a JSON result; not logged", key, kind)
        ctx.set_annotation(f"unlogged_return.{key}", kind)
