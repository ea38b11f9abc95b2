"""``srv.to_job(kind="dask")`` on a real Dask LocalCluster and ``kind="spark"`` on a real
``local[2]`` Spark session: the rows' partitions run on the workers / executors, with the
answers the graph gives in this process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import fnrun

CODE = """
import os

def score(x):
    if x["i"] % 50 == 7:
        raise ValueError(f"row {x['i']} is bad")
    return {"i": x["i"], "score": x["v"] * 3, "pid": os.getpid()}
"""


def _job(tmp_path: Path, kind: str) -> tuple[Any, str]:
    path = tmp_path / "score_steps.py"
    path.write_text(CODE)
    srv = fnrun.code_to_function("scores", filename=str(path), kind="serving", project="gje")
    srv.set_topology("flow", engine="sync").to(handler="score").respond()
    data = tmp_path / "rows.parquet"
    pd.DataFrame({"i": range(300), "v": [i / 4 for i in range(300)]}).to_parquet(data)
    return srv.to_job(kind=kind), str(data)


def _check(run: Any) -> pd.DataFrame:
    assert run.status.results == {"num_rows": 300, "num_errors": 6}
    out = run.artifact("prediction").as_df()
    assert len(out) == 300
    good = out[out["error"].isna()]
    assert list(good["i"]) == [i for i in range(300) if i % 50 != 7]
    assert list(good["score"]) == [i / 4 * 3 for i in range(300) if i % 50 != 7]
    assert out["error"][57] == "ValueError: row 57 is bad (step 'score')"
    assert os.getpid() not in set(good["pid"])  # the graph ran elsewhere
    return out


@pytest.mark.integration
def test_dask_maps_the_partitions_on_the_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="dask[distributed] (the dask extra)")
    job, data = _job(tmp_path, "dask")
    job.spec.replicas = 2
    try:
        run = job.run(inputs={"data": data}, params={"partitions": 4})
        _check(run)
    finally:
        job.close()


@pytest.mark.integration
@pytest.mark.engines
def test_spark_maps_the_partitions_on_the_executors(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark (the spark extra, the engines tier)")
    job, data = _job(tmp_path, "spark")
    job.with_spark_master("local[2]")
    job.spec.spark_conf = {"spark.ui.enabled": "false"}
    try:
        _check(job.run(inputs={"data": data}, params={"partitions": 3}))
    finally:
        job.close()
