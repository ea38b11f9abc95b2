"""``spark``: the handler runs in this process as the Spark driver: ``context.spark_session``
(and the handler's own ``SparkSession.builder.getOrCreate()``) is the function's configured
session (:mod:`fnrun.runtimes.local.spark_session`); the code's module goes to the
executors."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from fnrun.runtimes.placements import Place, register_placement
from fnrun.runtimes.placements.here import in_process
from fnrun.runtimes.placements.shipping import ship_code

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike


def spark_driver(fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place:
    run_here = in_process(fn, db, settings, watch)

    def place(request: Any) -> dict[str, Any]:
        extras = {**request.context_extras, **fn.run_extras()}  # the configured session
        context = extras["spark_session"].sparkContext
        ship_code(fn, settings.home, context, context.addPyFile)
        return run_here(dataclasses.replace(request, context_extras=extras))

    return place


def where(fn: RuntimeLike) -> str:
    return f"the driver here, Spark on {fn.spark_master}"  # type: ignore[attr-defined]


register_placement("spark", spark_driver, where)
