"""Run DBs behind one protocol; ``get_run_db()`` returns the process default.

The default is an embedded SQLite file under ``$FNRUN_HOME`` (``~/.fnrun/fnrun.db``);
``FNRUN_DBPATH`` (or ``get_run_db(url)``) takes a SQLAlchemy URL such as
``postgresql://user@host:5432/db`` or a file path, or the fnrun service's
``http://host:port`` (:class:`fnrun.db.http.HTTPRunDB`; the token in ``FNRUN_TOKEN``).

May import: model, notebook and the shared leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fnrun.config import get_settings, to_db_url

if TYPE_CHECKING:
    from fnrun.db.base import RunDB

_dbs: dict[str, RunDB] = {}


def get_run_db(url: str = "", token: str | None = None) -> RunDB:
    """The run DB at ``url`` (default: the configured one); one instance per URL per process.
    ``token``: the service's, for an ``http(s)://`` URL (default ``FNRUN_TOKEN``)."""

    key = to_db_url(url) if url else get_settings().db_url
    db = _dbs.get(key)
    if db is None:
        if key.startswith(("http://", "https://")):
            from fnrun.db.http import HTTPRunDB

            db = HTTPRunDB(key, token=token)
        else:
            from fnrun.db.sql.sqldb import SQLRunDB

            db = SQLRunDB(key)
        _dbs[key] = db
    return db


def reset_run_dbs() -> None:
    """Dispose every cached DB (tests, or after changing ``FNRUN_DBPATH``)."""
    for db in _dbs.values():
        close = getattr(db, "close", None)
        if close:
            close()
    _dbs.clear()


def db_token(db: RunDB) -> str:
    """The token a process reporting to ``db`` needs ("" for a SQL DB or an open service)."""
    return str(getattr(db, "token", "") or "")
