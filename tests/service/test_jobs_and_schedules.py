"""Job submission, schedules, abort and artifact downloads through the running service (real
uvicorn over a real SQLite DB; each run a real child process the service starts)."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.config import reset_settings
from fnrun.db import reset_run_dbs
from fnrun.db.http import HTTPRunDB
from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import AccessError, IntegrityError, InvalidArgumentError, NotFoundError
from fnrun.model.schedule import SCHEDULE_LABEL
from tests.conftest import process_alive
from tests.db.restserver import running_service, serving_this_process

pytest.importorskip("fastapi")
pytest.importorskip("croniter")
TOKEN = "t0ken-for-jobs"
CODE = textwrap.dedent(
    """
    import time

    def report(context, day: int = 1):
        key = context.get_secret("API_KEY") or ""
        print(f"report for day {day} with key {key[:2]}...")
        context.log_result("rows", day * 10)
        context.log_artifact("summary", body=f"day {day}", format="txt")

    def slow(context):
        print("started", flush=True)
        time.sleep(60)
    """
)


@pytest.fixture
def service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[HTTPRunDB, SQLRunDB]]:
    """The service, and this process as its client (FNRUN_DBPATH=http://...)."""
    with serving_this_process(tmp_path, monkeypatch, TOKEN) as (_url, client, sql):
        yield client, sql


def _function(tmp_path: Path) -> Any:
    path = tmp_path / "report.py"
    path.write_text(CODE)
    return fnrun.code_to_function("report", filename=str(path), kind="job", handler="report")


def _wait(db: Any, uid: str, states: tuple[str, ...] = ("completed", "error", "aborted")) -> Any:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = db.read_run(uid, "default")
        if run["status"].get("state") in states:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {uid} stayed {run['status'].get('state')}")


def test_a_submitted_job_runs_on_the_service(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path
) -> None:
    client, sql = service
    fn = _function(tmp_path)
    pending = client.submit_job(fn.to_dict(), {"params": {"day": 3}})
    uid = pending["metadata"]["uid"]
    assert pending["status"]["state"] == "pending"
    run = _wait(client, uid)
    assert run["status"]["state"] == "completed" and run["status"]["results"]["rows"] == 30
    assert "report for day 3" in sql.get_log(uid, "default")[1].decode()
    fn.save()  # a stored function, by URI
    again = client.submit_job("db://default/report", {"params": {"day": 4}})
    assert _wait(client, again["metadata"]["uid"])["status"]["results"]["rows"] == 40


@pytest.mark.parametrize(
    ("function", "task", "field"),
    [
        ("/etc/passwd", {}, "function"),
        ("http://example.invalid/fn.yaml", {}, "function"),
        ({"kind": "serving", "metadata": {"name": "s"}, "spec": {}}, {}, "function.kind"),
        (None, {"sudo": True}, "task.sudo"),
        (None, {"params": [1, 2]}, "task.params"),
        (None, {"handler": "nope"}, "handler"),
        (None, {"secret_sources": [{"kind": "vault", "source": "x"}]}, "task.secret_sources"),
        (None, {"name": "../up"}, "task.name"),
        (None, {"name": "a/b"}, "task.name"),
        ("project:../x", {}, "project"),
    ],
)
def test_a_bad_submission_is_a_4xx_and_records_nothing(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path, function: Any, task: Any, field: str
) -> None:
    client, sql = service
    project = ""
    if isinstance(function, str) and function.startswith("project:"):
        project, function = function.removeprefix("project:"), None
    doc = _function(tmp_path).to_dict() if function is None else function
    with pytest.raises(InvalidArgumentError) as caught:
        client.submit_job(doc, task, project=project)
    assert caught.value.field == field
    assert sql.list_runs() == [] and sql.list_runs(project=project or None) == []


EXITS = "import os\n\ndef leave(context):\n    print('leaving', flush=True)\n    os._exit(3)\n"


def test_a_submitted_handler_kind_runs_outside_the_service(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path
) -> None:
    """User code never runs in the service's process: ``os._exit`` in a handler-kind job
    ends its own child process, and the service answers on."""
    client, sql = service
    path = tmp_path / "leave.py"
    path.write_text(EXITS)
    fn = fnrun.code_to_function("leave", filename=str(path), kind="handler", handler="leave")
    pending = client.submit_job(fn.to_dict(), {})
    run = _wait(client, pending["metadata"]["uid"])
    assert run["status"]["state"] == "error"
    assert "leaving" in sql.get_log(pending["metadata"]["uid"], "default")[1].decode()
    assert client.list_runs(project="default")  # the service is still there


def test_abort_through_the_service_stops_the_run(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path
) -> None:
    client, sql = service
    pending = client.submit_job(_function(tmp_path).to_dict(), {"handler": "slow"})
    uid = pending["metadata"]["uid"]
    deadline = time.monotonic() + 30
    while b"started" not in sql.get_log(uid, "default")[1]:
        assert time.monotonic() < deadline, "the run did not start"
        time.sleep(0.1)
    run = fnrun.RunObject(client.read_run(uid, "default"), client)
    run.abort()  # through the service, which signals the child it started
    done = _wait(client, uid)
    assert done["status"]["state"] == "aborted"
    assert "SIGTERM" in done["status"]["error"]
    pid = done["status"]["executor"]["pid"]
    deadline = time.monotonic() + 10
    while process_alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.1)


def test_schedules_from_fn_run_to_a_labelled_run(
    service: tuple[HTTPRunDB, SQLRunDB],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from typer.testing import CliRunner

    from fnrun.cli import app

    client, sql = service
    monkeypatch.setenv("API_KEY", "sk-from-the-service-env")  # the service's environment
    fn = _function(tmp_path)
    secret = [{"kind": "env", "source": "API_KEY"}]
    assert fn.run(schedule="*/5 * * * *", params={"day": 2}, secrets=secret) is None
    assert "schedule default/report stored (*/5 * * * *)" in capsys.readouterr().err
    [stored] = sql.list_schedules("default")
    assert stored["spec"]["task"] == {"params": {"day": 2}, "secret_sources": secret}
    cli = CliRunner()
    listed = cli.invoke(app, ["schedules", "list"])
    assert listed.exit_code == 0 and "*/5 * * * *" in listed.output and "report" in listed.output
    started = cli.invoke(app, ["schedules", "run-now", "report"])
    assert started.exit_code == 0, started.output
    uid = started.output.split()[-1]
    run = _wait(client, uid)
    assert run["status"]["results"] == {"rows": 20}
    assert run["metadata"]["labels"][SCHEDULE_LABEL] == "report"
    assert [r["metadata"]["uid"] for r in client.list_runs(labels={SCHEDULE_LABEL: "report"})] == [
        uid
    ]
    log = sql.get_log(uid, "default")[1].decode()
    assert "with key sk..." in log and "sk-from-the-service-env" not in log
    assert client.get_schedule("report")["status"]["runs"] == 1
    assert cli.invoke(app, ["schedules", "delete", "report"]).exit_code == 0
    with pytest.raises(NotFoundError):
        client.get_schedule("report")
    assert client.read_run(uid, "default")["status"]["state"] == "completed"  # runs stay


def test_schedules_survive_a_service_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    fn = _function(tmp_path)
    first = SQLRunDB(url, default_project="default")
    with running_service(first, token=TOKEN) as address:
        HTTPRunDB(address, token=TOKEN).store_schedule(
            {"metadata": {"name": "report"},
             "spec": {"cron": "0 3 * * *", "function": fn.to_dict(), "task": {}}},
        )  # fmt: skip
    planned = first.get_schedule("report", "default")["status"]["next_run_time"]
    first.close()
    again = SQLRunDB(url, default_project="default")
    with running_service(again, token=TOKEN) as address:
        [doc] = HTTPRunDB(address, token=TOKEN).list_schedules()
    assert doc["status"]["next_run_time"] == planned and doc["spec"]["cron"] == "0 3 * * *"
    again.close()


def test_schedules_refuse_secret_values_and_need_the_service(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _client, sql = service
    fn = _function(tmp_path)
    with pytest.raises(InvalidArgumentError, match="cannot keep secret values"):
        fn.run(schedule="*/5 * * * *", secrets={"API_KEY": "sk-inline"})
    with pytest.raises(InvalidArgumentError) as bad_cron:
        fn.run(schedule="every 5 minutes")
    assert bad_cron.value.field == "schedule"
    with pytest.raises(InvalidArgumentError, match="overlap") as bad_policy:
        fn.run(schedule={"cron": "* * * * *", "overlap": "queue"})
    assert bad_policy.value.field == "spec.overlap"
    assert sql.list_schedules() == []
    monkeypatch.delenv("FNRUN_DBPATH")  # no service: the embedded SQLite DB
    reset_settings()
    reset_run_dbs()
    with pytest.raises(InvalidArgumentError, match="fnrun service") as local:
        fn.run(schedule="*/5 * * * *")
    assert "FNRUN_DBPATH=http://" in local.value.hint


def test_artifact_downloads_never_leave_the_store(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path
) -> None:
    client, _sql = service
    fn = _function(tmp_path)
    fn.run(params={"day": 5}, local=True)
    assert client.download_artifact("summary") == b"day 5"
    outside = tmp_path / "outside.txt"
    outside.write_text("host file")
    planted = {"kind": "artifact", "metadata": {"key": "planted"},
               "spec": {"target_path": str(outside)}}  # fmt: skip
    client.store_artifact("planted", planted, uid="u1")
    with pytest.raises(AccessError, match="outside the service's artifact store"):
        client.download_artifact("planted")
    doc = client.read_artifact("summary")
    stored = Path(doc["spec"]["target_path"])
    folder = stored.parent / "model-dir"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"weights")
    (folder / "link").symlink_to(outside)
    as_dir = {"kind": "model", "metadata": {"key": "model"}, "spec": {"target_path": str(folder)}}
    client.store_artifact("model", as_dir, uid="u2")
    assert client.download_artifact("model", path="model.bin") == b"weights"
    for bad in ("../outside.txt", "/etc/passwd", "link", "a/../../x"):
        with pytest.raises(AccessError, match="leaves the artifact"):
            client.download_artifact("model", path=bad)
    with pytest.raises(InvalidArgumentError, match="is a directory"):
        client.download_artifact("model")
    stored.write_text("tampered")  # the bytes changed after the run logged them
    with pytest.raises(IntegrityError):
        client.download_artifact("summary")


def test_the_hub_through_the_service_and_a_hub_function_submitted(
    service: tuple[HTTPRunDB, SQLRunDB], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    client, _sql = service
    monkeypatch.setenv("FNRUN_HUB_SOURCES", "fnrun=bundled")
    api = httpx.Client(base_url=f"{client.url}/api/v1",
                       headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    listing = api.get("/hub/items", params={"text": "dataset"}).json()
    names = {row["name"] for row in listing["items"]}
    assert {"make_dataset", "sklearn_dataset", "profile_dataset"} <= names
    assert listing["unreachable"] == []
    item = api.get("/hub/items/make_dataset").json()
    assert item["uri"].startswith("hub://fnrun/make_dataset:") and len(item["sha256"]) == 64
    assert item["function"]["kind"] == "job"
    missing = api.get("/hub/items/make_datasett")
    assert missing.status_code == 404 and "make_dataset" in missing.json()["hint"]
    assert api.get("/hub/items/x", params={"tag": "no such tag!"}).status_code == 400
    pending = client.submit_job("hub://make_dataset", {"params": {"n_samples": 50}})
    run = _wait(client, pending["metadata"]["uid"])
    assert run["status"]["state"] == "completed", run["status"].get("error")
    assert "dataset" in run["status"]["artifact_uris"]


DRIVER = """
import os

def square(x):
    return x * x

def total(context, n: int = 4):
    client = context.dask_client
    context.log_result("total", sum(client.gather(client.map(square, range(n)))))
    context.log_result("pid", os.getpid())
"""


@pytest.mark.integration
def test_a_dask_kind_job_drives_its_cluster_from_a_child_process(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path
) -> None:
    """The Dask kind's handler runs where fn.run is called (as the cluster's client): on the
    service that is a child process of its own, never the service."""
    pytest.importorskip("distributed", reason="dask[distributed] (the dask extra)")
    client, _sql = service
    path = tmp_path / "sums.py"
    path.write_text(DRIVER)
    fn = fnrun.code_to_function("sums", filename=str(path), kind="dask", handler="total")
    fn.spec.replicas = 1
    pending = client.submit_job(fn.to_dict(), {"params": {"n": 5}})
    run = _wait(client, pending["metadata"]["uid"])
    assert run["status"]["state"] == "completed", run["status"]
    assert run["status"]["results"]["total"] == 30
    assert run["status"]["results"]["pid"] != os.getpid()  # not the service's process
