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


class SlowAdd:
    """MLRun's ``AsyncAdder`` of its ``test_delayed``: adds after a wait."""

    def __init__(self, add: int = 2, wait: float = 0.1, **kwargs: object) -> None:
        self.add = add
        self.wait = wait

    async def do(self, body: int) -> int:
        import asyncio

        await asyncio.sleep(self.wait)
        return body + self.add


class Gather:
    def __init__(self, context: object, **kwargs: object) -> None:
        self.context = context
        context.mylist = []  # type: ignore[attr-defined]

    def do(self, body: object) -> object:
        self.context.mylist.append(body)  # type: ignore[attr-defined]
        return body


async def double(body: int) -> int:
    return body * 2


def _delayed_server(max_behind: int | None, respond: bool) -> object:
    fn = fnrun.new_function("x", kind="serving")
    graph = fn.set_topology("flow", engine="async")  # type: ignore[attr-defined]
    dbl = graph.to(name="double", handler="double")
    dbl.to(name="add3", class_name="SlowAdd", add=3, wait=0.1)
    dbl.to(name="add2", class_name="SlowAdd", add=2, wait=0.2)
    merge = graph.add_step(Merge(name="Merge", max_behind=max_behind), after=["add2", "add3"])
    gather = merge.to("Gather")
    if respond:
        gather.respond()
    return fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]


def test_branches_of_one_event_run_at_once_on_the_async_engine() -> None:
    """A 0.1 s branch and a 0.2 s branch of one event: joined after about 0.2 s, not 0.3 s."""
    import time

    server = _delayed_server(None, respond=True)
    start = time.perf_counter()
    assert sorted(server.test(body=5)) == [12, 13]  # type: ignore[attr-defined]
    assert time.perf_counter() - start < 0.28


def test_late_parts_are_dropped_when_events_overlap() -> None:
    """MLRun's ``test_delayed``, with the five events in flight at once (``test_async``; the
    mock's ``test`` waits for its answer): every fast part arrives before any slow one, so
    with ``max_behind=3`` the two oldest joins are dropped and three complete."""
    import asyncio

    server = _delayed_server(3, respond=False)

    async def send_all() -> None:
        await asyncio.gather(*(server.test_async("", body=n) for n in (5, 6, 7, 8, 9)))  # type: ignore[attr-defined]

    asyncio.run(send_all())
    server.wait_for_completion()  # type: ignore[attr-defined]
    joined = [sorted(item) for item in server.context.mylist]  # type: ignore[attr-defined]
    assert joined == [[16, 17], [18, 19], [20, 21]]
    errors = [(e["error"], e["step"]) for e in server.errors]  # type: ignore[attr-defined]
    assert errors == [("MergeDropped", "Merge")] * 4  # two keys dropped, then their late parts
