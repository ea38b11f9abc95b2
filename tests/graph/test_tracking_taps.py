"""Tracking taps: one record per tracked call (models by default, chosen steps too), errors
included, sampled by request id, to a folder of JSON lines, memory or Kafka; a sink that fails
never fails a request and its losses are counted."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import fnrun
from fnrun.graph.keys import stable_hash
from fnrun.serving import TrafficSplit, V2ModelServer

KEYS = {"function", "step", "model", "version", "request_id", "when", "latency_us", "inputs",
        "outputs", "error"}  # fmt: skip


class Doubler(V2ModelServer):
    def load(self) -> None:
        self.factor = 2

    def predict(self, request: dict[str, Any]) -> Any:
        return [row[0] * self.factor for row in request["inputs"]]


def prep(body: Any) -> Any:
    if body.get("bad"):
        raise ValueError("a bad request")
    return {"inputs": [[body["x"]]]}


def mutate(body: Any) -> Any:
    body["outputs"].append("changed later")  # a later step changes the answer in place
    return body


def _flow(path: str, **tracking: Any) -> Any:
    fn = fnrun.new_function("tapped", kind="serving")
    graph = fn.set_topology("flow", engine="sync")  # type: ignore[attr-defined]
    graph.to(handler="prep", name="prep").to(class_name=Doubler, name="m", model_path="x").to(
        handler="mutate", name="after"
    ).respond()
    fn.set_tracking(path, **tracking)  # type: ignore[attr-defined]
    return fn


def test_models_and_chosen_steps_are_recorded_with_their_errors() -> None:
    fn = _flow("memory://taps-steps", steps=["prep"])
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    answer = server.test("/", {"x": 4}, event_id="r1")
    assert answer["outputs"] == [8, "changed later"]
    server.test("/", {"bad": True}, event_id="r2", silent=True)
    records = fnrun.mock.read_stream("memory://taps-steps")
    assert all(set(r) >= KEYS for r in records)
    by = {(r["request_id"], r["step"]): r for r in records}
    prep_ok, model = by[("r1", "prep")], by[("r1", "m")]
    assert prep_ok["inputs"] == {"x": 4} and prep_ok["outputs"] == {"inputs": [[4]]}
    assert model["model"] == "m" and model["inputs"] == [[4]]
    assert model["outputs"] == [8]  # as the model answered, not as a later step changed it
    assert model["function"] == "tapped" and model["error"] is None
    failed = by[("r2", "prep")]
    assert failed["error"] == "ValueError: a bad request" and failed["outputs"] is None
    assert ("r1", "after") not in by  # not a chosen step


def test_a_share_of_requests_by_a_stable_hash_of_the_id() -> None:
    fn = _flow("memory://taps-share", sample=0.25)
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    for i in range(400):
        server.test("/", {"x": i}, event_id=f"id-{i}")
    seen = [r["request_id"] for r in fnrun.mock.read_stream("memory://taps-share")]
    expected = [f"id-{i}" for i in range(400) if stable_hash(f"id-{i}") < 2**64 // 4]
    assert seen == expected and 70 < len(seen) < 130
    with pytest.raises(fnrun.InvalidArgumentError, match="not a share from 0 to 1"):
        fn.set_tracking("memory://x", sample=1.5)  # type: ignore[attr-defined]
    with pytest.raises(fnrun.InvalidArgumentError, match="does not take stream_args"):
        fn.set_tracking("memory://x", stream_args={"a": 1})  # type: ignore[attr-defined]


def test_a_folder_gets_json_lines_one_file_per_process(tmp_path: Path) -> None:
    folder = tmp_path / "tracking"
    server = _flow(f"file://{folder}").to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    server.test("/", {"x": 1}, event_id="a")
    deadline = time.monotonic() + 3  # written at least every second
    while not any(p.stat().st_size for p in folder.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    (path,) = folder.iterdir()
    assert path.name.endswith(f"-{os.getpid()}.jsonl") and path.name.startswith("tapped-")
    assert json.loads(path.read_text().splitlines()[0])["request_id"] == "a"
    server.test("/", {"x": 2}, event_id="b")
    server.close()  # at shutdown too
    assert [json.loads(line)["request_id"] for line in path.read_text().splitlines()] == ["a", "b"]


def test_a_failing_sink_never_fails_a_request_and_is_counted(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    server = _flow(str(folder)).to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    folder.rmdir()
    folder.write_text("a file where the folder was")  # every write now fails
    for i in range(3):
        assert server.test("/", {"x": i})["outputs"][0] == 2 * i
    server.close()
    samples = {n: v for n, _k, _l, v in server.server.load_samples("tapped")}
    assert samples["fnrun_tracking_records_lost"] == 3


def test_a_shadow_is_tracked_and_only_tracked() -> None:
    fn = fnrun.new_function("shadowed", kind="serving")
    fn.set_topology("router", TrafficSplit(weights={"v1": 1}, mirror={"v2": 1.0}))  # type: ignore[attr-defined]
    for name in ("v1", "v2"):
        fn.add_model(name, class_name=Doubler, model_path="x")  # type: ignore[attr-defined]
    fn.set_tracking("memory://taps-shadow")  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    assert server.test("/", {"inputs": [[5]]}, event_id="s1")["model_name"] == "v1"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        records = fnrun.mock.read_stream("memory://taps-shadow")
        if {r["model"] for r in records} == {"v1", "v2"}:
            break
        time.sleep(0.02)
    assert sorted((r["model"], r["outputs"][0]) for r in records) == [("v1", 10), ("v2", 10)]


def test_a_served_function_writes_its_folder(tmp_path: Path) -> None:
    code = tmp_path / "served_model.py"
    code.write_text(
        "from fnrun.serving import V2ModelServer\n"
        "class Triple(V2ModelServer):\n"
        "    def predict(self, request):\n"
        "        return [row[0] * 3 for row in request['inputs']]\n"
    )
    fn = fnrun.code_to_function("served-tapped", filename=str(code), kind="serving")
    fn.add_model("t", class_name="Triple", model_path="x")  # type: ignore[attr-defined]
    folder = tmp_path / "records"
    fn.set_tracking(str(folder))  # type: ignore[attr-defined]
    url = fn.deploy()  # type: ignore[attr-defined]
    try:
        answer = httpx.post(f"{url}/v2/models/t/infer", json={"inputs": [[2]]}, timeout=10)
        assert answer.json()["outputs"] == [6]
        deadline = time.monotonic() + 5
        lines: list[str] = []
        while not lines and time.monotonic() < deadline:
            lines = [ln for p in folder.glob("*.jsonl") for ln in p.read_text().splitlines()]
            time.sleep(0.05)
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
    finally:
        fn.stop()  # type: ignore[attr-defined]
    (record,) = [json.loads(line) for line in lines]
    assert record["function"] == "served-tapped" and record["outputs"] == [6]
    assert 'fnrun_tracking_records_total{function="served-tapped"} 1' in metrics
