"""RunObject as MLRun's: attribute paths, the same values in-process, in a child process and
read back from the DB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.runtimes.launch.runobject import RunObject

CODE = """
def train(context, p1: int = 1):
    context.log_result("acc", 0.5 + p1 / 10)
    context.log_artifact("table", body="a,b\\n1,2\\n", format="csv")
    context.set_label("team", "ml")
    return p1 * 2
"""


@pytest.fixture
def fn(tmp_path: Path) -> fnrun.BaseRuntime:
    code = tmp_path / "train.py"
    code.write_text(CODE)
    return fnrun.code_to_function("trainer", filename=str(code), kind="job", handler="train")


def _views(fn: fnrun.BaseRuntime, tmp_path: Path) -> dict[str, RunObject]:
    here = fnrun.code_to_function(
        "trainer", filename=str(tmp_path / "train.py"), kind="handler", handler="train"
    )
    in_process = here.run(params={"p1": 3}, name="same")
    child = fn.run(params={"p1": 3}, name="same", local=True)
    db = fnrun.get_run_db()
    meta = child.metadata
    stored = RunObject(db.read_run(meta.uid, meta.project), db)
    return {"in-process": in_process, "child": child, "db": stored}


def test_attribute_paths_match_mlrun(fn: fnrun.BaseRuntime) -> None:
    run = fn.run(params={"p1": 3}, local=True)
    assert run.status.state == "completed" and run.status.error is None
    assert run.status.results == {"acc": 0.8, "return": 6}
    assert run.spec.parameters == {"p1": 3} and run.spec.inputs == {}
    assert run.spec.handler == "train"
    assert run.metadata.uid == run.uid() and run.metadata.name == "trainer"
    assert run.metadata.project == "default" and run.metadata.iteration == 0
    assert run.metadata.labels["team"] == "ml"
    assert run.status.iterations == []
    (doc,) = run.status.artifacts
    assert doc["metadata"]["key"] == "table" and doc["metadata"]["tree"] == run.uid()
    assert run.status["state"] == "completed" and run.metadata["uid"] == run.uid()  # dict access


def test_status_is_the_same_wherever_the_run_ran(fn: fnrun.BaseRuntime, tmp_path: Path) -> None:
    views = _views(fn, tmp_path)
    keys = ("state", "results", "error", "iterations")
    seen = {where: {k: getattr(run.status, k) for k in keys} for where, run in views.items()}
    assert seen["in-process"] == seen["child"] == seen["db"]
    assert views["child"].spec.parameters == views["db"].spec.parameters == {"p1": 3}
    assert views["in-process"].metadata.labels == views["db"].metadata.labels


def test_failed_run_error_reads_the_same(tmp_path: Path) -> None:
    code = tmp_path / "bad.py"
    code.write_text("def boom(context):\n    raise ValueError('nope')\n")
    fn = fnrun.code_to_function("bad", filename=str(code), kind="job", handler="boom")
    with pytest.raises(fnrun.RunError) as failed:
        fn.run(local=True)
    run = failed.value.run
    assert isinstance(run, RunObject)
    assert run.status.state == "error" and "nope" in run.status.error
    assert run.error == run.status.error
    stored = RunObject(fnrun.get_run_db().read_run(run.uid(), "default"))
    assert stored.status.error == run.status.error


def test_show_in_a_narrow_terminal_wraps_a_store_uri_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")

    def handler(context: Any) -> None:
        context.log_artifact("a-rather-long-artifact-key", body="x", format="txt")

    run = fnrun.new_function("narrow", kind="handler").run(handler=handler)
    run.show()
    shown = capsys.readouterr().out
    assert "…" not in shown
    uri = run.outputs["a-rather-long-artifact-key"]
    assert len(uri) > 60
    assert uri in "".join(line.strip(" │") for line in shown.splitlines())  # wrapped, whole
