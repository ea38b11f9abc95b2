"""What a new user trips on in the CLI: a state no run has, cut uids and URIs, and where
``fnrun serve`` listens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import fnrun
from fnrun.cli import app

runner = CliRunner()


def train(context: Any, p: int = 1) -> None:
    context.log_result("p", p)
    context.log_artifact("a-rather-long-artifact-key-name", body=b"x", local_path="deep.txt")


def test_a_state_no_run_has_fails_with_the_states_and_a_guess() -> None:
    done = runner.invoke(app, ["get", "runs", "--state", "complete"])
    assert done.exit_code != 0  # `fnrun` prints it on one line and exits 2
    said = str(done.exception)
    assert "did you mean 'completed'?" in said and "pendingRetry" in said
    assert runner.invoke(app, ["get", "runs", "--state", "completed"]).exit_code == 0


def test_uids_uris_and_paths_are_never_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    from fnrun.cli_common import console

    run = fnrun.new_function("t", kind="handler", project="wide").run(handler=train)
    monkeypatch.setattr(console, "_width", 80)  # a narrow terminal
    wide = runner.invoke(app, ["get", "runs", "--wide", "-p", "wide"]).output
    assert run.uid() in wide
    short = runner.invoke(app, ["get", "runs", "-p", "wide"]).output
    assert run.uid()[:8] in short and run.uid() not in short  # the prefix, on purpose
    listed = runner.invoke(app, ["get", "artifacts", "-p", "wide"]).output
    assert "…" not in listed  # folded onto more lines, never cut
    rows = [line.split("│")[1:-1] for line in listed.splitlines() if line.startswith("│")]
    key, target = ("".join(r[i].strip() for r in rows) for i in (1, 5))  # folded pieces
    assert key == "a-rather-long-artifact-key-name"
    doc = fnrun.get_run_db().read_artifact(key, project="wide")
    assert target == doc["spec"]["target_path"]


def test_fnrun_serve_says_where_it_listens_in_a_pipe(tmp_path: Path) -> None:
    from tests.conftest import free_port

    doc = tmp_path / "fn.yaml"
    doc.write_text(
        "kind: serving\nmetadata: {name: echo}\nspec:\n  graph:\n    kind: flow\n    steps:\n"
        "      a: {kind: task, handler: '(event)', responder: true}\n"
    )
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fnrun", "serve", str(doc), "--port",
                             str(port)], stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(30)
    assert line.strip() == (
        f"fnrun serve: echo (flow graph of 1 step) at http://127.0.0.1:{port} with 1 worker"
    )
