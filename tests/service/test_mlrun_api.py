"""MLRun's REST API on the fnrun service, spoken as MLRun's client speaks it (its header, its
paths and answer shapes), without the mlrun package: routing by the client's header, the
empty project segment, errors MLRun's client can read, inline secret values masked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from tests.db.restserver import running_service

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
TOKEN = "mlrun-api-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MLRUN = {**AUTH, "x-mlrun-client-version": "1.12.1"}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Any, SQLRunDB]]:
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with running_service(sql, token=TOKEN) as url, httpx.Client(base_url=url) as client:
        yield client, sql
    sql.close()


def test_the_clients_header_picks_the_api(service: tuple[Any, SQLRunDB]) -> None:
    client, sql = service
    sql.store_project("ml")
    assert client.get("/api/v1/client-spec", headers=MLRUN).json()["version"] == "1.12.1"
    assert client.get("/api/v1/client-spec", headers=AUTH).status_code == 404  # fnrun's API
    assert isinstance(client.get("/api/v1/projects", headers=AUTH).json(), list)
    mlrun_projects = client.get("/api/v1/projects", headers=MLRUN).json()["projects"]
    assert [p["metadata"]["name"] for p in mlrun_projects] == ["ml"]
    assert (
        client.get("/api/v1/projects", headers={"x-mlrun-client-version": "1"}).status_code == 401
    )


def test_runs_logs_functions_and_errors_as_mlruns_client_reads_them(
    service: tuple[Any, SQLRunDB],
) -> None:
    client, sql = service
    function = {"kind": "job", "metadata": {"name": "f"}, "spec": {"command": "f.py"}}
    stored = client.post("/api/v1/projects//functions/f", params={"versioned": "True"},
                         content=json.dumps(function), headers=MLRUN)  # fmt: skip
    assert stored.json()["hash_key"] and sql.get_function("f", "default")["kind"] == "job"
    secret = "sk-inline-value"
    run = {"metadata": {"name": "r", "uid": "u1"},
           "spec": {"secret_sources": [{"kind": "inline", "source": {"KEY": secret}},
                                       {"kind": "env", "source": "A,B"}]},
           "status": {"state": "running"}}  # fmt: skip
    assert client.post("/api/v1/projects/ml/runs/u1", params={"iter": 0}, json=run,
                       headers=MLRUN).status_code == 200  # fmt: skip
    client.patch("/api/v1/projects/ml/runs/u1", json={"status.state": "completed",
                 "status.results": {"x": 1}}, headers=MLRUN).raise_for_status()  # fmt: skip
    data = client.get("/api/v1/projects/ml/runs/u1", headers=MLRUN).json()["data"]
    assert data["status"] == {**data["status"], "state": "completed", "results": {"x": 1}}
    assert data["spec"]["secret_sources"] == [{"kind": "inline", "source": {"KEY": "***"}},
                                              {"kind": "env", "source": "A,B"}]  # fmt: skip
    assert secret not in str(sql.read_run("u1", "ml"))
    client.post("/api/v1/projects/ml/logs/u1", params={"append": "yes"}, content=b"line 1\n",
                headers=MLRUN).raise_for_status()  # fmt: skip
    log = client.get("/api/v1/projects/ml/logs/u1", params={"offset": 5, "size": 10},
                     headers=MLRUN)  # fmt: skip
    assert log.content == b"1\n" and log.headers["x-mlrun-run-state"] == "completed"
    listed = client.get("/api/v1/projects/ml/runs", params={"name": "r"}, headers=MLRUN).json()
    assert [r["metadata"]["uid"] for r in listed["runs"]] == ["u1"]
    missing = client.get("/api/v1/projects/ml/runs/nope", headers=MLRUN)
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    bad = client.post("/api/v1/projects/ml/runs/u2", content=b"{not json", headers=MLRUN)
    assert bad.status_code == 400 and "not JSON" in bad.json()["detail"]


@pytest.mark.parametrize("name", ["", "../x", "a/b", "..", "a\\b", "x" * 300])
def test_every_write_route_checks_names(service: tuple[Any, SQLRunDB], name: str) -> None:
    """fnrun's rule for names (fnrun.model.names) on MLRun's routes and fnrun's: a 4xx
    naming the field, and nothing stored."""
    client, sql = service
    body = {"metadata": {"name": name}, "spec": {}}
    made = client.post("/api/v1/projects", json=body, headers=MLRUN)
    assert 400 <= made.status_code < 500 and made.json()["detail"], made.text
    bad = name or "a/b"  # where a name is required anyway, another bad one
    run = {"kind": "run", "metadata": {"name": bad}}
    stored = client.post("/api/v1/projects/p/runs/u1", json=run, headers=MLRUN)
    assert 400 <= stored.status_code < 500, stored.text
    ours = client.put("/api/v1/runs/u2", params={"project": bad}, json={"kind": "run"},
                      headers=AUTH)  # fmt: skip
    assert 400 <= ours.status_code < 500, ours.text
    fn = client.post("/api/v1/functions/f", params={"project": "p", "tag": bad},
                     json={"kind": "job"}, headers=AUTH)  # fmt: skip
    assert 400 <= fn.status_code < 500, fn.text
    assert [p["metadata"]["name"] for p in sql.list_projects()] in ([], ["p"])
    assert sql.list_runs(project=None) == [] and sql.list_functions(project="p") == []
