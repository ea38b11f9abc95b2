"""A hyper-parameter run whose iteration failed says so everywhere a run is shown: the card
(notebook and web UI), ``run.show()``, ``fnrun get run``; the parent's state says how many."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.console import Console

import fnrun
from fnrun.cli_runs import run_detail
from fnrun.execution.tracebacks import user_traceback
from fnrun.notebook.run_card import run_card


def _check(p: int) -> None:
    if p == 2:
        raise ValueError(f"p={p} is out of range\nsecond line of the message")


def train(context: Any, p: int = 1) -> None:
    _check(p)
    context.log_result("score", p)


def _grid() -> Any:
    fn = fnrun.new_function("grid", kind="handler", project="fails")
    return fn.run(handler=train, hyperparams={"p": [1, 2, 3]}, selector="max.score",
                  hyper_param_options={"max_errors": 1})  # fmt: skip


def test_the_parent_completes_and_says_how_many_iterations_failed() -> None:
    run = _grid()
    assert run.state() == "completed"
    assert run.status["status_text"] == "completed, 1 of 3 iterations failed"
    (failed,) = run.status["iteration_errors"]
    assert failed["iter"] == 2 and failed["error"] == "ValueError: p=2 is out of range"
    trace = failed["traceback"]
    assert "in train" in trace and "in _check" in trace and "raise ValueError" in trace
    assert "/fnrun/" not in trace.replace("/tests/", "")  # no fnrun frame is left
    assert trace.startswith("Traceback") and trace.rstrip().endswith("second line of the message")


def test_the_card_show_and_get_run_show_the_failed_iteration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = _grid()
    html = run_card(run)
    assert "completed, 1 of 3 iterations failed" in html
    assert "1 failed iteration" in html and "#2 ValueError: p=2 is out of range" in html
    assert re.search(r"<details class='iteration-error' data-iter='2'>.*in _check", html, re.S)
    run.show()
    shown = capsys.readouterr().out
    assert "completed (completed, 1 of 3 iterations failed)" in shown
    assert "iteration 2" in shown and "p=2 is out of range" in shown
    console = Console(file=io.StringIO(), width=160)
    console.print(run_detail(fnrun.get_run_db().read_run(run.uid(), "fails")))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "failed iterations" in text and "ValueError: p=2 is out of range" in text
    assert "test_failed_iterations.py" in text and "in _check" in text  # where, in user code


def test_fnruns_frames_are_left_out_of_a_traceback() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/opt/fnrun/execution/execute.py", line 10, in _call\n'
        "    target(**kwargs)\n"
        "    ^^^^^^^^^^^^^^^^\n"
        '  File "/home/me/train.py", line 3, in train\n'
        "    raise ValueError('x')\n"
        "ValueError: x\n"
    )
    assert user_traceback(text, "/opt/fnrun") == (
        "Traceback (most recent call last):\n"
        '  File "/home/me/train.py", line 3, in train\n'
        "    raise ValueError('x')\n"
        "ValueError: x"
    )
    assert user_traceback(text, "/opt/fnrunner") == text.rstrip("\n")  # a prefix is no folder
