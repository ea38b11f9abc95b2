"""The fnrun service (``fnrun service``): its API's errors and access, and fnrun itself using
it as its run DB (``FNRUN_DBPATH=http://...``) from this process and from run processes."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import fnrun
from fnrun.config import reset_settings
from fnrun.db import reset_run_dbs
from fnrun.db.http import HTTPRunDB
from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import AccessError, DBError, InvalidArgumentError, NotFoundError
from tests.conftest import free_port
from tests.db.restserver import running_service

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
TOKEN = "s3cr3t-t0ken"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, SQLRunDB]]:
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with running_service(sql, token=TOKEN) as url:
        yield url, sql
    sql.close()


def test_every_request_needs_the_token(service: tuple[str, SQLRunDB]) -> None:
    url, _ = service
    assert httpx.get(f"{url}/api/v1/healthz").json() == {"status": "ok"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = httpx.get(f"{url}/api/v1/runs", headers=headers)
        assert answer.status_code == 401 and answer.json()["field"] == "Authorization"
    assert httpx.get(f"{url}/api/v1/openapi.json").status_code == 401
    ok = httpx.get(f"{url}/api/v1/runs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json() == []
    with pytest.raises(AccessError, match="a valid token is needed"):
        HTTPRunDB(url, token="nope").list_runs()


def test_bad_input_is_a_4xx_naming_the_field(service: tuple[str, SQLRunDB]) -> None:
    url, _ = service
    client = httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {TOKEN}"})
    bad_iter = client.get("/runs/abc", params={"project": "p", "iter": -1})
    assert bad_iter.status_code == 422 and bad_iter.json()["field"] == "iter"
    missing = client.get("/runs/abc", params={"project": "p"})
    assert missing.status_code == 404 and missing.json()["error"] == "NotFoundError"
    label = client.get("/runs", params={"label": "no-equals"})
    assert label.status_code == 400 and label.json()["field"] == "label"
    not_json = client.put("/runs/abc", params={"project": "p"}, content=b"{not json")
    assert not_json.status_code == 422
    schema = client.get("/openapi.json").json()
    assert "/api/v1/runs/{uid}" in schema["paths"]
    db = HTTPRunDB(url, token=TOKEN)
    with pytest.raises(NotFoundError):
        db.read_run("abc", "p")
    with pytest.raises(InvalidArgumentError, match="not key=value"):
        db.list_runs(labels={"": "x"})


def test_an_unreachable_service_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DBError, match=f"the fnrun service at {url} cannot be reached"):
        HTTPRunDB(url, token="", retries=1).list_projects()


CODE = textwrap.dedent(
    """
    def train(context, p: int = 1):
        print(f"training with {context.get_secret('API_KEY')[:2]}... p={p}")
        context.log_result("score", p * 2)
        context.log_artifact("notes", body=f"p was {p}", format="txt")
    """
)


def test_fnrun_uses_the_service_as_its_run_db(
    service: tuple[str, SQLRunDB], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, sql = service
    monkeypatch.setenv("FNRUN_DBPATH", url)
    monkeypatch.setenv("FNRUN_TOKEN", TOKEN)
    monkeypatch.setenv("FNRUN_PROGRESS", "0")
    reset_settings()
    reset_run_dbs()
    assert isinstance(fnrun.get_run_db(), HTTPRunDB)
    path = tmp_path / "train.py"
    path.write_text(CODE)
    fn = fnrun.code_to_function("train", filename=str(path), kind="job", handler="train")
    fn.save()
    secret = "sk-very-secret-value"
    run = fn.run(params={"p": 21}, secrets={"API_KEY": secret}, local=True)  # a child process
    assert run.state() == "completed" and run.outputs["score"] == 42
    stored = sql.read_run(run.uid(), "default")  # in the service's own DB
    assert stored["status"]["results"]["score"] == 42
    assert "training with sk... p=21" in sql.get_log(run.uid(), "default")[1].decode()
    assert run.artifact("notes").get(encoding="utf-8") == "p was 21"
    assert sql.get_function("train", "default")["metadata"]["name"] == "train"
    answers = httpx.get(f"{url}/api/v1/runs", params={"project": "default"},
                        headers={"Authorization": f"Bearer {TOKEN}"}).text  # fmt: skip
    logs = httpx.get(f"{url}/api/v1/logs/{run.uid()}", params={"project": "default"},
                     headers={"Authorization": f"Bearer {TOKEN}"}).text  # fmt: skip
    assert secret not in answers and secret not in logs
    reset_run_dbs()


def test_cors_is_off_by_default(service: tuple[str, SQLRunDB]) -> None:
    url, _ = service
    origin = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    preflight = httpx.options(f"{url}/api/v1/runs", headers=origin)
    assert "access-control-allow-origin" not in preflight.headers
    answer = httpx.get(f"{url}/api/v1/runs",
                       headers={**origin, "Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
