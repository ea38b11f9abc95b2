"""Runs keep secrets secret and tell the truth about crashes of the run or of its caller."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fnrun
from fnrun.cli import app
from fnrun.config import reset_settings
from fnrun.db import reset_run_dbs
from fnrun.errors import RunError
from tests.conftest import DATA

HOSTILE = DATA / "code" / "hostile.py"
PASSWORD = 'Sëcr"et\\pw-9917'


def _spellings(value: str) -> list[str]:
    return [
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        repr(value.encode())[2:-1],
    ]


def _assert_clean(text: str, where: str) -> None:
    for form in _spellings(PASSWORD):
        assert form not in text, f"secret spelling {form!r} found in {where}"


def _fn(kind: str = "job") -> fnrun.BaseRuntime:
    return fnrun.code_to_function("hostile", filename=str(HOSTILE), kind=kind, project="safe")


@pytest.mark.parametrize("local", [True, False], ids=["child-process", "in-process"])
def test_a_leaked_secret_lands_nowhere(
    local: bool, fnrun_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fn = _fn("job" if local else "handler")
    run = fn.run(handler="leak", secrets={"PASSWORD": PASSWORD}, local=local, watch=True)
    console = capfd.readouterr()
    assert "plain ***" in console.out + console.err  # the handler did print, masked
    _assert_clean(console.out + console.err, "the caller's console")
    assert run.output("copied") == "***" and run.output("nested") == {"inner": ["pw=***"]}
    assert run.to_dict()["metadata"]["labels"]["owner"] == "***"
    _assert_clean(json.dumps(run.to_dict(), ensure_ascii=False), "run.to_dict()")
    _assert_clean(run.to_yaml(), "run.to_yaml()")
    _assert_clean(run.logs(), "the run's logs")
    assert "logger ***" in run.logs()
    listing = CliRunner().invoke(app, ["get", "runs", "--project", "safe"])
    assert listing.exit_code == 0
    _assert_clean(listing.output, "fnrun get runs")
    fnrun.get_run_db().close()  # checkpoint the WAL into the file before grepping it
    db_bytes = b"".join(p.read_bytes() for p in fnrun_home.glob("fnrun.db*"))
    for form in _spellings(PASSWORD):
        assert form.encode() not in db_bytes, f"{form!r} in the run DB file"
    artifact = fnrun.get_run_db().read_artifact("notes", project="safe")
    assert artifact["metadata"]["labels"] == {"who": "***"}


@pytest.fixture(params=["sqlite", "service"])
def backend(
    request: pytest.FixtureRequest, fnrun_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The run DB of the crash tests: the embedded SQLite file, or the fnrun service over one
    (FNRUN_DBPATH=http://..., inherited by every process the test starts)."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    pytest.importorskip("fastapi")
    from fnrun.db.sql.sqldb import SQLRunDB
    from tests.db.restserver import running_service

    sql = SQLRunDB(f"sqlite:///{fnrun_home / 'service.db'}", default_project="default")
    with running_service(sql, token="crash-t0ken") as url:
        monkeypatch.setenv("FNRUN_DBPATH", url)
        monkeypatch.setenv("FNRUN_TOKEN", "crash-t0ken")
        reset_settings()
        reset_run_dbs()
        yield url
        reset_run_dbs()
    sql.close()


def test_a_killed_child_keeps_what_it_committed(backend: str) -> None:
    with pytest.raises(RunError, match="exited with status -9"):
        _fn().run(handler="partial_then_kill", local=True, watch=False)
    (stored,) = fnrun.get_run_db().list_runs(project="safe", name="hostile")
    assert stored["status"]["state"] == "error"
    assert stored["status"]["results"] == {"first": 1, "second": 2}
    assert stored["metadata"]["labels"]["stage"] == "one"
    assert set(stored["status"]["artifact_uris"]) == {"early"}
    assert fnrun.get_dataitem(stored["status"]["artifact_uris"]["early"]).get() == b"kept"


_PARENT = """
import sys, fnrun
in_process = sys.argv[2] == "hang"
kind = "handler" if in_process else "job"
fn = fnrun.code_to_function("hostile", filename=sys.argv[1], kind=kind, project="safe")
fn.run(handler=sys.argv[2], params={"marker": sys.argv[3]}, local=not in_process, watch=True)
"""


def _start_parent(handler: str, marker: Path, fnrun_home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FNRUN_HOME": str(fnrun_home)}
    return subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(HOSTILE), handler, str(marker)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for_run(state: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = fnrun.get_run_db().list_runs(project="safe")
        if runs and runs[0]["status"]["state"] == state:
            return runs[0]
        time.sleep(0.1)
    raise AssertionError(f"no run reached {state!r}: {runs}")


def test_a_child_whose_parent_died_finishes_and_commits(
    tmp_path: Path, fnrun_home: Path, backend: str
) -> None:
    marker = tmp_path / "finished"
    parent = _start_parent("outlive_parent", marker, fnrun_home)
    _wait_for_run("running")
    parent.kill()  # SIGKILL: the pipe the child prints into loses its reader
    parent.wait()
    assert parent.stdout is not None
    parent.stdout.close()
    run = _wait_for_run("completed")
    assert run["status"]["results"] == {"finished": True}
    assert marker.read_text() == "done"
    assert (
        "still here 199" in fnrun.get_run_db().get_log(run["metadata"]["uid"], "safe")[1].decode()
    )


def test_a_run_whose_executor_died_is_marked_error_when_read(
    tmp_path: Path, fnrun_home: Path, backend: str
) -> None:
    proc = _start_parent("hang", tmp_path / "unused", fnrun_home)  # an in-process run
    running = _wait_for_run("running")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = fnrun.get_run_db().read_run(running["metadata"]["uid"], "safe")
    assert stored["status"]["state"] == "error"
    assert "executor exited" in stored["status"]["error"]
    assert fnrun.get_run_db().list_runs(project="safe", state="running") == []
