from __future__ import annotations

import pytest

from fnrun.errors import InvalidArgumentError
from fnrun.execution.binding import bind


def test_context_by_name_params_by_name_rest_reported() -> None:
    def h(context, a, b=2):  # type: ignore[no-untyped-def]
        return a

    kwargs, unused = bind(h, "CTX", {"a": 1, "z": 9})
    assert kwargs == {"context": "CTX", "a": 1} and unused == ["z"]


def test_var_kwargs_get_the_rest() -> None:
    def h(a, **kw):  # type: ignore[no-untyped-def]
        return kw

    assert bind(h, None, {"a": 1, "z": 9}) == ({"a": 1, "z": 9}, [])


def test_missing_required_param_is_clear() -> None:
    def h(context, needed):  # type: ignore[no-untyped-def]
        return needed

    with pytest.raises(InvalidArgumentError, match="needs parameter 'needed'") as err:
        bind(h, None, {})
    assert err.value.field == "params.needed"
