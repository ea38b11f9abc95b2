"""Bind a handler's signature to a run: ``context`` by name, params by name, ``**kwargs`` rest.

Parameters the handler does not take are reported (not silently dropped) unless it has
``**kwargs``; a required parameter with no value is a clear error before the call.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fnrun.errors import InvalidArgumentError


def bind(
    handler: Callable[..., Any], context: Any, params: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """(keyword arguments for ``handler``, names of params it does not take)."""
    signature = inspect.signature(handler)
    kwargs: dict[str, Any] = {}
    var_kw = False
    for name, param in signature.parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = True
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        elif name == "context":
            kwargs[name] = context
        elif name in params:
            kwargs[name] = params[name]
        elif param.default is inspect.Parameter.empty:
            raise InvalidArgumentError(
                f"handler {handler.__name__}() needs parameter {name!r} and the run has no such "
                "param",
                field=f"params.{name}",
                hint=f"pass params={{'{name}': ...}}",
            )
    rest = [k for k in params if k not in kwargs]
    if var_kw:
        kwargs.update({k: params[k] for k in rest})
        rest = []
    return kwargs, rest
