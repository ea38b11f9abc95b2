"""Engines and transactions: SQLite tuned for several writing processes, PostgreSQL as is.

SQLite runs in WAL mode with a busy timeout, and write transactions start with
``BEGIN IMMEDIATE`` so two writers never deadlock upgrading read locks; a transaction that
still meets a lock (or loses an upsert race on PostgreSQL) is retried with backoff.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlalchemy.pool import StaticPool

from fnrun.errors import DBError, FnrunError, InvalidArgumentError
from fnrun.model.depth import nests_deeper

T = TypeVar("T")
_RETRIES = 8


# documents nest at most this deep in the DB (the service takes requests of 100 levels), so a
# stored record can always be read back and answered
MAX_STORED_DEPTH = 128
_JSON = {"json_serializer": lambda v: _dumps(v), "json_deserializer": lambda t: _loads(t)}


def _dumps(value: Any) -> str:
    text = json.dumps(value)
    if len(text) > MAX_STORED_DEPTH and nests_deeper(text, value, MAX_STORED_DEPTH):
        raise InvalidArgumentError(
            f"the document nests deeper than {MAX_STORED_DEPTH} levels",
            field="body",
            hint="flatten it (log a deep structure as an artifact, not a result)",
        )
    return text


def _loads(text: str) -> Any:
    """A stored document; one nesting deeper than the bound (written before it existed)
    reads as a record saying so, so it never breaks a list of the others or an answer."""
    try:
        value = json.loads(text)
        if len(text) <= MAX_STORED_DEPTH or not nests_deeper(text, value, MAX_STORED_DEPTH):
            return value
    except RecursionError:
        pass
    error = f"this record nests deeper than {MAX_STORED_DEPTH} levels: delete it or store it again"
    return {"kind": "unreadable", "metadata": {}, "status": {"state": "error", "error": error}}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, future=True, **_JSON)


def _sqlite_engine(url: str) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if not in_memory:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if in_memory else None,
        **_JSON,
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
        except StatementError as exc:  # our own check, raised while the statement was built
            if isinstance(exc.orig, FnrunError):
                raise exc.orig from None
            raise
    raise AssertionError("unreachable")


def _transient(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent insert of the same key: the retry takes the update path
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text


def upsert(conn: Connection, table: Table, values: dict[str, Any]) -> None:
    """Insert ``values`` or, when the primary key exists, update the other columns given."""
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - a plain two-step upsert
        where = [table.c[k] == values[k] for k in _keys(table)]
        if conn.execute(table.update().where(*where).values(**values)).rowcount == 0:
            conn.execute(table.insert().values(**values))
        return
    conn.execute(_upsert_statement(table, dialect, tuple(values)), values)


_upserts: dict[tuple[Table, str, tuple[str, ...]], Any] = {}


def _keys(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _upsert_statement(table: Table, dialect: str, columns: tuple[str, ...]) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE SET col = excluded.col`` for the columns given,
    with bound parameters: built once per table and column set, so SQLAlchemy compiles it
    once (a statement with the values inlined is built, keyed and looked up every time)."""
    stmt = _upserts.get((table, dialect, columns))
    if stmt is None:
        keys = _keys(table)
        unknown = [c for c in columns if c not in table.c]
        if unknown:
            raise AssertionError(f"{table.name} has no column {unknown[0]}")
        insert: Any
        if dialect == "sqlite":  # only the dialect in use is imported
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            insert = sqlite_insert(table)
        else:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            insert = pg_insert(table)
        updates = {c: insert.excluded[c] for c in columns if c not in keys}
        if updates:
            stmt = insert.on_conflict_do_update(index_elements=keys, set_=updates)
        else:
            stmt = insert.on_conflict_do_nothing(index_elements=keys)
        _upserts[(table, dialect, columns)] = stmt
    return stmt
