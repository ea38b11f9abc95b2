"""Bind a handler's signature to a run: ``context`` by name, params and inputs by name,
``**kwargs`` the rest.

Inputs arrive as DataItems, unpacked by the parameter's annotation (read as text, never
evaluated): ``DataFrame`` -> ``as_df()``, ``ndarray`` -> numpy array, ``dict``/``list`` ->
parsed JSON/YAML, ``str`` -> text; an unannotated parameter whose default is a ``str`` gets a
local file path; anything else gets the DataItem. A required parameter with no value is a
clear error before the call.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError
from fnrun.extras import require

if TYPE_CHECKING:
    from fnrun.datastore.dataitem import DataItem


def bind(
    handler: Callable[..., Any],
    context: Any,
    params: dict[str, Any],
    inputs: dict[str, DataItem] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """(keyword arguments for ``handler``, names of params it does not take)."""
    inputs = inputs or {}
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
        elif name in inputs:
            kwargs[name] = unpack_input(inputs[name], param)
        elif name in params:
            kwargs[name] = params[name]
        elif param.default is inspect.Parameter.empty:
            raise InvalidArgumentError(
                f"handler {handler.__name__}() needs parameter {name!r} and the run has no such "
                "param or input",
                field=f"params.{name}",
                hint=f"pass params={{'{name}': ...}} or inputs={{'{name}': url}}",
            )
    rest = [k for k in params if k not in kwargs]
    if var_kw:
        kwargs.update({k: params[k] for k in rest})
        kwargs.update({k: v for k, v in inputs.items() if k not in kwargs})
        rest = []
    return kwargs, rest


def annotation_name(annotation: Any) -> str:
    """Last dotted part of an annotation (``pd.DataFrame`` -> ``DataFrame``)."""
    if annotation is inspect.Parameter.empty:
        return ""
    text = (
        annotation
        if isinstance(annotation, str)
        else getattr(annotation, "__name__", str(annotation))
    )
    return text.replace("typing.", "").split("[")[0].split(".")[-1].strip()


def unpack_input(item: DataItem, param: inspect.Parameter) -> Any:
    kind = annotation_name(param.annotation)
    if kind == "DataFrame":
        return item.as_df()
    if kind == "ndarray":
        return _as_array(item)
    if kind in ("dict", "Dict", "list", "List"):
        from fnrun.model.serialize import from_yaml

        return from_yaml(item.get(), item.url)  # JSON is YAML
    if kind == "str":
        return item.get(encoding="utf-8")
    if kind == "bytes":
        return item.get()
    if not kind and isinstance(param.default, str):
        return item.local()
    return item


def _as_array(item: DataItem) -> Any:

    np = require("numpy", "data", "a numpy input", field="inputs")

    if item.suffix == ".npy":
        return np.load(io.BytesIO(item.get()), allow_pickle=False)
    return item.as_df().to_numpy()
