"""The service's outer guard (fnrun.service.guard) against a real service on loopback: the
headers on every answer, the limits on every request, and — without a token — DNS rebinding
and cross-site writes refused while fnrun's and MLRun's own clients still write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from tests.db.restserver import running_service
from tests.sockets import count_closed

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
TOKEN = "guard-t0ken"


@pytest.fixture(params=["", TOKEN], ids=["loopback", "token"])
def service(request: Any, tmp_path: Path) -> Iterator[tuple[Any, SQLRunDB, str]]:
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with running_service(sql, token=request.param) as url, httpx.Client(base_url=url) as client:
        if request.param:
            client.headers["authorization"] = f"Bearer {TOKEN}"
        yield client, sql, request.param
    sql.close()


def _secured(answer: Any) -> None:
    headers = answer.headers
    assert headers["x-content-type-options"] == "nosniff", answer.url
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"] or (
        headers["content-security-policy"].startswith("sandbox")
    )


def test_every_answer_carries_the_security_headers(service: tuple[Any, SQLRunDB, str]) -> None:
    client, sql, _token = service
    sql.store_run({"kind": "run", "metadata": {"name": "r"}}, "u1", "p")
    answers = {
        "healthz": client.get("/api/v1/healthz"),
        "json 404": client.get("/api/v1/runs/nope", params={"project": "p"}),
        "route 404": client.get("/nothing/here"),
        "422": client.get("/api/v1/runs", params={"last": -1}),
        "ui page": client.get("/ui/projects/p/runs"),
        "ui 404": client.get("/ui/projects/p/runs/nope"),
        "ui 400": client.get("/ui/projects/p/runs", params={"label": "nokey"}),
        "login": client.get("/ui/login"),
        "static": client.get("/ui/static/ui.css"),
    }
    for name, answer in answers.items():
        _secured(answer)
        if answer.headers.get("content-type", "").startswith("text/html"):
            assert "script-src 'self'" in answer.headers["content-security-policy"], name
    assert answers["ui 404"].status_code == 404 and answers["ui 400"].status_code == 400
    assert client.get("/api/v1/docs").status_code == 404  # no Swagger UI from a CDN
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_no_page_loads_anything_from_elsewhere(service: tuple[Any, SQLRunDB, str]) -> None:
    import re

    client, sql, _token = service
    sql.store_run({"kind": "run", "metadata": {"name": "r"}}, "u1", "p")
    for path in ("/ui", "/ui/projects/p", "/ui/projects/p/runs", "/ui/projects/p/runs/u1",
                 "/ui/login", "/ui/hub"):  # fmt: skip
        page = client.get(path).text
        for url in re.findall(r"(?:src|href)='([^']*)'", page):
            assert url.startswith(("/", "data:", "#", "?")), (path, url)


def test_limits_on_every_request(service: tuple[Any, SQLRunDB, str]) -> None:
    client, _sql, _token = service
    big = client.put("/api/v1/projects/big", content=b"{" + b" " * (33 * 1024 * 1024) + b"}",
                     headers={"content-type": "application/json"})  # fmt: skip
    assert big.status_code == 413 and "FNRUN_SERVICE_MAX_BODY" in big.json()["hint"]
    for path, params in (("/api/v1/runs/u%00x", {"project": "p"}),
                         ("/api/v1/runs", {"project": "p\x00"})):  # fmt: skip
        assert client.get(path, params=params).status_code == 400
    long = client.get("/api/v1/runs", params={"project": "p", "name": "n" * 9000})
    assert long.status_code == 414
    many = client.get("/api/v1/runs", params={"label": [f"k{i}=v" for i in range(40)]})
    assert many.status_code == 400 and many.json()["field"] == "label"
    statuses = set()
    for depth in (50, 99, 101, 150, 300, 1000, 5000):
        nested = "[" * (depth - 3) + "1" + "]" * (depth - 3)  # under status.results.r
        body = '{"kind": "run", "metadata": {"name": "deep"}, "status": {"results": {"r": %s}}}'
        body %= nested
        for method, path, headers in (
            ("PUT", "/api/v1/runs/d1", {}),
            ("POST", "/api/v1/projects/p/runs/d2", {"x-mlrun-client-version": "1.12.1"}),
        ):
            headers["content-type"] = "application/json"
            answer = client.request(method, path, params={"project": "p"}, content=body,
                                    headers=headers)  # fmt: skip
            assert answer.status_code < 500, (depth, path, answer.text[:200])
            statuses.add((depth > 100, answer.status_code))
    assert {code for deep, code in statuses if deep} == {400}
    listed = client.get("/api/v1/runs", params={"project": "p"})
    assert listed.status_code == 200  # what was stored reads back for every client


def test_without_a_token_rebinding_and_cross_site_writes_are_refused(tmp_path: Path) -> None:
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    run = json.dumps({"kind": "run", "metadata": {"name": "planted"}})
    with running_service(sql) as url, httpx.Client(base_url=url) as client:
        rebound = client.get("/api/v1/runs", headers={"host": "evil.example:8080"})
        assert rebound.status_code == 403 and "FNRUN_SERVICE_HOSTS" in rebound.json()["hint"]
        port = url.rsplit(":", 1)[1]
        assert (
            client.get("/api/v1/healthz", headers={"host": f"localhost:{port}"}).status_code == 200
        )
        # what a page elsewhere can send without the browser asking first
        forms = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
        for headers in [{"content-type": t} for t in forms] + [
            {"content-type": "text/plain", "origin": "http://evil.example"}
        ]:
            planted = client.post("/api/v1/projects/p/runs/x1", content=run, headers=headers)
            assert planted.status_code in (403, 415), planted.text
        other = client.put("/api/v1/runs/x2", params={"project": "p"}, content=run,
                           headers={"content-type": "application/json",
                                    "origin": "http://evil.example"})  # fmt: skip
        assert other.status_code == 403
        assert sql.list_runs(project="p") == []  # nothing was stored
        same = client.put("/api/v1/runs/x3", params={"project": "p"}, content=run,
                          headers={"content-type": "application/json", "origin": url})  # fmt: skip
        assert same.status_code == 200
        from fnrun.db.http import HTTPRunDB

        ours = HTTPRunDB(url, token="")
        ours.store_log("x3", "p", b"a line\n")  # a raw body, still ours
        assert ours.get_log("x3", project="p")[1] == b"a line\n"
        ours.close()
    sql.close()


def test_allowed_hosts_name_the_service(tmp_path: Path) -> None:
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}")
    with running_service(sql, allowed_hosts=("fnrun.internal",)) as url:
        port = url.rsplit(":", 1)[1]
        named = httpx.get(f"{url}/api/v1/healthz", headers={"host": f"fnrun.internal:{port}"})
        assert named.status_code == 200
        assert httpx.get(f"{url}/api/v1/healthz", headers={"host": "other"}).status_code == 403
    sql.close()


@pytest.mark.parametrize("depth", [300, 5000])
def test_a_legacy_record_too_deep_breaks_no_list(tmp_path: Path, depth: int) -> None:
    """A row written before the bound (straight into the DB) answers its own error; the list
    of runs still answers every client."""
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="p")
    sql.store_run({"kind": "run", "metadata": {"name": "fine"}}, "ok1", "p")
    deep = '{"kind": "run", "metadata": {"name": "old"}, "status": {"r": %s}}' % (
        "[" * depth + "]" * depth
    )
    with sql.engine.begin() as conn:
        conn.exec_driver_sql(
            "insert into runs (project, uid, iteration, name, state, labels, start_time, "
            "updated, body) values ('p', 'old1', 0, 'old', 'completed', '{}', '', '', ?)",
            (deep,),
        )
    with running_service(sql) as url, httpx.Client(base_url=url) as client:
        listed = client.get("/api/v1/runs", params={"project": "p"})
        assert listed.status_code == 200, listed.text[:300]
        assert "fine" in [r["metadata"].get("name") for r in listed.json()]
        one = client.get("/api/v1/runs/old1", params={"project": "p"})
        assert one.status_code < 500, one.text[:300]
        assert client.get("/ui/projects/p/runs").status_code == 200
    sql.close()


def test_a_local_write_too_deep_is_refused_and_readers_never_meet_it(tmp_path: Path) -> None:
    from fnrun.errors import InvalidArgumentError

    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="p")
    nested: Any = 1
    for _ in range(200):
        nested = [nested]
    with pytest.raises(InvalidArgumentError, match="deeper than 128"):
        sql.store_run({"kind": "run", "status": {"results": {"r": nested}}}, "d1", "p")
    assert sql.list_runs(project="p") == []
    sql.close()


def test_half_sent_headers_are_closed_on_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import time

    from fnrun.service.http_protocol import ServiceHttpProtocol

    monkeypatch.setattr(ServiceHttpProtocol, "header_timeout", 1.0)
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}")
    with running_service(sql) as url:
        host, port = url.removeprefix("http://").split(":")
        socks = [socket.create_connection((host, int(port))) for _ in range(35)]
        for sock in socks:
            sock.sendall(b"GET /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert httpx.get(f"{url}/api/v1/healthz").status_code == 200
        time.sleep(2.5)
        assert count_closed(socks) == 35
    sql.close()
