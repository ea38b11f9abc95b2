"""Create and migrate the run DB's schema, safely when many processes open a fresh DB at once.

The schema carries a version in ``fnrun_schema``. Opening a DB reads it (one cheap query);
only when it is behind does the opener take the schema lock — a PostgreSQL advisory
transaction lock, or SQLite's ``BEGIN IMMEDIATE`` write lock — re-read the version under the
lock, and apply the missing steps of :data:`MIGRATIONS` in order. Each step runs once, in the
same transaction that records its version, so a crash mid-step leaves the older version.
A later release appends a step; it never edits an old one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, select
from sqlalchemy.exc import DBAPIError

from fnrun.clock import now_iso
from fnrun.db.sql.engine import transaction
from fnrun.errors import DBError

_ADVISORY_KEY = 0x666E72756E  # "fnrun"
_ATTEMPTS = 40

version_meta = MetaData()
schema_version = Table(
    "fnrun_schema",
    version_meta,
    Column("version", Integer, primary_key=True),
    Column("applied", String(40), nullable=False),
)


def _initial(conn: Connection) -> None:
    from fnrun.db.sql import tables

    first = (tables.projects, tables.functions, tables.function_tags, tables.runs,
             tables.artifacts, tables.artifact_tags, tables.logs)  # fmt: skip
    tables.metadata.create_all(conn, tables=first)


def _schedules(conn: Connection) -> None:
    """Version 2: the schedules table."""
    from fnrun.db.sql import tables

    tables.metadata.create_all(conn, tables=[tables.schedules])


def _sessions(conn: Connection) -> None:
    """Version 3: the web UI's sessions."""
    from fnrun.db.sql import tables

    tables.metadata.create_all(conn, tables=[tables.ui_sessions])


Migration = Callable[[Connection], None]
MIGRATIONS: list[Migration] = [_initial, _schedules, _sessions]


def ensure_schema(engine: Engine, migrations: list[Migration] | None = None) -> int:
    """Bring the DB at ``engine`` to the latest schema version; return that version."""
    steps = MIGRATIONS if migrations is None else migrations
    for attempt in range(_ATTEMPTS):
        try:
            if _current_version(engine) >= len(steps):
                return len(steps)
            return _migrate(engine, steps)
        except DBAPIError as exc:
            # a lost creation race or a lock that outlived the busy timeout: try again
            if attempt == _ATTEMPTS - 1:
                raise DBError(
                    f"cannot create the run DB schema: {exc.orig}",
                    hint="check that the DB is reachable and writable",
                ) from exc
            time.sleep(min(0.01 * 2**attempt, 0.5) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def _current_version(engine: Engine) -> int:
    with transaction(engine) as conn:
        if not engine.dialect.has_table(conn, schema_version.name):
            return 0
        return _read_version(conn)


def _read_version(conn: Connection) -> int:
    rows = conn.execute(select(schema_version.c.version)).scalars().all()
    return max(rows, default=0)


def _migrate(engine: Engine, steps: list[Migration]) -> int:
    with transaction(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_KEY})")
        version_meta.create_all(conn)
        current = _read_version(conn)
        for number, step in enumerate(steps[current:], start=current + 1):
            step(conn)
            conn.execute(schema_version.insert().values(version=number, applied=now_iso()))
        return len(steps)
