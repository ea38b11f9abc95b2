"""A function's memory limit holds on this machine as in its pod: a child-process run (an MPI
rank) that goes over ``resources.limits.memory`` is killed and the run says OOMKilled."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import RunError

CODE = """
import time

def grow(context, mb: int = 10):
    context.log_result("started", 1)
    context.commit()
    block = b"x" * (mb * 2**20)  # written: resident
    time.sleep(2)
    context.log_result("held", len(block) // 2**20)
"""


def _fn(tmp_path: Path, kind: str = "job") -> Any:
    path = tmp_path / "grow.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function("grow", filename=str(path), kind=kind, handler="grow")
    return fn.with_limits(mem="200Mi")


def test_a_run_over_its_memory_limit_is_oom_killed_and_says_so(tmp_path: Path) -> None:
    with pytest.raises(RunError) as err:
        _fn(tmp_path).run(params={"mb": 400}, local=True, project="mem")
    run = err.value.run
    assert "OOMKilled" in run.error and "over the memory limit 200Mi" in run.error
    assert "exited with status -9 before finishing" in run.error
    assert run.status.results == {"started": 1}  # what it committed before is kept


def test_a_run_under_its_memory_limit_completes(tmp_path: Path) -> None:
    run = _fn(tmp_path).run(params={"mb": 50}, local=True, project="mem")
    assert run.state() == "completed" and run.output("held") == 50


def test_without_a_limit_nothing_is_watched(tmp_path: Path) -> None:
    from fnrun.runtimes.local.memory_guard import memory_limit

    path = tmp_path / "grow.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function("grow", filename=str(path), kind="job", handler="grow")
    assert memory_limit(fn) is None
    assert memory_limit(fn.with_limits(mem="1.5Gi")) == (int(1.5 * 2**30), "1.5Gi")


@pytest.mark.integration
@pytest.mark.engines
def test_each_mpi_rank_has_the_limit_of_its_pod(tmp_path: Path) -> None:
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun (Debian's openmpi-bin, the engines tier)")
    fn = _fn(tmp_path, kind="mpijob")
    fn.spec.replicas = 2
    # 2 x 150 MiB is over 200Mi in total, not per rank: it runs
    assert fn.run(params={"mb": 150}, project="mem").state() == "completed"
    with pytest.raises(RunError) as err:
        fn.run(params={"mb": 300}, project="mem")
    assert "OOMKilled: rank process" in err.value.run.error
