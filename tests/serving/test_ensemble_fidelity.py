"""VotingEnsemble and routers as MLRun's: listing with weights, own metadata, versioned paths,
dict outputs by prediction_col_name, tracking, router input/result paths."""

from __future__ import annotations

from typing import Any

import pytest

import fnrun
from fnrun.mock.server import MockRequestError
from fnrun.serving import V2ModelServer, VotingEnsemble


class Const(V2ModelServer):
    def __init__(self, context: Any = None, name: str = "", value: Any = 0, **kw: Any) -> None:
        super().__init__(context, name, model=True, **kw)
        self.value = value

    def predict(self, request: dict[str, Any]) -> Any:
        return [self.value for _ in request["inputs"]]


class DictOut(Const):
    def predict(self, request: dict[str, Any]) -> Any:
        rows = super().predict(request)
        return {"prediction": rows, "proba": [0.5 for _ in rows]}


def _ensemble(model: type = Const, **args: Any) -> Any:
    fn = fnrun.new_function("ens", kind="serving")
    fn.set_topology("router", VotingEnsemble(name="vote", weights={"a": 3}, **args))  # type: ignore[attr-defined]
    fn.add_model("a", class_name=model(value=1))  # type: ignore[attr-defined]
    fn.add_model("b", class_name=model(value=2))  # type: ignore[attr-defined]
    fn.add_model("b:v2", class_name=model(value=7))  # type: ignore[attr-defined]
    return fn


def test_listing_names_the_models_the_ensemble_and_the_weights() -> None:
    server = _ensemble().to_mock_server()
    assert server.test("/v2/models/", method="GET") == {
        "models": ["a", "b", "b:v2", "vote"],
        "weights": {"a": 3.0, "b": 1.0, "b:v2": 1.0},
    }
    assert server.test("/v2/models/vote", method="GET") == {
        "name": "vote",
        "version": "v1",  # MLRun's default version of the ensemble
        "inputs": [],
        "outputs": [],
    }


def test_vote_paths_single_model_and_versioned_model_paths() -> None:
    server = _ensemble(vote_type="classification").to_mock_server()
    for path in ("/v2/models/infer", "/v2/models/vote/infer"):
        out = server.test(path, body={"inputs": [[0]]})
        assert (out["model_name"], out["outputs"]) == ("vote", [1])  # weight 3 beats 1 + 1
    assert server.test("/v2/models/b/infer", body={"inputs": [[0]]})["outputs"] == [2]
    assert server.test("/v2/models/b/versions/v2/infer", body={"inputs": [[0]]})["outputs"] == [7]
    with pytest.raises(MockRequestError, match="no model 'nope'"):
        server.test("/v2/models/nope/infer", body={"inputs": [[0]]})


def test_dict_outputs_vote_on_the_prediction_column() -> None:
    server = _ensemble(DictOut, vote_type="regression").to_mock_server()
    out = server.test("/v2/models/infer", body={"inputs": [[0], [0]]})
    assert out["outputs"] == {"prediction": [pytest.approx(2.4), pytest.approx(2.4)]}  # (3+2+7)/5
    bad = _ensemble(DictOut, prediction_col_name="label").to_mock_server()
    with pytest.raises(MockRequestError, match="answered no 'label' column"):
        bad.test("/v2/models/infer", body={"inputs": [[0]]})


def test_the_ensemble_is_tracked_as_a_model() -> None:
    fn = _ensemble(vote_type="classification")
    fn.set_tracking("memory://ensemble-tracked")  # type: ignore[attr-defined]
    server = fn.to_mock_server()
    server.test("/v2/models/infer", body={"inputs": [[0]]})
    records = fnrun.mock.read_stream("memory://ensemble-tracked")
    assert any(r["model"] == "vote" and r["outputs"] == [1] for r in records)


def test_router_input_and_result_paths() -> None:
    fn = fnrun.new_function("paths", kind="serving")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to("*", name="r", input_path="req", result_path="resp")
    fn.add_model("m", class_name=Const(value=5))  # type: ignore[attr-defined]
    out = fn.to_mock_server().test("/v2/models/m/infer", body={"req": {"inputs": [[1]]}, "k": 1})  # type: ignore[attr-defined]
    assert out["k"] == 1 and out["req"] == {"inputs": [[1]]}
    assert out["resp"]["outputs"] == [5]


def test_model_input_and_result_paths_as_class_args() -> None:
    fn = fnrun.new_function("mpaths", kind="serving")
    fn.set_topology("router")  # type: ignore[attr-defined]
    fn.add_model("m", class_name="Const", value=4, input_path="data", result_path="out")  # type: ignore[attr-defined]
    out = fn.to_mock_server(namespace=globals()).test(  # type: ignore[attr-defined]
        "/v2/models/m/infer", body={"data": {"inputs": [[1], [2]]}}
    )
    assert out["out"]["outputs"] == [4, 4] and out["data"] == {"inputs": [[1], [2]]}
