"""After a hyper-parameter run, the URI without an iteration names the selected (best)
iteration's artifact everywhere a URI is read (as MLRun's link artifacts do); an artifact
that is not there is an error naming what is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import fnrun
import fnrun.serving
from fnrun.artifacts.model import get_model
from fnrun.errors import NotFoundError


def train(context: Any, p: int = 1) -> None:
    context.log_result("accuracy", p / 10)
    context.log_model("model", body=f"weights {p}".encode(), model_file="m.bin")
    context.log_dataset("data", df=pd.DataFrame({"p": [p, p]}))


class Served(fnrun.serving.V2ModelServer):  # type: ignore[misc]
    def load(self) -> None:
        path, _ = self.get_model(".bin")
        self.model = Path(path).read_text()

    def predict(self, request: dict[str, Any]) -> Any:
        return [self.model for _ in request["inputs"]]


def test_the_uri_without_an_iteration_is_the_best_iteration_everywhere() -> None:
    project = fnrun.get_or_create_project("best-uri", context="./")
    fn = fnrun.new_function("trainer", kind="handler", project="best-uri")
    run = fn.run(handler=train, hyperparams={"p": [1, 5, 3]}, selector="max.accuracy")
    assert run.outputs["best_iteration"] == 2
    model_uri = project.get_artifact_uri("model", category="model")
    assert model_uri == "store://models/best-uri/model"
    path, artifact, _extra = get_model(model_uri)
    assert Path(path).read_text() == "weights 5" and artifact.metadata.iter == 2
    frame = fnrun.get_dataitem("store://datasets/best-uri/data").as_df()
    assert frame["p"].tolist() == [5, 5]
    explicit = fnrun.get_dataitem("store://datasets/best-uri/data#3").as_df()
    assert explicit["p"].tolist() == [3, 3]  # a named iteration is that one
    serving = fnrun.new_function("scorer", kind="serving", project="best-uri")
    serving.add_model("m", class_name=Served, model_path=model_uri)  # type: ignore[attr-defined]
    server = serving.to_mock_server()  # type: ignore[attr-defined]
    assert server.test("/v2/models/m/infer", body={"inputs": [[1]]})["outputs"] == ["weights 5"]


def test_without_a_selector_the_error_names_the_iterations_there_are() -> None:
    fn = fnrun.new_function("trainer", kind="handler", project="no-best")
    fn.run(handler=train, hyperparams={"p": [1, 2]})
    with pytest.raises(NotFoundError, match="has no best iteration") as info:
        fnrun.get_dataitem("store://datasets/no-best/data").as_df()
    assert "iterations 1, 2" in info.value.message
    assert "store://.../no-best/data#2" in (info.value.hint or "")


def test_a_key_that_is_not_there_lists_the_keys_that_are() -> None:
    fn = fnrun.new_function("trainer", kind="handler", project="keys")
    fn.run(handler=train, params={"p": 1})
    with pytest.raises(NotFoundError, match="keys/modle not found") as info:
        get_model("store://models/keys/modle")
    assert "did you mean model" in (info.value.hint or "")
    with pytest.raises(NotFoundError) as other:
        fnrun.get_dataitem("store://artifacts/keys/zzz").get()
    assert "project keys has" in (other.value.hint or "") and "data" in (other.value.hint or "")
