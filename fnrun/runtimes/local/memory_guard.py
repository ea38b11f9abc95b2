"""A function's memory limit on this machine, as its pod would have it: a run in a child
process (or each MPI rank, as each rank has its own worker pod) whose resident memory goes
over ``resources.limits.memory`` is killed and the run says ``OOMKilled`` with the figures,
instead of the limit meaning something only on Kubernetes.

The guard is a thread of the watching parent reading ``/proc`` four times a second (resident
set sizes of the process and its descendants, as a cgroup counts them); a spike shorter than
that can pass, a cgroup would not let it. CPU limits: :mod:`fnrun.runtimes.local.cpu_limit`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path
from typing import Any

from fnrun.model.quantity import parse_quantity

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def memory_limit(fn: Any) -> tuple[int, str] | None:
    """``(bytes, as written)`` of the function's memory limit, or None."""

    written = ((getattr(fn.spec, "resources", None) or {}).get("limits") or {}).get("memory")
    if not written:
        return None
    return int(parse_quantity(written, "spec.resources.limits.memory")), str(written)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


class MemoryGuard:
    """Kills ``pid``'s process tree (or, with ``per_child``, each child's tree of ``pid``
    that goes over on its own: an MPI rank) once its resident memory exceeds ``limit``."""

    def __init__(
        self, pid: int, limit: tuple[int, str], per_child: bool = False, poll: float = 0.25
    ) -> None:
        self.pid, (self.limit, self.written) = pid, limit
        self.per_child, self.poll = per_child, poll
        self.tripped = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="fnrun-memory", daemon=True)
        self._thread.start()

    def stop(self) -> str:
        """Stop watching; why it killed the run ('' if it did not)."""
        self._stop.set()
        self._thread.join(5)
        return self.tripped

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            children = _children()
            units = children.get(self.pid, []) if self.per_child else [self.pid]
            for unit in units:
                pids = _tree(unit, children)
                used = sum(_rss(p) for p in pids)
                if used > self.limit:
                    self._kill(_tree(self.pid, children), unit, used)
                    return

    def _kill(self, pids: list[int], unit: int, used: int) -> None:
        what = f"rank process {unit}" if self.per_child else f"process {unit}"
        self.tripped = (
            f"OOMKilled: {what} used {used / 2**20:.0f} MiB, over the memory limit "
            f"{self.written} (spec.resources.limits.memory; a pod would be OOMKilled too)"
        )
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
