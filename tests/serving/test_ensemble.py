from __future__ import annotations

from typing import Any

import pytest

import fnrun
from fnrun.graph.model_routers import VotingEnsemble
from tests.serving import sk_model


def _ensemble(answers: dict[str, list[Any]], **class_args: Any) -> Any:
    fn = fnrun.new_function("ens", kind="serving")
    fn.set_topology("router", class_name="VotingEnsemble", **class_args)  # type: ignore[attr-defined]
    for name, values in answers.items():
        fn.add_model(name, class_name="Fixed", model=True, answers=values)  # type: ignore[attr-defined]
    return fn.to_mock_server(namespace=vars(sk_model))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "engine_answers",
    [
        ({"a": [1, 0], "b": [1, 2], "c": [0, 2]}, [1, 2]),  # majority per row
    ],
)
def test_classification_vote(engine_answers: tuple[dict[str, list[Any]], list[Any]]) -> None:
    answers, expected = engine_answers
    server = _ensemble(answers)
    out = server.test("/v2/models/infer", body={"inputs": [[0], [0]]})
    assert (out["outputs"] == expected and out["model_name"] == "router") or out[
        "outputs"
    ] == expected


def test_weights_and_regression_and_single_model_paths() -> None:
    server = _ensemble({"a": [1.0, 2.0], "b": [3.0, 4.0]}, weights={"a": 3})
    assert server.test("/", body={"inputs": [[0], [0]]})["outputs"] == [1.5, 2.5]
    assert server.test("/v2/models/b/infer", body={"inputs": [[0]]})["outputs"] == [3.0]
    weighted = _ensemble({"a": [1], "b": [2], "c": [2]}, weights={"a": 5})
    assert weighted.test("/", body={"inputs": [[0]]})["outputs"] == [1]
    forced = _ensemble({"a": [1], "b": [2]}, vote_type="regression")
    assert forced.test("/", body={"inputs": [[0]]})["outputs"] == [1.5]


def test_bad_vote_type() -> None:
    with pytest.raises(fnrun.InvalidArgumentError, match="unknown vote_type"):
        VotingEnsemble(vote_type="median")


def test_sklearn_models_ensemble() -> None:
    pytest.importorskip("sklearn", reason="scikit-learn not installed")
    uris = []
    for c in (0.5, 1.0, 2.0):
        run = fnrun.new_function("trainer", kind="handler").run(
            handler=sk_model.train, params={"c": c}, watch=False
        )
        uris.append(run.outputs["iris"])
    fn = fnrun.new_function("iris-ens", kind="serving")
    fn.set_topology("router", class_name="VotingEnsemble")  # type: ignore[attr-defined]
    for i, uri in enumerate(uris):
        fn.add_model(f"m{i}", model_path=uri, class_name="SKModel")  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=vars(sk_model))  # type: ignore[attr-defined]
    out = server.test("/", body={"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})
    assert out["outputs"] == [0, 2]
