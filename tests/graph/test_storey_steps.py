"""storey operators (batching, windowed aggregation, a file target) as steps of an async graph."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError

storey = pytest.importorskip("storey", reason="storey not installed (the stream extra)")


def double(body: dict[str, Any]) -> dict[str, Any]:
    return {"n": body["n"] * 2}


def total(batch: list[dict[str, Any]]) -> dict[str, Any]:
    return {"sum": sum(b["n"] for b in batch), "count": len(batch)}


def explode(batch: list[dict[str, Any]]) -> None:
    raise ValueError("bad batch")


def _flow(engine: str = "async") -> Any:
    fn = fnrun.new_function("stream", kind="serving")
    return fn, fn.set_topology("flow", engine=engine)  # type: ignore[attr-defined]


def test_batches_go_on_through_the_graph_and_flush_on_completion() -> None:
    fn, graph = _flow()
    graph.to(handler="double", name="double").respond().to(
        "storey.Batch", name="batch", max_events=3
    ).to(handler="total", name="total").to(">>", "out", path="results")
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    answers = [server.test("/", body={"n": i}) for i in range(7)]
    assert answers == [{"n": 2 * i} for i in range(7)]  # each request answered at once
    assert [e.body for e in server.streams.read("results")] == [
        {"sum": 6, "count": 3},
        {"sum": 24, "count": 3},
    ]
    server.wait_for_completion()  # the last, partial batch
    assert server.streams.read("results")[-1].body == {"sum": 12, "count": 1}
    assert server.test("/", body={"n": 1}) == {"n": 2}  # a new flow starts after the flush
    server.wait_for_completion()
    assert server.streams.read("results")[-1].body == {"sum": 2, "count": 1}


def test_windowed_aggregation_by_key() -> None:
    fn, graph = _flow()
    graph.to(
        "storey.AggregateByKey",
        name="agg",
        aggregates=[
            {
                "name": "amount",
                "column": "amount",
                "operations": ["sum", "count"],
                "windows": ["1h"],
            }
        ],
        table=storey.Table("amounts", storey.NoopDriver()),
        key_field="user",
    ).to(">>", "out", path="aggregates")
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    for user, amount in [("a", 1), ("b", 5), ("a", 2)]:
        server.test("/", body={"user": user, "amount": amount}, get_body=False)
    server.wait_for_completion()
    rows = [
        (e.body["user"], e.body["amount_sum_1h"], e.body["amount_count_1h"])
        for e in server.streams.read("aggregates")
    ]
    assert rows == [("a", 1.0, 1.0), ("b", 5.0, 1.0), ("a", 3.0, 2.0)]


def test_a_storey_target_writes_the_events(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    fn, graph = _flow()
    graph.to(handler="double", name="double").to(
        "storey.CSVTarget", name="csv", path=str(target), columns=["n"], header=True
    )
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    for i in range(3):
        server.test("/", body={"n": i}, get_body=False)
    server.wait_for_completion()
    with target.open() as f:
        assert [int(r["n"]) for r in csv.DictReader(f)] == [0, 2, 4]


def test_a_failure_after_the_storey_step_goes_to_the_error_stream() -> None:
    fn, graph = _flow()
    graph.to("storey.Batch", name="batch", max_events=2).to(handler="explode", name="explode")
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    server.test("/", body={"n": 1}, get_body=False)
    server.test("/", body={"n": 2}, get_body=False)
    (error,) = server.errors
    assert error["step"] == "explode" and "bad batch" in error["message"]
    assert error["body"] == [{"n": 1}, {"n": 2}]
    server.wait_for_completion()


def test_storey_steps_need_the_async_engine_and_cannot_precede_the_responder() -> None:
    fn, graph = _flow("sync")
    graph.to("storey.Batch", name="batch", max_events=2)
    with pytest.raises(InvalidArgumentError, match="'batch' is a storey operator and the engine"):
        fn.to_mock_server()  # type: ignore[attr-defined]
    fn, graph = _flow()
    graph.to("storey.Batch", name="batch", max_events=2).to(handler="total", name="t").respond()
    with pytest.raises(InvalidArgumentError, match="comes after the storey step 'batch'"):
        fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    fn, graph = _flow()
    graph.to("storey.Batch", name="batch")  # neither max_events nor flush_after_seconds
    with pytest.raises(InvalidArgumentError, match=r"step 'batch': Batch\(.*\) failed"):
        fn.to_mock_server()  # type: ignore[attr-defined]


def test_join_with_a_table_enriches_each_event() -> None:
    table = storey.Table("users", storey.NoopDriver())
    table._set_static_attrs("u1", {"name": "Ann", "tier": "gold"})
    fn, graph = _flow()
    graph.to(
        "storey.JoinWithTable",
        name="join",
        table=table,
        key_extractor="user",
        attributes=["name", "tier"],
    ).to(">>", "out", path="joined")
    server = fn.to_mock_server()  # type: ignore[attr-defined]
    server.test("/", body={"user": "u1", "amount": 3}, get_body=False)
    server.wait_for_completion()
    (joined,) = server.streams.read("joined")
    assert joined.body == {"user": "u1", "amount": 3, "name": "Ann", "tier": "gold"}


def square_n(body: dict[str, Any]) -> dict[str, Any]:
    return {"n": body["n"] ** 2}


def keep_even(body: dict[str, Any]) -> bool:
    return body["n"] % 2 == 0


def test_a_responding_storey_operator_answers_its_output() -> None:
    fn, graph = _flow("")  # no engine named: MLRun's async semantics
    graph.to("storey.Map", name="sq", _fn="square_n").respond().to(
        handler="double", name="after"
    ).to(">>", "out", path="results")
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    assert [server.test(body={"n": n}) for n in (2, 3)] == [{"n": 4}, {"n": 9}]
    assert [e.body for e in server.streams.read("results")] == [{"n": 8}, {"n": 18}]


def test_a_responding_storey_operator_that_emits_nothing_is_a_504_not_a_silent_200() -> None:
    fn, graph = _flow()
    graph.to("storey.Batch", name="batch", max_events=2).respond()
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    (adapter,) = [o for o in server.server.compiled.objects if hasattr(o, "response_timeout")]  # type: ignore[attr-defined]
    adapter.response_timeout = 0.2
    response = server.test(body={"n": 3}, silent=True, get_body=False)  # type: ignore[attr-defined]
    assert response.status_code == 504
    assert "storey step 'batch' emitted nothing for event" in response.body["message"]


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_storey_map_filter_extend_run_directly_on_either_engine(engine: str) -> None:
    fn, graph = _flow(engine)
    graph.to("storey.Filter", name="even", _fn="keep_even").to(
        "storey.Map", name="sq", _fn="square_n"
    ).to("storey.Extend", name="ext", _fn="({'sq': True})")
    server = fn.to_mock_server(namespace=globals())  # type: ignore[attr-defined]
    assert server.test(body={"n": 4}) == {"n": 16, "sq": True}  # type: ignore[attr-defined]
    assert server.test(body={"n": 3}) is None  # type: ignore[attr-defined]  # filtered out
    assert not [o for o in server.server.compiled.objects if hasattr(o, "response_timeout")]  # type: ignore[attr-defined]
