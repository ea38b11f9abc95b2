"""RunStep: each event submits a tracked batch run of a stored function; the step answers with
the run's outputs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.db import get_run_db
from fnrun.errors import InvalidArgumentError

TRAINER = """
def train(context, p1: int = 1, scale: float = 1.0):
    if p1 < 0:
        raise ValueError("p1 must be >= 0")
    context.log_result("accuracy", p1 * scale)
"""


@pytest.fixture
def trainer_url(tmp_path: Path) -> str:
    code = tmp_path / "trainer.py"
    code.write_text(TRAINER)
    fn = fnrun.code_to_function(
        "trainer", filename=str(code), kind="handler", project="rs", handler="train"
    )
    fn.save()
    return "db://rs/trainer"


def _server(url: str, engine: str = "sync", **args: Any) -> Any:
    fn = fnrun.new_function("pipeline", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph.to("RunStep", name="train", function_url=url, params={"scale": 0.5}, **args).respond()
    return fn.to_mock_server()  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_each_event_runs_the_function_and_answers_its_outputs(
    trainer_url: str, engine: str
) -> None:
    server = _server(trainer_url, engine)
    out = server.test("/", body={"p1": 4})
    assert out["state"] == "completed" and out["outputs"] == {"accuracy": 2.0}
    (run,) = [r for r in get_run_db().list_runs(project="rs") if r["metadata"]["uid"] == out["run"]]
    assert run["spec"]["parameters"] == {"scale": 0.5, "p1": 4}


def test_configured_params_win_over_the_event_body(trainer_url: str) -> None:
    out = _server(trainer_url).test("/", body={"p1": 4, "scale": 100.0})
    assert out["outputs"] == {"accuracy": 2.0}  # scale stayed 0.5
    (run,) = [r for r in get_run_db().list_runs(project="rs") if r["metadata"]["uid"] == out["run"]]
    assert run["spec"]["parameters"]["scale"] == 0.5


def test_a_failed_run_fails_the_step_naming_the_run(trainer_url: str) -> None:
    out = _server(trainer_url).test("/", body={"p1": -1}, silent=True)
    assert out.status_code == 500 and out.body["step"] == "train"
    assert "failed: ValueError: p1 must be >= 0" in out.body["message"]
    assert out.body["hint"].startswith("see the logs: fnrun logs ")
    bad = _server(trainer_url).test("/", body=[1, 2], silent=True)
    assert bad.status_code == 400 and "must be an object" in bad.body["message"]


def test_the_async_engine_keeps_serving_while_runs_go(trainer_url: str) -> None:
    server = _server(trainer_url, "async")

    async def many() -> list[Any]:
        return await asyncio.gather(*(server.test_async("/", body={"p1": i}) for i in range(4)))

    outs = asyncio.run(many())
    assert sorted(o["outputs"]["accuracy"] for o in outs) == [0.0, 0.5, 1.0, 1.5]


def test_a_missing_function_fails_when_the_graph_is_built() -> None:
    with pytest.raises(InvalidArgumentError, match="needs function_url="):
        _server("")
    with pytest.raises(fnrun.errors.FnrunError, match="nope"):
        _server("db://rs/nope")


READER = """
def read(context, data=None, factor: int = 1):
    context.log_result("size", len(data.get()) * factor)
"""


@pytest.mark.parametrize("local", [True, False])  # False: a job run, submitted and waited for
def test_a_function_object_of_any_batch_kind_with_body_params_and_inputs(
    tmp_path: Path, local: bool
) -> None:
    from fnrun.serving import RunStep

    code = tmp_path / "reader.py"
    code.write_text(READER)
    data = tmp_path / "data.txt"
    data.write_text("12345")
    reader = fnrun.code_to_function("reader", filename=str(code), kind="job", handler="read")
    fn = fnrun.new_function("pipeline", kind="serving")
    fn.set_topology("flow").to(
        RunStep(function=reader, local=local, params={"factor": 2})
    ).respond()
    server = fn.to_mock_server()
    out = server.test(body={"params": {"factor": 99}, "inputs": {"data": str(data)}})
    assert out["state"] == "completed" and out["outputs"]["size"] == 10  # configured factor wins


def test_wait_false_answers_the_uid_at_once_and_the_run_goes_on(tmp_path: Path) -> None:
    import time

    from fnrun.serving import RunStep

    code = tmp_path / "slow.py"
    code.write_text(
        "import time\ndef slow(context):\n    time.sleep(0.5)\n    context.log_result('done', 1)\n"
    )
    slow = fnrun.code_to_function("slow", filename=str(code), kind="handler", handler="slow")
    fn = fnrun.new_function("pipeline", kind="serving")
    fn.set_topology("flow").to(RunStep(function=slow, wait=False)).respond()
    started = time.monotonic()
    out = fn.to_mock_server().test(body={})
    assert out["state"] == "running" and time.monotonic() - started < 0.4
    db = get_run_db()
    deadline = time.monotonic() + 10
    while db.read_run(out["run"], "default")["status"]["state"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert db.read_run(out["run"], "default")["status"]["results"] == {"done": 1}


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_a_failed_run_goes_through_the_graphs_error_handler(trainer_url: str, engine: str) -> None:
    fn = fnrun.new_function("pipeline", kind="serving")
    graph = fn.set_topology("flow", engine=engine)
    graph.to("RunStep", name="train", function_url=trainer_url).respond()
    graph["train"].error_handler("catch", class_name="tests.graph.steps_for_tests.Catcher")
    out = fn.to_mock_server().test("/", body={"p1": -1})
    assert out["origin"] == "train" and "p1 must be >= 0" in out["caught"]
    assert out["input"] == {"p1": -1}  # the handler sees the event that failed
    (run,) = get_run_db().list_runs(project="rs")
    assert run["status"]["state"] == "error"  # the run itself is recorded as failed


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_a_run_past_the_deadline_is_aborted(tmp_path: Path, engine: str) -> None:
    """A RunStep waiting for its run stops waiting at the deadline, aborts the run (a child
    process: stopped) and answers 504 naming it; one that finishes in time answers as ever."""
    import time

    from fnrun.serving import RunStep

    code = tmp_path / "sleepy.py"
    code.write_text(
        "import time\ndef sleepy(context, s: float = 10.0):\n    time.sleep(s)\n"
        "    context.log_result('slept', s)\n"
    )
    sleepy = fnrun.code_to_function("sleepy", filename=str(code), kind="job", handler="sleepy")
    fn = fnrun.new_function("pipeline", kind="serving")
    fn.set_topology("flow", engine=engine).to(  # type: ignore[attr-defined]
        RunStep(function=sleepy, local=True), name="train"
    ).respond()
    server = fn.to_mock_server()
    start = time.monotonic()
    out = server.test(body={"s": 10}, headers={"x-fnrun-timeout": "3"}, silent=True)
    took = time.monotonic() - start
    assert out.status_code == 504 and out.body["step"] == "train", out.body
    assert took < 3.5  # the answer goes out at the deadline; the step aborts the run meanwhile
    db = get_run_db()
    limit = time.monotonic() + 10
    while [r["status"]["state"] for r in db.list_runs(name="sleepy")] != ["aborted"]:
        assert time.monotonic() < limit, db.list_runs(name="sleepy")[0]["status"]
        time.sleep(0.1)
    quick = server.test(body={"s": 0.1}, headers={"x-fnrun-timeout": "20"})
    assert quick["state"] == "completed" and quick["outputs"]["slept"] == 0.1
