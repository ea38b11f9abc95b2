"""Serving-function verbs: ``set_topology``, ``add_child_function``, ``to_mock_server``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.model.graph import FlowStep, RouterStep

TOPOLOGIES = ("flow", "router")


class ServingMixin:
    spec: Any
    metadata: Any
    code: str

    def set_topology(
        self,
        topology: str = "router",
        class_name: str = "",
        engine: str = "",
        exist_ok: bool = False,
        **class_args: Any,
    ) -> FlowStep | RouterStep:
        """Start the graph: ``"flow"`` (a DAG of steps) or ``"router"`` (routes to models)."""
        if topology not in TOPOLOGIES:
            raise InvalidArgumentError(
                f"unknown topology {topology!r}", field="topology", hint="use 'flow' or 'router'"
            )
        if engine not in ("", "sync", "async"):
            raise InvalidArgumentError(
                f"unknown engine {engine!r}", field="engine", hint="use 'sync' or 'async'"
            )
        current = self.spec.graph
        if current is not None and not exist_ok:
            if current.kind_name == topology:
                return current  # type: ignore[no-any-return]
            raise InvalidArgumentError(
                f"the function already has a {current.kind_name} graph",
                field="topology",
                hint="pass exist_ok=True to replace it",
            )
        graph: FlowStep | RouterStep
        if topology == "flow":
            graph = FlowStep(engine=engine or "sync")
        else:
            graph = RouterStep(class_name=class_name, class_args=class_args)
        self.spec.graph = graph
        return graph

    def add_child_function(
        self,
        name: str,
        url: str = "",
        image: str = "",
        requirements: list[str] | None = None,
        kind: str = "",
    ) -> None:
        """Declare a child function that runs the steps whose ``function=`` is ``name``."""
        refs = [r for r in self.spec.function_refs if r.get("name") != name]
        ref = {
            "name": name,
            "url": url,
            "image": image,
            "requirements": list(requirements or []),
            "kind": kind,
        }
        self.spec.function_refs = [*refs, {k: v for k, v in ref.items() if v}]

    def plot(self, filename: str = "", format: str = "") -> str:
        """Draw the graph (.svg/.html always; .png with graphviz); returns the SVG text."""
        from fnrun.graph.plot import plot

        return plot(self.spec.graph, filename, format)

    def to_mock_server(
        self,
        namespace: dict[str, Any] | None = None,
        current_function: str = "*",
        parameters: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        verbose: bool = False,
        engine: str = "",
        **_ignored: Any,
    ) -> Any:
        """The graph served in this process: ``server.test(path, body)``.

        Classes and handlers are found in ``namespace`` (default: the caller's globals), then in
        the function's own code, then as dotted import paths.
        """
        from fnrun.graph.server import GraphServer
        from fnrun.mock.server import ERROR_STREAM, MockServer
        from fnrun.mock.streams import MemoryStreams

        namespaces: list[Mapping[str, Any]] = [
            namespace if namespace is not None else sys._getframe(1).f_globals
        ]
        if self.code:
            namespaces.append(vars(_code_module(self.code, self.spec.build.origin_filename)))
        streams = MemoryStreams()
        server = GraphServer(
            self.spec.graph,
            namespaces,
            parameters={**self.spec.parameters, **(parameters or {})},
            secrets=secrets,
            engine=engine,
            current_function=current_function,
            verbose=verbose,
            error_sink=lambda record: streams.push(ERROR_STREAM, record),
            queue_push=streams.push,
        )
        server.context.is_mock = True
        return MockServer(server, streams)


def _code_module(code: str, filename: str) -> Any:
    from pathlib import Path

    from fnrun.config import get_settings
    from fnrun.execution.loader import module_from_code

    return module_from_code(code, Path(get_settings().home) / "code", filename)
