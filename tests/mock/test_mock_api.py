"""The mock server's MLRun-shaped API: errors, create_graph_server, error stream object,
deploy/invoke with mock=True, serving functions from a command file, MockEvent/MockTrigger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.model.graph import FlowStep
from fnrun.serving import MockEvent, MockTrigger, create_graph_server


def inc(x: int) -> int:
    return x + 1


def boom(x: Any) -> Any:
    raise ValueError("bad input")


def _fn(handler: str = "inc") -> Any:
    fn = fnrun.new_function("mockapi", kind="serving")
    fn.set_topology("flow").to(handler=handler, name="s")  # type: ignore[attr-defined]
    return fn


def test_error_response_raises_a_runtime_error() -> None:
    server = _fn("boom").to_mock_server()
    with pytest.raises(RuntimeError, match="bad input"):
        server.test(body=1)


def test_create_graph_server_with_init_states_and_init_object() -> None:
    graph = FlowStep()
    graph.to(handler="inc", name="a").to(handler="(event * context)", name="b")
    server = create_graph_server(graph=graph.to_dict(), parameters={"p": 1})
    server.init_states(None, namespace={"inc": inc})
    with pytest.raises(fnrun.InvalidArgumentError, match="unknown name 'context'"):
        server.init_object()  # the expression only knows 'event': refused when built
    graph2 = FlowStep()
    graph2.to(handler="inc", name="a")
    server2 = create_graph_server(graph=graph2, parameters={"p": 1})
    server2.init_states(None, namespace={"inc": inc})
    server2.init_object()
    assert server2.test(body=1) == 2
    assert server2.context.get_param("p") == 1


class Collector:
    def __init__(self, fail: bool = False) -> None:
        self.records: list[dict[str, Any]] = []
        self.fail = fail

    def push(self, record: dict[str, Any]) -> None:
        if self.fail:
            raise OSError("stream down")
        self.records.append(record)


def test_settable_error_stream_object_gets_the_error_records() -> None:
    server = _fn("boom").to_mock_server()
    server.error_stream = "dummy:///errors"
    server._error_stream_object = collector = Collector()
    server.test(body=1, silent=True)
    assert [r["message"] for r in collector.records] == ["bad input"]
    server.error_stream_object = Collector(fail=True)  # a failing sink never fails the request
    response = server.test(body=2, silent=True, get_body=False)
    assert response.status_code == 500 and len(server.errors) == 2


def test_deploy_mock_and_invoke_go_through_the_mock() -> None:
    fn = _fn()
    assert fn.deploy(mock=True) == "mock://mockapi"
    assert fn.invoke("/", body=41) == 42
    other = _fn()
    assert other.invoke("/", body=1, mock=True) == 2  # never deployed: a mock is built
    third = _fn()
    assert fnrun.deploy_function(third, mock=True) == "mock://mockapi"
    assert third.invoke("/", body=5) == 6
    with pytest.raises(fnrun.InvalidArgumentError, match="not deployed as a service"):
        fnrun.deploy_function(fnrun.new_function("job", kind="job"), mock=True)


def test_serving_function_from_a_command_file(tmp_path: Path) -> None:
    code = tmp_path / "steps.py"
    code.write_text("class Half:\n    def do(self, x):\n        return x / 2\n")
    fn = fnrun.new_function("cmd", kind="serving", command=str(code))
    fn.set_topology("flow").to("Half")  # type: ignore[attr-defined]
    assert fn.to_mock_server(namespace={}).test(body=3) == 1.5


def test_mock_event_and_trigger_names() -> None:
    event = MockEvent(body=3, path="/x", event_id="e7", trigger=MockTrigger("kafka", "t"))
    server = _fn().to_mock_server()
    assert server.server.run(event, get_body=True) == 4
    assert (event.id, event.trigger.kind, event.trigger.name) == ("e7", "kafka", "t")
