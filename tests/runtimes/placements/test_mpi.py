"""The mpijob kind on real Open MPI: ``mpirun -np 2`` ranks of a real mpi4py allreduce."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import RunError

pytestmark = [pytest.mark.integration, pytest.mark.engines]
pytest.importorskip("mpi4py", reason="mpi4py (the mpi extra, the engines tier)")
if shutil.which("mpirun") is None:
    pytest.skip("mpirun (Debian's openmpi-bin, the engines tier)", allow_module_level=True)

CODE = """
import os
from mpi4py import MPI

def allreduce(context, x: int = 1):
    comm = MPI.COMM_WORLD
    total = comm.allreduce(x * (comm.rank + 1), op=MPI.SUM)
    print(f"rank {comm.rank} of {comm.size}: total {total} mode {os.environ.get('MODE')}")
    context.log_result("total", total)
    context.log_result("ranks", comm.size)
    context.log_artifact("who", body=f"written by rank {comm.rank}")

def cpus(context):
    comm = MPI.COMM_WORLD
    seen = comm.gather((len(os.sched_getaffinity(0)), os.environ.get("OMP_NUM_THREADS")))
    if comm.rank == 0:
        context.log_result("seen", seen)

def fail_on_one(context):
    comm = MPI.COMM_WORLD
    if comm.rank == 1:
        raise ValueError("rank one gives up")
    context.log_result("rank0", "done")
"""


@pytest.fixture
def code(tmp_path: Path) -> str:
    path = tmp_path / "ranks.py"
    path.write_text(CODE)
    return str(path)


def test_two_ranks_allreduce_rank_zero_logs(code: str) -> None:
    fn = fnrun.code_to_function("ranks", filename=code, kind="mpijob", handler="allreduce")
    fn.spec.replicas = 2
    fn.set_env("MODE", "ranked")
    run = fn.run(params={"x": 10})
    assert run.status.results == {"total": 30, "ranks": 2}  # 10*1 + 10*2 over both ranks
    (artifact,) = run.status.artifacts
    assert Path(artifact["spec"]["target_path"]).read_text() == "written by rank 0"
    logs = run.logs()
    assert "rank 0 of 2: total 30 mode ranked" in logs
    assert "[rank 1] rank 1 of 2: total 30 mode ranked" in logs


def test_a_failing_rank_fails_the_run(code: str) -> None:
    fn = fnrun.code_to_function("ranks", filename=code, kind="mpijob", handler="fail_on_one")
    fn.spec.replicas = 2
    with pytest.raises(RunError) as err:
        fn.run(watch=False).wait_for_completion()  # submitted, then failed
    run = err.value.run
    assert run.state() == "error"
    assert "[rank 1]" in run.logs() and "rank one gives up" in run.logs()


def test_cli_runs_ranks_and_says_where(code: str) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fnrun",
            "run",
            code,
            "--kind",
            "mpijob",
            "--replicas",
            "2",
            "--handler",
            "allreduce",
            "-p",
            "x=1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "mpirun, 2 ranks on this machine" in out.stderr
    assert "total 3" in out.stdout


def test_each_rank_gets_its_share_of_the_cpu_limit(code: str) -> None:
    import os

    fn = fnrun.code_to_function("ranks", filename=code, kind="mpijob", handler="cpus")
    fn.spec.replicas = 2
    fn.with_limits(cpu="1")  # per rank, as each rank's worker pod carries it
    run = fn.run()
    share = min(2, len(os.sched_getaffinity(0)))
    assert run.status.results["seen"] == [[share, "1"], [share, "1"]]
