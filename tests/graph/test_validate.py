"""Graph errors are caught when the graph is built, loaded or served, naming step and fix."""

from __future__ import annotations

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, SchemaError
from fnrun.graph.validate import GraphError
from fnrun.model.graph import graph_from_dict
from tests.graph.conftest import mock, serving


def test_cycle_is_named() -> None:
    fn, graph = serving()
    graph.to(handler="inc", name="a").to(handler="inc", name="b").to(handler="inc", name="c")
    graph["a"].after = ["c"]
    with pytest.raises(
        GraphError, match=r"cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)"
    ):
        mock(fn)


def test_after_a_missing_step() -> None:
    fn, graph = serving()
    graph.to(handler="inc", name="a")
    graph.add_step(handler="inc", name="b", after="nope")
    with pytest.raises(GraphError, match=r"'b' is after 'nope', which does not exist") as err:
        mock(fn)
    assert err.value.field == "graph.b.after"


def test_two_responders() -> None:
    fn, graph = serving()
    graph.to(handler="inc", name="a").respond()
    graph.add_step(handler="inc", name="b", after="a").respond()
    with pytest.raises(GraphError, match="several responders: a, b"):
        mock(fn)


def test_ambiguous_end_without_responder() -> None:
    fn, graph = serving()
    graph.to(handler="inc", name="a")
    graph.add_step(handler="inc", name="b", after="a")
    graph.add_step(handler="inc", name="c", after="a")
    with pytest.raises(GraphError, match=r"ends in several steps \(b, c\)"):
        mock(fn)


AFTER_QUEUE = r"'b' must specify a function, because it follows a queue step \('q'\)"  # MLRun's


def test_step_after_queue_needs_a_function() -> None:
    fn, graph = serving()
    queue = graph.to(handler="inc", name="a").to(">>", "q", path="memory://q")
    with pytest.raises(InvalidArgumentError, match=AFTER_QUEUE):
        queue.to(handler="inc", name="b")  # refused when added, not only when served
    assert "b" not in graph.steps
    queue.to(handler="inc", name="b", function="child")
    graph["b"].function = ""  # edited afterwards: still caught when served
    with pytest.raises(GraphError, match=AFTER_QUEUE):
        mock(fn)


def test_unresolvable_class_and_handler() -> None:
    fn, graph = serving()
    graph.to("NoSuchClass", name="x")
    with pytest.raises(InvalidArgumentError, match="step 'x': class 'NoSuchClass' not found"):
        mock(fn)
    fn, graph = serving()
    graph.to(handler="no_such_handler", name="y")
    with pytest.raises(InvalidArgumentError, match="handler 'no_such_handler' not found"):
        mock(fn)
    fn, graph = serving()
    graph.to("no.such.module.Class", name="z")
    with pytest.raises(
        InvalidArgumentError, match=r"cannot import class 'no\.such\.module\.Class'"
    ):
        mock(fn)


def test_init_that_rejects_class_args() -> None:
    fn, graph = serving()
    graph.to("Counter", name="c", strat=1)
    with pytest.raises(
        InvalidArgumentError, match=r"Counter.__init__ does not accept \['strat'\]"
    ) as err:
        mock(fn)
    assert "accepted: start" in str(err.value)
    fn, graph = serving()
    graph.to("NoArgs", name="n", x=1)
    with pytest.raises(InvalidArgumentError, match=r"NoArgs\.__init__ does not accept"):
        mock(fn)


def test_no_eval_in_names() -> None:
    fn, graph = serving()
    graph.to("__import__('os').system", name="evil")
    with pytest.raises(InvalidArgumentError, match="cannot import class"):
        mock(fn)


def test_builder_errors() -> None:
    _, graph = serving()
    graph.to(handler="inc", name="a")
    with pytest.raises(InvalidArgumentError, match="already exists"):
        graph.to(handler="inc", name="a")
    with pytest.raises(InvalidArgumentError, match="needs class_name or handler"):
        graph.to(name="empty")
    with pytest.raises(InvalidArgumentError, match="before='nope'"):
        graph.add_step(handler="inc", name="b", before="nope")
    fn = fnrun.new_function("s", kind="serving")
    fn.set_topology("flow")
    with pytest.raises(InvalidArgumentError, match="already has a flow graph"):
        fn.set_topology("router")
    with pytest.raises(InvalidArgumentError, match="unknown topology"):
        fn.set_topology("mesh", exist_ok=True)


def test_insert_before_and_prev() -> None:
    _, graph = serving()
    graph.to(handler="inc", name="a").to(handler="inc", name="c")
    graph.add_step(handler="double", name="b", before="c")
    assert graph["b"].after == ["a"] and graph["c"].after == ["b"]
    graph.add_step(handler="inc", name="d", after="$prev")
    assert graph["d"].after == ["b"]


def test_loaded_graph_errors_name_the_key() -> None:
    with pytest.raises(SchemaError, match="did you mean 'class_name'") as err:
        graph_from_dict({"kind": "flow", "steps": {"a": {"kind": "task", "clas_name": "X"}}})
    assert err.value.field == "graph.steps.a.clas_name"
    with pytest.raises(SchemaError, match="step kinds"):
        graph_from_dict({"kind": "flow", "steps": {"a": {"kind": "tusk"}}})
    with pytest.raises(SchemaError, match="must be a flow or a router"):
        graph_from_dict({"kind": "queue"})


def test_mlrun_style_after_string_is_accepted() -> None:
    graph = graph_from_dict(
        {"kind": "flow", "steps": {"a": {"handler": "inc"}, "b": {"handler": "inc", "after": "a"}}}
    )
    assert graph is not None and graph["b"].after == ["a"]


def test_error_handlers_do_not_move_prev() -> None:
    _, graph = serving()
    graph.to(handler="inc", name="a").to(handler="inc", name="b")
    graph["a"].error_handler("catch_a", handler="inc")
    graph.error_handler("catch_all", handler="inc")
    graph.to(handler="inc", name="c")
    assert graph["c"].after == ["b"]
    assert graph["a"].on_error == "catch_a" and graph.on_error == "catch_all"
    assert graph["catch_a"].after == [] and graph["catch_all"].after == []
