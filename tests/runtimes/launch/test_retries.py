"""``fn.run(retry=...)``: a run killed under it runs again, a bug does not; every attempt is
kept on the one run, its results are the last attempt's, its log has every attempt."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, RunError
from fnrun.execution.retry import (
    CODE,
    INFRASTRUCTURE,
    RetryPolicy,
    fault_of_exception,
    fault_of_exit,
)
from fnrun.notebook.run_card import run_card

CODE_TEXT = """
import os, pathlib, signal, time

def flaky(context, marker: str, fail: int = 2, how: str = "kill", wait: float = 0):
    path = pathlib.Path(marker)
    n = int(path.read_text()) if path.exists() else 0
    path.write_text(str(n + 1))
    print(f"attempt {n + 1} starting")
    context.log_result(f"seen_{n + 1}", n + 1)
    context.log_artifact(f"notes_{n + 1}", body=f"attempt {n + 1}", local_path=f"n{n + 1}.txt")
    time.sleep(wait)
    if n < fail:
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        raise ValueError(f"a bug on attempt {n + 1}")
    return n + 1
"""


@pytest.fixture
def flaky(tmp_path: Path) -> Any:
    path = tmp_path / "flaky.py"
    path.write_text(CODE_TEXT)
    return fnrun.code_to_function("flaky", filename=str(path), kind="job", handler="flaky")


def _doc(run: Any) -> dict[str, Any]:
    return fnrun.get_run_db().read_run(run.uid(), run.metadata["project"])


def test_policy_forms_and_errors() -> None:
    assert RetryPolicy.from_any(None) is None and RetryPolicy.from_any(0) is None
    assert RetryPolicy.from_any(2) == RetryPolicy(2, 1.0, INFRASTRUCTURE)
    assert RetryPolicy.from_any({"count": 1, "backoff": 0.5, "on": "any"}) == RetryPolicy(
        1, 0.5, "any"
    )
    mlrun_form = {"count": 3, "backoff": {"base_delay": "1h 30m"}}  # MLRun's Retry.to_dict()
    assert RetryPolicy.from_any(mlrun_form) == RetryPolicy(3, 5400.0)
    assert RetryPolicy.from_any({"count": 1, "backoff": "2m"}).backoff == 120.0  # type: ignore[union-attr]
    policy = RetryPolicy(5, 10.0)
    assert [policy.delay(n) for n in (1, 2, 3, 6)] == [10.0, 20.0, 40.0, 300.0]
    for bad, field in (
        ("two", "retry"),
        ({"count": -1}, "retry.count"),
        ({"count": 1, "on": "bugs"}, "retry.on"),
        ({"count": 1, "backoff": "soon"}, "retry.backoff"),
        ({"count": 1, "tries": 3}, "retry.tries"),
    ):
        with pytest.raises(InvalidArgumentError) as err:
            RetryPolicy.from_any(bad)
        assert err.value.field == field


def test_whose_fault() -> None:
    assert fault_of_exit(-int(signal.SIGKILL)) == INFRASTRUCTURE
    assert fault_of_exit(-int(signal.SIGTERM)) == INFRASTRUCTURE
    assert fault_of_exit(137) == INFRASTRUCTURE  # a shell's SIGKILL
    assert fault_of_exit(-int(signal.SIGSEGV)) == CODE  # a crash in native code
    assert fault_of_exit(3) == CODE  # os._exit(3)
    assert fault_of_exit(3, limit_enforced=True) == INFRASTRUCTURE

    class KilledWorker(Exception):  # distributed's, by name: the engines are optional
        pass

    assert fault_of_exception(KilledWorker("lost")) == INFRASTRUCTURE
    assert fault_of_exception(ValueError("bug")) == CODE


def test_a_killed_run_runs_again_and_keeps_every_attempt(flaky: Any, tmp_path: Path) -> None:
    marker = str(tmp_path / "m")
    run = flaky.run(params={"marker": marker}, retry={"count": 3, "backoff": 0.05}, local=True)
    assert run.state() == "completed" and run.output("return") == 3
    assert run.status.results == {"seen_3": 3, "return": 3}  # the last attempt's only
    assert set(run.outputs) == {"notes_3", "seen_3", "return"}
    doc = _doc(run)
    attempts = doc["status"]["attempts"]
    assert doc["status"]["retry_count"] == 2 and len(attempts) == 3
    assert [a["state"] for a in attempts] == ["error", "error", "completed"]
    assert {a["fault"] for a in attempts[:2]} == {INFRASTRUCTURE}
    assert "exited with status -9" in attempts[0]["error"]
    assert all(a["start_time"] <= a["end_time"] for a in attempts)
    assert doc["spec"]["retry"] == {"count": 3, "backoff": 0.05, "on": "infrastructure"}
    log = run.logs()
    assert [line for line in log.splitlines() if "starting" in line] == [
        "attempt 1 starting",
        "attempt 2 starting",
        "attempt 3 starting",
    ]
    assert "--- fnrun: attempt 2 of 4 (attempt 1 ended: infrastructure failure" in log
    card = run_card(run)
    assert "3 attempts" in card and card.count(">infrastructure<") == 2


def test_a_bug_is_not_retried_unless_asked(flaky: Any, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="a bug on attempt 1") as err:
        flaky.run(params={"marker": str(tmp_path / "a"), "how": "raise"}, retry=3, local=True)
    doc = _doc(err.value.run)
    assert [(a["state"], a["fault"]) for a in doc["status"]["attempts"]] == [("error", CODE)]
    assert doc["status"]["retry_count"] == 0
    with pytest.raises(RunError, match="status -11") as err:  # a native crash is the code's
        flaky.run(params={"marker": str(tmp_path / "s"), "how": "segv"}, retry=2, local=True)
    assert [a["fault"] for a in _doc(err.value.run)["status"]["attempts"]] == [CODE]
    run = flaky.run(
        params={"marker": str(tmp_path / "b"), "how": "raise", "fail": 1},
        retry={"count": 1, "backoff": 0, "on": "any"},
        local=True,
    )
    assert run.state() == "completed" and _doc(run)["status"]["retry_count"] == 1


def test_retries_run_out_with_the_last_error(flaky: Any, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="exited with status -9") as err:
        flaky.run(params={"marker": str(tmp_path / "c"), "fail": 5}, retry={"count": 1,
                  "backoff": 0}, local=True)  # fmt: skip
    status = _doc(err.value.run)["status"]
    assert len(status["attempts"]) == 2 and status["status_text"] == "failed after 2 attempts"


def test_the_memory_limit_enforced_is_retried(tmp_path: Path) -> None:
    path = tmp_path / "hog.py"
    path.write_text(
        "import pathlib, time\n"
        "def hog(context, marker: str):\n"
        "    p = pathlib.Path(marker)\n"
        "    n = int(p.read_text()) if p.exists() else 0\n"
        "    p.write_text(str(n + 1))\n"
        "    if n == 0:\n"
        "        held = [bytearray(10 * 2**20) for _ in range(40)]\n"
        "        time.sleep(5)\n"
        "    return n + 1\n"
    )
    fn = fnrun.code_to_function("hog", filename=str(path), kind="job", handler="hog")
    fn.with_limits(mem="150Mi")
    run = fn.run(params={"marker": str(tmp_path / "h")}, retry={"count": 1, "backoff": 0},
                 local=True)  # fmt: skip
    (first, second) = _doc(run)["status"]["attempts"]
    assert first["fault"] == INFRASTRUCTURE and "OOMKilled" in first["error"]
    assert second["state"] == "completed" and run.output("return") == 2


def test_an_abort_while_waiting_for_the_retry_ends_it(flaky: Any, tmp_path: Path) -> None:
    from fnrun.runtimes.launch.abort import abort_run

    marker = tmp_path / "d"
    result: dict[str, Any] = {}

    def go() -> None:
        try:
            flaky.run(params={"marker": str(marker), "fail": 5}, retry={"count": 5,
                      "backoff": 3}, local=True, watch=False)  # fmt: skip
        except RunError as exc:
            result["run"] = exc.run

    thread = threading.Thread(target=go)
    thread.start()
    db = fnrun.get_run_db()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = db.list_runs(name="flaky")
        if runs and runs[0]["status"]["state"] == "pendingRetry":
            break
        time.sleep(0.05)
    assert "retrying in 3 s" in runs[0]["status"]["status_text"]
    aborted = abort_run(db, runs[0]["metadata"]["uid"], runs[0]["metadata"]["project"])
    assert "its retry was not started" in aborted["status"]["error"]
    thread.join(30)
    assert not thread.is_alive()
    assert marker.read_text() == "1"  # never run again
    assert (
        db.read_run(runs[0]["metadata"]["uid"], runs[0]["metadata"]["project"])["status"]["state"]
        == "aborted"
    )


def test_each_hyper_parameter_iteration_retries_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "iters.py"
    path.write_text(
        "import os, pathlib, signal\n"
        "def it(context, x: int, folder: str):\n"
        "    p = pathlib.Path(folder) / f'x{x}'\n"
        "    first = not p.exists()\n"
        "    p.write_text('seen')\n"
        "    if first and x == 2:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    context.log_result('score', x * 10)\n"
    )
    fn = fnrun.code_to_function("iters", filename=str(path), kind="job", handler="it")
    run = fn.run(params={"folder": str(tmp_path)}, hyperparams={"x": [1, 2, 3]},
                 retry={"count": 1, "backoff": 0}, local=True)  # fmt: skip
    assert run.state() == "completed"
    db = fnrun.get_run_db()
    second = db.read_run(run.uid(), run.metadata["project"], 2)
    assert second["status"]["retry_count"] == 1 and second["status"]["results"]["score"] == 20
    assert db.read_run(run.uid(), run.metadata["project"], 1)["status"]["retry_count"] == 0


def test_run_step_passes_retry_through(flaky: Any, tmp_path: Path) -> None:
    from fnrun.graph.run_step import RunStep

    with pytest.raises(InvalidArgumentError, match="retry count"):
        RunStep(function=flaky, handler="flaky", retry={"count": "x"})
    srv = fnrun.new_function("runner", kind="serving")
    srv.set_topology("flow", engine="sync").to(  # type: ignore[attr-defined]
        RunStep(function=flaky, handler="flaky", retry={"count": 2, "backoff": 0}, local=True)
    ).respond()
    out = srv.to_mock_server().test("/", {"marker": str(tmp_path / "e")})  # type: ignore[attr-defined]
    assert out["state"] == "completed"
    doc = fnrun.get_run_db().read_run(out["run"], "")
    assert doc["status"]["retry_count"] == 2


def test_hostile_attempt_errors_are_text_in_the_card_and_cli(tmp_path: Path) -> None:
    from rich.console import Console

    from fnrun.cli_runs import run_detail

    doc = {
        "metadata": {"name": "x", "uid": "u" * 32, "project": "p"},
        "spec": {},
        "status": {
            "state": "completed",
            "retry_count": 1,
            "attempts": [
                {"attempt": 1, "state": "error", "fault": "infrastructure",
                 "error": "<script>alert(1)</script> [link=http://evil]click[/link]"},
                {"attempt": 2, "state": "completed"},
            ],
        },
    }  # fmt: skip
    console = Console(record=True, width=200)
    console.print(run_detail(doc))
    text = console.export_text()
    assert "[link=http://evil]click[/link]" in text  # printed as written, not a link

    class Run:
        metadata, spec, status = doc["metadata"], doc["spec"], doc["status"]
        error = ""

        def state(self) -> str:
            return "completed"

        def logs(self) -> str:
            return ""

        def artifact(self, key: str) -> Any:
            raise KeyError(key)

    card = run_card(Run())  # type: ignore[arg-type]
    assert "<script>" not in card and "&lt;script&gt;" in card  # the web UI's template too
