"""How a ``ModelRunnerStep`` runs: its models, each by its execution mechanism, on every event.

``naive`` models run in the event's own thread; ``asyncio`` ones are awaited (on the sync
engine, on a loop of the step's own); ``thread_pool`` models share one thread pool and
``process_pool`` ones one forked process pool (``min(models x pool_factor, max_threads or
max_processes)`` workers); a ``dedicated_process`` model has a forked process of its own. The
processes fork when the server starts, after the models loaded, so each inherits its loaded
model. All the models chosen for an event run at once; the event then holds the one model's
answer, or ``{name: answer}`` for several. A model that raises gives ``{"error": "Type:
message"}``; with ``raise_exception`` (the default) the step then fails naming the models
(:class:`ModelRunnerError`).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from fnrun.errors import FnrunError, InvalidArgumentError
from fnrun.graph.forked import call_in_worker, forked_pool, register, unregister
from fnrun.graph.nodes import Env, Runner
from fnrun.graph.resolve import StepError, lookup
from fnrun.graph.wrapping import wrap
from fnrun.model.model_runner import BY_MECHANISM, MODELS, ModelRunnerStep
from fnrun.model.step_objects import StepToDict, recorded_args

__all__ = [
    "Model",
    "ModelRunner",
    "ModelRunnerError",
    "ModelRunnerSelector",
    "ModelSelector",
    "model_runner_runner",
]

_PROCESS = ("process_pool", "dedicated_process")


class ModelRunnerError(FnrunError):
    """One or more models of a ``ModelRunnerStep`` failed: ``get_errors()`` maps each model
    to its error (``None`` for the models that answered), as MLRun's."""

    def __init__(self, models_errors: Mapping[str, str | None]) -> None:
        self.models_errors = dict(models_errors)
        failed = {k: v for k, v in self.models_errors.items() if v is not None}
        super().__init__("ModelRunnerError: " + ";\n".join(f"{k} {v}" for k, v in failed.items()))

    def get_errors(self) -> dict[str, str | None]:
        return dict(self.models_errors)

    def get_model_error(self, model: str) -> str | None:
        return self.models_errors.get(model)

    def __reduce__(self) -> Any:  # crosses process pools whole
        return type(self), (self.models_errors,)


class Model(StepToDict):
    """A model of a ``ModelRunnerStep`` (MLRun's ``mlrun.serving.Model``): override
    ``predict(body)`` (or ``async predict_async(body)`` for the ``asyncio`` mechanism) and,
    when it needs one, ``load()``; ``get_local_model_path(suffix)`` gives the model file of
    ``artifact_uri`` and its extra data."""

    def __init__(
        self,
        name: str,
        raise_exception: bool = True,
        artifact_uri: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.raise_exception = raise_exception
        self.artifact_uri = artifact_uri
        self.context = kwargs.get("context")
        self.execution_mechanism = ""

    def load(self) -> None:
        """Override to load the model; checks that the mechanism's predict method exists."""
        if self.execution_mechanism == "asyncio":
            if type(self).predict_async is Model.predict_async:
                raise ModelRunnerError(
                    {
                        self.name: "is running with asyncio execution_mechanism but "
                        "predict_async() is not implemented"
                    }
                )
        elif type(self).predict is Model.predict:
            raise ModelRunnerError(
                {
                    self.name: f"is running with {self.execution_mechanism} execution_mechanism "
                    "but predict() is not implemented"
                }
            )

    def init(self) -> None:
        self.load()

    def predict(self, body: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("predict() method not implemented")

    async def predict_async(self, body: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("predict_async() method not implemented")

    def run(self, body: Any, path: str, origin_name: str | None = None) -> Any:
        return self.predict(self.format_batch(body) if isinstance(body, list) else body)

    def run_async(self, body: Any, path: str, origin_name: str | None = None) -> Any:
        return self.predict_async(self.format_batch(body) if isinstance(body, list) else body)

    @staticmethod
    def format_batch(body: Any) -> Any:
        return body

    def get_local_model_path(self, suffix: str = "") -> tuple[str | None, dict[str, Any] | None]:
        """(local model file, extra data as DataItems) of ``artifact_uri``; ``(None, None)``
        when the model has none."""
        if not self.artifact_uri:
            return None, None
        from fnrun.artifacts.model import get_model

        path, _, extra = get_model(self.artifact_uri, suffix)
        return path, extra

    def to_dict(self) -> dict[str, Any]:
        """The parameters the model was made with (its ``name`` among them)."""
        out = {k: v for k, v in recorded_args(self).items() if k != "context"}
        out["name"] = self.name
        return out


class ModelRunnerSelector:
    """Chooses, per event, which models run (``select_models(event, available_models)``:
    names or models; ``None`` for all) and which of the following steps get the answer
    (``select_outlets(body)``: step names; ``None`` for all)."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def select_models(self, event: Any, available_models: list[Model]) -> list[Any] | None:
        return None

    def select_outlets(self, event: Any) -> list[str] | None:
        return None


class ModelSelector:
    """MLRun's older selector: ``select(event, available_models)`` (models only)."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def select(self, event: Any, available_models: list[Model]) -> list[Any] | None:
        return None


class _SelectorAdapter(ModelRunnerSelector):
    def __init__(self, selector: ModelSelector) -> None:
        self.selector = selector

    def select_models(self, event: Any, available_models: list[Model]) -> list[Any] | None:
        return self.selector.select(event, available_models)


class ModelRunner:
    """The running step: models built, loaded and given their executors."""

    def __init__(
        self,
        name: str,
        models: list[Model],
        selector: ModelRunnerSelector | None,
        raise_exception: bool,
        max_processes: int | None = None,
        max_threads: int | None = None,
        pool_factor: int | None = None,
    ) -> None:
        self.name = name
        self.models = {m.name: m for m in models}
        self.selector = selector or ModelRunnerSelector()
        self.routes_outlets = (
            type(self.selector).select_outlets is not ModelRunnerSelector.select_outlets
        )
        self.raise_exception = raise_exception
        self.max_processes = max_processes or os.cpu_count() or 16
        self.max_threads = max_threads or 32
        self.pool_factor = pool_factor or 1
        self._executors: dict[str, Executor] = {}  # by model name
        self._owned: list[Executor] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # asyncio models on the sync engine
        self._id = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def post_init(self, mode: str = "sync") -> None:
        for model in self.models.values():
            model.init()
        by_mech: dict[str, list[str]] = {}
        for model in self.models.values():
            by_mech.setdefault(model.execution_mechanism, []).append(model.name)
        if set(by_mech) & set(_PROCESS):
            self._id = register(self)  # before forking: the workers inherit the loaded models
        if "process_pool" in by_mech:
            size = min(len(by_mech["process_pool"]) * self.pool_factor, self.max_processes)
            self._share(forked_pool(size), by_mech["process_pool"])
        for name in by_mech.get("dedicated_process", []):
            self._share(forked_pool(1), [name])
        if "thread_pool" in by_mech:
            size = min(len(by_mech["thread_pool"]) * self.pool_factor, self.max_threads)
            pool = ThreadPoolExecutor(size, thread_name_prefix=f"{self.name}-models")
            self._share(pool, by_mech["thread_pool"])

    def _share(self, executor: Executor, names: list[str]) -> None:
        self._owned.append(executor)
        for name in names:
            self._executors[name] = executor

    def close(self) -> None:
        for executor in self._owned:
            executor.shutdown(wait=True, cancel_futures=True)
        self._owned.clear()
        self._executors.clear()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None
        unregister(self._id)

    # -- one event -----------------------------------------------------------------------------
    def do_event(self, event: Any) -> Any:
        chosen = self._chosen(event)
        if not chosen:
            return None
        pending = [self._start(m, event, len(chosen) > 1) for m in chosen]
        results = [self._wait(m, p) for m, p in zip(chosen, pending, strict=True)]
        return self._answer(event, chosen, results)

    async def async_do_event(self, event: Any) -> Any:
        chosen = self._chosen(event)
        if not chosen:
            return None
        pending = [self._start_async(m, event, len(chosen) > 1) for m in chosen]
        results = await asyncio.gather(*pending)
        return self._answer(event, chosen, list(results))

    def _chosen(self, event: Any) -> list[Model]:
        available = list(self.models.values())
        picked = self.selector.select_models(event, available)
        if picked is None:
            return available
        names = [p if isinstance(p, str) else getattr(p, "name", p) for p in picked]
        unknown = [n for n in names if n not in self.models]
        if unknown:
            raise InvalidArgumentError(
                f"step {self.name!r}: the selector chose models that are not in the step: "
                f"{', '.join(map(str, unknown))}",
                field=f"graph.{self.name}.model_runner_selector",
                hint=f"models: {', '.join(self.models)}",
            )
        if len(set(names)) < len(names):
            raise InvalidArgumentError(
                f"step {self.name!r}: the selector chose a model twice: {names}",
                field=f"graph.{self.name}.model_runner_selector",
            )
        return [self.models[n] for n in names]

    def _start(self, model: Model, event: Any, shared: bool) -> Any:
        body = copy.deepcopy(event.body) if shared else event.body
        path = event.path
        mech = model.execution_mechanism
        if mech == "asyncio":
            return asyncio.run_coroutine_threadsafe(
                _run_async(model, body, path), self._private_loop()
            )
        executor = self._executors.get(model.name)
        if executor is None:  # naive
            return _run(model, body, path)
        if mech in _PROCESS:
            return executor.submit(call_in_worker, self._id, "run_model", model.name, body, path)
        return executor.submit(_run, model, body, path)

    def _wait(self, model: Model, pending: Any) -> Any:
        return pending.result() if isinstance(pending, Future) else pending

    async def _start_async(self, model: Model, event: Any, shared: bool) -> Any:
        body = copy.deepcopy(event.body) if shared else event.body
        mech = model.execution_mechanism
        if mech == "asyncio":
            return await _run_async(model, body, event.path)
        executor = self._executors.get(model.name)
        if executor is None:
            return _run(model, body, event.path)
        if mech in _PROCESS:
            future = executor.submit(
                call_in_worker, self._id, "run_model", model.name, body, event.path
            )
            return await asyncio.wrap_future(future)
        return await asyncio.wrap_future(executor.submit(_run, model, body, event.path))

    def run_model(self, name: str, body: Any, path: str) -> Any:
        """In a forked worker: run the inherited model ``name``."""
        return _run(self.models[name], body, path)

    def _answer(self, event: Any, chosen: list[Model], results: list[Any]) -> Any:
        if len(self.models) == 1:
            body: Any = results[0]
            failed = {chosen[0].name: _error_of(body)}
        else:
            body = {m.name: r for m, r in zip(chosen, results, strict=True)}
            failed = {m.name: _error_of(r) for m, r in zip(chosen, results, strict=True)}
        if self.raise_exception and any(v is not None for v in failed.values()):
            raise ModelRunnerError(failed)
        event.body = body
        if self.routes_outlets:
            outlets = self.selector.select_outlets(body)
            if outlets is not None:
                event.outlets = [outlets] if isinstance(outlets, str) else list(outlets)
        return event

    def _private_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(
                target=loop.run_forever, name=f"{self.name}-asyncio", daemon=True
            ).start()
            self._loop = loop
        return self._loop


def _run(model: Model, body: Any, path: str) -> Any:
    try:
        out = model.run(body, path, model.name)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if inspect.isgenerator(out):
        return {"error": _NO_STREAMING}
    return out


async def _run_async(model: Model, body: Any, path: str) -> Any:
    try:
        out = model.run_async(body, path, model.name)
        if inspect.isasyncgen(out):
            return {"error": _NO_STREAMING}
        return await out if inspect.isawaitable(out) else out
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


_NO_STREAMING = (
    "StreamingError: predict returned a generator; fnrun does not stream a model's answer "
    "in chunks yet: return the whole answer"
)


def _error_of(result: Any) -> str | None:
    return result.get("error") if isinstance(result, dict) else None


# -- compiling the step -------------------------------------------------------------------------
def model_runner_runner(step: ModelRunnerStep, env: Env) -> Runner:
    """The step's runner: its models built from the namespaces and loaded when the server
    starts (``post_init``); async on the async engine, so pools and coroutines overlap."""
    models_spec: dict[str, Any] = step.class_args.get(MODELS) or {}
    if not models_spec:
        raise StepError(
            f"step {step.name!r}: a ModelRunnerStep needs at least one model",
            field=f"graph.{step.name}.models",
            hint="step.add_model(name, model_class=..., execution_mechanism=...)",
        )
    mechanisms: dict[str, str] = step.class_args.get(BY_MECHANISM) or {}
    models = [
        _build_model(step.name, name, spec, mechanisms.get(name, ""), env)
        for name, spec in models_spec.items()
    ]
    runner = ModelRunner(
        step.name,
        models,
        _selector(step, env),
        step.raise_exception,
        step.max_processes,
        step.max_threads,
        step.pool_factor,
    )
    env.objects.append(runner)
    # naive models alone run in the event's thread; others overlap on the async engine
    is_async = env.engine == "async" and any(m.execution_mechanism != "naive" for m in models)
    target = runner.async_do_event if is_async else runner.do_event
    run = wrap(target, True, step.input_path, step.result_path, is_async)
    run.routes_outlets = runner.routes_outlets  # type: ignore[attr-defined]
    return run


def _build_model(step: str, name: str, spec: Any, mechanism: str, env: Env) -> Model:
    field = f"graph.{step}.models.{name}"
    if not isinstance(spec, list | tuple) or len(spec) != 2 or not isinstance(spec[1], dict):
        raise StepError(
            f"step {step!r}: model {name!r} is not [class name, parameters]", field=field
        )
    if not mechanism:
        raise StepError(
            f"step {step!r}: model {name!r} has no execution mechanism",
            field=f"graph.{step}.class_args.execution_mechanism_by_model_name.{name}",
        )
    cls = lookup(spec[0], env.namespaces, step, "model class")
    params = {**spec[1], "name": name}
    try:
        model = cls(**params)
    except TypeError as exc:
        raise StepError(
            f"step {step!r}: {getattr(cls, '__name__', cls)}({', '.join(params)}) failed: {exc}",
            field=field,
            hint="fix the model's parameters",
        ) from exc
    if not isinstance(model, Model):
        raise StepError(
            f"step {step!r}: model {name!r} ({type(model).__name__}) is not a Model",
            field=field,
            hint="derive the class from fnrun.serving.Model (mlrun.serving.Model)",
        )
    model.context = env.context
    model.raise_exception = False  # the step gathers the errors and decides
    model.execution_mechanism = mechanism
    return model


def _selector(step: ModelRunnerStep, env: Env) -> ModelRunnerSelector | None:
    for key in ("model_runner_selector", "model_selector"):
        spec = step.class_args.get(key) or [None, None]
        class_name, params = [*list(spec), None, None][:2]
        if not class_name:
            continue
        cls = lookup(class_name, env.namespaces, step.name, "selector class")
        selector = cls(**(params or {}))
        return _SelectorAdapter(selector) if key == "model_selector" else selector
    return None
