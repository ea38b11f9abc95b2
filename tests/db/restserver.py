"""The fnrun service over a real SQL DB, on a real uvicorn server in a thread, for tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.conftest import free_port


@contextmanager
def running_service(db: Any, token: str = "", **options: Any) -> Iterator[str]:
    """``http://127.0.0.1:<port>``: ``fnrun.service.rest`` over ``db`` until the block ends
    (``options``: more arguments of ``create_app``)."""
    import uvicorn

    from fnrun.service.http_protocol import service_config
    from fnrun.service.rest import create_app

    port = free_port()  # the service's own uvicorn configuration, its guards included
    config = service_config(
        create_app(db, token=token, **options), "127.0.0.1", port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def serving_this_process(
    tmp_path: Any, monkeypatch: Any, token: str
) -> Iterator[tuple[str, Any, Any]]:
    """The service over a SQLite file in ``tmp_path``, and this process its client
    (FNRUN_DBPATH=http://..., FNRUN_TOKEN): ``(url, the HTTP client DB, the SQL DB)``."""
    import fnrun
    from fnrun.config import reset_settings
    from fnrun.db import reset_run_dbs
    from fnrun.db.http import HTTPRunDB
    from fnrun.db.sql.sqldb import SQLRunDB

    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with running_service(sql, token=token) as url:
        monkeypatch.setenv("FNRUN_DBPATH", url)
        monkeypatch.setenv("FNRUN_TOKEN", token)
        monkeypatch.setenv("FNRUN_PROGRESS", "0")
        reset_settings()
        reset_run_dbs()
        client = fnrun.get_run_db()
        assert isinstance(client, HTTPRunDB)
        try:
            yield url, client, sql
        finally:
            reset_run_dbs()
    sql.close()
