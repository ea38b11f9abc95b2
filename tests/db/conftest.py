from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from tests.conftest import require_service


def _postgres_db() -> Iterator[SQLRunDB]:
    """A fresh database on the PostgreSQL server .ci/run starts (FNRUN_TEST_PG_URL)."""
    import sqlalchemy

    base = require_service("FNRUN_TEST_PG_URL", "PostgreSQL server")
    name = f"fnrun_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"
    db = SQLRunDB(url, default_project="default")
    try:
        yield db
    finally:
        db.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite-file",
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLRunDB]:
    """The run DB under test: an embedded SQLite file, and a real PostgreSQL server."""
    if request.param == "postgresql":
        yield from _postgres_db()
        return
    sqlite = SQLRunDB(f"sqlite:///{tmp_path / 'run.db'}", default_project="default")
    yield sqlite
    sqlite.close()
