"""Step objects wherever a class name goes (MLRun's ``graph.to(RemoteStep(url=...))``).

An object stands for a step built from its class and the arguments it was created with:
``class_name`` is the class's import path, ``class_args`` the ``__init__`` arguments the caller
passed (``context`` and ``name`` excluded; ``name`` names the step). Classes deriving from
:class:`StepToDict` (every fnrun built-in step) record their arguments when created; for any
other object the arguments are read back from attributes named like ``__init__``'s parameters.

>>> class Scale(StepToDict):
...     def __init__(self, factor=1, name=None):
...         self.factor = factor
>>> Scale(3, name="s").to_dict()["class_args"]
{'factor': 3}
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

_NOT_ARGS = ("context", "name", "routes", "graph_step")
_STEP_LEVEL = ("input_path", "result_path", "full_event")  # a TaskStep's fields
_PLAIN = (str, bytes, int, float, bool, type, dict, list, tuple, type(None))


class StepToDict:
    """Records the arguments an instance was created with, for ``to_dict()``."""

    step_kind: ClassVar[str] = "task"
    #: the class name a graph spec writes for this very class (not its subclasses): MLRun's
    #: path for fnrun's built-in steps, so the spec loads in MLRun and in fnrun alike
    step_class_name: ClassVar[str] = ""
    #: arguments ``to_dict`` writes even when the caller left them at their default (as
    #: MLRun's serialization of the same class does)
    step_args_always: ClassVar[tuple[str, ...]] = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__new__(cls)
        obj.__dict__["_step_init_args"] = (args, kwargs)
        return obj

    def to_dict(self) -> dict[str, Any]:
        """``{class_name, class_args, name}`` (and ``kind`` when not a task), the step's own
        ``input_path``, ``result_path``, ``full_event`` beside them, as a graph spec holds
        the step and as MLRun serializes it."""
        return object_to_step_dict(self)


def class_path(cls: type) -> str:
    """The name a graph spec uses for ``cls``: its import path (just the name for classes
    defined in ``__main__`` or a notebook, found in the namespace the server is given); a
    built-in step's own ``step_class_name`` (MLRun's path for it)."""
    own = cls.__dict__.get("step_class_name")
    if isinstance(own, str) and own:
        return own
    if cls.__module__ in ("__main__", "builtins") or "<locals>" in cls.__qualname__:
        return cls.__qualname__.rpartition(".")[2]
    return f"{cls.__module__}.{cls.__qualname__}"


def object_to_step_dict(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    recorded = obj.__dict__.get("_step_init_args") if hasattr(obj, "__dict__") else None
    args = _bound_args(cls, *recorded) if recorded else _attribute_args(obj)
    name = args.get("name") or getattr(obj, "name", None)
    class_args = {k: v for k, v in args.items() if k not in (*_NOT_ARGS, *_STEP_LEVEL)}
    for key in getattr(cls, "step_args_always", ()):  # what MLRun writes even when defaulted
        if key not in class_args and getattr(obj, key, None) is not None:
            class_args[key] = getattr(obj, key)
    out: dict[str, Any] = {"class_name": class_path(cls), "class_args": class_args}
    kind = getattr(cls, "step_kind", "task")
    if kind != "task":  # a task is what a class step is by default (MLRun writes no kind)
        out["kind"] = kind
    if isinstance(name, str) and name:
        out["name"] = name
    for key in _STEP_LEVEL:  # the step's own settings, beside class_args (as MLRun writes them)
        if args.get(key) not in (None, "", False):
            out[key] = args[key]
    return out


def recorded_args(obj: Any) -> dict[str, Any]:
    """The arguments ``obj`` (a :class:`StepToDict`) was created with, by parameter name."""
    recorded = obj.__dict__.get("_step_init_args")
    return _bound_args(type(obj), *recorded) if recorded else {}


def _signature(cls: type) -> inspect.Signature | None:
    init = cls.__dict__.get("__init__") or getattr(cls, "__init__", None)
    if init is None or init is object.__init__:
        return None
    try:
        return inspect.signature(init)
    except (TypeError, ValueError):
        return None


def _bound_args(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    sig = _signature(cls)
    if sig is None:
        return dict(kwargs)
    bound = sig.bind_partial(None, *args, **kwargs).arguments  # None stands for self
    out: dict[str, Any] = {}
    for key, value in list(bound.items())[1:]:
        kind = sig.parameters[key].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            out[key] = value
    return out


def _attribute_args(obj: Any) -> dict[str, Any]:
    """Arguments of an object whose creation was not recorded: the attributes named like its
    ``__init__`` parameters that differ from the defaults."""
    sig = _signature(type(obj))
    if sig is None:
        return {}
    out: dict[str, Any] = {}
    for key, param in list(sig.parameters.items())[1:]:
        if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL) or not hasattr(obj, key):
            continue
        value = getattr(obj, key)
        if param.default is param.empty or value != param.default:
            out[key] = value
    return out


def is_step_object(value: Any) -> bool:
    """An instance standing for a step (not a name, a class, a function or a spec)."""
    return not isinstance(value, _PLAIN) and not callable(value)
