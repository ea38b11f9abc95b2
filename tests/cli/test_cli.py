from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import fnrun
from fnrun.cli import app
from tests.conftest import DATA, HUB_SAMPLE

runner = CliRunner()


def test_version_and_help() -> None:
    assert f"fnrun {fnrun.__version__}" in runner.invoke(app, ["version"]).output
    out = runner.invoke(app, ["--help"]).output
    for command in ("version", "get", "import", "export"):
        assert command in out


def test_import_get_export_round_trip(tmp_path: Path) -> None:
    source = str(HUB_SAMPLE / "describe" / "function.yaml")
    result = runner.invoke(app, ["import", source, "--project", "hub", "--tag", "v1"])
    assert result.exit_code == 0, result.output
    assert "saved db://hub/describe@" in result.output
    listing = runner.invoke(app, ["get", "functions", "--project", "hub", "--tag", "*"]).output
    assert "describe" in listing and "v1" in listing and "latest" in listing
    target = tmp_path / "out.yaml"
    result = runner.invoke(app, ["export", "db://hub/describe:v1", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert fnrun.import_function(str(target)).code == fnrun.import_function(source).code


def test_get_runs_and_artifacts() -> None:
    fn = fnrun.code_to_function("jobs", filename=str(DATA / "code" / "jobs.py"), project="c")
    run = fn.run(handler="echo", params={"p1": 3}, local=True, watch=False)
    out = runner.invoke(app, ["get", "runs", "--project", "c"]).output
    assert run.uid()[:12] in out and "completed" in out and "double=6" in out
    fnrun.get_run_db().store_artifact(
        "model",
        {"kind": "model", "metadata": {}, "spec": {"target_path": "/m.pkl"}},
        uid=run.uid(),
        project="c",
    )
    out = runner.invoke(app, ["get", "artifacts", "--project", "c"]).output
    assert "model" in out and "/m.pkl" in out


def test_errors_are_one_line_with_exit_code_2(fnrun_home: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "fnrun", "export", "db://p/missing"],
        capture_output=True,
        text=True,
        env={"FNRUN_HOME": str(fnrun_home)},
    )
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr
