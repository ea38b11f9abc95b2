"""The service's API fuzzed by schemathesis from its own OpenAPI schema: whatever a client
sends (valid per the schema or not), the answer is never a 5xx and the service keeps
answering. The app runs in-process over a real SQLite DB with a token; each operation gets
its share of generated requests (FNRUN_FUZZ_EXAMPLES, default 25)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytest.importorskip("fastapi")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from fnrun.db.sql.sqldb import SQLRunDB  # noqa: E402
from fnrun.service.queries import PREFIX  # noqa: E402
from fnrun.service.rest import create_app  # noqa: E402

TOKEN = "fuzz-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("FNRUN_FUZZ_EXAMPLES", "25"))


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    monkeypatch.setenv("FNRUN_HUB_SOURCES", "fnrun=bundled")  # the hub routes, without network
    db = SQLRunDB(f"sqlite:///{tmp_path / 'fuzz.db'}", default_project="default")
    db.store_project("default")
    application = create_app(db, token=TOKEN, scheduler=False, artifact_roots=[tmp_path])
    with TestClient(application):  # its lifespan: the job runner starts and stops with it
        yield application
    db.close()


def test_no_request_gets_a_server_error(app: Any) -> None:
    schema = schemathesis.openapi.from_asgi(f"{PREFIX}/openapi.json", app, headers=AUTH)
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def no_server_error(case: Any) -> None:
            case.call_and_validate(headers=AUTH, checks=[not_a_server_error])

        no_server_error()
        tried.append(operation.label)
    assert len(tried) >= 28, tried  # every route of the API was fuzzed
    for label in ("POST /api/v1/submit", "PUT /api/v1/schedules/{name}", "GET /api/v1/hub/items"):
        assert label in tried
