"""Builder verbs of the graph spec (MLRun's): ``to``, ``add_step``, ``insert_step``, ``respond``,
``error_handler``. They only edit data; nothing is resolved or imported here.

The verbs are mixins of the step classes (:mod:`fnrun.model.graph`), generic over the step
type ``S`` those classes name, so they return the real step type without importing it; a
flow makes its new steps through :meth:`FlowBuilder.new_step`, which the flow class
implements.

>>> from fnrun.model.graph import FlowStep
>>> flow = FlowStep()
>>> _ = flow.to("Prep", name="prep").to(handler="score", name="score").respond()
>>> flow["score"].after, flow["score"].responder
(['prep'], True)
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, Self, TypeVar

from fnrun.errors import InvalidArgumentError
from fnrun.model.graph_plot import plot
from fnrun.model.serialize import to_yaml
from fnrun.notebook.function_card import graph_card


class StepLike(Protocol):
    """What the verbs read and set on a step."""

    name: str
    kind: str
    after: list[str]
    function: str
    on_error: str
    responder: bool
    _parent: Any

    def to(self, class_name: Any = None, name: str | None = None, handler: Any = None,
           **kwargs: Any) -> Any: ...  # fmt: skip


S = TypeVar("S", bound=StepLike)  # the step class: fnrun.model.graph.BaseStep


def _chain(start: Any, steps: list[Any]) -> Any:
    if not steps:
        raise InvalidArgumentError("set_flow needs at least one step", field="steps")
    step = start
    for item in steps:
        step = step.to(**item) if isinstance(item, dict) else step.to(item)
    return step


class StepBuilder(Generic[S]):
    """Verbs on any step: chain the next step, respond, attach an error handler."""

    name: str
    responder: bool
    on_error: str
    _parent: Any

    def _flow(self) -> FlowBuilder[S]:
        parent = self._parent
        if not isinstance(parent, FlowBuilder):
            raise InvalidArgumentError(
                f"step {self.name!r} is not inside a flow",
                field="graph",
                hint="chain steps on a flow topology (set_topology('flow'))",
            )
        return parent

    def to(
        self, class_name: Any = None, name: str | None = None, handler: Any = None, **kwargs: Any
    ) -> S:
        """Add a step after this one and return it (``.to().to()`` reads as a chain)."""
        return self._flow().add_step(class_name, name, handler, after=self.name, **kwargs)

    def set_flow(self, steps: list[Any], force: bool = False) -> S:
        """Make ``steps`` (class names, dicts of ``to()`` arguments, or step objects) the chain
        after this step, replacing what followed it (``force=True`` when something did).
        Returns the last step, so ``.set_flow([...]).to(...)`` goes on."""
        flow = self._flow()
        downstream = flow.downstream_of(self.name)
        if downstream and not force:
            raise InvalidArgumentError(
                "set_flow() called on a step that already has downstream steps. If you want "
                f"to overwrite existing steps, set force=True. (step {self.name!r} is followed "
                f"by: {', '.join(downstream)})",
                field="steps",
                hint="pass force=True to replace them, or use .to() to add a branch",
            )
        for name in downstream:
            del flow.steps[name]
        last: S = _chain(self, steps)
        return last

    def respond(self) -> Self:
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
    ) -> S:
        """Run a step when this one fails (it gets the failed step's input, ``event.error``
        and ``event.origin_state``); ``before`` names the step to continue with after it.
        Returns this step (as MLRun), so ``.to()`` goes on from it."""
        self._flow().add_error_step(self, class_name, name, handler, before, kwargs)
        return self  # type: ignore[return-value]  # S is this step's class

    def after_step(self, *names: Any, append: bool = True) -> Self:
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
        return plot(self, filename, format)

    def _repr_html_(self) -> str:
        """A graph shows as its picture in a notebook."""
        return graph_card(self)

    def to_yaml(self) -> str:
        """The step (a graph, when called on the root) as YAML, as ``spec.graph`` holds it."""
        return to_yaml(self.to_dict())  # type: ignore[attr-defined]


class FlowBuilder(Generic[S]):
    """Verbs on a flow: add, insert and look up steps."""

    steps: dict[str, Any]
    on_error: str
    _last_added: Any

    def new_step(
        self, class_name: Any = None, name: str | None = None, handler: Any = None, **kwargs: Any
    ) -> S:
        """The step ``add_step`` adds (the flow class builds it: it knows the step kinds)."""
        raise NotImplementedError

    def add_step(
        self,
        class_name: Any = None,
        name: str | None = None,
        handler: Any = None,
        after: str | list[str] | None = None,
        before: str | None = None,
        **kwargs: Any,
    ) -> S:
        """Add a step. ``after``: a name, names, or ``"$prev"`` (the last added step); no
        ``after`` makes a root step. ``before``: insert ahead of that step."""
        step = self.new_step(class_name, name, handler, **kwargs)
        return self.insert_step(step.name, step, before=before, after=after)

    def insert_step(
        self,
        key: str,
        step: S,
        before: str | None = None,
        after: str | list[str] | None = None,
    ) -> S:
        if key in self.steps:
            raise InvalidArgumentError(
                f"step {key!r} already exists", field="name", hint="give the step another name="
            )
        step.name = key
        step._parent = self  # a FlowBuilder is a FlowStep
        step.after = self._resolve_after(after)
        self._check_after_queue(step)
        joined = getattr(step, "on_added", None)
        if callable(joined):  # the step checks itself against the graph (model names)
            try:
                joined()
            except Exception:
                step._parent = None
                raise
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

    def _check_after_queue(self, step: S) -> None:
        """A step after a queue runs in a child function: it must name one (refused now, not
        only when the graph is served)."""
        queues = [p for p in step.after if getattr(self.steps.get(p), "kind", "") == "queue"]
        if queues and not step.function and step.kind != "queue":
            raise InvalidArgumentError(
                f"step {step.name!r} must specify a function, because it follows a queue step "
                f"({queues[0]!r})",
                field=f"graph.{step.name}.function",
                hint="steps after a queue run in a child function: pass function='name'",
            )

    def set_flow(self, steps: list[Any], force: bool = False) -> S:
        """Replace the flow's steps with the chain ``steps`` (``force=True`` when it has any)."""
        if self.steps and not force:  # MLRun's words, and which steps
            raise InvalidArgumentError(
                "set_flow() called on a step that already has downstream steps. If you want "
                f"to overwrite existing steps, set force=True. (steps: {', '.join(self.steps)})",
                field="steps",
                hint="pass force=True to replace them",
            )
        self.steps = {}
        self._last_added = None
        last: S = _chain(self, steps)
        return last

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
    ) -> S:
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
    ) -> S:
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
    ) -> S:
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
