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
import time
from collections.abc import Callable
from typing import Any

from fnrun.errors import InvalidArgumentError
from fnrun.graph.routers import RouteNotFound
from fnrun.model.step_objects import StepToDict


class ModelRouter(StepToDict):
    step_class_name = "mlrun.serving.routers.ModelRouter"
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
    outputs when not given (ints, strings and bools vote; floats average). Outputs that are
    dicts are voted on their ``prediction_col_name`` column (default ``prediction``).

    Paths as MLRun's: ``/v2/models/infer`` and ``/v2/models/<ensemble name>/infer`` vote;
    ``/v2/models/<model>[/versions/<v>]/<op>`` reaches only that model; ``GET /v2/models/``
    lists the models, the ensemble itself and the weights; ``GET /v2/models/<ensemble name>``
    answers the ensemble's metadata. Votes are tracked like a model's (``set_tracking``)."""

    step_class_name = "mlrun.serving.routers.VotingEnsemble"

    def __init__(
        self,
        context: Any = None,
        name: str | None = None,
        routes: dict[str, Callable[[Any], Any]] | None = None,
        vote_type: str = "",
        weights: dict[str, float] | None = None,
        prediction_col_name: str = "",
        version: str = "v1",  # MLRun's default
        **kwargs: Any,
    ) -> None:
        super().__init__(context, name or "VotingEnsemble", routes, **kwargs)
        if vote_type not in ("", "classification", "regression"):
            from fnrun.errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"unknown vote_type {vote_type!r}",
                field="vote_type",
                hint="use classification or regression",
            )
        self.vote_type = vote_type
        self.weights = dict(weights or {})
        self.prediction_col_name = prediction_col_name or "prediction"
        self.version = version
        self.labels: dict[str, str] = dict(kwargs.get("labels") or {})
        self.tracker: Any = None

    def post_init(self, mode: str = "sync") -> None:
        from fnrun.graph.tracking import tracker_for

        self.tracker = tracker_for(self)

    def close(self) -> None:
        if self.tracker is not None:
            self.tracker.flush()

    @property
    def metrics(self) -> dict[str, Any]:
        return {}

    def do_event(self, event: Any) -> Any:
        single = self._single(event)
        if single is not None:
            return single
        start = time.perf_counter()
        results = {name: _outputs(route(branch(event))) for name, route in self.routes.items()}
        return self._combined(event, results, start)

    async def do_event_async(self, event: Any) -> Any:
        """The same, with the models asked concurrently (some routes are async)."""
        single = self._single(event)
        if single is not None:
            return await single if inspect.isawaitable(single) else single
        start = time.perf_counter()
        names = list(self.routes)
        outs = await asyncio.gather(*(_awaited(self.routes[n](branch(event))) for n in names))
        results = {n: _outputs(o) for n, o in zip(names, outs, strict=True)}
        return self._combined(event, results, start)

    def listing(self, parts: list[str]) -> dict[str, Any] | None:
        if parts == ["v2", "models"]:
            names = sorted(self.routes)
            return {
                "models": [*names, self.name],
                "weights": {n: float(self.weights.get(n, 1.0)) for n in names},
            }
        if parts == ["v2", "models", self.name]:
            return {"name": self.name, "version": self.version, "inputs": [], "outputs": []}
        return super().listing(parts)

    def _single(self, event: Any) -> Any:
        """The answer when the request does not go to every model (one model, a listing)."""
        parts = [p for p in (event.path or "/").split("/") if p]
        if (event.method or "GET") == "GET" and not event.body:
            listing = self.listing(parts)
            if listing is not None:
                event.body = listing
                return event
        if len(parts) >= 3 and parts[:2] == ["v2", "models"] and parts[2] != self.name:
            if parts[2] in _OPERATIONS and len(parts) == 3:
                return None  # /v2/models/infer: the ensemble's own operation
            try:
                name = self.select(parts, event)
            except RouteNotFound as exc:
                exc.hint = f"models: {', '.join(sorted(self.routes))}; the ensemble: {self.name}"
                raise
            return self.routes[name](event)
        return None

    def _combined(self, event: Any, results: dict[str, list[Any]], start: float) -> Any:
        from fnrun.graph.protocol import response

        request = event.body
        columns = {n: self._predictions(n, out) for n, out in results.items()}
        combined: Any = self.combine(columns)
        if any(isinstance(out, dict) for out in results.values()):
            combined = {self.prediction_col_name: combined}
        event.body = response(event.id, str(self.name), self.version, combined, tensor=False)
        tracker = self.tracker
        if tracker is not None and tracker.wants(event.id):
            inputs = request.get("inputs") if isinstance(request, dict) else request
            outputs = event.body.get("outputs") if isinstance(event.body, dict) else event.body
            tracker.record(event.id, "infer", inputs, outputs, time.perf_counter() - start)
        return event

    def _predictions(self, name: str, outputs: Any) -> list[Any]:
        if isinstance(outputs, list):
            return outputs
        if isinstance(outputs, dict) and self.prediction_col_name in outputs:
            return list(outputs[self.prediction_col_name])

        raise InvalidArgumentError(
            f"ensemble {self.name!r}: model {name!r} answered no {self.prediction_col_name!r} "
            f"column (outputs: {sorted(outputs) if isinstance(outputs, dict) else outputs!r})",
            field="prediction_col_name",
            hint="set prediction_col_name= to the key that holds the predictions",
        )

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


_OPERATIONS = ("infer", "predict", "explain")


def branch(event: Any) -> Any:
    """A copy for one model: the event and its body dict are copied, their values shared
    (models replace the body; they do not change the request in place)."""
    new = event.copy(deep_body=False)
    if type(new.body) is dict:
        new.body = dict(new.body)
    return new


def _outputs(out: Any) -> Any:
    body = getattr(out, "body", None)
    outputs = body.get("outputs", []) if isinstance(body, dict) else []
    return outputs if isinstance(outputs, dict) else list(outputs)


async def _awaited(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _detect(columns: list[list[Any]]) -> str:
    """Labels (ints, strings, bools) vote; anything else (floats) is averaged."""
    types = {type(v) for column in columns for v in column}
    return "classification" if types <= {str, bool, int} else "regression"
