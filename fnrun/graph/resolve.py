"""Find and build what a step names: a class or a handler, from a namespace, the function's
code, the built-in steps, or a dotted import path. No user string is ever evaluated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from fnrun.errors import InvalidArgumentError

# Built-in step classes: where they live, by short name and by their MLRun and fnrun.serving
# names (imported when first used).
_BUILTIN_HOMES: dict[str, dict[str, tuple[str, ...]]] = {
    "fnrun.graph.model_routers": {
        "ModelRouter": ("mlrun.serving.ModelRouter", "mlrun.serving.routers.ModelRouter"),
        "VotingEnsemble": ("mlrun.serving.VotingEnsemble", "mlrun.serving.routers.VotingEnsemble"),
    },
    "fnrun.graph.v2_serving": {"V2ModelServer": ("mlrun.serving.V2ModelServer",)},
    "fnrun.graph.remote": {
        "RemoteStep": ("mlrun.serving.remote.RemoteStep",),
        "BatchHttpRequests": ("mlrun.serving.remote.BatchHttpRequests",),
    },
    "fnrun.graph.parallel": {"ParallelRun": ("mlrun.serving.routers.ParallelRun",)},
    "fnrun.graph.run_step": {"RunStep": ("fnrun.graph.RunStep",)},
}
BUILTINS: dict[str, str] = {
    alias: f"{module}.{cls}"
    for module, classes in _BUILTIN_HOMES.items()
    for cls, aliases in classes.items()
    for alias in (cls, f"fnrun.serving.{cls}", *aliases)
}


class StepError(InvalidArgumentError):
    """A step cannot be built: names the step and what to fix."""


def lookup(name: str, namespaces: list[Mapping[str, Any]], step: str, what: str) -> Any:
    """The object ``name`` names: first in the namespaces, then built-ins, then an import."""
    for namespace in namespaces:
        if name in namespace:
            return namespace[name]
        head, _, rest = name.partition(".")
        if rest and head in namespace:
            obj = _walk(namespace[head], rest)
            if obj is not None:
                return obj
    if name in BUILTINS:
        from fnrun.execution.loader import import_dotted

        return import_dotted(BUILTINS[name])
    if "." in name:
        from fnrun.execution.loader import import_dotted

        try:
            return import_dotted(name)
        except Exception as exc:
            raise StepError(
                f"step {step!r}: cannot import {what} {name!r}: {exc}",
                field=f"graph.{step}",
                hint="check the module path",
            ) from exc
    known = sorted(
        k for ns in namespaces for k, v in ns.items() if not k.startswith("_") and callable(v)
    )[:20]
    raise StepError(
        f"step {step!r}: {what} {name!r} not found",
        field=f"graph.{step}",
        hint=f"define it in the function code, pass namespace=, or use a dotted path; "
        f"found: {', '.join(known) or 'nothing'}",
    )


def _walk(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def build_instance(cls: Any, step: str, context: Any, class_args: dict[str, Any]) -> Any:
    """``cls(context=, name=, **class_args)``, passing only what ``__init__`` accepts."""
    if not inspect.isclass(cls):
        raise StepError(
            f"step {step!r}: {cls!r} is not a class",
            field=f"graph.{step}.class_name",
            hint="use handler= for functions",
        )
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in class_args if k not in params and not takes_any]
    if unknown:
        accepted = [p for p in params if p not in ("self", "context", "name")]
        raise StepError(
            f"step {step!r}: {cls.__name__}.__init__ does not accept {unknown}",
            field=f"graph.{step}.class_args",
            hint=f"accepted: {', '.join(accepted) or 'none'}",
        )
    kwargs = dict(class_args)
    for key, value in (("context", context), ("name", step)):
        if key in params or takes_any:
            kwargs.setdefault(key, value)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise StepError(
            f"step {step!r}: {cls.__name__}({', '.join(kwargs)}) failed: {exc}",
            field=f"graph.{step}.class_args",
            hint="fix the step's class_args",
        ) from exc


def call_post_init(obj: Any, mode: str = "sync") -> None:
    post_init = getattr(obj, "post_init", None)
    if callable(post_init):
        params = inspect.signature(post_init).parameters
        post_init(mode) if params else post_init()


def takes_context(fn: Callable[..., Any]) -> bool:
    """A handler whose first parameter is named ``context`` gets the graph context first."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] == "context"
