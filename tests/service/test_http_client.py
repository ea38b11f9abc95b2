"""``HTTPRunDB``'s transport: what it sends (query strings, JSON bodies), which failures it
sends again and which it must not (a log chunk appended twice), and the proxy the
environment names. Against a real HTTP server that answers as each test scripts it, and the
real service."""

from __future__ import annotations

import http.server
import json
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.http import HTTPRunDB
from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import DBError, NotFoundError
from tests.db.restserver import running_service

pytest.importorskip("fastapi")

Answer = tuple[int, dict[str, Any] | list[Any] | None]


@contextmanager
def scripted(
    answer: Callable[[str, str, bytes], Answer | None],
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """A server's address and the requests it got ``(method, target, body, headers)``, each
    answered by ``answer`` (None: the connection closed with no answer)."""
    seen: list[tuple[Any, ...]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            size = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(size)
            seen.append((self.command, self.path, body, dict(self.headers)))
            result = answer(self.command, self.path, body)
            if result is None:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            status, doc = result
            data = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def db_and_requests(answer: Callable[[str, str, bytes], Answer | None], **options: Any) -> Any:
    with scripted(answer) as (address, seen):
        yield HTTPRunDB(address, token="t0k", **options), seen


def test_the_query_and_body_are_what_the_service_reads() -> None:
    with db_and_requests(lambda *_: (200, [])) as (db, seen):
        db.list_runs(name="train", labels={"owner": "ann", "team": "a b"}, iter=True, last=5)
        db.store_run({"metadata": {"name": "é"}}, "u1", "p")
    (method, target, _, headers), (put, put_target, body, put_headers) = seen[:2]
    assert method == "GET" and target.startswith("/api/v1/runs?")
    assert "name=train" in target and "label=owner%3Dann" in target
    assert "label=team%3Da+b" in target and "iter=true" in target and "last=5" in target
    assert "state=" not in target  # None: left out
    assert headers["Authorization"] == "Bearer t0k" and headers["x-fnrun-client"] == "1"
    assert put == "PUT" and put_target == "/api/v1/runs/u1?project=p&iter=0"
    assert json.loads(body) == {"metadata": {"name": "é"}}
    assert put_headers["Content-Type"] == "application/json"


def test_a_busy_service_is_asked_again_but_a_sent_log_chunk_is_not() -> None:
    answers = iter([(503, {}), (503, {}), (200, {"metadata": {"uid": "u1"}})])
    with db_and_requests(lambda *_: next(answers)) as (db, seen):
        assert db.read_run("u1", "p") == {"metadata": {"uid": "u1"}}
    assert [s[0] for s in seen] == ["GET", "GET", "GET"]

    with db_and_requests(lambda *_: None, retries=3) as (db, seen):  # the answer is lost
        with pytest.raises(DBError, match="cannot be reached"):
            db.store_log("u1", "p", b"line\n")
        with pytest.raises(DBError, match="cannot be reached"):
            db.read_run("u1", "p")
    methods = [s[0] for s in seen]
    assert methods.count("POST") == 1, "a log chunk sent once must not be appended again"
    assert methods.count("GET") == 4  # an idempotent read: sent again, 3 retries


def test_the_services_error_comes_back_as_the_same_exception() -> None:
    error = {"error": "NotFoundError", "message": "run u9 not found", "field": "uid"}
    with (
        db_and_requests(lambda *_: (404, error)) as (db, _),
        pytest.raises(NotFoundError, match="run u9 not found") as caught,
    ):
        db.read_run("u9", "p")
    assert caught.value.field == "uid"


def test_the_proxy_the_environment_names_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with scripted(lambda *_: (200, [])) as (proxy, seen):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert HTTPRunDB("http://fnrun-service.example:8080", token="").list_projects() == []
        monkeypatch.setenv("NO_PROXY", "fnrun-service.example")
        with pytest.raises(DBError, match="cannot be reached"):  # no proxy: the name fails
            HTTPRunDB("http://fnrun-service.example:8080", token="", retries=0).list_projects()
    [(method, target, _, _)] = seen
    assert method == "GET" and target == "http://fnrun-service.example:8080/api/v1/projects"


def test_a_run_with_a_non_finite_result_is_stored_through_the_service(tmp_path: Path) -> None:
    sql = SQLRunDB(f"sqlite:///{tmp_path / 's.db'}")
    with running_service(sql) as url:
        db = HTTPRunDB(url, token="")
        run = {"metadata": {"name": "t"}, "status": {"results": {"loss": math.nan, "n": 2**70}}}
        db.store_run(run, "u1", "p")
        db.update_run({"status.results.best": math.inf}, "u1", "p")
        results = db.read_run("u1", "p")["status"]["results"]
    # JSON has no NaN or infinity: the service answers them as null (FastAPI's rule)
    assert results == {"loss": None, "n": 2**70, "best": None}
    sql.close()
