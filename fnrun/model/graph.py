"""The serving graph spec: pure data (steps, routers, queues, flows) with YAML round-trip.

Compatible with MLRun's serialized graph: a step is ``{kind, class_name, class_args, handler,
after, responder, ...}``; flows and routers hold children in a dict keyed by name; ``kind``
selects the class (``task``, ``router``, ``queue``, ``flow``). The builder verbs live in
:mod:`fnrun.model.graph_builder` (mixins of these classes); :func:`new_step` makes the step a
verb adds; validation is in :mod:`fnrun.graph.validate`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar

from fnrun.errors import InvalidArgumentError, SchemaError
from fnrun.model.graph_builder import FlowBuilder, StepBuilder
from fnrun.model.schema import Model, join, unknown_key_error
from fnrun.model.step_objects import class_path, is_step_object, object_to_step_dict

MAX_ALLOWED_STEPS = 4500  # routes of one router (MLRun's bound)


class GraphError(InvalidArgumentError):
    """The graph is not valid."""


@dataclass(eq=False, kw_only=True)
class BaseStep(Model, StepBuilder["BaseStep"]):
    """What every step has: its place in the graph and its error handler."""

    kind_name: ClassVar[str] = ""
    _schema_name = "graph step"
    kind: str = ""
    name: str = ""
    after: list[str] = field(default_factory=list)
    function: str = ""
    comment: str = ""
    shape: str = ""
    on_error: str = ""
    responder: bool = False

    def __post_init__(self) -> None:
        self.kind = self.kind or self.kind_name
        self._parent: FlowStep | RouterStep | None = None
        if isinstance(self.after, str):  # one name, as MLRun accepts it
            self.after = [self.after]

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["kind"] = self.kind_name
        out.pop("name", None)  # the key in the parent's steps/routes
        return out

    @property
    def fullname(self) -> str:
        parent = self._parent
        if parent is None or not parent.name:
            return self.name
        return f"{parent.fullname}.{self.name}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@dataclass(eq=False)
class TaskStep(BaseStep):
    """A class (``do(body)`` or ``do_event(event)``) or a handler function. Positional
    arguments as MLRun's: ``TaskStep("MyClass", {"arg": 1}, "handler", name="s1")``."""

    kind_name: ClassVar[str] = "task"
    _schema_name = "task step"
    class_name: str = ""
    class_args: dict[str, Any] = field(default_factory=dict)
    handler: str = ""
    _: KW_ONLY
    skip_context: bool | None = None
    full_event: bool | None = None
    input_path: str = ""
    result_path: str = ""
    timeout: float | None = None  # seconds this step may take (a deadline: 504 past it)
    max_concurrency: int | None = None  # events it runs at once (503 beyond, graph.admission)
    max_queued: int | None = None  # events that may wait for it (default max_concurrency)


@dataclass(eq=False)
class QueueStep(BaseStep):
    """A stream between functions: ``graph.to(">>", "q1", path="kafka://host:9092/topic")``."""

    kind_name: ClassVar[str] = "queue"
    _schema_name = "queue step"
    path: str = ""
    shards: int | None = None
    retention_in_hours: int | None = None
    trigger_args: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class RouterStep(TaskStep):
    """Routes each event to one (or, for ensembles, every) child route. Positional arguments
    as MLRun's: ``RouterStep("VotingEnsemble", {"vote_type": "regression"}, routes=...)``."""

    kind_name: ClassVar[str] = "router"
    _schema_name = "router step"
    routes: dict[str, Any] = field(default_factory=dict)
    _: KW_ONLY
    engine: str = ""  # only for a router at the root (the router topology)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.routes = _children(self.routes, self, "routes")

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "routes" and "_parent" in self.__dict__:  # graph.routes = {...} after init
            value = _children(value, self, "routes")
        super().__setattr__(key, value)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.routes:
            out["routes"] = {k: v.to_dict() for k, v in self.routes.items()}
        return out

    def add_route(
        self,
        key: str,
        route: Any = None,
        class_name: Any = "",
        handler: str = "",
        **class_args: Any,
    ) -> BaseStep:
        """Add (or replace) a route: a step (spec or object), or a class/handler with its
        class_args."""
        check_model_names(self, [key])
        if route is None and is_step_object(class_name):
            route = step_from_object(class_name, class_args)
        elif route is not None and not isinstance(route, BaseStep):
            route = step_from_object(route, class_args)
        if isinstance(class_name, type):
            class_name = class_path(class_name)
        if key not in self.routes and len(self.routes) >= MAX_ALLOWED_STEPS:
            raise InvalidArgumentError(
                f"router {self.name or 'of the graph'!r} has {len(self.routes)} routes, the most "
                f"a graph takes ({MAX_ALLOWED_STEPS})",
                field="routes",
                hint="split the models over several functions, or serve one model per route",
            )
        step = route or TaskStep(class_name=class_name, handler=handler, class_args=class_args)
        step.name = key
        step._parent = self
        self.routes[key] = step
        return step

    def clear_children(self, routes: list[str]) -> None:
        for key in routes:
            self.routes.pop(key, None)


@dataclass(eq=False)
class FlowStep(FlowBuilder[BaseStep], BaseStep):
    """A DAG of steps; the graph root is a flow (or a router)."""

    kind_name: ClassVar[str] = "flow"
    _schema_name = "flow step"
    steps: dict[str, Any] = field(default_factory=dict)
    engine: str = ""
    final_step: str = ""
    allow_cyclic: bool = False
    error_stream: str = ""
    timeout: float | None = None  # seconds a request may take through the graph

    def __post_init__(self) -> None:
        super().__post_init__()
        self.steps = _children(self.steps, self, "steps")
        self._last_added: BaseStep | None = None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.steps:
            out["steps"] = {k: v.to_dict() for k, v in self.steps.items()}
        return out

    @property
    def model_endpoints_names(self) -> list[str]:
        """The models of the graph's model-runner steps (MLRun's name), in graph order."""
        return [n for step in walk_steps(self) for n in _endpoint_names(step)]

    @property
    def model_endpoints_routes_names(self) -> list[str]:
        """The routes of the graph's routers."""
        return [k for step in walk_steps(self) if isinstance(step, RouterStep) for k in step.routes]

    def __getitem__(self, name: str) -> BaseStep:
        step = self.steps.get(name)
        if step is None:
            raise KeyError(f"no step {name!r} in flow; steps: {', '.join(self.steps) or 'none'}")
        return step  # type: ignore[no-any-return]

    def __iter__(self) -> Any:
        return iter(self.steps.values())

    def new_step(
        self, class_name: Any = None, name: str | None = None, handler: Any = None, **kwargs: Any
    ) -> BaseStep:
        return new_step(class_name, name, handler, **kwargs)


_KINDS: dict[str, type[BaseStep]] = {
    "task": TaskStep,
    "router": RouterStep,
    "queue": QueueStep,
    "flow": FlowStep,
    "": TaskStep,
}


def walk_steps(step: BaseStep) -> list[BaseStep]:
    """``step`` and every step inside it (a flow's steps, a router's routes), depth first."""
    out: list[BaseStep] = [step]
    children = getattr(step, "steps", None) or getattr(step, "routes", None) or {}
    for child in children.values():
        out.extend(walk_steps(child))
    return out


def root_of(step: BaseStep) -> BaseStep:
    while step._parent is not None:
        step = step._parent
    return step


def _endpoint_names(step: BaseStep) -> list[str]:
    names = getattr(step, "endpoint_names", None)
    return list(names()) if callable(names) else []


def check_model_names(step: BaseStep, names: list[str]) -> None:
    """Model names are unique in a graph (a route of a router, a model of a model-runner
    step): refuse ``names`` for ``step`` when another step of its graph already has one."""
    if not names or (step._parent is None and not isinstance(step, FlowStep | RouterStep)):
        return
    for other in walk_steps(root_of(step)):
        if other is step:
            continue
        used = set(_endpoint_names(other)) | (
            set(other.routes) if isinstance(other, RouterStep) else set()
        )
        clash = sorted(used.intersection(names))
        if clash:
            raise GraphError(
                f"model name {clash[0]!r} is already used by step {other.name!r} of this graph",
                field=f"graph.{step.name}.models.{clash[0]}",
                hint="give every model of a graph (router routes, model-runner models) its own "
                "name",
            )


# kinds defined in their own modules, imported (and so registered) when a graph names one
_KIND_HOMES = {"model_runner": "fnrun.model.model_runner"}


def register_step_kind(kind: str, cls: type[BaseStep]) -> None:
    """Make ``kind`` in a serialized graph build ``cls``."""
    _KINDS[kind] = cls


def step_from_dict(data: Mapping[str, Any] | BaseStep, name: str = "", path: str = "") -> BaseStep:
    """A step of the class its ``kind`` names (``task`` when absent)."""
    if isinstance(data, BaseStep):
        return data
    if is_step_object(data):
        return step_from_object(data)
    if not isinstance(data, Mapping):
        raise SchemaError(f"a step must be a mapping, got {type(data).__name__}", field=path or "$")
    kind = data.get("kind", "") or ("task" if "class_name" in data or "handler" in data else "")
    cls = _KINDS.get(kind)
    if cls is None and kind in _KIND_HOMES:
        importlib.import_module(_KIND_HOMES[kind])
        cls = _KINDS.get(kind)
    if cls is None:
        known = sorted({k for k in _KINDS if k} | set(_KIND_HOMES))
        raise unknown_key_error(kind, known, path, "step kinds")
    body = {**data, "kind": cls.kind_name}
    if isinstance(body.get("after"), str):  # MLRun writes a single name as a string
        body["after"] = [body["after"]]
    step = cls.from_dict(body, path)
    step.name = step.name or name
    return step


def _children(children: Mapping[str, Any], parent: Any, key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, child in children.items():
        step = step_from_dict(child, name, join(join(parent.fullname or "graph", key), name))
        step.name = name
        step._parent = parent
        out[name] = step
    return out


def graph_from_dict(data: Mapping[str, Any] | BaseStep | None) -> FlowStep | RouterStep | None:
    """The root of a serialized graph (``kind: flow`` or ``kind: router``)."""
    if data is None:
        return None
    step = step_from_dict(data, "", "spec.graph")
    if not isinstance(step, FlowStep | RouterStep):
        raise SchemaError(
            "the graph root must be a flow or a router",
            field="spec.graph.kind",
            hint="set kind: flow or kind: router",
        )
    return step


QUEUE_MARKERS = (">>", "$queue")


def new_step(
    class_name: Any = None,
    name: str | None = None,
    handler: Any = None,
    function: str | None = None,
    full_event: bool | None = None,
    input_path: str | None = None,
    result_path: str | None = None,
    graph_shape: str | None = None,
    **class_args: Any,
) -> BaseStep:
    """A task step; a queue step (``">>"``/``"$queue"``); a router (``"*"`` or
    ``"*<router class>"``); a RemoteStep (``"$remote"``); the given spec step; or a step
    built from a step object (``RemoteStep(url=...)``, ``MyModel(name="m")``). ``timeout``
    is the step's own deadline, except for a RemoteStep, whose ``timeout`` is each HTTP
    attempt's (MLRun's meaning; its calls still keep within the request's deadline)."""
    remote = class_name in _REMOTE_CLASSES
    timeout = None if remote else class_args.pop("timeout", None)
    bounds = {k: class_args.pop(k) for k in ("max_concurrency", "max_queued") if k in class_args}
    step = _new_step(
        class_name,
        name,
        handler,
        function,
        full_event,
        input_path,
        result_path,
        graph_shape,
        class_args,
    )
    if isinstance(step, TaskStep):
        if timeout is not None:
            step.timeout = timeout
        for key, value in bounds.items():
            setattr(step, key, value)
    return step


_REMOTE_CLASSES = (
    "$remote",
    "RemoteStep",
    "BatchHttpRequests",
    "mlrun.serving.remote.RemoteStep",
    "mlrun.serving.remote.BatchHttpRequests",
)


def _new_step(
    class_name: Any,
    name: str | None,
    handler: Any,
    function: str | None,
    full_event: bool | None,
    input_path: str | None,
    result_path: str | None,
    graph_shape: str | None,
    class_args: dict[str, Any],
) -> BaseStep:
    if isinstance(class_name, BaseStep):
        step = class_name
        step.name = name or step.name
        return step
    if is_step_object(class_name):
        step = step_from_object(class_name, class_args)
        step.name = name or step.name
        _set_paths(step, function, full_event, input_path, result_path)
        return step
    if isinstance(class_name, str) and class_name.startswith("*"):
        router = class_name[1:]
        return RouterStep(
            class_name=router,
            class_args=class_args,
            name=name or (router.split(".")[-1] if router else "router"),
            function=function or "",
            input_path=input_path or "",
            result_path=result_path or "",
        )
    if class_name == "$remote":
        class_name = "RemoteStep"
    if class_name in QUEUE_MARKERS:
        if not name:
            raise InvalidArgumentError("a queue step needs a name", field="name")
        return QueueStep(
            name=name,
            path=class_args.pop("path", ""),
            function=function or "",
            shards=class_args.pop("shards", None),
            options=class_args,
        )
    if isinstance(class_name, type):
        class_name = class_path(class_name)
    if callable(handler):
        handler = handler.__name__
    if not class_name and not handler:
        raise InvalidArgumentError(
            "a step needs class_name or handler",
            field="class_name",
            hint='e.g. graph.to("MyClass") or graph.to(handler="my_func")',
        )
    default_name = (class_name or handler or "").split(".")[-1]
    return TaskStep(
        name=name or default_name,
        class_name=class_name or "",
        handler=handler or "",
        class_args=class_args,
        function=function or "",
        full_event=full_event,
        input_path=input_path or "",
        result_path=result_path or "",
        shape=graph_shape or "",
    )


def step_from_object(obj: Any, overrides: dict[str, Any] | None = None) -> BaseStep:
    """The spec step a step object stands for (its ``to_dict()``, or its class and the
    arguments read back from it); ``overrides`` are class args given next to it."""
    to_dict = getattr(obj, "to_dict", None)
    data = dict(to_dict() if callable(to_dict) else object_to_step_dict(obj))
    extra = {k: v for k, v in (overrides or {}).items() if v is not None}
    if extra:
        data["class_args"] = {**data.get("class_args", {}), **extra}
    name = data.pop("name", "") or str(data.get("class_name", "")).split(".")[-1]
    return step_from_dict(data, name)


def _set_paths(
    step: BaseStep,
    function: str | None,
    full_event: bool | None,
    input_path: str | None,
    result_path: str | None,
) -> None:
    if function:
        step.function = function
    for key, value in (
        ("full_event", full_event),
        ("input_path", input_path),
        ("result_path", result_path),
    ):
        if value is not None and hasattr(step, key):
            setattr(step, key, value)
