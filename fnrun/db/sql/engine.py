"""Engines and transactions: SQLite tuned for several writing processes, PostgreSQL as is.

SQLite runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading read locks; a transaction that
still meets a lock (or loses an upsert race on PostgreSQL) is retried with backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from fnrun.errors import DBError

T = TypeVar("T")
_RETRIES = 8


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, future=True)


def _sqlite_engine(url: str) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if not in_memory:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_conn.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("fnrun_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def transaction(engine: Engine, write: bool = False) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn = conn.execution_options(fnrun_write=write)
        with conn.begin():
            yield conn


def with_retries(engine: Engine, work: Callable[[Connection], T], write: bool = True) -> T:
    """Run ``work(conn)`` in one transaction, retrying lock timeouts and upsert races."""
    for attempt in range(_RETRIES):
        try:
            with transaction(engine, write=write) as conn:
                return work(conn)
        except (OperationalError, IntegrityError) as exc:
            if not _transient(exc) or attempt == _RETRIES - 1:
                raise DBError(
                    f"run DB error: {exc.orig}", hint="check the DB URL and server"
                ) from exc
            time.sleep(min(0.02 * 2**attempt, 1.0) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def _transient(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent insert of the same key: the retry takes the update path
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text


def upsert(conn: Connection, table: Table, values: dict[str, Any]) -> None:
    """Insert ``values`` or, when the primary key exists, update the other columns."""
    keys = [c.name for c in table.primary_key.columns]
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt: Any = sqlite_insert(table).values(**values)
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).values(**values)
    else:  # pragma: no cover - other dialects: a plain two-step upsert
        where = [table.c[k] == values[k] for k in keys]
        if conn.execute(table.update().where(*where).values(**values)).rowcount == 0:
            conn.execute(table.insert().values(**values))
        return
    updates = {k: v for k, v in values.items() if k not in keys}
    if updates:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=updates)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt)
