"""The mpijob placement's pieces that need no MPI: rank tagging, the logging worker, the
exit-code rule, and a clear error without mpirun (real ranks: test_mpi.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import fnrun
from fnrun.config import get_settings
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError, RunError
from fnrun.execution.entry import mpi_rank
from fnrun.execution.execute import RunRequest, execute
from fnrun.runtimes.local.child import run_in_subprocess
from fnrun.runtimes.local.ranks import rank_line
from fnrun.runtimes.placements.mpi import mpirun_command


def test_rank_lines_of_open_mpi_and_mpich() -> None:
    assert rank_line("[1,0]<stdout>:hello\n") == ("hello\n", "")  # rank 0 logs itself
    assert rank_line("[1,1]<stderr>:oops\n") == ("[rank 1] oops\n", "[rank 1] oops\n")
    assert rank_line("[3] from mpich\n") == ("[rank 3] from mpich\n", "[rank 3] from mpich\n")
    line = "mpirun detected that one or more processes exited with non-zero status\n"
    assert rank_line(line) == (line, line)  # mpirun's own words reach the log


def test_rank_from_each_mpi_implementation() -> None:
    assert mpi_rank({}) == -1  # not under MPI
    assert mpi_rank({"OMPI_COMM_WORLD_RANK": "0"}) == 0
    assert mpi_rank({"OMPI_COMM_WORLD_RANK": "2"}) == 2
    assert mpi_rank({"PMI_RANK": "1"}) == 1
    assert mpi_rank({"PMIX_RANK": "3"}) == 3


def test_other_ranks_store_nothing(tmp_path: Path) -> None:
    def handler(context: object) -> str:
        context.log_result("x", 1)  # type: ignore[attr-defined]
        context.log_artifact("f", body="rank 1 data")  # type: ignore[attr-defined]
        print("rank 1 talking")
        return "done"

    db = get_run_db()
    request = RunRequest(handler=handler, name="quiet", project="mp", uid="u1")
    request.artifact_path = str(tmp_path / "art")
    request.context_extras["logging_worker"] = False
    ctx = execute(request, db, code_dir=tmp_path / "code", echo=False)
    assert ctx.state == "completed" and not ctx.is_logging_worker()
    assert db.list_runs(project="mp") == []  # no run row, no log
    assert not (tmp_path / "art").exists()  # no artifact file


def test_mpirun_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    fn = fnrun.new_function("ranks", kind="mpijob")
    with pytest.raises(InvalidArgumentError, match="needs mpirun") as err:
        mpirun_command(fn)
    assert "openmpi-bin" in (err.value.hint or "")


def test_a_non_zero_exit_after_completed_is_an_error(tmp_path: Path) -> None:
    """The run committed ``completed`` (rank 0) but the launcher exited 3 (another rank
    failed): the run ends ``error``, its results kept."""
    code = tmp_path / "ok.py"
    code.write_text("def main(context):\n    context.log_result('kept', 1)\n")
    fn = fnrun.code_to_function("ok", filename=str(code), kind="job", handler="main")
    request = RunRequest(function=fn, name="ok", project="mp")
    launcher = ["sh", "-c", '"$@"; exit 3', "sh"]  # runs the child, then fails
    doc = run_in_subprocess(request, get_run_db(), get_settings(), False, launcher=launcher)
    assert doc["status"]["state"] == "error"
    assert "exited with status 3 after the run completed" in doc["status"]["error"]
    assert doc["status"]["results"] == {"kept": 1}


def test_function_env_reaches_the_child_process(tmp_path: Path) -> None:
    code = tmp_path / "env.py"
    code.write_text("import os\ndef main(context):\n    return os.environ.get('MODE')\n")
    fn = fnrun.code_to_function("envy", filename=str(code), kind="job", handler="main")
    fn.set_env("MODE", "staging")
    assert fn.run(local=True, watch=False).output("return") == "staging"


def test_replicas_on_the_cli_needs_a_kind_with_replicas(tmp_path: Path) -> None:
    import subprocess

    code = tmp_path / "h.py"
    code.write_text("def main(context):\n    pass\n")
    out = subprocess.run(
        [sys.executable, "-m", "fnrun", "run", str(code), "--handler", "main", "--replicas", "2"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "a 'local' function has no replicas" in out.stderr
    _ = RunError  # the CLI's own errors are one line; the run never started
