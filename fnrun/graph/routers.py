"""Routers: a router step's class gets the compiled routes as ``routes`` and picks one (or
several, for ensembles) in its ``do_event(event)``; the default is the v2 ``ModelRouter``
(``/v2/models/<route>/...``, ``/<route>``, or ``body["model"]``)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.graph.nodes import Env, Runner
from fnrun.graph.resolve import accepts_any, build_instance, init_parameters, lookup
from fnrun.graph.wrapping import timed, wrap

if TYPE_CHECKING:
    from fnrun.graph.event import Event
    from fnrun.model.graph import RouterStep


class RouteNotFound(NotFoundError):
    """No route matches the request (an HTTP 404 at the edge)."""


def router_runner(step: RouterStep, env: Env) -> Runner:
    """Compile the routes; route with the step's class (default: the v2 ``ModelRouter``)."""
    compile_step = env.compile_step
    if compile_step is None:
        raise InvalidArgumentError("a router is compiled by graph.compile", field="graph")
    prefix = f"{step.name}." if step.name else ""
    routes = {
        name: timed(compile_step(route, env), f"{prefix}{name}", env.observe)
        for name, route in step.routes.items()
    }
    class_name = step.class_name or "ModelRouter"
    cls = lookup(class_name, env.namespaces, step.name or "router", "router class")
    args = {**step.class_args, "routes": routes}
    params = init_parameters(cls)
    if not step.name and ("name" in params or accepts_any(params)):
        args.setdefault(
            "name", None
        )  # the root router: the class picks its own name (VotingEnsemble)
    router = build_instance(cls, step.name or "router", env.context, args)
    env.objects.append(router)
    if not callable(getattr(router, "do_event", None)):
        raise InvalidArgumentError(
            f"router {step.name!r}: {cls.__name__} has no do_event()",
            field=f"graph.{step.name}.class_name",
        )
    run: Runner = (
        _async_router(router)
        if any(getattr(r, "is_async", False) for r in routes.values())
        else router.do_event
    )
    if step.input_path or step.result_path:  # the router sees (and answers at) a body path
        run = wrap(run, True, step.input_path, step.result_path, getattr(run, "is_async", False))
    return run


def _async_router(router: Any) -> Runner:
    """A router with async routes: its ``do_event_async`` (ensembles gather their routes), or
    its ``do_event`` with the chosen route's coroutine awaited."""
    own = getattr(router, "do_event_async", None)

    async def run(event: Event) -> Any:
        out = await own(event) if own is not None else router.do_event(event)
        return await out if inspect.isawaitable(out) else out

    run.is_async = True  # type: ignore[attr-defined]
    return run
