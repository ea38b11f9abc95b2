"""Artifacts are never overwritten by a later run, are checked on read, and never escape."""

from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.artifacts import ModelArtifact
from fnrun.datastore import get_dataitem
from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import IntegrityError, InvalidArgumentError
from fnrun.execution.context import RunContext
from fnrun.execution.returns import log_returns
from fnrun.serving import V2ModelServer


def _ctx(tmp_path: Path, db: SQLRunDB, **kw: object) -> RunContext:
    args: dict = {"name": "train", "project": "p", "artifact_path": str(tmp_path / "art"), **kw}
    return RunContext(db=db, **args)


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_a_second_run_keeps_the_first_runs_files(tmp_path: Path) -> None:
    db = SQLRunDB("sqlite://", default_project="p")
    first, second = _ctx(tmp_path, db), _ctx(tmp_path, db)
    first.log_artifact("model", body=b"v1", format="bin")
    first.log_model("clf", body=b"M1")
    second.log_artifact("model", body=b"v2", format="bin")
    second.log_model("clf", body=b"M2")
    assert get_dataitem(first.artifact_uris["model"], db=db).get() == b"v1"
    assert get_dataitem(second.artifact_uris["model"], db=db).get() == b"v2"
    assert get_dataitem("store://artifacts/p/model", db=db).get() == b"v2"  # latest
    m1 = get_dataitem(first.artifact_uris["clf"], db=db)
    assert (Path(m1.local()) / "clf.pkl").read_bytes() == b"M1"
    assert f"/train/{first.uid}/0/" in (m1.meta or {})["spec"]["target_path"]


def test_mlrun_templates_in_artifact_path(tmp_path: Path) -> None:
    db = SQLRunDB("sqlite://", default_project="p")
    ctx = _ctx(tmp_path, db, uid="abc", artifact_path=str(tmp_path / "{{run.project}}/{{run.uid}}"))
    item = ctx.log_artifact("a", body=b"1", format="txt")
    assert item.target_path == str(tmp_path / "p" / "abc" / "train" / "0" / "a.txt")
    with pytest.raises(InvalidArgumentError, match=r"unknown placeholder \{\{run\.owner\}\}"):
        ctx.log_artifact("b", body=b"1", artifact_path=str(tmp_path / "{{run.owner}}"))


def test_a_replaced_file_is_an_error_on_read(tmp_path: Path) -> None:
    db = SQLRunDB("sqlite://", default_project="p")
    ctx = _ctx(tmp_path, db)
    item = ctx.log_artifact("data", body=b"good", format="txt")
    Path(item.target_path).write_bytes(b"evil")
    with pytest.raises(IntegrityError, match="does not match the hash"):
        get_dataitem(ctx.artifact_uris["data"], db=db).get()
    with pytest.raises(IntegrityError):
        get_dataitem(ctx.artifact_uris["data"], db=db).local()
    assert get_dataitem(item.target_path).get() == b"evil"  # a plain path is read as is


def test_a_replaced_model_file_fails_to_load(tmp_path: Path, fnrun_home: Path) -> None:
    db = fnrun.get_run_db()
    ctx = _ctx(tmp_path, db)
    item = ctx.log_model("clf", body=b"M1", extra_data={"vocab.txt": "a b"})
    server = V2ModelServer(name="clf", model_path=ctx.artifact_uris["clf"])
    path, extra = server.get_model(".pkl")
    assert Path(path).read_bytes() == b"M1" and set(extra) >= {"vocab.txt"}
    (Path(item.target_path) / "vocab.txt").write_text("changed")
    with pytest.raises(IntegrityError, match=r"vocab\.txt"):
        V2ModelServer(name="clf", model_path=ctx.artifact_uris["clf"]).get_model(".pkl")


@pytest.mark.parametrize("key", ["../x", "a/b", "/abs", "..", "", "a\\b"])
def test_artifact_keys_that_escape_are_refused(tmp_path: Path, key: str) -> None:
    db = SQLRunDB("sqlite://", default_project="p")
    ctx = _ctx(tmp_path / "in", db)
    logs = [lambda: ctx.log_artifact(key, body=b"x"), lambda: ctx.log_model(key, body=b"x")]
    if "/" not in key.strip("/") and "\\" not in key:  # sub-folders are fine inside a model
        logs.append(lambda: ctx.log_model("m", body=b"x", extra_data={key: b"x"}))
    for log in logs:
        with pytest.raises(InvalidArgumentError):
            log()
    assert _files_under(tmp_path) == set()


def test_dataset_and_returns_keys_are_checked(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas (fnrun[data]) not installed")
    db = SQLRunDB("sqlite://", default_project="p")
    ctx = _ctx(tmp_path / "in", db)
    with pytest.raises(InvalidArgumentError, match="key"):
        ctx.log_dataset("../../d", pd.DataFrame({"a": [1]}))
    with pytest.raises(InvalidArgumentError, match="key"):
        log_returns(ctx, b"raw", ["../../../r"])
    with pytest.raises(InvalidArgumentError, match="extra_data"):
        ModelArtifact("m", body=b"x", extra_data={"../../e": b"x"})
    assert _files_under(tmp_path) == set()


def test_run_and_project_names_that_escape_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="name"):
        RunContext(name="../../r", artifact_path=str(tmp_path))
    with pytest.raises(InvalidArgumentError, match="project"):
        RunContext(name="r", project="../p", artifact_path=str(tmp_path))
    fn = fnrun.new_function("ok", kind="handler")
    with pytest.raises(InvalidArgumentError, match="name"):
        fn.run(handler=lambda: None, name="../../evil")
    assert not list(tmp_path.parent.glob("evil*"))


@pytest.mark.parametrize("field", ["name", "project"])
def test_imported_yaml_names_that_escape_are_refused(tmp_path: Path, field: str) -> None:
    doc = tmp_path / "function.yaml"
    meta = {"name": "ok", "project": "p", field: "../x"}
    doc.write_text(
        f"kind: serving\nmetadata:\n  name: {meta['name']}\n  project: {meta['project']}\n"
        "spec:\n  graph:\n    kind: router\n"
    )
    with pytest.raises(InvalidArgumentError, match=f"metadata.{field}"):
        fnrun.import_function(str(doc))
