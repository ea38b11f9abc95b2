"""``mpi``: ``mpirun -np <replicas>`` starts the handler on every rank, each through
``python -m fnrun exec --from-env``; rank 0 is the logging worker (it commits the run, its
results, artifacts and log), the other ranks run the same code without logging, and their
output lands in the run's log line by line, prefixed by rank (``[rank 1] ...``).

Open MPI (``apt-get install openmpi-bin``) and MPICH both work: running as root and more ranks
than cores are allowed through Open MPI's environment switches (ignored by MPICH), and each
implementation's own rank tagging is parsed. Ranks are not pinned to cores (this machine runs
other things too); ``spec.mpi_args`` go to ``mpirun`` as given (``["--bind-to", "core"]``).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

from fnrun.errors import InvalidArgumentError
from fnrun.runtimes.local.child import EXEC_ENV, run_in_subprocess
from fnrun.runtimes.local.ranks import rank_line
from fnrun.runtimes.placements import Place, register_placement

if TYPE_CHECKING:
    from fnrun.config import Settings
    from fnrun.db.base import RunDB
    from fnrun.model.function_like import RuntimeLike

_OPEN_MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",  # more ranks than cores: slower, never refused
    # unpinned ranks: two mpiruns at once (parallel iterations, other runs) would otherwise
    # both pin to core 0 and share it; spec.mpi_args "--bind-to core" pins again
    "OMPI_MCA_hwloc_base_binding_policy": "none",
}


def mpi_ranks(fn: RuntimeLike, db: RunDB, settings: Settings, watch: bool) -> Place:
    from fnrun.runtimes.local.cpu_limit import cpu_limit, pick_cpus
    from fnrun.runtimes.local.memory_guard import memory_limit

    memory = memory_limit(fn)  # per rank, as each rank's worker pod carries the resources
    cpu = cpu_limit(fn)  # the same: each rank its share of CPUs

    def place(request: Any) -> dict[str, Any]:
        ranks = int(fn.spec.replicas or 1)
        cpus = pick_cpus(cpu[0], copies=ranks) if cpu else None
        return run_in_subprocess(
            request,
            db,
            settings,
            watch,
            launcher=mpirun_command(fn),
            lines=rank_line,
            env={**_OPEN_MPI_ENV, **fn.local_env()},
            what="mpirun",
            memory=memory,
            per_rank=True,
            cpus=cpus,
            threads=max(1, len(cpus or []) // ranks),
        )

    return place


def mpirun_command(fn: RuntimeLike) -> list[str]:
    """``mpirun -np N <rank tagging> <env forwarding> <spec.mpi_args>``."""
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise InvalidArgumentError(
            "the mpijob kind needs mpirun, which is not on PATH",
            field="kind",
            hint="install Open MPI (apt-get install openmpi-bin libopenmpi-dev; "
            "pip install mpi4py) or put mpirun on PATH",
        )
    ranks = int(fn.spec.replicas or 1)
    if ranks < 1:
        raise InvalidArgumentError(
            f"an mpijob needs at least 1 rank, got replicas={ranks}", field="spec.replicas"
        )
    command = [mpirun, "-np", str(ranks)]
    if _implementation(mpirun) == "openmpi":
        command.append("--tag-output")
        # forward the run's settings by name (values stay in the environment, not in argv)
        for name in (*EXEC_ENV, *fn.local_env()):
            command += ["-x", name]
    else:
        command.append("-prepend-rank")
    return [*command, *fn.spec.mpi_args]


@functools.cache
def _implementation(mpirun: str) -> str:
    try:
        out = subprocess.run(
            [mpirun, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return "openmpi" if "Open MPI" in out or "OpenRTE" in out else "mpich"


def where(fn: RuntimeLike) -> str:
    ranks = int(fn.spec.replicas or 1)
    return f"mpirun, {ranks} rank{'s' if ranks != 1 else ''} on this machine"


register_placement("mpi", mpi_ranks, where, detached=True)
