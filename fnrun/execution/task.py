"""``new_task``: a reusable run template (params, labels, secrets, handler) for ``fn.run(task)``.

>>> task = new_task("train", params={"p1": 1}).with_params(p2=2).set_label("team", "a")
>>> task.params
{'p1': 1, 'p2': 2}
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Self

from fnrun.errors import InvalidArgumentError
from fnrun.model.serialize import to_yaml


class RunTemplate:
    def __init__(
        self,
        name: str = "",
        project: str = "",
        handler: str | Callable[..., Any] | None = None,
        params: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
        artifact_path: str = "",
        returns: list[str] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.project = project
        self.handler = handler
        self.params: dict[str, Any] = dict(params or {})
        self.labels: dict[str, str] = dict(labels or {})
        self.artifact_path = artifact_path
        self.returns = list(returns) if returns else None
        self.secrets: dict[str, str] = dict(secrets or {})

    def with_params(self, **params: Any) -> Self:
        """Merge params into the template (later values win)."""
        self.params.update(params)
        return self

    def set_label(self, key: str, value: Any) -> Self:
        self.labels[key] = str(value)
        return self

    def with_secrets(self, kind: str, source: dict[str, str]) -> Self:
        """Add secrets; only ``kind="inline"`` (a dict) is supported so far."""
        if kind != "inline" or not isinstance(source, dict):
            raise InvalidArgumentError(
                f"unsupported secret source kind {kind!r}",
                field="kind",
                hint="use with_secrets('inline', {'KEY': 'value'})",
            )
        self.secrets.update(source)
        return self

    def to_dict(self) -> dict[str, Any]:
        """MLRun's run-template shape; secret values are never included, only their keys."""
        handler = (
            self.handler if isinstance(self.handler, str) else getattr(self.handler, "__name__", "")
        )
        spec: dict[str, Any] = {"parameters": copy.deepcopy(self.params)}
        for key, value in (
            ("handler", handler),
            ("output_path", self.artifact_path),
            ("returns", self.returns),
        ):
            if value:
                spec[key] = value
        if self.secrets:
            spec["secret_sources"] = [{"kind": "inline", "keys": sorted(self.secrets)}]
        return {
            "metadata": {"name": self.name, "project": self.project, "labels": dict(self.labels)},
            "spec": spec,
        }

    def to_yaml(self) -> str:
        return to_yaml(self.to_dict())


def new_task(
    name: str = "",
    project: str = "",
    handler: str | Callable[..., Any] | None = None,
    params: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    artifact_path: str = "",
    returns: list[str] | None = None,
    secrets: dict[str, str] | None = None,
) -> RunTemplate:
    """A run template to pass to ``fn.run(task)``."""
    return RunTemplate(name, project, handler, params, labels, artifact_path, returns, secrets)


def task_arguments(
    runspec: RunTemplate | dict[str, Any] | None, **overrides: Any
) -> dict[str, Any]:
    """``run()`` keyword arguments: the template's values, overridden by explicit ones."""
    if isinstance(runspec, dict):
        meta, spec = runspec.get("metadata", {}), runspec.get("spec", {})
        runspec = RunTemplate(
            meta.get("name", ""),
            meta.get("project", ""),
            spec.get("handler"),
            spec.get("parameters"),
            meta.get("labels"),
            spec.get("output_path", ""),
            spec.get("returns"),
        )
    base: dict[str, Any] = {}
    if runspec is not None:
        base = {
            "name": runspec.name,
            "project": runspec.project,
            "handler": runspec.handler,
            "params": dict(runspec.params),
            "labels": dict(runspec.labels),
            "artifact_path": runspec.artifact_path,
            "returns": runspec.returns,
            "secrets": dict(runspec.secrets),
        }
    for key, value in overrides.items():
        if key == "params" and value:
            base["params"] = {**base.get("params", {}), **value}
        elif value or key not in base:
            base[key] = value
    return base
