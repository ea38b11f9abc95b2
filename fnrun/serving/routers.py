"""ModelRouter: the v2 protocol paths over a set of model routes.

``GET /`` or ``GET /v2/models/`` lists the models; ``/v2/models/<m>[/versions/<v>]/<op>`` goes
to route ``m:v`` (or ``m``); stream events name ``body["model"]``; a single route takes all.
An unknown model is a 404 that lists the models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fnrun.graph.routers import RouteNotFound


class ModelRouter:
    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Callable[[Any], Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        self.context = context
        self.name = name
        self.routes = dict(routes or {})

    def do_event(self, event: Any) -> Any:
        parts = [p for p in (event.path or "/").split("/") if p]
        if (event.method or "GET") == "GET" and parts in ([], ["v2", "models"]) and not event.body:
            event.body = {"models": sorted(self.routes)}
            return event
        return self.routes[self.select(parts, event)](event)

    def select(self, parts: list[str], event: Any) -> str:
        name = ""
        if len(parts) >= 3 and parts[0] == "v2" and parts[1] == "models":
            name = parts[2]
            if len(parts) >= 5 and parts[3] == "versions" and f"{name}:{parts[4]}" in self.routes:
                return f"{name}:{parts[4]}"
        elif parts and parts[0] in self.routes:
            name = parts[0]
        elif isinstance(event.body, dict) and "model" in event.body:
            name = str(event.body["model"])
        elif len(self.routes) == 1:
            return next(iter(self.routes))
        if name in self.routes:
            return name
        versions = sorted(k for k in self.routes if k.partition(":")[0] == name)
        if versions:
            return versions[-1]  # the newest version answers an unversioned path
        raise RouteNotFound(
            f"no model {name!r}" if name else "the request names no model",
            field="path",
            hint=f"models: {', '.join(sorted(self.routes)) or 'none'}",
        )
