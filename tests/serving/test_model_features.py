"""V2ModelServer features: background loading, request batching, model tracking."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import fnrun
from fnrun.serving import V2ModelServer

GATE = threading.Event()


class GatedModel(V2ModelServer):
    """Loads only when the test opens GATE; predicts ten times the first feature."""

    def load(self) -> None:
        if not GATE.wait(10):
            raise RuntimeError("gate never opened")
        if self.get_param("fail"):
            raise ValueError("weights file is corrupt")
        self.model = "loaded"

    def predict(self, request: dict[str, Any]) -> Any:
        return [row[0] * 10 for row in request["inputs"]]


class CountingModel(V2ModelServer):
    """Records each predict call's row count."""

    def load(self) -> None:
        self.calls: list[int] = []

    def predict(self, request: dict[str, Any]) -> Any:
        self.calls.append(len(request["inputs"]))
        if any(row[0] < 0 for row in request["inputs"]):
            raise ValueError("negative input")
        if self.get_param("short"):
            return [0]
        return [row[0] * 10 for row in request["inputs"]]


def _server(cls: str, engine: str = "sync", server_load: str = "", **class_args: Any) -> Any:
    fn = fnrun.new_function("models", kind="serving")
    fn.set_topology("router", engine=engine)  # type: ignore[attr-defined]
    fn.add_model("m", class_name=cls, **class_args)  # type: ignore[attr-defined]
    fn.spec.load_mode = server_load
    return fn, fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def _model(server: Any) -> Any:
    return next(o for o in server.server.compiled.objects if isinstance(o, V2ModelServer))


# -- load_mode="async" -----------------------------------------------------------------------


def test_async_load_answers_408_then_serves_and_stream_events_wait() -> None:
    GATE.clear()
    _, server = _server("GatedModel", server_load="async")  # returns at once: load is behind
    ready = server.test("/v2/models/m/ready", silent=True, get_body=False)
    assert ready.status_code == 408 and "still loading" in ready.body["message"]
    http = server.test("/v2/models/m/infer", body={"inputs": [[1]]}, silent=True)
    assert http.status_code == 408
    answers: list[Any] = []
    stream = threading.Thread(
        target=lambda: answers.append(
            server.test("/", body={"inputs": [[2]]}, trigger={"kind": "kafka"})
        )
    )
    stream.start()
    stream.join(0.3)
    assert stream.is_alive() and not answers  # the stream event waits for the model
    GATE.set()
    stream.join(5)
    assert answers[0]["outputs"] == [20]
    ready = server.test("/v2/models/m/ready", get_body=False, event_id="r1")  # MLRun's words
    expected = b"Model m is ready (event_id = r1)"
    assert (ready.status_code, ready.body, ready.content_type) == (200, expected, "text/plain")
    assert server.test("/v2/models/m/infer", body={"inputs": [[3]]})["outputs"] == [30]


def test_per_model_async_load_and_a_failed_load_answer_503() -> None:
    GATE.set()
    _, server = _server("GatedModel", fail=True, load_mode="async")
    model = _model(server)
    assert model._loaded.wait(5)
    out = server.test("/v2/models/m/ready", silent=True, get_body=False)
    assert out.status_code == 503
    assert "failed to load: weights file is corrupt" in out.body["message"]
    stream = server.test("/", body={"inputs": [[1]]}, trigger={"kind": "kafka"}, silent=True)
    assert stream.status_code == 503  # a stream event does not wait forever on a failed load


def test_sync_load_failure_fails_building_the_server() -> None:
    GATE.set()
    with pytest.raises(ValueError, match="weights file is corrupt"):
        _server("GatedModel", fail=True)


# -- request batching ------------------------------------------------------------------------


async def _concurrent(server: Any, values: list[int], path: str = "/v2/models/m/infer") -> Any:
    return await asyncio.gather(*(server.test_async(path, body={"inputs": [[v]]}) for v in values))


def test_concurrent_requests_share_predict_calls_and_get_their_own_answers() -> None:
    _, server = _server("CountingModel", engine="async", max_batch_size=4, max_wait_ms=200)
    outs = asyncio.run(_concurrent(server, list(range(8))))
    assert [o["outputs"] for o in outs] == [[v * 10] for v in range(8)]
    assert [o["id"] for o in outs] == sorted({o["id"] for o in outs}, key=lambda i: i)
    assert _model(server).calls == [4, 4]


def test_a_partial_batch_goes_out_after_max_wait() -> None:
    _, server = _server("CountingModel", engine="async", max_batch_size=100, max_wait_ms=20)
    outs = asyncio.run(_concurrent(server, [1, 2, 3]))
    assert [o["outputs"] for o in outs] == [[10], [20], [30]]
    assert _model(server).calls == [3]


def test_the_sync_engine_passes_requests_through_one_by_one() -> None:
    _, server = _server("CountingModel", max_batch_size=4)
    for v in (1, 2, 3):
        assert server.test("/v2/models/m/infer", body={"inputs": [[v]]})["outputs"] == [v * 10]
    assert _model(server).calls == [1, 1, 1]


def test_a_failing_batch_fails_each_of_its_requests_with_the_error() -> None:
    _, server = _server("CountingModel", engine="async", max_batch_size=3, max_wait_ms=200)
    outs = asyncio.run(_concurrent(server, [1, -1, 2]))
    assert [o.status_code for o in outs] == [500, 500, 500]
    assert all("negative input" in o.body["message"] for o in outs)
    _, short = _server(
        "CountingModel", engine="async", max_batch_size=2, max_wait_ms=200, short=True
    )
    outs = asyncio.run(_concurrent(short, [1, 2]))
    assert "predict returned 1 outputs for 2 batched rows" in outs[0].body["message"]


def test_batched_models_behind_a_voting_ensemble_are_asked_concurrently() -> None:
    fn = fnrun.new_function("ens", kind="serving")
    fn.set_topology("router", class_name="VotingEnsemble", engine="async")  # type: ignore[attr-defined]
    for name in ("a", "b"):
        fn.add_model(name, class_name="CountingModel", max_batch_size=2, max_wait_ms=200)  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    outs = asyncio.run(_concurrent(server, [1, 2], path="/"))
    assert [o["outputs"] for o in outs] == [[10], [20]]
    models = [o for o in server.server.compiled.objects if isinstance(o, CountingModel)]
    assert [m.calls for m in models] == [[2], [2]]


# -- tracking --------------------------------------------------------------------------------


def test_tracking_records_requests_in_batches_and_samples() -> None:
    fn = fnrun.new_function("tracked", kind="serving")
    fn.add_model("m", class_name="CountingModel", labels={"team": "fraud"})  # type: ignore[attr-defined]
    fn.set_tracking("kafka://broker:9092/monitoring", batch=2)  # type: ignore[attr-defined]
    assert fn.spec.track_models is True
    assert "log_stream" in fn.to_dict()["spec"]["parameters"]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    for v in (1, 2, 3):
        server.test("/v2/models/m/infer", body={"inputs": [[v]]})
    messages = server.streams.read("kafka://broker:9092/monitoring")
    assert len(messages) == 1  # the third record waits for its batch
    first, second = messages[0]["records"]
    assert first["model"] == "m" and first["step"] == "m" and first["function"] == "tracked"
    assert first["labels"] == {"team": "fraud"} and first["op"] == "infer"
    assert [first["inputs"], second["inputs"]] == [[[1]], [[2]]]
    assert [first["outputs"], second["outputs"]] == [[10], [20]]
    assert first["error"] is None and first["request_id"] != second["request_id"]
    assert all(isinstance(r["latency_us"], int) and r["latency_us"] >= 0 for r in (first, second))
    server.server.close()  # shutdown sends the partial batch
    assert server.streams.read("kafka://broker:9092/monitoring")[-1]["records"][0]["inputs"] == [
        [3]
    ]


def test_tracking_samples_by_request_id_and_always_records_failures() -> None:
    from fnrun.graph.keys import stable_hash

    fn = fnrun.new_function("tracked", kind="serving")
    fn.add_model("m", class_name="CountingModel")  # type: ignore[attr-defined]
    fn.set_tracking("memory://sampled-one-in-2", sample=2)  # MLRun's: one in 2  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    for v in range(1, 41):
        server.test("/v2/models/m/infer", body={"inputs": [[v]]}, event_id=f"req-{v}")
    server.test("/v2/models/m/infer", body={"inputs": [[-1]]}, silent=True, event_id="req-bad")
    records = fnrun.mock.read_stream("memory://sampled-one-in-2")
    chosen = [v for v in range(1, 41) if stable_hash(f"req-{v}") < 2**63]
    assert [r["request_id"] for r in records[:-1]] == [f"req-{v}" for v in chosen]
    assert 10 < len(chosen) < 30  # about half
    bad = records[-1]
    assert bad["error"] == "ValueError: negative input" and bad["inputs"] == [[-1]]
    fn.set_tracking("", enable_tracking=False)  # type: ignore[attr-defined]
    assert "log_stream" not in fn.spec.parameters and fn.spec.track_models is False
    with pytest.raises(fnrun.errors.InvalidArgumentError, match="batch must be a positive int"):
        fn.set_tracking("monitoring", batch=0)  # type: ignore[attr-defined]
