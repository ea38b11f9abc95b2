from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.execution.context import RunContext
from fnrun.execution.returns import log_returns


@pytest.mark.parametrize("value", [0, 0.0, False, "", [], {}])
def test_falsy_return_values_are_logged(value: object) -> None:
    ctx = RunContext()
    log_returns(ctx, value)
    assert ctx.results == {"return": value}


def test_none_is_not_logged_without_keys() -> None:
    ctx = RunContext()
    log_returns(ctx, None)
    assert ctx.results == {}


def test_returns_keys() -> None:
    ctx = RunContext()
    log_returns(ctx, (1, "a"), ["n", "s"])
    log_returns(ctx, None, ["nothing"])
    assert ctx.results == {"n": 1, "s": "a", "nothing": None}
    with pytest.raises(InvalidArgumentError, match="names 2 values"):
        log_returns(ctx, 1, ["a", "b"])


def test_non_json_return_is_noted_not_silently_dropped() -> None:
    ctx = RunContext()
    log_returns(ctx, object(), ["obj"])
    assert "obj" not in ctx.results
    assert ctx.annotations["unlogged_return.obj"] == "object"
