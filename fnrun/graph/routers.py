"""Routers: a router step's class gets the compiled routes as ``routes`` and picks one (or
several, for ensembles) in its ``do_event(event)``; the default is the v2 ``ModelRouter``
(``/v2/models/<route>/...``, ``/<route>``, or ``body["model"]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.graph.resolve import build_instance, lookup

if TYPE_CHECKING:
    from fnrun.graph.compile import Env, Runner
    from fnrun.model.graph import RouterStep


class RouteNotFound(NotFoundError):
    """No route matches the request (an HTTP 404 at the edge)."""


def router_runner(step: RouterStep, env: Env) -> Runner:
    """Compile the routes; route with the step's class (default: the v2 ``ModelRouter``)."""
    from fnrun.graph.compile import compile_step, timed

    prefix = f"{step.name}." if step.name else ""
    routes = {
        name: timed(compile_step(route, env), f"{prefix}{name}", env.observe)
        for name, route in step.routes.items()
    }
    class_name = step.class_name or "ModelRouter"
    cls = lookup(class_name, env.namespaces, step.name or "router", "router class")
    router = build_instance(
        cls, step.name or "router", env.context, {**step.class_args, "routes": routes}
    )
    env.objects.append(router)
    if not callable(getattr(router, "do_event", None)):
        raise InvalidArgumentError(
            f"router {step.name!r}: {cls.__name__} has no do_event()",
            field=f"graph.{step.name}.class_name",
        )
    return router.do_event  # type: ignore[no-any-return]
