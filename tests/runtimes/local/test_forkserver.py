"""Child-process runs started by the fork server: each run's process has its own environment,
directory, output and exit status, as a fresh interpreter would; the server outlives nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.config import reset_settings
from fnrun.errors import RunError
from fnrun.runtimes.launch.runobject import RunObject
from fnrun.runtimes.local import forkserver
from tests.conftest import process_alive

CODE = """
import os, random, signal, sys, time

def facts(context):
    context.log_result("pid", os.getpid())
    context.log_result("ppid", os.getppid())
    context.log_result("cwd", os.getcwd())
    context.log_result("path0", sys.path[0])
    context.log_result("late", os.environ.get("FS_LATE", ""))
    context.log_result("gone", os.environ.get("FS_GONE", ""))
    context.log_result("mine", os.environ.get("FS_MINE", ""))
    context.log_result("random", random.random())
    context.log_result("sid", os.getsid(0))
    print("facts from", os.getpid())

def die(context, how: str = "kill"):
    print("about to die", flush=True)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(7)

def slow(context, n: float = 1.0):
    context.log_result("pid", os.getpid())
    context.log_result("ppid", os.getppid())
    context.commit(completed=False)
    time.sleep(n)
    context.log_result("done", n)
"""


def _fn(tmp_path: Path, kind: str = "job") -> Any:
    path = tmp_path / "fs_code.py"
    path.write_text(CODE)
    return fnrun.code_to_function("fs", filename=str(path), kind=kind, project="fs")


def _server_pid() -> int:
    assert forkserver._server is not None
    return forkserver._server.proc.pid


def _wait_for(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_each_run_is_forked_with_its_own_environment_directory_and_random_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FS_GONE", "set before the server started")
    fn = _fn(tmp_path)
    first = fn.run(handler="facts", local=True, watch=False)
    assert first.state() == "completed"
    server = _server_pid()
    assert first.output("ppid") == server != os.getpid()  # forked by the server, not by us
    assert first.output("gone") == "set before the server started"
    # the caller changes after the server started: each run sees the caller as it is now
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("FS_LATE", "set later")
    monkeypatch.delenv("FS_GONE")
    fn.set_env("FS_MINE", "the function's own")
    second = fn.run(handler="facts", local=True, watch=False)
    assert second.output("ppid") == server  # the same server
    assert second.output("cwd") == second.output("path0") == str(workdir)
    assert second.output("late") == "set later" and second.output("gone") == ""
    assert second.output("mine") == "the function's own"
    assert second.output("pid") != first.output("pid")
    assert second.output("random") != first.output("random")  # not the server's sequence
    assert second.output("sid") == os.getsid(0)  # waited for: in the caller's session
    assert "facts from" in second.logs()


def test_a_watched_run_streams_its_output_and_stays_in_the_callers_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _fn(tmp_path, kind="local").run(handler="facts", watch=True)
    assert run.output("ppid") == _server_pid()
    assert run.output("sid") == os.getsid(0)  # Ctrl-C at the terminal reaches it, as before
    assert f"facts from {run.output('pid')}" in capsys.readouterr().out


def test_switched_off_each_run_gets_a_fresh_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FNRUN_FORK_SERVER", "0")
    reset_settings()
    run = _fn(tmp_path).run(handler="facts", local=True, watch=False)
    assert run.state() == "completed" and run.output("ppid") == os.getpid()


def test_exit_status_and_signal_death_reach_the_run(tmp_path: Path) -> None:
    fn = _fn(tmp_path)
    with pytest.raises(RunError, match="exited with status -9 before finishing") as killed:
        fn.run(handler="die", params={"how": "kill"}, local=True, watch=False)
    assert "about to die" in killed.value.run.logs()
    with pytest.raises(RunError, match="exited with status 7 before finishing"):
        fn.run(handler="die", params={"how": "exit"}, local=True, watch=False)


def test_runs_from_many_threads_at_once_each_get_a_process(tmp_path: Path) -> None:
    fn = _fn(tmp_path)
    fn.run(handler="facts", local=True, watch=False)  # the server is up
    runs: list[Any] = []

    def one() -> None:
        runs.append(fn.run(handler="facts", local=True, watch=False))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.state() for r in runs] == ["completed"] * 6
    assert len({r.output("pid") for r in runs}) == 6
    assert {r.output("ppid") for r in runs} == {_server_pid()}


def test_a_different_interpreter_setup_gets_its_own_server_and_the_old_one_ends(
    tmp_path: Path,
) -> None:
    fn = _fn(tmp_path)
    fn.run(handler="facts", local=True, watch=False)
    assert forkserver._server is not None
    old = forkserver._server.proc
    fn.set_env("PYTHONWARNINGS", "ignore::DeprecationWarning")  # read as an interpreter starts
    run = fn.run(handler="facts", local=True, watch=False)
    assert run.output("ppid") == _server_pid() != old.pid
    assert old.wait(timeout=20) == 0  # no caller, no children: it exited


def test_a_run_whose_server_is_killed_still_completes(tmp_path: Path) -> None:
    fn = _fn(tmp_path)
    run = fn.run(handler="slow", params={"n": 1.0}, local=True, watch=False)  # waits for it
    assert run.state() == "completed"
    server = forkserver._server
    assert server is not None
    result: list[Any] = []
    worker = threading.Thread(
        target=lambda: result.append(
            fn.run(handler="slow", params={"n": 1.5}, local=True, watch=False)
        )
    )
    worker.start()
    db = fnrun.get_run_db()
    _wait_for(lambda: any(r["status"].get("results", {}).get("ppid") == server.proc.pid
                          and "done" not in r["status"]["results"]
                          for r in db.list_runs(project="fs")))  # fmt: skip
    server.proc.kill()  # the child is reparented and goes on; its status is lost
    worker.join(60)
    assert result[0].state() == "completed" and result[0].output("done") == 1.5
    again = fn.run(handler="facts", local=True, watch=False)  # a new server takes over
    assert again.state() == "completed" and again.output("ppid") == _server_pid()


def test_the_server_ends_after_its_caller_and_the_runs_that_outlive_it(tmp_path: Path) -> None:
    path = tmp_path / "fs_code.py"
    path.write_text(CODE)
    script = (
        "import fnrun\n"
        "from fnrun.runtimes.local import forkserver\n"
        f"fn = fnrun.code_to_function('fs', filename={str(path)!r}, kind='job', project='fs')\n"
        "run = fn.run(handler='slow', params={'n': 1.5}, watch=False)\n"
        "print(run.uid(), forkserver._server.proc.pid)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    uid, server = out.stdout.split()
    db = fnrun.get_run_db()
    assert db.read_run(uid, "fs")["status"]["state"] in ("created", "running")
    assert db.read_run(uid, "fs")["status"]["results"].get("ppid", int(server)) == int(server)
    run = RunObject(db.read_run(uid, "fs"), db).wait_for_completion(sleep=0.1, timeout=60)
    assert run.output("done") == 1.5
    _wait_for(lambda: not process_alive(int(server)), timeout=10)


def test_a_run_is_signalled_through_its_own_pid(tmp_path: Path) -> None:
    run = _fn(tmp_path).run(handler="slow", params={"n": 30}, watch=False)
    _wait_for(lambda: "pid" in run.refresh().status.results)
    assert run.status.results["ppid"] == _server_pid()
    assert os.getsid(run.status.results["pid"]) == run.status.results["pid"]  # outlives us
    run.abort()
    run.wait_for_completion(sleep=0.1, timeout=30, raise_on_failure=False)
    assert run.state() == "aborted"
    _wait_for(lambda: not process_alive(run.status.results["pid"]))
    assert process_alive(_server_pid())  # SIGTERM went to the run's process, not the server
