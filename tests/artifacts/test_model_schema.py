"""MLRun's ``log_model(training_set=, label_column=, target_path=)`` (also on a project): the
model's inputs and outputs come from the training set, and a V2 server built on it answers
``infer_dict`` rows, one dict or many, in the schema's order."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.serving import V2ModelServer

pd = pytest.importorskip("pandas")


class Summer(V2ModelServer):
    def load(self) -> None:
        path, _ = self.get_model(".pkl")
        self.factor = pickle.loads(Path(path).read_bytes())

    def predict(self, request: dict[str, Any]) -> Any:
        rows = request["inputs"]
        rows = rows if isinstance(rows[0], list) else [rows]
        return [sum(r) * self.factor for r in rows]


def test_a_project_model_gets_its_schema_from_the_training_set(tmp_path: Path) -> None:
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(pickle.dumps(10))
    train = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4], "kind": ["x", "y"], "label": [0, 1]})
    project = fnrun.new_project("schema", context=str(tmp_path))
    model = project.log_model(
        "m",
        target_path=str(folder),
        model_file="model.pkl",
        training_set=train,
        label_column="label",
        upload=False,
    )
    spec = model.meta.spec if hasattr(model, "meta") else fnrun.get_dataitem(model.uri).meta.spec
    assert [(f["name"], f["value_type"]) for f in spec["inputs"]] == [
        ("a", "float"),
        ("b", "int"),
        ("kind", "str"),
    ]
    assert spec["outputs"] == [{"name": "label", "value_type": "int"}]

    fn = fnrun.new_function("schema-srv", kind="serving")
    fn.add_model("m1", model.uri, class_name="Summer")  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    meta = server.test("/v2/models/m1/", method="GET")
    assert len(meta["inputs"]) == 3 and len(meta["outputs"]) == 1
    one = {"b": 3, "a": 1.0, "kind": 0}
    assert server.test("/v2/models/m1/infer_dict", {"inputs": one})["outputs"] == [40.0]
    many = server.test("/v2/models/m1/infer_dict", {"inputs": [one, one]})["outputs"]
    assert many == [40.0, 40.0]
    with pytest.raises(InvalidArgumentError, match="label_column"):
        project.log_model("bad", body=b"x", training_set=train, label_column="nope")
