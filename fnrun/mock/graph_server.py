"""``create_graph_server``: a graph served in this process without a function object (MLRun's
``mlrun.serving.create_graph_server``): build, ``init_states``/``init_object``, ``test``.

>>> server = create_graph_server(graph=graph, parameters={"p": 1})  # doctest: +SKIP
>>> server.init_states(None, namespace=globals())                   # doctest: +SKIP
>>> server.init_object(globals())                                   # doctest: +SKIP
>>> server.test("/v2/models/m/infer", body={"inputs": [[1, 2]]})    # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.mock.server import MockServer, build_mock
from fnrun.model.graph import graph_from_dict


class GraphServerBuilder:
    """Holds the graph and settings until the namespace is known, then serves like the mock
    (every MockServer attribute is available once built)."""

    def __init__(self, graph: Any, **settings: Any) -> None:

        root = graph_from_dict(graph)
        if root is None:
            raise InvalidArgumentError(
                "create_graph_server needs graph=",
                field="graph",
                hint="pass fn.spec.graph or a graph built with FlowStep()/RouterStep()",
            )
        self.graph = root
        self.settings = settings
        self.namespace: Mapping[str, Any] | None = None
        self._mock: MockServer | None = None

    def init_states(
        self, context: Any = None, namespace: Mapping[str, Any] | None = None, **_: Any
    ) -> None:
        """Where classes and handlers are found (default: the caller's globals)."""
        self.namespace = namespace if namespace is not None else sys._getframe(1).f_globals

    def init_object(self, namespace: Mapping[str, Any] | None = None) -> MockServer:
        """Build every step (their ``post_init`` runs now)."""
        if namespace is not None:
            self.namespace = namespace
        ns = self.namespace if self.namespace is not None else sys._getframe(1).f_globals
        self._mock = build_mock(self.graph, [ns], **self.settings)
        return self._mock

    def _built(self) -> MockServer:
        return self._mock if self._mock is not None else self.init_object(self.namespace)

    def test(self, path: str = "/", body: Any = None, **kwargs: Any) -> Any:
        return self._built().test(path, body, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._built(), name)


def create_graph_server(
    parameters: dict[str, Any] | None = None,
    load_mode: str | None = None,
    graph: Any = None,
    verbose: bool = False,
    current_function: str | None = None,
    secrets: dict[str, str] | None = None,
    engine: str = "",
    **_ignored: Any,
) -> GraphServerBuilder:
    """A graph server in this process (see the module doc)."""
    return GraphServerBuilder(
        graph,
        parameters=parameters,
        load_mode=load_mode or "",
        verbose=verbose,
        current_function=current_function or "*",
        secrets=secrets,
        engine=engine,
    )
