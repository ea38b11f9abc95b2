"""``fn.deploy()`` here: a real uvicorn process, invoked over HTTP, redeployed, stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import FnrunError
from fnrun.runtimes.local.deploy import is_running

pytest.importorskip("uvicorn", reason="uvicorn (fnrun[serve]) not installed")

CODE = """
class Add:
    def __init__(self, context, name=None, n=1):
        self.n = n

    def do(self, body):
        return {"value": body["x"] + self.n, "version": VERSION}

VERSION = {version}
"""

NUCLIO = """
def handler(context, event):
    return context.Response(body={"got": event.body, "path": event.path}, status_code=201,
                            content_type="application/json")
"""


def _fn(tmp_path: Path, version: int) -> fnrun.BaseRuntime:
    code = tmp_path / "adder.py"
    code.write_text(CODE.replace("{version}", str(version)))
    fn = fnrun.code_to_function("adder", filename=str(code), kind="serving", project="dep")
    fn.set_topology("flow").to("Add", name="add", n=10)  # type: ignore[attr-defined]
    return fn


def test_deploy_invoke_redeploy_stop(tmp_path: Path) -> None:
    fn = _fn(tmp_path, 1)
    url = fn.deploy()  # type: ignore[attr-defined]
    try:
        assert url.startswith("http://127.0.0.1:")
        assert fn.invoke("/", {"x": 1}) == {"value": 11, "version": 1}  # type: ignore[attr-defined]
        stored = fnrun.import_function("db://dep/adder")
        assert stored.status.address == url and stored.status.state == "ready"
        with pytest.raises(FnrunError, match="answered 500: 'x'"):
            fn.invoke("/", {"y": 1})  # type: ignore[attr-defined]
        first_pid = fn.status.extra["pid"]
        new = _fn(tmp_path, 2)
        new.status = fn.status
        new.deploy()  # type: ignore[attr-defined]
        assert new.invoke("/", {"x": 5}) == {"value": 15, "version": 2}  # type: ignore[attr-defined]
        assert not is_running(fn) or fn.status.extra["pid"] != first_pid
    finally:
        fn.stop()  # type: ignore[attr-defined]
        new.stop()  # type: ignore[attr-defined]
    assert not is_running(new)
    with pytest.raises(FnrunError, match="cannot reach"):
        new.invoke("/", {"x": 1})  # type: ignore[attr-defined]


def test_cli_deploy_status_stop_for_a_nuclio_handler(tmp_path: Path, fnrun_home: Path) -> None:
    code = tmp_path / "nuclio_fn.py"
    code.write_text(NUCLIO)
    env = {"FNRUN_HOME": str(fnrun_home), "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fnrun", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    proc = cli("deploy", str(code))
    assert proc.returncode == 0, proc.stderr
    fn = fnrun.import_function("db://default/nuclio-fn")
    try:
        assert fn.invoke("/p", {"a": 1}) == {"got": {"a": 1}, "path": "/p"}  # type: ignore[attr-defined]
        status = cli("functions", "status")
        assert "nuclio-fn" in status.stdout and "yes" in status.stdout
        assert "stopped" in cli("functions", "stop", "nuclio-fn").stdout
        assert not is_running(fnrun.import_function("db://default/nuclio-fn"))
    finally:
        fn.stop()  # type: ignore[attr-defined]


def test_deploy_of_a_broken_graph_reports_the_server_output(tmp_path: Path) -> None:
    fn = fnrun.new_function("broken", kind="serving")
    fn.set_topology("flow").to("NoSuchClass", name="x")  # type: ignore[attr-defined]
    with pytest.raises(FnrunError, match="exited with status") as err:
        fn.deploy(timeout=30)  # type: ignore[attr-defined]
    assert "NoSuchClass" in err.value.hint


SLOW = """
import time

def slow(body):
    time.sleep(1.0)
    return {"done": body}
"""


def test_stop_drains_requests_in_flight(tmp_path: Path) -> None:
    import threading

    code = tmp_path / "slow.py"
    code.write_text(SLOW)
    fn = fnrun.code_to_function("slow", filename=str(code), kind="serving", project="dep")
    fn.set_topology("flow").to(handler="slow", name="slow")  # type: ignore[attr-defined]
    fn.deploy()  # type: ignore[attr-defined]
    answers: list[object] = []
    caller = threading.Thread(target=lambda: answers.append(fn.invoke("/", 7)))  # type: ignore[attr-defined]
    try:
        caller.start()
        import time

        time.sleep(0.4)  # the request is inside the slow step now
        assert fn.stop()  # type: ignore[attr-defined]
        caller.join(30)
    finally:
        fn.stop()  # type: ignore[attr-defined]
    assert answers == [{"done": 7}]
