"""Hyper-parameter runs through ``fn.run`` and ``new_task``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import fnrun
from fnrun.errors import InvalidArgumentError, RunError
from fnrun.execution.hyper import HyperParamOptions
from tests.conftest import DATA

JOBS = str(DATA / "code" / "jobs.py")


def _fn(kind: str = "handler") -> fnrun.BaseRuntime:
    fn = fnrun.code_to_function("jobs", filename=JOBS, kind="job", project="hp")
    return fnrun.new_function(runtime=fn.to_dict(), kind=kind) if kind != "job" else fn


def test_grid_with_max_selector_on_all_negative_results() -> None:
    run = _fn().run(
        handler="score",
        hyperparams={"x": [0, 1, 2, 3], "y": [0, 1]},
        hyper_param_options={"selector": "max.neg"},
    )
    status = run.status
    assert status["best_iteration"] == 6  # x=2, y=1 -> -1, the largest negative value
    assert run.outputs["neg"] == -1
    header, *rows = status["iterations"]
    assert header[:4] == ["iter", "state", "param.x", "param.y"] and len(rows) == 8
    children = fnrun.get_run_db().list_runs(project="hp", iter=True)
    assert len(children) == 9  # the parent plus one row per iteration


def test_min_selector_and_list_strategy() -> None:
    task = fnrun.new_task("hp-list", handler="score").with_hyper_params(
        {"x": [5, 1, 3], "y": [1, 1, 1]}, selector="min.sum", strategy="list"
    )
    run = _fn().run(task)
    assert run.status["best_iteration"] == 2 and run.output("sum") == 2


def test_random_strategy_respects_max_iterations() -> None:
    run = _fn().run(
        handler="score",
        hyperparams={"x": [1, 2, 3], "y": [1, 2]},
        hyper_param_options=HyperParamOptions(
            strategy="random", max_iterations=5, seed=3, selector="max.neg"
        ),
    )
    assert len(run.status["iterations"]) == 6


def test_stop_condition_is_safe_and_stops_early() -> None:
    run = _fn().run(
        handler="score",
        hyperparams={"x": [1, 2, 3, 4], "y": [1]},
        hyper_param_options={"stop_condition": "neg >= -1 and x > 1", "selector": "max.neg"},
    )
    assert len(run.status["iterations"]) == 3  # stopped after x=2
    with pytest.raises(InvalidArgumentError, match="Call is not allowed"):
        _fn().run(
            handler="score",
            hyperparams={"x": [1]},
            hyper_param_options={"stop_condition": "__import__('os').system('true')"},
        )


def test_max_errors(tmp_path: Path) -> None:
    run = _fn().run(
        handler="score",
        hyperparams={"x": [-1, 1, 2]},
        hyper_param_options={"max_errors": 1, "selector": "max.neg"},
    )
    assert [row[1] for row in run.status["iterations"][1:]] == ["error", "completed", "completed"]
    with pytest.raises(RunError, match="1 of 1 iterations failed"):
        _fn().run(
            handler="score", hyperparams={"x": [-1, 1]}, hyper_param_options={"max_errors": 0}
        )


def test_param_files_csv_and_json(tmp_path: Path) -> None:
    csv_file = tmp_path / "params.csv"
    csv_file.write_text("x,y\n1,1\n2,1\n")
    task = fnrun.new_task(handler="score").with_param_file(str(csv_file), selector="max.neg")
    assert _fn().run(task).status["best_iteration"] == 2
    json_file = tmp_path / "params.json"
    json_file.write_text(json.dumps({"x": [1, 2], "y": [0, 1]}))
    run = _fn().run(
        handler="score", hyper_param_options={"param_file": str(json_file), "selector": "max.neg"}
    )
    assert len(run.status["iterations"]) == 5 and run.status["best_iteration"] == 4


def test_parallel_runs_in_child_processes() -> None:
    run = _fn("job").run(
        handler="score",
        hyperparams={"x": [1, 2, 3], "y": [1]},
        local=True,
        watch=False,
        hyper_param_options={"parallel_runs": 2, "selector": "max.neg"},
    )
    assert run.status["best_iteration"] == 2
    assert [row[0] for row in run.status["iterations"][1:]] == [1, 2, 3]


def test_bad_hyper_options() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown hyper_param_options"):
        _fn().run(handler="score", hyperparams={"x": [1]}, hyper_param_options={"strat": "grid"})
    with pytest.raises(InvalidArgumentError, match="equal length"):
        _fn().run(
            handler="score",
            hyperparams={"x": [1, 2], "y": [1]},
            hyper_param_options={"strategy": "list"},
        )
    with pytest.raises(InvalidArgumentError, match="invalid selector"):
        _fn().run(
            handler="score", hyperparams={"x": [1]}, hyper_param_options={"selector": "best.x"}
        )


def test_a_selector_naming_a_result_nobody_logged_is_a_clear_error() -> None:
    with pytest.raises(RunError, match=r"selector 'min.mse': no iteration logged a numeric") as err:
        _fn().run(
            handler="score",
            hyperparams={"x": [0, 1], "y": [0]},
            hyper_param_options={"selector": "min.mse"},
        )
    assert "results: neg, sum" in str(err.value)
    parent = err.value.run
    assert parent.status.iterations[0][:2] == ["iter", "state"]  # the table is still kept


def test_iteration_results_table_is_an_output() -> None:
    run = _fn().run(
        handler="score",
        hyperparams={"x": [0, 1, 2], "y": [1]},
        hyper_param_options={"selector": "max.sum"},
    )
    assert run.status.iterations == run.status["iterations"]
    table = run.artifact("iteration_results").get().decode()
    header, *rows = [line.split(",") for line in table.strip().splitlines()]
    assert header[:2] == ["iter", "state"] and len(rows) == 3
    assert "iteration_results" in run.outputs


def test_progress_reports_each_iteration_with_errors_and_best_so_far() -> None:
    import io

    from fnrun.runtimes.progress import LineReporter

    out = io.StringIO()
    _fn().run(
        handler="score",
        hyperparams={"x": [0, -1, 2], "y": [1]},
        hyper_param_options={"selector": "max.neg", "max_errors": 1},
        progress=LineReporter(out),
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("run jobs ") and lines[0].endswith(
        "started in project hp, in this process"
    )
    assert lines[1] == "  iteration 1/3 completed (#1), 0 errors, best so far: #1 neg=-5"
    assert lines[2] == "  iteration 2/3 error (#2), 1 errors, best so far: #1 neg=-5"
    assert lines[3] == "  iteration 3/3 completed (#3), 1 errors, best so far: #3 neg=-1"
    assert " completed in " in lines[4]


def test_selector_as_mlrun_spells_it_in_fn_run(tmp_path: Path) -> None:
    """``fn.run(hyperparams=..., selector=...)`` is ``hyper_param_options={"selector": ...}``;
    it sets the selector over a task's own options (the strategy stays)."""
    run = _fn().run(handler="score", hyperparams={"x": [0, 1, 2, 3]}, selector="max.neg")
    assert run.status["best_iteration"] == 3 and run.output("neg") == -2
    task = fnrun.new_task("hp-sel", handler="score").with_hyper_params(
        {"x": [5, 1, 3], "y": [1, 1, 1]}, strategy="list"
    )
    listed = _fn().run(task, selector="min.sum")
    assert listed.status["best_iteration"] == 2 and listed.output("sum") == 2  # list: 3 rows
    project = fnrun.new_project("hp-sel", context=str(tmp_path))
    project.set_function(_fn(), name="scorer")
    by_project = project.run_function("scorer", handler="score", hyperparams={"x": [1, 2]},
                                      selector="max.neg", local=True)  # fmt: skip
    assert by_project is not None and by_project.status["best_iteration"] == 2


def test_the_parent_results_hold_best_iteration_as_mlrun() -> None:
    """MLRun's parent ``status.results`` hold ``best_iteration`` beside the best child's
    results, so ``run.output("best_iteration")`` answers."""
    run = _fn().run(handler="score", hyperparams={"x": [0, 1, 2, 3]}, selector="max.neg")
    assert run.output("best_iteration") == 3
    assert run.outputs["best_iteration"] == run.status["best_iteration"] == 3
    plain = _fn().run(handler="score", hyperparams={"x": [0, 1]})  # no selector: no best
    assert "best_iteration" not in plain.outputs
