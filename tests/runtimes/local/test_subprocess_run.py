"""Runs placed in a child process (``local`` kind, ``local=True``): commands, scripts, sources."""

from __future__ import annotations

import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, RunError
from fnrun.execution.source import extract
from tests.conftest import DATA

JOBS = str(DATA / "code" / "jobs.py")


def test_local_runs_in_a_child_process_and_tracks_everything() -> None:
    fn = fnrun.code_to_function("jobs", filename=JOBS, kind="job", project="sp")
    run = fn.run(handler="where", local=True, watch=False)
    assert run.state() == "completed" and run.output("return") != os.getpid()
    run = fn.run(handler="echo", params={"p1": 4}, local=True, watch=False)
    assert run.output("double") == 8 and "p1=4 p2=x" in run.logs()


def test_child_crash_marks_the_run_error_with_output() -> None:
    fn = fnrun.code_to_function("jobs", filename=JOBS, kind="local", project="sp")
    with pytest.raises(RunError, match="exited with status 3") as err:
        fn.run(handler="crash", watch=False)
    run = err.value.run
    stored = fnrun.get_run_db().read_run(run.uid(), "sp")
    assert stored["status"]["state"] == "error"
    assert "going down" in run.logs()


def test_mode_pass_and_args(tmp_path: Path) -> None:
    fn = fnrun.new_function("echoer", kind="local", command="echo", args=["hello", "{who}"])
    fn.spec.mode = "args"
    run = fn.run(params={"who": "world"}, watch=False)
    assert run.logs().strip() == "hello world"
    fn.spec.mode = "pass"  # MLRun's pass mode substitutes too, in the command and the args
    assert fn.run(params={"who": "x"}, watch=False).logs().strip() == "hello x"
    passed = fnrun.new_function("p", kind="local", command="echo hello-{who}", mode="pass")
    assert passed.run(params={"who": "y"}, watch=False).logs().strip() == "hello-y"
    fn.spec.mode = "args"
    with pytest.raises(RunError, match=r"\{who\} in the command has no param"):
        fn.run(watch=False)
    failing = fnrun.new_function("f", kind="local", command="false", mode="pass")
    with pytest.raises(RunError, match="exited with status 1"):
        failing.run(watch=False)


@pytest.mark.parametrize("mode", ["args", "pass"])
def test_a_py_command_runs_through_the_interpreter(tmp_path: Path, mode: str) -> None:
    script = tmp_path / "tool.py"  # not executable: it must not be run as a program
    script.write_text("import sys\nprint('got', sys.argv[1:])\n")
    fn = fnrun.new_function("t", kind="local", command=str(script), args=["--n", "{n}"], mode=mode)
    assert "got ['--n', '7']" in fn.run(params={"n": 7}, watch=False).logs()


def test_script_mode_gets_args(tmp_path: Path) -> None:
    script = tmp_path / "main.py"
    script.write_text("import sys\nprint('argv', sys.argv[1:])\n")
    fn = fnrun.new_function("s", kind="local", command=str(script), args=["--a", "1"])
    assert "argv ['--a', '1']" in fn.run(watch=False).logs()


def _make_source(root: Path) -> Path:
    pkg = root / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "train.py").write_text(
        "import os\n\ndef handler(context, x=1):\n    return {'x': x, 'cwd': os.getcwd()}\n"
    )
    return root


@pytest.mark.parametrize("form", ["dir", "zip", "tar.gz", "git"])
def test_source_archives_loaded_on_run(tmp_path: Path, form: str) -> None:
    root = _make_source(tmp_path / "repo")
    if form == "dir":
        source = str(root)
    elif form == "zip":
        source = str(tmp_path / "src.zip")
        with zipfile.ZipFile(source, "w") as zf:
            for p in root.rglob("*.py"):
                zf.write(p, p.relative_to(root))
    elif form == "tar.gz":
        source = str(tmp_path / "src.tar.gz")
        with tarfile.open(source, "w:gz") as tf:
            tf.add(root / "src", arcname="src")
    else:
        git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
        subprocess.run([*git, "init", "-q", "-b", "main", str(root)], check=True)
        subprocess.run([*git, "-C", str(root), "add", "."], check=True)
        subprocess.run([*git, "-C", str(root), "commit", "-qm", "init"], check=True)
        source = f"git://{root}#main"
    fn = fnrun.new_function("src", kind="local")
    fn.with_source_archive(source, handler="pkg.train.handler", workdir="src")
    run = fn.run(params={"x": 5}, watch=False)
    assert run.output("return")["x"] == 5
    assert run.output("return")["cwd"].endswith("src")


def test_archive_escaping_target_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(InvalidArgumentError, match="leads outside the target directory"):
        extract(bad, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
    bad_tar = tmp_path / "bad.tar.gz"
    with tarfile.open(bad_tar, "w:gz") as tf:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../etc/passwd"
        tf.addfile(info)
    with pytest.raises(InvalidArgumentError, match="leads outside"):
        extract(bad_tar, tmp_path / "out2")


MLRUN_SCRIPT = """
import argparse
import sys

import mlrun

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=int)
args = parser.parse_args()
ctx = mlrun.get_or_create_ctx("script")
ctx.log_result("doubled", args.x * 2)
ctx.log_result("secret_seen", ctx.get_secret("TOKEN") == "s3cr3t-value")
ctx.set_label("from", "script")
ctx.log_artifact("notes", body=b"hello", local_path="notes.txt")
if args.x < 0:
    raise ValueError("x must not be negative")
"""


@pytest.mark.parametrize("mode", ["args", "pass"])
def test_an_mlrun_script_in_args_mode_joins_the_run(tmp_path: Path, mode: str) -> None:
    """MLRun's args/pass modes: the command's ``get_or_create_ctx`` is the run that started
    it (one run, holding the script's results, labels and artifacts), and ``import mlrun``
    in the script is fnrun's surface."""
    script = tmp_path / "script.py"
    script.write_text(MLRUN_SCRIPT)
    fn = fnrun.new_function("cmd", kind="local", command=f"{script} --x {{x}}", mode=mode)
    run = fn.run(params={"x": 21}, secrets={"TOKEN": "s3cr3t-value"}, watch=False)
    assert run.state() == "completed"
    assert run.output("doubled") == 42 and run.output("secret_seen") is True
    assert run.to_dict()["metadata"]["labels"]["from"] == "script"
    assert run.artifact("notes").get() == b"hello"
    runs = fnrun.get_run_db().list_runs(name="cmd", project=fn.metadata.project or None)
    assert [r["metadata"]["uid"] for r in runs] == [run.uid()]  # no second run
    assert "s3cr3t-value" not in run.logs()


def test_a_failing_mlrun_script_fails_the_run_with_its_error(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(MLRUN_SCRIPT)
    fn = fnrun.new_function("cmdfail", kind="local", command=f"{script} --x {{x}}", mode="args")
    with pytest.raises(RunError, match="x must not be negative") as caught:
        fn.run(params={"x": -1}, watch=False)
    run = caught.value.run
    assert run.state() == "error" and run.output("doubled") == -2


def test_a_script_without_handler_may_import_mlrun(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(MLRUN_SCRIPT)
    fn = fnrun.new_function("plain", kind="local", command=str(script), args=["--x", "4"])
    run = fn.run(watch=False)
    assert run.state() == "completed" and run.output("doubled") == 8


def test_each_iteration_of_an_args_mode_grid_joins_its_own_run(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(MLRUN_SCRIPT)
    fn = fnrun.new_function("cmdgrid", kind="local", command=f"{script} --x {{x}}", mode="args")
    run = fn.run(hyperparams={"x": [1, 2, 3]}, selector="max.doubled", watch=False)
    assert run.output("doubled") == 6
    children = fnrun.get_run_db().list_runs(uid=run.uid(), iter=True)
    assert sorted(
        c["status"]["results"]["doubled"] for c in children if c["metadata"]["iteration"]
    ) == [2, 4, 6]
