"""MLRun's own way of testing a serving graph: the serving spec in ``SERVING_SPEC_ENV``,
``nuclio_init_hook(context, globals(), "serving_v2")`` and ``context.mlrun_handler(context,
MockEvent(...))`` — here with MLRun's ensemble graphs, whose models answer
``{"predictions": [...]}``: one model's answer comes back unchanged, the ensemble votes per
row (classification by weighted majority, regression by weighted mean) with every executor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from fnrun.compat.mlrun.runtimes import nuclio_init_hook
from fnrun.compat.mlrun.serving import GraphContext, MockEvent, RouterStep, TaskStep, V2ModelServer

WEIGHTS = {"m1": 0.1, "m2": 0.2, "m3:v1": 0.3, "m3:v2": 0.4}


class Scaled(V2ModelServer):
    def load(self) -> None:
        pass

    def predict(self, request: dict[str, Any]) -> Any:
        return {"predictions": [x * self.get_param("multiplier") for x in request["inputs"]]}


class Constant(V2ModelServer):
    def load(self) -> None:
        pass

    def predict(self, request: dict[str, Any]) -> Any:
        return {"predictions": [self.get_param("predict") for _ in request["inputs"]]}


def _ensemble(vote_type: str, **class_args: Any) -> dict[str, Any]:
    step = RouterStep(
        class_name="mlrun.serving.routers.VotingEnsemble",
        class_args={"vote_type": vote_type, "prediction_col_name": "predictions",
                    "format_response_with_col_name_flag": True, **class_args},
    )  # fmt: skip
    keys = ("m1", "m2", "m3:v1", "m3:v2")
    cls, arg = ("Scaled", "multiplier") if vote_type == "regression" else ("Constant", "predict")
    scale = 100 if vote_type == "regression" else 1
    step.routes = {
        k: TaskStep(cls, class_args={"model_path": "", arg: scale * (i + 1)})
        for i, k in enumerate(keys)
    }
    return step.to_dict()


@pytest.fixture
def spec_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("FNRUN_FUNCTION_SPEC", raising=False)

    def init(graph: dict[str, Any]) -> Any:
        spec = {"version": "v2", "parameters": {}, "graph": graph, "load_mode": "sync",
                "verbose": True, "function_uri": "default/func"}  # fmt: skip
        monkeypatch.setenv("SERVING_SPEC_ENV", json.dumps(spec))
        context = GraphContext()
        context.is_mock = True
        nuclio_init_hook(context, globals(), "serving_v2")
        return context

    yield init


def _outputs(context: Any, model: str, rows: int = 1) -> Any:
    path = f"/v2/models/{model}/infer" if model else "/v2/models/infer"
    event = MockEvent(json.dumps({"inputs": [5] * rows}), path=path, method="POST")
    answer = context.mlrun_handler(context, event)
    return json.loads(answer.body)["outputs"]


def test_one_models_dict_answer_and_the_regression_vote(spec_env: Any) -> None:
    context = spec_env(_ensemble("regression"))
    expected = [("m1", 500), ("m2", 1000), ("m3/versions/v1", 1500), ("m3/versions/v2", 2000),
                ("VotingEnsemble", 1250.0), ("", 1250.0)]  # fmt: skip
    for model, value in expected:
        assert _outputs(context, model) == {"predictions": [value]}
        assert _outputs(context, model, rows=2) == {"predictions": [value] * 2}


@pytest.mark.parametrize("executor", ["thread", "process", "array"])
def test_the_classification_vote_with_each_executor(spec_env: Any, executor: str) -> None:
    context = spec_env(_ensemble("classification", executor_type=executor))
    answers = [_outputs(context, m)["predictions"] for m in ("m1", "m2", "m3/versions/v1")]
    assert answers == [[1], [2], [3]]
    assert _outputs(context, "VotingEnsemble", rows=2) == {"predictions": [1, 1]}  # a tie: first


@pytest.mark.parametrize("vote_type", ["regression", "classification"])
@pytest.mark.parametrize("executor", ["thread", "process", "array"])
def test_the_weighted_vote(spec_env: Any, vote_type: str, executor: str) -> None:
    context = spec_env(_ensemble(vote_type, weights=WEIGHTS, executor_type=executor))
    expected = (
        4 if vote_type == "classification" else 500 * 0.1 + 1000 * 0.2 + 1500 * 0.3 + 2000 * 0.4
    )
    assert _outputs(context, "VotingEnsemble") == {"predictions": [pytest.approx(expected)]}
    assert _outputs(context, "", rows=2) == {"predictions": [pytest.approx(expected)] * 2}
