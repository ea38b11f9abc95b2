"""Several processes writing the same embedded SQLite DB at once lose nothing, directly or
through the fnrun service; a writer killed mid-way leaves only whole writes behind."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB

WRITERS = 4
RUNS_EACH = 40


def _open(url: str) -> Any:
    if url.startswith("http"):
        from fnrun.db.http import HTTPRunDB

        return HTTPRunDB(url, token=os.environ["FNRUN_TEST_TOKEN"], default_project="p")
    return SQLRunDB(url, default_project="p")


def _writer(url: str, worker: int) -> None:
    db = _open(url)
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


def _endless(url: str) -> None:
    db = _open(url)
    i = 0
    while True:
        uid = f"k-{i}"
        db.store_run({"metadata": {"name": "k"}, "status": {"state": "running"}}, uid)
        db.update_run({"status.state": "completed", "status.results.i": i}, uid)
        i += 1


def test_writers_through_the_service_lose_nothing_and_a_killed_one_leaves_whole_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    from tests.db.restserver import running_service

    monkeypatch.setenv("FNRUN_TEST_TOKEN", "conc-t0ken")
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="p")
    with running_service(sql, token="conc-t0ken") as url:
        ctx = mp.get_context("spawn")
        procs = [ctx.Process(target=_writer, args=(url, w)) for w in range(WRITERS)]
        victim = ctx.Process(target=_endless, args=(url,))
        for p in [*procs, victim]:
            p.start()
        deadline = time.monotonic() + 60
        while len(sql.list_runs(project="p", name="k")) < 20:
            assert time.monotonic() < deadline, "the endless writer did not write"
            time.sleep(0.05)
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)  # mid-request, most likely
        victim.join(10)
        for p in procs:
            p.join(180)
            assert p.exitcode == 0
        runs = sql.list_runs(project="p", name="t")
        assert len(runs) == WRITERS * RUNS_EACH
        assert all(r["status"]["state"] == "completed" for r in runs)
        assert sql.get_log("w1-7", "p")[1] == b"log 7\n"  # one append each, never two
        assert len(sql.list_function_versions("shared", "p")) == WRITERS
        killed = sql.list_runs(project="p", name="k")
        done = [r for r in killed if r["status"]["state"] == "completed"]
        assert len(killed) - len(done) <= 1  # at most the run it was writing when it died
        assert all(r["status"]["results"]["i"] == int(r["metadata"]["uid"][2:]) for r in done)
        assert _open(url).list_projects()  # the service still answers
    sql.close()
