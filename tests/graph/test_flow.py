"""Graph behaviour; every test runs on both engines and asserts the same response."""

from __future__ import annotations

import json

import pytest

import fnrun
from fnrun.mock.server import MockRequestError
from tests.graph import steps_for_tests
from tests.graph.conftest import mock, serving
from tests.graph.steps_for_tests import Counter


def test_chain_of_classes_and_handlers(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to("Chain", name="s1").to("Chain", name="s2").to(handler="listify", name="wrap")
    assert mock(fn).test(body=[]) == [["s1", "s2"]]


def test_class_args_post_init_params_and_context_handlers(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to("Counter", name="c", start=7).to(handler="with_context", name="h", input_path="count")
    before = Counter.post_inits
    server = mock(fn, parameters={"p": "P"}, secrets={"TOKEN": "t"})
    assert Counter.post_inits == before + 1
    assert server.test(body={}) == {"x": 7, "secret": "t"}


def test_branches_get_independent_copies_and_merge_joins_them(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to("Mutator", name="root", key="a")
    graph.add_step("Mutator", name="left", after="root", key="b")
    graph.add_step("Mutator", name="right", after="root", key="b")
    graph.add_step("Merge", name="join", after=["left", "right"])
    graph.add_step(handler="listify", name="out", after="join").respond()
    assert mock(fn).test(body={}) == [[{"a": 1, "b": 1}, {"a": 1, "b": 1}]]


def test_step_after_two_branches_runs_once_per_upstream_event(engine: str) -> None:
    """MLRun's semantics: no implicit join; the first event to reach the responder answers."""
    fn, graph = serving(engine)
    seen: list[object] = []
    graph.to(handler="inc", name="a")
    graph.add_step(handler="double", name="b", after="a")
    graph.add_step(handler="inc", name="c", after="a")
    graph.add_step(handler="record", name="j", after=["b", "c"]).respond()
    server = fn.to_mock_server(namespace={**vars(steps_for_tests), "record": seen_by(seen)})
    assert server.test(body=1) == 4
    assert seen == [4, 3]


def seen_by(seen: list[object]) -> object:
    def record(x: object) -> object:
        seen.append(x)
        return x

    return record


def test_responder_in_the_middle_and_none_stops_a_branch(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a").respond()
    graph.add_step(handler="drop", name="d", after="a")
    graph.add_step(handler="double", name="after-drop", after="d")
    assert mock(fn).test(body=1) == 2


def test_input_and_result_paths(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a", input_path="data.x", result_path="out.y")
    assert mock(fn).test(body={"data": {"x": 1}}) == {"data": {"x": 1}, "out": {"y": 2}}


def test_full_event_steps_see_nuclio_event_fields(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to("EventEcho", name="e")
    out = mock(fn).test("/some/path", body={"a": 1}, headers={"x-h": "v"}, event_id="id-1")
    assert out == {
        "path": "/some/path",
        "id": "id-1",
        "header": "v",
        "method": "POST",
        "body": {"a": 1},
    }


def test_step_error_handler_gets_input_and_continues(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a").to("Boom", name="boom").to(handler="listify", name="end")
    graph["boom"].error_handler("catch", class_name="Catcher", before="end")
    server = mock(fn)
    out = server.test(body=1)
    assert out == [{"caught": "ValueError: boom happened", "origin": "boom", "input": 2}]


def test_graph_error_handler_answers(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a").to("Boom", name="boom")
    graph.error_handler("catch", class_name="Catcher")
    assert mock(fn).test(body=1)["origin"] == "boom"


def test_failing_step_is_a_clear_error_never_a_silent_200(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a").to("Boom", name="boom")
    server = mock(fn, verbose=True)
    with pytest.raises(MockRequestError, match=r"status 500: boom happened \(step 'boom'\)"):
        server.test(body=1)
    response = server.test(body=1, silent=True)
    assert response.status_code == 500
    assert response.body["step"] == "boom" and response.body["error"] == "ValueError"
    assert "Traceback" in response.body["traceback"]
    assert [e["step"] for e in server.errors] == ["boom", "boom"]
    assert server.errors[0]["body"] == 2  # the input of the failing step


def test_json_bodies_are_decoded_also_when_double_encoded(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="listify", name="l")
    server = mock(fn)
    assert server.test(body='{"a": 1}') == [{"a": 1}]
    assert server.test(body=b'{"a": 2}') == [{"a": 2}]
    assert server.test(body='"{\\"a\\": 3}"') == [{"a": 3}]
    assert server.test(body="plain text") == ["plain text"]
    with pytest.raises(MockRequestError, match="status 400: the request body is not valid JSON"):
        server.test(body="{broken", content_type="application/json")


def test_get_body_false_returns_a_response(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a")
    response = mock(fn).test(body=1, get_body=False)
    assert response.status_code == 200 and response.body == "2"


def test_queue_runs_through_in_the_mock_and_one_function_at_a_time(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a").respond()
    graph.add_step(">>", "q1", after="a", path="memory://q1")
    graph.add_step(handler="double", name="child", after="q1", function="worker")
    server = mock(fn)
    assert server.test(body=1) == 2
    assert [e.body for e in server.streams.read("memory://q1")] == [2]
    only_root = mock(fn, current_function="")
    assert only_root.test(body=5) == 6
    worker = mock(fn, current_function="worker")
    assert worker.test(body=6) == 12


def test_a_queued_event_is_kept_as_it_was_sent(engine: str) -> None:
    fn, graph = serving(engine)
    graph.to("Mutator", name="a", key="k").respond()
    graph.add_step(">>", "q1", after="a", path="memory://q1")
    graph.add_step("Mutator", name="child", after="q1", function="worker", key="x")
    server = mock(fn)
    server.test(body={"x": 1})
    assert [e.body for e in server.streams.read("memory://q1")] == [{"x": 1, "k": 1}]


def test_graph_round_trips_through_yaml_and_still_serves(engine: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fn, graph = serving(engine)
    graph.to(handler="inc", name="a").to(handler="listify", name="c", result_path="")
    graph.add_step(handler="double", name="b", after="a")
    graph["c"].respond()
    fn.export(str(tmp_path / "serving.yaml"))
    loaded = fnrun.import_function(str(tmp_path / "serving.yaml"))
    assert loaded.to_dict() == fn.to_dict()
    assert mock(loaded).test(body=1) == mock(fn).test(body=1)


def test_async_steps_need_the_async_engine() -> None:
    fn, graph = serving("async")
    graph.to(handler="slow_inc", name="a").to(handler="inc", name="b")
    assert mock(fn).test(body=1) == 3
    fn.spec.graph.engine = "sync"
    with pytest.raises(fnrun.InvalidArgumentError, match=r"async and the engine is sync"):
        mock(fn)


def test_router_topology_routes_by_path_and_lists_routes(engine: str) -> None:
    fn = fnrun.new_function("router-test", kind="serving")
    router = fn.set_topology("router", engine=engine)
    router.add_route("inc", handler="inc")
    router.add_route("double", handler="double")
    server = mock(fn)
    assert server.test("/v2/models/double/infer", body=4) == 8
    assert server.test("/inc", body=4) == 5
    with pytest.raises(MockRequestError, match=r"status 404: no model 'nope'"):
        server.test("/v2/models/nope/infer", body=1)
    assert server.test("/v2/models/", method="GET") == {"models": ["double", "inc"]}
    assert server.test("/", method="GET")["version"] == "v2"
    assert (
        server.test("/v2/models/nope/infer", body=1, silent=True).body["hint"]
        == "models: double, inc"
    )


def test_code_from_the_function_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = tmp_path / "graph_code.py"
    code.write_text(
        "class Add:\n    def __init__(self, context, name=None, n=1):\n"
        "        self.n = n\n    def do(self, x):\n        return x + self.n\n"
    )
    fn = fnrun.code_to_function("g", filename=str(code), kind="serving")
    fn.set_topology("flow").to("Add", name="add", n=10)
    assert fn.to_mock_server(namespace={}).test(body=1) == 11


def test_a_real_nuclio_event_and_handler_style(engine: str) -> None:
    nuclio_sdk = pytest.importorskip("nuclio_sdk", reason="nuclio-sdk not installed")
    fn, graph = serving(engine)
    graph.to("EventEcho", name="e")
    server = mock(fn).server
    event = nuclio_sdk.Event(
        body=b'{"a": 1}',
        path="/x",
        method="POST",
        headers={"x-h": "n"},
        content_type="application/json",
        _id="n-1",
    )
    response = server.run(event)
    assert response.status_code == 200 and response.content_type == "application/json"
    assert json.loads(response.body) == {
        "path": "/x",
        "id": "n-1",
        "header": "n",
        "method": "POST",
        "body": {"a": 1},
    }


def test_event_fields_are_per_event_and_copies_are_independent() -> None:
    from fnrun.graph.event import Event

    a, b = Event(1), Event(2)
    a.fields["x"] = 1
    c = a.copy()
    c.fields["y"] = 2
    c.headers["h"] = 1
    assert b.fields == {} and a.fields == {"x": 1} and c.fields == {"x": 1, "y": 2}
    assert a.headers == {}


def test_nested_flow_runs_as_one_step(engine: str) -> None:
    from fnrun.model.graph import FlowStep

    fn, graph = serving(engine)
    inner = FlowStep()
    inner.to(handler="inc", name="i1").to(handler="double", name="i2")
    graph.to(handler="inc", name="a")
    graph.add_step(inner, name="sub", after="a")
    graph.add_step(handler="listify", name="end", after="sub")
    assert mock(fn).test(body=1) == [6]
    loaded = fnrun.new_function(runtime=fn.to_dict())
    assert mock(loaded).test(body=1) == [6]


def test_set_flow_chains_steps_and_replaces_downstream_only_with_force() -> None:
    from fnrun.errors import InvalidArgumentError
    from fnrun.model.graph import FlowStep

    flow = FlowStep()
    first = flow.to(handler="a", name="a")
    first.to(handler="old", name="old").to(handler="older", name="older")
    with pytest.raises(InvalidArgumentError, match="is followed by: old, older"):
        first.set_flow([{"handler": "b", "name": "b"}])
    chain = [{"handler": "b", "name": "b"}, {"class_name": "C", "name": "c"}]
    last = first.set_flow(chain, force=True)
    last.to(handler="d", name="d")
    assert list(flow.steps) == ["a", "b", "c", "d"]
    assert [flow[n].after for n in ("b", "c", "d")] == [["a"], ["b"], ["c"]]
    mlruns = r"set_flow\(\) called on a step that already has downstream steps. If you want "
    with pytest.raises(InvalidArgumentError, match=mlruns + "to overwrite existing steps, set"):
        flow.set_flow(["X"])
    flow.set_flow([{"handler": "x", "name": "x"}, {"handler": "y", "name": "y"}], force=True)
    assert list(flow.steps) == ["x", "y"] and flow["x"].after == [] and flow["y"].after == ["x"]


def test_the_mock_serves_an_async_graph_from_inside_a_running_loop() -> None:
    import asyncio

    fn, graph = serving("async")
    graph.to(handler="slow_inc", name="a").to(handler="inc", name="b")
    server = mock(fn)

    async def notebook_cell() -> object:  # Jupyter runs cells inside an event loop
        return server.test(body=1)

    assert asyncio.run(notebook_cell()) == 3
    assert server.test(body=5) == 7  # and still outside one


def test_a_step_naming_an_undefined_child_function_fails_the_deploy_as_mlrun() -> None:
    """MLRun's ``test_missing_functions``: a step's ``function=`` must be a child function
    added with ``add_child_function``; deploying says which one, in MLRun's words."""
    from fnrun.errors import InvalidArgumentError

    fn = fnrun.new_function("tests", kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    graph.to(name="s1", class_name="Echo").to(name="s2", class_name="Echo", function="child_func")
    with pytest.raises(InvalidArgumentError, match=r"function child_func is used in steps"):
        fn.deploy()  # type: ignore[attr-defined]
