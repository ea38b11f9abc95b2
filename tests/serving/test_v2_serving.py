"""A real scikit-learn model: trained by a run, logged with log_model, served by a
V2ModelServer subclass through the mock, over both request protocols."""

from __future__ import annotations

from typing import Any

import pytest

import fnrun
from fnrun.mock.server import MockRequestError
from tests.serving import sk_model

pytest.importorskip("sklearn", reason="scikit-learn not installed")

SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]


@pytest.fixture
def model_uri() -> str:
    run = fnrun.new_function("trainer", kind="handler").run(handler=sk_model.train, watch=False)
    return str(run.outputs["iris"])


def _server(model_uri: str, engine: str = "sync", **class_args: Any) -> Any:
    fn = fnrun.new_function("iris-serving", kind="serving")
    fn.set_topology("router", engine=engine)  # type: ignore[attr-defined]
    fn.add_model("iris", model_path=model_uri, class_name="SKModel", **class_args)  # type: ignore[attr-defined]
    fn.add_model("iris:v2", model_path=model_uri, class_name="SKModel", scale=10)  # type: ignore[attr-defined]
    return fn.to_mock_server(namespace=vars(sk_model))  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_row_list_infer(model_uri: str, engine: str) -> None:
    server = _server(model_uri, engine)
    out = server.test("/v2/models/iris/infer", body={"inputs": [SETOSA, VIRGINICA]}, event_id="r1")
    assert out["outputs"] == [0, 2]
    assert out["id"] == "r1" and out["model_name"] == "iris" and "timestamp" in out


def test_open_inference_protocol_tensors(model_uri: str) -> None:
    server = _server(model_uri)
    body = {
        "inputs": [
            {"name": "x", "shape": [2, 4], "datatype": "FP64", "data": [*SETOSA, *VIRGINICA]}
        ]
    }
    out = server.test("/v2/models/iris/infer", body=body)
    assert out["outputs"] == [
        {"name": "output-0", "shape": [2], "datatype": "INT64", "data": [0, 2]}
    ]
    with pytest.raises(
        MockRequestError, match=r"status 400: data of 3 elements does not fit shape"
    ):
        server.test(
            "/v2/models/iris/infer",
            body={"inputs": [{"name": "x", "shape": [1, 4], "data": [1, 2, 3]}]},
        )


def test_versions_metadata_ready_list_and_custom_ops(model_uri: str) -> None:
    server = _server(model_uri)
    assert server.test("/v2/models/iris/versions/v2/infer", body={"inputs": [VIRGINICA]})[
        "outputs"
    ] == [20]
    meta = server.test("/v2/models/iris", method="GET")
    assert sorted(meta) == ["inputs", "name", "outputs", "version"]  # MLRun's keys
    assert meta["name"] == "iris" and len(meta["inputs"]) == 4
    ready = server.test("/v2/models/iris/ready", method="GET", get_body=False)
    assert ready.status_code == 200
    assert server.test("/v2/models/", method="GET") == {"models": ["iris", "iris:v2"]}
    router = {"name": "ModelRouter", "version": "v2", "extensions": []}
    assert server.test("/v2/health", method="GET") == router
    assert server.test("/", method="GET") == router
    assert server.test("/v2/models/iris/classes", body={}) == {"classes": [0, 1, 2]}
    with pytest.raises(MockRequestError, match=r"status 400: model 'iris' has no operation 'nope'"):
        server.test("/v2/models/iris/nope", body={})
    with pytest.raises(MockRequestError, match=r"status 404: no model 'rose'.*"):
        server.test("/v2/models/rose/infer", body={"inputs": [SETOSA]})
    with pytest.raises(MockRequestError, match=r"status 400: the request needs an 'inputs' list"):
        server.test("/v2/models/iris/infer", body={"rows": [SETOSA]})


def test_stream_events_name_model_and_operation(model_uri: str) -> None:
    server = _server(model_uri)
    out = server.test("/", body={"model": "iris", "operation": "infer", "inputs": [SETOSA]})
    assert out["outputs"] == [0]


def test_add_model_errors() -> None:
    fn = fnrun.new_function("s", kind="serving")
    with pytest.raises(fnrun.InvalidArgumentError, match="needs class_name"):
        fn.add_model("m", model_path="x")  # type: ignore[attr-defined]
    with pytest.raises(fnrun.InvalidArgumentError, match="model_url= serves the model elsewhere"):
        fn.add_model("m", class_name="A", model_url="http://x")  # type: ignore[attr-defined]
    flow = fnrun.new_function("f", kind="serving")
    flow.set_topology("flow")  # type: ignore[attr-defined]
    with pytest.raises(fnrun.InvalidArgumentError, match="add_model needs a router"):
        flow.add_model("m", class_name="A")  # type: ignore[attr-defined]


def test_response_timestamps_are_iso_utc_and_current() -> None:
    from datetime import UTC, datetime

    from fnrun.graph.protocol import timestamp

    before = datetime.now(UTC)
    stamps = [timestamp() for _ in range(3)]
    after = datetime.now(UTC)
    for stamp in stamps:
        when = datetime.fromisoformat(stamp)
        assert before <= when <= after and stamp.endswith("+00:00") and len(stamp) == 32
