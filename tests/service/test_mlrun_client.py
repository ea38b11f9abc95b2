"""MLRun's own SDK (the real ``mlrun`` package, in a virtualenv of its own) with
``MLRUN_DBPATH`` at the fnrun service on PostgreSQL: its local job's function, run, results,
log and artifact are recorded in fnrun's DB, and fnrun's CLI and client read them back."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import fnrun
from fnrun.cli import app
from fnrun.config import reset_settings
from fnrun.db import reset_run_dbs
from fnrun.db.sql.sqldb import SQLRunDB
from tests.conftest import require_service
from tests.db.conftest import _postgres_db
from tests.db.restserver import running_service

pytestmark = pytest.mark.integration
pytest.importorskip("fastapi")
TOKEN = "mlrun-client-t0ken"
SECRET = "sk-mlrun-secret-never-stored"

HANDLER = textwrap.dedent(
    """
    def train(context, p: int = 1):
        print(f"training p={p} key={context.get_secret('API_KEY')[:3]}")
        context.log_result("score", p * 2)
        context.log_artifact("notes", body=f"p was {p}", format="txt")
    """
)
SCRIPT = textwrap.dedent(
    f"""
    import json, mlrun
    fn = mlrun.code_to_function("trainer", filename="train.py", kind="job", handler="train")
    task = mlrun.new_task(params={{"p": 4}}).with_secrets("inline", {{"API_KEY": "{SECRET}"}})
    run = fn.run(task, local=True)
    db = mlrun.get_run_db()
    listed = db.list_runs(project="default")
    state, log = db.get_log(run.metadata.uid, "default")
    print("RESULT " + json.dumps({{
        "uid": run.metadata.uid, "state": run.state(), "outputs": run.outputs,
        "listed": [r["metadata"]["uid"] for r in listed], "log_state": state,
        "log": log.decode(), "artifact": run.artifact("trainer-train_notes").get().decode(),
        "read": db.read_run(run.metadata.uid, "default")["status"]["results"],
    }}))
    try:
        db.get_project("no-such-project")
    except mlrun.errors.MLRunNotFoundError as exc:
        print("NOTFOUND " + str(exc))
    """
)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, SQLRunDB]]:
    for sql in _postgres_db():
        with running_service(sql, token=TOKEN) as url:
            yield url, sql


def _mlrun(python: str, url: str, workdir: Path, token: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FNRUN_", "MLRUN_"))}
    env.update(MLRUN_DBPATH=url, MLRUN_HTTPDB__TOKEN=token, MLRUN_LOG_LEVEL="WARNING",
               MLRUN_ARTIFACT_PATH=str(workdir / "artifacts"))  # fmt: skip
    return subprocess.run([python, "-c", SCRIPT], cwd=workdir, env=env, text=True,
                          capture_output=True, timeout=300)  # fmt: skip


def _result(out: str, tag: str) -> Any:
    [line] = [ln for ln in out.splitlines() if ln.startswith(tag + " ")]
    return line[len(tag) + 1 :]


def test_mlruns_sdk_records_its_local_run_in_fnrun(
    service: tuple[str, SQLRunDB], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = require_service("FNRUN_TEST_MLRUN_PYTHON", "a Python with the mlrun package")
    url, sql = service
    (tmp_path / "train.py").write_text(HANDLER)
    done = _mlrun(python, url, tmp_path, TOKEN)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(_result(done.stdout, "RESULT"))
    uid = seen["uid"]
    assert seen["state"] == "completed" and seen["outputs"]["score"] == 8
    assert seen["listed"] == [uid] and seen["read"] == {"score": 8}
    assert seen["log_state"] == "completed" and "training p=4 key=sk-" in seen["log"]
    assert seen["artifact"] == "p was 4"
    assert "project 'no-such-project' not found" in _result(done.stdout, "NOTFOUND")

    stored = sql.read_run(uid, "default")  # in fnrun's own DB (PostgreSQL)
    assert stored["status"]["state"] == "completed" and stored["status"]["results"]["score"] == 8
    assert stored["metadata"]["name"] == "trainer-train"
    assert "training p=4" in sql.get_log(uid, "default")[1].decode()
    assert sql.get_function("trainer", "default")["spec"]["build"]["functionSourceCode"]
    everything = json.dumps([stored, sql.list_artifacts(project="default")])
    assert SECRET not in everything and SECRET not in sql.get_log(uid, "default")[1].decode()

    monkeypatch.setenv("FNRUN_DBPATH", url)  # fnrun's own client and CLI see MLRun's run
    monkeypatch.setenv("FNRUN_TOKEN", TOKEN)
    reset_settings()
    reset_run_dbs()
    listing = CliRunner().invoke(app, ["get", "runs", "--project", "default"])
    assert listing.exit_code == 0 and uid[:8] in listing.output
    logs = CliRunner().invoke(app, ["logs", uid])
    assert logs.exit_code == 0 and "training p=4" in logs.output
    item = fnrun.get_dataitem("store://artifacts/default/trainer-train_notes")
    assert item.get() == b"p was 4"
    reset_run_dbs()


def test_mlruns_sdk_without_the_token_is_refused(
    service: tuple[str, SQLRunDB], tmp_path: Path
) -> None:
    python = require_service("FNRUN_TEST_MLRUN_PYTHON", "a Python with the mlrun package")
    url, sql = service
    (tmp_path / "train.py").write_text(HANDLER)
    done = _mlrun(python, url, tmp_path, "wrong-token")
    assert done.returncode != 0
    assert "401" in done.stderr or "Unauthorized" in done.stderr or "token" in done.stderr
    assert sql.list_runs() == []
