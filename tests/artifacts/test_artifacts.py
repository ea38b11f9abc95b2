from __future__ import annotations

from pathlib import Path

import pytest

from fnrun.artifacts import (
    Artifact,
    ChartArtifact,
    DirArtifact,
    LinkArtifact,
    ModelArtifact,
    PlotArtifact,
    PlotlyArtifact,
    TableArtifact,
)
from fnrun.datastore import get_dataitem
from fnrun.datastore.store_uri import build_store_uri, parse_store_uri
from fnrun.db.sql.sqldb import SQLRunDB
from fnrun.errors import InvalidArgumentError, NotFoundError
from fnrun.execution.context import RunContext
from fnrun.model.serialize import from_yaml


@pytest.fixture
def ctx(tmp_path: Path) -> RunContext:
    db = SQLRunDB("sqlite://", default_project="p")
    return RunContext(name="job", project="p", uid="u1", artifact_path=str(tmp_path / "art"), db=db)


def test_target_path_db_record_and_store_uri(ctx: RunContext, tmp_path: Path) -> None:
    item = ctx.log_artifact(
        "report", body="<p>x</p>", format="html", tag="v1", labels={"team": "a"}
    )
    target = tmp_path / "art" / "job" / "u1" / "0" / "report.html"
    assert item.target_path == str(target) and target.read_text() == "<p>x</p>"
    uri = ctx.artifact_uris["report"]
    assert uri == f"store://artifacts/p/report@{ctx.uid}"
    doc = get_dataitem(uri, db=ctx.db)
    assert doc.get() == b"<p>x</p>"
    assert doc.meta["metadata"]["labels"] == {"team": "a"}
    assert doc.meta["spec"]["producer"]["uri"] == f"p/{ctx.uid}"
    assert doc.meta["spec"]["size"] == 8 and len(doc.meta["spec"]["hash"]) == 40
    assert get_dataitem("store://artifacts/p/report:v1", db=ctx.db).get() == b"<p>x</p>"


def test_local_path_upload_and_errors(ctx: RunContext, tmp_path: Path) -> None:
    src = tmp_path / "weights.bin"
    src.write_bytes(b"\x00\x01")
    ctx.log_artifact("weights", local_path=str(src))
    assert (tmp_path / "art" / "job" / "u1" / "0" / "weights.bin").read_bytes() == b"\x00\x01"
    with pytest.raises(NotFoundError, match="local_path"):
        ctx.log_artifact("missing", local_path=str(tmp_path / "nope.bin"))
    with pytest.raises(InvalidArgumentError, match="no body, local_path or target_path"):
        ctx.log_artifact("empty")


def test_iteration_in_path_and_uri(tmp_path: Path) -> None:
    ctx = RunContext(name="hp", project="p", uid="u9", iteration=3, artifact_path=str(tmp_path))
    ctx.log_artifact("a", body=b"1", format="txt")
    assert (tmp_path / "hp" / "u9" / "3" / "a.txt").is_file()
    assert ctx.artifact_uris["a"].startswith("store://artifacts/p/a#3@")


def test_table_and_chart(ctx: RunContext, tmp_path: Path) -> None:
    table = TableArtifact("t", header=["x", "y"])
    table.add_row([1, 2])
    ctx.log_artifact(table)
    assert (tmp_path / "art/job/u1/0/t.csv").read_text().splitlines() == ["x,y", "1,2"]
    chart = ChartArtifact("c", header=["epoch", "acc"], data=[[1, 0.5], [2, 0.7]])
    ctx.log_artifact(chart)
    page = (tmp_path / "art/job/u1/0/c.html").read_text()
    assert "<polyline" in page and "<td>0.7</td>" in page


def test_plots(ctx: RunContext, tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib not installed")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    ctx.log_artifact(PlotArtifact("fig", body=fig, title="line"))
    assert (tmp_path / "art/job/u1/0/fig.png").read_bytes()[:4] == b"\x89PNG"
    go = pytest.importorskip("plotly.graph_objects", reason="plotly not installed")
    ctx.log_artifact(PlotlyArtifact("pl", figure=go.Figure(data=[go.Bar(y=[1, 2])])))
    assert "<html>" in (tmp_path / "art/job/u1/0/pl.html").read_text()


def test_model_folder_with_spec(ctx: RunContext, tmp_path: Path) -> None:
    ctx.log_model(
        "clf",
        body=b"MODEL",
        metrics={"acc": 0.9},
        parameters={"depth": 3},
        inputs=[{"name": "x", "value_type": "float"}],
        framework="sklearn",
        extra_data={"notes.txt": "hi"},
    )
    folder = tmp_path / "art/job/u1/0/clf"
    assert (folder / "clf.pkl").read_bytes() == b"MODEL"
    assert (folder / "notes.txt").read_text() == "hi"
    spec = from_yaml((folder / "model_spec.yaml").read_text())
    assert spec["metrics"] == {"acc": 0.9} and spec["framework"] == "sklearn"
    assert ctx.artifact_uris["clf"].startswith("store://models/p/clf@")
    with pytest.raises(InvalidArgumentError, match="model needs"):
        ModelArtifact("m")


def test_dir_and_link(ctx: RunContext, tmp_path: Path) -> None:
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    ctx.log_artifact(DirArtifact("tree", local_path=str(src)))
    assert (tmp_path / "art/job/u1/0/tree/sub/b.txt").read_text() == "b"
    ctx.log_artifact(
        LinkArtifact(
            "best",
            target_path=str(tmp_path / "art/job/u1/0/tree"),
            link_iteration=2,
            link_key="tree",
        )
    )
    assert ctx.db is not None
    assert ctx.db.read_artifact("best", project="p")["spec"]["link_iteration"] == 2


def test_store_uri_round_trip_and_errors() -> None:
    uri = build_store_uri("dataset", "p", "k", iteration=2, tag="t", tree="abc")
    assert uri == "store://datasets/p/k#2:t@abc"
    assert parse_store_uri(uri) == {
        "category": "datasets",
        "project": "p",
        "key": "k",
        "iter": 2,
        "tag": "t",
        "tree": "abc",
    }
    with pytest.raises(InvalidArgumentError, match="malformed store URI"):
        parse_store_uri("store://things/p/k")


def test_plain_artifact_suffix() -> None:
    assert Artifact("a", local_path="x/model.tar.gz").suffix() == ".tar.gz"
    assert Artifact("a", format="csv").suffix() == ".csv"
