"""A run DB that is the fnrun service, with a token given in code (not in FNRUN_TOKEN): the
processes, Dask workers and pods that run for the caller get the token too and report to the
service; the token is never written into what fnrun shows."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.db.http import HTTPRunDB
from fnrun.db.sql.sqldb import SQLRunDB
from tests.db.restserver import running_service

pytest.importorskip("fastapi")
TOKEN = "token-in-code-only"
CODE = textwrap.dedent(
    """
    import os

    def score(context, x: int = 0):
        context.log_result("loss", (x - 3) ** 2)
        context.log_result("pid", os.getpid())
    """
)


@pytest.fixture
def service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[HTTPRunDB, SQLRunDB]]:
    monkeypatch.delenv("FNRUN_TOKEN", raising=False)
    monkeypatch.setenv("FNRUN_PROGRESS", "0")
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with running_service(sql, token=TOKEN) as url:
        client = HTTPRunDB(url, token=TOKEN)
        yield client, sql
        client.close()
    sql.close()


def _fn(tmp_path: Path, kind: str = "job") -> Any:
    path = tmp_path / "score.py"
    path.write_text(CODE)
    return fnrun.code_to_function("score", filename=str(path), kind=kind, handler="score")


def test_a_child_process_reports_with_the_callers_token(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path
) -> None:
    client, sql = service
    run = _fn(tmp_path).run(params={"x": 1}, local=True, db=client)
    stored = sql.read_run(run.uid(), "default")
    assert stored["status"]["state"] == "completed" and stored["status"]["results"]["loss"] == 4
    assert stored["status"]["results"]["pid"] != __import__("os").getpid()  # another process
    assert TOKEN not in json.dumps(stored)


@pytest.mark.integration
def test_dask_workers_report_with_the_callers_token(
    service: tuple[HTTPRunDB, SQLRunDB], tmp_path: Path
) -> None:
    pytest.importorskip("distributed", reason="dask[distributed] (the dask extra)")
    client, sql = service
    fn = _fn(tmp_path, kind="dask")
    fn.spec.replicas = 2
    try:
        run = fn.run(hyperparams={"x": [2, 3, 4]}, db=client,
                     hyper_param_options={"selector": "min.loss", "parallel_runs": 2})  # fmt: skip
    finally:
        fn.close()
    assert run.status.best_iteration == 2 and run.status.results["loss"] == 0
    children = [
        r for r in sql.list_runs(project="default", iter=True) if r["metadata"]["iteration"]
    ]
    assert len(children) == 3 and all(r["status"]["state"] == "completed" for r in children)


def test_pods_get_the_token_from_the_runs_secret() -> None:
    pytest.importorskip("kubernetes", reason="the kubernetes client (the k8s extra)")
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    from fnrun.execution.request import build_request
    from fnrun.runtimes.kubernetes.manifests import build_manifests

    fn = fnrun.new_function("train", kind="job", image="python:3.11")
    request = build_request(fn, handler="mod.train")
    url = "http://fnrun-service.ml.svc:8080"
    secret, _config, job = build_manifests(fn, request, url, "ml", with_secrets=True,
                                           db_token=TOKEN)  # fmt: skip
    assert secret["stringData"] == {"FNRUN_TOKEN": TOKEN}
    [container] = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["FNRUN_DBPATH"]["value"] == url
    assert env["FNRUN_TOKEN"]["valueFrom"]["secretKeyRef"]["key"] == "FNRUN_TOKEN"
    assert TOKEN not in json.dumps(job)
    for doc in (secret, job):
        kubernetes_validate.validate(doc, "1.37.0", strict=True)
    shown = fn.manifests(handler="mod.train", db_url=url)  # what fn.manifests() shows
    assert TOKEN not in json.dumps(shown)
