"""``mlrun.run``: ``run_function``, ``get_object``, ``set_environment`` and the function
verbs."""

from __future__ import annotations

import os
from typing import Any

from fnrun.config import get_settings, reset_settings
from fnrun.datastore.dataitem import get_dataitem
from fnrun.runtimes.functions.factory import code_to_function, new_function
from fnrun.runtimes.functions.importer import import_function

__all__ = [
    "code_to_function",
    "get_dataitem",
    "get_object",
    "import_function",
    "new_function",
    "run_function",
    "set_environment",
]


def get_object(url: str, size: int | None = None, offset: int = 0) -> bytes:
    """The bytes at ``url`` (a path or any URL a DataItem reads)."""
    data = get_dataitem(url).get(size=size, offset=offset)
    return data if isinstance(data, bytes) else str(data).encode("utf-8")


def run_function(function: Any, handler: str | None = None, **run_args: Any) -> Any:
    """Run ``function`` (an object, or a URL ``import_function`` takes)."""
    fn = import_function(function) if isinstance(function, str) else function
    return fn.run(handler=handler, **run_args)


def set_environment(
    api_path: str = "", artifact_path: str = "", project: str = "", **_ignored: Any
) -> tuple[str, str]:
    """Set this process's default project and artifact path (``api_path``: the run DB URL);
    returns ``(project, artifact_path)``."""
    for env, value in (
        ("FNRUN_DBPATH", api_path),
        ("FNRUN_ARTIFACT_PATH", artifact_path),
        ("FNRUN_DEFAULT_PROJECT", project),
    ):
        if value:
            os.environ[env] = value
    reset_settings()

    settings = get_settings()
    return settings.default_project, settings.artifact_path
