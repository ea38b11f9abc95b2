"""Compile a graph spec once into runtime nodes; a request then walks plain Python objects.

Each node holds ``run(event) -> event | None`` (``None`` stops that branch), its parents and
children, its error handler, and whether it is a queue or belongs to another function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fnrun.graph.admission import Gate, check_bound, gated
from fnrun.graph.deadline import check_timeout
from fnrun.graph.event import Event
from fnrun.graph.model_runner import model_runner_runner
from fnrun.graph.nodes import CompiledGraph, Env, Node, Runner, descendants, is_line
from fnrun.graph.resolve import (
    StepError,
    build_instance,
    call_post_init,
    expression_handler,
    init_parameters,
    is_expression,
    lookup,
    resolve_callable_args,
    with_context,
)
from fnrun.graph.routers import router_runner
from fnrun.graph.storey_step import (
    elementwise_runner,
    is_map_class,
    is_storey_class,
    map_class_runner,
)
from fnrun.graph.streaming import stream_runner, streams
from fnrun.graph.validate import check_step, error_handlers, response_step, validate_flow
from fnrun.graph.wrapping import timed, wrap
from fnrun.model.graph import BaseStep, FlowStep, QueueStep, RouterStep, TaskStep
from fnrun.model.model_runner import ModelRunnerStep


def compile_graph(graph: FlowStep | RouterStep, env: Env) -> CompiledGraph:
    """Compile the root graph; every step object's ``post_init`` then runs once."""
    env.compile_step = compile_step  # routers compile their routes through the Env
    if isinstance(graph, RouterStep):
        node = Node(graph.name or "router", compile_step(graph, env))
        node.is_async = _is_async(node.run)
        compiled = CompiledGraph([node], 0, None if node.is_async else [node.run], env.objects)
    else:
        compiled = _compile_flow(graph, env)
    for obj in env.objects:
        call_post_init(obj, env.load_mode or "sync")
    return compiled


def _compile_flow(flow: FlowStep, env: Env) -> CompiledGraph:
    order = validate_flow(flow)
    handlers = error_handlers(flow)
    selected = [n for n in order if _selected(flow.steps[n], flow, env.current_function)]
    index = {name: i for i, name in enumerate(selected)}
    nodes: list[Node] = []
    storey_nodes: list[tuple[int, Any]] = []
    for name in selected:
        step = flow.steps[name]
        check_step(step)
        built = len(env.storey_steps)
        run = compile_step(step, env)
        if len(env.storey_steps) > built and isinstance(step, TaskStep):
            storey_nodes.append((len(nodes), env.storey_steps[-1]))
        routes_outlets = bool(getattr(run, "routes_outlets", False))
        chunks = bool(getattr(run, "streams", False))
        run = _admitted(run, step, env)
        if env.tap is not None:
            run = env.tap(name, run)
        node = Node(name, timed(run, name, env.observe), scheduled=name not in handlers)
        node.is_async = _is_async(node.run)
        node.is_queue = isinstance(step, QueueStep)
        node.routes_outlets = routes_outlets
        node.streams = chunks
        node.timeout = check_timeout(getattr(step, "timeout", None), f"graph.{name}.timeout")
        nodes.append(node)
    for name in selected:
        node = nodes[index[name]]
        linked = [index[p] for p in flow.steps[name].after if p in index]
        node.parents = [p for p in linked if nodes[p].scheduled]
        node.alt_parents = [p for p in linked if not nodes[p].scheduled]
        for p in linked:
            nodes[p].children.append(index[name])
        handler = flow.steps[name].on_error or flow.on_error
        node.on_error = index.get(handler, -1) if handler and handler != name else -1
    answer = response_step(flow, order, handlers)
    response = index[answer] if answer in index else _last_leaf(nodes)
    _mark_copies(nodes, response)
    compiled = CompiledGraph(nodes, response, _chain(nodes, response), env.objects)
    for i, adapter in storey_nodes:
        _check_storey(compiled, i, env, answer in index and flow.steps[answer].responder)
        adapter.bind(compiled, i)
    return compiled


def _check_storey(graph: CompiledGraph, i: int, env: Env, explicit_answer: bool) -> None:
    name = graph.nodes[i].name
    if env.engine != "async":
        raise StepError(
            f"step {name!r} is a storey operator and the engine is sync",
            field="graph.engine",
            hint="use set_topology('flow', engine='async')",
        )
    if explicit_answer and graph.response in descendants(graph, i):
        raise StepError(
            f"the responding step {graph.nodes[graph.response].name!r} comes after the storey "
            f"step {name!r}, whose output goes on later, not in the request",
            field=f"graph.{graph.nodes[graph.response].name}.responder",
            hint="respond from a step before the storey step",
        )


def _last_leaf(nodes: list[Node]) -> int:
    """The answer of a partial graph (one child function): its last leaf step, if any."""
    ends = [i for i, n in enumerate(nodes) if not n.children and n.scheduled and not n.is_queue]
    return ends[-1] if ends else -1


def _mark_copies(nodes: list[Node], response: int) -> None:
    """Every consumer of a shared input but the last takes a copy (branches stay independent);
    steps after the responder take a copy so they cannot change the answer."""
    roots = [i for i, n in enumerate(nodes) if not n.parents and not n.alt_parents and n.scheduled]
    for i in roots[:-1]:
        nodes[i].copy_input = True
    for i, node in enumerate(nodes):
        last = len(node.children) - 1
        node.copies = [i == response or k < last for k in range(len(node.children))]


def _selected(step: BaseStep, flow: FlowStep, current: str) -> bool:
    return current == "*" or (step.function or "") == (
        "" if current in ("", flow.name) else current
    )


def _admitted(run: Runner, step: BaseStep, env: Env) -> Runner:
    """``run`` behind its step's admission gate, when the step bounds its concurrency."""
    limit = check_bound(
        getattr(step, "max_concurrency", None), f"graph.{step.name}.max_concurrency"
    )
    if not limit:
        return run
    queued = check_bound(getattr(step, "max_queued", None), f"graph.{step.name}.max_queued")
    gate = Gate(step.name, limit, limit if queued is None else queued)
    env.objects.append(gate)
    return gated(run, gate, _is_async(run))


def _chain(nodes: list[Node], response: int) -> list[Runner] | None:
    """The runners in order when the graph is one line of sync steps ending at the response."""
    if any(n.is_async for n in nodes) or not is_line(nodes, response):
        return None
    return [n.run for n in nodes]


def _is_async(run: Runner) -> bool:
    return bool(getattr(run, "is_async", False))


def compile_step(step: BaseStep, env: Env) -> Runner:
    """The runner of ``step``; in a span of its own when the server traces (graph.spans)."""
    if env.spans is None:
        return _build_step(step, env)
    built = len(env.objects)
    run = _build_step(step, env)
    traced: Runner = env.spans.step(step, run, env.objects[built:])
    return traced


def _build_step(step: BaseStep, env: Env) -> Runner:
    if isinstance(step, QueueStep):
        return _queue_runner(step, env)
    if isinstance(step, RouterStep):
        return router_runner(step, env)
    if isinstance(step, FlowStep):
        return _nested_runner(step, env)
    if isinstance(step, ModelRunnerStep):
        return model_runner_runner(step, env)
    assert isinstance(step, TaskStep)
    return task_runner(step, env)


def task_runner(step: TaskStep, env: Env) -> Runner:
    """The runner of a class (``do``/``do_event``) or handler step, with input/result paths."""
    if not step.class_name:
        target = handler_target(step, env)
        if streams(target):
            return stream_runner(target, step.name, bool(step.full_event), step.input_path)
        return wrap(
            target,
            bool(step.full_event),
            step.input_path,
            step.result_path,
            inspect.iscoroutinefunction(target),
        )
    cls = lookup(step.class_name, env.namespaces, step.name, "class")
    if is_storey_class(cls) and not is_map_class(cls):
        args = resolve_callable_args(step.class_args, env.namespaces, step.name)
        direct = elementwise_runner(cls, step, args, env.context)
        if direct is not None:
            paths = (step.input_path, step.result_path)
            return wrap(direct, True, *paths, bool(getattr(direct, "is_async", False)))
        return _storey_runner(cls, step, env, args)
    obj, target, full, own_paths = _class_target(cls, step, env)
    if streams(target):
        return stream_runner(target, step.name, full, "" if own_paths else step.input_path)
    paths = ("", "") if own_paths else (step.input_path, step.result_path)
    run = wrap(target, full, *paths, inspect.iscoroutinefunction(target))
    return map_class_runner(obj, run) if is_storey_class(cls) else run


def _class_target(cls: Any, step: TaskStep, env: Env) -> tuple[Any, Callable[..., Any], bool, bool]:
    """(instance, the method a request calls, whether it takes the event, whether the class
    applies input/result paths itself: it names them in ``__init__``, as V2ModelServer does)."""
    extra: dict[str, Any] = {
        "input_path": step.input_path,
        "result_path": step.result_path,
        "timeout": step.timeout,  # to a class that takes one
    }
    if step.full_event is not None:
        extra["full_event"] = step.full_event
    args = resolve_callable_args(step.class_args, env.namespaces, step.name)
    obj = build_instance(cls, step.name, env.context, args, extra)
    env.objects.append(obj)
    expected = getattr(obj, "set_upstream_count", None)
    if callable(expected):
        expected(len(step.after))
    own_paths = bool(step.input_path or step.result_path) and "input_path" in init_parameters(cls)
    full = bool(step.full_event)
    named = getattr(obj, step.handler, None) if step.handler else None
    if step.handler and not callable(named):
        raise StepError(
            f"step {step.name!r}: {type(obj).__name__} has no method {step.handler!r}",
            field=f"graph.{step.name}.handler",
        )
    target = named
    if target is None:
        target = getattr(obj, "async_do_event", None) if env.engine == "async" else None
        target = target if callable(target) else getattr(obj, "do_event", None)
        if callable(target):
            full = True
        else:
            target = getattr(obj, "do", None)
    if not callable(target):
        raise StepError(
            f"step {step.name!r}: {type(obj).__name__} has no do() or do_event()",
            field=f"graph.{step.name}.class_name",
            hint="add a do(self, body) method",
        )
    return obj, target, full, own_paths


def handler_target(step: TaskStep, env: Env) -> Callable[..., Any]:
    """A handler function (given the context when it asks for it) or a safe expression of
    ``event`` (``handler="(event + 1)"``, MLRun's lambda shorthand, evaluated without eval)."""
    if is_expression(step.handler):
        return expression_handler(step.handler, f"graph.{step.name}.handler")
    fn = lookup(step.handler, env.namespaces, step.name, "handler")
    if not callable(fn):
        raise StepError(
            f"step {step.name!r}: handler {step.handler!r} is not callable",
            field=f"graph.{step.name}.handler",
        )
    return with_context(fn, env.context)


def _storey_runner(cls: type, step: TaskStep, env: Env, args: dict[str, Any]) -> Runner:
    from fnrun.graph.storey_step import StoreyStep

    adapter = StoreyStep(cls, step.name, args, env.context, step.full_event)
    env.storey_steps.append(adapter)
    env.objects.append(adapter)

    async def run(event: Event) -> Any:
        return await adapter.run(event)

    run.is_async = True  # type: ignore[attr-defined]
    return run


def _nested_runner(flow: FlowStep, env: Env) -> Runner:
    """A flow inside a flow runs as one step: its answer is the step's output."""
    from fnrun.graph.engines import run_async, run_sync

    inner = _compile_flow(
        flow,
        Env(
            env.context,
            env.namespaces,
            env.queue_push,
            "*",
            env.objects,
            engine=env.engine,
            load_mode=env.load_mode,
            storey_steps=env.storey_steps,
            compile_step=env.compile_step,
            tap=env.tap,
            spans=env.spans,
        ),
    )
    if inner.has_async:

        async def run_nested_async(event: Event) -> Any:
            return await run_async(inner, event)

        run_nested_async.is_async = True  # type: ignore[attr-defined]
        return run_nested_async

    def run_nested(event: Event) -> Any:
        return run_sync(inner, event)

    return run_nested


def _queue_runner(step: QueueStep, env: Env) -> Runner:
    push = env.queue_push
    path = step.path or step.name

    def run(event: Event) -> Event:
        if push is not None:
            push(path, event)  # a stream that keeps the event (the mock's) keeps a copy
        return event

    return run
