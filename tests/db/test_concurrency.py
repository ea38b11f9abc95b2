"""Several processes writing the same embedded SQLite DB at once lose nothing."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

from fnrun.db.sql.sqldb import SQLRunDB

WRITERS = 4
RUNS_EACH = 40


def _writer(url: str, worker: int) -> None:
    db = SQLRunDB(url, default_project="p")
    for i in range(RUNS_EACH):
        uid = f"w{worker}-{i}"
        db.store_run({"metadata": {"name": "t"}, "status": {"state": "running"}}, uid)
        db.update_run({"status.state": "completed", "status.results.i": i}, uid)
        db.store_log(uid, body=f"log {i}\n".encode())
        db.store_function(
            {"kind": "job", "metadata": {}, "spec": {"command": f"{worker}"}},
            "shared",
            tag=f"w{worker}",
        )
    db.close()


def test_parallel_processes_write_without_loss(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    SQLRunDB(url).close()  # create the tables once, as the first user would
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    db = SQLRunDB(url, default_project="p")
    runs = db.list_runs(project="p")
    assert len(runs) == WRITERS * RUNS_EACH
    assert all(r["status"]["state"] == "completed" for r in runs)
    assert db.get_log("w0-3", "p")[1] == b"log 3\n"
    assert len(db.list_function_versions("shared", "p")) == WRITERS
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
