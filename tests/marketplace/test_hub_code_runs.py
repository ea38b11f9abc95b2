"""Real MLRun hub functions (tests/data/hub-sample, unmodified) import from their
function.yaml and run as they are: their ``import mlrun`` gets fnrun's surface. Each batch
function runs in this process and in a child process; the serving one answers through the
mock server with a pickled scikit-learn model."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import pytest

import fnrun
from tests.conftest import HUB_SAMPLE
from tests.marketplace.helpers import run_hub

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")

PLACES = [pytest.param(True, id="in-process"), pytest.param(False, id="child-process")]


@pytest.fixture(autouse=True)
def _sample_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FNRUN_HUB_SOURCES", f"sample={HUB_SAMPLE}")
    monkeypatch.setenv("FNRUN_PROGRESS", "0")


def _run(name: str, in_process: bool, **kwargs: Any) -> Any:
    return run_hub(fnrun.import_function(f"hub://{name}"), in_process, **kwargs)


@pytest.mark.parametrize("in_process", PLACES)
def test_gen_class_data_logs_the_dataset_it_documents(in_process: bool) -> None:
    params = {"n_samples": 60, "m_features": 4, "k_classes": 2, "header": None}
    run = _run("gen_class_data", in_process, params={**params, "weight": [0.5, 0.5]})
    df = run.artifact("classifier-data").as_df()
    assert list(df.columns) == ["feat_0", "feat_1", "feat_2", "feat_3", "labels"]
    assert len(df) == 60 and set(df["labels"]) == {0, 1}
    assert run.artifact("classifier-data").meta.kind == "dataset"


@pytest.mark.parametrize("in_process", PLACES)
def test_load_dataset_and_describe_it(in_process: bool) -> None:
    iris = _run("load_dataset", in_process, params={"dataset": "iris"})
    df = iris.artifact("iris").as_df()
    assert df.shape == (150, 5) and df.columns[-1] == "labels"

    described = _run(
        "describe",
        in_process,
        inputs={"table": iris.outputs["iris"]},
        params={"label_column": "labels"},
    )
    expected = {
        "describe-csv",
        "hist",
        "histograms",
        "scatter-2d",
        "violin",
        "imbalance",
        "imbalance-weights-vec",
        "correlation-matrix-csv",
        "correlation",  # its figure factory, gone from plotly 6, is fnrun's on MLRun's surface
    }
    assert expected <= set(described.outputs)
    heatmap = described.artifact("correlation").get(encoding="utf-8")
    assert "Correlation matrix" in heatmap and '"type":"heatmap"' in heatmap.replace(" ", "")
    stats = described.artifact("describe-csv").as_df()
    assert "sepal length (cm)" in stats.columns
    assert "<html" in described.artifact("violin").get(encoding="utf-8")
    # an input that is already a dataset is updated in place with the plots as extra data
    updated = fnrun.get_run_db().read_artifact("iris")
    extra = updated["spec"]["extra_data"]
    assert extra["violin"] == described.outputs["violin"]
    assert "The data set named dataset is updated" in described.logs()


@pytest.mark.parametrize("in_process", PLACES)
def test_aggregate_rolls_over_a_window_and_keeps_the_index(
    in_process: bool, tmp_path: Path
) -> None:
    source = tmp_path / "ts.parquet"
    frame = pd.DataFrame(
        {"t": range(10), "m": [float(i) for i in range(10)], "l": [i % 3 for i in range(10)]}
    ).set_index("t")
    frame.to_parquet(source)
    run = _run(
        "aggregate",
        in_process,
        inputs={"df_artifact": str(source)},
        params={"metrics": ["m"], "labels": ["l"], "window": 3},
    )
    out = run.artifact("aggregate").as_df()
    assert out.index.name == "t" and list(out.index) == list(range(2, 10))  # NaN rows dropped
    assert out.loc[5, "m_mean"] == 4.0 and out.loc[5, "l_max"] == 2
    assert "Aggregating" in run.logs()


def test_v2_model_server_serves_a_pickled_model(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    srv = fnrun.import_function("hub://v2_model_server")
    assert srv.kind == "serving"
    srv.add_model("iris", class_name="ClassifierModel", model_path=str(tmp_path / "model.pkl"))
    server = srv.to_mock_server()
    rows = features[[0, 60, 120]].tolist()
    answer = server.test("/v2/models/iris/infer", body={"inputs": rows})
    assert answer["model_name"] == "iris"
    assert answer["outputs"] == model.predict(features[[0, 60, 120]]).tolist()


def test_the_surface_is_for_the_function_code_only() -> None:
    _run("load_dataset", True, params={"dataset": "wine"})
    assert not any(name == "mlrun" or name.startswith("mlrun.") for name in sys.modules)
    with pytest.raises(ModuleNotFoundError):
        __import__("mlrun")


def test_the_servers_own_nuclio_hooks_serve_through_fnrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Nuclio processor pointed at the hub code's own handler: ``init_context`` calls
    ``mlrun.runtimes.nuclio_init_hook`` and ``handler`` calls ``context.mlrun_handler``."""
    import json
    import logging

    nuclio_sdk = pytest.importorskip("nuclio_sdk", reason="nuclio-sdk not installed")
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from fnrun.execution.loader import module_from_code
    from fnrun.runtimes.nuclio.config import nuclio_config
    from fnrun.runtimes.nuclio.entry import SPEC_ENV

    features, labels = load_iris(return_X_y=True)
    model = DecisionTreeClassifier(random_state=0).fit(features, labels)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    srv = fnrun.import_function("hub://v2_model_server")
    srv.add_model("iris", class_name="ClassifierModel", model_path=str(tmp_path / "model.pkl"))
    env = {e["name"]: e["value"] for e in nuclio_config(srv)["spec"]["env"]}
    monkeypatch.setenv(SPEC_ENV, env[SPEC_ENV])
    user_code = module_from_code(srv.code, tmp_path)  # the hub module, as Nuclio loads it
    context = nuclio_sdk.Context(
        logger=nuclio_sdk.Logger(logging.DEBUG, "test"), platform=nuclio_sdk.Platform("local")
    )
    user_code.init_context(context)
    event = nuclio_sdk.Event(
        body=json.dumps({"inputs": features[[0, 100]].tolist()}).encode(),
        path="/v2/models/iris/infer",
        content_type="application/json",
        method="POST",
    )
    response = user_code.handler(context, event)
    assert response.status_code == 200
    assert json.loads(response.body)["outputs"] == model.predict(features[[0, 100]]).tolist()
