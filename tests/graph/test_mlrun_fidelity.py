"""MLRun serving-graph idioms run unchanged (each test one behaviour, on both engines)."""

from __future__ import annotations

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from tests.graph import mlrun_style_steps


def _flow(engine: str = "") -> tuple[object, object]:
    fn = fnrun.new_function("fidelity", kind="serving")
    return fn, fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]


def _mock(fn: object) -> object:
    return fn.to_mock_server(namespace=vars(mlrun_style_steps))  # type: ignore[attr-defined]


def test_plain_class_without_init_is_a_step(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to("Double").to("Double", name="again")  # type: ignore[attr-defined]
    assert _mock(fn).test(body=5) == 20  # type: ignore[attr-defined]


def test_class_args_go_only_where_init_takes_them(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to("Scaled", factor=4)  # type: ignore[attr-defined]
    assert _mock(fn).test(body=2) == 8  # type: ignore[attr-defined]
    fn2, graph2 = _flow(engine)
    graph2.to("Double", factor=4)  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgumentError, match="no __init__"):
        _mock(fn2)


def test_handler_with_context_keyword_gets_it(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to(handler="add_one")  # type: ignore[attr-defined]
    assert _mock(fn).test(body=1) == {"value": 2, "mock": True}  # type: ignore[attr-defined]


def test_handler_with_context_first_still_works(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to(handler="seen_context")  # type: ignore[attr-defined]
    assert _mock(fn).test(body=1) == {"body": 1, "has_logger": True}  # type: ignore[attr-defined]


def test_expression_handler_is_evaluated_safely(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to(handler="(event + 1)").to(handler="event['x'] if 0 else event * 10")  # type: ignore[attr-defined]
    assert _mock(fn).test(body=1) == 20  # type: ignore[attr-defined]
    fn2, graph2 = _flow(engine)
    graph2.to(handler="(event.__class__)")  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgumentError, match="__class__ is not allowed"):
        _mock(fn2)


def test_underscore_class_arg_names_a_function(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to("ApplyFn", _fn="square").to("ApplyFn", name="plus", _fn="(event + 1)")  # type: ignore[attr-defined]
    assert _mock(fn).test(body=3) == 10  # type: ignore[attr-defined]


def test_storey_map_class_runs_on_both_engines_with_paths(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to("Tripler", input_path="x", result_path="y").respond()  # type: ignore[attr-defined]
    assert _mock(fn).test(body={"x": 2}) == {"x": 2, "y": 6}  # type: ignore[attr-defined]


def test_storey_map_class_filter_stops_the_event(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to("DropOdd").to("Double")  # type: ignore[attr-defined]
    server = _mock(fn)
    assert server.test(body=4) == 8  # type: ignore[attr-defined]
    assert server.test(body=3) is None  # type: ignore[attr-defined]
    assert server.test(body=6) == 12  # type: ignore[attr-defined]


def test_async_storey_map_class_in_a_default_flow() -> None:
    fn, graph = _flow()
    graph.to("AsyncTripler").to("Double")  # type: ignore[attr-defined]
    assert _mock(fn).test(body=1) == 6  # type: ignore[attr-defined]


class SeesProject:
    def __init__(self, context: object) -> None:
        self.project = context.project  # type: ignore[attr-defined]

    def do(self, body: object) -> object:
        return self.project


def test_graph_context_knows_the_project() -> None:
    fn = fnrun.new_function("proj", project="shop", kind="serving")
    fn.set_topology("flow").to("SeesProject")  # type: ignore[attr-defined]
    assert fn.to_mock_server(namespace=globals()).test(body=1) == "shop"  # type: ignore[attr-defined]
