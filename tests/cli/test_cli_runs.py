"""The run commands a person lives in: uid prefixes in any project, get run, logs, get runs
filters, delete run(s) with their files, and fnrun run printing the uid as it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import fnrun
from fnrun.cli import app
from fnrun.db.cleanup import resolve_run
from fnrun.errors import InvalidArgumentError, NotFoundError
from tests.conftest import DATA

runner = CliRunner()
JOBS = str(DATA / "code" / "jobs.py")


def _run(project: str = "c", **params: int) -> fnrun.RunObject:
    fn = fnrun.code_to_function("jobs", filename=JOBS, project=project)
    return fn.run(handler="echo", params=params, labels={"team": project}, local=True, watch=False)


def test_uid_prefix_resolves_in_any_project() -> None:
    run = _run("far-away", p1=2)
    db = fnrun.get_run_db()
    assert resolve_run(db, run.uid()[:6]) == (run.uid(), "far-away")
    with pytest.raises(NotFoundError, match="no run 'ffffffff'"):
        resolve_run(db, "ffffffff")
    with pytest.raises(InvalidArgumentError, match="too short"):
        resolve_run(db, "ab")


def test_an_ambiguous_prefix_lists_the_candidates() -> None:
    db = fnrun.get_run_db()
    first = _run()
    doc = db.read_run(first.uid(), "c")
    twin = first.uid()[:5] + "0" * 27
    doc["metadata"]["uid"] = twin
    db.store_run(doc, twin, "c")
    with pytest.raises(InvalidArgumentError, match="2 runs start with"):
        resolve_run(db, first.uid()[:5])


def test_get_run_and_logs_need_no_project() -> None:
    run = _run("proj-x", p1=4)
    out = runner.invoke(app, ["get", "run", run.uid()[:8]])
    assert out.exit_code == 0, out.output
    assert run.uid() in out.output and "p1=4" in out.output and "double=8" in out.output
    logs = runner.invoke(app, ["logs", run.uid()[:8]])
    assert "p1=4 p2=x" in logs.output


def test_get_runs_filters_by_label_state_and_since() -> None:
    a, b = _run("alpha", p1=1), _run("beta", p1=2)
    out = runner.invoke(app, ["get", "runs", "--label", "team=beta", "--show", "params,labels"])
    assert b.uid()[:8] in out.output and a.uid()[:8] not in out.output
    assert "p1=2" in out.output and "team=beta" in out.output
    later = runner.invoke(app, ["get", "runs", "--since", "2099-01-01"]).output
    assert a.uid()[:8] not in later and b.uid()[:8] not in later
    recent = runner.invoke(app, ["get", "runs", "--since", "1h", "--state", "completed"]).output
    assert a.uid()[:8] in recent and b.uid()[:8] in recent
    bad = runner.invoke(app, ["get", "runs", "--show", "colour"])
    assert bad.exit_code != 0 and "unknown --show columns" in str(bad.exception)


def test_delete_run_removes_records_logs_and_files() -> None:
    fn = fnrun.code_to_function("jobs", filename=JOBS, project="d")
    run = fn.run(handler="make_files", local=True, watch=False)
    db = fnrun.get_run_db()
    targets = [Path(a["spec"]["target_path"]) for a in db.list_artifacts(project="d", tag="*")]
    assert targets and all(t.exists() for t in targets)
    out = runner.invoke(app, ["delete", "run", run.uid()[:8], "--yes"])
    assert out.exit_code == 0, out.output
    assert not any(t.exists() for t in targets)
    assert db.list_runs(project="d") == [] and db.list_artifacts(project="d", tag="*") == []
    assert db.get_log(run.uid(), "d")[1] == b""


def test_delete_keeps_files_outside_the_runs_folder(tmp_path: Path) -> None:
    outside = tmp_path / "keep.txt"
    outside.write_text("mine")

    def handler(context: fnrun.RunContext) -> None:
        context.log_artifact(
            "kept", local_path=str(outside), target_path=str(outside), upload=False
        )

    run = fnrun.new_function("keeper", kind="handler", project="k").run(handler=handler)
    out = runner.invoke(app, ["delete", "run", run.uid()[:8], "--yes"])
    assert "kept" in out.output and outside.read_text() == "mine"


def test_delete_runs_of_a_project_asks_first() -> None:
    _run("gone"), _run("gone"), _run("stays")
    refused = runner.invoke(app, ["delete", "runs", "--project", "gone"], input="n\n")
    assert refused.exit_code == 1 and len(fnrun.get_run_db().list_runs(project="gone")) == 2
    done = runner.invoke(app, ["delete", "runs", "--project", "gone"], input="y\n")
    assert done.exit_code == 0 and fnrun.get_run_db().list_runs(project="gone") == []
    assert len(fnrun.get_run_db().list_runs(project="stays")) == 1


def test_fnrun_run_prints_the_uid_as_it_starts() -> None:
    out = runner.invoke(app, ["run", JOBS, "--handler", "echo", "-p", "p1=5", "--local"])
    assert out.exit_code == 0, out.output
    (uid,) = [r["metadata"]["uid"] for r in fnrun.get_run_db().list_runs()]
    lines = out.output.splitlines()
    assert lines[0] == f"run jobs {uid} started in project default, in this process"
    assert any(line.startswith(f"run jobs {uid} completed in ") for line in lines)


def test_fnrun_run_runs_in_its_own_process_unless_asked_for_a_child() -> None:
    import os

    here = runner.invoke(app, ["run", JOBS, "--handler", "echo", "--local"])
    child = runner.invoke(app, ["run", JOBS, "--handler", "echo", "--local", "--subprocess"])
    assert here.exit_code == 0 and child.exit_code == 0, here.output + child.output
    pids = [r["status"]["executor"]["pid"] for r in fnrun.get_run_db().list_runs()]
    assert sorted(pid == os.getpid() for pid in pids) == [False, True]


def test_delete_never_follows_a_record_out_of_the_runs_folder(tmp_path: Path) -> None:
    from fnrun.db.cleanup import delete_run

    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "data.txt").write_text("keep me")
    run = _run("evil")
    db = fnrun.get_run_db()
    escape = tmp_path / run.uid() / ".." / "precious"  # names the uid, then climbs out
    for key, target in (("climb", str(escape)), ("plain", str(victim))):
        db.store_artifact(
            key, {"kind": "artifact", "spec": {"target_path": target}}, run.uid(), project="evil"
        )
    report = delete_run(db, run.uid(), "evil")
    assert (victim / "data.txt").read_text() == "keep me"
    assert sorted(report.kept) == sorted([str(escape), str(victim)]) and report.removed == []
