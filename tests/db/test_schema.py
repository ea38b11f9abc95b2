"""Schema creation is serialised and versioned: many processes may open a fresh DB at once."""

from __future__ import annotations

import multiprocessing as mp
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from fnrun.db.sql.engine import make_engine, transaction
from fnrun.db.sql.schema import MIGRATIONS, ensure_schema
from fnrun.db.sql.sqldb import SQLRunDB
from tests.conftest import require_service

OPENERS = 16


def _open_and_write(url: str, worker: int, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        db = SQLRunDB(url, default_project="p")
        db.store_run({"metadata": {"name": "t"}, "status": {"state": "completed"}}, f"r{worker}")
        db.close()
        queue.put("ok")
    except Exception as exc:  # reported to the test, which names it
        queue.put(f"{type(exc).__name__}: {exc}")


def _cold_start(url: str) -> list[str]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_open_and_write, args=(url, w, queue)) for w in range(OPENERS)]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(60)
    return outcomes


def _check_cold_start(url: str) -> None:
    outcomes = _cold_start(url)
    assert outcomes == ["ok"] * OPENERS, [o for o in outcomes if o != "ok"]
    db = SQLRunDB(url, default_project="p")
    assert len(db.list_runs(project="p")) == OPENERS
    assert db.schema_version == len(MIGRATIONS)
    with transaction(db.engine) as conn:
        versions = conn.execute(text("SELECT version FROM fnrun_schema")).scalars().all()
    assert sorted(versions) == list(range(1, len(MIGRATIONS) + 1))  # each step recorded once
    db.close()


def test_sixteen_processes_open_a_fresh_sqlite_file(tmp_path: Path) -> None:
    _check_cold_start(f"sqlite:///{tmp_path / 'fresh' / 'run.db'}")


@pytest.mark.integration
def test_sixteen_processes_open_a_fresh_postgres_db() -> None:
    import sqlalchemy

    base = require_service("FNRUN_TEST_PG_URL", "PostgreSQL server")
    name = f"fnrun_cold_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        _check_cold_start(base.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_a_new_migration_runs_once_and_bumps_the_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'run.db'}"
    SQLRunDB(url).close()
    calls: list[int] = []

    def add_column(conn: Connection) -> None:
        calls.append(1)
        conn.exec_driver_sql("ALTER TABLE projects ADD COLUMN owner VARCHAR(255)")

    engine = make_engine(url)
    steps = [*MIGRATIONS, add_column]
    assert ensure_schema(engine, steps) == len(steps)
    assert ensure_schema(engine, steps) == len(steps)  # already there: not applied again
    assert calls == [1]
    with transaction(engine) as conn:
        cols = [row[1] for row in conn.exec_driver_sql("PRAGMA table_info(projects)")]
    assert "owner" in cols
    engine.dispose()


def test_a_failing_migration_leaves_the_older_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'run.db'}"
    SQLRunDB(url).close()

    def broken(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE half (x INTEGER)")
        raise RuntimeError("migration bug")

    engine = make_engine(url)
    with pytest.raises(RuntimeError):
        ensure_schema(engine, [*MIGRATIONS, broken])
    with transaction(engine) as conn:
        assert conn.exec_driver_sql("SELECT max(version) FROM fnrun_schema").scalar() == len(
            MIGRATIONS
        )
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert "half" not in tables  # rolled back with its version
    engine.dispose()


def test_a_version_1_db_with_runs_migrates_to_schedules(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    assert ensure_schema(engine, MIGRATIONS[:1]) == 1  # as the last release left it
    with transaction(engine, write=True) as conn:
        conn.exec_driver_sql(
            "INSERT INTO runs (project, uid, iteration, name, state, labels, start_time,"
            " updated, body) VALUES ('p', 'u1', 0, 'old', 'completed', '{}', '2026-01-01',"
            ' \'2026-01-01\', \'{"metadata": {"name": "old"}, "status": {}}\')'
        )
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert "schedules" not in tables
    engine.dispose()
    db = SQLRunDB(url)  # opening it migrates
    assert db.schema_version == len(MIGRATIONS)
    with transaction(db.engine) as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert {"schedules", "ix_schedules_next_run"} <= tables
    assert db.read_run("u1", "p")["metadata"]["name"] == "old"  # the old rows stay
    assert db.list_schedules() == []
    db.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def test_an_upsert_updates_only_the_columns_it_is_given(backend: str, tmp_path: Path) -> None:
    from fnrun.db.sql.engine import upsert
    from fnrun.db.sql.tables import projects, runs
    from tests.db.conftest import postgres_url

    def check(url: str) -> None:
        engine = make_engine(url)
        ensure_schema(engine)
        key = {"project": "p", "uid": "u", "iteration": 0}
        rest = {"labels": {}, "updated": "t2", "body": {"v": 2}}
        with transaction(engine, write=True) as conn:
            first = {"name": "n", "state": "running", "start_time": "t0", "labels": {"a": "1"}}
            upsert(conn, runs, {**key, **first, "updated": "t1", "body": {"v": 1}})
            upsert(conn, runs, {**key, **rest})  # no name, state or start time given
            upsert(conn, projects, {"name": "p", "created": "t1", "body": {}})
            upsert(conn, projects, {"name": "p", "created": "t1", "body": {}})  # again: fine
        with transaction(engine) as conn:
            row = conn.execute(runs.select()).one()
        assert (row.name, row.state, row.start_time) == ("n", "running", "t0")  # kept
        assert (row.labels, row.updated, row.body) == ({}, "t2", {"v": 2})  # updated
        with (
            transaction(engine, write=True) as conn,
            pytest.raises(AssertionError, match="no column"),
        ):
            upsert(conn, projects, {"name": "p", "nope": 1})
        engine.dispose()

    if backend == "sqlite":
        check(f"sqlite:///{tmp_path / 'u.db'}")
    else:
        with postgres_url() as url:
            check(url)
