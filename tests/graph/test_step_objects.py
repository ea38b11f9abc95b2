"""Step objects, positional step forms, markers and builder verbs as MLRun's."""

from __future__ import annotations

from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.model.graph import RouterStep, TaskStep
from fnrun.model.serialize import from_yaml
from fnrun.serving import ParallelRun, RemoteStep, V2ModelServer, VotingEnsemble
from tests.graph import mlrun_style_steps
from tests.graph.mlrun_style_steps import EchoModel, Labeller

NS = vars(mlrun_style_steps)


def _flow(engine: str = "") -> tuple[object, object]:
    fn = fnrun.new_function("objects", kind="serving")
    return fn, fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]


def test_model_object_in_a_flow_keeps_its_init_args(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to(EchoModel(name="m", factor=10))  # type: ignore[attr-defined]
    step = graph["m"]  # type: ignore[index]
    assert step.class_name == "tests.graph.mlrun_style_steps.EchoModel"
    assert step.class_args == {"factor": 10, "protocol": "v2"}  # MLRun writes the protocol too
    server = fn.to_mock_server(namespace=NS)  # type: ignore[attr-defined]
    out = server.test("/v2/models/m/infer", body={"inputs": [[1, 2]]})
    assert out["outputs"] == [30]


def test_plain_object_args_read_back_from_attributes(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to(Labeller(label="cat"), name="lab")  # type: ignore[attr-defined]
    assert graph["lab"].class_args == {"label": "cat"}  # type: ignore[index]
    server = fn.to_mock_server(namespace=NS)  # type: ignore[attr-defined]
    assert server.test(body=1) == {"label": "cat", "body": 1}


def test_builtin_step_objects_have_to_dict() -> None:
    remote = RemoteStep(name="r", url="http://127.0.0.1:1/x", retries=2)
    assert remote.to_dict() == {  # MLRun's shape: no kind for a task, return_json written
        "class_name": "mlrun.serving.remote.RemoteStep",  # MLRun's path, fnrun loads it
        "class_args": {"url": "http://127.0.0.1:1/x", "retries": 2, "return_json": True},
        "name": "r",
    }
    ensemble = VotingEnsemble(vote_type="regression", weights={"a": 2})
    assert ensemble.to_dict()["kind"] == "router"
    assert ensemble.to_dict()["class_args"] == {"vote_type": "regression", "weights": {"a": 2}}
    assert ParallelRun(executor_type="array").to_dict()["class_args"] == {"executor_type": "array"}
    assert V2ModelServer(name="m", model_path="x.pkl").to_dict()["class_args"] == {
        "model_path": "x.pkl",
        "protocol": "v2",
    }


def test_router_topology_from_an_ensemble_object() -> None:
    fn = fnrun.new_function("ens", kind="serving")
    graph = fn.set_topology("router", VotingEnsemble(vote_type="regression"))  # type: ignore[attr-defined]
    assert isinstance(graph, RouterStep)
    assert graph.class_args == {"vote_type": "regression"}
    fn.add_model("a", class_name=EchoModel(factor=1))  # type: ignore[attr-defined]
    fn.add_model("b", class_name=EchoModel(factor=3))  # type: ignore[attr-defined]
    out = fn.to_mock_server(namespace=NS).test("/v2/models/infer", body={"inputs": [[1, 1]]})  # type: ignore[attr-defined]
    assert out["outputs"] == [4.0]  # mean of 2 and 6


def test_router_topology_from_a_parallel_run_object() -> None:
    fn = fnrun.new_function("par", kind="serving")
    fn.set_topology("router", ParallelRun(executor_type="array"))  # type: ignore[attr-defined]
    fn.add_model("a", class_name="Double")  # type: ignore[attr-defined]
    fn.add_model("b", class_name="Labeller", label="z")  # type: ignore[attr-defined]
    out = fn.to_mock_server(namespace=NS).test(body=2)  # type: ignore[attr-defined]
    assert out == {"a": 4, "label": "z", "body": 2}


def test_positional_task_and_router_steps() -> None:
    task = TaskStep("Scaled", {"factor": 2}, name="s")
    assert (task.kind, task.class_name, task.class_args, task.name) == (
        "task",
        "Scaled",
        {"factor": 2},
        "s",
    )
    router = RouterStep("VotingEnsemble", {"vote_type": "classification"})
    assert (router.kind, router.class_name) == ("router", "VotingEnsemble")
    fn, graph = _flow()
    graph.to(task)  # type: ignore[attr-defined]
    assert fn.to_mock_server(namespace=NS).test(body=4) == 8  # type: ignore[attr-defined]


def test_star_marker_adds_a_router_and_add_model_finds_it(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to(handler="(event)", name="pre").to("*", name="models").to(handler="(event['outputs'])")  # type: ignore[attr-defined]
    assert isinstance(graph["models"], RouterStep)  # type: ignore[index]
    fn.add_model("m", class_name="EchoModel", factor=1)  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace=NS)  # type: ignore[attr-defined]
    assert server.test("/v2/models/m/infer", body={"inputs": [[1, 2]]}) == [3]
    _fn2, graph2 = _flow(engine)
    graph2.to("*VotingEnsemble", name="vote", vote_type="regression")  # type: ignore[attr-defined]
    assert graph2["vote"].class_name == "VotingEnsemble"  # type: ignore[index]
    assert graph2["vote"].class_args == {"vote_type": "regression"}  # type: ignore[index]


def test_add_model_with_two_routers_must_name_one() -> None:
    fn, graph = _flow()
    graph.to("*", name="r1").to("*", name="r2")  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgumentError, match="several routers: r1, r2"):
        fn.add_model("m", class_name="EchoModel")  # type: ignore[attr-defined]
    fn.add_model("m", class_name="EchoModel", router_step="r2")  # type: ignore[attr-defined]
    assert list(graph["r2"].routes) == ["m"]  # type: ignore[index]


def test_remote_marker_builds_a_remote_step() -> None:
    _fn, graph = _flow()
    graph.to("$remote", name="call", url="http://127.0.0.1:9/x")  # type: ignore[attr-defined]
    assert graph["call"].class_name == "RemoteStep"  # type: ignore[index]


def test_error_handler_returns_its_step_and_to_goes_on_from_it(engine: str) -> None:
    fn, graph = _flow(engine)
    after = graph.to(handler="(event + 1)", name="a").error_handler("catch", handler="(event)")  # type: ignore[attr-defined]
    assert after is graph["a"]  # type: ignore[index]
    after.to("Double", name="b")
    assert graph["b"].after == ["a"]  # type: ignore[index]
    assert graph["a"].on_error == "catch"  # type: ignore[index]
    assert graph.error_handler("all", handler="(event)") is graph  # type: ignore[attr-defined]
    assert fn.to_mock_server(namespace=NS).test(body=1) == 4  # type: ignore[attr-defined]


def test_after_step_adds_parents() -> None:
    _fn, graph = _flow()
    graph.add_step("Double", name="a")  # type: ignore[attr-defined]
    graph.add_step("Double", name="b")  # type: ignore[attr-defined]
    c = graph.add_step("Double", name="c", after="a")  # type: ignore[attr-defined]
    assert c.after_step("b", graph["a"]) is c  # type: ignore[index]
    assert c.after == ["a", "b"]
    assert c.after_step("b", append=False).after == ["b"]


def test_graph_plot_and_to_yaml_on_the_graph(tmp_path: Path) -> None:
    _fn, graph = _flow()
    graph.to("Double", name="a").to("Scaled", name="b", factor=2)  # type: ignore[attr-defined]
    target = tmp_path / "new" / "deeper" / "g.svg"
    svg = graph.plot(str(target))  # type: ignore[attr-defined]
    assert target.read_text() == svg
    assert "b: Scaled<" in svg
    data = from_yaml(graph.to_yaml())  # type: ignore[attr-defined]
    assert data["kind"] == "flow"
    assert data["steps"]["b"] == {
        "kind": "task",
        "after": ["a"],
        "class_name": "Scaled",
        "class_args": {"factor": 2},
    }


def test_routes_assignment_names_each_route() -> None:
    fn = fnrun.new_function("routes", kind="serving")
    graph = fn.set_topology("router")  # type: ignore[attr-defined]
    graph.routes = {"m1": EchoModel(factor=2), "m2": {"class_name": "EchoModel"}}
    assert [r.name for r in graph.routes.values()] == ["m1", "m2"]
    server = fn.to_mock_server(namespace=NS)  # type: ignore[attr-defined]
    assert server.test("/v2/models/m1/infer", body={"inputs": [[1]]})["outputs"] == [2]


def echo(x: object) -> object:
    return x


def test_get_listing_through_a_router_inside_a_flow(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to(handler="echo", name="pre").to("*", name="models")  # type: ignore[attr-defined]
    fn.add_model("m1", class_name="EchoModel")  # type: ignore[attr-defined]
    fn.add_model("m2", class_name="EchoModel")  # type: ignore[attr-defined]
    server = fn.to_mock_server(namespace={**NS, "echo": echo})  # type: ignore[attr-defined]
    assert server.test("/v2/models/", method="GET") == {"models": ["m1", "m2"]}
    assert server.test("/v2/models/m1", method="GET")["name"] == "m1"


def test_step_objects_serialize_as_mlrun() -> None:
    """MLRun's ``test_to_dict``: the same shape (fnrun's class paths)."""
    remote = RemoteStep(name="remote_echo", url="/url", method="GET", input_path="req",
                        result_path="resp", retries=4)  # fmt: skip
    assert remote.to_dict() == {
        "name": "remote_echo",
        "class_args": {"method": "GET", "return_json": True, "url": "/url", "retries": 4},
        "class_name": "mlrun.serving.remote.RemoteStep",  # MLRun's path, fnrun loads it
        "input_path": "req",
        "result_path": "resp",
    }
    assert V2ModelServer(name="ms", model_path="./xx", multiplier=7).to_dict() == {
        "class_args": {"model_path": "./xx", "multiplier": 7, "protocol": "v2"},
        "class_name": "mlrun.serving.v2_serving.V2ModelServer",
        "name": "ms",
    }
