"""``srv.to_job()``: the serving graph over a dataset as a batch job, with the answers the
mock and a deployed HTTP server give for the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import fnrun
from fnrun.errors import InvalidArgumentError
from fnrun.graph.rows import Outcome, bodies_of, outcome_of, per_row
from fnrun.runtimes.functions.graph_job import HANDLER

CODE = """
import asyncio
import random

def prep(x):
    if x.get("bad"):
        raise ValueError(f"row {x['i']} is bad")
    return {"i": x["i"], "v": x["v"] * 2}

class Scale:
    def __init__(self, context=None, name=None, k=1):
        self.k = k

    def do(self, x):
        return {**x, "scaled": x["v"] * self.k}

async def slow_echo(x):
    await asyncio.sleep(random.random() / 500)  # later rows may finish first
    return {"i": x["i"], "seen": True}

def first_items(rows):
    return [{"i": r["i"], "sum": r["v"] + r.get("w", 0)} for r in rows]

def whole(rows):
    return {"rows": len(rows)}

def by_model(x):
    return {"m1": {"p": x["v"]}, "m2": {"p": -x["v"]}}

def as_list(row):
    return {"got": row}

def nested(body):
    return {"keys": sorted(body)}

def checked(x):
    return {"i": x["i"], "error": "too small" if x["v"] < 1 else None}
"""


@pytest.fixture
def code(tmp_path: Path) -> str:
    path = tmp_path / "graph_steps.py"
    path.write_text(CODE)
    return str(path)


def _serving(code: str, *steps: tuple[str, dict[str, Any]], engine: str = "sync") -> Any:
    srv = fnrun.code_to_function("scorer", filename=code, kind="serving", project="gj")
    graph = srv.set_topology("flow", engine=engine)
    for kind, args in steps:
        graph = graph.to(**({"handler": kind} if kind.islower() else {"class_name": kind}), **args)
    graph.respond()
    return srv


def _rows(tmp_path: Path, n: int, bad: tuple[int, ...] = ()) -> str:
    df = pd.DataFrame({"i": range(n), "v": [i * 0.5 for i in range(n)], "bad": [False] * n})
    df.loc[list(bad), "bad"] = True
    path = tmp_path / "rows.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_to_job_makes_a_batch_function_of_the_graph(code: str) -> None:
    srv = _serving(code, ("prep", {}))
    srv.set_env("MODE", "batch")
    srv.spec.image = "python:3.11"
    job = srv.to_job()
    assert (job.kind, job.metadata.name, job.metadata.project) == ("job", "scorer-batch", "gj")
    assert job.spec.default_handler == HANDLER
    assert job.code == srv.code and job.spec.image == "python:3.11"
    assert job.get_env("MODE") == "batch"
    inner = job.spec.serving_spec
    assert inner["kind"] == "serving" and inner["spec"]["graph"] == srv.spec.graph.to_dict()
    assert "build" not in inner["spec"]  # the code lives once, in the job's own build
    again = fnrun.new_function(runtime=job.to_dict())  # the document round-trips
    assert again.spec.serving_spec == inner
    assert srv.to_job("nightly").metadata.name == "nightly"
    assert srv.to_job(kind="dask").kind == "dask"
    assert not hasattr(job, "to_job")  # a job is no serving function
    with pytest.raises(InvalidArgumentError, match="not a batch kind"):
        srv.to_job(kind="serving")
    srv.metadata.name = "x" * 60
    with pytest.raises(InvalidArgumentError, match="over Kubernetes' 63") as err:
        srv.to_job()
    assert err.value.field == "func_name"
    empty = fnrun.new_function("empty", kind="serving")
    with pytest.raises(InvalidArgumentError, match="has no graph"):
        empty.to_job()  # type: ignore[attr-defined]


def test_every_row_is_answered_in_order_failures_in_the_error_column(
    code: str, tmp_path: Path
) -> None:
    srv = _serving(code, ("prep", {}), ("Scale", {"k": 3}))
    run = srv.to_job().run(inputs={"data": _rows(tmp_path, 8, bad=(2, 5))}, local=True)
    assert run.status.state == "completed"
    assert run.status.results == {"num_rows": 8, "num_errors": 2}
    out = run.artifact("prediction").as_df()
    assert list(out.columns) == ["i", "v", "scaled", "error"]
    assert len(out) == 8
    assert out["error"][2] == "ValueError: row 2 is bad (step 'prep')"
    assert out["error"][5] == "ValueError: row 5 is bad (step 'prep')"
    good = out[out["error"].isna()]
    assert list(good["i"]) == [0, 1, 3, 4, 6, 7]
    assert list(good["scaled"]) == [i * 0.5 * 2 * 3 for i in (0, 1, 3, 4, 6, 7)]


def test_an_answers_own_error_key_is_not_taken_for_a_failure(code: str, tmp_path: Path) -> None:
    srv = _serving(code, ("prep", {}), ("checked", {}))
    run = srv.to_job().run(inputs={"data": _rows(tmp_path, 4, bad=(3,))}, local=True)
    assert run.status.results == {"num_rows": 4, "num_errors": 1}
    out = run.artifact("prediction").as_df()
    assert list(out.columns) == ["i", "output.error", "error"]
    assert list(out["output.error"][:3]) == ["too small", None, None]  # v = 0, 1, 2 after prep
    assert list(out["error"].isna()) == [True, True, True, False]  # only row 3 failed


def test_the_async_engine_keeps_many_in_flight_and_the_input_order(
    code: str, tmp_path: Path
) -> None:
    srv = _serving(code, ("slow_echo", {}), engine="async")
    job = srv.to_job(kind="local")
    run = job.run(inputs={"data": _rows(tmp_path, 200)}, params={"concurrency": 32}, local=True)
    out = run.artifact("prediction").as_df()
    assert list(out["i"]) == list(range(200)) and out["seen"].all()


def test_batches_spread_a_per_row_answer_else_one_row_per_batch(code: str, tmp_path: Path) -> None:
    data = _rows(tmp_path, 5)
    spread = _serving(code, ("first_items", {})).to_job()
    run = spread.run(inputs={"data": data}, params={"batch_size": 2}, local=True)
    out = run.artifact("prediction").as_df()
    assert list(out["i"]) == [0, 1, 2, 3, 4] and run.status.results["num_rows"] == 5
    whole = _serving(code, ("whole", {})).to_job()
    run = whole.run(inputs={"data": data}, params={"batch_size": 2}, local=True)
    assert list(run.artifact("prediction").as_df()["rows"]) == [2, 2, 1]
    run = whole.run(inputs={"data": data}, params={"batching": True}, local=True)  # MLRun's
    assert list(run.artifact("prediction").as_df()["rows"]) == [5]


def test_answers_keyed_by_model_also_log_one_dataset_per_model(code: str, tmp_path: Path) -> None:
    job = _serving(code, ("by_model", {})).to_job()
    run = job.run(inputs={"data": _rows(tmp_path, 3)}, params={"output_key": "scores"}, local=True)
    assert {"scores", "scores_m1", "scores_m2"} <= set(run.outputs)
    assert list(run.artifact("scores_m2").as_df()["p"]) == [0.0, -0.5, -1.0]


def test_one_data_object_answers_as_the_runs_return(code: str, tmp_path: Path) -> None:
    job = _serving(code, ("prep", {}), ("Scale", {"k": 10})).to_job()
    run = job.run(params={"data_object": {"i": 7, "v": 1.5}}, local=True)
    assert run.output("return") == {"i": 7, "v": 3.0, "scaled": 30.0}
    lists = _serving(code, ("as_list", {})).to_job()
    run = lists.run(params={"data_object": {"a": 1, "b": 2}, "read_as_lists": True}, local=True)
    assert run.output("return") == {"got": [1, 2]}
    nested = _serving(code, ("nested", {})).to_job()
    run = nested.run(params={"data_object": {"a": 1}, "nest_under_inputs": True}, local=True)
    assert run.output("return") == {"keys": ["inputs"]}
    with pytest.raises(fnrun.errors.RunError, match="row 1 is bad"):
        job.run(params={"data_object": {"i": 1, "v": 1, "bad": True}}, local=True)


def test_wrong_inputs_fail_the_run_saying_what_to_pass(code: str, tmp_path: Path) -> None:
    job = _serving(code, ("prep", {})).to_job()
    with pytest.raises(fnrun.errors.RunError, match="exactly one of the input 'data'"):
        job.run(local=True)
    with pytest.raises(fnrun.errors.RunError, match="not in params"):
        job.run(params={"data": "rows.csv"}, local=True)
    with pytest.raises(fnrun.errors.RunError, match="batch_size must be a positive int"):
        job.run(inputs={"data": _rows(tmp_path, 2)}, params={"batch_size": 0}, local=True)


def test_a_graph_over_child_functions_runs_whole_in_the_job(code: str, tmp_path: Path) -> None:
    srv = fnrun.code_to_function("split", filename=code, kind="serving", project="gj")
    graph = srv.set_topology("flow", engine="async")
    graph.to(handler="prep").to(">>", "q", path="scores-topic").to(
        class_name="Scale", k=2, function="child"
    ).respond()
    srv.add_child_function("child", kind="serving")
    run = srv.to_job().run(inputs={"data": _rows(tmp_path, 4)}, local=True)
    assert list(run.artifact("prediction").as_df()["scaled"]) == [0.0, 2.0, 4.0, 6.0]


def test_the_same_graph_answers_the_same_in_the_mock_over_http_and_as_a_job(
    code: str, tmp_path: Path
) -> None:
    n = 1000
    bad = tuple(range(13, n, 97))
    data = _rows(tmp_path, n, bad=bad)
    srv = _serving(code, ("prep", {}), ("Scale", {"k": 7}))
    rows = pd.read_csv(data).to_dict("records")

    mock = srv.to_mock_server()
    in_mock = [outcome_of(mock.test("/", row, silent=True, get_body=False)) for row in rows]

    url = srv.deploy()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            over_http = [_http_outcome(client.post("/", json=row)) for row in rows]
    finally:
        srv.stop()

    run = srv.to_job().run(inputs={"data": data}, local=True)
    frame = run.artifact("prediction").as_df()
    as_job = [
        Outcome(error=rec["error"])
        if isinstance(rec["error"], str)
        else Outcome({k: int(v) if k == "i" else v for k, v in rec.items() if k != "error"})
        for rec in frame.to_dict("records")
    ]
    assert sum(1 for o in in_mock if o.error) == len(bad)
    assert in_mock == over_http == as_job


def _http_outcome(response: httpx.Response) -> Outcome:
    class Answer:
        status_code = response.status_code
        body = response.text
        content_type = response.headers.get("content-type", "")

    return outcome_of(Answer())


def test_rows_helpers() -> None:
    assert bodies_of([1, 2, 3], 2) == [([1, 2], 2), ([3], 1)]
    assert bodies_of([1], 1, nest_under_inputs=True) == [({"inputs": 1}, 1)]
    with pytest.raises(ValueError, match="at least 1"):
        bodies_of([1], 0)
    assert bodies_of([1, 2], 1, batched=True) == [([1], 1), ([2], 1)]
    placed = per_row([Outcome([10, 20]), Outcome(error="boom"), Outcome([5])], [2, 3, 1])
    assert placed == [
        (0, Outcome(10)),
        (1, Outcome(20)),
        (2, Outcome(error="boom")),
        (5, Outcome(5)),
    ]
    assert per_row([Outcome([1])], [1], batched=False) == [(0, Outcome([1]))]
