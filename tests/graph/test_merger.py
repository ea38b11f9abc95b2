"""Merge joins branch events (by event id or key_path), on both engines."""

from __future__ import annotations

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.serving.merger import Merge
from tests.graph import steps_for_tests


def _server(graph_setup: object, engine: str) -> object:
    fn = fnrun.new_function("merge", kind="serving")
    graph = fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]
    graph_setup(graph)  # type: ignore[operator]
    return fn.to_mock_server(namespace=vars(steps_for_tests))  # type: ignore[attr-defined]


def test_merge_joins_three_branches_in_arrival_order(engine: str) -> None:
    def setup(graph: object) -> None:
        graph.to(handler="inc", name="a")  # type: ignore[attr-defined]
        for name, handler in (("b", "double"), ("c", "inc"), ("d", "listify")):
            graph.add_step(handler=handler, name=name, after="a")  # type: ignore[attr-defined]
        graph.add_step(Merge(), name="m", after=["b", "c", "d"]).respond()  # type: ignore[attr-defined]

    assert _server(setup, engine).test(body=1) == [4, 3, [2]]  # type: ignore[attr-defined]


def test_merge_by_key_path_across_requests(engine: str) -> None:
    def setup(graph: object) -> None:
        graph.to(Merge(key_path="event['doc']", expected_num_events=2), name="m").to(  # type: ignore[attr-defined]
            ">>", "out", path="joined"
        )

    server = _server(setup, engine)
    assert server.test(body={"doc": 1, "part": "x"}) is None  # type: ignore[attr-defined]
    server.test(body={"doc": 2, "part": "y"})  # type: ignore[attr-defined]
    server.test(body={"doc": 1, "part": "z"})  # type: ignore[attr-defined]
    joined = server.streams.read("joined")  # type: ignore[attr-defined]
    assert [e.body for e in joined] == [[{"doc": 1, "part": "x"}, {"doc": 1, "part": "z"}]]


def test_merge_drops_the_oldest_incomplete_key_and_reports_it(engine: str) -> None:
    def setup(graph: object) -> None:
        graph.to(Merge(key_path="event", expected_num_events=2, max_behind=2), name="m")  # type: ignore[attr-defined]

    server = _server(setup, engine)
    for key in (1, 2, 3):  # the third key pushes key 1 out
        server.test(body=key)  # type: ignore[attr-defined]
    (error,) = server.errors  # type: ignore[attr-defined]
    assert error["error"] == "MergeDropped"
    assert "key 1 got 1 of 2 parts" in error["message"]
    assert server.test(body=1) is None  # type: ignore[attr-defined]  # key 1 starts afresh
    assert server.test(body=3) == [3, 3]  # type: ignore[attr-defined]


def test_merge_refuses_bad_settings() -> None:
    with pytest.raises(InvalidArgumentError, match="max_behind"):
        Merge(max_behind=0)
    with pytest.raises(InvalidArgumentError, match="not allowed"):
        Merge(key_path="event.__dict__")
