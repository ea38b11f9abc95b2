"""The bundled hub (fnrun/marketplace/bundled): found first and offline, each function run
through ``hub://`` with its documented outputs checked."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import RunError
from tests.marketplace.helpers import run_hub

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")

NAMES = (
    "archive_to_parquet",
    "batch_predict",
    "evaluate_model",
    "make_dataset",
    "open_archive",
    "profile_dataset",
    "sklearn_dataset",
    "sklearn_server",
    "train_sklearn",
)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    # the default sources (bundled, then MLRun's public hub); nothing here needs the network
    monkeypatch.delenv("FNRUN_HUB_SOURCES", raising=False)
    monkeypatch.setenv("FNRUN_PROGRESS", "0")


def _run(name: str, in_process: bool = True, **kwargs: Any) -> Any:
    return run_hub(fnrun.import_function(f"hub://{name}"), in_process, **kwargs)


def test_every_item_is_documented_typed_and_from_the_bundle() -> None:
    from fnrun.marketplace.listing import list_items

    rows, _ = list_items(source="fnrun")
    assert sorted(r.name for r in rows) == sorted(NAMES)
    for name in NAMES:
        fn = fnrun.import_function(f"hub://{name}")
        assert fn.metadata.annotations["fnrun/hub-origin"] == f"hub://fnrun/{name}:1.0.0"
        assert fn.spec.description
        if fn.kind == "serving":
            continue
        point = fn.spec.entry_points[name]
        assert point.doc
        for param in point.parameters[1:]:  # after the context
            assert param.type and param.doc, f"{name}.{param.name}"


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "child-process"])
def test_train_evaluate_predict_and_serve_a_model(in_process: bool) -> None:
    data = _run("sklearn_dataset", in_process, params={"name": "wine"})
    assert data.artifact("wine").as_df().shape == (178, 14)
    trained = _run(
        "train_sklearn",
        in_process,
        inputs={"dataset": data.outputs["wine"]},
        params={"model_params": {"n_estimators": 20}},
    )
    assert trained.outputs["accuracy"] > 0.8
    importance = trained.artifact("feature-importance").as_df()
    assert len(importance) == 13 and importance["importance"].is_monotonic_decreasing
    model = trained.artifact("model").meta
    assert model.spec.framework == "sklearn" and model.spec.metrics["f1"] > 0.8

    evaluated = _run(
        "evaluate_model",
        in_process,
        inputs={"dataset": trained.outputs["test_set"]},
        params={"model": trained.outputs["model"]},
    )
    assert evaluated.outputs["accuracy"] == pytest.approx(trained.outputs["accuracy"])
    matrix = evaluated.artifact("confusion-matrix").as_df()
    assert int(matrix.drop(columns=["actual"]).to_numpy().sum()) == 36  # the held-out rows
    assert 0.5 < evaluated.outputs["roc_auc"] <= 1.0

    predicted = _run(
        "batch_predict",
        in_process,
        inputs={"dataset": trained.outputs["test_set"]},
        params={
            "model": trained.outputs["model"],
            "label_column": "label",
            "with_probabilities": True,
        },
    )
    rows = predicted.artifact("predictions").as_df()
    assert {"prediction", "probability_0", "probability_2", "label"} <= set(rows.columns)
    assert predicted.outputs["accuracy"] == pytest.approx(trained.outputs["accuracy"])

    srv = fnrun.import_function("hub://sklearn_server")
    srv.add_model("wine", model_path=trained.outputs["model"])
    server = srv.to_mock_server()
    features = trained.artifact("test_set").as_df().drop(columns=["label"])
    answer = server.test("/v2/models/wine/infer", body={"inputs": features.values[:4].tolist()})
    assert answer["outputs"] == rows["prediction"].tolist()[:4]


def test_regression_datasets_and_models() -> None:
    data = _run("make_dataset", params={"task": "regression", "n_samples": 200, "noise": 0.1})
    df = data.artifact("dataset").as_df()
    assert df.shape == (200, 6) and data.artifact("dataset").meta.status.stats
    trained = _run(
        "train_sklearn",
        inputs={"dataset": data.outputs["dataset"]},
        params={"model_class": "sklearn.linear_model.Ridge"},
    )
    assert trained.outputs["r2"] > 0.99
    evaluated = _run(
        "evaluate_model",
        inputs={"dataset": trained.outputs["test_set"]},
        params={"model": trained.outputs["model"]},
    )
    assert evaluated.outputs["mae"] == pytest.approx(trained.outputs["mae"])
    assert len(evaluated.artifact("residuals").as_df()) == 40
    with pytest.raises(RunError, match="dotted path of an estimator class"):
        fnrun.import_function("hub://train_sklearn").run(
            inputs={"dataset": data.outputs["dataset"]},
            params={"model_class": "os.system"},
            local=True,
        )


def test_profile_a_dataset() -> None:
    data = _run("make_dataset", params={"n_samples": 120, "n_features": 3, "n_classes": 3})
    profile = _run(
        "profile_dataset",
        inputs={"table": data.outputs["dataset"]},
        params={"label_column": "label"},
    )
    assert profile.outputs["rows"] == 120 and profile.outputs["classes"] == 3
    assert profile.outputs["missing_values"] == 0
    summary = profile.artifact("summary").as_df()
    assert list(summary["column"]) == ["feature_0", "feature_1", "feature_2", "label"]
    corr = profile.artifact("correlation").as_df()
    assert corr.shape == (4, 5)
    assert "<html" in profile.artifact("histograms").get(encoding="utf-8")


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_archives_to_parquet_and_unpacked(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    archive.write_bytes(_zip({"a/x.csv": "a,b\n1,2\n", "a/y.csv": "a,b\n3,4\n", "note.txt": "x"}))
    run = _run(
        "archive_to_parquet", inputs={"archive": str(archive)}, params={"source_column": "file"}
    )
    assert run.artifact("data").as_df().to_dict("list") == {
        "a": [1, 3],
        "b": [2, 4],
        "file": ["a/x.csv", "a/y.csv"],
    }
    opened = _run("open_archive", inputs={"archive": str(archive)})
    assert opened.outputs["files"] == 3
    folder = Path(opened.artifact("content").local())
    assert (folder / "a" / "y.csv").read_text() == "a,b\n3,4\n"


@pytest.mark.parametrize("kind", ["zip-climb", "zip-absolute", "tar-link"])
def test_an_archive_never_writes_outside_its_folder(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / ("evil.tar" if kind.startswith("tar") else "evil.zip")
    if kind == "zip-climb":
        archive.write_bytes(_zip({"ok.txt": "x", "../../escaped.txt": "x"}))
    elif kind == "zip-absolute":
        archive.write_bytes(_zip({"/etc/escaped.txt": "x"}))
    else:
        with tarfile.open(archive, "w") as tf:
            link = tarfile.TarInfo("innocent")
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tf.addfile(link)
    with pytest.raises(RunError, match=r"outside the folder|is a link"):
        fnrun.import_function("hub://open_archive").run(
            inputs={"archive": str(archive)}, local=True
        )
    assert not (tmp_path.parent / "escaped.txt").exists()
