"""The web UI's pages over HTTP (no browser): who gets in, what is escaped, where redirects
may go, the headers that keep artifacts and pages in their box, and the runs table paging
through 10,000 runs in the DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.runtimes.launch.runobject import RunObject
from fnrun.service.access import SESSION_COOKIE
from tests.db.restserver import running_service

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
TOKEN = "pages-t0ken"
EVIL = "<script>alert(1)<script>"  # a run name is one path segment: no '/'


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Any, SQLRunDB]]:
    sql = SQLRunDB(f"sqlite:///{tmp_path / 'service.db'}", default_project="default")
    with (
        running_service(sql, token=TOKEN) as url,
        httpx.Client(base_url=url, follow_redirects=False) as client,
    ):
        yield client, sql
    sql.close()


def _signed(client: Any) -> dict[str, str]:
    answer = client.post("/ui/login", content=f"token={TOKEN}&next=/ui/projects/p/runs",
                         headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/projects/p/runs"
    cookie = answer.cookies[SESSION_COOKIE]
    assert TOKEN not in cookie and len(cookie) >= 40  # a random id, never the token itself
    set_cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    assert "max-age=43200" in set_cookie  # 12 hours
    return {"cookie": f"{SESSION_COOKIE}={cookie}"}


def test_a_session_opens_the_ui_and_reads_only(service: tuple[Any, SQLRunDB]) -> None:
    client, _sql = service
    first = client.get("/ui/projects/p/runs")
    assert first.status_code == 303 and first.headers["location"].startswith("/ui/login?next=")
    assert client.get("/ui/static/ui.css").status_code == 200  # assets are open
    wrong = client.post("/ui/login", content="token=nope",
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert wrong.status_code == 303 and "failed=1" in wrong.headers["location"]
    session = _signed(client)
    assert client.get("/ui/projects/p/runs", headers=session).status_code == 200
    assert client.get("/api/v1/runs", headers=session).status_code == 200  # the page's reads
    write = client.put("/api/v1/projects/x", json={}, headers=session)
    assert write.status_code == 401  # a cookie never writes: no cross-site request can act
    import hashlib
    import hmac

    old_style = hmac.new(TOKEN.encode(), b"fnrun-ui-session", hashlib.sha256).hexdigest()
    for forged in (old_style, "x" * 43, "é" * 10, "a" * 5000, '"quoted"', ";;;"):
        jar = {"cookie": f"{SESSION_COOKIE}={forged}".encode()}
        answer = client.get("/ui/projects/p/runs", headers=jar)
        assert answer.status_code == 303, forged  # no session: sign in
        api = client.get("/api/v1/runs", headers=jar)
        assert api.status_code == 401, forged
    out = client.get("/ui/logout", headers=session)
    assert out.status_code == 303 and "max-age=0" in out.headers["set-cookie"].lower()
    assert client.get("/ui/projects/p/runs", headers=session).status_code == 303  # revoked


def test_each_sign_in_is_its_own_session_and_a_new_token_ends_them_all(
    service: tuple[Any, SQLRunDB],
) -> None:
    client, sql = service
    first, second = _signed(client), _signed(client)
    assert first != second
    client.post("/ui/logout", headers=first)
    assert client.get("/ui/projects/p", headers=first).status_code == 303
    assert client.get("/ui/projects/p", headers=second).status_code == 200  # the other stays
    from fnrun.service.sessions import Sessions

    Sessions(sql, "a-new-token")  # a service started with another token
    assert client.get("/ui/projects/p", headers=second).status_code == 303
    stored = sql.engine.connect().exec_driver_sql("select digest from ui_sessions").fetchall()
    cookie = second["cookie"].split("=", 1)[1]
    assert all(cookie not in row[0] for row in stored)  # the DB never holds the id itself


def test_sessions_expire() -> None:
    from fnrun.service.sessions import Sessions

    short = Sessions(None, "t", hours=-1.0)  # already over when made
    assert not short.valid(short.open())
    normal = Sessions(None, "t")
    sid = normal.open()
    assert normal.valid(sid) and not Sessions(None, "other").valid(sid)


@pytest.mark.parametrize(
    "header",
    ["Bearer é", "Bearer " + "x" * 10_000, "Basic Zm9vOmJhcg==", "bearer"],
)
def test_malformed_authorization_is_a_401(service: tuple[Any, SQLRunDB], header: str) -> None:
    client, _sql = service
    answer = client.get("/api/v1/runs", headers={"authorization": header.encode("utf-8")})
    assert answer.status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/api/v1/runs"])
def test_login_never_redirects_out_of_the_ui(service: tuple[Any, SQLRunDB], target: str) -> None:
    client, _sql = service
    answer = client.post("/ui/login", content=f"token={TOKEN}&next={target}",
                         headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.headers["location"] == "/ui"


def test_values_from_runs_are_escaped_and_pages_are_locked_down(
    service: tuple[Any, SQLRunDB],
) -> None:
    client, sql = service
    run = {"kind": "run", "metadata": {"name": EVIL, "labels": {"x": EVIL}},
           "spec": {"parameters": {"p": EVIL}},
           "status": {"state": "completed", "results": {"r": EVIL}}}  # fmt: skip
    sql.store_run(run, "u1", "p")
    session = _signed(client)
    for path in ("/ui/projects/p/runs", "/ui/projects/p/runs/u1", "/ui/projects/p"):
        page = client.get(path, headers=session)
        assert page.status_code == 200, path
        assert EVIL not in page.text and "&lt;script&gt;" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    missing = client.get("/ui/projects/p/runs/nope", headers=session)
    assert missing.status_code == 404 and "run nope" in missing.text
    assert missing.headers["content-type"].startswith("text/html")


def test_a_retried_runs_page_shows_its_attempts(service: tuple[Any, SQLRunDB]) -> None:
    client, sql = service
    attempts = [
        {"attempt": 1, "state": "error", "fault": "infrastructure", "error": EVIL,
         "start_time": "2026-12-07T10:00:00+00:00", "end_time": "2026-12-07T10:00:05+00:00"},
        {"attempt": 2, "state": "completed", "start_time": "2026-12-07T10:00:06+00:00",
         "end_time": "2026-12-07T10:00:09+00:00"},
    ]  # fmt: skip
    run = {"kind": "run", "metadata": {"name": "retried"}, "spec": {},
           "status": {"state": "completed", "retry_count": 1, "attempts": attempts}}  # fmt: skip
    sql.store_run(run, "u2", "p")
    page = client.get("/ui/projects/p/runs/u2", headers=_signed(client))
    assert page.status_code == 200
    assert "2 attempts" in page.text and "<td>infrastructure</td>" in page.text
    assert "<td>2026-12-07 10:00:05</td>" in page.text
    assert EVIL not in page.text and "&lt;script&gt;alert(1)" in page.text


def test_html_artifacts_are_served_sandboxed(service: tuple[Any, SQLRunDB], tmp_path: Path) -> None:
    client, sql = service
    from fnrun.config import get_settings

    store = Path(get_settings().artifact_path)
    store.mkdir(parents=True, exist_ok=True)
    (store / "page.html").write_text("<script>steal()</script>")
    doc = {"kind": "artifact", "metadata": {"key": "page"},
           "spec": {"target_path": str(store / "page.html"), "format": "html"}}  # fmt: skip
    sql.store_artifact("page", doc, "u1", project="p")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    inline = client.get("/api/v1/artifacts/page/download",
                        params={"project": "p", "inline": 1}, headers=auth)  # fmt: skip
    assert inline.headers["content-type"].startswith("text/html")
    assert inline.headers["content-security-policy"].startswith("sandbox;")
    assert inline.headers["content-disposition"].startswith("inline")
    plain = client.get("/api/v1/artifacts/page/download", params={"project": "p"}, headers=auth)
    assert plain.headers["content-type"] == "application/octet-stream"
    assert plain.headers["content-disposition"].startswith("attachment")


def test_the_runs_table_pages_through_10000_runs(service: tuple[Any, SQLRunDB]) -> None:
    client, sql = service
    from fnrun.db.sql.runs import _run_row
    from fnrun.db.sql.tables import runs

    rows = []
    for i in range(10_000):
        started = f"2026-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        doc = {"kind": "run", "metadata": {"name": "bulk" if i % 10 else "tenth"},
               "status": {"state": "completed", "start_time": started}}  # fmt: skip
        rows.append(_run_row(doc, f"u{i:05d}", "big", 0))
    with sql.engine.begin() as conn:
        conn.execute(runs.insert(), rows)
    session = _signed(client)
    first = client.get("/ui/projects/big/runs", headers=session).text
    assert first.count("<tr><td><input type='checkbox'") == 50
    assert "u09999"[:8] in first and "older →" in first and "newer" not in first
    third = client.get("/ui/projects/big/runs", params={"page": 3}, headers=session).text
    assert "u09899" in third and "u09850" in third and "u09900" not in third
    tenth = client.get("/ui/projects/big/runs", params={"name": "tenth"}, headers=session).text
    assert tenth.count("<tr><td><input") == 50 and "bulk" not in tenth.split("<tbody>")[1]


def test_a_run_links_to_its_page_when_the_db_is_the_service(
    service: tuple[Any, SQLRunDB],
) -> None:
    client, sql = service
    from fnrun.db.http import HTTPRunDB

    sql.store_run({"kind": "run", "metadata": {"name": "r"}, "status": {"state": "completed"}},
                  "u1", "p")  # fmt: skip
    db = HTTPRunDB(str(client.base_url), token=TOKEN)
    run = RunObject(db.read_run("u1", "p"), db)
    assert run.ui_url == f"{client.base_url}/ui/projects/p/runs/u1"
    assert ("web UI", run.ui_url) in run._rows() and run.ui_url in run._repr_html_()
    assert RunObject(sql.read_run("u1", "p"), sql).ui_url == ""  # no service, no link


def test_a_functions_versions_code_and_diff(service: tuple[Any, SQLRunDB]) -> None:
    import base64

    client, sql = service
    hashes = []
    for n in (1, 2):
        code = base64.b64encode(f"def train(context):\n    return {n}\n".encode()).decode()
        doc = {"kind": "job", "metadata": {"name": "trainer"},
               "spec": {"build": {"functionSourceCode": code}, "description": f"v{n}"}}  # fmt: skip
        hashes.append(sql.store_function(doc, "trainer", "p"))
    session = _signed(client)
    page = client.get("/ui/projects/p/functions/trainer", headers=session).text
    assert page.count("type='radio' name='a'") == 2 and "return 2" in page  # latest's code
    diff = client.get("/ui/projects/p/functions/trainer",
                      params={"a": hashes[0], "b": hashes[1]}, headers=session).text  # fmt: skip
    assert "<span class='del'>-  description: v1</span>" in diff
    assert "<span class='add'>+  description: v2</span>" in diff


def test_the_hub_catalog(service: tuple[Any, SQLRunDB], monkeypatch: pytest.MonkeyPatch) -> None:
    client, _sql = service
    monkeypatch.setenv("FNRUN_HUB_SOURCES", "fnrun=bundled")
    page = client.get("/ui/hub", headers=_signed(client)).text
    for name in ("make_dataset", "train_sklearn", "sklearn_server"):
        assert f"<td><a href='/ui/hub/fnrun/{name}'>{name}</a></td>" in page  # its own page
    assert "not reached" not in page
    found = client.get("/ui/hub", params={"q": "archive"}, headers=_signed(client)).text
    assert "open_archive" in found and "train_sklearn" not in found  # the search box
    item = client.get("/ui/hub/fnrun/make_dataset", headers=_signed(client))
    assert item.status_code == 200 and "import_function(&#34;hub://fnrun/make_dataset:" in item.text
    missing = client.get("/ui/hub/fnrun/no_such_item", headers=_signed(client))
    assert missing.status_code == 404


def test_a_bad_label_filter_is_a_page_saying_why(service: tuple[Any, SQLRunDB]) -> None:
    client, _sql = service
    page = client.get("/ui/projects/p/runs", params={"label": "nokey"}, headers=_signed(client))
    assert page.status_code == 400 and "is not key=value" in page.text


def test_a_runs_page_says_what_ran_when_and_on_what(service: tuple[Any, SQLRunDB]) -> None:
    client, sql = service
    parent = {"kind": "run", "metadata": {"name": "grid"},
              "spec": {"function": "db://p/trainer@abc123", "handler": "train",
                       "inputs": {"data": "store://datasets/p/raw@u1", "evil": "javascript:x",
                                  "web": "https://example.com/d.csv"},
                       "hyperparams": {"lr": [0.1, 0.2], "depth": [3, 5]},
                       "hyper_param_options": {"strategy": "grid", "selector": "max.acc"}},
              "status": {"state": "completed", "start_time": "2026-12-07T10:00:00+00:00",
                         "end_time": "2026-12-07T10:01:30+00:00",
                         "results": {"acc": 0.91, "loss": 0.2},
                         "iterations": [["iter", "state"], [1, "completed"], [2, "completed"],
                                        [3, "completed"], [4, "completed"]]}}  # fmt: skip
    sql.store_run(parent, "u3", "p")
    session = _signed(client)
    text = client.get("/ui/projects/p/runs/u3", headers=session).text
    assert "<th>handler</th><td>train</td>" in text
    assert "<a href='/ui/projects/p/functions/trainer'>db://p/trainer@abc123</a>" in text
    assert "<th>started</th><td>2026-12-07 10:00:00</td>" in text
    assert "<th>ended</th><td>2026-12-07 10:01:30</td>" in text
    assert "<th>duration</th><td>90.0 s</td>" in text
    assert "<a href='/ui/projects/p/runs/u1'>store://datasets/p/raw@u1</a>" in text  # producer
    assert "<a href='https://example.com/d.csv'>" in text
    assert "href='javascript:x'" not in text and "<td>javascript:x</td>" in text
    assert (
        "<th>param.lr</th><td>0.1, 0.2</td>" in text and "<th>selector</th><td>max.acc</td>" in text
    )
    other = {"kind": "run", "metadata": {"name": "single"}, "spec": {},
             "status": {"state": "completed", "results": {"acc": 0.5}}}  # fmt: skip
    sql.store_run(other, "u4", "p")
    listing = client.get("/ui/projects/p/runs", headers=session).text
    header = listing[listing.index("<thead>") : listing.index("</thead>")]
    assert ">iterations<" in header and ">acc<" in header and ">loss<" in header
    assert "<td class='num'>4</td>" in listing  # the parent's iterations
    assert "<td class='num'>0.91</td>" in listing and "<td class='num'>0.5</td>" in listing
