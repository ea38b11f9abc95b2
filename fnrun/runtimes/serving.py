"""Serving-function verbs: ``set_topology``, ``add_child_function``, ``to_mock_server``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.model.graph import FlowStep, RouterStep

TOPOLOGIES = ("flow", "router")


class DeployMixin:
    """``deploy``/``invoke``/``stop`` for real-time functions (serving and nuclio kinds)."""

    spec: Any
    metadata: Any
    status: Any

    def deploy(
        self,
        port: int = 0,
        workers: int = 0,
        platform: str = "local",
        timeout: float = 60.0,
        dashboard_url: str = "",
    ) -> str:
        """Start the function's server and return its URL. ``platform="local"``: a background
        process here; ``"nuclio"``: deploy through the Nuclio dashboard at ``dashboard_url``."""
        if platform == "nuclio":
            return self._deploy_nuclio(dashboard_url, timeout)
        if platform != "local":
            raise InvalidArgumentError(
                f"unknown platform {platform!r}", field="platform", hint="use 'local' or 'nuclio'"
            )
        from fnrun.runtimes.deploy_local import deploy_local

        return deploy_local(self, port=port, workers=workers, timeout=timeout)

    def _deploy_nuclio(self, dashboard_url: str, timeout: float) -> str:
        import os

        from fnrun.runtimes.nuclio_client import NuclioDashboard
        from fnrun.runtimes.nuclio_config import nuclio_config

        url = dashboard_url or os.environ.get("FNRUN_NUCLIO_DASHBOARD", "")
        if not url:
            raise InvalidArgumentError(
                "no nuclio dashboard URL",
                field="dashboard_url",
                hint="pass dashboard_url= or set FNRUN_NUCLIO_DASHBOARD",
            )
        project = self.metadata.project or "default"
        status = NuclioDashboard(url).deploy(nuclio_config(self), project, wait=max(timeout, 60))
        urls = status.get("externalInvocationUrls") or status.get("internalInvocationUrls") or []
        address = urls[0] if urls else ""
        address = address if not address or address.startswith("http") else f"http://{address}"
        self.status.state = "ready"
        self.status.address = address
        self.status.nuclio_name = self.metadata.name
        self.status.external_invocation_urls = list(urls)
        return str(address)

    def add_trigger(self, name: str, spec: Any) -> Any:
        """Add a Nuclio trigger (a dict, or nuclio-jupyter's ``HttpTrigger``/``CronTrigger``...)."""
        trigger = spec.to_dict() if hasattr(spec, "to_dict") else dict(spec)
        if "kind" not in trigger:
            raise InvalidArgumentError("a trigger needs a 'kind'", field=f"spec.triggers.{name}")
        self.spec.config = {**self.spec.config, f"spec.triggers.{name}": trigger}
        return self

    def add_kafka_trigger(
        self,
        brokers: str | list[str],
        topics: str | list[str],
        consumer_group: str = "",
        initial_offset: str = "earliest",
        name: str = "kafka",
        **attributes: Any,
    ) -> Any:
        """Run each message of ``topics`` through the function (a Nuclio kafka-cluster trigger)."""
        if initial_offset not in ("earliest", "latest"):
            raise InvalidArgumentError(
                f"invalid initial_offset {initial_offset!r}",
                field="initial_offset",
                hint="use earliest or latest",
            )
        attrs = {
            "brokers": [brokers] if isinstance(brokers, str) else list(brokers),
            "topics": [topics] if isinstance(topics, str) else list(topics),
            "consumerGroup": consumer_group or f"{self.metadata.name}-{name}",
            "initialOffset": initial_offset,
            **attributes,
        }
        self.spec.config = {
            **self.spec.config,
            f"spec.triggers.{name}": {"kind": "kafka-cluster", "attributes": attrs},
        }
        return self

    def invoke(
        self,
        path: str = "/",
        body: Any = None,
        method: str = "",
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> Any:
        """Call the deployed function over HTTP; JSON answers come back decoded."""
        from fnrun.runtimes.deploy_local import invoke

        return invoke(self, path, body, method, headers, timeout)

    def stop(self) -> bool:
        """Stop the local server of this function; True when one was running."""
        from fnrun.runtimes.deploy_local import stop_local

        stopped = stop_local(self)
        if stopped and self.metadata.name:
            self.save()  # type: ignore[attr-defined]
        return stopped


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
            graph = FlowStep(engine=engine)
        else:
            graph = RouterStep(class_name=class_name, class_args=class_args, engine=engine)
        self.spec.graph = graph
        return graph

    def add_model(
        self,
        key: str,
        model_path: str | None = None,
        class_name: str = "",
        model_url: str | None = None,
        handler: str | None = None,
        router_step: str | None = None,
        child_function: str | None = None,
        **class_args: Any,
    ) -> Any:
        """Add a model route (``key`` may be ``name:version``) to the router topology, or to the
        router step ``router_step`` inside a flow. ``model_url`` routes to a model served
        elsewhere (a ``RemoteStep`` posting to ``<model_url>/<operation>``)."""
        graph = self.spec.graph
        if graph is None:
            graph = self.set_topology("router")
        router = graph
        if router_step:
            router = graph[router_step] if isinstance(graph, FlowStep) else None
        if not isinstance(router, RouterStep):
            raise InvalidArgumentError(
                "add_model needs a router",
                field="router_step",
                hint="set_topology('router') or pass router_step= of a router step in the flow",
            )
        if model_url and (class_name or handler or model_path):
            raise InvalidArgumentError(
                f"model {key!r}: model_url= serves the model elsewhere; it takes no "
                "class_name, handler or model_path",
                field="model_url",
                hint="pass either model_url= or a local model class",
            )
        if model_url:  # a model served elsewhere: forward the operation to its URL
            class_name, class_args = (
                "RemoteStep",
                {
                    **class_args,
                    "url": model_url,
                    "operation_path": True,
                },
            )
        class_name = class_name or self.spec.default_class
        if not class_name and not handler:
            raise InvalidArgumentError(
                f"model {key!r} needs class_name (or spec.default_class)", field="class_name"
            )
        args = {**class_args, **({"model_path": model_path} if model_path else {})}
        route = router.add_route(key, class_name=class_name, handler=handler or "", **args)
        if child_function:
            route.function = child_function
        return route

    def set_tracking(
        self,
        stream_path: str,
        batch: int | None = None,
        sample: int | None = None,
        enable_tracking: bool = True,
    ) -> None:
        """Push each model's requests, responses and latency to ``stream_path`` (in-memory in
        the mock; ``kafka://host:port/topic`` when served): every ``sample``-th request, in
        messages of ``batch`` records. ``enable_tracking=False`` turns it off."""
        params = self.spec.parameters
        for key in ("log_stream", "log_stream_batch", "log_stream_sample"):
            params.pop(key, None)
        self.spec.track_models = bool(enable_tracking)
        if not enable_tracking:
            return
        if not stream_path:
            raise InvalidArgumentError(
                "set_tracking needs a stream_path",
                field="stream_path",
                hint="e.g. kafka://localhost:9092/model-monitoring",
            )
        for key, value in (("batch", batch), ("sample", sample)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InvalidArgumentError(
                    f"{key} must be a positive int, got {value!r}", field=key
                )
        params["log_stream"] = stream_path
        if batch:
            params["log_stream_batch"] = batch
        if sample:
            params["log_stream_sample"] = sample

    def add_child_function(
        self,
        name: str,
        url: str = "",
        image: str = "",
        requirements: list[str] | None = None,
        kind: str = "",
        replicas: int = 0,
    ) -> None:
        """Declare a child function that runs the steps whose ``function=`` is ``name``;
        ``replicas`` processes consume its queue together (one consumer group)."""
        if not isinstance(replicas, int) or replicas < 0:
            raise InvalidArgumentError(
                f"replicas must be a positive int, got {replicas!r}", field="replicas"
            )
        refs = [r for r in self.spec.function_refs if r.get("name") != name]
        ref = {
            "name": name,
            "url": url,
            "image": image,
            "requirements": list(requirements or []),
            "kind": kind,
            "replicas": replicas,
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
        from fnrun.mock.server import ERROR_STREAM, MockServer
        from fnrun.mock.streams import MemoryStreams

        streams = MemoryStreams()
        server = graph_server_for(
            self,
            namespace if namespace is not None else sys._getframe(1).f_globals,
            parameters=parameters,
            secrets=secrets,
            engine=engine,
            verbose=verbose,
            current_function=current_function,
            error_sink=lambda record: streams.push(ERROR_STREAM, record),
            queue_push=streams.push,
        )
        server.context.is_mock = True
        return MockServer(server, streams)


def serving_part(fn: Any, function: str = "") -> str:
    """Which steps a deployed server runs: ``function`` if given (``root`` for the root
    function's); the root function's steps when the graph spreads over child functions; else all."""
    if function:
        return "" if function == "root" else function
    graph = getattr(fn.spec, "graph", None)
    steps = getattr(graph, "steps", {}) or {}
    return "" if any(getattr(s, "function", "") for s in steps.values()) else "*"


def graph_server_for(
    fn: Any,
    namespace: Mapping[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """The GraphServer of a serving function (its graph) or a nuclio function (its handler)."""
    from fnrun.graph.server import GraphServer

    namespaces: list[Mapping[str, Any]] = [namespace] if namespace is not None else []
    if fn.code:
        namespaces.append(vars(_code_module(fn.code, fn.spec.build.origin_filename)))
    graph = getattr(fn.spec, "graph", None) or _handler_graph(fn)
    params = {**getattr(fn.spec, "parameters", {}), **(parameters or {})}
    kwargs.setdefault("load_mode", getattr(fn.spec, "load_mode", "") or "")
    return GraphServer(graph, namespaces, parameters=params, **kwargs)


def _handler_graph(fn: Any) -> FlowStep:
    """A nuclio function as a one-step graph: its ``handler(context, event)`` with the event."""
    handler = (getattr(fn.spec, "function_handler", "") or "").rpartition(":")[2] or "handler"
    flow = FlowStep(engine="sync")
    flow.to(handler=fn.spec.default_handler or handler, name="handler", full_event=True)
    return flow


def _code_module(code: str, filename: str) -> Any:
    from pathlib import Path

    from fnrun.config import get_settings
    from fnrun.execution.loader import module_from_code

    return module_from_code(code, Path(get_settings().home) / "code", filename)
