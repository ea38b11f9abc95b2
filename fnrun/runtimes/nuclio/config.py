"""Compile a fnrun function into a Nuclio function config (``apiVersion: nuclio.io/v1``).

Serving functions run ``fnrun.runtimes.nuclio.entry:handler`` with the function document in
``FNRUN_FUNCTION_SPEC``; nuclio-kind functions run their own ``module:handler``. Code travels
base64 in ``spec.build.functionSourceCode``; triggers come from ``spec.config`` (Nuclio-style
``spec.triggers.<name>`` keys) plus a default HTTP trigger.
"""

from __future__ import annotations

import json
from typing import Any

from fnrun.runtimes.nuclio.entry import SPEC_ENV

ENTRY = "fnrun.runtimes.nuclio.entry:handler"


def nuclio_config(fn: Any, runtime: str = "python:3.11", http_workers: int = 4) -> dict[str, Any]:
    spec = fn.spec
    is_graph = fn.kind == "serving"
    env = [dict(e) for e in spec.env]
    if is_graph:
        env.append({"name": SPEC_ENV, "value": json.dumps(fn.to_dict(), separators=(",", ":"))})
    build: dict[str, Any] = {"commands": list(spec.build.commands), "noBaseImagesPull": True}
    if spec.build.function_source_code and not is_graph:
        build["functionSourceCode"] = spec.build.function_source_code
    if spec.build.base_image or spec.image:
        build["baseImage"] = spec.build.base_image or spec.image
    if is_graph:
        build["commands"] = [*build["commands"], "pip install fnrun"]
    config: dict[str, Any] = {
        "apiVersion": "nuclio.io/v1",
        "kind": "Function",
        "metadata": {
            "name": fn.metadata.name,
            "labels": dict(fn.metadata.labels),
            "annotations": {"fnrun.io/kind": fn.kind},
        },
        "spec": {
            "runtime": runtime,
            "handler": ENTRY if is_graph else _handler(fn),
            "env": env,
            "build": build,
            "triggers": _triggers(spec.config, http_workers),
            "minReplicas": spec.min_replicas if spec.min_replicas is not None else 1,
            "maxReplicas": spec.max_replicas if spec.max_replicas is not None else 1,
        },
    }
    if spec.resources:
        config["spec"]["resources"] = spec.resources
    if spec.volumes:
        mounts = {m.get("name"): m for m in spec.volume_mounts}
        config["spec"]["volumes"] = [
            {"volume": v, "volumeMount": mounts.get(v.get("name"), {})} for v in spec.volumes
        ]
    if fn.metadata.project:
        config["metadata"]["labels"]["nuclio.io/project-name"] = fn.metadata.project
    return config


def _handler(fn: Any) -> str:
    given = fn.spec.function_handler or ""
    if ":" in given:
        return str(given)
    module = (fn.spec.build.origin_filename or "main.py").rsplit("/", 1)[-1].removesuffix(".py")
    return f"{module}:{given or fn.spec.default_handler or 'handler'}"


def _triggers(config: dict[str, Any], http_workers: int) -> dict[str, Any]:
    triggers = {
        key.removeprefix("spec.triggers."): dict(value)
        for key, value in config.items()
        if key.startswith("spec.triggers.")
    }
    triggers.setdefault(
        "http",
        {"kind": "http", "maxWorkers": http_workers, "attributes": {"serviceType": "ClusterIP"}},
    )
    return triggers
