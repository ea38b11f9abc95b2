"""Issue 3's example job, as written, through ``code_to_function(...).run`` and as a script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fnrun
from tests.conftest import DATA

pytest.importorskip("pandas", reason="pandas (fnrun[data]) not installed")
EXAMPLE = str(DATA / "code" / "mlrun_example.py")
SECRET = "AK-4242-very-secret"


def _check(run_doc: dict, artifact_root: Path, logs: str, p1: int) -> None:
    status = run_doc["status"]
    assert status["state"] == "completed"
    assert status["results"] == {"accuracy": p1 * 2, "loss": p1 * 3}
    assert run_doc["metadata"]["labels"]["framework"] == "sklearn"
    uris = status["artifact_uris"]
    assert set(uris) == {"model", "html_result", "chart", "mydf"}
    assert uris["mydf"].startswith("store://datasets/")
    meta = run_doc["metadata"]
    folder = artifact_root / meta["name"] / meta["uid"] / str(meta["iteration"])
    assert (folder / "model.txt").read_bytes() == b"abc is 123"
    assert (folder / "html_result.html").read_bytes() == b"<b> Some HTML <b>"  # key + suffix
    assert b"<svg" in (folder / "chart.html").read_bytes()
    assert (folder / "mydf.parquet").is_file()
    assert "file\nb'hello from the input'\n" in logs  # get() returns bytes, as in MLRun
    assert SECRET not in logs


def test_example_through_code_to_function(tmp_path: Path, fnrun_home: Path) -> None:
    infile = tmp_path / "infile.txt"
    infile.write_text("hello from the input")
    fn = fnrun.code_to_function("example", filename=EXAMPLE, kind="job", handler="my_job")
    run = fn.run(
        params={"p1": 5},
        inputs={"infile.txt": str(infile)},
        secrets={"ACCESS_KEY": SECRET},
        local=True,
    )
    _check(run.to_dict(), fnrun_home / "artifacts", run.logs(), p1=5)
    assert "accesskey = ***" in run.logs()
    dataset = run.artifact("mydf")
    assert list(dataset.as_df().columns) == ["first_name", "age", "testScore"]
    meta = dataset.meta or {}
    assert meta["status"]["stats"]["age"]["mean"] == pytest.approx(45.4)
    assert len(meta["status"]["stats"]["age"]["hist"][0]) == 20
    assert meta["spec"]["preview"][0] == ["Jason", 42, 25]
    model = fnrun.get_run_db().read_artifact("model", project=run.metadata["project"])
    assert model["metadata"]["labels"] == {"framework": "xgboost"}
    assert run.artifact("model").get() == b"abc is 123"
    db_bytes = b"".join(p.read_bytes() for p in fnrun_home.glob("fnrun.db*"))
    assert SECRET.encode() not in db_bytes


@pytest.mark.parametrize("mode", ["plain", "with"])
def test_example_as_main_script(tmp_path: Path, fnrun_home: Path, mode: str) -> None:
    (tmp_path / "infile.txt").write_text("hello from the input")
    env = {**os.environ, "FNRUN_HOME": str(fnrun_home), "ACCESS_KEY": SECRET}
    args = [sys.executable, EXAMPLE] + (["with"] if mode == "with" else [])
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (run,) = fnrun.get_run_db().list_runs(name="train")
    _check(run, fnrun_home / "artifacts", proc.stdout.replace(SECRET, "***"), p1=1)
