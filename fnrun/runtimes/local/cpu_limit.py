"""A function's CPU limit on this machine, as near as an unprivileged process gets to its pod's.

A pod's ``resources.limits.cpu`` is a CFS quota (1.5 = one and a half cores' time); without a
cgroup of our own the nearest thing is to bind the run's process to ``ceil(limit)`` of the
CPUs this process may use (each MPI rank its share, as each rank's worker pod carries the
limit) and to size the usual thread pools to that (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``NUMEXPR_NUM_THREADS``; a value the function sets itself wins).
The binding is set on the child as it starts, before it runs any code, so its threads and
children inherit it. Successive runs take the CPUs in turn, so parallel runs do not all sit
on CPU 0. A machine with fewer CPUs than the limit gives all it has.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
from typing import Any

from fnrun.model.quantity import parse_quantity

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_turn = itertools.count()
_lock = threading.Lock()


def cpu_limit(fn: Any) -> tuple[float, str] | None:
    """``(cores, as written)`` of the function's CPU limit, or None."""

    written = ((getattr(fn.spec, "resources", None) or {}).get("limits") or {}).get("cpu")
    if not written:
        return None
    cores = float(parse_quantity(written, "spec.resources.limits.cpu"))
    return (cores, str(written)) if cores > 0 else None


def pick_cpus(cores: float, copies: int = 1) -> list[int]:
    """The CPUs a run with this limit is bound to (``copies``: MPI ranks, each with the limit)."""
    allowed = sorted(os.sched_getaffinity(0))
    wanted = min(len(allowed), max(1, math.ceil(cores - 1e-9)) * max(1, copies))
    with _lock:
        start = next(_turn) * wanted % len(allowed)
    return [allowed[(start + i) % len(allowed)] for i in range(wanted)]


def bind(pid: int, cpus: list[int]) -> None:
    """Bind process ``pid`` (just started, no threads yet) to ``cpus``."""
    with contextlib.suppress(OSError, ValueError):  # it exited already: nothing to bind
        os.sched_setaffinity(pid, cpus)
