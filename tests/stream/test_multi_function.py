"""A graph over two functions joined by a Kafka topic: deployed as two local processes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import fnrun
from tests.stream.test_kafka import _consume, broker  # noqa: F401 - the broker fixture

pytestmark = pytest.mark.integration

CODE = """
def add(body):
    return {"n": body["n"] + 1}

def double(body):
    return {"n": body["n"] * 2, "by": "worker"}
"""


def _child_pids(pid: int) -> list[int]:
    """The worker processes under a uvicorn master (not multiprocessing's resource tracker)."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    pids = [int(p) for p in text.split()]
    return [p for p in pids if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def test_deploy_spreads_the_graph_and_it_answers_end_to_end(tmp_path: Path, broker: str) -> None:  # noqa: F811
    pytest.importorskip("uvicorn", reason="uvicorn not installed")
    code = tmp_path / "pipeline.py"
    code.write_text(CODE)
    link, out = f"link-{uuid.uuid4().hex[:8]}", f"out-{uuid.uuid4().hex[:8]}"
    # a fresh name, so a fresh consumer group: Tansu can leave a reused group stuck after its
    # members were stopped (a broker quirk; real Kafka resumes the group's offsets)
    name = f"pipeline-{uuid.uuid4().hex[:6]}"
    fn = fnrun.code_to_function(name, filename=str(code), kind="serving", project="multi")
    graph = fn.set_topology("flow")  # type: ignore[attr-defined]
    graph.to(handler="add", name="add").respond()
    graph.add_step(">>", "link", after="add", path=f"kafka://{broker}/{link}")
    graph.add_step(handler="double", name="double", after="link", function="worker")
    graph.add_step(">>", "out", after="double", path=f"kafka://{broker}/{out}", function="worker")
    fn.add_child_function("worker", replicas=2)  # type: ignore[attr-defined]
    assert fn.to_mock_server().test(body={"n": 1}) == {"n": 2}  # the same graph, whole, in the mock
    try:
        fn.deploy(timeout=90)  # type: ignore[attr-defined]
        assert set(fn.status.extra["children"]) == {"worker"}
        worker = fn.status.extra["children"]["worker"]
        assert worker["replicas"] == 2 and len(_child_pids(worker["pid"])) == 2
        assert fn.invoke("/", {"n": 1}) == {"n": 2}  # type: ignore[attr-defined]
        assert fn.invoke("/", {"n": 10}) == {"n": 11}  # type: ignore[attr-defined]
        results = _consume(broker, out, 2, timeout=60)
        assert sorted(r["n"] for r in results) == [4, 22] and results[0]["by"] == "worker"
    finally:
        fn.stop()  # type: ignore[attr-defined]
