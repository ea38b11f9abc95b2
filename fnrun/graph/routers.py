"""Routers: pick the route an event goes to (by path, then by ``body["model"]``).

The default router reads ``/v2/models/<route>/...``, ``/<route>/...`` or a ``model`` key in
the body. A custom router class (``class_name``) gets the compiled routes as ``routes`` and
decides in its ``do_event(event)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.graph.resolve import build_instance, lookup

if TYPE_CHECKING:
    from fnrun.graph.compile import Env, Runner
    from fnrun.graph.event import Event
    from fnrun.model.graph import RouterStep


class RouteNotFound(NotFoundError):
    """No route matches the request (an HTTP 404 at the edge)."""


def route_name(event: Event, routes: dict[str, Any]) -> str:
    path = (event.path or "/").strip("/")
    parts = path.split("/") if path else []
    if len(parts) >= 3 and parts[0] == "v2" and parts[1] == "models":
        name = parts[2]
    elif parts and parts[0] in routes:
        name = parts[0]
    elif isinstance(event.body, dict) and "model" in event.body:
        name = str(event.body["model"])
    elif len(routes) == 1:
        name = next(iter(routes))
    else:
        raise RouteNotFound(
            "the request names no route",
            field="path",
            hint=f"use /v2/models/<name>/infer; routes: {', '.join(routes)}",
        )
    if name not in routes:
        raise RouteNotFound(
            f"no route {name!r}", field="path", hint=f"routes: {', '.join(routes) or 'none'}"
        )
    return name


def router_runner(step: RouterStep, env: Env) -> Runner:
    from fnrun.graph.compile import compile_step

    routes = {name: compile_step(route, env) for name, route in step.routes.items()}
    if step.class_name:
        cls = lookup(step.class_name, env.namespaces, step.name or "router", "router class")
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

    def run(event: Event) -> Any:
        return routes[route_name(event, routes)](event)

    return run
