"""The fast lane for run and log writes (fnrun.service.hot): well-formed writes are answered
off the framework, with the routes' answers and errors; anything else reaches the routes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from tests.db.restserver import running_service

httpx = pytest.importorskip("httpx")
TOKEN = "h0t-t0ken-value"


class Recording(SQLRunDB):
    """The SQL DB, noting which thread made each write (the fast lane's are its own)."""

    threads: list[str]

    def _note(self) -> None:
        self.threads.append(threading.current_thread().name)

    def store_run(self, *args: Any, **kwargs: Any) -> None:
        self._note()
        super().store_run(*args, **kwargs)

    def update_run(self, *args: Any, **kwargs: Any) -> Any:
        self._note()
        return super().update_run(*args, **kwargs)

    def store_log(self, *args: Any, **kwargs: Any) -> None:
        self._note()
        super().store_log(*args, **kwargs)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[httpx.Client, Recording]]:
    db = Recording(f"sqlite:///{tmp_path / 'hot.db'}", default_project="default")
    db.threads = []
    with running_service(db, token=TOKEN) as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=f"{url}/api/v1", headers=headers) as client:
            yield client, db
    db.close()


def _lane(db: Recording) -> str:
    name = db.threads.pop()
    return "fast" if name.startswith("fnrun-writes") else "routes"


def test_a_runs_writes_take_the_fast_lane_with_the_routes_answers(
    service: tuple[httpx.Client, Recording],
) -> None:
    client, db = service
    doc = {"metadata": {"name": "hot"}, "status": {"state": "running"}, "spec": {"n": 2**70}}
    stored = client.put("/runs/u1", params={"project": "p", "iter": 0}, json=doc)
    assert (stored.status_code, stored.json(), _lane(db)) == (200, {}, "fast")
    updated = client.patch("/runs/u1", params={"project": "p"}, json={"status.state": "completed"})
    assert updated.status_code == 200 and _lane(db) == "fast"
    assert updated.json()["status"]["state"] == "completed"
    assert updated.json()["spec"]["n"] == 2**70  # a wide integer kept exact
    for append, text in ((True, b"one\n"), (True, b"two\n"), (False, b"again\n")):
        logged = client.post("/logs/u1", params={"project": "p", "append": append}, content=text)
        assert (logged.status_code, logged.json(), _lane(db)) == (200, {}, "fast")
    assert db.get_log("u1", "p") == ("completed", b"again\n")
    nan = client.put(
        "/runs/u2",
        params={"project": "p"},
        content=b'{"status": {"results": {"x": NaN}}}',
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 200 and _lane(db) == "fast"  # as the routes take it
    assert "x" in db.read_run("u2", "p")["status"]["results"]  # stored (NaN reads back null)


def test_db_errors_answer_as_the_routes_do(service: tuple[httpx.Client, Recording]) -> None:
    client, db = service
    missing = client.patch("/runs/nope", params={"project": "p"}, json={"status.state": "x"})
    assert missing.status_code == 404 and _lane(db) == "fast"
    assert missing.json()["error"] == "NotFoundError" and "nope" in missing.json()["message"]
    bad_name = client.put("/runs/" + "u" * 300, params={"project": "p"}, json={})
    assert bad_name.status_code == 400 and _lane(db) == "fast"
    assert bad_name.json()["field"] == "uid" and "255" in bad_name.json()["message"]


@pytest.mark.parametrize(
    ("params", "body", "headers", "field"),
    [
        ({}, {"a": 1}, {}, "project"),  # no project
        ({"project": "p", "iter": "-1"}, {"a": 1}, {}, "iter"),
        ({"project": "p", "iter": "abc"}, {"a": 1}, {}, "iter"),
        ({"project": "p", "iter": str(2**31)}, {"a": 1}, {}, "iter"),
        ({"project": "x" * 64}, {"a": 1}, {}, "project"),
        ({"project": "p"}, [1, 2], {}, ""),  # not an object
        ({"project": "p"}, b"{not json", {"content-type": "application/json"}, ""),
    ],
)
def test_malformed_writes_reach_the_routes_and_their_422(
    service: tuple[httpx.Client, Recording],
    params: dict[str, str],
    body: Any,
    headers: dict[str, str],
    field: str,
) -> None:
    client, db = service
    if isinstance(body, bytes):
        answer = client.put("/runs/u1", params=params, content=body, headers=headers)
    else:
        answer = client.put("/runs/u1", params=params, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "InvalidArgumentError"
    assert field in answer.json()["field"]
    assert db.threads == []  # nothing written, by either lane


def test_a_log_with_an_unclear_append_and_writes_without_the_token(
    service: tuple[httpx.Client, Recording],
) -> None:
    client, db = service
    client.put("/runs/u1", params={"project": "p"}, json={"status": {"state": "running"}})
    db.threads.clear()
    odd = client.post("/logs/u1", params={"project": "p", "append": "yes"}, content=b"x\n")
    assert odd.status_code == 200 and _lane(db) == "routes"  # the route's own reading of it
    anonymous = httpx.put(
        f"{client.base_url}/runs/u1", params={"project": "p"}, json={"status": {"state": "x"}}
    )
    assert anonymous.status_code == 401 and db.threads == []  # authorization comes first
    assert db.read_run("u1", "p")["status"]["state"] == "running"
