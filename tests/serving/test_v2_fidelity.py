"""V2ModelServer operations and hooks as MLRun's: infer_dict, logged_results."""

from __future__ import annotations

from typing import Any

import pytest

import fnrun
from fnrun.mock.server import MockRequestError
from fnrun.serving import V2ModelServer


class Weighted(V2ModelServer):
    def load(self) -> None:
        self.model = True
        self.inputs = [{"name": "a"}, {"name": "b"}]

    def predict(self, request: dict[str, Any]) -> Any:
        return [row[0] * 10 + row[1] for row in request["inputs"]]

    def logged_results(self, request: dict[str, Any], response: dict[str, Any], op: str) -> Any:
        return [len(r) for r in request["inputs"]], [o > 20 for o in response["outputs"]]


def _server(tracking: bool = False) -> Any:
    fn = fnrun.new_function("v2f", kind="serving")
    fn.add_model("w", class_name=Weighted)  # type: ignore[attr-defined]
    if tracking:
        fn.set_tracking("memory://v2-fidelity")  # type: ignore[attr-defined]
    return fn.to_mock_server()


def test_infer_dict_orders_rows_by_the_input_schema() -> None:
    server = _server()
    out = server.test(
        "/v2/models/w/infer_dict", body={"inputs": [{"b": 2, "a": 1}, {"a": 3, "b": 0}]}
    )
    assert out["outputs"] == [12, 30]
    assert server.test("/v2/models/w/predict_dict", body={"inputs": [{"a": 0, "b": 5}]})[
        "outputs"
    ] == [5]
    with pytest.raises(MockRequestError, match=r"status 400: rows lack features \['b'\]"):
        server.test("/v2/models/w/infer_dict", body={"inputs": [{"a": 1}]})


def test_logged_results_decides_what_tracking_records() -> None:
    server = _server(tracking=True)
    server.test("/v2/models/w/infer", body={"inputs": [[1, 2], [3, 4]]})
    (record,) = fnrun.mock.read_stream("memory://v2-fidelity")
    assert record["inputs"] == [2, 2]
    assert record["outputs"] == [False, True]
