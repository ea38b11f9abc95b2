"""Builder verbs of the graph spec (MLRun's): ``to``, ``add_step``, ``insert_step``, ``respond``,
``error_handler``. They only edit data; nothing is resolved or imported here.

>>> from fnrun.model.graph import FlowStep
>>> flow = FlowStep()
>>> _ = flow.to("Prep", name="prep").to(handler="score", name="score").respond()
>>> flow["score"].after, flow["score"].responder
(['prep'], True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError

if TYPE_CHECKING:
    from fnrun.model.graph import BaseStep, FlowStep

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
    built from a step object (``RemoteStep(url=...)``, ``MyModel(name="m")``)."""
    from fnrun.model.graph import BaseStep, QueueStep, RouterStep, TaskStep
    from fnrun.model.step_objects import is_step_object

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
        from fnrun.model.step_objects import class_path

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
    from fnrun.model.graph import step_from_dict
    from fnrun.model.step_objects import object_to_step_dict

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


def _chain(start: Any, steps: list[Any]) -> BaseStep:
    if not steps:
        raise InvalidArgumentError("set_flow needs at least one step", field="steps")
    step = start
    for item in steps:
        step = step.to(**item) if isinstance(item, dict) else step.to(item)
    last: BaseStep = step
    return last


class StepBuilder:
    """Verbs on any step: chain the next step, respond, attach an error handler."""

    name: str
    responder: bool
    on_error: str
    _parent: Any

    def _flow(self) -> FlowStep:
        from fnrun.model.graph import FlowStep

        parent = self._parent
        if not isinstance(parent, FlowStep):
            raise InvalidArgumentError(
                f"step {self.name!r} is not inside a flow",
                field="graph",
                hint="chain steps on a flow topology (set_topology('flow'))",
            )
        return parent

    def to(
        self, class_name: Any = None, name: str | None = None, handler: Any = None, **kwargs: Any
    ) -> BaseStep:
        """Add a step after this one and return it (``.to().to()`` reads as a chain)."""
        return self._flow().add_step(class_name, name, handler, after=self.name, **kwargs)

    def set_flow(self, steps: list[Any], force: bool = False) -> BaseStep:
        """Make ``steps`` (class names, dicts of ``to()`` arguments, or step objects) the chain
        after this step, replacing what followed it (``force=True`` when something did).
        Returns the last step, so ``.set_flow([...]).to(...)`` goes on."""
        flow = self._flow()
        downstream = flow.downstream_of(self.name)
        if downstream and not force:
            raise InvalidArgumentError(
                f"step {self.name!r} already has downstream steps: {', '.join(downstream)}",
                field="steps",
                hint="pass force=True to replace them, or use .to() to add a branch",
            )
        for name in downstream:
            del flow.steps[name]
        return _chain(self, steps)

    def respond(self) -> StepBuilder:
        """This step's output is the response (one responder per graph)."""
        self.responder = True
        return self

    def error_handler(
        self,
        name: str | None = None,
        class_name: Any = None,
        handler: Any = None,
        before: str | None = None,
        **kwargs: Any,
    ) -> BaseStep:
        """Run a step when this one fails (it gets the failed step's input, ``event.error``
        and ``event.origin_state``); ``before`` names the step to continue with after it.
        Returns this step (as MLRun), so ``.to()`` goes on from it."""
        self._flow().add_error_step(self, class_name, name, handler, before, kwargs)
        return self  # type: ignore[return-value]

    def after_step(self, *names: Any, append: bool = True) -> StepBuilder:
        """Run this step after ``names`` (step names or steps) too; ``append=False`` replaces
        its parents."""
        after: list[str] = list(getattr(self, "after", [])) if append else []
        for item in names:
            key = item if isinstance(item, str) else item.name
            if key not in after:
                after.append(key)
        self.after = after
        return self

    def plot(self, filename: str = "", format: str = "") -> str:
        """Draw the graph (.svg/.html/.dot always; .png with graphviz); returns the SVG text.
        Folders in ``filename`` are created."""
        from fnrun.model.graph_plot import plot

        return plot(self, filename, format)  # type: ignore[arg-type]

    def _repr_html_(self) -> str:
        """A graph shows as its picture in a notebook."""
        from fnrun.notebook.function_card import graph_card

        return graph_card(self)

    def to_yaml(self) -> str:
        """The step (a graph, when called on the root) as YAML, as ``spec.graph`` holds it."""
        from fnrun.model.serialize import to_yaml

        return to_yaml(self.to_dict())  # type: ignore[attr-defined]


class FlowBuilder:
    """Verbs on a flow: add, insert and look up steps."""

    steps: dict[str, Any]
    on_error: str
    _last_added: Any

    def add_step(
        self,
        class_name: Any = None,
        name: str | None = None,
        handler: Any = None,
        after: str | list[str] | None = None,
        before: str | None = None,
        **kwargs: Any,
    ) -> BaseStep:
        """Add a step. ``after``: a name, names, or ``"$prev"`` (the last added step); no
        ``after`` makes a root step. ``before``: insert ahead of that step."""
        step = new_step(class_name, name, handler, **kwargs)
        return self.insert_step(step.name, step, before=before, after=after)

    def insert_step(
        self,
        key: str,
        step: BaseStep,
        before: str | None = None,
        after: str | list[str] | None = None,
    ) -> BaseStep:
        if key in self.steps:
            raise InvalidArgumentError(
                f"step {key!r} already exists", field="name", hint="give the step another name="
            )
        step.name = key
        step._parent = self  # type: ignore[assignment]  # a FlowBuilder is a FlowStep
        step.after = self._resolve_after(after)
        self._check_after_queue(step)
        if before is not None:
            target = self.steps.get(before)
            if target is None:
                raise InvalidArgumentError(
                    f"before={before!r}: no such step",
                    field="before",
                    hint=f"steps: {', '.join(self.steps) or 'none'}",
                )
            step.after = list(target.after) if after is None else step.after
            target.after = [key]
        self.steps[key] = step
        self._last_added = step
        return step

    def _check_after_queue(self, step: BaseStep) -> None:
        """A step after a queue runs in a child function: it must name one (refused now, not
        only when the graph is served)."""
        from fnrun.model.graph import QueueStep

        queues = [p for p in step.after if isinstance(self.steps.get(p), QueueStep)]
        if queues and not step.function and not isinstance(step, QueueStep):
            raise InvalidArgumentError(
                f"step {step.name!r} follows queue {queues[0]!r} but names no function",
                field=f"graph.{step.name}.function",
                hint="steps after a queue run in a child function: pass function='name'",
            )

    def set_flow(self, steps: list[Any], force: bool = False) -> BaseStep:
        """Replace the flow's steps with the chain ``steps`` (``force=True`` when it has any)."""
        if self.steps and not force:
            raise InvalidArgumentError(
                f"the flow already has steps: {', '.join(self.steps)}",
                field="steps",
                hint="pass force=True to replace them",
            )
        self.steps = {}
        self._last_added = None
        return _chain(self, steps)

    def downstream_of(self, name: str) -> list[str]:
        """The steps that follow ``name``, directly or through others, in graph order."""
        found: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for key, step in self.steps.items():
                if current in step.after and key not in found:
                    found.add(key)
                    frontier.append(key)
        return [key for key in self.steps if key in found]

    def _resolve_after(self, after: str | list[str] | None) -> list[str]:
        names = [after] if isinstance(after, str) else list(after or [])
        if "$prev" in names:
            prev = self._last_added.name if self._last_added is not None else None
            names = [n for n in names if n != "$prev"] + ([prev] if prev else [])
        return names

    def to(
        self, class_name: Any = None, name: str | None = None, handler: Any = None, **kwargs: Any
    ) -> BaseStep:
        """Add a step: the first one is a root, later ones follow the last added step."""
        after = "$prev" if self._last_added is not None else None
        return self.add_step(class_name, name, handler, after=after, **kwargs)

    def error_handler(
        self,
        name: str | None = None,
        class_name: Any = None,
        handler: Any = None,
        before: str | None = None,
        **kwargs: Any,
    ) -> BaseStep:
        """A graph-wide error handler: runs when any step without its own handler fails.
        Returns the graph (as MLRun)."""
        self.add_error_step(self, class_name, name, handler, before, kwargs)
        return self  # type: ignore[return-value]

    def add_error_step(
        self,
        owner: Any,
        class_name: Any,
        name: str | None,
        handler: Any,
        before: str | None,
        kwargs: dict[str, Any],
    ) -> BaseStep:
        """Add an error-handler step for ``owner`` (a step, or this flow): it is off the normal
        path (no ``after``), ``$prev`` keeps pointing at the last normal step, and ``before``
        names the step that continues after it."""
        last = self._last_added
        step = self.add_step(class_name, name, handler, after=[], **kwargs)
        self._last_added = last
        owner.on_error = step.name
        if before:
            self.steps[before].after.append(step.name)
        return step
