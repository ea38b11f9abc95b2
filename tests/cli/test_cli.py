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
    assert runner.invoke(app, ["--version"]).output.strip() == f"fnrun {fnrun.__version__}"
    out = runner.invoke(app, ["--help"]).output
    for command in ("version", "get", "import", "export", "delete", "logs"):
        assert command in out
    assert " exec " not in out  # the child side of fn.run is not a user command


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
    out = runner.invoke(app, ["get", "runs", "--project", "c", "--show", "results"]).output
    assert run.uid()[:8] in out and "completed" in out and "double=6" in out
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


def _fnrun(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fnrun", *args],
        capture_output=True,
        text=True,
        env={"FNRUN_HOME": str(home), "HOME": str(home), "PATH": "/usr/bin:/bin"},
    )


def test_run_py_file_params_inputs_and_logs(tmp_path: Path, fnrun_home: Path) -> None:
    jobs = str(DATA / "code" / "jobs.py")
    proc = _fnrun(
        fnrun_home,
        "run",
        jobs,
        "--handler",
        "echo",
        "-p",
        "p1=3",
        "-p",
        'p2="hi"',
        "--label",
        "team=a",
        "--no-watch",
        "--project",
        "cli",
    )
    assert proc.returncode == 0, proc.stderr
    (run,) = fnrun.get_run_db().list_runs(project="cli")
    assert run["status"]["results"] == {"double": 6, "return": 3}
    assert run["spec"]["parameters"] == {"p1": 3, "p2": "hi"}
    assert run["metadata"]["labels"] == {"team": "a"}
    logs = _fnrun(fnrun_home, "logs", run["metadata"]["uid"], "--project", "cli")
    assert "p1=3 p2=hi" in logs.stdout


def test_run_failure_exits_1_and_bad_params_exit_2(fnrun_home: Path) -> None:
    jobs = str(DATA / "code" / "jobs.py")
    proc = _fnrun(fnrun_home, "run", jobs, "--handler", "fails", "--no-watch")
    assert proc.returncode == 1 and "bad value 1" in proc.stderr
    proc = _fnrun(fnrun_home, "run", jobs, "--handler", "echo", "-p", "novalue")
    assert proc.returncode == 2 and "key=value" in proc.stderr
    proc = _fnrun(fnrun_home, "run", jobs, "--handler", "nope")
    assert proc.returncode == 2 and "functions in the file: crash, echo" in proc.stderr


def test_run_yaml_and_db_uri(tmp_path: Path, fnrun_home: Path) -> None:
    fn = fnrun.code_to_function(
        "jobs", filename=str(DATA / "code" / "jobs.py"), kind="job", handler="zero", project="cli2"
    )
    fn.export(str(tmp_path / "f.yaml"))
    fn.save()
    assert (
        _fnrun(fnrun_home, "run", str(tmp_path / "f.yaml"), "--local", "--no-watch").returncode == 0
    )
    proc = _fnrun(fnrun_home, "run", "db://cli2/jobs", "--no-watch")
    assert proc.returncode == 0  # no cluster: a job runs here, and the start line says why
    assert "in this process (no Kubernetes cluster configured" in proc.stderr
    assert _fnrun(fnrun_home, "run", "db://cli2/jobs", "--local", "--no-watch").returncode == 0
    assert len(fnrun.get_run_db().list_runs(project="cli2")) == 3


def test_exec_without_config_is_a_clear_error(fnrun_home: Path) -> None:
    proc = _fnrun(fnrun_home, "exec", "--from-env")
    assert proc.returncode == 2 and "FNRUN_EXEC_CONFIG is not set" in proc.stderr


def test_a_runs_own_words_print_as_text_never_as_markup() -> None:
    evil = "[link=http://evil.example]click[/link][red]x"
    db = fnrun.get_run_db()
    artifact = {"kind": "artifact", "metadata": {"key": "notes", "project": "m", "tree": "t1"},
                "spec": {"target_path": evil}}  # fmt: skip
    db.store_artifact("notes", artifact, "t1", project="m")
    db.store_run({"kind": "run", "metadata": {"name": "r", "uid": "u" * 32, "project": "m"},
                  "spec": {"parameters": {"p": evil}},
                  "status": {"state": evil, "error": evil}}, "u" * 32, "m")  # fmt: skip
    for argv in (["get", "artifacts", "--project", "m"],
                 ["get", "runs", "--project", "m", "--show", "params"],
                 ["get", "run", "u" * 8, "--project", "m"]):  # fmt: skip
        out = runner.invoke(app, argv).output
        # as written (a table may cut it at its width); as markup it would vanish into a link
        assert "[link=http://evil" in out and "\x1b]8;" not in out, argv
