"""fnrun's MLRun import surface: what MLRun code gets for ``import mlrun`` (see
:mod:`fnrun.execution.mlrun_alias`). Every name is fnrun's own object
(``mlrun.datastore.DataItem`` *is*
:class:`fnrun.datastore.dataitem.DataItem`, ``mlrun.execution.MLClientCtx`` *is*
:class:`fnrun.RunContext`), so runs, artifacts and logs are fnrun's. Submodules load on first
use; the parts of MLRun fnrun does not do (feature store, model monitoring, framework
auto-logging) import fine and fail when used, naming what is missing.

>>> import fnrun.compat.mlrun as mlrun
>>> mlrun.datastore.DataItem.__module__
'fnrun.datastore.dataitem'

May import: anything in fnrun (the top layer).
"""

from __future__ import annotations

from typing import Any

from fnrun.compat.mlrun import plotly_compat
from fnrun.compat.mlrun.config import config as mlconf
from fnrun.compat.mlrun.run import get_object, run_function, set_environment
from fnrun.datastore.dataitem import DataItem, get_dataitem
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError as MLRunInvalidArgumentError
from fnrun.errors import NotFoundError as MLRunNotFoundError
from fnrun.execution.mlrun_modules import UNSUPPORTED, load
from fnrun.execution.returns import HANDLER_ATTR
from fnrun.execution.standalone import get_or_create_ctx
from fnrun.execution.task import new_task
from fnrun.projects import get_or_create_project, load_project, new_project
from fnrun.runtimes.functions.factory import code_to_function, deploy_function, new_function
from fnrun.runtimes.functions.importer import import_function

__version__ = "1.7.0"  # the MLRun API level this surface follows

plotly_compat.install()  # plotly APIs MLRun code calls that plotly 6 removed

_SUBMODULES = frozenset(
    {
        "artifacts",
        "config",
        "datastore",
        "db",
        "errors",
        "execution",
        "mlutils",
        "model",
        "platforms",
        "projects",
        "run",
        "runtimes",
        "serving",
        "utils",
    }
)

__all__ = [
    "DataItem",
    "MLRunInvalidArgumentError",
    "MLRunNotFoundError",
    "code_to_function",
    "deploy_function",
    "get_dataitem",
    "get_object",
    "get_or_create_ctx",
    "get_or_create_project",
    "get_run_db",
    "handler",
    "import_function",
    "load_project",
    "mlconf",
    "new_function",
    "new_project",
    "new_task",
    "run_function",
    "set_environment",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES or f"mlrun.{name}" in UNSUPPORTED:
        return load(f"mlrun.{name}", f"{__name__}.{name}")
    raise AttributeError(
        f"mlrun.{name} is not part of fnrun's MLRun import surface "
        "(install mlrun and set FNRUN_MLRUN=mlrun to use the real package)"
    )


def handler(
    labels: dict[str, str] | None = None,
    outputs: list[str] | None = None,
    inputs: bool | dict[str, Any] = True,
) -> Any:
    """MLRun's ``@mlrun.handler(labels=..., outputs=["key", "key:type"...])``: the run gets
    the labels and logs the return values under ``outputs`` (unless the run names its own
    ``returns``). Inputs are parsed by the parameters' annotations, as fnrun always does."""

    def mark(func: Any) -> Any:
        setattr(func, HANDLER_ATTR, {"labels": dict(labels or {}), "outputs": list(outputs or [])})
        return func

    return mark
