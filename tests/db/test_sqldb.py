from __future__ import annotations

import pytest

from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import InvalidArgumentError, NotFoundError


def _fn(name: str = "f", command: str = "a.py", labels: dict | None = None) -> dict:
    return {
        "kind": "job",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"command": command},
    }


def test_function_versions_tags_and_restore(db: SQLRunDB) -> None:
    h1 = db.store_function(_fn(), "f", "p", tag="v1")
    assert h1 == db.store_function(_fn(), "f", "p", tag="v1")  # same content, same hash
    h2 = db.store_function(_fn(command="b.py"), "f", "p", tag="v2")
    assert h1 != h2 and len(h1) == 40
    assert db.get_function("f", "p")["spec"]["command"] == "b.py"  # latest follows the newest
    assert db.get_function("f", "p", tag="v1")["spec"]["command"] == "a.py"
    old = db.get_function("f", "p", hash_key=h1)
    assert old["metadata"]["hash"] == h1 and old["spec"]["command"] == "a.py"
    versions = db.list_function_versions("f", "p")
    assert [v["hash"] for v in versions] == [h2, h1]
    assert versions[0]["tags"] == ["latest", "v2"] and versions[1]["tags"] == ["v1"]
    db.tag_function("f", "p", "latest", h1)  # restore the old version
    assert db.get_function("f", "p")["metadata"]["hash"] == h1
    db.store_function(_fn(command="c.py"), "f", "p", tag="v1")  # tags move
    assert db.get_function("f", "p", tag="v1")["spec"]["command"] == "c.py"
    assert db.get_function("f", "p", hash_key=h1)["spec"]["command"] == "a.py"  # still kept


def test_unversioned_store_replaces_the_tagged_version(db: SQLRunDB) -> None:
    h1 = db.store_function(_fn(), "f", "p", tag="dev", versioned=False)
    db.tag_function("f", "p", "latest", h1)
    h2 = db.store_function(_fn(command="b.py"), "f", "p", tag="dev", versioned=False)
    assert {v["hash"] for v in db.list_function_versions("f", "p")} == {h2}


def test_function_not_found_lists_tags(db: SQLRunDB) -> None:
    db.store_function(_fn(), "f", "p", tag="v1")
    with pytest.raises(NotFoundError, match="known tags: latest, v1"):
        db.get_function("f", "p", tag="v9")
    with pytest.raises(NotFoundError, match="save it first"):
        db.get_function("g", "p")
    with pytest.raises(NotFoundError):
        db.tag_function("f", "p", "x", "0" * 40)


def test_list_functions_filters(db: SQLRunDB) -> None:
    db.store_function(_fn("a", labels={"team": "x"}), "a", "p1", tag="v1")
    db.store_function(_fn("b"), "b", "p1")
    db.store_function(_fn("c"), "c", "p2")
    assert {f["metadata"]["name"] for f in db.list_functions(project="p1")} == {"a", "b"}
    assert [f["metadata"]["name"] for f in db.list_functions(labels={"team": "x"})] == ["a"]
    assert [f["metadata"]["tag"] for f in db.list_functions(name="a", tag="v1")] == ["v1"]
    assert len(db.list_functions(name="a", tag="*")) == 2
    db.delete_function("a", "p1")
    assert db.list_functions(name="a") == []


def _run(name: str, state: str, start: str, labels: dict | None = None) -> dict:
    return {
        "kind": "run",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"parameters": {"p": 1}},
        "status": {"state": state, "start_time": start},
    }


def test_runs_store_update_list_iterations(db: SQLRunDB) -> None:
    db.store_run(_run("train", "running", "2026-01-01T00:00:00"), "u1", "p")
    db.store_run(_run("train", "completed", "2026-01-01T00:00:01"), "u1", "p", iter=1)
    db.store_run(_run("prep", "completed", "2026-01-02T00:00:00", {"a": "b"}), "u2", "p")
    body = db.update_run({"status.state": "completed", "status.results.acc": 0.9}, "u1", "p")
    assert body["status"]["results"] == {"acc": 0.9}
    assert db.read_run("u1", "p")["status"]["state"] == "completed"
    assert db.read_run("u1", "p", iter=1)["metadata"]["iteration"] == 1
    assert [r["metadata"]["uid"] for r in db.list_runs(project="p")] == ["u2", "u1"]
    assert len(db.list_runs(project="p", iter=True)) == 3
    assert [r["metadata"]["name"] for r in db.list_runs(labels={"a": "b"})] == ["prep"]
    assert [r["metadata"]["uid"] for r in db.list_runs(project="p", last=1)] == ["u2"]
    assert db.list_runs(project="p", state="running") == []
    db.del_run("u1", "p")
    with pytest.raises(NotFoundError, match="run u1"):
        db.read_run("u1", "p")


def test_runs_list_in_pages(db: SQLRunDB) -> None:
    for i in range(7):
        labels = {"even": "yes"} if i % 2 == 0 else {}
        db.store_run(_run("r", "completed", f"2026-01-0{i + 1}T00:00:00", labels), f"u{i}", "p")
    pages = [db.list_runs(project="p", last=3, offset=o) for o in (0, 3, 6, 9)]
    assert [[r["metadata"]["uid"] for r in page] for page in pages] == [
        ["u6", "u5", "u4"],
        ["u3", "u2", "u1"],
        ["u0"],
        [],
    ]
    even = db.list_runs(project="p", labels={"even": "yes"}, last=2, offset=1)
    assert [r["metadata"]["uid"] for r in even] == ["u4", "u2"]  # the page after filtering
    assert [r["metadata"]["uid"] for r in db.list_runs(project="p", offset=5)] == ["u1", "u0"]
    db.store_run(_run("a-first", "error", "2025-01-01T00:00:00"), "z1", "p")
    by_name = db.list_runs(project="p", sort="name", last=2)
    assert [r["metadata"]["uid"] for r in by_name] == ["z1", "u6"]  # then newest first
    oldest = db.list_runs(project="p", sort="start_time", last=1)
    assert oldest[0]["metadata"]["uid"] == "z1"
    assert db.list_runs(project="p", sort="-state", last=1)[0]["status"]["state"] == "error"
    with pytest.raises(InvalidArgumentError) as bad:
        db.list_runs(project="p", sort="body")
    assert bad.value.field == "sort"


def test_schedules_store_list_get_delete(db: SQLRunDB) -> None:
    pytest.importorskip("croniter")
    from fnrun.model.schedule import new_schedule

    doc = new_schedule("nightly", "p", "0 3 * * *", _fn("nightly"), {"params": {"day": 1}},
                       labels={"team": "ml"})  # fmt: skip
    stored = db.store_schedule(doc, "p")
    planned = stored["status"]["next_run_time"]
    assert planned.endswith("T03:00:00.000000+00:00")
    assert db.get_schedule("nightly", "p")["spec"]["task"] == {"params": {"day": 1}}
    assert [s["metadata"]["name"] for s in db.list_schedules(project="p")] == ["nightly"]
    assert db.list_schedules(labels={"team": "ml"}) and not db.list_schedules(labels={"team": "x"})
    assert db.list_schedules(project="other") == []
    doc["spec"]["cron"] = "0 4 * * *"
    again = db.store_schedule(doc, "p")  # replaced: the spec changes, the plan follows
    assert again["status"]["next_run_time"].endswith("T04:00:00.000000+00:00")
    assert again["status"]["created"] == stored["status"]["created"]
    with pytest.raises(InvalidArgumentError) as bad:
        db.store_schedule({**doc, "spec": {**doc["spec"], "cron": "0 25 * * *"}}, "p")
    assert bad.value.field == "schedule"
    db.delete_schedule("nightly", "p")
    with pytest.raises(NotFoundError, match="schedule 'nightly' not found"):
        db.get_schedule("nightly", "p")


def test_artifacts_versions_and_tags(db: SQLRunDB) -> None:
    art = {"kind": "model", "metadata": {"labels": {"f": "sk"}}, "spec": {"target_path": "/a"}}
    db.store_artifact("m", art, uid="r1", project="p", tag="v1")
    db.store_artifact("m", {**art, "spec": {"target_path": "/b"}}, uid="r2", project="p")
    assert db.read_artifact("m", project="p")["spec"]["target_path"] == "/b"
    assert db.read_artifact("m", tag="v1", project="p")["spec"]["target_path"] == "/a"
    assert db.read_artifact("m", project="p", uid="r1")["metadata"]["tree"] == "r1"
    assert len(db.list_artifacts(project="p")) == 1
    assert len(db.list_artifacts(project="p", tag="*")) == 2
    assert db.list_artifacts(project="p", kind="dataset") == []
    assert len(db.list_artifacts(labels={"f": "sk"})) == 1
    db.del_artifact("m", "p", tag="v1")
    with pytest.raises(NotFoundError):
        db.read_artifact("m", tag="v1", project="p")
    db.del_artifact("m", "p")
    assert db.list_artifacts(project="p", tag="*") == []


def test_logs_append_offset_and_state(db: SQLRunDB) -> None:
    db.store_run(_run("t", "running", "x"), "u1", "p")
    db.store_log("u1", "p", b"hello ")
    db.store_log("u1", "p", b"world")
    assert db.get_log("u1", "p") == ("running", b"hello world")
    assert db.get_log("u1", "p", offset=6, size=3) == ("running", b"wor")
    db.store_log("u1", "p", b"new", append=False)
    assert db.get_log("u1", "p")[1] == b"new"


def test_projects(db: SQLRunDB) -> None:
    db.store_function(_fn(), "f", "auto")  # projects are created on first use
    db.store_project("mine", {"spec": {"description": "d"}})
    assert {p["metadata"]["name"] for p in db.list_projects()} == {"auto", "mine"}
    assert db.get_project("mine")["spec"]["description"] == "d"
    db.delete_project("auto")
    assert db.list_functions(project="auto") == []
    with pytest.raises(NotFoundError):
        db.get_project("auto")


def test_json_columns_not_pickles(db: SQLRunDB) -> None:
    db.store_run(_run("t", "completed", "x"), "u1", "p")
    with db.backing.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT body FROM runs").scalar()
    text = raw if isinstance(raw, str) else str(raw)
    assert '"parameters"' in text or "'parameters'" in text


def test_concurrent_writers_same_keys(db: SQLRunDB) -> None:
    """Threads racing on the same tag and project rows: every write lands, none errors."""
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> str:
        db.store_run(_run("race", "completed", f"t{i:03d}"), f"u{i}", "race")
        return db.store_function(_fn(command=f"{i}.py"), "f", "race", tag="shared")

    with ThreadPoolExecutor(8) as pool:
        hashes = list(pool.map(work, range(24)))
    assert len(set(hashes)) == 24
    assert len(db.list_function_versions("f", "race")) == 24
    assert db.get_function("f", "race", tag="shared")["metadata"]["hash"] in hashes
    assert len(db.list_runs(project="race")) == 24


def test_storing_a_run_never_changes_the_callers_document(db: SQLRunDB) -> None:
    import copy

    doc = {
        "metadata": {"name": "t", "labels": {"a": "1"}},
        "spec": {"parameters": {"p": [1, 2]}},
        "status": {"state": "running", "results": {"r": {"deep": 1}}},
    }
    before = copy.deepcopy(doc)
    db.store_run(doc, "u-doc", "p1", iter=2)
    assert doc == before  # no uid, project, iteration or last_update written into it
    stored = db.read_run("u-doc", "p1", 2)
    assert stored["metadata"]["uid"] == "u-doc" and stored["metadata"]["iteration"] == 2
    assert stored["status"]["results"] == {"r": {"deep": 1}} and stored["status"]["last_update"]
