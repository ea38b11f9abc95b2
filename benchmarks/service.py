"""The run DB through the fnrun service (HTTP) next to the direct SQL path.

    python benchmarks/service.py [--clients 16] [--runs 50] [--rows 10000]

Rows: runs recorded per second (store_run + update_run + store_log, as a run does) by
``--clients`` concurrent threads, direct to SQLite and through the service on a real uvicorn
(over the same kind of SQLite file): in this process (clients and service share one
interpreter's lock: the worst case), and as ``fnrun service`` in its own process, as it is
deployed (its clients are other processes: runs, pods, the CLI); then the runs list
(``list_runs(last=100)``) p50/p99 with ``--rows`` runs in the DB, direct and through the
service; then the web UI's pages (the runs table's first and 20th page, a run's page)
p50/p99 with those runs in the DB. Either way the service is one uvicorn worker and shares
the machine's cores with its clients.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _record(db: Any, client: int, runs: int) -> None:
    for i in range(runs):
        uid = f"c{client}-{i}"
        db.store_run({"metadata": {"name": "bench"}, "status": {"state": "running"}}, uid, "b")
        db.update_run({"status.state": "completed", "status.results.i": i}, uid, "b")
        db.store_log(uid, "b", b"a line of output\n")


def _throughput(make: Any, clients: int, runs: int) -> float:
    dbs = [make() for _ in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda c: _record(dbs[c], c, runs), range(clients)))
    return clients * runs / (time.perf_counter() - start)


def _latency(call: Any, repeat: int = 60) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.99)] * 1e3


@contextmanager
def _own_process(db_file: Path) -> Iterator[str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    command = [sys.executable, "-m", "fnrun", "service", "--port", str(port),
               "--db", str(db_file), "--no-scheduler"]  # fmt: skip
    env = {**os.environ, "FNRUN_TOKEN": ""}
    service = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/v1/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url
    finally:
        service.terminate()
        service.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    import uvicorn

    from fnrun.db.http import HTTPRunDB
    from fnrun.db.sql.sqldb import SQLRunDB
    from fnrun.service.rest import create_app

    tmp = Path(tempfile.mkdtemp(prefix="fnrun-bench-service-"))
    direct_url = f"sqlite:///{tmp / 'direct.db'}"
    served = SQLRunDB(f"sqlite:///{tmp / 'served.db'}")
    server = uvicorn.Server(uvicorn.Config(create_app(served), port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    print(f"{args.clients} clients x {args.runs} runs (store + update + log each)")
    direct = _throughput(lambda: SQLRunDB(direct_url), args.clients, args.runs)
    http = _throughput(lambda: HTTPRunDB(url, token=""), args.clients, args.runs)
    print(f"{'case':40} {'runs/s':>10} {'x direct':>9}")
    print(f"{'direct SQL (SQLite, WAL)':40} {direct:10.0f} {1:9.2f}")
    print(f"{'through the service (HTTP, this process)':40} {http:10.0f} {http / direct:9.2f}")
    with _own_process(tmp / "own.db") as own_url:
        own = _throughput(lambda: HTTPRunDB(own_url, token=""), args.clients, args.runs)
    print(f"{'through `fnrun service` (own process)':40} {own:10.0f} {own / direct:9.2f}")

    filler = SQLRunDB(direct_url)
    for db in (filler, served):
        for i in range(args.rows):
            db.store_run({"metadata": {"name": "bench"}, "status": {"state": "completed"}},
                         f"row-{i}", "b")  # fmt: skip
    print(f"\nlist_runs(last=100) with {args.rows + args.clients * args.runs} runs in the DB")
    print(f"{'case':40} {'p50 ms':>10} {'p99 ms':>9}")
    for name, db in (("direct SQL", filler), ("through the service", HTTPRunDB(url, token=""))):
        p50, p99 = _latency(lambda db=db: db.list_runs(project="b", last=100))
        print(f"{name:40} {p50:10.2f} {p99:9.2f}")

    import httpx

    print(f"\nweb UI pages with {args.rows + args.clients * args.runs} runs in the DB")
    print(f"{'page':40} {'p50 ms':>10} {'p99 ms':>9}")
    with httpx.Client(base_url=url) as web:
        for name, path in (("runs table, page 1", "/ui/projects/b/runs"),
                           ("runs table, page 20", "/ui/projects/b/runs?page=20"),
                           ("a run", f"/ui/projects/b/runs/row-{args.rows // 2}")):  # fmt: skip
            assert web.get(path).status_code == 200, path
            p50, p99 = _latency(lambda path=path: web.get(path), repeat=40)
            print(f"{name:40} {p50:10.2f} {p99:9.2f}")
    server.should_exit = True


if __name__ == "__main__":
    main()
