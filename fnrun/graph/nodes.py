"""The compiled graph's types: a ``Node`` per step, the ``CompiledGraph`` the engines walk,
and the ``Env`` a step is built in. The compiler (``compile``) makes them; the engines,
routers and the storey step read them without importing the compiler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fnrun.graph.event import Event
from fnrun.model.graph import BaseStep

Runner = Callable[[Event], Any]


@dataclass
class Node:
    name: str
    run: Runner
    parents: list[int] = field(default_factory=list)
    alt_parents: list[int] = field(default_factory=list)  # error handlers that continue here
    children: list[int] = field(default_factory=list)  # where this node's output goes
    copies: list[bool] = field(default_factory=list)  # per child: it gets its own copy
    copy_input: bool = False  # a root that shares the request with another root
    on_error: int = -1
    is_async: bool = False
    is_queue: bool = False
    scheduled: bool = True  # error handlers run only when a step fails
    instance: Any = None
    routes_outlets: bool = False  # its output may name which children get it (event.outlets)
    timeout: float | None = None  # the step's own time bound, seconds (graph.deadline)
    streams: bool = False  # a generator step: its chunks go on one by one (graph.streaming)


@dataclass
class CompiledGraph:
    nodes: list[Node]
    response: int  # index of the node whose output answers; -1 when the graph is a router
    chain: list[Runner] | None  # set when the graph is one straight line of sync steps
    objects: list[Any]
    # the same line when some steps are async: (runner, whether to await it)
    async_chain: list[tuple[Runner, bool]] | None = None
    roots: list[tuple[int, bool]] = field(default_factory=list)  # (node, takes a copy)
    edges: list[list[tuple[int, bool]]] = field(default_factory=list)  # per node: (child, copy)
    # the nodes whose output may choose its children (``event.outlets``: their step names)
    outlet_nodes: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        nodes = self.nodes
        self.roots = [
            (i, n.copy_input)
            for i, n in enumerate(nodes)
            if n.scheduled and not n.parents and not n.alt_parents
        ]
        self.edges = [
            list(zip(n.children, n.copies or [False] * len(n.children), strict=True)) for n in nodes
        ]
        self.outlet_nodes = frozenset(i for i, n in enumerate(nodes) if n.routes_outlets)
        if self.async_chain is None and is_line(nodes, self.response):
            self.async_chain = [(n.run, n.is_async) for n in nodes]

    @property
    def streams(self) -> bool:
        """Some step answers in chunks (a generator)."""
        return any(n.streams for n in self.nodes)

    @property
    def has_async(self) -> bool:
        return any(n.is_async for n in self.nodes)


@dataclass
class Env:
    """What building steps needs: the context, where names are looked up, queues."""

    context: Any
    namespaces: list[Mapping[str, Any]]
    queue_push: Callable[[str, Event], None] | None = None
    current_function: str = "*"
    objects: list[Any] = field(default_factory=list)
    observe: Callable[[str, float], None] | None = None  # per-step latency (metrics), when set
    engine: str = "sync"
    load_mode: str = "sync"  # passed to each step object's post_init(mode)
    storey_steps: list[Any] = field(default_factory=list)  # storey operators built so far
    # how a step becomes a runner (graph.compile.compile_step): routers compile their routes
    # through it, so they need not import the compiler
    compile_step: Callable[[BaseStep, Env], Runner] | None = None
    # a step's runner as tracking taps it (fnrun.graph.tracking), when steps are tapped
    tap: Callable[[str, Runner], Runner] | None = None
    # the graph's spans (fnrun.graph.spans.GraphSpans), when a tracer provider is installed
    spans: Any = None


def descendants(graph: CompiledGraph, i: int) -> set[int]:
    """The nodes after node ``i``, directly or through others."""
    found: set[int] = set()
    frontier = [i]
    while frontier:
        for child in graph.nodes[frontier.pop()].children:
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def is_line(nodes: list[Node], response: int) -> bool:
    """One straight line of steps (no queue, branch or error handler) ending at the response."""
    if not nodes or any(n.is_queue or not n.scheduled or n.routes_outlets for n in nodes):
        return False
    for i, node in enumerate(nodes):
        if node.parents != ([i - 1] if i else []) or len(node.children) > 1 or node.on_error >= 0:
            return False
    return response in (-1, len(nodes) - 1)
