"""``new_task``: a reusable run template (params, inputs, labels, secrets) for ``fn.run(task)``.

>>> task = new_task("train", params={"p1": 1}).with_params(p2=2).set_label("team", "a")
>>> task.params
{'p1': 1, 'p2': 2}
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from fnrun.execution.secrets import normalize as normalize_secret_source
from fnrun.model.serialize import to_yaml

Handler = str | Callable[..., Any] | None


@dataclass
class RunTemplate:
    name: str = ""
    project: str = ""
    handler: Handler = None
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    artifact_path: str = ""
    returns: list[str] | None = None
    secret_sources: list[dict[str, Any]] = field(default_factory=list)
    hyperparams: dict[str, list[Any]] | list[dict[str, Any]] | None = None
    hyper_param_options: dict[str, Any] = field(default_factory=dict)

    def with_params(self, **params: Any) -> Self:
        """Merge params into the template (later values win)."""
        self.params.update(params)
        return self

    def with_inputs(self, inputs: dict[str, str]) -> Self:
        self.inputs.update(inputs)
        return self

    def with_hyper_params(
        self,
        hyperparams: dict[str, list[Any]] | list[dict[str, Any]],
        selector: str = "",
        strategy: str = "",
        **options: Any,
    ) -> Self:
        """Iterate over ``hyperparams`` (grid by default); pick the best by ``selector``."""
        self.hyperparams = hyperparams
        self._set_options(selector, strategy, options)
        return self

    def with_param_file(
        self, param_file: str, selector: str = "", strategy: str = "", **options: Any
    ) -> Self:
        """Read the iterations from a CSV (a row each) or JSON file."""
        self.hyper_param_options["param_file"] = param_file
        self._set_options(selector, strategy, options)
        return self

    def _set_options(self, selector: str, strategy: str, options: dict[str, Any]) -> None:
        self.hyper_param_options.update(options)
        if selector:
            self.hyper_param_options["selector"] = selector
        if strategy:
            self.hyper_param_options["strategy"] = strategy

    def set_label(self, key: str, value: Any) -> Self:
        self.labels[key] = str(value)
        return self

    def with_secrets(self, kind: str, source: Any) -> Self:
        """Add a secret source: ``"inline"`` (a dict), ``"env"`` (names) or ``"file"`` (a path)."""
        self.secret_sources.append(normalize_secret_source(kind, source))
        return self

    def to_dict(self) -> dict[str, Any]:
        """MLRun's run-template shape; secret values never appear, only their keys."""
        handler = (
            self.handler if isinstance(self.handler, str) else getattr(self.handler, "__name__", "")
        )
        spec: dict[str, Any] = {"parameters": copy.deepcopy(self.params)}
        for key, value in (
            ("handler", handler),
            ("inputs", dict(self.inputs)),
            ("output_path", self.artifact_path),
            ("returns", self.returns),
            ("hyperparams", self.hyperparams),
            ("hyper_param_options", dict(self.hyper_param_options)),
        ):
            if value:
                spec[key] = value
        if self.secret_sources:
            spec["secret_sources"] = [_describe(s) for s in self.secret_sources]
        return {
            "metadata": {"name": self.name, "project": self.project, "labels": dict(self.labels)},
            "spec": spec,
        }

    def to_yaml(self) -> str:
        return to_yaml(self.to_dict())

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> RunTemplate:
        meta, spec = doc.get("metadata", {}), doc.get("spec", {})
        return cls(
            name=meta.get("name", ""),
            project=meta.get("project", ""),
            handler=spec.get("handler"),
            params=dict(spec.get("parameters") or {}),
            inputs=dict(spec.get("inputs") or {}),
            labels=dict(meta.get("labels") or {}),
            artifact_path=spec.get("output_path", ""),
            returns=spec.get("returns"),
            hyperparams=spec.get("hyperparams"),
            hyper_param_options=dict(spec.get("hyper_param_options") or {}),
        )


def new_task(
    name: str = "",
    project: str = "",
    handler: Handler = None,
    params: dict[str, Any] | None = None,
    inputs: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    artifact_path: str = "",
    returns: list[str] | None = None,
    secrets: dict[str, str] | None = None,
) -> RunTemplate:
    """A run template to pass to ``fn.run(task)``."""
    return RunTemplate(
        name,
        project,
        handler,
        dict(params or {}),
        dict(inputs or {}),
        dict(labels or {}),
        artifact_path,
        returns,
        [normalize_secret_source("inline", secrets)] if secrets else [],
    )


_MERGED = ("params", "inputs", "labels")


def _describe(source: dict[str, Any]) -> dict[str, Any]:
    """A secret source without values: inline sources show only their keys."""
    if source["kind"] == "inline":
        return {"kind": "inline", "keys": sorted(source["source"])}
    return dict(source)


def task_arguments(
    runspec: RunTemplate | dict[str, Any] | None, **overrides: Any
) -> dict[str, Any]:
    """``run()`` keyword arguments: the template's values, overridden by explicit ones."""
    if isinstance(runspec, dict):
        runspec = RunTemplate.from_dict(runspec)
    base: dict[str, Any] = {}
    if runspec is not None:
        base = {
            "name": runspec.name,
            "project": runspec.project,
            "handler": runspec.handler,
            "artifact_path": runspec.artifact_path,
            "returns": runspec.returns,
            "hyperparams": runspec.hyperparams,
            "hyper_param_options": dict(runspec.hyper_param_options) or None,
        }
        base.update({k: dict(getattr(runspec, k)) for k in _MERGED})
        base["secrets"] = list(runspec.secret_sources)
    for key, value in overrides.items():
        if key == "secrets" and value:
            extra = [normalize_secret_source("inline", value)] if isinstance(value, dict) else value
            base["secrets"] = [*base.get("secrets", []), *extra]
        elif key in _MERGED and value:
            base[key] = {**base.get(key, {}), **value}
        elif value or key not in base:
            base[key] = value
    return base
