"""Find and build what a step names: a class or a handler, from a namespace, the function's
code, the built-in steps, or a dotted import path. No user string is ever evaluated.
"""

from __future__ import annotations

import inspect
import re
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
    "fnrun.graph.v2_serving": {
        "V2ModelServer": ("mlrun.serving.V2ModelServer", "mlrun.serving.v2_serving.V2ModelServer")
    },
    "fnrun.graph.model_runner": {
        "Model": ("mlrun.serving.Model", "mlrun.serving.states.Model"),
    },
    "fnrun.graph.remote": {
        "RemoteStep": ("mlrun.serving.remote.RemoteStep",),
        "BatchHttpRequests": ("mlrun.serving.remote.BatchHttpRequests",),
    },
    "fnrun.graph.parallel": {"ParallelRun": ("mlrun.serving.routers.ParallelRun",)},
    "fnrun.graph.run_step": {"RunStep": ("fnrun.graph.RunStep",)},
    "fnrun.graph.merger": {"Merge": ("mlrun.serving.merger.Merge", "fnrun.serving.merger.Merge")},
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
    """The object ``name`` names: first in the namespaces, then built-ins, then an import
    (a class or function given as itself is used as it is)."""
    if not isinstance(name, str):
        return name
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


def init_parameters(cls: Any) -> dict[str, inspect.Parameter]:
    """The parameters ``cls(...)`` accepts; none for a class without its own ``__init__``."""
    init = getattr(cls, "__init__", object.__init__)
    if init is object.__init__:
        return {}
    try:
        params = dict(inspect.signature(init).parameters)
    except (TypeError, ValueError):
        return {}
    params.pop("self", None)
    return params


def accepts_any(params: Mapping[str, inspect.Parameter]) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def build_instance(
    cls: Any,
    step: str,
    context: Any,
    class_args: dict[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Any:
    """``cls(**class_args)`` plus ``context`` and ``name`` when ``__init__`` takes them (by name
    or ``**kwargs``) and the ``extra`` step settings (``input_path``, ``result_path``...) when it
    names them: a plain class with only ``do()`` gets nothing."""
    if not inspect.isclass(cls):
        raise StepError(
            f"step {step!r}: {cls!r} is not a class",
            field=f"graph.{step}.class_name",
            hint="use handler= for functions",
        )
    params = init_parameters(cls)
    takes_any = accepts_any(params)
    unknown = [k for k in class_args if k not in params and not takes_any]
    if unknown:
        accepted = [p for p in params if p not in ("context", "name")]
        raise StepError(
            f"step {step!r}: {cls.__name__}.__init__ does not accept {unknown}",
            field=f"graph.{step}.class_args",
            hint=f"accepted: {', '.join(accepted) or 'none (the class has no __init__)'}",
        )
    kwargs = dict(class_args)
    for key, value in (("context", context), ("name", step)):
        if key in params or takes_any:
            kwargs.setdefault(key, value)
    for key, value in (extra or {}).items():
        if key in params and value not in (None, ""):
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


def context_mode(fn: Callable[..., Any]) -> str:
    """How a handler gets the graph context: ``"first"`` for fnrun's ``h(context, body)``,
    ``"keyword"`` for MLRun's ``h(event, context=None)`` (a parameter named ``context``
    anywhere else), ``""`` when it takes none."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return ""
    if not params or "context" not in params:
        return ""
    return "first" if params[0] == "context" else "keyword"


def with_context(fn: Callable[..., Any], context: Any) -> Callable[..., Any]:
    """``fn`` as a one-argument callable that passes ``context`` the way ``fn`` takes it."""
    mode = context_mode(fn)
    is_async = inspect.iscoroutinefunction(fn)
    if mode == "first":
        if is_async:

            async def first_async(body: Any) -> Any:
                return await fn(context, body)

            return first_async
        return lambda body: fn(context, body)
    if mode == "keyword":
        if is_async:

            async def keyword_async(body: Any) -> Any:
                return await fn(body, context=context)

            return keyword_async
        return lambda body: fn(body, context=context)
    return fn


_NAME = re.compile(r"[A-Za-z_][\w.]*")


def is_expression(handler: str) -> bool:
    """A handler string that is not a (dotted) name: MLRun's ``"(event + 1)"`` shorthand."""
    return isinstance(handler, str) and bool(handler.strip()) and not _NAME.fullmatch(handler)


def expression_handler(expression: str, field: str) -> Callable[[Any], Any]:
    """``lambda event: <expression>`` without ``eval``: parsed once by the safe evaluator
    (indexing, arithmetic, comparisons, literals; no calls or private attributes)."""
    from fnrun.execution.safe_expr import evaluate, parse

    tree = parse(expression, field=field, data=True, names=frozenset({"event"}))

    def run(event: Any) -> Any:
        return evaluate(tree, {"event": event})

    return run


def resolve_callable_args(
    class_args: dict[str, Any], namespaces: list[Mapping[str, Any]], step: str
) -> dict[str, Any]:
    """MLRun's ``_``-prefixed class args name a function (or an expression): ``_fn="f"``
    passes ``fn=<the function f>``."""
    if not any(k.startswith("_") for k in class_args):
        return class_args
    out: dict[str, Any] = {}
    for key, value in class_args.items():
        if key.startswith("_") and isinstance(value, str):
            field = f"graph.{step}.class_args.{key}"
            out[key[1:]] = (
                expression_handler(value, field)
                if is_expression(value)
                else lookup(value, namespaces, step, "function")
            )
        else:
            out[key] = value
    return out
