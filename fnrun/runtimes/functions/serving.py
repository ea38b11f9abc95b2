"""Serving-function verbs: ``set_topology``, ``add_child_function``, ``to_mock_server``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from fnrun.config import get_settings
from fnrun.errors import InvalidArgumentError
from fnrun.execution.loader import module_from_code, module_from_file
from fnrun.graph.tracking import share_of
from fnrun.model.graph import FlowStep, RouterStep, TaskStep, step_from_object
from fnrun.model.graph_plot import plot
from fnrun.model.step_objects import class_path, is_step_object
from fnrun.runtimes.platforms import DeployOptions, get_platform

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
        mock: bool | None = None,
        namespace: dict[str, Any] | None = None,
    ) -> str:
        """Start the function's server and return its URL. ``platform="local"``: a background
        process here; ``"nuclio"``: deploy through the Nuclio dashboard at ``dashboard_url``;
        ``mock=True``: the graph in this process (``invoke`` then goes to it; returns
        ``mock://<name>``; classes are found in ``namespace``, default the caller's globals).
        ``mock`` unset follows ``FNRUN_MOCK_DEPLOY`` (MLRun's ``mock_nuclio_deployment``)."""
        if get_settings().use_mock_deploy(mock):
            ns = namespace if namespace is not None else sys._getframe(1).f_globals
            self._mock = self.to_mock_server(namespace=ns)  # type: ignore[attr-defined]
            self.status.state = "ready"
            return f"mock://{self.metadata.name}"
        options = DeployOptions(port, workers, timeout, dashboard_url)
        return get_platform(platform)(self, options)

    def _set_as_mock(self, enable: bool) -> None:
        """MLRun's: whether ``invoke`` answers from the in-process mock (``False`` forgets a
        mock deployment, so ``invoke`` goes to the real address again)."""
        if not enable:
            self.__dict__.pop("_mock", None)
        elif self.__dict__.get("_mock") is None:
            ns = sys._getframe(1).f_globals
            self._mock = self.to_mock_server(namespace=ns)  # type: ignore[attr-defined]

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
        mock: bool | None = None,
    ) -> Any:
        """Call the deployed function over HTTP; JSON answers come back decoded. ``mock=True``
        (or a function deployed with ``deploy(mock=True)``, or ``FNRUN_MOCK_DEPLOY`` saying
        so) answers through the in-process mock, building it first when the function was never
        deployed; ``mock=False`` always goes to the real address."""
        server = self.__dict__.get("_mock")
        if mock is None and server is None:
            mock = get_settings().use_mock_deploy()
        if mock or (mock is None and server is not None):
            if server is None:
                server = self._mock = self.to_mock_server(  # type: ignore[attr-defined]
                    namespace=sys._getframe(1).f_globals
                )
            return server.test(path, body, method=method, headers=headers)
        from fnrun.runtimes.local.deploy import invoke

        return invoke(self, path, body, method, headers, timeout)

    def stop(self) -> bool:
        """Stop the function's local servers, or delete its Kubernetes objects; True when
        anything was running."""
        from fnrun.runtimes.kubernetes.deploy import stop_kubernetes
        from fnrun.runtimes.local.deploy import stop_local

        stopped = stop_kubernetes(self) or stop_local(self)
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
        class_name: Any = "",
        engine: str = "",
        exist_ok: bool = False,
        **class_args: Any,
    ) -> FlowStep | RouterStep:
        """Start the graph: ``"flow"`` (a DAG of steps) or ``"router"`` (routes to models).
        ``class_name`` for a router: a class name, a class, or a router object
        (``VotingEnsemble(vote_type="regression")``, ``ParallelRun(...)``). ``timeout=S``:
        the seconds a request may take through the graph (504 past it)."""
        timeout = class_args.pop("timeout", None)
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
            graph = _root_router(class_name, class_args, engine)
        graph.timeout = timeout
        self.spec.graph = graph
        return graph

    def add_model(
        self,
        key: str,
        model_path: str | None = None,
        class_name: Any = "",
        model_url: str | None = None,
        handler: str | None = None,
        router_step: str | None = None,
        child_function: str | None = None,
        **class_args: Any,
    ) -> Any:
        """Add a model route (``key`` may be ``name:version``) to the router topology, or to a
        router step inside a flow (``router_step=``, or the flow's only router). ``class_name``
        may be a model object (``MyModel(model_path=...)``). ``model_url`` routes to a model
        served elsewhere (a ``RemoteStep`` posting to ``<model_url>/<operation>``)."""
        graph = self.spec.graph
        if graph is None:
            graph = self.set_topology("router")
        router = _router_of(graph, router_step)
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
        if is_step_object(class_name):
            route = step_from_object(class_name, class_args)
            if model_path:
                route.class_args["model_path"] = model_path  # type: ignore[attr-defined]
            return self._add_route(router, key, route, child_function)
        if isinstance(class_name, type):
            class_name = class_path(class_name)
        class_name = class_name or self.spec.default_class
        if not class_name and not handler:
            raise InvalidArgumentError(
                f"model {key!r} needs class_name (or spec.default_class)", field="class_name"
            )
        args = {**class_args, **({"model_path": model_path} if model_path else {})}
        route = TaskStep(class_name=class_name, handler=handler or "", class_args=args)
        return self._add_route(router, key, route, child_function)

    @staticmethod
    def _add_route(router: RouterStep, key: str, route: Any, function: str | None) -> Any:
        added = router.add_route(key, route)
        if function:
            added.function = function
        return added

    def set_tracking(
        self,
        stream_path: str = "",
        batch: int | None = None,
        sample: float | None = None,
        enable_tracking: bool = True,
        steps: list[str] | None = None,
        **mlrun_options: Any,
    ) -> None:
        """Record what each model is asked and answers (errors too) to ``stream_path``:
        ``kafka://host:port/topic``, ``file:///folder`` or a folder path (JSON lines, a file
        per process), ``memory://name`` in the mock. ``sample``: the share of requests
        (0 to 1; MLRun's int N: one in N), by a stable hash of the request id; ``steps``:
        step names tapped as well as the models; ``batch``: records per Kafka message.
        ``enable_tracking=False`` turns it off."""
        params = self.spec.parameters
        for key in ("log_stream", "log_stream_batch", "log_stream_sample", "log_stream_steps"):
            params.pop(key, None)
        self.spec.track_models = bool(enable_tracking)
        if not enable_tracking:
            return
        unknown = sorted(k for k, v in mlrun_options.items() if v is not None)
        if unknown:  # MLRun's stream_args / tracking_policy are its model-monitoring service's
            raise InvalidArgumentError(
                f"set_tracking does not take {', '.join(unknown)}",
                field=unknown[0],
                hint="give stream_path, sample, steps and batch; model monitoring's policies "
                "are not part of fnrun",
            )
        if not stream_path:
            raise InvalidArgumentError(
                "set_tracking needs a stream_path",
                field="stream_path",
                hint="e.g. kafka://localhost:9092/model-monitoring or file:///var/tracking",
            )
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int)
                                  or batch < 1):  # fmt: skip
            raise InvalidArgumentError(
                f"batch must be a positive int, got {batch!r}", field="batch"
            )
        share_of(sample)  # checked now, not when the server starts
        if steps is not None and (
            not isinstance(steps, list | tuple) or not all(isinstance(s, str) for s in steps)
        ):
            raise InvalidArgumentError("steps must be a list of step names", field="steps")
        params["log_stream"] = stream_path
        if batch:
            params["log_stream_batch"] = batch
        if sample is not None:
            params["log_stream_sample"] = sample
        if steps:
            params["log_stream_steps"] = list(steps)

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
        from fnrun.mock.server import build_mock

        where = namespace if namespace is not None else sys._getframe(1).f_globals
        return build_mock(
            None,
            [where],
            make_server=lambda **settings: graph_server_for(self, where, **settings),
            parameters=parameters,
            secrets=secrets,
            engine=engine,
            verbose=verbose,
            current_function=current_function,
        )


def _root_router(class_name: Any, class_args: dict[str, Any], engine: str) -> RouterStep:
    """The router topology's root from a class name or a router object."""
    if is_step_object(class_name):
        step = step_from_object(class_name, class_args)
        if not isinstance(step, RouterStep):
            raise InvalidArgumentError(
                f"{type(class_name).__name__} is not a router",
                field="class_name",
                hint="use a ModelRouter, VotingEnsemble or ParallelRun object or class name",
            )
        if step.name and step.name != class_name.__class__.__name__:
            step.class_args["name"] = step.name  # the root keeps no name
        step.name, step.engine = "", engine
        return step
    if isinstance(class_name, type):
        class_name = class_path(class_name)
    return RouterStep(class_name=class_name, class_args=class_args, engine=engine)


def _router_of(graph: FlowStep | RouterStep, name: str | None) -> RouterStep:
    """The router ``add_model`` adds to: the root router, the named router step, or the
    flow's only router."""
    if isinstance(graph, RouterStep) and not name:
        return graph
    if isinstance(graph, FlowStep):
        if name:
            found = graph.steps.get(name)
            if isinstance(found, RouterStep):
                return found
        else:
            routers = [s for s in graph.steps.values() if isinstance(s, RouterStep)]
            if len(routers) == 1:
                return routers[0]
            if routers:
                raise InvalidArgumentError(
                    f"the flow has several routers: {', '.join(r.name for r in routers)}",
                    field="router_step",
                    hint="pass router_step= naming one",
                )
    raise InvalidArgumentError(
        f"add_model needs a router{f'; {name!r} is not a router step' if name else ''}",
        field="router_step",
        hint="set_topology('router'), or add a router step to the flow (graph.to('*'))",
    )


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
    elif str(getattr(fn.spec, "command", "") or "").endswith(".py"):
        namespaces.append(vars(_command_module(fn.spec.command)))
    graph = getattr(fn.spec, "graph", None) or _handler_graph(fn)
    params = {**getattr(fn.spec, "parameters", {}), **(parameters or {})}
    kwargs.setdefault("load_mode", getattr(fn.spec, "load_mode", "") or "")
    kwargs.setdefault("timeout", getattr(fn.spec, "timeout", None))
    kwargs.setdefault("max_in_flight", getattr(fn.spec, "max_in_flight", None) or 0)
    kwargs.setdefault("project", fn.metadata.project or get_settings().default_project)
    kwargs.setdefault("function_name", fn.metadata.name)
    return GraphServer(graph, namespaces, parameters=params, **kwargs)


def _handler_graph(fn: Any) -> FlowStep:
    """A nuclio function as a one-step graph: its ``handler(context, event)`` with the event."""
    handler = (getattr(fn.spec, "function_handler", "") or "").rpartition(":")[2] or "handler"
    flow = FlowStep(engine="sync")
    flow.to(handler=fn.spec.default_handler or handler, name="handler", full_event=True)
    return flow


def _command_module(command: str) -> Any:
    """``new_function(command="steps.py", kind="serving")``: that file's classes and handlers."""
    from pathlib import Path

    path = Path(command).expanduser().resolve()
    return module_from_file(path)


def _code_module(code: str, filename: str) -> Any:
    from pathlib import Path

    return module_from_code(code, Path(get_settings().home) / "code", filename)
