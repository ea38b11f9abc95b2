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
    """A task step, a queue step (``class_name=">>"``), or the given step object."""
    from fnrun.model.graph import BaseStep, QueueStep, TaskStep

    if isinstance(class_name, BaseStep):
        step = class_name
        step.name = name or step.name
        return step
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
        class_name = f"{class_name.__module__}.{class_name.__qualname__}"
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
        and ``event.origin_state``); ``before`` names the step to continue with after it."""
        return self._flow().add_error_step(self, class_name, name, handler, before, kwargs)


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
        """A graph-wide error handler: runs when any step without its own handler fails."""
        return self.add_error_step(self, class_name, name, handler, before, kwargs)

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
