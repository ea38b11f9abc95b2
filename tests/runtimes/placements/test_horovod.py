"""Horovod on the mpijob kind: a 2-rank allreduce with horovod.torch under real mpirun.

Opt-in (the ``horovod`` marker, deselected from every default tier): Horovod builds from
source against torch and Open MPI (~8 min, ~1 GB), so ``./dev horovod`` installs it and runs
only this. Rank 0 logs the run, as for any MPI code."""

from __future__ import annotations

from pathlib import Path

import pytest

import fnrun

pytestmark = [pytest.mark.integration, pytest.mark.engines, pytest.mark.horovod]

CODE = """
import horovod.torch as hvd
import torch

def train(context, x: float = 1.0):
    hvd.init()
    total = hvd.allreduce(torch.tensor([x * (hvd.rank() + 1)]), op=hvd.Sum)
    context.log_result("total", float(total.item()))
    context.log_result("size", hvd.size())
"""


def test_a_horovod_allreduce_over_two_ranks(tmp_path: Path) -> None:
    pytest.importorskip("horovod.torch", reason="horovod with torch (./dev horovod builds it)")
    path = tmp_path / "hvd.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function("hvd", filename=str(path), kind="mpijob", handler="train")
    fn.spec.replicas = 2
    run = fn.run(params={"x": 2.0})
    assert run.status.results == {"total": 6.0, "size": 2}  # 2*1 + 2*2, logged by rank 0
