"""``process``: the handler runs in a child process (``python -m fnrun exec --from-env``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fnrun.runtimes.placements import Place, register_placement

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike


def child_process(fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place:
    from fnrun.runtimes.local.child import run_in_subprocess
    from fnrun.runtimes.local.cpu_limit import cpu_limit, pick_cpus
    from fnrun.runtimes.local.memory_guard import memory_limit

    memory = memory_limit(fn)
    cpu = cpu_limit(fn)

    def place(request: Any) -> dict[str, Any]:
        cpus = pick_cpus(cpu[0]) if cpu else None
        return run_in_subprocess(request, db, settings, watch, env=fn.local_env(), memory=memory,
                                 cpus=cpus, threads=len(cpus or []))  # fmt: skip

    return place


register_placement("process", child_process, lambda fn: "in a child process", detached=True)
