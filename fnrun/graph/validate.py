"""Graph validation when it is built, loaded or served; each error names the step and the fix.

Pure functions over the spec: nothing is imported or resolved here (see ``resolve``).
"""

from __future__ import annotations

from fnrun.model.graph import BaseStep, FlowStep, GraphError, QueueStep, TaskStep

__all__ = ["GraphError", "check_step", "error_handlers", "response_step", "validate_flow"]


def error_handlers(flow: FlowStep) -> set[str]:
    names = {s.on_error for s in flow.steps.values() if s.on_error}
    if flow.on_error:
        names.add(flow.on_error)
    return names


def validate_flow(flow: FlowStep) -> list[str]:
    """Check the flow; return its steps in topological order (error handlers included)."""
    steps = flow.steps
    for step in steps.values():
        for parent in step.after:
            if parent not in steps:
                raise GraphError(
                    f"step {step.name!r} is after {parent!r}, which does not exist",
                    field=f"graph.{step.name}.after",
                    hint=f"use one of: {', '.join(steps)}",
                )
        if step.on_error and step.on_error not in steps:
            raise GraphError(
                f"step {step.name!r}: error handler {step.on_error!r} does not exist",
                field=f"graph.{step.name}.on_error",
            )
    if flow.on_error and flow.on_error not in steps:
        raise GraphError(
            f"graph error handler {flow.on_error!r} does not exist", field="graph.on_error"
        )
    _check_queues(flow)
    responders = [s.name for s in steps.values() if s.responder]
    if len(responders) > 1:
        raise GraphError(
            f"the graph has several responders: {', '.join(responders)}",
            field="graph",
            hint="call .respond() on one step only",
        )
    if flow.final_step and flow.final_step not in steps:
        raise GraphError(f"final_step {flow.final_step!r} does not exist", field="graph.final_step")
    return topological_order(flow)


def _check_queues(flow: FlowStep) -> None:
    queues = {n for n, s in flow.steps.items() if isinstance(s, QueueStep)}
    for step in flow.steps.values():
        if (
            queues.intersection(step.after)
            and not step.function
            and not isinstance(step, QueueStep)
        ):
            raise GraphError(
                f"step {step.name!r} must specify a function, because it follows a queue step "
                f"({sorted(queues.intersection(step.after))[0]!r})",
                field=f"graph.{step.name}.function",
                hint="steps after a queue run in a child function: pass function='name'",
            )


def topological_order(flow: FlowStep) -> list[str]:
    """Kahn's order of the steps; a cycle is an error that names it."""
    steps = flow.steps
    indegree = {name: len(set(s.after)) for name, s in steps.items()}
    children: dict[str, list[str]] = {name: [] for name in steps}
    for name, step in steps.items():
        for parent in set(step.after):
            children[parent].append(name)
    ready = [n for n in steps if indegree[n] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for child in children[name]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if len(order) < len(steps):
        cycle = find_cycle(flow, [n for n in steps if n not in order])
        raise GraphError(
            f"the graph has a cycle: {' -> '.join(cycle)}",
            field="graph",
            hint="remove one of these 'after' links",
        )
    return order


def find_cycle(flow: FlowStep, candidates: list[str]) -> list[str]:
    """One cycle among ``candidates``, as a closed path of names."""
    steps = flow.steps
    for start in candidates:
        path, seen = [start], {start}
        node = start
        while True:
            parents = [p for p in steps[node].after if p in candidates]
            if not parents:
                break
            node = parents[0]
            if node in seen:
                loop = path[path.index(node) :]
                return [*reversed(loop), loop[-1]] if len(loop) > 1 else [node, node]
            path.append(node)
            seen.add(node)
    return candidates


def leaves(flow: FlowStep, order: list[str], handlers: set[str]) -> list[str]:
    parents = {p for s in flow.steps.values() for p in s.after}
    return [
        n
        for n in order
        if n not in parents and n not in handlers and not isinstance(flow.steps[n], QueueStep)
    ]


def response_step(flow: FlowStep, order: list[str], handlers: set[str]) -> str:
    """The step whose output answers the request: the responder, final_step, or the one leaf."""
    for step in flow.steps.values():
        if step.responder:
            return str(step.name)
    if flow.final_step:
        return flow.final_step
    ends = leaves(flow, order, handlers)
    if len(ends) > 1:
        raise GraphError(
            f"the graph ends in several steps ({', '.join(ends)}) and none responds",
            field="graph",
            hint="call .respond() on the step that answers requests",
        )
    return ends[0] if ends else ""


def check_step(step: BaseStep) -> None:

    if (
        isinstance(step, TaskStep)
        and type(step) is TaskStep
        and not (step.class_name or step.handler)
    ):
        raise GraphError(
            f"step {step.name!r} has neither class_name nor handler",
            field=f"graph.{step.name}",
            hint="set class_name= or handler=",
        )
