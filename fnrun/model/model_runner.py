"""``ModelRunnerStep`` (MLRun 1.10+): several models in one step, each run by its own
execution mechanism, their answers gathered into one event.

The spec, as MLRun serializes it: ``class_args`` hold ``models`` (``{name: [class, params]}``),
``execution_mechanism_by_model_name``, ``monitoring_data`` (inputs, outputs, paths and labels
per model) and the selector (``model_runner_selector``: ``[class, params]``); the step also
writes ``raise_exception`` and the pool bounds. How it runs is in
:mod:`fnrun.graph.model_runner`.
"""

from __future__ import annotations

import re
from dataclasses import InitVar, dataclass
from typing import Any, ClassVar

from fnrun.errors import InvalidArgumentError
from fnrun.model.graph import TaskStep, check_model_names, register_step_kind

MODEL_RUNNER_CLASS = "mlrun.serving.ModelRunner"  # the class name MLRun writes for the step
MECHANISMS = (
    "process_pool",
    "dedicated_process",
    "thread_pool",
    "asyncio",
    "shared_executor",
    "naive",
)
MODELS = "models"
BY_MECHANISM = "execution_mechanism_by_model_name"
MONITORING = "monitoring_data"


@dataclass(eq=False)
class ModelRunnerStep(TaskStep):
    """Runs several models on each event: ``step = ModelRunnerStep(name="runner")``,
    ``step.add_model("m1", model_class="MyModel", execution_mechanism="thread_pool", k=1)``,
    ``graph.to(step).respond()``. One model answers its result; several answer
    ``{model name: result}``. A failing model fails the request naming it
    (``raise_exception=False``: its entry is ``{"error": "..."}``)."""

    kind_name: ClassVar[str] = "model_runner"
    _schema_name = "model runner step"
    raise_exception: bool = True
    max_processes: int | None = None
    max_threads: int | None = None
    pool_factor: int | None = None
    model_runner_selector: InitVar[Any] = None
    model_runner_selector_parameters: InitVar[dict[str, Any] | None] = None
    model_selector: InitVar[Any] = None
    model_selector_parameters: InitVar[dict[str, Any] | None] = None

    def __post_init__(
        self,
        model_runner_selector: Any,
        model_runner_selector_parameters: dict[str, Any] | None,
        model_selector: Any,
        model_selector_parameters: dict[str, Any] | None,
    ) -> None:
        super().__post_init__()
        self.class_name = self.class_name or MODEL_RUNNER_CLASS
        self.shape = self.shape or "folder"
        if (model_selector or model_selector_parameters) and (
            model_runner_selector or model_runner_selector_parameters
        ):
            raise InvalidArgumentError(
                "Cannot provide both `model_selector`/`model_selector_parameters` and "
                "`model_runner_selector`/`model_runner_selector_parameters`",
                field="model_runner_selector",
                hint="use only model_runner_selector (model_selector is MLRun's older name)",
            )
        for key, selector, params in (
            ("model_selector", model_selector, model_selector_parameters),
            ("model_runner_selector", model_runner_selector, model_runner_selector_parameters),
        ):
            if selector is not None or params:
                self.class_args[key] = list(_selector_spec(key, selector, params))
        self.class_args.setdefault("model_selector", [None, None])
        self.class_args.setdefault("model_runner_selector", [None, None])

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["raise_exception"] = self.raise_exception  # MLRun writes it either way
        return out

    def add_model(
        self,
        endpoint_name: str,
        model_class: Any,
        execution_mechanism: str,
        model_artifact: Any = None,
        labels: list[str] | dict[str, str] | None = None,
        model_endpoint_creation_strategy: str | None = "inplace",
        inputs: list[str] | None = None,
        outputs: list[str] | None = None,
        input_path: str | None = None,
        result_path: str | None = None,
        override: bool = False,
        **model_parameters: Any,
    ) -> None:
        """Add a model: ``model_class`` a class name (found as step classes are) or a model
        object (then no ``model_parameters``); ``execution_mechanism`` one of
        ``naive`` (in the event's own thread), ``asyncio`` (``predict_async`` awaited),
        ``thread_pool``, ``process_pool`` (pools shared by the step's models, bounded by
        :meth:`configure_pool_resource`) or ``dedicated_process`` (a process of its own).
        ``model_artifact``: a model's store URI, given to the model as ``artifact_uri``."""
        field = f"graph.{self.name}.models.{endpoint_name}"
        if not isinstance(model_class, str) and model_parameters:
            raise InvalidArgumentError(
                "Cannot provide a model object as argument to `model_class` and also provide "
                "`model_parameters`",
                field=field,
                hint="set the parameters on the object, or pass the class name",
            )
        if execution_mechanism not in MECHANISMS:
            raise InvalidArgumentError(
                f"Execution mechanism '{execution_mechanism}' is invalid. It must be one of: "
                f"[{', '.join(MECHANISMS)}]",
                field=f"{field}.execution_mechanism",
            )
        if execution_mechanism == "shared_executor":
            raise InvalidArgumentError(
                "execution_mechanism 'shared_executor' runs a model shared by the graph's root "
                "(MLRun's add_shared_model), which fnrun's graphs do not have",
                field=f"{field}.execution_mechanism",
                hint="give the model its own mechanism (thread_pool, process_pool, ...)",
            )
        is_name = isinstance(model_class, str)
        params = dict(model_parameters) if is_name else _object_args(model_class)
        if params.get("name", endpoint_name) != endpoint_name:
            raise InvalidArgumentError(
                "Inconsistent name for model added to ModelRunnerStep",
                field=field,
                hint=f"name the model {endpoint_name!r} (or leave its name out)",
            )
        models: dict[str, Any] = self.class_args.setdefault(MODELS, {})
        if self._parent is not None:
            check_model_names(self, [endpoint_name])
        if endpoint_name in models and not override:
            raise InvalidArgumentError(
                f"Model with name {endpoint_name} already exists in this ModelRunnerStep",
                field=field,
                hint="pick another endpoint_name, or pass override=True",
            )
        uri = _artifact_uri(model_artifact)
        params.setdefault("artifact_uri", uri)
        params["name"] = endpoint_name
        class_name = model_class if isinstance(model_class, str) else _class_name(model_class)
        models[endpoint_name] = [class_name, params]
        self.class_args.setdefault(BY_MECHANISM, {})[endpoint_name] = execution_mechanism
        self.class_args.setdefault(MONITORING, {})[endpoint_name] = {
            "inputs": inputs,
            "outputs": outputs,
            "input_path": input_path,
            "result_path": result_path,
            "creation_strategy": model_endpoint_creation_strategy,
            "labels": labels,
            "model_path": uri,
            "model_class": class_name,
        }

    def configure_pool_resource(
        self,
        max_processes: int | None = None,
        max_threads: int | None = None,
        pool_factor: int | None = None,
    ) -> None:
        """Bound the pools the step's models share: ``max_processes`` (default the CPU
        count), ``max_threads`` (default 32), ``pool_factor`` workers per model (default 1)."""
        for key, value in (
            ("max_processes", max_processes),
            ("max_threads", max_threads),
            ("pool_factor", pool_factor),
        ):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise InvalidArgumentError(f"{key} must be >= 1, got {value!r}", field=key)
        self.max_processes = max_processes
        self.max_threads = max_threads
        self.pool_factor = pool_factor

    def endpoint_names(self) -> list[str]:
        """The names of the step's models."""
        return list(self.class_args.get(MODELS, {}))

    def on_added(self) -> None:
        """Added to a graph: its model names must be free there."""
        check_model_names(self, self.endpoint_names())

    @property
    def models(self) -> dict[str, Any]:
        """``{name: [class name, parameters]}`` of the models added."""
        return dict(self.class_args.get(MODELS, {}))


def _selector_spec(key: str, selector: Any, params: dict[str, Any] | None) -> tuple[Any, Any]:
    if selector is None or isinstance(selector, str):
        return selector, params or {}
    if params:
        raise InvalidArgumentError(
            f"Cannot provide a selector object as argument to `{key}` and also provide "
            f"`{key}_parameters`",
            field=f"{key}_parameters",
        )
    return _class_name(selector), _object_args(selector)


def _class_name(obj: Any) -> str:
    from fnrun.model.step_objects import class_path

    return class_path(type(obj))


def _object_args(obj: Any) -> dict[str, Any]:
    """The arguments a model or selector object was made with (its ``to_dict()``)."""
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _artifact_uri(model_artifact: Any) -> str | None:
    """A model artifact's URI without its tag, as MLRun keeps it (an object's ``uri``)."""
    if model_artifact is None:
        return None
    uri = model_artifact if isinstance(model_artifact, str) else getattr(model_artifact, "uri", "")
    if not isinstance(uri, str) or not uri:
        raise InvalidArgumentError(
            "model_artifact must be a store URI or a model artifact",
            field="model_artifact",
        )
    return _TAG.sub("", uri)


_TAG = re.compile(r":[^/:@#]+(?=(@[^/]*)?$)")  # ``:tag`` before an optional ``@uid`` at the end


register_step_kind(ModelRunnerStep.kind_name, ModelRunnerStep)
