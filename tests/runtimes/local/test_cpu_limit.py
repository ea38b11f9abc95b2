"""A CPU limit holds on this machine: a run in a child process is bound to ceil(limit) CPUs
(its threads with it) and its thread pools are sized to them, unless the function says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import fnrun
from fnrun.runtimes.local.cpu_limit import pick_cpus

CODE = """
import os, threading

def probe(context):
    seen = {}
    worker = threading.Thread(target=lambda: seen.update(cpus=len(os.sched_getaffinity(0))))
    worker.start()
    worker.join()
    context.log_result("cpus", len(os.sched_getaffinity(0)))
    context.log_result("thread_cpus", seen["cpus"])
    context.log_result("omp", os.environ.get("OMP_NUM_THREADS", ""))
"""
HERE = len(os.sched_getaffinity(0))


def _fn(tmp_path: Path) -> fnrun.BaseRuntime:
    path = tmp_path / "probe.py"
    path.write_text(CODE)
    return fnrun.code_to_function("probe", filename=str(path), kind="job", handler="probe")


@pytest.mark.parametrize(("limit", "cpus"), [("1", 1), ("500m", 1), ("1500m", min(2, HERE))])
def test_a_child_process_is_bound_to_its_cpu_limit(tmp_path: Path, limit: str, cpus: int) -> None:
    fn = _fn(tmp_path)
    fn.with_limits(cpu=limit)
    run = fn.run(local=True)
    assert run.status.results == {"cpus": cpus, "thread_cpus": cpus, "omp": str(cpus)}


def test_without_a_limit_every_cpu_and_the_functions_own_thread_count(tmp_path: Path) -> None:
    fn = _fn(tmp_path)
    assert fn.run(local=True).status.results == {"cpus": HERE, "thread_cpus": HERE, "omp": ""}
    fn.with_limits(cpu="1")
    fn.set_env("OMP_NUM_THREADS", "3")  # the function's own choice wins
    assert fn.run(local=True).status.results["omp"] == "3"


def test_runs_take_the_cpus_in_turn_and_ranks_get_a_share_each() -> None:
    firsts = {pick_cpus(1)[0] for _ in range(HERE)}
    assert firsts == set(os.sched_getaffinity(0))  # parallel runs do not all sit on one CPU
    assert len(pick_cpus(1, copies=2)) == min(2, HERE)
    assert len(pick_cpus(64)) == HERE  # never more than the machine has
