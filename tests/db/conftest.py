from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from tests.conftest import require_service


@contextmanager
def postgres_url() -> Iterator[str]:
    """The URL of a fresh database on the PostgreSQL server .ci/run starts (FNRUN_TEST_PG_URL),
    dropped afterwards."""
    import sqlalchemy

    base = require_service("FNRUN_TEST_PG_URL", "PostgreSQL server")
    name = f"fnrun_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _postgres_db() -> Iterator[SQLRunDB]:
    """A SQLRunDB on a fresh PostgreSQL database."""
    with postgres_url() as url:
        db = SQLRunDB(url, default_project="default")
        try:
            yield db
        finally:
            db.close()


@pytest.fixture(
    params=[
        "sqlite-file",
        pytest.param("postgresql", marks=pytest.mark.integration),
        "http-service",
        pytest.param("http-service-postgresql", marks=pytest.mark.integration),
    ]
)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The run DB under test, each test the same on all: an embedded SQLite file, a real
    PostgreSQL server, and the fnrun service (HTTP) over each of them. ``db.backing`` is the
    SQL DB the answers come from."""
    if request.param.startswith("http-service"):
        from fnrun.db.http import HTTPRunDB
        from tests.db.restserver import running_service

        with (
            _sql(request.param.endswith("postgresql"), tmp_path) as sql,
            running_service(sql, token="t0ken") as url,
        ):
            client = HTTPRunDB(url, token="t0ken", default_project="default")
            client.backing = sql  # type: ignore[attr-defined]
            yield client
            client.close()
        return
    with _sql(request.param == "postgresql", tmp_path) as sql:
        sql.backing = sql  # type: ignore[attr-defined]
        yield sql


@contextmanager
def _sql(postgres: bool, tmp_path: Path) -> Iterator[SQLRunDB]:
    if postgres:
        yield from _postgres_db()
        return
    sqlite = SQLRunDB(f"sqlite:///{tmp_path / 'run.db'}", default_project="default")
    yield sqlite
    sqlite.close()
