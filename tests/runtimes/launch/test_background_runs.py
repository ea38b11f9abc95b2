"""``fn.run(watch=False)`` on kinds that submit runs (``job``, ``mpijob``): the call returns
once the run is submitted and the run goes on, outliving its caller; local runs finish first
(MLRun's local runs ignore ``watch`` too)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import RunError
from fnrun.runtimes.launch.runobject import RunObject

CODE = """
import os, time

def slow(context, n: float = 1.0):
    print(f"working in {os.getpid()}", flush=True)
    context.log_result("pid", os.getpid())
    context.commit()
    time.sleep(n)
    context.log_result("done", n)
    print("finished", flush=True)

def score(context, x: int = 0):
    time.sleep(0.3)
    context.log_result("loss", (x - 2) ** 2)
"""


def _job(tmp_path: Path, kind: str = "job") -> Any:
    path = tmp_path / "bg.py"
    path.write_text(CODE)
    return fnrun.code_to_function("bg", filename=str(path), kind=kind, project="bg")


def fnrun_home_dir() -> Path:
    from fnrun.config import get_settings

    return Path(get_settings().home)


def _wait_for(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_job_returns_once_submitted_and_the_run_goes_on(tmp_path: Path) -> None:
    started = time.monotonic()
    run = _job(tmp_path).run(handler="slow", params={"n": 2}, watch=False)
    assert time.monotonic() - started < 2  # did not wait for the 2 s handler
    assert run.state() in ("created", "running")
    assert run.wait_for_completion(sleep=0.1) is run
    assert run.state() == "completed" and run.status.results["done"] == 2
    assert "working in" in run.logs() and "finished" in run.logs()
    assert run.status.results["pid"] != os.getpid()
    output = fnrun_home_dir() / "runs" / f"{run.uid()}-0.out"
    _wait_for(lambda: not output.exists())  # the keeper drops it once the child has ended


def test_a_run_outlives_the_script_that_started_it(tmp_path: Path) -> None:
    path = tmp_path / "bg.py"
    path.write_text(CODE)
    script = (
        "import fnrun\n"
        f"fn = fnrun.code_to_function('bg', filename={str(path)!r}, kind='job', project='bg')\n"
        "run = fn.run(handler='slow', params={'n': 1.5}, watch=False)\n"
        "print(run.uid(), run.state())\n"
    )
    began = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert time.monotonic() - began < 1.5 + 5  # the script ended without waiting... roughly
    uid, state = out.stdout.split()
    assert state in ("created", "running")
    db = fnrun.get_run_db()
    assert db.read_run(uid, "bg")["status"]["state"] in ("created", "running")  # still going
    run = RunObject(db.read_run(uid, "bg"), db).wait_for_completion(sleep=0.1, timeout=60)
    assert run.status.results["done"] == 1.5 and "finished" in run.logs()


def test_a_child_killed_after_the_caller_left_is_an_error_with_its_output(
    tmp_path: Path,
) -> None:
    run = _job(tmp_path).run(handler="slow", params={"n": 30}, watch=False)
    _wait_for(lambda: "pid" in run.refresh().status.results)
    os.kill(run.status.results["pid"], signal.SIGKILL)
    with pytest.raises(RunError, match=r"did not complete \(state=error\)") as err:
        run.wait_for_completion(sleep=0.1, timeout=30)
    assert "exited with status -9 before finishing" in run.error
    assert err.value.run is run
    assert "working in" in run.logs()  # what it printed before it died
    output = Path(fnrun_home_dir()) / "runs" / f"{run.uid()}-0.out"
    assert str(output) in run.error and "working in" in output.read_text()
    assert run.wait_for_completion(raise_on_failure=False).state() == "error"


def test_hyper_parameter_iterations_go_on_after_run_returns(tmp_path: Path) -> None:
    run = _job(tmp_path).run(
        handler="score",
        hyperparams={"x": [1, 2, 3]},
        hyper_param_options={"selector": "min.loss"},
        watch=False,
    )
    assert run.state() == "running" and not run.status.iterations
    run.wait_for_completion(sleep=0.1, timeout=60)
    assert run.status.best_iteration == 2 and run.output("loss") == 0


@pytest.mark.parametrize("how", ["local=True", "local kind"])
def test_local_runs_finish_before_run_returns(tmp_path: Path, how: str) -> None:
    if how == "local=True":
        run = _job(tmp_path).run(handler="slow", params={"n": 0.2}, local=True, watch=False)
    else:
        run = _job(tmp_path, kind="local").run(handler="slow", params={"n": 0.2}, watch=False)
    assert run.state() == "completed" and run.status.results["done"] == 0.2


def test_wait_for_completion_times_out_naming_the_state(tmp_path: Path) -> None:
    run = _job(tmp_path).run(handler="slow", params={"n": 5}, watch=False)
    with pytest.raises(TimeoutError, match=r"still (created|running) after 0.3 s"):
        run.wait_for_completion(sleep=0.05, timeout=0.3)
    run.abort()
    assert run.wait_for_completion(raise_on_failure=False).state() == "aborted"
