"""ModelRouter: the v2 protocol paths over a set of model routes.

``GET /`` and ``GET /v2/health`` answer the router's metadata (MLRun's ``{name, version: "v2",
extensions}``), ``GET /v2/models/`` lists the models;
``/v2/models/<m>[/versions/<v>]/<op>`` goes to route ``m:v`` (or ``m``); stream events name
``body["model"]``; a single route takes all.
An unknown model is a 404 that lists the models.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from fnrun.graph.routers import RouteNotFound
from fnrun.model.step_objects import StepToDict


class ModelRouter(StepToDict):
    step_kind = "router"

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
        self._by_path: dict[str, Callable[[Any], Any]] = {}  # v2 paths seen -> their route

    def do_event(self, event: Any) -> Any:
        path = event.path or "/"
        route = self._by_path.get(path)
        if route is not None:
            return route(event)
        parts = [p for p in path.split("/") if p]
        if (event.method or "GET") == "GET" and not event.body:
            listing = self.listing(parts)
            if listing is not None:
                event.body = listing
                return event
        name = self.select(parts, event)
        route = self.routes[name]
        if len(parts) >= 3 and parts[:2] == ["v2", "models"] and len(self._by_path) < 4096:
            self._by_path[path] = route  # the path alone decided: remember it
        return route(event)

    def get_metadata(self) -> dict[str, Any]:
        """What ``GET /`` and ``GET /v2/health`` answer (MLRun's keys)."""
        return {"name": type(self).__name__, "version": "v2", "extensions": []}

    def listing(self, parts: list[str]) -> dict[str, Any] | None:
        """The answer of a ``GET`` that asks the router itself, else None."""
        if parts == [] or parts[:2] == ["v2", "health"]:
            return self.get_metadata()
        if parts == ["v2", "models"]:
            return {"models": sorted(self.routes)}
        return None

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


class VotingEnsemble(ModelRouter):
    """Asks every model and combines their outputs row by row: a weighted majority vote
    (classification) or a weighted mean (regression); ``vote_type`` is detected from the
    outputs when not given (ints, strings and bools vote; floats average). A path that
    names one model (``/v2/models/<model>/...``) still reaches only that model."""

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Callable[[Any], Any]] | None = None,
        vote_type: str = "",
        weights: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(context, name, routes, **kwargs)
        if vote_type not in ("", "classification", "regression"):
            from fnrun.errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"unknown vote_type {vote_type!r}",
                field="vote_type",
                hint="use classification or regression",
            )
        self.vote_type = vote_type
        self.weights = dict(weights or {})

    def do_event(self, event: Any) -> Any:
        single = self._single(event)
        if single is not None:
            return single
        results = {name: _outputs(route(branch(event))) for name, route in self.routes.items()}
        return self._combined(event, results)

    async def do_event_async(self, event: Any) -> Any:
        """The same, with the models asked concurrently (some routes are async)."""
        single = self._single(event)
        if single is not None:
            return await single if inspect.isawaitable(single) else single
        names = list(self.routes)
        outs = await asyncio.gather(*(_awaited(self.routes[n](branch(event))) for n in names))
        return self._combined(event, {n: _outputs(o) for n, o in zip(names, outs, strict=True)})

    def _single(self, event: Any) -> Any:
        """The answer when the request does not go to every model (one model, a listing)."""
        parts = [p for p in (event.path or "/").split("/") if p]
        if len(parts) >= 3 and parts[:2] == ["v2", "models"] and parts[2] in self.routes:
            return self.routes[parts[2]](event)
        if (event.method or "GET") == "GET" and not event.body:
            return super().do_event(event)
        return None

    def _combined(self, event: Any, results: dict[str, list[Any]]) -> Any:
        from fnrun.graph.protocol import response

        combined = self.combine(results)
        event.body = response(event.id, self.name or "ensemble", "", combined, tensor=False)
        return event

    def combine(self, results: dict[str, list[Any]]) -> list[Any]:
        names = list(results)
        columns = [results[n] for n in names]
        if len({len(c) for c in columns}) > 1:
            raise ValueError(
                f"models answered different numbers of rows: "
                f"{ {n: len(results[n]) for n in names} }"
            )
        kind = self.vote_type or _detect(columns)
        weights = [float(self.weights.get(n, 1.0)) for n in names]
        if kind == "regression":
            total = sum(weights)
            return [
                sum(w * float(v) for w, v in zip(weights, row, strict=True)) / total
                for row in zip(*columns, strict=True)
            ]
        out = []
        for row in zip(*columns, strict=True):
            first = row[0]
            if row.count(first) == len(row):  # every model agrees
                out.append(first)
                continue
            score: dict[Any, float] = {}
            for weight, value in zip(weights, row, strict=True):
                score[value] = score.get(value, 0.0) + weight
            best = max(score.values())
            out.append(next(v for v in row if score[v] == best))  # ties: the first route's
        return out


def branch(event: Any) -> Any:
    """A copy for one model: the event and its body dict are copied, their values shared
    (models replace the body; they do not change the request in place)."""
    new = event.copy(deep_body=False)
    if type(new.body) is dict:
        new.body = dict(new.body)
    return new


def _outputs(out: Any) -> list[Any]:
    body = getattr(out, "body", None)
    return list(body.get("outputs", [])) if isinstance(body, dict) else []


async def _awaited(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _detect(columns: list[list[Any]]) -> str:
    """Labels (ints, strings, bools) vote; anything else (floats) is averaged."""
    types = {type(v) for column in columns for v in column}
    return "classification" if types <= {str, bool, int} else "regression"
